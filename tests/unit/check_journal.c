/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../agent/host.h"
#include "../../agent/journal.h"
#include "../../agent/state.h"
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

/* A cgroup squeeze's entry keeps the file and its value before, spaces
 * and '=' included, and its revert refuses what is not a squeeze's file
 * on cgroup2. */
START_TEST(test_cgroup_file_entry) {
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-2", "s", &j), 0);
        struct jentry e = {.kind = "cgroup-file", .cgroup = "/sys/fs/cgroup/a b.slice", .name = "f",
                           .value = "8:0 rbps=1048576 wbps=max riops=max wiops=max", .file = "io.max"};
        ck_assert_int_eq(journal_apply(j, &e), 0);
        char big[JOURNAL_VALUE_MAX + 1];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        struct jentry g = {.kind = "cgroup-file", .cgroup = "/x", .value = big, .file = "pids.max"};
        ck_assert_int_eq(journal_apply(j, &g), -E2BIG);
        char path[256];
        snprintf(path, sizeof path, "%s/runs/t-2.journal", dir);
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(path, &k), 0);
        ck_assert_uint_eq(k->n, 1);
        ck_assert_str_eq(k->v[0].file, "io.max");
        ck_assert_str_eq(k->v[0].value, "8:0 rbps=1048576 wbps=max riops=max wiops=max");
        ck_assert_str_eq(k->v[0].cgroup, "/sys/fs/cgroup/a b.slice");
        /* Gone: success. Not cgroup2 (this dir): refused. Not a squeeze's file: refused. */
        struct jentry r = {.kind = "cgroup-file", .cgroup = "/nonexistent/sabot-x", .value = "max", .file = "pids.max"};
        ck_assert_int_eq(fault_revert_entry(&r), 0);
        r.cgroup = dir;
        ck_assert_int_eq(fault_revert_entry(&r), -EMEDIUMTYPE);
        snprintf(r.file, sizeof r.file, "cgroup.procs");
        ck_assert_int_eq(fault_revert_entry(&r), -EBADMSG);
        snprintf(r.file, sizeof r.file, "pids.max");
        r.cgroup = "/sys/fs/cgroup/../../etc";
        ck_assert_int_eq(fault_revert_entry(&r), -EBADMSG);
        r.cgroup = dir;
        r.value = NULL;
        ck_assert_int_eq(fault_revert_entry(&r), -EBADMSG);
        journal_free(k);
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

/* A cap on the file size makes write() stop short, as a full disk does. */
static void cap_file_size(off_t max) {
        struct rlimit rl = {.rlim_cur = (rlim_t)max, .rlim_max = RLIM_INFINITY};
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}
static void uncap_file_size(void) {
        struct rlimit rl = {.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}
static off_t file_size(int fd) {
        struct stat st;
        return fstat(fd, &st) == 0 ? st.st_size : -1;
}

START_TEST(test_short_write_leaves_no_glued_line) {
        signal(SIGXFSZ, SIG_IGN);
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-4", "s", &j), 0);
        struct jentry a = {.kind = "stop", .pid = 11, .start = 1, .name = "a"};
        ck_assert_int_eq(journal_apply(j, &a), 0);
        /* The next record stops after 20 bytes. (No assertion while capped:
         * Check's own messages go through a file.) */
        off_t before = file_size(j->fd);
        cap_file_size(before + 20);
        struct jentry b = {.kind = "freeze", .cgroup = "/sys/fs/cgroup/cut", .name = "b"};
        int r = journal_apply(j, &b);
        uncap_file_size();
        ck_assert_int_lt(r, 0);
        ck_assert_int_ne(j->write_err, 0);
        ck_assert_int_eq(file_size(j->fd), before + 20);
        ck_assert_int_gt(file_size(j->fd), 0);
        /* Another writer (abort, the guardian) appends after the partial one. */
        struct journal *other = NULL;
        ck_assert_int_eq(journal_load(j->path, &other), 0);
        ck_assert_uint_eq(other->n, 1);
        struct jentry c = {.kind = "stop", .pid = 33, .start = 3, .name = "c"};
        ck_assert_int_eq(journal_apply(other, &c), 0);
        ck_assert_int_eq(journal_reverted(other, a.seq), 0);
        journal_free(other);

        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(j->path, &k), 0);
        ck_assert_uint_eq(k->n, 2); /* a and c; the cut b is not trusted */
        ck_assert_str_eq(k->v[0].kind, "stop");
        ck_assert_int_eq(k->v[0].pid, 11);
        ck_assert(k->v[0].reverted);
        ck_assert_str_eq(k->v[1].kind, "stop");
        ck_assert_int_eq(k->v[1].pid, 33);
        ck_assert_int_eq(k->v[1].start, 3);
        ck_assert_ptr_nonnull(k->v[1].name);
        ck_assert_str_eq(k->v[1].name, "c");
        ck_assert(!k->v[1].reverted);
        journal_free(k);
        journal_remove(j);
        journal_free(j);
}
END_TEST

