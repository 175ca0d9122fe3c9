/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "diag.h"
#include "policy.h"
#include "scenario.h"

/* The steps validate, plan and run share before a run touches anything. */

/* The policy, loaded and checked: -EINVAL when it has errors (in d). */
int prepare_policy(const char *path, bool is_default, struct policy **ret, struct diags *d);
/* A scenario, parsed (from a file only root can change, with
 * require_trust) and checked against the policy, with the limits in
 * effect: -EINVAL when it is invalid (in d), -ENOMEM. A scenario that
 * parsed but breaks the policy comes back too (with -EINVAL): a run counts
 * it in its metrics. */
int prepare_scenario(const char *path, bool require_trust, const struct policy *p, struct limits *ret_eff,
                     struct scenario **ret, struct diags *d);
