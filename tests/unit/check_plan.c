/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "../../agent/host.h"
#include "../../agent/plan.h"
#include "testutil.h"

START_TEST(test_mountinfo) {
        const char *mi =
                "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
                "30 25 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
                "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
                "32 30 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n";
        FILE *f = fmemopen((void *)mi, strlen(mi), "r");
        char *m = NULL;
        ck_assert_int_eq(cgroup2_mount_from_mountinfo(f, &m), 0);
        ck_assert_str_eq(m, "/sys/fs/cgroup/unified");
        free(m);
        fclose(f);

        const char *esc = "31 30 0:27 / /mnt/my\\040cgroups rw - cgroup2 none rw\n";
        f = fmemopen((void *)esc, strlen(esc), "r");
        ck_assert_int_eq(cgroup2_mount_from_mountinfo(f, &m), 0);
        ck_assert_str_eq(m, "/mnt/my cgroups");
        free(m);
        fclose(f);

        const char *none = "22 1 0:21 / /proc rw - proc proc rw\n";
        f = fmemopen((void *)none, strlen(none), "r");
        ck_assert_int_eq(cgroup2_mount_from_mountinfo(f, &m), -ENOENT);
        fclose(f);

        /* And this host's real one. */
        ck_assert_int_eq(cgroup2_mount(&m), 0);
        ck_assert_ptr_nonnull(strstr(m, "/sys/fs/cgroup"));
        free(m);
}
END_TEST

START_TEST(test_proc) {
        char comm[16];
        ck_assert_int_eq(proc_comm(getpid(), comm), 0);
        ck_assert_str_eq(comm, "check_plan");
        ck_assert_int_eq(proc_is_kthread(getpid()), 0);
        ck_assert_int_eq(proc_comm(2, comm), 0);
        if (streq(comm, "kthreadd")) /* outside a PID namespace */
                ck_assert_int_eq(proc_is_kthread(2), 1);
        ck_assert_int_eq(proc_is_kthread(4194304), -ESRCH);
        char *exe = NULL;
        ck_assert_int_eq(proc_exe(getpid(), &exe), 0);
        ck_assert_ptr_nonnull(strstr(exe, "check_plan"));
        free(exe);

        char path[] = "/tmp/sabot-pidfile-XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        pid_t pid = 0;
        ck_assert_int_eq(write(fd, "1234\n", 5), 5);
        ck_assert_int_eq(pidfile_read(path, &pid), 0);
        ck_assert_int_eq(pid, 1234);
        ck_assert_int_eq(ftruncate(fd, 0), 0);
        ck_assert_int_eq(pwrite(fd, "12 34\n", 6, 0), 6);
        ck_assert_int_eq(pidfile_read(path, &pid), -EBADMSG);
        ck_assert_int_eq(ftruncate(fd, 0), 0);
        ck_assert_int_eq(pidfile_read(path, &pid), -EBADMSG);
        close(fd);
        unlink(path);
        ck_assert_int_eq(pidfile_read(path, &pid), -ENOENT);
}
END_TEST

/* A child that renames itself and waits to be killed. */
/* A process called name, running /bin/sleep through a symlink of that name
 * (the comm is the name execve was given). Like a target sabot launches
 * (own process group) or, with own_group false, like an SLO probe child
 * (the runner's group): only the latter is a sabot process. */
static pid_t spawn_exec(const char *name, bool own_group) {
        char link[PATH_MAX];
        snprintf(link, sizeof link, "/tmp/%s", name);
        (void)unlink(link);
        ck_assert_int_eq(symlink("/bin/sleep", link), 0);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (own_group)
                        setpgid(0, 0);
                execl(link, link, "1000", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        char c;
        ck_assert_int_eq(read(p[0], &c, 1), 0); /* closed by the exec */
        close(p[0]);
        /* The comm is set once the exec is through. */
        char comm[16] = "";
        for (int i = 0; i < 400 && (proc_comm(pid, comm) < 0 || strcmp(comm, name) != 0); i++)
                usleep(5000);
        (void)unlink(link);
        return pid;
}

static pid_t spawn_named(const char *name) { return spawn_exec(name, true); }

/* A child that only forked: it runs our binary, as a guardian does. */
static pid_t spawn_fork(void) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                setpgid(0, 0);
                for (;;)
                        pause();
        }
        return pid;
}

static void reap(pid_t pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static struct scenario *scenario_with_target(const char *target) {
        char *text = NULL;
        ck_assert_int_ge(asprintf(&text, HEAD "[target t]\n%s\n[fault k]\ntype = kill\ntarget = t\n", target), 0);
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_parse("t.ini", text, strlen(text), &s, &d), 0);
        ck_assert_msg(d.errors == 0, "%s", d.n ? d.v[0].msg : "");
        diags_free(&d);
        free(text);
        return s;
}

