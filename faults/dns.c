/* SPDX-License-Identifier: MIT */
/* dns: DNS queries over UDP that this host (or a target's cgroup) sends
 * out of an interface, for names under the fault's domains, get a failing
 * answer (NXDOMAIN, SERVFAIL, REFUSED) made in place of the resolver's, or
 * none at all (timeout): bpf/dns_filter.bpf.c on the clsact egress hook,
 * as its own cls_bpf filter, attached and journaled the way the other
 * network kinds' are (net_attach: "clsact" and "tcfilter" entries, whose
 * reverts, abort, recover and the sweep already know). No resolver is
 * swapped, no file edited. Queries over TCP pass untouched. */
#include <fcntl.h>
#include <linux/if_ether.h>
#include <pthread.h>
#include <net/if.h>
#include <sys/socket.h>
#include <syslog.h>

#include "dns.h"
#include "dns_filter_loader.h"
#include "net.h"

static const char *const keys[] = {"interface", "direction", "dst", "dport", "answer", "domains", "percent", NULL};

static const struct fault_key_doc key_docs[] = {
        {"interface", "required",
         "the interface the queries leave by (lo for a resolver on this host, such as systemd-resolved's 127.0.0.53)"},
        {"direction", "egress", "egress only: the queries this host sends; ingress is an error"},
        {"percent", "100%", "share of matching queries that get the answer; the others reach the resolver as before"},
        {"dst", "any", "only queries to these resolvers"},
        {"dport", "53", "the resolvers' port"},
        {NULL},
};

static const char *const answer_names[] = {
        [DNS_ANSWER_NXDOMAIN] = "NXDOMAIN", [DNS_ANSWER_SERVFAIL] = "SERVFAIL",
        [DNS_ANSWER_REFUSED] = "REFUSED", [DNS_ANSWER_TIMEOUT] = "timeout"};

static uint32_t answer_rcode(int a) {
        switch (a) {
        case DNS_ANSWER_SERVFAIL: return DNS_RCODE_SERVFAIL;
        case DNS_ANSWER_REFUSED: return DNS_RCODE_REFUSED;
        case DNS_ANSWER_TIMEOUT: return DNS_DROP;
        default: return DNS_RCODE_NXDOMAIN;
        }
}

static ratio_t share(const struct fault *f) { return fault_line(f, "percent") ? f->percent : RATIO_ONE; }

/* The domains key, a comma-separated list, in wire form: how many, or
 * -EINVAL with why. */
static int parse_domains(const char *value, struct dns_domain out[static DNS_MAX_DOMAINS], char *why, size_t len) {
        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        int n = 0;
        char *p = copy;
        for (;;) {
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t l = strlen(p);
                while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
                        p[--l] = '\0';
                if (!*p) {
                        snprintf(why, len, "an empty entry in the list");
                        return -EINVAL;
                }
                if (n >= DNS_MAX_DOMAINS) {
                        snprintf(why, len, "more than %d names", DNS_MAX_DOMAINS);
                        return -EINVAL;
                }
                int r = dns_domain_wire(p, &out[n], why, len);
                if (r < 0)
                        return r;
                n++;
                if (!comma)
                        return n;
                p = comma + 1;
        }
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        if (fault_ok(f, "direction") && f->direction == DIR_INGRESS)
                diag_error(d, s->file, fault_line(f, "direction"), "a dns fault answers the queries this host sends: "
                           "direction = egress only (the default)");
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% fails no query");
        if (fault_ok(f, "domains")) {
                struct dns_domain dom[DNS_MAX_DOMAINS];
                char why[512];
                if (parse_domains(f->domains, dom, why, sizeof why) < 0)
                        diag_error(d, s->file, fault_line(f, "domains"), "domains: %s; allowed: up to %d names, "
                                   "comma-separated, each matching itself and every name below it "
                                   "(e.g. domains = example.com, internal)", why, DNS_MAX_DOMAINS);
        }
}

/* max_dns_percent holds every answer, timeout included: a dropped query
 * fails its client as surely as a failing answer. */
static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 64], a[FORMAT_MAX];
        if (share(f) > lc->eff->max_dns_percent) {
                snprintf(what, sizeof what, "dns percent = %s%s", format_ratio(a, share(f)),
                         fault_line(f, "percent") ? "" : " (the default)");
                lc->over(lc, LIMIT_DNS_PERCENT, fault_line(f, "percent") ? fault_line(f, "percent") : fault_line(f, "type"),
                         what);
        }
}



