/* SPDX-License-Identifier: MIT */
/* sabot run: validate, plan, preflight, then one event loop that applies
 * and reverts each fault at its window, and a report. Every change goes
 * through the journal first; the guardian reverts from it if this process
 * dies or hangs. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "curl_lib.h"
#include "guardian.h"
#include "log.h"
#include "run.h"

/* The signals that stop a run. Blocked from the first line of run_main
 * on, so that none can kill it outright half-way through its start-up: a
 * pending one is seen at the next start-up stage (startup_stopped) or read
 * from the signalfd by the loop. Blocked, they stay pending even where the
 * caller left them ignored (SIGINT in a shell's background job). */
static void stop_signals(sigset_t *mask) {
        sigemptyset(mask);
        sigaddset(mask, SIGINT);
        sigaddset(mask, SIGTERM);
        sigaddset(mask, SIGHUP);
        sigaddset(mask, SIGQUIT);
}

/* Event loop ids besides 1-4 (setup_loop), the SLO guard's (slo.h), 100+
 * (launched targets' pidfds) and 300+ (their listeners). */
#define ID_GUARDIAN 10      /* the guardian's pidfd */
#define ID_GUARDIAN_SOCK 11 /* our end of its socket: hang-up */

/* ---- live view (terminal) and events ---- */

static void view_clear(struct run *r) {
        if (r->tty && r->view_lines) {
                fprintf(stderr, "\033[%dF\033[J", r->view_lines);
                r->view_lines = 0;
        }
}

static const char *fr_state(const struct fault_run *fr, char buf[static 32]) {
        static const char *const n[] = {"pending", "ACTIVE", "done", "FAILED", "skipped"};
        if (fr->state == FR_DONE && fr->cut_by) {
                snprintf(buf, 32, "reverted at %s", fr->cut_by);
                return buf;
        }
        return n[fr->state];
}

static void view_draw(struct run *r) {
        if (!r->tty)
                return;
        view_clear(r);
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        uint64_t now = mono_now(), dur = r->s->head.duration;
        if (r->steady) {
                const struct slo_status *w = NULL;
                char why[320] = "";
                uint64_t el = now - r->steady0_mono;
                if (r->guard && !slo_guard_steady_peek(r->guard, r->steady_ns, &w) && w) {
                        if (!w->n_samples)
                                snprintf(why, sizeof why, "%s: no answer yet", w->o->hdr.name);
                        else if (!w->healthy_since_ns)
                                snprintf(why, sizeof why, "%s unhealthy (%s)", w->o->hdr.name, w->fail);
                        else
                                snprintf(why, sizeof why, "every SLO healthy, for %s of %s", format_duration(c,
                                         (now - w->healthy_since_ns) / (100 * NSEC_PER_MSEC) * 100 * NSEC_PER_MSEC),
                                         format_duration(b, r->steady_ns));
                }
                fprintf(stderr, "\033[1m%s\033[0m  waiting for steady state: %s, %s of at most %s   Ctrl-C reverts "
                        "everything\n", r->s->head.name, why, format_duration(a, el / (100 * NSEC_PER_MSEC) * 100 * NSEC_PER_MSEC),
                        format_duration(b, r->steady_timeout_ns));
        } else {
                /* The scenario's clock, on which the fault windows are set. */
                uint64_t el = now - (r->faults0_mono ? r->faults0_mono : r->t0_mono);
                fprintf(stderr, "\033[1m%s\033[0m  %s of %s, %s left   Ctrl-C reverts everything\n", r->s->head.name,
                        format_duration(a, el / NSEC_PER_SEC * NSEC_PER_SEC), format_duration(c, dur),
                        format_duration(b, el < dur ? (dur - el) / NSEC_PER_SEC * NSEC_PER_SEC : 0));
        }
        int lines = 1;
        for (size_t i = 0; i < r->s->n_faults; i++) {
                struct fault_run *fr = &r->fr[i];
                char st[32];
                fprintf(stderr, "  %-16s %-13s %5s → %-5s %-8s", fr->f->hdr.name, fault_type_to_string(fr->f->type),
                        format_duration(a, fr->f->start), format_duration(b, fault_end(r->s, fr->f)), fr_state(fr, st));
                const struct fault_ops *ops = fault_ops_get(fr->f->type);
                if (fr->state == FR_ACTIVE && ops && ops->count)
                        ops->count(fr);
                switch (fr->state == FR_PENDING || fr->state == FR_SKIPPED ? -1 : (int)fr->f->type) {
                case FAULT_KILL:
                        fprintf(stderr, " strikes %u, killed %u", fr->strikes, fr->hits);
                        break;
                case FAULT_PAUSE:
                        fprintf(stderr, " stopped %u", fr->hits);
                        break;
                case FAULT_LOSS:
                case FAULT_BLACKHOLE:
                        fprintf(stderr, " dropped %u of %u packets", fr->hits, fr->strikes);
                        break;
                case FAULT_LATENCY:
                        fprintf(stderr, " delayed %u packets", fr->hits);
                        break;
                case FAULT_SYSCALL_ERROR:
                        fprintf(stderr, " failed %u of %u calls", fr->hits, fr->strikes);
                        break;
                case FAULT_SYSCALL_DELAY:
                        fprintf(stderr, " held %u of %u calls", fr->hits, fr->strikes);
                        break;
                }
                fputc('\n', stderr);
                lines++;
        }
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                static const char *const v[] = {"waiting", "healthy", "BREACHED"};
                const struct slo_status *st = slo_guard_status(r->guard, i);
                char kind[32], every[32];
                snprintf(kind, sizeof kind, "%s slo", slo_probe_to_string(st->o->probe));
                snprintf(every, sizeof every, "every %s", format_duration(a, st->o->interval));
                fprintf(stderr, "  %-16s %-13s %-13s %-8s %s\n", st->o->hdr.name, kind, every, v[st->verdict],
                        st->verdict == SLO_HEALTHY ? st->why + strlen("healthy: ") : st->why);
                lines++;
        }
        for (size_t i = 0; i < r->s->n_targets; i++) {
                const struct target *t = r->s->targets[i];
                if (t->sel == SEL_EXEC)
                        fprintf(stderr, "  target %s: launched pid %d%s\n", t->hdr.name, (int)r->exec_pids[i],
                                r->exec_pids[i] && !process_alive(r->exec_pids[i], r->exec_starts[i]) ? " (exited)" : "");
                else {
                        /* Resolved afresh: the processes a strike would see now. */
                        _cleanup_resolved_target_ struct resolved_target rt = {0};
                        char pids[96] = "";
                        if (plan_resolve_target(r->pl, t, &rt) >= 0)
                                for (size_t k = 0; k < rt.n_pids && strlen(pids) < sizeof pids - 16; k++)
                                        snprintf(pids + strlen(pids), sizeof pids - strlen(pids), "%s%d", k ? " " : "",
                                                 (int)rt.pids[k]);
                        fprintf(stderr, "  target %s (%s %s): %zu process%s %s%s\n", t->hdr.name, selector_to_string(t->sel),
                                target_value(t, c), rt.n_pids, rt.n_pids == 1 ? "" : "es", pids,
                                strlen(pids) >= sizeof pids - 16 ? " …" : "");
                }
                lines++;
        }
        r->view_lines = lines;
        fflush(stderr);
}

