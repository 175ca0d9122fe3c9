/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../agent/host.h"
#include "../../agent/journal.h"
#include "../../faults/fault.h"
#include "testutil.h"

static char dir[] = "/tmp/sabot-journal-XXXXXX";

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(dir)); }
static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        strcpy(dir, "/tmp/sabot-journal-XXXXXX");
}

START_TEST(test_write_ahead_and_reload) {
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-1", "my scenario", &j), 0);
        ck_assert_int_eq(journal_set_guardian(j, getpid()), 0);
        struct jentry a = {.kind = "stop", .pid = 4242, .start = 77, .name = "pause-it"};
        struct jentry b = {.kind = "freeze", .cgroup = "/sys/fs/cgroup/odd path=x%y", .name = "f"};
        ck_assert_int_eq(journal_apply(j, &a), 0);
        ck_assert_int_eq(journal_apply(j, &b), 0);
        ck_assert_uint_eq(a.seq, 1);
        ck_assert_uint_eq(b.seq, 2);
        ck_assert_int_eq(journal_reverted(j, a.seq), 0);
        ck_assert_uint_eq(journal_outstanding(j), 1);
        /* The file alone is enough. */
        char path[256];
        snprintf(path, sizeof path, "%s/runs/t-1.journal", dir);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(path, &k), 0);
        ck_assert_str_eq(k->run_id, "t-1");
        ck_assert_str_eq(k->scenario, "my scenario");
        ck_assert_int_eq(k->runner_pid, getpid());
        ck_assert_int_eq(k->guardian_pid, getpid());
        ck_assert_uint_eq(k->n, 2);
        ck_assert(k->v[0].reverted);
        ck_assert(!k->v[1].reverted);
        ck_assert_str_eq(k->v[0].kind, "stop");
        ck_assert_int_eq(k->v[0].pid, 4242);
        ck_assert_uint_eq(k->v[0].start, 77);
        ck_assert_str_eq(k->v[0].name, "pause-it");
        ck_assert_str_eq(k->v[1].cgroup, "/sys/fs/cgroup/odd path=x%y");
        ck_assert_uint_eq(k->next_seq, 3);

        /* A crash mid-write leaves a torn last line: it is ignored. */
        int fd = open(path, O_WRONLY | O_APPEND);
        ck_assert_int_eq(write(fd, "apply seq=3 kind=st", 19), 19);
        close(fd);
        journal_free(k);
        ck_assert_int_eq(journal_load(path, &k), 0);
        ck_assert_uint_eq(k->n, 2);
        journal_free(k);

        char **paths;
        size_t n;
        ck_assert_int_eq(journal_list(dir, &paths, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(paths[0], path);
        paths_free(paths, n);

        /* A second journal of the same run id is refused (O_EXCL). */
        struct journal *dup = NULL;
        ck_assert_int_eq(journal_create(dir, "t-1", "x", &dup), -EEXIST);
        ck_assert_int_eq(journal_remove(j), 0);
        ck_assert_int_eq(journal_remove(j), 0); /* idempotent */
        journal_free(j);
}
END_TEST

START_TEST(test_revert_from_entries) {
        /* A real process stopped through the journal, resumed from the file. */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-2", "s", &j), 0);
        struct jentry e = {.kind = "stop", .pid = pid};
        ck_assert_int_eq(proc_starttime(pid, &e.start), 0);
        ck_assert_int_eq(journal_apply(j, &e), 0);
        ck_assert_int_eq(kill(pid, SIGSTOP), 0);
        char st = 0;
        /* The child stops when it next runs: on a loaded machine that can
         * take long; 10 s, as in check_plan's test_resolve. */
        for (int i = 0; i < 2000 && (proc_state(pid, &st), st != 'T'); i++)
                usleep(5000);
        ck_assert_int_eq(st, 'T');
        struct jentry gone = {.kind = "stop", .pid = pid, .start = e.start + 1}; /* another process's identity */
        ck_assert_int_eq(journal_apply(j, &gone), 0);
        struct jentry missing = {.kind = "freeze", .cgroup = "/nonexistent/cgroup"};
        ck_assert_int_eq(journal_apply(j, &missing), 0);

        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(j->path, &k), 0);
        unsigned failed = 9;
        ck_assert_int_eq(journal_revert_all(k, &failed, NULL, NULL), 3);
        ck_assert_uint_eq(failed, 0);
        ck_assert_uint_eq(journal_outstanding(k), 0);
        for (int i = 0; i < 2000 && (proc_state(pid, &st), st == 'T'); i++)
                usleep(5000);
        ck_assert_int_ne(st, 'T');
        /* Idempotent: again, nothing to do. */
        ck_assert_int_eq(journal_revert_all(k, &failed, NULL, NULL), 0);
        for (size_t i = 0; i < k->n; i++)
                ck_assert_int_eq(fault_revert_entry(&k->v[i]), 0);
        struct jentry bogus = {.kind = "bogus"};
        ck_assert_int_eq(fault_revert_entry(&bogus), -EBADMSG);
        ck_assert(!process_alive(pid, e.start + 1));
        ck_assert(process_alive(pid, e.start));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_assert(!process_alive(pid, e.start));
        journal_free(k);
        journal_remove(j);
        journal_free(j);
}
END_TEST

START_TEST(test_revert_some_touches_only_its_own) {
        /* A fault that created nothing (a kill) must revert nothing when its
         * window closes; another fault's entries stay applied. */
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-3", "s", &j), 0);
        struct jentry a = {.kind = "freeze", .cgroup = "/nonexistent/a"};
        struct jentry b = {.kind = "freeze", .cgroup = "/nonexistent/b"};
        ck_assert_int_eq(journal_apply(j, &a), 0);
        ck_assert_int_eq(journal_apply(j, &b), 0);
        unsigned failed = 9;
        ck_assert_int_eq(journal_revert_some(j, NULL, 0, &failed), 0);
        ck_assert_uint_eq(failed, 0);
        ck_assert_uint_eq(journal_outstanding(j), 2);
        unsigned mine[] = {b.seq};
        ck_assert_int_eq(journal_revert_some(j, mine, 1, &failed), 1);
        ck_assert_uint_eq(journal_outstanding(j), 1);
        ck_assert(!j->v[0].reverted);
        ck_assert(j->v[1].reverted);
        journal_remove(j);
        journal_free(j);
}
END_TEST

int main(void) {
        Suite *s = suite_create("journal");
        TCase *tc = tcase_create("journal");
        /* Above the 10 s this test waits for another process at most
         * (Check's default, 4 s, would cut those waits short under load). */
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_write_ahead_and_reload);
        tcase_add_test(tc, test_revert_from_entries);
        tcase_add_test(tc, test_revert_some_touches_only_its_own);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
