/* SPDX-License-Identifier: MIT */
/* One kill strike at N matching processes, through sabot's own code (the
 * target resolved afresh as a run does when a strike is due, the victims
 * chosen, each signalled by pidfd), against the peers that a shell user
 * has (pkill -f PATTERN; kill PID... of a known list) and the floors: N
 * /proc/PID/stat reads (the least that tells a pid's process apart from a
 * reused pid) and N pidfd signals of known pids, in the same run.
 *
 *   kill_scale [-v] [TRIALS] [N]
 *
 * The N processes are copies of sleep named sabot-ksPID, children of the
 * benchmark, each in its own process group; the signal is SIGWINCH, which sleep ignores, so they all stay
 * for every trial. Built-in policy (no policy file is read): its protected
 * units are looked up for every candidate, as on a real host. Trials are
 * interleaved (sabot, pkill, kill, floors) so that load on the shared box
 * falls on each alike. */
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../agent/host.h"
#include "../agent/plan.h"
#include "../agent/policy.h"
#include "../faults/fault.h"
#include "../faults/process.h"
#include "stats.h"

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static pid_t *kids;
static int n_kids;

static void end_kids(void) {
        for (int i = 0; i < n_kids; i++)
                kill(kids[i], SIGKILL);
        for (int i = 0; i < n_kids; i++)
                waitpid(kids[i], NULL, 0);
        n_kids = 0;
}

static void on_signal(int sig) {
        (void)sig;
        end_kids();
        _exit(1);
}

