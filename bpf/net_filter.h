/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by bpf/net_filter.bpf.c and faults/net_filter_loader.c. */
#pragma once

#define NET_MAX_PORT_RANGES 16
#define NET_MAX_PROTECTED 16
#define NET_MAX_CIDRS 64
/* Rules (faults) one classifier holds: one classifier per interface and
 * direction holds every network fault of the run there. */
#define NET_MAX_RULES 1024
#define NET_RULE_WORDS (NET_MAX_RULES / 64)
/* The first 64 rules of a classifier have a prefilter: bitmaps by
 * protocol, destination and source port (one lookup each) select the
 * rules a packet may match, and only those are checked. Rules past the
 * 64th are checked one by one. */
#define NET_FAST_RULES 64
/* Protocol classes of the prefilter: other, tcp, udp, icmp, icmpv6 (a
 * power of two: the index is masked). */
#define NET_PCLASSES 8

/* ICMPv6 router solicitation .. redirect: always passed. */
#define NET_ICMP6_ND_FIRST 133
#define NET_ICMP6_ND_LAST 137

/* What a rule does with a matching packet. */
enum net_action {
        /* drop with TC_ACT_STOLEN (silent, like real loss; TC_ACT_SHOT
         * would report a local drop to the sender) */
        NET_ACT_DROP = 0,
        /* redirect (bpf_redirect, egress) to the rule's sabot ifb, whose
         * netem root disturbs it */
        NET_ACT_CLASSIFY = 1,
};

enum net_proto {
        NET_PROTO_ANY = 0,
        NET_PROTO_TCP = 6,
        NET_PROTO_UDP = 17,
        NET_PROTO_ICMP = 1, /* ICMPv6 (58) too for IPv6 packets */
        NET_PROTO_ICMPV6 = 58, /* IPv6 packets only */
};

/* Which CIDR tries take part: a packet must match every list that is set. */
#define NET_MATCH_DST (1U << 0)
#define NET_MATCH_SRC (1U << 1)

/* The tries hold every rule's CIDRs, each under its rule's number: the
 * first 32 bits of every prefix are the rule, so a lookup finds only that
 * rule's entries. */
struct net_lpm4 {
        __u32 prefixlen; /* 32 + the CIDR's */
        __u32 rule;
        __u8 addr[4];
};

struct net_lpm6 {
        __u32 prefixlen;
        __u32 rule;
        __u8 addr[16];
};

/* The prefilter's tries: every CIDR of the first NET_FAST_RULES rules,
 * each with the rules whose list contains it (a lookup of an address
 * finds the longest CIDR holding it, whose value is every rule with a
 * CIDR holding the address). */
struct net_plpm4 {
        __u32 prefixlen;
        __u8 addr[4];
};

struct net_plpm6 {
        __u32 prefixlen;
        __u8 addr[16];
};

struct net_port_range {
        __u16 lo, hi;
};

/* One fault's rule: what it matches and what it does. */
struct net_rule {
        __u32 action;      /* enum net_action */
        __u32 ifindex;     /* NET_ACT_CLASSIFY: the ifb to redirect to */
        __u32 probability; /* parts per billion */
        /* How much each packet's random draw leans on the previous one, as
         * netem's correlated loss: r = (1 - c) * U + c * last. */
        __u32 correlation;
        __u32 match_cidrs; /* NET_MATCH_* */
        __u32 proto;       /* enum net_proto */
        __u32 n_dport, n_sport;
        struct net_port_range dports[NET_MAX_PORT_RANGES];
        struct net_port_range sports[NET_MAX_PORT_RANGES];
        /* Egress only: traffic of this cgroup (or below it); 0 = any. */
        __u64 cgroup_id;
        __u32 cgroup_level;
        __u32 pad;
};

/* Counters, per CPU: the classifier's (seen, protected) at index 0 and 1,
 * then each rule's matched and acted at NET_RULE_COUNTER(rule, which). */
enum net_counter { NET_SEEN, NET_PROTECTED, NET_MATCHED, NET_ACTED, _NET_COUNTERS };
#define NET_RULE_COUNTER(rule, which) (2 + (rule) * 2 + ((which) - NET_MATCHED))
#define NET_N_COUNTERS (2 + NET_MAX_RULES * 2)
