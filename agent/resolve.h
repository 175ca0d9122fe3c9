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

struct plan {
        const struct scenario *s;
        const struct policy *p;
        struct limits eff;
        char *cgroup_root;  /* NULL when cgroup2 is not mounted */
        struct resolved_target *targets;
        struct resolved_fault *faults;
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
