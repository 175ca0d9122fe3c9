/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../agent/parse.h"

/* A user-space PRNG for fault decisions (xoshiro256**, 2^256 - 1 period),
 * seeded once per process from getrandom(2): a draw makes no system call
 * (glibc 2.36's arc4random makes one every time). Not for secrets. The
 * state is per process and not locked: one thread draws. A child forked
 * after the first draw repeats its parent's stream unless it reseeds. */

/* 64 uniform bits. Seeds itself on first use. */
uint64_t rand_u64(void);
/* Uniform in [0, n), no modulo bias; 0 when n is 0. */
uint32_t rand_below(uint32_t n);
/* True with probability p / RATIO_ONE: always at RATIO_ONE, never at 0. */
bool rand_chance(ratio_t p);
/* Reseed: from getrandom(2) when seed is 0 (what the first draw does;
 * 0 if it worked, else -errno and a clock-and-pid seed), or from the given
 * value, reproducibly (tests). */
int rand_seed(uint64_t seed);
