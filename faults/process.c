/* SPDX-License-Identifier: MIT */
/* Process faults: kill and pause. Signals go through pidfds, so a pid that
 * is reused between choosing and signalling is never hit. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
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
#include "process.h"

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
int process_target_cgroup(struct fault_ctx *c, const struct target *t, char **ret, unsigned *ret_seq) {
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
        uint64_t *starts; /* the start time read when resolved; NULL: read it when signalled */
        size_t n;
        char *cgroup;   /* unit/cgroup targets */
        bool whole;     /* every process of the cgroup is eligible */
};

static void victims_free(struct victims *v) {
        free(v->pids);
        free(v->starts);
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
                ret->starts = TAKE_PTR(rt.starts);
                ret->n = rt.n_pids;
                ret->cgroup = TAKE_PTR(rt.cgroup);
                ret->whole = ret->cgroup && rt.n_ex == 0;
        }
        return r;
}

/* Who is struck need not be unpredictable, only fair: a xorshift64*
 * seeded once (glibc's arc4random is a getrandom() system call each time,
 * 1000 of them for a strike at 1000 processes). */
static uint32_t pick_below(uint32_t n) {
        static uint64_t x;
        while (!x)
                x = ((uint64_t)arc4random() << 32) | arc4random();
        /* Lemire's multiply-shift, with rejection of the biased low end. */
        uint32_t floor_ = (uint32_t)(-n) % n;
        for (;;) {
                x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
                uint64_t m = (uint64_t)(uint32_t)((x * 2685821657736338717ULL) >> 32) * n;
                if ((uint32_t)m >= floor_)
                        return (uint32_t)(m >> 32);
        }
}

/* Fisher-Yates over the first k places (the start times alongside). */
static void choose(struct victims *vs, size_t k) {
        pid_t *v = vs->pids;
        size_t n = vs->n;
        for (size_t i = 0; i < k && i + 1 < n; i++) {
                size_t j = i + pick_below((uint32_t)(n - i));
                pid_t t = v[i];
                v[i] = v[j];
                v[j] = t;
                if (vs->starts) {
                        uint64_t s = vs->starts[i];
                        vs->starts[i] = vs->starts[j];
                        vs->starts[j] = s;
                }
        }
}

/* The start time of victim i: as resolved (the identity that was judged
 * eligible), else read now. */
static int victim_start(const struct victims *v, size_t i, uint64_t *ret) {
        if (v->starts) {
                *ret = v->starts[i];
                return 0;
        }
        return proc_starttime(v->pids[i], ret);
}

static uint32_t survivors_for(struct fault_ctx *c, const struct fault *f) {
        /* min_survivors is a key of kill alone: 0 for pause. */
        uint32_t s = c->pl->eff.min_survivors;
        return f->min_survivors > s ? f->min_survivors : s;
}

static bool has_share(const struct fault *f) {
        return f->count || conf_line(&scenario_spec, &f->hdr, "percent");
}

int process_probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
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

int process_kill_strike(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        struct victims v;
        int r = find_victims(c, f, &v);
        if (r < 0)
                return r;
        uint32_t keep = survivors_for(c, f);
        uint32_t k = blast_strike_count((uint32_t)v.n, f->count, f->percent, keep);
        fr->strikes++;
        if (k == 0) {
                fault_event(c, LOG_NOTICE | EVT_STRIKE, f, "strike %u: nothing to kill: %zu eligible process%s, keeping at least %u",
                            fr->strikes, v.n, v.n == 1 ? "" : "es", keep);
                victims_free(&v);
                return 0;
        }
        choose(&v, k);
        char list[512] = "";
        unsigned done = 0;
        for (uint32_t i = 0; i < k; i++) {
                uint64_t start;
                if (victim_start(&v, i, &start) < 0)
                        continue;
                int q = signal_identity(v.pids[i], start, f->signal);
                if (q < 0)
                        continue; /* gone meanwhile */
                done++;
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", done > 1 ? " " : "", (int)v.pids[i]);
        }
        fr->hits += done;
        fault_event(c, LOG_INFO | EVT_STRIKE, f, "strike %u: SIG%s to %u of %zu process%s (%s), keeping at least %u",
                    fr->strikes, signal_to_name(f->signal) ? signal_to_name(f->signal) : "?", done, v.n,
                    v.n == 1 ? "" : "es", list, keep);
        victims_free(&v);
        return 0;
}

int process_kill_apply(struct fault_ctx *c, struct fault_run *fr) {
        if (fr->f->every)
                fr->next_strike_ns = fr->f->start + fr->f->every;
        return process_kill_strike(c, fr);
}

void process_kill_reverted(struct fault_ctx *c, struct fault_run *fr, unsigned n) {
        (void)c, (void)n;
        snprintf(fr->outcome, sizeof fr->outcome, "%u strike%s, %u process%s signalled", fr->strikes,
                 fr->strikes == 1 ? "" : "s", fr->hits, fr->hits == 1 ? "" : "es");
}

void process_kill_progress(struct fault_run *fr, char *buf, size_t len) {
        snprintf(buf, len, "strikes %u, killed %u", fr->strikes, fr->hits);
}

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

