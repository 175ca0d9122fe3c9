/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "run.h"

static void json_str(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void json_time(FILE *f, uint64_t wall_ns) {
        time_t t = (time_t)(wall_ns / NSEC_PER_SEC);
        struct tm tm;
        gmtime_r(&t, &tm);
        char buf[64];
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(f, "\"%s.%03lluZ\"", buf, (unsigned long long)(wall_ns % NSEC_PER_SEC / NSEC_PER_MSEC));
}

static const char *level_name(int level) {
        static const char *const n[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
        return level >= 0 && level < 8 ? n[level] : "info";
}

static const char *state_name(enum fault_state s) {
        static const char *const n[] = {"pending", "active", "done", "failed", "skipped"};
        return n[s];
}

int report_write(const struct run *r, const char *path) {
        const char *base;
        int dfd = dir_open_parent(path, &base);
        if (dfd < 0)
                return dfd;
        int q = report_write_at(r, dfd, base);
        close(dfd);
        return q;
}

int report_write_at(const struct run *r, int dfd, const char *name) {
        FILE *f = replace_fopen(dfd, name, 0644);
        if (!f)
                return -errno;
        struct utsname u;
        uname(&u);
        const struct scenario *s = r->s;
        fprintf(f, "{\n  \"sabot_version\": ");
        json_str(f, SABOT_VERSION);
        fprintf(f, ",\n  \"run_id\": ");
        json_str(f, r->run_id);
        fprintf(f, ",\n  \"scenario\": {\"name\": ");
        json_str(f, s->head.name);
        fprintf(f, ", \"file\": ");
        json_str(f, s->file);
        fprintf(f, ", \"description\": ");
        json_str(f, s->head.description);
        fprintf(f, ", \"duration_ns\": %llu},\n", (unsigned long long)s->head.duration);
        fprintf(f, "  \"host\": {\"hostname\": ");
        json_str(f, u.nodename);
        fprintf(f, ", \"kernel\": ");
        json_str(f, u.release);
        fprintf(f, "},\n  \"start\": {\"wall\": ");
        json_time(f, r->t0_wall);
        fprintf(f, ", \"wall_ns\": %llu, \"mono_ns\": 0},\n", (unsigned long long)r->t0_wall);
        fprintf(f, "  \"end\": {\"wall\": ");
        json_time(f, r->end_wall);
        fprintf(f, ", \"wall_ns\": %llu, \"mono_ns\": %llu},\n", (unsigned long long)r->end_wall,
                (unsigned long long)(r->end_mono - r->t0_mono));
        /* Fault windows count from here (after the steady-state check). */
        fprintf(f, "  \"faults_start_ns\": %llu,\n", (unsigned long long)(r->faults0_mono - r->t0_mono));
        /* The steady-state phase: from when the probes started, how long
         * every SLO had to hold, the bound, and when it held (null: never,
         * or no SLO). */
        if (s->n_slos) {
                fprintf(f, "  \"steady_state\": {\"start_ns\": %llu, \"required_ns\": %llu, \"timeout_ns\": %llu, "
                        "\"reached_ns\": ", (unsigned long long)(r->steady0_mono ? r->steady0_mono - r->t0_mono : 0),
                        (unsigned long long)r->steady_ns, (unsigned long long)r->steady_timeout_ns);
                if (r->steady_reached_mono)
                        fprintf(f, "%llu},\n", (unsigned long long)(r->steady_reached_mono - r->t0_mono));
                else
                        fprintf(f, "null},\n");
        }
        fprintf(f, "  \"exit_code\": %d,\n  \"exit_reason\": ", r->exit_code);
        json_str(f, r->reason);
        fprintf(f, ",\n  \"faults\": [");
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault_run *fr = &r->fr[i];
                fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
                json_str(f, fr->f->hdr.name);
                fprintf(f, ", \"type\": ");
                json_str(f, fault_type_to_string(fr->f->type));
                fprintf(f, ", \"window_ns\": [%llu, %llu], \"state\": ", (unsigned long long)fr->f->start,
                        (unsigned long long)fault_end(s, fr->f));
                json_str(f, state_name(fr->state));
                fprintf(f, ", \"applied_ns\": ");
                fr->applied_ns ? fprintf(f, "%llu", (unsigned long long)fr->applied_ns) : fprintf(f, "null");
                fprintf(f, ", \"reverted_ns\": ");
                fr->reverted_ns ? fprintf(f, "%llu", (unsigned long long)fr->reverted_ns) : fprintf(f, "null");
                /* Why: "window_end", or cut short at "breach", "abort", "the run's end". */
                fprintf(f, ", \"reverted_at\": ");
                json_str(f, fr->cut_by ? fr->cut_by : fr->state == FR_DONE ? "window_end" : NULL);
                /* The kind names its counters: strikes and processes, or
                 * packets or calls matched and acted on. */
                const struct fault_ops *ops = fault_ops_get(fr->f->type);
                fprintf(f, ", \"%s\": %u, \"%s\": %u", ops ? ops->report_keys[0] : "matched", fr->strikes,
                        ops ? ops->report_keys[1] : "acted_on", fr->hits);
                fprintf(f, ", \"outcome\": ");
                json_str(f, fr->outcome);
                fputc('}', f);
        }
        fprintf(f, "\n  ],\n  \"slos\": [");
        static const char *const verdicts[] = {"unknown", "healthy", "breached"};
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                const struct slo_status *st = slo_guard_status(r->guard, i);
                fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
                json_str(f, st->o->hdr.name);
                fprintf(f, ", \"probe\": ");
                json_str(f, slo_probe_to_string(st->o->probe));
                fprintf(f, ", \"verdict\": ");
                json_str(f, verdicts[st->verdict]);
                fprintf(f, ", \"why\": ");
                json_str(f, st->why);
                /* Thresholds, for whoever draws the timeline. */
                const struct slo *o = st->o;
                fprintf(f, ", \"thresholds\": {");
                const char *sep = "";
                if (conf_line(&scenario_spec, &o->hdr, "max_error_rate"))
                        fprintf(f, "%s\"max_error_rate\": %g", sep, (double)o->max_error_rate / RATIO_ONE * 100), sep = ", ";
                if (conf_line(&scenario_spec, &o->hdr, "max_latency"))
                        fprintf(f, "%s\"max_latency_ms\": %g", sep, (double)o->max_latency / 1e6), sep = ", ";
                if (conf_line(&scenario_spec, &o->hdr, "max"))
                        fprintf(f, "%s\"max\": %g", sep, o->max), sep = ", ";
                if (conf_line(&scenario_spec, &o->hdr, "min"))
                        fprintf(f, "%s\"min\": %g", sep, o->min);
                fprintf(f, "}, \"timeout_ms\": %g", (double)o->timeout / 1e6);
                fprintf(f, ", \"recovered_after_ms\": ");
                if (st->recovered_ns && r->reverted_mono)
                        fprintf(f, "%.1f", (double)(st->recovered_ns - r->reverted_mono) / 1e6);
                else
                        fprintf(f, "null");
                fprintf(f, ", \"samples\": [");
                /* [ms since the run's start, ok, latency ms, value] */
                for (size_t k = 0; k < st->n_samples; k++) {
                        const struct slo_sample *x = &st->samples[k];
                        double v = x->value;
                        fprintf(f, "%s[%.1f, %d, %.2f, ", k ? ", " : "", (double)(x->t_ns - r->t0_mono) / 1e6, x->ok,
                                (double)x->latency_ns / 1e6);
                        v == v ? fprintf(f, "%g]", v) : fprintf(f, "null]");
                }
                fprintf(f, "]}");
        }
        fprintf(f, "\n  ],\n  \"breach\": ");
        if (r->breach) {
                fprintf(f, "{\"slo\": ");
                json_str(f, r->breach->o->hdr.name);
                fprintf(f, ", \"why\": ");
                json_str(f, r->breach->why);
                fprintf(f, ", \"value\": %g, \"threshold\": %g, \"at_ns\": %llu, \"breach_to_reverted_ms\": %.3f}",
                        r->breach->value, r->breach->threshold, (unsigned long long)(r->breach_mono - r->t0_mono),
                        (double)r->breach_to_reverted_ns / 1e6);
        } else
                fprintf(f, "null");
        fprintf(f, ",\n  \"events\": [");
        for (size_t i = 0; i < r->n_ev; i++) {
                const struct run_event *e = &r->ev[i];
                fprintf(f, "%s\n    {\"wall\": ", i ? "," : "");
                json_time(f, e->wall_ns);
                fprintf(f, ", \"wall_ns\": %llu, \"mono_ns\": %llu, \"level\": ", (unsigned long long)e->wall_ns,
                        (unsigned long long)e->mono_ns);
                json_str(f, level_name(e->level));
                fprintf(f, ", \"fault\": ");
                json_str(f, e->fault);
                fprintf(f, ", \"message\": ");
                json_str(f, e->msg);
                fputc('}', f);
        }
        fprintf(f, "\n  ]\n}\n");
        return replace_fclose(dfd, f, name, true); /* durable */
}

