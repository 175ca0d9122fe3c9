/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The tcp-reset fault: on an interface's clsact hook, a TCP segment
 * (IPv4 or IPv6) that matches is turned, in place, into a RST that the
 * local stack takes as the peer's:
 *  - ingress: the arriving segment keeps its addresses, ports and
 *    acknowledgment number and becomes RST|ACK without payload; its
 *    sequence number becomes the socket's rcv_nxt as its last ACK on
 *    egress said (sabot_tcp_reset_learn, attached on the egress hook
 *    too, writes it in sabot_tr_rcvnxt), when that is later than the
 *    segment's own: a peer's retransmission of bytes the socket holds
 *    would make a RST behind rcv_nxt, which the kernel drops unseen. With
 *    nothing learned yet (the socket sent nothing since the window
 *    opened) the segment's own sequence is used, and a connection that a
 *    RST did not end (its segments still coming 200 ms on) gets one
 *    segment through untouched, every 200 ms, so that its socket answers
 *    it (a duplicate ACK): what it says is learned. An established socket
 *    is reset (ECONNRESET), a SYN-ACK refuses the connect
 *    (ECONNREFUSED). A SYN arriving for a local server carries no ACK a
 *    RST could use: it is dropped.
 *  - egress: the leaving segment is reflected: addresses, ports (and MAC
 *    addresses) swapped, seq = its ack (the socket's rcv_nxt), ack = its
 *    seq plus its length, RST|ACK, redirected to the interface's own
 *    ingress; it never leaves (the peer sees nothing).
 * Checksums are updated incrementally (right with or without offload,
 * as in dns_filter.bpf.c). Only UAPI headers. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tcp_reset.h"

/* Set by the loader between open and load. */
const volatile __u32 probability = 1000000000U; /* parts per billion, of connections */
const volatile __u32 seed = 0;                  /* of the connections' hash */
const volatile __u32 l3_offset = ETH_HLEN;
const volatile __u32 egress = 0;
const volatile __u32 match_dst = 0, match_src = 0;
const volatile __u32 n_protected = 0;
const volatile struct tr_port_range protected_ports[TR_MAX_PROTECTED] = {};
const volatile __u32 n_dport = 0, n_sport = 0;
const volatile struct tr_port_range dports[TR_MAX_PORT_RANGES] = {};
const volatile struct tr_port_range sports[TR_MAX_PORT_RANGES] = {};
const volatile __u64 cgroup_id = 0;
const volatile __u32 cgroup_level = 0;

#define LPM(name, K)                                   \
        struct {                                         \
                __uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
                __uint(max_entries, TR_MAX_CIDRS);       \
                __uint(map_flags, BPF_F_NO_PREALLOC);    \
                __type(key, struct K);                   \
                __type(value, __u8);                     \
        } name SEC(".maps")
LPM(sabot_tr_dst4, tr_lpm4);
LPM(sabot_tr_dst6, tr_lpm6);
LPM(sabot_tr_src4, tr_lpm4);
LPM(sabot_tr_src6, tr_lpm6);

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _TR_COUNTERS);
        __type(key, __u32);
        __type(value, __u64);
} sabot_tr_counters SEC(".maps");

/* The connections hit: when first (ns), then when last let through. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, TR_MAX_CONNS);
        __type(key, struct tr_conn);
        __type(value, __u64);
} sabot_tr_conns SEC(".maps");

/* ingress: the sockets' rcv_nxt by their last ACK on egress, keyed as
 * their arriving segments name them (host byte order). */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, TR_MAX_CONNS);
        __type(key, struct tr_conn);
        __type(value, __u32);
} sabot_tr_rcvnxt SEC(".maps");

#define TR_RETRY_NS 200000000ULL

#define SCRATCH 512
_Static_assert((SCRATCH & (SCRATCH - 1)) == 0, "sum_chunk masks with SCRATCH - 1");
struct scratch {
        __u8 buf[SCRATCH];
};
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct scratch);
} sabot_tr_scratch SEC(".maps");

static __always_inline void count(__u32 which) {
        __u64 *v = bpf_map_lookup_elem(&sabot_tr_counters, &which);
        if (v)
                *v += 1;
}

static __always_inline int in_ranges(__u16 port, const volatile struct tr_port_range *r, __u32 n) {
        for (__u32 i = 0; i < TR_MAX_PORT_RANGES; i++) {
                if (i >= n)
                        break;
                if (port >= r[i].lo && port <= r[i].hi)
                        return 1;
        }
        return 0;
}

#define PASS TC_ACT_UNSPEC

