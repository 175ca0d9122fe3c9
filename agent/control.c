/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "control.h"
#include "host.h"
#include "journal.h"
#include "json.h"
#include "../faults/fault.h"
#include "log.h"
#include "metrics.h"
#include "run.h"

/* A pidfd for (pid, start), or -1 when that process is gone. */
static int pidfd_of(pid_t pid, uint64_t start) {
        if (pid <= 0)
                return -1;
        int fd = sys_pidfd_open(pid);
        if (fd < 0)
                return -1;
        if (!process_alive(pid, start)) {
                close(fd);
                return -1;
        }
        return fd;
}

/* What reverting e did, in the words of its entry kind. */
static void describe(const struct jentry *e, char *buf, size_t len) {
        const struct jentry_kind *k = jentry_kind_find(e->kind);
        if (k && k->describe)
                k->describe(e, buf, len);
        else
                snprintf(buf, len, "%s", e->kind);
}

struct loaded {
        struct journal *j;
        int runner_fd;
        bool stopped;
};

/* A journal or run dir that fails the checks of journal_load (someone
 * other than root could have written it) is never acted on: only said.
 * Returns how many were refused that way; an error it has logged. */
static int load_all(const struct dirs *d, struct loaded **ret, size_t *ret_n) {
        char **paths = NULL;
        size_t n = 0;
        int r = journal_list(d->run, &paths, &n);
        if (r == -EPERM || r == -ELOOP || r == -ENOTDIR) {
                log_error("refusing the journals under %s: %s; sabot's run dir must be root's alone, and nothing "
                          "in it is acted on until it is", d->run, trust_last());
                return r;
        }
        if (r < 0)
                return log_error_errno(r, "cannot read the journals under %s/runs: %m", d->run), r;
        struct loaded *v = calloc(n + 1, sizeof *v);
        if (!v) {
                paths_free(paths, n);
                return log_error_errno(-ENOMEM, "cannot read the journals under %s/runs: %m", d->run), -ENOMEM;
        }
        size_t k = 0;
        int refused = 0;
        for (size_t i = 0; i < n; i++) {
                struct journal *j = NULL;
                int q = journal_load(paths[i], &j);
                if (q == -ENOENT)
                        continue; /* removed meanwhile */
                if (q == -EPERM || q == -ELOOP || q == -EINVAL || q == -EISDIR) {
                        log_error("refusing the journal %s: %s; it is not acted on: remove it", paths[i],
                                  q == -EISDIR ? "it is a directory" : trust_last());
                        refused++;
                        continue;
                }
                if (q < 0) {
                        log_error_errno(q, "cannot read the journal %s: %m", paths[i]);
                        refused++;
                        continue;
                }
                char st = 0;
                v[k].j = j;
                v[k].runner_fd = pidfd_of(j->runner_pid, j->runner_start);
                v[k].stopped = v[k].runner_fd >= 0 && proc_state(j->runner_pid, &st) == 0 && (st == 'T' || st == 't');
                k++;
        }
        paths_free(paths, n);
        *ret = v;
        *ret_n = k;
        return refused;
}

static void free_all(struct loaded *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (v[i].runner_fd >= 0)
                        close(v[i].runner_fd);
                journal_free(v[i].j);
        }
        free(v);
}

struct abort_log {
        unsigned reverted, failed;
        char lines[8192];
        struct json_object *changes; /* with --json */
};

static void abort_entry(const struct journal *j, const struct jentry *e, int result, void *ud) {
        struct abort_log *log = ud;
        char what[PATH_MAX + 64];
        size_t l = strlen(log->lines);
        describe(e, what, sizeof what);
        snprintf(log->lines + l, sizeof log->lines - l, "  %s: %s%s%s%s\n", j->run_id ? j->run_id : "?", what,
                 e->name ? " (" : "", e->name ? e->name : "", e->name ? ")" : "");
        if (log->changes) {
                struct json_object *c = json_object_new_object();
                json_add(c, "run_id", json_str(j->run_id));
                json_add(c, "kind", json_str(e->kind));
                json_add(c, "what", json_str(what));
                json_add(c, "name", json_str(e->name));
                json_add(c, "reverted", json_object_new_boolean(result >= 0));
                json_add(c, "error", result < 0 ? json_str(strerror(-result)) : NULL);
                json_object_array_add(log->changes, c);
        }
        if (result < 0) {
                l = strlen(log->lines);
                snprintf(log->lines + l, sizeof log->lines - l, "    FAILED: %s\n", strerror(-result));
                log->failed++;
        } else
                log->reverted++;
}

