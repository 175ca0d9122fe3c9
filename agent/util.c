/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util.h"

int read_full_fd(int fd, size_t max, char **ret_buf, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;

        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= max + 1)
                                return -EFBIG;
                        cap *= 2;
                        char *nb = realloc(buf, cap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                ssize_t k = pread(fd, buf + len, cap - len, (off_t)len);
                if (k < 0 && errno == ESPIPE)
                        k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_full_file(const char *path, size_t max, char **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret_buf, ret_len);
}

/* Geometric growth without a stored capacity: an array grown here has
 * room for the next power of two of elements at or above its count, so it
 * is reallocated only when the count is 0 or a power of two, to twice
 * that (amortized O(1) a push; one element more a push was O(n^2) for n
 * pushes). */
int array_push(void *v, size_t *n, size_t sz, const void *elem) {
        void **arr = v;
        size_t k = *n;
        if (sz == 0)
                return -EINVAL;
        if ((k & (k - 1)) == 0) {
                /* No object is larger than PTRDIFF_MAX (malloc refuses). */
                if (k > PTRDIFF_MAX / 2)
                        return -ENOMEM;
                size_t cap = k ? 2 * k : 1;
                if (cap > PTRDIFF_MAX / sz)
                        return -ENOMEM;
                void *na = realloc(*arr, cap * sz);
                if (!na)
                        return -ENOMEM;
                *arr = na;
        }
        memcpy((char *)*arr + k * sz, elem, sz);
        *n = k + 1;
        return 0;
}

int sys_pidfd_open(pid_t pid) {
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int sys_pidfd_send_signal(int pidfd, int sig) {
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int sys_pidfd_getfd(int pidfd, int targetfd) {
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, 0);
        return fd < 0 ? -errno : fd;
}

void child_reset_signals(bool dispositions) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; dispositions && s < NSIG; s++)
                signal(s, SIG_DFL);
}

void child_reset_limits(void) {
        /* The unit's LimitRTPRIO=1 is for sabot's own reverts at SCHED_RR
         * 1 (urgent_begin), not for what it starts. Set to 0, soft and
         * hard: the kernel's and systemd's default, as the program would
         * get as a service of its own; what sabot had before its unit
         * raised it cannot be known from inside. Lowering needs no
         * privilege. */
        struct rlimit none = {0, 0};
        (void)setrlimit(RLIMIT_RTPRIO, &none);
}

void argv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int argv_split(const char *cmd, char ***ret) {
        _cleanup_free_ char *copy = strdup(cmd);
        _cleanup_(argv_freep) char **v = NULL;
        size_t n = 0;
        if (!copy)
                return -ENOMEM;
        /* v stays NULL-terminated as it grows, so argv_free can free it. */
        char *null = NULL;
        if (array_push(&v, &n, sizeof null, &null) < 0)
                return -ENOMEM;
        for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                char *d = strdup(w);
                if (!d)
                        return -ENOMEM;
                if (array_push(&v, &n, sizeof null, &null) < 0) {
                        free(d);
                        return -ENOMEM;
                }
                v[n - 2] = d;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* ---- trusted paths ---- */

static __thread char last_refusal[4096 + 160];

static void refusal_set(const struct trust *t) {
        trust_describe(t, last_refusal, sizeof last_refusal);
}

const char *trust_last(void) { return last_refusal[0] ? last_refusal : "refused"; }

const char *trust_describe(const struct trust *t, char *buf, size_t len) {
        switch (t->issue) {
        case TRUST_OK: snprintf(buf, len, "%s is trusted", t->path); break;
        case TRUST_OWNER: snprintf(buf, len, "%s is owned by uid %u", t->path, (unsigned)t->uid); break;
        case TRUST_WRITABLE:
                snprintf(buf, len, "%s is writable by %s", t->path, (t->mode & S_IWOTH) ? "everyone" : "its group");
                break;
        case TRUST_SYMLINK: snprintf(buf, len, "%s is a symbolic link", t->path); break;
        case TRUST_TYPE:
                snprintf(buf, len, "%s is %s", t->path, S_ISDIR(t->mode) ? "a directory" : "not a regular file");
                break;
        case TRUST_LINKS: snprintf(buf, len, "%s has more than one hard link", t->path); break;
        }
        return buf;
}

static bool uid_trusted(uid_t u) { return u == 0 || u == geteuid(); }

/* The issue with st, a directory walked through (sticky allowed) or the
 * object asked for (final). */
static enum trust_issue stat_issue(const struct stat *st, bool final) {
        if (!uid_trusted(st->st_uid))
                return TRUST_OWNER;
        bool sticky = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
        if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !S_ISLNK(st->st_mode) && (final || !sticky))
                return TRUST_WRITABLE;
        return TRUST_OK;
}

