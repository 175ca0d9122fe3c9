/* SPDX-License-Identifier: MIT */
/* duplicate: netem sends a share of matching packets twice, through a
 * sabot ifb the classifier steers them to (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "percent", "correlation", NULL};
static const struct fault_key_doc key_docs[] = {
        {"percent", "required",
         "share of matching packets sent twice"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        fault_require(s, f, "percent", " (the share of matching packets to send twice, e.g. percent = 5%)", d);
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% duplicates nothing");
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      send %s of matching packets twice", format_ratio(a, f->percent));
        if (f->correlation)
                fprintf(out, " (correlation %s)", format_ratio(b, f->correlation));
        fputc('\n', out);
        net_describe_match(out, pl, i, NET_CREATES_NETEM);
}

void duplicate_netem(const struct fault *f, struct netem_spec *ret) {
        *ret = (struct netem_spec){.duplicate = {f->percent, f->correlation}};
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], doing[FORMAT_MAX + 64];
        struct netem_spec ne;
        duplicate_netem(f, &ne);
        char how[FORMAT_MAX + 48];
        snprintf(doing, sizeof doing, "duplicating %s of matching packets", format_ratio(a, f->percent));
        snprintf(how, sizeof how, "to netem to send %s of them twice", a);
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "steered", .done_how = how});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

const struct fault_ops duplicate_ops = {
        .kind = {.name = "duplicate", .summary = "sends a share of matching packets twice (netem)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .probe = net_probe_netem,
        .describe = describe,
        .apply = apply,
        .progress = net_netem_progress,
        NET_OPS,
};
