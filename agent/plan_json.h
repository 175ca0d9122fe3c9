/* SPDX-License-Identifier: MIT */
#pragma once

#include "json.h"
#include "plan.h"

/* The plan with d's diagnostics, as the JSON document of `plan --json`. */
struct json_object *plan_json(const struct plan *pl, struct diags *d);
