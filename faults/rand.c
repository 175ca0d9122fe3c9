/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rand.h"

static uint64_t st[4];
static bool seeded;

/* splitmix64: spreads one 64-bit seed over the four words (never all zero). */
static uint64_t splitmix64(uint64_t *x) {
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

int rand_seed(uint64_t seed) {
        int r = 0;
        if (!seed) {
                ssize_t n = getrandom(&seed, sizeof seed, GRND_NONBLOCK);
                if (n != (ssize_t)sizeof seed) {
                        r = n < 0 ? -errno : -EIO;
                        struct timespec t;
                        clock_gettime(CLOCK_MONOTONIC, &t);
                        seed = ((uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec) ^
                               ((uint64_t)getpid() << 32);
                }
        }
        for (int i = 0; i < 4; i++)
                st[i] = splitmix64(&seed);
        seeded = true;
        return r;
}

uint64_t rand_u64(void) {
        if (!seeded)
                (void)rand_seed(0);
        uint64_t out = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
        st[2] ^= st[0];
        st[3] ^= st[1];
        st[1] ^= st[2];
        st[0] ^= st[3];
        st[2] ^= t;
        st[3] = rotl(st[3], 45);
        return out;
}

/* Lemire's multiply-and-reject: the low word of x * n decides whether a
 * draw fell in the short, biased stretch. */
uint32_t rand_below(uint32_t n) {
        if (!n)
                return 0;
        uint64_t m = (uint64_t)(uint32_t)(rand_u64() >> 32) * n;
        if ((uint32_t)m < n) {
                uint32_t floor = (uint32_t)-n % n;
                while ((uint32_t)m < floor)
                        m = (uint64_t)(uint32_t)(rand_u64() >> 32) * n;
        }
        return (uint32_t)(m >> 32);
}

bool rand_chance(ratio_t p) { return p >= RATIO_ONE || rand_below(RATIO_ONE) < p; }