START_TEST(test_batch_records_once) {
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-b", "s", &j), 0);
        struct jentry e[3] = {{.kind = "stop", .pid = 1}, {.kind = "stop", .pid = 2}, {.kind = "stop", .pid = 3}};
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(journal_apply(j, &e[i]), 0);
        char path[256];
        snprintf(path, sizeof path, "%s/runs/t-b.journal", dir);
        journal_batch_begin(j);
        journal_batch_begin(j); /* nested */
        ck_assert_int_eq(journal_reverted(j, e[2].seq), 0);
        ck_assert_int_eq(journal_reverted(j, e[1].seq), 0);
        ck_assert_uint_eq(journal_outstanding(j), 1); /* marked at once */
        ck_assert_int_eq(journal_batch_commit(j), 0);
        /* Not written before the outermost commit: a crash here leaves the
         * entries outstanding in the file, for a revert again. */
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(path, &k), 0);
        ck_assert_uint_eq(journal_outstanding(k), 3);
        journal_free(k);
        ck_assert_int_eq(journal_batch_commit(j), 0);
        ck_assert_int_eq(journal_load(path, &k), 0);
        ck_assert_uint_eq(journal_outstanding(k), 1);
        ck_assert(!k->v[0].reverted && k->v[1].reverted && k->v[2].reverted);
        journal_free(k);
        /* An apply inside a batch writes the pending records first. */
        journal_batch_begin(j);
        ck_assert_int_eq(journal_reverted(j, e[0].seq), 0);
        struct jentry f = {.kind = "stop", .pid = 4};
        ck_assert_int_eq(journal_apply(j, &f), 0);
        ck_assert_int_eq(journal_load(path, &k), 0);
        ck_assert_uint_eq(k->n, 4);
        ck_assert(k->v[0].reverted && !k->v[3].reverted);
        journal_free(k);
        ck_assert_int_eq(journal_batch_commit(j), 0);
        journal_free(j);
}
END_TEST

START_TEST(test_unrecorded_revert_counts_as_done) {
        signal(SIGXFSZ, SIG_IGN);
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "t-5", "s", &j), 0);
        /* Nothing to undo: the freeze's cgroup is gone, so its revert succeeds. */
        struct jentry a = {.kind = "freeze", .cgroup = "/nonexistent/cgroup", .name = "a"};
        ck_assert_int_eq(journal_apply(j, &a), 0);
        cap_file_size(file_size(j->fd));
        unsigned failed = 9;
        int r = journal_revert_all(j, &failed, NULL, NULL);
        uncap_file_size();
        ck_assert_int_eq(r, 1);
        ck_assert_uint_eq(failed, 0);
        ck_assert_uint_eq(journal_outstanding(j), 0);
        ck_assert_uint_eq(j->unrecorded, 1);
        /* Reloaded, it is outstanding again; reverting it again is harmless. */
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(j->path, &k), 0);
        ck_assert_uint_eq(journal_outstanding(k), 1);
        ck_assert_int_eq(journal_revert_all(k, &failed, NULL, NULL), 1);
        ck_assert_uint_eq(failed, 0);
        journal_free(k);
        ck_assert_int_eq(journal_remove(j), 0);
        journal_free(j);
}
END_TEST