/* fork + exec + wait of argv, its output to /dev/null. */
static int run(char **argv) {
        pid_t p = fork();
        if (p == 0) {
                int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(fd, 1);
                dup2(fd, 2);
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The strike's own words, when asked (-v): what it chose and signalled. */
static bool verbose;
static void on_event(void *ud, int level, const struct fault *f, const char *fmt, va_list ap) {
        (void)ud, (void)level;
        if (!verbose)
                return;
        fprintf(stderr, "%s: ", f->hdr.name);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

static void row(const char *what, uint64_t *v, int n, double base) {
        double p50 = stats_pct_ms(v, n, .5), p99 = stats_pct_ms(v, n, .99);
        printf("  %-44s p50 %7.2f ms  p99 %7.2f ms", what, p50, p99);
        if (base > 0)
                printf("  (%.2fx sabot)", p50 / base);
        putchar('\n');
}

int main(int argc, char **argv) {
        if (argc > 1 && streq(argv[1], "-v"))
                verbose = true, argc--, argv++;
        int trials = argc > 1 ? atoi(argv[1]) : 100;
        int n = argc > 2 ? atoi(argv[2]) : 1000;
        if (trials < 3 || trials > 100000)
                trials = 100;
        if (n < 1 || n > 20000)
                n = 1000;
        char dir[] = "/tmp/sabot-bench.XXXXXX", name[32], path[128], cmd[256];
        if (!mkdtemp(dir))
                return perror("mkdtemp"), 1;
        snprintf(name, sizeof name, "sabot-ks%d", (int)getpid());
        snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(cmd, sizeof cmd, "cp \"$(command -v sleep)\" %s", path);
        if (system(cmd) != 0)
                return fprintf(stderr, "kill_scale: cannot copy sleep to %s\n", path), 1;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        kids = calloc((size_t)n, sizeof *kids);
        /* So that none dies of the benchmark's signal before it execs. */
        signal(SIGWINCH, SIG_IGN);
        for (int i = 0; i < n; i++) {
                pid_t p = fork();
                if (p == 0) {
                        /* Its own process group: processes in the group of
                         * a sabot process (this benchmark runs sabot's code)
                         * are sabot's and never eligible. */
                        setpgid(0, 0);
                        execl(path, name, "600", (char *)NULL);
                        _exit(127);
                }
                if (p < 0)
                        break;
                kids[n_kids++] = p;
        }
        /* Each has exec'd when its comm is the copy's name. */
        for (int i = 0, tries = 0; i < n_kids && tries < 5000; tries++) {
                char comm[16] = "";
                if (proc_comm(kids[i], comm) == 0 && streq(comm, name))
                        i++;
                else
                        nanosleep(&(struct timespec){0, 1000000}, NULL);
        }

        char text[512];
        snprintf(text, sizeof text,
                 "[scenario]\nname = bench-kill\nduration = 1m\n[target w]\ncomm = %s\n"
                 "[fault few]\ntype = kill\ntarget = w\nsignal = WINCH\ncount = 10\n"
                 "[fault all]\ntype = kill\ntarget = w\nsignal = WINCH\ncount = %d\n",
                 name, n);
        struct diags d = {0};
        struct scenario *s = NULL;
        struct policy *p = policy_new_default();
        struct plan *pl = NULL;
        if (scenario_parse("bench.ini", text, strlen(text), &s, &d) < 0 || d.errors || !p)
                return diags_print(&d, stderr), end_kids(), 1;
        struct limits eff = p->limits;
        eff.min_survivors = 0;
        if (plan_build(s, p, &eff, &pl, &d) < 0 || d.errors)
                return diags_print(&d, stderr), end_kids(), 1;
        struct fault_ctx c = {.pl = pl, .event = on_event};
        struct fault_run few = {.f = s->faults[0]}, all = {.f = s->faults[1]};

        uint64_t *t_few = calloc((size_t)trials, 8), *t_all = calloc((size_t)trials, 8), *t_pkill = calloc((size_t)trials, 8),
                 *t_kill = calloc((size_t)trials, 8), *t_stat = calloc((size_t)trials, 8), *t_pidfd = calloc((size_t)trials, 8);
        char **kill_argv = calloc((size_t)n_kids + 3, sizeof *kill_argv);
        kill_argv[0] = "kill";
        kill_argv[1] = "-WINCH";
        for (int i = 0; i < n_kids; i++)
                (void)!asprintf(&kill_argv[i + 2], "%d", (int)kids[i]);
        char *pkill_argv[] = {"pkill", "-WINCH", "-f", path, NULL};
        unsigned miss = 0, last = 0;
        for (int t = 0; t < trials; t++) {
                uint64_t a = now_ns();
                (void)process_kill_strike(&c, &few);
                uint64_t b = now_ns();
                t_few[t] = b - a;
                unsigned before = all.hits;
                (void)process_kill_strike(&c, &all);
                uint64_t e = now_ns();
                t_all[t] = e - b;
                if (all.hits - before != (unsigned)n_kids)
                        miss++, last = all.hits - before;
                a = now_ns();
                (void)run(pkill_argv);
                t_pkill[t] = now_ns() - a;
                a = now_ns();
                (void)run(kill_argv);
                t_kill[t] = now_ns() - a;
                a = now_ns();
                for (int i = 0; i < n_kids; i++) {
                        uint64_t st;
                        (void)proc_starttime(kids[i], &st);
                }
                t_stat[t] = now_ns() - a;
                a = now_ns();
                for (int i = 0; i < n_kids; i++) {
                        int fd = sys_pidfd_open(kids[i]);
                        if (fd >= 0) {
                                (void)sys_pidfd_send_signal(fd, SIGWINCH);
                                close(fd);
                        }
                }
                t_pidfd[t] = now_ns() - a;
        }
        double base_all = stats_pct_ms(t_all, trials, .5);
        printf("kill strike at %d matching processes (comm target, built-in policy), %d interleaved trials:\n", n_kids,
               trials);
        row("sabot strike, count = 10", t_few, trials, 0);
        row("sabot strike, count = all", t_all, trials, 0);
        row("peer: pkill -WINCH -f PATTERN (fork+exec)", t_pkill, trials, base_all);
        row("peer: kill -WINCH PID... (known list)", t_kill, trials, base_all);
        row("floor: read /proc/PID/stat of each", t_stat, trials, base_all);
        row("floor: pidfd_open+send_signal of each", t_pidfd, trials, base_all);
        if (miss)
                printf("  ! %u of %d 'all' strikes signalled fewer than %d processes (last: %u)\n", miss, trials, n_kids,
                       last);
        end_kids();
        unlink(path);
        rmdir(dir);
        plan_free(pl);
        scenario_free(s);
        policy_free(p);
        diags_free(&d);
        return 0;
}
