/* SPDX-License-Identifier: MIT */
/* Root: loads the network-fault classifier into this kernel and runs real
 * packets through it with BPF_PROG_TEST_RUN. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "../../faults/net_filter_loader.h"
#include "../unit/testutil.h"

struct pkt4 {
        struct ethhdr eth;
        struct iphdr ip;
        struct tcphdr tcp;
} __attribute__((packed));

struct pkt6 {
        struct ethhdr eth;
        struct ipv6hdr ip;
        struct udphdr udp;
} __attribute__((packed));

static struct pkt4 make4(const char *src, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport) {
        struct pkt4 p = {0};
        memset(p.eth.h_dest, 0x02, ETH_ALEN);
        memset(p.eth.h_source, 0x04, ETH_ALEN);
        p.eth.h_proto = htons(ETH_P_IP);
        p.ip.version = 4;
        p.ip.ihl = 5;
        p.ip.ttl = 64;
        p.ip.protocol = proto;
        p.ip.tot_len = htons(sizeof p - sizeof p.eth);
        inet_pton(AF_INET, src, &p.ip.saddr);
        inet_pton(AF_INET, dst, &p.ip.daddr);
        p.tcp.source = htons(sport);
        p.tcp.dest = htons(dport);
        p.tcp.doff = 5;
        return p;
}

static struct pkt6 make6(const char *src, const char *dst, uint16_t sport, uint16_t dport) {
        struct pkt6 p = {0};
        memset(p.eth.h_dest, 0x02, ETH_ALEN);
        p.eth.h_proto = htons(ETH_P_IPV6);
        p.ip.version = 6;
        p.ip.nexthdr = IPPROTO_UDP;
        p.ip.hop_limit = 64;
        p.ip.payload_len = htons(sizeof p.udp);
        inet_pton(AF_INET6, src, &p.ip.saddr);
        inet_pton(AF_INET6, dst, &p.ip.daddr);
        p.udp.source = htons(sport);
        p.udp.dest = htons(dport);
        p.udp.len = htons(sizeof p.udp);
        return p;
}

static int run(struct net_filter_bpf *skel, void *pkt, size_t len, int repeat) {
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len, .repeat = repeat);
        int r = bpf_prog_test_run_opts(net_filter_prog_fd(skel), &o);
        ck_assert_msg(r == 0, "test_run: %s", strerror(-r));
        return (int)o.retval;
}

#define RUN4(skel, ...)                                                                            \
        ({                                                                                         \
                struct pkt4 _p = make4(__VA_ARGS__);                                               \
                run(skel, &_p, sizeof _p, 1);                                                      \
        })

static struct port_list ssh(void) {
        static struct port_range r = {22, 22};
        return (struct port_list){.v = &r, .n = 1};
}

static struct net_filter_bpf *load(struct net_filter_spec *spec) {
        struct net_filter_bpf *skel = NULL;
        int r = net_filter_load(spec, &skel);
        ck_assert_msg(r == 0, "load: %s", strerror(-r));
        return skel;
}

START_TEST(test_protected_ports_first) {
        struct port_list prot = ssh();
        /* Blackhole everything: only the protected port gets through. */
        struct net_filter_spec spec = {.probability = RATIO_ONE, .l3_offset = ETH_HLEN, .protected_ports = &prot};
        struct net_filter_bpf *skel = load(&spec);
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 22), TC_ACT_UNSPEC);
        ck_assert_int_eq(RUN4(skel, "10.0.0.2", "10.0.0.1", IPPROTO_TCP, 22, 40000), TC_ACT_UNSPEC);
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80), TC_ACT_STOLEN);
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 40000, 53), TC_ACT_STOLEN);
        uint64_t c[_NET_COUNTERS];
        ck_assert_int_eq(net_filter_counters(skel, c), 0);
        ck_assert_uint_eq(c[NET_SEEN], 4);
        ck_assert_uint_eq(c[NET_PROTECTED], 2);
        ck_assert_uint_eq(c[NET_ACTED], 2);
        net_filter_free(skel);
}
END_TEST

/* ICMPv6 with a type, as a neighbour solicitation (135) would be. */
struct pkt6icmp {
        struct ethhdr eth;
        struct ipv6hdr ip;
        uint8_t type, code;
        uint16_t csum;
        uint32_t reserved;
        uint8_t target[16];
} __attribute__((packed));

