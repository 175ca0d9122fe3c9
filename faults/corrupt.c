/* SPDX-License-Identifier: MIT */
/* corrupt: netem flips one random bit in a share of matching packets,
 * through a sabot ifb the classifier steers them to (faults/net.c). The
 * receiver's checksums then drop most of them, so the policy's max_loss
 * caps the share. */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "percent", "correlation", NULL};
static const struct fault_key_doc key_docs[] = {
        {"percent", "required",
         "share of matching packets with one bit flipped; at most the policy's max_loss (receivers drop what fails its checksum)"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        fault_require(s, f, "percent", " (the share of matching packets to corrupt, e.g. percent = 5%)", d);
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% corrupts nothing");
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 64], a[FORMAT_MAX];
        if (f->percent > lc->eff->max_loss) {
                snprintf(what, sizeof what, "corrupt percent = %s (receivers drop corrupted packets)",
                         format_ratio(a, f->percent));
                lc->over(lc, LIMIT_LOSS, fault_line(f, "percent"), what);
        } else if (f->percent > lc->eff->max_corrupt) {
                snprintf(what, sizeof what, "corrupt percent = %s", format_ratio(a, f->percent));
                lc->over(lc, LIMIT_CORRUPT, fault_line(f, "percent"), what);
        }
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], b[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      flip one bit in %s of matching packets", format_ratio(a, f->percent));
        if (f->correlation)
                fprintf(out, " (correlation %s)", format_ratio(b, f->correlation));
        fputc('\n', out);
        net_describe_match(out, pl, i, NET_CREATES_NETEM);
}

void corrupt_netem(const struct fault *f, struct netem_spec *ret) {
        *ret = (struct netem_spec){.corrupt = {f->percent, f->correlation}};
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], doing[FORMAT_MAX + 64];
        struct netem_spec ne;
        corrupt_netem(f, &ne);
        char how[FORMAT_MAX + 48];
        snprintf(doing, sizeof doing, "corrupting %s of matching packets", format_ratio(a, f->percent));
        snprintf(how, sizeof how, "to netem to corrupt %s of them", a);
        return net_apply(c, fr, &(struct net_params){.netem = &ne, .doing = doing, .done = "steered", .done_how = how});
}

static const struct jentry_kind entries[] = {NET_ENTRY_IFB, NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

const struct fault_ops corrupt_ops = {
        .kind = {.name = "corrupt", .summary = "flips one bit in a share of matching packets (netem)",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = net_probe_netem,
        .describe = describe,
        .apply = apply,
        .progress = net_netem_progress,
        NET_OPS,
};
