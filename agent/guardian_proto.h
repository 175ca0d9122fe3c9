/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../faults/fault.h"

/* The runner-to-guardian protocol, on the SOCK_SEQPACKET pair made by
 * guardian_spawn: one message per send, its first byte the type, then
 * exactly the type's payload; a listener's fd rides along as SCM_RIGHTS.
 * The guardian dispatches through a table of {type, payload size, fd,
 * handler} (after OpenSSH monitor.c's mon_dispatch): a message that does
 * not match its entry (an unknown type, a short or long payload, an fd
 * where none belongs or none where one does) is refused and acted on in
 * no way, save that it shows the runner alive. Nothing flows back. */
enum guardian_msg {
        GUARDIAN_MSG_BEAT = 'h',     /* a heartbeat */
        GUARDIAN_MSG_DONE = 'q',     /* the runner reverted everything itself: exit, reverting nothing */
        GUARDIAN_MSG_DEADLINE = 'D', /* uint64_t, CLOCK_MONOTONIC ns: the hard deadline, if earlier */
        GUARDIAN_MSG_LISTENER = 'n', /* with an fd: a seccomp listener to answer if the runner dies */
        GUARDIAN_MSG_HOLD = 'F',     /* with an fd: a disk-fill's file, held open for its revert to truncate */
};

/* The longest message: a type and a deadline. */
#define GUARDIAN_MSG_MAX (1 + sizeof(uint64_t))
#define GUARDIAN_FDS_MAX FAULT_GIVEN_FDS_MAX

/* What the guardian knows of its runner. */
struct guardian_state {
        uint64_t deadline_ns; /* the hard deadline */
        uint64_t last_ns;     /* when the runner last sent anything */
        int fds[GUARDIAN_FDS_MAX]; /* listeners given, in order */
        size_t n_fds;
        /* Files held (disk-fill's): nothing reads them; the kind's revert
         * finds them among the guardian's own fds (/proc/self/fd). */
        int held[GUARDIAN_FDS_MAX];
        size_t n_held;
        unsigned refused;     /* messages that matched no entry */
};

enum guardian_recv {
        GUARDIAN_RECV_OK,      /* a message, acted on */
        GUARDIAN_RECV_REFUSED, /* a message, refused */
        GUARDIAN_RECV_AGAIN,   /* nothing to read (yet) */
        GUARDIAN_RECV_DONE,    /* the runner said it is done */
        GUARDIAN_RECV_EOF,     /* the runner's end is closed: it is gone */
};

/* Read one message from the runner's socket fd (without blocking) and act
 * on it through the table, at now. */
enum guardian_recv guardian_recv(int fd, struct guardian_state *st, uint64_t now);
