/* SPDX-License-Identifier: MIT */
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

/* Sort candidates into eligible and protected. PID 1, kernel threads,
 * every process of every live sabot run (runners, guardians, SLO probes:
 * proc_is_sabot) and what the policy protects are never eligible. */
static int filter_pids(const struct plan *pl, struct resolved_target *rt, const pid_t *cand, size_t n) {
        for (size_t i = 0; i < n; i++) {
                pid_t pid = cand[i];
                char comm[16] = "";
                const char *unit;
                int r, k = proc_is_kthread(pid);
                char st = 0;
                /* Exited meanwhile, or exited and not yet reaped: a zombie is
                 * no survivor and cannot be hit. */
                if (k == -ESRCH || proc_state(pid, &st) < 0 || st == 'Z' || st == 'X')
                        continue;
                (void)proc_comm(pid, comm);
                if (pid == 1)
                        r = add_excluded(rt, pid, "PID 1");
                else if (k > 0)
                        r = add_excluded(rt, pid, "kernel thread");
                else if (proc_is_sabot(pid) > 0)
                        r = add_excluded(rt, pid, "a sabot process");
                else if (strv_contains(&pl->p->protect.comms, comm))
                        r = add_excluded(rt, pid, "protected comm %s", comm);
                else if ((unit = protected_unit_of(pl->p, pid)))
                        r = add_excluded(rt, pid, "protected unit %s", unit);
                else
                        r = array_push(&rt->pids, &rt->n_pids, sizeof pid, &pid);
                if (r < 0)
                        return r;
        }
        return 0;
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

static int match_procs(const struct target *t, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ pid_t *all = NULL;
        size_t n_all;
        int r = proc_list(&all, &n_all);
        if (r < 0)
                return r;
        pid_t *v = NULL;
        size_t n = 0;
        for (size_t i = 0; i < n_all; i++) {
                bool match = false;
                if (t->sel == SEL_COMM) {
                        char comm[16];
                        match = proc_comm(all[i], comm) == 0 && streq(comm, t->comm);
                } else {
                        _cleanup_free_ char *exe = NULL;
                        if (proc_exe(all[i], &exe) == 0) {
                                /* An upgraded binary shows as "PATH (deleted)". */
                                size_t l = strlen(t->exe);
                                match = strncmp(exe, t->exe, l) == 0 &&
                                        (exe[l] == '\0' || streq(exe + l, " (deleted)"));
                        }
                }
                if (match && array_push(&v, &n, sizeof all[i], &all[i]) < 0) {
                        free(v);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int plan_resolve_target(const struct plan *pl, const struct target *t, struct resolved_target *rt) {
        _cleanup_free_ pid_t *cand = NULL;
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
                r = match_procs(t, &cand, &n);
                if (r < 0)
                        return r;
                break;
        case SEL_EXEC:
        case SEL_NONE:
                return 0; /* launched by the run; or invalid and reported already */
        }
        r = filter_pids(pl, rt, cand, n);
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
        free(rt->cgroup);
        free(rt->ex);
        free(rt->problem);
}