static void event_v(struct run *r, int level, const struct fault *f, const char *fmt, va_list ap) {
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        struct run_event e = {
                .wall_ns = wall_now(),
                .mono_ns = mono_now() - r->t0_mono,
                .level = level,
                .fault = f ? strdup(f->hdr.name) : NULL,
                .msg = strdup(msg),
        };
        if (!e.msg || array_push(&r->ev, &r->n_ev, sizeof e, &e) < 0) {
                free(e.fault);
                free(e.msg);
        }
        if (r->tty) {
                /* On the scenario's clock, as in the view; before it starts
                 * (the steady-state phase, whose length is not known in
                 * advance), since the run started, marked "+". */
                char a[FORMAT_MAX];
                bool pre = r->steady || !r->faults0_mono;
                uint64_t zero = pre ? 0 : r->faults0_mono - r->t0_mono;
                uint64_t t = e.mono_ns >= zero ? e.mono_ns - zero : zero - e.mono_ns;
                view_clear(r);
                char at[FORMAT_MAX + 1];
                snprintf(at, sizeof at, "%s%s", pre ? "+" : e.mono_ns >= zero ? "" : "-",
                         format_duration(a, t / NSEC_PER_MSEC * NSEC_PER_MSEC));
                fprintf(stderr, "%10s  %s%s%s\n", at, f ? f->hdr.name : "", f ? ": " : "", msg);
                view_draw(r);
        } else if (f)
                log_internal(level, 0, "%s: %s", f->hdr.name, msg);
        else
                log_internal(level, 0, "%s", msg);
}

static void event(struct run *r, int level, const struct fault *f, const char *fmt, ...) _printf_(4, 5);
static void event(struct run *r, int level, const struct fault *f, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        event_v(r, level, f, fmt, ap);
        va_end(ap);
}

static void fault_event_cb(void *ud, int level, const struct fault *f, const char *fmt, va_list ap) {
        event_v(ud, level, f, fmt, ap);
}

/* For `sabot status`: each SLO's verdict now, one line per SLO
 * (NAME TAB PROBE TAB VERDICT TAB WHY), replaced whole. */
static void slo_state_write(struct run *r) {
        if (!r->guard || !r->j)
                return;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return;
        static const char *const v[] = {"waiting", "healthy", "breached"};
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                const struct slo_status *st = slo_guard_status(r->guard, i);
                fprintf(f, "%s\t%s\t%s\t%s\n", st->o->hdr.name, slo_probe_to_string(st->o->probe), v[st->verdict],
                        st->why);
        }
        if (fclose(f) == 0)
                (void)journal_sibling_write(r->j, ".slo", text, len);
}

/* ---- applying and reverting ---- */

static struct fault_ctx ctx_of(struct run *r) {
        return (struct fault_ctx){
                .j = r->j,
                .pl = r->pl,
                .exec_pids = r->exec_pids,
                .exec_starts = r->exec_starts,
                .event = fault_event_cb,
                .ud = r,
        };
}

/* Revert what one fault created, from its journal entries. */
static int fault_revert(struct run *r, struct fault_run *fr) {
        const struct fault_ops *ops = fault_ops_get(fr->f->type);
        if (FAULT_MASK(fr->f->type) & FAULTS_SYSCALL)
                syscall_notify_release(&r->ns, fr);
        if (ops && ops->finish && fr->state == FR_ACTIVE) {
                struct fault_ctx c = ctx_of(r);
                ops->finish(&c, fr);
        }
        unsigned failed = 0;
        int first = journal_revert_some(r->j, fr->seqs, fr->n_seqs, &failed);
        unsigned n = first >= 0 ? (unsigned)first : 0;
        fr->reverted_ns = mono_now() - r->t0_mono;
        if (first < 0) {
                fr->state = FR_FAILED;
                snprintf(fr->outcome, sizeof fr->outcome, "revert failed: %s", strerror(-first));
                event(r, LOG_ERR, fr->f, "revert failed: %s; 'sabot recover' retries", strerror(-first));
                return first;
        }
        /* Cut short: the run ended before the window did. */
        bool was_active = fr->applied_ns != 0;
        if (was_active && mono_now() < r->faults0_mono + fault_end(r->s, fr->f))
                fr->cut_by = r->exit_code == EXIT_BREACH ? "breach" : r->exit_code == EXIT_ABORTED ? "abort" : "the run's end";
        fr->state = FR_DONE;
        if (fr->f->type == FAULT_PAUSE) {
                snprintf(fr->outcome, sizeof fr->outcome, "paused %u process%s, resumed", fr->hits,
                         fr->hits == 1 ? "" : "es");
                event(r, LOG_NOTICE, fr->f, "reverted: resumed %u", n);
        } else if (fr->f->type == FAULT_KILL)
                snprintf(fr->outcome, sizeof fr->outcome, "%u strike%s, %u process%s signalled", fr->strikes,
                         fr->strikes == 1 ? "" : "s", fr->hits, fr->hits == 1 ? "" : "es");
        else
                event(r, LOG_NOTICE, fr->f, "reverted: %s", fr->outcome[0] ? fr->outcome : "removed");
        return 0;
}

