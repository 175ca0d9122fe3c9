/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../agent/state.h"
#include "../../agent/util.h"
#include "testutil.h"

START_TEST(test_argv_split) {
        char **v = NULL;
        ck_assert_int_eq(argv_split("  /bin/echo \ta  b\t", &v), 0);
        ck_assert_str_eq(v[0], "/bin/echo");
        ck_assert_str_eq(v[1], "a");
        ck_assert_str_eq(v[2], "b");
        ck_assert_ptr_null(v[3]);
        argv_free(v);

        v = NULL;
        ck_assert_int_eq(argv_split(" \t ", &v), 0);
        ck_assert_ptr_nonnull(v);
        ck_assert_ptr_null(v[0]);
        argv_free(v);
        argv_free(NULL);
}
END_TEST

START_TEST(test_clock) {
        uint64_t a = mono_now(), b = mono_now();
        ck_assert_uint_le(a, b);
        uint64_t w = wall_now();
        /* After 2020-01-01 and within a second of time(). */
        ck_assert_uint_gt(w, 1577836800ULL * NSEC_PER_SEC);
        uint64_t t = (uint64_t)time(NULL);
        ck_assert_uint_le(w / NSEC_PER_SEC, t + 1);
        ck_assert_uint_ge(w / NSEC_PER_SEC + 1, t);
}
END_TEST

static char *slurp(int dfd, const char *name) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        char *buf = NULL;
        ck_assert_int_eq(read_full_fd(fd, 4096, &buf, NULL), 0);
        return buf;
}

START_TEST(test_replace) {
        char dir[] = "/tmp/sabot-check-util-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);
        for (int durable = 0; durable <= 1; durable++) {
                /* A link at NAME is replaced, not written through; a file
                 * left at NAME.tmp is removed, not written through. */
                ck_assert_int_eq(symlinkat("/nonexistent/sabot-target", dfd, "f"), 0);
                ck_assert_int_eq(symlinkat("/nonexistent/sabot-tmp", dfd, "f.tmp"), 0);
                FILE *f = replace_fopen(dfd, "f", 0640);
                ck_assert_ptr_nonnull(f);
                fputs("hello\n", f);
                ck_assert_int_eq(replace_fclose(dfd, f, "f", durable), 0);
                char *got = slurp(dfd, "f");
                ck_assert_str_eq(got, "hello\n");
                free(got);
                struct stat st;
                ck_assert_int_eq(fstatat(dfd, "f", &st, AT_SYMLINK_NOFOLLOW), 0);
                ck_assert(S_ISREG(st.st_mode));
                ck_assert_int_eq(st.st_mode & 0777, 0640 & ~umask(umask(0)));
                ck_assert_int_lt(fstatat(dfd, "f.tmp", &st, AT_SYMLINK_NOFOLLOW), 0);

                /* A failed write leaves the old file and no NAME.tmp. */
                f = replace_fopen(dfd, "f", 0640);
                ck_assert_ptr_nonnull(f);
                fputs("half", f);
                fflush(f);
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                ck_assert_int_ge(dup2(fd, fileno(f)), 0); /* the flush now fails */
                close(fd);
                fputs("more", f);
                ck_assert_int_lt(replace_fclose(dfd, f, "f", durable), 0);
                got = slurp(dfd, "f");
                ck_assert_str_eq(got, "hello\n");
                free(got);
                ck_assert_int_lt(fstatat(dfd, "f.tmp", &st, AT_SYMLINK_NOFOLLOW), 0);
                ck_assert_int_eq(unlinkat(dfd, "f", 0), 0);
        }
        ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_pidfd) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        int fd = sys_pidfd_open(pid);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(sys_pidfd_send_signal(fd, SIGKILL), 0);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Reaped: the pidfd names no process any more. */
        ck_assert_int_eq(sys_pidfd_send_signal(fd, SIGTERM), -ESRCH);
        ck_assert_int_eq(errno, ESRCH);
        close(fd);
        ck_assert_int_eq(sys_pidfd_open(-1), -EINVAL);
        ck_assert_int_eq(sys_pidfd_send_signal(-1, 0), -EBADF);
}
END_TEST

START_TEST(test_child_reset) {
        for (int disp = 0; disp <= 1; disp++) {
                sigset_t all;
                sigfillset(&all);
                sigprocmask(SIG_BLOCK, &all, NULL);
                signal(SIGUSR1, SIG_IGN);
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        child_reset_signals(disp);
                        sigset_t now;
                        sigprocmask(SIG_SETMASK, NULL, &now);
                        struct sigaction sa;
                        sigaction(SIGUSR1, NULL, &sa);
                        bool ignored = sa.sa_handler == SIG_IGN;
                        _exit(sigismember(&now, SIGTERM) ? 1 : ignored == !disp ? 0 : 2);
                }
                sigprocmask(SIG_UNBLOCK, &all, NULL);
                signal(SIGUSR1, SIG_DFL);
                int status = 0;
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                ck_assert(WIFEXITED(status));
                ck_assert_int_eq(WEXITSTATUS(status), 0);
        }
}
END_TEST

