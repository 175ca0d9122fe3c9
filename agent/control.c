/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include "control.h"
#include "host.h"
#include "journal.h"
#include "../faults/fault.h"
#include "log.h"
#include "run.h"

static uint64_t mono_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* A pidfd for (pid, start), or -1 when that process is gone. */
static int pidfd_of(pid_t pid, uint64_t start) {
        if (pid <= 0)
                return -1;
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -1;
        if (!process_alive(pid, start)) {
                close(fd);
                return -1;
        }
        return fd;
}

static void describe(const struct jentry *e, char *buf, size_t len) {
        if (streq(e->kind, "stop"))
                snprintf(buf, len, "resumed pid %d", (int)e->pid);
        else if (streq(e->kind, "freeze"))
                snprintf(buf, len, "thawed %s", e->cgroup ? e->cgroup : "?");
        else if (streq(e->kind, "exec"))
                snprintf(buf, len, "terminated launched pid %d", (int)e->pid);
        else if (streq(e->kind, "exec-cgroup"))
                snprintf(buf, len, "ended every process of launched cgroup %s, removed it", e->cgroup ? e->cgroup : "?");
        else
                snprintf(buf, len, "%s", e->kind);
}

struct loaded {
        struct journal *j;
        int runner_fd;
        bool stopped;
};

static int load_all(const struct dirs *d, struct loaded **ret, size_t *ret_n) {
        char **paths = NULL;
        size_t n = 0;
        int r = journal_list(d->run, &paths, &n);
        if (r < 0)
                return r;
        struct loaded *v = calloc(n + 1, sizeof *v);
        if (!v) {
                paths_free(paths, n);
                return -ENOMEM;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                struct journal *j = NULL;
                if (journal_load(paths[i], &j) < 0)
                        continue; /* removed meanwhile */
                char st = 0;
                v[k].j = j;
                v[k].runner_fd = pidfd_of(j->runner_pid, j->runner_start);
                v[k].stopped = v[k].runner_fd >= 0 && proc_state(j->runner_pid, &st) == 0 && (st == 'T' || st == 't');
                k++;
        }
        paths_free(paths, n);
        *ret = v;
        *ret_n = k;
        return 0;
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
};

static void abort_entry(const struct journal *j, const struct jentry *e, int result, void *ud) {
        struct abort_log *log = ud;
        char what[PATH_MAX + 64];
        size_t l = strlen(log->lines);
        describe(e, what, sizeof what);
        snprintf(log->lines + l, sizeof log->lines - l, "  %s: %s%s%s%s\n", j->run_id ? j->run_id : "?", what,
                 e->name ? " (" : "", e->name ? e->name : "", e->name ? ")" : "");
        if (result < 0) {
                l = strlen(log->lines);
                snprintf(log->lines + l, sizeof log->lines - l, "    FAILED: %s\n", strerror(-result));
                log->failed++;
        } else
                log->reverted++;
}

