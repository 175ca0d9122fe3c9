/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>

#include "json.h"
#include "run.h"

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

/* Samples as [ms since the run's start, ok (0/1), latency ms, value or
 * null], and for a value probe whose value was not finite, a fifth
 * element saying which. */
static struct json_object *samples_json(const struct run *r, const struct slo_status *st) {
        struct json_object *a = json_object_new_array_ext((int)st->n_samples);
        bool by_value = st->o->probe == PROBE_PROMETHEUS || st->o->probe == PROBE_PSI;
        for (size_t k = 0; a && k < st->n_samples; k++) {
                const struct slo_sample *x = &st->samples[k];
                struct json_object *e = json_object_new_array_ext(5);
                json_object_array_add(e, json_ms(x->t_ns - r->t0_mono));
                json_object_array_add(e, json_object_new_int(x->ok));
                json_object_array_add(e, json_ms(x->latency_ns));
                json_object_array_add(e, json_num(x->value));
                if (by_value && json_nonfinite(x->value))
                        json_object_array_add(e, json_object_new_string(json_nonfinite(x->value)));
                json_set_inline(e);
                json_object_array_add(a, e);
        }
        return a;
}

static struct json_object *report_json(const struct run *r) {
        struct utsname u;
        uname(&u);
        const struct scenario *s = r->s;
        struct json_object *doc = json_doc_new("report"), *o, *a;
        if (!doc)
                return NULL;
        json_add(doc, "sabot_version", json_str(SABOT_VERSION));
        json_add(doc, "run_id", json_str(r->run_id));
        json_add(doc, "scenario", o = json_object_new_object());
        json_add(o, "name", json_str(s->head.name));
        json_add(o, "file", json_str(s->file));
        json_add(o, "description", json_str(s->head.description));
        json_add(o, "duration_ms", json_ms(s->head.duration));
        json_add(doc, "host", o = json_object_new_object());
        json_add(o, "hostname", json_str(u.nodename));
        json_add(o, "kernel", json_str(u.release));
        /* Every offset below (_ms) counts from the run's start. */
        json_add(doc, "start", o = json_object_new_object());
        json_add(o, "wall", json_time(r->t0_wall));
        json_add(o, "t_ms", json_ms(0));
        json_add(doc, "end", o = json_object_new_object());
        json_add(o, "wall", json_time(r->end_wall));
        json_add(o, "t_ms", json_ms(r->end_mono - r->t0_mono));
        /* Fault windows count from here (after the steady-state check). */
        json_add(doc, "faults_start_ms", json_ms(r->faults0_mono - r->t0_mono));
        /* The steady-state phase: from when the probes started, how long
         * every SLO had to hold, the bound, and when it held (null: never,
         * or no SLO). */
        if (s->n_slos) {
                json_add(doc, "steady_state", o = json_object_new_object());
                json_add(o, "start_ms", json_ms(r->steady0_mono ? r->steady0_mono - r->t0_mono : 0));
                json_add(o, "required_ms", json_ms(r->steady_ns));
                json_add(o, "timeout_ms", json_ms(r->steady_timeout_ns));
                json_add(o, "reached_ms", r->steady_reached_mono ? json_ms(r->steady_reached_mono - r->t0_mono) : NULL);
        }
        json_add(doc, "exit_code", json_object_new_int(r->exit_code));
        json_add(doc, "exit_reason", json_str(r->reason));
        json_add(doc, "faults", a = json_object_new_array());
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault_run *fr = &r->fr[i];
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "name", json_str(fr->f->hdr.name));
                json_add(o, "type", json_str(fault_type_to_string(fr->f->type)));
                struct json_object *w = json_object_new_array_ext(2);
                json_object_array_add(w, json_ms(fr->f->start));
                json_object_array_add(w, json_ms(fault_end(s, fr->f)));
                json_set_inline(w);
                json_add(o, "window_ms", w);
                json_add(o, "state", json_str(state_name(fr->state)));
                json_add(o, "applied_ms", fr->applied_ns ? json_ms(fr->applied_ns) : NULL);
                json_add(o, "reverted_ms", fr->reverted_ns ? json_ms(fr->reverted_ns) : NULL);
                /* Why: "window_end", or cut short at "breach", "abort", "the run's end". */
                json_add(o, "reverted_at", json_str(fr->cut_by ? fr->cut_by : fr->state == FR_DONE ? "window_end" : NULL));
                if (FAULT_MASK(fr->f->type) & FAULTS_PROC) {
                        json_add(o, "strikes", json_object_new_int64(fr->strikes));
                        json_add(o, "processes", json_object_new_int64(fr->hits));
                } else { /* packets (network faults) or calls (syscall faults) */
                        json_add(o, "matched", json_object_new_int64(fr->strikes));
                        json_add(o, "acted_on", json_object_new_int64(fr->hits));
                }
                json_add(o, "outcome", json_str(fr->outcome));
        }
        json_add(doc, "slos", a = json_object_new_array());
        static const char *const verdicts[] = {"unknown", "healthy", "breached"};
        for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                const struct slo_status *st = slo_guard_status(r->guard, i);
                const struct slo *so = st->o;
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "name", json_str(so->hdr.name));
                json_add(o, "probe", json_str(slo_probe_to_string(so->probe)));
                json_add(o, "verdict", json_str(verdicts[st->verdict]));
                json_add(o, "why", json_str(st->why));
                /* Thresholds, for whoever draws the timeline. */
                struct json_object *th = json_object_new_object();
                if (conf_line(&scenario_spec, &so->hdr, "max_error_rate"))
                        json_add_number(th, "max_error_rate", (double)so->max_error_rate / RATIO_ONE * 100);
                if (conf_line(&scenario_spec, &so->hdr, "max_latency"))
                        json_add(th, "max_latency_ms", json_ms(so->max_latency));
                if (conf_line(&scenario_spec, &so->hdr, "max"))
                        json_add_number(th, "max", so->max);
                if (conf_line(&scenario_spec, &so->hdr, "min"))
                        json_add_number(th, "min", so->min);
                json_add(o, "thresholds", th);
                json_add(o, "timeout_ms", json_ms(so->timeout));
                json_add(o, "recovered_after_ms", st->recovered_ns && r->reverted_mono && st->recovered_ns >= r->reverted_mono
                                                          ? json_ms(st->recovered_ns - r->reverted_mono)
                                                          : NULL);
                json_add(o, "samples", samples_json(r, st));
        }
        if (r->breach) {
                json_add(doc, "breach", o = json_object_new_object());
                json_add(o, "slo", json_str(r->breach->o->hdr.name));
                json_add(o, "why", json_str(r->breach->why));
                /* In the threshold's unit: percent for an error rate, ms
                 * for a latency, the query's own for a value. */
                json_add_number(o, "value", r->breach->value);
                json_add_number(o, "threshold", r->breach->threshold);
                json_add(o, "at_ms", json_ms(r->breach_mono - r->t0_mono));
                json_add(o, "breach_to_reverted_ms", json_ms(r->breach_to_reverted_ns));
        } else
                json_add(doc, "breach", NULL);
        json_add(doc, "events", a = json_object_new_array());
        for (size_t i = 0; i < r->n_ev; i++) {
                const struct run_event *e = &r->ev[i];
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "wall", json_time(e->wall_ns));
                json_add(o, "t_ms", json_ms(e->mono_ns));
                json_add(o, "level", json_str(level_name(e->level)));
                json_add(o, "fault", json_str(e->fault));
                json_add(o, "message", json_str(e->msg));
        }
        return doc;
}

int report_write_at(const struct run *r, int dfd, const char *name) {
        _cleanup_(json_object_putp) struct json_object *doc = report_json(r);
        const char *text = doc ? json_text(doc, true) : NULL;
        if (!text)
                return -ENOMEM;
        FILE *f = replace_fopen(dfd, name, 0644);
        if (!f)
                return -errno;
        fputs(text, f);
        fputc('\n', f);
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
