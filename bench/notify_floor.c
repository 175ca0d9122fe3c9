/* SPDX-License-Identifier: MIT */
/* The floor under a seccomp user-notification supervisor: ns per write(2)
 * of one byte to FILE when a filter notifies write and a supervisor thread
 * does nothing but RECV and SEND(CONTINUE), the least any supervisor can
 * do. The same loop of writes is timed bare (no filter) first.
 *
 *   notify_floor N FILE
 * prints one key=value a line:
 *   bare_ns          no filter
 *   floor_ns         blocking RECV, SEND (the supervisor's whole loop)
 *   floor_sync_ns    the same with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
 *                    (Linux 6.6; absent where the kernel lacks it)
 *   epoll_sync_ns    epoll_wait before each RECV, as an event loop does
 * Each notified variant runs in a child of its own (a filter cannot be
 * taken off). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "notify_floor: add this architecture's AUDIT_ARCH_"
#endif

enum mode { M_PLAIN, M_SYNC, M_EPOLL_SYNC };
static int listener = -1; /* set once, by the filtered thread */
static enum mode mode;

static uint64_t now_ns(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void *supervise(void *arg) {
        (void)arg;
        int ep = -1;
        for (;;) {
                struct seccomp_notif req;
                if (__atomic_load_n(&listener, __ATOMIC_ACQUIRE) < 0) { /* until the filter's thread has it */
                        struct timespec t = {0, 100000};
                        nanosleep(&t, NULL);
                        continue;
                }
                if (ep < 0 && mode == M_EPOLL_SYNC) {
                        ep = epoll_create1(EPOLL_CLOEXEC);
                        struct epoll_event ev = {.events = EPOLLIN};
                        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0)
                                _exit(5);
                }
                if (ep >= 0) {
                        struct epoll_event ev;
                        if (epoll_wait(ep, &ev, 1, -1) < 0)
                                continue;
                }
                memset(&req, 0, sizeof req);
                if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                        continue;
                struct seccomp_notif_resp resp = {.id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
                (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        }
        return NULL;
}

static long long timed_writes(long n, const char *file) {
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        uint64_t a = now_ns();
        for (long i = 0; i < n; i++)
                if (write(fd, "x", 1) != 1)
                        return -1;
        uint64_t b = now_ns();
        close(fd);
        return (long long)((b - a) / (uint64_t)n);
}

/* In a child: a supervisor thread started first (without the filter),
 * then the filter on this thread only (no TSYNC), then the timed writes.
 * The result goes back on a pipe, by a notified write the supervisor
 * answers like the others. -ENOTSUP where the mode is unavailable. */
static int notified(long n, const char *file, enum mode m, long long *ret) {
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(pfd[0]);
                mode = m;
                pthread_t t;
                if (pthread_create(&t, NULL, supervise, NULL) != 0)
                        _exit(3);
                struct sock_filter f[] = {
                        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 1),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                };
                struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(3);
                int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
                if (fd < 0)
                        _exit(3);
                if (m != M_PLAIN &&
                    ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
                        _exit(4); /* not on this kernel */
                __atomic_store_n(&listener, fd, __ATOMIC_RELEASE);
                long long v = timed_writes(n, file);
                _exit(write(pfd[1], &v, sizeof v) == (ssize_t)sizeof v ? 0 : 3);
        }
        close(pfd[1]);
        long long v = -1;
        ssize_t r = read(pfd[0], &v, sizeof v);
        close(pfd[0]);
        int st = 0;
        waitpid(pid, &st, 0);
        if (r != (ssize_t)sizeof v || v < 0)
                return WIFEXITED(st) && WEXITSTATUS(st) == 4 ? -ENOTSUP : -EIO;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: notify_floor N FILE\n");
                return 2;
        }
        long n = strtol(argv[1], NULL, 10);
        if (n < 1)
                return 2;
        long long v = timed_writes(n, argv[2]);
        if (v < 0)
                return 1;
        printf("bare_ns=%lld\n", v);
        static const struct {
                enum mode m;
                const char *key;
        } modes[] = {{M_PLAIN, "floor_ns"}, {M_SYNC, "floor_sync_ns"}, {M_EPOLL_SYNC, "epoll_sync_ns"}};
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
                int r = notified(n, argv[2], modes[i].m, &v);
                if (r == -ENOTSUP)
                        continue;
                if (r < 0)
                        return 1;
                printf("%s=%lld\n", modes[i].key, v);
        }
        return 0;
}
