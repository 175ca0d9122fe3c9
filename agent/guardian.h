/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>


/* The guardian: a forked watchdog that reverts everything in the run's
 * journal when the runner dies (its pidfd reports the exit and its end of
 * the socket closes, even on SIGKILL), stops sending heartbeats for longer
 * than the grace period (hung, or SIGSTOPped), or outlives the hard
 * deadline plus grace. It reads only the journal file and the page of
 * seccomp ids it shares with the runner: nothing else of the runner's. It
 * reverts the kernel first, then ends the launched targets. */

#define GUARDIAN_HEARTBEAT_NS (100ULL * 1000 * 1000)
#define GUARDIAN_GRACE_NS (3ULL * 1000 * 1000 * 1000)
/* How long launched targets get between SIGTERM and SIGKILL, at the end of
 * a run and when the guardian ends them. */
#define TARGET_STOP_NS (2ULL * 1000 * 1000 * 1000)
/* What the hard deadline allows for reverting each fault at the end (a
 * netlink request and a journal record with its fdatasync, on a loaded
 * host): up to SCENARIO_MAX_FAULTS end together. */
#define FAULT_REVERT_NS (10ULL * 1000 * 1000)
/* How long launching one target may take (adopting its seccomp listener
 * waits up to 10 s for the exec). */
#define TARGET_LAUNCH_NS (11ULL * 1000 * 1000 * 1000)

/* deadline: CLOCK_MONOTONIC ns by which the run must be over. Returns the
 * runner's end of the socket, the guardian's pid, and the page shared with
 * it (fault_shared_size() bytes) where the runner records what the kinds'
 * fail_open must answer (the seccomp ids received: struct notify_shared). */
int guardian_spawn(const char *journal_path, uint64_t deadline_ns, uint64_t grace_ns, int *ret_fd, pid_t *ret_pid,
                   void **ret_shared);
/* A heartbeat; "done" tells it the runner reverted everything itself. */
void guardian_beat(int fd);
/* Move the hard deadline earlier (once the run knows its schedule); a later
 * one is ignored. */
void guardian_deadline(int fd, uint64_t deadline_ns);
/* Hand the guardian a duplicate of a seccomp listener: if the runner dies,
 * it answers every call the runner held or had received and every later
 * one with "continue" (fail open) until the launched targets are gone.
 * Listeners are numbered in the order given, from 0. */
int guardian_give_fd(int fd, int notify_fd);
/* Hand the guardian a duplicate of a file to hold open until it exits
 * (disk-fill's: its revert truncates the file through whichever fd it
 * finds, the guardian's own when the runner is gone, whatever the file's
 * name has become). */
int guardian_hold_fd(int fd, int file_fd);
void guardian_done(int fd);