static void note(struct trust *t, enum trust_issue issue, const struct stat *st, const char *path) {
        if (t->issue != TRUST_OK)
                return;
        t->issue = issue;
        t->uid = st ? st->st_uid : 0;
        t->mode = st ? st->st_mode : 0;
        snprintf(t->path, sizeof t->path, "%s", path);
}

/* shown = shown/comp, or the parent for "..". */
static void shown_push(char *shown, size_t len, const char *comp) {
        size_t l = strlen(shown);
        if (streq(comp, "..")) {
                char *s = strrchr(shown, '/');
                if (s && s != shown)
                        *s = '\0';
                else
                        snprintf(shown, len, "/");
                return;
        }
        snprintf(shown + l, len - l, "%s%s", l && shown[l - 1] == '/' ? "" : "/", comp);
}

int path_open_trusted(const char *path, unsigned flags, mode_t mode, struct trust *ret_trust) {
        struct trust tt = {.issue = TRUST_OK}, *t = ret_trust ? ret_trust : &tt;
        bool require = flags & TRUST_REQUIRE;
        t->issue = TRUST_OK;
        if (!path || !*path)
                return -EINVAL;
        /* todo holds what is left to walk; a symlink's target is put in
         * front of the rest. */
        size_t cap = PATH_MAX * 2;
        _cleanup_free_ char *todo = malloc(cap);
        char shown[PATH_MAX];
        if (!todo)
                return -ENOMEM;
        if (path[0] == '/')
                snprintf(todo, cap, "%s", path);
        else {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return -errno;
                if (snprintf(todo, cap, "%s/%s", cwd, path) >= (int)cap)
                        return -ENAMETOOLONG;
        }
        if (strlen(todo) >= PATH_MAX)
                return -ENAMETOOLONG;
        _cleanup_close_ int cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        snprintf(shown, sizeof shown, "/");
        struct stat st;
        if (fstat(cur, &st) < 0)
                return -errno;
        enum trust_issue is = stat_issue(&st, false);
        if (is != TRUST_OK) {
                note(t, is, &st, "/");
                if (require)
                        return refusal_set(t), -EPERM;
        }
        unsigned links = 0;
        char *p = todo;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break; /* the path named a directory ("/", "x/") */
                size_t n = strcspn(p, "/");
                char comp[NAME_MAX + 1];
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p, n);
                comp[n] = '\0';
                p += n;
                const char *rest = p + strspn(p, "/");
                bool last = !*rest;
                if (streq(comp, "."))
                        continue;
                int child = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0 && errno == ENOENT && (flags & TRUST_MKDIR) && (!last || (flags & TRUST_DIRECTORY))) {
                        if (mkdirat(cur, comp, last ? mode : 0755) < 0 && errno != EEXIST)
                                return -errno;
                        child = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                }
                if (child < 0)
                        return -errno;
                if (fstat(child, &st) < 0) {
                        int r = -errno;
                        close(child);
                        return r;
                }
                char here[PATH_MAX];
                snprintf(here, sizeof here, "%s", shown);
                shown_push(here, sizeof here, comp);
                if (S_ISLNK(st.st_mode)) {
                        /* Followed only when its owner could have made it
                         * point anywhere anyway. */
                        if (!uid_trusted(st.st_uid)) {
                                note(t, TRUST_OWNER, &st, here);
                                if (require) {
                                        close(child);
                                        return refusal_set(t), -EPERM;
                                }
                        }
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(child, "", target, sizeof target - 1);
                        close(child);
                        if (k < 0)
                                return -errno;
                        target[k] = '\0';
                        if (++links > 40)
                                return -ELOOP;
                        _cleanup_free_ char *next = malloc(cap);
                        if (!next)
                                return -ENOMEM;
                        if (snprintf(next, cap, "%s/%s", target, rest) >= (int)cap)
                                return -ENAMETOOLONG;
                        free(todo);
                        todo = TAKE_PTR(next);
                        p = todo;
                        if (target[0] == '/') {
                                int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (root < 0)
                                        return -errno;
                                close(cur);
                                cur = root;
                                snprintf(shown, sizeof shown, "/");
                        }
                        continue;
                }
                bool final = last;
                is = stat_issue(&st, final);
                if (is != TRUST_OK) {
                        note(t, is, &st, here);
                        if (require) {
                                close(child);
                                return refusal_set(t), -EPERM;
                        }
                }
                if (!last) {
                        if (!S_ISDIR(st.st_mode)) {
                                close(child);
                                return -ENOTDIR;
                        }
                        close(cur);
                        cur = child;
                        snprintf(shown, sizeof shown, "%s", here);
                        continue;
                }
                /* The object asked for: reopened for use, and checked to be
                 * the one just inspected. */
                bool want_dir = flags & TRUST_DIRECTORY;
                if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
                        close(child);
                        note(t, TRUST_TYPE, &st, here);
                        refusal_set(t);
                        return want_dir ? -ENOTDIR : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
                }
                close(child);
                int fd = openat(cur, comp, (want_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NOCTTY | O_NONBLOCK) |
                                                   O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                struct stat again;
                if (fstat(fd, &again) < 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
                        close(fd);
                        return -EAGAIN; /* replaced under us: only by root */
                }
                if (!want_dir) {
                        int fl = fcntl(fd, F_GETFL);
                        if (fl >= 0)
                                (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
                }
                return fd;
        }
        /* "/" itself, or a path ending in "/" or ".". */
        if (!(flags & TRUST_DIRECTORY))
                return -EISDIR;
        if (fstat(cur, &st) < 0)
                return -errno;
        is = stat_issue(&st, true);
        if (is != TRUST_OK) {
                note(t, is, &st, shown);
                if (require)
                        return refusal_set(t), -EPERM;
        }
        int fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int fd_check_trusted(int fd, const char *shown, bool dir) {
        struct stat st;
        struct trust t = {.issue = TRUST_OK};
        if (fstat(fd, &st) < 0)
                return -errno;
        if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
                note(&t, TRUST_TYPE, &st, shown);
        else if (stat_issue(&st, true) != TRUST_OK)
                note(&t, stat_issue(&st, true), &st, shown);
        else if (!dir && st.st_nlink > 1)
                note(&t, TRUST_LINKS, &st, shown);
        if (t.issue == TRUST_OK)
                return 0;
        refusal_set(&t);
        return t.issue == TRUST_TYPE ? (S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL) : -EPERM;
}

static void join(char *buf, size_t len, const char *dir, const char *name) {
        snprintf(buf, len, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

int openat_trusted(int dfd, const char *dir_shown, const char *name, int flags, mode_t mode) {
        char shown[PATH_MAX];
        join(shown, sizeof shown, dir_shown, name);
        int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0) {
                int r = -errno;
                struct stat st;
                if (r == -ELOOP && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                        struct trust t = {.issue = TRUST_SYMLINK};
                        snprintf(t.path, sizeof t.path, "%s", shown);
                        refusal_set(&t);
                }
                return r;
        }
        int r = fd_check_trusted(fd, shown, false);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int openat_dir_trusted(int dfd, const char *dir_shown, const char *name, bool create, mode_t mode) {
        char shown[PATH_MAX];
        join(shown, sizeof shown, dir_shown, name);
        if (create && mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                struct stat st;
                if ((r == -ELOOP || r == -ENOTDIR) && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        struct trust t = {.issue = S_ISLNK(st.st_mode) ? TRUST_SYMLINK : TRUST_TYPE, .mode = st.st_mode};
                        snprintf(t.path, sizeof t.path, "%s", shown);
                        refusal_set(&t);
                        return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
                }
                return r;
        }
        int r = fd_check_trusted(fd, shown, true);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static void tmp_name(char buf[static NAME_MAX + 1], const char *name) {
        snprintf(buf, NAME_MAX + 1, "%.*s.tmp", NAME_MAX - 4, name);
}

int replace_open(int dfd, const char *name, mode_t mode) {
        char tmp[NAME_MAX + 1];
        tmp_name(tmp, name);
        /* A leftover (a crash mid-write), or anything planted: removed,
         * never written through. */
        if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
                return -errno;
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        return fd < 0 ? -errno : fd;
}

int replace_commit(int dfd, int fd, const char *name, bool durable) {
        char tmp[NAME_MAX + 1];
        tmp_name(tmp, name);
        int r = durable && fsync(fd) < 0 ? -errno : 0;
        if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        if (durable)
                (void)fsync(dfd);
        return 0;
}

void replace_abort(int dfd, const char *name) {
        char tmp[NAME_MAX + 1];
        tmp_name(tmp, name);
        (void)unlinkat(dfd, tmp, 0);
}

FILE *replace_fopen(int dfd, const char *name, mode_t mode) {
        int fd = replace_open(dfd, name, mode);
        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        FILE *f = fdopen(fd, "w");
        if (!f) {
                int e = errno;
                close(fd);
                replace_abort(dfd, name);
                errno = e;
        }
        return f;
}

int replace_fclose(int dfd, FILE *f, const char *name, bool durable) {
        int r = ferror(f) ? -EIO : 0;
        if (fflush(f) != 0)
                r = -errno;
        if (r >= 0)
                r = replace_commit(dfd, fileno(f), name, durable);
        else
                replace_abort(dfd, name);
        fclose(f);
        return r;
}

int dir_open_parent(const char *path, const char **ret_base) {
        const char *s = strrchr(path, '/');
        char dir[PATH_MAX];
        if (!s)
                snprintf(dir, sizeof dir, ".");
        else if (s == path)
                snprintf(dir, sizeof dir, "/");
        else if (snprintf(dir, sizeof dir, "%.*s", (int)(s - path), path) >= (int)sizeof dir)
                return -ENAMETOOLONG;
        const char *base = s ? s + 1 : path;
        if (!*base || strlen(base) > NAME_MAX - 4)
                return -EINVAL;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_base = base;
        return fd;
}