static void link_type_why(const char *dev, long type, char *why, size_t len) {
        snprintf(why, len, "%s is of link type %ld (ARPHRD_* in linux/if_arp.h): the dns fault knows Ethernet, "
                 "loopback and IP-only links (tun, IP tunnels, WireGuard), where it finds the IP header", dev, type);
}

/* Whether this kernel's verifier takes the program: 0, or a negative
 * errno and why (tried once a process). */
static int program_loads(char *why, size_t len) {
        static int loaded = 1;
        static char loaded_why[256];
        if (loaded > 0) {
                struct dns_filter_bpf *skel = NULL;
                struct dns_filter_spec spec = {.rcode = DNS_RCODE_NXDOMAIN, .probability = RATIO_ONE, .l3_offset = ETH_HLEN};
                loaded = dns_filter_load(&spec, &skel);
                if (loaded < 0)
                        snprintf(loaded_why, sizeof loaded_why, "cannot load the dns program (%s): the kernel's BPF "
                                 "verifier refused it (it needs bpf_loop, Linux 5.17) or BPF is not allowed (CAP_BPF, "
                                 "CONFIG_BPF_SYSCALL)", strerror(-loaded));
                else
                        dns_filter_free(skel);
        }
        snprintf(why, len, "%s", loaded < 0 ? loaded_why : "");
        return loaded < 0 ? -EOPNOTSUPP : 0;
}

/* A link type the program cannot read is refused before the run; an
 * interface that is not there is the plan's to say. */
static int probe(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        int r = net_probe_drop(sc, f, why, len);
        if (r < 0)
                return r;
        long type;
        if (net_l3_offset(f->interface, &type) == -EPROTONOSUPPORT) {
                link_type_why(f->interface, type, why, len);
                return -EOPNOTSUPP;
        }
        return program_loads(why, len);
}

/* doctor's row. The filters are tagged as the other network faults' are:
 * net_backend's sweep removes orphaned ones. */
static void doctor(doctor_row_fn row, void *ud) {
        struct net_support s;
        char why[256];
        net_probe(&s);
        if (s.clsact_why[0])
                snprintf(why, sizeof why, "%s", s.clsact_why);
        else
                (void)program_loads(why, sizeof why);
        row(ud, "dns (clsact + cls_bpf, bpf_redirect)", why, NULL, false);
}

static const struct fault_backend dns_backend = {.title = "dns faults", .doctor = doctor};

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        if (f->answer == DNS_ANSWER_TIMEOUT)
                fprintf(out, "      drop %s of matching DNS queries (the client times out)\n", format_ratio(a, share(f)));
        else
                fprintf(out, "      answer %s of matching DNS queries with %s, in place of the resolver\n",
                        format_ratio(a, share(f)), answer_names[f->answer]);
        _cleanup_free_ char *dst = format_cidr_list(&f->dst), *dp = format_port_list(&f->dport),
                            *prot = format_port_list(&pl->p->protect.ports);
        fprintf(out, "      match: UDP queries to port %s;", f->dport.n ? dp : "53");
        if (f->domains)
                fprintf(out, " names under %s;", f->domains);
        if (f->dst.n)
                fprintf(out, " resolvers %s;", dst);
        if (f->target)
                fprintf(out, " queries of target %s;", f->target);
        fprintf(out, " never ports %s; TCP queries pass\n", prot && *prot ? prot : "(none)");
        fprintf(out, "      would create: clsact qdisc (if absent), a sabot tc classifier (cls_bpf) that %s\n",
                f->answer == DNS_ANSWER_TIMEOUT ? "drops them" : "answers them back to the interface's ingress");
}

struct dns_priv {
        struct dns_filter_bpf *skel;
};

static void dns_priv_free(void *p) {
        struct dns_priv *d = p;
        if (d && d->skel)
                dns_filter_free(d->skel);
        free(d);
}

/* What f's program matches and answers (its target's cgroup aside, set
 * when its window opens): 0, or a negative errno and why. dom holds the
 * domains spec points at. */
