/* SPDX-License-Identifier: MIT */
/* Kill-switch latency: from the start of `sabot abort` to the last fault
 * reverted, with 10 active pause faults and a hung (SIGSTOPped) runner.
 * Baseline in the same run: what an operator would otherwise do, one
 * `/bin/kill -CONT PID...` over the same ten stopped processes.
 *
 *   abort_latency SABOT [TRIALS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define NFAULTS 10

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static char state_of(pid_t pid) {
        char p[64], buf[512];
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        char *c = strrchr(buf, ')');
        return c && c[1] == ' ' ? c[2] : 0;
}

static bool all(pid_t *w, char st, bool want) {
        for (int i = 0; i < NFAULTS; i++)
                if ((state_of(w[i]) == st) != want)
                        return false;
        return true;
}

static pid_t spawn(char *const argv[], bool quiet) {
        pid_t pid = fork();
        if (pid == 0) {
                int nul = open("/dev/null", O_RDWR);
                dup2(nul, 0);
                if (quiet) {
                        dup2(nul, 1);
                        dup2(nul, 2);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static int run_wait(char *const argv[]) {
        int st;
        pid_t p = spawn(argv, true);
        waitpid(p, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s SABOT [TRIALS]\n", argv[0]);
                return 2;
        }
        const char *sabot = argv[1];
        int trials = argc > 2 ? atoi(argv[2]) : 25;
        if (trials < 1 || trials > 10000)
                trials = 25;
        char dir[] = "/tmp/sabot-bench-XXXXXX";
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
                return perror("mkdtemp"), 1;
        char state[128], run[128], scen[128];
        snprintf(state, sizeof state, "%s/state", dir);
        snprintf(run, sizeof run, "%s/run", dir);
        snprintf(scen, sizeof scen, "%s/ten.ini", dir);

        pid_t w[NFAULTS];
        for (int i = 0; i < NFAULTS; i++) {
                w[i] = fork();
                if (w[i] == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        prctl(PR_SET_NAME, "sabot-bench-w");
                        for (;;)
                                pause();
                }
        }
        FILE *f = fopen(scen, "w");
        fprintf(f, "[scenario]\nname = bench\nduration = 10m\n");
        for (int i = 0; i < NFAULTS; i++)
                fprintf(f, "[target t%d]\npid = %d\n[fault p%d]\ntype = pause\ntarget = t%d\n", i, (int)w[i], i, i);
        fclose(f);

        uint64_t *ab = calloc((size_t)trials, sizeof *ab), *res = calloc((size_t)trials, sizeof *res),
                 *base = calloc((size_t)trials, sizeof *base);
        int failures = 0;
        for (int t = 0; t < trials; t++) {
                char *runv[] = {(char *)sabot, "--state-dir", state, "--run-dir", run, "run", "--yes", scen, NULL};
                pid_t runner = spawn(runv, true);
                uint64_t until = now_ns() + 10000000000ULL;
                while (!all(w, 'T', true) && now_ns() < until)
                        usleep(1000);
                if (!all(w, 'T', true)) {
                        fprintf(stderr, "trial %d: the run did not stop all ten targets\n", t);
                        return 1;
                }
                kill(runner, SIGSTOP); /* hung */
                char *abv[] = {(char *)sabot, "--state-dir", state, "--run-dir", run, "abort", "--reason", "bench", NULL};
                uint64_t t0 = now_ns();
                pid_t a = spawn(abv, true);
                /* The last fault reverted: every target running again. */
                while (!all(w, 'T', false) && now_ns() - t0 < 5000000000ULL)
                        ;
                uint64_t t1 = now_ns();
                int st;
                waitpid(a, &st, 0);
                uint64_t t2 = now_ns();
                if (!all(w, 'T', false) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        failures++;
                res[t] = t1 - t0;
                ab[t] = t2 - t0;
                waitpid(runner, NULL, 0);
                char *armv[] = {(char *)sabot, "--state-dir", state, "--run-dir", run, "arm", NULL};
                run_wait(armv);
                /* The guardian of the killed runner finishes and frees the lock. */
                char lockp[160];
                snprintf(lockp, sizeof lockp, "%s/runs", run);
                until = now_ns() + 5000000000ULL;
                char cmd[256];
                snprintf(cmd, sizeof cmd, "[ -z \"$(ls %s 2>/dev/null)\" ]", lockp);
                while (system(cmd) != 0 && now_ns() < until)
                        usleep(2000);
                usleep(20000);

                /* Baseline: the same ten stopped processes, resumed by hand. */
                for (int i = 0; i < NFAULTS; i++)
                        kill(w[i], SIGSTOP);
                while (!all(w, 'T', true))
                        usleep(500);
                char pids[NFAULTS][16];
                char *killv[NFAULTS + 3] = {"/bin/kill", "-CONT"};
                for (int i = 0; i < NFAULTS; i++) {
                        snprintf(pids[i], sizeof pids[i], "%d", (int)w[i]);
                        killv[i + 2] = pids[i];
                }
                killv[NFAULTS + 2] = NULL;
                t0 = now_ns();
                pid_t k = spawn(killv, true);
                while (!all(w, 'T', false))
                        ;
                base[t] = now_ns() - t0;
                waitpid(k, NULL, 0);
        }
        for (int i = 0; i < NFAULTS; i++)
                kill(w[i], SIGKILL), waitpid(w[i], NULL, 0);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);

        double r50 = stats_pct_ms(res, trials, 0.5), r99 = stats_pct_ms(res, trials, 0.99), rmax = stats_pct_ms(res, trials, 1.0);
        double a50 = stats_pct_ms(ab, trials, 0.5), a99 = stats_pct_ms(ab, trials, 0.99);
        double b50 = stats_pct_ms(base, trials, 0.5), b99 = stats_pct_ms(base, trials, 0.99);
        printf("kill switch, %d trials, %d active pause faults, runner SIGSTOPped:\n", trials, NFAULTS);
        printf("  sabot abort: start -> last fault reverted   p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", r50, r99, rmax);
        printf("  sabot abort: start -> command exited        p50 %.2f ms  p99 %.2f ms\n", a50, a99);
        printf("  baseline /bin/kill -CONT of the same pids   p50 %.2f ms  p99 %.2f ms\n", b50, b99);
        printf("  ratio sabot/baseline (p50)                  %.2fx\n", r50 / b50);
        printf("  target p99 < 50 ms: %s; failed trials: %d\n", r99 < 50 ? "met" : "MISSED", failures);
        return failures || r99 >= 50 ? 1 : 0;
}
