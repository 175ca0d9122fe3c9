/* SPDX-License-Identifier: MIT */
/* Apply and revert one network fault through sabot's netlink code, versus
 * the equivalent sequence of tc/ip command lines (what chaosd and
 * ChaosBlade fork and exec), in the same run, in a private network
 * namespace on a veth pair.
 *
 *   net_apply BPF_OBJECT [TRIALS]
 *
 * loss: clsact + a direct-action cls_bpf filter. latency (where netem
 * exists): an ifb with netem, clsact, and a classic cls_bpf filter with an
 * act_mirred redirect to the ifb. */
#include <net/if.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "../faults/net_filter_loader.h"
#include "stats.h"
#include "../faults/tc.h"

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
        char cmd[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        /* One fork and exec per command line, as those tools do. */
        char *argv[64];
        int n = 0;
        for (char *save = NULL, *w = strtok_r(cmd, " ", &save); w && n < 63; w = strtok_r(NULL, " ", &save))
                argv[n++] = w;
        argv[n] = NULL;
        fflush(stdout); /* or the child's freopen() prints our buffer again */
        pid_t p = fork();
        if (p == 0) {
                if (!freopen("/dev/null", "w", stdout))
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct times;
static void report(const char *what, struct times *s, struct times *t, int n);
struct times {
        uint64_t *apply, *revert;
};

static void report(const char *what, struct times *s, struct times *t, int n) {
        double sa = stats_pct_ms(s->apply, n, .5), sr = stats_pct_ms(s->revert, n, .5), ta = stats_pct_ms(t->apply, n, .5), tr = stats_pct_ms(t->revert, n, .5);
        printf("%s, %d trials (ms):\n", what, n);
        printf("  sabot (netlink)   apply p50 %6.2f p99 %6.2f   revert p50 %6.2f p99 %6.2f\n", sa, stats_pct_ms(s->apply, n, .99), sr,
               stats_pct_ms(s->revert, n, .99));
        printf("  tc command lines  apply p50 %6.2f p99 %6.2f   revert p50 %6.2f p99 %6.2f\n", ta, stats_pct_ms(t->apply, n, .99), tr,
               stats_pct_ms(t->revert, n, .99));
        printf("  ratio tc/sabot    apply %.1fx   revert %.1fx\n", ta / sa, tr / sr);
}

int main(int argc, char **argv) {
        if (argc < 2)
                return fprintf(stderr, "usage: %s BPF_OBJECT [TRIALS]\n", argv[0]), 2;
        const char *obj = argv[1];
        int n = argc > 2 ? atoi(argv[2]) : 30;
        if (n < 3 || n > 10000)
                n = 30;
        if (unshare(CLONE_NEWNET) < 0)
                return perror("unshare(CLONE_NEWNET)"), 1;
        if (sh("ip link add sabot-bench0 type veth peer name sabot-bench1") || sh("ip link set sabot-bench0 up") ||
            sh("ip link set sabot-bench1 up"))
                return fprintf(stderr, "cannot create the veth pair\n"), 1;
        int ifindex = (int)if_nametoindex("sabot-bench0");
        struct nl_sock *sk = NULL;
        if (tc_open(&sk) < 0)
                return 1;
        struct port_range ssh = {22, 22};
        struct port_list prot = {.v = &ssh, .n = 1};
        struct times s = {calloc((size_t)n, 8), calloc((size_t)n, 8)}, t = {calloc((size_t)n, 8), calloc((size_t)n, 8)};

        for (int i = 0; i < n; i++) {
                struct net_filter_spec spec = {.probability = RATIO_ONE, .l3_offset = 14, .protected_ports = &prot};
                struct net_filter_bpf *skel = NULL;
                uint64_t t0 = now_ns();
                int r = tc_clsact_add(sk, ifindex);
                if (r >= 0)
                        r = net_filter_load(&spec, &skel);
                if (r >= 0)
                        r = tc_bpf_add(sk, ifindex, false, 0xc000, 0x5ab00001, net_filter_prog_fd(skel), "sabot_net", true, 0);
                uint64_t t1 = now_ns();
                if (r >= 0)
                        r = tc_filter_del(sk, ifindex, false, 0xc000, 0x5ab00001);
                if (r >= 0)
                        r = tc_clsact_del_if_empty(sk, ifindex);
                net_filter_free(skel);
                uint64_t t2 = now_ns();
                if (r < 0)
                        return fprintf(stderr, "sabot loss trial failed: %s\n", strerror(-r)), 1;
                s.apply[i] = t1 - t0, s.revert[i] = t2 - t1;

                t0 = now_ns();
                r = sh("tc qdisc add dev sabot-bench0 clsact") ||
                    sh("tc filter add dev sabot-bench0 egress prio 49152 handle 1 bpf da obj %s sec tc", obj);
                t1 = now_ns();
                r = r || sh("tc filter del dev sabot-bench0 egress prio 49152 handle 1 bpf") ||
                    sh("tc qdisc del dev sabot-bench0 clsact");
                t2 = now_ns();
                if (r)
                        return fprintf(stderr, "tc loss trial failed\n"), 1;
                t.apply[i] = t1 - t0, t.revert[i] = t2 - t1;
        }
        report("loss fault (clsact + direct-action cls_bpf)", &s, &t, n);

        struct netem_spec ne = {.delay_ns = 100000000};
        int ifb = 0;
        int r = tc_ifb_add(sk, "sabot-benchifb", &ifb);
        if (r >= 0)
                r = tc_netem_add(sk, ifb, &ne);
        tc_ifb_del(sk, "sabot-benchifb");
        if (r < 0) {
                printf("latency fault: not measured here: no netem on this kernel (%s); the VM tier measures it\n", strerror(-r));
                return 0;
        }
        for (int i = 0; i < n; i++) {
                struct net_filter_spec spec = {.action = NET_ACT_CLASSIFY, .probability = RATIO_ONE, .l3_offset = 14,
                                               .protected_ports = &prot};
                struct net_filter_bpf *skel = NULL;
                uint64_t t0 = now_ns();
                r = tc_ifb_add(sk, "sabot-benchifb", &ifb);
                if (r >= 0)
                        r = tc_netem_add(sk, ifb, &ne);
                if (r >= 0)
                        r = tc_clsact_add(sk, ifindex);
                if (r >= 0)
                        r = net_filter_load(&spec, &skel);
                if (r >= 0)
                        r = tc_bpf_add(sk, ifindex, false, 0xc000, 0x5ab00001, net_filter_prog_fd(skel), "sabot_net", false, ifb);
                uint64_t t1 = now_ns();
                if (r >= 0)
                        r = tc_filter_del(sk, ifindex, false, 0xc000, 0x5ab00001);
                if (r >= 0)
                        r = tc_clsact_del_if_empty(sk, ifindex);
                if (r >= 0)
                        r = tc_ifb_del(sk, "sabot-benchifb");
                net_filter_free(skel);
                uint64_t t2 = now_ns();
                if (r < 0)
                        return fprintf(stderr, "sabot latency trial failed: %s\n", strerror(-r)), 1;
                s.apply[i] = t1 - t0, s.revert[i] = t2 - t1;

                t0 = now_ns();
                r = sh("ip link add sabot-benchifb type ifb") || sh("ip link set sabot-benchifb up") ||
                    sh("tc qdisc add dev sabot-benchifb root netem delay 100ms") || sh("tc qdisc add dev sabot-bench0 clsact") ||
                    sh("tc filter add dev sabot-bench0 egress prio 49152 handle 1 bpf obj %s sec tc action mirred egress "
                       "redirect dev sabot-benchifb", obj);
                t1 = now_ns();
                r = r || sh("tc filter del dev sabot-bench0 egress prio 49152 handle 1 bpf") ||
                    sh("tc qdisc del dev sabot-bench0 clsact") || sh("ip link del sabot-benchifb");
                t2 = now_ns();
                if (r)
                        return fprintf(stderr, "tc latency trial failed\n"), 1;
                t.apply[i] = t1 - t0, t.revert[i] = t2 - t1;
        }
        report("latency fault (ifb + netem + clsact + cls_bpf with act_mirred)", &s, &t, n);
        tc_close(sk);
        return 0;
}
