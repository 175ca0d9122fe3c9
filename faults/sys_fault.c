/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../agent/util.h"
#include "bpf_common.h"
#include "sys_fault.h"
#include "sys_fault.skel.h"

int sys_fault_load(const struct sys_fault_spec *spec, struct sys_fault_bpf **ret) {
        if (spec->tgid <= 0 || spec->err <= 0 || spec->err > 4095)
                return -EINVAL;
        struct sys_fault_bpf *skel = sys_fault_bpf__open();
        if (!skel)
                return -errno;
        skel->rodata->target_tgid = (__u32)spec->tgid;
        skel->rodata->error = spec->err;
        skel->rodata->probability = spec->probability;
        int r = sys_fault_bpf__load(skel);
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
