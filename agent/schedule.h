/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../faults/fault.h"
#include "scenario.h"

/* The run's schedule: a min-heap of (next due, fault) over the run's
 * fault_runs, so that finding what is due costs log(n) however many faults
 * the scenario holds. It reads the fault_runs and never changes them: what
 * is due for a fault follows from its state (pending: its window's start;
 * active: its next strike, else its window's end), so a fault that moved
 * on in between (reverted early, failed, skipped) is dropped when met.
 * Times are nanoseconds since the faults' start. */

/* What is due for a fault at its next moment. */
enum sched_due { SCHED_START, SCHED_STRIKE, SCHED_END };

struct sched_ent {
        uint64_t t;
        size_t i;
};

struct schedule {
        const struct scenario *s;
        const struct fault_run *fr; /* s->n_faults of them */
        struct sched_ent *heap;     /* NULL until built */
        size_t n;
};

/* When fr is next due, and what is due then; false when nothing more is
 * (done, failed, skipped). ret_what may be NULL. */
bool schedule_fault_next(const struct scenario *s, const struct fault_run *fr, uint64_t *ret_t,
                         enum sched_due *ret_what);
/* Build the heap over fr (s->n_faults of them) as they are now; again is
 * a no-op. */
int schedule_build(struct schedule *sc, const struct scenario *s, const struct fault_run *fr);
/* The earliest moment anything is due; false when nothing is. */
bool schedule_next(struct schedule *sc, uint64_t *ret_t);
/* Take the earliest fault due at or before now: its index and what is due.
 * Once the caller has acted on it, schedule_push puts it back at its next
 * moment (if it has one). */
bool schedule_take(struct schedule *sc, uint64_t now, size_t *ret_i, enum sched_due *ret_what);
void schedule_push(struct schedule *sc, size_t i);
void schedule_free(struct schedule *sc);
