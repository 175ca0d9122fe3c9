/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "../agent/parse.h"
#include <linux/types.h>

#include "../bpf/net_filter.h"

struct net_filter_bpf;

/* What one network fault's classifier matches and does. */
struct net_filter_spec {
        enum net_action action;
        ratio_t probability; /* RATIO_ONE: every matching packet */
        ratio_t correlation; /* of each draw with the previous one */
        uint32_t l3_offset;  /* 14 on Ethernet, 0 on L3 devices */
        const struct cidr_list *dst, *src;
        const struct port_list *dport, *sport;
        int protocol; /* enum protocol of the scenario language */
        const struct port_list *protected_ports;
        uint64_t cgroup_id; /* egress only; 0 = any */
        uint32_t cgroup_level;
};

/* Open, configure and load the classifier into the kernel (not attached).
 * Returns 0 or a negative errno; -E2BIG when the spec has more entries than
 * the program holds. */
int net_filter_load(const struct net_filter_spec *spec, struct net_filter_bpf **ret);
int net_filter_prog_fd(struct net_filter_bpf *skel);
/* The loaded program's id (what a tc filter dump names it by). */
int net_filter_prog_id(struct net_filter_bpf *skel, uint32_t *ret);
/* Sum of the per-CPU counters, indexed by enum net_counter. */
int net_filter_counters(struct net_filter_bpf *skel, uint64_t ret[_NET_COUNTERS]);
void net_filter_free(struct net_filter_bpf *skel);
