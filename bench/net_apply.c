/* SPDX-License-Identifier: MIT */
/* A network fault's window, opened and closed through sabot's own code
 * path (net_apply, then the revert of its journal entries, as the run
 * engine does, with the journal in a private tmpfs run dir: production's
 * /run is tmpfs), versus what the peers fork and exec, paired and
 * interleaved in the same run, in a private network namespace on a veth
 * pair.
 *
 *   net_apply BPF_OBJECT [TRIALS]     (at least 100 trials)
 *
 * loss and blackhole (one shared classifier per interface and direction):
 * a window that attaches the classifier itself (clsact, the shared
 * filter, their journal entries, a netlink socket: what the first window
 * did before the run attached it at its start), the first window after
 * the run-start attach (net_attach_preloaded, timed on its own with the
 * run's revert), and a further window (a journal entry and a map update),
 * against
 *
 *   tc     `tc qdisc add … clsact` + `tc filter add … u32 …`, and their
 *          `del`s (chaosd, ChaosBlade), one fork+exec each
 *   batch  the same lines through one `tc -batch` each way
 *   tcobj  `tc filter add … bpf da obj` (tc loading sabot's object)
 *
 * The netem kinds, where netem exists (the VM tier; not on every kernel):
 * latency, corrupt, duplicate, reorder, bandwidth (its limit as sabot
 * sizes it) and loss in bursts (Gilbert-Elliott), each a window through
 * sabot's path (an ifb with netem, clsact, its own cls_bpf filter with
 * act_mirred: the root qdisc untouched) against the ip+tc lines that
 * build the same (one fork+exec each), those through `ip -batch` + `tc
 * -batch`, and the one-liner chaosd/ChaosBlade/Pumba run, `tc qdisc add
 * dev X root netem ARGS` + `del` (which replaces the interface's root
 * qdisc: not the same effect, the peers' own); the floor, netem's bare
 * RTM_NEWQDISC + RTM_DELQDISC. The classifiers are loaded before, as the
 * run's preflight does; that load is timed on its own. */
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
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
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

/* The netem kinds: each through sabot's own path (ifb + netem + clsact
 * + its classic cls_bpf with act_mirred, never the root qdisc), against
 * the same built by ip+tc lines (what a user wanting sabot's effect
 * without sabot would run), those through ip/tc -batch, and the root
 * one-liner the peers run, which replaces the interface's root qdisc.
 * args: netem's arguments for the same effect. */
struct kind {
        const char *fault, *label;
        char args[96];
        struct netem_spec spec; /* what sabot asks netem for, for the floor */
        struct fault_run *fr;
        /* sabot's window, its objects built at the run's start; that
         * build + the run's revert of it, timed apart (once per fault
         * and run) */
        struct series sabot, build, lines, batch, root;
        uint64_t *floor;
        /* A view of the scenario with this fault alone: the run-start
         * build (net_attach_preloaded) makes its objects only. */
        struct scenario view;
        struct plan pl;
        struct fault_ctx c;
};

static int qdisc_root_del(struct nl_sock *sk, int ifindex) {
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        if (!q)
                return -ENOMEM;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
        int r = rtnl_qdisc_delete(sk, q);
        rtnl_qdisc_put(q);
        return r < 0 ? nl_to_errno(r) : 0;
}

static struct series mk(const char *name, int n) { return (struct series){name, calloc(n, 8), calloc(n, 8)}; }

/* sabot/tc and tc/sabot of the medians, apply+revert */
static void kratio(const char *what, struct series *s, struct series *peer, int n) {
        double a = p50(s->both, n), b = p50(peer->both, n);
        printf("    sabot/%-36s apply+revert %5.2f  (tc/sabot %5.1fx)   apply alone tc/sabot %5.1fx\n", what, a / b, b / a,
               p50(peer->apply, n) / p50(s->apply, n));
}

