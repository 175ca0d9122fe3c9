/* SPDX-License-Identifier: MIT */
/* clock: a launched target's wall clock (CLOCK_REALTIME, time(),
 * gettimeofday) set ahead or behind for the window through libfaketime;
 * its monotonic clocks untouched; the host's clock never changed.
 *
 * libfaketime is a preloaded library: it enters a process only when it
 * execs, which is why the kind is offered for targets the run launches
 * (exec =) alone. The launch hook gives such a target LD_PRELOAD and a
 * control file of its own, RUN_DIR/runs/sabot-clock-RUN-TARGET
 * (FAKETIME_TIMESTAMP_FILE), holding "+0" until the window opens. The
 * library reads that file again on the first clock call of every new
 * second (FAKETIME_CACHE_DURATION=0: its cache expires when the real
 * second changes), so an offset written there takes effect, and "+0"
 * written back reverts it, within a second, while the target keeps
 * running. FAKETIME_DONT_FAKE_MONOTONIC=1 leaves CLOCK_MONOTONIC alone.
 *
 * The file is always replaced whole (a new file renamed over it): the
 * library exits its process on a file it cannot parse, an empty one
 * included, and a reader must never see one half written. Two journal
 * entries: "clock-file" (written before the file is made, its revert
 * unlinks it: a missing file is the real clock to libfaketime) and
 * "clock" (written before the offset, its revert writes "+0" back), both
 * naming the file alone, so the runner, the guardian, abort and recover
 * revert alike. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>

#include "fault.h"

static const char *const keys[] = {"offset", NULL};

#define CLOCK_PREFIX "sabot-clock-"
#define CLOCK_REAL "+0"

/* Where Debian's libfaketime package puts it, by architecture. */
static const char *const libfaketime_paths[] = {
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
        NULL,
};

/* A library loaded into a process sabot starts as root: a root-owned
 * regular file nobody else may write. */
static int trusted_lib(const char *path, char *why, size_t len) {
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
                snprintf(why, len, "%s is not a root-owned file only root may write", path);
                return -EPERM;
        }
        return 0;
}

/* libfaketime, where a package installs it. NULL and why if none. */
static const char *libfaketime_find(char *why, size_t len) {
        for (size_t i = 0; libfaketime_paths[i]; i++) {
                int r = trusted_lib(libfaketime_paths[i], why, len);
                if (r == -ENOENT)
                        continue;
                return r < 0 ? NULL : libfaketime_paths[i];
        }
        snprintf(why, len, "libfaketime is not installed (%s)", libfaketime_paths[0]);
        return NULL;
}

#ifndef SABOT_LIBDIR
#define SABOT_LIBDIR "/usr/lib/sabot"
#endif
#define CLOCK_FIX "libsabot-clock.so"

/* sabot's own preload (faults/preload/clock_fix.c), loaded in front of
 * libfaketime: beside the binary (a build tree) or where make install
 * puts it. NULL and why if neither. */
static const char *clock_fix_find(char *buf, size_t size, char *why, size_t len) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
                exe[n] = '\0';
                char *slash = strrchr(exe, '/');
                if (slash && snprintf(buf, size, "%.*s/" CLOCK_FIX, (int)(slash - exe), exe) < (int)size) {
                        int r = trusted_lib(buf, why, len);
                        if (r >= 0)
                                return buf;
                        if (r != -ENOENT)
                                return NULL;
                }
        }
        snprintf(buf, size, SABOT_LIBDIR "/" CLOCK_FIX);
        int r = trusted_lib(buf, why, len);
        if (r == -ENOENT)
                snprintf(why, len, "sabot's %s is not installed (%s): the installation is incomplete", CLOCK_FIX, buf);
        return r < 0 ? NULL : buf;
}

