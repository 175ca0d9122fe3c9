/* SPDX-License-Identifier: MIT */
/* Kill-switch and breach latency, on a host that is quiet and on one
 * that is on fire.
 *
 * Kill switch: from the start of `sabot abort` to the last of 10 pause
 * faults reverted, the runner hung (SIGSTOPped). Peer in the same run:
 * `/bin/kill -CONT` of the same ten stopped processes (what an operator
 * would do by hand); floor: ten kill(SIGCONT) from this process.
 *
 * Breach (-b): from the moment the SLO's server starts failing (the flag
 * file its exec probe tests appears) to the last fault reverted: the
 * probe's interval, the judgement and the revert, all counted. Peer: a
 * watchdog probing the same way at the same interval that runs `/bin/kill
 * -CONT` when the probe fails; floor: the same ten kill(SIGCONT).
 *
 * Nothing here polls: the ten targets are this process's children in a
 * process group of their own, and waitid(WSTOPPED | WCONTINUED) reports
 * each stop and resume as it happens; the run's guardian is waited for on
 * the run lock (flock), the runner and the abort with waitid.
 *
 * Each figure in four conditions: quiet and loaded (a CPU hog per core and
 * a disk writer), each with the run dir on a private tmpfs (where
 * production has /run) and with it on a busy ext4 disk (a loop-mounted
 * image with the disk writer on it), >= 100 trials each. The state dir
 * (the latch) is on the ext4 image in both, as /var/lib is on disk. The
 * policy is a file of this benchmark's own.
 *
 *   abort_latency [-b] [-c OLD_SABOT] [-r] [-m quiet,loaded] [-f tmpfs,ext4] SABOT [TRIALS]
 *
 * -c: the same trials, interleaved, with another binary (before/after);
 *     up to three -c.
 * -r: also with the abort (-b: the runner) started under SCHED_RR 1
 *     (reset on fork) and under nice -20, to see what scheduling buys.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define NFAULTS 10
#define MAX_ARMS 8

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static volatile sig_atomic_t alarmed;
static void on_alarm(int sig) { (void)sig, alarmed = 1; }

enum sched_kind { SCHED_PLAIN, SCHED_RT, SCHED_NICE };
static const char *const sched_names[] = {"", " +SCHED_RR", " +nice-20"};

static void apply_sched(enum sched_kind k) {
        if (k == SCHED_RT) {
                struct sched_param sp = {.sched_priority = 1};
                (void)sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp);
        } else if (k == SCHED_NICE)
                (void)setpriority(PRIO_PROCESS, 0, -20);
}

static const char *spawn_log; /* where the next spawn's stderr goes, else /dev/null */

