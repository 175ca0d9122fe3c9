/* SPDX-License-Identifier: MIT */
/* Process faults: kill and pause. Signals go through pidfds, so a pid that
 * is reused between choosing and signalling is never hit. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "../agent/host.h"
#include "../agent/log.h"
#include "fault.h"
#include "syscall.h"

/* Open a pidfd for (pid, start): -ESRCH when that process is gone, even if
 * its pid now names another one. */
static int pidfd_for(pid_t pid, uint64_t start) {
        int fd = sys_pidfd_open(pid);
        if (fd < 0)
                return -errno;
        uint64_t now;
        /* Checked after the open: the pidfd pins the process it names. */
        if (proc_starttime(pid, &now) < 0 || now != start) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

static int signal_identity(pid_t pid, uint64_t start, int sig) {
        int fd = pidfd_for(pid, start);
        if (fd < 0)
                return fd;
        int r = sys_pidfd_send_signal(fd, sig) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int process_revert_stop(const struct jentry *e) {
        int r = signal_identity(e->pid, e->start, SIGCONT);
        return r == -ESRCH ? 0 : r;
}

static int write_file(const char *path, const char *s) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, s, strlen(s));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

int process_revert_freeze(const struct jentry *e) {
        char p[PATH_MAX];
        if (!e->cgroup)
                return -EBADMSG;
        snprintf(p, sizeof p, "%s/cgroup.freeze", e->cgroup);
        int r = write_file(p, "0");
        return r == -ENOENT ? 0 : r;
}

/* ---- a launched target's cgroup ---- */

/* Whether a cgroup still holds a process: "populated 1" in cgroup.events
 * (this one and its descendants). */
static bool cgroup_populated(const char *cgroup) {
        char p[PATH_MAX], buf[512];
        if (snprintf(p, sizeof p, "%s/cgroup.events", cgroup) >= (int)sizeof p)
                return false;
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        const char *l = strstr(buf, "populated ");
        return l && l[10] == '1';
}

/* Only a directory sabot named (sabot-...), no ".." in the way: the entry
 * is acted on by a root process, whoever wrote the journal. */
static bool is_sabot_cgroup(const char *cgroup) {
        const char *base = cgroup ? strrchr(cgroup, '/') : NULL;
        return base && cgroup[0] == '/' && strncmp(base + 1, "sabot-", 6) == 0 && !strstr(cgroup, "/../") &&
               !strstr(cgroup, "/./");
}

/* rmdir a cgroup and the ones the target made below it, deepest first. */
static int rmdir_cgroup(const char *path, int depth) {
        DIR *d = depth < 16 ? opendir(path) : NULL;
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                                char sub[PATH_MAX];
                                if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < (int)sizeof sub)
                                        (void)rmdir_cgroup(sub, depth + 1);
                        }
                closedir(d);
        }
        return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

int process_revert_cgroup(const struct jentry *e) {
        if (!is_sabot_cgroup(e->cgroup))
                return -EBADMSG;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/cgroup.kill", e->cgroup) >= (int)sizeof p)
                return -ENAMETOOLONG;
        /* cgroup.kill SIGKILLs every process of the cgroup and its
         * descendants, forks racing with it included (Linux 5.14). */
        int r = write_file(p, "1");
        if (r < 0 && r != -ENOENT)
                return r;
        /* The kill is delivered at once; the exits take a moment. Zombies do
         * not keep a cgroup populated. */
        for (int i = 0; r >= 0 && i < 400 && cgroup_populated(e->cgroup); i++)
                nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        return rmdir_cgroup(e->cgroup, 0);
}

/* A cgroup of its own for a launched target, below the cgroup2 root, so
 * that its whole tree ends with the run: the leader may exit and its
 * children leave its process group, none leaves the cgroup unless it is
 * moved. Journaled before it is created. -EOPNOTSUPP where cgroup2 or
 * cgroup.kill is missing: the process group is all there is then. */
