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

/* Set by the loader between open and load: the interface's and the run's. */
const volatile __u32 l3_offset = ETH_HLEN; /* 0 on devices without L2 */
const volatile __u32 n_rules = 0;          /* rules 0 .. n_rules-1 are configured */
/* Classic mode (a netem kind's own filter, whose act_mirred redirects):
 * 0 for no match, 1 for a match, in place of the verdicts. From the
 * egress hook a bpf_redirect to an ifb is dropped by the ifb (it wants
 * skb_iif, which only act_mirred sets). */
const volatile __u32 classic = 0;
const volatile __u32 n_protected = 0;
const volatile struct net_port_range protected_ports[NET_MAX_PROTECTED] = {};

/* Which rules are on: a fault's window opening sets its bit, closing
 * clears it (user space writes the mmap'd .bss). All zero: every packet
 * passes after one load. */
__u64 enabled[NET_RULE_WORDS] = {};

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, NET_MAX_RULES);
        __type(key, __u32);
        __type(value, struct net_rule);
} sabot_rules SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, NET_MAX_CIDRS * NET_MAX_RULES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct net_lpm4);
        __type(value, __u8);
} sabot_dst4 SEC(".maps"), sabot_src4 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, NET_MAX_CIDRS * NET_MAX_RULES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct net_lpm6);
        __type(value, __u8);
} sabot_dst6 SEC(".maps"), sabot_src6 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, NET_MAX_RULES);
        __type(key, __u32);
        __type(value, __u64);
} sabot_last SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, NET_N_COUNTERS);
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

static __always_inline int rule_ranges(__u16 port, const struct net_port_range *r, __u32 n) {
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

struct walk {
        struct __sk_buff *skb;
        struct pkt *p;
        int verdict;
};

static __always_inline int matches(struct __sk_buff *skb, struct pkt *p, const struct net_rule *r, __u32 id) {
        if (r->proto != NET_PROTO_ANY) {
                __u8 want = r->proto;
                if (r->proto == NET_PROTO_ICMP && p->family == 6)
                        want = IPPROTO_ICMPV6;
                if (p->l4proto != want)
                        return 0;
        }
        if (r->n_dport && !rule_ranges(p->dport, r->dports, r->n_dport))
                return 0;
        if (r->n_sport && !rule_ranges(p->sport, r->sports, r->n_sport))
                return 0;
        if (r->match_cidrs) {
                if (p->family == 4) {
                        p->dst4.rule = p->src4.rule = id;
                        if ((r->match_cidrs & NET_MATCH_DST) && !bpf_map_lookup_elem(&sabot_dst4, &p->dst4))
                                return 0;
                        if ((r->match_cidrs & NET_MATCH_SRC) && !bpf_map_lookup_elem(&sabot_src4, &p->src4))
                                return 0;
                } else {
                        p->dst6.rule = p->src6.rule = id;
                        if ((r->match_cidrs & NET_MATCH_DST) && !bpf_map_lookup_elem(&sabot_dst6, &p->dst6))
                                return 0;
                        if ((r->match_cidrs & NET_MATCH_SRC) && !bpf_map_lookup_elem(&sabot_src6, &p->src6))
                                return 0;
                }
        }
        if (r->cgroup_id && bpf_skb_ancestor_cgroup_id(skb, (int)r->cgroup_level) != r->cgroup_id)
                return 0;
        return 1;
}

/* Not ours: let the next filter on the hook decide. TC_ACT_OK would end
 * classification and bypass filters that other owners attached after us. */
#define PASS TC_ACT_UNSPEC

/* One rule, in file order: the first whose action fires decides; one that
 * matches but whose draw spares the packet leaves it to the next. */
static long rule_step(__u32 i, void *ctx) {
        struct walk *w = ctx;
        __u64 word = i / 64;
        /* Keep the bound the verifier needs where clang would fold it away. */
        asm volatile("" : "+r"(word));
        if (word >= NET_RULE_WORDS)
                return 1;
        __u32 id = i;
        if (!(enabled[word] >> (i % 64) & 1))
                return 0;
        const struct net_rule *r = bpf_map_lookup_elem(&sabot_rules, &id);
        if (!r || !matches(w->skb, w->p, r, id))
                return 0;
        count(NET_RULE_COUNTER(id, NET_MATCHED));
        if (r->probability < 1000000000U) {
                /* Uniform in [0, 10^9): scale the 32-bit random number. */
                __u64 x = ((__u64)bpf_get_prandom_u32() * 1000000000ULL) >> 32;
                if (r->correlation) {
                        __u64 *last = bpf_map_lookup_elem(&sabot_last, &id);
                        if (last) {
                                x = ((1000000000ULL - r->correlation) * x + (__u64)r->correlation * *last) / 1000000000ULL;
                                *last = x;
                        }
                }
                if (x >= r->probability)
                        return 0;
        }
        count(NET_RULE_COUNTER(id, NET_ACTED));
        if (classic)
                w->verdict = 1;
        else if (r->action == NET_ACT_CLASSIFY)
                w->verdict = (int)bpf_redirect(r->ifindex, 0);
        else
                w->verdict = TC_ACT_STOLEN;
        return 1;
}

SEC("tc")
int sabot_net(struct __sk_buff *skb) {
        struct pkt p = {};
        count(NET_SEEN);
        /* The prefilter: no window open on this hook. */
        __u64 any = 0;
        for (int k = 0; k < NET_RULE_WORDS; k++)
                any |= enabled[k];
        if (!any)
                return classic ? 0 : PASS;
        if (parse(skb, &p) < 0)
                return classic ? 0 : PASS;
        if (port_protected(p.sport) || port_protected(p.dport)) {
                count(NET_PROTECTED);
                return classic ? 0 : PASS;
        }
        if (p.family == 4) {
                p.dst4.prefixlen = p.src4.prefixlen = 64;
        } else {
                p.dst6.prefixlen = p.src6.prefixlen = 160;
        }
        struct walk w = {.skb = skb, .p = &p, .verdict = classic ? 0 : PASS};
        bpf_loop(n_rules, rule_step, &w, 0);
        return w.verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
