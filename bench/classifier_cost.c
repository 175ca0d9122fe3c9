/* SPDX-License-Identifier: MIT */
/* What sabot's classifier costs traffic it does not match (#15 goal 4),
 * measured so that it can be trusted on a noisy machine:
 *
 * 1. The program's own time per packet, from the kernel: BPF_PROG_TEST_RUN
 *    over a sample UDP packet (repeat 10^6 per round), rounds interleaved
 *    over three programs: no rule on (the prefilter), 20 rules on and none
 *    matching (protocol and ports), 20 rules on with a dst CIDR each and no
 *    port (an LPM lookup per rule: the worst case); mean and 95% CI.
 * 2. Throughput on a veth pair between two network namespaces: a UDP
 *    blaster (sendmmsg, 64-byte payloads) pinned to one CPU, rounds A = no
 *    classifier and B = the 20-rule classifier on the sender's egress,
 *    paired and interleaved (ABBA); the mean of the paired differences
 *    with its 95% CI. While B runs, the kernel's run-time stats
 *    (BPF_ENABLE_STATS: run_time_ns / run_cnt) give the ns per real packet.
 *
 *   classifier_cost [ROUNDS] [MS_PER_ROUND]     (root; defaults 20, 300)
 *
 * Goal: < 3 % of veth throughput, < 50 ns per packet with 20 rules. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../agent/parse.h"
#include "../agent/scenario.h"
#include "../faults/net_filter_loader.h"
#include "../faults/tc.h"
#include "bench.h"
#include "stats.h"

#define NRULES 20

struct pkt {
        struct ethhdr eth;
        struct iphdr ip;
        struct udphdr udp;
        char payload[64];
} __attribute__((packed));

/* 20 rules: udp to ports 20000..20019 (with_cidr: tcp, no port, a dst
 * 198.51.100.K/32 each, so every rule reaches its LPM lookup). */
static int load(int n_on, bool with_cidr, struct net_filter_bpf **ret) {
        static struct port_range pr[NRULES];
        static struct port_list pl[NRULES];
        static struct cidr_list cl[NRULES];
        static struct port_range ssh = {22, 22};
        static struct port_list prot = {.v = &ssh, .n = 1};
        struct net_filter_spec specs[NRULES];
        const struct net_filter_spec *pv[NRULES];
        char err[PARSE_ERR_MAX], buf[32];
        for (int k = 0; k < NRULES; k++) {
                pr[k] = (struct port_range){(uint16_t)(20000 + k), (uint16_t)(20000 + k)};
                pl[k] = (struct port_list){.v = &pr[k], .n = 1};
                snprintf(buf, sizeof buf, "198.51.100.%d/32", k + 1);
                if (with_cidr && !cl[k].n && parse_cidr_list(buf, &cl[k], err) < 0)
                        return -EINVAL;
                specs[k] = (struct net_filter_spec){.probability = RATIO_ONE};
                if (with_cidr) {
                        specs[k].dst = &cl[k];
                        specs[k].protocol = PROTO_ANY;
                } else {
                        specs[k].dport = &pl[k];
                        specs[k].protocol = PROTO_UDP;
                }
                pv[k] = &specs[k];
        }
        int r = net_classifier_load(ETH_HLEN, &prot, pv, NRULES, ret);
        for (int k = 0; r >= 0 && k < n_on; k++)
                r = net_classifier_set(*ret, (unsigned)k, pv[k], 0);
        return r;
}

/* Packets a pinned blaster sent in ms milliseconds. */
static double blast(int cpu, int ms) {
        int p[2];
        if (pipe(p) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                (void)sched_setaffinity(0, sizeof set, &set);
                int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
                inet_pton(AF_INET, "10.73.0.2", &to.sin_addr);
                if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0)
                        _exit(1);
                char payload[64] = {0};
                struct iovec iov = {payload, sizeof payload};
                struct mmsghdr m[64];
                for (int k = 0; k < 64; k++)
                        m[k] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
                uint64_t end = now_ns() + (uint64_t)ms * 1000000ULL, sent = 0;
                while (now_ns() < end) {
                        int r = sendmmsg(fd, m, 64, 0);
                        if (r > 0)
                                sent += (uint64_t)r;
                }
                (void)!write(p[1], &sent, sizeof sent);
                _exit(0);
        }
        close(p[1]);
        uint64_t sent = 0;
        if (read(p[0], &sent, sizeof sent) != sizeof sent)
                sent = 0;
        close(p[0]);
        waitpid(pid, NULL, 0);
        return (double)sent * 1000.0 / ms; /* packets per second */
}

