/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* The guardian: a forked watchdog that reverts everything in the run's
 * journal when the runner dies (its end of the pipe closes, even on
 * SIGKILL), stops sending heartbeats for longer than the grace period
 * (hung, or SIGSTOPped), or outlives the hard deadline plus grace. It reads
 * only the journal file: nothing of the runner's state. */

#define GUARDIAN_HEARTBEAT_NS (100ULL * 1000 * 1000)
#define GUARDIAN_GRACE_NS (3ULL * 1000 * 1000 * 1000)

/* deadline: CLOCK_MONOTONIC ns by which the run must be over. Returns the
 * runner's end of the pipe and the guardian's pid. */
int guardian_spawn(const char *journal_path, uint64_t deadline_ns, uint64_t grace_ns, int *ret_fd, pid_t *ret_pid);
/* A heartbeat; "done" tells it the runner reverted everything itself. */
void guardian_beat(int fd);
/* Hand the guardian a duplicate of a seccomp listener: if the runner dies,
 * it answers every pending and later call with "continue" (fail open) until
 * the launched targets are gone. */
void guardian_give_fd(int fd, int notify_fd);
/* A call the runner holds on the listener given as the index-th. */
void guardian_held(int fd, unsigned index, uint64_t id);
void guardian_done(int fd);
