/* SPDX-License-Identifier: MIT */
/* cpu: lower the cpu.max quota of a target's own cgroup for the window
 * (quota = 20%: of one CPU, in the period the cgroup has) (faults/cgroup.c). */
#include <stdlib.h>

#include "cgroup.h"

static const char *const keys[] = {"quota", NULL};

/* The kernel's smallest cpu.max quota. */
#define CPU_QUOTA_MIN_USEC 1000ULL

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        char a[FORMAT_MAX];
        cgroup_check_target(s, f, d);
        fault_require(s, f, "quota", " (the share of one CPU the target keeps, 1% to 100%)", d);
        if (fault_ok(f, "quota") && f->quota < RATIO_ONE / 100)
                diag_error(d, s->file, fault_line(f, "quota"), "quota = %s is below 1%%; use 1%% to 100%% (of one CPU)",
                           format_ratio(a, f->quota));
}

static int value(const struct fault *f, const char *dev, const char *old, char *buf, size_t len) {
        (void)dev;
        char q[32];
        unsigned long long period;
        if (sscanf(old, "%31s %llu", q, &period) != 2 || period == 0)
                return -EBADMSG;
        unsigned long long want = period * (unsigned long long)f->quota / RATIO_ONE;
        if (want < CPU_QUOTA_MIN_USEC)
                want = CPU_QUOTA_MIN_USEC;
        if (!streq(q, "max") && strtoull(q, NULL, 10) <= want) {
                snprintf(buf, len, "its quota %s of %llu us is at most %llu us", q, period, want);
                return -EALREADY;
        }
        snprintf(buf, len, "%llu %llu", want, period);
        return 0;
}

static void intent(const struct fault *f, char *buf, size_t len) {
        char a[FORMAT_MAX];
        snprintf(buf, len, "quota %s of one CPU", format_ratio(a, f->quota));
}

static const struct cgroup_squeeze squeeze = {
        .controller = "cpu", .file = "cpu.max", .value = value, .intent = intent,
        .stat_file = "cpu.stat", .stat_key = "nr_throttled",
};

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        return cgroup_probe(s, f, &squeeze, why, len);
}
static void describe(FILE *out, const struct plan *pl, size_t i) { cgroup_describe(out, pl, i, &squeeze); }
static int apply(struct fault_ctx *c, struct fault_run *fr) { return cgroup_apply(c, fr, &squeeze); }

static const struct jentry_kind entries[] = {CGROUP_ENTRY_FILE, {NULL}};

const struct fault_ops cpu_ops = {
        .kind = {.name = "cpu", .summary = "lowers cpu.max of the target's cgroup",
                 .keys = keys, .check = check, .entries = entries},
        .probe = probe,
        .describe = describe,
        .apply = apply,
        CGROUP_OPS,
};
