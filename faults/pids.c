/* SPDX-License-Identifier: MIT */
/* pids: lower pids.max of a target's own cgroup for the window: forks
 * past it fail with EAGAIN (faults/cgroup.c). */
#include <stdlib.h>

#include "cgroup.h"

static const char *const keys[] = {"limit", NULL};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        cgroup_check_target(s, f, d);
        fault_require(s, f, "limit", " (the pids.max to set: tasks the cgroup may hold)", d);
        if (fault_ok(f, "limit") && f->limit == 0)
                diag_error(d, s->file, fault_line(f, "limit"), "limit must be at least 1");
}

static int value(const struct fault *f, const char *dev, const char *old, char *buf, size_t len) {
        (void)dev;
        if (!streq(old, "max") && strtoull(old, NULL, 10) <= f->limit) {
                snprintf(buf, len, "it is at most %u", f->limit);
                return -EALREADY;
        }
        snprintf(buf, len, "%u", f->limit);
        return 0;
}

static void intent(const struct fault *f, char *buf, size_t len) { snprintf(buf, len, "pids.max %u", f->limit); }

static const struct cgroup_squeeze squeeze = {
        .controller = "pids", .file = "pids.max", .value = value, .intent = intent,
        .stat_file = "pids.events", .stat_key = "max",
};

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        return cgroup_probe(s, f, &squeeze, why, len);
}
static void describe(FILE *out, const struct plan *pl, size_t i) { cgroup_describe(out, pl, i, &squeeze); }
static int apply(struct fault_ctx *c, struct fault_run *fr) { return cgroup_apply(c, fr, &squeeze); }

static const struct jentry_kind entries[] = {CGROUP_ENTRY_FILE, {NULL}};

const struct fault_ops pids_ops = {
        .kind = {.name = "pids", .summary = "lowers pids.max of the target's cgroup",
                 .keys = keys, .check = check, .entries = entries},
        .probe = probe,
        .describe = describe,
        .apply = apply,
        CGROUP_OPS,
};
