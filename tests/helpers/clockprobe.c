/* SPDX-License-Identifier: MIT */
/* A launched target that reports its clocks: every 100 ms one line
 *
 *   PID TIME REALTIME MONOTONIC
 *
 * (time(NULL), then CLOCK_REALTIME and CLOCK_MONOTONIC in seconds with
 * milliseconds) appended to OUT. On SIGTERM it waits 1.5 s (longer than
 * libfaketime takes to read its control file again), writes one more
 * line starting "term", and exits: what its clock says after a revert
 * that ends it (the guardian's) is seen too. Signals during that wait
 * do not shorten it.
 *
 *   clockprobe OUT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term;

static void on_term(int sig) {
        (void)sig;
        term = 1;
}

static double secs(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void line(int fd, const char *pre) {
        char buf[128];
        time_t t = time(NULL);
        int n = snprintf(buf, sizeof buf, "%s%d %lld %.3f %.3f\n", pre, (int)getpid(), (long long)t,
                         secs(CLOCK_REALTIME), secs(CLOCK_MONOTONIC));
        (void)!write(fd, buf, (size_t)n);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: clockprobe OUT\n");
                return 2;
        }
        int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
                perror(argv[1]);
                return 1;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
        while (!term) {
                line(fd, "");
                nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        }
        /* All of it: the run's end signals the process group and the
         * cgroup, and a second SIGTERM must not cut the wait short. */
        struct timespec left = {1, 500 * 1000 * 1000};
        while (nanosleep(&left, &left) < 0 && errno == EINTR)
                ;
        line(fd, "term ");
        return 0;
}
