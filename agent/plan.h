/* SPDX-License-Identifier: MIT */
#pragma once

#include "policy.h"
#include "scenario.h"

/* What a run would touch, resolved on this host without touching anything. */

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
};

struct plan {
        const struct scenario *s;
        const struct policy *p;
        struct limits eff;
        char *cgroup_root;  /* NULL when cgroup2 is not mounted */
        struct resolved_target *targets;
        struct resolved_fault *faults;
};

/* Resolve targets and interfaces on this host, in this network namespace.
 * What makes the run impossible (a missing interface or exec program, a
 * pid or pidfile that names a process never eligible or lives on procfs)
 * is an error in d; a target that matches nothing now is a warning (a
 * service may start later: the run judges it when the window opens). Both
 * tied to the scenario's lines; the plan shows them too. */
int plan_build(const struct scenario *s, const struct policy *p, const struct limits *eff,
               struct plan **ret, struct diags *d);
/* Resolve one target (exposed for tests). */
int plan_resolve_target(const struct plan *pl, const struct target *t, struct resolved_target *rt);
/* Free what rt holds (not rt itself): `_cleanup_resolved_target_ struct
 * resolved_target rt = {0};` before plan_resolve_target. */
void resolved_target_done(struct resolved_target *rt);
#define _cleanup_resolved_target_ _cleanup_(resolved_target_done)
void plan_print(const struct plan *pl, FILE *out);
void plan_free(struct plan *pl);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free);
