/* SPDX-License-Identifier: MIT */
/* latency: netem delay (and jitter) on matching packets, through a
 * sabot-owned ifb device the classifier steers them to (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "delay", "jitter", "distribution", "correlation", NULL};
static const struct fault_key_doc key_docs[] = {
        {"delay", "required",
         "added one-way delay of each matching packet; delay + jitter at most the policy's max_delay"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        net_check(s, f, d);
        fault_require(s, f, "delay", " (e.g. delay = 200ms)", d);
        if (fault_ok(f, "delay") && f->delay == 0)
                diag_error(d, s->file, fault_line(f, "delay"), "delay must be greater than 0");
        if (fault_line(f, "jitter") && !fault_line(f, "delay"))
                diag_error(d, s->file, fault_line(f, "jitter"), "jitter needs delay; set delay too");
        else if (f->jitter > f->delay)
                diag_error(d, s->file, fault_line(f, "jitter"), "jitter %s is larger than delay %s; netem "
                           "would clamp negative delays to 0 and reorder packets; use jitter <= delay",
                           format_duration(a, f->jitter), format_duration(b, f->delay));
        if (fault_line(f, "distribution") && !f->jitter)
                diag_error(d, s->file, fault_line(f, "distribution"), "distribution shapes the jitter; "
                           "set jitter too");
        if (fault_line(f, "correlation") && !f->jitter)
                diag_error(d, s->file, fault_line(f, "correlation"), "for latency, correlation applies to "
                           "the jitter; set jitter too");
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[3 * FORMAT_MAX], a[FORMAT_MAX], b[FORMAT_MAX];
        if (f->delay + f->jitter <= lc->eff->max_delay)
                return;
        if (f->jitter)
                snprintf(what, sizeof what, "delay + jitter = %s + %s", format_duration(a, f->delay),
                         format_duration(b, f->jitter));
        else
                snprintf(what, sizeof what, "delay = %s", format_duration(a, f->delay));
        lc->over(lc, LIMIT_DELAY, fault_line(f, "delay"), what);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      delay %s", format_duration(a, f->delay));
        if (f->jitter)
                fprintf(out, " ± %s", format_duration(b, f->jitter));
        fputc('\n', out);
        net_describe_match(out, pl, i, NET_CREATES_NETEM);
}

void latency_netem(const struct fault *f, struct netem_spec *ret) {
        *ret = (struct netem_spec){
                .delay_ns = f->delay,
                .jitter_ns = f->jitter,
                .correlation = f->correlation,
                .distribution = net_dist_name(f->distribution),
        };
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], b[FORMAT_MAX], doing[3 * FORMAT_MAX];
        struct netem_spec ne;
        latency_netem(f, &ne);
        snprintf(doing, sizeof doing, "delaying matching packets by %s%s%s", format_duration(a, f->delay),
                 f->jitter ? " ± " : "", f->jitter ? format_duration(b, f->jitter) : "");
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "delayed"});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

const struct fault_ops latency_ops = {
        .kind = {.name = "latency", .summary = "delays matching packets (netem on a sabot-owned ifb device)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = net_probe_netem,
        .describe = describe,
        .progress = net_latency_progress,
        .apply = apply,
        NET_OPS,
};
