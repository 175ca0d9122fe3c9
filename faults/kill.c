/* SPDX-License-Identifier: MIT */
/* kill: signal some of a target's processes, once or every so often,
 * never leaving fewer than min_survivors (faults/process.c). */
#include "process.h"

static const char *const keys[] = {PROCESS_KEYS, "signal", "every", "min_survivors", NULL};

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

/* A kill changes nothing that could be undone. */
static const struct jentry_kind entries[] = {{NULL}};

const struct fault_ops kill_ops = {
        .kind = {.name = "kill", .keys = keys, .check = process_check, .entries = entries},
        .check_limits = check_limits,
        PROCESS_OPS,
        .apply = process_kill_apply,
        .strike = process_kill_strike,
};