void report_summary(const struct run *r, FILE *out) {
        char a[FORMAT_MAX];
        fprintf(out, "\nsabot: run %s ended after %s: %s (exit %d)\n", r->run_id,
                format_duration(a, (r->end_mono - r->t0_mono) / NSEC_PER_MSEC * NSEC_PER_MSEC), r->reason, r->exit_code);
        if (r->steady_reached_mono) {
                char b[FORMAT_MAX];
                fprintf(out, "  steady state reached %s after the run started (every SLO held for %s)\n",
                        format_duration(a, (r->steady_reached_mono - r->t0_mono) / NSEC_PER_MSEC * NSEC_PER_MSEC),
                        format_duration(b, r->steady_ns));
        }
        for (size_t i = 0; i < r->s->n_faults; i++) {
                const struct fault_run *fr = &r->fr[i];
                char st[32];
                if (fr->state == FR_DONE && fr->cut_by)
                        snprintf(st, sizeof st, "reverted at %s", fr->cut_by);
                else
                        snprintf(st, sizeof st, "%s", state_name(fr->state));
                fprintf(out, "  %-20s %-13s %-18s %s\n", fr->f->hdr.name, fault_type_to_string(fr->f->type), st,
                        fr->outcome);
        }
        if (r->report_path[0])
                fprintf(out, "  report: %s\n", r->report_path);
}