/* The removed payload's negated sum, chunk by chunk (bpf_loop). */
struct sum_walk {
        struct __sk_buff *skb;
        __u32 off, left;
        __u64 sum;
        int bad;
};
static int sum_chunk(__u32 k, void *arg) {
        struct sum_walk *w = arg;
        __u32 zero = 0;
        struct scratch *s = bpf_map_lookup_elem(&sabot_tr_scratch, &zero);
        (void)k;
        if (w->left == 0)
                return 1;
        if (!s) {
                w->bad = 1;
                return 1;
        }
        __u32 take = w->left > SCRATCH ? SCRATCH : w->left;
        /* Bounds the verifier sees on the register the helper gets:
         * 1..SCRATCH (left is not 0 here), as take - 1, masked, plus 1:
         * the verifier of Linux 6.1 learns no lower bound from take != 0
         * and refuses a size that may be 0 (EACCES), as dns_filter's. */
        take -= 1;
        barrier_var(take);
        take &= SCRATCH - 1;
        take += 1;
        __u32 pad = take & 0x1fc;
        if (pad <= SCRATCH - 4)
                *(__u32 *)&s->buf[pad] = 0;
        if (bpf_skb_load_bytes(w->skb, w->off, s->buf, take) < 0) {
                w->bad = 1;
                return 1;
        }
        __u32 n4 = (take + 3) & ~3U;
        if (n4 > SCRATCH)
                n4 = SCRATCH;
        __s64 d = bpf_csum_diff((__be32 *)s->buf, n4, NULL, 0, 0);
        if (d < 0) {
                w->bad = 1;
                return 1;
        }
        w->sum += (__u32)d;
        w->off += take;
        w->left -= take;
        return 0;
}

static __always_inline __u32 mix(__u32 h, __u32 v) {
        h ^= v;
        h *= 0x9e3779b1U;
        return h ^ (h >> 15);
}

/* On the egress hook of an ingress fault: each leaving ACK's number, the
 * socket's rcv_nxt as it last said, for the rewriting of what arrives. */
SEC("tc")
int sabot_tcp_reset_learn(struct __sk_buff *skb) {
        __u32 ip_off = l3_offset, l4off;
        struct tr_conn k = {};
        if (skb->protocol == bpf_htons(ETH_P_IP)) {
                struct iphdr ip;
                if (bpf_skb_load_bytes(skb, ip_off, &ip, sizeof ip) < 0 || ip.ihl < 5 || ip.protocol != IPPROTO_TCP ||
                    (ip.frag_off & bpf_htons(0x3fff)))
                        return PASS;
                l4off = ip_off + ip.ihl * 4;
                __builtin_memcpy(k.saddr, &ip.daddr, 4);
                __builtin_memcpy(k.daddr, &ip.saddr, 4);
                k.family = 4;
        } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
                struct ipv6hdr ip6;
                if (bpf_skb_load_bytes(skb, ip_off, &ip6, sizeof ip6) < 0 || ip6.nexthdr != IPPROTO_TCP)
                        return PASS;
                l4off = ip_off + sizeof ip6;
                __builtin_memcpy(k.saddr, &ip6.daddr, 16);
                __builtin_memcpy(k.daddr, &ip6.saddr, 16);
                k.family = 6;
        } else
                return PASS;
        struct tcphdr th;
        if (bpf_skb_load_bytes(skb, l4off, &th, sizeof th) < 0 || !th.ack || th.rst || th.syn)
                return PASS;
        k.sport = bpf_ntohs(th.dest), k.dport = bpf_ntohs(th.source);
        __u32 ack = bpf_ntohl(th.ack_seq);
        bpf_map_update_elem(&sabot_tr_rcvnxt, &k, &ack, BPF_ANY);
        return PASS;
}