static struct pkt6icmp make6icmp(uint8_t type) {
        struct pkt6icmp p = {0};
        memset(p.eth.h_dest, 0x33, ETH_ALEN);
        p.eth.h_proto = htons(ETH_P_IPV6);
        p.ip.version = 6;
        p.ip.nexthdr = IPPROTO_ICMPV6;
        p.ip.hop_limit = 255;
        p.ip.payload_len = htons(sizeof p - sizeof p.eth - sizeof p.ip);
        inet_pton(AF_INET6, "fd00::1", &p.ip.saddr);
        inet_pton(AF_INET6, "ff02::1:ff00:2", &p.ip.daddr);
        p.type = type;
        return p;
}

START_TEST(test_matches) {
        char err[PARSE_ERR_MAX];
        struct port_list prot = ssh(), dport = {0};
        struct cidr_list dst = {0}, src = {0};
        ck_assert_int_eq(parse_cidr_list("10.1.2.0/24, fd00::/64", &dst, err), 0);
        ck_assert_int_eq(parse_cidr_list("192.168.7.0/24, fd01::/16", &src, err), 0);
        ck_assert_int_eq(parse_port_list("8000-8080, 443", &dport, err), 0);
        struct net_filter_spec spec = {.probability = RATIO_ONE, .l3_offset = ETH_HLEN, .protected_ports = &prot,
                                       .dst = &dst, .src = &src, .dport = &dport, .protocol = PROTO_TCP};
        struct net_filter_bpf *skel = load(&spec);
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.2.9", IPPROTO_TCP, 40000, 8042), TC_ACT_STOLEN);
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.2.9", IPPROTO_TCP, 40000, 443), TC_ACT_STOLEN);
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.3.9", IPPROTO_TCP, 40000, 443), TC_ACT_UNSPEC); /* dst */
        ck_assert_int_eq(RUN4(skel, "192.168.8.5", "10.1.2.9", IPPROTO_TCP, 40000, 443), TC_ACT_UNSPEC); /* src */
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.2.9", IPPROTO_TCP, 40000, 8081), TC_ACT_UNSPEC); /* port */
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.2.9", IPPROTO_UDP, 40000, 443), TC_ACT_UNSPEC); /* proto */
        net_filter_free(skel);

        /* IPv6, UDP. */
        spec.protocol = PROTO_UDP;
        skel = load(&spec);
        struct pkt6 p = make6("fd01:1::1", "fd00::42", 5000, 8000);
        ck_assert_int_eq(run(skel, &p, sizeof p, 1), TC_ACT_STOLEN);
        p = make6("fd01:1::1", "fd00:0:0:1::42", 5000, 8000);
        ck_assert_int_eq(run(skel, &p, sizeof p, 1), TC_ACT_UNSPEC);
        p = make6("fd02::1", "fd00::42", 5000, 8000);
        ck_assert_int_eq(run(skel, &p, sizeof p, 1), TC_ACT_UNSPEC);
        net_filter_free(skel);

        /* Classic mode for the netem steering filter: non-zero on a match. */
        spec.action = NET_ACT_CLASSIFY;
        spec.protocol = PROTO_TCP;
        skel = load(&spec);
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.2.9", IPPROTO_TCP, 40000, 443), 1);
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.3.9", IPPROTO_TCP, 40000, 443), 0);
        ck_assert_int_eq(RUN4(skel, "192.168.7.5", "10.1.2.9", IPPROTO_TCP, 22, 443), 0);
        net_filter_free(skel);

        /* icmp: ICMP and ICMPv6; icmpv6: ICMPv6 alone (echo, not ND). */
        spec.action = NET_ACT_DROP;
        spec.dst = spec.src = NULL;
        spec.dport = NULL;
        for (int k = 0; k < 2; k++) {
                spec.protocol = k ? PROTO_ICMPV6 : PROTO_ICMP;
                skel = load(&spec);
                ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 0, 0), k ? TC_ACT_UNSPEC : TC_ACT_STOLEN);
                struct pkt6icmp echo = make6icmp(128), ns = make6icmp(135);
                ck_assert_int_eq(run(skel, &echo, sizeof echo, 1), TC_ACT_STOLEN);
                ck_assert_int_eq(run(skel, &ns, sizeof ns, 1), TC_ACT_UNSPEC);
                p = make6("fd01:1::1", "fd00::42", 5000, 8000); /* UDP */
                ck_assert_int_eq(run(skel, &p, sizeof p, 1), TC_ACT_UNSPEC);
                net_filter_free(skel);
        }

        /* Not IP (ARP): never touched. */
        spec.action = NET_ACT_DROP;
        spec.dst = spec.src = NULL;
        spec.dport = NULL;
        spec.protocol = PROTO_ANY;
        skel = load(&spec);
        struct pkt4 arp = make4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 1, 2);
        arp.eth.h_proto = htons(ETH_P_ARP);
        ck_assert_int_eq(run(skel, &arp, sizeof arp, 1), TC_ACT_UNSPEC);
        net_filter_free(skel);

        cidr_list_free(&dst);
        cidr_list_free(&src);
        port_list_free(&dport);
}
END_TEST

