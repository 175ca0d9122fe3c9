/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "run.h"

#define METRICS_KILLED (-1) /* the exit code of a run whose runner died */
#define METRICS_LISTED_MAX 32
#define METRICS_FILE_MAX (1024 * 1024)

/* Runs by result: one for each exit code of CONTRACT.md, and killed. */
static const char *const results[] = {"held",    "error",   "invalid",     "breach", "aborted",
                                      "skipped", "unsupported", "no_chaos", "killed"};
/* Runs that ended early, by reason. */
static const char *const reasons[] = {"slo_breach", "kill_switch", "signal", "steady_state", "no_target",
                                      "disarmed",   "refused",     "error",  "killed"};

static bool startswith(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int loop_write(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, buf, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                buf += k, len -= (size_t)k;
        }
        return 0;
}

struct mrun {
        const char *scenario;
        int exit_code;
        const char *reason; /* one of reasons[], or NULL */
        double end_s, duration_s;
        unsigned applied[FAULT_KINDS_MAX], reverted[FAULT_KINDS_MAX];
};

static const char *result_of(int code) {
        if (code == METRICS_KILLED)
                return "killed";
        return code >= 0 && code < (int)ELEMENTSOF(results) - 1 ? results[code] : "error";
}

/* The reason label of a run that ended early, NULL otherwise: from the
 * exit code and the fixed start of the reason sabot wrote (the latch's
 * reason, free text, comes after it and is never looked at). */
static const char *abort_reason(const struct run *r) {
        switch (r->exit_code) {
        case EXIT_BREACH: return "slo_breach";
        case EXIT_ABORTED: return startswith(r->reason, "aborted by the kill switch") ? "kill_switch" : "signal";
        case EXIT_REFUSED: return startswith(r->reason, "refused: disarmed") ? "disarmed" : "refused";
        case EXIT_NO_CHAOS: return startswith(r->reason, "steady state not met") ? "steady_state" : "no_target";
        case EXIT_INVALID:
        case EXIT_UNSUPPORTED: return "refused";
        case EXIT_INTERNAL: return "error";
        default: return NULL;
        }
}

/* A series' value in the previous file, dflt if absent. */
static double previous(const char *old, const char *series, double dflt) {
        if (!old)
                return dflt;
        size_t l = strlen(series);
        for (const char *p = old; (p = strstr(p, series)); p += l)
                if ((p == old || p[-1] == '\n') && p[l] == ' ')
                        return strtod(p + l + 1, NULL);
        return dflt;
}

