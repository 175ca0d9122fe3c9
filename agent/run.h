/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <time.h>

#include "../faults/fault.h"
#include "journal.h"
#include "loop.h"
#include "plan.h"
#include "schedule.h"
#include "slo.h"
#include "state.h"

/* Exit codes of CONTRACT.md. A timer's unit counts 5 as success (a benign
 * skip) and every other non-zero code as a failure, 7 included: chaos that
 * silently never happens must show up. */
enum {
        EXIT_HELD = 0,
        EXIT_INTERNAL = 1,
        EXIT_INVALID = 2,      /* invalid or over policy; nothing touched */
        EXIT_BREACH = 3,       /* an SLO breached; reverted */
        EXIT_ABORTED = 4,      /* the kill switch or a signal, start-up included; reverted */
        EXIT_REFUSED = 5,      /* skipped, only benignly: disarmed, another run active, declined */
        EXIT_UNSUPPORTED = 6,  /* a fault this kernel cannot inject; nothing touched */
        EXIT_NO_CHAOS = 7,     /* chaos did not happen: steady state not met, a target matched nothing */
};

struct run_opts {
        const char *file;
        const char *report; /* --report PATH, or NULL */
        const char *metrics; /* --metrics-file PATH, or NULL */
        const char *policy;
        bool policy_is_default;
        struct dirs dirs;
        bool yes;
        bool skip_unsupported; /* leave out faults this host cannot inject */
        bool require_effect;   /* a fault that acted on nothing: exit EXIT_NO_CHAOS */
};

struct run_event {
        uint64_t wall_ns, mono_ns; /* mono: since the run's start */
        int level;
        char *fault;
        char *msg;
};

/* The least a run waits for steady state when the scenario sets no
 * steady_state_timeout (the default is max(15s, 3 x steady_state)). */
#define STEADY_TIMEOUT_MIN_NS (15ULL * NSEC_PER_SEC)

/* What the loop's sources do depends on where the run is. */
enum run_phase {
        PHASE_START,    /* before the loop: launching the targets */
        PHASE_STEADY,   /* waiting for steady state */
        PHASE_FAULTS,   /* the scenario's windows */
        PHASE_COOLDOWN, /* every fault reverted: watching the SLOs recover */
        PHASE_STOPPING, /* the launched targets are asked to end */
};

/* How the live view is drawn on a terminal (stderr and stdin terminals). */
enum live_mode {
        LIVE_UNSET,   /* not drawn yet */
        LIVE_NONE,    /* not a terminal: events are logged instead */
        LIVE_ANSI,    /* redrawn in place, the scenario's name in bold */
        LIVE_NOCOLOR, /* NO_COLOR set and not empty (no-color.org): in place, no colour or bold */
        LIVE_DUMB,    /* TERM=dumb: no escape at all, a plain status line when it changes */
};
/* TERM=dumb: the status line is printed again after this even unchanged. */
#define LIVE_DUMB_EVERY_NS (3ULL * NSEC_PER_SEC)
/* The heartbeat's ticks between two redraws (GUARDIAN_HEARTBEAT_NS each:
 * 400 ms), in every phase. */
#define LIVE_DRAW_TICKS 4

/* A kind's launch hooks and their state for this run (targets.c). */
struct run_launch {
        const struct fault_launch_ops *ops;
        void *st;
};
#define RUN_LAUNCH_MAX 4

struct run {
        const struct run_opts *o;
        struct scenario *s;
        struct policy *p;
        struct plan *pl;
        struct journal *j;
        struct fault_run *fr;
        /* Over r->fr, built at the first tick. */
        struct schedule sched;
        /* Launched targets, by target index (targets.c). */
        pid_t *exec_pids;
        uint64_t *exec_starts;
        int *exec_pidfds;
        struct loop_source **exec_srcs;
        struct run_launch launch[RUN_LAUNCH_MAX];
        size_t n_launch;
        unsigned n_given; /* fds handed to the guardian */
        unsigned n_held; /* files the guardian holds (disk-fill's) */
        void *shared;     /* the page shared with the guardian (fault_shared_size) */
        struct loop *loop;
        struct loop_source *sig_src, *sched_src, *hb_src, *guardian_src, *guardian_sock_src;
        enum run_phase phase;
        bool phase_over; /* a source ended the phase's loop */
        int lock_fd, sigfd, gfd, guardian_pidfd;
        pid_t guardian;
        bool guardian_gone; /* seen dead: nothing more is applied */
        uint64_t t0_mono, t0_wall, end_mono, end_wall;
        /* SLO guard: the steady-state phase, then faults from faults0 on. */
        struct slo_guard *guard;
        bool steady;
        /* steady_ns: how long every SLO must hold; steady_timeout_ns: how
         * long the run waits for that (from steady0_mono, when the probes
         * started); faults0_mono: when it held, and the faults' clock
         * started. */
        uint64_t steady_ns, steady_timeout_ns, steady0_mono, faults0_mono;
        uint64_t steady_reached_mono; /* 0: not (no SLO, or it never held) */
        /* The breach as judged when it happened (the SLO keeps being judged
         * during the cooldown). */
        struct slo_status breach_at;
        const struct slo_status *breach;
        uint64_t breach_mono, breach_to_reverted_ns;
        uint64_t reverted_mono; /* when cooldown began: every fault reverted */
        bool tty;
        /* The live view (live.c): how it is drawn, chosen at its first
         * draw; the lines drawn last; the phase it last showed and since
         * when; TERM=dumb: what its last status line said, and when. */
        enum live_mode view_mode;
        int view_lines;
        enum run_phase view_phase;
        uint64_t view_phase0_mono;
        uint64_t view_key, view_shown_mono;
        unsigned ticks;
        struct run_event *ev;
        size_t n_ev;
        int exit_code;
        char reason[1024];
        /* Why some fault did nothing (its target matched nothing when its
         * window opened): a completed run then exits EXIT_NO_CHAOS. */
        char no_chaos[512];
        char run_id[160];
        char report_path[4096];
};

