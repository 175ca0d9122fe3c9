/* SPDX-License-Identifier: MIT */
/* TCP ends for the VM tier's tcp-reset test (the busybox guests have no
 * python3); ADDR is IPv4 or IPv6, the server takes both.
 *
 *   tcpr serve PORT
 *       echoes every byte back, a process per connection, until killed.
 *   tcpr hold ADDR PORT STOPFILE
 *       connects, prints "connected", then every 0.2 s writes a byte and
 *       reads it back until STOPFILE exists; prints the errno name that
 *       ended it (ECONNRESET), EOF, or ALIVE.
 *   tcpr bulk ADDR PORT STOPFILE
 *       as hold, with 256 KiB each way a round, written and read at once
 *       (poll): large GSO segments. The kernel reports a reset once, to
 *       the first call that asks: the other may see EOF or EPIPE after it,
 *       so the first error is the one printed.
 *   tcpr conn ADDR PORT N
 *       N new connections, each an echo of a byte with a 2 s timeout;
 *       prints how many ended how, sorted by name: "ECONNREFUSED 3",
 *       "OK 2 timeout 1". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int addr_of(const char *a, int port, struct sockaddr_in6 *sa, socklen_t *len) {
        memset(sa, 0, sizeof *sa);
        if (!strchr(a, ':')) {
                struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
                v4->sin_family = AF_INET;
                v4->sin_port = htons((uint16_t)port);
                *len = sizeof *v4;
                return inet_pton(AF_INET, a, &v4->sin_addr) == 1 ? 0 : -1;
        }
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)port);
        *len = sizeof *sa;
        return inet_pton(AF_INET6, a, &sa->sin6_addr) == 1 ? 0 : -1;
}

static const char *errname(int e) {
        switch (e) {
        case ECONNRESET: return "ECONNRESET";
        case ECONNREFUSED: return "ECONNREFUSED";
        case EPIPE: return "EPIPE";
        case ETIMEDOUT: return "timeout";
        case EAGAIN: return "timeout";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case ENETUNREACH: return "ENETUNREACH";
        default: return strerror(e);
        }
}

/* A connected socket, or -errno; reads and writes time out after ms. */
static int dial(const char *a, int port, int ms) {
        struct sockaddr_in6 sa;
        socklen_t len;
        if (addr_of(a, port, &sa, &len) < 0)
                return -EINVAL;
        int fd = socket(sa.sin6_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
                int e = errno == EINPROGRESS ? ETIMEDOUT : errno;
                close(fd);
                return -e;
        }
        return fd;
}

/* One byte there and back: 0, 1 at EOF, or -errno. */
static int echo1(int fd) {
        char c = 'x';
        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
                return -errno;
        ssize_t n = recv(fd, &c, 1, 0);
        if (n < 0)
                return -errno;
        return n == 0 ? 1 : 0;
}

static int serve(int port) {
        struct sockaddr_in6 sa;
        socklen_t len;
        int zero = 0, one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        addr_of("::", port, &sa, &len);
        if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 512) < 0) {
                perror("tcpr serve");
                return 1;
        }
        signal(SIGCHLD, SIG_IGN);
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                if (fork() == 0) {
                        static char buf[65536];
                        ssize_t n;
                        while ((n = recv(c, buf, sizeof buf, 0)) > 0)
                                for (ssize_t off = 0; off < n;) {
                                        ssize_t w = send(c, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
                                        if (w <= 0)
                                                _exit(0);
                                        off += w;
                                }
                        _exit(0);
                }
                close(c);
        }
}

static int hold(const char *a, int port, const char *stop) {
        int fd = dial(a, port, 3000);
        if (fd < 0 || echo1(fd) != 0) {
                printf("connect: %s\n", fd < 0 ? errname(-fd) : "no echo");
                return 1;
        }
        printf("connected\n");
        fflush(stdout);
        while (access(stop, F_OK) < 0) {
                int r = echo1(fd);
                if (r) {
                        printf("%s\n", r > 0 ? "EOF" : errname(-r));
                        return 0;
                }
                usleep(200000);
        }
        printf("ALIVE\n");
        return 0;
}

#define BLOB (256 * 1024)
static int bulk(const char *a, int port, const char *stop) {
        static char out[BLOB], in[65536];
        int fd = dial(a, port, 3000);
        if (fd < 0) {
                printf("connect: %s\n", errname(-fd));
                return 1;
        }
        printf("connected\n");
        fflush(stdout);
        memset(out, 'y', sizeof out);
        while (access(stop, F_OK) < 0) {
                size_t sent = 0, got = 0;
                while (got < BLOB) {
                        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < BLOB ? POLLOUT : 0)};
                        if (poll(&p, 1, 3000) == 0) {
                                printf("stalled\n");
                                return 0;
                        }
                        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
                                ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
                                if (n == 0) {
                                        printf("EOF\n");
                                        return 0;
                                }
                                if (n < 0 && errno != EAGAIN) {
                                        printf("%s (on read)\n", errname(errno));
                                        return 0;
                                }
                                if (n > 0)
                                        got += (size_t)n;
                        }
                        if (sent < BLOB && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
                                ssize_t n = send(fd, out + sent, BLOB - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                                if (n < 0 && errno != EAGAIN) {
                                        printf("%s (on write)\n", errname(errno));
                                        return 0;
                                }
                                if (n > 0)
                                        sent += (size_t)n;
                        }
                }
        }
        printf("ALIVE\n");
        return 0;
}

static int conn(const char *a, int port, int n) {
        const char *names[16];
        int counts[16], k = 0;
        for (int i = 0; i < n; i++) {
                int fd = dial(a, port, 2000), r = fd < 0 ? fd : echo1(fd);
                if (fd >= 0)
                        close(fd);
                const char *w = r == 0 ? "OK" : r > 0 ? "EOF" : errname(-r);
                int j = 0;
                while (j < k && strcmp(names[j], w))
                        j++;
                if (j == k && k < 16)
                        names[k] = w, counts[k++] = 0;
                if (j < k)
                        counts[j]++;
        }
        for (int i = 0; i < k; i++) /* sorted by name, as the host tier's conn.py */
                for (int j = i + 1; j < k; j++)
                        if (strcmp(names[j], names[i]) < 0) {
                                const char *t = names[i];
                                int c = counts[i];
                                names[i] = names[j], counts[i] = counts[j];
                                names[j] = t, counts[j] = c;
                        }
        for (int i = 0; i < k; i++)
                printf("%s%s %d", i ? " " : "", names[i], counts[i]);
        printf("\n");
        return 0;
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 3 && !strcmp(argv[1], "serve"))
                return serve(atoi(argv[2]));
        if (argc == 5 && !strcmp(argv[1], "hold"))
                return hold(argv[2], atoi(argv[3]), argv[4]);
        if (argc == 5 && !strcmp(argv[1], "bulk"))
                return bulk(argv[2], atoi(argv[3]), argv[4]);
        if (argc == 5 && !strcmp(argv[1], "conn"))
                return conn(argv[2], atoi(argv[3]), atoi(argv[4]));
        fprintf(stderr, "usage: tcpr serve PORT | hold|bulk ADDR PORT STOPFILE | conn ADDR PORT N\n");
        return 2;
}
