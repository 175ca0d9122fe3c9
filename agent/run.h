/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "../faults/fault.h"
#include "../faults/syscall.h"
#include "journal.h"
#include "plan.h"
#include "slo.h"
#include "state.h"

/* Exit codes of CONTRACT.md. */
enum {
        EXIT_HELD = 0,
        EXIT_INTERNAL = 1,
        EXIT_INVALID = 2,
        EXIT_BREACH = 3,
        EXIT_ABORTED = 4,
        EXIT_REFUSED = 5,
        EXIT_UNSUPPORTED = 6,
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
};

struct run_event {
        uint64_t wall_ns, mono_ns; /* mono: since the run's start */
        int level;
        char *fault;
        char *msg;
};

struct run {
        const struct run_opts *o;
        struct scenario *s;
        struct policy *p;
        struct plan *pl;
        struct journal *j;
        struct fault_run *fr;
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
        uint64_t steady_ns, faults0_mono;
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
        char run_id[160];
        char report_path[4096];
};

int run_main(const struct run_opts *o);

/* report.c */
int report_write(const struct run *r, const char *path);
/* node_exporter's textfile format: the last run, and counters carried over
 * from the file's previous contents. */
int metrics_write(const struct run *r, const char *path);
void report_summary(const struct run *r, FILE *out);
