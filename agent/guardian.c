/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "guardian.h"
#include "journal.h"
#include "log.h"
#include "../faults/fault.h"
#include "../faults/syscall.h"

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#define MAX_NOTIFY 32

/* Fail open, then end the launched targets as the run's end would:
 * SIGTERM, up to two seconds (answering their calls), then the journal's
 * revert (SIGKILL). */
static void serve(const int *nfds, size_t n, uint64_t until) {
        while (mono_ns() < until) {
                struct pollfd p[MAX_NOTIFY];
                for (size_t i = 0; i < n; i++)
                        p[i] = (struct pollfd){.fd = nfds[i], .events = POLLIN};
                (void)poll(p, (nfds_t)n, 20);
                for (size_t i = 0; i < n; i++)
                        (void)syscall_notify_drain(nfds[i]);
        }
}

static void end_targets(struct journal *j, const int *nfds, size_t n) {
        if (n == 0) {
                /* No listener to serve: straight to SIGTERM. */
                goto term;
        }
        /* Calls just let go need a moment to return before the end. */
        serve(nfds, n, mono_ns() + 200 * NSEC_PER_MSEC);
term:;
        bool any = false;
        for (size_t i = 0; i < j->n; i++)
                if (streq(j->v[i].kind, "exec") && !j->v[i].reverted && process_alive(j->v[i].pid, j->v[i].start)) {
                        (void)process_signal_entry(&j->v[i], SIGTERM);
                        any = true;
                }
        uint64_t until = mono_ns() + 2 * NSEC_PER_SEC;
        while (any && mono_ns() < until) {
                serve(nfds, n, mono_ns() + 20 * NSEC_PER_MSEC);
                any = false;
                for (size_t i = 0; i < j->n; i++)
                        any = any || (streq(j->v[i].kind, "exec") && !j->v[i].reverted &&
                                      process_alive(j->v[i].pid, j->v[i].start));
        }
}

/* Calls the runner received and was holding: answerable by id only. */
#define MAX_HELD 4096
struct held {
        unsigned index;
        uint64_t id;
};
static struct held held[MAX_HELD];
static size_t n_held_total;

static void revert(const char *path, const char *why, const int *nfds, size_t n_nfds) {
        /* Calls waiting on a listener: answered before anything else, so a
         * target never sees ENOSYS when the runner is gone. Held ones first
         * (the oldest may have been answered already: ENOENT, harmless). */
        size_t n = n_held_total < MAX_HELD ? n_held_total : MAX_HELD;
        for (size_t i = 0; i < n; i++)
                if (held[i].index < n_nfds)
                        (void)syscall_notify_continue(nfds[held[i].index], held[i].id);
        for (size_t i = 0; i < n_nfds; i++)
                (void)syscall_notify_drain(nfds[i]);
        struct journal *j = NULL;
        int r = journal_load(path, &j);
        if (r == -ENOENT)
                return; /* the runner finished cleanly */
        if (r < 0) {
                log_error_errno(r, "guardian: cannot read %s: %m; run 'sabot recover'", path);
                return;
        }
        end_targets(j, nfds, n_nfds);
        n = journal_outstanding(j);
        unsigned failed = 0;
        r = journal_revert_all(j, &failed, NULL, NULL);
        if (failed)
                log_error("guardian: %s; reverted %zu of %zu changes, %u failed; 'sabot recover' retries", why,
                          n - failed, n, failed);
        else {
                if (n)
                        log_warning("guardian: %s; reverted %zu change%s of run %s", why, n, n == 1 ? "" : "s",
                                    j->run_id ? j->run_id : "?");
                (void)journal_remove(j);
        }
        journal_free(j);
}

