/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "../agent/journal.h"
#include "../agent/log.h"
#include "../agent/resolve.h"
#include "registry.h"

/* The engine's view of one fault during a run. */
/* FR_SKIPPED: not supported here, left out by run --skip-unsupported. */
enum fault_state { FR_PENDING, FR_ACTIVE, FR_DONE, FR_FAILED, FR_SKIPPED };

struct fault_run {
        const struct fault *f;
        enum fault_state state;
        unsigned *seqs; /* journal entries this fault created */
        size_t n_seqs;
        uint64_t applied_ns, reverted_ns; /* since the run's start; 0 = not (yet) */
        uint64_t next_strike_ns;          /* kill every: the next strike, since the start */
        unsigned strikes;                 /* kill: strikes made; pause: processes stopped */
        unsigned hits;                    /* processes signalled, in total */
        char outcome[512];
        /* Why it was reverted before its window's end ("breach", "abort",
         * "the run's end"); NULL if at the window's end. */
        const char *cut_by;
        void *priv; /* the kind's own state (e.g. a loaded BPF skeleton) */
        void (*priv_free)(void *priv);
};

/* What a fault's operations get from the engine. */
struct fault_ctx {
        struct journal *j;
        const struct plan *pl;
        const pid_t *exec_pids; /* by target index: the process the run launched, 0 if none */
        const uint64_t *exec_starts;
        /* Report an event: the engine logs it and puts it in the report. */
        void (*event)(void *ud, int level, const struct fault *f, const char *fmt, va_list ap);
        void *ud;
};

void fault_event(struct fault_ctx *c, int level, const struct fault *f, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* The cgroup of a unit or cgroup target: its id (the directory's inode on
 * cgroup2) and its depth below the root, for the ancestor-cgroup helpers. */
int fault_target_cgroup(struct fault_ctx *c, const struct fault *f, uint64_t *ret_id, uint32_t *ret_level);
/* Record a journal entry as this fault's, for its revert at the window's end. */
int fault_track(struct fault_run *fr, unsigned seq);

/* What a kind reports against the host policy's ceilings (policy.c knows
 * where each ceiling was set and says so). */
struct limit_check {
        const struct limits *eff;
        /* "WHAT exceeds max_... = VALUE set by WHERE" at line */
        void (*over)(struct limit_check *lc, enum limit_key which, unsigned line, const char *what);
        /* "WHAT is below min_... = VALUE set by WHERE; a fault may only keep more survivors" */
        void (*under)(struct limit_check *lc, enum limit_key which, unsigned line, const char *what);
};

/* doctor's rows for one mechanism that kinds share (net.c, syscall.c,
 * process.c): row() prints one, why empty when supported; advisory rows do
 * not count as missing. */
typedef void (*doctor_row_fn)(void *ud, const char *what, const char *why, const char *remedy, bool advisory);
struct fault_backend {
        const char *title; /* "network faults" */
        void (*doctor)(doctor_row_fn row, void *ud);
        /* recover: remove the mechanism's sabot-named objects that no live
         * run holds (live[]: the journals of live runs), reporting each;
         * the number removed, failures counted in ret_failed. NULL: it
         * leaves nothing a journal could miss. */
        int (*sweep)(struct journal *const *live, size_t n_live, void (*report)(const char *what, int err, void *ud),
                     void *ud, unsigned *ret_failed);
        const char *sweep_what; /* "network objects" */
};
/* The mechanisms the kinds use, each once, in the registry's order; NULL
 * past the last. */
const struct fault_backend *fault_backend_at(size_t i);

/* A fault kind, after iproute2's struct qdisc_util and systemd-networkd's
 * QDiscVTable: everything one kind says and does, in one file
 * faults/KIND.c, listed once in faults/registry.h. Reverts are the
 * journal's (kind.entries), so that whoever holds the journal can undo
 * what apply did. */
struct fault_ops {
        /* ---- before and after a run ---- */
        /* name, keys, check, journal entry kinds: what the model sees. */
        struct fault_kind kind;
        /* The ceilings of the policy f must keep, or NULL. */
        void (*check_limits)(const struct scenario *s, const struct fault *f, struct limit_check *lc);
        /* The mechanism's doctor rows (shared by the kinds that use it). */
        const struct fault_backend *backend;
        /* 0 when this host can run f (of scenario s), else a negative errno
         * and why: asked by the run's preflight for each fault. */
        int (*probe)(const struct scenario *s, const struct fault *f, char *why, size_t len);
        /* The plan's lines for fault i of pl, after its name and window. */
        void (*describe)(FILE *out, const struct plan *pl, size_t i);
        /* The report's names of fault_run.strikes and .hits. */
        const char *counter_names[2];

        /* ---- the run ---- */
        /* At the window's start. */
        int (*apply)(struct fault_ctx *c, struct fault_run *fr);
        /* Repeated strikes inside the window (kill every = ...), or NULL. */
        int (*strike)(struct fault_ctx *c, struct fault_run *fr);
        /* At the window's end, before the revert: record the outcome. */
        void (*finish)(struct fault_ctx *c, struct fault_run *fr);
        /* While active, for the live view: refresh strikes (matched) and hits
         * (acted on) from the kernel's counters, or NULL where the fault
         * keeps them itself. */
        void (*count)(struct fault_run *fr);
};

/* For a kind's check: "needs 'target'" unless set. */
void fault_require_target(struct scenario *s, const struct fault *f, struct diags *d);

/* The kind of a fault's type (faults/registry.c). */
const struct fault_ops *fault_ops_get(int type);

/* Undo one journal entry from its contents alone, by its entry kind's
 * revert (agent/kind.h). Idempotent: something already gone is success. */
int fault_revert_entry(const struct jentry *e);

/* Launch an exec target under the run's control: its own process group,
 * journaled before it execs, ended by the guardian if the runner dies. With
 * n_nrs > 0, under a seccomp filter that notifies those syscalls; the
 * listener comes back in ret_notify. */
struct notify_shared;
struct exec_listener {
        /* Called with the listener as soon as it is taken, before any call
         * on it is answered: its number at the guardian, or a negative errno. */
        int (*give)(void *ud, int fd);
        void *ud;
        struct notify_shared *shared; /* where the ids received go */
};
/* Each launched target gets a cgroup of its own (journaled "exec-cgroup"
 * entry, sabot-RUN-TARGET below the cgroup2 root) where cgroup2 has
 * cgroup.kill, so that its whole tree ends with the run. */
int exec_target_start_notify(struct fault_ctx *c, const struct target *t, const char *log_path, const int *nrs,
                             size_t n_nrs, const struct exec_listener *xl, pid_t *ret_pid, uint64_t *ret_start,
                             int *ret_notify, unsigned *ret_listener);
/* Send sig to what a journal entry of a launched target names, if it is
 * still that: an "exec" entry, the leader and its process group; an
 * "exec-cgroup" entry, every process in the cgroup. */
int process_signal_entry(const struct jentry *e, int sig);
/* Whether anything an "exec" or "exec-cgroup" entry names still runs. */
bool process_entry_running(const struct jentry *e);

int process_revert_stop(const struct jentry *e);
int process_revert_freeze(const struct jentry *e);
int process_revert_exec(const struct jentry *e);
int process_revert_cgroup(const struct jentry *e);
