/* SPDX-License-Identifier: MIT */
/* memory: lower memory.high of a target's own cgroup for the window:
 * reclaim pressure and throttling, never the OOM killer (memory.max is not
 * touched) (faults/cgroup.c). */
#include <stdlib.h>

#include "cgroup.h"

static const char *const keys[] = {"high", NULL};

/* Below this a cgroup does little but reclaim; not a squeeze any more. */
#define MEMORY_HIGH_MIN (1ULL << 20)

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        cgroup_check_target(s, f, d);
        fault_require(s, f, "high", " (the memory.high to set, e.g. 256M)", d);
        if (fault_ok(f, "high") && f->high < MEMORY_HIGH_MIN)
                diag_error(d, s->file, fault_line(f, "high"), "high = %lluB is below 1M; use 1M or more",
                           (unsigned long long)f->high);
}

static int value(const struct fault *f, const char *dev, const char *old, char *buf, size_t len) {
        (void)dev;
        if (!streq(old, "max") && strtoull(old, NULL, 10) <= f->high) {
                snprintf(buf, len, "it is at most %llu bytes", (unsigned long long)f->high);
                return -EALREADY;
        }
        snprintf(buf, len, "%llu", (unsigned long long)f->high);
        return 0;
}

static void intent(const struct fault *f, char *buf, size_t len) {
        snprintf(buf, len, "memory.high %llu bytes (reclaim; memory.max untouched)", (unsigned long long)f->high);
}

static const struct cgroup_squeeze squeeze = {
        .controller = "memory", .file = "memory.high", .value = value, .intent = intent,
        .stat_file = "memory.events", .stat_key = "high",
};

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        return cgroup_probe(s, f, &squeeze, why, len);
}
static void describe(FILE *out, const struct plan *pl, size_t i) { cgroup_describe(out, pl, i, &squeeze); }
static int apply(struct fault_ctx *c, struct fault_run *fr) { return cgroup_apply(c, fr, &squeeze); }

static const struct jentry_kind entries[] = {CGROUP_ENTRY_FILE, {NULL}};

const struct fault_ops memory_ops = {
        .kind = {.name = "memory", .summary = "lowers memory.high of the target's cgroup",
                 .keys = keys, .check = check, .entries = entries},
        .probe = probe,
        .describe = describe,
        .apply = apply,
        CGROUP_OPS,
};