/* The latch made durable beside the reverts, not after them: a host that
 * is reset while slow reverts run (a service started again, a launched
 * target given its SIGTERM grace) must come back disarmed, and the reverts
 * must not wait for the disk. */
struct latch_job {
        const struct dirs *d;
        pthread_t thread;
        bool started;
        int result;
};

static void *latch_job_run(void *p) {
        struct latch_job *lj = p;
        lj->result = latch_sync(lj->d);
        return NULL;
}

static void latch_job_start(struct latch_job *lj, const struct dirs *d) {
        *lj = (struct latch_job){.d = d};
        lj->started = pthread_create(&lj->thread, NULL, latch_job_run, lj) == 0;
}

/* Its result; done here if no thread could be started. */
static int latch_job_end(struct latch_job *lj) {
        if (!lj->started)
                return latch_sync(lj->d);
        (void)pthread_join(lj->thread, NULL);
        lj->started = false;
        return lj->result;
}

/* The kill switch is used when the host is on fire: with a CPU hog per
 * core, CFS left the abort waiting for a CPU between its steps; SCHED_RR 1
 * from here (urgent_begin) halved the median from start to the last
 * revert (38.5 -> 19.9 ms, 21.4 -> 10.5 ms; nice -20 helped less;
 * bench/README.md). What is left is mostly ld.so before main, which only
 * a caller starting us under SCHED_RR covers (4.5 ms). Real-time only
 * until the reverts are done: what follows waits on disks and runners. */
