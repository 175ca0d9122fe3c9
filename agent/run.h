/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "../faults/fault.h"
#include "../faults/syscall.h"
#include "journal.h"
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

struct run {
        const struct run_opts *o;
        struct scenario *s;
        struct policy *p;
        struct plan *pl;
        struct journal *j;
        struct fault_run *fr;
        /* Over r->fr, built at the first tick. */
        struct schedule sched;
        pid_t *exec_pids;
        uint64_t *exec_starts;
        int *exec_pidfds;
        int *notify_fds; /* seccomp listeners of launched targets, -1 if none */
        unsigned *notify_gidx; /* each one's index at the guardian */
        unsigned n_given;
        struct notify_state ns;
        int lock_fd, epfd, sigfd, tfd, hbfd, gfd, guardian_pidfd;
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
        int view_lines;
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
/* node_exporter's textfile format: the last run, and counters carried over
 * from the file's previous contents. */
int metrics_write(const struct run *r, const char *path);
void report_summary(const struct run *r, FILE *out);
