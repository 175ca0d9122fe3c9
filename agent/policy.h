/* SPDX-License-Identifier: MIT */
#pragma once

#include "policy_types.h"
#include "scenario.h"

extern const struct conf_spec policy_spec;

/* Load PATH; when it does not exist and is the default path, the built-in
 * default policy applies. A policy file that others could write is refused:
 * it would let them raise the ceilings. */
int policy_load(const char *path, bool is_default, struct policy **ret, struct diags *d);
int policy_parse(const char *file, const char *buf, size_t len, struct policy **ret, struct diags *d);
struct policy *policy_new_default(void);
void policy_free(struct policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy *, policy_free);

/* Check a parsed scenario against the policy and its own [limits]; errors
 * name the key and both values. Fills ret_eff with the effective limits. */
void policy_check(const struct policy *p, const struct scenario *s, struct limits *ret_eff,
                  struct diags *d);

/* Whether an unattended run may read this file: owned by root (or by the
 * user running sabot), not writable by group or others, and the same for
 * every directory above it. Explains why not in d. */
bool file_is_trusted(const char *path, struct diags *d, enum diag_level level);
