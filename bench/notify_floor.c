/* SPDX-License-Identifier: MIT */
/* The floor under a seccomp user-notification supervisor: ns per write(2)
 * of one byte to FILE when a filter notifies write and a supervisor thread
 * does nothing but RECV and SEND(CONTINUE), the least any supervisor can
 * do. The same loop of writes is timed bare (no filter) first. The writer
 * is a child process and this one its supervisor, as with sabot.
 *
 *   notify_floor N FILE
 * prints one key=value a line:
 *   bare_ns          no filter
 *   floor_ns         blocking RECV, SEND (the supervisor's whole loop)
 *   floor_sync_ns    the same with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
 *                    (Linux 6.6; absent where the kernel lacks it)
 *   epoll_sync_ns    epoll_wait before each RECV, as an event loop does
 * Each notified variant has a child of its own (a filter cannot be taken
 * off). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

static uint64_t now_ns(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* The supervisor: RECV, SEND(CONTINUE), nothing else (an epoll_wait
 * before each RECV in M_EPOLL_SYNC), until the filter has no user left
 * (the writer exited: RECV fails at once). */
static void supervise(int listener, enum mode mode) {
        int ep = -1;
        if (mode == M_EPOLL_SYNC) {
                ep = epoll_create1(EPOLL_CLOEXEC);
                struct epoll_event ev = {.events = EPOLLIN};
                if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0)
                        return;
        }
        for (;;) {
                struct seccomp_notif req;
                if (ep >= 0) {
                        struct epoll_event ev;
                        if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR)
                                break;
                        if (ev.events & (EPOLLHUP | EPOLLERR))
                                break;
                }
                memset(&req, 0, sizeof req);
                if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                struct seccomp_notif_resp resp = {.id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
                (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        }
        if (ep >= 0)
                close(ep);
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

/* A child installs the filter and hands its listener over (SCM_RIGHTS:
 * sendmsg, not notified), then times its writes; this process supervises
 * them, as sabot's runner does its target (two processes, not two threads
 * of one). The result comes back with send(2), not notified either.
 * -ENOTSUP where the mode is unavailable (SYNC_WAKE_UP before 6.6). */
static int notified(long n, const char *file, enum mode m, long long *ret) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(sp[0]);
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
                char cbuf[CMSG_SPACE(sizeof(int))] = {0};
                char one = 1;
                struct iovec iov = {.iov_base = &one, .iov_len = 1};
                struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
                if (sendmsg(sp[1], &mh, 0) != 1)
                        _exit(3);
                close(fd);
                /* The supervisor is ready once it answers this. */
                char go;
                if (recv(sp[1], &go, 1, 0) != 1)
                        _exit(3);
                long long v = timed_writes(n, file);
                _exit(send(sp[1], &v, sizeof v, 0) == (ssize_t)sizeof v ? 0 : 3);
        }
        close(sp[1]);
        int r = -EIO, fd = -1;
        char one, cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = &one, .iov_len = 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        if (recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC) == 1 && CMSG_FIRSTHDR(&mh) &&
            CMSG_FIRSTHDR(&mh)->cmsg_type == SCM_RIGHTS)
                memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof fd);
        if (fd >= 0 && m != M_PLAIN &&
            ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0) {
                r = -ENOTSUP; /* not on this kernel */
                close(fd);
                fd = -1;
        }
        long long v = -1;
        if (fd >= 0 && send(sp[0], &one, 1, 0) == 1) {
                supervise(fd, m);
                if (recv(sp[0], &v, sizeof v, MSG_DONTWAIT) == (ssize_t)sizeof v && v >= 0)
                        r = 0;
        }
        if (fd >= 0)
                close(fd);
        close(sp[0]);
        if (r < 0)
                kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (r == 0)
                *ret = v;
        return r;
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
