/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Syscall errors for running processes: fmod_ret programs on the LSM hooks
 * behind the system calls. fmod_ret on __x64_sys_* needs
 * CONFIG_FUNCTION_ERROR_INJECTION, which Debian's kernels lack; security_*
 * functions are always modifiable. Only the struct names the hooks take are
 * declared: the programs never read them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sys_fault.h"

struct file;

/* Set by the loader between open and load. */
const volatile __u32 target_tgid = 0;
const volatile __s32 error = 5; /* EIO */
const volatile __u32 probability = 1000000000U; /* parts per billion */

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _SYS_COUNTERS);
        __type(key, __u32);
        __type(value, __u64);
} sabot_sys_cnt SEC(".maps");

static __always_inline void count(__u32 which) {
        __u64 *v = bpf_map_lookup_elem(&sabot_sys_cnt, &which);
        if (v)
                *v += 1;
}

static __always_inline int decide(int ret) {
        /* Another LSM already refused: keep its answer. */
        if (ret)
                return ret;
        if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
                return 0;
        count(SYS_SEEN);
        if (probability < 1000000000U &&
            (__u32)(((__u64)bpf_get_prandom_u32() * 1000000000ULL) >> 32) >= probability)
                return 0;
        count(SYS_FAILED);
        return -error;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(sabot_file_open, struct file *file, int ret) {
        return decide(ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