int control_abort(const struct dirs *d, const char *reason, bool json) {
        uint64_t t0 = mono_now();
        struct urgent urgent;
        urgent_begin(&urgent);
        /* The latch first: a runner between two faults sees it before its
         * next apply, and no new run starts. Set at once (renamed into
         * place) and made durable by a thread of its own while we revert:
         * its two fsyncs took tens of milliseconds on a busy disk, before
         * any revert, when they were in line. */
        int latch = latch_set_deferred(d, reason ? reason : "sabot abort");
        if (latch >= 0)
                latch = latch_get(d, NULL, 0) > 0 ? 0 : -EIO; /* set, and readable as set */
        struct latch_job lj = {.d = d};
        if (latch >= 0)
                latch_job_start(&lj, d);
        char latch_why[512];
        snprintf(latch_why, sizeof latch_why, "%s", latch == -EPERM || latch == -ELOOP ? trust_last() : strerror(-latch));
        if (latch < 0)
                log_error("cannot set the disarm latch under %s: %s; reverting anyway", d->state, latch_why);
        struct loaded *v = NULL;
        size_t n = 0;
        int r = load_all(d, &v, &n);
        if (r < 0) {
                urgent_end(&urgent);
                if (latch >= 0)
                        (void)latch_job_end(&lj);
                return EXIT_INTERNAL; /* said by load_all */
        }
        int refused = r;

        for (size_t i = 0; i < n; i++)
                if (v[i].runner_fd >= 0)
                        (void)sys_pidfd_send_signal(v[i].runner_fd, SIGTERM);
        /* Revert at once, ourselves: entries are idempotent, so a live runner
         * reverting the same ones does no harm, and a hung or stopped one
         * cannot delay the kill switch. */
        _cleanup_(json_object_putp) struct json_object *changes = json ? json_object_new_array() : NULL;
        struct abort_log log = {.lines = "", .changes = changes};
        /* Every run's entries are undone before any record is written:
         * one write and one fdatasync per journal, after the last revert. */
        for (size_t i = 0; i < n; i++)
                journal_batch_begin(v[i].j);
        for (size_t i = 0; i < n; i++)
                (void)journal_revert_all(v[i].j, NULL, abort_entry, &log);
        unsigned reverted = log.reverted, failed = log.failed;
        char *lines = log.lines;
        uint64_t t_reverted = mono_now();
        urgent_end(&urgent);
        for (size_t i = 0; i < n; i++)
                (void)journal_batch_commit(v[i].j); /* what it cannot record, recover reverts again */
        if (latch >= 0) {
                int q = latch_job_end(&lj);
                /* A full disk: the latch is there (empty), as latch_set has it. */
                if (q < 0 && q != -ENOSPC && q != -EDQUOT) {
                        latch = q;
                        snprintf(latch_why, sizeof latch_why, "it is set but cannot be made durable: %s", strerror(-q));
                        log_error("cannot set the disarm latch under %s: %s", d->state, latch_why);
                }
        }

        /* A stopped runner must not wake up and go on: it is killed, and its
         * guardian then finds nothing left to do. Live ones get a moment to
         * write their reports. */
        uint64_t deadline = mono_now() + NSEC_PER_SEC;
        for (size_t i = 0; i < n; i++) {
                if (v[i].runner_fd < 0)
                        continue;
                if (v[i].stopped) {
                        (void)sys_pidfd_send_signal(v[i].runner_fd, SIGKILL);
                        continue;
                }
                uint64_t now = mono_now();
                struct pollfd p = {.fd = v[i].runner_fd, .events = POLLIN};
                if (now < deadline && poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) == 0)
                        (void)sys_pidfd_send_signal(v[i].runner_fd, SIGKILL);
        }
        for (size_t i = 0; i < n; i++)
                if (!process_alive(v[i].j->runner_pid, v[i].j->runner_start)) {
                        metrics_count_killed(v[i].j); /* unless the runner counted itself */
                        if (journal_outstanding(v[i].j) == 0)
                                (void)journal_remove(v[i].j);
                }
        metrics_refresh_armed(d);

        if (json) {
                _cleanup_(json_object_putp) struct json_object *doc = json_doc_new("abort");
                if (!doc)
                        return log_error_errno(-ENOMEM, "abort: %m"), free_all(v, n), EXIT_INTERNAL;
                json_add(doc, "disarmed", json_object_new_boolean(latch >= 0));
                json_add(doc, "latch_error", latch < 0 ? json_str(latch_why) : NULL);
                json_add(doc, "runs", json_object_new_int64((int64_t)n));
                json_add(doc, "reverted", json_object_new_int64(reverted));
                json_add(doc, "failed", json_object_new_int64(failed));
                json_add(doc, "refused_journals", json_object_new_int(refused));
                json_add(doc, "elapsed_ms", json_ms(t_reverted - t0));
                json_add(doc, "changes", json_object_get(changes));
                (void)json_print(doc, stdout);
        } else {
                if (latch >= 0)
                        printf("sabot abort: chaos disarmed on this host ('sabot arm' re-enables it)\n");
                else
                        printf("sabot abort: every run stopped, but chaos is NOT disarmed: the latch could not be set\n");
                if (n == 0 || (reverted == 0 && failed == 0))
                        printf("nothing was applied; checked %zu run%s in %.1f ms\n", n, n == 1 ? "" : "s",
                               (double)(t_reverted - t0) / 1e6);
                else
                        printf("reverted %u change%s of %zu run%s in %.1f ms\n%s", reverted, reverted == 1 ? "" : "s", n,
                               n == 1 ? "" : "s", (double)(t_reverted - t0) / 1e6, lines);
        }
        free_all(v, n);
        int code = EXIT_HELD;
        if (failed) {
                log_internal(LOG_CRIT | EVT_REVERT_FAILED, 0,
                             "%u change%s could not be reverted; see above, and retry with 'sabot recover'", failed,
                             failed == 1 ? "" : "s");
                code = EXIT_INTERNAL;
        }
        if (refused) {
                log_error("%d journal%s refused (see above): what %s is unknown", refused,
                          refused == 1 ? " was" : "s were", refused == 1 ? "it holds" : "they hold");
                code = EXIT_INTERNAL;
        }
        if (latch < 0) {
                log_error("the disarm latch is NOT set (%s): runs may start again; fix %s and run 'sabot abort' again",
                          latch_why, d->state);
                code = EXIT_INTERNAL;
        }
        return code;
}