/* Both, or why not. */
static int clock_libs(char fix[static PATH_MAX], const char **lib, char *why, size_t len) {
        if (!(*lib = libfaketime_find(why, len)))
                return -EOPNOTSUPP;
        return clock_fix_find(fix, PATH_MAX, why, len) ? 0 : -EOPNOTSUPP;
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        fault_require_target(s, f, d);
        fault_require(s, f, "offset", " (how far the target's wall clock moves, e.g. -2h or +30d)", d);
        if (fault_line(f, "offset") && fault_ok(f, "offset") && f->clock_offset == 0)
                diag_error(d, s->file, fault_line(f, "offset"),
                           "offset = 0 changes nothing; use a signed whole number of s, m, h or d, e.g. -2h");
        if (f->target_index < 0)
                return;
        const struct target *t = s->targets[f->target_index];
        if (t->sel != SEL_EXEC) {
                diag_error(d, s->file, fault_line(f, "target"),
                           "type = clock is offered for targets the run launches (exec = ...) alone: target '%s' "
                           "selects running processes (%s =), which libfaketime (LD_PRELOAD) cannot enter after "
                           "they exec, and sabot never changes the host's clock; use a target with exec =",
                           f->target, selector_to_string(t->sel));
                return;
        }
        /* One offset a target at a time: a window's revert writes +0,
         * which would cut another's short. */
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *g = s->faults[i];
                if (g == f)
                        break;
                if (g->type != f->type || g->target_index != f->target_index)
                        continue;
                if (g->start < fault_end(s, f) && f->start < fault_end(s, g))
                        diag_error(d, s->file, f->hdr.line,
                                   "fault '%s' overlaps fault '%s' (line %u): both set target '%s''s clock; one "
                                   "clock fault a target at a time", f->hdr.name, g->hdr.name, g->hdr.line, f->target);
        }
}

static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        uint64_t m = f->clock_offset < 0 ? (uint64_t)(-f->clock_offset) : (uint64_t)f->clock_offset;
        if (m <= lc->eff->max_clock_offset)
                return;
        char a[FORMAT_MAX], what[128];
        snprintf(what, sizeof what, "offset = %s", format_clock_offset(a, f->clock_offset, true));
        lc->over(lc, LIMIT_CLOCK_OFFSET, fault_line(f, "offset"), what);
}

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        (void)s, (void)f;
        char fix[PATH_MAX];
        const char *lib;
        return clock_libs(fix, &lib, why, len);
}

/* NAME.real: "+0" made ready by each apply, so that the revert is a
 * rename, which needs no free space (a run dir filled during the window
 * left the offset in force: the new file could not be written). */
#define SPARE ".real"

