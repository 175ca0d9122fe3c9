/* SPDX-License-Identifier: MIT */
/* sabot run, its orchestration: the start-up (preflight.c), the journal,
 * the guardian, the launched targets (targets.c), then one event loop
 * whose sources (the stop signals, the schedule, the guardian's heartbeat
 * and its death, the SLO guard's, the kinds' own) act by the run's phase:
 * steady state, the faults' windows (apply.c), the cooldown (run_slo.c),
 * the targets' end. Every change goes through the journal first; the
 * guardian reverts from it if this process dies or hangs. */
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "guardian.h"
#include "log.h"
#include "run.h"

static void arm_timer(struct run *r) {
        uint64_t next = r->s->head.duration, t;
        if (schedule_build(&r->sched, r->s, r->fr) < 0)
                next = 0; /* run_due reports it, and the run ends */
        else if (schedule_next(&r->sched, &t) && t < next)
                next = t;
        uint64_t at = r->faults0_mono + next;
        (void)loop_timer_at(r->sched_src, at ? at : 1, 0); /* 0 would disarm it */
}

static int run_due(struct run *r) {
        uint64_t now = mono_now() - r->faults0_mono;
        int q = schedule_build(&r->sched, r->s, r->fr);
        if (q < 0)
                return q;
        size_t i;
        enum sched_due what;
        while (schedule_take(&r->sched, now, &i, &what)) {
                struct fault_run *due = &r->fr[i];
                if (what == SCHED_START) {
                        q = run_disarmed(r) || run_guardian_lost(r) ? -ECANCELED : run_fault_start(r, due);
                } else if (what == SCHED_STRIKE) {
                        if (run_disarmed(r) || run_guardian_lost(r))
                                q = -ECANCELED;
                        else {
                                struct fault_ctx c = run_ctx(r);
                                due->next_strike_ns += due->f->every;
                                q = fault_ops_get(due->f->type)->strike(&c, due);
                        }
                } else
                        q = run_fault_revert(r, due);
                schedule_push(&r->sched, i); /* its next moment, if it has one */
                if (q < 0)
                        return q;
                /* Many faults due at once (up to SCENARIO_MAX_FAULTS) are
                 * progress, not a hang: tell the guardian after each. */
                if (r->gfd >= 0)
                        guardian_beat(r->gfd);
        }
        return now >= r->s->head.duration ? 1 : 0;
}

/* ---- the run ---- */

static void run_free(struct run *r) {
        for (size_t i = 0; i < r->n_ev; i++) {
                free(r->ev[i].fault);
                free(r->ev[i].msg);
        }
        free(r->ev);
        for (size_t i = 0; r->fr && i < r->s->n_faults; i++) {
                free(r->fr[i].seqs);
                if (r->fr[i].priv_free)
                        r->fr[i].priv_free(r->fr[i].priv);
        }
        free(r->fr);
        schedule_free(&r->sched);
        if (r->s)
                targets_free(r);
        slo_guard_free(r->guard);
        loop_remove(r->sig_src);
        loop_remove(r->sched_src);
        loop_remove(r->hb_src);
        loop_remove(r->guardian_src);
        loop_remove(r->guardian_sock_src);
        loop_free(r->loop);
        if (r->shared)
                munmap(r->shared, fault_shared_size());
        journal_free(r->j);
        plan_free(r->pl);
        scenario_free(r->s);
        policy_free(r->p);
        closep(&r->lock_fd);
        closep(&r->sigfd);
        closep(&r->gfd);
        closep(&r->guardian_pidfd);
}

void run_phase_over(struct run *r) {
        r->phase_over = true;
        loop_quit(r->loop);
}

int run_loop_until(struct run *r, enum run_phase phase, uint64_t until) {
        r->phase = phase;
        r->phase_over = false;
        while (!r->phase_over) {
                uint64_t now = mono_now();
                if (until && now >= until)
                        break;
                int q = loop_run_once(r->loop, until ? (int)((until - now) / NSEC_PER_MSEC) + 1 : -1);
                if (q < 0)
                        return q;
        }
        return 0;
}

/* The steady-state phase: once every SLO has held for steady_ns, the
 * faults' clock starts, and the guardian's deadline is tightened to what
 * is left (the faults, the cooldown, the targets' stop). 1 if it held. */
