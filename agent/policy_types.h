/* SPDX-License-Identifier: MIT */
#pragma once

#include "scenario.h"

/* The host policy as data (parsed and checked by agent/policy.c): the
 * ceilings, what is protected, how probes run. */

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
