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
/* The prefilter (NET_FAST_RULES), written by the loader after the load:
 * rules accepting each protocol class, rules without a destination or a
 * source port list; the port arrays hold the rules whose list has that
 * port. */
__u64 proto_mask[NET_PCLASSES] = {};
__u64 dport_any = 0, sport_any = 0, dst_any = 0, src_any = 0;

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, NET_MAX_CIDRS * NET_FAST_RULES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct net_plpm4);
        __type(value, __u64);
} sabot_pdst4 SEC(".maps"), sabot_psrc4 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, NET_MAX_CIDRS * NET_FAST_RULES);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct net_plpm6);
        __type(value, __u64);
} sabot_pdst6 SEC(".maps"), sabot_psrc6 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 65536);
        __uint(map_flags, BPF_F_MMAPABLE);
        __type(key, __u32);
        __type(value, __u64);
} sabot_dport SEC(".maps"), sabot_sport SEC(".maps");

/* The lowest set bit's index, by de Bruijn multiplication. */
static const __u8 debruijn[64] = {
        0,  1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,  62, 55, 59, 36, 53, 51,
        43, 22, 45, 39, 33, 30, 24, 18, 12, 5,  63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
        44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,  6};

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
        __u64 mask; /* the prefilter's candidates left */
        int verdict, decided;
};

static __always_inline int matches(struct __sk_buff *skb, struct pkt *p, const struct net_rule *r, __u32 id) {
        if (r->proto != NET_PROTO_ANY) {
                __u8 want = r->proto;
                if (r->proto == NET_PROTO_ICMP && p->family == 6)
                        want = IPPROTO_ICMPV6;
                if (p->l4proto != want || (r->proto == NET_PROTO_ICMPV6 && p->family != 6))
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

/* One rule: 1 when its action fired (the verdict is in w), else 0 (the
 * next rule decides). */
static __always_inline int check_rule(struct walk *w, __u32 id, int prefiltered) {
        const struct net_rule *r = bpf_map_lookup_elem(&sabot_rules, &id);
        if (!r)
                return 0;
        /* The prefilter is exact on protocol, ports and CIDRs: only the
         * cgroup is left to check. */
        if (prefiltered ? r->cgroup_id && bpf_skb_ancestor_cgroup_id(w->skb, (int)r->cgroup_level) != r->cgroup_id
                        : !matches(w->skb, w->p, r, id))
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
        w->decided = 1;
        return 1;
}

/* The prefilter's candidates, lowest (first in file order) first: the
 * first rule whose action fires decides; one that matches but whose draw
 * spares the packet leaves it to the next. */
static long fast_step(__u32 i, void *ctx) {
        struct walk *w = ctx;
        (void)i;
        if (!w->mask)
                return 1;
        __u64 low = w->mask & -w->mask;
        w->mask &= w->mask - 1;
        return check_rule(w, debruijn[(low * 0x03f79d71b4cb0a89ULL) >> 58], 1);
}

/* Rules past the prefilter's, one by one. */
static long rule_step(__u32 i, void *ctx) {
        struct walk *w = ctx;
        __u64 word = (i + NET_FAST_RULES) / 64;
        /* Keep the bound the verifier needs where clang would fold it away. */
        asm volatile("" : "+r"(word));
        if (word >= NET_RULE_WORDS)
                return 1;
        __u32 id = i + NET_FAST_RULES;
        if (!(enabled[word] >> (id % 64) & 1))
                return 0;
        return check_rule(w, id, 0);
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
        __u32 pc = p.l4proto == IPPROTO_TCP ? 1 : p.l4proto == IPPROTO_UDP ? 2 :
                   p.family == 4 && p.l4proto == IPPROTO_ICMP ? 3 : p.family == 6 && p.l4proto == IPPROTO_ICMPV6 ? 4 : 0;
        w.mask = enabled[0] & proto_mask[pc & (NET_PCLASSES - 1)];
        if (w.mask) {
                __u32 dp = p.dport, sp = p.sport;
                __u64 *d = bpf_map_lookup_elem(&sabot_dport, &dp), *s = bpf_map_lookup_elem(&sabot_sport, &sp);
                w.mask &= ((d ? *d : 0) | dport_any) & ((s ? *s : 0) | sport_any);
        }
        /* One lookup per address, only when a candidate has a CIDR list. */
        if (w.mask & ~dst_any) {
                __u64 *m;
                if (p.family == 4) {
                        struct net_plpm4 k = {.prefixlen = 32};
                        __builtin_memcpy(k.addr, p.dst4.addr, 4);
                        m = bpf_map_lookup_elem(&sabot_pdst4, &k);
                } else {
                        struct net_plpm6 k = {.prefixlen = 128};
                        __builtin_memcpy(k.addr, p.dst6.addr, 16);
                        m = bpf_map_lookup_elem(&sabot_pdst6, &k);
                }
                w.mask &= (m ? *m : 0) | dst_any;
        }
        if (w.mask & ~src_any) {
                __u64 *m;
                if (p.family == 4) {
                        struct net_plpm4 k = {.prefixlen = 32};
                        __builtin_memcpy(k.addr, p.src4.addr, 4);
                        m = bpf_map_lookup_elem(&sabot_psrc4, &k);
                } else {
                        struct net_plpm6 k = {.prefixlen = 128};
                        __builtin_memcpy(k.addr, p.src6.addr, 16);
                        m = bpf_map_lookup_elem(&sabot_psrc6, &k);
                }
                w.mask &= (m ? *m : 0) | src_any;
        }
        if (w.mask)
                bpf_loop(NET_FAST_RULES, fast_step, &w, 0);
        if (!w.decided && n_rules > NET_FAST_RULES)
                bpf_loop(n_rules - NET_FAST_RULES, rule_step, &w, 0);
        return w.verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
