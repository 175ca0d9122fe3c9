/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/types.h>
#include <stdint.h>
#include <sys/types.h>

#include "../agent/parse.h"
#include "../bpf/sys_fault.h"

struct sys_fault_bpf;

/* What one eBPF syscall fault fails, and for whom. */
struct sys_fault_spec {
        pid_t tgid;          /* one process... */
        const pid_t *tgids;  /* ...or a set of them... */
        size_t n_tgids;
        uint64_t cgroup_id;  /* ...or a cgroup and everything below it */
        uint32_t cgroup_level;
        int err;             /* positive errno */
        ratio_t probability; /* RATIO_ONE: every call */
        const char *path;    /* prefix, or NULL */
        const char *const *progs; /* programs to load (bpf_hook prog names); NULL: sabot_file_open */
        size_t n_progs;
        unsigned perm_mask;  /* for sabot_file_perm */
};

/* Open, configure, load and attach. -EPERM/-EINVAL/-ENOTSUP from the kernel
 * mean it cannot run fmod_ret programs on security hooks here. */
int sys_fault_load(const struct sys_fault_spec *spec, struct sys_fault_bpf **ret);
int sys_fault_counters(struct sys_fault_bpf *skel, uint64_t ret[_SYS_COUNTERS]);
void sys_fault_free(struct sys_fault_bpf *skel);

/* Which program of bpf/sys_fault.bpf.c stands behind a system call; perm
 * is security_file_permission's mask, path whether the hook can see the
 * file's path (bpf_d_path). NULL when none does. */
struct bpf_hook {
        const char *syscall, *prog;
        unsigned perm;
        bool path;
};
const struct bpf_hook *bpf_hook_for(const char *syscall);
/* The i-th hook, NULL past the last: to list them. */
const struct bpf_hook *bpf_hook_at(size_t i);