static int spec_of(const struct fault *f, const struct port_list *protected_ports, struct dns_domain dom[static DNS_MAX_DOMAINS],
                   struct dns_filter_spec *ret, char *why, size_t len) {
        char w[512];
        int n = 0;
        if (f->domains && (n = parse_domains(f->domains, dom, w, sizeof w)) < 0) {
                snprintf(why, len, "domains: %.400s", w);
                return n;
        }
        long type;
        int l3 = net_l3_offset(f->interface, &type);
        if (l3 == -EPROTONOSUPPORT) {
                link_type_why(f->interface, type, why, len);
                return -EOPNOTSUPP;
        }
        if (l3 < 0) {
                snprintf(why, len, "cannot read the link type of %s", f->interface);
                return l3;
        }
        *ret = (struct dns_filter_spec){
                .rcode = answer_rcode(f->answer),
                .probability = share(f),
                .l3_offset = (uint32_t)l3,
                .domains = dom,
                .n_domains = (size_t)n,
                .dst = &f->dst,
                .dport = &f->dport,
                .protected_ports = protected_ports,
        };
        return 0;
}

/* ---- loaded before the run ----
 * Each dns fault's program is loaded by the run's preflight (dns_preload),
 * before the guardian watches the runner's heartbeat: the verifier takes
 * tens of milliseconds for it here, and took more than the guardian's 3 s
 * grace at load 18, inside a window, where the runner was killed as hung.
 * A window then only sets its target's cgroup and attaches the filter. */
struct dns_loaded {
        pid_t owner; /* who loaded it: a forked child's copy is not its own */
        const struct fault *f;
        uint32_t l3_offset; /* of the interface then */
        struct dns_filter_bpf *skel;
        uint32_t prog_id;
};
static struct dns_loaded *loaded_v;
static size_t loaded_n;

/* In a child forked from the runner (the guardian first): a program that
 * is still loaded tells a revert that its filter is still attached
 * somewhere (net.c's in_netns, where the namespace is gone), so the child
 * lets go of the runner's. Only the program's fd is closed: the rest of
 * the skeleton is the runner's, never used here (owner), never freed. */
static void loaded_forget_in_child(void) {
        for (size_t i = 0; i < loaded_n; i++)
                if (loaded_v[i].skel && loaded_v[i].owner != getpid()) {
                        (void)close(dns_filter_prog_fd(loaded_v[i].skel));
                        loaded_v[i].skel = NULL;
                }
}

int dns_preload(const struct scenario *sc, const struct port_list *protected_ports) {
        static bool registered;
        int first = 0;
        if (!registered) {
                int q = pthread_atfork(NULL, NULL, loaded_forget_in_child);
                if (q != 0)
                        return -q;
                registered = true;
        }
        for (size_t i = 0; i < sc->n_faults; i++) {
                const struct fault *f = sc->faults[i];
                if (fault_ops_get(f->type) != &dns_ops)
                        continue;
                struct dns_domain dom[DNS_MAX_DOMAINS];
                struct dns_filter_spec spec;
                char why[512];
                struct dns_loaded l = {.owner = getpid(), .f = f};
                int r = spec_of(f, protected_ports, dom, &spec, why, sizeof why);
                if (r >= 0)
                        r = dns_filter_load(&spec, &l.skel);
                if (r >= 0 && (r = dns_filter_prog_id(l.skel, &l.prog_id)) < 0)
                        dns_filter_free(TAKE_PTR(l.skel));
                struct dns_loaded *v = r >= 0 ? realloc(loaded_v, (loaded_n + 1) * sizeof *v) : NULL;
                if (r >= 0 && !v) {
                        dns_filter_free(l.skel);
                        r = -ENOMEM;
                }
                if (r < 0) {
                        if (!first)
                                first = r;
                        continue;
                }
                l.l3_offset = spec.l3_offset;
                loaded_v = v;
                loaded_v[loaded_n++] = l;
        }
        return first;
}

/* f's program as the preflight loaded it for this interface's link type,
 * handed over (NULL if there is none). */