int process_pause_apply(struct fault_ctx *c, struct fault_run *fr) {
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
                        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "froze cgroup %s (%zu process%s)", v.cgroup, v.n,
                                    v.n == 1 ? "" : "es");
                }
                victims_free(&v);
                return r;
        }
        uint32_t k = has_share(f) ? blast_strike_count((uint32_t)v.n, f->count, f->percent, 0) : (uint32_t)v.n;
        choose(&v, k);
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
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "stopped %u of %zu process%s (%s)", fr->hits, v.n, v.n == 1 ? "" : "es",
                            fr->hits ? list : "none");
        victims_free(&v);
        return r < 0 ? r : 0;
}

void process_pause_reverted(struct fault_ctx *c, struct fault_run *fr, unsigned n) {
        snprintf(fr->outcome, sizeof fr->outcome, "paused %u process%s, resumed", fr->hits, fr->hits == 1 ? "" : "es");
        fault_event(c, LOG_NOTICE | EVT_REVERT, fr->f, "reverted: resumed %u", n);
}

void process_pause_progress(struct fault_run *fr, char *buf, size_t len) { snprintf(buf, len, "stopped %u", fr->hits); }


int process_signal_entry(const struct jentry *e, int sig) {
        if (streq(e->kind, "exec-cgroup"))
                return is_sabot_cgroup(e->cgroup) ? signal_cgroup(e->cgroup, sig) : -EBADMSG;
        int r = signal_identity(e->pid, e->start, sig);
        if (r >= 0 && streq(e->kind, "exec"))
                (void)kill(-e->pid, sig); /* its process group */
        return r == -ESRCH ? 0 : r;
}

int process_cgroup_join(const char *cgroup, pid_t pid) {
        char procs[PATH_MAX], num[32];
        if (snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup) >= (int)sizeof procs)
                return -ENAMETOOLONG;
        snprintf(num, sizeof num, "%d", (int)pid);
        return write_file(procs, num);
}

/* ---- what kill and pause share before a run ---- */

void process_check(struct scenario *s, struct fault *f, struct diags *d) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        fault_require_target(s, f, d);
        if (fault_line(f, "count") && fault_line(f, "percent"))
                diag_error(d, s->file, fault_line(f, "percent"), "set either count or percent, not both");
        if (fault_ok(f, "count") && f->count == 0)
                diag_error(d, s->file, fault_line(f, "count"), "count must be at least 1");
        if (fault_ok(f, "every")) {
                uint64_t window = fault_end(s, f) - f->start;
                if (f->every < 100 * NSEC_PER_MSEC)
                        diag_error(d, s->file, fault_line(f, "every"), "every = %s is too short; use 100ms "
                                   "or more", format_duration(a, f->every));
                else if (s->head.duration && f->every > window)
                        diag_warning(d, s->file, fault_line(f, "every"), "every = %s is longer than the "
                                     "fault's window (%s): it strikes once",
                                     format_duration(a, f->every), format_duration(b, window));
        }
}

const char *process_share(const struct fault *f, char buf[static FORMAT_MAX]) {
        if (f->count)
                snprintf(buf, FORMAT_MAX, "%u", f->count);
        else
                format_ratio(buf, f->percent);
        return buf;
}

static void process_doctor(doctor_row_fn row, void *ud) {
        char why[PATH_MAX + 512];
        int fd = sys_pidfd_open(getpid());
        snprintf(why, sizeof why, "%s", fd < 0 ? strerror(errno) : "");
        if (fd >= 0)
                close(fd);
        row(ud, "kill, pause (pidfd signals)", why, "Linux 5.3 or later", false);
        char *cg = NULL, *own = NULL, p[PATH_MAX];
        why[0] = '\0';
        if (cgroup2_mount(&cg) < 0)
                snprintf(why, sizeof why, "cgroup2 is not mounted");
        else {
                /* The root cgroup has no cgroup.freeze: look in a child, made
                 * for the look and removed, when sabot runs in the root. */
                char probe[PATH_MAX] = "";
                if (proc_cgroup(getpid(), &own) >= 0 && !streq(own, "/"))
                        snprintf(p, sizeof p, "%s%s/cgroup.freeze", cg, own);
                else if (snprintf(probe, sizeof probe, "%s/sabot-doctor-%d", cg, (int)getpid()) > 0 && mkdir(probe, 0700) == 0)
                        snprintf(p, sizeof p, "%s/cgroup.freeze", probe);
                else
                        snprintf(p, sizeof p, "%s/cgroup.freeze", cg);
                if (access(p, F_OK) < 0)
                        snprintf(why, sizeof why, "no %s", p);
                if (probe[0])
                        rmdir(probe);
        }
        /* Not fatal: pause falls back to SIGSTOP. */
        row(ud, "pause by cgroup.freeze", why, why[0] ? "Linux 5.2 or later with cgroup v2; pause uses SIGSTOP meanwhile" : NULL,
            true);
        free(cg);
        free(own);
}

const struct fault_backend process_backend = {.title = "process faults", .doctor = process_doctor};

void process_describe_stop(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "resumed pid %d", (int)e->pid);
}

void process_describe_freeze(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "thawed %s", e->cgroup ? e->cgroup : "?");
}

void process_describe_exec(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "terminated launched pid %d", (int)e->pid);
}

void process_describe_cgroup(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "ended every process of launched cgroup %s, removed it", e->cgroup ? e->cgroup : "?");
}

uint32_t blast_strike_count(uint32_t eligible, uint32_t count, ratio_t percent, uint32_t min_survivors) {
        uint64_t n = count ? count : (uint64_t)eligible * percent / RATIO_ONE;
        uint32_t room = eligible > min_survivors ? eligible - min_survivors : 0;
        return n < room ? (uint32_t)n : room;
}
