/* SPDX-License-Identifier: MIT */
/* syscall-delay: hold system calls of a launched target for a while,
 * through seccomp user notification (faults/syscall.c): an eBPF hook can
 * fail a call but not hold it. */
#include "syscall.h"

static const char *const keys[] = {SYSCALL_KEYS, "delay", NULL};
static const struct fault_key_doc key_docs[] = {
        {"delay", "required",
         "how long each matching call is held before it proceeds; at most the policy's max_delay"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        fault_require_target(s, f, d);
        fault_require(s, f, "syscalls", " (e.g. syscalls = write, fsync)", d);
        fault_require(s, f, "delay", " (e.g. delay = 20ms)", d);
        if (fault_ok(f, "delay") && f->delay == 0)
                diag_error(d, s->file, fault_line(f, "delay"), "delay must be greater than 0");
        if (fault_ok(f, "backend") && f->backend == BACKEND_BPF)
                diag_error(d, s->file, fault_line(f, "backend"), "syscall-delay needs backend = seccomp (or "
                           "auto): an eBPF hook can fail a call but not hold it");
        syscall_check(s, f, "delays", d);
        if (f->target_index >= 0 && s->targets[f->target_index]->sel != SEL_EXEC)
                diag_error(d, s->file, fault_line(f, "target"), "syscall-delay works only for targets that sabot "
                           "launches (exec = ...): their calls are held through seccomp user notification; "
                           "target '%s' uses %s", f->target, selector_to_string(s->targets[f->target_index]->sel));
        syscall_check_backend(s, f, d);
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 16], a[FORMAT_MAX];
        if (f->delay <= lc->eff->max_delay)
                return;
        snprintf(what, sizeof what, "delay = %s", format_duration(a, f->delay));
        lc->over(lc, LIMIT_DELAY, fault_line(f, "delay"), what);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char b[FORMAT_MAX];
        _cleanup_free_ char *sc = syscall_names(f);
        fprintf(out, "      hold %s for %s", sc ? sc : "?", format_duration(b, f->delay));
        syscall_describe(out, pl, i);
}

static const struct jentry_kind entries[] = {{NULL}};

const struct fault_ops syscall_delay_ops = {
        .kind = {.name = "syscall-delay", .summary = "holds a launched target's system calls before they proceed (seccomp)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .describe = describe,
        SYSCALL_OPS,
};
