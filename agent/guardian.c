/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "guardian.h"
#include "guardian_proto.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "../faults/fault.h"

/* Answer the launched targets' calls (fail open) until until. */
static void serve(const int *nfds, size_t n, uint64_t until) {
        while (mono_now() < until) {
                struct pollfd p[FAULT_GIVEN_FDS_MAX];
                for (size_t i = 0; i < n; i++)
                        p[i] = (struct pollfd){.fd = nfds[i], .events = POLLIN};
                (void)poll(p, (nfds_t)n, 20);
                (void)fault_fail_open(NULL, nfds, n, 0, 0);
        }
}

static bool is_target(const struct jentry *e) { return streq(e->kind, "exec") || streq(e->kind, "exec-cgroup"); }

static bool targets_running(const struct journal *j) {
        for (size_t i = 0; i < j->n; i++)
                if (is_target(&j->v[i]) && !j->v[i].reverted && process_entry_running(&j->v[i]))
                        return true;
        return false;
}

/* End the launched targets as the run's end would: SIGTERM to every
 * process of each (its cgroup, its process group), up to TARGET_STOP_NS
 * answering their calls, then the journal's revert (SIGKILL). */
static void end_targets(struct journal *j, const int *nfds, size_t n) {
        /* Calls just let go need a moment to return before the end (the
         * kernel is reverted already: this holds up no fault's revert). */
        if (n && targets_running(j))
                serve(nfds, n, mono_now() + 200 * NSEC_PER_MSEC);
        bool any = false;
        for (size_t i = 0; i < j->n; i++)
                if (is_target(&j->v[i]) && !j->v[i].reverted && process_entry_running(&j->v[i])) {
                        (void)process_signal_entry(&j->v[i], SIGTERM);
                        any = true;
                }
        uint64_t until = mono_now() + TARGET_STOP_NS;
        while (any && mono_now() < until) {
                serve(nfds, n, mono_now() + 20 * NSEC_PER_MSEC);
                any = targets_running(j);
        }
}

static void revert(const char *path, const char *why, const int *nfds, size_t n_nfds, const void *sh) {
        /* Calls waiting on a listener: answered before anything else, so a
         * target never sees ENOSYS or stays blocked when the runner is gone:
         * what it held, and the ids it received last (a few ioctls per
         * listener); the rest of the window once the kernel is reverted. */
        (void)fault_fail_open(sh, nfds, n_nfds, 0, 16);
        struct journal *j = NULL;
        int r = journal_load(path, &j);
        if (r < 0) {
                (void)fault_fail_open(sh, nfds, n_nfds, 17, FAULT_FAIL_OPEN_ALL);
                if (r != -ENOENT) /* ENOENT: the runner finished cleanly */
                        log_error_errno(r, "guardian: cannot read %s: %m; run 'sabot recover'", path);
                return;
        }
        size_t n = journal_outstanding(j);
        /* The kernel first (filters, clsact, ifbs, BPF links, frozen cgroups,
         * stopped processes): a target that ignores SIGTERM must not keep a
         * fault applied for its whole grace.
         * Every entry is undone before any is recorded: recording one costs
         * an fdatasync (milliseconds on a loaded disk) that must not hold up
         * the next. journal_revert_some reverts them all, then writes their
         * records in one batch (journal_batch_begin). */
        unsigned *seqs = calloc(j->n + 1, sizeof *seqs);
        size_t n_seqs = 0;
        unsigned failed = 0;
        for (size_t i = j->n; i-- > 0;)
                if (!j->v[i].reverted && !is_target(&j->v[i])) {
                        if (seqs)
                                seqs[n_seqs++] = j->v[i].seq;
                        else
                                (void)fault_revert_entry(&j->v[i]); /* no memory: unrecorded, redone below */
                }
        if (seqs)
                (void)journal_revert_some(j, seqs, n_seqs, &failed);
        free(seqs);
        (void)fault_fail_open(sh, nfds, n_nfds, 17, FAULT_FAIL_OPEN_ALL);
        end_targets(j, nfds, n_nfds);
        /* The targets, and anything of the first pass that failed, again. */
        (void)journal_revert_all(j, &failed, NULL, NULL);
        metrics_count_killed(j);
        if (failed)
                log_internal(LOG_CRIT | EVT_REVERT_FAILED, 0,
                             "guardian: %s; reverted %zu of %zu changes, %u failed; 'sabot recover' retries", why,
                             n - failed, n, failed);
        else {
                if (n)
                        log_internal(LOG_WARNING | EVT_REVERT, 0, "guardian: %s; reverted %zu change%s of run %s",
                                     why, n, n == 1 ? "" : "s", j->run_id ? j->run_id : "?");
                (void)journal_remove(j);
        }
        journal_free(j);
}

