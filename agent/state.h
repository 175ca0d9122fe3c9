/* SPDX-License-Identifier: MIT */
#pragma once

#include <sched.h>
#include <sys/types.h>

#include "util.h"

/* Where sabot keeps its state: the persistent state dir (the disarm latch,
 * reports) and the runtime run dir (journals, the run lock). Both, and
 * every file sabot makes or reads in them, must be root's alone (owned by
 * root, writable by nobody else, never a symbolic link); anything else is
 * refused, and trust_last() says what and why. */
struct dirs {
        const char *state; /* default /var/lib/sabot */
        const char *run;   /* default /run/sabot */
};

/* Open (and with create, make) a state or run dir after checking it and
 * every directory above it. */
int dirs_open(const char *dir, bool create, int *ret_fd);
/* STATE/SUB (reports, logs), made when missing, never through a link. */
int state_subdir(const struct dirs *d, const char *sub, mode_t mode, int *ret_fd);

/* The disarm latch: while set, no run starts. Survives reboots. */
int latch_set(const struct dirs *d, const char *reason);
/* The same, set at once (written to a temp file and renamed over the
 * latch: every reader sees it whole as soon as this returns) but not yet
 * durable; latch_sync then fsyncs it and the state dir. The kill switch
 * reverts in between. */
int latch_set_deferred(const struct dirs *d, const char *reason);
int latch_sync(const struct dirs *d);
int latch_clear(const struct dirs *d);
/* 1 and the reason/time text when disarmed, 0 when armed, a negative errno
 * when the latch is there but cannot be read or trusted (too big, a
 * directory, a link, a state dir others can write): callers count that as
 * disarmed (runs) or as an error (status), never as armed. */
int latch_get(const struct dirs *d, char *ret_reason, size_t len);

/* One run per host: an exclusive lock on RUN_DIR/lock, held by the runner
 * and inherited by its guardian. -EBUSY with the holder's pid when taken. */
int run_lock(const struct dirs *d, int *ret_fd, pid_t *ret_holder);

/* The reverts of the kill switch and of a run's end, at real-time
 * priority: SCHED_RR 1 with SCHED_RESET_ON_FORK from urgent_begin to
 * urgent_end (which puts back what was there), so that CPU hogs on every
 * core do not hold them up (bench/README.md). Only around bounded work
 * that sleeps rather than spins; a process already real-time, or without
 * the privilege (CAP_SYS_NICE, or RLIMIT_RTPRIO >= 1: sabot-run@.service
 * gives LimitRTPRIO=1), is left as it is, silently. */
struct urgent {
        int policy;
        struct sched_param sp;
        bool changed;
};
void urgent_begin(struct urgent *u);
void urgent_end(struct urgent *u);