static bool disarmed(struct run *r) {
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

/* Whether a fault's target matches nothing as its window opens (why in
 * why): a fault that acts on nothing is chaos that does not happen. */
static bool target_matches_nothing(struct run *r, const struct fault *f, char *why, size_t len) {
        if (f->target_index < 0)
                return false;
        const struct target *t = r->s->targets[f->target_index];
        if (t->sel == SEL_EXEC) {
                pid_t pid = r->exec_pids[f->target_index];
                if (pid > 0 && process_alive(pid, r->exec_starts[f->target_index]))
                        return false;
                /* Its children keep the seccomp filter, and its cgroup holds
                 * them: a syscall fault still acts on them. */
                for (size_t i = 0; (FAULT_MASK(f->type) & FAULTS_SYSCALL) && i < r->j->n; i++) {
                        const struct jentry *e = &r->j->v[i];
                        if (!e->reverted && streq(e->kind, "exec-cgroup") && e->name && streq(e->name, t->hdr.name) &&
                            process_entry_running(e))
                                return false;
                }
                snprintf(why, len, "the process the run launched has exited");
                return true;
        }
        _cleanup_resolved_target_ struct resolved_target rt = {0};
        int q = plan_resolve_target(r->pl, t, &rt);
        /* Network and eBPF syscall faults match a unit's or cgroup's
         * processes by cgroup, in the kernel, as they come and go: the
         * cgroup is their target, even while it is empty. */
        bool by_cgroup = (t->sel == SEL_UNIT || t->sel == SEL_CGROUP) &&
                         (FAULT_MASK(f->type) & (FAULTS_NET | FAULTS_SYSCALL));
        bool none = q >= 0 && (by_cgroup ? !rt.cgroup : rt.n_pids == 0);
        if (none)
                snprintf(why, len, "%s", rt.problem ? rt.problem : "matches no process");
        return none;
}

/* Nothing is applied without a live guardian: it is what reverts if this
 * process dies. Its pidfd reports its exit (and the loop watches it, with
 * the socket's hang-up); checked again right before each apply and strike. */
static bool guardian_lost(struct run *r) {
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

static int fault_start(struct run *r, struct fault_run *fr) {
        const struct fault_ops *ops = fault_ops_get(fr->f->type);
        struct fault_ctx c = ctx_of(r);
        char why[512];
        if (target_matches_nothing(r, fr->f, why, sizeof why)) {
                const struct target *t = r->s->targets[fr->f->target_index];
                fr->state = FR_SKIPPED;
                if (t->optional) {
                        snprintf(fr->outcome, sizeof fr->outcome, "skipped: optional target %s matched nothing: %.300s",
                                 t->hdr.name, why);
                        event(r, LOG_NOTICE, fr->f, "skipped: target %s (optional = yes) matched nothing when the "
                              "window opened: %s", t->hdr.name, why);
                        return 0;
                }
                snprintf(fr->outcome, sizeof fr->outcome, "did nothing: target %s matched nothing when the window "
                         "opened: %.300s", t->hdr.name, why);
                event(r, LOG_ERR, fr->f, "target %s matched nothing when the window opened: %s; this fault does "
                      "nothing (optional = yes on the target makes that no failure)", t->hdr.name, why);
                if (!r->no_chaos[0])
                        snprintf(r->no_chaos, sizeof r->no_chaos, "fault %s did nothing: target %s matched nothing "
                                 "when its window opened", fr->f->hdr.name, t->hdr.name);
                return 0;
        }
        fr->state = FR_ACTIVE;
        fr->applied_ns = mono_now() - r->t0_mono;
        if (fr->f->type == FAULT_KILL && fr->f->every)
                fr->next_strike_ns = fr->f->start + fr->f->every;
        int q = ops->apply(&c, fr);
        /* The kill switch may have been thrown while we applied: what the
         * journal holds is reverted below, by us or by `sabot abort`. */
        if (q >= 0 && disarmed(r))
                return -ECANCELED;
        /* `sabot abort` reverts from the journal while we apply: what it
         * removed under us (a clsact between its entry and our filter)
         * fails the apply, and the run was aborted, not broken. */
        if (q < 0 && disarmed(r)) {
                snprintf(fr->outcome, sizeof fr->outcome, "apply cut short by the kill switch: %s", strerror(-q));
                event(r, LOG_WARNING, fr->f, "apply cut short by the kill switch: %s", strerror(-q));
                fr->state = FR_FAILED;
                return -ECANCELED;
        }
        if (q < 0) {
                snprintf(fr->outcome, sizeof fr->outcome, "apply failed: %s", strerror(-q));
                event(r, LOG_ERR, fr->f, "apply failed: %s", strerror(-q));
                fr->state = FR_FAILED;
        }
        return q;
}

static void arm_timer(struct run *r) {
        uint64_t next = r->s->head.duration, t;
        if (schedule_build(&r->sched, r->s, r->fr) < 0)
                next = 0; /* run_due reports it, and the run ends */
        else if (schedule_next(&r->sched, &t) && t < next)
                next = t;
        uint64_t at = r->faults0_mono + next;
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / NSEC_PER_SEC), .tv_nsec = (long)(at % NSEC_PER_SEC)}};
        if (at == 0)
                its.it_value.tv_nsec = 1;
        timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Run everything due, earliest first. Returns 1 when the scenario is over,
 * <0 to stop. */
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
                        q = disarmed(r) || guardian_lost(r) ? -ECANCELED : fault_start(r, due);
                } else if (what == SCHED_STRIKE) {
                        if (disarmed(r) || guardian_lost(r))
                                q = -ECANCELED;
                        else {
                                struct fault_ctx c = ctx_of(r);
                                due->next_strike_ns += due->f->every;
                                q = fault_ops_get(due->f->type)->strike(&c, due);
                        }
                } else
                        q = fault_revert(r, due);
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

/* ---- exec targets ---- */

/* A listener goes to the guardian as soon as it is taken (see
 * adopt_listener), numbered in the order given. */
static int give_listener(void *ud, int fd) {
        struct run *r = ud;
        if (r->n_given >= NOTIFY_MAX_LISTENERS)
                return -EMFILE;
        if (guardian_lost(r))
                return -ECANCELED;
        int q = guardian_give_fd(r->gfd, fd);
        return q < 0 ? q : (int)r->n_given++;
}

static int launch_targets(struct run *r) {
        for (size_t i = 0; i < r->s->n_targets; i++) {
                const struct target *t = r->s->targets[i];
                if (t->sel != SEL_EXEC)
                        continue;
                if (guardian_lost(r))
                        return -ECANCELED;
                char log[PATH_MAX], dir[PATH_MAX];
                snprintf(dir, sizeof dir, "%s/logs", r->o->dirs.state);
                /* Checked, so that no one but root has put anything in it. */
                int lfd = -1, q = state_subdir(&r->o->dirs, "logs", 0750, &lfd);
                if (q == -EPERM || q == -ELOOP || q == -ENOTDIR)
                        return log_error("cannot use %s: %s", dir, trust_last()), q;
                if (q < 0)
                        return log_error_errno(q, "cannot create %s: %m", dir);
                close(lfd);
                if (snprintf(log, sizeof log, "%s/%s-%s.log", dir, r->run_id, t->hdr.name) >= (int)sizeof log)
                        return log_error_errno(-ENAMETOOLONG, "state dir path too long: %s", dir);
                struct fault_ctx c = ctx_of(r);
                size_t n_nrs = 0;
                _cleanup_free_ int *nrs = syscall_notify_set(r->s, (int)i, &n_nrs);
                struct exec_listener xl = {.give = give_listener, .ud = r, .shared = r->ns.shared};
                q = exec_target_start_notify(&c, t, log, nrs, n_nrs, &xl, &r->exec_pids[i], &r->exec_starts[i],
                                             &r->notify_fds[i], &r->notify_gidx[i]);
                if (q < 0) {
                        event(r, LOG_ERR, NULL, "target %s: cannot start %s: %s", t->hdr.name, t->exec, strerror(-q));
                        return q;
                }
                r->exec_pidfds[i] = sys_pidfd_open(r->exec_pids[i]);
                if (r->exec_pidfds[i] >= 0) {
                        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 100 + i};
                        epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->exec_pidfds[i], &ev);
                }
                if (r->notify_fds[i] >= 0) {
                        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 300 + i};
                        epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->notify_fds[i], &ev);
                }
                event(r, LOG_NOTICE, NULL, "target %s: launched %s as pid %d%s (output: %s)", t->hdr.name, t->exec,
                      (int)r->exec_pids[i], r->notify_fds[i] >= 0 ? " under a seccomp notify filter" : "", log);
        }
        return 0;
}

static void reap_target(struct run *r, size_t i) {
        int status;
        pid_t p = waitpid(r->exec_pids[i], &status, WNOHANG);
        if (p == r->exec_pids[i]) {
                if (WIFSIGNALED(status))
                        event(r, LOG_WARNING, NULL, "target %s: pid %d was killed by SIG%s", r->s->targets[i]->hdr.name,
                              (int)p, signal_to_name(WTERMSIG(status)) ? signal_to_name(WTERMSIG(status)) : "?");
                else
                        event(r, LOG_WARNING, NULL, "target %s: pid %d exited with status %d",
                              r->s->targets[i]->hdr.name, (int)p, WEXITSTATUS(status));
        }
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->exec_pidfds[i], NULL);
}

static bool is_target_entry(const struct jentry *e) {
        return !e->reverted && (streq(e->kind, "exec") || streq(e->kind, "exec-cgroup"));
}

static bool targets_running(struct run *r) {
        for (size_t k = 0; k < r->j->n; k++)
                if (is_target_entry(&r->j->v[k]) && process_entry_running(&r->j->v[k]))
                        return true;
        return false;
}

/* At the end: SIGTERM to the whole tree of each launched target (its
 * cgroup, its process group; the leader may be gone), up to TARGET_STOP_NS
 * to exit while their calls are still answered and the guardian still
 * hears from us, then the journal's revert (SIGKILL, cgroup.kill). */