START_TEST(test_version_1_journals_still_load) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/runs", dir);
        ck_assert_int_eq(mkdir(p, 0700), 0);
        snprintf(p, sizeof p, "%s/runs/old.journal", dir);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "sabot-journal 1 run=old pid=1 start=2 scenario=x wall=3\n"
                   "apply seq=1 kind=stop pid=5 start=6 cgroup=- name=n dev=- ifindex=0 hook=egress prio=0 handle=0 netns=0\n"
                   "revert seq=1\n");
        fclose(f);
        chmod(p, 0600);
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(p, &k), 0);
        ck_assert_uint_eq(k->n, 1);
        ck_assert(k->v[0].reverted);
        ck_assert_str_eq(k->run_id, "old");
        journal_free(k);
}
END_TEST

START_TEST(test_untrusted_journals_are_refused) {
        struct journal *j = NULL, *k = NULL;
        ck_assert_int_eq(journal_create(dir, "t-6", "s", &j), 0);
        char p[PATH_MAX], q[PATH_MAX];
        snprintf(p, sizeof p, "%s", j->path);
        ck_assert_int_eq(chmod(p, 0666), 0);
        ck_assert_int_eq(journal_load(p, &k), -EPERM);
        ck_assert_ptr_nonnull(strstr(trust_last(), "is writable by everyone"));
        ck_assert_int_eq(chmod(p, 0600), 0);
        ck_assert_int_eq(journal_load(p, &k), 0);
        journal_free(k);
        /* A link to a journal elsewhere is not followed. */
        snprintf(q, sizeof q, "%s/runs/link.journal", dir);
        ck_assert_int_eq(symlink(p, q), 0);
        ck_assert_int_eq(journal_load(q, &k), -ELOOP);
        ck_assert_ptr_nonnull(strstr(trust_last(), "link.journal is a symbolic link"));
        /* Nor a second name for it. */
        snprintf(q, sizeof q, "%s/runs/hard.journal", dir);
        ck_assert_int_eq(link(p, q), 0);
        ck_assert_int_eq(journal_load(q, &k), -EPERM);
        ck_assert_ptr_nonnull(strstr(trust_last(), "more than one hard link"));
        unlink(q);
        /* A run dir others can write is refused whole. */
        ck_assert_int_eq(chmod(dir, 0777), 0);
        ck_assert_int_eq(journal_load(p, &k), -EPERM);
        char **paths = NULL;
        size_t n = 0;
        ck_assert_int_eq(journal_list(dir, &paths, &n), -EPERM);
        ck_assert_int_eq(chmod(dir, 0700), 0);
        if (geteuid() == 0) {
                ck_assert_int_eq(chown(p, 65534, 65534), 0);
                ck_assert_int_eq(journal_load(p, &k), -EPERM);
                ck_assert_ptr_nonnull(strstr(trust_last(), "is owned by uid 65534"));
                ck_assert_int_eq(chown(p, 0, 0), 0);
        }
        journal_remove(j);
        journal_free(j);
}
END_TEST

