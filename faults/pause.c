/* SPDX-License-Identifier: MIT */
/* pause: stop a target's processes for the window (cgroup.freeze for a
 * whole cgroup, else SIGSTOP) and resume them at its end
 * (faults/process.c). */
#include "process.h"

static const char *const keys[] = {PROCESS_KEYS, NULL};
static const struct fault_key_doc key_docs[] = {
        {"count", "all",
         "processes stopped"},
        {"percent", "none",
         "instead of count: share of the target's eligible processes stopped, rounded down"},
        {NULL},
};

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        const struct resolved_target *rt = f->target_index >= 0 ? &pl->targets[f->target_index] : NULL;
        char c[FORMAT_MAX];
        uint32_t eligible = rt ? (uint32_t)rt->n_pids : 0;
        if (rt && rt->t->sel == SEL_EXEC)
                fprintf(out, "      stop (and later resume) the process that the run launches for target %s\n", f->target);
        else if (!f->count && !fault_line(f, "percent"))
                fprintf(out, "      stop all %u process%s of target %s (cgroup.freeze where available), resume at the "
                        "window's end\n", eligible, eligible == 1 ? "" : "es", f->target);
        else if (rt && plan_resolved_later(pl->s, rt->t, rt))
                fprintf(out, "      stop %s of the processes target %s matches when the window opens, keeping at "
                        "least 0\n", process_share(f, c), f->target);
        else
                fprintf(out, "      stop %u of %u process%s of target %s (%s%s), resume them at the window's end\n",
                        blast_strike_count(eligible, f->count, f->percent, 0), eligible, eligible == 1 ? "" : "es",
                        f->target, f->count ? "count " : "percent ", process_share(f, c));
}

static const struct jentry_kind entries[] = {
        {"stop", process_revert_stop, process_describe_stop, false},
        {"freeze", process_revert_freeze, process_describe_freeze, false},
        {NULL},
};

const struct fault_ops pause_ops = {
        .kind = {.name = "pause", .summary = "stops a target's processes for the window (SIGSTOP or cgroup.freeze)",
                 .keys = keys, .key_docs = key_docs, .check = process_check, .entries = entries},
        .describe = describe,
        .reverted = process_pause_reverted,
        .progress = process_pause_progress,
        PROCESS_OPS,
        .apply = process_pause_apply,
};
