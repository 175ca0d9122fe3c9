/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The dns fault: on an interface's clsact egress hook, a DNS query over
 * UDP (IPv4 or IPv6) whose question is for a name under one of the
 * fault's domains is dropped (the client times out) or turned, in place,
 * into the response a failing resolver would send (NXDOMAIN, SERVFAIL,
 * REFUSED) and redirected to the interface's own ingress, so that the
 * asking application reads it as the resolver's answer. Checksums are
 * updated incrementally, which keeps them right whether the UDP checksum
 * is already complete (no offload) or left for the device to finish
 * (CHECKSUM_PARTIAL: then only its pseudo-header part is kept up to date,
 * as the kernel's own helpers do). Only UAPI headers. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dns_filter.h"

/* Set by the loader between open and load. */
const volatile __u32 rcode = DNS_RCODE_NXDOMAIN; /* or DNS_DROP */
const volatile __u32 probability = 1000000000U;  /* parts per billion */
const volatile __u32 l3_offset = ETH_HLEN;       /* 0 on devices without L2 */
const volatile __u32 match_dst = 0;              /* the resolver's address must be in sabot_dns_dst4/6 */
const volatile __u32 n_protected = 0;
const volatile struct dns_port_range protected_ports[DNS_MAX_PROTECTED] = {};
const volatile __u32 n_dport = 0;
const volatile struct dns_port_range dports[DNS_MAX_PORT_RANGES] = {};
const volatile __u32 n_domains = 0; /* 0: every name */
const volatile struct dns_domain domains[DNS_MAX_DOMAINS] = {};
/* Queries of this cgroup (or below it); 0 = any. Not read-only: set by
 * the loader after the load (the program is loaded before the run, and a
 * target's cgroup is known only when its window opens), through the
 * mapped .bss, before the filter is attached. */
volatile __u64 cgroup_id = 0;
volatile __u32 cgroup_level = 0;

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, DNS_MAX_CIDRS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct dns_lpm4);
        __type(value, __u8);
} sabot_dns_dst4 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, DNS_MAX_CIDRS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct dns_lpm6);
        __type(value, __u8);
} sabot_dns_dst6 SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _DNS_COUNTERS);
        __type(key, __u32);
        __type(value, __u64);
} sabot_dns_counters SEC(".maps");

/* Room for the question's name and for the bytes a response leaves out:
 * too big for the stack. */
#define SCRATCH 512
_Static_assert((SCRATCH & (SCRATCH - 1)) == 0, "removed_sum masks with SCRATCH - 1");
struct scratch {
        __u8 name[256];
        __u64 bounds[4]; /* bit i: a label starts at name[i] (the root's 0 included) */
        __u8 buf[SCRATCH];
};
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct scratch);
} sabot_dns_scratch SEC(".maps");

static __always_inline void count(__u32 which) {
        __u64 *v = bpf_map_lookup_elem(&sabot_dns_counters, &which);
        if (v)
                *v += 1;
}

static __always_inline int in_ranges(__u16 port, const volatile struct dns_port_range *r, __u32 n) {
        for (__u32 i = 0; i < DNS_MAX_PORT_RANGES; i++) {
                if (i >= n)
                        break;
                if (port >= r[i].lo && port <= r[i].hi)
                        return 1;
        }
        return 0;
}

/* Not ours: let the next filter on the hook decide. */
#define PASS TC_ACT_UNSPEC

struct dnshdr {
        __be16 id, flags, qdcount, ancount, nscount, arcount;
};
#define DNS_QR 0x8000
#define DNS_OPCODE 0x7800
#define DNS_RD 0x0100
#define DNS_RA 0x0080

/* The verifier walks a bounded loop once per pass, and each pass of
 * one loop once per state the loop before it left: the loops over the
 * name run through bpf_loop, whose callback it checks once. */
static __always_inline struct scratch *scratch(void) {
        __u32 zero = 0;
        return bpf_map_lookup_elem(&sabot_dns_scratch, &zero);
}

/* The question's name: labels of 1..63 bytes up to the root's 0, no
 * compression (RFC 1035 4.1.4: there is nothing to point back to). */