int main(int argc, char **argv) {
        int rounds = argc > 1 ? atoi(argv[1]) : 20, ms = argc > 2 ? atoi(argv[2]) : 300;
        if (rounds < 4 || rounds > 1000)
                rounds = 20;
        if (ms < 50 || ms > 10000)
                ms = 300;
        /* ---- 1. the program's own time, BPF_PROG_TEST_RUN ---- */
        /* The floor: a tc program that only returns (r0 = -1; exit), run by
         * the same harness: what BPF_PROG_TEST_RUN itself costs a run. */
        struct bpf_insn floor_insns[] = {
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1},
                {.code = BPF_JMP | BPF_EXIT},
        };
        int floor_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sabot_floor", "GPL", floor_insns, 2, NULL);
        if (floor_fd < 0)
                return fprintf(stderr, "cannot load the floor program: %s\n", strerror(errno)), 1;
        struct net_filter_bpf *v[3] = {0};
        static const char *const names[4] = {"no rule on (the prefilter)", "20 rules on, none matching (udp ports)",
                                             "20 rules on, none matching (a dst CIDR each)",
                                             "floor: a program that only returns, same harness"};
        if (load(0, false, &v[0]) < 0 || load(NRULES, false, &v[1]) < 0 || load(NRULES, true, &v[2]) < 0)
                return fprintf(stderr, "cannot load the classifiers\n"), 1;
        struct pkt pk = {0};
        pk.eth.h_proto = htons(ETH_P_IP);
        pk.ip.version = 4, pk.ip.ihl = 5, pk.ip.ttl = 64, pk.ip.protocol = IPPROTO_UDP;
        pk.ip.tot_len = htons(sizeof pk - sizeof pk.eth);
        inet_pton(AF_INET, "10.73.0.1", &pk.ip.saddr);
        inet_pton(AF_INET, "10.73.0.2", &pk.ip.daddr);
        pk.udp.source = htons(40000), pk.udp.dest = htons(9), pk.udp.len = htons(sizeof pk.udp + sizeof pk.payload);
        double ns[4][1000];
        for (int r = 0; r < rounds; r++)
                for (int k = 0; k < 4; k++) {
                        int w = (r + k) % 4;
                        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = &pk, .data_size_in = sizeof pk, .repeat = 1000000);
                        if (bpf_prog_test_run_opts(w == 3 ? floor_fd : net_filter_prog_fd(v[w]), &o) < 0 ||
                            (int)o.retval != TC_ACT_UNSPEC)
                                return fprintf(stderr, "test run failed (retval %u)\n", o.retval), 1;
                        ns[w][r] = o.duration; /* the kernel's mean ns per run */
                }
        printf("classifier cost (#15 goal 4), %d rounds each, interleaved, mean and 95%% CI:\n", rounds);
        printf("  the program's own time per packet (BPF_PROG_TEST_RUN, 10^6 runs a round, a UDP packet no rule matches):\n");
        double net[1000];
        for (int k = 0; k < 4; k++) {
                double m, h, nm, nh;
                stats_mean_ci(ns[k], rounds, &m, &h);
                for (int r = 0; r < rounds; r++)
                        net[r] = ns[k][r] - ns[3][r]; /* paired with the floor of the same round */
                stats_mean_ci(net, rounds, &nm, &nh);
                if (k < 3)
                        printf("    %-50s %6.1f ± %4.1f ns   above the floor %6.1f ± %4.1f ns%s\n", names[k], m, h, nm, nh,
                               k == 1 ? "   (goal < 50 ns)" : "");
                else
                        printf("    %-50s %6.1f ± %4.1f ns\n", names[k], m, h);
        }

        /* ---- 2. veth throughput, paired ---- */
        char A[64], B[64];
        snprintf(A, sizeof A, "sabot-cc-%d-a", (int)getpid());
        snprintf(B, sizeof B, "sabot-cc-%d-b", (int)getpid());
        if (sh("ip netns add %s", A) || sh("ip netns add %s", B) ||
            sh("ip link add sabot-cc0 netns %s type veth peer name sabot-cc1 netns %s", A, B) ||
            sh("ip -n %s addr add 10.73.0.1/24 dev sabot-cc0", A) || sh("ip -n %s addr add 10.73.0.2/24 dev sabot-cc1", B) ||
            sh("ip -n %s link set sabot-cc0 up", A) || sh("ip -n %s link set sabot-cc1 up", B)) {
                sh("ip netns del %s", A), sh("ip netns del %s", B);
                return fprintf(stderr, "cannot set up the namespaces\n"), 1;
        }
        char path[128];
        snprintf(path, sizeof path, "/run/netns/%s", A);
        int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        int r = nsfd >= 0 && setns(nsfd, CLONE_NEWNET) == 0 ? 0 : -1;
        /* The receiver: a socket nobody reads (its queue fills, then the
         * kernel drops), so that no ICMP port-unreachable comes back. */
        if (r == 0 && sh("ip netns exec %s sh -c true", B) != 0)
                r = -1;
        int ifindex = (int)if_nametoindex("sabot-cc0");
        struct nl_sock *sk = NULL;
        if (r < 0 || !ifindex || tc_open(&sk) < 0 || tc_clsact_add(sk, ifindex) < 0) {
                sh("ip netns del %s", A), sh("ip netns del %s", B);
                return fprintf(stderr, "cannot prepare sabot-cc0\n"), 1;
        }
        /* Neighbour resolved before the first round. */
        sh("ping -c 1 -W 1 10.73.0.2");
        int cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
        int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
        double diff[1000], a_pps[1000], b_pps[1000];
        struct bpf_prog_info i0 = {0}, i1 = {0};
        uint64_t run_ns = 0, run_cnt = 0;
        for (int k = 0; k < rounds; k++) {
                bool b_first = k % 2; /* ABBA: each order half the time */
                for (int s = 0; s < 2; s++) {
                        bool with = s == 0 ? b_first : !b_first;
                        if (with) {
                                uint32_t len = sizeof i0;
                                if (tc_bpf_add(sk, ifindex, false, 0xc000, 0x5ab0cc01, net_filter_prog_fd(v[1]), "sabot_net",
                                               true, 0) < 0)
                                        return fprintf(stderr, "attach failed\n"), 1;
                                bpf_obj_get_info_by_fd(net_filter_prog_fd(v[1]), &i0, &len);
                                b_pps[k] = blast(cpu, ms);
                                len = sizeof i1;
                                bpf_obj_get_info_by_fd(net_filter_prog_fd(v[1]), &i1, &len);
                                run_ns += i1.run_time_ns - i0.run_time_ns;
                                run_cnt += i1.run_cnt - i0.run_cnt;
                                tc_filter_del(sk, ifindex, false, 0xc000, 0x5ab0cc01);
                        } else
                                a_pps[k] = blast(cpu, ms);
                }
                diff[k] = (a_pps[k] - b_pps[k]) / a_pps[k] * 100.0;
        }
        double am, ah, bm, bh, dm, dh;
        stats_mean_ci(a_pps, rounds, &am, &ah);
        stats_mean_ci(b_pps, rounds, &bm, &bh);
        stats_mean_ci(diff, rounds, &dm, &dh);
        printf("  veth UDP throughput (64-byte payloads, sendmmsg, blaster pinned to CPU %d, %d ms a round, ABBA):\n", cpu, ms);
        printf("    A no classifier                          %8.0f ± %6.0f packets/s\n", am, ah);
        printf("    B sabot classifier, 20 rules, none match %8.0f ± %6.0f packets/s\n", bm, bh);
        printf("    cost (paired, (A-B)/A)                   %+7.2f ± %5.2f %%   (goal < 3 %%)\n", dm, dh);
        if (stats >= 0 && run_cnt)
                printf("    the kernel's run-time stats during B: %.1f ns per packet over %llu packets (goal < 50 ns)\n",
                       (double)run_ns / (double)run_cnt, (unsigned long long)run_cnt);
        else
                printf("    the kernel's run-time stats: not available (BPF_ENABLE_STATS: %s)\n", strerror(-stats));
        if (stats >= 0)
                close(stats);
        tc_clsact_del_if_empty(sk, ifindex);
        tc_close(sk);
        for (int k = 0; k < 3; k++)
                net_filter_free(v[k]);
        close(floor_fd);
        sh("ip netns del %s", A);
        sh("ip netns del %s", B);
        return 0;
}
