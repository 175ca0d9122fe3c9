/* SPDX-License-Identifier: MIT */
/* SLO probes: the runner's CPU per http probe and its memory over many
 * probes, against a loopback keep-alive HTTP server of our own (an epoll
 * loop in a child process that answers every request with 3 bytes and
 * counts them), with the floor measured in the same run.
 *
 *   slo_probe SABOT [BEFORE_SABOT] [TRIALS] [LONG_S]
 *
 * - floor: curl_easy_perform on one reused handle in a bare loop, the
 *   CPU of this process per request (getrusage), libcurl as sabot loads it.
 * - CPU per probe: a `sabot run` of 50 http SLOs probing every 100 ms (500
 *   probes/s), no fault; the runner's CPU (every thread's schedstat run
 *   time, ns) over 4 s of its faults phase divided by the requests the
 *   server answered meanwhile. With BEFORE_SABOT, TRIALS pairs, the order
 *   alternating, each pair's ratio.
 * - memory: the runner's VmRSS at 20 s, 120 s and LONG_S (default 200 s:
 *   50 SLOs x 10 probes/s x 200 s = 100,000 probes, more than an hour of
 *   20 probes/s = 72,000; at 120 s each SLO has taken more samples than
 *   the report's history keeps), for each binary, run side by side
 *   (paired in time, each with its own server); LONG_S 0 skips it. The run and state dirs are in a
 *   private tmpfs-backed directory (/dev/shm); the policy is the bench's
 *   own built-in default (--policy none is not needed: no fault). */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_SLO 50

static uint64_t now_ns(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void sleep_until(uint64_t at) {
        struct timespec t = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
                ;
}

/* ---- the server: one process, epoll, keep-alive, counts requests ---- */

struct server {
        pid_t pid;
        int port;
        _Atomic uint64_t *count;
};

static void serve(int ls, _Atomic uint64_t *count) {
        static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
        epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
        /* Per connection: how many bytes of "\r\n\r\n" matched so far. */
        static unsigned char match[65536];
        for (;;) {
                struct epoll_event evs[64];
                int n = epoll_wait(ep, evs, 64, -1);
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == ls) {
                                int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                                if (c >= 0 && c < (int)sizeof match) {
                                        match[c] = 0;
                                        struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                                        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                                } else if (c >= 0)
                                        close(c);
                                continue;
                        }
                        char buf[4096];
                        ssize_t r = read(fd, buf, sizeof buf);
                        if (r <= 0) {
                                if (r < 0 && errno == EAGAIN)
                                        continue;
                                close(fd);
                                continue;
                        }
                        for (ssize_t k = 0; k < r; k++) {
                                static const char end[] = "\r\n\r\n";
                                match[fd] = buf[k] == end[match[fd]] ? match[fd] + 1 : buf[k] == '\r' ? 1 : 0;
                                if (match[fd] == 4) {
                                        match[fd] = 0;
                                        (void)!write(fd, resp, sizeof resp - 1);
                                        atomic_fetch_add(count, 1);
                                }
                        }
                }
        }
}

static int server_start(struct server *s) {
        s->count = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (s->count == MAP_FAILED)
                return -1;
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 128) < 0 ||
            getsockname(ls, (struct sockaddr *)&a, &al) < 0)
                return -1;
        s->port = ntohs(a.sin_port);
        s->pid = fork();
        if (s->pid == 0) {
                serve(ls, s->count);
                _exit(0);
        }
        close(ls);
        return s->pid < 0 ? -1 : 0;
}

static void server_stop(struct server *s) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        munmap((void *)s->count, 4096);
}

/* ---- the floor: one reused handle, curl_easy_perform in a loop ---- */

static size_t discard(char *p, size_t sz, size_t n, void *ud) {
        (void)p, (void)ud;
        return sz * n;
}