static _Noreturn void guardian_main(int rfd, int runner_pidfd, const char *path, uint64_t deadline, uint64_t grace) {
        uint64_t last = mono_ns();
        int nfds[MAX_NOTIFY];
        size_t n_nfds = 0;
        for (;;) {
                uint64_t now = mono_ns();
                uint64_t until = last + grace < deadline + grace ? last + grace : deadline + grace;
                int timeout = until > now ? (int)((until - now) / NSEC_PER_MSEC) + 1 : 0;
                struct pollfd p = {.fd = rfd, .events = POLLIN};
                int n = poll(&p, 1, timeout);
                if (n < 0 && errno == EINTR)
                        continue;
                now = mono_ns();
                if (n > 0) {
                        char buf[64];
                        char cbuf[CMSG_SPACE(sizeof(int))];
                        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
                        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                                           .msg_controllen = sizeof cbuf};
                        ssize_t k = recvmsg(rfd, &m, MSG_CMSG_CLOEXEC);
                        if (k > 0) {
                                struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
                                if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                                        int fd;
                                        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
                                        if (n_nfds < MAX_NOTIFY)
                                                nfds[n_nfds++] = fd;
                                        else
                                                close(fd);
                                }
                                if (buf[0] == 'H' && k == 1 + (ssize_t)sizeof(unsigned) + 8) {
                                        struct held *h = &held[n_held_total++ % MAX_HELD];
                                        memcpy(&h->index, buf + 1, sizeof h->index);
                                        memcpy(&h->id, buf + 1 + sizeof h->index, sizeof h->id);
                                } else if (memchr(buf, 'q', (size_t)k))
                                        _exit(0);
                                last = now;
                                continue;
                        }
                        if (k < 0 && errno == EINTR)
                                continue;
                        /* EOF: the runner is gone, however it went. */
                        revert(path, "the runner exited without reverting", nfds, n_nfds);
                        _exit(0);
                }
                const char *why = now >= deadline + grace ? "the run passed its hard deadline"
                                                          : "the runner stopped responding";
                /* It must not wake up and answer calls or inject any more. */
                if (runner_pidfd >= 0)
                        (void)syscall(SYS_pidfd_send_signal, runner_pidfd, SIGKILL, NULL, 0);
                revert(path, why, nfds, n_nfds);
                _exit(0);
        }
}

int guardian_spawn(const char *journal_path, uint64_t deadline_ns, uint64_t grace_ns, int *ret_fd, pid_t *ret_pid) {
        int p[2];
        /* A socket, not a pipe: it carries the listeners' fds too. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0)
                return -errno;
        int runner_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]), close(p[1]);
                if (runner_pidfd >= 0)
                        close(runner_pidfd);
                return r;
        }
        if (pid == 0) {
                close(p[1]);
                /* Out of the terminal's session: Ctrl-C and a closed terminal
                 * reach the runner, which reverts; the guardian stays. */
                setsid();
                prctl(PR_SET_NAME, "sabot-guardian");
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGINT, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGPIPE, SIG_IGN);
                /* Memory pressure must not take the guardian first. */
                int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)!write(fd, "-1000", 5);
                        close(fd);
                }
                guardian_main(p[0], runner_pidfd, journal_path, deadline_ns, grace_ns);
        }
        close(p[0]);
        if (runner_pidfd >= 0)
                close(runner_pidfd);
        *ret_fd = p[1];
        *ret_pid = pid;
        return 0;
}

void guardian_beat(int fd) { (void)send(fd, "h", 1, MSG_DONTWAIT | MSG_NOSIGNAL); }
void guardian_done(int fd) { (void)send(fd, "q", 1, MSG_NOSIGNAL); }

void guardian_held(int fd, unsigned index, uint64_t id) {
        char buf[1 + sizeof index + sizeof id] = {'H'};
        memcpy(buf + 1, &index, sizeof index);
        memcpy(buf + 1 + sizeof index, &id, sizeof id);
        (void)send(fd, buf, sizeof buf, MSG_NOSIGNAL);
}

void guardian_give_fd(int fd, int notify_fd) {
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        char one = 'n';
        struct iovec iov = {.iov_base = &one, .iov_len = 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &notify_fd, sizeof notify_fd);
        (void)sendmsg(fd, &m, MSG_NOSIGNAL);
}
