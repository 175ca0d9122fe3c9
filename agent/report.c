/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "metrics.h"
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

/* Scenario time, the one clock of the report, the live view and the
 * page: 0 is when the faults' clock started (the steady state held, or
 * the run's start when there is no SLO); the steady state is negative.
 * A run whose faults never started (steady state not met, stopped before)
 * counts back from its end. */
static uint64_t zero_mono(const struct run *r) {
        if (r->s->n_slos)
                return r->steady_reached_mono ? r->steady_reached_mono : r->end_mono;
        return r->faults0_mono ? r->faults0_mono : r->t0_mono;
}

/* An offset in ms on that clock from a CLOCK_MONOTONIC time, to the
 * microsecond, negative before 0. */
static struct json_object *json_at(const struct run *r, uint64_t mono) {
        uint64_t z = zero_mono(r);
        if (mono >= z)
                return json_ms(mono - z);
        uint64_t us = (z - mono) / NSEC_PER_USEC;
        char buf[64];
        snprintf(buf, sizeof buf, "-%llu.%03llu", (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
        size_t l = strlen(buf);
        while (buf[l - 1] == '0')
                buf[--l] = '\0';
        if (buf[l - 1] == '.')
                buf[--l] = '\0';
        return streq(buf, "-0") ? json_ms(0) : json_object_new_double_s(-(double)(z - mono) / 1e6, buf);
}

/* Samples as [scenario ms, ok (0/1), latency ms, value or null], and for
 * a value probe whose value was not finite, a fifth element saying
 * which. */
struct samples_ctx {
        const struct run *r;
        struct json_object *a;
        bool by_value;
};

static void sample_json(const struct slo_sample *x, void *ud) {
        struct samples_ctx *c = ud;
        struct json_object *e = json_object_new_array_ext(5);
        json_object_array_add(e, json_at(c->r, x->t_ns));
        json_object_array_add(e, json_object_new_int(x->ok));
        json_object_array_add(e, json_ms(x->latency_ns));
        json_object_array_add(e, json_num(x->value));
        if (c->by_value && json_nonfinite(x->value))
                json_object_array_add(e, json_object_new_string(json_nonfinite(x->value)));
        json_set_inline(e);
        json_object_array_add(c->a, e);
}

/* The samples the guard kept: every one of the last window, and before
 * it the history (every sample of a run short enough, else one in
 * st->hist_every). */
static struct json_object *samples_json(const struct run *r, const struct slo_status *st) {
        struct samples_ctx c = {r, json_object_new_array_ext((int)(st->hist_len + st->ring_len)),
                                st->o->probe == PROBE_PROMETHEUS || st->o->probe == PROBE_PSI};
        if (c.a)
                slo_status_each(st, sample_json, &c);
        return c.a;
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
        /* Every offset below (t_ms, *_ms but durations, a sample's first
         * element) is scenario time: ms from faults_start, negative
         * before it (the steady state). */
        json_add(doc, "start", o = json_object_new_object());
        json_add(o, "wall", json_time(r->t0_wall));
        json_add(o, "t_ms", json_at(r, r->t0_mono));
        json_add(doc, "faults_start", o = json_object_new_object());
        json_add(o, "wall", json_time(r->t0_wall + (zero_mono(r) - r->t0_mono)));
        json_add(o, "t_ms", json_ms(0));
        json_add(doc, "end", o = json_object_new_object());
        json_add(o, "wall", json_time(r->end_wall));
        json_add(o, "t_ms", json_at(r, r->end_mono));
        /* The steady-state phase: from when the probes started, how long
         * every SLO had to hold, the bound, and when it held (null: never,
         * or no SLO). */
        if (s->n_slos) {
                json_add(doc, "steady_state", o = json_object_new_object());
                json_add(o, "start_ms", json_at(r, r->steady0_mono ? r->steady0_mono : r->t0_mono));
                json_add(o, "required_ms", json_ms(r->steady_ns));
                json_add(o, "timeout_ms", json_ms(r->steady_timeout_ns));
                json_add(o, "reached_ms", r->steady_reached_mono ? json_at(r, r->steady_reached_mono) : NULL);
                /* After the faults: probing for recovery, from when every
                 * fault was reverted (null: no cooldown ran). */
                json_add(doc, "cooldown", o = json_object_new_object());
                json_add(o, "start_ms", r->reverted_mono ? json_at(r, r->reverted_mono) : NULL);
                json_add(o, "duration_ms", json_ms(s->head.cooldown));
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
                json_add(o, "applied_ms", fr->applied_ns ? json_at(r, r->t0_mono + fr->applied_ns) : NULL);
                json_add(o, "reverted_ms", fr->reverted_ns ? json_at(r, r->t0_mono + fr->reverted_ns) : NULL);
                /* Why: "window_end", or cut short at "breach", "abort", "the run's end". */
                json_add(o, "reverted_at", json_str(fr->cut_by ? fr->cut_by : fr->state == FR_DONE ? "window_end" : NULL));
                /* strikes and processes, or packets or calls matched and acted on */
                const char *const *cn = fault_ops_get(fr->f->type)->counter_names;
                json_add(o, cn[0], json_object_new_int64(fr->strikes));
                json_add(o, cn[1], json_object_new_int64(fr->hits));
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
                /* What the judgement counts: the samples of the last
                 * window_ms, none from before judged_from_ms (the start of
                 * the healthy streak that made the steady state; null: no
                 * judgement ran), and nothing below min_samples. */
                json_add(o, "window_ms", json_ms(so->window));
                json_add(o, "min_samples", json_object_new_int64(so->min_samples));
                uint64_t epoch = slo_guard_epoch(r->guard, i);
                json_add(o, "judged_from_ms", epoch ? json_at(r, epoch) : NULL);
                json_add(o, "recovered_after_ms", st->recovered_ns && r->reverted_mono && st->recovered_ns >= r->reverted_mono
                                                          ? json_ms(st->recovered_ns - r->reverted_mono)
                                                          : NULL);
                /* What samples holds: every sample of a short run; in a
                 * long one (more than SLO_HIST_MAX), one in samples_every
                 * before samples_whole_from_ms, every one after. */
                json_add(o, "samples_total", json_object_new_int64((int64_t)st->n_samples));
                json_add(o, "samples_every", json_object_new_int64(st->hist_every > 1 ? (int64_t)st->hist_every : 1));
                const struct slo_sample *whole = !st->ring_len ? NULL
                                                 : st->hist_every > 1 || !st->hist_len ? slo_status_at(st, 0)
                                                                                       : &st->hist[0];
                json_add(o, "samples_whole_from_ms", whole ? json_at(r, whole->t_ns) : NULL);
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
                json_add(o, "at_ms", json_at(r, r->breach_mono));
                json_add(o, "breach_to_reverted_ms", json_ms(r->breach_to_reverted_ns));
        } else
                json_add(doc, "breach", NULL);
        json_add(doc, "events", a = json_object_new_array());
        for (size_t i = 0; i < r->n_ev; i++) {
                const struct run_event *e = &r->ev[i];
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "wall", json_time(e->wall_ns));
                json_add(o, "t_ms", json_at(r, r->t0_mono + e->mono_ns));
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
                metrics_counted(r->j);
        }
        report_summary(r, r->tty ? stderr : stdout);
}