static void stop_targets(struct run *r) {
        bool any = false;
        for (size_t k = 0; k < r->j->n; k++)
                if (is_target_entry(&r->j->v[k]) && process_entry_running(&r->j->v[k])) {
                        (void)process_signal_entry(&r->j->v[k], SIGTERM);
                        any = true;
                }
        uint64_t deadline = mono_now() + TARGET_STOP_NS;
        while (any && mono_now() < deadline) {
                struct epoll_event evs[8];
                int n = epoll_wait(r->epfd, evs, 8, 20);
                if (n < 0 && errno != EINTR)
                        break;
                for (int i = 0; i < n; i++) {
                        uint64_t id = evs[i].data.u64, x;
                        if (id == 3) {
                                (void)!read(r->hbfd, &x, sizeof x);
                                guardian_beat(r->gfd);
                        } else if (id == 4)
                                syscall_notify_timer(&r->ns);
                        else if (id >= 300 && id < 300 + r->s->n_targets && r->notify_fds[id - 300] >= 0) {
                                struct fault_ctx c = ctx_of(r);
                                if (syscall_notify_handle(&c, &r->ns, r->fr, r->s->n_faults, (int)(id - 300),
                                                          r->notify_fds[id - 300]) < 0 ||
                                    (evs[i].events & (EPOLLHUP | EPOLLERR)))
                                        epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->notify_fds[id - 300], NULL);
                        } else if (id >= 100 && id < 100 + r->s->n_targets)
                                reap_target(r, (size_t)(id - 100));
                        else if (id == ID_GUARDIAN || id == ID_GUARDIAN_SOCK)
                                epoll_ctl(r->epfd, EPOLL_CTL_DEL, id == ID_GUARDIAN ? r->guardian_pidfd : r->gfd, NULL);
                        else if (id == 1) {
                                struct signalfd_siginfo si; /* a second signal: the end is under way */
                                (void)!read(r->sigfd, &si, sizeof si);
                        } else if (id == 2)
                                (void)!read(r->tfd, &x, sizeof x); /* the schedule: nothing more is due */
                        else if (r->guard)
                                (void)slo_guard_event(r->guard, id, evs[i].events);
                }
                any = targets_running(r);
        }
        for (size_t i = 0; i < r->s->n_targets; i++)
                if (r->exec_pids[i] > 0)
                        waitpid(r->exec_pids[i], NULL, WNOHANG);
}

/* ---- preflight ---- */

static int preflight(struct run *r, struct diags *d) {
        int code = 0;
        size_t skipped = 0;
        for (size_t i = 0; i < r->s->n_faults; i++) {
                const struct fault *f = r->s->faults[i];
                const struct fault_ops *ops = fault_ops_get(f->type);
                char why[512] = "";
                if (!ops)
                        snprintf(why, sizeof why, "this version of sabot cannot inject %s faults yet; "
                                 "remove the fault or run a version that can (see 'sabot --version')",
                                 fault_type_to_string(f->type));
                else if (ops->probe(r->s, f, why, sizeof why) >= 0)
                        continue;
                unsigned line = conf_line(&scenario_spec, &f->hdr, "type");
                if (r->o->skip_unsupported) {
                        diag_warning(d, r->s->file, line, "fault '%s': type = %s is not supported here, skipped "
                                     "(--skip-unsupported): %s", f->hdr.name, fault_type_to_string(f->type), why);
                        r->fr[i].state = FR_SKIPPED;
                        snprintf(r->fr[i].outcome, sizeof r->fr[i].outcome, "skipped: not supported here: %s", why);
                        skipped++;
                        continue;
                }
                diag_error(d, r->s->file, line, "fault '%s': type = %s is not supported here: %s", f->hdr.name,
                           fault_type_to_string(f->type), why);
                code = EXIT_UNSUPPORTED;
        }
        /* The classifier of every network fault also holds the policy's
         * protected ports: more than it holds would fail at apply. */
        for (size_t i = 0; i < r->s->n_faults; i++)
                if ((FAULT_MASK(r->s->faults[i]->type) & FAULTS_NET) &&
                    r->p->protect.ports.n > SCENARIO_MAX_PROTECTED_PORTS) {
                        diag_error(d, r->p->path ? r->p->path : "policy",
                                   conf_line(&policy_spec, &r->p->protect.hdr, "ports"),
                                   "[protect] ports has %zu ports or ranges; the network classifier holds at "
                                   "most %d (merge neighbours into ranges), so no network fault can run",
                                   r->p->protect.ports.n, SCENARIO_MAX_PROTECTED_PORTS);
                        if (!code)
                                code = EXIT_INVALID;
                        break;
                }
        for (size_t i = 0; i < r->s->n_slos; i++)
                if (r->s->slos[i]->probe == PROBE_EXEC && !getpwnam(r->p->probes.user)) {
                        diag_error(d, r->s->file, conf_line(&scenario_spec, &r->s->slos[i]->hdr, "probe"),
                                   "slo '%s': exec probes run as the policy's probe user '%s', which does not exist "
                                   "on this host; create it or set [probes] user in the policy", r->s->slos[i]->hdr.name,
                                   r->p->probes.user);
                        if (!code)
                                code = EXIT_INVALID;
                        break;
                }
        if (slo_needs_curl(r->s)) {
                char why[256];
                if (curl_lib_load(why, sizeof why) >= 0) {
                        /* validate's parser is strict; libcurl, which will
                         * fetch them, has the last word on each URL. */
                        for (size_t i = 0; i < r->s->n_slos; i++) {
                                const struct slo *o = r->s->slos[i];
                                if (o->url && curl_lib_url_ok(o->url, why, sizeof why) == 0) {
                                        diag_error(d, r->s->file, conf_line(&scenario_spec, &o->hdr, "url"),
                                                   "slo '%s': invalid URL '%s': %s", o->hdr.name, o->url, why);
                                        if (!code)
                                                code = EXIT_INVALID;
                                }
                        }
                } else {
                        for (size_t i = 0; i < r->s->n_slos; i++)
                                if (r->s->slos[i]->probe == PROBE_HTTP || r->s->slos[i]->probe == PROBE_PROMETHEUS) {
                                        diag_error(d, r->s->file, conf_line(&scenario_spec, &r->s->slos[i]->hdr, "probe"),
                                                   "slo '%s': probe = %s is not supported here: %s", r->s->slos[i]->hdr.name,
                                                   slo_probe_to_string(r->s->slos[i]->probe), why);
                                        break;
                                }
                        code = EXIT_UNSUPPORTED;
                }
        }
        if (!code && skipped && skipped == r->s->n_faults) {
                diag_error(d, r->s->file, 0, "no fault of the scenario is supported here; nothing to inject");
                code = EXIT_UNSUPPORTED;
        }
        return code;
}

/* A run that ended before it touched anything (refused, or stopped during
 * its start-up) still counts for continuous chaos: the metrics say so, and
 * why. r->exit_code and r->reason are set. */
static int ended_before_start(struct run *r) {
        r->t0_mono = r->end_mono = mono_now();
        r->t0_wall = r->end_wall = wall_now();
        if (r->o->metrics) {
                int q = metrics_write(r, r->o->metrics);
                if (q < 0)
                        log_warning_errno(q, "cannot write the metrics file %s: %m", r->o->metrics);
        }
        return r->exit_code;
}

static int refused_before_start(struct run *r, const char *why) {
        r->exit_code = EXIT_REFUSED;
        snprintf(r->reason, sizeof r->reason, "refused: %s", why);
        return ended_before_start(r);
}

