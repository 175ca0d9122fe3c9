/* SPDX-License-Identifier: MIT */
/* The demo's target and its clients, in one small program.
 *
 *   sabot-demo web [--port N] [--workers N] [--data FILE]
 *     A pre-forking HTTP service: a master (comm "sabot-demo-web") and N
 *     workers ("sabot-demo-wrk") accepting on one socket. Each request
 *     opens and reads FILE and sends it back (200), or answers 500 when
 *     the open or read fails, so failing openat(2) shows as errors. The
 *     master starts a new worker for each one that dies.
 *
 *   sabot-demo load URL [--rate N] [--timeout MS] [--seconds N]
 *     N requests a second to URL (http://IPV4:PORT/PATH), each on its own
 *     connection, many in flight at once; after the first answer, one line
 *     per second: requests, 2xx, errors by kind, p50 and max latency.
 *     SIGTERM or SIGINT: a closing total line, then exit.
 *
 * It lives only in the demo's network namespaces; sabot never runs it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define MAX_INFLIGHT 512

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void say(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *who, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%d]: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                who, (int)getpid(), msg);
}

/* A whole number in [lo, hi], or exit 2 naming the option. */
static long number(const char *opt, const char *v, long lo, long hi) {
        char *end;
        errno = 0;
        long n = v ? strtol(v, &end, 10) : 0;
        if (!v || errno || end == v || *end || n < lo || n > hi) {
                fprintf(stderr, "sabot-demo: %s wants a whole number from %ld to %ld, not '%s'\n", opt, lo, hi,
                        v ? v : "");
                exit(2);
        }
        return n;
}

/* ---- web ---- */

static void send_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
                if (w <= 0)
                        return;
                buf += w, n -= (size_t)w;
        }
}

static void respond(int fd, int status, const char *body, size_t len) {
        char head[256];
        int h = snprintf(head, sizeof head,
                         "HTTP/1.0 %d %s\r\nContent-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                         status, status == 200 ? "OK" : "Internal Server Error", len);
        send_all(fd, head, (size_t)h);
        send_all(fd, body, len);
}

static void serve(int cfd, const char *data) {
        /* The request line and headers; the body of a GET is empty. */
        char req[2048];
        size_t got = 0;
        struct timeval tv = {.tv_sec = 5};
        setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        while (got < sizeof req - 1) {
                ssize_t n = recv(cfd, req + got, sizeof req - 1 - got, 0);
                if (n <= 0)
                        return;
                got += (size_t)n;
                req[got] = '\0';
                if (strstr(req, "\r\n\r\n"))
                        break;
        }
        char page[8192], err[256];
        int fd = open(data, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int n = snprintf(err, sizeof err, "<h1>500</h1><p>storage error: open %s: %s</p>\n", data, strerror(errno));
                respond(cfd, 500, err, (size_t)n);
                return;
        }
        ssize_t n = read(fd, page, sizeof page);
        int e = errno;
        close(fd);
        if (n < 0) {
                int k = snprintf(err, sizeof err, "<h1>500</h1><p>storage error: read %s: %s</p>\n", data, strerror(e));
                respond(cfd, 500, err, (size_t)k);
                return;
        }
        respond(cfd, 200, page, (size_t)n);
}

static void worker(int lfd, const char *data) {
        prctl(PR_SET_NAME, "sabot-demo-wrk");
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
        signal(SIGTERM, SIG_DFL);
        for (;;) {
                int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        _exit(1);
                }
                serve(cfd, data);
                close(cfd);
        }
}

static pid_t spawn_worker(int lfd, const char *data, sigset_t *old) {
        pid_t pid = fork();
        if (pid == 0) {
                sigprocmask(SIG_SETMASK, old, NULL);
                worker(lfd, data);
        }
        return pid;
}