int run_steady_check(struct run *r) {
        const struct slo_status *w = NULL;
        if (!r->steady || !slo_guard_steady(r->guard, r->steady_ns, &w))
                return 0;
        r->steady = false;
        r->phase = PHASE_FAULTS;
        r->faults0_mono = r->steady_reached_mono = mono_now();
        char a[FORMAT_MAX], b[FORMAT_MAX];
        run_event(r, LOG_NOTICE, NULL, "steady state reached after %s (every SLO held for %s); faults start now",
              format_duration(a, (r->faults0_mono - r->steady0_mono) / NSEC_PER_MSEC * NSEC_PER_MSEC),
              format_duration(b, r->steady_ns));
        size_t n_exec = 0;
        for (size_t i = 0; i < r->s->n_targets; i++)
                n_exec += r->s->targets[i]->sel == SEL_EXEC;
        guardian_deadline(r->gfd, r->faults0_mono + r->s->head.duration + r->s->head.cooldown +
                                          (n_exec ? TARGET_STOP_NS : 0) + r->s->n_faults * FAULT_REVERT_NS);
        arm_timer(r);
        return 1;
}

/* ---- the loop's sources: what each does depends on the phase ---- */

static void on_signal(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        struct run *r = ud;
        struct signalfd_siginfo si;
        if (read(r->sigfd, &si, sizeof si) != sizeof si)
                return;
        if (r->phase == PHASE_STEADY || r->phase == PHASE_FAULTS) {
                if (!run_disarmed(r)) {
                        snprintf(r->reason, sizeof r->reason, "interrupted by SIG%s",
                                 signal_to_name((int)si.ssi_signo) ? signal_to_name((int)si.ssi_signo) : "?");
                        r->exit_code = EXIT_ABORTED;
                }
                run_event(r, LOG_WARNING | EVT_ABORT, NULL, "%s: reverting everything", r->reason);
                run_phase_over(r);
        } else if (r->phase == PHASE_COOLDOWN) {
                run_event(r, LOG_WARNING, NULL, "cooldown cut short by a signal");
                run_phase_over(r);
        } /* stopping: a second signal; the end is under way */
}

/* The scenario is over: completed, or completed without chaos. */
static void completed(struct run *r) {
        for (size_t k = 0; r->o->require_effect && !r->no_chaos[0] && k < r->s->n_faults; k++)
                if (r->fr[k].state == FR_DONE && r->fr[k].hits == 0)
                        snprintf(r->no_chaos, sizeof r->no_chaos, "fault %s acted on nothing (--require-effect): %.200s",
                                 r->fr[k].f->hdr.name, r->fr[k].outcome);
        if (r->no_chaos[0]) {
                snprintf(r->reason, sizeof r->reason, "completed, but chaos did not happen: %s", r->no_chaos);
                r->exit_code = EXIT_NO_CHAOS;
        } else {
                snprintf(r->reason, sizeof r->reason, "completed");
                r->exit_code = EXIT_HELD;
        }
}

static void on_schedule(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        struct run *r = ud;
        if (r->phase == PHASE_STEADY) {
                if (run_steady_check(r) == 0) {
                        run_steady_missed(r);
                        run_phase_over(r);
                }
                return;
        }
        if (r->phase != PHASE_FAULTS)
                return; /* nothing more is due */
        int q = run_due(r);
        if (q == -ECANCELED)
                run_event(r, LOG_WARNING | EVT_ABORT, NULL, "%s: reverting everything", r->reason);
        else if (q < 0 && r->j->write_err) {
                /* Write-ahead: nothing was done that the journal does not hold. */
                snprintf(r->reason, sizeof r->reason, "the journal could not be written under %s/runs (%s)",
                         r->o->dirs.run, strerror(-r->j->write_err));
                r->exit_code = EXIT_INTERNAL;
                run_event(r, LOG_ERR, NULL, "%s: reverting everything", r->reason);
        } else if (q < 0) {
                snprintf(r->reason, sizeof r->reason, "a fault failed: %s", strerror(-q));
                r->exit_code = EXIT_INTERNAL;
        } else if (q == 1)
                completed(r);
        else {
                arm_timer(r);
                return;
        }
        run_phase_over(r);
}

static void on_heartbeat(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        struct run *r = ud;
        guardian_beat(r->gfd);
        /* The view, in every phase: at once when the phase changed, then
         * every LIVE_DRAW_TICKS. */
        if (++r->ticks % LIVE_DRAW_TICKS == 0 || r->phase != r->view_phase) {
                if (r->guard && r->phase != PHASE_STOPPING)
                        (void)slo_guard_judge(r->guard); /* to show it; breaches act on the sample that shows them */
                live_draw(r);
                live_slo_state_write(r);
        }
}

/* Its pidfd, or its socket's hang-up. */
static void on_guardian(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        struct run *r = ud;
        r->guardian_gone = true;
        if (r->phase == PHASE_STEADY || r->phase == PHASE_FAULTS) {
                (void)run_guardian_lost(r);
                run_event(r, LOG_ERR | EVT_ABORT, NULL, "%s; reverting everything", r->reason);
                run_phase_over(r);
                return;
        }
        /* The faults are reverted; the targets must not be left unguarded
         * for the cooldown. */
        if (r->phase == PHASE_COOLDOWN)
                run_event(r, LOG_ERR, NULL, "the guardian (pid %d) died: cooldown cut short", (int)r->guardian);
        loop_remove(r->guardian_src);
        loop_remove(r->guardian_sock_src);
        r->guardian_src = r->guardian_sock_src = NULL;
        run_phase_over(r);
}