int control_arm(const struct dirs *d) {
        int r = latch_clear(d);
        if (r == -EPERM || r == -ELOOP || r == -ENOTDIR)
                return log_error("cannot clear the disarm latch: %s", trust_last()), EXIT_INTERNAL;
        if (r < 0)
                return log_error_errno(r, "cannot clear the disarm latch under %s: %m", d->state), EXIT_INTERNAL;
        metrics_refresh_armed(d);
        printf("sabot: armed: runs may start on this host\n");
        return EXIT_HELD;
}

int control_disarm(const struct dirs *d, const char *reason) {
        int r = latch_set(d, reason ? reason : "sabot disarm");
        if (r == -EPERM || r == -ELOOP || r == -ENOTDIR)
                return log_error("cannot set the disarm latch: %s; sabot's state dir must be root's alone",
                                 trust_last()), EXIT_INTERNAL;
        if (r < 0)
                return log_error_errno(r, "cannot set the disarm latch under %s: %m", d->state), EXIT_INTERNAL;
        metrics_refresh_armed(d);
        printf("sabot: disarmed: no run starts until 'sabot arm'\n");
        return EXIT_HELD;
}

/* The SLO states a live run keeps beside its journal (see run.c): printed,
 * or added to slos (with --json). */
static void print_slos(const struct journal *j, struct json_object *slos) {
        _cleanup_free_ char *text = NULL;
        if (journal_sibling_read(j, ".slo", 64 * 1024, &text) < 0)
                return;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4] = {line};
                for (int k = 1; k < 4 && f[k - 1]; k++)
                        if ((f[k] = strchr(f[k - 1], '\t')))
                                *f[k]++ = '\0';
                if (!f[3])
                        continue;
                if (slos) {
                        struct json_object *o = json_object_new_object();
                        json_add(o, "name", json_str(f[0]));
                        json_add(o, "probe", json_str(f[1]));
                        json_add(o, "verdict", json_str(f[2]));
                        json_add(o, "why", json_str(f[3]));
                        json_object_array_add(slos, o);
                } else {
                        /* "healthy: error rate ..." says its verdict already. */
                        const char *why = f[3];
                        size_t l = strlen(f[2]);
                        if (strncmp(why, f[2], l) == 0 && strncmp(why + l, ": ", 2) == 0)
                                why += l + 2;
                        printf("  slo %s (%s): %s: %s\n", f[0], f[1], f[2], why);
                }
        }
}

static const char *result_word(int code) {
        static const char *const words[] = {
                [EXIT_HELD] = "held",         [EXIT_INTERNAL] = "internal error", [EXIT_INVALID] = "invalid",
                [EXIT_BREACH] = "breached",   [EXIT_ABORTED] = "aborted",         [EXIT_REFUSED] = "refused",
                [EXIT_UNSUPPORTED] = "unsupported", [EXIT_NO_CHAOS] = "no chaos",
        };
        return code >= 0 && code < (int)ELEMENTSOF(words) && words[code] ? words[code] : "unknown";
}