static double cpu_self_ns(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static double floor_us(int port, int n) {
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return -1;
        void *(*init)(void) = (void *(*)(void))dlsym(h, "curl_easy_init");
        int (*setopt)(void *, int, ...) = (int (*)(void *, int, ...))dlsym(h, "curl_easy_setopt");
        int (*perform)(void *) = (int (*)(void *))dlsym(h, "curl_easy_perform");
        void (*cleanup)(void *) = (void (*)(void *))dlsym(h, "curl_easy_cleanup");
        if (!init || !setopt || !perform || !cleanup)
                return -1;
        void *e = init();
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
        setopt(e, 10002 /* CURLOPT_URL */, url);
        setopt(e, 20011 /* CURLOPT_WRITEFUNCTION */, discard);
        setopt(e, 99 /* CURLOPT_NOSIGNAL */, 1L);
        setopt(e, 10004 /* CURLOPT_PROXY */, "");
        for (int i = 0; i < 50; i++) /* warm: the connection made */
                perform(e);
        double c0 = cpu_self_ns();
        for (int i = 0; i < n; i++)
                if (perform(e) != 0)
                        return -1;
        double c1 = cpu_self_ns();
        cleanup(e);
        return (c1 - c0) / n / 1e3;
}

/* ---- the runner ---- */

static char dir[64];

/* CPU ns of every thread of pid (schedstat's first field). */
static uint64_t cpu_of(pid_t pid) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/task", pid);
        DIR *d = opendir(p);
        uint64_t sum = 0;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char f[320];
                snprintf(f, sizeof f, "/proc/%d/task/%s/schedstat", pid, de->d_name);
                FILE *fp = fopen(f, "re");
                unsigned long long v;
                if (fp && fscanf(fp, "%llu", &v) == 1)
                        sum += v;
                if (fp)
                        fclose(fp);
        }
        if (d)
                closedir(d);
        return sum;
}