/* At each stage of the start-up: whether to stop now, with r->reason and
 * r->exit_code set. A stop signal may be pending (they are blocked, and
 * the loop's signalfd does not exist yet); once the journal exists, where
 * `sabot abort` finds the run, the latch counts too (before, a set latch
 * is a refusal: exit 5). */
static bool startup_stopped(struct run *r) {
        if (r->j && disarmed(r))
                return true;
        sigset_t pend, mask;
        stop_signals(&mask);
        if (sigpending(&pend) < 0)
                return false;
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&mask, sig) && sigismember(&pend, sig)) {
                        snprintf(r->reason, sizeof r->reason, "interrupted by SIG%s during start-up",
                                 signal_to_name(sig) ? signal_to_name(sig) : "?");
                        r->exit_code = EXIT_ABORTED;
                        return true;
                }
        return false;
}

/* Stopped before the journal existed: nothing to revert. */
static int stopped_before_start(struct run *r, struct diags *d) {
        diags_print(d, stderr);
        log_warning("%s; nothing was touched", r->reason);
        return r->s ? ended_before_start(r) : EXIT_ABORTED;
}

static bool confirm(struct run *r) {
        char host[256] = "this host";
        struct utsname u;
        if (uname(&u) == 0)
                snprintf(host, sizeof host, "%s", u.nodename);
        fprintf(stderr, "\nInject these faults on %s? [y/N] ", host);
        fflush(stderr);
        /* Ctrl-C at the prompt: the signals are blocked, so wait for either. */
        sigset_t mask;
        stop_signals(&mask);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        while (poll(p, sfd >= 0 ? 2 : 1, -1) < 0)
                if (errno != EINTR)
                        return false;
        if (p[1].revents) {
                fputc('\n', stderr);
                (void)startup_stopped(r); /* the signal stays pending: it names the reason */
                return false;
        }
        char line[64];
        if (!fgets(line, sizeof line, stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
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
        for (size_t i = 0; r->exec_pidfds && i < r->s->n_targets; i++)
                if (r->exec_pidfds[i] >= 0)
                        close(r->exec_pidfds[i]);
        free(r->exec_pidfds);
        for (size_t i = 0; r->notify_fds && i < r->s->n_targets; i++)
                if (r->notify_fds[i] >= 0)
                        close(r->notify_fds[i]);
        free(r->notify_fds);
        free(r->notify_gidx);
        free(r->ns.held);
        if (r->ns.shared)
                munmap(r->ns.shared, sizeof *r->ns.shared);
        if (r->ns.tfd > 0)
                close(r->ns.tfd);
        free(r->exec_pids);
        free(r->exec_starts);
        slo_guard_free(r->guard);
        journal_free(r->j);
        plan_free(r->pl);
        scenario_free(r->s);
        policy_free(r->p);
        for (int *fd = &r->lock_fd; fd <= &r->guardian_pidfd; fd++)
                if (*fd >= 0)
                        close(*fd);
}

/* After the faults are reverted: keep probing for the scenario's cooldown
 * and note when each SLO is healthy again. Ctrl-C or SIGTERM ends it early.
 * Not after a refused steady state: no fault ran. */
static void cooldown(struct run *r) {
        uint64_t t_rev = mono_now();
        if (!r->guard || !r->s->head.cooldown || r->exit_code == EXIT_REFUSED || r->steady)
                return;
        char a[FORMAT_MAX];
        event(r, LOG_NOTICE, NULL, "faults reverted; probing for %s to see the SLOs recover",
              format_duration(a, r->s->head.cooldown));
        uint64_t until = t_rev + r->s->head.cooldown;
        bool all = false;
        while (!all && mono_now() < until) {
                struct epoll_event evs[8];
                int n = epoll_wait(r->epfd, evs, 8, (int)((until - mono_now()) / NSEC_PER_MSEC) + 1);
                if (n < 0 && errno != EINTR)
                        break;
                for (int i = 0; i < n; i++) {
                        uint64_t id = evs[i].data.u64;
                        if (id == 1) {
                                struct signalfd_siginfo si;
                                (void)!read(r->sigfd, &si, sizeof si);
                                event(r, LOG_WARNING, NULL, "cooldown cut short by a signal");
                                until = 0;
                        } else if (id == 3) {
                                uint64_t x;
                                (void)!read(r->hbfd, &x, sizeof x);
                                guardian_beat(r->gfd);
                        } else if (id == ID_GUARDIAN || id == ID_GUARDIAN_SOCK) {
                                /* The faults are reverted; the targets must
                                 * not be left unguarded for the cooldown. */
                                r->guardian_gone = true;
                                event(r, LOG_ERR, NULL, "the guardian (pid %d) died: cooldown cut short", (int)r->guardian);
                                epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->guardian_pidfd, NULL);
                                epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->gfd, NULL);
                                until = 0;
                        } else if (id >= 300 && id < 300 + r->s->n_targets && r->notify_fds[id - 300] >= 0) {
                                struct fault_ctx c = ctx_of(r);
                                (void)syscall_notify_handle(&c, &r->ns, r->fr, r->s->n_faults, (int)(id - 300),
                                                            r->notify_fds[id - 300]);
                        } else if (slo_guard_event(r->guard, id, evs[i].events) && id == SLO_ID_TICK)
                                all = slo_guard_note_recovery(r->guard);
                }
        }
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                const struct slo_status *st = slo_guard_status(r->guard, i);
                if (st->recovered_ns)
                        event(r, LOG_NOTICE, NULL, "slo %s healthy again %s after the revert", st->o->hdr.name,
                              format_duration(a, (st->recovered_ns - t_rev) / NSEC_PER_MSEC * NSEC_PER_MSEC));
                else
                        event(r, LOG_WARNING, NULL, "slo %s not healthy again within the cooldown: %s", st->o->hdr.name,
                              st->why);
        }
        r->reverted_mono = t_rev;
}

/* Reverting up to SCENARIO_MAX_FAULTS faults on a loaded host takes
 * longer than the guardian's grace: it hears from us after each one, so
 * that it does not take a slow revert for a hung runner and kill us. */
static void beat_after_revert(const struct journal *j, const struct jentry *e, int result, void *ud) {
        (void)j, (void)e, (void)result;
        const struct run *r = ud;
        if (r->gfd >= 0)
                guardian_beat(r->gfd);
}

