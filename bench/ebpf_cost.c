/* SPDX-License-Identifier: MIT */
/* What the eBPF network kinds, dns and tcp-reset, cost the traffic they do
 * not match (#16), measured as bench/classifier_cost measures the shared
 * classifier: each program's own time per packet from the kernel
 * (BPF_PROG_TEST_RUN, 10^6 runs a round), rounds interleaved over every
 * program x packet and a return-only floor program per packet (the order
 * rotating each round), each figure also net of the floor of its round
 * (paired); mean and 95% CI.
 *
 * The programs are loaded by the kinds' own loaders, configured as a real
 * scenario would configure them: dns answering NXDOMAIN for three domains
 * (resolver port 53, ssh protected); tcp-reset on dport 5432 (egress, ssh
 * protected); and the learning program an ingress tcp-reset puts on
 * egress, which sees every leaving ACK. The packets: a UDP datagram to
 * port 9 (not DNS), a TCP ACK to port 80 (another port), and for dns a
 * query for a name it does not list (the longest non-matching path).
 * Beside them, a program that only reads the clock (bpf_ktime_get_ns, what
 * tcp-reset called before it looked at the packet, until it read it on a
 * match alone) and returns.
 *
 *   ebpf_cost [ROUNDS]     (root; default 20)
 *
 * The peer of a tcp-reset window, iptables/nft REJECT --reject-with
 * tcp-reset, is not timed here when neither is installed (said so). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/parse.h"
#include "../faults/dns_filter_loader.h"
#include "../faults/tcp_reset_loader.h"
#include "bench.h"
#include "stats.h"

#define MAXR 1000

struct ip4 {
        struct ethhdr eth;
        struct iphdr ip;
} __attribute__((packed));

enum { P_UDP, P_TCP, P_DNSQ, _P };
static const char *const pkt_names[_P] = {"UDP to port 9 (not DNS)", "TCP ACK to port 80", "DNS query, a name not listed"};
static unsigned char pkt[_P][256];
static unsigned pkt_len[_P];

static unsigned ip4(unsigned char *b, int proto, unsigned l4_len) {
        struct ip4 *h = (struct ip4 *)b;
        memset(h, 0, sizeof *h);
        h->eth.h_proto = htons(ETH_P_IP);
        h->ip.version = 4, h->ip.ihl = 5, h->ip.ttl = 64, h->ip.protocol = (unsigned char)proto;
        h->ip.tot_len = htons((uint16_t)(sizeof h->ip + l4_len));
        inet_pton(AF_INET, "10.73.0.1", &h->ip.saddr);
        inet_pton(AF_INET, "10.73.0.2", &h->ip.daddr);
        return sizeof *h + l4_len;
}

static void udp(unsigned char *b, uint16_t dport, const void *payload, unsigned n, unsigned *ret_len) {
        struct udphdr *u = (struct udphdr *)(b + sizeof(struct ip4));
        *u = (struct udphdr){.source = htons(40000), .dest = htons(dport), .len = htons((uint16_t)(sizeof *u + n))};
        memcpy(u + 1, payload, n);
        *ret_len = ip4(b, IPPROTO_UDP, (unsigned)sizeof *u + n);
}

static void packets(void) {
        static const unsigned char zeros[64];
        udp(pkt[P_UDP], 9, zeros, sizeof zeros, &pkt_len[P_UDP]);
        struct tcphdr *t = (struct tcphdr *)(pkt[P_TCP] + sizeof(struct ip4));
        memset(t, 0, sizeof *t + 64);
        t->source = htons(40000), t->dest = htons(80), t->doff = 5, t->ack = 1;
        t->seq = htonl(1000), t->ack_seq = htonl(2000), t->window = htons(65535);
        pkt_len[P_TCP] = ip4(pkt[P_TCP], IPPROTO_TCP, (unsigned)sizeof *t + 64);
        /* id, RD, one question: www.example.org A IN */
        static const unsigned char q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x',
                                          'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1};
        udp(pkt[P_DNSQ], 53, q, sizeof q, &pkt_len[P_DNSQ]);
}

/* The programs and which packets each is run on. */
enum { G_DNS, G_TR, G_LEARN, G_KTIME, G_FLOOR, _G };
static const char *const prog_names[_G] = {"dns (3 domains, NXDOMAIN)", "tcp-reset (egress, dport 5432)",
                                           "tcp-reset learner (ingress fault's egress hook)",
                                           "bpf_ktime_get_ns + return (a clock read alone)",
                                           "floor: a program that only returns"};
static const bool runs_on[_G][_P] = {
        [G_DNS] = {true, true, true}, [G_TR] = {true, true, false}, [G_LEARN] = {false, true, false},
        [G_KTIME] = {true, false, false}, [G_FLOOR] = {true, true, true}};

