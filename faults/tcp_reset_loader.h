/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../agent/parse.h"
#include <linux/types.h>

#include "../bpf/tcp_reset.h"

struct tcp_reset_bpf;

/* What one tcp-reset fault's program matches. */
struct tcp_reset_spec {
        ratio_t probability; /* of connections; RATIO_ONE: every one */
        uint32_t seed;       /* of the connections' hash */
        uint32_t l3_offset;  /* 14 on Ethernet, 0 on L3 devices */
        bool egress;
        const struct cidr_list *dst, *src;
        const struct port_list *dport, *sport;
        const struct port_list *protected_ports;
        uint64_t cgroup_id; /* 0 = any */
        uint32_t cgroup_level;
};

/* Open, configure and load the program (not attached): 0 or a negative
 * errno; -E2BIG when the spec has more entries than it holds. */
int tcp_reset_load(const struct tcp_reset_spec *spec, struct tcp_reset_bpf **ret);
int tcp_reset_prog_fd(struct tcp_reset_bpf *skel);
int tcp_reset_prog_id(struct tcp_reset_bpf *skel, uint32_t *ret);
/* The program an ingress fault attaches on egress too: it learns each
 * socket's rcv_nxt from its ACKs (bpf/tcp_reset.bpf.c). */
int tcp_reset_learn_fd(struct tcp_reset_bpf *skel);
int tcp_reset_id_of(int prog_fd, uint32_t *ret);
/* Sum of the per-CPU counters, indexed by enum tr_counter. */
int tcp_reset_counters(struct tcp_reset_bpf *skel, uint64_t ret[_TR_COUNTERS]);
void tcp_reset_free(struct tcp_reset_bpf *skel);