int control_abort(const struct dirs *d, const char *reason) {
        uint64_t t0 = mono_now();
        /* The latch first: a runner between two faults sees it before its
         * next apply, and no new run starts. */
        int r = latch_set(d, reason ? reason : "sabot abort");
        if (r < 0)
                log_error_errno(r, "cannot set the disarm latch under %s: %m; reverting anyway", d->state);
        struct loaded *v = NULL;
        size_t n = 0;
        r = load_all(d, &v, &n);
        if (r < 0)
                return log_error_errno(r, "cannot read the journals under %s/runs: %m", d->run), EXIT_INTERNAL;

        for (size_t i = 0; i < n; i++)
                if (v[i].runner_fd >= 0)
                        (void)syscall(SYS_pidfd_send_signal, v[i].runner_fd, SIGTERM, NULL, 0);
        /* Revert at once, ourselves: entries are idempotent, so a live runner
         * reverting the same ones does no harm, and a hung or stopped one
         * cannot delay the kill switch. */
        struct abort_log log = {.lines = ""};
        for (size_t i = 0; i < n; i++)
                (void)journal_revert_all(v[i].j, NULL, abort_entry, &log);
        unsigned reverted = log.reverted, failed = log.failed;
        char *lines = log.lines;
        uint64_t t_reverted = mono_now();

        /* A stopped runner must not wake up and go on: it is killed, and its
         * guardian then finds nothing left to do. Live ones get a moment to
         * write their reports. */
        uint64_t deadline = mono_now() + NSEC_PER_SEC;
        for (size_t i = 0; i < n; i++) {
                if (v[i].runner_fd < 0)
                        continue;
                if (v[i].stopped) {
                        (void)syscall(SYS_pidfd_send_signal, v[i].runner_fd, SIGKILL, NULL, 0);
                        continue;
                }
                uint64_t now = mono_now();
                struct pollfd p = {.fd = v[i].runner_fd, .events = POLLIN};
                if (now < deadline && poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) == 0)
                        (void)syscall(SYS_pidfd_send_signal, v[i].runner_fd, SIGKILL, NULL, 0);
        }
        for (size_t i = 0; i < n; i++)
                if (journal_outstanding(v[i].j) == 0 && !process_alive(v[i].j->runner_pid, v[i].j->runner_start))
                        (void)journal_remove(v[i].j);

        printf("sabot abort: chaos disarmed on this host ('sabot arm' re-enables it)\n");
        if (n == 0 || (reverted == 0 && failed == 0))
                printf("nothing was applied; checked %zu run%s in %.1f ms\n", n, n == 1 ? "" : "s",
                       (double)(t_reverted - t0) / 1e6);
        else
                printf("reverted %u change%s of %zu run%s in %.1f ms\n%s", reverted, reverted == 1 ? "" : "s", n,
                       n == 1 ? "" : "s", (double)(t_reverted - t0) / 1e6, lines);
        free_all(v, n);
        if (failed) {
                log_error("%u change%s could not be reverted; see above, and retry with 'sabot recover'", failed,
                          failed == 1 ? "" : "s");
                return EXIT_INTERNAL;
        }
        return EXIT_HELD;
}

int control_arm(const struct dirs *d) {
        int r = latch_clear(d);
        if (r < 0)
                return log_error_errno(r, "cannot clear the disarm latch: %m"), EXIT_INTERNAL;
        printf("sabot: armed: runs may start on this host\n");
        return EXIT_HELD;
}

int control_disarm(const struct dirs *d, const char *reason) {
        int r = latch_set(d, reason ? reason : "sabot disarm");
        if (r < 0)
                return log_error_errno(r, "cannot set the disarm latch: %m"), EXIT_INTERNAL;
        printf("sabot: disarmed: no run starts until 'sabot arm'\n");
        return EXIT_HELD;
}

static void json_str(const char *s) {
        putchar('"');
        for (; s && *s; s++) {
                if (*s == '"' || *s == '\\')
                        printf("\\%c", *s);
                else if ((unsigned char)*s < 0x20)
                        printf("\\u%04x", (unsigned char)*s);
                else
                        putchar(*s);
        }
        putchar('"');
}

/* The SLO states a live run keeps beside its journal (see run.c). */
static void print_slos(const struct journal *j, bool json) {
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        if (json)
                printf(", \"slos\": [");
        if (journal_sibling(j->path, ".slo", path) == 0 && read_full_file(path, 64 * 1024, &text, NULL) >= 0) {
                bool first = true;
                for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *f[4] = {line};
                        for (int k = 1; k < 4 && f[k - 1]; k++)
                                if ((f[k] = strchr(f[k - 1], '\t')))
                                        *f[k]++ = '\0';
                        if (!f[3])
                                continue;
                        if (json) {
                                printf("%s{\"name\": ", first ? "" : ", ");
                                json_str(f[0]);
                                printf(", \"probe\": ");
                                json_str(f[1]);
                                printf(", \"verdict\": ");
                                json_str(f[2]);
                                printf(", \"why\": ");
                                json_str(f[3]);
                                printf("}");
                        } else {
                                /* "healthy: error rate ..." says its verdict already. */
                                const char *why = f[3];
                                size_t l = strlen(f[2]);
                                if (strncmp(why, f[2], l) == 0 && strncmp(why + l, ": ", 2) == 0)
                                        why += l + 2;
                                printf("  slo %s (%s): %s: %s\n", f[0], f[1], f[2], why);
                        }
                        first = false;
                }
        }
        if (json)
                printf("]");
}

