/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The network-fault classifier: decides, per packet on one interface and
 * direction, whether a fault applies. Protected ports are excluded before
 * anything else so that the SSH kill switch always gets through. Only UAPI
 * headers: a tc program needs no kernel structs. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "net_filter.h"

/* Set by the loader between open and load. */
const volatile __u32 action = NET_ACT_DROP;
const volatile __u32 probability = 1000000000U; /* parts per billion */
/* How much each packet's random draw leans on the previous one, as netem's
 * correlated loss: r = (1 - c) * U + c * last. Parts per billion. */
const volatile __u32 correlation = 0;
const volatile __u32 l3_offset = ETH_HLEN;        /* 0 on devices without L2 */
const volatile __u32 match_cidrs = 0;             /* NET_MATCH_* */
const volatile __u32 proto = NET_PROTO_ANY;
const volatile __u32 n_protected = 0;
const volatile struct net_port_range protected_ports[NET_MAX_PROTECTED] = {};
const volatile __u32 n_dport = 0, n_sport = 0;
const volatile struct net_port_range dports[NET_MAX_PORT_RANGES] = {};
const volatile struct net_port_range sports[NET_MAX_PORT_RANGES] = {};
/* Egress only: traffic of this cgroup (or below it); 0 = any. */
const volatile __u64 cgroup_id = 0;
const volatile __u32 cgroup_level = 0;

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, NET_MAX_CIDRS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct net_lpm4);
        __type(value, __u8);
} sabot_dst4 SEC(".maps"), sabot_src4 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, NET_MAX_CIDRS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct net_lpm6);
        __type(value, __u8);
} sabot_dst6 SEC(".maps"), sabot_src6 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u64);
} sabot_last SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _NET_COUNTERS);
        __type(key, __u32);
        __type(value, __u64);
} sabot_counters SEC(".maps");

static __always_inline void count(__u32 which) {
        __u64 *v = bpf_map_lookup_elem(&sabot_counters, &which);
        if (v)
                *v += 1;
}

struct pkt {
        __u8 family; /* 4 or 6, 0 = not IP */
        __u8 l4proto;
        __u16 sport, dport; /* host order; 0 when unknown (fragments, other protocols) */
        struct net_lpm4 src4, dst4;
        struct net_lpm6 src6, dst6;
};

/* -1: a packet no fault may touch (not IP, neighbour discovery, or too
 * short to read). */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p) {
        __u32 off = l3_offset;
        __u32 l4off;
        if (skb->protocol == bpf_htons(ETH_P_IP)) {
                struct iphdr ip;
                if (bpf_skb_load_bytes(skb, off, &ip, sizeof ip) < 0 || ip.ihl < 5)
                        return -1;
                p->family = 4;
                p->l4proto = ip.protocol;
                __builtin_memcpy(p->src4.addr, &ip.saddr, 4);
                __builtin_memcpy(p->dst4.addr, &ip.daddr, 4);
                /* Non-first fragments carry no L4 header. */
                if (ip.frag_off & bpf_htons(0x1fff))
                        return 0;
                l4off = off + ip.ihl * 4;
        } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
                struct ipv6hdr ip6;
                if (bpf_skb_load_bytes(skb, off, &ip6, sizeof ip6) < 0)
                        return -1;
                p->family = 6;
                /* Extension headers are not walked: their ports stay unknown,
                 * which only narrows port matches. */
                p->l4proto = ip6.nexthdr;
                __builtin_memcpy(p->src6.addr, &ip6.saddr, 16);
                __builtin_memcpy(p->dst6.addr, &ip6.daddr, 16);
                l4off = off + sizeof ip6;
                /* Neighbour discovery and router advertisements (ICMPv6
                 * 133-137, RFC 4861) are IPv6's ARP: without them no
                 * address resolves once the neighbour entry expires, and
                 * SSH to a protected port dies with everything else. */
                if (ip6.nexthdr == IPPROTO_ICMPV6) {
                        __u8 type;
                        if (bpf_skb_load_bytes(skb, l4off, &type, 1) == 0 && type >= NET_ICMP6_ND_FIRST &&
                            type <= NET_ICMP6_ND_LAST)
                                return -1;
                }
        } else
                return -1; /* ARP and every other non-IP ethertype */

        if (p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP) {
                __be16 ports[2];
                if (bpf_skb_load_bytes(skb, l4off, ports, sizeof ports) == 0) {
                        p->sport = bpf_ntohs(ports[0]);
                        p->dport = bpf_ntohs(ports[1]);
                }
        }
        return 0;
}