struct walk {
        __u32 i, avail, name_len;
        int bad;
};
static int walk_label(__u32 k, void *arg) {
        struct walk *w = arg;
        struct scratch *s = scratch();
        (void)k;
        if (!s || w->i >= w->avail || w->i > 255) {
                w->bad = 1;
                return 1;
        }
        __u32 i = w->i;
        __u8 l = s->name[i & 0xff];
        s->bounds[(i >> 6) & 3] |= 1ULL << (i & 63);
        if (l == 0) {
                w->name_len = i + 1;
                return 1;
        }
        if (l > 63) {
                w->bad = 1;
                return 1;
        }
        w->i = i + l + 1;
        return 0;
}

/* Case-insensitive (RFC 4343): ASCII letters to lower case. Length bytes
 * (at most 63) are never letters. */
static int lower(__u32 j, void *arg) {
        struct scratch *s = scratch();
        if (!s || j >= *(__u32 *)arg)
                return 1;
        __u8 c = s->name[j & 0xff];
        if (c >= 'A' && c <= 'Z')
                s->name[j & 0xff] = c + ('a' - 'A');
        return 0;
}

/* Whether the name (wire form, name_len bytes) ends with domain d on a
 * label boundary. */
struct match {
        __u32 name_len;
        int found;
};
static int match_domain(__u32 d, void *arg) {
        struct match *m = arg;
        struct scratch *s = scratch();
        if (!s || d >= n_domains || d >= DNS_MAX_DOMAINS)
                return 1;
        barrier_var(d);
        d &= DNS_MAX_DOMAINS - 1;
        __u32 len = domains[d].len;
        if (len == 0 || len > m->name_len)
                return 0;
        __u32 start = m->name_len - len;
        if (!(s->bounds[(start >> 6) & 3] & (1ULL << (start & 63))))
                return 0;
        for (__u32 j = 0; j < 256; j++) {
                if (j >= len)
                        break;
                if (s->name[(start + j) & 0xff] != domains[d].name[j & 0xff])
                        return 0;
        }
        m->found = 1;
        return 1;
}

/* The negated one's-complement sum of the n bytes at off (the part of the
 * query the response leaves out), folded to 16 bits and laid as it falls
 * in the UDP checksum when off - udp_off is odd; -1 when it cannot be
 * read. At most 4 x SCRATCH bytes. */
static __always_inline __s64 removed_sum(struct __sk_buff *skb, struct scratch *s, __u32 off, __u32 n, int odd) {
        __u64 sum = 0;
        for (int c = 0; c < 4; c++) {
                if (n == 0)
                        break;
                __u32 take = n > SCRATCH ? SCRATCH : n;
                /* Bounds the verifier sees on the register the helper gets:
                 * 1..SCRATCH (n is not 0 here). As take - 1, masked, plus
                 * 1: the verifier of Linux 6.1 learns no lower bound from
                 * take != 0 and refuses a size that may be 0 (EACCES). */
                take -= 1;
                barrier_var(take);
                take &= SCRATCH - 1;
                take += 1;
                /* The bytes past take up to a multiple of 4 count as 0. */
                __u32 pad = take & 0x1fc;
                if (pad <= SCRATCH - 4)
                        *(__u32 *)&s->buf[pad] = 0;
                if (bpf_skb_load_bytes(skb, off, s->buf, take) < 0)
                        return -1;
                __u32 n4 = (take + 3) & ~3U;
                if (n4 > SCRATCH)
                        n4 = SCRATCH;
                __s64 d = bpf_csum_diff((__be32 *)s->buf, n4, NULL, 0, 0);
                if (d < 0)
                        return -1;
                sum += (__u32)d;
                off += take;
                n -= take;
        }
        if (n)
                return -1;
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        if (odd)
                sum = ((sum & 0xff) << 8) | (sum >> 8);
        return (__s64)sum;
}

