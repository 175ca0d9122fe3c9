/* SPDX-License-Identifier: MIT */
#pragma once

#include "fault.h"

/* What the cgroup squeezes share (faults/cgroup.c): cpu, memory, io and
 * pids lower one interface file of a target's own cgroup2 directory for
 * the window. The file's value before is journaled first (a "cgroup-file"
 * entry: cgroup, file, value), and the revert writes exactly it back. A
 * squeeze never loosens: where the cgroup is already as tight, nothing is
 * written. The kinds' files hold what differs. */

struct cgroup_squeeze {
        const char *controller; /* "cpu": must be in the parent's cgroup.subtree_control */
        const char *file;       /* "cpu.max" */
        /* The value to write, from the file's value now (for io.max, the
         * device's line or NULL): 0 with the value in buf, -EALREADY when
         * the cgroup is already at least as tight (buf says how), or a
         * negative errno. dev: "MAJ:MIN" for io. */
        int (*value)(const struct fault *f, const char *dev, const char *old, char *buf, size_t len);
        /* The words for the plan when the value now is unknown: "quota 20% of one CPU". */
        void (*intent)(const struct fault *f, char *buf, size_t len);
        /* The counter that shows the squeeze working ("throttled_usec" of
         * cpu.stat), read at the window's start and end; NULL for none. */
        const char *stat_file, *stat_key;
};

/* The target selects a unit or a cgroup (not the root). */
void cgroup_check_target(struct scenario *s, const struct fault *f, struct diags *d);
/* cgroup2 mounted, the target's cgroup there, the controller enabled for
 * it (its parent's cgroup.subtree_control), its file writable. */
int cgroup_probe(const struct scenario *s, const struct fault *f, const struct cgroup_squeeze *sq, char *why,
                 size_t len);
void cgroup_describe(FILE *out, const struct plan *pl, size_t i, const struct cgroup_squeeze *sq);
int cgroup_apply(struct fault_ctx *c, struct fault_run *fr, const struct cgroup_squeeze *sq);
void cgroup_finish(struct fault_ctx *c, struct fault_run *fr);
/* Open cgroup/file on cgroup2 (never through a link): -ENOENT when the
 * cgroup is gone, -EMEDIUMTYPE when the directory is not on cgroup2,
 * -EBADMSG for a path with "/../" or not absolute. Shared with stress. */
int cgroup2_open_file(const char *cgroup, const char *file, int flags);
/* Write value whole to cgroup/file, opened so. */
int cgroup2_write_file(const char *cgroup, const char *file, const char *value);
/* "8:0" for f->device (a MAJ:MIN or a block device's path). */
int cgroup_device(const char *device, char buf[static 32]);

extern const struct fault_backend cgroup_backend;
#define CGROUP_OPS                                                                                  \
        .backend = &cgroup_backend, .counter_names = {"squeezes", "events"}, .finish = cgroup_finish,  \
        .progress = cgroup_progress, .reach = FAULT_REACH_CGROUP
/* The live view's text: the squeeze's counter so far (throttled, high, max). */
void cgroup_progress(struct fault_run *fr, char *buf, size_t len);

int cgroup_revert_file(const struct jentry *e);
void cgroup_describe_file(const struct jentry *e, char *buf, size_t len);
#define CGROUP_ENTRY_FILE {"cgroup-file", cgroup_revert_file, cgroup_describe_file, false}
