/* SPDX-License-Identifier: MIT */
#pragma once

#include "scenario.h"

#define POLICY_DEFAULT_PATH "/etc/sabot/policy.ini"

enum policy_kind { POL_LIMITS, POL_PROTECT, POL_PROBES, _POL_MAX };

struct protect {
        struct conf_obj hdr;
        struct port_list ports;
        struct strv units, comms, interfaces;
};

struct probes {
        struct conf_obj hdr;
        char *user; /* exec probes run as this unprivileged user */
};

/* The host's ceilings: no scenario can raise them. */
struct policy {
        char *path; /* NULL: the built-in default */
        struct limits limits;
        struct protect protect;
        struct probes probes;
};

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

/* Blast radius of one strike of a kill or pause: how many of `eligible`
 * processes to hit, with count (0 = unset) or percent, never leaving fewer
 * than min_survivors. Percentages round down. */
uint32_t blast_strike_count(uint32_t eligible, uint32_t count, ratio_t percent, uint32_t min_survivors);