/* Neighbour discovery, router advertisements and every non-IP ethertype
 * pass every program: drop and classify, any protocol, any probability. */
START_TEST(test_nd_and_arp_always_pass) {
        static const int protos[] = {PROTO_ANY, PROTO_ICMP, PROTO_ICMPV6};
        static const uint16_t other_ethertypes[] = {ETH_P_ARP, ETH_P_RARP, 0x88cc /* LLDP */, ETH_P_8021Q, 0x8863 /* PPPoE */};
        for (int a = 0; a < 2; a++)
                for (size_t k = 0; k < ELEMENTSOF(protos); k++) {
                        struct net_filter_spec spec = {.action = a ? NET_ACT_CLASSIFY : NET_ACT_DROP,
                                                       .probability = RATIO_ONE, .l3_offset = ETH_HLEN,
                                                       .protocol = protos[k]};
                        struct net_filter_bpf *skel = load(&spec);
                        int pass = a ? 0 : TC_ACT_UNSPEC, act = a ? 1 : TC_ACT_STOLEN;
                        for (int t = 133; t <= 137; t++) {
                                struct pkt6icmp p = make6icmp((uint8_t)t);
                                ck_assert_msg(run(skel, &p, sizeof p, 1) == pass, "ICMPv6 type %d, action %d, protocol %d", t,
                                              a, protos[k]);
                        }
                        /* Echo request and the types around ND are still faults' to drop. */
                        static const int others[] = {128, 129, 132, 138, 143};
                        for (size_t t = 0; t < ELEMENTSOF(others); t++) {
                                struct pkt6icmp p = make6icmp((uint8_t)others[t]);
                                ck_assert_msg(run(skel, &p, sizeof p, 1) == act, "ICMPv6 type %d, action %d", others[t], a);
                        }
                        for (size_t e = 0; e < ELEMENTSOF(other_ethertypes); e++) {
                                struct pkt4 x = make4("10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 0, 0);
                                x.eth.h_proto = htons(other_ethertypes[e]);
                                ck_assert_msg(run(skel, &x, sizeof x, 1) == pass, "ethertype 0x%04x", other_ethertypes[e]);
                        }
                        net_filter_free(skel);
                }
}
END_TEST

START_TEST(test_probability) {
        struct port_list prot = ssh();
        struct net_filter_spec spec = {.probability = RATIO_ONE / 4, .l3_offset = ETH_HLEN, .protected_ports = &prot};
        struct net_filter_bpf *skel = load(&spec);
        struct pkt4 p = make4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80);
        const int n = 40000;
        run(skel, &p, sizeof p, n);
        uint64_t c[_NET_COUNTERS];
        ck_assert_int_eq(net_filter_counters(skel, c), 0);
        ck_assert_uint_eq(c[NET_MATCHED], (uint64_t)n);
        double share = (double)c[NET_ACTED] / n;
        /* 25% programmed; binomial sd over 40000 is 0.22%, allow 1%. */
        ck_assert_msg(share > 0.24 && share < 0.26, "dropped share %.4f, want 0.25", share);
        net_filter_free(skel);
}
END_TEST

/* Correlated loss keeps the long-run share but drops in runs: far fewer
 * changes between "dropped" and "passed" than independent draws make. */
static int transitions(ratio_t correlation, int n, int *ret_dropped) {
        struct port_list prot = ssh();
        struct net_filter_spec spec = {.probability = RATIO_ONE / 2, .correlation = correlation, .l3_offset = ETH_HLEN,
                                       .protected_ports = &prot};
        struct net_filter_bpf *skel = load(&spec);
        struct pkt4 p = make4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80);
        int t = 0, prev = -2, dropped = 0;
        for (int i = 0; i < n; i++) {
                int v = run(skel, &p, sizeof p, 1);
                dropped += v == TC_ACT_STOLEN;
                t += prev != -2 && v != prev;
                prev = v;
        }
        net_filter_free(skel);
        *ret_dropped = dropped;
        return t;
}