int run_main(const struct run_opts *o);

/* report.c */
/* Written whole (NAME.tmp, then renamed; never through a link). _at: in a
 * directory already opened and checked. */
int report_write(const struct run *r, const char *path);
int report_write_at(const struct run *r, int dfd, const char *name);
void report_summary(const struct run *r, FILE *out);
/* At the run's end: the report under the state dir, --report, --metrics-file
 * (tell is called before each: the guardian hears from the runner). */
void report_write_all(struct run *r, void (*tell)(struct run *r));

/* run.c: the run's orchestration */
/* Run the loop in phase until a source ends it (run_phase_over), or until
 * (CLOCK_MONOTONIC ns; 0: no end). */
int run_loop_until(struct run *r, enum run_phase phase, uint64_t until);
void run_phase_over(struct run *r);
/* In the steady-state phase: 1 if every SLO has held for steady_ns, and
 * the faults' clock started. */
int run_steady_check(struct run *r);
/* The guardian_give of the kinds' context. */
int run_give_to_guardian(void *ud, int fd);
int run_hold_in_guardian(void *ud, int fd);

/* apply.c: one fault at its moments */
struct fault_ctx run_ctx(struct run *r);
/* Whether the kill switch is thrown (r->reason and r->exit_code set). */
bool run_disarmed(struct run *r);
/* Whether the guardian is gone (r->reason and r->exit_code set). */
bool run_guardian_lost(struct run *r);
/* At the window's start: skipped when its target matches nothing. */
int run_fault_start(struct run *r, struct fault_run *fr);
/* At the run's start, once the guardian watches and before the first
 * window: what a window would otherwise set up first (the network
 * classifiers, attached inert). -ECANCELED when the kill switch or the
 * guardian's loss stops the run; another error only when the journal
 * could not be written (what could not be attached, its window tries). */
int run_attach_early(struct run *r);
/* Revert what one fault created, from its journal entries. */
int run_fault_revert(struct run *r, struct fault_run *fr);
/* Revert everything, the cooldown, the targets' end, the reports, the
 * guardian let go: the run's exit code. */
int run_finish(struct run *r);

/* run_slo.c: steady state, breach, cooldown */
void run_steady_bounds(struct run *r);
/* The steady state's bound passed: the reason, exit EXIT_NO_CHAOS. */
void run_steady_missed(struct run *r);
/* The SLO guard's slo_event_fn. */
void run_slo_event(void *ud, bool sample);
/* After the faults are reverted: the SLOs' recovery, for the cooldown. */
void run_cooldown(struct run *r);

/* live.c: the terminal's live view, the run's events, the SLO state file */
void live_clear(struct run *r);
/* Redraw the view for the run's phase (nothing off a terminal). */
void live_draw(struct run *r);
/* Log an event, keep it for the report, and redraw the view. */
void run_event(struct run *r, int level, const struct fault *f, const char *fmt, ...) _printf_(4, 5);
void run_event_v(struct run *r, int level, const struct fault *f, const char *fmt, va_list ap);
/* For `sabot status`: each SLO's verdict now (NAME TAB PROBE TAB VERDICT
 * TAB WHY), replaced whole beside the journal. */
void live_slo_state_write(struct run *r);

/* targets.c: launching, watching and ending the exec targets */
int targets_alloc(struct run *r);
/* The kinds' launch hooks, once the loop and the guardian exist. */
int targets_begin(struct run *r);
int targets_launch(struct run *r);
/* Let go what the kinds hold for fr (NULL: every fault). */
void targets_release(struct run *r, const struct fault_run *fr);
/* Whether f's target matches nothing as its window opens (why in why). */
bool targets_match_nothing(struct run *r, const struct fault *f, char *why, size_t len);
/* SIGTERM to every launched tree, up to TARGET_STOP_NS to end. */
void targets_stop(struct run *r);
void targets_free(struct run *r);

/* preflight.c: the start-up checks */
void run_stop_signals(sigset_t *mask);
/* Policy, scenario, preflight, plan, the latch, the run lock, the prompt:
 * 0 to go on, else the run's exit code, with what was wrong printed. */
int run_startup(struct run *r, struct diags *d);
/* Whether to stop now (r->reason, r->exit_code set): a pending stop
 * signal, or the latch once the journal exists. */
bool run_startup_stopped(struct run *r);
/* A run that ended before it touched anything: the metrics say why. */
int run_ended_before_start(struct run *r);
/* The run id, the journal and room for it, where `sabot abort` finds the
 * run: 0, or the exit code. */
int run_create_journal(struct run *r);
