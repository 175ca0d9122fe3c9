/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "state.h"

int mkdir_p(const char *path, mode_t mode) {
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
                return -ENAMETOOLONG;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static void latch_path(const struct dirs *d, char p[static PATH_MAX]) {
        snprintf(p, PATH_MAX, "%s/disarmed", d->state);
}

int latch_set(const struct dirs *d, const char *reason) {
        char p[PATH_MAX], tmp[PATH_MAX + 8], when[64];
        int r = mkdir_p(d->state, 0755);
        if (r < 0)
                return r;
        latch_path(d, p);
        snprintf(tmp, sizeof tmp, "%s.tmp", p);
        time_t now = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        char buf[1024];
        int n = snprintf(buf, sizeof buf, "%s by uid %u: %s\n", when, (unsigned)getuid(),
                         reason && *reason ? reason : "no reason given");
        r = write(fd, buf, (size_t)n) == n && fsync(fd) == 0 ? 0 : -errno;
        close(fd);
        /* Atomic, and durable: the latch must survive a crash or reboot. */
        if (r >= 0 && rename(tmp, p) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        int dfd = open(d->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
        }
        return 0;
}

int latch_clear(const struct dirs *d) {
        char p[PATH_MAX];
        latch_path(d, p);
        if (unlink(p) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int latch_get(const struct dirs *d, char *ret_reason, size_t len) {
        char p[PATH_MAX];
        latch_path(d, p);
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file(p, 4096, &buf, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (ret_reason)
                snprintf(ret_reason, len, "%s", buf);
        return 1;
}

int run_lock(const struct dirs *d, int *ret_fd, pid_t *ret_holder) {
        char p[PATH_MAX];
        int r = mkdir_p(d->run, 0755);
        if (r < 0)
                return r;
        snprintf(p, sizeof p, "%s/lock", d->run);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                char buf[32] = "";
                if (pread(fd, buf, sizeof buf - 1, 0) > 0 && ret_holder)
                        *ret_holder = (pid_t)strtol(buf, NULL, 10);
                close(fd);
                return r;
        }
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}
