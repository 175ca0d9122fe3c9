/* SPDX-License-Identifier: MIT */
#pragma once

#include "policy_types.h"
#include "scenario.h"

/* What a scenario's targets match on this host: a read-only host view
 * (processes, cgroups) that the plan prints and the kinds act on. */

struct excluded {
        pid_t pid;
        char why[64];
};

struct resolved_target {
        const struct target *t;
        char *cgroup;       /* absolute cgroup directory, for unit and cgroup selectors */
        pid_t *pids;        /* eligible processes */
        uint64_t *starts;   /* and their start times (proc_starttime), when read */
        size_t n_pids;
        struct excluded *ex; /* matched but protected */
        size_t n_ex;
        char *problem;      /* why nothing matched, if so */
        bool refused;       /* the problem is the scenario's: refuse the run */
};

struct resolved_fault {
        const struct fault *f;
        int ifindex;        /* 0: interface not found (network faults) */
        /* Why this host cannot inject it (a run exits 6), from its kind's
         * probe (plan_probe); NULL: it can, or nobody asked. */
        char *unsupported;
};

/* What one read of /proc/PID/stat tells of a process. */
struct proc_info {
        pid_t pid, ppid, pgid;
        char state;
        bool kthread;
        uint64_t start; /* proc_starttime */
        uint64_t image; /* of where its program's text and stack are mapped: changes with every exec */
        char comm[16];
        char *exe;      /* read when an exe target asks, in a table; "" if unreadable */
        int ok;         /* for the resolution's own use */
        int sabot;      /* likewise: 1 a sabot process, -1 not, 0 not known */
};
int proc_info_read(pid_t pid, struct proc_info *ret);

/* Every process of the host, by pid, as one read each: what the plan
 * resolves all its targets against, so that a scenario of many comm
 * targets reads the host once, not once per target. */
struct proc_table {
        struct proc_info *v;
        size_t n;
};
int proc_table_new(struct proc_table **ret);
void proc_table_free(struct proc_table *pt);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct proc_table *, proc_table_free);

struct plan {
        const struct scenario *s;
        const struct policy *p;
        struct limits eff;
        char *cgroup_root;  /* NULL when cgroup2 is not mounted */
        struct resolved_target *targets;
        struct resolved_fault *faults;
        /* While plan_build resolves: the host read once. NULL otherwise, so
         * that a run resolves afresh when a window opens. */
        struct proc_table *procs;
};

/* Resolve one target now: eligible processes (never PID 1, kernel
 * threads, sabot's own, or what pl's policy protects), its cgroup, or why
 * nothing matched. */
int plan_resolve_target(const struct plan *pl, const struct target *t, struct resolved_target *rt);
/* Free what rt holds (not rt itself): `_cleanup_resolved_target_ struct
 * resolved_target rt = {0};` before plan_resolve_target. */
void resolved_target_done(struct resolved_target *rt);
#define _cleanup_resolved_target_ _cleanup_(resolved_target_done)
/* Whether target t, matching nothing now, is resolved when its window
 * opens instead (a comm or exe target in a scenario that launches some). */
bool plan_resolved_later(const struct scenario *s, const struct target *t, const struct resolved_target *rt);