/* Revert everything, report, clean up. */
static int finish(struct run *r) {
        for (size_t i = 0; i < r->s->n_faults; i++)
                if (r->fr[i].state == FR_ACTIVE) {
                        (void)fault_revert(r, &r->fr[i]);
                        beat_after_revert(r->j, NULL, 0, r);
                }
        syscall_notify_release(&r->ns, NULL);
        if (r->breach) {
                r->breach_to_reverted_ns = mono_now() - r->breach_mono;
                event(r, LOG_NOTICE, NULL, "every fault reverted %.2f ms after the breach",
                      (double)r->breach_to_reverted_ns / 1e6);
        }
        cooldown(r);
        stop_targets(r);
        unsigned failed = 0;
        (void)journal_revert_all(r->j, &failed, beat_after_revert, r);
        r->end_mono = mono_now();
        r->end_wall = wall_now();
        if (failed) {
                event(r, LOG_ERR, NULL, "%u change%s could not be reverted; the guardian and 'sabot recover' retry "
                      "from %s", failed, failed == 1 ? "" : "s", r->j->path);
                r->exit_code = EXIT_INTERNAL;
                snprintf(r->reason + strlen(r->reason), sizeof r->reason - strlen(r->reason), "; %u change%s not reverted",
                         failed, failed == 1 ? "" : "s");
        } else
                event(r, LOG_NOTICE, NULL, "everything reverted");
        view_clear(r);

        /* The reports of a large scenario take a while too. */
        beat_after_revert(r->j, NULL, 0, r);
        char dir[PATH_MAX], name[NAME_MAX + 1];
        snprintf(dir, sizeof dir, "%s/reports", r->o->dirs.state);
        int rfd = -1, q = state_subdir(&r->o->dirs, "reports", 0755, &rfd);
        if (q == -EPERM || q == -ELOOP || q == -ENOTDIR)
                log_warning("cannot write the report under %s: %s", dir, trust_last());
        if (q >= 0) {
                q = snprintf(name, sizeof name, "%s.json", r->run_id) >= (int)sizeof name - 4 ? -ENAMETOOLONG
                                                                                            : report_write_at(r, rfd, name);
                if (snprintf(r->report_path, sizeof r->report_path, "%s/%s", dir, name) >= (int)sizeof r->report_path)
                        q = -ENAMETOOLONG;
                if (q < 0) {
                        log_warning_errno(q, "cannot write the report %s: %m", r->report_path);
                        r->report_path[0] = '\0';
                }
                close(rfd);
        }
        if (r->o->report) {
                beat_after_revert(r->j, NULL, 0, r);
                q = report_write(r, r->o->report);
                if (q < 0)
                        log_warning_errno(q, "cannot write the report %s: %m", r->o->report);
                else
                        snprintf(r->report_path, sizeof r->report_path, "%s", r->o->report);
        }
        if (r->o->metrics) {
                q = metrics_write(r, r->o->metrics);
                if (q < 0)
                        log_warning_errno(q, "cannot write the metrics file %s: %m", r->o->metrics);
        }
        report_summary(r, r->tty ? stderr : stdout);

        if (!failed) {
                (void)journal_remove(r->j);
                if (r->gfd >= 0)
                        guardian_done(r->gfd);
        }
        /* Closing the pipe without "done" leaves the guardian to retry. */
        if (r->gfd >= 0) {
                close(r->gfd);
                r->gfd = -1;
        }
        if (r->guardian > 0)
                waitpid(r->guardian, NULL, 0);
        return r->exit_code;
}

/* The steady-state phase: once every SLO has held for steady_ns, the
 * faults' clock starts, and the guardian's deadline is tightened to what
 * is left (the faults, the cooldown, the targets' stop). 1 if it held. */