START_TEST(test_correlated_loss) {
        const int n = 4000;
        int d0, d9;
        int t0 = transitions(0, n, &d0), t9 = transitions(RATIO_ONE / 10 * 9, n, &d9);
        /* Independent at 50%: about n/2 changes. */
        ck_assert_msg(t0 > n * 4 / 10 && t0 < n * 6 / 10, "independent: %d transitions", t0);
        ck_assert_msg(t9 < t0 / 2, "90%% correlation: %d transitions, independent %d", t9, t0);
        ck_assert_msg(d9 > n * 35 / 100 && d9 < n * 65 / 100, "90%% correlation dropped %d of %d", d9, n);
}
END_TEST

START_TEST(test_too_many_entries) {
        struct port_range many[NET_MAX_PORT_RANGES + 1];
        for (int i = 0; i <= NET_MAX_PORT_RANGES; i++)
                many[i] = (struct port_range){(uint16_t)(1000 + i), (uint16_t)(1000 + i)};
        struct port_list l = {.v = many, .n = NET_MAX_PORT_RANGES + 1};
        struct net_filter_spec spec = {.probability = RATIO_ONE, .dport = &l};
        struct net_filter_bpf *skel = NULL;
        ck_assert_int_eq(net_filter_load(&spec, &skel), -E2BIG);
        ck_assert_ptr_null(skel);
}
END_TEST


/* One classifier, many rules (#15): the first rule (in order) whose action
 * fires decides, each rule counts its own packets, a rule that is off
 * matches nothing, and rules past the prefilter's 64 are checked too. */
START_TEST(test_many_rules) {
        enum { N = 70 };
        char err[PARSE_ERR_MAX];
        struct port_list prot = ssh(), ports[N];
        struct port_range pr[N];
        struct cidr_list dst = {0};
        ck_assert_int_eq(parse_cidr_list("10.9.0.0/16", &dst, err), 0);
        struct net_filter_spec specs[N];
        const struct net_filter_spec *pv[N];
        for (int k = 0; k < N; k++) {
                pr[k] = (struct port_range){(uint16_t)(1000 + k), (uint16_t)(1000 + k)};
                ports[k] = (struct port_list){.v = &pr[k], .n = 1};
                specs[k] = (struct net_filter_spec){.probability = RATIO_ONE, .protocol = PROTO_UDP, .dport = &ports[k]};
                pv[k] = &specs[k];
        }
        /* rule 1: half of all TCP; rule 2: every packet to 10.9/16 */
        specs[1] = (struct net_filter_spec){.probability = RATIO_ONE / 2, .protocol = PROTO_TCP};
        specs[2] = (struct net_filter_spec){.probability = RATIO_ONE, .dst = &dst};
        struct net_filter_bpf *skel = NULL;
        ck_assert_int_eq(net_classifier_load(ETH_HLEN, &prot, pv, N, &skel), 0);
        /* All off: nothing matches. */
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.9.0.2", IPPROTO_UDP, 40000, 1000), TC_ACT_UNSPEC);
        for (int k = 0; k < N; k++)
                ck_assert_int_eq(net_classifier_set(skel, (unsigned)k, pv[k], 0), 0);
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.8.0.2", IPPROTO_UDP, 40000, 1000), TC_ACT_STOLEN); /* rule 0 */
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.8.0.2", IPPROTO_UDP, 40000, 1069), TC_ACT_STOLEN); /* rule 69 */
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.8.0.2", IPPROTO_UDP, 40000, 1070), TC_ACT_UNSPEC); /* none */
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.8.0.2", IPPROTO_UDP, 40000, 22), TC_ACT_UNSPEC);   /* protected */
        uint64_t c[_NET_COUNTERS];
        ck_assert_int_eq(net_rule_counters(skel, 69, c), 0);
        ck_assert_uint_eq(c[NET_MATCHED], 1);
        ck_assert_uint_eq(c[NET_ACTED], 1);
        /* TCP to 10.9/16: rule 1 drops half, rule 2 the rest. */
        const int n = 2000;
        for (int i = 0; i < n; i++)
                ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.9.0.2", IPPROTO_TCP, 40000, 80), TC_ACT_STOLEN);
        uint64_t c1[_NET_COUNTERS], c2[_NET_COUNTERS];
        ck_assert_int_eq(net_rule_counters(skel, 1, c1), 0);
        ck_assert_int_eq(net_rule_counters(skel, 2, c2), 0);
        ck_assert_uint_eq(c1[NET_MATCHED], (uint64_t)n);
        ck_assert_msg(c1[NET_ACTED] > n * 4 / 10 && c1[NET_ACTED] < n * 6 / 10, "rule 1 acted on %llu of %d",
                      (unsigned long long)c1[NET_ACTED], n);
        ck_assert_uint_eq(c2[NET_MATCHED], n - c1[NET_ACTED]);
        ck_assert_uint_eq(c2[NET_ACTED], n - c1[NET_ACTED]);
        /* Off again: rule 0's port passes, rule 69's still drops. */
        ck_assert_int_eq(net_classifier_set(skel, 0, NULL, 0), 0);
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.8.0.2", IPPROTO_UDP, 40000, 1000), TC_ACT_UNSPEC);
        ck_assert_int_eq(RUN4(skel, "10.0.0.1", "10.8.0.2", IPPROTO_UDP, 40000, 1069), TC_ACT_STOLEN);
        net_filter_free(skel);
        cidr_list_free(&dst);
}
END_TEST