static pid_t spawn(char *const argv[], enum sched_kind k) {
        const char *log = spawn_log;
        spawn_log = NULL;
        pid_t pid = fork();
        if (pid == 0) {
                apply_sched(k);
                int nul = open("/dev/null", O_RDWR);
                int err = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
                dup2(nul, 0);
                dup2(nul, 1);
                dup2(err >= 0 ? err : nul, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static int run_wait(char *const argv[]) {
        int st;
        pid_t p = spawn(argv, SCHED_PLAIN);
        while (waitpid(p, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
        char cmd[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        if (system(cmd) != 0)
                fprintf(stderr, "abort_latency: failed: %s\n", cmd);
}

/* ---- the ten targets and the events of the children ---- */

static pid_t w[NFAULTS], wpgid;
static pid_t runner_pid, abort_pid;
static int n_stopped, n_cont;
static bool runner_stopped, runner_exited, abort_exited;
static int abort_status;
static uint64_t t_last_cont;

/* One child event (blocking, or until the alarm). false on timeout. */
static bool next_event(void) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED) < 0)
                return errno == EINTR && !alarmed;
        uint64_t t = now_ns();
        pid_t p = si.si_pid;
        bool worker = false;
        for (int i = 0; i < NFAULTS; i++)
                worker |= w[i] == p;
        if (worker) {
                if (si.si_code == CLD_STOPPED)
                        n_stopped++;
                else if (si.si_code == CLD_CONTINUED) {
                        n_cont++;
                        t_last_cont = t;
                }
        } else if (p == runner_pid) {
                if (si.si_code == CLD_STOPPED)
                        runner_stopped = true;
                else if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
                        runner_exited = true;
        } else if (p == abort_pid) {
                if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
                        abort_exited = true;
                        abort_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
                }
        }
        return true;
}

static bool wait_until(bool (*cond)(void), unsigned seconds) {
        alarmed = 0;
        alarm(seconds);
        while (!cond())
                if (!next_event() || alarmed) {
                        alarm(0);
                        return cond();
                }
        alarm(0);
        return true;
}

static bool all_stopped(void) { return n_stopped >= NFAULTS; }
static bool all_cont(void) { return n_cont >= NFAULTS; }
static bool all_cont_and_abort(void) { return n_cont >= NFAULTS && abort_exited; }
static bool is_runner_stopped(void) { return runner_stopped || runner_exited; }
static bool is_runner_exited(void) { return runner_exited; }
static bool targets_stopped_or_runner_gone(void) { return n_stopped >= NFAULTS || runner_exited; }

/* ---- load ---- */

static pid_t hogs[64];
static int n_hogs;
static pid_t writer = -1;

static void load_start(const char *disk_dir, bool cpu) {
        if (cpu) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                for (long i = 0; i < n && n_hogs < 64; i++) {
                        pid_t p = fork();
                        if (p == 0) {
                                prctl(PR_SET_PDEATHSIG, SIGKILL);
                                prctl(PR_SET_NAME, "sabot-bench-hog");
                                for (volatile unsigned long x = 0;; x++)
                                        ;
                        }
                        hogs[n_hogs++] = p;
                }
        }
        /* The disk writer: 1 MiB writes over a 64 MiB file, each
         * fdatasync'd, so the ext4 journal is always committing. */
        writer = fork();
        if (writer == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                prctl(PR_SET_NAME, "sabot-bench-dd");
                char path[512];
                snprintf(path, sizeof path, "%s/writer.dat", disk_dir);
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                static char buf[1 << 20];
                memset(buf, 'x', sizeof buf);
                for (off_t o = 0;; o = (o + (off_t)sizeof buf) % (64 << 20)) {
                        if (pwrite(fd, buf, sizeof buf, o) < 0)
                                _exit(1);
                        fdatasync(fd);
                }
        }
}

static void reap(pid_t p) {
        int st;
        while (waitpid(p, &st, 0) < 0 && errno == EINTR)
                ;
}

static void load_stop(void) {
        for (int i = 0; i < n_hogs; i++)
                kill(hogs[i], SIGKILL), reap(hogs[i]);
        n_hogs = 0;
        if (writer > 0)
                kill(writer, SIGKILL), reap(writer);
        writer = -1;
}

/* ---- one condition ---- */

struct arm {
        const char *label;
        const char *sabot; /* NULL: the peer */
        enum sched_kind sched;
        uint64_t *v, *v2; /* per trial: the figure; abort: command exited; breach: the run's own breach_to_reverted */
        int n, n2, failed;
};

static const char *base, *policy;
static char scen[512], scen_b[512], flag[512];
static bool breach;

/* The guardian of the last run has finished: it holds the run lock. */
static void wait_lock_free(const char *run) {
        char p[600];
        snprintf(p, sizeof p, "%s/lock", run);
        int fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return;
        alarmed = 0;
        alarm(10);
        if (flock(fd, LOCK_EX) == 0)
                flock(fd, LOCK_UN);
        alarm(0);
        close(fd);
}

static void restop_workers(void) {
        n_stopped = 0;
        for (int i = 0; i < NFAULTS; i++)
                kill(w[i], SIGSTOP);
        wait_until(all_stopped, 10);
}

/* The floor: ten kill(SIGCONT) from here, seen by waitid. */
static uint64_t trial_floor(void) {
        restop_workers();
        n_cont = 0;
        uint64_t t0 = now_ns();
        for (int i = 0; i < NFAULTS; i++)
                kill(w[i], SIGCONT);
        wait_until(all_cont, 10);
        return t_last_cont - t0;
}

static bool trial_peer(struct arm *a) {
        restop_workers();
        char pids[NFAULTS][16];
        char *argv[NFAULTS + 4];
        int k = 0;
        pid_t watchdog = -1;
        n_cont = 0;
        uint64_t t0;
        if (!breach) {
                argv[k++] = "/bin/kill";
                argv[k++] = "-CONT";
                for (int i = 0; i < NFAULTS; i++) {
                        snprintf(pids[i], sizeof pids[i], "%d", (int)w[i]);
                        argv[k++] = pids[i];
                }
                argv[k] = NULL;
                t0 = now_ns();
                abort_pid = spawn(argv, SCHED_PLAIN);
        } else {
                /* A watchdog with the same probe, at the same interval. */
                unlink(flag);
                watchdog = fork();
                if (watchdog == 0) {
                        char cmd[1024];
                        int o = snprintf(cmd, sizeof cmd, "while /usr/bin/test ! -e %s; do sleep 0.1; done; exec /bin/kill -CONT", flag);
                        for (int i = 0; i < NFAULTS; i++)
                                o += snprintf(cmd + o, sizeof cmd - (size_t)o, " %d", (int)w[i]);
                        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                        _exit(127);
                }
                abort_pid = watchdog;
                usleep(50000 + (unsigned)(rand() % 100000)); /* a random phase of its interval */
                t0 = now_ns();
                int fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0)
                        close(fd);
        }
        abort_exited = false;
        bool ok = wait_until(all_cont, 10);
        wait_until(all_cont_and_abort, 10);
        abort_pid = 0;
        if (!ok) {
                a->failed++;
                return false;
        }
        a->v[a->n++] = t_last_cont - t0;
        return true;
}