START_TEST(test_latch_fails_closed) {
        char state[256], p[PATH_MAX], why[256];
        snprintf(state, sizeof state, "%s/state", dir);
        struct dirs d = {.state = state, .run = dir};
        ck_assert_int_eq(latch_get(&d, why, sizeof why), 0); /* no state dir: armed */
        ck_assert_int_eq(latch_set(&d, "test"), 0);
        ck_assert_int_eq(latch_get(&d, why, sizeof why), 1);
        ck_assert_ptr_nonnull(strstr(why, "test"));
        ck_assert_int_eq(latch_clear(&d), 0);
        ck_assert_int_eq(latch_get(&d, why, sizeof why), 0);
        snprintf(p, sizeof p, "%s/disarmed", state);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        ck_assert_int_lt(latch_get(&d, why, sizeof why), 0);
        ck_assert_int_lt(latch_set(&d, "test"), 0);
        ck_assert_int_eq(rmdir(p), 0);
        ck_assert_int_eq(symlink("/nonexistent", p), 0);
        ck_assert_int_eq(latch_get(&d, why, sizeof why), -ELOOP);
        ck_assert_int_eq(unlink(p), 0);
        FILE *f = fopen(p, "w");
        for (int i = 0; i < 5000; i++)
                fputc('x', f);
        fclose(f);
        ck_assert_int_eq(latch_get(&d, why, sizeof why), -EFBIG);
        ck_assert_int_eq(latch_clear(&d), 0);
        /* The temporary file is never written through. */
        char tmp[PATH_MAX], target[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s/disarmed.tmp", state);
        snprintf(target, sizeof target, "%s/target", dir);
        f = fopen(target, "w");
        fputs("keep", f);
        fclose(f);
        ck_assert_int_eq(symlink(target, tmp), 0);
        ck_assert_int_eq(latch_set(&d, "test"), 0);
        _cleanup_free_ char *buf = NULL;
        ck_assert_int_eq(read_full_file(target, 100, &buf, NULL), 0);
        ck_assert_str_eq(buf, "keep");
        ck_assert_int_eq(latch_get(&d, why, sizeof why), 1);
        /* A state dir its group can write is refused. */
        ck_assert_int_eq(chmod(state, 0775), 0);
        ck_assert_int_eq(latch_get(&d, why, sizeof why), -EPERM);
        ck_assert_ptr_nonnull(strstr(trust_last(), "is writable by its group"));
        ck_assert_int_eq(latch_set(&d, "x"), -EPERM);
}
END_TEST

START_TEST(test_path_walk) {
        char p[PATH_MAX - 16], l[PATH_MAX];
        struct trust t;
        snprintf(p, sizeof p, "%s/f.ini", dir);
        FILE *f = fopen(p, "w");
        fputs("x", f);
        fclose(f);
        int fd = path_open_trusted(p, TRUST_REQUIRE, 0, &t);
        ck_assert_int_ge(fd, 0);
        close(fd);
        /* A trusted symlink is followed, to what is checked in turn. */
        snprintf(l, sizeof l, "%s/l.ini", dir);
        ck_assert_int_eq(symlink("f.ini", l), 0);
        fd = path_open_trusted(l, TRUST_REQUIRE, 0, &t);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(chmod(p, 0664), 0);
        ck_assert_int_eq(path_open_trusted(l, TRUST_REQUIRE, 0, &t), -EPERM);
        ck_assert_int_eq(t.issue, TRUST_WRITABLE);
        ck_assert_str_eq(t.path, p);
        /* Without TRUST_REQUIRE it opens, and says what was amiss. */
        fd = path_open_trusted(l, 0, 0, &t);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(t.issue, TRUST_WRITABLE);
        ck_assert_int_eq(chmod(p, 0644), 0);
        /* Loops end. */
        snprintf(l, sizeof l, "%s/loop", dir);
        ck_assert_int_eq(symlink("loop", l), 0);
        ck_assert_int_eq(path_open_trusted(l, TRUST_REQUIRE, 0, &t), -ELOOP);
        /* Directories, made on the way. */
        snprintf(p, sizeof p, "%s/a/b/c", dir);
        fd = path_open_trusted(p, TRUST_REQUIRE | TRUST_DIRECTORY | TRUST_MKDIR, 0700, &t);
        ck_assert_int_ge(fd, 0);
        close(fd);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0700);
        /* The dir asked for may not be world-writable even when sticky. */
        ck_assert_int_eq(chmod(p, 01777), 0);
        ck_assert_int_eq(path_open_trusted(p, TRUST_REQUIRE | TRUST_DIRECTORY, 0, &t), -EPERM);
        if (geteuid() == 0) {
                /* Someone else's link in a sticky dir is not followed. */
                snprintf(l, sizeof l, "%s/x.ini", p);
                snprintf(p, sizeof p, "%s/f.ini", dir);
                ck_assert_int_eq(symlink(p, l), 0);
                ck_assert_int_eq(lchown(l, 65534, 65534), 0);
                ck_assert_int_eq(path_open_trusted(l, TRUST_REQUIRE, 0, &t), -EPERM);
                ck_assert_int_eq(t.issue, TRUST_OWNER);
        }
}
END_TEST

/* ---- the reader, on what a crash, a full disk or a forger leaves ---- */