/* The prefilter's tries: nested CIDRs of different rules each find their
 * packets (the longest CIDR's entry carries the shorter ones' rules). */
START_TEST(test_nested_cidrs) {
        char err[PARSE_ERR_MAX];
        struct port_list prot = ssh();
        struct cidr_list wide = {0}, narrow = {0};
        ck_assert_int_eq(parse_cidr_list("10.0.0.0/8, fd00::/8", &wide, err), 0);
        ck_assert_int_eq(parse_cidr_list("10.1.0.0/16, 10.1.2.3/32", &narrow, err), 0);
        struct net_filter_spec a = {.probability = RATIO_ONE, .dst = &wide},
                               b = {.probability = RATIO_ONE, .src = &narrow};
        const struct net_filter_spec *pv[2] = {&a, &b};
        struct net_filter_bpf *skel = NULL;
        ck_assert_int_eq(net_classifier_load(ETH_HLEN, &prot, pv, 2, &skel), 0);
        ck_assert_int_eq(net_classifier_set(skel, 1, &b, 0), 0);
        /* only b on: src in 10.1/16 */
        ck_assert_int_eq(RUN4(skel, "10.1.2.3", "192.0.2.1", IPPROTO_UDP, 4000, 53), TC_ACT_STOLEN);
        ck_assert_int_eq(RUN4(skel, "10.1.9.9", "192.0.2.1", IPPROTO_UDP, 4000, 53), TC_ACT_STOLEN);
        ck_assert_int_eq(RUN4(skel, "10.2.0.1", "192.0.2.1", IPPROTO_UDP, 4000, 53), TC_ACT_UNSPEC);
        ck_assert_int_eq(RUN4(skel, "192.0.2.1", "10.1.2.3", IPPROTO_UDP, 4000, 53), TC_ACT_UNSPEC);
        ck_assert_int_eq(net_classifier_set(skel, 0, &a, 0), 0);
        ck_assert_int_eq(RUN4(skel, "192.0.2.1", "10.1.2.3", IPPROTO_UDP, 4000, 53), TC_ACT_STOLEN); /* a */
        ck_assert_int_eq(RUN4(skel, "192.0.2.1", "11.1.2.3", IPPROTO_UDP, 4000, 53), TC_ACT_UNSPEC);
        struct pkt6 p6 = make6("fd01:1::1", "fd00::42", 5000, 8000);
        ck_assert_int_eq(run(skel, &p6, sizeof p6, 1), TC_ACT_STOLEN); /* a, v6 */
        p6 = make6("fd01:1::1", "fe80::42", 5000, 8000);
        ck_assert_int_eq(run(skel, &p6, sizeof p6, 1), TC_ACT_UNSPEC);
        uint64_t c[_NET_COUNTERS];
        ck_assert_int_eq(net_rule_counters(skel, 0, c), 0);
        ck_assert_uint_eq(c[NET_ACTED], 2);
        ck_assert_int_eq(net_rule_counters(skel, 1, c), 0);
        ck_assert_uint_eq(c[NET_ACTED], 2);
        net_filter_free(skel);
        cidr_list_free(&wide);
        cidr_list_free(&narrow);
}
END_TEST

int main(void) {
        Suite *s = suite_create("net_filter");
        TCase *tc = tcase_create("bpf");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_protected_ports_first);
        tcase_add_test(tc, test_matches);
        tcase_add_test(tc, test_nd_and_arp_always_pass);
        tcase_add_test(tc, test_probability);
        tcase_add_test(tc, test_correlated_loss);
        tcase_add_test(tc, test_too_many_entries);
        tcase_add_test(tc, test_many_rules);
        tcase_add_test(tc, test_nested_cidrs);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
