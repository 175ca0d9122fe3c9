/* SPDX-License-Identifier: MIT */
/* One fault at its moments: applied at its window's start (unless its
 * target matches nothing, the kill switch is thrown or the guardian is
 * gone), reverted from its journal entries at the end; and the run's end,
 * where everything is reverted. The kind's ops do the work; this is what
 * the engine checks and records around them. */
#include <poll.h>
#include <sys/wait.h>

#include "../faults/net.h"
#include "guardian.h"
#include "log.h"
#include "run.h"

static void fault_event_cb(void *ud, int level, const struct fault *f, const char *fmt, va_list ap) {
        run_event_v(ud, level, f, fmt, ap);
}

/* ---- applying and reverting ---- */

static void run_beat(void *ud) {
        const struct run *r = ud;
        if (r->gfd >= 0)
                guardian_beat(r->gfd);
}

struct fault_ctx run_ctx(struct run *r) {
        return (struct fault_ctx){
                .j = r->j,
                .pl = r->pl,
                .exec_pids = r->exec_pids,
                .exec_starts = r->exec_starts,
                .event = fault_event_cb,
                .ud = r,
                .loop = r->loop,
                .frs = r->fr,
                .n_frs = r->s->n_faults,
                .guardian_give = run_give_to_guardian,
                .guardian_hold = run_hold_in_guardian,
                .beat = run_beat,
                .state_dir = r->o->dirs.state,
        };
}

int run_fault_revert(struct run *r, struct fault_run *fr) {
        const struct fault_ops *ops = fault_ops_get(fr->f->type);
        struct fault_ctx c = run_ctx(r);
        targets_release(r, fr);
        if (ops && ops->finish && fr->state == FR_ACTIVE)
                ops->finish(&c, fr);
        unsigned failed = 0;
        int first = journal_revert_some(r->j, fr->seqs, fr->n_seqs, &failed);
        unsigned n = first >= 0 ? (unsigned)first : 0;
        fr->reverted_ns = mono_now() - r->t0_mono;
        if (first < 0) {
                fr->state = FR_FAILED;
                snprintf(fr->outcome, sizeof fr->outcome, "revert failed: %s", strerror(-first));
                run_event(r, LOG_CRIT | EVT_REVERT_FAILED, fr->f, "revert failed: %s; 'sabot recover' retries", strerror(-first));
                return first;
        }
        /* Cut short: the run ended before the window did. */
        bool was_active = fr->applied_ns != 0;
        if (was_active && mono_now() < r->faults0_mono + fault_end(r->s, fr->f))
                fr->cut_by = r->exit_code == EXIT_BREACH ? "breach" : r->exit_code == EXIT_ABORTED ? "abort" : "the run's end";
        fr->state = FR_DONE;
        if (ops && ops->reverted)
                ops->reverted(&c, fr, n);
        else
                run_event(r, LOG_NOTICE | EVT_REVERT, fr->f, "reverted: %s", fr->outcome[0] ? fr->outcome : "removed");
        return 0;
}

bool run_disarmed(struct run *r) {
        char why[512];
        int q = latch_get(&r->o->dirs, why, sizeof why);
        if (q == 0)
                return false;
        if (q < 0) /* unreadable: set, as far as runs go */
                snprintf(why, sizeof why, "the disarm latch cannot be read (%s), which counts as set",
                         q == -EPERM || q == -ELOOP || q == -EISDIR || q == -EINVAL ? trust_last() : strerror(-q));
        if (!r->reason[0]) {
                snprintf(r->reason, sizeof r->reason, "aborted by the kill switch: %s", why);
                r->exit_code = EXIT_ABORTED;
        }
        return true;
}

/* Nothing is applied without a live guardian: it is what reverts if this
 * process dies. Its pidfd reports its exit (and the loop watches it, with
 * the socket's hang-up); checked again right before each apply and strike. */
bool run_guardian_lost(struct run *r) {
        if (!r->guardian_gone && r->guardian_pidfd >= 0) {
                struct pollfd p = {.fd = r->guardian_pidfd, .events = POLLIN};
                r->guardian_gone = poll(&p, 1, 0) > 0;
        }
        if (r->guardian_gone && !r->reason[0]) {
                snprintf(r->reason, sizeof r->reason, "the guardian (pid %d) died: nothing would revert the faults if "
                         "this run died too; no fault is applied without it", (int)r->guardian);
                r->exit_code = EXIT_INTERNAL;
        }
        return r->guardian_gone;
}