static double report_ms(const char *path) {
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *p = strstr(buf, "\"breach_to_reverted_ms\"");
        return p && (p = strchr(p, ':')) ? strtod(p + 1, NULL) : -1;
}

static bool trial_sabot(struct arm *a, const char *state, const char *run) {
        char report[600];
        snprintf(report, sizeof report, "%s/report.json", base);
        unlink(report);
        unlink(flag);
        char *runv[] = {(char *)a->sabot, "--policy", (char *)policy, "--state-dir", (char *)state, "--run-dir", (char *)run,
                        "run", "--yes", "--report", report, breach ? scen_b : scen, NULL};
        n_stopped = n_cont = 0;
        runner_stopped = runner_exited = abort_exited = false;
        char log[600];
        snprintf(log, sizeof log, "%s/runner.log", base);
        spawn_log = log;
        runner_pid = spawn(runv, breach ? a->sched : SCHED_PLAIN);
        bool ok = wait_until(targets_stopped_or_runner_gone, 20) && !runner_exited;
        uint64_t t0 = 0;
        if (ok && !breach) {
                kill(runner_pid, SIGSTOP); /* hung */
                ok = wait_until(is_runner_stopped, 10) && !runner_exited;
                char *abv[] = {(char *)a->sabot, "--policy", (char *)policy, "--state-dir", (char *)state, "--run-dir",
                               (char *)run, "abort", "--reason", "bench", NULL};
                t0 = now_ns();
                abort_pid = spawn(abv, a->sched);
                ok = ok && wait_until(all_cont, 10);
                ok = wait_until(all_cont_and_abort, 10) && ok && abort_status == 0;
                if (abort_exited && a->v2)
                        a->v2[a->n2++] = now_ns() - t0; /* approximately: the exit seen after the last resume */
                abort_pid = 0;
        } else if (ok) {
                usleep(400000 + (unsigned)(rand() % 100000)); /* past the steady state, a random phase of the probe */
                /* A probe that failed on its own (a timeout on this
                 * loaded host) ended the faults before the server did. */
                if (n_cont > 0)
                        ok = false;
                t0 = now_ns();
                int fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0)
                        close(fd);
                ok = wait_until(all_cont, 10) && ok;
        }
        uint64_t t1 = t_last_cont;
        if (!runner_exited) {
                if (!breach && !ok)
                        kill(runner_pid, SIGKILL);
                wait_until(is_runner_exited, 20);
        }
        runner_pid = 0;
        wait_lock_free(run);
        if (breach && a->v2) {
                double ms = report_ms(report);
                if (ms >= 0)
                        a->v2[a->n2++] = (uint64_t)(ms * 1e6);
        }
        char *armv[] = {(char *)a->sabot, "--policy", (char *)policy, "--state-dir", (char *)state, "--run-dir", (char *)run,
                        "arm", NULL};
        run_wait(armv);
        if (!ok) {
                a->failed++;
                /* Why, in the runner's words: its line about the breach or
                 * the steady state, else its last. */
                char line[512] = "", buf[512];
                bool said = false;
                FILE *lf = fopen(log, "r");
                while (lf && fgets(buf, sizeof buf, lf))
                        if (!said) {
                                snprintf(line, sizeof line, "%s", buf);
                                said = strstr(buf, "breached") || strstr(buf, "not met") || strstr(buf, "refus");
                        }
                if (lf)
                        fclose(lf);
                fprintf(stderr, "  trial failed (%s%s): %s", a->label, breach && n_cont > 0 && t_last_cont < t0 ? ", resumed before the server failed" : "", line[0] ? line : "no output\n");
                /* Whatever is left stopped: resumed for the next trial. */
                char *recv[] = {(char *)a->sabot, "--policy", (char *)policy, "--state-dir", (char *)state, "--run-dir",
                                (char *)run, "recover", NULL};
                run_wait(recv);
                for (int i = 0; i < NFAULTS; i++)
                        kill(w[i], SIGCONT);
                return false;
        }
        a->v[a->n++] = t1 - t0;
        return true;
}

