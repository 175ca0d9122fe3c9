/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "host.h"
#include "resolve.h"

static int add_excluded(struct resolved_target *rt, pid_t pid, const char *fmt, ...) _printf_(3, 4);
static int add_excluded(struct resolved_target *rt, pid_t pid, const char *fmt, ...) {
        struct excluded e = {.pid = pid};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e.why, sizeof e.why, fmt, ap);
        va_end(ap);
        return array_push(&rt->ex, &rt->n_ex, sizeof e, &e);
}

/* Whether a process belongs to a protected unit: any component of its
 * cgroup path is the unit's name. */
static const char *protected_unit_of(const struct policy *p, pid_t pid) {
        _cleanup_free_ char *cg = NULL;
        if (p->protect.units.n == 0 || proc_cgroup(pid, &cg) < 0)
                return NULL;
        for (size_t i = 0; i < p->protect.units.n; i++) {
                const char *u = p->protect.units.v[i];
                size_t l = strlen(u);
                for (const char *c = cg; (c = strstr(c, u)); c += l)
                        if (c > cg && c[-1] == '/' && (c[l] == '\0' || c[l] == '/'))
                                return u;
        }
        return NULL;
}

/* ---- one read of /proc/PID/stat per process ----
 *
 * What deciding eligibility needs of a process (its comm, state, parent,
 * process group, whether a kernel thread, and its start time, which names
 * it for its whole life) is all in /proc/PID/stat: one open and read
 * instead of one per fact. */

int proc_info_read(pid_t pid, struct proc_info *pi) {
        char p[32], buf[1024];
        *pi = (struct proc_info){.pid = pid};
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        int e = errno;
        close(fd);
        if (k < 0)
                return e == ESRCH ? -ESRCH : -e;
        buf[k] = '\0';
        /* The comm may hold spaces and ')': it ends at the last one. */
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ')
                return -EIO;
        size_t l = (size_t)(close_paren - open_paren - 1);
        if (l > 15)
                l = 15; /* TASK_COMM_LEN */
        memcpy(pi->comm, open_paren + 1, l);
        pi->comm[l] = '\0';
        int ppid, pgid;
        unsigned long flags;
        unsigned long long start;
        unsigned long code0 = 0, code1 = 0, stack = 0;
        /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
         * cmajflt utime stime cutime cstime priority nice num_threads
         * itrealvalue starttime vsize rss rsslim startcode endcode
         * startstack */
        int k2 = sscanf(close_paren + 2, "%c %d %d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d "
                        "%llu %*u %*d %*u %lu %lu %lu",
                        &pi->state, &ppid, &pgid, &flags, &start, &code0, &code1, &stack);
        if (k2 < 5)
                return -EIO;
        /* Where the program's text and stack are: every exec maps them anew
         * (a new binary, randomized addresses), so they tell an exec that
         * kept the pid, the start time and the comm. */
        pi->image = ((uint64_t)code0 * 31 + code1) * 31 + stack;
        pi->ppid = (pid_t)ppid;
        pi->pgid = (pid_t)pgid;
        pi->kthread = (flags & 0x00200000UL) != 0; /* PF_KTHREAD */
        pi->start = start;
        return 0;
}

static int pid_info_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *)a, y = ((const struct proc_info *)b)->pid;
        return x < y ? -1 : x > y;
}

