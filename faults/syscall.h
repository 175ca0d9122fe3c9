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

struct held_call {
        uint64_t id;
        uint64_t due_ns; /* CLOCK_MONOTONIC */
        int fd;
        struct fault_run *fr;
};

struct notify_state {
        struct held_call *held; /* syscall-delay: calls waiting for their delay */
        size_t n_held;
        int tfd;                /* fires at the earliest due_ns */
        /* Told of every call held: a received notification can be answered
         * only by id, so whoever fails open must know the ids. */
        void (*on_hold)(void *ud, int ti, uint64_t id);
        void *ud;
};

/* The syscalls to notify for exec target ti: NULL when none of its faults
 * uses the seccomp backend. */
int *syscall_notify_set(const struct scenario *s, int ti, size_t *ret_n);

/* A notification arrived on fd for exec target ti. */
int syscall_notify_handle(struct fault_ctx *c, struct notify_state *ns, struct fault_run *frs, size_t n_frs, int ti,
                          int fd);
/* The delay timer fired: let due calls continue. */
void syscall_notify_timer(struct notify_state *ns);
/* Let held calls continue now: those of fr, or all (fr == NULL). */
void syscall_notify_release(struct notify_state *ns, const struct fault_run *fr);
/* Answer everything pending on fd with "continue" (fail open); returns how
 * many. Used by the guardian after the runner died. */
int syscall_notify_drain(int fd);
/* Answer one call by id with "continue" (a held one); 0 or -ENOENT if it
 * was answered already or its caller went away. */
int syscall_notify_continue(int fd, uint64_t id);

/* Whether seccomp user notification works here; why not, if it does not. */
int syscall_seccomp_supported(char *why, size_t len);

extern const struct fault_ops syscall_error_ops, syscall_delay_ops;
