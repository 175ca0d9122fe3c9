/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../agent/util.h"
#include "bpf_common.h"
#include "sys_fault_loader.h"
#include "sys_fault.skel.h"

int sys_fault_load(const struct sys_fault_spec *spec, struct sys_fault_bpf **ret) {
        if ((spec->tgid <= 0 && !spec->n_tgids && !spec->cgroup_id) || spec->err <= 0 || spec->err > 4095 ||
            spec->n_tgids > SYS_MAX_TGIDS)
                return -EINVAL;
        size_t plen = spec->path ? strlen(spec->path) : 0;
        if (plen >= SYS_PATH_MAX)
                return -ENAMETOOLONG;
        struct sys_fault_bpf *skel = sys_fault_bpf__open();
        if (!skel)
                return -errno;
        skel->rodata->target_tgid = spec->tgid > 0 ? (__u32)spec->tgid : 0;
        skel->rodata->use_tgid_map = spec->n_tgids > 0;
        skel->rodata->cgroup_id = spec->cgroup_id;
        skel->rodata->cgroup_level = spec->cgroup_level;
        skel->rodata->error = spec->err;
        skel->rodata->probability = spec->probability;
        skel->rodata->perm_mask = spec->perm_mask;
        skel->rodata->prefix_len = (__u32)plen;
        for (size_t i = 0; i < plen; i++)
                skel->rodata->prefix[i] = spec->path[i];
        /* Only the hooks this fault needs are loaded and attached. */
        struct bpf_program *prog;
        bpf_object__for_each_program(prog, skel->obj) {
                bool want = false;
                for (size_t i = 0; i < spec->n_progs; i++)
                        want = want || streq(bpf_program__name(prog), spec->progs[i]);
                if (!spec->progs)
                        want = streq(bpf_program__name(prog), "sabot_file_open");
                bpf_program__set_autoload(prog, want);
        }
        int r = sys_fault_bpf__load(skel);
        __u8 one = 1;
        for (size_t i = 0; r >= 0 && i < spec->n_tgids; i++) {
                __u32 k = (__u32)spec->tgids[i];
                r = bpf_map__update_elem(skel->maps.sabot_sys_tgids, &k, sizeof k, &one, sizeof one, BPF_ANY);
        }
        if (r >= 0)
                r = sys_fault_bpf__attach(skel);
        if (r < 0) {
                sys_fault_bpf__destroy(skel);
                return r;
        }
        *ret = skel;
        return 0;
}

int sys_fault_counters(struct sys_fault_bpf *skel, uint64_t ret[_SYS_COUNTERS]) {
        return bpf_percpu_sum(skel->maps.sabot_sys_cnt, _SYS_COUNTERS, ret);
}

void sys_fault_free(struct sys_fault_bpf *skel) { sys_fault_bpf__destroy(skel); }

/* Which program stands behind each system call. */
static const struct bpf_hook bpf_hooks[] = {
        {"open", "sabot_file_open", 0, true},       {"openat", "sabot_file_open", 0, true},
        {"openat2", "sabot_file_open", 0, true},    {"creat", "sabot_file_open", 0, true},
        {"read", "sabot_file_perm", 4, true},       {"readv", "sabot_file_perm", 4, true},
        {"pread64", "sabot_file_perm", 4, true},    {"preadv", "sabot_file_perm", 4, true},
        {"preadv2", "sabot_file_perm", 4, true},    {"write", "sabot_file_perm", 2, true},
        {"writev", "sabot_file_perm", 2, true},     {"pwrite64", "sabot_file_perm", 2, true},
        {"pwritev", "sabot_file_perm", 2, true},    {"pwritev2", "sabot_file_perm", 2, true},
        {"connect", "sabot_connect", 0, false},     {"bind", "sabot_bind", 0, false},
        {"accept", "sabot_accept", 0, false},       {"accept4", "sabot_accept", 0, false},
        {"sendmsg", "sabot_sendmsg", 0, false},     {"sendto", "sabot_sendmsg", 0, false},
        {"sendmmsg", "sabot_sendmsg", 0, false},    {"recvmsg", "sabot_recvmsg", 0, false},
        {"recvfrom", "sabot_recvmsg", 0, false},    {"recvmmsg", "sabot_recvmsg", 0, false},
        {"unlink", "sabot_unlink", 0, false},       {"unlinkat", "sabot_unlink", 0, false},
        {"mkdir", "sabot_mkdir", 0, false},         {"mkdirat", "sabot_mkdir", 0, false},
        {"rename", "sabot_rename", 0, false},       {"renameat", "sabot_rename", 0, false},
        {"renameat2", "sabot_rename", 0, false},    {"execve", "sabot_exec", 0, false},
        {"execveat", "sabot_exec", 0, false},
};

const struct bpf_hook *bpf_hook_for(const char *syscall) {
        for (size_t i = 0; i < ELEMENTSOF(bpf_hooks); i++)
                if (streq(bpf_hooks[i].syscall, syscall))
                        return &bpf_hooks[i];
        return NULL;
}

const struct bpf_hook *bpf_hook_at(size_t i) {
        return i < ELEMENTSOF(bpf_hooks) ? &bpf_hooks[i] : NULL;
}
