/* SPDX-License-Identifier: MIT */
#pragma once

#include "slo.h"

/* The SLO guard's judgement on its own: no probe, no clock (times are
 * CLOCK_MONOTONIC ns given by the caller), so that it can be tried on
 * samples made up for the purpose. */

/* Append a sample to st (fail: what a failed one saw, NULL if ok) and
 * follow its healthy streak (healthy_since_ns, fail): for the steady
 * state, a sample is healthy if it is ok and no slower than max_latency. */
void slo_status_add(struct slo_status *st, const struct slo_sample *s, const char *fail);
/* Judge st at now over its SLO's window: verdict, why, value and
 * threshold. Samples older than the window, or from before epoch_ns (when
 * steady state was reached: the faults are judged on a clean window), do
 * not count; fewer than min_samples leave it unknown. */
void slo_judge(struct slo_status *st, uint64_t epoch_ns, uint64_t now);
/* Whether st's healthy streak has lasted need_ns at now, from one sample
 * to the next at least. */
bool slo_steady_held(const struct slo_status *st, uint64_t need_ns, uint64_t now);