#define HDR "sabot-journal 2 run=r pid=1 start=2 scenario=s wall=3 ."
#define APPLY(seq, kind, rest) "\napply seq=" #seq " kind=" kind " pid=0 start=0 cgroup=- name=n" #seq " dev=- ifindex=0 " \
        "hook=egress prio=0 handle=0 netns=0 prog=0" rest

/* A journal file of exactly these bytes, as the writer would have made
 * it (root's, 0600, in RUN_DIR/runs). */
static const char *journal_file(const char *name, const void *bytes, size_t len) {
        static char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/runs", dir);
        (void)mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/runs/%s", dir, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
        close(fd);
        return p;
}
#define JOURNAL_TEXT(name, text) journal_file(name, text, sizeof text - 1)

START_TEST(test_reader_empty_file) {
        /* journal_create died between the open and the header: nothing to do. */
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("empty.journal", ""), &k), 0);
        ck_assert_uint_eq(k->n, 0);
        ck_assert_ptr_null(k->run_id);
        ck_assert_uint_eq(k->next_seq, 1);
        ck_assert_uint_eq(journal_outstanding(k), 0);
        unsigned failed = 9;
        ck_assert_int_eq(journal_revert_all(k, &failed, NULL, NULL), 0);
        ck_assert_uint_eq(failed, 0);
        journal_free(k);
        /* Blank lines only: the same. */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("blank.journal", "\n\n\n"), &k), 0);
        ck_assert_uint_eq(k->n, 0);
        journal_free(k);
}
END_TEST

START_TEST(test_reader_ends_mid_record) {
        struct journal *k = NULL;
        /* The last record is whole without a newline: that is how the
         * writer leaves every file ("\nBODY ."). */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("a.journal", HDR APPLY(1, "stop", " .") APPLY(2, "stop", " .")), &k), 0);
        ck_assert_uint_eq(k->n, 2);
        ck_assert_str_eq(k->run_id, "r");
        ck_assert_uint_eq(k->next_seq, 3);
        journal_free(k);
        /* Cut anywhere in the last record, up to its final '.': not read. */
        const char whole[] = HDR APPLY(1, "stop", " .") APPLY(2, "freeze", " .");
        for (size_t cut = sizeof HDR - 1 + sizeof APPLY(1, "stop", " .") - 1 + 1; cut < sizeof whole - 1; cut++) {
                ck_assert_int_eq(journal_load(journal_file("b.journal", whole, cut), &k), 0);
                ck_assert_msg(k->n == 1, "cut at %zu: %zu entries", cut, k->n);
                ck_assert_str_eq(k->v[0].kind, "stop");
                ck_assert_uint_eq(k->next_seq, 2);
                journal_free(k);
        }
        /* A revert cut short did not happen: the entry stays outstanding. */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("c.journal", HDR APPLY(1, "stop", " .") "\nrevert seq=1"), &k), 0);
        ck_assert_uint_eq(journal_outstanding(k), 1);
        journal_free(k);
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("c.journal", HDR APPLY(1, "stop", " .") "\nrevert seq=1 "), &k), 0);
        ck_assert_uint_eq(journal_outstanding(k), 1);
        journal_free(k);
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("c.journal", HDR APPLY(1, "stop", " .") "\nrevert seq=1 ."), &k), 0);
        ck_assert_uint_eq(journal_outstanding(k), 0);
        journal_free(k);
        /* A header cut short: no header, and the records after it still count. */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("d.journal", "sabot-journal 2 run=r pid=1" APPLY(1, "stop", " .")), &k), 0);
        ck_assert_ptr_null(k->run_id);
        ck_assert_uint_eq(k->n, 1);
        journal_free(k);
}
END_TEST