static bool scenario_name_ok(const char *s, size_t n) {
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

/* The scenario a previous file is of (its first series' label). */
static int old_scenario(const char *old, char *buf, size_t len) {
        const char *p = old ? strstr(old, "{scenario=\"") : NULL;
        if (!p)
                return -ENODATA;
        p += strlen("{scenario=\"");
        const char *e = strchr(p, '"');
        if (!e || !scenario_name_ok(p, (size_t)(e - p)) || (size_t)(e - p) >= len)
                return -EINVAL;
        memcpy(buf, p, (size_t)(e - p));
        buf[e - p] = '\0';
        return 0;
}

static void family(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *f, const char *old, const char *name, const char *sc, bool set, double v, double dflt) {
        char series[256];
        snprintf(series, sizeof series, "%s{scenario=\"%s\"}", name, sc);
        fprintf(f, "%s %.15g\n", series, set ? v : previous(old, series, dflt));
}

static void counter(FILE *f, const char *old, const char *name, const char *sc, const char *label, const char *value,
                    double add) {
        char series[256];
        snprintf(series, sizeof series, "%s{scenario=\"%s\",%s=\"%s\"}", name, sc, label, value);
        fprintf(f, "%s %.0f\n", series, previous(old, series, 0) + add);
}

static void format_all(FILE *f, const char *old, const char *sc, const struct mrun *m, int armed) {
        bool set = m != NULL;
        family(f, "sabot_armed", "gauge",
               "1 when runs may start on this host, 0 when chaos is disarmed (sabot abort, sabot disarm; "
               "sabot arm clears it); the same in every scenario's file.");
        gauge(f, old, "sabot_armed", sc, armed >= 0, armed, 1);
        family(f, "sabot_last_run_timestamp_seconds", "gauge", "When the last run of the scenario ended (Unix time).");
        gauge(f, old, "sabot_last_run_timestamp_seconds", sc, set, set ? m->end_s : 0, 0);
        family(f, "sabot_last_run_exit_code", "gauge",
               "Exit code of the last run: 0 held, 1 internal error, 2 invalid or over policy (nothing touched), "
               "3 SLO breach (reverted), 4 aborted by the kill switch or a signal (reverted), 5 skipped, a benign "
               "refusal (disarmed, another run active), 6 a fault unsupported by this kernel (nothing touched), "
               "7 chaos did not happen (steady state not met, a target matched nothing; reverted), "
               "-1 killed (the runner died; its guardian, sabot abort or sabot recover reverted).");
        gauge(f, old, "sabot_last_run_exit_code", sc, set, set ? m->exit_code : 0, 0);
        family(f, "sabot_last_run_duration_seconds", "gauge", "How long the last run took.");
        gauge(f, old, "sabot_last_run_duration_seconds", sc, set, set ? m->duration_s : 0, 0);
        family(f, "sabot_last_success_timestamp_seconds", "gauge",
               "When the last run that held (exit code 0) ended (Unix time); 0 if none has.");
        gauge(f, old, "sabot_last_success_timestamp_seconds", sc, set && m->exit_code == EXIT_HELD,
              set ? m->end_s : 0, 0);
        unsigned applied = 0;
        for (int k = 0; set && (size_t)k < n_fault_kinds; k++)
                applied += m->applied[k];
        family(f, "sabot_last_run_faults_applied", "gauge", "Faults the last run applied.");
        gauge(f, old, "sabot_last_run_faults_applied", sc, set, applied, 0);

        family(f, "sabot_runs_total", "counter",
               "Runs of the scenario by result: held (0), error (1), invalid (2), breach (3), aborted (4), "
               "skipped (5), unsupported (6), no_chaos (7), killed (the runner died).");
        for (size_t i = 0; i < ELEMENTSOF(results); i++)
                counter(f, old, "sabot_runs_total", sc, "result", results[i],
                        set && streq(result_of(m->exit_code), results[i]));
        family(f, "sabot_aborts_total", "counter",
               "Runs that ended early, by reason: slo_breach, kill_switch, signal, steady_state (never held), "
               "no_target (matched nothing), disarmed, refused, error, killed.");
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                counter(f, old, "sabot_aborts_total", sc, "reason", reasons[i],
                        set && m->reason && streq(m->reason, reasons[i]));
        family(f, "sabot_faults_applied_total", "counter", "Faults applied over all runs, by fault type.");
        for (int k = 0; (size_t)k < n_fault_kinds; k++)
                counter(f, old, "sabot_faults_applied_total", sc, "kind", fault_type_to_string(k),
                        set ? m->applied[k] : 0);
        family(f, "sabot_faults_reverted_total", "counter",
               "Faults fully reverted over all runs, by fault type; fewer than applied means a revert failed "
               "('sabot status', 'sabot recover').");
        for (int k = 0; (size_t)k < n_fault_kinds; k++)
                counter(f, old, "sabot_faults_reverted_total", sc, "kind", fault_type_to_string(k),
                        set ? m->reverted[k] : 0);
}

/* Rewrite path whole from its previous contents and m (NULL: only the
 * armed gauge, and only if the file exists); armed < 0: unchanged. Under
 * an exclusive lock on the directory: the runner, a guardian and `sabot
 * abort` may write at once. */
/* claim: a killed run's journal, counted once: whoever takes the lock
 * first and still finds its .metrics sibling counts it and empties it
 * (the guardian and abort may both revert the same run at once). */
static int update(const char *path, const struct mrun *m, int armed, struct journal *claim) {
        const char *base;
        _cleanup_close_ int dfd = dir_open_parent(path, &base);
        if (dfd < 0)
                return dfd;
        if (flock(dfd, LOCK_EX) < 0)
                return -errno;
        if (claim) {
                _cleanup_free_ char *again = NULL;
                if (journal_sibling_read(claim, ".metrics", 64 * 1024, &again) < 0 || !again || !*again)
                        return 0; /* counted meanwhile */
        }
        _cleanup_free_ char *old = NULL;
        /* The counters carried over come from a regular file, never from
         * whatever a link there points at. */
        _cleanup_close_ int ofd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat ost;
        if (ofd < 0 && errno == ELOOP)
                return -ELOOP;
        if (ofd >= 0 && fstat(ofd, &ost) == 0 && S_ISREG(ost.st_mode))
                (void)read_full_fd(ofd, METRICS_FILE_MAX, &old, NULL);
        char sc[72];
        if (m)
                snprintf(sc, sizeof sc, "%s", m->scenario);
        else if (old_scenario(old, sc, sizeof sc) < 0)
                return 0; /* no file of ours to refresh */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        format_all(f, old, sc, m, armed);
        if (fclose(f) != 0)
                return -ENOMEM;
        /* node_exporter may read at any moment: replace the file whole. */
        int fd = replace_open(dfd, base, 0644);
        if (fd < 0)
                return fd;
        int r = loop_write(fd, text, len);
        if (r < 0) {
                close(fd);
                replace_abort(dfd, base);
                return r;
        }
        r = replace_commit(dfd, fd, base, false);
        close(fd);
        if (r >= 0 && claim)
                metrics_counted(claim); /* still under the lock */
        return r;
}

static int armed_now(const struct dirs *d) {
        if (!d || !d->state)
                return -1;
        return latch_get(d, NULL, 0) == 0; /* unreadable counts as set */
}

int metrics_write(const struct run *r, const char *path) {
        struct mrun m = {
                .scenario = r->s->head.name,
                .exit_code = r->exit_code,
                .reason = abort_reason(r),
                .end_s = (double)r->end_wall / 1e9,
                .duration_s = (double)(r->end_mono - r->t0_mono) / 1e9,
        };
        for (size_t i = 0; r->fr && i < r->s->n_faults; i++) {
                const struct fault_run *fr = &r->fr[i];
                int k = fr->f->type;
                if (k < 0 || (size_t)k >= n_fault_kinds || !fr->applied_ns)
                        continue;
                m.applied[k]++;
                m.reverted[k] += fr->state == FR_DONE;
        }
        return update(path, &m, armed_now(&r->o->dirs), NULL);
}

/* ---- the files to keep the armed gauge of: STATE/metrics/files ---- */

static int listed_read(int dfd, char **ret) {
        _cleanup_close_ int fd = openat(dfd, "files", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = fd_check_trusted(fd, "STATE/metrics/files", false);
        if (r < 0)
                return r;
        return read_full_fd(fd, METRICS_LISTED_MAX * (PATH_MAX + 1), ret, NULL);
}

static int list_add(const struct dirs *d, const char *path) {
        _cleanup_close_ int dfd = -1;
        int r = state_subdir(d, "metrics", 0755, &dfd);
        if (r < 0)
                return r;
        if (flock(dfd, LOCK_EX) < 0)
                return -errno;
        _cleanup_free_ char *old = NULL;
        r = listed_read(dfd, &old);
        if (r < 0)
                return r;
        /* This path last; the oldest go when there are too many. */
        char *lines[METRICS_LISTED_MAX];
        size_t n = 0;
        for (char *save = NULL, *l = old ? strtok_r(old, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
                if (streq(l, path))
                        continue;
                if (n == METRICS_LISTED_MAX - 1) {
                        memmove(lines, lines + 1, (n - 1) * sizeof *lines);
                        n--;
                }
                lines[n++] = l;
        }
        int fd = replace_open(dfd, "files", 0644);
        if (fd < 0)
                return fd;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = loop_write(fd, lines[i], strlen(lines[i]));
                if (r >= 0)
                        r = loop_write(fd, "\n", 1);
        }
        if (r >= 0)
                r = loop_write(fd, path, strlen(path));
        if (r >= 0)
                r = loop_write(fd, "\n", 1);
        if (r < 0) {
                close(fd);
                replace_abort(dfd, "files");
                return r;
        }
        r = replace_commit(dfd, fd, "files", true);
        close(fd);
        return r;
}

void metrics_refresh_armed(const struct dirs *d) {
        int armed = armed_now(d);
        _cleanup_close_ int dfd = -1;
        if (state_subdir(d, "metrics", 0755, &dfd) < 0)
                return; /* no run has listed a file (or the state dir is refused, said elsewhere) */
        _cleanup_free_ char *list = NULL;
        if (listed_read(dfd, &list) < 0 || !list)
                return;
        for (char *save = NULL, *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                int r = update(l, NULL, armed, NULL);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "cannot update the metrics file %s: %m", l);
        }
}

/* ---- a killed run: RUN.metrics beside its journal ---- */

int metrics_begin(const struct dirs *d, struct journal *j, const struct scenario *s, const char *path) {
        if (strchr(path, '\n') || strchr(d->state, '\n'))
                return -EINVAL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "path %s\nstate %s\n", path, d->state);
        for (size_t i = 0; i < s->n_faults; i++)
                fprintf(f, "fault %s %s\n", s->faults[i]->hdr.name, fault_type_to_string(s->faults[i]->type));
        if (fclose(f) != 0)
                return -ENOMEM;
        int r = journal_sibling_write(j, ".metrics", text, len);
        if (r < 0)
                return r;
        return list_add(d, path);
}