static struct dns_filter_bpf *loaded_take(const struct fault *f, uint32_t l3_offset, uint32_t *ret_prog_id) {
        for (size_t i = 0; i < loaded_n; i++) {
                struct dns_loaded *l = &loaded_v[i];
                if (l->f != f || l->owner != getpid() || !l->skel)
                        continue;
                if (l->l3_offset != l3_offset) { /* its link changed since */
                        dns_filter_free(TAKE_PTR(l->skel));
                        return NULL;
                }
                *ret_prog_id = l->prog_id;
                return TAKE_PTR(l->skel);
        }
        return NULL;
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        struct dns_domain dom[DNS_MAX_DOMAINS];
        struct dns_filter_spec spec;
        char why[512], a[FORMAT_MAX];
        /* Asked again: the link may have changed since the preflight. */
        int r = spec_of(f, &c->pl->p->protect.ports, dom, &spec, why, sizeof why);
        if (r < 0)
                return fault_fail(fr, r, "%s", why);
        if (f->target_index >= 0 && (r = fault_target_cgroup(c, f, &spec.cgroup_id, &spec.cgroup_level)) < 0)
                return fault_fail(fr, r, "cannot find the cgroup of target %s", f->target);
        struct dns_priv *priv = calloc(1, sizeof *priv);
        if (!priv)
                return -ENOMEM;
        fr->priv = priv;
        fr->priv_free = dns_priv_free;
        uint32_t prog_id = 0;
        priv->skel = loaded_take(f, spec.l3_offset, &prog_id);
        if (priv->skel)
                r = dns_filter_set_cgroup(priv->skel, spec.cgroup_id, spec.cgroup_level);
        else {
                /* Not loaded before the run (it failed then, or the link
                 * changed): loaded now, the guardian told before and after,
                 * which is all it can be told during one system call. */
                fault_beat(c);
                r = dns_filter_load(&spec, &priv->skel);
                fault_beat(c);
                if (r >= 0)
                        r = dns_filter_prog_id(priv->skel, &prog_id);
        }
        if (r < 0)
                return fault_fail(fr, r, "cannot load the dns program");
        r = net_attach(c, fr, dns_filter_prog_fd(priv->skel), prog_id, "sabot_dns");
        if (r < 0)
                return r;
        if (f->answer == DNS_ANSWER_TIMEOUT)
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s egress: dropping %s of DNS queries%s%s", f->interface,
                            format_ratio(a, share(f)), f->domains ? " for names under " : "", f->domains ? f->domains : "");
        else
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s egress: answering %s of DNS queries%s%s with %s",
                            f->interface, format_ratio(a, share(f)), f->domains ? " for names under " : "",
                            f->domains ? f->domains : "", answer_names[f->answer]);
        return 0;
}

static int counters(struct fault_run *fr, uint64_t n[static _DNS_COUNTERS]) {
        struct dns_priv *priv = fr->priv;
        if (!priv || !priv->skel || dns_filter_counters(priv->skel, n) < 0)
                return -ENODATA;
        fr->strikes = (unsigned)n[DNS_MATCHED];
        fr->hits = (unsigned)(n[DNS_ANSWERED] + n[DNS_DROPPED]);
        return 0;
}

static void progress(struct fault_run *fr, char *buf, size_t len) {
        uint64_t n[_DNS_COUNTERS] = {0};
        if (fr->state == FR_ACTIVE)
                (void)counters(fr, n);
        if (fr->f->answer == DNS_ANSWER_TIMEOUT)
                snprintf(buf, len, "dropped %u of %u queries", fr->hits, fr->strikes);
        else
                snprintf(buf, len, "answered %u of %u queries with %s", fr->hits, fr->strikes, answer_names[fr->f->answer]);
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        uint64_t n[_DNS_COUNTERS] = {0};
        (void)c;
        if (counters(fr, n) < 0)
                return;
        char failed[64] = "";
        if (n[DNS_FAILED])
                snprintf(failed, sizeof failed, ", %llu could not be rewritten", (unsigned long long)n[DNS_FAILED]);
        snprintf(fr->outcome, sizeof fr->outcome, "%s %llu of %llu matching DNS queries%s%s (%llu seen, %llu protected%s)",
                 fr->f->answer == DNS_ANSWER_TIMEOUT ? "dropped" : "answered", (unsigned long long)(n[DNS_ANSWERED] + n[DNS_DROPPED]),
                 (unsigned long long)n[DNS_MATCHED], fr->f->answer == DNS_ANSWER_TIMEOUT ? "" : " with ",
                 fr->f->answer == DNS_ANSWER_TIMEOUT ? "" : answer_names[fr->f->answer], (unsigned long long)n[DNS_SEEN],
                 (unsigned long long)n[DNS_PROTECTED], failed);
}

static const struct jentry_kind entries[] = {NET_ENTRY_CLSACT, NET_ENTRY_FILTER, {NULL}};

const struct fault_ops dns_ops = {
        .kind = {.name = "dns", .summary = "answers DNS queries over UDP with NXDOMAIN, SERVFAIL or REFUSED, or drops them, in eBPF",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = probe,
        .describe = describe,
        .progress = progress,
        .apply = apply,
        .backend = &dns_backend,
        .counter_names = {"matched", "acted_on"},
        .finish = finish,
        .reach = FAULT_REACH_CGROUP,
        .holds = FAULT_HOLDS_PROTECTED_PORTS,
};