/* Signals, the schedule, the guardian first: a window that opens now is
 * open for the calls that arrived with it. */
static int setup_loop(struct run *r) {
        sigset_t mask;
        run_stop_signals(&mask);
        r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (r->sigfd < 0)
                return -errno;
        int q = loop_new(&r->loop);
        if (q >= 0)
                q = loop_add_fd(r->loop, "stop signals", r->sigfd, EPOLLIN, LOOP_FIRST, on_signal, r, &r->sig_src);
        if (q >= 0)
                q = loop_add_timer(r->loop, "the schedule", LOOP_FIRST, on_schedule, r, &r->sched_src);
        if (q >= 0)
                q = loop_add_timer(r->loop, "the guardian's heartbeat", LOOP_FIRST, on_heartbeat, r, &r->hb_src);
        if (q >= 0)
                q = loop_timer_in(r->hb_src, GUARDIAN_HEARTBEAT_NS, GUARDIAN_HEARTBEAT_NS);
        return q;
}

int run_give_to_guardian(void *ud, int fd) {
        struct run *r = ud;
        if (r->n_given >= FAULT_GIVEN_FDS_MAX)
                return -EMFILE;
        if (run_guardian_lost(r))
                return -ECANCELED;
        int q = guardian_give_fd(r->gfd, fd);
        return q < 0 ? q : (int)r->n_given++;
}

int run_hold_in_guardian(void *ud, int fd) {
        struct run *r = ud;
        if (run_guardian_lost(r))
                return -ECANCELED;
        /* The guardian keeps FAULT_GIVEN_FDS_MAX and closes any more without
         * a word: refused here, so that a fill it could not free is not
         * made (a fault fails; one run rarely has 32 fills). */
        if (r->n_held >= FAULT_GIVEN_FDS_MAX)
                return -E2BIG;
        int q = guardian_hold_fd(r->gfd, fd);
        if (q >= 0)
                r->n_held++;
        return q;
}

/* The guardian, and the loop's watch on it. rest: what the run needs once
 * its targets are launched. */
static int start_guardian(struct run *r, uint64_t launch_ns, uint64_t rest) {
        int q = guardian_spawn(r->j->path, r->t0_mono + launch_ns + rest, GUARDIAN_GRACE_NS, &r->gfd, &r->guardian,
                               &r->shared);
        if (q >= 0) {
                r->guardian_pidfd = sys_pidfd_open(r->guardian);
                q = r->guardian_pidfd < 0 ? -errno : 0;
        }
        if (q >= 0)
                q = loop_add_fd(r->loop, "the guardian's pidfd", r->guardian_pidfd, EPOLLIN, LOOP_FIRST, on_guardian, r,
                                &r->guardian_src);
        if (q >= 0)
                q = loop_add_fd(r->loop, "the guardian's socket", r->gfd, EPOLLRDHUP, LOOP_FIRST, on_guardian, r,
                                &r->guardian_sock_src);
        if (q >= 0)
                q = journal_set_guardian(r->j, r->guardian);
        return q;
}

/* From the guardian on: launch the targets, wait for steady state, run
 * the schedule; run_finish reverts whatever the journal holds. */