static void resolve(const char *target, const struct policy *p, struct resolved_target *rt) {
        struct scenario *s = scenario_with_target(target);
        struct plan pl = {.s = s, .p = p};
        memset(rt, 0, sizeof *rt);
        ck_assert_int_eq(plan_resolve_target(&pl, s->targets[0], rt), 0);
        rt->t = NULL; /* s is freed below */
        scenario_free(s);
}

START_TEST(test_resolve) {
        struct policy *p = policy_new_default();
        char name[16], sel[4200];
        snprintf(name, sizeof name, "sabot-t%d", (int)getpid() % 100000);
        pid_t a = spawn_named(name), b = spawn_named(name);
        struct resolved_target rt;

        snprintf(sel, sizeof sel, "comm = %s", name);
        resolve(sel, p, &rt);
        ck_assert_ptr_null(rt.problem);
        ck_assert_uint_eq(rt.n_pids, 2);
        ck_assert_int_eq(rt.pids[0], a < b ? a : b);
        ck_assert_int_eq(rt.pids[1], a < b ? b : a);
        resolved_target_done(&rt);

        snprintf(sel, sizeof sel, "pid = %d", (int)a);
        resolve(sel, p, &rt);
        ck_assert_uint_eq(rt.n_pids, 1);
        ck_assert_int_eq(rt.pids[0], a);
        resolved_target_done(&rt);

        /* Our own binary: us, and a child that only forked (a guardian),
         * are never eligible. */
        pid_t g = spawn_fork();
        char *exe = NULL;
        ck_assert_int_eq(proc_exe(getpid(), &exe), 0);
        snprintf(sel, sizeof sel, "exe = %s", exe);
        free(exe);
        resolve(sel, p, &rt);
        ck_assert_uint_eq(rt.n_pids, 0);
        ck_assert_uint_ge(rt.n_ex, 2);
        bool self = false, child = false;
        for (size_t i = 0; i < rt.n_ex; i++) {
                ck_assert_str_eq(rt.ex[i].why, "a sabot process");
                self = self || rt.ex[i].pid == getpid();
                child = child || rt.ex[i].pid == g;
        }
        ck_assert(self && child);
        ck_assert_str_eq(rt.problem, "matches only protected processes");
        resolved_target_done(&rt);
        snprintf(sel, sizeof sel, "pid = %d", (int)g);
        resolve(sel, p, &rt);
        ck_assert(rt.refused);
        snprintf(sel, sizeof sel, "pid %d is never a target: a sabot process", (int)g);
        ck_assert_str_eq(rt.problem, sel);
        resolved_target_done(&rt);
        reap(g);

        /* A child in our process group that ran another program: an SLO
         * probe's shape, so a sabot process too. */
        char pname[16];
        snprintf(pname, sizeof pname, "sabot-q%d", (int)getpid() % 100000);
        pid_t q = spawn_exec(pname, false);
        ck_assert_int_eq(proc_is_sabot(q), 1);
        ck_assert_int_eq(proc_is_sabot(a), 0);
        ck_assert_int_eq(proc_is_sabot(getpid()), 1);
        ck_assert_int_eq(proc_is_sabot(1), 0);
        snprintf(sel, sizeof sel, "comm = %s", pname);
        resolve(sel, p, &rt);
        ck_assert_uint_eq(rt.n_pids, 0);
        ck_assert_uint_eq(rt.n_ex, 1);
        ck_assert_str_eq(rt.ex[0].why, "a sabot process");
        resolved_target_done(&rt);
        reap(q);

        /* pidfiles: PID 1, and anything on procfs, are refused. */
        char pf[64];
        snprintf(pf, sizeof pf, "/tmp/sabot-pf%d", (int)getpid());
        FILE *f = fopen(pf, "we");
        ck_assert_ptr_nonnull(f);
        fputs("1\n", f);
        fclose(f);
        snprintf(sel, sizeof sel, "pidfile = %s", pf);
        resolve(sel, p, &rt);
        ck_assert(rt.refused);
        ck_assert_uint_eq(rt.n_pids, 0);
        resolved_target_done(&rt);
        unlink(pf);
        ck_assert_int_eq(symlink("/proc/sys/kernel/ns_last_pid", pf), 0);
        resolve(sel, p, &rt);
        ck_assert(rt.refused);
        ck_assert_ptr_nonnull(strstr(rt.problem, "procfs or sysfs"));
        resolved_target_done(&rt);
        pid_t x;
        ck_assert_int_eq(pidfile_read(pf, &x), -EXDEV);
        unlink(pf);

        /* A protected comm is never eligible, even when a selector matches. */
        strv_push(&p->protect.comms, name);
        snprintf(sel, sizeof sel, "comm = %s", name);
        resolve(sel, p, &rt);
        ck_assert_uint_eq(rt.n_pids, 0);
        ck_assert_uint_eq(rt.n_ex, 2);
        ck_assert_str_eq(rt.problem, "matches only protected processes");
        char why[64];
        snprintf(why, sizeof why, "protected comm %s", name);
        ck_assert_str_eq(rt.ex[0].why, why);
        resolved_target_done(&rt);

        /* Killed but not yet reaped: zombies are neither targets nor
         * survivors. */
        strv_free(&p->protect.comms);
        kill(a, SIGKILL);
        kill(b, SIGKILL);
        /* Both must have died: waiting for one and asserting on both was
         * a race that failed under load. */
        pid_t both[] = {a, b};
        for (size_t k = 0; k < 2; k++) {
                char st = 0;
                for (int i = 0; i < 2000 && (proc_state(both[k], &st) < 0 || st != 'Z'); i++)
                        usleep(5000);
                ck_assert_int_eq(st, 'Z');
        }
        resolve(sel, p, &rt);
        ck_assert_uint_eq(rt.n_pids, 0);
        ck_assert_str_eq(rt.problem, "matches no process");
        resolved_target_done(&rt);
        reap(a);
        reap(b);
        resolve(sel, p, &rt);
        ck_assert_str_eq(rt.problem, "matches no process");
        resolved_target_done(&rt);

        snprintf(sel, sizeof sel, "pid = %d", (int)a);
        resolve(sel, p, &rt);
        snprintf(why, sizeof why, "no process with pid %d", (int)a);
        ck_assert_str_eq(rt.problem, why);
        resolved_target_done(&rt);

        resolve("pidfile = /nonexistent/x.pid", p, &rt);
        ck_assert_str_eq(rt.problem, "cannot read pidfile /nonexistent/x.pid: No such file or directory");
        resolved_target_done(&rt);
        policy_free(p);
}
END_TEST