int main(int argc, char **argv) {
        int rounds = argc > 1 ? atoi(argv[1]) : 20;
        if (rounds < 4 || rounds > MAXR)
                rounds = 20;
        packets();
        struct bpf_insn floor_insns[] = {
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1},
                {.code = BPF_JMP | BPF_EXIT},
        };
        /* What a clock read costs a packet (tcp-reset read it first, once). */
        struct bpf_insn ktime_insns[] = {
                {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ktime_get_ns},
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1},
                {.code = BPF_JMP | BPF_EXIT},
        };
        int fd[_G];
        fd[G_FLOOR] = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sabot_floor", "GPL", floor_insns, 2, NULL);
        fd[G_KTIME] = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sabot_ktime", "GPL", ktime_insns, 3, NULL);
        if (fd[G_FLOOR] < 0 || fd[G_KTIME] < 0)
                return fprintf(stderr, "cannot load the floor programs: %s\n", strerror(errno)), 1;

        static struct port_range ssh = {22, 22}, pg = {5432, 5432};
        static struct port_list prot = {.v = &ssh, .n = 1}, pgl = {.v = &pg, .n = 1};
        static const char *const names[] = {"example.com", "internal.", "api.example.net"};
        struct dns_domain dom[3];
        char why[256];
        for (int k = 0; k < 3; k++)
                if (dns_domain_wire(names[k], &dom[k], why, sizeof why) < 0)
                        return fprintf(stderr, "%s: %s\n", names[k], why), 1;
        struct dns_filter_spec ds = {.rcode = DNS_RCODE_NXDOMAIN,
                                     .probability = RATIO_ONE,
                                     .l3_offset = ETH_HLEN,
                                     .domains = dom,
                                     .n_domains = 3,
                                     .protected_ports = &prot};
        struct dns_filter_bpf *dskel = NULL;
        int r = dns_filter_load(&ds, &dskel);
        if (r < 0)
                return fprintf(stderr, "cannot load the dns program: %s\n", strerror(-r)), 1;
        struct tcp_reset_spec ts = {.probability = RATIO_ONE,
                                    .seed = 1,
                                    .l3_offset = ETH_HLEN,
                                    .egress = true,
                                    .dport = &pgl,
                                    .protected_ports = &prot};
        struct tcp_reset_bpf *tskel = NULL;
        if ((r = tcp_reset_load(&ts, &tskel)) < 0)
                return fprintf(stderr, "cannot load the tcp-reset program: %s\n", strerror(-r)), 1;
        fd[G_DNS] = dns_filter_prog_fd(dskel);
        fd[G_TR] = tcp_reset_prog_fd(tskel);
        fd[G_LEARN] = tcp_reset_learn_fd(tskel);

        /* The arms: every program on every packet it runs on. */
        int arm_g[_G * _P], arm_p[_G * _P], n = 0, floor_of[_P];
        for (int g = 0; g < _G; g++)
                for (int p = 0; p < _P; p++)
                        if (runs_on[g][p]) {
                                if (g == G_FLOOR)
                                        floor_of[p] = n;
                                arm_g[n] = g, arm_p[n] = p, n++;
                        }
        static double ns[_G * _P][MAXR];
        for (int rd = 0; rd < rounds; rd++)
                for (int k = 0; k < n; k++) {
                        int a = (rd + k) % n; /* rotating order */
                        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt[arm_p[a]], .data_size_in = pkt_len[arm_p[a]],
                                    .repeat = 1000000);
                        if (bpf_prog_test_run_opts(fd[arm_g[a]], &o) < 0 || (int)o.retval != TC_ACT_UNSPEC)
                                return fprintf(stderr, "test run of %s on %s failed (%s, retval %d)\n", prog_names[arm_g[a]],
                                               pkt_names[arm_p[a]], strerror(errno), (int)o.retval),
                                       1;
                        ns[a][rd] = o.duration; /* the kernel's mean ns per run */
                }
        printf("eBPF network kinds' cost on traffic they do not match (#16), %d rounds each, interleaved, mean and 95%% CI:\n",
               rounds);
        printf("  the program's own time per packet (BPF_PROG_TEST_RUN, 10^6 runs a round; the floor paired per round and packet):\n");
        double net[MAXR];
        for (int a = 0; a < n; a++) {
                double m, h, nm, nh;
                stats_mean_ci(ns[a], rounds, &m, &h);
                char label[160];
                snprintf(label, sizeof label, "%s, %s", prog_names[arm_g[a]], pkt_names[arm_p[a]]);
                if (arm_g[a] == G_FLOOR) {
                        printf("    %-82s %6.1f ± %4.1f ns\n", label, m, h);
                        continue;
                }
                for (int rd = 0; rd < rounds; rd++)
                        net[rd] = ns[a][rd] - ns[floor_of[arm_p[a]]][rd];
                stats_mean_ci(net, rounds, &nm, &nh);
                printf("    %-82s %6.1f ± %4.1f ns   above the floor %6.1f ± %4.1f ns\n", label, m, h, nm, nh);
        }
        uint64_t dc[_DNS_COUNTERS] = {0}, tc[_TR_COUNTERS] = {0};
        (void)dns_filter_counters(dskel, dc);
        (void)tcp_reset_counters(tskel, tc);
        /* Proof that nothing matched: the programs' own counters. */
        printf("  every run passed its packet (TC_ACT_UNSPEC); the programs' counters: dns seen %llu (the DNS-query runs), "
               "matched %llu; tcp-reset seen %llu (the TCP runs), matched %llu\n",
               (unsigned long long)dc[DNS_SEEN], (unsigned long long)dc[DNS_MATCHED], (unsigned long long)tc[TR_SEEN],
               (unsigned long long)tc[TR_MATCHED]);
        if (sh("iptables --version") != 0 && sh("nft --version") != 0)
                printf("  tcp-reset window apply+revert vs iptables/nft REJECT --reject-with tcp-reset: not measured, "
                       "neither iptables nor nft is installed\n");
        dns_filter_free(dskel);
        tcp_reset_free(tskel);
        close(fd[G_FLOOR]);
        close(fd[G_KTIME]);
        return 0;
}
