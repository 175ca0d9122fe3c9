/* SPDX-License-Identifier: MIT */
/* stress: host-wide noise, bought not built. sabot launches stress-ng for
 * the window (CPU, VM and IO workers) in a cgroup of its own below the
 * cgroup2 root (sabot-RUN-stress-FAULT), with hard limits where cgroup2 has
 * the controllers, and ends the whole tree with cgroup.kill: the runner at
 * the window's end, its guardian if the runner dies, sabot abort or
 * recover, from the journal alone. The cgroup is journaled before it is
 * made, and stress-ng (pid and start time, so that a reused pid is never
 * signalled) before it may exec. Memory workers keep the policy's
 * min_free_memory, and every worker stops (cgroup.freeze) while memory
 * pressure (PSI full avg10) is past backoff_psi or MemAvailable is below
 * min_free_memory, and goes on once both are back. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "../agent/host.h"
#include "../agent/loop.h"
#include "cgroup.h"
#include "fault.h"

static const char *const keys[] = {"cpu", "cpu_load", "vm", "vm_bytes", "io", "backoff_psi", NULL};

#define STRESS_WORKERS_MAX 1024
#define STRESS_VM_BYTES_MIN (4ULL << 20)
/* Memory pressure at which the workers stop, when not set. */
#define STRESS_BACKOFF_DEFAULT (RATIO_ONE / 10)
/* How often the pressure is looked at. */
#define STRESS_WATCH_NS (250 * 1000 * 1000ULL)
/* stress-ng's own memory, above its vm workers' (the cgroup's memory.max). */
#define STRESS_MEM_SLACK (64ULL << 20)

static const char *const stress_paths[] = {"/usr/bin/stress-ng", "/usr/local/bin/stress-ng", "/bin/stress-ng", NULL};

static const char *stress_ng(void) {
        for (size_t i = 0; stress_paths[i]; i++)
                if (access(stress_paths[i], X_OK) == 0)
                        return stress_paths[i];
        return NULL;
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        if (f->target)
                diag_error(d, s->file, fault_line(f, "target"), "type = stress loads the whole host, not a target: "
                           "remove 'target' (to squeeze one target, use type = cpu, memory, io or pids)");
        if (!f->cpu && !f->vm && !f->io)
                diag_error(d, s->file, f->hdr.line, "fault '%s' (type = stress) needs at least one of cpu, vm, io "
                           "(stress-ng workers, e.g. cpu = 2)", f->hdr.name);
        const char *const counts[] = {"cpu", "vm", "io"};
        const uint32_t vals[] = {f->cpu, f->vm, f->io};
        for (size_t i = 0; i < 3; i++)
                if (vals[i] > STRESS_WORKERS_MAX)
                        diag_error(d, s->file, fault_line(f, counts[i]), "%s = %u workers is too many; use 0 to %u",
                                   counts[i], vals[i], STRESS_WORKERS_MAX);
        if (fault_line(f, "cpu_load") && !f->cpu)
                diag_error(d, s->file, fault_line(f, "cpu_load"), "cpu_load needs cpu workers (cpu = N)");
        else if (fault_line(f, "cpu_load") && fault_ok(f, "cpu_load") && f->cpu_load < RATIO_ONE / 100)
                diag_error(d, s->file, fault_line(f, "cpu_load"), "cpu_load is below 1%%; use 1%% to 100%%");
        if (fault_line(f, "vm_bytes") && !f->vm)
                diag_error(d, s->file, fault_line(f, "vm_bytes"), "vm_bytes needs vm workers (vm = N)");
        else if (f->vm && !fault_line(f, "vm_bytes"))
                fault_require(s, f, "vm_bytes", " (the memory each vm worker keeps touching, e.g. 256M)", d);
        else if (f->vm && fault_ok(f, "vm_bytes") && f->vm_bytes < STRESS_VM_BYTES_MIN)
                diag_error(d, s->file, fault_line(f, "vm_bytes"), "vm_bytes = %lluB is below 4M; use 4M or more",
                           (unsigned long long)f->vm_bytes);
        if (fault_line(f, "backoff_psi") && fault_ok(f, "backoff_psi") && f->backoff_psi == 0)
                diag_error(d, s->file, fault_line(f, "backoff_psi"), "backoff_psi = 0%% would stop the workers at once; "
                           "use 1%% to 100%% (memory PSI full avg10)");
        /* The default, as the plan and the report show it. */
        if (!fault_line(f, "backoff_psi"))
                f->backoff_psi = STRESS_BACKOFF_DEFAULT;
}