static int target_cgroup(struct fault_ctx *c, const struct target *t, char **ret, unsigned *ret_seq) {
        const char *root = c->pl ? c->pl->cgroup_root : NULL;
        if (!root || !c->j->run_id)
                return -EOPNOTSUPP;
        char *path = NULL;
        if (asprintf(&path, "%s/sabot-%s-%s", root, c->j->run_id, t->hdr.name) < 0)
                return -ENOMEM;
        struct jentry e = {.kind = "exec-cgroup", .cgroup = path, .name = t->hdr.name};
        int r = journal_apply(c->j, &e);
        if (r < 0) {
                free(path);
                return r;
        }
        char kill_file[PATH_MAX];
        snprintf(kill_file, sizeof kill_file, "%s/cgroup.kill", path);
        if (mkdir(path, 0755) < 0)
                r = -errno;
        else if (access(kill_file, W_OK) < 0) {
                r = -EOPNOTSUPP;
                (void)rmdir(path);
        }
        if (r < 0) {
                (void)journal_reverted(c->j, e.seq);
                free(path);
                return r == -EOPNOTSUPP ? r : -EOPNOTSUPP;
        }
        *ret = path;
        *ret_seq = e.seq;
        return 0;
}

bool process_entry_running(const struct jentry *e) {
        if (streq(e->kind, "exec"))
                return process_alive(e->pid, e->start);
        if (streq(e->kind, "exec-cgroup"))
                return is_sabot_cgroup(e->cgroup) && cgroup_populated(e->cgroup);
        return false;
}

/* Whether path has name as one whole component: the cgroup of target
 * "t" must not match that of target "t2". */
static bool has_component(const char *path, const char *name) {
        size_t l = strlen(name);
        for (const char *p = path; (p = strstr(p, name)); p++)
                if ((p == path || p[-1] == '/') && (p[l] == '\0' || p[l] == '/'))
                        return true;
        return false;
}

/* Every process of a launched target's cgroup: each through a pidfd,
 * opened and then checked to be in that cgroup still. */
static int signal_cgroup(const char *cgroup, int sig) {
        pid_t *pids = NULL;
        size_t n = 0;
        int r = cgroup_pids(cgroup, &pids, &n);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        const char *base = strrchr(cgroup, '/') + 1;
        for (size_t i = 0; i < n; i++) {
                int fd = sys_pidfd_open(pids[i]);
                if (fd < 0)
                        continue;
                char *rel = NULL;
                if (proc_cgroup(pids[i], &rel) >= 0 && has_component(rel, base))
                        (void)sys_pidfd_send_signal(fd, sig);
                free(rel);
                close(fd);
        }
        free(pids);
        return 0;
}

int process_revert_exec(const struct jentry *e) {
        int fd = pidfd_for(e->pid, e->start);
        if (fd == -ESRCH)
                return 0;
        if (fd < 0)
                return fd;
        /* The leader is ours: its process group is too (setpgid at launch;
         * a pgid is not reused while its leader lives). */
        (void)kill(-e->pid, SIGKILL);
        int r = sys_pidfd_send_signal(fd, SIGKILL) < 0 && errno != ESRCH ? -errno : 0;
        close(fd);
        return r;
}

/* The processes a fault may touch now: the launched one for exec targets,
 * else the target resolved afresh (PID 1, kernel threads, sabot and the
 * policy's protected processes already left out). */
struct victims {
        pid_t *pids;
        size_t n;
        char *cgroup;   /* unit/cgroup targets */
        bool whole;     /* every process of the cgroup is eligible */
};

static void victims_free(struct victims *v) {
        free(v->pids);
        free(v->cgroup);
}

static int find_victims(struct fault_ctx *c, const struct fault *f, struct victims *ret) {
        const struct target *t = c->pl->s->targets[f->target_index];
        *ret = (struct victims){0};
        if (t->sel == SEL_EXEC) {
                pid_t pid = c->exec_pids[f->target_index];
                if (pid > 0 && process_alive(pid, c->exec_starts[f->target_index])) {
                        ret->pids = malloc(sizeof(pid_t));
                        if (!ret->pids)
                                return -ENOMEM;
                        ret->pids[0] = pid;
                        ret->n = 1;
                }
                return 0;
        }
        _cleanup_resolved_target_ struct resolved_target rt = {0};
        int r = plan_resolve_target(c->pl, t, &rt);
        if (r >= 0) {
                ret->pids = TAKE_PTR(rt.pids);
                ret->n = rt.n_pids;
                ret->cgroup = TAKE_PTR(rt.cgroup);
                ret->whole = ret->cgroup && rt.n_ex == 0;
        }
        return r;
}

