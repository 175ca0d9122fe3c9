/* SPDX-License-Identifier: MIT */
#pragma once

#include <seccomp.h>
#include <stdint.h>
#include <sys/types.h>

#include "fault.h"

/* Syscall faults through seccomp user notification, for targets the run
 * launches. The filter (SCMP_ACT_NOTIFY on the union of the syscalls its
 * faults name, and execve) is installed just before the target execs and
 * lives as long as it does; sabot decides each call while a fault's window
 * is open, and lets every other call continue. */

/* What the runner has received on its listeners and not yet answered, in
 * memory it shares with the guardian (MAP_SHARED, mapped before the
 * guardian forks). A received notification can be answered only by its id,
 * by any holder of the listener (SECCOMP_IOCTL_NOTIF_SEND works on any fd
 * of the same file; kernel/seccomp.c), so whoever fails open must know the
 * ids: the runner stores them here with plain stores, no system call per
 * notification. Listeners are numbered in the order the guardian got them. */
#define NOTIFY_MAX_LISTENERS FAULT_GIVEN_FDS_MAX
#define NOTIFY_MAX_HELD 4096
/* Ids come from a per-filter counter (next_id++, from a random start in
 * init_listener), and RECV hands them out in increasing order; ids a caller
 * gave up before it was received (a signal restarts the call with a new
 * id) leave gaps. The guardian answers this many ids from the last one the
 * runner stored: the one the runner may have received after its last
 * store, across any gap of that size. Each answer of an id that is not
 * waiting costs one ioctl (ENOENT or EINPROGRESS), a few µs in all. */
#define NOTIFY_SCAN_IDS 1024
struct notify_shared {
        struct {
                uint64_t last; /* the last id received on this listener */
                uint32_t seen; /* set once last holds one */
                uint32_t pad;
        } l[NOTIFY_MAX_LISTENERS];
        struct {
                uint64_t id;
                uint32_t listener;
                uint32_t used;
        } held[NOTIFY_MAX_HELD];
};

/* The syscalls to notify for exec target ti: NULL when none of its faults
 * uses the seccomp backend. */
int *syscall_notify_set(const struct scenario *s, int ti, size_t *ret_n);

/* Answer everything pending on fd with "continue" (fail open); returns how
 * many. Each id received is stored in sh (listener li) first, when sh is
 * given: the runner's drain while it adopts a listener. */
int syscall_notify_drain(int fd, struct notify_shared *sh, unsigned li);
/* The runner is gone: answer "continue" to every call it may have received
 * and not answered, on the listeners fds (numbered as in sh): ids last+from
 * to last+to (to <= NOTIFY_SCAN_IDS) of each, and with from == 0 every call
 * it held; then to everything pending. Returns how many were answered. In
 * two passes, so that a narrow one (virtually every call in flight) does
 * not wait for the whole window. */
int syscall_notify_fail_open(const struct notify_shared *sh, const int *fds, size_t n_fds, unsigned from, unsigned to);

/* Whether seccomp user notification works here; why not, if it does not. */
int syscall_seccomp_supported(char *why, size_t len);

/* ---- what syscall-error and syscall-delay share (their files hold what
 * differs) ---- */
/* Whether f fails calls of running processes (the eBPF backend) rather
 * than of a launched one (seccomp). */
bool fault_uses_bpf(const struct scenario *s, const struct fault *f);
/* The keys both kinds take, as the start of their keys lists. */
#define SYSCALL_KEYS "syscalls", "probability", "path", "backend"
/* probability = 0: "DOES nothing". */
void syscall_check(struct scenario *s, struct fault *f, const char *does, struct diags *d);
/* backend = seccomp needs a launched target. */
void syscall_check_backend(struct scenario *s, struct fault *f, struct diags *d);
/* The plan's ", probability ..." rest of the kind's line, and the target
 * and backend line. */
void syscall_describe(FILE *out, const struct plan *pl, size_t i);
/* "write, openat", to be freed. */
char *syscall_names(const struct fault *f);
extern const struct fault_backend syscall_backend;
/* The members of struct fault_ops that both syscall kinds share. */
#define SYSCALL_OPS                                                                                 \
        .backend = &syscall_backend, .probe = syscall_probe, .counter_names = {"matched", "acted_on"}, \
        .apply = syscall_apply, .finish = syscall_finish, .progress = syscall_progress,                \
        .launch = &syscall_seccomp_launch, .reach = FAULT_REACH_CGROUP | FAULT_REACH_TREE
int syscall_probe(const struct scenario *s, const struct fault *f, char *why, size_t len);
int syscall_apply(struct fault_ctx *c, struct fault_run *fr);
void syscall_progress(struct fault_run *fr, char *buf, size_t len);
/* Targets the run launches: a seccomp notify filter, its listener served
 * on the run's loop, failed open by the guardian. */
extern const struct fault_launch_ops syscall_seccomp_launch;
void syscall_finish(struct fault_ctx *c, struct fault_run *fr);
/* The eBPF backend's entries: the runner that holds the programs. */
int syscall_revert_bpf(const struct jentry *e);