/* One read of /proc/PID/stat says what four files did: a comm with spaces
 * and ')' in it, the parent, the group, the start time (as
 * proc_starttime reads it), the state; and a table of the host holds this
 * process. */
START_TEST(test_proc_info) {
        int go[2];
        ck_assert_int_eq(pipe(go), 0);
        pid_t child = fork();
        if (child == 0) {
                prctl(PR_SET_NAME, "w) x (y) z");
                close(go[0]);
                (void)!write(go[1], "r", 1);
                pause();
                _exit(0);
        }
        close(go[1]);
        char c;
        ck_assert_int_eq(read(go[0], &c, 1), 1);
        close(go[0]);
        struct proc_info pi;
        ck_assert_int_eq(proc_info_read(child, &pi), 0);
        ck_assert_str_eq(pi.comm, "w) x (y) z");
        ck_assert_int_eq(pi.ppid, getpid());
        ck_assert_int_eq(pi.pgid, getpgid(0));
        ck_assert(!pi.kthread);
        uint64_t start;
        ck_assert_int_eq(proc_starttime(child, &start), 0);
        ck_assert_uint_eq(pi.start, start);
        ck_assert(pi.state == 'S' || pi.state == 'R');
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        ck_assert_int_eq(proc_info_read(child, &pi), -ESRCH);

        struct proc_info self;
        ck_assert_int_eq(proc_info_read(getpid(), &self), 0);
        struct proc_table *pt = NULL;
        ck_assert_int_eq(proc_table_new(&pt), 0);
        bool found = false;
        for (size_t i = 0; i < pt->n; i++) {
                if (i)
                        ck_assert_int_lt(pt->v[i - 1].pid, pt->v[i].pid); /* sorted by pid */
                if (pt->v[i].pid == getpid())
                        found = pt->v[i].start == self.start && streq(pt->v[i].comm, self.comm);
        }
        ck_assert(found);
        proc_table_free(pt);
}
END_TEST

int main(void) {
        Suite *s = suite_create("plan");
        TCase *tc = tcase_create("host");
        /* Above the 10 s test_resolve waits for its children to die at
         * most: Check's default, 4 s, would cut that wait short under load. */
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_mountinfo);
        tcase_add_test(tc, test_proc);
        tcase_add_test(tc, test_proc_info);
        tcase_add_test(tc, test_resolve);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
