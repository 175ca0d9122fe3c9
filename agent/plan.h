/* SPDX-License-Identifier: MIT */
#pragma once

#include "policy.h"
#include "resolve.h"
#include "scenario.h"

/* Resolve targets and interfaces on this host, in this network namespace.
 * What makes the run impossible (a missing interface or exec program, a
 * pid or pidfile that names a process never eligible or lives on procfs)
 * is an error in d; a target that matches nothing now is a warning (a
 * service may start later: the run judges it when the window opens). Both
 * tied to the scenario's lines; the plan shows them too. */
int plan_build(const struct scenario *s, const struct policy *p, const struct limits *eff,
               struct plan **ret, struct diags *d);
/* Whether this host can inject f (of s): its kind's probe (struct
 * fault_ops.probe), as the run's preflight asks it; 0 if it can, else a
 * negative errno and why. */
int plan_fault_probe(const struct scenario *s, const struct fault *f, char *why, size_t len);
/* Ask plan_fault_probe for every fault of pl: what this host cannot do is
 * marked in the plan (resolved_fault.unsupported, printed under the fault
 * and in --json) and warned of in d, saying that a run would exit 6. The
 * plan itself stays valid (sabot plan exits 0 for it). Without root, a
 * note that it was not checked. */
int plan_probe(struct plan *pl, struct diags *d);
void plan_print(const struct plan *pl, FILE *out);
void plan_free(struct plan *pl);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free);