START_TEST(test_reader_missing_end_mark) {
        /* A record without its " ." (a full disk cut it; abort appended
         * after it on a line of its own) is skipped, and what follows read. */
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("m.journal", HDR APPLY(1, "stop", " .") APPLY(2, "freeze", "")
                                                                    APPLY(3, "stop", " .") "\nrevert seq=2"
                                                                    "\nrevert seq=3 ."), &k), 0);
        ck_assert_uint_eq(k->n, 2);
        ck_assert_uint_eq(k->v[0].seq, 1);
        ck_assert_uint_eq(k->v[1].seq, 3);
        ck_assert(!k->v[0].reverted);
        ck_assert(k->v[1].reverted);
        ck_assert_uint_eq(k->next_seq, 4);
        journal_free(k);
        /* " ." must end the line, not merely appear in it; "." alone is no end. */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("n.journal", HDR APPLY(1, "stop", " . x") APPLY(2, "stop", ".")
                                                                    APPLY(3, "stop", " .")), &k), 0);
        ck_assert_uint_eq(k->n, 1);
        ck_assert_uint_eq(k->v[0].seq, 3);
        journal_free(k);
}
END_TEST

START_TEST(test_reader_garbage) {
        struct journal *k = NULL;
        /* Lines of nothing it knows, whole or not, are skipped. */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("g.journal", HDR "\n\xff\xfe\x01 garbage ." "\napply ." "\napply seq=x kind=stop name=n ."
                                                                    "\napply seq=7 name=n ." "\napply seq=8 kind=stop ."
                                                                    "\nrevert ." "\nrevert seq=99 ." APPLY(1, "stop", " .")),
                                      &k), 0);
        ck_assert_uint_eq(k->n, 1);
        ck_assert_uint_eq(k->v[0].seq, 1);
        ck_assert(!k->v[0].reverted);
        journal_free(k);
        /* Zeros where a record was (a crash on a disk file system that had
         * extended the file but not written its data), then a record
         * appended after them on a line of its own: it is read. */
        char buf[1024];
        size_t o = 0;
        const char *a = HDR APPLY(1, "stop", " .");
        memcpy(buf + o, a, strlen(a)), o += strlen(a);
        memcpy(buf + o, "\napply seq=2 ", 13), o += 13;
        memset(buf + o, 0, 40), o += 40;
        const char *b = APPLY(3, "freeze", " .") "\nrevert seq=1 .";
        memcpy(buf + o, b, strlen(b)), o += strlen(b);
        ck_assert_int_eq(journal_load(journal_file("z.journal", buf, o), &k), 0);
        ck_assert_msg(k->n == 2, "%zu entries: a record after a run of zeros was not read", k->n);
        ck_assert_uint_eq(k->v[0].seq, 1);
        ck_assert(k->v[0].reverted);
        ck_assert_uint_eq(k->v[1].seq, 3);
        ck_assert_str_eq(k->v[1].kind, "freeze");
        ck_assert(!k->v[1].reverted);
        ck_assert_uint_eq(k->next_seq, 4);
        journal_free(k);
        /* Zeros from there to the end (the next record's data, its newline
         * included, never written): what came before them is read. */
        o = strlen(a);
        memset(buf + o, 0, 100), o += 100;
        ck_assert_int_eq(journal_load(journal_file("x.journal", buf, o), &k), 0);
        ck_assert_uint_eq(k->n, 1);
        ck_assert_str_eq(k->run_id, "r");
        journal_free(k);
        /* A NUL inside a record that ends well: the record is not trusted. */
        char c[] = HDR APPLY(1, "stop", " .") APPLY(2, "stop", " .");
        c[sizeof HDR - 1 + sizeof APPLY(1, "stop", " .") - 1 + 20] = '\0';
        ck_assert_int_eq(journal_load(journal_file("y.journal", c, sizeof c - 1), &k), 0);
        ck_assert_uint_eq(k->n, 1);
        ck_assert_uint_eq(k->v[0].seq, 1);
        journal_free(k);
}
END_TEST

