/* SPDX-License-Identifier: MIT */
/* VM tier: the eBPF syscall-error backend on a distribution kernel. Loads
 * fmod_ret/security_file_open through libbpf and checks that exactly the
 * target process gets the error. (This machine's own kernel refuses
 * tracing programs with EPERM: DESIGN.md.) */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "../../faults/sys_fault_loader.h"
#include "../unit/testutil.h"

/* A child that opens a file on request and reports the errno. */
struct opener {
        pid_t pid;
        int cmd, res;
};

static struct opener opener_start(void) {
        int c[2], r[2];
        ck_assert_int_eq(pipe2(c, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* Only the parent's ends stay open elsewhere, so closing
                 * them ends this loop. */
                close(c[1]);
                close(r[0]);
                char x;
                while (read(c[0], &x, 1) == 1) {
                        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
                        int e = fd < 0 ? errno : 0;
                        if (fd >= 0)
                                close(fd);
                        if (write(r[1], &e, sizeof e) != sizeof e)
                                _exit(1);
                }
                _exit(0);
        }
        close(c[0]);
        close(r[1]);
        return (struct opener){pid, c[1], r[0]};
}

static int opener_open(struct opener *o) {
        int e = -1;
        ck_assert_int_eq(write(o->cmd, "o", 1), 1);
        ck_assert_int_eq(read(o->res, &e, sizeof e), (ssize_t)sizeof e);
        return e;
}

static void opener_stop(struct opener *o) {
        close(o->cmd);
        close(o->res);
        waitpid(o->pid, NULL, 0);
}

START_TEST(test_file_open_fails_for_the_target_only) {
        struct opener o = opener_start();
        ck_assert_int_eq(opener_open(&o), 0);
        struct sys_fault_bpf *skel = NULL;
        struct sys_fault_spec spec = {.tgid = o.pid, .err = EIO, .probability = RATIO_ONE};
        int r = sys_fault_load(&spec, &skel);
        ck_assert_msg(r == 0, "fmod_ret/security_file_open did not load: %s", strerror(-r));
        ck_assert_int_eq(opener_open(&o), EIO);
        ck_assert_int_eq(opener_open(&o), EIO);
        /* Not the target: unaffected. */
        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        close(fd);
        uint64_t c[_SYS_COUNTERS];
        ck_assert_int_eq(sys_fault_counters(skel, c), 0);
        ck_assert_uint_eq(c[SYS_FAILED], 2);
        /* Detached with the skeleton: the target works again. */
        sys_fault_free(skel);
        ck_assert_int_eq(opener_open(&o), 0);
        opener_stop(&o);
}
END_TEST

START_TEST(test_probability_and_errno) {
        struct opener o = opener_start();
        struct sys_fault_bpf *skel = NULL;
        struct sys_fault_spec spec = {.tgid = o.pid, .err = EACCES, .probability = RATIO_ONE / 2};
        ck_assert_int_eq(sys_fault_load(&spec, &skel), 0);
        int failed = 0;
        const int n = 2000;
        for (int i = 0; i < n; i++) {
                int e = opener_open(&o);
                ck_assert(e == 0 || e == EACCES);
                failed += e == EACCES;
        }
        /* 50% programmed; binomial sd over 2000 is 1.1%: allow 5%. */
        ck_assert_msg(failed > n * 45 / 100 && failed < n * 55 / 100, "%d of %d failed", failed, n);
        sys_fault_free(skel);
        opener_stop(&o);
}
END_TEST

int main(void) {
        Suite *s = suite_create("sys_fault");
        TCase *tc = tcase_create("fmod_ret");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_file_open_fails_for_the_target_only);
        tcase_add_test(tc, test_probability_and_errno);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
