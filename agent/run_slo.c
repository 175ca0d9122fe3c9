/* SPDX-License-Identifier: MIT */
/* The SLOs' share of a run: how long steady state must hold and the bound
 * on waiting for it, why it was missed, the breach that ends a run, and
 * the cooldown that watches the SLOs recover once every fault is
 * reverted. */
#include "log.h"
#include "run.h"

/* After the faults are reverted: keep probing for the scenario's cooldown
 * and note when each SLO is healthy again. Ctrl-C or SIGTERM ends it early.
 * Not after a refused steady state: no fault ran. */
void run_cooldown(struct run *r) {
        uint64_t t_rev = mono_now();
        if (!r->guard || !r->s->head.cooldown || r->exit_code == EXIT_REFUSED || r->steady)
                return;
        char a[FORMAT_MAX];
        r->reverted_mono = t_rev; /* the cooldown's clock, in the live view too */
        run_event(r, LOG_NOTICE, NULL, "faults reverted; probing for %s to see the SLOs recover",
                  format_duration(a, r->s->head.cooldown));
        (void)run_loop_until(r, PHASE_COOLDOWN, t_rev + r->s->head.cooldown);
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                const struct slo_status *st = slo_guard_status(r->guard, i);
                if (st->recovered_ns)
                        run_event(r, LOG_NOTICE, NULL, "slo %s healthy again %s after the revert", st->o->hdr.name,
                                  format_duration(a, (st->recovered_ns - t_rev) / NSEC_PER_MSEC * NSEC_PER_MSEC));
                else
                        run_event(r, LOG_WARNING, NULL, "slo %s not healthy again within the cooldown: %s",
                                  st->o->hdr.name, st->why);
        }
}

/* The steady state's bound passed. */
void run_steady_missed(struct run *r) {
        const struct slo_status *bad = NULL;
        char a[FORMAT_MAX], b[FORMAT_MAX], why[200];
        (void)slo_guard_steady_peek(r->guard, r->steady_ns, &bad);
        if (bad && !bad->n_samples)
                snprintf(why, sizeof why, "no probe answered");
        else if (bad && !bad->healthy_since_ns)
                snprintf(why, sizeof why, "%s", bad->fail);
        else if (bad)
                snprintf(why, sizeof why, "healthy for only %s of %s%s%s%s",
                         format_duration(a, (mono_now() - bad->healthy_since_ns) / NSEC_PER_MSEC * NSEC_PER_MSEC),
                         format_duration(b, r->steady_ns), bad->fail[0] ? " (before: " : "", bad->fail,
                         bad->fail[0] ? ")" : "");
        snprintf(r->reason, sizeof r->reason, "steady state not met within %s: slo %s: %s",
                 format_duration(a, r->steady_timeout_ns), bad ? bad->o->hdr.name : "?", bad ? why : "?");
        r->exit_code = EXIT_NO_CHAOS;
        run_event(r, LOG_ERR | EVT_NO_CHAOS, NULL, "%s; no fault was applied", r->reason);
}

/* Steady state not yet: wake the guard when it can first hold (every SLO
 * healthy since long enough), so that it is seen then and not at the next
 * sample. */
static void steady_wake(struct run *r) {
        uint64_t at = 0;
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                uint64_t since = slo_guard_status(r->guard, i)->healthy_since_ns;
                if (!since) {
                        at = 0; /* the next healthy sample starts a streak: a sample's event */
                        break;
                }
                if (since + r->steady_ns > at)
                        at = since + r->steady_ns;
        }
        slo_guard_wake_at(r->guard, at > mono_now() ? at : 0);
}

/* From the guard, after each of its events; sample: a sample came in (or
 * left a window), judged here and now, in the event that brought it. */
void run_slo_event(void *ud, bool sample) {
        struct run *r = ud;
        if (r->phase == PHASE_STEADY) {
                if (run_steady_check(r) == 0)
                        steady_wake(r);
                else
                        slo_guard_wake_at(r->guard, 0);
                return;
        }
        if (!sample)
                return;
        if (r->phase == PHASE_COOLDOWN) {
                if (slo_guard_note_recovery(r->guard))
                        run_phase_over(r);
                return;
        }
        if (r->phase != PHASE_FAULTS)
                return;
        const struct slo_status *b = slo_guard_judge_changed(r->guard);
        if (b) {
                r->breach_at = *b;
                r->breach_at.ring = r->breach_at.hist = NULL;
                r->breach_at.ring_cap = r->breach_at.ring_len = r->breach_at.ring_head = r->breach_at.hist_len = 0;
                r->breach = &r->breach_at;
                /* From the sample that showed it (it came in during this
                 * event): breach_to_reverted counts every wait after it. */
                r->breach_mono = b->ring_len ? slo_status_at(b, b->ring_len - 1)->t_ns : mono_now();
                snprintf(r->reason, sizeof r->reason, "SLO breached: %s: %s", b->o->hdr.name, b->why);
                r->exit_code = EXIT_BREACH;
                run_event(r, LOG_ERR | EVT_BREACH, NULL, "%s; reverting everything", r->reason);
                run_phase_over(r);
        }
}

void run_steady_bounds(struct run *r) {
        r->steady_ns = 0;
        if (r->s->n_slos) {
                uint64_t slowest = 0;
                for (size_t i = 0; i < r->s->n_slos; i++)
                        if (r->s->slos[i]->interval > slowest)
                                slowest = r->s->slos[i]->interval;
                r->steady_ns = r->s->head.steady_state ? r->s->head.steady_state : 3 * slowest;
                /* Enough time for min_samples of the slowest probe, too. */
                for (size_t i = 0; i < r->s->n_slos; i++) {
                        uint64_t need = (uint64_t)r->s->slos[i]->min_samples * r->s->slos[i]->interval;
                        if (need > r->steady_ns)
                                r->steady_ns = need;
                }
                /* The bound: what the scenario says, else max(15s, 3 x
                 * steady_state); never shorter than steady_state itself. */
                r->steady_timeout_ns = r->s->head.steady_state_timeout;
                if (!r->steady_timeout_ns)
                        r->steady_timeout_ns = 3 * r->steady_ns > STEADY_TIMEOUT_MIN_NS ? 3 * r->steady_ns
                                                                                      : STEADY_TIMEOUT_MIN_NS;
                if (r->steady_timeout_ns < r->steady_ns)
                        r->steady_timeout_ns = r->steady_ns;
        }
}
