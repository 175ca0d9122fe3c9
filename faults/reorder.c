/* SPDX-License-Identifier: MIT */
/* reorder: netem sends a share of matching packets at once and holds the
 * rest for delay, so the ones sent at once overtake those before them;
 * through a sabot ifb the classifier steers them to (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "percent", "delay", "correlation", NULL};
static const struct fault_key_doc key_docs[] = {
        {"delay", "required",
         "how long the packets not sent ahead are held (netem reorders by holding them back); at most the policy's max_delay"},
        {"percent", "required",
         "share of matching packets sent at once, ahead of those held for delay; below 100%"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        fault_require(s, f, "percent", " (the share of matching packets sent ahead, e.g. percent = 25%)", d);
        fault_require(s, f, "delay", " (netem reorders by holding the other packets back, e.g. delay = 10ms)", d);
        if (fault_ok(f, "delay") && f->delay == 0)
                diag_error(d, s->file, fault_line(f, "delay"), "reorder needs a delay greater than 0: netem reorders "
                           "by sending some packets at once while it holds the others for delay");
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% reorders nothing (every packet "
                             "is only delayed)");
        else if (fault_ok(f, "percent") && f->percent == RATIO_ONE)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 100%% reorders nothing (no packet "
                             "is held back); use less than 100%%");
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 16], a[FORMAT_MAX];
        if (f->delay <= lc->eff->max_delay)
                return;
        snprintf(what, sizeof what, "delay = %s", format_duration(a, f->delay));
        lc->over(lc, LIMIT_DELAY, fault_line(f, "delay"), what);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      send %s of matching packets at once, delay the others by %s", format_ratio(a, f->percent),
                format_duration(b, f->delay));
        if (f->correlation)
                fprintf(out, " (correlation %s)", format_ratio(c, f->correlation));
        fputc('\n', out);
        net_describe_match(out, pl, i, NET_CREATES_NETEM);
}

void reorder_netem(const struct fault *f, struct netem_spec *ret) {
        *ret = (struct netem_spec){.delay_ns = f->delay, .reorder = {f->percent, f->correlation}};
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], b[FORMAT_MAX], doing[2 * FORMAT_MAX + 96];
        struct netem_spec ne;
        reorder_netem(f, &ne);
        snprintf(doing, sizeof doing, "sending %s of matching packets ahead of the others, delayed by %s",
                 format_ratio(a, f->percent), format_duration(b, f->delay));
        char how[2 * FORMAT_MAX + 64];
        snprintf(how, sizeof how, "to netem to send %s of them ahead of the others (delayed by %s)", a, b);
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "steered", .done_how = how});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

const struct fault_ops reorder_ops = {
        .kind = {.name = "reorder", .summary = "sends a share of matching packets at once, ahead of those held for delay (netem)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = net_probe_netem,
        .describe = describe,
        .apply = apply,
        .progress = net_netem_progress,
        NET_OPS,
};
