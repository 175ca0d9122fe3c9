/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by bpf/net_filter.bpf.c and faults/net_filter_loader.c. */
#pragma once

#define NET_MAX_PORT_RANGES 16
#define NET_MAX_PROTECTED 16
#define NET_MAX_CIDRS 64

/* ICMPv6 router solicitation .. redirect: always passed. */
#define NET_ICMP6_ND_FIRST 133
#define NET_ICMP6_ND_LAST 137

/* What the classifier does with a matching packet. */
enum net_action {
        /* direct-action: drop with TC_ACT_STOLEN (silent, like real loss;
         * TC_ACT_SHOT would report a local drop to the sender) */
        NET_ACT_DROP = 0,
        /* classic mode: return non-zero so the filter's mirred action
         * redirects the packet to the netem ifb */
        NET_ACT_CLASSIFY = 1,
};

enum net_proto {
        NET_PROTO_ANY = 0,
        NET_PROTO_TCP = 6,
        NET_PROTO_UDP = 17,
        NET_PROTO_ICMP = 1, /* ICMPv6 (58) too for IPv6 packets */
};

/* Which CIDR tries take part: a packet must match every list that is set. */
#define NET_MATCH_DST (1U << 0)
#define NET_MATCH_SRC (1U << 1)

struct net_lpm4 {
        __u32 prefixlen;
        __u8 addr[4];
};

struct net_lpm6 {
        __u32 prefixlen;
        __u8 addr[16];
};

struct net_port_range {
        __u16 lo, hi;
};

/* Counters, per CPU. */
enum net_counter { NET_SEEN, NET_PROTECTED, NET_MATCHED, NET_ACTED, _NET_COUNTERS };
