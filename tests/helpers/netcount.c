/* SPDX-License-Identifier: MIT */
/* Packet counting for the network VM tests; ADDR is IPv4 or IPv6, the
 * receivers take both.
 *
 *   netcount send ADDR PORT N INTERVAL_US SIZE
 *       N UDP datagrams of SIZE bytes (>= 32), one every INTERVAL_US: a
 *       sequence number, the send time (CLOCK_MONOTONIC ns) and a pattern
 *       derived from the number.
 *   netcount recv PORT N EARLY_MS
 *       receives them until N distinct ones came or 2 s pass without one,
 *       then prints one line: "received=R distinct=D duplicates=U
 *       damaged=X missing=M inversions=V early=E runs=B", where damaged
 *       ones failed the pattern (or size), inversions arrived after a later
 *       one, early ones took less than EARLY_MS from send to receipt, and
 *       runs counts the runs of consecutive numbers missing.
 *   netcount sink PORT SKIP_S SECONDS
 *       accepts one TCP connection and prints "bits_per_s=B bytes=N" over
 *       SECONDS after the first SKIP_S seconds of data.
 *   netcount source ADDR PORT SECONDS
 *       writes to it as fast as it can for SECONDS. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static unsigned char pattern(uint64_t seq, size_t i) { return (unsigned char)(seq * 31 + i * 7 + 1); }

/* An IPv4 or IPv6 address (by its colons); receivers bind to :: for both. */
static int addr_of(const char *a, int port, struct sockaddr_in6 *sa) {
        memset(sa, 0, sizeof *sa);
        if (!strchr(a, ':')) {
                struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
                v4->sin_family = AF_INET;
                v4->sin_port = htons((uint16_t)port);
                return inet_pton(AF_INET, a, &v4->sin_addr) == 1 ? 0 : -1;
        }
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, a, &sa->sin6_addr) == 1 ? 0 : -1;
}

static int bound(int type, int port) {
        struct sockaddr_in6 sa;
        int zero = 0, one = 1, fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
        addr_of("::", port, &sa);
        if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return -1;
        return fd;
}

static int do_send(const char *a, int port, long n, long interval_us, long size) {
        struct sockaddr_in6 sa;
        if (addr_of(a, port, &sa) < 0 || size < 32 || size > 65000)
                return 2;
        int fd = socket(sa.sin6_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 2;
        unsigned char *buf = malloc((size_t)size);
        if (!buf)
                return 2;
        uint64_t t0 = now_ns();
        for (long k = 0; k < n; k++) {
                uint64_t seq = (uint64_t)k, ts = now_ns();
                memcpy(buf, &seq, 8);
                memcpy(buf + 8, &ts, 8);
                for (long i = 16; i < size; i++)
                        buf[i] = pattern(seq, (size_t)i);
                if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != ENOBUFS)
                        return 3;
                /* Paced against the start, so that a late wake-up does not stretch the run. */
                uint64_t next = t0 + (uint64_t)(k + 1) * (uint64_t)interval_us * 1000ULL, t = now_ns();
                if (next > t) {
                        struct timespec d = {(time_t)((next - t) / 1000000000ULL), (long)((next - t) % 1000000000ULL)};
                        nanosleep(&d, NULL);
                }
        }
        free(buf);
        close(fd);
        return 0;
}

static int do_recv(int port, long n, long early_ms) {
        int fd = bound(SOCK_DGRAM, port), big = 8 << 20;
        if (fd < 0)
                return 2;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
        unsigned char *seen = calloc((size_t)n, 1), buf[65536];
        long received = 0, distinct = 0, dups = 0, damaged = 0, inversions = 0, early = 0;
        int64_t max_seq = -1;
        /* Ready: the sender may start. */
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                struct pollfd p = {fd, POLLIN, 0};
                if (distinct >= n || poll(&p, 1, received ? 2000 : 30000) <= 0)
                        break;
                ssize_t len = recv(fd, buf, sizeof buf, 0);
                uint64_t t = now_ns();
                if (len < 16)
                        continue;
                received++;
                uint64_t seq, ts;
                memcpy(&seq, buf, 8);
                memcpy(&ts, buf + 8, 8);
                bool ok = seq < (uint64_t)n;
                for (ssize_t i = 16; ok && i < len; i++)
                        ok = buf[i] == pattern(seq, (size_t)i);
                if (!ok) {
                        damaged++;
                        continue;
                }
                if (seen[seq]) {
                        dups++;
                        continue;
                }
                seen[seq] = 1;
                distinct++;
                if ((int64_t)seq < max_seq)
                        inversions++;
                else
                        max_seq = (int64_t)seq;
                if (t - ts < (uint64_t)early_ms * 1000000ULL)
                        early++;
        }
        /* Runs of consecutive numbers that never came: bursts of loss. */
        long runs = 0;
        for (long k = 0; k < n; k++)
                runs += !seen[k] && (k == 0 || seen[k - 1]);
        printf("received=%ld distinct=%ld duplicates=%ld damaged=%ld missing=%ld inversions=%ld early=%ld runs=%ld\n",
               received, distinct, dups, damaged, n - distinct, inversions, early, runs);
        return 0;
}

static int do_sink(int port, long skip_s, long secs) {
        int fd = bound(SOCK_STREAM, port);
        if (fd < 0 || listen(fd, 1) < 0)
                return 2;
        printf("ready\n");
        fflush(stdout);
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return 3;
        static char buf[1 << 16];
        uint64_t start = 0, from = 0, until = 0, bytes = 0;
        for (;;) {
                ssize_t len = read(c, buf, sizeof buf);
                uint64_t t = now_ns();
                if (len <= 0)
                        break;
                if (!start) {
                        start = t;
                        from = start + (uint64_t)skip_s * 1000000000ULL;
                        until = from + (uint64_t)secs * 1000000000ULL;
                }
                if (t >= from && t < until)
                        bytes += (uint64_t)len;
                if (t >= until)
                        break;
        }
        printf("bits_per_s=%.0f bytes=%llu\n", (double)bytes * 8 / (double)secs, (unsigned long long)bytes);
        return until && now_ns() >= until ? 0 : 4;
}

static int do_source(const char *a, int port, long secs) {
        struct sockaddr_in6 sa;
        if (addr_of(a, port, &sa) < 0)
                return 2;
        int fd = socket(sa.sin6_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return 2;
        static char buf[1 << 16];
        memset(buf, 'x', sizeof buf);
        uint64_t end = now_ns() + (uint64_t)secs * 1000000000ULL;
        while (now_ns() < end)
                if (write(fd, buf, sizeof buf) < 0)
                        break;
        close(fd);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 7 && !strcmp(argv[1], "send"))
                return do_send(argv[2], atoi(argv[3]), atol(argv[4]), atol(argv[5]), atol(argv[6]));
        if (argc == 5 && !strcmp(argv[1], "recv"))
                return do_recv(atoi(argv[2]), atol(argv[3]), atol(argv[4]));
        if (argc == 5 && !strcmp(argv[1], "sink"))
                return do_sink(atoi(argv[2]), atol(argv[3]), atol(argv[4]));
        if (argc == 5 && !strcmp(argv[1], "source"))
                return do_source(argv[2], atoi(argv[3]), atol(argv[4]));
        fprintf(stderr, "usage: netcount send ADDR PORT N INTERVAL_US SIZE | recv PORT N EARLY_MS | "
                        "sink PORT SKIP_S SECONDS | source ADDR PORT SECONDS\n");
        return 2;
}
