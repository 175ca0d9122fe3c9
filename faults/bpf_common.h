/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

struct bpf_map;

/* Route libbpf's messages into sabot's log, one level lower than libbpf
 * rates them: its warnings are details of an error we report ourselves. */
void bpf_log_setup(void);

/* Sum a per-CPU array of n u64 counters into ret[0..n). */
int bpf_percpu_sum(const struct bpf_map *map, uint32_t n, uint64_t *ret);