/* "full avg10" of /proc/pressure/memory, in hundredths of a percent. */
static int memory_psi(unsigned *ret) {
        _cleanup_fclose_ FILE *fp = fopen("/proc/pressure/memory", "re");
        char line[256];
        unsigned ip, frac;
        if (!fp)
                return -errno;
        while (fgets(line, sizeof line, fp))
                if (sscanf(line, "full avg10=%u.%2u", &ip, &frac) == 2) {
                        *ret = ip * 100 + frac;
                        return 0;
                }
        return -ENODATA;
}

static uint64_t vm_total(const struct fault *f) { return (uint64_t)f->vm * f->vm_bytes; }

static char *mib(char buf[static FORMAT_MAX], uint64_t bytes) {
        snprintf(buf, FORMAT_MAX, "%lluM", (unsigned long long)(bytes >> 20));
        return buf;
}

/* Where the host is known (validate runs on it), vm workers that would
 * take MemAvailable below min_free_memory are refused before the run. */
static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        uint64_t total, avail;
        char a[FORMAT_MAX], b[FORMAT_MAX], what[256];
        if (!f->vm || host_meminfo(&total, &avail) < 0)
                return;
        uint64_t reserve = reserve_bytes(&lc->eff->min_free_memory, total);
        if (avail >= reserve && avail - reserve >= vm_total(f))
                return;
        snprintf(what, sizeof what, "vm = %u x vm_bytes = %s would leave %s of MemAvailable, which", f->vm,
                 mib(a, f->vm_bytes), mib(b, avail > vm_total(f) ? avail - vm_total(f) : 0));
        lc->over(lc, LIMIT_FREE_MEMORY, fault_line(f, "vm_bytes"), what);
}

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        (void)s, (void)f;
        _cleanup_free_ char *root = NULL;
        if (!stress_ng()) {
                snprintf(why, len, "stress-ng is not installed (apt-get install stress-ng)");
                return -EOPNOTSUPP;
        }
        if (cgroup2_mount(&root) < 0) {
                snprintf(why, len, "cgroup2 is not mounted: stress runs in a cgroup of its own, ended by cgroup.kill");
                return -EOPNOTSUPP;
        }
        return 0;
}

/* stress-ng's command line for f, vm_bytes being each vm worker's. */
static int stress_argv(const struct fault *f, const char *exe, uint64_t vm_bytes, uint64_t timeout_s,
                       char store[][32], char **argv, size_t max) {
        size_t n = 0, k = 0;
#define ARG(s) (argv[n++] = (char *)(s))
#define NUM(fmt, v) (snprintf(store[k], 32, fmt, v), argv[n++] = store[k++])
        ARG(exe);
        if (f->cpu) {
                ARG("--cpu"), NUM("%u", f->cpu);
                if (f->cpu_load)
                        ARG("--cpu-load"), NUM("%u", (unsigned)(f->cpu_load / (RATIO_ONE / 100)));
        }
        if (f->vm)
                ARG("--vm"), NUM("%u", f->vm), ARG("--vm-bytes"), NUM("%llu", (unsigned long long)vm_bytes);
        if (f->io)
                ARG("--io"), NUM("%u", f->io);
        /* Its own end too, past the window's: a last stop if everything
         * else failed. */
        ARG("--timeout"), NUM("%llus", (unsigned long long)timeout_s);
        ARG("--quiet");
        /* Workers the OOM killer took stay dead (and set their own
         * oom_score_adj to 1000: as root, without it, stress-ng sets -1000). */
        ARG("--oomable");
        argv[n] = NULL;
#undef ARG
#undef NUM
        return n < max ? 0 : -E2BIG;
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        char store[12][32], *argv[24], a[FORMAT_MAX], b[FORMAT_MAX];
        const char *exe = stress_ng();
        (void)stress_argv(f, exe ? exe : "stress-ng", f->vm_bytes, (fault_end(pl->s, f) - f->start) / NSEC_PER_SEC + 5,
                          store, argv, ELEMENTSOF(argv));
        fprintf(out, "      runs");
        for (char **p = argv; *p; p++)
                fprintf(out, " %s", *p);
        fprintf(out, "%s\n", exe ? "" : " (NOT INSTALLED)");
        fprintf(out, "      in cgroup %s/sabot-RUN-stress-%s, ended with cgroup.kill at the window's end\n",
                pl->cgroup_root ? pl->cgroup_root : "(cgroup2 not mounted)", f->hdr.name);
        uint64_t total, avail;
        if (host_meminfo(&total, &avail) >= 0)
                fprintf(out, "      memory: %s available now, min_free_memory keeps %s; the workers stop while "
                             "memory PSI full avg10 >= %s or MemAvailable is below it\n", mib(a, avail),
                        mib(b, reserve_bytes(&pl->eff.min_free_memory, total)),
                        format_ratio((char[FORMAT_MAX]){0}, f->backoff_psi));
}

