/* SPDX-License-Identifier: MIT */
/* The targets a run launches (exec =): started under the run's control,
 * each in its own process group and, where cgroup2 allows, its own cgroup,
 * journaled before it execs; watched through pidfds; ended at the run's
 * end. What a kind installs in one before it execs (the syscall kinds'
 * seccomp filter) goes through the kind's launch hooks: launching a target
 * is not a fault. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "guardian.h"
#include "host.h"
#include "log.h"
#include "run.h"

int targets_alloc(struct run *r) {
        size_t n = r->s->n_targets + 1;
        r->exec_pids = calloc(n, sizeof *r->exec_pids);
        r->exec_starts = calloc(n, sizeof *r->exec_starts);
        r->exec_pidfds = malloc(n * sizeof *r->exec_pidfds);
        r->exec_srcs = calloc(n, sizeof *r->exec_srcs);
        if (!r->exec_pids || !r->exec_starts || !r->exec_pidfds || !r->exec_srcs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                r->exec_pidfds[i] = -1;
        return 0;
}

int targets_begin(struct run *r) {
        const struct fault_launch_ops *v[RUN_LAUNCH_MAX];
        size_t n = fault_launch_tables(v, RUN_LAUNCH_MAX);
        struct fault_ctx c = run_ctx(r);
        for (size_t i = 0; i < n; i++) {
                r->launch[i].ops = v[i];
                int q = v[i]->begin(&c, r->shared, &r->launch[i].st);
                if (q < 0)
                        return q;
                r->n_launch = i + 1;
        }
        return 0;
}

void targets_release(struct run *r, const struct fault_run *fr) {
        for (size_t i = 0; i < r->n_launch; i++)
                if (r->launch[i].ops->release)
                        r->launch[i].ops->release(r->launch[i].st, fr);
}

/* Start target ti: its own process group, journaled before it execs,
 * ended by the guardian if the runner dies; with whatever the kinds'
 * launch hooks install in it before it execs (*ret_what says what). Its
 * own cgroup where cgroup2 has cgroup.kill, so that its whole tree ends
 * with the run. */
static int exec_target_start(struct run *r, size_t ti, const char *log_path, pid_t *ret_pid, uint64_t *ret_start,
                             const char **ret_what) {
        const struct target *t = r->s->targets[ti];
        struct fault_ctx c = run_ctx(r);
        char **argv = NULL;
        if (argv_split(t->exec, &argv) < 0 || !argv[0]) {
                argv_free(argv);
                return -ENOMEM;
        }
        int go[2] = {-1, -1}, err[2] = {-1, -1}, q = 0;
        void *child[RUN_LAUNCH_MAX] = {NULL};
        const char *what = NULL;
        char *cgroup = NULL;
        unsigned cg_seq = 0;
        /* Its own cgroup where cgroup2 allows; else its process group only. */
        q = process_target_cgroup(&c, t, &cgroup, &cg_seq);
        if (q < 0 && q != -EOPNOTSUPP)
                goto out;
        q = 0;
        for (size_t k = 0; q >= 0 && k < r->n_launch; k++) {
                q = r->launch[k].ops->prepare(r->launch[k].st, &c, (int)ti, &child[k]);
                if (child[k] && !what)
                        what = r->launch[k].ops->what;
        }
        if (q < 0)
                goto out;
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (logfd < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                q = -errno;
                if (logfd >= 0)
                        close(logfd);
                goto out;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                q = -errno;
                close(logfd);
                goto out;
        }
        if (pid == 0) {
                /* No PR_SET_PDEATHSIG: if the runner dies, the guardian first
                 * lets calls held on the seccomp listener go on (fail open),
                 * then ends the target as the run's end would. Before it is
                 * journaled, the child waits on go[], and exits on EOF. */
                if (getppid() != parent)
                        _exit(127);
                /* Only the runner holds the write end: EOF if it dies. */
                close(go[1]);
                setpgid(0, 0);
                child_reset_signals(true);
                child_reset_limits();
                /* CLOEXEC: the copy on 0 stays, this one goes (unless it is
                 * 0: a runner started with stdin closed). */
                int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (nul == 0)
                        (void)fcntl(0, F_SETFD, 0);
                else
                        dup2(nul, 0);
                dup2(logfd, 1);
                dup2(logfd, 2);
                char x;
                /* Wait until the journal holds this pid: write-ahead. */
                if (read(go[0], &x, 1) != 1)
                        _exit(127);
                int efd = err[1];
                for (size_t k = 0; k < r->n_launch; k++)
                        if (child[k] && (efd = r->launch[k].ops->child(child[k], efd)) < 0)
                                _exit(127);
                execv(argv[0], argv);
                int e = errno;
                (void)!write(efd, &e, sizeof e);
                _exit(127);
        }
        close(logfd);
        close(go[0]), go[0] = -1;
        close(err[1]), err[1] = -1;
        /* Before it may exec, so every process it forks is in the cgroup
         * too. Without, the process group is what is left. */
        if (cgroup)
                (void)process_cgroup_join(cgroup, pid);
        uint64_t start = 0;
        struct jentry e = {.kind = "exec", .pid = pid, .name = t->hdr.name};
        q = proc_starttime(pid, &start);
        e.start = start;
        if (q >= 0)
                q = journal_apply(r->j, &e);
        if (q < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                goto out;
        }
        for (size_t k = 0; q >= 0 && k < r->n_launch; k++)
                if (child[k] && r->launch[k].ops->launched)
                        q = r->launch[k].ops->launched(r->launch[k].st, &c, (int)ti, pid, start);
        if (q < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                (void)journal_reverted(r->j, e.seq);
                goto out;
        }
        (void)!write(go[1], "g", 1);
        int child_errno = 0;
        bool adopted = false;
        for (size_t k = 0; q >= 0 && !child_errno && k < r->n_launch; k++)
                /* A hook that serves nothing after the exec (no adopt): the
                 * child's errno is read below, as without hooks. */
                if (child[k] && r->launch[k].ops->adopt) {
                        q = r->launch[k].ops->adopt(r->launch[k].st, &c, (int)ti, pid, err[0], &child_errno);
                        adopted = true;
                }
        if (!adopted) {
                ssize_t n = read(err[0], &child_errno, sizeof child_errno);
                if (n != (ssize_t)sizeof child_errno)
                        child_errno = 0;
        }
        if (q < 0 || child_errno) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                (void)journal_reverted(r->j, e.seq);
                if (child_errno)
                        q = -child_errno;
                goto out;
        }
        *ret_pid = pid;
        *ret_start = start;
        *ret_what = what;