/* Fisher-Yates over the first k places. */
static void choose(pid_t *v, size_t n, size_t k) {
        for (size_t i = 0; i < k && i + 1 < n; i++) {
                size_t j = i + arc4random_uniform((uint32_t)(n - i));
                pid_t t = v[i];
                v[i] = v[j];
                v[j] = t;
        }
}

static uint32_t survivors_for(struct fault_ctx *c, const struct fault *f) {
        uint32_t s = c->pl->eff.min_survivors;
        return f->type == FAULT_KILL && f->min_survivors > s ? f->min_survivors : s;
}

static bool has_share(const struct fault *f) {
        return f->count || conf_line(&scenario_spec, &f->hdr, "percent");
}

static int always_supported(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        (void)s;
        (void)f;
        int fd = sys_pidfd_open(getpid());
        if (fd < 0) {
                snprintf(why, len, "pidfd_open() is not available (Linux 5.3 or later is needed): %s",
                         strerror(errno));
                return -EOPNOTSUPP;
        }
        close(fd);
        return 0;
}

static int kill_strike(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        struct victims v;
        int r = find_victims(c, f, &v);
        if (r < 0)
                return r;
        uint32_t keep = survivors_for(c, f);
        uint32_t k = blast_strike_count((uint32_t)v.n, f->count, f->percent, keep);
        fr->strikes++;
        if (k == 0) {
                fault_event(c, LOG_NOTICE, f, "strike %u: nothing to kill: %zu eligible process%s, keeping at least %u",
                            fr->strikes, v.n, v.n == 1 ? "" : "es", keep);
                victims_free(&v);
                return 0;
        }
        choose(v.pids, v.n, k);
        char list[512] = "";
        unsigned done = 0;
        for (uint32_t i = 0; i < k; i++) {
                uint64_t start;
                if (proc_starttime(v.pids[i], &start) < 0)
                        continue;
                int q = signal_identity(v.pids[i], start, f->signal);
                if (q < 0)
                        continue; /* gone meanwhile */
                done++;
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", done > 1 ? " " : "", (int)v.pids[i]);
        }
        fr->hits += done;
        fault_event(c, LOG_WARNING, f, "strike %u: SIG%s to %u of %zu process%s (%s), keeping at least %u",
                    fr->strikes, signal_to_name(f->signal) ? signal_to_name(f->signal) : "?", done, v.n,
                    v.n == 1 ? "" : "es", list, keep);
        victims_free(&v);
        return 0;
}

static int kill_apply(struct fault_ctx *c, struct fault_run *fr) { return kill_strike(c, fr); }

static int wait_frozen(const char *cgroup, bool want) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/cgroup.events", cgroup);
        for (int i = 0; i < 100; i++) {
                char buf[512] = "";
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                ssize_t n = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (n > 0) {
                        buf[n] = '\0';
                        char *fz = strstr(buf, "frozen ");
                        if (fz && (fz[7] == '1') == want)
                                return 0;
                }
                nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        }
        return -ETIMEDOUT;
}

static int pause_apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        struct victims v;
        int r = find_victims(c, f, &v);
        if (r < 0)
                return r;
        char freeze[PATH_MAX];
        if (v.whole && !has_share(f) &&
            snprintf(freeze, sizeof freeze, "%s/cgroup.freeze", v.cgroup) < (int)sizeof freeze &&
            access(freeze, W_OK) == 0) {
                /* The whole cgroup: freezing it also holds processes forked
                 * during the window, which signals would miss. */
                struct jentry e = {.kind = "freeze", .cgroup = v.cgroup, .name = f->hdr.name};
                r = journal_apply(c->j, &e);
                if (r >= 0)
                        r = fault_track(fr, e.seq);
                if (r >= 0)
                        r = write_file(freeze, "1");
                if (r >= 0 && wait_frozen(v.cgroup, true) < 0)
                        fault_event(c, LOG_WARNING, f, "%s did not report frozen within 500ms", v.cgroup);
                if (r >= 0) {
                        fr->hits = (unsigned)v.n;
                        fault_event(c, LOG_WARNING, f, "froze cgroup %s (%zu process%s)", v.cgroup, v.n,
                                    v.n == 1 ? "" : "es");
                }
                victims_free(&v);
                return r;
        }
        uint32_t k = has_share(f) ? blast_strike_count((uint32_t)v.n, f->count, f->percent, 0) : (uint32_t)v.n;
        choose(v.pids, v.n, k);
        char list[512] = "";
        for (uint32_t i = 0; i < k; i++) {
                struct jentry e = {.kind = "stop", .pid = v.pids[i], .name = f->hdr.name};
                char st;
                /* A process that is already stopped is not ours to resume. */
                if (proc_starttime(e.pid, &e.start) < 0 || proc_state(e.pid, &st) < 0 || st == 'T' || st == 't')
                        continue;
                r = journal_apply(c->j, &e);
                if (r >= 0)
                        r = fault_track(fr, e.seq);
                if (r < 0)
                        break;
                int q = signal_identity(e.pid, e.start, SIGSTOP);
                if (q == -ESRCH)
                        continue;
                if (q < 0) {
                        r = q;
                        break;
                }
                fr->hits++;
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", fr->hits > 1 ? " " : "", (int)e.pid);
        }
        if (r >= 0)
                fault_event(c, LOG_WARNING, f, "stopped %u of %zu process%s (%s)", fr->hits, v.n, v.n == 1 ? "" : "es",
                            fr->hits ? list : "none");
        victims_free(&v);
        return r < 0 ? r : 0;
}

