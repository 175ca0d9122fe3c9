/* SPDX-License-Identifier: MIT */
/* loss: drop a share of matching packets. Independently (or correlated):
 * silently (TC_ACT_STOLEN), by the classifier on the interface's clsact
 * hook. In bursts (burst = N): netem's Gilbert-Elliott model; by netem's
 * 4-state Markov model (model = 4state, p13 ... p14): both through a sabot
 * ifb the classifier steers matching packets to (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "correlation", "percent", "burst", "model",
                                   "p13",    "p31",         "p32",     "p23",   "p14", NULL};
static const struct fault_key_doc key_docs[] = {
        {"percent", "required, except with model",
         "share of matching packets dropped; at most the policy's max_loss"},
        {NULL},
};

static bool fourstate(const struct fault *f) { return f->loss_model == LOSS_MODEL_4STATE; }

/* The 4-state model's transition probabilities, with iproute2's defaults
 * for those not given (p31 = 100% - p13: with p13 alone, losses are
 * independent, p13 of them). */
static void gi_params(const struct fault *f, struct netem_spec *ne) {
        ne->gi = true;
        ne->p13 = f->p13;
        ne->p31 = fault_line(f, "p31") ? f->p31 : RATIO_ONE - (f->p13 > RATIO_ONE ? RATIO_ONE : f->p13);
        ne->p32 = fault_line(f, "p32") ? f->p32 : 0;
        ne->p23 = fault_line(f, "p23") ? f->p23 : RATIO_ONE;
        ne->p14 = fault_line(f, "p14") ? f->p14 : 0;
}

/* The chain's stationary share of lost packets (those sent in state 3 or
 * 4). Balance, with pi1 = 1: pi4 = p14, pi3 = p13 / p31 (into and out of
 * the burst's losses; 3 <-> 2 cancel), pi2 = pi3 p32 / p23, so
 *     loss = (pi3 + pi4) / (1 + pi2 + pi3 + pi4)
 *          = (p13 p23 + p14 p23 p31) / (p23 p31 + p13 p32 + p13 p23 + p14 p23 p31)
 * (p23 = 0 with p32 = 0: state 2 is never entered; divide by p23 first).
 * 0 when check() would refuse the parameters (p31 = 0 with p13 > 0). */
static ratio_t gi_share(const struct netem_spec *ne) {
        typedef unsigned __int128 u128;
        u128 a = ne->p13, b = ne->p31, c = ne->p32, d = ne->p23, e = ne->p14, num, den;
        if (d) {
                num = a * d + e * d * b / RATIO_ONE;
                den = d * b + a * c + a * d + e * d * b / RATIO_ONE;
        } else {
                num = a + e * b / RATIO_ONE;
                den = b + a + e * b / RATIO_ONE;
        }
        return den ? (ratio_t)(num * RATIO_ONE / den) : 0;
}

/* A chain check() accepts: each state's way out within 100%, and every
 * burst ends (p31 > 0) without losses stopping for good (p23 > 0 when
 * p32 > 0). */
static bool gi_valid(const struct netem_spec *ne) {
        return (uint64_t)ne->p13 + ne->p14 <= RATIO_ONE && (uint64_t)ne->p31 + ne->p32 <= RATIO_ONE &&
               !(ne->p13 && !ne->p31) && !(ne->p13 && ne->p32 && !ne->p23);
}

static const char *const gi_keys[] = {"p13", "p31", "p32", "p23", "p14"};

