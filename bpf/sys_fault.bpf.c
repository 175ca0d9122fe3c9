/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Syscall errors for running processes: fmod_ret programs on the LSM hooks
 * behind the system calls. fmod_ret on __x64_sys_* needs
 * CONFIG_FUNCTION_ERROR_INJECTION, which Debian's kernels lack; security_*
 * functions are always modifiable. Only the struct fields the programs read
 * are declared, relocated with CO-RE. The loader turns off the programs a
 * scenario does not need. */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sys_fault.h"

struct path {
        void *mnt;
        void *dentry;
} __attribute__((preserve_access_index));

struct file {
        struct path f_path;
} __attribute__((preserve_access_index));

struct socket;
struct sockaddr;
struct msghdr;
struct inode;
struct dentry;
struct linux_binprm;

/* Set by the loader between open and load. */
const volatile __u32 target_tgid = 0;   /* one process... */
const volatile __u32 use_tgid_map = 0;  /* ...or a set of them... */
const volatile __u64 cgroup_id = 0;     /* ...or a cgroup and everything below it */
const volatile __u32 cgroup_level = 0;
const volatile __s32 error = 5;         /* EIO */
const volatile __u32 probability = 1000000000U; /* parts per billion */
const volatile __u32 perm_mask = 0;     /* file_permission: which of MAY_READ, MAY_WRITE */
const volatile __u32 prefix_len = 0;    /* 0: any path */
const volatile char prefix[SYS_PATH_MAX] = {};

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, SYS_MAX_TGIDS);
        __type(key, __u32);
        __type(value, __u8);
} sabot_sys_tgids SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _SYS_COUNTERS);
        __type(key, __u32);
        __type(value, __u64);
} sabot_sys_cnt SEC(".maps");

struct pathbuf {
        char p[SYS_PATH_MAX];
};
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct pathbuf);
} sabot_sys_buf SEC(".maps");

static __always_inline void count(__u32 which) {
        __u64 *v = bpf_map_lookup_elem(&sabot_sys_cnt, &which);
        if (v)
                *v += 1;
}

static __always_inline int targeted(void) {
        __u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
        if (cgroup_id)
                return bpf_get_current_ancestor_cgroup_id((int)cgroup_level) == cgroup_id;
        if (use_tgid_map)
                return bpf_map_lookup_elem(&sabot_sys_tgids, &tgid) != NULL;
        return tgid == target_tgid;
}

static __always_inline int path_matches(struct file *file) {
        if (!prefix_len)
                return 1;
        __u32 zero = 0;
        struct pathbuf *b = bpf_map_lookup_elem(&sabot_sys_buf, &zero);
        if (!b)
                return 0;
        if (bpf_d_path(&file->f_path, b->p, sizeof b->p) < 0)
                return 0;
        for (__u32 i = 0; i < SYS_PATH_MAX; i++) {
                if (i >= prefix_len)
                        return 1;
                if (b->p[i] != prefix[i])
                        return 0;
        }
        return 1;
}

/* The verdict for a call that reached the hook as ret. */
static __always_inline int decide(int ret) {
        /* Another LSM already refused: keep its answer. */
        if (ret || !targeted())
                return ret;
        count(SYS_SEEN);
        if (probability < 1000000000U &&
            (__u32)(((__u64)bpf_get_prandom_u32() * 1000000000ULL) >> 32) >= probability)
                return 0;
        count(SYS_FAILED);
        return -error;
}

/* open, openat, openat2, creat */
SEC("fmod_ret/security_file_open")
int BPF_PROG(sabot_file_open, struct file *file, int ret) {
        if (ret || !targeted() || !path_matches(file))
                return ret;
        return decide(ret);
}

/* read, write and their vector and positional forms */
SEC("fmod_ret/security_file_permission")
int BPF_PROG(sabot_file_perm, struct file *file, int mask, int ret) {
        if (ret || !(mask & perm_mask) || !targeted() || !path_matches(file))
                return ret;
        return decide(ret);
}

SEC("fmod_ret/security_socket_connect")
int BPF_PROG(sabot_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_socket_bind")
int BPF_PROG(sabot_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_socket_accept")
int BPF_PROG(sabot_accept, struct socket *sock, struct socket *newsock, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_socket_sendmsg")
int BPF_PROG(sabot_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_socket_recvmsg")
int BPF_PROG(sabot_recvmsg, struct socket *sock, struct msghdr *msg, int size, int flags, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_inode_unlink")
int BPF_PROG(sabot_unlink, struct inode *dir, struct dentry *dentry, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_inode_mkdir")
int BPF_PROG(sabot_mkdir, struct inode *dir, struct dentry *dentry, unsigned short mode, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_inode_rename")
int BPF_PROG(sabot_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
             struct dentry *new_dentry, unsigned int flags, int ret) {
        return decide(ret);
}

SEC("fmod_ret/security_bprm_check")
int BPF_PROG(sabot_exec, struct linux_binprm *bprm, int ret) {
        return decide(ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