int proc_table_new(struct proc_table **ret) {
        _cleanup_free_ pid_t *all = NULL;
        size_t n;
        int r = proc_list(&all, &n);
        if (r < 0)
                return r;
        struct proc_table *pt = calloc(1, sizeof *pt);
        if (!pt || !(pt->v = calloc(n + 1, sizeof *pt->v))) {
                free(pt);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (proc_info_read(all[i], &pt->v[pt->n]) == 0)
                        pt->n++; /* gone meanwhile: left out */
        *ret = pt;
        return 0;
}

void proc_table_free(struct proc_table *pt) {
        if (!pt)
                return;
        for (size_t i = 0; i < pt->n; i++)
                free(pt->v[i].exe);
        free(pt->v);
        free(pt);
}

static struct proc_info *table_find(const struct proc_table *pt, pid_t pid) {
        return pt ? bsearch(&pid, pt->v, pt->n, sizeof *pt->v, pid_info_cmp) : NULL;
}

/* What one resolution has learnt of processes, by pid: the candidates and
 * the parents looked at to tell sabot's processes apart, each read once. */
struct seen {
        struct proc_info *v; /* open addressing, pid 0: empty */
        size_t cap;          /* a power of two */
        size_t used;         /* at most half of cap */
        bool full;           /* a pid was left out for want of room */
};

static struct proc_info *seen_get(struct seen *sn, pid_t pid, bool *fresh) {
        size_t h = ((size_t)pid * 2654435761u) & (sn->cap - 1);
        while (sn->v[h].pid && sn->v[h].pid != pid)
                h = (h + 1) & (sn->cap - 1);
        *fresh = !sn->v[h].pid;
        return &sn->v[h];
}

/* The facts of pid: from the plan's table, or read now. NULL if gone. */
static struct proc_info *seen_info(struct seen *sn, const struct proc_table *pt, pid_t pid) {
        bool fresh;
        struct proc_info *pi = seen_get(sn, pid, &fresh);
        if (!fresh)
                return pi->ok < 0 ? NULL : pi;
        if (2 * (sn->used + 1) > sn->cap) {
                sn->full = true;
                return NULL;
        }
        sn->used++;
        const struct proc_info *t = table_find(pt, pid);
        if (t) {
                *pi = *t;
                pi->exe = NULL; /* the table's own */
        } else if (proc_info_read(pid, pi) < 0) {
                *pi = (struct proc_info){.pid = pid, .ok = -1};
                return NULL;
        }
        pi->ok = 1;
        return pi;
}

static bool runs_sabot_now(const struct proc_info *pi) { return proc_runs_sabot(pi->pid, pi->comm); }

/* What runs_sabot_now found, by process, across resolutions (a run
 * strikes again and again at the same processes): a process's file
 * changes only when it execs, and an exec maps a new program text and
 * stack (stat's startcode, endcode, startstack), and mostly a new comm:
 * an answer holds while pid, start time, comm and those stay the same
 * (tests/hostile/test_sabot_never_targets_itself_after_exec.sh: an exec
 * through a link of the same name keeps the comm). Where those fields read
 * 0 nothing is remembered. A comm that says sabot is looked at every time.
 * Direct-mapped; a collision only costs a look. */
#define SABOT_MEMO_SLOTS 4096
static struct {
        pid_t pid;
        uint64_t start;
        char comm[16];
        bool sabot;
        uint64_t image;
} sabot_memo[SABOT_MEMO_SLOTS];

static bool runs_sabot(const struct proc_info *pi) {
        if (streq(pi->comm, "sabot") || streq(pi->comm, "sabot-guardian"))
                return runs_sabot_now(pi);
        size_t h = ((size_t)pi->pid * 2654435761u) % SABOT_MEMO_SLOTS;
        if (sabot_memo[h].pid == pi->pid && sabot_memo[h].start == pi->start && sabot_memo[h].image == pi->image &&
            pi->image && streq(sabot_memo[h].comm, pi->comm))
                return sabot_memo[h].sabot;
        bool v = runs_sabot_now(pi);
        sabot_memo[h].pid = pi->pid;
        sabot_memo[h].start = pi->start;
        sabot_memo[h].image = pi->image;
        memcpy(sabot_memo[h].comm, pi->comm, sizeof pi->comm);
        sabot_memo[h].sabot = v;
        return v;
}

/* proc_is_sabot (host.h) over what sn knows: up the parent chain while
 * the process group stays the same, each process looked at once however
 * many candidates share it (1000 workers of one master: the master once). */
static bool is_sabot(struct seen *sn, const struct proc_table *pt, struct proc_info *pi) {
        struct proc_info *chain[64];
        int n = 0, verdict = 0;
        for (struct proc_info *x = pi;;) {
                if (x->sabot) {
                        verdict = x->sabot > 0;
                        break;
                }
                if (n == 64)
                        break;
                chain[n++] = x;
                if (x->pid <= 1)
                        break;
                if (runs_sabot(x)) {
                        verdict = 1;
                        break;
                }
                struct proc_info *up = x->ppid > 1 ? seen_info(sn, pt, x->ppid) : NULL;
                if (!up && sn->full)
                        /* More processes than room: the walk of host.h, unremembered. */
                        return proc_is_sabot(pi->pid) > 0;
                if (!up || up->pgid != x->pgid)
                        break;
                x = up;
        }
        for (int i = 0; i < n; i++)
                chain[i]->sabot = verdict ? 1 : -1;
        return verdict;
}

/* Sort candidates into eligible and protected. PID 1, kernel threads,
 * every process of every live sabot run (runners, guardians, SLO probes:
 * proc_is_sabot) and what the policy protects are never eligible. One
 * read of /proc/PID/stat per candidate (none where the plan's table has
 * it), and the cgroup only where the policy protects units. */
static int filter_pids(const struct plan *pl, const struct proc_table *pt, struct resolved_target *rt, const pid_t *cand,
                       size_t n) {
        struct seen sn = {.cap = 256};
        while (sn.cap < 4 * n)
                sn.cap *= 2;
        sn.v = calloc(sn.cap, sizeof *sn.v);
        if (!sn.v)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                pid_t pid = cand[i];
                const char *unit;
                /* Exited meanwhile, or exited and not yet reaped: a zombie is
                 * no survivor and cannot be hit. */
                struct proc_info *pi = seen_info(&sn, pt, pid), own;
                if (!pi && sn.full && proc_info_read(pid, &own) == 0)
                        pi = &own, own.sabot = proc_is_sabot(pid) > 0 ? 1 : -1;
                if (!pi || pi->state == 'Z' || pi->state == 'X')
                        continue;
                if (pid == 1)
                        r = add_excluded(rt, pid, "PID 1");
                else if (pi->kthread)
                        r = add_excluded(rt, pid, "kernel thread");
                else if (is_sabot(&sn, pt, pi))
                        r = add_excluded(rt, pid, "a sabot process");
                else if (strv_contains(&pl->p->protect.comms, pi->comm))
                        r = add_excluded(rt, pid, "protected comm %s", pi->comm);
                else if ((unit = protected_unit_of(pl->p, pid)))
                        r = add_excluded(rt, pid, "protected unit %s", unit);
                else {
                        size_t at = rt->n_pids;
                        r = array_push(&rt->pids, &rt->n_pids, sizeof pid, &pid);
                        if (r >= 0) {
                                size_t m = at;
                                r = array_push(&rt->starts, &m, sizeof pi->start, &pi->start);
                        }
                }
        }
        free(sn.v);
        return r;
}

