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

struct loop;

/* What a fault's operations get from the engine. */
struct fault_ctx {
        struct journal *j;
        const struct plan *pl;
        const pid_t *exec_pids; /* by target index: the process the run launched, 0 if none */
        const uint64_t *exec_starts;
        /* Report an event: the engine logs it and puts it in the report. */
        void (*event)(void *ud, int level, const struct fault *f, const char *fmt, va_list ap);
        void *ud;
        /* The run's event loop (agent/loop.h), where a kind watches what it
         * serves itself (the syscall kinds' seccomp listeners). */
        struct loop *loop;
        struct fault_run *frs; /* every fault of the run, in file order */
        size_t n_frs;
        /* Hand the guardian an fd to answer if the runner dies (through
         * the kind's fail_open): its number there, or a negative errno. */
        int (*guardian_give)(void *ud, int fd);
        /* Hand the guardian a duplicate of fd to hold open (not to answer):
         * a revert run there finds it among the guardian's fds. */
        int (*guardian_hold)(void *ud, int fd);
        /* Tell the guardian the runner is alive: an apply that waits on
         * someone else (PID 1 over the bus, a filesystem) calls it between
         * steps, or a slow host has the runner taken for hung and killed.
         * NULL outside a run. */
        void (*beat)(void *ud);
        /* The run's persistent state dir (--state-dir): what must outlive
         * a reboot is recorded there (disk-fill's files). */
        const char *state_dir;
};

/* c->beat, where there is one. */
void fault_beat(struct fault_ctx *c);

void fault_event(struct fault_ctx *c, int level, const struct fault *f, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* An apply that fails says why in fr->outcome and returns err; the
 * engine logs it once ("apply failed: WHY: strerror(err)"). */
int fault_fail(struct fault_run *fr, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
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
        /* "WHAT is below min_... = VALUE set by WHERE; a fault may only keep more
         * survivors" (or "leave more bandwidth", for min_bandwidth) */
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
        /* recover: the same for what the mechanism records in the state
         * dir because it outlives a reboot and the run dir's journals
         * (disk-fill's files on a persistent filesystem). NULL: none. */
        int (*sweep_state)(const char *state_dir, struct journal *const *live, size_t n_live,
                           void (*report)(const char *what, int err, void *ud), void *ud, unsigned *ret_failed);
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
        /* ---- run-time (the engine's side) ---- */
        /* After its journal entries were undone (n of them): the outcome,
         * and what to say; NULL: "reverted: OUTCOME". */
        void (*reverted)(struct fault_ctx *c, struct fault_run *fr, unsigned n);
        /* What it has done so far, for the live view ("dropped 3 of 9
         * packets"), refreshing strikes and hits from the kernel's counters
         * while it is active. */
        void (*progress)(struct fault_run *fr, char *buf, size_t len);
        /* FAULT_REACH_*: what it acts on besides the processes its target
         * matches when its window opens. */
        unsigned reach;
        /* FAULT_HOLDS_*: what its mechanism must find room for. */
        unsigned holds;
        /* What the kind does to targets the run launches, or NULL; kinds
         * that share one (both syscall kinds: one listener per target)
         * point at the same table, which the engine runs once. */
        const struct fault_launch_ops *launch;
};

/* A unit's or cgroup's processes by their cgroup, in the kernel, as they
 * come and go: the cgroup is the target, even while it is empty. */
#define FAULT_REACH_CGROUP 1U
/* A launched target's whole tree (its filter is inherited, its cgroup
 * holds them), after the leader exited. */
#define FAULT_REACH_TREE 2U
/* It acts on every process of the target's unit at once (StopUnit,
 * KillUnit): with a protected process among them (a protected comm or
 * unit nested in it, a sabot run) it does nothing, as if the target
 * matched nothing. */
#define FAULT_REACH_WHOLE_UNIT 4U
/* Its classifier holds the policy's protected ports (at most
 * SCENARIO_MAX_PROTECTED_PORTS of them): the network kinds. */
#define FAULT_HOLDS_PROTECTED_PORTS 1U

/* Hooks of kinds that serve a target the run launches themselves (the
 * syscall kinds: a seccomp filter installed before it execs, whose
 * listener they answer on the run's loop). The engine launches the target
 * (agent/targets.c) and knows nothing of how. */
#define FAULT_GIVEN_FDS_MAX 32 /* fds handed to the guardian, in all */
struct fault_launch_ops {
        const char *what; /* "a seccomp notify filter", for the launch's event */
        /* Bytes of the page shared with the guardian (mapped before it
         * forks), where the runner records what fail_open must answer. */
        size_t shared_size;
        /* Once per run, before any launch: the hooks' state, given to the
         * others. shared: the page, NULL if none. */
        int (*begin)(struct fault_ctx *c, void *shared, void **ret_state);
        /* Before the fork of target ti: what its child installs (*ret NULL:
         * nothing for this target). */
        int (*prepare)(void *st, struct fault_ctx *c, int ti, void **ret_child);
        /* In the child, right before exec, its stdio set up: install it.
         * Returns the fd (CLOEXEC) the exec's errno goes to from now on in
         * place of errfd, or a negative errno, already written to it. */
        int (*child)(void *child, int errfd);
        /* In the parent, once the child may exec: take what it installed
         * until it has exec'd (errfd closes) or failed (its errno in
         * *ret_child_errno), and serve it on c->loop from now on. */
        int (*adopt)(void *st, struct fault_ctx *c, int ti, pid_t pid, int errfd, int *ret_child_errno);
        /* Or, for a hook that serves nothing after the exec (NULL adopt):
         * the pid, once journaled, before it may exec (may be NULL). */
        int (*launched)(void *st, struct fault_ctx *c, int ti, pid_t pid, uint64_t start);
        void (*discard)(void *child);
        /* Let go what it holds for fr (NULL: for every fault), at revert. */
        void (*release)(void *st, const struct fault_run *fr);
        void (*end)(void *st);
        /* The guardian: the runner is gone. Answer what it left on the
         * given fds (see syscall_notify_fail_open); shared NULL: only what
         * is pending. Returns how many. */
        int (*fail_open)(const void *shared, const int *fds, size_t n_fds, unsigned from, unsigned to);
};

/* Every distinct launch table of the kinds, once each; how many. */
size_t fault_launch_tables(const struct fault_launch_ops **ret, size_t max);
/* The page shared with the guardian: the launch tables' (one at most). */
size_t fault_shared_size(void);
/* The guardian's fail-open, through the kinds; to up to
 * FAULT_FAIL_OPEN_ALL: the whole window each kind scans. */
#define FAULT_FAIL_OPEN_ALL (~0U)
int fault_fail_open(const void *shared, const int *fds, size_t n_fds, unsigned from, unsigned to);

/* For a kind's check: "needs 'target'" unless set. */
void fault_require_target(struct scenario *s, const struct fault *f, struct diags *d);

/* The kind of a fault's type (faults/registry.c). */
const struct fault_ops *fault_ops_get(int type);

/* Undo one journal entry from its contents alone, by its entry kind's
 * revert (agent/kind.h). Idempotent: something already gone is success. */
int fault_revert_entry(const struct jentry *e);

/* A cgroup of its own for a launched target (journaled "exec-cgroup"
 * entry, sabot-RUN-TARGET below the cgroup2 root) where cgroup2 has
 * cgroup.kill, so that its whole tree ends with the run; -EOPNOTSUPP
 * where it cannot. process_cgroup_join puts pid in it. */
int process_target_cgroup(struct fault_ctx *c, const struct target *t, char **ret, unsigned *ret_seq);
int process_cgroup_join(const char *cgroup, pid_t pid);
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
