/* SPDX-License-Identifier: MIT */
#include <math.h>

#include "../../faults/rand.h"
#include "testutil.h"

/* |got - n p| within 4 standard deviations of a binomial(n, p). */
static void ck_binomial(long got, long n, double p, const char *what) {
        double mean = n * p, sd = sqrt(n * p * (1 - p));
        ck_assert_msg(fabs(got - mean) <= 4 * sd, "%s: %ld of %ld, want %.0f +- %.0f (4 sigma)", what, got, n, mean,
                      4 * sd);
}

START_TEST(test_seed_reproducible) {
        rand_seed(42);
        uint64_t a[8];
        for (int i = 0; i < 8; i++)
                a[i] = rand_u64();
        rand_seed(42);
        for (int i = 0; i < 8; i++)
                ck_assert_uint_eq(rand_u64(), a[i]);
        rand_seed(43);
        ck_assert_uint_ne(rand_u64(), a[0]);
        /* From getrandom(2): two seedings differ (2^-64 chance they do not). */
        ck_assert_int_eq(rand_seed(0), 0);
        uint64_t x = rand_u64();
        ck_assert_int_eq(rand_seed(0), 0);
        ck_assert_uint_ne(rand_u64(), x);
}
END_TEST

START_TEST(test_bits_uniform) {
        rand_seed(0);
        long ones[64] = {0}, n = 100000;
        for (long i = 0; i < n; i++) {
                uint64_t x = rand_u64();
                for (int b = 0; b < 64; b++)
                        ones[b] += (x >> b) & 1;
        }
        for (int b = 0; b < 64; b++)
                ck_binomial(ones[b], n, 0.5, "a bit set");
}
END_TEST

START_TEST(test_below_uniform) {
        rand_seed(0);
        /* 1e6 draws over 10 buckets: each bucket binomial(1e6, 0.1), and
         * the chi-square (9 degrees of freedom) under 33.7 (p = 1e-4). */
        long c[10] = {0}, n = 1000000;
        for (long i = 0; i < n; i++) {
                uint32_t v = rand_below(10);
                ck_assert_uint_lt(v, 10);
                c[v]++;
        }
        double chi = 0;
        for (int i = 0; i < 10; i++) {
                ck_binomial(c[i], n, 0.1, "a bucket of 10");
                chi += (c[i] - n / 10.0) * (c[i] - n / 10.0) / (n / 10.0);
        }
        ck_assert_msg(chi < 33.7, "chi-square %.1f over 10 buckets", chi);
        /* n = 3 * 2^30 is where a modulo would be biased most: the lower
         * third of the range would come twice as often. */
        uint32_t big = 3U << 30;
        long low = 0;
        for (long i = 0; i < n; i++)
                low += rand_below(big) < (1U << 30);
        ck_binomial(low, n, 1.0 / 3, "the lowest third of [0, 3*2^30)");
        ck_assert_uint_eq(rand_below(0), 0);
        ck_assert_uint_eq(rand_below(1), 0);
}
END_TEST

START_TEST(test_chance_ratio) {
        rand_seed(0);
        long n = 1000000;
        static const double ps[] = {0.3, 0.5, 0.01, 0.999};
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
                ratio_t p = (ratio_t)(ps[k] * RATIO_ONE + 0.5);
                long hits = 0;
                for (long i = 0; i < n; i++)
                        hits += rand_chance(p);
                char what[64];
                snprintf(what, sizeof what, "rand_chance(%g)", ps[k]);
                ck_binomial(hits, n, ps[k], what);
        }
        long never = 0, always = 0, tiny = 0;
        for (long i = 0; i < n; i++) {
                never += rand_chance(0);
                always += rand_chance(RATIO_ONE);
                tiny += rand_chance(1); /* one in a billion */
        }
        ck_assert_int_eq(never, 0);
        ck_assert_int_eq(always, n);
        ck_assert_int_le(tiny, 3); /* expected 0.001 */
}
END_TEST

int main(void) {
        Suite *s = suite_create("rand");
        TCase *tc = tcase_create("xoshiro");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_seed_reproducible);
        tcase_add_test(tc, test_bits_uniform);
        tcase_add_test(tc, test_below_uniform);
        tcase_add_test(tc, test_chance_ratio);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