void metrics_counted(struct journal *j) { (void)journal_sibling_write(j, ".metrics", "", 0); }

static bool entry_of_target(const struct jentry *e) { return streq(e->kind, "exec") || streq(e->kind, "exec-cgroup"); }

void metrics_count_killed(struct journal *j) {
        _cleanup_free_ char *text = NULL;
        if (journal_sibling_read(j, ".metrics", 64 * 1024, &text) < 0 || !text)
                return; /* no --metrics-file, or counted already */
        const char *path = NULL, *state = NULL;
        struct mrun m = {.scenario = j->scenario, .exit_code = METRICS_KILLED, .reason = "killed"};
        if (!j->scenario || !scenario_name_ok(j->scenario, strlen(j->scenario)))
                return;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        m.end_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (j->started_wall_ns)
                m.duration_s = m.end_s - (double)j->started_wall_ns / 1e9;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (startswith(l, "path "))
                        path = l + 5;
                else if (startswith(l, "state "))
                        state = l + 6;
                else if (startswith(l, "fault ")) {
                        /* A fault that left entries was applied; reverted
                         * when none of them remains. */
                        char *name = l + 6, *type = strchr(name, ' ');
                        if (!type)
                                continue;
                        *type++ = '\0';
                        int k = fault_type_from_string(type);
                        if (k < 0 || (size_t)k >= n_fault_kinds)
                                continue;
                        bool any = false, left = false;
                        for (size_t i = 0; i < j->n; i++)
                                if (!entry_of_target(&j->v[i]) && j->v[i].name && streq(j->v[i].name, name)) {
                                        any = true;
                                        left |= !j->v[i].reverted;
                                }
                        m.applied[k] += any;
                        m.reverted[k] += any && !left;
                }
        }
        if (!path)
                return;
        struct dirs d = {.state = state};
        int r = update(path, &m, armed_now(&d), j);
        if (r < 0)
                log_warning_errno(r, "cannot count the killed run %s in the metrics file %s: %m",
                                  j->run_id ? j->run_id : "?", path);
}
