/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "host.h"
#include "plan.h"

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
static void check_exec(const struct scenario *s, const struct target *t, struct diags *d) {
        char prog[PATH_MAX];
        size_t l = strcspn(t->exec, " \t");
        if (l >= sizeof prog)
                l = sizeof prog - 1;
        memcpy(prog, t->exec, l);
        prog[l] = '\0';
        struct stat st;
        if (stat(prog, &st) < 0)
                diag_error(d, s->file, t->sel_line, "target '%s': cannot launch %s: %s; give the full path of an "
                           "installed program", t->hdr.name, prog, strerror(errno));
        else if (!S_ISREG(st.st_mode))
                diag_error(d, s->file, t->sel_line, "target '%s': cannot launch %s: not a regular file",
                           t->hdr.name, prog);
        else if (!(st.st_mode & 0111))
                diag_error(d, s->file, t->sel_line, "target '%s': cannot launch %s: it is not executable "
                           "(mode %04o); chmod +x it", t->hdr.name, prog, (unsigned)(st.st_mode & 07777));
}

/* A comm or exe target that matches nothing now, in a scenario that
 * launches targets: most likely what those will start (a service's
 * workers). The run resolves it when its window opens, as it does every
 * target; the plan says so instead of warning. */
static bool resolved_later(const struct scenario *s, const struct target *t, const struct resolved_target *rt) {
        if (!rt->problem || rt->refused || rt->n_ex || (t->sel != SEL_COMM && t->sel != SEL_EXE))
                return false;
        for (size_t i = 0; i < s->n_targets; i++)
                if (s->targets[i]->sel == SEL_EXEC)
                        return true;
        return false;
}

int plan_build(const struct scenario *s, const struct policy *p, const struct limits *eff,
               struct plan **ret, struct diags *d) {
        _cleanup_(plan_freep) struct plan *pl = calloc(1, sizeof *pl);
        if (!pl)
                return -ENOMEM;
        pl->s = s;
        pl->p = p;
        pl->eff = *eff;
        pl->targets = calloc(s->n_targets + 1, sizeof *pl->targets);
        pl->faults = calloc(s->n_faults + 1, sizeof *pl->faults);
        if (!pl->targets || !pl->faults)
                return -ENOMEM;
        int r = cgroup2_mount(&pl->cgroup_root);
        if (r < 0 && r != -ENOENT)
                return r;

        for (size_t i = 0; i < s->n_targets; i++) {
                const struct target *t = s->targets[i];
                struct resolved_target *rt = &pl->targets[i];
                r = plan_resolve_target(pl, t, rt);
                if (r < 0)
                        return r;
                if (t->sel == SEL_EXEC)
                        check_exec(s, t, d);
                /* Nothing running yet may be a service that starts later:
                 * a run judges that when the fault's window opens. */
                if (rt->problem && rt->refused)
                        diag_error(d, s->file, t->sel_line, "target '%s' %s", t->hdr.name, rt->problem);
                else if (rt->problem && !resolved_later(s, t, rt))
                        diag_warning(d, s->file, t->sel_line, "target '%s' %s%s", t->hdr.name, rt->problem,
                                     t->optional ? " (optional)" : "");
        }
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *f = s->faults[i];
                pl->faults[i].f = f;
                if (!f->interface)
                        continue;
                /* In the network namespace this process lives in, which is
                 * where a run applies its faults. */
                pl->faults[i].ifindex = (int)if_nametoindex(f->interface);
                if (!pl->faults[i].ifindex)
                        diag_error(d, s->file, conf_line(&scenario_spec, &f->hdr, "interface"),
                                   "fault '%s': no interface %s in this network namespace (the one sabot runs "
                                   "in); see 'ip link', or run sabot in the namespace that has it "
                                   "(ip netns exec NAME sabot ...)", f->hdr.name, f->interface);
        }
        *ret = TAKE_PTR(pl);
        return 0;
}

static void print_pids(FILE *out, const pid_t *v, size_t n) {
        const size_t show = 12;
        for (size_t i = 0; i < n && i < show; i++) {
                char comm[16] = "?";
                (void)proc_comm(v[i], comm);
                fprintf(out, "%s%d (%s)", i ? ", " : "", (int)v[i], comm);
        }
        if (n > show)
                fprintf(out, ", … %zu more", n - show);
}

static void print_window(FILE *out, const struct scenario *s, const struct fault *f) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        fprintf(out, "%s → %s", format_duration(a, f->start), format_duration(b, fault_end(s, f)));
}