static void print_arm(const char *cond, const struct arm *a, int trials) {
        double p50, p99;
        stats_p50_p99_ms(a->v, a->n, &p50, &p99);
        printf("  %-14s %-34s p50 %7.2f ms  p99 %7.2f ms  (%d trials%s%s)\n", cond, a->label, p50, p99, a->n,
               stats_p99_trustworthy(a->n) ? "" : ", p99 = max: too few", a->failed ? ", some FAILED" : "");
        if (a->v2 && a->n2) {
                stats_p50_p99_ms(a->v2, a->n2, &p50, &p99);
                printf("  %-14s   %-32s p50 %7.2f ms  p99 %7.2f ms\n", "",
                       breach ? "of which judgement -> reverted" : "until the command exited", p50, p99);
        }
        (void)trials;
}

int main(int argc, char **argv) {
        const char *old[3] = {NULL};
        int n_old = 0;
        const char *modes = "quiet,loaded", *fss = "tmpfs,ext4";
        bool sched = false;
        int c;
        while ((c = getopt(argc, argv, "bc:rm:f:")) != -1)
                switch (c) {
                case 'b': breach = true; break;
                case 'c':
                        if (n_old < 3)
                                old[n_old++] = optarg;
                        break;
                case 'r': sched = true; break;
                case 'm': modes = optarg; break;
                case 'f': fss = optarg; break;
                default:
                        fprintf(stderr, "usage: %s [-b] [-c OLD_SABOT] [-r] [-m quiet,loaded] [-f tmpfs,ext4] SABOT [TRIALS]\n",
                                argv[0]);
                        return 2;
                }
        if (optind >= argc) {
                fprintf(stderr, "usage: %s [-b] [-c OLD_SABOT] [-r] SABOT [TRIALS]\n", argv[0]);
                return 2;
        }
        const char *sabot = argv[optind];
        int trials = optind + 1 < argc ? atoi(argv[optind + 1]) : 100;
        if (trials < 1 || trials > 100000)
                trials = 100;
        if (geteuid() != 0) {
                fprintf(stderr, "abort_latency: needs root (mounts, sabot run)\n");
                return 2;
        }
        srand((unsigned)getpid());
        struct sigaction sa = {.sa_handler = on_alarm};
        sigaction(SIGALRM, &sa, NULL);

        /* Everything of ours under one private dir: a tmpfs, an ext4 image. */
        static char dir[] = "/tmp/sabot-bench-XXXXXX";
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
                return perror("mkdtemp"), 1;
        base = dir;
        char tmpfs[256], ext4[256], img[256], pol[256];
        snprintf(tmpfs, sizeof tmpfs, "%s/tmpfs", dir);
        snprintf(ext4, sizeof ext4, "%s/ext4", dir);
        snprintf(img, sizeof img, "%s/ext4.img", dir);
        snprintf(pol, sizeof pol, "%s/policy.ini", dir);
        policy = pol;
        mkdir(tmpfs, 0755);
        mkdir(ext4, 0755);
        char src[64];
        snprintf(src, sizeof src, "sabot-bench-%d", (int)getpid());
        if (mount(src, tmpfs, "tmpfs", 0, "size=64m,mode=0755") < 0)
                return perror("mount tmpfs"), 1;
        sh("truncate -s 512M %s && mkfs.ext4 -q -F %s && mount -o loop %s %s && chmod 755 %s", img, img, img, ext4, ext4);
        FILE *f = fopen(pol, "w");
        fprintf(f, "[limits]\nallowed_types = pause\n");
        fclose(f);
        snprintf(flag, sizeof flag, "%s/flag", dir);

        /* The ten targets, in a process group of their own. */
        for (int i = 0; i < NFAULTS; i++) {
                w[i] = fork();
                if (w[i] == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        prctl(PR_SET_NAME, "sabot-bench-w");
                        setpgid(0, wpgid);
                        for (;;)
                                pause();
                }
                setpgid(w[i], wpgid);
                if (!wpgid)
                        wpgid = w[i];
        }
        snprintf(scen, sizeof scen, "%s/ten.ini", dir);
        snprintf(scen_b, sizeof scen_b, "%s/breach.ini", dir);
        for (int b = 0; b < 2; b++) {
                f = fopen(b ? scen_b : scen, "w");
                fprintf(f, "[scenario]\nname = bench\nduration = %s\n", b ? "1m" : "10m");
                if (b)
                        fprintf(f, "steady_state = 300ms\n");
                for (int i = 0; i < NFAULTS; i++)
                        fprintf(f, "[target t%d]\npid = %d\n[fault p%d]\ntype = pause\ntarget = t%d\n", i, (int)w[i], i, i);
                if (b)
                        fprintf(f, "[slo flag]\nprobe = exec\ncommand = /usr/bin/test ! -e %s\ninterval = 100ms\n"
                                   "timeout = 100ms\nmin_samples = 1\nmax_error_rate = 0%%\n", flag);
                fclose(f);
        }

        printf("%s, %d active pause faults, %d trials per figure; run dir on a private tmpfs or on a busy ext4 image "
               "(state dir on that image); loaded = a CPU hog per core (%ld) + a disk writer (1 MiB fdatasync'd "
               "writes on the image)\n",
               breach ? "SLO breach: server failing -> last fault reverted (exec probe, interval 100ms)"
                      : "kill switch: sabot abort started -> last fault reverted (runner SIGSTOPped)",
               NFAULTS, trials, sysconf(_SC_NPROCESSORS_ONLN));
        int failures = 0;
        for (int loaded = 0; loaded < 2; loaded++) {
                if (!strstr(modes, loaded ? "loaded" : "quiet"))
                        continue;
                for (int onext4 = 0; onext4 < 2; onext4++) {
                        if (!strstr(fss, onext4 ? "ext4" : "tmpfs"))
                                continue;
                        char cond[64], state[300], run[300];
                        snprintf(cond, sizeof cond, "%s/%s", loaded ? "loaded" : "quiet", onext4 ? "busy-ext4" : "tmpfs");
                        snprintf(state, sizeof state, "%s/state", ext4);
                        snprintf(run, sizeof run, "%s/run", onext4 ? ext4 : tmpfs);
                        sh("rm -rf %s %s", state, run);
                        /* The disk writer is on the image whenever it is busy. */
                        if (loaded || onext4)
                                load_start(ext4, loaded);
                        struct arm arms[MAX_ARMS];
                        int na = 0;
                        arms[na++] = (struct arm){.label = "sabot (this build)", .sabot = sabot};
                        static const char *const old_labels[] = {"sabot (first -c build)", "sabot (second -c build)",
                                                                 "sabot (third -c build)"};
                        for (int k = 0; k < n_old; k++)
                                arms[na++] = (struct arm){.label = old_labels[k], .sabot = old[k]};
                        if (sched) {
                                arms[na++] = (struct arm){.label = "sabot (this build) +SCHED_RR", .sabot = sabot, .sched = SCHED_RT};
                                arms[na++] = (struct arm){.label = "sabot (this build) +nice-20", .sabot = sabot, .sched = SCHED_NICE};
                        }
                        int peer = na;
                        arms[na++] = (struct arm){.label = breach ? "peer: watchdog + /bin/kill -CONT" : "peer: /bin/kill -CONT"};
                        int floor = na;
                        arms[na++] = (struct arm){.label = "floor: 10 x kill(SIGCONT)"};
                        for (int i = 0; i < na; i++) {
                                arms[i].v = calloc((size_t)trials, sizeof(uint64_t));
                                if (arms[i].sabot)
                                        arms[i].v2 = calloc((size_t)trials, sizeof(uint64_t));
                        }
                        (void)sched_names;
                        /* Interleaved: every arm once per round. */
                        for (int t = 0; t < trials; t++)
                                for (int i = 0; i < na; i++) {
                                        if (i == floor)
                                                arms[i].v[arms[i].n++] = trial_floor();
                                        else if (i == peer)
                                                trial_peer(&arms[i]);
                                        else
                                                trial_sabot(&arms[i], state, run);
                                }
                        load_stop();
                        for (int i = 0; i < na; i++) {
                                print_arm(cond, &arms[i], trials);
                                failures += arms[i].failed;
                        }
                        double a50, a99, p50, p99;
                        stats_p50_p99_ms(arms[0].v, arms[0].n, &a50, &a99);
                        stats_p50_p99_ms(arms[peer].v, arms[peer].n, &p50, &p99);
                        for (int k = 0; k < n_old; k++) {
                                double o50, o99;
                                stats_p50_p99_ms(arms[1 + k].v, arms[1 + k].n, &o50, &o99);
                                printf("  %-14s this build / -c build %d: p50 %.2fx, p99 %.2fx\n", cond, k + 1, a50 / o50,
                                       a99 / o99);
                        }
                        if (!breach)
                                printf("  %-14s sabot/peer: p50 %.2fx, p99 %.2fx; goal p99 < 10 ms: %s\n", cond, a50 / p50,
                                       a99 / p99, a99 < 10 ? "met" : "MISSED");
                        else {
                                /* From the failure, both wait for a probe of the
                                 * same interval: the goal is on what follows. */
                                double j50, j99;
                                stats_p50_p99_ms(arms[0].v2, arms[0].n2, &j50, &j99);
                                printf("  %-14s sabot/peer (both wait for a 100 ms probe): p50 %.2fx, p99 %.2fx; goal judgement "
                                       "-> reverted p99 < 5 ms: %s\n", cond, a50 / p50, a99 / p99, j99 < 5 ? "met" : "MISSED");
                        }
                        for (int i = 0; i < na; i++)
                                free(arms[i].v), free(arms[i].v2);
                        fflush(stdout);
                }
        }
        for (int i = 0; i < NFAULTS; i++)
                kill(w[i], SIGKILL), reap(w[i]);
        umount2(tmpfs, MNT_DETACH);
        sh("umount %s; rm -rf %s", ext4, dir);
        if (failures)
                printf("failed trials: %d\n", failures);
        return failures ? 1 : 0;
}
