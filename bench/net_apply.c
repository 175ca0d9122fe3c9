/* SPDX-License-Identifier: MIT */
/* A network fault's window, opened and closed through sabot's own code
 * path (net_apply, then the revert of its journal entries, as the run
 * engine does, with the journal in a private tmpfs run dir: production's
 * /run is tmpfs), versus what the peers fork and exec, paired and
 * interleaved in the same run, in a private network namespace on a veth
 * pair:
 *
 *   tc     `tc qdisc add … clsact` + `tc filter add … bpf da obj …`, and
 *          `tc filter del …` + `tc qdisc del … clsact` (chaosd, ChaosBlade)
 *   batch  the same lines through one `tc -batch` each way
 *   netem  `tc qdisc add dev X root netem delay 100ms` + `tc qdisc del dev
 *          X root`, the one line most peers run (where netem exists: not on
 *          every kernel; the VM tier has it)
 *
 *   net_apply BPF_OBJECT [TRIALS]     (at least 100 trials)
 *
 * sabot's figures: a blackhole's window when it is the first on its
 * interface and direction (clsact, the shared filter, their journal
 * entries, a netlink socket: the worst case), and a further window on a
 * hook whose classifier is already attached (a journal entry and a map
 * update). The classifiers are loaded before, as the run's preflight
 * does; that load is timed on its own. */
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../agent/diag.h"
#include "../agent/journal.h"
#include "../agent/policy.h"
#include "../agent/resolve.h"
#include "../agent/scenario.h"
#include "../faults/fault.h"
#include "../faults/net.h"
#include "../faults/tc.h"
#include "bench.h"
#include "stats.h"

static void no_event(void *ud, int level, const struct fault *f, const char *fmt, va_list ap) {
        (void)ud, (void)level, (void)f, (void)fmt, (void)ap;
}

struct series {
        const char *name;
        uint64_t *apply, *both;
};

static double p50(uint64_t *v, int n) { return stats_pct_ms(v, n, .5); }

static void row(struct series *x, int n) {
        double a = p50(x->apply, n), b = p50(x->both, n);
        printf("  %-44s apply p50 %7.3f p99 %7.3f   apply+revert p50 %7.3f p99 %7.3f ms\n", x->name, a,
               stats_pct_ms(x->apply, n, .99), b, stats_pct_ms(x->both, n, .99));
}

static void ratios(struct series *s, struct series *peer, int n) {
        printf("    vs %-46s apply %6.1fx   apply+revert %6.1fx\n", peer->name, p50(peer->apply, n) / p50(s->apply, n),
               p50(peer->both, n) / p50(s->both, n));
}

/* One window of fault fr as the engine runs it: apply, then at its end
 * finish and the revert of its journal entries; last: also the revert of
 * what the run holds (the hook's filter, clsact), as at the run's end. */
static int window(struct fault_ctx *c, struct fault_run *fr, bool last, uint64_t *ret_apply, uint64_t *ret_both) {
        const struct fault_ops *ops = fault_ops_get(fr->f->type);
        uint64_t t0 = now_ns();
        fr->state = FR_ACTIVE;
        int r = ops->apply(c, fr);
        uint64_t t1 = now_ns();
        unsigned failed = 0;
        if (r >= 0 && ops->finish)
                ops->finish(c, fr);
        if (r >= 0)
                r = journal_revert_some(c->j, fr->seqs, fr->n_seqs, &failed);
        if (r >= 0 && last)
                r = journal_revert_all(c->j, &failed, NULL, NULL);
        uint64_t t2 = now_ns();
        if (fr->priv_free)
                fr->priv_free(fr->priv);
        free(fr->seqs);
        const struct fault *f = fr->f;
        *fr = (struct fault_run){.f = f};
        if (ret_apply)
                *ret_apply = t1 - t0, *ret_both = t2 - t0;
        return r < 0 ? r : failed ? -EIO : 0;
}