static int cmd_web(int argc, char **argv) {
        int port = 8080, n = 3;
        const char *data = "scenarios/demo/index.html";
        for (int i = 0; i < argc; i++) {
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(argv[i], "--port"))
                        port = (int)number("--port", v, 1, 65535), i++;
                else if (!strcmp(argv[i], "--workers"))
                        n = (int)number("--workers", v, 1, MAX_WORKERS), i++;
                else if (!strcmp(argv[i], "--data") && v)
                        data = v, i++;
                else {
                        fprintf(stderr, "sabot-demo web: unknown argument '%s'; allowed: --port N, --workers N, "
                                "--data FILE\n", argv[i]);
                        return 2;
                }
        }
        prctl(PR_SET_NAME, "sabot-demo-web");
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 256) < 0) {
                say("web", "cannot listen on port %d: %s", port, strerror(errno));
                return 1;
        }
        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, &old);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        pid_t w[MAX_WORKERS] = {0};
        for (int i = 0; i < n; i++)
                w[i] = spawn_worker(lfd, data, &old);
        say("web", "listening on port %d with %d workers, serving %s", port, n, data);
        for (;;) {
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof si) != sizeof si)
                        continue;
                if (si.ssi_signo != SIGCHLD) {
                        say("web", "SIG%s: stopping the workers", sigabbrev_np((int)si.ssi_signo));
                        for (int i = 0; i < n; i++)
                                if (w[i] > 0)
                                        kill(w[i], SIGTERM);
                        while (wait(NULL) > 0)
                                ;
                        return 0;
                }
                int status;
                pid_t p;
                while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                        for (int i = 0; i < n; i++) {
                                if (w[i] != p)
                                        continue;
                                w[i] = spawn_worker(lfd, data, &old);
                                if (WIFSIGNALED(status))
                                        say("web", "worker %d killed by SIG%s; started worker %d", (int)p,
                                            sigabbrev_np(WTERMSIG(status)), (int)w[i]);
                                else
                                        say("web", "worker %d exited (%d); started worker %d", (int)p,
                                            WEXITSTATUS(status), (int)w[i]);
                        }
        }
}

/* ---- load ---- */

struct req {
        int fd;
        uint64_t t0;
        size_t got;
        char head[16];
};

struct tally {
        unsigned n, ok, http_err, refused, timeout, other;
        uint64_t lat[4096];
        unsigned n_lat;
};

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void tally_line(const char *label, struct tally *t) {
        char p50[32] = "-", mx[32] = "-";
        if (t->n_lat) {
                qsort(t->lat, t->n_lat, sizeof t->lat[0], cmp_u64);
                snprintf(p50, sizeof p50, "%.1f ms", (double)t->lat[t->n_lat / 2] / 1e6);
                snprintf(mx, sizeof mx, "%.1f ms", (double)t->lat[t->n_lat - 1] / 1e6);
        }
        printf("%s %4u requests: %4u ok, %3u http 5xx, %3u refused, %3u timed out, %3u other; p50 %s, max %s\n",
               label, t->n, t->ok, t->http_err, t->refused, t->timeout, t->other, p50, mx);
        fflush(stdout);
}

static void count(struct tally *sec, struct tally *all, int kind, uint64_t lat) {
        struct tally *ts[] = {sec, all};
        for (int i = 0; i < 2; i++) {
                struct tally *t = ts[i];
                t->n++;
                switch (kind) {
                case 0: t->ok++; break;
                case 1: t->http_err++; break;
                case 2: t->refused++; break;
                case 3: t->timeout++; break;
                default: t->other++;
                }
                if (kind <= 1 && t->n_lat < sizeof t->lat / sizeof t->lat[0])
                        t->lat[t->n_lat++] = lat;
        }
}

