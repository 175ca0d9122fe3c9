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
void plan_print(const struct plan *pl, FILE *out);
void plan_free(struct plan *pl);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free);
