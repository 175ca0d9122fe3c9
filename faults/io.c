/* SPDX-License-Identifier: MIT */
/* io: lower io.max of a target's own cgroup for one device for the window
 * (rbps, wbps: bytes a second; riops, wiops) (faults/cgroup.c). */
#include <stdlib.h>

#include "cgroup.h"

static const char *const keys[] = {"device", "rbps", "wbps", "riops", "wiops", NULL};

static const char *const io_keys[] = {"rbps", "wbps", "riops", "wiops"};

static uint64_t io_want(const struct fault *f, size_t k) {
        switch (k) {
        case 0: return f->rbps;
        case 1: return f->wbps;
        case 2: return f->riops;
        default: return f->wiops;
        }
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        cgroup_check_target(s, f, d);
        fault_require(s, f, "device", " (MAJOR:MINOR or a block device path)", d);
        bool any = false;
        for (size_t k = 0; k < ELEMENTSOF(io_keys); k++)
                if (fault_line(f, io_keys[k])) {
                        any = true;
                        if (fault_ok(f, io_keys[k]) && io_want(f, k) == 0)
                                diag_error(d, s->file, fault_line(f, io_keys[k]), "%s must be at least 1", io_keys[k]);
                }
        if (!any)
                diag_error(d, s->file, f->hdr.line, "fault '%s' (type = io) needs at least one of rbps, wbps, riops, "
                           "wiops", f->hdr.name);
        char dev[32];
        int r;
        if (fault_ok(f, "device") && f->device[0] == '/' && (r = cgroup_device(f->device, dev)) < 0)
                diag_error(d, s->file, fault_line(f, "device"), "device = %s: %s; use MAJOR:MINOR or a block "
                           "device path", f->device, r == -ENOTBLK ? "not a block device" : strerror(-r));
}

/* The value of key in an io.max line ("max" = none): UINT64_MAX. */
static uint64_t io_now(const char *line, const char *key) {
        char pat[16];
        snprintf(pat, sizeof pat, " %s=", key);
        const char *p = line ? strstr(line, pat) : NULL;
        if (!p || strncmp(p + strlen(pat), "max", 3) == 0)
                return UINT64_MAX;
        return strtoull(p + strlen(pat), NULL, 10);
}

static int value(const struct fault *f, const char *dev, const char *old, char *buf, size_t len) {
        size_t o = (size_t)snprintf(buf, len, "%s", dev);
        bool any = false;
        for (size_t k = 0; k < ELEMENTSOF(io_keys) && o < len; k++) {
                uint64_t want = io_want(f, k);
                if (!fault_line(f, io_keys[k]) || want >= io_now(old, io_keys[k]))
                        continue;
                any = true;
                o += (size_t)snprintf(buf + o, len - o, " %s=%llu", io_keys[k], (unsigned long long)want);
        }
        if (!any) {
                snprintf(buf, len, "its limits for %s are at most those", dev);
                return -EALREADY;
        }
        return 0;
}

static void intent(const struct fault *f, char *buf, size_t len) {
        size_t o = (size_t)snprintf(buf, len, "io.max for %s:", f->device);
        for (size_t k = 0; k < ELEMENTSOF(io_keys) && o < len; k++)
                if (fault_line(f, io_keys[k]))
                        o += (size_t)snprintf(buf + o, len - o, " %s=%llu", io_keys[k],
                                              (unsigned long long)io_want(f, k));
}

static const struct cgroup_squeeze squeeze = {
        .controller = "io", .file = "io.max", .value = value, .intent = intent,
};

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        char dev[32];
        int r = cgroup_device(f->device, dev);
        if (r < 0) {
                snprintf(why, len, "device %s: %s", f->device, strerror(-r));
                return -EOPNOTSUPP;
        }
        return cgroup_probe(s, f, &squeeze, why, len);
}
static void describe(FILE *out, const struct plan *pl, size_t i) { cgroup_describe(out, pl, i, &squeeze); }
static int apply(struct fault_ctx *c, struct fault_run *fr) { return cgroup_apply(c, fr, &squeeze); }

static const struct jentry_kind entries[] = {CGROUP_ENTRY_FILE, {NULL}};

const struct fault_ops io_ops = {
        .kind = {.name = "io", .summary = "lowers io.max of the target's cgroup for one block device",
                 .keys = keys, .check = check, .entries = entries},
        .probe = probe,
        .describe = describe,
        .apply = apply,
        CGROUP_OPS,
};