int main(int argc, char **argv) {
        if (argc < 2)
                return fprintf(stderr, "usage: %s BPF_OBJECT [TRIALS]\n", argv[0]), 2;
        const char *obj = argv[1];
        int n = argc > 2 ? atoi(argv[2]) : 100;
        if (n < 100 || n > 100000)
                n = 100; /* a p99 wants 100 */
        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
                return perror("unshare"), 1;
        /* The run dir on a tmpfs of our own, gone with this process. */
        char dir[] = "/tmp/sabot-bench-net-XXXXXX";
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(dir) ||
            mount("tmpfs", dir, "tmpfs", 0, "mode=0700,size=16m") < 0)
                return perror("private tmpfs run dir"), 1;
        if (sh("ip link add sabot-bench0 type veth peer name sabot-bench1") || sh("ip link set sabot-bench0 up") ||
            sh("ip link set sabot-bench1 up"))
                return fprintf(stderr, "cannot create the veth pair\n"), 1;
        int ifindex = (int)if_nametoindex("sabot-bench0");

        /* Two blackholes on sabot-bench0 egress: "other" keeps the
         * classifier attached for the further-window figure. */
        static const char ini[] = "[scenario]\nname = bench\nduration = 1h\n"
                                  "[fault bh]\ntype = blackhole\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\n"
                                  "[fault other]\ntype = blackhole\ninterface = sabot-bench0\nprotocol = udp\ndport = 7\n"
                                  "[fault lat]\ntype = latency\ninterface = sabot-bench0\ndelay = 100ms\n";
        struct diags d = {0};
        struct scenario *s = NULL;
        struct policy *p = policy_new_default();
        if (!p || scenario_parse("bench.ini", ini, sizeof ini - 1, &s, &d) < 0 || d.errors)
                return diags_print(&d, stderr), 1;
        struct journal *j = NULL;
        int r = journal_create(dir, "bench-net", "bench", &j);
        if (r < 0)
                return fprintf(stderr, "journal: %s\n", strerror(-r)), 1;
        struct plan pl = {.s = s, .p = p};
        struct fault_run frs[3] = {{.f = s->faults[0]}, {.f = s->faults[1]}, {.f = s->faults[2]}};
        struct fault_ctx c = {.j = j, .pl = &pl, .event = no_event, .frs = frs, .n_frs = 3};

        uint64_t t0 = now_ns();
        r = net_preload(s, &p->protect.ports);
        uint64_t preload = now_ns() - t0;
        if (r < 0)
                return fprintf(stderr, "preload: %s\n", strerror(-r)), 1;

        struct series first = {"sabot, first window on the hook", calloc(n, 8), calloc(n, 8)},
                      further = {"sabot, a further window (filter attached)", calloc(n, 8), calloc(n, 8)},
                      tc = {"tc clsact + u32 filter, fork+exec each", calloc(n, 8), calloc(n, 8)},
                      batch = {"tc -batch of the same", calloc(n, 8), calloc(n, 8)},
                      tcobj = {"tc clsact + bpf da obj (sabot's object)", calloc(n, 8), calloc(n, 8)},
                      netem = {"tc qdisc add root netem delay 100ms + del", calloc(n, 8), calloc(n, 8)},
                      lat = {"sabot latency window (its own filter)", calloc(n, 8), calloc(n, 8)},
                      tclat = {"ip+tc lines: ifb, netem, clsact, mirred filter", calloc(n, 8), calloc(n, 8)};
        char add[PATH_MAX], del[PATH_MAX];
        snprintf(add, sizeof add, "%s/add.tc", dir);
        snprintf(del, sizeof del, "%s/del.tc", dir);
        FILE *fa = fopen(add, "we"), *fd = fopen(del, "we");
        if (!fa || !fd)
                return perror("batch files"), 1;
        fprintf(fa, "qdisc add dev sabot-bench0 clsact\nfilter add dev sabot-bench0 egress prio 49152 handle 800::1 protocol ip "
                "u32 match ip protocol 17 0xff match ip dport 9 0xffff flowid 1:1\n");
        fprintf(fd, "filter del dev sabot-bench0 egress prio 49152 handle 800::1 protocol ip u32\nqdisc del dev sabot-bench0 clsact\n");
        fclose(fa), fclose(fd);
        struct nl_sock *sk = NULL;
        if (tc_open(&sk) < 0)
                return fprintf(stderr, "netlink socket\n"), 1;
        uint64_t *floor_ns = calloc(n, 8);
        /* cls_u32 may be a module not loaded (the VM guest loads what it
         * names): without it the u32 peers are left out, and said. */
        bool have_u32 = sh("tc qdisc add dev sabot-bench1 clsact") == 0 &&
                        sh("tc filter add dev sabot-bench1 egress prio 1 protocol ip u32 match ip dport 9 0xffff flowid 1:1") == 0;
        sh("tc qdisc del dev sabot-bench1 clsact");
        bool have_netem = sh("tc qdisc add dev sabot-bench1 root netem delay 100ms") == 0;
        if (have_netem)
                sh("tc qdisc del dev sabot-bench1 root");

        for (int i = 0; i < n; i++) {
                /* Interleaved, the order rotating: each peer sees the same load. */
                for (int k = 0; k < 7; k++) {
                        uint64_t a0, a1, a2;
                        switch ((i + k) % 7) {
                        case 0:
                                if ((r = window(&c, &frs[0], true, &first.apply[i], &first.both[i])) < 0)
                                        return fprintf(stderr, "sabot window: %s\n", strerror(-r)), 1;
                                break;
                        case 1: {
                                /* "other" attached the filter; bh's window opens and closes. */
                                frs[1].state = FR_ACTIVE;
                                if ((r = fault_ops_get(frs[1].f->type)->apply(&c, &frs[1])) < 0)
                                        return fprintf(stderr, "sabot hold: %s\n", strerror(-r)), 1;
                                r = window(&c, &frs[0], false, &further.apply[i], &further.both[i]);
                                if (r >= 0) {
                                        /* "other" applied already: only its end and the run's (not timed) */
                                        fault_ops_get(frs[1].f->type)->finish(&c, &frs[1]);
                                        r = journal_revert_all(c.j, NULL, NULL, NULL);
                                        frs[1].priv_free(frs[1].priv);
                                        free(frs[1].seqs);
                                        frs[1] = (struct fault_run){.f = s->faults[1]};
                                }
                                if (r < 0)
                                        return fprintf(stderr, "sabot further window: %s\n", strerror(-r)), 1;
                                break;
                        }
                        case 2:
                                if (!have_u32)
                                        break;
                                a0 = now_ns();
                                r = sh("tc qdisc add dev sabot-bench0 clsact") ||
                                    sh("tc filter add dev sabot-bench0 egress prio 49152 handle 800::1 protocol ip u32 match ip "
                                       "protocol 17 0xff match ip dport 9 0xffff flowid 1:1");
                                a1 = now_ns();
                                r = r || sh("tc filter del dev sabot-bench0 egress prio 49152 handle 800::1 protocol ip u32") ||
                                    sh("tc qdisc del dev sabot-bench0 clsact");
                                a2 = now_ns();
                                if (r)
                                        return fprintf(stderr, "tc trial failed\n"), 1;
                                tc.apply[i] = a1 - a0, tc.both[i] = a2 - a0;
                                break;
                        case 6:
                                a0 = now_ns();
                                r = sh("tc qdisc add dev sabot-bench0 clsact") ||
                                    sh("tc filter add dev sabot-bench0 egress prio 49152 handle 1 bpf da obj %s sec tc", obj);
                                a1 = now_ns();
                                r = r || sh("tc filter del dev sabot-bench0 egress prio 49152 handle 1 bpf") ||
                                    sh("tc qdisc del dev sabot-bench0 clsact");
                                a2 = now_ns();
                                if (r)
                                        return fprintf(stderr, "tc bpf obj trial failed\n"), 1;
                                tcobj.apply[i] = a1 - a0, tcobj.both[i] = a2 - a0;
                                break;
                        case 3:
                                if (!have_u32)
                                        break;
                                a0 = now_ns();
                                r = sh("tc -batch %s", add);
                                a1 = now_ns();
                                r = r || sh("tc -batch %s", del);
                                a2 = now_ns();
                                if (r)
                                        return fprintf(stderr, "tc -batch trial failed\n"), 1;
                                batch.apply[i] = a1 - a0, batch.both[i] = a2 - a0;
                                break;
                        case 5: {
                                /* The floor: one netlink request and its answer (a filter dump). */
                                a0 = now_ns();
                                r = tc_filter_count(sk, ifindex, false);
                                floor_ns[i] = now_ns() - a0;
                                if (r < 0)
                                        return fprintf(stderr, "netlink floor: %s\n", strerror(-r)), 1;
                                break;
                        }
                        case 4:
                                if (!have_netem)
                                        break;
                                a0 = now_ns();
                                r = sh("tc qdisc add dev sabot-bench0 root netem delay 100ms");
                                a1 = now_ns();
                                r = r || sh("tc qdisc del dev sabot-bench0 root");
                                a2 = now_ns();
                                if (r)
                                        return fprintf(stderr, "netem trial failed\n"), 1;
                                netem.apply[i] = a1 - a0, netem.both[i] = a2 - a0;
                                if ((r = window(&c, &frs[2], true, &lat.apply[i], &lat.both[i])) < 0)
                                        return fprintf(stderr, "sabot latency window: %s\n", strerror(-r)), 1;
                                a0 = now_ns();
                                r = sh("ip link add sabot-benchifb type ifb") || sh("ip link set sabot-benchifb up") ||
                                    sh("tc qdisc add dev sabot-benchifb root netem delay 100ms") ||
                                    sh("tc qdisc add dev sabot-bench0 clsact") ||
                                    sh("tc filter add dev sabot-bench0 egress prio 49152 handle 1 bpf obj %s sec tc action "
                                       "mirred egress redirect dev sabot-benchifb", obj);
                                a1 = now_ns();
                                r = r || sh("tc filter del dev sabot-bench0 egress prio 49152 handle 1 bpf") ||
                                    sh("tc qdisc del dev sabot-bench0 clsact") || sh("ip link del sabot-benchifb");
                                a2 = now_ns();
                                if (r)
                                        return fprintf(stderr, "tc latency trial failed\n"), 1;
                                tclat.apply[i] = a1 - a0, tclat.both[i] = a2 - a0;
                                break;
                        }
                }
        }
        printf("network fault window, %d trials each, paired and interleaved (journal in a private tmpfs run dir):\n", n);
        printf("  classifier load at preflight (once per interface and direction, not per window): %.3f ms\n",
               (double)preload / 1e6);
        row(&first, n);
        row(&further, n);
        if (have_u32) {
                row(&tc, n);
                row(&batch, n);
        } else
                printf("  tc u32 peers: not here (no cls_u32 on this kernel)\n");
        row(&tcobj, n);
        if (have_netem)
                row(&netem, n);
        struct series *peers[] = {&tc, &batch, &tcobj, &netem};
        for (int w = 0; w < 2; w++) {
                struct series *x = w ? &further : &first;
                printf("  %s:\n", x->name);
                for (int k = 0; k < 4; k++)
                        if ((k != 3 || have_netem) && (k >= 2 || have_u32))
                                ratios(x, peers[k], n);
                if (!have_netem)
                        printf("    vs the netem one-liner: not here (no netem on this kernel); the VM tier has it\n");
        }
        if (have_netem) {
                printf("latency fault (ifb + netem + clsact + cls_bpf with act_mirred), %d trials:\n", n);
                row(&lat, n);
                row(&tclat, n);
                row(&netem, n);
                ratios(&lat, &tclat, n);
                ratios(&lat, &netem, n);
        } else
                printf("latency fault: not measured here: no netem on this kernel; the VM tier measures it\n");
        printf("  floor: one netlink round trip (a filter dump) p50 %.3f ms; a first window makes 6 of them and 3 journal\n"
               "  appends; goal >= 20x tc per apply+revert with the journal\n", p50(floor_ns, n));
        tc_close(sk);
        journal_remove(j);
        journal_free(j);
        umount2(dir, MNT_DETACH);
        rmdir(dir);
        return 0;
}
