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
 * Between lines it sleeps 100 ms three ways in turn, each a call a
 * target makes: until an absolute CLOCK_MONOTONIC time (Python's
 * time.sleep), a timed wait on a CLOCK_MONOTONIC condition variable
 * (C++'s steady waits, Python's Event.wait), until an absolute
 * CLOCK_REALTIME time. A monotonic sleep that fails or ends early (under
 * 50 ms of real time), and a wall-clock sleep that fails, is written to
 * OUT.bad: libfaketime must leave monotonic clocks alone.
 *
 *   clockprobe OUT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

static double since(const struct timespec *a) {
        struct timespec b;
        clock_gettime(CLOCK_MONOTONIC, &b);
        return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void after(struct timespec *t, clockid_t id, long ms) {
        clock_gettime(id, t);
        t->tv_nsec += ms * 1000000;
        t->tv_sec += t->tv_nsec / 1000000000;
        t->tv_nsec %= 1000000000;
}

static pthread_cond_t cond;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

/* One 100 ms sleep, the n-th way; what went wrong, if anything, to bad. */
static void nap(int bad, unsigned n) {
        static const char *const how[] = {"clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)",
                                          "pthread_cond_timedwait(CLOCK_MONOTONIC condvar)",
                                          "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME)"};
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = 0;
        switch (n % 3) {
        case 0:
                after(&t, CLOCK_MONOTONIC, 100);
                while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL)) == EINTR && !term)
                        ;
                break;
        case 1:
                after(&t, CLOCK_MONOTONIC, 100);
                pthread_mutex_lock(&mutex);
                r = pthread_cond_timedwait(&cond, &mutex, &t);
                pthread_mutex_unlock(&mutex);
                if (r == ETIMEDOUT)
                        r = 0;
                break;
        default:
                after(&t, CLOCK_REALTIME, 100);
                while ((r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL)) == EINTR && !term)
                        ;
                break;
        }
        if (r == EINTR)
                return;
        double took = since(&t0);
        if (r || (n % 3 != 2 && took < 0.05)) {
                char buf[256];
                int len = snprintf(buf, sizeof buf, "%s: %s after %.3f s\n", how[n % 3], r ? strerror(r) : "ok", took);
                (void)!write(bad, buf, (size_t)len);
                /* What failed at once must not spin. */
                nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        }
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
        char badname[4096];
        snprintf(badname, sizeof badname, "%s.bad", argv[1]);
        int bad = open(badname, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (bad < 0) {
                perror(badname);
                return 1;
        }
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&cond, &ca);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
        for (unsigned n = 0; !term; n++) {
                line(fd, "");
                nap(bad, n);
        }
        /* All of it: the run's end signals the process group and the
         * cgroup, and a second SIGTERM must not cut the wait short. */
        struct timespec left = {1, 500 * 1000 * 1000};
        while (nanosleep(&left, &left) < 0 && errno == EINTR)
                ;
        line(fd, "term ");
        return 0;
}