/* Real-time for the reverts as the run's unit allows it: LimitRTPRIO=1,
 * no CAP_SYS_NICE (RestrictRealtime=no). The way back from SCHED_RR must
 * work there too: without CAP_SYS_NICE the kernel refuses to clear
 * SCHED_RESET_ON_FORK, and urgent_end's plain restore left the process
 * SCHED_RR for the rest of the run. Here the capability goes after
 * urgent_begin (raising RLIMIT_RTPRIO needs CAP_SYS_RESOURCE, which a
 * test host may lack), in a child of its own; where SCHED_RR is not to be
 * had at all, there is nothing to check. */
START_TEST(test_urgent_without_cap_sys_nice) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct rlimit one = {1, 1};
                (void)setrlimit(RLIMIT_RTPRIO, &one);
                struct urgent u;
                urgent_begin(&u);
                if (!u.changed)
                        _exit(77);
                if ((sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) != SCHED_RR)
                        _exit(2);
                struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
                struct __user_cap_data_struct c[2];
                if (syscall(SYS_capget, &h, c) < 0)
                        _exit(4);
                c[CAP_SYS_NICE / 32].effective &= ~(1U << (CAP_SYS_NICE % 32));
                c[CAP_SYS_NICE / 32].permitted &= ~(1U << (CAP_SYS_NICE % 32));
                if (syscall(SYS_capset, &h, c) < 0)
                        _exit(4);
                urgent_end(&u);
                _exit((sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) == SCHED_OTHER ? 0 : 3);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFEXITED(st));
        if (WEXITSTATUS(st) == 77)
                return;
        ck_assert_msg(WEXITSTATUS(st) != 2, "urgent_begin said SCHED_RR, the policy is %d", sched_getscheduler(0));
        ck_assert_msg(WEXITSTATUS(st) != 3, "urgent_end left the process SCHED_RR (no CAP_SYS_NICE)");
        ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

/* array_push grows the array geometrically: room for the next power of
 * two of elements (malloc_usable_size is at least what was asked for, and
 * exactly that under ASan), not one more per push, which made n pushes
 * cost O(n^2) copies. Every element stays where it was pushed. */
START_TEST(test_array_push_growth) {
        int *v = NULL;
        size_t n = 0;
        for (int i = 0; i < 100000; i++) {
                ck_assert_int_eq(array_push(&v, &n, sizeof *v, &i), 0);
                ck_assert_uint_eq(n, (size_t)i + 1);
                size_t pow2 = 1;
                while (pow2 < n)
                        pow2 *= 2;
                if (n == 5 || n == 1025 || n == 65537)
                        ck_assert_msg(malloc_usable_size(v) >= pow2 * sizeof *v,
                                      "%zu elements: room for %zu bytes, want at least %zu", n, malloc_usable_size(v),
                                      pow2 * sizeof *v);
        }
        for (int i = 0; i < 100000; i++)
                ck_assert_int_eq(v[i], i);
        /* Shrunk by its owner (n set lower), it grows again from there. */
        n = 3;
        int x = -1;
        ck_assert_int_eq(array_push(&v, &n, sizeof *v, &x), 0);
        ck_assert_int_eq(array_push(&v, &n, sizeof *v, &x), 0);
        ck_assert_uint_eq(n, 5);
        ck_assert_int_eq(v[2], 2);
        ck_assert_int_eq(v[3], -1);
        ck_assert_int_eq(v[4], -1);
        free(v);
}
END_TEST

/* A size that would overflow is refused, nothing touched: the array, its
 * count, and no read or write anywhere (elem is smaller than sz here:
 * it must not be read at all). */
START_TEST(test_array_push_overflow) {
        char elem[16] = "x";
        char *v = NULL;
        size_t n = (size_t)1 << 40; /* a power of two: the next push grows it */
        ck_assert_int_eq(array_push(&v, &n, (size_t)1 << 24, elem), -ENOMEM);
        ck_assert_ptr_null(v);
        ck_assert_uint_eq(n, (size_t)1 << 40);
        n = (SIZE_MAX >> 1) + 1;
        ck_assert_int_eq(array_push(&v, &n, 1, elem), -ENOMEM);
        ck_assert_ptr_null(v);
        ck_assert_uint_eq(n, (SIZE_MAX >> 1) + 1);
        n = 0;
        ck_assert_int_eq(array_push(&v, &n, SIZE_MAX, elem), -ENOMEM);
        ck_assert_ptr_null(v);
        ck_assert_uint_eq(n, 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("helpers");
        tcase_add_test(tc, test_argv_split);
        tcase_add_test(tc, test_clock);
        tcase_add_test(tc, test_replace);
        tcase_add_test(tc, test_pidfd);
        tcase_add_test(tc, test_child_reset);
        tcase_add_test(tc, test_urgent_without_cap_sys_nice);
        tcase_add_test(tc, test_array_push_growth);
        tcase_add_test(tc, test_array_push_overflow);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