/* ---- the protocol (guardian_proto.h) ---- */

static enum guardian_recv on_beat(struct guardian_state *st, const unsigned char *payload, int fd) {
        (void)st, (void)payload, (void)fd;
        return GUARDIAN_RECV_OK;
}

static enum guardian_recv on_done(struct guardian_state *st, const unsigned char *payload, int fd) {
        (void)st, (void)payload, (void)fd;
        return GUARDIAN_RECV_DONE;
}

static enum guardian_recv on_deadline(struct guardian_state *st, const unsigned char *payload, int fd) {
        (void)fd;
        uint64_t d;
        memcpy(&d, payload, sizeof d);
        if (d < st->deadline_ns) /* only ever earlier */
                st->deadline_ns = d;
        return GUARDIAN_RECV_OK;
}

static enum guardian_recv on_listener(struct guardian_state *st, const unsigned char *payload, int fd) {
        (void)payload;
        if (st->n_fds >= GUARDIAN_FDS_MAX) {
                close(fd);
                return GUARDIAN_RECV_REFUSED;
        }
        st->fds[st->n_fds++] = fd;
        return GUARDIAN_RECV_OK;
}

static enum guardian_recv on_hold(struct guardian_state *st, const unsigned char *payload, int fd) {
        (void)payload;
        if (st->n_held >= GUARDIAN_FDS_MAX) {
                close(fd);
                return GUARDIAN_RECV_REFUSED;
        }
        st->held[st->n_held++] = fd;
        return GUARDIAN_RECV_OK;
}

/* Every message there is: its payload's size, whether an fd comes with
 * it, and what the guardian does with it. Both ends check against it. */
static const struct guardian_msg_def {
        enum guardian_msg type;
        size_t payload;
        bool fd;
        enum guardian_recv (*handle)(struct guardian_state *st, const unsigned char *payload, int fd);
} guardian_table[] = {
        {GUARDIAN_MSG_BEAT, 0, false, on_beat},
        {GUARDIAN_MSG_DONE, 0, false, on_done},
        {GUARDIAN_MSG_DEADLINE, sizeof(uint64_t), false, on_deadline},
        {GUARDIAN_MSG_LISTENER, 0, true, on_listener},
        {GUARDIAN_MSG_HOLD, 0, true, on_hold},
};

static const struct guardian_msg_def *msg_def(unsigned char type) {
        for (size_t i = 0; i < ELEMENTSOF(guardian_table); i++)
                if ((unsigned char)guardian_table[i].type == type)
                        return &guardian_table[i];
        return NULL;
}

/* Room for a few fds, so that more than one is seen (and closed), not
 * left open unseen in a control buffer that happened to fit them. */
#define RECV_FDS 4