static void print_matches(FILE *out, const struct plan *pl, const struct fault *f) {
        static const char *const proto[] = {"any", "tcp", "udp", "icmp"};
        _cleanup_free_ char *dst = format_cidr_list(&f->dst), *src = format_cidr_list(&f->src),
                            *dp = format_port_list(&f->dport), *sp = format_port_list(&f->sport),
                            *prot = format_port_list(&pl->p->protect.ports);
        fprintf(out, "      match:");
        bool any = false;
        if (f->dst.n)
                fprintf(out, " dst %s;", dst), any = true;
        if (f->src.n)
                fprintf(out, " src %s;", src), any = true;
        if (f->dport.n)
                fprintf(out, " dport %s;", dp), any = true;
        if (f->sport.n)
                fprintf(out, " sport %s;", sp), any = true;
        if (f->protocol)
                fprintf(out, " protocol %s;", proto[f->protocol]), any = true;
        if (f->target)
                fprintf(out, " traffic of target %s;", f->target), any = true;
        fprintf(out, "%s never ports %s\n", any ? "" : " all traffic;", prot && *prot ? prot : "(none)");
}

void plan_print(const struct plan *pl, FILE *out) {
        const struct scenario *s = pl->s;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX], d[FORMAT_MAX];

        fprintf(out, "scenario %s (%s), duration %s\n", s->head.name ? s->head.name : "?", s->file,
                format_duration(a, s->head.duration));
        if (s->head.description)
                fprintf(out, "  %s\n", s->head.description);
        fprintf(out, "policy %s\n", pl->p->path ? pl->p->path : "built-in default (no policy file)");
        char types[FORMAT_MAX] = "";
        for (int t = 0; t < _FAULT_TYPE_MAX; t++)
                if (pl->eff.allowed_types & FAULT_MASK(t))
                        snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s",
                                 types[0] ? "," : "", fault_type_to_string(t));
        fprintf(out, "  limits: max_duration %s, max_delay %s, max_loss %s, max_kill_count %u, "
                     "max_kill_percent %s, min_survivors %u, allowed_types %s\n",
                format_duration(a, pl->eff.max_duration), format_duration(b, pl->eff.max_delay),
                format_ratio(c, pl->eff.max_loss), pl->eff.max_kill_count,
                format_ratio(d, pl->eff.max_kill_percent), pl->eff.min_survivors, types);
        _cleanup_free_ char *ports = format_port_list(&pl->p->protect.ports),
                            *units = format_strv(&pl->p->protect.units),
                            *comms = format_strv(&pl->p->protect.comms),
                            *ifs = format_strv(&pl->p->protect.interfaces);
        fprintf(out, "  protected: ports %s; units %s; comms %s; interfaces %s; always PID 1, kernel "
                     "threads and every process of a sabot run\n",
                ports && *ports ? ports : "-", units && *units ? units : "-", comms && *comms ? comms : "-",
                ifs && *ifs ? ifs : "-");
        fprintf(out, "cgroup2 %s\n", pl->cgroup_root ? pl->cgroup_root : "not mounted");

        fprintf(out, "\ntargets\n");
        if (s->n_targets == 0)
                fprintf(out, "  (none)\n");
        for (size_t i = 0; i < s->n_targets; i++) {
                const struct resolved_target *rt = &pl->targets[i];
                const struct target *t = rt->t;
                bool later = resolved_later(pl->s, t, rt);
                fprintf(out, "  %s%s: %s %s\n", rt->problem && !later ? "! " : "", t->hdr.name, selector_to_string(t->sel),
                        target_value(t, a));
                if (later) {
                        const struct fault *first = NULL;
                        for (size_t k = 0; k < pl->s->n_faults; k++)
                                if (pl->s->faults[k]->target && streq(pl->s->faults[k]->target, t->hdr.name) &&
                                    (!first || pl->s->faults[k]->start < first->start))
                                        first = pl->s->faults[k];
                        char launched[256] = "";
                        for (size_t k = 0; k < pl->s->n_targets; k++)
                                if (pl->s->targets[k]->sel == SEL_EXEC && strlen(launched) < sizeof launched - 70)
                                        snprintf(launched + strlen(launched), sizeof launched - strlen(launched), "%s%s",
                                                 launched[0] ? ", " : "", pl->s->targets[k]->hdr.name);
                        fprintf(out, "      no process yet: resolved when %s%s%s%s opens, among the processes that "
                                "launched target%s %s start%s (children of a launched target), by %s %s\n",
                                first ? "fault " : "its first window", first ? first->hdr.name : "",
                                first ? "'s window at " : "", first ? format_duration(b, first->start) : "",
                                strchr(launched, ',') ? "s" : "", launched, strchr(launched, ',') ? "" : "s",
                                selector_to_string(t->sel), target_value(t, c));
                        continue;
                }
                if (t->sel == SEL_EXEC) {
                        fprintf(out, "      launched by the run under sabot's control, terminated at its end\n");
                        continue;
                }
                if (rt->cgroup)
                        fprintf(out, "      cgroup %s\n", rt->cgroup);
                if (rt->n_pids) {
                        fprintf(out, "      %zu process%s: ", rt->n_pids, rt->n_pids == 1 ? "" : "es");
                        print_pids(out, rt->pids, rt->n_pids);
                        fputc('\n', out);
                }
                for (size_t j = 0; j < rt->n_ex; j++)
                        fprintf(out, "      never touched: %d (%s)\n", (int)rt->ex[j].pid, rt->ex[j].why);
                if (rt->problem)
                        fprintf(out, "      ! %s\n", rt->problem);
        }

        fprintf(out, "\nfaults\n");
        if (s->n_faults == 0)
                fprintf(out, "  (none)\n");
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *f = pl->faults[i].f;
                fprintf(out, "  %s: %s, ", f->hdr.name, fault_type_to_string(f->type));
                print_window(out, s, f);
                fputc('\n', out);
                const struct resolved_target *rt = f->target_index >= 0 ? &pl->targets[f->target_index] : NULL;
                switch (f->type) {
                case FAULT_LATENCY:
                case FAULT_LOSS:
                case FAULT_BLACKHOLE:
                        if (pl->faults[i].ifindex)
                                fprintf(out, "      %s (ifindex %d), %s\n", f->interface, pl->faults[i].ifindex,
                                        f->direction == DIR_EGRESS ? "egress" : "ingress");
                        else
                                fprintf(out, "      ! %s: no such interface on this host\n", f->interface);
                        if (f->type == FAULT_LATENCY) {
                                fprintf(out, "      delay %s", format_duration(a, f->delay));
                                if (f->jitter)
                                        fprintf(out, " ± %s", format_duration(b, f->jitter));
                                fputc('\n', out);
                        } else if (f->type == FAULT_LOSS)
                                fprintf(out, "      drop %s of matching packets\n", format_ratio(a, f->percent));
                        else
                                fprintf(out, "      drop every matching packet\n");
                        print_matches(out, pl, f);
                        fprintf(out, "      would create: %s\n",
                                f->type == FAULT_LATENCY
                                        ? "clsact qdisc (if absent), a sabot cls_bpf filter with mirred redirect, "
                                          "a sabot ifb device with a netem root qdisc"
                                        : "clsact qdisc (if absent), a sabot tc classifier (cls_bpf)");
                        break;
                case FAULT_SYSCALL_ERROR:
                case FAULT_SYSCALL_DELAY: {
                        _cleanup_free_ char *sc = NULL;
                        struct strv names = {.v = f->syscalls.name, .n = f->syscalls.n};
                        sc = format_strv(&names);
                        if (f->type == FAULT_SYSCALL_ERROR)
                                fprintf(out, "      fail %s with %s", sc ? sc : "?",
                                        errno_to_name(f->err) ? errno_to_name(f->err) : "?");
                        else
                                fprintf(out, "      hold %s for %s", sc ? sc : "?", format_duration(b, f->delay));
                        fprintf(out, ", probability %s%s%s\n", format_ratio(a, f->probability), f->path ? ", under " : "",
                                f->path ? f->path : "");
                        fprintf(out, "      target %s; backend %s\n", f->target,
                                f->backend == BACKEND_SECCOMP ? "seccomp"
                                : f->backend == BACKEND_BPF   ? "bpf"
                                : rt && rt->t->sel == SEL_EXEC ? "seccomp (auto: launched target)"
                                                                : "bpf (auto: running target)");
                        break;
                }
                case FAULT_KILL:
                case FAULT_PAUSE: {
                        uint32_t survivors = f->type == FAULT_KILL && f->min_survivors > pl->eff.min_survivors
                                                     ? f->min_survivors
                                                     : pl->eff.min_survivors;
                        uint32_t eligible = rt ? (uint32_t)rt->n_pids : 0;
                        if (rt && rt->t->sel == SEL_EXEC)
                                fprintf(out, "      %s the process that the run launches for target %s\n",
                                        f->type == FAULT_KILL ? "signal" : "stop (and later resume)", f->target);
                        else if (f->type == FAULT_PAUSE && !f->count && !conf_line(&scenario_spec, &f->hdr, "percent"))
                                fprintf(out, "      stop all %u process%s of target %s (cgroup.freeze where "
                                             "available), resume at the window's end\n",
                                        eligible, eligible == 1 ? "" : "es", f->target);
                        else if (rt && resolved_later(pl->s, rt->t, rt)) {
                                fprintf(out, "      %s %s of the processes target %s matches when the window opens%s, "
                                        "keeping at least %u\n", f->type == FAULT_KILL ? "kill" : "stop",
                                        f->count ? (snprintf(c, sizeof c, "%u", f->count), c) : format_ratio(c, f->percent),
                                        f->target, f->type == FAULT_KILL ? " (per strike)" : "",
                                        f->type == FAULT_KILL ? survivors : 0);
                                if (f->type == FAULT_KILL)
                                        fprintf(out, "      signal SIG%s, %s\n", signal_to_name(f->signal),
                                                f->every ? (snprintf(b, sizeof b, "every %s",
                                                                     format_duration(a, f->every)), b)
                                                         : "once at the window's start");
                        } else {
                                ratio_t pct = f->percent;
                                uint32_t k = blast_strike_count(eligible, f->count, pct, survivors);
                                if (f->type == FAULT_PAUSE)
                                        k = blast_strike_count(eligible, f->count, pct, 0);
                                fprintf(out, "      %s %u of %u process%s of target %s%s (%s%s)",
                                        f->type == FAULT_KILL ? "kill" : "stop", k, eligible, eligible == 1 ? "" : "es",
                                        f->target, f->type == FAULT_KILL ? " per strike" : "",
                                        f->count ? "count " : "percent ",
                                        f->count ? (snprintf(c, sizeof c, "%u", f->count), c) : format_ratio(c, pct));
                                if (f->type == FAULT_KILL)
                                        fprintf(out, ", keeping at least %u\n", survivors);
                                else
                                        fprintf(out, ", resume them at the window's end\n");
                                if (f->type == FAULT_KILL)
                                        fprintf(out, "      signal SIG%s, %s\n", signal_to_name(f->signal),
                                                f->every ? (snprintf(b, sizeof b, "every %s",
                                                                     format_duration(a, f->every)), b)
                                                         : "once at the window's start");
                        }
                        break;
                }
                }
        }

        if (s->n_slos) {
                fprintf(out, "\nslos\n");
                for (size_t i = 0; i < s->n_slos; i++) {
                        const struct slo *o = s->slos[i];
                        fprintf(out, "  %s: %s %s, every %s, timeout %s, window %s\n", o->hdr.name,
                                slo_probe_to_string(o->probe),
                                o->url ? o->url : o->command ? o->command : o->probe == PROBE_PSI ? "/proc/pressure" : "",
                                format_duration(a, o->interval), format_duration(b, o->timeout),
                                format_duration(c, o->window));
                        char when[256] = "";
                        if (conf_line(&scenario_spec, &o->hdr, "max_error_rate"))
                                snprintf(when + strlen(when), sizeof when - strlen(when), ", error rate above %s",
                                         format_ratio(a, o->max_error_rate));
                        if (conf_line(&scenario_spec, &o->hdr, "max_latency"))
                                snprintf(when + strlen(when), sizeof when - strlen(when), ", p99 latency above %s",
                                         format_duration(a, o->max_latency));
                        if (conf_line(&scenario_spec, &o->hdr, "max"))
                                snprintf(when + strlen(when), sizeof when - strlen(when), ", value above %g", o->max);
                        if (conf_line(&scenario_spec, &o->hdr, "min"))
                                snprintf(when + strlen(when), sizeof when - strlen(when), ", value below %g", o->min);
                        if (*when)
                                fprintf(out, "      breached by%s\n", when + 1);
                }
        }
}

void resolved_target_done(struct resolved_target *rt) {
        free(rt->pids);
        free(rt->cgroup);
        free(rt->ex);
        free(rt->problem);
}

void plan_free(struct plan *pl) {
        if (!pl)
                return;
        for (size_t i = 0; pl->targets && i < pl->s->n_targets; i++)
                resolved_target_done(&pl->targets[i]);
        free(pl->targets);
        free(pl->faults);
        free(pl->cgroup_root);
        free(pl);
}
