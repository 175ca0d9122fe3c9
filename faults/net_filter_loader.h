/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* One classifier for an interface and direction, holding every rule
 * (fault) of the run there, each off until net_classifier_set turns it on:
 * loaded at the run's preflight, a window's opening and closing are then
 * each one write to the program's memory. l3_offset and protected_ports
 * are the classifier's (rules[k]'s are not read). Returns 0 or a negative
 * errno; -E2BIG when a rule has more entries than the program holds, or
 * there are more than NET_MAX_RULES rules. */
int net_classifier_load(uint32_t l3_offset, const struct port_list *protected_ports,
                        const struct net_filter_spec *const *rules, size_t n, struct net_filter_bpf **ret);
/* Turn rule on with what spec says (its CIDRs, protocol and ports must be
 * those it was loaded with: the prefilter holds them; its packets go to redirect_ifindex for NET_ACT_CLASSIFY), or off
 * (spec NULL). One map update and one bit: a window's opening. */
int net_classifier_set(struct net_filter_bpf *skel, unsigned rule, const struct net_filter_spec *spec,
                       int redirect_ifindex);
/* The classifier's seen and protected counts and rule's matched and
 * acted, indexed by enum net_counter. */
int net_rule_counters(struct net_filter_bpf *skel, unsigned rule, uint64_t ret[_NET_COUNTERS]);

/* A classifier with the one rule spec, on: a netem kind's own filter
 * (NET_ACT_CLASSIFY: classic mode, 1 on a match for the filter's
 * act_mirred, else 0), probes and tests. */
int net_filter_load(const struct net_filter_spec *spec, struct net_filter_bpf **ret);
int net_filter_prog_fd(struct net_filter_bpf *skel);
/* The loaded program's id (what a tc filter dump names it by). */
int net_filter_prog_id(struct net_filter_bpf *skel, uint32_t *ret);
/* Seen and protected, and the sum over the rules of matched and acted. */
int net_filter_counters(struct net_filter_bpf *skel, uint64_t ret[_NET_COUNTERS]);
void net_filter_free(struct net_filter_bpf *skel);
