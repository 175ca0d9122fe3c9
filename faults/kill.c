/* SPDX-License-Identifier: MIT */
/* kill: signal some of a target's processes, once or every so often,
 * never leaving fewer than min_survivors (faults/process.c). */
#include "process.h"

static const char *const keys[] = {PROCESS_KEYS, "signal", "every", "min_survivors", NULL};
static const struct fault_key_doc key_docs[] = {
        {"count", "1",
         "processes per strike; at most the policy's max_kill_count"},
        {"percent", "none",
         "instead of count: share of the target's eligible processes per strike, rounded down; at most the policy's max_kill_percent"},
        {NULL},
};

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        process_check(s, f, d);
        if (!fault_line(f, "count") && !fault_line(f, "percent"))
                f->count = 1;
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        char what[FORMAT_MAX + 32], a[FORMAT_MAX];
        if (f->count > lc->eff->max_kill_count) {
                snprintf(what, sizeof what, "count = %u", f->count);
                lc->over(lc, LIMIT_KILL_COUNT, fault_line(f, "count") ? fault_line(f, "count") : f->hdr.line, what);
        }
        if (fault_line(f, "percent") && f->percent > lc->eff->max_kill_percent) {
                snprintf(what, sizeof what, "percent = %s", format_ratio(a, f->percent));
                lc->over(lc, LIMIT_KILL_PERCENT, fault_line(f, "percent"), what);
        }
        if (fault_line(f, "min_survivors") && f->min_survivors < lc->eff->min_survivors) {
                snprintf(what, sizeof what, "min_survivors = %u", f->min_survivors);
                lc->under(lc, LIMIT_SURVIVORS, fault_line(f, "min_survivors"), what);
        }
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        const struct resolved_target *rt = f->target_index >= 0 ? &pl->targets[f->target_index] : NULL;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        uint32_t survivors = f->min_survivors > pl->eff.min_survivors ? f->min_survivors : pl->eff.min_survivors;
        uint32_t eligible = rt ? (uint32_t)rt->n_pids : 0;
        if (rt && rt->t->sel == SEL_EXEC) {
                fprintf(out, "      signal the process that the run launches for target %s\n", f->target);
                return;
        }
        if (rt && plan_resolved_later(pl->s, rt->t, rt))
                fprintf(out, "      kill %s of the processes target %s matches when the window opens (per strike), "
                        "keeping at least %u\n", process_share(f, c), f->target, survivors);
        else
                fprintf(out, "      kill %u of %u process%s of target %s per strike (%s%s), keeping at least %u\n",
                        blast_strike_count(eligible, f->count, f->percent, survivors), eligible, eligible == 1 ? "" : "es",
                        f->target, f->count ? "count " : "percent ", process_share(f, c), survivors);
        fprintf(out, "      signal SIG%s, %s\n", signal_to_name(f->signal),
                f->every ? (snprintf(b, sizeof b, "every %s", format_duration(a, f->every)), b)
                         : "once at the window's start");
}

/* A kill changes nothing that could be undone. */
static const struct jentry_kind entries[] = {{NULL}};

const struct fault_ops kill_ops = {
        .kind = {.name = "kill", .summary = "signals a target's processes, once or every interval",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .describe = describe,
        .reverted = process_kill_reverted,
        .progress = process_kill_progress,
        PROCESS_OPS,
        .apply = process_kill_apply,
        .strike = process_kill_strike,
};