out:
        if (q < 0 && cgroup) {
                /* Nothing of the target runs any more: the cgroup goes. */
                struct jentry ce = {.kind = "exec-cgroup", .cgroup = cgroup};
                if (process_revert_cgroup(&ce) >= 0)
                        (void)journal_reverted(r->j, cg_seq);
        }
        free(cgroup);
        for (int i = 0; i < 2; i++) {
                if (go[i] >= 0)
                        close(go[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        for (size_t k = 0; k < r->n_launch; k++)
                if (child[k])
                        r->launch[k].ops->discard(child[k]);
        argv_free(argv);
        return q;
}

static void reap_target(struct run *r, size_t i) {
        int status;
        pid_t p = waitpid(r->exec_pids[i], &status, WNOHANG);
        if (p == r->exec_pids[i]) {
                if (WIFSIGNALED(status))
                        run_event(r, LOG_WARNING, NULL, "target %s: pid %d was killed by SIG%s", r->s->targets[i]->hdr.name,
                                  (int)p, signal_to_name(WTERMSIG(status)) ? signal_to_name(WTERMSIG(status)) : "?");
                else
                        run_event(r, LOG_WARNING, NULL, "target %s: pid %d exited with status %d",
                                  r->s->targets[i]->hdr.name, (int)p, WEXITSTATUS(status));
        }
        loop_remove(r->exec_srcs[i]);
        r->exec_srcs[i] = NULL;
}

static void on_target_exit(struct loop_source *src, uint32_t events, void *ud) {
        (void)events;
        struct run *r = ud;
        for (size_t i = 0; i < r->s->n_targets; i++)
                if (r->exec_srcs[i] == src) {
                        reap_target(r, i);
                        return;
                }
}

int targets_launch(struct run *r) {
        for (size_t i = 0; i < r->s->n_targets; i++) {
                const struct target *t = r->s->targets[i];
                if (t->sel != SEL_EXEC)
                        continue;
                if (run_guardian_lost(r))
                        return -ECANCELED;
                char log[PATH_MAX], dir[PATH_MAX];
                snprintf(dir, sizeof dir, "%s/logs", r->o->dirs.state);
                /* Checked, so that no one but root has put anything in it. */
                int lfd = -1, q = state_subdir(&r->o->dirs, "logs", 0750, &lfd);
                if (q == -EPERM || q == -ELOOP || q == -ENOTDIR)
                        return log_error("cannot use %s: %s", dir, trust_last()), q;
                if (q < 0)
                        return log_error_errno(q, "cannot create %s: %m", dir);
                close(lfd);
                if (snprintf(log, sizeof log, "%s/%s-%s.log", dir, r->run_id, t->hdr.name) >= (int)sizeof log)
                        return log_error_errno(-ENAMETOOLONG, "state dir path too long: %s", dir);
                const char *what = NULL;
                q = exec_target_start(r, i, log, &r->exec_pids[i], &r->exec_starts[i], &what);
                if (q < 0) {
                        run_event(r, LOG_ERR, NULL, "target %s: cannot start %s: %s", t->hdr.name, t->exec, strerror(-q));
                        return q;
                }
                r->exec_pidfds[i] = sys_pidfd_open(r->exec_pids[i]);
                if (r->exec_pidfds[i] >= 0)
                        (void)loop_add_fd(r->loop, "a launched target's pidfd", r->exec_pidfds[i], EPOLLIN, LOOP_NORMAL,
                                          on_target_exit, r, &r->exec_srcs[i]);
                run_event(r, LOG_INFO, NULL, "target %s: launched %s as pid %d%s%s (output: %s)", t->hdr.name, t->exec,
                          (int)r->exec_pids[i], what ? " under " : "", what ? what : "", log);
        }
        return 0;
}

/* A fault that acts on nothing is chaos that does not happen. */
bool targets_match_nothing(struct run *r, const struct fault *f, char *why, size_t len) {
        if (f->target_index < 0)
                return false;
        const struct fault_ops *ops = fault_ops_get(f->type);
        unsigned reach = ops ? ops->reach : 0;
        const struct target *t = r->s->targets[f->target_index];
        if (t->sel == SEL_EXEC) {
                pid_t pid = r->exec_pids[f->target_index];
                if (pid > 0 && process_alive(pid, r->exec_starts[f->target_index]))
                        return false;
                /* A kind whose reach is the tree (its children keep the
                 * syscall kinds' filter, its cgroup holds them) still acts. */
                for (size_t i = 0; (reach & FAULT_REACH_TREE) && i < r->j->n; i++) {
                        const struct jentry *e = &r->j->v[i];
                        if (!e->reverted && streq(e->kind, "exec-cgroup") && e->name && streq(e->name, t->hdr.name) &&
                            process_entry_running(e))
                                return false;
                }
                snprintf(why, len, "the process the run launched has exited");
                return true;
        }
        _cleanup_resolved_target_ struct resolved_target rt = {0};
        int q = plan_resolve_target(r->pl, t, &rt);
        /* FAULT_REACH_CGROUP: the cgroup is the target, even empty. */
        bool by_cgroup = (t->sel == SEL_UNIT || t->sel == SEL_CGROUP) && (reach & FAULT_REACH_CGROUP);
        bool none = q >= 0 && (by_cgroup ? !rt.cgroup : rt.n_pids == 0);
        if (none)
                snprintf(why, len, "%s", rt.problem ? rt.problem : "matches no process");
        else if (q >= 0 && (reach & FAULT_REACH_WHOLE_UNIT) && rt.n_ex > 0) {
                snprintf(why, len, "it holds a protected process (pid %d: %s), which this fault would reach too",
                         (int)rt.ex[0].pid, rt.ex[0].why);
                none = true;
        }
        return none;
}

static bool is_target_entry(const struct jentry *e) {
        return !e->reverted && (streq(e->kind, "exec") || streq(e->kind, "exec-cgroup"));
}

static bool targets_running(struct run *r) {
        for (size_t k = 0; k < r->j->n; k++)
                if (is_target_entry(&r->j->v[k]) && process_entry_running(&r->j->v[k]))
                        return true;
        return false;
}

/* At the end: SIGTERM to the whole tree of each launched target (its
 * cgroup, its process group; the leader may be gone), up to TARGET_STOP_NS
 * to exit while their calls are still answered and the guardian still
 * hears from us, then the journal's revert (SIGKILL, cgroup.kill). */
void targets_stop(struct run *r) {
        bool any = false;
        for (size_t k = 0; k < r->j->n; k++)
                if (is_target_entry(&r->j->v[k]) && process_entry_running(&r->j->v[k])) {
                        (void)process_signal_entry(&r->j->v[k], SIGTERM);
                        any = true;
                }
        r->phase = PHASE_STOPPING;
        uint64_t deadline = mono_now() + TARGET_STOP_NS;
        while (any && mono_now() < deadline) {
                if (loop_run_once(r->loop, 20) < 0)
                        break;
                any = targets_running(r);
        }
        for (size_t i = 0; i < r->s->n_targets; i++)
                if (r->exec_pids[i] > 0)
                        waitpid(r->exec_pids[i], NULL, WNOHANG);
}

void targets_free(struct run *r) {
        for (size_t i = r->n_launch; i-- > 0;)
                r->launch[i].ops->end(r->launch[i].st);
        r->n_launch = 0;
        for (size_t i = 0; r->exec_pidfds && i < r->s->n_targets; i++) {
                loop_remove(r->exec_srcs[i]);
                if (r->exec_pidfds[i] >= 0)
                        close(r->exec_pidfds[i]);
        }
        free(r->exec_srcs);
        free(r->exec_pidfds);
        free(r->exec_pids);
        free(r->exec_starts);
}