static __always_inline int in_ranges(__u16 port, const volatile struct net_port_range *r, __u32 n) {
        for (__u32 i = 0; i < NET_MAX_PORT_RANGES; i++) {
                if (i >= n)
                        break;
                if (port >= r[i].lo && port <= r[i].hi)
                        return 1;
        }
        return 0;
}

static __always_inline int port_protected(__u16 port) {
        return port && in_ranges(port, protected_ports, n_protected);
}

static __always_inline int matches(struct __sk_buff *skb, struct pkt *p) {
        if (proto != NET_PROTO_ANY) {
                __u8 want = proto;
                if (proto == NET_PROTO_ICMP && p->family == 6)
                        want = IPPROTO_ICMPV6;
                if (p->l4proto != want)
                        return 0;
        }
        if (n_dport && !in_ranges(p->dport, dports, n_dport))
                return 0;
        if (n_sport && !in_ranges(p->sport, sports, n_sport))
                return 0;
        if (p->family == 4) {
                p->dst4.prefixlen = p->src4.prefixlen = 32;
                if ((match_cidrs & NET_MATCH_DST) && !bpf_map_lookup_elem(&sabot_dst4, &p->dst4))
                        return 0;
                if ((match_cidrs & NET_MATCH_SRC) && !bpf_map_lookup_elem(&sabot_src4, &p->src4))
                        return 0;
        } else {
                p->dst6.prefixlen = p->src6.prefixlen = 128;
                if ((match_cidrs & NET_MATCH_DST) && !bpf_map_lookup_elem(&sabot_dst6, &p->dst6))
                        return 0;
                if ((match_cidrs & NET_MATCH_SRC) && !bpf_map_lookup_elem(&sabot_src6, &p->src6))
                        return 0;
        }
        if (cgroup_id && bpf_skb_ancestor_cgroup_id(skb, (int)cgroup_level) != cgroup_id)
                return 0;
        return 1;
}

/* Not ours: let the next filter on the hook decide. TC_ACT_OK would end
 * classification and bypass filters that other owners attached after us. */
#define PASS TC_ACT_UNSPEC

SEC("tc")
int sabot_net(struct __sk_buff *skb) {
        struct pkt p = {};
        count(NET_SEEN);
        if (parse(skb, &p) < 0)
                return action == NET_ACT_CLASSIFY ? 0 : PASS;
        if (port_protected(p.sport) || port_protected(p.dport)) {
                count(NET_PROTECTED);
                return action == NET_ACT_CLASSIFY ? 0 : PASS;
        }
        if (!matches(skb, &p))
                return action == NET_ACT_CLASSIFY ? 0 : PASS;
        count(NET_MATCHED);
        if (probability < 1000000000U) {
                /* Uniform in [0, 10^9): scale the 32-bit random number. */
                __u64 r = ((__u64)bpf_get_prandom_u32() * 1000000000ULL) >> 32;
                if (correlation) {
                        __u32 zero = 0;
                        __u64 *last = bpf_map_lookup_elem(&sabot_last, &zero);
                        if (last) {
                                r = ((1000000000ULL - correlation) * r + (__u64)correlation * *last) / 1000000000ULL;
                                *last = r;
                        }
                }
                if (r >= probability)
                        return action == NET_ACT_CLASSIFY ? 0 : PASS;
        }
        count(NET_ACTED);
        if (action == NET_ACT_CLASSIFY)
                return 1; /* non-zero: the filter's actions (mirred) run */
        return TC_ACT_STOLEN;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
