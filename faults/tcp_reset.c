/* SPDX-License-Identifier: MIT */
/* tcp-reset: TCP connections that match (interface, direction,
 * addresses, ports, the target's cgroup on egress) are reset once the
 * window opens: bpf/tcp_reset.bpf.c on the clsact hook turns a matching
 * segment, in place, into a RST the local stack takes as the peer's
 * (egress: turned back to the socket that sent it; ingress: the arriving
 * one, its sequence the socket's rcv_nxt as a second program on the
 * egress hook learns it from the socket's ACKs), so the application's
 * next read or write fails with ECONNRESET and its new connections with
 * ECONNREFUSED. percent is of connections (a hash of the
 * 4-tuple), not of segments. Attached and journaled as the dns kind's
 * program is (net_attach: "clsact" and "tcfilter" entries, whose reverts,
 * abort, recover and the sweep already know). */
#include <linux/if_ether.h>
#include <net/if.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "net.h"
#include "rand.h"
#include "tcp_reset_loader.h"

static const char *const keys[] = {"interface", "direction", "dst", "src", "dport", "sport", "percent", NULL};

static const struct fault_key_doc key_docs[] = {
        {"direction", "egress",
         "egress: the segments leaving are turned back as RSTs from the peer, which sees nothing; ingress: the "
         "segments arriving become RSTs (a SYN for a local server is dropped), with the sequence the socket's "
         "own ACKs on egress say it expects"},
        {"percent", "100%",
         "share of matching connections reset, decided per connection (a hash of its addresses and ports); the "
         "others pass untouched; at most the policy's max_tcp_reset_percent"},
        {NULL},
};

static ratio_t share(const struct fault *f) { return fault_line(f, "percent") ? f->percent : RATIO_ONE; }

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% resets no connection");
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 64], a[FORMAT_MAX];
        if (share(f) > lc->eff->max_tcp_reset_percent) {
                snprintf(what, sizeof what, "tcp-reset percent = %s%s", format_ratio(a, share(f)),
                         fault_line(f, "percent") ? "" : " (the default)");
                lc->over(lc, LIMIT_TCP_RESET_PERCENT,
                         fault_line(f, "percent") ? fault_line(f, "percent") : fault_line(f, "type"), what);
        }
}

/* Whether this kernel's verifier takes the program (tried once a process). */
static int program_loads(char *why, size_t len) {
        static int loaded = 1;
        static char loaded_why[256];
        if (loaded > 0) {
                struct tcp_reset_bpf *skel = NULL;
                struct tcp_reset_spec spec = {.probability = RATIO_ONE, .l3_offset = ETH_HLEN};
                loaded = tcp_reset_load(&spec, &skel);
                if (loaded < 0)
                        snprintf(loaded_why, sizeof loaded_why, "cannot load the tcp-reset program (%s): the kernel's "
                                 "BPF verifier refused it (it needs bpf_loop, Linux 5.17) or BPF is not allowed "
                                 "(CAP_BPF, CONFIG_BPF_SYSCALL)", strerror(-loaded));
                else
                        tcp_reset_free(skel);
        }
        snprintf(why, len, "%s", loaded < 0 ? loaded_why : "");
        return loaded < 0 ? -EOPNOTSUPP : 0;
}

static int probe(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        int r = net_probe_drop(sc, f, why, len);
        return r < 0 ? r : program_loads(why, len);
}

static void doctor(doctor_row_fn row, void *ud) {
        struct net_support s;
        char why[256];
        net_probe(&s);
        if (s.clsact_why[0])
                snprintf(why, sizeof why, "%s", s.clsact_why);
        else
                (void)program_loads(why, sizeof why);
        row(ud, "tcp-reset (clsact + cls_bpf, bpf_skb_change_tail)", why, NULL, false);
}

static const struct fault_backend tcp_reset_backend = {.title = "tcp-reset faults", .doctor = doctor};

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      reset %s of matching TCP connections (ECONNRESET; new ones ECONNREFUSED)\n",
                format_ratio(a, share(f)));
        net_describe_match(out, pl, i,
                           f->direction == DIR_EGRESS
                                   ? "clsact qdisc (if absent), a sabot tc classifier (cls_bpf) that turns leaving "
                                     "segments back as RSTs"
                                   : "clsact qdisc (if absent), a sabot tc classifier (cls_bpf) that turns arriving "
                                     "segments into RSTs, and one on egress that reads the sockets' ACKs");
}

struct tr_priv {
        struct tcp_reset_bpf *skel;
};

static void tr_priv_free(void *p) {
        struct tr_priv *d = p;
        if (d && d->skel)
                tcp_reset_free(d->skel);
        free(d);
}