const struct fault_ops kill_ops = {
        .type = FAULT_KILL,
        .probe = always_supported,
        .apply = kill_apply,
        .strike = kill_strike,
};

const struct fault_ops pause_ops = {
        .type = FAULT_PAUSE,
        .probe = always_supported,
        .apply = pause_apply,
};

int process_signal_entry(const struct jentry *e, int sig) {
        if (streq(e->kind, "exec-cgroup"))
                return is_sabot_cgroup(e->cgroup) ? signal_cgroup(e->cgroup, sig) : -EBADMSG;
        int r = signal_identity(e->pid, e->start, sig);
        if (r >= 0 && streq(e->kind, "exec"))
                (void)kill(-e->pid, sig); /* its process group */
        return r == -ESRCH ? 0 : r;
}

/* The listener a seccomp filter hands out lands on the lowest free fd:
 * the child frees everything above stderr but this one, so it is 3. */
#define NOTIFY_FD 3
#define ERR_FD 100

static bool is_notify_fd(int fd) {
        char p[64], buf[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n < 0)
                return false;
        buf[n] = '\0';
        return strstr(buf, "seccomp notify") != NULL;
}

/* Until the target has exec'd: take its listener, and let every call it
 * makes meanwhile (execve among them) continue. The guardian gets the
 * listener before any of those calls is answered, and each id received
 * goes to the shared page first: if this process dies now, the guardian
 * answers them. The very first one (the child's own execve) could only be
 * lost before its id is stored; the child then never runs the target, and
 * the guardian ends it. */
static int adopt_listener(pid_t pid, int errfd, const struct exec_listener *xl, int *ret_notify, unsigned *ret_li,
                          int *ret_child_errno) {
        int pidfd = sys_pidfd_open(pid), nfd = -1, r = 0;
        unsigned li = 0;
        if (pidfd < 0)
                return -errno;
        for (int ms = 0; ms < 10000; ms++) {
                if (nfd < 0) {
                        nfd = sys_pidfd_getfd(pidfd, NOTIFY_FD);
                        if (nfd >= 0 && !is_notify_fd(nfd))
                                close(nfd), nfd = -1;
                        if (nfd >= 0 && xl && xl->give) {
                                int q = xl->give(xl->ud, nfd);
                                if (q < 0) {
                                        r = q;
                                        break;
                                }
                                li = (unsigned)q;
                        }
                }
                struct pollfd p[2] = {{.fd = errfd, .events = POLLIN}, {.fd = nfd, .events = POLLIN}};
                if (poll(p, nfd >= 0 ? 2 : 1, 1) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (nfd >= 0 && (p[1].revents & POLLIN))
                        (void)syscall_notify_drain(nfd, xl ? xl->shared : NULL, li);
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        int e = 0;
                        ssize_t n = read(errfd, &e, sizeof e);
                        if (n == (ssize_t)sizeof e) {
                                *ret_child_errno = e;
                                break;
                        }
                        if (n == 0) /* exec'd: the error pipe closed on exec */
                                break;
                }
        }
        close(pidfd);
        if (r >= 0 && nfd < 0 && !*ret_child_errno)
                r = -ETIMEDOUT;
        if (r < 0 && nfd >= 0)
                close(nfd);
        else {
                *ret_notify = nfd;
                *ret_li = li;
        }
        return r;
}

