/* SPDX-License-Identifier: MIT */
/* A target for the killed-caller test: callers killed in the middle of
 * their notified write(2) calls, then one that must still be served.
 *
 *   killed ROUNDS CHILDREN WRITES REPORT WATCH
 * ROUNDS times: fork CHILDREN processes that write(2) to /dev/null without
 * pause, let them run 0-2 ms, SIGSTOP the runner (this process's
 * parent), SIGKILL them all, reap them and SIGCONT the runner; then, with
 * no call of its own in flight, watch another target's call counters
 * (WATCH, tests/helpers/caller's file): the runner serves that target on
 * another listener, and must go on doing so (a runner asleep in a receive
 * on this one would not). A round where they do not move within 2 s is
 * stalled. Then one last child makes WRITES writes, counting what each
 * returned in shared memory (no system call the filter could notify), and
 * the report is written with writev(2):
 * "rounds=R killed=K stalled=S ok=A eio=B other=C". Then it waits to be
 * terminated. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void spin(volatile long *n) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        for (;;) {
                if (write(fd, "x", 1) == 1)
                        n[0]++;
                else if (errno == EIO)
                        n[1]++;
                else
                        n[2]++;
        }
}

/* The state letter of /proc/PID/stat, read(2) only (not notified). */
static char state_of(pid_t pid) {
        char p[64], b[512];
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return '?';
        ssize_t n = read(fd, b, sizeof b - 1);
        close(fd);
        if (n <= 0)
                return '?';
        b[n] = '\0';
        char *e = strrchr(b, ')');
        return e && e[1] == ' ' ? e[2] : '?';
}

int main(int argc, char **argv) {
        if (argc < 6)
                return 2;
        /* Until the other target has sized its file and made a call. */
        int wfd = -1;
        struct stat sb = {0};
        struct timespec ms5 = {0, 5000000};
        for (int k = 0; k < 2000 && (wfd < 0 || sb.st_size < (off_t)(4 * sizeof(int64_t))); k++) {
                if (wfd < 0)
                        wfd = open(argv[5], O_RDONLY | O_CLOEXEC);
                if (wfd >= 0 && fstat(wfd, &sb) < 0)
                        return 3;
                nanosleep(&ms5, NULL);
        }
        if (sb.st_size < (off_t)(4 * sizeof(int64_t)))
                return 3;
        volatile int64_t *w = mmap(NULL, 4 * sizeof(int64_t), PROT_READ, MAP_SHARED, wfd, 0);
        if (w == MAP_FAILED)
                return 3;
        for (int k = 0; k < 2000 && !(w[0] + w[1] + w[2] + w[3]); k++)
                nanosleep(&ms5, NULL);
        long rounds = strtol(argv[1], NULL, 10), children = strtol(argv[2], NULL, 10), writes = strtol(argv[3], NULL, 10);
        if (children < 1 || children > 64)
                return 2;
        volatile long *n = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (n == MAP_FAILED)
                return 3;
        srand((unsigned)getpid());
        pid_t runner = getppid(); /* the runner launched this target */
        long killed = 0, stalled = 0;
        for (long r = 0; r < rounds; r++) {
                pid_t p[64];
                for (long i = 0; i < children; i++)
                        if ((p[i] = fork()) == 0)
                                spin(n);
                struct timespec t = {0, (rand() % 2000) * 1000L};
                nanosleep(&t, NULL);
                /* The runner stopped wherever it is, at times between
                 * seeing the listener readable and receiving: the callers
                 * die there, and it resumes to a receive that finds
                 * nothing. */
                bool stopped = runner > 1 && kill(runner, SIGSTOP) == 0;
                for (int k = 0; stopped && k < 2000 && state_of(runner) != 'T'; k++)
                        sched_yield();
                for (long i = 0; i < children; i++)
                        if (p[i] > 0)
                                kill(p[i], SIGKILL);
                for (long i = 0; i < children; i++)
                        if (p[i] > 0) {
                                int st;
                                killed += waitpid(p[i], &st, 0) == p[i] && WIFSIGNALED(st);
                        }
                if (stopped)
                        kill(runner, SIGCONT);
                int64_t before = w[0] + w[1] + w[2] + w[3];
                bool moved = false;
                for (int k = 0; k < 400 && !moved; k++) {
                        nanosleep(&ms5, NULL);
                        moved = w[0] + w[1] + w[2] + w[3] != before;
                }
                stalled += !moved;
        }
        n[0] = n[1] = n[2] = 0;
        pid_t last = fork();
        if (last == 0) {
                int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                for (long k = 0; k < writes; k++) {
                        if (write(fd, "x", 1) == 1)
                                n[0]++;
                        else if (errno == EIO)
                                n[1]++;
                        else
                                n[2]++;
                }
                _exit(0);
        }
        if (last < 0 || waitpid(last, NULL, 0) != last)
                return 4;
        char buf[256];
        int len = snprintf(buf, sizeof buf, "rounds=%ld killed=%ld stalled=%ld ok=%ld eio=%ld other=%ld\n", rounds, killed,
                           stalled, n[0], n[1], n[2]);
        int fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct iovec iov = {.iov_base = buf, .iov_len = (size_t)len};
        if (fd < 0 || writev(fd, &iov, 1) != len)
                return 5;
        close(fd);
        for (;;)
                pause();
}
