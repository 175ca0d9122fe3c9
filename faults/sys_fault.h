/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/types.h>
#include <stdint.h>
#include <sys/types.h>

#include "../agent/parse.h"
#include "../bpf/sys_fault.h"

struct sys_fault_bpf;

struct sys_fault_spec {
        pid_t tgid;          /* the process whose calls fail */
        int err;             /* positive errno */
        ratio_t probability; /* RATIO_ONE: every call */
};

/* Open, configure, load and attach. -EPERM/-EINVAL/-ENOTSUP from the kernel
 * mean it cannot run fmod_ret programs on security hooks here. */
int sys_fault_load(const struct sys_fault_spec *spec, struct sys_fault_bpf **ret);
int sys_fault_counters(struct sys_fault_bpf *skel, uint64_t ret[_SYS_COUNTERS]);
void sys_fault_free(struct sys_fault_bpf *skel);
