/* SPDX-License-Identifier: MIT */
/* Percentiles for the benchmarks. */
#pragma once

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int stats_cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* The p-th percentile (0..1) of n ns values, in ms; sorts v. With fewer
 * than 100 values a p99 is only the maximum: callers that print one say
 * how many trials it stands on (stats_p99_trustworthy). */
static inline double stats_pct_ms(uint64_t *v, int n, double p) {
        if (n <= 0)
                return 0;
        qsort(v, (size_t)n, sizeof *v, stats_cmp);
        return (double)v[(int)(p * (n - 1) + 0.5)] / 1e6;
}

/* Whether n trials are enough for a p99 that is not just the maximum. */
static inline int stats_p99_trustworthy(int n) { return n >= 100; }

/* Median and p99 of n ns values, in ms, without reordering v. */
static inline void stats_p50_p99_ms(const uint64_t *v, int n, double *ret_p50, double *ret_p99) {
        uint64_t *c = n > 0 ? malloc((size_t)n * sizeof *c) : NULL;
        if (!c) {
                *ret_p50 = *ret_p99 = 0;
                return;
        }
        memcpy(c, v, (size_t)n * sizeof *c);
        *ret_p50 = stats_pct_ms(c, n, 0.5);
        *ret_p99 = stats_pct_ms(c, n, 0.99);
        free(c);
}

/* Mean and the half-width of its 95% CI (Student's t, two-sided) of n
 * values (any unit). */
static inline void stats_mean_ci(const double *v, int n, double *ret_mean, double *ret_half) {
        static const double t975[] = {0, 12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16,
                                      2.14, 2.13, 2.12, 2.11, 2.10, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05,
                                      2.05, 2.05, 2.04};
        double m = 0, s = 0;
        for (int i = 0; i < n; i++)
                m += v[i];
        m /= n;
        for (int i = 0; i < n; i++)
                s += (v[i] - m) * (v[i] - m);
        double sd = n > 1 ? sqrt(s / (n - 1)) : 0;
        double t = n - 1 < (int)(sizeof t975 / sizeof *t975) ? t975[n - 1] : 1.96;
        *ret_mean = m;
        *ret_half = n > 1 ? t * sd / sqrt(n) : 0;
}
