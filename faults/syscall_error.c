/* SPDX-License-Identifier: MIT */
/* syscall-error: fail system calls of a target with an errno. Launched
 * targets through seccomp user notification (faults/syscall.c), running
 * ones through the eBPF programs on LSM hooks (faults/sys_fault_loader.c). */
#include "sys_fault_loader.h"
#include "syscall.h"

static const char *const keys[] = {SYSCALL_KEYS, "errno", NULL};

/* The eBPF backend covers what its hooks stand behind. */
static void check_bpf_syscalls(struct scenario *s, struct fault *f, struct diags *d) {
        for (size_t i = 0; i < f->syscalls.n; i++) {
                const struct bpf_hook *h = bpf_hook_for(f->syscalls.name[i]);
                if (h && (!f->path || h->path))
                        continue;
                char list[1024] = "";
                for (size_t k = 0; bpf_hook_at(k); k++)
                        if (!f->path || bpf_hook_at(k)->path)
                                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "",
                                         bpf_hook_at(k)->syscall);
                diag_error(d, s->file, fault_line(f, "syscalls"), "the eBPF backend (for running processes) cannot fail "
                           "'%s'%s; it covers %s; a target launched with exec = (the seccomp backend) can fail any "
                           "system call", f->syscalls.name[i], h ? " under a path" : "", list);
        }
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        fault_require_target(s, f, d);
        fault_require(s, f, "syscalls", " (e.g. syscalls = write, fsync)", d);
        fault_require(s, f, "errno", " (e.g. errno = EIO)", d);
        syscall_check(s, f, "fails", d);
        if (f->target_index >= 0 && fault_ok(f, "syscalls") && fault_uses_bpf(s, f))
                check_bpf_syscalls(s, f, d);
        syscall_check_backend(s, f, d);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        _cleanup_free_ char *sc = syscall_names(f);
        fprintf(out, "      fail %s with %s", sc ? sc : "?", errno_to_name(f->err) ? errno_to_name(f->err) : "?");
        syscall_describe(out, pl, i);
}

static const struct jentry_kind entries[] = {{"bpf", syscall_revert_bpf, NULL, false}, {NULL}};

const struct fault_ops syscall_error_ops = {
        .kind = {.name = "syscall-error", .summary = "fails a target's system calls with an errno (seccomp or BPF LSM)",
                 .keys = keys, .check = check, .entries = entries},
        .describe = describe,
        SYSCALL_OPS,
};