enum guardian_recv guardian_recv(int fd, struct guardian_state *st, uint64_t now) {
        unsigned char buf[GUARDIAN_MSG_MAX];
        char cbuf[CMSG_SPACE(RECV_FDS * sizeof(int))];
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t k = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return GUARDIAN_RECV_AGAIN;
        /* 0: the runner's end closed (SOCK_SEQPACKET reads an empty message
         * the same way: the runner never sends one). */
        if (k <= 0)
                return GUARDIAN_RECV_EOF;
        int fds[RECV_FDS];
        size_t n_fds = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) && n_fds < RECV_FDS; i++)
                                memcpy(&fds[n_fds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        /* Whatever it says, the runner is alive. */
        st->last_ns = now;
        const struct guardian_msg_def *d = msg_def(buf[0]);
        /* MSG_TRUNC: longer than any message; MSG_CTRUNC: more fds than
         * fit (the kernel closed those that did not). */
        if (!d || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)k != 1 + d->payload ||
            n_fds != (d->fd ? 1 : 0)) {
                for (size_t i = 0; i < n_fds; i++)
                        close(fds[i]);
                if (st->refused++ == 0)
                        log_warning("guardian: refused a message of type 0x%02x, %zd bytes, %zu fds", buf[0], k, n_fds);
                return GUARDIAN_RECV_REFUSED;
        }
        enum guardian_recv r = d->handle(st, buf + 1, n_fds ? fds[0] : -1);
        if (r == GUARDIAN_RECV_REFUSED)
                st->refused++;
        return r;
}

/* One message, checked against the table as the guardian will check it. */
static int guardian_send(int fd, enum guardian_msg t, const void *payload, size_t len, int pass_fd, int flags) {
        const struct guardian_msg_def *d = msg_def((unsigned char)t);
        if (!d || len != d->payload || d->fd != (pass_fd >= 0))
                return -EINVAL;
        unsigned char buf[GUARDIAN_MSG_MAX] = {(unsigned char)t};
        if (len)
                memcpy(buf + 1, payload, len);
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {.iov_base = buf, .iov_len = 1 + len};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pass_fd >= 0) {
                m.msg_control = cbuf;
                m.msg_controllen = sizeof cbuf;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pass_fd, sizeof pass_fd);
        }
        return sendmsg(fd, &m, flags | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* ---- the guardian ---- */

static _Noreturn void guardian_main(int rfd, int runner_pidfd, const char *path, uint64_t deadline, uint64_t grace,
                                    const void *sh) {
        struct guardian_state st = {.deadline_ns = deadline, .last_ns = mono_now()};
        const char *why = NULL;
        while (!why) {
                uint64_t now = mono_now();
                uint64_t until = st.last_ns + grace < st.deadline_ns + grace ? st.last_ns + grace : st.deadline_ns + grace;
                int timeout = until > now ? (int)((until - now) / NSEC_PER_MSEC) + 1 : 0;
                /* The runner's pidfd as well as the socket: a child it forked
                 * and that has not exec'd yet may hold a copy of the runner's
                 * end, and the socket would not close with the runner. */
                struct pollfd p[2] = {{.fd = rfd, .events = POLLIN}, {.fd = runner_pidfd, .events = POLLIN}};
                int n = poll(p, runner_pidfd >= 0 ? 2 : 1, timeout);
                if (n < 0 && errno == EINTR)
                        continue;
                now = mono_now();
                if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                        enum guardian_recv r = guardian_recv(rfd, &st, now);
                        if (r == GUARDIAN_RECV_DONE)
                                _exit(0);
                        if (r == GUARDIAN_RECV_EOF) /* the runner is gone, however it went */
                                why = "the runner exited without reverting";
                } else if (n > 0 && (p[1].revents & POLLIN))
                        /* Whatever it sent before it went was read above. */
                        why = "the runner exited without reverting";
                else if (n <= 0) { /* the grace or the deadline passed (or poll failed) */
                        why = now >= st.deadline_ns + grace ? "the run passed its hard deadline"
                                                            : "the runner stopped responding";
                        /* It must not wake up and answer calls or inject any more. */
                        if (runner_pidfd >= 0) {
                                /* Said whatever the journal holds: with
                                 * nothing left to revert nothing else would
                                 * tell why the run died (exit 137). */
                                log_internal(LOG_ERR, 0, "guardian: %s (no heartbeat for %.1f s); killing it", why,
                                             (double)(now - st.last_ns) / 1e9);
                                (void)sys_pidfd_send_signal(runner_pidfd, SIGKILL);
                                struct pollfd d = {.fd = runner_pidfd, .events = POLLIN};
                                (void)poll(&d, 1, 100);
                        }
                }
        }
        revert(path, why, st.fds, st.n_fds, sh);
        _exit(0);
}

