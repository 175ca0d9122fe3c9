/* SPDX-License-Identifier: MIT */
/* blackhole: drop every matching packet, silently (TC_ACT_STOLEN), by the
 * classifier on the interface's clsact hook (faults/net.c). */
#include "net.h"

static const char *const keys[] = {NET_KEYS, NULL};

static void describe(FILE *out, const struct plan *pl, size_t i) {
        net_describe_iface(out, pl, i);
        fprintf(out, "      drop every matching packet\n");
        net_describe_match(out, pl, i, "clsact qdisc (if absent), a sabot tc classifier (cls_bpf)");
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        return net_apply(c, fr, &(struct net_params){.probability = RATIO_ONE, .doing = "dropping every matching packet",
                                                     .done = "dropped"});
}

static const struct jentry_kind entries[] = {NET_ENTRY_CLSACT, NET_ENTRY_FILTER, NET_ENTRY_RULE, {NULL}};

const struct fault_ops blackhole_ops = {
        .kind = {.name = "blackhole", .summary = "drops every matching packet",
                 .keys = keys, .check = net_check, .entries = entries},
        .probe = net_probe_drop,
        .describe = describe,
        .progress = net_drop_progress,
        .apply = apply,
        NET_OPS,
};
