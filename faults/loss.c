/* SPDX-License-Identifier: MIT */
/* loss: drop a share of matching packets. Independently (or correlated):
 * silently (TC_ACT_STOLEN), by the classifier on the interface's clsact
 * hook. In bursts (burst = N): netem's Gilbert-Elliott model, through a
 * sabot ifb the classifier steers matching packets to (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "correlation", "percent", "burst", NULL};
static const struct fault_key_doc key_docs[] = {
        {"percent", "required",
         "share of matching packets dropped; at most the policy's max_loss"},
        {NULL},
};

/* The simple Gilbert model for a share percent lost in bursts of burst
 * packets on average: every packet in the bad state is lost, none in the
 * good one; the bad state lasts 1/r packets and holds p/(p+r) of them. */
static void gilbert(const struct fault *f, ratio_t *ret_p, ratio_t *ret_r) {
        *ret_r = RATIO_ONE / f->burst;
        *ret_p = (ratio_t)((unsigned __int128)f->percent * RATIO_ONE / ((unsigned __int128)f->burst * (RATIO_ONE - f->percent)));
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        net_check(s, f, d);
        fault_require(s, f, "percent", " (e.g. percent = 5%)", d);
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% drops nothing");
        if (!fault_line(f, "burst"))
                return;
        if (!fault_ok(f, "burst"))
                return;
        if (f->burst == 0)
                diag_error(d, s->file, fault_line(f, "burst"), "burst is the mean number of packets lost in a row; "
                           "use 1 or more (e.g. burst = 4)");
        else if (fault_line(f, "correlation"))
                diag_error(d, s->file, fault_line(f, "correlation"), "correlation and burst both shape how losses "
                           "cluster; use one (burst: netem's Gilbert-Elliott model; correlation: the classifier's)");
        else if (fault_ok(f, "percent") && f->percent &&
                 (uint64_t)f->percent * (f->burst + 1ULL) > (uint64_t)RATIO_ONE * f->burst)
                diag_error(d, s->file, fault_line(f, "percent"), "percent = %s cannot be lost in bursts of %u on "
                           "average: between two bursts at least one packet passes, so at most %s are lost; lower "
                           "percent or raise burst", format_ratio(a, f->percent), f->burst,
                           format_ratio(b, (ratio_t)((uint64_t)RATIO_ONE * f->burst / (f->burst + 1ULL))));
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 16], a[FORMAT_MAX];
        if (f->percent <= lc->eff->max_loss)
                return;
        snprintf(what, sizeof what, "percent = %s", format_ratio(a, f->percent));
        lc->over(lc, LIMIT_LOSS, fault_line(f, "percent"), what);
}

static int probe(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        return f->burst ? net_probe_netem(sc, f, why, len) : net_probe_drop(sc, f, why, len);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        if (!f->burst) {
                fprintf(out, "      drop %s of matching packets\n", format_ratio(a, f->percent));
                net_describe_match(out, pl, i, "clsact qdisc (if absent), a sabot tc classifier (cls_bpf)");
                return;
        }
        ratio_t p, r;
        gilbert(f, &p, &r);
        fprintf(out, "      drop %s of matching packets, %u in a row on average (netem Gilbert-Elliott: p %s, r %s)\n",
                format_ratio(a, f->percent), f->burst, format_ratio(b, p), format_ratio(c, r));
        net_describe_match(out, pl, i, NET_CREATES_NETEM);
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], doing[FORMAT_MAX + 96];
        if (!f->burst) {
                snprintf(doing, sizeof doing, "dropping %s of matching packets", format_ratio(a, f->percent));
                return net_apply(c, fr, &(struct net_params){.probability = f->percent, .correlation = f->correlation,
                                                             .doing = doing, .done = "dropped"});
        }
        struct netem_spec ne = {0};
        gilbert(f, &ne.ge_p, &ne.ge_r);
        char how[FORMAT_MAX + 96];
        snprintf(doing, sizeof doing, "dropping %s of matching packets in bursts of %u on average",
                 format_ratio(a, f->percent), f->burst);
        snprintf(how, sizeof how, "to netem to drop %s of them, %u in a row on average", a, f->burst);
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "steered", .done_how = how});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

/* In bursts, netem drops what the classifier steered to it. */
static void progress(struct fault_run *fr, char *buf, size_t len) {
        (fr->f->burst ? net_netem_progress : net_drop_progress)(fr, buf, len);
}

const struct fault_ops loss_ops = {
        .kind = {.name = "loss", .summary = "drops a share of matching packets (tc classifier, or netem with burst)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = probe,
        .describe = describe,
        .progress = progress,
        .apply = apply,
        NET_OPS,
};
