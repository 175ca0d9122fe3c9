/* SPDX-License-Identifier: MIT */
/* The run as it goes: the terminal's live view (redrawn in place), the
 * events (logged, kept for the report), and the SLO state file that
 * `sabot status` reads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "guardian.h"
#include "log.h"
#include "run.h"

/* SGR: only in LIVE_ANSI. */
#define BOLD "\033[1m"
#define RED "\033[1;31m"
#define NORMAL "\033[0m"

/* Chosen once, at the first draw: a terminal redrawn in place, with bold
 * unless NO_COLOR is set to something; TERM=dumb, no escape at all. */
static enum live_mode live_mode(struct run *r) {
        if (r->view_mode == LIVE_UNSET) {
                const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
                if (!r->tty)
                        r->view_mode = LIVE_NONE;
                else if (term && streq(term, "dumb"))
                        r->view_mode = LIVE_DUMB;
                else if (nc && nc[0])
                        r->view_mode = LIVE_NOCOLOR;
                else
                        r->view_mode = LIVE_ANSI;
        }
        return r->view_mode;
}

void live_clear(struct run *r) {
        if (r->tty && r->view_lines && live_mode(r) != LIVE_DUMB) {
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

/* A clock in the view: to 100 ms, through format_duration. */
static char *tenths(char buf[static FORMAT_MAX], uint64_t ns) {
        return format_duration(buf, ns / (100 * NSEC_PER_MSEC) * (100 * NSEC_PER_MSEC));
}

/* FNV-1a, over what a TERM=dumb status line says but its clocks. */
static uint64_t key_add(uint64_t h, const char *s) {
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return (h ^ 0xff) * 1099511628211ULL;
}

/* The phase the view shows: the steady state's or the faults' from just
 * before the loop starts them (the targets launched). */
static enum run_phase view_phase(const struct run *r) {
        if (r->phase == PHASE_START && r->faults0_mono)
                return r->steady ? PHASE_STEADY : PHASE_FAULTS;
        return r->phase;
}

/* The phase's line, after the scenario's name: where the run is, its
 * clock, and what it waits on. *key: what it says but the clock. */
static void phase_line(struct run *r, uint64_t now, char *out, size_t len, uint64_t *key) {
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        uint64_t dur = r->s->head.duration, el = now - r->view_phase0_mono;
        const char *k = "";
        char bad[256] = ""; /* the cooldown: the SLOs not yet healthy again */
        switch (view_phase(r)) {
        case PHASE_START:
                snprintf(out, len, "starting: launching the targets   Ctrl-C reverts everything");
                break;
        case PHASE_STEADY: {
                const struct slo_status *w = NULL;
                char why[320];
                el = r->steady0_mono ? now - r->steady0_mono : 0;
                snprintf(why, sizeof why, "every SLO must hold for %s", format_duration(b, r->steady_ns));
                if (r->guard && !slo_guard_steady_peek(r->guard, r->steady_ns, &w) && w) {
                        if (!w->n_samples)
                                snprintf(why, sizeof why, "waiting for %s's first answer", w->o->hdr.name), k = "none";
                        else if (!w->healthy_since_ns)
                                snprintf(why, sizeof why, "%s unhealthy (%s)", w->o->hdr.name, w->fail), k = "bad";
                        else
                                snprintf(why, sizeof why, "every SLO healthy for %s of %s",
                                         tenths(c, now - w->healthy_since_ns), format_duration(b, r->steady_ns)),
                                        k = "good";
                }
                snprintf(out, len, "steady state: %s, %s of at most %s   Ctrl-C reverts everything", why, tenths(a, el),
                         format_duration(b, r->steady_timeout_ns));
                break;
        }
        case PHASE_FAULTS: {
                if (!r->phase_over) {
                        /* The scenario's clock, on which the fault windows are set. */
                        el = now - (r->faults0_mono ? r->faults0_mono : r->t0_mono);
                        snprintf(out, len, "faults: %s of %s, %s left   Ctrl-C reverts everything",
                                 format_duration(a, el / NSEC_PER_SEC * NSEC_PER_SEC), format_duration(c, dur),
                                 format_duration(b, el < dur ? (dur - el) / NSEC_PER_SEC * NSEC_PER_SEC : 0));
                        break;
                }
                /* Ended (a breach, a signal, the schedule's end): reverting. */
                bool active = false;
                for (size_t i = 0; i < r->s->n_faults; i++)
                        active = active || r->fr[i].state == FR_ACTIVE;
                snprintf(out, len, "%s: %.900s", active ? "reverting" : "reverted", r->reason[0] ? r->reason : "ended");
                k = active ? "reverting" : "reverted";
                break;
        }
        case PHASE_COOLDOWN: {
                /* The SLOs not yet healthy again since the revert: what the
                 * cooldown waits for. */
                size_t n = 0;
                for (size_t i = 0; i < slo_guard_count(r->guard); i++) {
                        const struct slo_status *st = slo_guard_status(r->guard, i);
                        if (st->recovered_ns || st->verdict == SLO_HEALTHY)
                                continue;
                        size_t l = strlen(bad);
                        if (l < sizeof bad - 8)
                                snprintf(bad + l, sizeof bad - l, "%s%s", n ? ", " : "", st->o->hdr.name);
                        else if (!strstr(bad, "…"))
                                snprintf(bad + l, sizeof bad - l, " …");
                        n++;
                }
                el = now - (r->reverted_mono ? r->reverted_mono : r->view_phase0_mono);
                snprintf(out, len, "cooldown: every fault reverted; probing for recovery, %s of %s, %s%s   Ctrl-C ends it",
                         tenths(a, el), format_duration(b, r->s->head.cooldown), n ? bad : "every SLO healthy again",
                         n ? " unhealthy" : "");
                k = bad;
                break;
        }
        case PHASE_STOPPING: {
                size_t n = 0;
                for (size_t i = 0; i < r->s->n_targets; i++)
                        n += r->exec_pids && r->exec_pids[i] > 0 && process_alive(r->exec_pids[i], r->exec_starts[i]);
                if (n)
                        snprintf(out, len, "stopping: %zu launched target%s asked to end, %s of at most %s", n,
                                 n == 1 ? "" : "s", tenths(a, el), format_duration(b, TARGET_STOP_NS));
                else
                        snprintf(out, len, "ending: every fault reverted");
                k = n ? "stopping" : "ended";
                break;
        }
        }
        *key = key_add(key_add(1469598103934665603ULL ^ (uint64_t)view_phase(r), r->phase_over ? "over" : ""), k);
}

/* TERM=dumb: one plain line, when what it says changes or every
 * LIVE_DUMB_EVERY_NS; each fault's and SLO's state after the phase. */
static void draw_dumb(struct run *r, uint64_t now, const char *line, uint64_t key) {
        char st[32];
        for (size_t i = 0; i < r->s->n_faults; i++)
                key = key_add(key, fr_state(&r->fr[i], st));
        static const char *const v[] = {"waiting", "healthy", "BREACHED"};
        for (size_t i = 0; i < slo_guard_count(r->guard); i++)
                key = key_add(key, v[slo_guard_status(r->guard, i)->verdict]);
        if (key == r->view_key && now - r->view_shown_mono < LIVE_DUMB_EVERY_NS)
                return;
        r->view_key = key;
        r->view_shown_mono = now;
        fprintf(stderr, "%s  %s", r->s->head.name, line);
        const char *sep = " (";
        for (size_t i = 0; i < r->s->n_faults; i++, sep = "; ")
                fprintf(stderr, "%s%s %s", sep, r->fr[i].f->hdr.name, fr_state(&r->fr[i], st));
        for (size_t i = 0; i < slo_guard_count(r->guard); i++, sep = "; ") {
                const struct slo_status *s = slo_guard_status(r->guard, i);
                fprintf(stderr, "%sslo %s %s", sep, s->o->hdr.name, v[s->verdict]);
        }
        fprintf(stderr, "%s\n", sep[0] == ';' ? ")" : "");
        fflush(stderr);
}

void live_draw(struct run *r) {
        enum live_mode mode = live_mode(r);
        if (mode == LIVE_NONE)
                return;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX], line[1024];
        uint64_t now = mono_now(), key;
        if (r->view_phase != r->phase || !r->view_phase0_mono) {
                r->view_phase = r->phase;
                r->view_phase0_mono = now;
        }
        phase_line(r, now, line, sizeof line, &key);
        if (mode == LIVE_DUMB) {
                draw_dumb(r, now, line, key);
                return;
        }
        live_clear(r);
        if (mode == LIVE_ANSI)
                fprintf(stderr, BOLD "%s" NORMAL "  %s\n", r->s->head.name, line);
        else
                fprintf(stderr, "%s  %s\n", r->s->head.name, line);
        int lines = 1;
        for (size_t i = 0; i < r->s->n_faults; i++) {
                struct fault_run *fr = &r->fr[i];
                char st[32];
                bool red = mode == LIVE_ANSI && fr->state == FR_FAILED;
                fprintf(stderr, "  %-16s %-13s %5s → %-5s %s%-8s%s", fr->f->hdr.name, fault_type_to_string(fr->f->type),
                        format_duration(a, fr->f->start), format_duration(b, fault_end(r->s, fr->f)),
                        red ? RED : "", fr_state(fr, st), red ? NORMAL : "");
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
                bool red = mode == LIVE_ANSI && st->verdict == SLO_BREACHED;
                fprintf(stderr, "  %-16s %-13s %-13s %s%-8s%s %s\n", st->o->hdr.name, kind, every, red ? RED : "",
                        v[st->verdict], red ? NORMAL : "", st->verdict == SLO_HEALTHY ? st->why + strlen("healthy: ") : st->why);
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
