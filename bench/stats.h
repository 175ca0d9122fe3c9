/* SPDX-License-Identifier: MIT */
/* Percentiles for the benchmarks. */
#pragma once

#include <stdint.h>
#include <stdlib.h>

static int stats_cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* The p-th percentile (0..1) of n ns values, in ms; sorts v. */
static inline double stats_pct_ms(uint64_t *v, int n, double p) {
        qsort(v, (size_t)n, sizeof *v, stats_cmp);
        return (double)v[(int)(p * (n - 1) + 0.5)] / 1e6;
}