static int spare_name(const char *name, char buf[static NAME_MAX + 1]) {
        return snprintf(buf, NAME_MAX + 1, "%s" SPARE, name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

static int file_name(const char *run_id, const char *target, char buf[static NAME_MAX + 1]) {
        if (!run_id || !target ||
            snprintf(buf, NAME_MAX + 1, CLOCK_PREFIX "%s-%s", run_id, target) > NAME_MAX - (int)strlen(SPARE ".tmp"))
                return -ENAMETOOLONG;
        return 0;
}

/* The control file's absolute path (the target's working directory is
 * not ours, and a revert reads the path from the journal alone): the
 * journal's directory as the kernel names it. */
static int file_path(struct journal *j, const char *name, char buf[static PATH_MAX]) {
        char proc[64], dir[PATH_MAX];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", j->dfd);
        ssize_t n = readlink(proc, dir, sizeof dir - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EINVAL;
        dir[n] = '\0';
        if (dir[0] != '/')
                return -EINVAL;
        if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char a[FORMAT_MAX], why[256], fix[PATH_MAX];
        const char *lib;
        if (clock_libs(fix, &lib, why, sizeof why) < 0)
                lib = NULL;
        fprintf(out, "      file RUN_DIR/runs/" CLOCK_PREFIX "RUN-%s: " CLOCK_REAL " -> %s (target %s's wall clock, "
                     "through %s), back to " CLOCK_REAL " at the window's end; monotonic clocks untouched\n",
                f->target ? f->target : "?", format_clock_offset(a, f->clock_offset, true), f->target ? f->target : "?",
                lib ? lib : why);
}

/* ---- the control file ---- */

/* Replace dfd/name whole with text: never through a link, never half
 * written. */
static int file_put(int dfd, const char *name, const char *text) {
        int fd = replace_open(dfd, name, 0644);
        if (fd < 0)
                return fd;
        size_t len = strlen(text);
        int r = write(fd, text, len) == (ssize_t)len ? 0 : errno ? -errno : -ENOSPC;
        if (r >= 0)
                r = replace_commit(dfd, fd, name, false);
        else
                replace_abort(dfd, name);
        close(fd);
        return r;
}

static bool name_ok(const char *name) {
        return name && strncmp(name, CLOCK_PREFIX, strlen(CLOCK_PREFIX)) == 0 && !strchr(name, '/') &&
               strlen(name) > strlen(CLOCK_PREFIX);
}

/* The directory of an entry's file, opened and checked (root's, writable
 * by root alone), and the file's name in it. */
static int entry_dir(const struct jentry *e, const char **ret_name) {
        const char *slash = e->cgroup ? strrchr(e->cgroup, '/') : NULL;
        if (!e->cgroup || e->cgroup[0] != '/' || !slash || !name_ok(slash + 1))
                return -EBADMSG;
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%.*s", (int)(slash - e->cgroup), e->cgroup) >= (int)sizeof dir)
                return -ENAMETOOLONG;
        int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        struct stat st;
        if (fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
                close(dfd);
                return -EPERM;
        }
        *ret_name = slash + 1;
        return dfd;
}

/* The file as the journal names it: a regular file of root's, or gone. */
static int entry_file(int dfd, const char *name) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != 0)
                return -ESTALE;
        return 1;
}

/* "clock": the offset back to +0, if the file is still there: the
 * apply's spare renamed over it; without one (a crash between), a new
 * file; and when that cannot be written either (ENOSPC), the file goes:
 * to libfaketime a missing file is the real clock (the next window then
 * fails, saying the target has no control file). */
static int revert_offset(const struct jentry *e) {
        const char *name;
        char spare[NAME_MAX + 1];
        int dfd = entry_dir(e, &name);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        int r = entry_file(dfd, name);
        if (r > 0 && spare_name(name, spare) >= 0 && entry_file(dfd, spare) > 0 &&
            renameat(dfd, spare, dfd, name) == 0)
                r = 0;
        else if (r > 0 && (r = file_put(dfd, name, CLOCK_REAL)) < 0 && unlinkat(dfd, name, 0) == 0)
                r = 0;
        close(dfd);
        return r;
}

/* "clock-file": the file goes, its spare, and a NAME.tmp left by a
 * crash mid-write. */
static int revert_file(const struct jentry *e) {
        const char *name;
        char spare[NAME_MAX + 1];
        int dfd = entry_dir(e, &name);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        replace_abort(dfd, name);
        int r = entry_file(dfd, name);
        if (r > 0 && unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                r = -errno;
        if (spare_name(name, spare) >= 0) {
                replace_abort(dfd, spare);
                if (entry_file(dfd, spare) > 0)
                        (void)unlinkat(dfd, spare, 0);
        }
        close(dfd);
        return r < 0 ? r : 0;
}

/* "clock-shm": libfaketime's shared memory and semaphore of the launched
 * target, named by its pid in /dev/shm. The library does not always
 * remove them, even at a clean exit (Python and dash exiting 0 left
 * theirs), and never when a signal ends the target (as a run's end ends
 * it). Unlinked while the process lives, they go
 * with it; a pid someone else has now is left alone. */
static int revert_shm(const struct jentry *e) {
        if (e->pid <= 0)
                return -EBADMSG;
        if (!process_alive(e->pid, e->start) && (kill(e->pid, 0) == 0 || errno != ESRCH))
                return 0;
        _cleanup_close_ int dfd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        static const char *const fmts[] = {"faketime_shm_%d", "sem.faketime_sem_%d"};
        for (size_t i = 0; i < ELEMENTSOF(fmts); i++) {
                char name[64];
                struct stat st;
                snprintf(name, sizeof name, fmts[i], (int)e->pid);
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
                        continue;
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

static void describe_shm(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "removed libfaketime's /dev/shm names of pid %d", (int)e->pid);
}

static void describe_offset(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "set %s back to " CLOCK_REAL " (target's wall clock real again)", e->cgroup ? e->cgroup : "?");
}

static void describe_file(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "removed the clock control file %s", e->cgroup ? e->cgroup : "?");
}

/* ---- the launch: LD_PRELOAD and the control file ---- */

struct clock_launch {
        struct journal *j;
        const struct scenario *s;
};

struct clock_child {
        char **envp;
};

static int launch_begin(struct fault_ctx *c, void *shared, void **ret_state) {
        (void)shared;
        struct clock_launch *st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        st->j = c->j;
        st->s = c->pl->s;
        *ret_state = st;
        return 0;
}

static bool clock_targets(const struct scenario *s, int ti) {
        for (size_t i = 0; i < s->n_faults; i++)
                if (s->faults[i]->type == FAULT_CLOCK && s->faults[i]->target_index == ti)
                        return true;
        return false;
}

/* The environment libfaketime is told to read: whatever the runner has,
 * less any FAKETIME* of its own (FAKETIME itself would win over the
 * file), with sabot's preload, then the library, first in LD_PRELOAD. */
static bool env_ours(const char *v) {
        return strncmp(v, "FAKETIME", 8) == 0 || strncmp(v, "DONT_FAKE_MONOTONIC=", 20) == 0 ||
               strncmp(v, "LD_PRELOAD=", 11) == 0;
}

static void strv_drop(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static int build_env(const char *fix, const char *lib, const char *path, char ***ret) {
        extern char **environ;
        size_t n = 0;
        const char *preload = getenv("LD_PRELOAD");
        while (environ[n])
                n++;
        char **v = calloc(n + 6, sizeof *v);
        if (!v)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!env_ours(environ[i]) && !(v[k++] = strdup(environ[i])))
                        goto oom;
        /* FAKETIME_FORCE_MONOTONIC_FIX=0: libfaketime 0.9.10's timed wait
         * on a CLOCK_MONOTONIC condition variable returned at once
         * otherwise (its guess from glibc's version); later versions
         * ignore it when monotonic clocks are not faked. */
        if (asprintf(&v[k++], "LD_PRELOAD=%s:%s%s%s", fix, lib, preload && *preload ? ":" : "", preload ? preload : "") <
                    0 ||
            asprintf(&v[k++], "FAKETIME_TIMESTAMP_FILE=%s", path) < 0 ||
            !(v[k++] = strdup("FAKETIME_CACHE_DURATION=0")) || !(v[k++] = strdup("FAKETIME_DONT_FAKE_MONOTONIC=1")) ||
            !(v[k++] = strdup("FAKETIME_FORCE_MONOTONIC_FIX=0")))
                goto oom;
        *ret = v;
        return 0;
oom:
        v[k - 1] = NULL;
        strv_drop(v);
        return -ENOMEM;
}

static int launch_prepare(void *stp, struct fault_ctx *c, int ti, void **ret_child) {
        struct clock_launch *st = stp;
        *ret_child = NULL;
        if (!clock_targets(st->s, ti))
                return 0;
        const struct target *t = st->s->targets[ti];
        char why[256], name[NAME_MAX + 1], path[PATH_MAX], fix[PATH_MAX];
        const char *lib;
        if (clock_libs(fix, &lib, why, sizeof why) < 0) {
                fault_event(c, LOG_ERR, NULL, "target %s: %s", t->hdr.name, why);
                return -EOPNOTSUPP;
        }
        int r = file_name(st->j->run_id, t->hdr.name, name);
        if (r < 0)
                return r;
        r = file_path(st->j, name, path);
        if (r < 0)
                return r;
        /* Recorded before it exists: a crash between leaves an entry whose
         * revert finds nothing to remove. */
        struct jentry e = {.kind = "clock-file", .cgroup = path, .name = t->hdr.name};
        r = journal_apply(st->j, &e);
        if (r < 0)
                return r;
        int fd = openat(st->j->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = write(fd, CLOCK_REAL, strlen(CLOCK_REAL)) == (ssize_t)strlen(CLOCK_REAL) ? 0 : errno ? -errno : -ENOSPC;
        close(fd);
        if (r < 0)
                return r;
        struct clock_child *ch = calloc(1, sizeof *ch);
        if (!ch)
                return -ENOMEM;
        r = build_env(fix, lib, path, &ch->envp);
        if (r < 0) {
                free(ch);
                return r;
        }
        *ret_child = ch;
        return 0;
}

/* In the child, before exec: execv passes environ on. No allocation
 * here (the runner may have had threads). */
static int launch_child(void *chp, int errfd) {
        extern char **environ;
        environ = ((struct clock_child *)chp)->envp;
        return errfd;
}

static int launch_launched(void *stp, struct fault_ctx *c, int ti, pid_t pid, uint64_t start) {
        (void)c;
        struct clock_launch *st = stp;
        struct jentry e = {.kind = "clock-shm", .pid = pid, .start = start, .name = st->s->targets[ti]->hdr.name};
        return journal_apply(st->j, &e);
}

static void launch_discard(void *chp) {
        struct clock_child *ch = chp;
        if (!ch)
                return;
        strv_drop(ch->envp);
        free(ch);
}

static void launch_end(void *stp) {
        free(stp);
}

static const struct fault_launch_ops launch = {
        .what = "libfaketime (LD_PRELOAD)",
        .begin = launch_begin,
        .prepare = launch_prepare,
        .child = launch_child,
        .launched = launch_launched,
        .discard = launch_discard,
        .end = launch_end,
};

/* ---- the run ---- */

struct clock_run {
        int dfd;
        char name[NAME_MAX + 1];
};

static void clock_run_free(void *p) {
        struct clock_run *q = p;
        if (q && q->dfd >= 0)
                close(q->dfd);
        free(q);
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char name[NAME_MAX + 1], path[PATH_MAX], off[FORMAT_MAX], text[32];
        int r = file_name(c->j->run_id, f->target, name);
        if (r < 0)
                return fault_fail(fr, r, "the control file's name is too long");
        r = file_path(c->j, name, path);
        if (r < 0)
                return fault_fail(fr, r, "cannot name the control file's directory");
        struct clock_run *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->dfd = -1;
        fr->priv = q;
        fr->priv_free = clock_run_free;
        snprintf(q->name, sizeof q->name, "%s", name);
        if ((q->dfd = fcntl(c->j->dfd, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        /* The file the launch made for this target: without it, the
         * target runs without libfaketime, and nothing would change. */
        if (entry_file(q->dfd, name) <= 0)
                return fault_fail(fr, -ENOENT, "target %s was not launched with libfaketime (no %s)", f->target, path);
        format_clock_offset(off, f->clock_offset, true);
        /* libfaketime reads seconds with no unit letter (its m, h, d, y
         * are found anywhere in the text). */
        snprintf(text, sizeof text, "%+lld", (long long)f->clock_offset);
        /* The revert's "+0", written while failing is harmless. */
        char spare[NAME_MAX + 1];
        if ((r = spare_name(name, spare)) < 0 || (r = file_put(q->dfd, spare, CLOCK_REAL)) < 0)
                return fault_fail(fr, r, "cannot write %s" SPARE " (the revert's +0)", path);
        struct jentry e = {.kind = "clock", .cgroup = path, .name = f->hdr.name, .value = text};
        r = journal_apply(c->j, &e);
        if (r >= 0)
                r = fault_track(fr, e.seq);
        if (r < 0)
                return r;
        r = file_put(q->dfd, name, text);
        if (r < 0)
                return fault_fail(fr, r, "cannot write %s", path);
        fr->strikes = 1;
        fr->hits = 1;
        pid_t pid = f->target_index >= 0 && c->exec_pids ? c->exec_pids[f->target_index] : 0;
        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "target %s (pid %d): wall clock %s (%s: " CLOCK_REAL " -> %s, read "
                    "within a second); monotonic clocks untouched", f->target, (int)pid, off, path, text);
        return 0;
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        char off[FORMAT_MAX];
        const struct fault *f = fr->f;
        pid_t pid = f->target_index >= 0 && c->exec_pids ? c->exec_pids[f->target_index] : 0;
        if (!fr->strikes)
                snprintf(fr->outcome, sizeof fr->outcome, "nothing changed");
        else
                snprintf(fr->outcome, sizeof fr->outcome, "target %s (pid %d): wall clock %s for the window, then "
                         "real again; monotonic clocks untouched", f->target, (int)pid,
                         format_clock_offset(off, f->clock_offset, true));
}

static void progress(struct fault_run *fr, char *buf, size_t len) {
        const struct clock_run *q = fr->priv;
        char off[FORMAT_MAX], text[32] = "?";
        if (!q || !fr->strikes) {
                snprintf(buf, len, "nothing changed");
                return;
        }
        /* What the control file says now: what the target reads within a
         * second. */
        int fd = openat(q->dfd, q->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, text, sizeof text - 1);
                text[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        snprintf(buf, len, "wall clock %s in force (control file: %s s)", format_clock_offset(off, fr->f->clock_offset, true),
                 text);
}

static void doctor(doctor_row_fn row, void *ud) {
        char why[256], fix[PATH_MAX];
        const char *lib = libfaketime_find(why, sizeof why);
        char what[320];
        snprintf(what, sizeof what, "libfaketime for launched targets (%s)", lib ? lib : libfaketime_paths[0]);
        row(ud, what, lib ? "" : why, "apt-get install libfaketime", false);
        const char *f = clock_fix_find(fix, sizeof fix, why, sizeof why);
        snprintf(what, sizeof what, "sabot's preload in front of libfaketime (%s)", f ? f : SABOT_LIBDIR "/" CLOCK_FIX);
        row(ud, what, f ? "" : why, "reinstall sabot (make install)", false);
        row(ud, "clock faults on running processes (pid, unit, cgroup, comm, exe targets)",
            "not offered: libfaketime (LD_PRELOAD) enters a process only when it execs, and sabot never changes the "
            "host's clock; use a target the run launches (exec =)", NULL, true);
}

static const struct fault_backend backend = {.title = "clock faults", .doctor = doctor};

static const struct jentry_kind entries[] = {
        {"clock", revert_offset, describe_offset, false},
        {"clock-file", revert_file, describe_file, false},
        {"clock-shm", revert_shm, describe_shm, false},
        {NULL},
};

const struct fault_ops clock_ops = {
        .kind = {.name = "clock", .summary = "sets a launched target's wall clock ahead or behind for the window (libfaketime)",
                 .keys = keys, .check = check, .entries = entries},
        .check_limits = check_limits,
        .backend = &backend,
        .probe = probe,
        .describe = describe,
        .counter_names = {"clock_sets", "clock_targets"},
        .apply = apply,
        .finish = finish,
        .progress = progress,
        .launch = &launch,
};
