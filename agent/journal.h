/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* The write-ahead record of one run, RUN_DIR/runs/ID.journal: every kernel
 * or process change is recorded (and fdatasync'd) before it is made, and
 * its revert afterwards. Each entry holds everything its revert needs, so
 * the runner, its guardian, `sabot abort` and `sabot recover` can all
 * revert from the file alone; reverts are idempotent. */

#define JOURNAL_SUFFIX ".journal"
/* 2: each record ends with " ." and starts on a line of its own, so a
 * record cut short by a full disk is recognised and ignored. */
#define JOURNAL_VERSION "2"

/* The longest value a cgroup-file entry keeps (an io.max line is ~80). */
#define JOURNAL_VALUE_MAX 256

struct jentry {
        unsigned seq;
        char kind[16]; /* stop | freeze | exec, later network kinds */
        pid_t pid;
        uint64_t start; /* the pid's start time: identity */
        char *cgroup;
        char *name; /* the fault or target it belongs to */
        /* network entries */
        char dev[16];
        int ifindex;
        bool ingress;
        uint32_t prio, handle;
        uint64_t netns; /* inode of the network namespace it lives in */
        uint32_t prog;  /* id of the fault's classifier: while it is loaded, its filter exists somewhere */
        /* cgroup-file entries (faults/cgroup.c): the interface file in
         * cgroup written, and its value before (what the revert writes) */
        char file[16];
        char *value;
        bool reverted;
};

struct journal {
        char *path;
        char *name; /* in the runs dir */
        int fd;     /* read and appended through */
        int dfd;    /* RUN_DIR/runs, checked */
        int write_err; /* the first append that failed, 0 if none */
        unsigned unrecorded; /* reverts done whose record could not be written */
        /* Revert records kept for one write (journal_batch_begin). */
        unsigned batch;      /* nesting depth */
        char *pending;
        size_t pending_len, pending_cap;
        unsigned pending_n;
        /* header */
        char *run_id, *scenario;
        pid_t runner_pid, guardian_pid;
        uint64_t runner_start, guardian_start;
        uint64_t started_wall_ns;
        struct jentry *v;
        size_t n;
        unsigned next_seq;
        bool ended;
};

/* A value as a journal writes it: percent-encoded, one token (no space,
 * '=' or newline); and back (NULL when out of memory). */
void journal_encode(const char *s, char *out, size_t len);
char *journal_decode(const char *s);

int journal_create(const char *run_dir, const char *run_id, const char *scenario, struct journal **ret);
/* What a run keeps in its run dir for its records: a network fault writes
 * a few entries, a pause one per process (about 130 bytes each). */
#define JOURNAL_RESERVE_BASE (16 * 1024)
#define JOURNAL_RESERVE_PER_FAULT (2 * 1024)
#define JOURNAL_RESERVE_MAX (1024 * 1024)
/* Keep room for bytes more of records (fallocate beyond the end): -ENOSPC
 * when the run dir has not got it, before anything is touched. */
int journal_reserve(struct journal *j, size_t bytes);
int journal_set_guardian(struct journal *j, pid_t pid);
/* Write-ahead: record e (kind, pid/start or cgroup, name) before acting;
 * sets e->seq. */
int journal_apply(struct journal *j, struct jentry *e);
/* Record a revert. The entry counts as reverted even when the record
 * cannot be written (a full disk): reverting is idempotent, and removing
 * the journal is the final record. */
int journal_reverted(struct journal *j, unsigned seq);
/* Revert records written together: between begin and commit (nested
 * pairs count), journal_reverted marks the entry at once and keeps its
 * record in memory; the outermost commit writes them all with one write
 * and one fdatasync. On a busy disk each fdatasync costs milliseconds,
 * which must not hold up the next revert. A crash before the commit
 * leaves those entries outstanding in the file: reverting them again
 * finds them gone and succeeds (every kind's revert is idempotent), so
 * recover, the guardian or abort finishes the record. Any other record
 * (an apply) writes the pending ones first, in the same write, so an
 * unrecorded revert never sits behind a newer apply of its object. */
void journal_batch_begin(struct journal *j);
int journal_batch_commit(struct journal *j);
/* Load RUN_DIR/runs/NAME (opened for appending reverts). The run dir and
 * the file must be root's alone and the file not a link: else -EPERM or
 * -ELOOP and trust_last() says why, and nothing in it is acted on. */
int journal_load(const char *path, struct journal **ret);
/* Entries applied and not reverted. */
size_t journal_outstanding(const struct journal *j);

/* Revert every outstanding entry, newest first, then record the successes
 * in one batch;
 * each is reported to done (if given) with its result. Returns the number
 * reverted, or a negative errno if any failed (those stay outstanding);
 * ret_failed counts them. */
typedef void (*journal_revert_cb)(const struct journal *j, const struct jentry *e, int result, void *ud);
int journal_revert_all(struct journal *j, unsigned *ret_failed, journal_revert_cb done, void *ud);
/* The same for the entries whose seq is in seqs only (one fault's). */
int journal_revert_some(struct journal *j, const unsigned *seqs, size_t n_seqs, unsigned *ret_failed);
/* Remove the file (after everything is reverted), and the run's SLO state
 * file beside it. */
int journal_remove(struct journal *j);
/* The run's SLO state file: RUN.slo beside RUN.journal, written by the
 * runner while it probes, read by `sabot status`. */
int journal_sibling(const char *journal_path, const char *suffix, char buf[static PATH_MAX]);
/* Replace the sibling file whole, or read it: in the journal's checked
 * directory, never through a link. */
int journal_sibling_write(struct journal *j, const char *suffix, const char *text, size_t len);
int journal_sibling_read(const struct journal *j, const char *suffix, size_t max, char **ret);
void journal_free(struct journal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct journal *, journal_free);

/* Paths of every journal under RUN_DIR/runs. */
int journal_list(const char *run_dir, char ***ret, size_t *ret_n);
void paths_free(char **v, size_t n);

/* Whether the process (pid, start) is still the one that was recorded. */
bool process_alive(pid_t pid, uint64_t start);
/* Within a kind's revert called by journal_revert_all/_some: the journal
 * the entry is in (its runner and guardian, for what they hold open:
 * disk-fill's file); NULL elsewhere. */
const struct journal *journal_reverting(void);