static int cmd_load(int argc, char **argv) {
        const char *url = NULL;
        long rate = 20, timeout_ms = 2000, seconds = 0;
        for (int i = 0; i < argc; i++) {
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(argv[i], "--rate"))
                        rate = number("--rate", v, 1, 1000), i++;
                else if (!strcmp(argv[i], "--timeout"))
                        timeout_ms = number("--timeout", v, 10, 60000), i++;
                else if (!strcmp(argv[i], "--seconds"))
                        seconds = number("--seconds", v, 1, 86400), i++;
                else if (!url && !strncmp(argv[i], "http://", 7))
                        url = argv[i];
                else {
                        fprintf(stderr, "sabot-demo load: unknown argument '%s'; usage: sabot-demo load "
                                "http://IPV4:PORT/PATH [--rate N] [--timeout MS] [--seconds N]\n", argv[i]);
                        return 2;
                }
        }
        char host[64] = "", path[256] = "/";
        int port = 80;
        if (!url || sscanf(url, "http://%63[0-9.]:%d%255s", host, &port, path) < 2 || port < 1 || port > 65535) {
                fprintf(stderr, "sabot-demo load: give a URL of the form http://IPV4:PORT/PATH\n");
                return 2;
        }
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
                fprintf(stderr, "sabot-demo load: '%s' is not an IPv4 address\n", host);
                return 2;
        }
        char get[512];
        int get_len = snprintf(get, sizeof get, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC), ep = epoll_create1(EPOLL_CLOEXEC);
        int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        uint64_t period = 1000000000ULL / (uint64_t)rate;
        struct itimerspec its = {.it_value = {0, 1}, .it_interval = {(time_t)(period / 1000000000ULL), (long)(period % 1000000000ULL)}};
        timerfd_settime(tick, 0, &its, NULL);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
        epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
        ev.data.u64 = 2;
        epoll_ctl(ep, EPOLL_CTL_ADD, tick, &ev);

        static struct req rq[MAX_INFLIGHT];
        static struct tally sec, all;
        for (int i = 0; i < MAX_INFLIGHT; i++)
                rq[i].fd = -1;
        bool started = false;
        uint64_t t_start = 0, next_line = 0, t_wait = mono_ns();
        unsigned line_no = 0;
        for (;;) {
                struct epoll_event evs[64];
                int n = epoll_wait(ep, evs, 64, 50);
                uint64_t now = mono_ns();
                for (int k = 0; k < n; k++) {
                        uint64_t id = evs[k].data.u64;
                        if (id == 1) {
                                if (started)
                                        tally_line("total", &all);
                                return 0;
                        }
                        if (id == 2) {
                                uint64_t x;
                                (void)!read(tick, &x, sizeof x);
                                int slot = -1;
                                for (int i = 0; i < MAX_INFLIGHT && slot < 0; i++)
                                        if (rq[i].fd < 0)
                                                slot = i;
                                if (slot < 0)
                                        continue;
                                int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                                if (fd < 0)
                                        continue;
                                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
                                        if (started)
                                                count(&sec, &all, errno == ECONNREFUSED ? 2 : 4, 0);
                                        close(fd);
                                        continue;
                                }
                                rq[slot] = (struct req){.fd = fd, .t0 = now};
                                struct epoll_event e = {.events = EPOLLOUT, .data.u64 = 100 + (uint64_t)slot};
                                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                                continue;
                        }
                        struct req *q = &rq[id - 100];
                        int kind = -1;
                        if (q->fd < 0)
                                continue;
                        if (evs[k].events & EPOLLOUT) {
                                int err = 0;
                                socklen_t l = sizeof err;
                                getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                                if (err)
                                        kind = err == ECONNREFUSED ? 2 : 4;
                                else {
                                        send_all(q->fd, get, (size_t)get_len);
                                        struct epoll_event e = {.events = EPOLLIN, .data.u64 = id};
                                        epoll_ctl(ep, EPOLL_CTL_MOD, q->fd, &e);
                                }
                        } else {
                                char buf[4096];
                                ssize_t r = recv(q->fd, buf, sizeof buf, 0);
                                if (r > 0) {
                                        size_t c = q->got < sizeof q->head - 1 ? sizeof q->head - 1 - q->got : 0;
                                        memcpy(q->head + q->got, buf, (size_t)r < c ? (size_t)r : c);
                                        q->got += (size_t)r;
                                } else if (r == 0) { /* Connection: close: the whole answer is in */
                                        q->head[sizeof q->head - 1] = '\0';
                                        kind = !strncmp(q->head, "HTTP/1.0 2", 10) || !strncmp(q->head, "HTTP/1.1 2", 10) ? 0
                                               : !strncmp(q->head, "HTTP/1.", 7)                                       ? 1
                                                                                                                       : 4;
                                } else if (errno != EAGAIN)
                                        kind = errno == ECONNREFUSED ? 2 : 4;
                        }
                        if (kind >= 0) {
                                if (kind <= 1 && !started) {
                                        started = true;
                                        t_start = now, next_line = now + 1000000000ULL;
                                        printf("first answer after %.1f s; one line per second from here\n",
                                               (double)(now - t_wait) / 1e9);
                                        fflush(stdout);
                                }
                                if (started)
                                        count(&sec, &all, kind, now - q->t0);
                                close(q->fd);
                                q->fd = -1;
                        }
                }
                for (int i = 0; i < MAX_INFLIGHT; i++)
                        if (rq[i].fd >= 0 && now - rq[i].t0 > (uint64_t)timeout_ms * 1000000ULL) {
                                if (started)
                                        count(&sec, &all, 3, 0);
                                close(rq[i].fd);
                                rq[i].fd = -1;
                        }
                if (started && now >= next_line) {
                        char label[32];
                        snprintf(label, sizeof label, "%4us", ++line_no);
                        tally_line(label, &sec);
                        memset(&sec, 0, sizeof sec);
                        next_line += 1000000000ULL;
                        if (seconds && now - t_start >= (uint64_t)seconds * 1000000000ULL) {
                                tally_line("total", &all);
                                return 0;
                        }
                }
        }
}

int main(int argc, char **argv) {
        if (argc >= 2 && !strcmp(argv[1], "web"))
                return cmd_web(argc - 2, argv + 2);
        if (argc >= 2 && !strcmp(argv[1], "load"))
                return cmd_load(argc - 2, argv + 2);
        fprintf(stderr, "usage: sabot-demo web [--port N] [--workers N] [--data FILE]\n"
                        "       sabot-demo load http://IPV4:PORT/PATH [--rate N] [--timeout MS] [--seconds N]\n");
        return 2;
}