int control_status(const struct dirs *d, bool json) {
        char why[512] = "";
        int armed = latch_get(d, why, sizeof why) <= 0;
        struct loaded *v = NULL;
        size_t n = 0;
        int r = load_all(d, &v, &n);
        if (r < 0)
                return log_error_errno(r, "cannot read the journals under %s/runs: %m", d->run), EXIT_INTERNAL;
        if (json) {
                printf("{\"armed\": %s, \"disarmed_reason\": ", armed ? "true" : "false");
                armed ? printf("null") : json_str(why);
                printf(", \"runs\": [");
        } else {
                printf("%s%s%s\n", armed ? "armed" : "DISARMED", armed ? "" : ": ", armed ? "" : why);
                if (n == 0)
                        printf("no active runs\n");
        }
        for (size_t i = 0; i < n; i++) {
                const struct journal *j = v[i].j;
                const char *state = v[i].runner_fd < 0 ? "dead" : v[i].stopped ? "stopped" : "running";
                bool guard = process_alive(j->guardian_pid, j->guardian_start);
                if (json) {
                        printf("%s{\"run_id\": ", i ? ", " : "");
                        json_str(j->run_id);
                        printf(", \"scenario\": ");
                        json_str(j->scenario);
                        printf(", \"runner_pid\": %d, \"runner\": \"%s\", \"guardian_pid\": %d, \"guardian_alive\": %s, "
                               "\"active\": [", (int)j->runner_pid, state, (int)j->guardian_pid, guard ? "true" : "false");
                } else
                        printf("run %s (scenario %s): runner pid %d %s, guardian pid %d %s\n", j->run_id ? j->run_id : "?",
                               j->scenario ? j->scenario : "?", (int)j->runner_pid, state, (int)j->guardian_pid,
                               guard ? "alive" : "gone");
                bool first = true;
                for (size_t k = 0; k < j->n; k++) {
                        const struct jentry *e = &j->v[k];
                        if (e->reverted)
                                continue;
                        if (json) {
                                printf("%s{\"kind\": \"%s\", \"pid\": %d, \"cgroup\": ", first ? "" : ", ", e->kind, (int)e->pid);
                                e->cgroup ? json_str(e->cgroup) : (void)printf("null");
                                printf(", \"name\": ");
                                e->name ? json_str(e->name) : (void)printf("null");
                                printf("}");
                        } else if (e->cgroup)
                                printf("  active: %s %s (%s)\n", e->kind, e->cgroup, e->name ? e->name : "-");
                        else
                                printf("  active: %s pid %d (%s)\n", e->kind, (int)e->pid, e->name ? e->name : "-");
                        first = false;
                }
                if (json)
                        printf("]");
                print_slos(j, json);
                if (json)
                        printf("}");
        }
        if (json)
                printf("]}\n");
        free_all(v, n);
        return EXIT_HELD;
}

static void print_swept(const char *what, void *ud) {
        (void)ud;
        printf("removed %s\n", what);
}

int control_recover(const struct dirs *d) {
        struct loaded *v = NULL;
        size_t n = 0;
        int r = load_all(d, &v, &n);
        if (r < 0)
                return log_error_errno(r, "cannot read the journals under %s/runs: %m", d->run), EXIT_INTERNAL;
        unsigned total = 0, failed_total = 0;
        for (size_t i = 0; i < n; i++) {
                struct journal *j = v[i].j;
                if (v[i].runner_fd >= 0)
                        continue; /* a live run owns it */
                size_t out = journal_outstanding(j);
                unsigned failed = 0;
                (void)journal_revert_all(j, &failed, NULL, NULL);
                total += (unsigned)out - failed;
                failed_total += failed;
                if (!failed)
                        (void)journal_remove(j);
                printf("run %s: reverted %zu change%s%s\n", j->run_id ? j->run_id : "?", out - failed,
                       out - failed == 1 ? "" : "s", failed ? ", some failed (kept for a retry)" : "");
        }
        /* Then what no journal accounts for: left by a run whose journal
         * is gone (a crash before the write reached the disk, or a wiped
         * run dir). Live runs' journals protect their objects. */
        struct journal **live = calloc(n + 1, sizeof *live);
        size_t n_live = 0;
        for (size_t i = 0; live && i < n; i++)
                if (journal_outstanding(v[i].j) > 0)
                        live[n_live++] = v[i].j;
        int swept = live ? net_sweep(live, n_live, print_swept, NULL) : -ENOMEM;
        free(live);
        if (swept < 0)
                log_warning_errno(swept, "the sweep for orphaned network objects failed: %m");
        if (total + failed_total == 0 && swept <= 0)
                printf("sabot recover: nothing to revert\n");
        free_all(v, n);
        return failed_total ? EXIT_INTERNAL : EXIT_HELD;
}