int run_fault_start(struct run *r, struct fault_run *fr) {
        const struct fault_ops *ops = fault_ops_get(fr->f->type);
        struct fault_ctx c = run_ctx(r);
        char why[512];
        if (targets_match_nothing(r, fr->f, why, sizeof why)) {
                const struct target *t = r->s->targets[fr->f->target_index];
                fr->state = FR_SKIPPED;
                if (t->optional) {
                        snprintf(fr->outcome, sizeof fr->outcome, "skipped: optional target %s matched nothing: %.300s",
                                 t->hdr.name, why);
                        run_event(r, LOG_NOTICE, fr->f, "skipped: target %s (optional = yes) matched nothing when the "
                              "window opened: %s", t->hdr.name, why);
                        return 0;
                }
                snprintf(fr->outcome, sizeof fr->outcome, "did nothing: target %s matched nothing when the window "
                         "opened: %.300s", t->hdr.name, why);
                run_event(r, LOG_ERR | EVT_NO_CHAOS, fr->f, "target %s matched nothing when the window opened: %s; this fault does "
                      "nothing (optional = yes on the target makes that no failure)", t->hdr.name, why);
                if (!r->no_chaos[0])
                        snprintf(r->no_chaos, sizeof r->no_chaos, "fault %s did nothing: target %s matched nothing "
                                 "when its window opened", fr->f->hdr.name, t->hdr.name);
                return 0;
        }
        fr->state = FR_ACTIVE;
        fr->applied_ns = mono_now() - r->t0_mono;
        int q = ops->apply(&c, fr);
        /* The kill switch may have been thrown while we applied: what the
         * journal holds is reverted below, by us or by `sabot abort`. */
        if (q >= 0 && run_disarmed(r))
                return -ECANCELED;
        /* `sabot abort` reverts from the journal while we apply: what it
         * removed under us (a clsact between its entry and our filter)
         * fails the apply, and the run was aborted, not broken. */
        if (q < 0) {
                /* What the kind said (fault_fail), else the error alone. */
                char why[448];
                snprintf(why, sizeof why, "%.440s", fr->outcome[0] ? fr->outcome : strerror(-q));
                bool cut = run_disarmed(r);
                const char *what = cut ? "apply cut short by the kill switch" : "apply failed";
                snprintf(fr->outcome, sizeof fr->outcome, "%s: %s", what, why);
                run_event(r, cut ? LOG_WARNING | EVT_ABORT : LOG_ERR, fr->f, "%s: %s", what, why);
                fr->state = FR_FAILED;
                if (cut)
                        return -ECANCELED;
        }
        return q;
}

int run_attach_early(struct run *r) {
        if (run_disarmed(r) || run_guardian_lost(r))
                return -ECANCELED;
        struct fault_ctx c = run_ctx(r);
        int q = net_attach_preloaded(&c);
        if (q < 0 && r->j->write_err)
                return q;
        /* Thrown meanwhile: what the journal holds is reverted at the end. */
        return run_disarmed(r) ? -ECANCELED : 0;
}

/* Reverting up to SCENARIO_MAX_FAULTS faults on a loaded host takes
 * longer than the guardian's grace: it hears from us after each one, so
 * that it does not take a slow revert for a hung runner and kill us. */
static void beat_after_revert(const struct journal *j, const struct jentry *e, int result, void *ud) {
        (void)j, (void)e, (void)result;
        run_beat(ud);
}

static void beat(struct run *r) { beat_after_revert(r->j, NULL, 0, r); }

int run_finish(struct run *r) {
        /* Every fault undone before any of it is recorded: the records go
         * in one write and one fdatasync after the last revert (on a busy
         * disk, one fdatasync per entry cost milliseconds each, between
         * reverts). */
        journal_batch_begin(r->j);
        /* And at real-time priority, the reverts alone (urgent_begin):
         * with a CPU hog per core, the run started under SCHED_RR took
         * judgement -> reverted from p99 4.7 ms to 0.5 ms (bench/README.md).
         * Bounded: a revert sleeps when it waits, and the run loop, which
         * could spin, never runs this way. */
        struct urgent urgent;
        urgent_begin(&urgent);
        for (size_t i = 0; i < r->s->n_faults; i++)
                if (r->fr[i].state == FR_ACTIVE) {
                        (void)run_fault_revert(r, &r->fr[i]);
                        beat(r);
                }
        targets_release(r, NULL);
        if (r->breach)
                r->breach_to_reverted_ns = mono_now() - r->breach_mono;
        urgent_end(&urgent);
        (void)journal_batch_commit(r->j); /* what it cannot record, the guardian or recover reverts again */
        if (r->breach)
                run_event(r, LOG_NOTICE, NULL, "every fault reverted %.2f ms after the breach",
                          (double)r->breach_to_reverted_ns / 1e6);
        run_cooldown(r);
        targets_stop(r);
        unsigned failed = 0;
        (void)journal_revert_all(r->j, &failed, beat_after_revert, r);
        r->end_mono = mono_now();
        r->end_wall = wall_now();
        if (failed) {
                run_event(r, LOG_CRIT | EVT_REVERT_FAILED, NULL, "%u change%s could not be reverted; the guardian and 'sabot recover' retry "
                          "from %s", failed, failed == 1 ? "" : "s", r->j->path);
                r->exit_code = EXIT_INTERNAL;
                snprintf(r->reason + strlen(r->reason), sizeof r->reason - strlen(r->reason), "; %u change%s not reverted",
                         failed, failed == 1 ? "" : "s");
        } else
                run_event(r, LOG_NOTICE | EVT_END, NULL, "everything reverted");
        live_clear(r);
        /* Everything reverted and recorded: the guardian has nothing left
         * to guard, and a report slow to write (an fsync on a busy disk,
         * a starved CPU) must not be taken for a hung runner and get the
         * run SIGKILLed (exit 137, no report) after the fact. A crash
         * from here leaves a journal with nothing outstanding, which
         * recover removes. */
        if (!failed && r->gfd >= 0)
                guardian_done(r->gfd);
        report_write_all(r, beat);
        if (!failed)
                (void)journal_remove(r->j);
        /* Closing the socket without "done" leaves the guardian to retry. */
        loop_remove(r->guardian_sock_src);
        r->guardian_sock_src = NULL;
        closep(&r->gfd);
        r->gfd = -1;
        if (r->guardian > 0)
                waitpid(r->guardian, NULL, 0);
        return r->exit_code;
}