int exec_target_start_notify(struct fault_ctx *c, const struct target *t, const char *log_path, const int *nrs,
                             size_t n_nrs, const struct exec_listener *xl, pid_t *ret_pid, uint64_t *ret_start,
                             int *ret_notify, unsigned *ret_listener) {
        char **argv = NULL;
        if (argv_split(t->exec, &argv) < 0 || !argv[0]) {
                argv_free(argv);
                return -ENOMEM;
        }
        int go[2] = {-1, -1}, err[2] = {-1, -1}, r = 0;
        scmp_filter_ctx ctx = NULL;
        char *cgroup = NULL;
        unsigned cg_seq = 0;
        /* Its own cgroup where cgroup2 allows; else its process group only. */
        r = target_cgroup(c, t, &cgroup, &cg_seq);
        if (r < 0 && r != -EOPNOTSUPP)
                goto out;
        r = 0;
        if (n_nrs) {
                /* Built here: the child only loads it. Without no_new_privs,
                 * so setuid programs in the target keep working (root may). */
                ctx = seccomp_init(SCMP_ACT_ALLOW);
                if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < n_nrs; i++)
                        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nrs[i], 0);
                if (r < 0)
                        goto out;
        }
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (logfd < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                if (logfd >= 0)
                        close(logfd);
                goto out;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
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
                int nul = open("/dev/null", O_RDONLY);
                dup2(nul, 0);
                dup2(logfd, 1);
                dup2(logfd, 2);
                char x;
                /* Wait until the journal holds this pid: write-ahead. */
                if (read(go[0], &x, 1) != 1)
                        _exit(127);
                int efd = err[1];
                if (ctx) {
                        if (dup3(err[1], ERR_FD, O_CLOEXEC) < 0)
                                _exit(127);
                        efd = ERR_FD;
                        close_range(NOTIFY_FD, ERR_FD - 1, 0);
                        close_range(ERR_FD + 1, ~0U, 0);
                        /* From here on every notified call waits for the
                         * runner, which is taking the listener from fd 3. */
                        int q = seccomp_load(ctx);
                        if (q < 0) {
                                int e = -q;
                                (void)!write(efd, &e, sizeof e);
                                _exit(127);
                        }
                }
                execv(argv[0], argv);
                int e = errno;
                (void)!write(efd, &e, sizeof e);
                _exit(127);
        }
        close(logfd);
        close(go[0]), go[0] = -1;
        close(err[1]), err[1] = -1;
        if (cgroup) {
                /* Before it may exec, so every process it forks is in the
                 * cgroup too. Without, the process group is what is left. */
                char procs[PATH_MAX], num[32];
                snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup);
                snprintf(num, sizeof num, "%d", (int)pid);
                (void)write_file(procs, num);
        }
        uint64_t start = 0;
        struct jentry e = {.kind = "exec", .pid = pid, .name = t->hdr.name};
        r = proc_starttime(pid, &start);
        e.start = start;
        if (r >= 0)
                r = journal_apply(c->j, &e);
        if (r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                goto out;
        }
        (void)!write(go[1], "g", 1);
        int child_errno = 0, nfd = -1;
        unsigned li = 0;
        if (ctx) {
                r = adopt_listener(pid, err[0], xl, &nfd, &li, &child_errno);
        } else {
                ssize_t n = read(err[0], &child_errno, sizeof child_errno);
                if (n != (ssize_t)sizeof child_errno)
                        child_errno = 0;
        }
        if (r < 0 || child_errno) {
                if (nfd >= 0)
                        close(nfd);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                (void)journal_reverted(c->j, e.seq);
                if (child_errno)
                        r = -child_errno;
                goto out;
        }
        *ret_pid = pid;
        *ret_start = start;
        if (ret_notify)
                *ret_notify = nfd;
        if (ret_listener)
                *ret_listener = li;
out:
        if (r < 0 && cgroup) {
                /* Nothing of the target runs any more: the cgroup goes. */
                struct jentry e = {.kind = "exec-cgroup", .cgroup = cgroup};
                if (process_revert_cgroup(&e) >= 0)
                        (void)journal_reverted(c->j, cg_seq);
        }
        free(cgroup);
        for (int i = 0; i < 2; i++) {
                if (go[i] >= 0)
                        close(go[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        if (ctx)
                seccomp_release(ctx);
        argv_free(argv);
        return r;
}