/* ---- the cgroup ---- */

static bool stress_cgroup_ok(const char *cg) {
        const char *base = cg ? strrchr(cg, '/') : NULL;
        return base && cg[0] == '/' && strncmp(base + 1, "sabot-", 6) == 0 && strstr(base, "-stress-") &&
               !strstr(cg, "/../") && !strstr(cg, "/./");
}

/* Write value to the cgroup's file, on cgroup2, never through a link. */
static int cg_write(const char *cg, const char *file, const char *value) { return cgroup2_write_file(cg, file, value); }

static int cg_read_key(const char *cg, const char *file, const char *key, uint64_t *ret) {
        char p[PATH_MAX], line[256];
        if (snprintf(p, sizeof p, "%s/%s", cg, file) >= (int)sizeof p)
                return -ENAMETOOLONG;
        _cleanup_fclose_ FILE *fp = fopen(p, "re");
        if (!fp)
                return -errno;
        size_t l = strlen(key);
        while (fgets(line, sizeof line, fp))
                if (strncmp(line, key, l) == 0 && line[l] == ' ') {
                        *ret = strtoull(line + l + 1, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

/* The revert: stress-ng itself if it is still the process recorded, then
 * every process of the cgroup (cgroup.kill: forks racing with it, frozen
 * and SIGTERM-ignoring ones included), then the cgroup. */
static int revert(const struct jentry *e) {
        if (!stress_cgroup_ok(e->cgroup))
                return -EBADMSG;
        if (e->pid > 0 && e->start) {
                int fd = sys_pidfd_open(e->pid);
                uint64_t now;
                /* Checked after the open: the pidfd pins the process. */
                if (fd >= 0 && proc_starttime(e->pid, &now) >= 0 && now == e->start)
                        (void)sys_pidfd_send_signal(fd, SIGKILL);
                if (fd >= 0)
                        close(fd);
        }
        int r = cg_write(e->cgroup, "cgroup.kill", "1");
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        struct jentry ce = *e;
        ce.pid = 0;
        /* Waits until the cgroup is empty, and removes it. */
        return process_revert_cgroup(&ce);
}

static void describe_entry(const struct jentry *e, char *buf, size_t len) {
        if (e->pid)
                snprintf(buf, len, "ended stress-ng (pid %d) and its workers, removed %s", (int)e->pid,
                         e->cgroup ? e->cgroup : "?");
        else
                snprintf(buf, len, "ended every process of %s, removed it", e->cgroup ? e->cgroup : "?");
}

/* ---- the run ---- */

struct stress_run {
        struct fault_ctx c; /* for events from the watch */
        struct fault_run *fr;
        char *cgroup;
        const char *rel; /* cgroup below the cgroup2 root, as /proc/PID/cgroup has it */
        pid_t pid;
        uint64_t usage0;   /* cpu.stat usage_usec at the start */
        uint64_t reserve;  /* min_free_memory, bytes */
        unsigned backoff;  /* PSI, hundredths of a percent */
        bool frozen, ended, oom_said;
        struct loop_source *watch;
};

static void stress_run_free(void *p) {
        struct stress_run *q = p;
        if (!q)
                return;
        loop_remove(q->watch);
        free(q->cgroup);
        free(q);
}

static uint64_t usage_usec(const struct stress_run *q) {
        uint64_t v = 0;
        return cg_read_key(q->cgroup, "cpu.stat", "usage_usec", &v) >= 0 ? v : 0;
}

/* Read all of dfd/name (a /proc/PID file) into buf, NUL-terminated. */
static int read_at(int dfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k = read(fd, buf, size - 1);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        return 0;
}

/* stress-ng as root sets oom_score_adj -1000 on its main process (seen
 * in the VM tier: 3 of 4 processes at -1000 before --oomable and this),
 * the opposite of the first pick for the OOM killer: every process of the
 * cgroup is set back to 1000, only while it is still in the cgroup. Not
 * by pid number: an open pidfd does not keep a reaped pid from being
 * reused (seen), so /proc/PID is opened as a directory, the pidfd taken
 * before it is asked afterwards whether its process is still there (if
 * it is, the directory is its, since its pid cannot be reused until it
 * is reaped), and the cgroup and the score are read and written through
 * that directory, which stays the process's. How many were set. A kernel
 * that refuses the write was said at the start. */
static int oom_first(const struct stress_run *q) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int set = 0;
        if (cgroup_pids(q->cgroup, &pids, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int pfd = sys_pidfd_open(pids[i]), dfd = -1, wfd = -1;
                char p[64], v[16] = "", cg[8192];
                if (pfd < 0)
                        continue;
                snprintf(p, sizeof p, "/proc/%d", (int)pids[i]);
                if ((dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || sys_pidfd_send_signal(pfd, 0) < 0)
                        continue;
                if (read_at(dfd, "cgroup", cg, sizeof cg) < 0)
                        continue;
                char *l = strstr(cg, "0::");
                while (l && l != cg && l[-1] != '\n')
                        l = strstr(l + 1, "0::");
                if (!l)
                        continue;
                l += 3;
                l[strcspn(l, "\n")] = '\0';
                if (!streq(l, q->rel))
                        continue;
                if (read_at(dfd, "oom_score_adj", v, sizeof v) < 0 || strncmp(v, "1000\n", 5) == 0)
                        continue;
                if ((wfd = openat(dfd, "oom_score_adj", O_WRONLY | O_CLOEXEC)) >= 0 && write(wfd, "1000", 4) == 4)
                        set++;
        }
        return set;
}

/* Every STRESS_WATCH_NS: stop the workers under memory pressure (or
 * below the reserve), let them go on once it is gone. */
static void watch(struct loop_source *s, uint32_t events, void *ud) {
        (void)s, (void)events;
        struct stress_run *q = ud;
        if (q->ended)
                return;
        int status;
        if (waitpid(q->pid, &status, WNOHANG) == q->pid) {
                q->ended = true;
                fault_event(&q->c, LOG_WARNING, q->fr->f, "stress-ng (pid %d) ended before the window did (%s %d)",
                            (int)q->pid, WIFEXITED(status) ? "exit" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                return;
        }
        int set = oom_first(q);
        if (set > 0 && !q->oom_said) {
                q->oom_said = true;
                fault_event(&q->c, LOG_INFO, q->fr->f, "oom_score_adj set back to 1000 for %d stress-ng process%s "
                            "(stress-ng lowers its own as root)", set, set == 1 ? "" : "es");
        }
        unsigned psi = 0;
        uint64_t total, avail;
        bool have_psi = memory_psi(&psi) >= 0, have_mem = host_meminfo(&total, &avail) >= 0;
        /* Below the reserve, whatever did it, noise makes it worse: every
         * kind of worker stops. */
        bool hot = (have_psi && psi >= q->backoff) || (have_mem && avail < q->reserve);
        /* Back on only well below the threshold: no flapping. */
        bool cool = (!have_psi || psi < q->backoff / 2) && (!have_mem || avail >= q->reserve);
        if (hot && !q->frozen) {
                if (cg_write(q->cgroup, "cgroup.freeze", "1") >= 0) {
                        q->frozen = true;
                        q->fr->strikes++;
                        fault_event(&q->c, LOG_WARNING, q->fr->f, "backing off: memory PSI full avg10 %u.%02u%%, "
                                    "MemAvailable %lluM: stress-ng's workers stopped", psi / 100, psi % 100,
                                    have_mem ? (unsigned long long)(avail >> 20) : 0ULL);
                }
        } else if (cool && q->frozen) {
                if (cg_write(q->cgroup, "cgroup.freeze", "0") >= 0) {
                        q->frozen = false;
                        fault_event(&q->c, LOG_NOTICE, q->fr->f, "pressure gone (memory PSI full avg10 %u.%02u%%): "
                                    "stress-ng's workers go on", psi / 100, psi % 100);
                }
        }
}

/* Hard limits where cgroup2 gives this cgroup the controller (its
 * parent's cgroup.subtree_control): what was set, in buf. */
static void hard_limits(const struct fault *f, const char *cg, uint64_t vm_bytes, char *buf, size_t len) {
        char v[64];
        buf[0] = '\0';
        if (f->vm) {
                snprintf(v, sizeof v, "%llu", (unsigned long long)(vm_bytes * f->vm + STRESS_MEM_SLACK));
                if (cg_write(cg, "memory.max", v) >= 0) {
                        (void)cg_write(cg, "memory.swap.max", "0");
                        snprintf(buf + strlen(buf), len - strlen(buf), " memory.max %s", v);
                }
        }
        if (f->cpu) {
                unsigned long long per = f->cpu_load ? f->cpu_load / (RATIO_ONE / 100) : 100;
                snprintf(v, sizeof v, "%llu 100000", (unsigned long long)f->cpu * per * 1000);
                if (cg_write(cg, "cpu.max", v) >= 0)
                        snprintf(buf + strlen(buf), len - strlen(buf), " cpu.max '%s'", v);
        }
        /* stress-ng forks a worker per instance and some workers fork
         * again (vm's OOM-able children): room for that, not for a fork bomb. */
        snprintf(v, sizeof v, "%u", 4 * (f->cpu + f->vm + f->io) + 64);
        if (cg_write(cg, "pids.max", v) >= 0)
                snprintf(buf + strlen(buf), len - strlen(buf), " pids.max %s", v);
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        const char *exe = stress_ng();
        char a[FORMAT_MAX], b[FORMAT_MAX];
        if (!exe)
                return fault_fail(fr, -ENOENT, "stress-ng is not installed");
        if (!c->pl->cgroup_root || !c->j->run_id)
                return fault_fail(fr, -EOPNOTSUPP, "cgroup2 is not mounted");
        struct stress_run *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        fr->priv = q;
        fr->priv_free = stress_run_free;
        q->c = *c;
        q->fr = fr;
        q->backoff = (unsigned)((f->backoff_psi) / (RATIO_ONE / 10000));
        /* Checked again now: memory may have gone since the plan. */
        uint64_t vm_bytes = f->vm_bytes, total = 0, avail = 0;
        int r = host_meminfo(&total, &avail);
        if (r < 0)
                return fault_fail(fr, r, "cannot read /proc/meminfo");
        q->reserve = reserve_bytes(&c->pl->eff.min_free_memory, total);
        if (f->vm) {
                uint64_t room = avail > q->reserve ? avail - q->reserve : 0;
                if (room / f->vm < vm_bytes) {
                        vm_bytes = room / f->vm;
                        if (vm_bytes < STRESS_VM_BYTES_MIN)
                                return fault_fail(fr, -ENOMEM, "MemAvailable %s leaves no room above min_free_memory "
                                                  "(%s) for %u vm workers", mib(a, avail), mib(b, q->reserve), f->vm);
                        fault_event(c, LOG_WARNING, f, "vm_bytes capped to %s a worker by min_free_memory (%s kept of "
                                    "%s available)", mib(a, vm_bytes), mib(b, q->reserve), mib((char[FORMAT_MAX]){0}, avail));
                }
        }
        if (asprintf(&q->cgroup, "%s/sabot-%s-stress-%s", c->pl->cgroup_root, c->j->run_id, f->hdr.name) < 0) {
                q->cgroup = NULL;
                return -ENOMEM;
        }
        q->rel = q->cgroup + strlen(c->pl->cgroup_root);
        /* Write-ahead: the cgroup, before it exists. */
        struct jentry e = {.kind = "stress", .cgroup = q->cgroup, .name = f->hdr.name};
        r = journal_apply(c->j, &e);
        if (r >= 0)
                r = fault_track(fr, e.seq);
        if (r < 0)
                return r;
        if (mkdir(q->cgroup, 0755) < 0)
                return fault_fail(fr, -errno, "cannot make cgroup %s", q->cgroup);
        char kill_file[PATH_MAX];
        snprintf(kill_file, sizeof kill_file, "%s/cgroup.kill", q->cgroup);
        if (access(kill_file, W_OK) < 0)
                return fault_fail(fr, -EOPNOTSUPP, "%s has no cgroup.kill (Linux 5.14)", q->cgroup);
        char limits[256];
        hard_limits(f, q->cgroup, vm_bytes, limits, sizeof limits);
        q->usage0 = usage_usec(q);

        char store[12][32], *argv[24];
        uint64_t window = (fault_end(c->pl->s, f) - f->start) / NSEC_PER_SEC;
        r = stress_argv(f, exe, vm_bytes, window + 5, store, argv, ELEMENTSOF(argv));
        if (r < 0)
                return r;
        char procs[PATH_MAX];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", q->cgroup);
        int go[2], err[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                close(go[0]), close(go[1]);
                return r;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                close(go[0]), close(go[1]), close(err[0]), close(err[1]);
                return r;
        }
        if (pid == 0) {
                /* Errors go up err[] as (stage, errno): 1 the cgroup, 2
                 * oom_score_adj (reported, not fatal), 3 the exec. */
                int rec[2];
                if (getppid() != parent)
                        _exit(127);
                close(go[1]);
                setpgid(0, 0);
                child_reset_signals(true);
                child_reset_limits();
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (nul >= 0)
                        dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
                /* In the cgroup before it execs: every worker it forks is too. */
                int fd = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1) {
                        rec[0] = 1, rec[1] = errno;
                        (void)!write(err[1], rec, sizeof rec);
                        _exit(127);
                }
                close(fd);
                /* The first thing the OOM killer takes; inherited by its
                 * workers. */
                fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "1000", 4) != 4) {
                        rec[0] = 2, rec[1] = errno;
                        (void)!write(err[1], rec, sizeof rec);
                }
                if (fd >= 0)
                        close(fd);
                char x;
                /* Until the journal holds this pid: write-ahead. EOF: the
                 * runner died. */
                if (read(go[0], &x, 1) != 1)
                        _exit(127);
                execv(argv[0], argv);
                rec[0] = 3, rec[1] = errno;
                (void)!write(err[1], rec, sizeof rec);
                _exit(127);
        }
        close(go[0]);
        close(err[1]);
        q->pid = pid;
        uint64_t start = 0;
        r = proc_starttime(pid, &start);
        struct jentry pe = {.kind = "stress", .cgroup = q->cgroup, .name = f->hdr.name, .pid = pid, .start = start};
        if (r >= 0)
                r = journal_apply(c->j, &pe);
        if (r >= 0)
                r = fault_track(fr, pe.seq);
        if (r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                close(go[1]), close(err[0]);
                return r;
        }
        (void)!write(go[1], "g", 1);
        close(go[1]);
        int rec[2], oom_err = 0, fatal = 0, stage = 0;
        while (read(err[0], rec, sizeof rec) == (ssize_t)sizeof rec) {
                if (rec[0] == 2)
                        oom_err = rec[1];
                else
                        stage = rec[0], fatal = rec[1];
        }
        close(err[0]);
        if (fatal) {
                waitpid(pid, NULL, 0);
                q->ended = true;
                return fault_fail(fr, -fatal, stage == 1 ? "cannot join cgroup %s" : "cannot run %s",
                                  stage == 1 ? q->cgroup : exe);
        }
        fr->hits = 0;
        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "stress-ng (pid %d) started in %s:%s%s%s%s", (int)pid, q->cgroup,
                    f->cpu ? " cpu workers" : "", f->vm ? " vm workers" : "", f->io ? " io workers" : "",
                    limits[0] ? "; hard limits" : "; no cgroup2 controllers for hard limits");
        if (limits[0])
                fault_event(c, LOG_INFO, f, "limits of %s:%s", q->cgroup, limits);
        if (oom_err)
                fault_event(c, LOG_WARNING, f, "oom_score_adj 1000 for stress-ng refused: %s (this kernel refuses "
                            "it); the OOM killer may take another process first", strerror(oom_err));
        r = loop_add_timer(c->loop, "stress-watch", LOOP_NORMAL, watch, q, &q->watch);
        if (r >= 0)
                r = loop_timer_in(q->watch, STRESS_WATCH_NS, STRESS_WATCH_NS);
        if (r < 0)
                fault_event(c, LOG_WARNING, f, "cannot watch memory pressure (%s): no back-off", strerror(-r));
        return 0;
}

static void progress(struct fault_run *fr, char *buf, size_t len) {
        const struct stress_run *q = fr->priv;
        if (!q || !q->cgroup) {
                snprintf(buf, len, "not started");
                return;
        }
        uint64_t used = usage_usec(q) - q->usage0;
        fr->hits = (unsigned)(used / 1000000);
        snprintf(buf, len, "cpu %.1f s used%s%s, backed off %u time%s", (double)used / 1e6, q->frozen ? ", stopped" : "",
                 q->ended ? ", ended" : "", fr->strikes, fr->strikes == 1 ? "" : "s");
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        (void)c;
        struct stress_run *q = fr->priv;
        if (!q || !q->cgroup) {
                snprintf(fr->outcome, sizeof fr->outcome, "not started");
                return;
        }
        loop_remove(q->watch);
        q->watch = NULL;
        uint64_t used = usage_usec(q) - q->usage0;
        fr->hits = (unsigned)(used / 1000000);
        snprintf(fr->outcome, sizeof fr->outcome, "stress-ng ran in %s: cpu %.1f s used (cpu.stat usage_usec), "
                 "backed off %u time%s", q->cgroup, (double)used / 1e6, fr->strikes, fr->strikes == 1 ? "" : "s");
}

static void reverted(struct fault_ctx *c, struct fault_run *fr, unsigned n) {
        (void)n;
        struct stress_run *q = fr->priv;
        /* The runner's child: collected once cgroup.kill ended it. */
        if (q && q->pid > 0 && !q->ended)
                for (int i = 0; i < 200 && waitpid(q->pid, NULL, WNOHANG) == 0; i++)
                        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        if (q)
                q->ended = true;
        fault_event(c, LOG_NOTICE | EVT_REVERT, fr->f, "reverted: %s", fr->outcome);
}

static void doctor(doctor_row_fn row, void *ud) {
        _cleanup_free_ char *root = NULL;
        const char *exe = stress_ng();
        row(ud, "stress (stress-ng)", exe ? "" : "stress-ng is not installed", "apt-get install stress-ng", false);
        row(ud, "stress cgroup (cgroup2, cgroup.kill)", cgroup2_mount(&root) < 0 ? "cgroup2 is not mounted" : "",
            "Linux 5.14 or later with cgroup2 mounted", false);
        /* Tried, in a child of its own: 1000 there changes nothing here. */
        char why[128] = "";
        pid_t pid = fork();
        if (pid == 0) {
                int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                _exit(fd < 0 ? errno : write(fd, "1000", 4) == 4 ? 0 : errno);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
                snprintf(why, sizeof why, "writing oom_score_adj 1000 fails: %s",
                         pid > 0 && WIFEXITED(status) ? strerror(WEXITSTATUS(status)) : "the probe failed");
        row(ud, "stress first for the OOM killer", why,
            "a kernel that lets root write oom_score_adj; without, the OOM killer may take another process first", true);
}

static const struct fault_backend backend = {.title = "host stress", .doctor = doctor};

static const struct jentry_kind entries[] = {{"stress", revert, describe_entry, false}, {NULL}};

const struct fault_ops stress_ops = {
        .kind = {.name = "stress", .summary = "runs stress-ng (CPU, memory, IO workers) in a cgroup of its own for the window",
                 .keys = keys, .check = check, .entries = entries},
        .check_limits = check_limits,
        .backend = &backend,
        .probe = probe,
        .describe = describe,
        .counter_names = {"backoffs", "cpu_seconds"},
        .apply = apply,
        .finish = finish,
        .reverted = reverted,
        .progress = progress,
};
