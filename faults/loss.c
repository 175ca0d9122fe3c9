/* SPDX-License-Identifier: MIT */
/* loss: drop a share of matching packets, silently (TC_ACT_STOLEN), by the
 * classifier on the interface's clsact hook (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, "correlation", "percent", NULL};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        net_check(s, f, d);
        fault_require(s, f, "percent", " (e.g. percent = 5%)", d);
        if (fault_ok(f, "percent") && f->percent == 0)
                diag_warning(d, s->file, fault_line(f, "percent"), "percent = 0%% drops nothing");
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 16], a[FORMAT_MAX];
        if (f->percent <= lc->eff->max_loss)
                return;
        snprintf(what, sizeof what, "percent = %s", format_ratio(a, f->percent));
        lc->over(lc, LIMIT_LOSS, fault_line(f, "percent"), what);
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        char a[FORMAT_MAX];
        net_describe_iface(out, pl, i);
        fprintf(out, "      drop %s of matching packets\n", format_ratio(a, pl->faults[i].f->percent));
        net_describe_match(out, pl, i, "clsact qdisc (if absent), a sabot tc classifier (cls_bpf)");
}

static const struct jentry_kind entries[] = {NET_ENTRY_CLSACT, NET_ENTRY_FILTER, {NULL}};

const struct fault_ops loss_ops = {
        .kind = {.name = "loss", .keys = keys, .check = check, .entries = entries},
        .check_limits = check_limits,
        .probe = net_probe_drop,
        .describe = describe,
        .progress = net_drop_progress,
        NET_OPS,
};
