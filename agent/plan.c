/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../faults/fault.h"
#include "host.h"
#include "plan.h"

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

        /* The host's processes read once for every target (a run resolves
         * afresh when a window opens: the table goes after this loop). */
        r = proc_table_new(&pl->procs);
        if (r < 0)
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
                else if (rt->problem && !plan_resolved_later(s, t, rt))
                        diag_warning(d, s->file, t->sel_line, "target '%s' %s%s", t->hdr.name, rt->problem,
                                     t->optional ? " (optional)" : "");
        }
        proc_table_free(TAKE_PTR(pl->procs));
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

int plan_fault_probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        const struct fault_ops *ops = fault_ops_get(f->type);
        if (!ops) {
                snprintf(why, len, "this version of sabot cannot inject %s faults yet; remove the fault or run a "
                         "version that can (see 'sabot --version')", fault_type_to_string(f->type));
                return -EOPNOTSUPP;
        }
        if (!ops->probe)
                return 0;
        int r = ops->probe(s, f, why, len);
        return r < 0 ? r : 0;
}

/* The newest BPF program id now (ids only grow), 0 if none or unreadable. */
static uint32_t bpf_prog_id_last(void) {
        uint32_t id = 0, next;
        while (bpf_prog_get_next_id(id, &next) == 0)
                id = next;
        return id;
}

/* How many of sabot's BPF programs newer than id are loaded. */
static unsigned bpf_sabot_progs_after(uint32_t id) {
        unsigned n = 0;
        for (uint32_t next; bpf_prog_get_next_id(id, &next) == 0; id = next) {
                int fd = bpf_prog_get_fd_by_id(next);
                if (fd < 0)
                        continue;
                struct bpf_prog_info info = {0};
                uint32_t len = sizeof info;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strncmp(info.name, "sabot", 5) == 0)
                        n++;
                close(fd);
        }
        return n;
}

/* The probes try the mechanisms in a network namespace of their own,
 * which the kernel tears down a little after its last process exits,
 * detaching what was attached there: until then their programs are still
 * loaded. plan touches nothing, so it waits for them (at most 3 s; a
 * program another run loaded meanwhile only makes it wait that long). */
static void wait_probes_gone(uint32_t before) {
        for (int i = 0; i < 150 && bpf_sabot_progs_after(before) > 0; i++)
                (void)nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
}

int plan_probe(struct plan *pl, struct diags *d) {
        const struct scenario *s = pl->s;
        /* The probes try the mechanisms (network ones in a namespace of
         * their own), which takes root, as a run does: without it they
         * would only say that. */
        if (s->n_faults && geteuid() != 0) {
                diag_note(d, s->file, 0, "what this host's kernel supports is not checked without root (a run "
                          "checks it before touching anything; 'sabot doctor' as root tells)");
                return 0;
        }
        uint32_t before = bpf_prog_id_last();
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *f = s->faults[i];
                char why[512] = "";
                if (plan_fault_probe(s, f, why, sizeof why) >= 0)
                        continue;
                free(pl->faults[i].unsupported);
                pl->faults[i].unsupported = strdup(why[0] ? why : "not supported here");
                if (!pl->faults[i].unsupported)
                        return -ENOMEM;
                diag_warning(d, s->file, conf_line(&scenario_spec, &f->hdr, "type"),
                             "fault '%s': type = %s is not supported here: %s; a run would exit 6 (with "
                             "--skip-unsupported it leaves the fault out)", f->hdr.name,
                             fault_type_to_string(f->type), pl->faults[i].unsupported);
        }
        wait_probes_gone(before);
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

/* The plan's mark on a fault this host cannot inject. */
static void print_unsupported(FILE *out, const struct resolved_fault *rf) {
        if (rf->unsupported)
                fprintf(out, "      ! not supported here: %s; run would exit 6 (--skip-unsupported leaves it out)\n",
                        rf->unsupported);
}

static void print_window(FILE *out, const struct scenario *s, const struct fault *f) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        fprintf(out, "%s → %s", format_duration(a, f->start), format_duration(b, fault_end(s, f)));
}

void plan_print(const struct plan *pl, FILE *out) {
        const struct scenario *s = pl->s;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX], d[FORMAT_MAX];

        fprintf(out, "scenario %s (%s), duration %s\n", s->head.name ? s->head.name : "?", s->file,
                format_duration(a, s->head.duration));
        if (s->head.description)
                fprintf(out, "  %s\n", s->head.description);
        fprintf(out, "policy %s\n", pl->p->path ? pl->p->path : "built-in default (no policy file)");
        char types[32 * 16] = ""; /* up to 32 kinds' names (a FORMAT_MAX cut the 8th off) */
        for (size_t t = 0; t < n_fault_kinds; t++)
                if (pl->eff.allowed_types & FAULT_MASK(t))
                        snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s",
                                 types[0] ? "," : "", fault_type_to_string((int)t));
        char disk[FORMAT_MAX], mem[FORMAT_MAX];
        const struct reserve *rv[2] = {&pl->eff.min_free_disk, &pl->eff.min_free_memory};
        char *rs[2] = {disk, mem};
        for (int k = 0; k < 2; k++)
                if (rv[k]->is_share)
                        format_ratio(rs[k], rv[k]->share);
                else
                        snprintf(rs[k], FORMAT_MAX, "%lluB", (unsigned long long)rv[k]->bytes);
        char corrupt[FORMAT_MAX], bw[FORMAT_MAX], clk[FORMAT_MAX], dns[FORMAT_MAX], rst[FORMAT_MAX];
        fprintf(out, "  limits: max_duration %s, max_delay %s, max_loss %s, max_corrupt %s, min_bandwidth %s, "
                     "max_dns_percent %s, max_tcp_reset_percent %s, "
                     "max_kill_count %u, max_kill_percent %s, min_survivors %u, min_free_disk %s, min_free_memory %s, "
                     "max_clock_offset %s, allowed_types %s\n",
                format_duration(a, pl->eff.max_duration), format_duration(b, pl->eff.max_delay),
                format_ratio(c, pl->eff.max_loss), format_ratio(corrupt, pl->eff.max_corrupt),
                format_rate(bw, pl->eff.min_bandwidth), format_ratio(dns, pl->eff.max_dns_percent),
                format_ratio(rst, pl->eff.max_tcp_reset_percent), pl->eff.max_kill_count,
                format_ratio(d, pl->eff.max_kill_percent), pl->eff.min_survivors, disk, mem,
                format_clock_offset(clk, (int64_t)pl->eff.max_clock_offset, false), types);
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
                bool later = plan_resolved_later(pl->s, t, rt);
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
                fault_ops_get(f->type)->describe(out, pl, i);
                print_unsupported(out, &pl->faults[i]);
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

void plan_free(struct plan *pl) {
        if (!pl)
                return;
        for (size_t i = 0; pl->targets && i < pl->s->n_targets; i++)
                resolved_target_done(&pl->targets[i]);
        free(pl->targets);
        for (size_t i = 0; pl->faults && i < pl->s->n_faults; i++)
                free(pl->faults[i].unsupported);
        free(pl->faults);
        free(pl->cgroup_root);
        proc_table_free(pl->procs);
        free(pl);
}
