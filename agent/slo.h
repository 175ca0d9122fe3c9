/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "scenario.h"

/* The SLO guard: each [slo]'s probe on its interval, never blocking the run
 * loop (HTTP through libcurl's multi interface with its sockets in the
 * run's epoll, exec probes reaped through pidfds, PSI read from procfs),
 * and a judgement over each SLO's window. A probe that has not answered by
 * its timeout counts as a failure at its timeout. */

struct slo_guard;

/* At most this many samples count in a judgement, and the history for the
 * report holds at most SLO_HIST_MAX. */
#define SLO_RING_MAX 4096
#define SLO_HIST_MAX 1024

struct loop;
/* Called after the guard handled one of its loop events: sample when a
 * sample came in (a probe answered, failed or timed out) or one left a
 * window (the judgement may have changed: the moment to judge), else a
 * probe's progress or a wake-up asked for (slo_guard_wake_at). */
typedef void (*slo_event_fn)(void *ud, bool sample);

struct slo_sample {
        uint64_t t_ns; /* CLOCK_MONOTONIC when it finished */
        bool ok;
        uint64_t latency_ns;
        double value; /* psi: avg10 */
};

enum slo_verdict { SLO_UNKNOWN, SLO_HEALTHY, SLO_BREACHED };

struct slo_status {
        const struct slo *o;
        enum slo_verdict verdict;
        char why[256];
        double value, threshold;
        /* The samples the judgement needs: the last ones, as far back as
         * the window (at least two, at most SLO_RING_MAX), oldest first
         * from ring_head in a ring of ring_cap; read them through
         * slo_status_at. */
        struct slo_sample *ring;
        size_t ring_cap, ring_head, ring_len;
        size_t n_samples; /* every sample so far */
        /* For the report, a fixed-size history: every hist_every-th sample
         * (sample k*hist_every is hist[k]); when it fills, every other one
         * goes and hist_every doubles. */
        struct slo_sample *hist;
        size_t hist_len, hist_every;
        /* After the faults were reverted: when it was healthy again
         * (CLOCK_MONOTONIC ns), 0 if not (yet). */
        uint64_t recovered_ns;
        /* The steady-state phase: since when (CLOCK_MONOTONIC ns) every
         * sample was healthy, 0 if the last one was not (or none yet);
         * and what the last unhealthy sample saw. */
        uint64_t healthy_since_ns;
        char fail[128];
};

/* Whether s has http or prometheus SLOs, which need libcurl (curl_lib.h). */
bool slo_needs_curl(const struct scenario *s);
/* user: the unprivileged user exec probes run as. The guard watches its
 * timers, curl's sockets and exec probes' pidfds on l, and tells on_event. */
int slo_guard_new(const struct scenario *s, const char *user, struct loop *l, slo_event_fn on_event, void *ud,
                  struct slo_guard **ret);
void slo_guard_free(struct slo_guard *g);
/* Judge every SLO now; the first breached one, or NULL. */
const struct slo_status *slo_guard_judge(struct slo_guard *g);
/* Whether every SLO is judged healthy (enough samples, none breached). */
bool slo_guard_all_healthy(struct slo_guard *g, const struct slo_status **ret_unhealthy);
/* Steady state: whether every SLO has held continuously (every sample
 * healthy) for need_ns. If not, *ret_waiting is the first SLO whose last
 * sample was unhealthy, else the one healthy for the shortest time. When
 * it is reached, samples from before each SLO's healthy streak no longer
 * count in any judgement: the faults are judged on a clean window. */
bool slo_guard_steady(struct slo_guard *g, uint64_t need_ns, const struct slo_status **ret_waiting);
/* The same judgement, changing nothing (for the live view). */
bool slo_guard_steady_peek(const struct slo_guard *g, uint64_t need_ns, const struct slo_status **ret_waiting);
size_t slo_guard_count(const struct slo_guard *g);
/* Note, for each SLO not yet noted, whether it is healthy again now; true
 * when all are. */
bool slo_guard_note_recovery(struct slo_guard *g);
const struct slo_status *slo_guard_status(const struct slo_guard *g, size_t i);
/* Since when (CLOCK_MONOTONIC ns) samples count in the judgement: the
 * start of the healthy streak that made the steady state; 0 before. */
uint64_t slo_guard_epoch(const struct slo_guard *g, size_t i);
/* Judge the SLOs whose samples changed since they were last judged (the
 * others keep their verdict); the first breached one, or NULL. */
const struct slo_status *slo_guard_judge_changed(struct slo_guard *g);
/* Call on_event at CLOCK_MONOTONIC ns at (0: no such wake-up), for what
 * the caller waits for between samples (the steady state's moment). */
void slo_guard_wake_at(struct slo_guard *g, uint64_t at);
/* The i-th (0 = oldest) of the samples st holds for the judgement. */
struct slo_sample *slo_status_at(const struct slo_status *st, size_t i);
/* The report's samples, oldest first: the history older than what the
 * ring holds, then the ring; fn is called with each. */
void slo_status_each(const struct slo_status *st, void (*fn)(const struct slo_sample *s, void *ud), void *ud);
void slo_status_free(struct slo_status *st);