/* The reason label of an aborted run, or NULL when it was not aborted. */
static const char *abort_reason(const struct run *r) {
        switch (r->exit_code) {
        case EXIT_BREACH: return "slo_breach";
        case EXIT_ABORTED: return strstr(r->reason, "kill switch") ? "kill_switch" : "signal";
        case EXIT_REFUSED: return strstr(r->reason, "disarmed") ? "disarmed" : "refused";
        case EXIT_NO_CHAOS: return strstr(r->reason, "steady state") ? "steady_state" : "no_target";
        case EXIT_INTERNAL: return "error";
        default: return NULL;
        }
}

/* A counter's value in the previous file, 0 if absent. */
static double previous(const char *old, const char *series) {
        if (!old)
                return 0;
        size_t l = strlen(series);
        for (const char *p = old; (p = strstr(p, series)); p += l)
                if ((p == old || p[-1] == '\n') && p[l] == ' ')
                        return strtod(p + l + 1, NULL);
        return 0;
}

int metrics_write(const struct run *r, const char *path) {
        _cleanup_free_ char *old = NULL;
        const char *base;
        _cleanup_close_ int dfd = dir_open_parent(path, &base);
        if (dfd < 0)
                return dfd;
        /* The counters carried over come from a regular file, never from
         * whatever a link there points at. */
        _cleanup_close_ int ofd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat ost;
        if (ofd < 0 && errno == ELOOP)
                return -ELOOP;
        if (ofd >= 0 && fstat(ofd, &ost) == 0 && S_ISREG(ost.st_mode))
                (void)read_full_fd(ofd, 1024 * 1024, &old, NULL);
        char series[512];
        FILE *f = replace_fopen(dfd, base, 0644);
        if (!f)
                return -errno;
        const char *name = r->s->head.name;
        unsigned applied = 0;
        for (size_t i = 0; i < r->s->n_faults; i++)
                applied += r->fr[i].applied_ns != 0;
        fprintf(f, "# HELP sabot_last_run_timestamp_seconds When the last run of the scenario ended.\n"
                   "# TYPE sabot_last_run_timestamp_seconds gauge\n"
                   "sabot_last_run_timestamp_seconds{scenario=\"%s\"} %.3f\n", name, (double)r->end_wall / 1e9);
        fprintf(f, "# HELP sabot_last_run_exit_code Exit code of the last run: 0 held, 1 error, 2 invalid, 3 SLO breach, "
                   "4 aborted, 5 skipped (disarmed, another run active), 6 unsupported, 7 chaos did not happen "
                   "(steady state not met, a target matched nothing).\n"
                   "# TYPE sabot_last_run_exit_code gauge\n"
                   "sabot_last_run_exit_code{scenario=\"%s\"} %d\n", name, r->exit_code);
        fprintf(f, "# HELP sabot_last_run_duration_seconds How long the last run took.\n"
                   "# TYPE sabot_last_run_duration_seconds gauge\n"
                   "sabot_last_run_duration_seconds{scenario=\"%s\"} %.3f\n", name, (double)(r->end_mono - r->t0_mono) / 1e9);
        fprintf(f, "# HELP sabot_last_run_faults_applied Faults the last run applied.\n"
                   "# TYPE sabot_last_run_faults_applied gauge\n"
                   "sabot_last_run_faults_applied{scenario=\"%s\"} %u\n", name, applied);
        snprintf(series, sizeof series, "sabot_runs_total{scenario=\"%s\"}", name);
        fprintf(f, "# HELP sabot_runs_total Runs of the scenario.\n# TYPE sabot_runs_total counter\n%s %.0f\n", series,
                previous(old, series) + 1);
        snprintf(series, sizeof series, "sabot_faults_applied_total{scenario=\"%s\"}", name);
        fprintf(f, "# HELP sabot_faults_applied_total Faults applied over all runs.\n# TYPE sabot_faults_applied_total counter\n"
                   "%s %.0f\n", series, previous(old, series) + applied);
        fprintf(f, "# HELP sabot_aborts_total Runs that ended early, by reason.\n# TYPE sabot_aborts_total counter\n");
        static const char *const reasons[] = {"slo_breach", "kill_switch", "signal", "steady_state", "no_target",
                                              "disarmed", "refused", "error"};
        const char *now = abort_reason(r);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
                snprintf(series, sizeof series, "sabot_aborts_total{scenario=\"%s\",reason=\"%s\"}", name, reasons[i]);
                fprintf(f, "%s %.0f\n", series, previous(old, series) + (now && streq(now, reasons[i])));
        }
        /* node_exporter may read at any moment: replace the file whole. */
        return replace_fclose(dfd, f, base, true); /* durable */
}

void report_write_all(struct run *r, void (*tell)(struct run *r)) {
        /* The reports of a large scenario take a while too. */
        tell(r);
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
                tell(r);
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
}
