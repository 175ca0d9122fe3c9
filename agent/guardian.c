/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "guardian.h"
#include "journal.h"
#include "log.h"

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void revert(const char *path, const char *why) {
        struct journal *j = NULL;
        int r = journal_load(path, &j);
        if (r == -ENOENT)
                return; /* the runner finished cleanly */
        if (r < 0) {
                log_error_errno(r, "guardian: cannot read %s: %m; run 'sabot recover'", path);
                return;
        }
        size_t n = journal_outstanding(j);
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
                        ssize_t k = read(rfd, buf, sizeof buf);
                        if (k > 0) {
                                if (memchr(buf, 'q', (size_t)k))
                                        _exit(0);
                                last = now;
                                continue;
                        }
                        if (k < 0 && errno == EINTR)
                                continue;
                        /* EOF: the runner is gone, however it went. */
                        revert(path, "the runner exited without reverting");
                        _exit(0);
                }
                const char *why = now >= deadline + grace ? "the run passed its hard deadline"
                                                          : "the runner stopped responding";
                revert(path, why);
                /* It must not wake up and go on injecting. */
                if (runner_pidfd >= 0)
                        (void)syscall(SYS_pidfd_send_signal, runner_pidfd, SIGKILL, NULL, 0);
                _exit(0);
        }
}

int guardian_spawn(const char *journal_path, uint64_t deadline_ns, uint64_t grace_ns, int *ret_fd, pid_t *ret_pid) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
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

void guardian_beat(int fd) { (void)!write(fd, "h", 1); }
void guardian_done(int fd) { (void)!write(fd, "q", 1); }