static int run_faults(struct run *r, uint64_t rest) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        if (run_startup_stopped(r)) {
                run_event(r, LOG_WARNING | EVT_ABORT, NULL, "%s: reverting everything", r->reason);
                return run_finish(r);
        }
        run_event(r, LOG_NOTICE | EVT_START, NULL, "run %s started: %zu fault%s over %s; guardian pid %d, journal %s", r->run_id,
                  r->s->n_faults, r->s->n_faults == 1 ? "" : "s", format_duration(a, r->s->head.duration),
                  (int)r->guardian, r->j->path);
        int q = targets_begin(r);
        if (q >= 0)
                q = targets_launch(r);
        if (q < 0) {
                if (!r->guardian_gone)
                        snprintf(r->reason, sizeof r->reason, "a target could not be launched: %s", strerror(-q));
                r->exit_code = EXIT_INTERNAL;
                return run_finish(r);
        }
        if (run_startup_stopped(r)) {
                run_event(r, LOG_WARNING | EVT_ABORT, NULL, "%s: reverting everything", r->reason);
                return run_finish(r);
        }
        /* The network classifiers are attached now, inert, rather than by
         * the first window on their hook (faults/README.md): every window
         * is then a map update, and the steady state, when there is one,
         * is judged with them in place, as the host will be between windows. */
        q = run_attach_early(r);
        if (q == -ECANCELED) {
                run_event(r, LOG_WARNING | EVT_ABORT, NULL, "%s: reverting everything", r->reason);
                return run_finish(r);
        }
        if (q < 0) {
                snprintf(r->reason, sizeof r->reason, "the journal could not be written under %s/runs (%s)", r->o->dirs.run,
                         strerror(-r->j->write_err));
                r->exit_code = EXIT_INTERNAL;
                run_event(r, LOG_ERR, NULL, "%s: reverting everything", r->reason);
                return run_finish(r);
        }
        r->faults0_mono = r->t0_mono;
        guardian_deadline(r->gfd, mono_now() + rest);
        enum run_phase phase = PHASE_FAULTS;
        if (r->s->n_slos) {
                q = slo_guard_new(r->s, r->p->probes.user, r->loop, run_slo_event, r, &r->guard);
                if (q < 0) {
                        log_error_errno(q, "cannot start the SLO probes (probe user %s): %m", r->p->probes.user);
                        snprintf(r->reason, sizeof r->reason, "the SLO probes could not start: %s", strerror(-q));
                        r->exit_code = EXIT_INTERNAL;
                        return run_finish(r);
                }
                /* Steady state first: every SLO must hold, continuously,
                 * for steady_ns before any fault, within the bound. */
                phase = PHASE_STEADY;
                r->steady = true;
                r->steady0_mono = mono_now();
                (void)loop_timer_in(r->sched_src, r->steady_timeout_ns, 0);
                run_event(r, LOG_NOTICE, NULL, "waiting for steady state: every SLO must hold for %s, within at most %s",
                          format_duration(a, r->steady_ns), format_duration(b, r->steady_timeout_ns));
        } else
                arm_timer(r);
        live_draw(r);
        q = run_loop_until(r, phase, 0);
        if (q < 0) {
                snprintf(r->reason, sizeof r->reason, "event loop failed: %s", strerror(-q));
                r->exit_code = EXIT_INTERNAL;
        }
        return run_finish(r);
}

int run_main(const struct run_opts *o) {
        struct run R = {.o = o, .lock_fd = -1, .sigfd = -1, .gfd = -1, .guardian_pidfd = -1};
        struct run *r = &R;
        struct diags d = {0};

        /* First of all: from here on no SIGTERM or Ctrl-C ends the run
         * outright; each stage below honours a pending one (exit 4). */
        sigset_t stop;
        run_stop_signals(&stop);
        if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0)
                return log_error_errno(-errno, "cannot block signals: %m"), EXIT_INTERNAL;
        signal(SIGPIPE, SIG_IGN);

        int code = run_startup(r, &d);
        diags_free(&d);
        /* From here on the host is touched: journal first, guardian next. */
        if (!code)
                code = targets_alloc(r) < 0 ? EXIT_INTERNAL : run_create_journal(r);
        if (code)
                goto out;
        /* The kill switch may have been thrown after the latch was read and
         * before `sabot abort` could see this journal. */
        if (run_startup_stopped(r)) {
                log_internal(LOG_WARNING | EVT_ABORT, 0, "%s; nothing was touched", r->reason);
                code = run_ended_before_start(r);
                goto out_journal;
        }
        code = EXIT_INTERNAL;
        int q = setup_loop(r);
        if (q < 0) {
                log_error_errno(q, "cannot set up the event loop: %m");
                goto out_journal;
        }
        r->t0_mono = mono_now();
        r->t0_wall = wall_now();
        run_steady_bounds(r);
        /* The hard deadline covers the whole run: launching the targets,
         * the steady-state phase, the faults, reverting them, the cooldown,
         * and the time the targets get to stop. Tightened once they are
         * launched. */
        size_t n_exec = 0;
        for (size_t i = 0; i < r->s->n_targets; i++)
                n_exec += r->s->targets[i]->sel == SEL_EXEC;
        uint64_t rest = r->steady_timeout_ns + r->s->head.duration + r->s->head.cooldown + (n_exec ? TARGET_STOP_NS : 0) +
                        r->s->n_faults * FAULT_REVERT_NS;
        q = start_guardian(r, n_exec * TARGET_LAUNCH_NS, rest);
        if (q < 0) {
                log_error_errno(q, "cannot start the guardian: %m");
                goto out_journal;
        }
        code = run_faults(r, rest);
        goto out;

out_journal:
        /* Nothing was applied yet. */
        (void)journal_remove(r->j);
        if (r->gfd >= 0)
                guardian_done(r->gfd);
out:
        run_free(r);
        if (R.guardian > 0 && R.gfd >= 0)
                waitpid(R.guardian, NULL, 0);
        return code;
}