static int steady_check(struct run *r) {
        const struct slo_status *w = NULL;
        if (!r->steady || !slo_guard_steady(r->guard, r->steady_ns, &w))
                return 0;
        r->steady = false;
        r->faults0_mono = r->steady_reached_mono = mono_now();
        char a[FORMAT_MAX], b[FORMAT_MAX];
        event(r, LOG_NOTICE, NULL, "steady state reached after %s (every SLO held for %s); faults start now",
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

static int loop(struct run *r) {
        for (;;) {
                struct epoll_event evs[8];
                int n = epoll_wait(r->epfd, evs, 8, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                /* Signals and the schedule first: a window that opens now is
                 * open for the calls that arrived with it. */
                for (int a = 0, b = 0; b < n; b++)
                        if (evs[b].data.u64 <= 4 || evs[b].data.u64 == ID_GUARDIAN || evs[b].data.u64 == ID_GUARDIAN_SOCK) {
                                struct epoll_event t = evs[a];
                                evs[a++] = evs[b];
                                evs[b] = t;
                        }
                for (int i = 0; i < n; i++) {
                        uint64_t id = evs[i].data.u64, x;
                        if (id == 1) { /* signal */
                                struct signalfd_siginfo si;
                                if (read(r->sigfd, &si, sizeof si) != sizeof si)
                                        continue;
                                if (!disarmed(r)) {
                                        snprintf(r->reason, sizeof r->reason, "interrupted by SIG%s",
                                                 signal_to_name((int)si.ssi_signo) ? signal_to_name((int)si.ssi_signo) : "?");
                                        r->exit_code = EXIT_ABORTED;
                                }
                                event(r, LOG_WARNING, NULL, "%s: reverting everything", r->reason);
                                return 0;
                        } else if (id == 2 && r->steady) { /* steady state's bound passed */
                                /* Every fd here is non-blocking: an event
                                 * whose timer was re-armed earlier in the
                                 * same batch reads nothing (EAGAIN), where a
                                 * blocking read would hold the loop, and its
                                 * heartbeats, until the new expiry. */
                                if (read(r->tfd, &x, sizeof x) != sizeof x)
                                        continue;
                                if (steady_check(r) == 0) {
                                        const struct slo_status *bad = NULL;
                                        char a[FORMAT_MAX], b[FORMAT_MAX], why[200];
                                        (void)slo_guard_steady_peek(r->guard, r->steady_ns, &bad);
                                        if (bad && !bad->n_samples)
                                                snprintf(why, sizeof why, "no probe answered");
                                        else if (bad && !bad->healthy_since_ns)
                                                snprintf(why, sizeof why, "%s", bad->fail);
                                        else if (bad)
                                                snprintf(why, sizeof why, "healthy for only %s of %s%s%s%s",
                                                         format_duration(a, (mono_now() - bad->healthy_since_ns) /
                                                                                    NSEC_PER_MSEC * NSEC_PER_MSEC),
                                                         format_duration(b, r->steady_ns), bad->fail[0] ? " (before: " : "",
                                                         bad->fail, bad->fail[0] ? ")" : "");
                                        snprintf(r->reason, sizeof r->reason, "steady state not met within %s: slo %s: %s",
                                                 format_duration(a, r->steady_timeout_ns), bad ? bad->o->hdr.name : "?",
                                                 bad ? why : "?");
                                        r->exit_code = EXIT_NO_CHAOS;
                                        event(r, LOG_ERR, NULL, "%s; no fault was applied", r->reason);
                                        return 0;
                                }
                        } else if (id == 2) { /* schedule */
                                (void)!read(r->tfd, &x, sizeof x);
                                int q = run_due(r);
                                if (q == -ECANCELED) {
                                        event(r, LOG_WARNING, NULL, "%s: reverting everything", r->reason);
                                        return 0;
                                }
                                if (q < 0 && r->j->write_err) {
                                        /* Write-ahead: nothing was done that the journal does not hold. */
                                        snprintf(r->reason, sizeof r->reason, "the journal could not be written "
                                                 "under %s/runs (%s)", r->o->dirs.run, strerror(-r->j->write_err));
                                        r->exit_code = EXIT_INTERNAL;
                                        event(r, LOG_ERR, NULL, "%s: reverting everything", r->reason);
                                        return 0;
                                }
                                if (q < 0) {
                                        snprintf(r->reason, sizeof r->reason, "a fault failed: %s", strerror(-q));
                                        r->exit_code = EXIT_INTERNAL;
                                        return 0;
                                }
                                if (q == 1) {
                                        for (size_t k = 0; r->o->require_effect && !r->no_chaos[0] &&
                                                           k < r->s->n_faults; k++)
                                                if (r->fr[k].state == FR_DONE && r->fr[k].hits == 0)
                                                        snprintf(r->no_chaos, sizeof r->no_chaos, "fault %s acted on "
                                                                 "nothing (--require-effect): %.200s", r->fr[k].f->hdr.name,
                                                                 r->fr[k].outcome);
                                        if (r->no_chaos[0]) {
                                                snprintf(r->reason, sizeof r->reason, "completed, but chaos did not "
                                                         "happen: %s", r->no_chaos);
                                                r->exit_code = EXIT_NO_CHAOS;
                                        } else {
                                                snprintf(r->reason, sizeof r->reason, "completed");
                                                r->exit_code = EXIT_HELD;
                                        }
                                        return 0;
                                }
                                arm_timer(r);
                        } else if (id == 3) { /* heartbeat */
                                (void)!read(r->hbfd, &x, sizeof x);
                                guardian_beat(r->gfd);
                                if (++r->ticks % 5 == 0) {
                                        if (r->guard)
                                                (void)slo_guard_judge(r->guard); /* to show it; breaches act below */
                                        view_draw(r);
                                        slo_state_write(r);
                                }
                        } else if (r->guard && slo_guard_event(r->guard, id, evs[i].events)) {
                                if (r->steady) {
                                        (void)steady_check(r);
                                        continue;
                                }
                                if (id != SLO_ID_TICK)
                                        continue;
                                const struct slo_status *b = slo_guard_judge(r->guard);
                                if (b) {
                                        r->breach_at = *b;
                                        r->breach_at.samples = NULL, r->breach_at.n_samples = 0;
                                        r->breach = &r->breach_at;
                                        r->breach_mono = mono_now();
                                        snprintf(r->reason, sizeof r->reason, "SLO breached: %s: %s", b->o->hdr.name, b->why);
                                        r->exit_code = EXIT_BREACH;
                                        event(r, LOG_ERR, NULL, "%s; reverting everything", r->reason);
                                        return 0;
                                }
                        } else if (id == 4) { /* held syscalls due */
                                syscall_notify_timer(&r->ns);
                        } else if (id == ID_GUARDIAN || id == ID_GUARDIAN_SOCK) { /* its pidfd, its socket's hang-up */
                                r->guardian_gone = true;
                                (void)guardian_lost(r);
                                event(r, LOG_ERR, NULL, "%s; reverting everything", r->reason);
                                return 0;
                        } else if (id >= 300) {
                                size_t ti = (size_t)(id - 300);
                                struct fault_ctx c = ctx_of(r);
                                if (syscall_notify_handle(&c, &r->ns, r->fr, r->s->n_faults, (int)ti, r->notify_fds[ti]) < 0 ||
                                    (evs[i].events & (EPOLLHUP | EPOLLERR)))
                                        epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->notify_fds[ti], NULL); /* target gone */
                        } else if (id >= 100)
                                reap_target(r, (size_t)(id - 100));
                }
        }
}

static int setup_loop(struct run *r) {
        sigset_t mask;
        stop_signals(&mask);
        r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        r->hbfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        r->epfd = epoll_create1(EPOLL_CLOEXEC);
        r->ns.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (r->sigfd < 0 || r->tfd < 0 || r->hbfd < 0 || r->epfd < 0 || r->ns.tfd < 0)
                return -errno;
        struct itimerspec hb = {
                .it_value = {0, (long)GUARDIAN_HEARTBEAT_NS},
                .it_interval = {0, (long)GUARDIAN_HEARTBEAT_NS},
        };
        timerfd_settime(r->hbfd, 0, &hb, NULL);
        int fds[] = {r->sigfd, r->tfd, r->hbfd, r->ns.tfd};
        for (int i = 0; i < 4; i++) {
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i + 1};
                if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
                        return -errno;
        }
        return 0;
}

int run_main(const struct run_opts *o) {
        struct run R = {.o = o, .lock_fd = -1, .epfd = -1, .sigfd = -1, .tfd = -1, .hbfd = -1, .gfd = -1,
                        .guardian_pidfd = -1};
        struct run *r = &R;
        struct diags d = {0};
        int code = EXIT_INVALID, q;

        /* First of all: from here on no SIGTERM or Ctrl-C ends the run
         * outright; each stage below honours a pending one (exit 4). */
        sigset_t stop;
        stop_signals(&stop);
        if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0)
                return log_error_errno(-errno, "cannot block signals: %m"), EXIT_INTERNAL;
        signal(SIGPIPE, SIG_IGN);

        r->tty = isatty(STDERR_FILENO) && isatty(STDIN_FILENO);
        if (policy_load(o->policy, o->policy_is_default, &r->p, &d) < 0 || d.errors)
                goto out_diag;
        /* Unattended runs read only files that only root can change: the
         * file is opened once, checked on that open, and parsed from it. */
        q = scenario_load_trusted(o->file, !isatty(STDIN_FILENO), &r->s, &d);
        if (q == -ENOMEM) {
                code = EXIT_INTERNAL;
                goto out_diag;
        }
        if (q < 0 || !r->s)
                goto out_diag;
        struct limits eff;
        policy_check(r->p, r->s, &eff, &d);
        if (d.errors)
                goto out_diag;
        if (startup_stopped(r))
                goto out_stopped;
        r->fr = calloc(r->s->n_faults + 1, sizeof *r->fr);
        if (!r->fr) {
                code = EXIT_INTERNAL;
                goto out_diag;
        }
        for (size_t i = 0; i < r->s->n_faults; i++)
                r->fr[i].f = r->s->faults[i];
        code = preflight(r, &d);
        if (code)
                goto out_diag;
        if (startup_stopped(r))
                goto out_stopped;
        code = EXIT_INTERNAL;
        q = plan_build(r->s, r->p, &eff, &r->pl, &d);
        if (q < 0) {
                log_error_errno(q, "cannot resolve the plan: %m");
                goto out_diag;
        }
        /* This host, in this network namespace: interfaces, exec programs,
         * pidfiles (plan.c). */
        if (d.errors) {
                code = EXIT_INVALID;
                goto out_diag;
        }
        if (startup_stopped(r))
                goto out_stopped;

        char why[512];
        q = latch_get(&o->dirs, why, sizeof why);
        if (q > 0) {
                diags_print(&d, stderr);
                log_error("refused: chaos is disarmed on this host (%s); 'sabot arm' allows runs again", why);
                code = refused_before_start(r, "disarmed");
                goto out;
        }
        if (q < 0) {
                /* Fails closed: a latch that cannot be read counts as set. */
                diags_print(&d, stderr);
                log_error("refused: cannot read the disarm latch under %s (%s); it counts as set: fix it, or remove "
                          "it with 'sabot arm'", o->dirs.state,
                          q == -EPERM || q == -ELOOP || q == -EISDIR || q == -EINVAL ? trust_last() : strerror(-q));
                code = refused_before_start(r, "disarmed (the disarm latch cannot be read)");
                goto out;
        }
        pid_t holder = 0;
        q = run_lock(&o->dirs, &r->lock_fd, &holder);
        if (q == -EBUSY) {
                diags_print(&d, stderr);
                log_error("refused: another run is active on this host (pid %d); one run at a time", (int)holder);
                code = refused_before_start(r, "another run is active");
                goto out;
        }
        if (q == -EPERM || q == -ELOOP || q == -ENOTDIR) {
                diags_print(&d, stderr);
                log_error("refused: cannot take the run lock: %s; sabot's run dir must be root's alone, and sabot "
                          "never follows links in it", trust_last());
                goto out;
        }
        if (q < 0) {
                log_error_errno(q, "cannot take the run lock under %s: %m", o->dirs.run);
                goto out_diag;
        }
        if (startup_stopped(r))
                goto out_stopped;
        if (r->tty) {
                plan_print(r->pl, stderr);
                diags_print(&d, stderr);
                diags_free(&d);
                if (!o->yes && !confirm(r)) {
                        if (startup_stopped(r))
                                goto out_stopped;
                        fprintf(stderr, "Nothing was touched.\n");
                        code = EXIT_REFUSED;
                        goto out;
                }
        } else
                diags_print(&d, stderr);
        diags_free(&d);
        if (startup_stopped(r))
                goto out_stopped;

        /* From here on the host is touched: journal first, guardian next. */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(r->run_id, sizeof r->run_id, "%s-%s-%d", r->s->head.name, stamp, (int)getpid());
        r->exec_pids = calloc(r->s->n_targets + 1, sizeof *r->exec_pids);
        r->exec_starts = calloc(r->s->n_targets + 1, sizeof *r->exec_starts);
        r->exec_pidfds = malloc((r->s->n_targets + 1) * sizeof *r->exec_pidfds);
        r->notify_fds = malloc((r->s->n_targets + 1) * sizeof *r->notify_fds);
        r->notify_gidx = calloc(r->s->n_targets + 1, sizeof *r->notify_gidx);
        if (!r->exec_pids || !r->exec_starts || !r->exec_pidfds || !r->notify_fds || !r->notify_gidx)
                goto out;
        r->ns.listener = r->notify_gidx;
        for (size_t i = 0; i <= r->s->n_targets; i++)
                r->exec_pidfds[i] = r->notify_fds[i] = -1;
        q = journal_create(o->dirs.run, r->run_id, r->s->head.name, &r->j);
        if (q == -EPERM || q == -ELOOP || q == -ENOTDIR) {
                log_error("refused: cannot create the journal: %s", trust_last());
                goto out;
        }
        if (q < 0) {
                log_error_errno(q, "cannot create the journal under %s/runs: %m; nothing was touched", o->dirs.run);
                goto out;
        }
        /* Room for the records this run will write, before the first
         * change: a run dir that fills up later cannot cut them. */
        size_t reserve = JOURNAL_RESERVE_BASE + r->s->n_faults * JOURNAL_RESERVE_PER_FAULT;
        q = journal_reserve(r->j, reserve < JOURNAL_RESERVE_MAX ? reserve : JOURNAL_RESERVE_MAX);
        if (q < 0) {
                log_error_errno(q, "refused: no room for the journal under %s/runs (a run keeps %zu KiB): %m; nothing "
                                "was touched", o->dirs.run, reserve / 1024);
                (void)journal_remove(r->j);
                goto out;
        }
        /* The kill switch may have been thrown after the latch was read and
         * before `sabot abort` could see this journal. */
        if (startup_stopped(r)) {
                log_warning("%s; nothing was touched", r->reason);
                code = ended_before_start(r);
                goto out_journal;
        }
        q = setup_loop(r);
        if (q < 0) {
                log_error_errno(q, "cannot set up the event loop: %m");
                goto out_journal;
        }
        r->t0_mono = mono_now();
        r->t0_wall = wall_now();
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
        /* The hard deadline covers the whole run: launching the targets,
         * the steady-state phase, the faults, reverting them, the cooldown,
         * and the time the targets get to stop. Tightened once they are
         * launched. */
        size_t n_exec = 0;
        for (size_t i = 0; i < r->s->n_targets; i++)
                n_exec += r->s->targets[i]->sel == SEL_EXEC;
        uint64_t rest = r->steady_timeout_ns + r->s->head.duration + r->s->head.cooldown + (n_exec ? TARGET_STOP_NS : 0) +
                        r->s->n_faults * FAULT_REVERT_NS;
        q = guardian_spawn(r->j->path, r->t0_mono + n_exec * TARGET_LAUNCH_NS + rest, GUARDIAN_GRACE_NS, &r->gfd,
                           &r->guardian, &r->ns.shared);
        if (q >= 0) {
                r->guardian_pidfd = sys_pidfd_open(r->guardian);
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ID_GUARDIAN};
                struct epoll_event hup = {.events = EPOLLRDHUP, .data.u64 = ID_GUARDIAN_SOCK};
                if (r->guardian_pidfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->guardian_pidfd, &ev) < 0 ||
                    epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->gfd, &hup) < 0)
                        q = -errno;
        }
        if (q >= 0)
                q = journal_set_guardian(r->j, r->guardian);
        if (q < 0) {
                log_error_errno(q, "cannot start the guardian: %m");
                goto out_journal;
        }
        /* From here on finish() reverts whatever the journal holds. */
        if (startup_stopped(r)) {
                event(r, LOG_WARNING, NULL, "%s: reverting everything", r->reason);
                code = finish(r);
                goto out;
        }
        event(r, LOG_NOTICE, NULL, "run %s started: %zu fault%s over %s; guardian pid %d, journal %s", r->run_id,
              r->s->n_faults, r->s->n_faults == 1 ? "" : "s", format_duration(why, r->s->head.duration),
              (int)r->guardian, r->j->path);
        q = launch_targets(r);
        if (q < 0) {
                if (!r->guardian_gone)
                        snprintf(r->reason, sizeof r->reason, "a target could not be launched: %s", strerror(-q));
                r->exit_code = EXIT_INTERNAL;
                code = finish(r);
                goto out;
        }
        if (startup_stopped(r)) {
                event(r, LOG_WARNING, NULL, "%s: reverting everything", r->reason);
                code = finish(r);
                goto out;
        }
        r->faults0_mono = r->t0_mono;
        guardian_deadline(r->gfd, mono_now() + rest);
        if (r->s->n_slos) {
                q = slo_guard_new(r->s, r->p->probes.user, r->epfd, &r->guard);
                if (q < 0) {
                        log_error_errno(q, "cannot start the SLO probes (probe user %s): %m", r->p->probes.user);
                        snprintf(r->reason, sizeof r->reason, "the SLO probes could not start: %s", strerror(-q));
                        r->exit_code = EXIT_INTERNAL;
                        code = finish(r);
                        goto out;
                }
                /* Steady state first: every SLO must hold, continuously,
                 * for steady_ns before any fault, within the bound. */
                r->steady = true;
                r->steady0_mono = mono_now();
                uint64_t bound = r->steady_timeout_ns;
                struct itimerspec its = {.it_value = {(time_t)(bound / NSEC_PER_SEC), (long)(bound % NSEC_PER_SEC)}};
                timerfd_settime(r->tfd, 0, &its, NULL);
                char a[FORMAT_MAX], b[FORMAT_MAX];
                event(r, LOG_NOTICE, NULL, "waiting for steady state: every SLO must hold for %s, within at most %s",
                      format_duration(a, r->steady_ns), format_duration(b, bound));
        } else
                arm_timer(r);
        view_draw(r);
        q = loop(r);
        if (q < 0) {
                snprintf(r->reason, sizeof r->reason, "event loop failed: %s", strerror(-q));
                r->exit_code = EXIT_INTERNAL;
        }
        code = finish(r);
        goto out;

out_stopped:
        code = stopped_before_start(r, &d);
        goto out;
out_journal:
        /* Nothing was applied yet. */
        (void)journal_remove(r->j);
        if (r->gfd >= 0)
                guardian_done(r->gfd);
        goto out;
out_diag:
        diags_print(&d, stderr);
out:
        diags_free(&d);
        run_free(r);
        if (R.guardian > 0 && R.gfd >= 0)
                waitpid(R.guardian, NULL, 0);
        return code;
}