/* In the guardian, right after the fork: the runner's event loop (its
 * epoll, timers, signalfd, eventfds) came along. The guardian waits in
 * poll(2) on its own two fds and never reads those; kept, they would
 * outlive the runner with it. Sockets and files stay (the journal's
 * sd-journal socket among them). */
static void close_runner_loop_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return;
        int fds[64];
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d)) && n < sizeof fds / sizeof fds[0];) {
                char *end;
                long fd = strtol(e->d_name, &end, 10);
                if (*end || end == e->d_name || fd == dirfd(d))
                        continue;
                char l[64];
                char path[32];
                snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
                ssize_t k = readlink(path, l, sizeof l - 1);
                if (k <= 0)
                        continue;
                l[k] = 0;
                if (!strcmp(l, "anon_inode:[timerfd]") || !strcmp(l, "anon_inode:[signalfd]") ||
                    !strcmp(l, "anon_inode:[eventfd]") || !strcmp(l, "anon_inode:[eventpoll]"))
                        fds[n++] = (int)fd;
        }
        closedir(d);
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

int guardian_spawn(const char *journal_path, uint64_t deadline_ns, uint64_t grace_ns, int *ret_fd, pid_t *ret_pid,
                   void **ret_shared) {
        int p[2];
        /* Shared before the fork: the runner stores there, without a system
         * call, the seccomp ids it received (faults/syscall.h). */
        size_t sh_size = fault_shared_size();
        void *sh = mmap(NULL, sh_size ? sh_size : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (sh == MAP_FAILED)
                return -errno;
        /* A socket, not a pipe: it carries the listeners' fds too. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0) {
                int r = -errno;
                munmap(sh, sh_size ? sh_size : 1);
                return r;
        }
        int runner_pidfd = sys_pidfd_open(getpid());
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]), close(p[1]);
                if (runner_pidfd >= 0)
                        close(runner_pidfd);
                munmap(sh, sh_size ? sh_size : 1);
                return r;
        }
        if (pid == 0) {
                close(p[1]);
                /* Out of the terminal's session: Ctrl-C and a closed terminal
                 * reach the runner, which reverts; the guardian stays. */
                setsid();
                prctl(PR_SET_NAME, "sabot-guardian");
                /* Its lines are its own in the journal (and carry its pid). */
                log_set_identifier("sabot-guardian");
                child_reset_signals(false);
                close_runner_loop_fds();
                signal(SIGINT, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGPIPE, SIG_IGN);
                /* Memory pressure must not take the guardian first. */
                int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)!write(fd, "-1000", 5);
                        close(fd);
                }
                guardian_main(p[0], runner_pidfd, journal_path, deadline_ns, grace_ns, sh);
        }
        close(p[0]);
        if (runner_pidfd >= 0)
                close(runner_pidfd);
        *ret_fd = p[1];
        *ret_pid = pid;
        *ret_shared = sh;
        return 0;
}

void guardian_beat(int fd) { (void)guardian_send(fd, GUARDIAN_MSG_BEAT, NULL, 0, -1, MSG_DONTWAIT); }
void guardian_done(int fd) { (void)guardian_send(fd, GUARDIAN_MSG_DONE, NULL, 0, -1, 0); }

void guardian_deadline(int fd, uint64_t deadline_ns) {
        (void)guardian_send(fd, GUARDIAN_MSG_DEADLINE, &deadline_ns, sizeof deadline_ns, -1, 0);
}

int guardian_give_fd(int fd, int notify_fd) {
        return notify_fd < 0 ? -EBADF : guardian_send(fd, GUARDIAN_MSG_LISTENER, NULL, 0, notify_fd, 0);
}

int guardian_hold_fd(int fd, int file_fd) {
        return file_fd < 0 ? -EBADF : guardian_send(fd, GUARDIAN_MSG_HOLD, NULL, 0, file_fd, 0);
}
