/* SPDX-License-Identifier: MIT */
/* A run's start-up, before it touches the host: the policy, the scenario,
 * what this host supports (preflight), the plan, the latch, the run lock
 * and the prompt. Each stage honours a pending stop signal (exit 4). */
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <time.h>

#include "../faults/dns.h"
#include "../faults/net.h"
#include "curl_lib.h"
#include "log.h"
#include "metrics.h"
#include "prepare.h"
#include "run.h"

/* The signals that stop a run. Blocked from the first line of run_main
 * on, so that none can kill it outright half-way through its start-up: a
 * pending one is seen at the next start-up stage (startup_stopped) or read
 * from the signalfd by the loop. Blocked, they stay pending even where the
 * caller left them ignored (SIGINT in a shell's background job). */
void run_stop_signals(sigset_t *mask) {
        sigemptyset(mask);
        sigaddset(mask, SIGINT);
        sigaddset(mask, SIGTERM);
        sigaddset(mask, SIGHUP);
        sigaddset(mask, SIGQUIT);
}

static int preflight(struct run *r, struct diags *d) {
        int code = 0;
        size_t skipped = 0;
        for (size_t i = 0; i < r->s->n_faults; i++) {
                const struct fault *f = r->s->faults[i];
                char why[512] = "";
                if (plan_fault_probe(r->s, f, why, sizeof why) >= 0)
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
                if ((fault_ops_get(r->s->faults[i]->type)->holds & FAULT_HOLDS_PROTECTED_PORTS) &&
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
        /* The network classifiers, one per interface and direction, are
         * loaded now (nothing is attached): a window's opening is then a
         * map update. One that fails to load is tried again, and said, at
         * its fault's apply. */
        if (!code)
                (void)net_preload(r->s, &r->p->protect.ports);
        /* So are the dns faults' programs, each its own. */
        if (!code)
                (void)dns_preload(r->s, &r->p->protect.ports);
        return code;
}

/* A run that ended before it touched anything (refused, or stopped during
 * its start-up) still counts for continuous chaos: the metrics say so, and
 * why. r->exit_code and r->reason are set. */
int run_ended_before_start(struct run *r) {
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
        return run_ended_before_start(r);
}

/* At each stage of the start-up. A stop signal may be pending (they are
 * blocked, and the loop's signalfd does not exist yet); once the journal
 * exists, where `sabot abort` finds the run, the latch counts too (before,
 * a set latch is a refusal: exit 5). */
bool run_startup_stopped(struct run *r) {
        if (r->j && run_disarmed(r))
                return true;
        sigset_t pend, mask;
        run_stop_signals(&mask);
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
        log_internal(LOG_WARNING | EVT_ABORT, 0, "%s; nothing was touched", r->reason);
        return r->s ? run_ended_before_start(r) : EXIT_ABORTED;
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
        run_stop_signals(&mask);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        while (poll(p, sfd >= 0 ? 2 : 1, -1) < 0)
                if (errno != EINTR)
                        return false;
        if (p[1].revents) {
                fputc('\n', stderr);
                (void)run_startup_stopped(r); /* the signal stays pending: it names the reason */
                return false;
        }
        char line[64];
        if (!fgets(line, sizeof line, stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

/* Everything before the host is touched: 0 to go on, else the run's exit
 * code, with what was wrong printed. */
int run_startup(struct run *r, struct diags *d) {
        const struct run_opts *o = r->o;
        int code = EXIT_INVALID, q;
        r->tty = isatty(STDERR_FILENO) && isatty(STDIN_FILENO);
        if (prepare_policy(o->policy, o->policy_is_default, &r->p, d) < 0)
                goto out_diag;
        /* Unattended runs read only files that only root can change: the
         * file is opened once, checked on that open, and parsed from it. */
        struct limits eff;
        q = prepare_scenario(o->file, !isatty(STDIN_FILENO), r->p, &eff, &r->s, d);
        if (q == -ENOMEM)
                code = EXIT_INTERNAL;
        if (q < 0)
                goto out_diag;
        if (run_startup_stopped(r))
                goto out_stopped;
        r->fr = calloc(r->s->n_faults + 1, sizeof *r->fr);
        if (!r->fr) {
                code = EXIT_INTERNAL;
                goto out_diag;
        }
        for (size_t i = 0; i < r->s->n_faults; i++)
                r->fr[i].f = r->s->faults[i];
        code = preflight(r, d);
        if (code)
                goto out_diag;
        if (run_startup_stopped(r))
                goto out_stopped;
        code = EXIT_INTERNAL;
        q = plan_build(r->s, r->p, &eff, &r->pl, d);
        if (q < 0) {
                log_error_errno(q, "cannot resolve the plan: %m");
                goto out_diag;
        }
        /* This host, in this network namespace: interfaces, exec programs,
         * pidfiles (plan.c). */
        if (d->errors) {
                code = EXIT_INVALID;
                goto out_diag;
        }
        if (run_startup_stopped(r))
                goto out_stopped;

        char why[512];
        q = latch_get(&o->dirs, why, sizeof why);
        if (q > 0) {
                diags_print(d, stderr);
                log_internal(LOG_NOTICE | EVT_REFUSED, 0, "refused: chaos is disarmed on this host (%s); 'sabot arm' allows runs again", why);
                code = refused_before_start(r, "disarmed");
                goto out;
        }
        if (q < 0) {
                /* Fails closed: a latch that cannot be read counts as set. */
                diags_print(d, stderr);
                log_internal(LOG_ERR | EVT_REFUSED, 0, "refused: cannot read the disarm latch under %s (%s); it counts as set: fix it, or remove "
                          "it with 'sabot arm'", o->dirs.state,
                          q == -EPERM || q == -ELOOP || q == -EISDIR || q == -EINVAL ? trust_last() : strerror(-q));
                code = refused_before_start(r, "disarmed (the disarm latch cannot be read)");
                goto out;
        }
        pid_t holder = 0;
        q = run_lock(&o->dirs, &r->lock_fd, &holder);
        if (q == -EBUSY) {
                diags_print(d, stderr);
                log_internal(LOG_NOTICE | EVT_REFUSED, 0, "refused: another run is active on this host (pid %d); one run at a time", (int)holder);
                code = refused_before_start(r, "another run is active");
                goto out;
        }
        if (q == -EPERM || q == -ELOOP || q == -ENOTDIR) {
                diags_print(d, stderr);
                log_internal(LOG_ERR | EVT_REFUSED, 0, "refused: cannot take the run lock: %s; sabot's run dir must be root's alone, and sabot "
                          "never follows links in it", trust_last());
                goto out;
        }
        if (q < 0) {
                log_error_errno(q, "cannot take the run lock under %s: %m", o->dirs.run);
                goto out_diag;
        }
        if (run_startup_stopped(r))
                goto out_stopped;
        if (r->tty) {
                plan_print(r->pl, stderr);
                diags_print(d, stderr);
                diags_free(d);
                if (!o->yes && !confirm(r)) {
                        if (run_startup_stopped(r))
                                goto out_stopped;
                        fprintf(stderr, "Nothing was touched.\n");
                        code = EXIT_REFUSED;
                        goto out;
                }
        } else
                diags_print(d, stderr);
        diags_free(d);
        if (run_startup_stopped(r))
                goto out_stopped;

        return 0;

out_stopped:
        return stopped_before_start(r, d);
out_diag:
        diags_print(d, stderr);
        /* Invalid for this host or policy: counted too, as a run that did
         * nothing. */
        if (r->s && o->metrics && (code == EXIT_INVALID || code == EXIT_UNSUPPORTED)) {
                r->exit_code = code;
                (void)run_ended_before_start(r);
        }
out:
        return code;
}

/* The run id, the journal and room for it: 0, or the exit code. */
int run_create_journal(struct run *r) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(r->run_id, sizeof r->run_id, "%s-%s-%d", r->s->head.name, stamp, (int)getpid());
        log_set_run(r->run_id, r->s->head.name);
        const char *run_dir = r->o->dirs.run;
        int q = journal_create(run_dir, r->run_id, r->s->head.name, &r->j);
        if (q == -EPERM || q == -ELOOP || q == -ENOTDIR)
                return log_internal(LOG_ERR | EVT_REFUSED, 0, "refused: cannot create the journal: %s", trust_last()), EXIT_INTERNAL;
        if (q < 0)
                return log_error_errno(q, "cannot create the journal under %s/runs: %m; nothing was touched", run_dir),
                       EXIT_INTERNAL;
        /* Room for the records this run will write, before the first
         * change: a run dir that fills up later cannot cut them. */
        size_t reserve = JOURNAL_RESERVE_BASE + r->s->n_faults * JOURNAL_RESERVE_PER_FAULT;
        q = journal_reserve(r->j, reserve < JOURNAL_RESERVE_MAX ? reserve : JOURNAL_RESERVE_MAX);
        if (q < 0) {
                log_full_errno(LOG_ERR | EVT_REFUSED, q, "refused: no room for the journal under %s/runs (a run keeps %zu KiB): %m; nothing "
                                "was touched", run_dir, reserve / 1024);
                (void)journal_remove(r->j);
                return EXIT_INTERNAL;
        }
        if (r->o->metrics) {
                q = metrics_begin(&r->o->dirs, r->j, r->s, r->o->metrics);
                if (q < 0)
                        log_warning_errno(q, "cannot prepare the metrics file %s (a killed run would not be counted): %m",
                                          r->o->metrics);
        }
        return 0;
}