static long status_kb(pid_t pid, const char *key) {
        char p[64], line[256];
        snprintf(p, sizeof p, "/proc/%d/status", pid);
        FILE *f = fopen(p, "re");
        long v = -1;
        while (f && fgets(line, sizeof line, f))
                if (!strncmp(line, key, strlen(key)))
                        v = strtol(line + strlen(key) + 1, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

static pid_t run_start(const char *sabot, int port, int tag, int duration_s) {
        char ini[128], st[128], rd[128];
        snprintf(ini, sizeof ini, "%s/s%d.ini", dir, tag);
        snprintf(st, sizeof st, "%s/state%d", dir, tag);
        snprintf(rd, sizeof rd, "%s/run%d", dir, tag);
        FILE *f = fopen(ini, "we");
        if (!f)
                return -1;
        fprintf(f, "[scenario]\nname = bench-slo%d\nduration = %ds\nsteady_state = 300ms\n", tag, duration_s);
        for (int i = 0; i < N_SLO; i++)
                fprintf(f, "[slo s%d]\nprobe = http\nurl = http://127.0.0.1:%d/\ninterval = 100ms\nmax_error_rate = 100%%\n", i,
                        port);
        fclose(f);
        pid_t pid = fork();
        if (pid == 0) {
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
                execl(sabot, sabot, "--state-dir", st, "--run-dir", rd, "run", "--yes", ini, (char *)NULL);
                _exit(127);
        }
        return pid;
}

struct cpu_trial {
        double us_per_probe;
        double kb_per_kprobe;
        uint64_t probes;
};

static int cpu_trial(const char *sabot, struct server *srv, int tag, struct cpu_trial *t) {
        pid_t pid = run_start(sabot, srv->port, tag, 7);
        if (pid < 0)
                return -1;
        uint64_t t0 = now_ns();
        sleep_until(t0 + 2000000000ull); /* started, steady state reached */
        uint64_t c0 = cpu_of(pid), r0 = atomic_load(srv->count);
        long m0 = status_kb(pid, "VmRSS:");
        sleep_until(t0 + 6000000000ull);
        uint64_t c1 = cpu_of(pid), r1 = atomic_load(srv->count);
        long m1 = status_kb(pid, "VmRSS:");
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r1 <= r0 || m0 < 0 || m1 < 0) {
                fprintf(stderr, "slo_probe: %s: the run failed (status %#x, %llu probes)\n", sabot, status,
                        (unsigned long long)(r1 - r0));
                return -1;
        }
        t->probes = r1 - r0;
        t->us_per_probe = (double)(c1 - c0) / 1e3 / (double)t->probes;
        t->kb_per_kprobe = (double)(m1 - m0) * 1000.0 / (double)t->probes;
        return 0;
}

static int cmp_d(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
        qsort(v, (size_t)n, sizeof *v, cmp_d);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: slo_probe SABOT [BEFORE_SABOT] [TRIALS] [LONG_S]\n");
                return 2;
        }
        const char *after = argv[1], *before = argc > 2 && argv[2][0] ? argv[2] : NULL;
        int trials = argc > 3 ? atoi(argv[3]) : 5, long_s = argc > 4 ? atoi(argv[4]) : 200;
        if (trials < 1)
                trials = 1;
        snprintf(dir, sizeof dir, "/dev/shm/sabot-bench-slo.XXXXXX");
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        struct server srv;
        if (server_start(&srv) < 0) {
                perror("server");
                return 1;
        }
        double fl = floor_us(srv.port, 20000);
        printf("SLO probes (50 http SLOs every 100 ms on a loopback keep-alive server; runner CPU per probe):\n");
        if (fl < 0)
                printf("  floor: libcurl could not be loaded or did not answer\n");
        else
                printf("  floor: curl_easy_perform on a reused handle in a bare loop: %.1f us CPU per request\n", fl);
        double a_us[64], b_us[64], ratio[64], a_kb[64], b_kb[64];
        int na = 0, nb = 0, nr = 0;
        for (int t = 0; t < trials && t < 64; t++) {
                struct cpu_trial A, B;
                bool b_first = t % 2;
                int ra = 0, rb = 0;
                if (before && b_first)
                        rb = cpu_trial(before, &srv, 1, &B);
                ra = cpu_trial(after, &srv, 0, &A);
                if (before && !b_first)
                        rb = cpu_trial(before, &srv, 1, &B);
                if (ra == 0)
                        a_us[na] = A.us_per_probe, a_kb[na++] = A.kb_per_kprobe;
                if (before && rb == 0)
                        b_us[nb] = B.us_per_probe, b_kb[nb++] = B.kb_per_kprobe;
                if (before && ra == 0 && rb == 0)
                        ratio[nr++] = B.us_per_probe / A.us_per_probe;
        }
        if (na)
                printf("  this build: median %.1f us CPU per probe over %d runs (%.1fx the floor); RSS %+.1f kB per 1000 probes\n",
                       median(a_us, na), na, fl > 0 ? median(a_us, na) / fl : 0, median(a_kb, na));
        if (nb)
                printf("  before:     median %.1f us CPU per probe over %d runs (%.1fx the floor); RSS %+.1f kB per 1000 probes\n",
                       median(b_us, nb), nb, fl > 0 ? median(b_us, nb) / fl : 0, median(b_kb, nb));
        if (nr) {
                double r[64];
                memcpy(r, ratio, sizeof(double) * (size_t)nr);
                qsort(r, (size_t)nr, sizeof *r, cmp_d);
                printf("  paired before/after ratio: median %.2fx (min %.2f, max %.2f over %d pairs)\n", median(ratio, nr), r[0],
                       r[nr - 1], nr);
        }
        server_stop(&srv);
        if (long_s > 130) {
                /* Memory: side by side, each binary with its own server.
                 * VmRSS at 20 s, at 120 s (each SLO has taken ~1,200
                 * samples: more than the report's history holds, so this
                 * build's stores are full) and at the end. */
                struct server s2[2];
                const char *bin[2] = {after, before};
                pid_t pid[2] = {-1, -1};
                long rss[2][3] = {{0}}, hwm[2] = {0};
                uint64_t n[2][3] = {{0}};
                const uint64_t at_s[3] = {20, 120, (uint64_t)long_s};
                int nbin = before ? 2 : 1;
                for (int i = 0; i < nbin; i++) {
                        if (server_start(&s2[i]) < 0)
                                return 1;
                        pid[i] = run_start(bin[i], s2[i].port, 10 + i, long_s + 1);
                }
                uint64_t t0 = now_ns();
                for (int k = 0; k < 3; k++) {
                        sleep_until(t0 + at_s[k] * 1000000000ull);
                        for (int i = 0; i < nbin; i++)
                                rss[i][k] = status_kb(pid[i], "VmRSS:"), n[i][k] = atomic_load(s2[i].count);
                }
                for (int i = 0; i < nbin; i++)
                        hwm[i] = status_kb(pid[i], "VmHWM:");
                printf("SLO memory (50 http SLOs every 100 ms, both binaries side by side for %d s; an hour of 20 probes/s is 72,000 probes):\n",
                       long_s);
                for (int i = 0; i < nbin; i++) {
                        int status;
                        waitpid(pid[i], &status, 0);
                        server_stop(&s2[i]);
                        double dn = (double)(n[i][2] - n[i][1]);
                        double per_h = dn > 0 ? (double)(rss[i][2] - rss[i][1]) / dn * 72000 / 1024 : 0;
                        printf("  %s: VmRSS %ld kB at %llu probes, %ld kB at %llu, %ld kB at %llu (VmHWM %ld kB);\n"
                               "              from the 2nd to the 3rd: %+ld kB over %.0f probes = %+.2f MB per 72,000 probes\n",
                               i == 0 ? "this build" : "before    ", rss[i][0], (unsigned long long)n[i][0], rss[i][1],
                               (unsigned long long)n[i][1], rss[i][2], (unsigned long long)n[i][2], hwm[i],
                               rss[i][2] - rss[i][1], dn, per_h);
                }
        }
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)!system(cmd);
        return 0;
}