static int set_problem(struct resolved_target *rt, const char *fmt, ...) _printf_(2, 3);
static int set_problem(struct resolved_target *rt, const char *fmt, ...) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        free(rt->problem);
        rt->problem = strdup(buf);
        return rt->problem ? 0 : -ENOMEM;
}

static int match_procs(struct proc_table *pt, const struct target *t, pid_t **ret, size_t *ret_n) {
        pid_t *v = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < pt->n && r >= 0; i++) {
                struct proc_info *pi = &pt->v[i];
                bool match = false;
                if (t->sel == SEL_COMM)
                        match = streq(pi->comm, t->comm);
                else {
                        /* Read once per table: the plan's serves every target. */
                        if (!pi->exe && proc_exe(pi->pid, &pi->exe) < 0)
                                pi->exe = strdup("");
                        if (pi->exe && pi->exe[0]) {
                                /* An upgraded binary shows as "PATH (deleted)". */
                                size_t l = strlen(t->exe);
                                match = strncmp(pi->exe, t->exe, l) == 0 &&
                                        (pi->exe[l] == '\0' || streq(pi->exe + l, " (deleted)"));
                        }
                }
                if (match)
                        r = array_push(&v, &n, sizeof pi->pid, &pi->pid);
        }
        if (r < 0) {
                free(v);
                return -ENOMEM;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int plan_resolve_target(const struct plan *pl, const struct target *t, struct resolved_target *rt) {
        _cleanup_free_ pid_t *cand = NULL;
        /* A comm or exe target's candidates are every process of the host,
         * each stat read once: in the plan's table, or in one of its own. */
        _cleanup_(proc_table_freep) struct proc_table *own = NULL;
        const struct proc_table *pt = pl->procs;
        size_t n = 0;
        int r;
        rt->t = t;
        switch (t->sel) {
        case SEL_UNIT:
        case SEL_CGROUP:
                if (!pl->cgroup_root)
                        return set_problem(rt, "cgroup2 is not mounted on this host");
                if (t->sel == SEL_UNIT) {
                        r = cgroup_find_unit(pl->cgroup_root, t->unit, &rt->cgroup);
                        if (r == -ENOENT)
                                return set_problem(rt, "unit %s has no cgroup below %s (not running?)",
                                                   t->unit, pl->cgroup_root);
                        if (r == -EHOSTUNREACH)
                                return set_problem(rt, "systemd could not be asked for unit %s's cgroup over the "
                                                   "system bus (it is not guessed from cgroup names)", t->unit);
                } else {
                        char p[PATH_MAX];
                        snprintf(p, sizeof p, "%s/%s", pl->cgroup_root, t->cgroup);
                        r = access(p, F_OK) < 0 ? -errno : (rt->cgroup = strdup(p)) ? 0 : -ENOMEM;
                        if (r == -ENOENT)
                                return set_problem(rt, "cgroup %s does not exist", p);
                }
                if (r < 0)
                        return set_problem(rt, "cannot look up the cgroup: %s", strerror(-r));
                r = cgroup_pids(rt->cgroup, &cand, &n);
                if (r < 0)
                        return set_problem(rt, "cannot read %s/cgroup.procs: %s", rt->cgroup, strerror(-r));
                break;
        case SEL_PID:
        case SEL_PIDFILE: {
                pid_t pid = t->pid;
                if (t->sel == SEL_PIDFILE) {
                        r = pidfile_read(t->pidfile, &pid);
                        if (r == -EXDEV) {
                                rt->refused = true;
                                return set_problem(rt, "pidfile %s is on procfs or sysfs (through a symlink?): the "
                                                   "number there names no particular process; use the pidfile "
                                                   "the service writes", t->pidfile);
                        }
                        if (r == -EBADMSG)
                                return set_problem(rt, "pidfile %s does not hold one pid", t->pidfile);
                        if (r < 0)
                                return set_problem(rt, "cannot read pidfile %s: %s", t->pidfile, strerror(-r));
                }
                if (!proc_exists(pid))
                        return set_problem(rt, "no process with pid %d", (int)pid);
                cand = malloc(sizeof *cand);
                if (!cand)
                        return -ENOMEM;
                cand[0] = pid;
                n = 1;
                break;
        }
        case SEL_COMM:
        case SEL_EXE:
                if (!pt) {
                        r = proc_table_new(&own);
                        if (r < 0)
                                return r;
                        pt = own;
                }
                r = match_procs((struct proc_table *)pt, t, &cand, &n);
                if (r < 0)
                        return r;
                break;
        case SEL_EXEC:
        case SEL_NONE:
                return 0; /* launched by the run; or invalid and reported already */
        }
        r = filter_pids(pl, pt, rt, cand, n);
        if (r < 0)
                return r;
        /* A pid or pidfile that names a process never eligible is a mistake
         * in the scenario, not a service that is down. */
        if ((t->sel == SEL_PID || t->sel == SEL_PIDFILE) && rt->n_pids == 0 && rt->n_ex == 1) {
                rt->refused = true;
                if (t->sel == SEL_PID)
                        return set_problem(rt, "pid %d is never a target: %s", (int)t->pid, rt->ex[0].why);
                return set_problem(rt, "pidfile %s names pid %d, which is never a target: %s", t->pidfile,
                                   (int)rt->ex[0].pid, rt->ex[0].why);
        }
        if (rt->n_pids == 0)
                return set_problem(rt, rt->n_ex == 0 ? "matches no process" : "matches only protected processes");
        return 0;
}

/* A launched target's program must be there and executable now: found
 * missing only at launch, the run would already have touched the host. */
/* A comm or exe target that matches nothing now, in a scenario that
 * launches targets: most likely what those will start (a service's
 * workers). The run resolves it when its window opens, as it does every
 * target; the plan says so instead of warning. */
bool plan_resolved_later(const struct scenario *s, const struct target *t, const struct resolved_target *rt) {
        if (!rt->problem || rt->refused || rt->n_ex || (t->sel != SEL_COMM && t->sel != SEL_EXE))
                return false;
        return s->n_launched > 0; /* counted when the scenario was checked */
}

void resolved_target_done(struct resolved_target *rt) {
        free(rt->pids);
        free(rt->starts);
        free(rt->cgroup);
        free(rt->ex);
        free(rt->problem);
}