static const char *jstr(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

/* The last run: the newest report (by its mtime, then name) among
 * STATE/reports/ *.json, each a regular file, none followed through a
 * link. A run that wrote no report (refused, invalid) is not in it. Put
 * into doc as last_run (null if none), or printed. */
static void status_last_run(const struct dirs *d, struct json_object *doc) {
        _cleanup_close_ int sfd = -1, rfd = -1, fd = -1;
        char best[NAME_MAX + 1] = "";
        struct timespec best_t = {0};
        if (dirs_open(d->state, false, &sfd) >= 0 &&
            (rfd = openat(sfd, "reports", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
                int dfd = fcntl(rfd, F_DUPFD_CLOEXEC, 0);
                DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
                if (!dir && dfd >= 0)
                        close(dfd);
                for (struct dirent *e; dir && (e = readdir(dir));) {
                        size_t l = strlen(e->d_name);
                        struct stat st;
                        if (l <= 5 || !streq(e->d_name + l - 5, ".json") ||
                            fstatat(rfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                                continue;
                        int c = st.st_mtim.tv_sec != best_t.tv_sec ? (st.st_mtim.tv_sec > best_t.tv_sec ? 1 : -1)
                                : st.st_mtim.tv_nsec != best_t.tv_nsec ? (st.st_mtim.tv_nsec > best_t.tv_nsec ? 1 : -1)
                                                                       : strcmp(e->d_name, best);
                        if (!best[0] || c > 0) {
                                snprintf(best, sizeof best, "%s", e->d_name);
                                best_t = st.st_mtim;
                        }
                }
                if (dir)
                        closedir(dir);
        }
        _cleanup_(json_object_putp) struct json_object *rep = NULL;
        if (best[0] && (fd = openat(rfd, best, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) >= 0)
                rep = json_object_from_fd_ex(fd, -1);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/reports/%s", d->state, best);
        struct json_object *code = NULL, *sc = NULL, *end = NULL;
        bool ok = rep && json_object_is_type(rep, json_type_object) && streq(jstr(rep, "kind") ?: "", "report") &&
                  json_object_object_get_ex(rep, "exit_code", &code) && json_object_is_type(code, json_type_int);
        if (ok) {
                (void)json_object_object_get_ex(rep, "scenario", &sc);
                (void)json_object_object_get_ex(rep, "end", &end);
        }
        int c = ok ? json_object_get_int(code) : -1;
        const char *run_id = ok ? jstr(rep, "run_id") : NULL, *scenario = sc ? jstr(sc, "name") : NULL,
                   *wall = end ? jstr(end, "wall") : NULL, *reason = ok ? jstr(rep, "exit_reason") : NULL;
        if (doc) {
                struct json_object *o = NULL;
                if (best[0]) {
                        o = json_object_new_object();
                        json_add(o, "report", json_str(path));
                        json_add(o, "readable", json_object_new_boolean(ok));
                        json_add(o, "run_id", json_str(run_id));
                        json_add(o, "scenario", json_str(scenario));
                        json_add(o, "end", json_str(wall));
                        json_add(o, "exit_code", ok ? json_object_new_int(c) : NULL);
                        json_add(o, "result", ok ? json_str(result_word(c)) : NULL);
                        json_add(o, "exit_reason", json_str(reason));
                }
                json_add(doc, "last_run", o);
        } else if (!best[0])
                printf("last run: none reported under %s/reports\n", d->state);
        else if (!ok)
                printf("last run: report %s cannot be read as a sabot run report\n", path);
        else
                printf("last run %s (scenario %s), ended %s: %s, exit %d%s%s\n  report: %s\n", run_id ?: "?",
                       scenario ?: "?", wall ?: "?", result_word(c), c, reason ? ": " : "", reason ?: "", path);
}

int control_status(const struct dirs *d, bool json) {
        char why[512] = "";
        int latch = latch_get(d, why, sizeof why);
        bool armed = latch == 0;
        if (latch < 0) {
                /* Unreadable is not armed: runs count it as set. */
                snprintf(why, sizeof why, "the disarm latch cannot be read (%s); runs count it as set",
                         latch == -EPERM || latch == -ELOOP || latch == -EISDIR || latch == -EINVAL ? trust_last()
                                                                                                 : strerror(-latch));
                log_error("cannot read the disarm latch under %s: %s", d->state, why);
        }
        struct loaded *v = NULL;
        size_t n = 0;
        int r = load_all(d, &v, &n);
        if (r < 0)
                return EXIT_INTERNAL; /* said by load_all */
        int refused = r;
        _cleanup_(json_object_putp) struct json_object *doc = json ? json_doc_new("status") : NULL;
        struct json_object *runs = NULL;
        if (json) {
                if (!doc)
                        return free_all(v, n), log_error_errno(-ENOMEM, "status: %m"), EXIT_INTERNAL;
                json_add(doc, "armed", json_object_new_boolean(armed));
                json_add(doc, "disarmed_reason", armed ? NULL : json_str(why));
                json_add(doc, "latch_error", json_object_new_boolean(latch < 0));
                json_add(doc, "refused_journals", json_object_new_int(refused));
                json_add(doc, "runs", runs = json_object_new_array());
        } else {
                printf("%s%s%s\n", armed ? "armed" : "DISARMED", armed ? "" : ": ", armed ? "" : why);
                if (n == 0)
                        printf("no active runs\n");
        }
        for (size_t i = 0; i < n; i++) {
                const struct journal *j = v[i].j;
                const char *state = v[i].runner_fd < 0 ? "dead" : v[i].stopped ? "stopped" : "running";
                bool guard = process_alive(j->guardian_pid, j->guardian_start);
                struct json_object *run = NULL, *active = NULL, *slos = NULL;
                if (json) {
                        json_object_array_add(runs, run = json_object_new_object());
                        json_add(run, "run_id", json_str(j->run_id));
                        json_add(run, "scenario", json_str(j->scenario));
                        json_add(run, "runner_pid", json_object_new_int((int)j->runner_pid));
                        json_add(run, "runner", json_str(state));
                        json_add(run, "guardian_pid", json_object_new_int((int)j->guardian_pid));
                        json_add(run, "guardian_alive", json_object_new_boolean(guard));
                        json_add(run, "active", active = json_object_new_array());
                        json_add(run, "slos", slos = json_object_new_array());
                } else
                        printf("run %s (scenario %s): runner pid %d %s, guardian pid %d %s\n", j->run_id ? j->run_id : "?",
                               j->scenario ? j->scenario : "?", (int)j->runner_pid, state, (int)j->guardian_pid,
                               guard ? "alive" : "gone");
                for (size_t k = 0; k < j->n; k++) {
                        const struct jentry *e = &j->v[k];
                        if (e->reverted)
                                continue;
                        if (json) {
                                struct json_object *o = json_object_new_object();
                                json_add(o, "kind", json_str(e->kind));
                                json_add(o, "pid", json_object_new_int((int)e->pid));
                                json_add(o, "cgroup", json_str(e->cgroup));
                                json_add(o, "name", json_str(e->name));
                                json_object_array_add(active, o);
                        } else if (e->cgroup)
                                printf("  active: %s %s (%s)\n", e->kind, e->cgroup, e->name ? e->name : "-");
                        else
                                printf("  active: %s pid %d (%s)\n", e->kind, (int)e->pid, e->name ? e->name : "-");
                }
                print_slos(j, slos);
        }
        status_last_run(d, doc);
        if (json)
                (void)json_print(doc, stdout);
        free_all(v, n);
        return latch < 0 || refused ? EXIT_INTERNAL : EXIT_HELD;
}

static void print_swept(const char *what, int err, void *ud) {
        (void)ud;
        if (err < 0)
                printf("FAILED: %s: %s\n", what, strerror(-err));
        else if (err > 0) /* a note */
                printf("not swept: %s\n", what);
        else
                printf("removed %s\n", what);
}

static bool net_kind(const char *kind) {
        const struct jentry_kind *k = jentry_kind_find(kind);
        return k && k->netns;
}

/* Each change recover could not revert, with its reason. */
static void recover_entry(const struct journal *j, const struct jentry *e, int result, void *ud) {
        (void)ud;
        if (result >= 0)
                return;
        char what[PATH_MAX + 64];
        describe(e, what, sizeof what);
        printf("  run %s: %s%s%s (%s) NOT reverted: ", j->run_id ? j->run_id : "?", what, e->dev[0] ? " on " : "",
               e->dev, e->name ? e->name : "-");
        if (net_kind(e->kind) && result == -EHOSTUNREACH)
                printf("its network namespace (inode %llu) cannot be found: not under /run/netns, and no process, open "
                       "file or mount that sabot can see holds it; it still exists (%s). Enter it (nsenter --net=...) and "
                       "run 'sabot recover' there\n", (unsigned long long)e->netns,
                       e->prog ? "the fault's classifier is still loaded" : "this journal cannot tell whether it is gone");
        else if (net_kind(e->kind) && result != -ENOMEM && result != -EHOSTUNREACH)
                printf("%s (in network namespace inode %llu)\n", strerror(-result), (unsigned long long)e->netns);
        else
                printf("%s\n", strerror(-result));
}

int control_recover(const struct dirs *d) {
        struct loaded *v = NULL;
        size_t n = 0;
        int r = load_all(d, &v, &n);
        if (r < 0)
                return EXIT_INTERNAL; /* said by load_all */
        int refused = r;
        unsigned total = 0, failed_total = 0;
        for (size_t i = 0; i < n; i++) {
                struct journal *j = v[i].j;
                if (v[i].runner_fd >= 0)
                        continue; /* a live run owns it */
                size_t out = journal_outstanding(j);
                unsigned failed = 0;
                (void)journal_revert_all(j, &failed, recover_entry, NULL);
                metrics_count_killed(j);
                total += (unsigned)out - failed;
                failed_total += failed;
                if (!failed)
                        (void)journal_remove(j);
                printf("run %s: reverted %zu change%s%s\n", j->run_id ? j->run_id : "?", out - failed,
                       out - failed == 1 ? "" : "s", failed ? ", some failed (kept for a retry)" : "");
        }
        /* Then what no journal accounts for: left by a run whose journal
         * is gone (a crash before the write reached the disk, or a wiped
         * run dir). Live runs' journals protect their objects, and so do
         * live runners of other run dirs (the sweep asks the processes). */
        struct journal **live = calloc(n + 1, sizeof *live);
        size_t n_live = 0;
        for (size_t i = 0; live && i < n; i++)
                if (journal_outstanding(v[i].j) > 0)
                        live[n_live++] = v[i].j;
        unsigned sweep_failed = 0;
        int swept = 0;
        const struct fault_backend *b;
        for (size_t i = 0; (b = fault_backend_at(i)); i++)
                for (int pass = 0; pass < 2; pass++) {
                        /* The kernel's objects, then what the state dir
                         * records (it outlives a reboot: disk-fill's files). */
                        if (pass == 0 ? !b->sweep : !b->sweep_state)
                                continue;
                        unsigned failed = 0;
                        int q = !live        ? -ENOMEM
                                : pass == 0 ? b->sweep(live, n_live, print_swept, NULL, &failed)
                                            : b->sweep_state(d->state, live, n_live, print_swept, NULL, &failed);
                        sweep_failed += failed;
                        if (q < 0)
                                log_error_errno(q, "the sweep for orphaned %s failed: %m",
                                                b->sweep_what ? b->sweep_what : b->title);
                        swept = swept < 0 ? swept : q < 0 ? q : swept + q;
                }
        free(live);
        if (total + failed_total == 0 && swept <= 0 && !sweep_failed)
                printf("sabot recover: nothing to revert\n");
        metrics_refresh_armed(d);
        free_all(v, n);
        if (failed_total || sweep_failed || swept < 0) {
                log_internal(LOG_CRIT | EVT_REVERT_FAILED, 0,
                             "sabot recover: %u change%s not reverted and %u sweep failure%s; see above", failed_total,
                             failed_total == 1 ? "" : "s", sweep_failed, sweep_failed == 1 ? "" : "s");
                return EXIT_INTERNAL;
        }
        return refused ? EXIT_INTERNAL : EXIT_HELD;
}
