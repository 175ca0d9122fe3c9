/* SPDX-License-Identifier: MIT */
/* bandwidth: netem paces matching packets to a rate (and delays them),
 * through a sabot ifb the classifier steers them to (faults/net.c). Its
 * queue holds rate x (delay + 100 ms) so that a busy link queues rather
 * than drops nearly everything. */
#include "net.h"

/* netem paces in bytes per second. */
#define BANDWIDTH_MIN_BITS 8

static const char *const keys[] = {NET_KEYS, "rate", "delay", NULL};
static const struct fault_key_doc key_docs[] = {
        {"delay", "0",
         "one-way delay on top of the pacing (a long link); at most the policy's max_delay"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        fault_require(s, f, "rate", " (e.g. rate = 10mbit)", d);
        if (fault_ok(f, "rate") && f->rate < BANDWIDTH_MIN_BITS)
                diag_error(d, s->file, fault_line(f, "rate"), "rate must be at least 8bit (netem paces in bytes "
                           "per second)");
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 16], a[FORMAT_MAX];
        /* Below netem's floor it is refused already, and once is enough. */
        if (f->rate >= BANDWIDTH_MIN_BITS && f->rate < lc->eff->min_bandwidth) {
                snprintf(what, sizeof what, "rate = %s", format_rate(a, f->rate));
                lc->under(lc, LIMIT_BANDWIDTH, fault_line(f, "rate"), what);
        }
        if (f->delay <= lc->eff->max_delay)
                return;
        snprintf(what, sizeof what, "delay = %s", format_duration(a, f->delay));
        lc->over(lc, LIMIT_DELAY, fault_line(f, "delay"), what);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      pace matching packets to %s", format_rate(a, f->rate));
        if (f->delay)
                fprintf(out, ", delayed by %s", format_duration(b, f->delay));
        fprintf(out, "; netem queue limit %u packets (rate x (delay + 100ms))\n", net_netem_limit(f->rate, f->delay));
        net_describe_match(out, pl, i, NET_CREATES_NETEM);
}

void bandwidth_netem(const struct fault *f, struct netem_spec *ret) {
        *ret = (struct netem_spec){.delay_ns = f->delay, .rate_bytes = f->rate / 8,
                                   .limit = net_netem_limit(f->rate, f->delay)};
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], b[FORMAT_MAX], how[2 * FORMAT_MAX + 64], doing[sizeof how + 32];
        struct netem_spec ne;
        bandwidth_netem(f, &ne);
        snprintf(how, sizeof how, "to %s%s%s (queue %u packets)", format_rate(a, f->rate), f->delay ? ", delayed by " : "",
                 f->delay ? format_duration(b, f->delay) : "", ne.limit);
        snprintf(doing, sizeof doing, "pacing matching packets %s", how);
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "paced", .done_how = how});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

const struct fault_ops bandwidth_ops = {
        .kind = {.name = "bandwidth", .summary = "paces matching packets to a rate (netem)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = net_probe_netem,
        .describe = describe,
        .apply = apply,
        .progress = net_netem_progress,
        NET_OPS,
};