SEC("tc")
int sabot_tcp_reset(struct __sk_buff *skb) {
        __u32 ip_off = l3_offset, l4off, l4len;
        struct tr_conn c = {};
        int v6;
        if (skb->protocol == bpf_htons(ETH_P_IP)) {
                struct iphdr ip;
                if (bpf_skb_load_bytes(skb, ip_off, &ip, sizeof ip) < 0 || ip.ihl < 5 || ip.protocol != IPPROTO_TCP)
                        return PASS;
                if (ip.frag_off & bpf_htons(0x3fff))
                        return PASS; /* a fragment: not a segment to cut whole */
                v6 = 0;
                l4off = ip_off + ip.ihl * 4;
                /* The segment's length from its IP header, not skb->len:
                 * on ingress a short Ethernet frame still carries its
                 * padding (a 54-byte ACK arrives as 60), which would go
                 * into the checksum's length. */
                if (bpf_ntohs(ip.tot_len) < ip.ihl * 4)
                        return PASS;
                l4len = bpf_ntohs(ip.tot_len) - ip.ihl * 4;
                __builtin_memcpy(c.saddr, &ip.saddr, 4);
                __builtin_memcpy(c.daddr, &ip.daddr, 4);
                c.family = 4;
        } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
                struct ipv6hdr ip6;
                /* Extension headers are not walked: such a segment passes. */
                if (bpf_skb_load_bytes(skb, ip_off, &ip6, sizeof ip6) < 0 || ip6.nexthdr != IPPROTO_TCP)
                        return PASS;
                v6 = 1;
                l4off = ip_off + sizeof ip6;
                l4len = bpf_ntohs(ip6.payload_len);
                __builtin_memcpy(c.saddr, &ip6.saddr, 16);
                __builtin_memcpy(c.daddr, &ip6.daddr, 16);
                c.family = 6;
        } else
                return PASS;

        struct tcphdr th;
        if (bpf_skb_load_bytes(skb, l4off, &th, sizeof th) < 0 || th.doff < 5)
                return PASS;
        if (th.rst)
                return PASS;
        __u16 sport = bpf_ntohs(th.source), dport = bpf_ntohs(th.dest);
        c.sport = sport, c.dport = dport;
        count(TR_SEEN);
        if (in_ranges(sport, protected_ports, n_protected) || in_ranges(dport, protected_ports, n_protected)) {
                count(TR_PROTECTED);
                return PASS;
        }
        if (n_dport && !in_ranges(dport, dports, n_dport))
                return PASS;
        if (n_sport && !in_ranges(sport, sports, n_sport))
                return PASS;
        if (match_dst) {
                if (!v6) {
                        struct tr_lpm4 k = {.prefixlen = 32};
                        __builtin_memcpy(k.addr, c.daddr, 4);
                        if (!bpf_map_lookup_elem(&sabot_tr_dst4, &k))
                                return PASS;
                } else {
                        struct tr_lpm6 k = {.prefixlen = 128};
                        __builtin_memcpy(k.addr, c.daddr, 16);
                        if (!bpf_map_lookup_elem(&sabot_tr_dst6, &k))
                                return PASS;
                }
        }
        if (match_src) {
                if (!v6) {
                        struct tr_lpm4 k = {.prefixlen = 32};
                        __builtin_memcpy(k.addr, c.saddr, 4);
                        if (!bpf_map_lookup_elem(&sabot_tr_src4, &k))
                                return PASS;
                } else {
                        struct tr_lpm6 k = {.prefixlen = 128};
                        __builtin_memcpy(k.addr, c.saddr, 16);
                        if (!bpf_map_lookup_elem(&sabot_tr_src6, &k))
                                return PASS;
                }
        }
        if (cgroup_id && bpf_skb_ancestor_cgroup_id(skb, (int)cgroup_level) != cgroup_id)
                return PASS;
        if (probability < 1000000000U) {
                /* Per connection: a hash of its 4-tuple, the same for each
                 * of its segments in this direction. */
                __u32 h = seed, w[9];
                __builtin_memcpy(w, &c, sizeof w);
                for (int i = 0; i < 9; i++)
                        h = mix(h, w[i]);
                if ((((__u64)h * 1000000000ULL) >> 32) >= probability)
                        return PASS;
        }
        count(TR_MATCHED);
        /* Read only for a match: the clock read was most of the program's
         * cost on traffic it passes (bench/ebpf_cost: 37 of 47-50 ns). */
        __u64 now = bpf_ktime_get_ns();

        __u32 hlen = th.doff * 4, new_l4 = hlen, old_l4 = l4len;
        if (old_l4 < hlen || skb->len < l4off + old_l4)
                return PASS;
        __u32 payload = old_l4 - hlen;
        if (!egress && th.syn && !th.ack) {
                /* A SYN for a local server: nothing to reset it with. */
                count(TR_RESET);
                goto hit;
        }
        __u32 csum_off = l4off + offsetof(struct tcphdr, check);
        __u64 f = BPF_F_MARK_MANGLED_0;
        __be32 iseq = th.seq;
        if (!egress) {
                __u32 *learned = bpf_map_lookup_elem(&sabot_tr_rcvnxt, &c);
                if (learned) {
                        __u32 l = *learned;
                        if ((__s32)(l - bpf_ntohl(th.seq)) > 0)
                                iseq = bpf_htonl(l);
                } else {
                        /* Hit before, still coming: let one through (every
                         * TR_RETRY_NS) for the socket to say its rcv_nxt. */
                        __u64 *t = bpf_map_lookup_elem(&sabot_tr_conns, &c);
                        if (t && now - *t >= TR_RETRY_NS) {
                                *t = now;
                                count(TR_PASSED);
                                return PASS;
                        }
                }
        }
        if (payload) {
                struct sum_walk sw = {.skb = skb, .off = l4off + hlen, .left = payload};
                bpf_loop(132, sum_chunk, &sw, 0);
                if (sw.bad || sw.left)
                        goto failed;
                __u64 sum = sw.sum;
                sum = (sum & 0xffffffff) + (sum >> 32);
                sum = (sum & 0xffff) + (sum >> 16);
                sum = (sum & 0xffff) + (sum >> 16);
                sum = (sum & 0xffff) + (sum >> 16);
                if (bpf_l4_csum_replace(skb, csum_off, 0, (__u32)sum, f) < 0)
                        goto failed;
        }
        /* The word of data offset and flags. */
        __be16 ow, nw;
        if (bpf_skb_load_bytes(skb, l4off + 12, &ow, 2) < 0)
                goto failed;
        nw = (ow & bpf_htons(0xf000)) | bpf_htons(0x0014); /* RST | ACK */
        if (bpf_l4_csum_replace(skb, csum_off, ow, nw, f | 2) < 0 || bpf_skb_store_bytes(skb, l4off + 12, &nw, 2, 0) < 0)
                goto failed;
        if (!egress && iseq != th.seq) {
                if (bpf_l4_csum_replace(skb, csum_off, th.seq, iseq, f | 4) < 0 ||
                    bpf_skb_store_bytes(skb, l4off + 4, &iseq, sizeof iseq, 0) < 0)
                        goto failed;
        }
        if (egress) {
                __be32 nseq = th.ack ? th.ack_seq : 0;
                __be32 nack = bpf_htonl(bpf_ntohl(th.seq) + payload + th.syn + th.fin);
                if (bpf_l4_csum_replace(skb, csum_off, th.seq, nseq, f | 4) < 0 ||
                    bpf_l4_csum_replace(skb, csum_off, th.ack_seq, nack, f | 4) < 0)
                        goto failed;
                __be32 sa[2] = {nseq, nack};
                __be16 ports[2] = {th.dest, th.source};
                if (bpf_skb_store_bytes(skb, l4off + 4, sa, sizeof sa, 0) < 0 ||
                    bpf_skb_store_bytes(skb, l4off, ports, sizeof ports, 0) < 0)
                        goto failed;
        }
        /* The length, in the pseudo-header and the IP header. */
        if (!v6) {
                __be16 o = bpf_htons(old_l4), n = bpf_htons(new_l4);
                if (o != n && bpf_l4_csum_replace(skb, csum_off, o, n, f | BPF_F_PSEUDO_HDR | 2) < 0)
                        goto failed;
                __be16 tot_old, tot_new = bpf_htons(l4off - ip_off + new_l4);
                if (bpf_skb_load_bytes(skb, ip_off + offsetof(struct iphdr, tot_len), &tot_old, 2) < 0 ||
                    bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), tot_old, tot_new, 2) < 0 ||
                    bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, tot_len), &tot_new, 2, 0) < 0)
                        goto failed;
                if (egress) {
                        __be32 b[2];
                        __builtin_memcpy(&b[0], c.daddr, 4);
                        __builtin_memcpy(&b[1], c.saddr, 4);
                        if (bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, saddr), b, sizeof b, 0) < 0)
                                goto failed;
                }
        } else {
                __be32 o = bpf_htonl(old_l4), n = bpf_htonl(new_l4);
                __be16 pl = bpf_htons(new_l4);
                if (o != n && bpf_l4_csum_replace(skb, csum_off, o, n, f | BPF_F_PSEUDO_HDR | 4) < 0)
                        goto failed;
                if (bpf_skb_store_bytes(skb, ip_off + offsetof(struct ipv6hdr, payload_len), &pl, 2, 0) < 0)
                        goto failed;
                if (egress) {
                        __u8 b[32];
                        __builtin_memcpy(b, c.daddr, 16);
                        __builtin_memcpy(b + 16, c.saddr, 16);
                        if (bpf_skb_store_bytes(skb, ip_off + offsetof(struct ipv6hdr, saddr), b, sizeof b, 0) < 0)
                                goto failed;
                }
        }
        if (egress && l3_offset == ETH_HLEN) {
                __u8 m[12], n[12];
                if (bpf_skb_load_bytes(skb, 0, m, sizeof m) < 0)
                        goto failed;
                __builtin_memcpy(n, m + 6, 6);
                __builtin_memcpy(n + 6, m, 6);
                if (bpf_skb_store_bytes(skb, 0, n, sizeof n, 0) < 0)
                        goto failed;
        }
        if (l4off + new_l4 < skb->len && bpf_skb_change_tail(skb, l4off + new_l4, 0) < 0)
                goto failed;
        count(TR_RESET);
        if (bpf_map_update_elem(&sabot_tr_conns, &c, &now, BPF_NOEXIST) == 0)
                count(TR_CONNS);
        if (egress)
                return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
        return TC_ACT_OK;
hit:
        if (bpf_map_update_elem(&sabot_tr_conns, &c, &now, BPF_NOEXIST) == 0)
                count(TR_CONNS);
        return TC_ACT_SHOT;
failed:
        /* Half rewritten: never let it through. */
        count(TR_FAILED);
        return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
