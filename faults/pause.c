/* SPDX-License-Identifier: MIT */
/* pause: stop a target's processes for the window (cgroup.freeze for a
 * whole cgroup, else SIGSTOP) and resume them at its end
 * (faults/process.c). */
#include "process.h"

static const char *const keys[] = {PROCESS_KEYS, NULL};

static const struct jentry_kind entries[] = {
        {"stop", process_revert_stop, process_describe_stop, false},
        {"freeze", process_revert_freeze, process_describe_freeze, false},
        {NULL},
};

const struct fault_ops pause_ops = {
        .kind = {.name = "pause", .keys = keys, .check = process_check, .entries = entries},
        PROCESS_OPS,
        .apply = process_pause_apply,
};
