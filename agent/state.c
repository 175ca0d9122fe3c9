/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "state.h"

/* The state and run dirs are root's alone: a lock, latch or journal that
 * someone else could replace or point elsewhere would let them overwrite
 * root's files or make sabot signal root's processes. */
int dirs_open(const char *dir, bool create, int *ret_fd) {
        int fd = path_open_trusted(dir, TRUST_REQUIRE | TRUST_DIRECTORY | (create ? TRUST_MKDIR : 0), 0755, NULL);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int state_subdir(const struct dirs *d, const char *sub, mode_t mode, int *ret_fd) {
        _cleanup_close_ int dfd = -1;
        int r = dirs_open(d->state, true, &dfd);
        if (r < 0)
                return r;
        int fd = openat_dir_trusted(dfd, d->state, sub, true, mode);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

#define LATCH "disarmed"

int latch_set_deferred(const struct dirs *d, const char *reason) {
        char when[64];
        _cleanup_close_ int dfd = -1;
        int r = dirs_open(d->state, true, &dfd);
        if (r < 0)
                return r;
        time_t now = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
        char buf[1024];
        int n = snprintf(buf, sizeof buf, "%s by uid %u: %s\n", when, (unsigned)getuid(),
                         reason && *reason ? reason : "no reason given");
        if (n >= (int)sizeof buf)
                n = (int)sizeof buf - 1;
        int fd = replace_open(dfd, LATCH, 0644);
        if (fd < 0)
                return fd;
        r = write(fd, buf, (size_t)n) == n ? 0 : errno ? -errno : -ENOSPC;
        /* Atomic: the rename makes it visible to every run at once, whole.
         * Durable only with latch_sync: on a busy disk the two fsyncs cost
         * tens of milliseconds, which the kill switch spends after its
         * reverts, not before them. */
        if (r >= 0)
                r = replace_commit(dfd, fd, LATCH, false);
        else
                replace_abort(dfd, LATCH);
        close(fd);
        if (r == -ENOSPC || r == -EDQUOT) {
                /* A full disk must not keep the kill switch from latching:
                 * an empty latch needs no data block (its reason is lost). */
                fd = openat(dfd, LATCH, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0)
                        return -errno;
                close(fd);
                r = 0;
        }
        return r;
}

int latch_sync(const struct dirs *d) {
        _cleanup_close_ int dfd = -1, fd = -1;
        int r = dirs_open(d->state, false, &dfd);
        if (r < 0)
                return r;
        fd = openat(dfd, LATCH, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT) /* ENOENT: armed again meanwhile */
                return -errno;
        /* The file's data, then its name in the directory. */
        if (fd >= 0 && fsync(fd) < 0)
                return -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

int latch_set(const struct dirs *d, const char *reason) {
        int r = latch_set_deferred(d, reason);
        if (r < 0)
                return r;
        /* A full disk can fail the fsync of the latch it just made empty:
         * the latch is set all the same, as before. */
        r = latch_sync(d);
        return r == -ENOSPC || r == -EDQUOT ? 0 : r;
}

int latch_clear(const struct dirs *d) {
        _cleanup_close_ int dfd = -1;
        int r = dirs_open(d->state, false, &dfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (unlinkat(dfd, LATCH, 0) < 0 && errno != ENOENT)
                return -errno;
        (void)fsync(dfd);
        return 0;
}

int latch_get(const struct dirs *d, char *ret_reason, size_t len) {
        _cleanup_close_ int dfd = -1;
        int r = dirs_open(d->state, false, &dfd);
        if (r == -ENOENT)
                return 0; /* no state dir: never disarmed */
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat_trusted(dfd, d->state, LATCH, O_RDONLY | O_NONBLOCK, 0);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        _cleanup_free_ char *buf = NULL;
        r = read_full_fd(fd, 4096, &buf, NULL);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (ret_reason)
                snprintf(ret_reason, len, "%s", buf[0] ? buf : "no reason recorded (it was set on a full disk)");
        return 1;
}

int run_lock(const struct dirs *d, int *ret_fd, pid_t *ret_holder) {
        _cleanup_close_ int dfd = -1;
        int r = dirs_open(d->run, true, &dfd);
        if (r < 0)
                return r;
        int fd = openat_trusted(dfd, d->run, "lock", O_RDWR | O_CREAT, 0600);
        if (fd < 0)
                return fd;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                char buf[32] = "";
                if (pread(fd, buf, sizeof buf - 1, 0) > 0 && ret_holder)
                        *ret_holder = (pid_t)strtol(buf, NULL, 10);
                close(fd);
                return r;
        }
        /* The holder's pid is for messages only: a full run dir must not
         * stop here, the journal's reservation says whether there is room. */
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
        if (ftruncate(fd, 0) == 0)
                (void)!pwrite(fd, buf, (size_t)n, 0);
        *ret_fd = fd;
        return 0;
}

void urgent_begin(struct urgent *u) {
        u->changed = false;
        u->policy = sched_getscheduler(0);
        if (u->policy < 0 || sched_getparam(0, &u->sp) < 0)
                return;
        int p = u->policy & ~SCHED_RESET_ON_FORK;
        if (p == SCHED_FIFO || p == SCHED_RR || p == SCHED_DEADLINE)
                return;
        struct sched_param sp = {.sched_priority = 1};
        u->changed = sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) == 0;
}

void urgent_end(struct urgent *u) {
        /* Without CAP_SYS_NICE (the run's unit: LimitRTPRIO=1 lets
         * SCHED_RR 1 in) the kernel refuses to clear SCHED_RESET_ON_FORK:
         * the policy back with the flag kept (harmless on SCHED_OTHER). */
        if (u->changed && sched_setscheduler(0, u->policy, &u->sp) < 0)
                (void)sched_setscheduler(0, u->policy | SCHED_RESET_ON_FORK, &u->sp);
        u->changed = false;
}