START_TEST(test_reader_oversize) {
        struct journal *k = NULL;
        /* A value longer than any the writer makes: a cgroup too long to
         * hold is dropped, and its revert refuses rather than act on part
         * of a path; a kind or name too long drops the record. */
        size_t big = PATH_MAX * 3 + 100;
        char *line = malloc(big + 1024);
        ck_assert_ptr_nonnull(line);
        int n = snprintf(line, 1024, "%s\napply seq=1 kind=freeze pid=0 start=0 cgroup=", HDR);
        memset(line + n, 'a', big);
        n += (int)big;
        n += sprintf(line + n, " name=n dev=- ifindex=0 hook=egress prio=0 handle=0 netns=0 prog=0 ."
                               APPLY(2, "stopstopstopstop", " .") APPLY(3, "exec-cgroup", " ."));
        ck_assert_int_eq(journal_load(journal_file("o.journal", line, (size_t)n), &k), 0);
        ck_assert_uint_eq(k->n, 2);
        ck_assert_uint_eq(k->v[0].seq, 1);
        ck_assert_ptr_null(k->v[0].cgroup);
        ck_assert_int_eq(fault_revert_entry(&k->v[0]), -EBADMSG);
        ck_assert_uint_eq(k->v[1].seq, 3); /* a 15-character kind fits */
        ck_assert_str_eq(k->v[1].kind, "exec-cgroup");
        journal_free(k);
        free(line);
        /* A file over 64 MiB is refused whole. */
        const char *p = JOURNAL_TEXT("huge.journal", HDR);
        ck_assert_int_eq(truncate(p, 64 * 1024 * 1024 + 1), 0);
        ck_assert_int_eq(journal_load(p, &k), -EFBIG);
        ck_assert_int_eq(truncate(p, 64 * 1024 * 1024), 0);
        ck_assert_int_eq(journal_load(p, &k), 0);
        ck_assert_str_eq(k->run_id, "r");
        journal_free(k);
}
END_TEST

START_TEST(test_reader_forged_kinds) {
        /* Kinds no fault owns are loaded (the file is root's: a newer
         * sabot's kinds) but never acted on: each revert refuses, the
         * entry stays outstanding, the others are reverted. */
        struct journal *k = NULL;
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("f.journal", HDR APPLY(1, "freeze", " .") APPLY(2, "bogus", " .")
                                                                    APPLY(3, "STOP", " .") APPLY(4, "stop%20x", " .")),
                                      &k), 0);
        ck_assert_uint_eq(k->n, 4);
        free(k->v[0].cgroup);
        k->v[0].cgroup = strdup("/nonexistent/cgroup"); /* gone: its revert succeeds */
        unsigned failed = 0;
        ck_assert_int_eq(journal_revert_all(k, &failed, NULL, NULL), -EBADMSG);
        ck_assert_uint_eq(failed, 3);
        ck_assert(k->v[0].reverted);
        for (size_t i = 1; i < 4; i++)
                ck_assert(!k->v[i].reverted);
        ck_assert_uint_eq(journal_outstanding(k), 3);
        journal_free(k);
        /* A stop of pid -1 or 0 (every process, the caller's group) is
         * refused, not sent: pids go through pidfds. */
        ck_assert_int_eq(journal_load(JOURNAL_TEXT("p.journal", HDR "\napply seq=1 kind=stop pid=-1 start=0 cgroup=- name=n ."
                                                                    "\napply seq=2 kind=stop pid=0 start=0 cgroup=- name=n ."),
                                      &k), 0);
        ck_assert_uint_eq(k->n, 2);
        ck_assert_int_eq(k->v[0].pid, -1);
        ck_assert_int_lt(fault_revert_entry(&k->v[0]), 0);
        ck_assert_int_lt(fault_revert_entry(&k->v[1]), 0);
        journal_free(k);
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
        tcase_add_test(tc, test_cgroup_file_entry);
        tcase_add_test(tc, test_revert_from_entries);
        tcase_add_test(tc, test_revert_some_touches_only_its_own);
        tcase_add_test(tc, test_short_write_leaves_no_glued_line);
        tcase_add_test(tc, test_batch_records_once);
        tcase_add_test(tc, test_unrecorded_revert_counts_as_done);
        tcase_add_test(tc, test_version_1_journals_still_load);
        tcase_add_test(tc, test_untrusted_journals_are_refused);
        tcase_add_test(tc, test_latch_fails_closed);
        tcase_add_test(tc, test_path_walk);
        tcase_add_test(tc, test_reader_empty_file);
        tcase_add_test(tc, test_reader_ends_mid_record);
        tcase_add_test(tc, test_reader_missing_end_mark);
        tcase_add_test(tc, test_reader_garbage);
        tcase_add_test(tc, test_reader_oversize);
        tcase_add_test(tc, test_reader_forged_kinds);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