static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX];
        int r;
        long type;
        int l3 = net_l3_offset(f->interface, &type);
        if (l3 < 0)
                return fault_fail(fr, -EOPNOTSUPP, "%s is of link type %ld: the tcp-reset fault knows Ethernet, "
                                  "loopback and IP-only links (tunnels, WireGuard), where it finds the IP header",
                                  f->interface, type);
        struct tcp_reset_spec spec = {
                .probability = share(f),
                .seed = (uint32_t)rand_u64(),
                .l3_offset = (uint32_t)l3,
                .egress = f->direction == DIR_EGRESS,
                .dst = &f->dst,
                .src = &f->src,
                .dport = &f->dport,
                .sport = &f->sport,
                .protected_ports = &c->pl->p->protect.ports,
        };
        if (f->target_index >= 0 && (r = fault_target_cgroup(c, f, &spec.cgroup_id, &spec.cgroup_level)) < 0)
                return fault_fail(fr, r, "cannot find the cgroup of target %s", f->target);
        struct tr_priv *priv = calloc(1, sizeof *priv);
        if (!priv)
                return -ENOMEM;
        fr->priv = priv;
        fr->priv_free = tr_priv_free;
        uint32_t prog_id = 0;
        /* Loading (the verifier) and each attach can take seconds on a
         * slow machine: the guardian is told the runner lives between. */
        fault_beat(c);
        r = tcp_reset_load(&spec, &priv->skel);
        fault_beat(c);
        if (r >= 0)
                r = tcp_reset_prog_id(priv->skel, &prog_id);
        if (r < 0)
                return fault_fail(fr, r, "cannot load the tcp-reset program");
        /* On ingress the sockets' ACKs are read from the start, before
         * the first arriving segment is rewritten. */
        if (f->direction == DIR_INGRESS) {
                uint32_t learn_id = 0;
                int fd = tcp_reset_learn_fd(priv->skel);
                if ((r = tcp_reset_id_of(fd, &learn_id)) < 0)
                        return fault_fail(fr, r, "cannot load the tcp-reset program");
                if ((r = net_attach_hook(c, fr, fd, learn_id, "sabot_tcp_reset_learn", false)) < 0)
                        return r;
                fault_beat(c);
        }
        r = net_attach(c, fr, tcp_reset_prog_fd(priv->skel), prog_id, "sabot_tcp_reset");
        if (r < 0)
                return r;
        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s %s: resetting %s of matching TCP connections", f->interface,
                    f->direction == DIR_EGRESS ? "egress" : "ingress", format_ratio(a, share(f)));
        return 0;
}

static int counters(struct fault_run *fr, uint64_t n[static _TR_COUNTERS]) {
        struct tr_priv *priv = fr->priv;
        if (!priv || !priv->skel || tcp_reset_counters(priv->skel, n) < 0)
                return -ENODATA;
        fr->strikes = (unsigned)n[TR_MATCHED];
        fr->hits = (unsigned)n[TR_RESET];
        return 0;
}

static void progress(struct fault_run *fr, char *buf, size_t len) {
        uint64_t n[_TR_COUNTERS] = {0};
        if (fr->state == FR_ACTIVE)
                (void)counters(fr, n);
        snprintf(buf, len, "reset %u of %u segments", fr->hits, fr->strikes);
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        uint64_t n[_TR_COUNTERS] = {0};
        (void)c;
        if (counters(fr, n) < 0)
                return;
        char failed[128] = "";
        if (n[TR_FAILED])
                snprintf(failed, sizeof failed, ", %llu could not be rewritten", (unsigned long long)n[TR_FAILED]);
        if (n[TR_PASSED])
                snprintf(failed + strlen(failed), sizeof failed - strlen(failed),
                         ", %llu let through for their socket to say what it expects", (unsigned long long)n[TR_PASSED]);
        snprintf(fr->outcome, sizeof fr->outcome,
                 "reset %llu of %llu matching TCP segments, %llu connections hit (%llu seen, %llu protected%s)",
                 (unsigned long long)n[TR_RESET], (unsigned long long)n[TR_MATCHED], (unsigned long long)n[TR_CONNS],
                 (unsigned long long)n[TR_SEEN], (unsigned long long)n[TR_PROTECTED], failed);
}

static const struct jentry_kind entries[] = {NET_ENTRY_CLSACT, NET_ENTRY_FILTER, {NULL}};

const struct fault_ops tcp_reset_ops = {
        .kind = {.name = "tcp-reset",
                 .summary = "resets matching TCP connections, IPv4 and IPv6, on egress or ingress (ECONNRESET, new "
                            "ones refused) by rewriting their segments into RSTs, in eBPF",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = probe,
        .describe = describe,
        .progress = progress,
        .apply = apply,
        .backend = &tcp_reset_backend,
        .counter_names = {"matched", "acted_on"},
        .finish = finish,
        .reach = FAULT_REACH_CGROUP,
        .holds = FAULT_HOLDS_PROTECTED_PORTS,
};