/* The peer's lines, timed: add (the first n_add of cmds), then the rest. */
static int timed(char *const *cmds, int n_add, int n_all, uint64_t *ret_apply, uint64_t *ret_both) {
        uint64_t a0 = now_ns(), a1 = 0;
        for (int k = 0; k < n_all; k++) {
                if (k == n_add)
                        a1 = now_ns();
                if (sh("%s", cmds[k]))
                        return fprintf(stderr, "failed: %s\n", cmds[k]), -1;
        }
        *ret_apply = a1 - a0, *ret_both = now_ns() - a0;
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2)
                return fprintf(stderr, "usage: %s BPF_OBJECT [TRIALS]\n", argv[0]), 2;
        const char *obj = argv[1];
        int n = argc > 2 ? atoi(argv[2]) : 100;
        /* A p99 wants 100. SABOT_BENCH_SMOKE (the VM tier's whole run,
         * where 100 rounds take ~30 min under TCG) allows fewer: every arm
         * exercised, no figure to quote, and said so. */
        bool smoke = getenv("SABOT_BENCH_SMOKE") && n >= 1 && n < 100;
        if (!smoke && (n < 100 || n > 100000))
                n = 100;
        if (smoke)
                printf("SMOKE RUN: %d rounds, not a benchmark (every p99 is a maximum); 100 rounds give the figures\n", n);
        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
                return perror("unshare"), 1;
        /* The run dir on a tmpfs of our own, gone with this process. */
        char dir[] = "/tmp/sabot-bench-net-XXXXXX";
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(dir) ||
            mount("tmpfs", dir, "tmpfs", 0, "mode=0700,size=64m") < 0)
                return perror("private tmpfs run dir"), 1;
        if (sh("ip link add sabot-bench0 type veth peer name sabot-bench1") || sh("ip link set sabot-bench0 up") ||
            sh("ip link set sabot-bench1 up"))
                return fprintf(stderr, "cannot create the veth pair\n"), 1;
        int ifindex = (int)if_nametoindex("sabot-bench0");

        /* Two blackholes on sabot-bench0 egress: "other" keeps the
         * classifier attached for the further-window figure. Then one
         * fault of each netem kind, matching what bh matches. */
        static const char ini[] =
                "[scenario]\nname = bench\nduration = 1h\n"
                "[fault bh]\ntype = blackhole\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\n"
                "[fault other]\ntype = blackhole\ninterface = sabot-bench0\nprotocol = udp\ndport = 7\n"
                "[fault lat]\ntype = latency\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\ndelay = 100ms\n"
                "[fault cor]\ntype = corrupt\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\npercent = 5%\n"
                "[fault dup]\ntype = duplicate\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\npercent = 5%\n"
                "[fault reo]\ntype = reorder\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\npercent = 25%\n"
                "delay = 10ms\n"
                "[fault bw]\ntype = bandwidth\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\nrate = 10mbit\n"
                "[fault gel]\ntype = loss\ninterface = sabot-bench0\nprotocol = udp\ndport = 9\npercent = 5%\nburst = 4\n";
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
        enum { N_FR = 8 };
        struct fault_run frs[N_FR];
        for (int i = 0; i < N_FR; i++)
                frs[i] = (struct fault_run){.f = s->faults[i]};
        struct fault_ctx c = {.j = j, .pl = &pl, .event = no_event, .frs = frs, .n_frs = N_FR};
        /* The shared classifier's run-start attach: of bh and other alone,
         * not the netem faults' objects. */
        struct scenario shview = *s;
        shview.n_faults = 2;
        struct plan shpl = {.s = &shview, .p = p};
        struct fault_ctx shc = c;
        shc.pl = &shpl, shc.n_frs = 2;

        uint64_t t0 = now_ns();
        r = net_preload(s, &p->protect.ports);
        uint64_t preload = now_ns() - t0;
        if (r < 0)
                return fprintf(stderr, "preload: %s\n", strerror(-r)), 1;

        struct series first = mk("sabot, first window, attaching (before #15 B)", n),
                      early = mk("sabot, first window, attached at run start", n),
                      attach = mk("  its run-start attach + the run's revert", n),
                      further = mk("sabot, a further window (filter attached)", n),
                      tc = mk("tc clsact + u32 filter, fork+exec each", n), batch = mk("tc -batch of the same", n),
                      tcobj = mk("tc clsact + bpf da obj (sabot's object)", n);
        /* Gilbert-Elliott for 5% in bursts of 4 (faults/loss.c): r = 1/4,
         * p = 0.05 / (4 x 0.95). */
        uint32_t bw_limit = net_netem_limit(10000000ULL, 0);
        struct kind kinds[] = {
                {"lat", "latency", "delay 100ms", {.delay_ns = 100000000ULL}, NULL, {0}, {0}, {0}, {0}, {0}, NULL, {0}, {0}, {0}},
                {"cor", "corrupt", "corrupt 5%", {.corrupt = {RATIO_ONE / 20, 0}}, NULL, {0}, {0}, {0}, {0}, {0}, NULL, {0}, {0}, {0}},
                {"dup", "duplicate", "duplicate 5%", {.duplicate = {RATIO_ONE / 20, 0}}, NULL, {0}, {0}, {0}, {0}, {0}, NULL, {0}, {0}, {0}},
                {"reo", "reorder", "delay 10ms reorder 25%", {.delay_ns = 10000000ULL, .reorder = {RATIO_ONE / 4, 0}}, NULL,
                 {0}, {0}, {0}, {0}, {0}, NULL, {0}, {0}, {0}},
                {"bw", "bandwidth", "", {.rate_bytes = 10000000ULL / 8, .limit = bw_limit}, NULL, {0}, {0}, {0}, {0}, {0}, NULL, {0}, {0}, {0}},
                {"gel", "loss in bursts (Gilbert-Elliott)", "loss gemodel 1.3158% 25%",
                 {.ge_p = (ratio_t)(RATIO_ONE / 76), .ge_r = RATIO_ONE / 4}, NULL, {0}, {0}, {0}, {0}, {0}, NULL, {0}, {0}, {0}},
        };
        enum { N_KINDS = sizeof kinds / sizeof kinds[0] };
        snprintf(kinds[4].args, sizeof kinds[4].args, "rate 10mbit limit %u", bw_limit);
        for (int k = 0; k < N_KINDS; k++) {
                struct kind *x = &kinds[k];
                for (int i = 0; i < N_FR; i++)
                        if (streq(s->faults[i]->hdr.name, x->fault)) {
                                x->fr = &frs[i];
                                x->view = *s;
                                x->view.faults = &s->faults[i];
                                x->view.n_faults = 1;
                        }
                x->pl = (struct plan){.s = &x->view, .p = p};
                x->c = c;
                x->c.pl = &x->pl, x->c.frs = x->fr, x->c.n_frs = 1;
                char *nm[5];
                if (asprintf(&nm[0], "sabot %s window (objects built at run start)", x->label) < 0 ||
                    asprintf(&nm[4], "  its run-start build + the run's revert") < 0 ||
                    asprintf(&nm[1], "ip+tc lines: ifb, netem %s, clsact, mirred", x->args) < 0 ||
                    asprintf(&nm[2], "the same through ip -batch + tc -batch") < 0 ||
                    asprintf(&nm[3], "tc qdisc add dev X root netem %s + del", x->args) < 0)
                        return 1;
                x->sabot = mk(nm[0], n), x->lines = mk(nm[1], n), x->batch = mk(nm[2], n), x->root = mk(nm[3], n);
                x->build = mk(nm[4], n);
                x->floor = calloc(n, 8);
        }
        char add[PATH_MAX], del[PATH_MAX], ipadd[PATH_MAX];
        snprintf(add, sizeof add, "%s/add.tc", dir);
        snprintf(del, sizeof del, "%s/del.tc", dir);
        snprintf(ipadd, sizeof ipadd, "%s/add.ip", dir);
        FILE *fa = fopen(add, "we"), *fd = fopen(del, "we"), *fi = fopen(ipadd, "we");
        if (!fa || !fd || !fi)
                return perror("batch files"), 1;
        fprintf(fa, "qdisc add dev sabot-bench0 clsact\nfilter add dev sabot-bench0 egress prio 49152 handle 800::1 protocol ip "
                "u32 match ip protocol 17 0xff match ip dport 9 0xffff flowid 1:1\n");
        fprintf(fd, "filter del dev sabot-bench0 egress prio 49152 handle 800::1 protocol ip u32\nqdisc del dev sabot-bench0 clsact\n");
        fprintf(fi, "link add sabot-benchifb type ifb\nlink set sabot-benchifb up\n");
        fclose(fa), fclose(fd), fclose(fi);
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
        /* The floor of a netem kind: netem's RTM_NEWQDISC and RTM_DELQDISC,
         * bare, on an ifb made once. */
        int flifb = 0;
        if (have_netem && tc_ifb_add(sk, "sabot-benchfl", &flifb) < 0)
                return fprintf(stderr, "ifb for the floor\n"), 1;
        /* The ip+tc peers of the netem kinds match as sabot does: u32 where
         * the kernel has it, else tc loading sabot's object. */
        char match[PATH_MAX + 64];
        if (have_u32)
                snprintf(match, sizeof match, "handle 800::1 protocol ip u32 match ip protocol 17 0xff match ip dport 9 0xffff");
        else
                snprintf(match, sizeof match, "handle 1 bpf obj %s sec tc", obj);
        for (int k = 0; k < N_KINDS && have_netem; k++) {
                char pth[PATH_MAX];
                snprintf(pth, sizeof pth, "%s/add-%d.tc", dir, k);
                FILE *f = fopen(pth, "we");
                if (!f)
                        return perror("batch file"), 1;
                fprintf(f, "qdisc add dev sabot-benchifb root netem %s\nqdisc add dev sabot-bench0 clsact\n"
                        "filter add dev sabot-bench0 egress prio 49152 %s action mirred egress redirect dev "
                        "sabot-benchifb\n", kinds[k].args, match);
                fclose(f);
        }
        snprintf(del, sizeof del, "%s/del-netem.tc", dir);
        if (!(fd = fopen(del, "we")))
                return perror("batch file"), 1;
        fprintf(fd, "filter del dev sabot-bench0 egress prio 49152 %s\nqdisc del dev sabot-bench0 clsact\n",
                have_u32 ? "handle 800::1 protocol ip u32" : "handle 1 bpf");
        fclose(fd);
        snprintf(del, sizeof del, "%s/del.tc", dir);

        /* The arms: 0..6 the shared classifier's, then 5 per netem kind. */
        enum { A_SHARED = 7, A_KIND = 5 };
        int n_arms = A_SHARED + (have_netem ? N_KINDS * A_KIND : 0);
        uint64_t began = now_ns();
        for (int i = 0; i < n; i++) {
                /* Progress, on stderr: under qemu's TCG a round takes seconds. */
                if (i && i % 10 == 0)
                        fprintf(stderr, "net_apply: %d of %d rounds, %.0f s\n", i, n, (double)(now_ns() - began) / 1e9);
                /* Interleaved, the order rotating: each arm sees the same load. */
                for (int step = 0; step < n_arms; step++) {
                        int arm = (i + step) % n_arms;
                        uint64_t a0, a1, a2;
                        if (arm >= A_SHARED) {
                                struct kind *x = &kinds[(arm - A_SHARED) / A_KIND];
                                char *lines[] = {
                                        "ip link add sabot-benchifb type ifb", "ip link set sabot-benchifb up", NULL,
                                        "tc qdisc add dev sabot-bench0 clsact", NULL,
                                        NULL, "tc qdisc del dev sabot-bench0 clsact", "ip link del sabot-benchifb"};
                                char l2[256], l4[PATH_MAX + 256], l5[256], b0[PATH_MAX + 16], b1[PATH_MAX + 16], b2[PATH_MAX + 16],
                                        r0[256];
                                switch ((arm - A_SHARED) % A_KIND) {
                                case 0: {
                                        /* As a run does now: the fault's ifb, netem and
                                         * filter built at the run's start (rule off), the
                                         * window, then the run's revert. */
                                        uint64_t w0 = now_ns();
                                        if ((r = net_attach_preloaded(&x->c)) < 0)
                                                return fprintf(stderr, "sabot %s run-start build: %s\n", x->label,
                                                               strerror(-r)), 1;
                                        uint64_t w1 = now_ns();
                                        if ((r = window(&x->c, x->fr, false, &x->sabot.apply[i], &x->sabot.both[i])) < 0)
                                                return fprintf(stderr, "sabot %s window: %s\n", x->label, strerror(-r)), 1;
                                        uint64_t w2 = now_ns();
                                        if ((r = journal_revert_all(c.j, NULL, NULL, NULL)) < 0)
                                                return fprintf(stderr, "sabot %s: the run's revert: %s\n", x->label,
                                                               strerror(-r)), 1;
                                        x->build.apply[i] = w1 - w0, x->build.both[i] = w1 - w0 + now_ns() - w2;
                                        break;
                                }
                                case 1:
                                        snprintf(l2, sizeof l2, "tc qdisc add dev sabot-benchifb root netem %s", x->args);
                                        snprintf(l4, sizeof l4, "tc filter add dev sabot-bench0 egress prio 49152 %s "
                                                 "action mirred egress redirect dev sabot-benchifb", match);
                                        snprintf(l5, sizeof l5, "tc filter del dev sabot-bench0 egress prio 49152 %s",
                                                 have_u32 ? "handle 800::1 protocol ip u32" : "handle 1 bpf");
                                        lines[2] = l2, lines[4] = l4, lines[5] = l5;
                                        if (timed(lines, 5, 8, &x->lines.apply[i], &x->lines.both[i]) < 0)
                                                return 1;
                                        break;
                                case 2: {
                                        snprintf(b0, sizeof b0, "ip -batch %s", ipadd);
                                        snprintf(b1, sizeof b1, "tc -batch %s/add-%d.tc", dir, (int)(x - kinds));
                                        snprintf(b2, sizeof b2, "tc -batch %s/del-netem.tc", dir);
                                        char *bl[] = {b0, b1, b2, "ip link del sabot-benchifb"};
                                        if (timed(bl, 2, 4, &x->batch.apply[i], &x->batch.both[i]) < 0)
                                                return 1;
                                        break;
                                }
                                case 3: {
                                        snprintf(r0, sizeof r0, "tc qdisc add dev sabot-bench0 root netem %s", x->args);
                                        char *rl[] = {r0, "tc qdisc del dev sabot-bench0 root"};
                                        if (timed(rl, 1, 2, &x->root.apply[i], &x->root.both[i]) < 0)
                                                return 1;
                                        break;
                                }
                                case 4:
                                        a0 = now_ns();
                                        r = tc_netem_add(sk, flifb, &x->spec);
                                        if (r >= 0)
                                                r = qdisc_root_del(sk, flifb);
                                        x->floor[i] = now_ns() - a0;
                                        if (r < 0)
                                                return fprintf(stderr, "netem floor (%s): %s\n", x->label, strerror(-r)), 1;
                                        break;
                                }
                                continue;
                        }
                        switch (arm) {
                        case 0:
                                if ((r = window(&c, &frs[0], true, &first.apply[i], &first.both[i])) < 0)
                                        return fprintf(stderr, "sabot window: %s\n", strerror(-r)), 1;
                                break;
                        case 4: {
                                /* As a run does now: the classifier attached at the
                                 * run's start, then the first window. */
                                uint64_t w0 = now_ns();
                                if ((r = net_attach_preloaded(&shc)) < 0)
                                        return fprintf(stderr, "run-start attach: %s\n", strerror(-r)), 1;
                                uint64_t w1 = now_ns();
                                if ((r = window(&c, &frs[0], false, &early.apply[i], &early.both[i])) < 0)
                                        return fprintf(stderr, "sabot window after the attach: %s\n", strerror(-r)), 1;
                                uint64_t w2 = now_ns();
                                if ((r = journal_revert_all(c.j, NULL, NULL, NULL)) < 0)
                                        return fprintf(stderr, "the run's revert: %s\n", strerror(-r)), 1;
                                attach.apply[i] = w1 - w0, attach.both[i] = w1 - w0 + now_ns() - w2;
                                break;
                        }
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
                        }
                }
        }
        printf("network fault window, %d trials each, paired and interleaved (journal in a private tmpfs run dir):\n", n);
        printf("  classifier load at preflight (once per interface and direction, not per window): %.3f ms\n",
               (double)preload / 1e6);
        row(&first, n);
        row(&early, n);
        row(&attach, n);
        row(&further, n);
        if (have_u32) {
                row(&tc, n);
                row(&batch, n);
        } else
                printf("  tc u32 peers: not here (no cls_u32 on this kernel)\n");
        row(&tcobj, n);
        struct series *peers[] = {&tc, &batch, &tcobj};
        struct series *ours[] = {&first, &early, &further};
        for (int w = 0; w < 3; w++) {
                printf("  %s:\n", ours[w]->name);
                for (int k = have_u32 ? 0 : 2; k < 3; k++)
                        ratios(ours[w], peers[k], n);
        }
        printf("  first window before -> after (#15 B, paired): apply p50 %.3f -> %.3f ms (%.1fx), apply+revert %.3f -> %.3f ms "
               "(%.1fx)\n", p50(first.apply, n), p50(early.apply, n), p50(first.apply, n) / p50(early.apply, n),
               p50(first.both, n), p50(early.both, n), p50(first.both, n) / p50(early.both, n));
        printf("  floor: one netlink round trip (a filter dump) p50 %.3f ms; a first window attaching makes 6 of them and 3\n"
               "  journal appends, one attached at run start none and 1; goal >= 20x tc per apply+revert with the journal\n",
               p50(floor_ns, n));
        if (!have_netem) {
                printf("netem kinds (latency, corrupt, duplicate, reorder, bandwidth, loss in bursts): NOT MEASURED HERE: this "
                       "kernel has no netem (sch_netem).\n  Their figures, against the tc lines and the root one-liner, come "
                       "from the VM tier, which boots Debian's stock kernel under qemu: `make bench BENCH_VM=1`, or\n"
                       "    VM_ONLY=test_bench_net.sh VM_KERNELS=linux-image-amd64 make check-vm\n"
                       "  (figures of the last runs: bench/README.md)\n");
        } else {
                printf("netem kinds, %d trials each, the %d arms of all kinds interleaved (sabot never touches the root qdisc;\n"
                       "the peers' one-liner replaces it: chaosd, ChaosBlade, Pumba run `tc qdisc add dev X root netem ...`):\n",
                       n, N_KINDS * A_KIND);
                for (int k = 0; k < N_KINDS; k++) {
                        struct kind *x = &kinds[k];
                        printf("%s:\n", x->label);
                        row(&x->sabot, n);
                        row(&x->build, n);
                        row(&x->lines, n);
                        row(&x->batch, n);
                        row(&x->root, n);
                        kratio("ip+tc lines (sabot's objects)", &x->sabot, &x->lines, n);
                        kratio("ip/tc -batch (sabot's objects)", &x->sabot, &x->batch, n);
                        kratio("root one-liner (the peers')", &x->sabot, &x->root, n);
                        /* The whole cost once per run: the build, one window, the teardown. */
                        uint64_t *all = calloc(n, 8);
                        for (int t = 0; all && t < n; t++)
                                all[t] = x->build.both[t] + x->sabot.both[t];
                        struct series whole = {"build + window + teardown", x->build.apply, all};
                        if (all)
                                kratio("ip+tc lines, a run's whole cost", &whole, &x->lines, n);
                        free(all);
                        printf("    floor: netem's bare RTM_NEWQDISC + RTM_DELQDISC p50 %.3f p99 %.3f ms; one netlink round "
                               "trip %.3f ms\n", stats_pct_ms(x->floor, n, .5), stats_pct_ms(x->floor, n, .99), p50(floor_ns, n));
                }
                printf("  (sabot's window: the fault's ifb, netem on it, clsact if absent and its classic cls_bpf filter\n"
                       "  with act_mirred are built at the run's start, the rule off (3-4 journal appends, ~7 netlink round\n"
                       "  trips, timed apart); the window is one journal append and a map update to open, the rule off\n"
                       "  and a 'reverted' record to close; the peers' lines match with %s)\n",
                       have_u32 ? "u32" : "tc loading sabot's object (no cls_u32 here)");
                tc_ifb_del(sk, "sabot-benchfl");
        }
        tc_close(sk);
        journal_remove(j);
        journal_free(j);
        umount2(dir, MNT_DETACH);
        rmdir(dir);
        return 0;
}