static void check_fourstate(struct scenario *s, struct fault *f, struct diags *d) {
        char a[FORMAT_MAX];
        unsigned line = fault_line(f, "model");
        if (fault_line(f, "percent"))
                diag_error(d, s->file, fault_line(f, "percent"), "with model = 4state the share lost follows from "
                           "p13, p31, p32, p23 and p14 (sabot plan shows it); remove percent");
        if (fault_line(f, "burst"))
                diag_error(d, s->file, fault_line(f, "burst"), "burst is the Gilbert-Elliott model's, model = 4state "
                           "is another; use one (burst with percent, or model = 4state with p13 ... p14)");
        if (fault_line(f, "correlation"))
                diag_error(d, s->file, fault_line(f, "correlation"), "correlation does not apply to model = 4state "
                           "(its p32 and p23 shape the bursts); remove correlation");
        fault_require(s, f, "p13", " with model = 4state (e.g. p13 = 1%)", d);
        for (size_t i = 0; i < ELEMENTSOF(gi_keys); i++)
                if (fault_line(f, gi_keys[i]) && !fault_ok(f, gi_keys[i]))
                        return;
        if (!fault_line(f, "p13"))
                return;
        struct netem_spec ne = {0};
        gi_params(f, &ne);
        if ((uint64_t)ne.p13 + ne.p14 > RATIO_ONE) {
                diag_error(d, s->file, fault_line(f, "p14") ? fault_line(f, "p14") : fault_line(f, "p13"),
                           "p13 + p14 is %s: they are the chances of leaving the gap for a burst or for an isolated "
                           "loss, together at most 100%%", format_ratio(a, ne.p13 + ne.p14)); /* each at most 100%: no overflow */
                return;
        }
        if ((uint64_t)ne.p31 + ne.p32 > RATIO_ONE) {
                diag_error(d, s->file, fault_line(f, "p32") ? fault_line(f, "p32") : fault_line(f, "p31"),
                           "p31 + p32 is more than 100%%: they are the chances of a loss in a burst being followed "
                           "by a packet passed in the gap or in the burst, together at most 100%%");
                return;
        }
        if (ne.p13 && !ne.p31) {
                diag_error(d, s->file, fault_line(f, "p31") ? fault_line(f, "p31") : fault_line(f, "p13"),
                           "p31 is 0%%%s: a burst would never end and every packet after the first would be dropped "
                           "or bounce inside it; use p31 above 0%% (or the blackhole kind)",
                           fault_line(f, "p31") ? "" : " (100% - p13 when not given)");
                return;
        }
        if (ne.p13 && ne.p32 && !ne.p23) {
                diag_error(d, s->file, fault_line(f, "p23"), "p23 = 0%% with p32 = %s: a packet passed within a "
                           "burst would never be followed by a loss nor leave the burst, so losses would stop for "
                           "good; raise p23 or set p32 = 0%%", format_ratio(a, ne.p32));
                return;
        }
        ratio_t share = gi_share(&ne);
        if (!share)
                diag_warning(d, s->file, line, "p13 = 0%% and p14 = 0%% drop nothing");
}

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
        if (fourstate(f)) {
                check_fourstate(s, f, d);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(gi_keys); i++)
                if (fault_line(f, gi_keys[i]))
                        diag_error(d, s->file, fault_line(f, gi_keys[i]), "%s is a parameter of netem's 4-state "
                                   "model: add model = 4state, or remove %s", gi_keys[i], gi_keys[i]);
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
        char what[FORMAT_MAX + 64], a[FORMAT_MAX];
        if (fourstate(f)) {
                struct netem_spec ne = {0};
                gi_params(f, &ne);
                ratio_t share = gi_share(&ne);
                if (!gi_valid(&ne) || share <= lc->eff->max_loss) /* check() says what is wrong */
                        return;
                snprintf(what, sizeof what, "model = 4state (its stationary loss is %s)", format_ratio(a, share));
                lc->over(lc, LIMIT_LOSS, fault_line(f, "model"), what);
                return;
        }
        if (f->percent <= lc->eff->max_loss)
                return;
        snprintf(what, sizeof what, "percent = %s", format_ratio(a, f->percent));
        lc->over(lc, LIMIT_LOSS, fault_line(f, "percent"), what);
}

static int probe(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        return f->burst || fourstate(f) ? net_probe_netem(sc, f, why, len) : net_probe_drop(sc, f, why, len);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        if (fourstate(f)) {
                struct netem_spec ne = {0};
                char p[5][FORMAT_MAX];
                gi_params(f, &ne);
                fprintf(out, "      drop %s of matching packets in the long run (netem 4-state: p13 %s, p31 %s, p32 %s, "
                        "p23 %s, p14 %s)\n", format_ratio(a, gi_share(&ne)), format_ratio(p[0], ne.p13),
                        format_ratio(p[1], ne.p31), format_ratio(p[2], ne.p32), format_ratio(p[3], ne.p23),
                        format_ratio(p[4], ne.p14));
                net_describe_match(out, pl, i, NET_CREATES_NETEM);
                return;
        }
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

bool loss_netem(const struct fault *f, struct netem_spec *ret) {
        *ret = (struct netem_spec){0};
        if (fourstate(f))
                gi_params(f, ret);
        else if (f->burst)
                gilbert(f, &ret->ge_p, &ret->ge_r);
        else
                return false;
        return true;
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], doing[FORMAT_MAX + 96];
        struct netem_spec ne;
        if (loss_netem(f, &ne) && fourstate(f)) {
                char how[FORMAT_MAX + 96];
                format_ratio(a, gi_share(&ne));
                snprintf(doing, sizeof doing, "dropping %s of matching packets (netem's 4-state model)", a);
                snprintf(how, sizeof how, "to netem to drop %s of them (4-state model)", a);
                return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "steered",
                                                             .done_how = how});
        }
        if (!f->burst) {
                snprintf(doing, sizeof doing, "dropping %s of matching packets", format_ratio(a, f->percent));
                return net_apply(c, fr, &(struct net_params){.probability = f->percent, .correlation = f->correlation,
                                                             .doing = doing, .done = "dropped"});
        }
        char how[FORMAT_MAX + 96];
        snprintf(doing, sizeof doing, "dropping %s of matching packets in bursts of %u on average",
                 format_ratio(a, f->percent), f->burst);
        snprintf(how, sizeof how, "to netem to drop %s of them, %u in a row on average", a, f->burst);
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "steered", .done_how = how});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

/* In bursts, netem drops what the classifier steered to it. */
static void progress(struct fault_run *fr, char *buf, size_t len) {
        (fr->f->burst || fourstate(fr->f) ? net_netem_progress : net_drop_progress)(fr, buf, len);
}

const struct fault_ops loss_ops = {
        .kind = {.name = "loss", .summary = "drops a share of matching packets (tc classifier, or netem with burst or model)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = probe,
        .describe = describe,
        .progress = progress,
        .apply = apply,
        NET_OPS,
};
