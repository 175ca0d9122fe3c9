/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "util.h"

/* Where sabot keeps its state: the persistent state dir (the disarm latch,
 * reports) and the runtime run dir (journals, the run lock). */
struct dirs {
        const char *state; /* default /var/lib/sabot */
        const char *run;   /* default /run/sabot */
};

/* The disarm latch: while set, no run starts. Survives reboots. */
int latch_set(const struct dirs *d, const char *reason);
int latch_clear(const struct dirs *d);
/* 1 and the reason/time text when disarmed, 0 when armed. */
int latch_get(const struct dirs *d, char *ret_reason, size_t len);

/* One run per host: an exclusive lock on RUN_DIR/lock, held by the runner
 * and inherited by its guardian. -EBUSY with the holder's pid when taken. */
int run_lock(const struct dirs *d, int *ret_fd, pid_t *ret_holder);

int mkdir_p(const char *path, mode_t mode);
