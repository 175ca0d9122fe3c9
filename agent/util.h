/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p = (p);                                                            \
                (p) = NULL;                                                                        \
                _p;                                                                                \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p) {                                                      \
                if (*p)                                                                            \
                        func(*p);                                                                  \
        }

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* Nanoseconds on a clock: CLOCK_MONOTONIC for intervals and deadlines,
 * CLOCK_REALTIME for what is shown or kept across processes. */
static inline uint64_t clock_ns(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}
static inline uint64_t mono_now(void) { return clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t wall_now(void) { return clock_ns(CLOCK_REALTIME); }

/* pidfd_open(2), pidfd_send_signal(2) (no siginfo) and pidfd_getfd(2),
 * without flags: the fd (or 0), else -errno, with errno set as well. */
int sys_pidfd_open(pid_t pid);
int sys_pidfd_send_signal(int pidfd, int sig);
int sys_pidfd_getfd(int pidfd, int targetfd);

/* In a child just forked, before it runs anything else: no signal blocked
 * (the mask survives fork and exec), and with dispositions every handler
 * and ignored signal back to SIG_DFL too; otherwise ignored signals stay
 * ignored across exec. */
void child_reset_signals(bool dispositions);
/* In a child that runs a program for someone else (a launched target, an
 * exec probe, stress-ng): the resource limits sabot holds for itself
 * dropped (RLIMIT_RTPRIO, raised by sabot-run@.service). */
void child_reset_limits(void);

/* Split cmd into words at spaces and tabs (no shell, no quoting) as a
 * NULL-terminated argv in *ret: 0, or -ENOMEM with *ret untouched. */
int argv_split(const char *cmd, char ***ret);
void argv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, argv_free);

/* Read a whole file of at most max bytes into a NUL-terminated buffer. */
int read_full_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* Append to a growable array: *v has *n elements of size sz. *v must be
 * NULL or grown by array_push alone (its count may have been lowered
 * since): the room it has is known from the count (the next power of
 * two), not stored. -ENOMEM, nothing touched, when it cannot grow. */
int array_push(void *v, size_t *n, size_t sz, const void *elem);

/* ---- files a root process opens where others may reach ----
 * Every directory walked is opened from the one before it (openat), so
 * what is checked is what is used; a symbolic link is followed only when
 * its owner may be trusted, and what it leads to is checked the same way.
 * Trusted means owned by root (or by the effective uid) and writable by
 * nobody else: group- or world-writable directories only with the sticky
 * bit (as /tmp), never for the file or the directory asked for. */
enum trust_issue { TRUST_OK, TRUST_OWNER, TRUST_WRITABLE, TRUST_SYMLINK, TRUST_TYPE, TRUST_LINKS };
struct trust {
        enum trust_issue issue;
        uid_t uid;  /* TRUST_OWNER: the owner */
        mode_t mode;
        char path[4096]; /* what failed */
};
/* "PATH is owned by uid N" and the like. */
const char *trust_describe(const struct trust *t, char *buf, size_t len);
/* The last refusal by the functions below in this process, described. */
const char *trust_last(void);

enum {
        TRUST_REQUIRE = 1 << 0,   /* refuse at the first problem (-EPERM, -ELOOP) */
        TRUST_DIRECTORY = 1 << 1, /* PATH is a directory: return it O_RDONLY|O_DIRECTORY */
        TRUST_MKDIR = 1 << 2,     /* create missing directories (mode for the last one) */
};
/* Open PATH (a regular file for reading, or a directory) by one walk from
 * /. Returns the fd, problems in *ret_trust (may be NULL): with
 * TRUST_REQUIRE the first problem is an error (-EPERM; -ELOOP for a
 * symlink loop; -ENOTDIR/-EINVAL for the wrong type), without it the walk
 * goes on and ret_trust->issue says whether anything was amiss. */
int path_open_trusted(const char *path, unsigned flags, mode_t mode, struct trust *ret_trust);
/* Check an fd opened in a trusted directory: a regular file (or a
 * directory when dir), trusted owner, writable by its owner only, one link.
 * shown names it in messages. 0 or -EPERM/-EINVAL, and trust_last(). */
int fd_check_trusted(int fd, const char *shown, bool dir);
/* openat(dfd, name) with O_NOFOLLOW, then fd_check_trusted: a symbolic
 * link is -ELOOP and trust_last() says so. dir_shown names dfd. */
int openat_trusted(int dfd, const char *dir_shown, const char *name, int flags, mode_t mode);
/* The same for a directory, created first (mode) when create. */
int openat_dir_trusted(int dfd, const char *dir_shown, const char *name, bool create, mode_t mode);

/* Replace DFD/NAME whole: NAME.tmp is created afresh (never through a
 * link, never an existing file), filled by the caller, then renamed over
 * NAME (a symlink there is replaced, not followed); durable: the file and
 * the directory are fsync'd first. */
int replace_open(int dfd, const char *name, mode_t mode);
int replace_commit(int dfd, int fd, const char *name, bool durable);
void replace_abort(int dfd, const char *name);
/* The same through stdio: NAME.tmp as a FILE (NULL and errno on failure),
 * then flushed, committed as replace_commit (durable or not) and closed:
 * 0 or -errno, NAME.tmp removed on failure. */
FILE *replace_fopen(int dfd, const char *name, mode_t mode);
int replace_fclose(int dfd, FILE *f, const char *name, bool durable);
/* The directory part of path opened for *at calls; *ret_base points into
 * path. For paths the operator names (--report): symlinks are followed. */
int dir_open_parent(const char *path, const char **ret_base);

/* Read a whole open file of at most max bytes (from offset 0). */
int read_full_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);
