/* SPDX-License-Identifier: MIT */
/* The run as it goes: the terminal's live view (redrawn in place), the
 * events (logged, kept for the report), and the SLO state file that
 * `sabot status` reads. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "run.h"

void live_clear(struct run *r) {
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

void live_draw(struct run *r) {
        if (!r->tty)
                return;
        live_clear(r);
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
                char done[128] = "";
                if (fr->state != FR_PENDING && fr->state != FR_SKIPPED && ops && ops->progress)
                        ops->progress(fr, done, sizeof done);
                if (done[0])
                        fprintf(stderr, " %s", done);
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

void run_event_v(struct run *r, int level, const struct fault *f, const char *fmt, va_list ap) {
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        struct run_event e = {
                .wall_ns = wall_now(),
                .mono_ns = mono_now() - r->t0_mono,
                .level = LOG_PRI(level),
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
                live_clear(r);
                char at[FORMAT_MAX + 1];
                snprintf(at, sizeof at, "%s%s", pre ? "+" : e.mono_ns >= zero ? "" : "-",
                         format_duration(a, t / NSEC_PER_MSEC * NSEC_PER_MSEC));
                fprintf(stderr, "%10s  %s%s%s\n", at, f ? f->hdr.name : "", f ? ": " : "", msg);
                live_draw(r);
        } else
                log_fault(level, f ? f->hdr.name : NULL, "%s", msg);
}

void run_event(struct run *r, int level, const struct fault *f, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        run_event_v(r, level, f, fmt, ap);
        va_end(ap);
}

void live_slo_state_write(struct run *r) {
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