SEC("tc")
int sabot_dns(struct __sk_buff *skb) {
        __u32 ip_off = l3_offset, l4off;
        int v6;
        if (skb->protocol == bpf_htons(ETH_P_IP)) {
                struct iphdr ip;
                if (bpf_skb_load_bytes(skb, ip_off, &ip, sizeof ip) < 0 || ip.ihl < 5 || ip.protocol != IPPROTO_UDP)
                        return PASS;
                /* Fragments (the first one too: more fragments follow) are
                 * no query this program can answer whole. */
                if (ip.frag_off & bpf_htons(0x3fff))
                        return PASS;
                v6 = 0;
                l4off = ip_off + ip.ihl * 4;
        } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
                struct ipv6hdr ip6;
                /* Extension headers are not walked: such a query passes. */
                if (bpf_skb_load_bytes(skb, ip_off, &ip6, sizeof ip6) < 0 || ip6.nexthdr != IPPROTO_UDP)
                        return PASS;
                v6 = 1;
                l4off = ip_off + sizeof ip6;
        } else
                return PASS;

        struct udphdr udp;
        if (bpf_skb_load_bytes(skb, l4off, &udp, sizeof udp) < 0)
                return PASS;
        __u16 sport = bpf_ntohs(udp.source), dport = bpf_ntohs(udp.dest);
        if (!in_ranges(dport, dports, n_dport))
                return PASS;
        struct dnshdr h;
        __u32 dns_off = l4off + sizeof udp, ulen = bpf_ntohs(udp.len);
        if (bpf_skb_load_bytes(skb, dns_off, &h, sizeof h) < 0)
                return PASS;
        /* A standard query with one question; anything else passes. */
        if ((bpf_ntohs(h.flags) & (DNS_QR | DNS_OPCODE)) || h.qdcount != bpf_htons(1))
                return PASS;
        if (ulen < sizeof udp + sizeof h + 5 || l4off + ulen > skb->len)
                return PASS;
        struct scratch *s = scratch();
        if (!s)
                return PASS;
        __u32 qoff = dns_off + sizeof h, avail = l4off + ulen - qoff;
        if (avail < 1)
                return PASS;
        if (avail > 255)
                avail = 255;
        /* 1..256 to the verifier (1..255 in fact), as in removed_sum. */
        avail -= 1;
        barrier_var(avail);
        avail &= 0xff;
        avail += 1;
        if (bpf_skb_load_bytes(skb, qoff, s->name, avail) < 0)
                return PASS;
        s->bounds[0] = s->bounds[1] = s->bounds[2] = s->bounds[3] = 0;
        struct walk w = {.avail = avail};
        bpf_loop(128, walk_label, &w, 0);
        __u32 name_len = w.name_len;
        if (w.bad || !name_len || name_len > 255 || qoff + name_len + 4 > l4off + ulen)
                return PASS;
        count(DNS_SEEN);
        if ((sport && in_ranges(sport, protected_ports, n_protected)) || in_ranges(dport, protected_ports, n_protected)) {
                count(DNS_PROTECTED);
                return PASS;
        }
        if (n_domains) {
                struct match m = {.name_len = name_len};
                bpf_loop(256, lower, &name_len, 0);
                bpf_loop(DNS_MAX_DOMAINS, match_domain, &m, 0);
                if (!m.found)
                        return PASS;
        }
        if (match_dst) {
                if (!v6) {
                        struct dns_lpm4 k = {.prefixlen = 32};
                        if (bpf_skb_load_bytes(skb, ip_off + 16, k.addr, 4) < 0 || !bpf_map_lookup_elem(&sabot_dns_dst4, &k))
                                return PASS;
                } else {
                        struct dns_lpm6 k = {.prefixlen = 128};
                        if (bpf_skb_load_bytes(skb, ip_off + 24, k.addr, 16) < 0 || !bpf_map_lookup_elem(&sabot_dns_dst6, &k))
                                return PASS;
                }
        }
        if (cgroup_id && bpf_skb_ancestor_cgroup_id(skb, (int)cgroup_level) != cgroup_id)
                return PASS;
        count(DNS_MATCHED);
        if (probability < 1000000000U) {
                __u64 r = ((__u64)bpf_get_prandom_u32() * 1000000000ULL) >> 32;
                if (r >= probability)
                        return PASS;
        }
        if (rcode == DNS_DROP) {
                count(DNS_DROPPED);
                return TC_ACT_STOLEN; /* silently, as a lost datagram */
        }

        /* The response: header and question, nothing after them (the
         * query's additional section, EDNS's OPT, is left out). */
        __u32 csum_off = l4off + offsetof(struct udphdr, check);
        __u32 new_ulen = sizeof udp + sizeof h + name_len + 4;
        /* A sum that comes out 0 is sent as 0xffff (0 is "none" in IPv4). */
        __u64 csum_flags = BPF_F_MARK_MANGLED_0;
        int has_csum = v6 || udp.check != 0; /* IPv4 may send none */
        if (new_ulen < ulen && has_csum) {
                __s64 d = removed_sum(skb, s, l4off + new_ulen, ulen - new_ulen, new_ulen & 1);
                if (d < 0) {
                        count(DNS_FAILED);
                        return PASS;
                }
                /* Take the removed bytes out of the sum (a no-op when the
                 * device is to finish the checksum: it sums what is there). */
                if (bpf_l4_csum_replace(skb, csum_off, 0, (__u32)d, csum_flags) < 0)
                        goto failed;
        }
        struct dnshdr r = {
                .id = h.id,
                .flags = bpf_htons(DNS_QR | (bpf_ntohs(h.flags) & DNS_RD) | DNS_RA | (rcode & 0xf)),
                .qdcount = h.qdcount,
        };
        if (has_csum) {
                __s64 d = bpf_csum_diff((__be32 *)&h, sizeof h, (__be32 *)&r, sizeof r, 0);
                if (d < 0 || bpf_l4_csum_replace(skb, csum_off, 0, (__u32)d, csum_flags) < 0)
                        goto failed;
                __be16 o = udp.len, n = bpf_htons(new_ulen);
                /* The length is in the UDP header and in the pseudo-header. */
                if (o != n && (bpf_l4_csum_replace(skb, csum_off, o, n, csum_flags | 2) < 0 ||
                               bpf_l4_csum_replace(skb, csum_off, o, n, csum_flags | BPF_F_PSEUDO_HDR | 2) < 0))
                        goto failed;
        }
        if (bpf_skb_store_bytes(skb, dns_off, &r, sizeof r, 0) < 0)
                goto failed;
        /* Swapped ports and addresses leave every checksum as it was: one's
         * complement sums do not depend on the order of their words. */
        __be16 ports[2] = {udp.dest, udp.source};
        __be16 nlen = bpf_htons(new_ulen);
        if (bpf_skb_store_bytes(skb, l4off, ports, sizeof ports, 0) < 0 ||
            bpf_skb_store_bytes(skb, l4off + offsetof(struct udphdr, len), &nlen, sizeof nlen, 0) < 0)
                goto failed;
        if (!v6) {
                __be32 a[2];
                __be16 tot_old, tot_new = bpf_htons(l4off - ip_off + new_ulen);
                if (bpf_skb_load_bytes(skb, ip_off + offsetof(struct iphdr, tot_len), &tot_old, 2) < 0 ||
                    bpf_skb_load_bytes(skb, ip_off + offsetof(struct iphdr, saddr), a, sizeof a) < 0)
                        goto failed;
                __be32 b[2] = {a[1], a[0]};
                if (bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, saddr), b, sizeof b, 0) < 0 ||
                    bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), tot_old, tot_new, 2) < 0 ||
                    bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, tot_len), &tot_new, 2, 0) < 0)
                        goto failed;
        } else {
                __u8 a[32], b[32];
                __be16 pl = bpf_htons(new_ulen);
                if (bpf_skb_load_bytes(skb, ip_off + offsetof(struct ipv6hdr, saddr), a, sizeof a) < 0)
                        goto failed;
                __builtin_memcpy(b, a + 16, 16);
                __builtin_memcpy(b + 16, a, 16);
                if (bpf_skb_store_bytes(skb, ip_off + offsetof(struct ipv6hdr, saddr), b, sizeof b, 0) < 0 ||
                    bpf_skb_store_bytes(skb, ip_off + offsetof(struct ipv6hdr, payload_len), &pl, 2, 0) < 0)
                        goto failed;
        }
        if (l3_offset == ETH_HLEN) {
                __u8 m[12], n[12];
                if (bpf_skb_load_bytes(skb, 0, m, sizeof m) < 0)
                        goto failed;
                __builtin_memcpy(n, m + 6, 6);
                __builtin_memcpy(n + 6, m, 6);
                if (bpf_skb_store_bytes(skb, 0, n, sizeof n, 0) < 0)
                        goto failed;
        }
        if (l4off + new_ulen < skb->len && bpf_skb_change_tail(skb, l4off + new_ulen, 0) < 0)
                goto failed;
        count(DNS_ANSWERED);
        return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
failed:
        /* Half rewritten: never let it go on to the resolver. */
        count(DNS_FAILED);
        return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
