/* SPDX-License-Identifier: MIT */
/* A small DNS client for the VM tier's dns test, where dig's start-up
 * costs seconds under TCG:
 *
 *   dnsq [-e] [-n N] [-t MS] SERVER NAME
 *       sends N (1) standard queries for NAME's A record over UDP to
 *       SERVER (IPv4 or IPv6) port 53, one after another, each with a new
 *       id and, with -e, an EDNS OPT record in the additional section, and
 *       waits up to MS (1000) ms for each answer. Prints one line per
 *       query: the answer's rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED,
 *       RCODE=n), TIMEOUT when none came, or BAD when what came is not the
 *       answer to that query (id, QR bit or question differ). The kernel
 *       drops a datagram whose UDP checksum is wrong: it comes as TIMEOUT.
 * Exits 0, or 2 on bad arguments. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int usage(void) {
        fprintf(stderr, "usage: dnsq [-e] [-n N] [-t MS] SERVER NAME\n");
        return 2;
}

/* NAME in wire form at out: length-prefixed labels, the root's 0. */
static int wire_name(const char *name, uint8_t *out, size_t max) {
        size_t o = 0;
        const char *p = name;
        while (*p) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                if (l == 0 || l > 63 || o + l + 2 > max)
                        return -1;
                out[o++] = (uint8_t)l;
                memcpy(out + o, p, l);
                o += l;
                p += l;
                if (*p == '.')
                        p++;
        }
        out[o++] = 0;
        return (int)o;
}

static long now_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int main(int argc, char **argv) {
        int edns = 0, n = 1, ms = 1000, c;
        while ((c = getopt(argc, argv, "en:t:")) != -1) {
                if (c == 'e')
                        edns = 1;
                else if (c == 'n')
                        n = atoi(optarg);
                else if (c == 't')
                        ms = atoi(optarg);
                else
                        return usage();
        }
        if (argc - optind != 2 || n < 1 || ms < 1)
                return usage();
        struct sockaddr_storage ss = {0};
        socklen_t sl;
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, argv[optind], &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons(53);
                sl = sizeof *s4;
        } else if (inet_pton(AF_INET6, argv[optind], &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(53);
                sl = sizeof *s6;
        } else
                return usage();
        uint8_t q[512];
        memset(q, 0, 12);
        q[2] = 0x01; /* RD */
        q[5] = 1;    /* one question */
        int nl = wire_name(argv[optind + 1], q + 12, 300);
        if (nl < 0)
                return usage();
        size_t qlen = 12 + (size_t)nl;
        q[qlen++] = 0, q[qlen++] = 1; /* A */
        q[qlen++] = 0, q[qlen++] = 1; /* IN */
        size_t qend = qlen;
        if (edns) {
                /* OPT: root name, type 41, 1232-byte payload, no options. */
                static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
                memcpy(q + qlen, opt, sizeof opt);
                qlen += sizeof opt;
                q[11] = 1;
        }
        int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
                perror("dnsq: socket");
                return 1;
        }
        for (int i = 0; i < n; i++) {
                uint16_t id;
                if (getrandom(&id, sizeof id, 0) != sizeof id)
                        id = (uint16_t)(now_ms() + i);
                q[0] = (uint8_t)(id >> 8), q[1] = (uint8_t)id;
                if (send(fd, q, qlen, 0) < 0) {
                        perror("dnsq: send");
                        return 1;
                }
                long end = now_ms() + ms;
                const char *what = "TIMEOUT";
                char code[16];
                for (;;) {
                        long left = end - now_ms();
                        struct pollfd p = {.fd = fd, .events = POLLIN};
                        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                                break;
                        uint8_t r[4096];
                        ssize_t got = recv(fd, r, sizeof r, 0);
                        if (got < 0)
                                break;
                        if (got >= 2 && (r[0] != q[0] || r[1] != q[1]))
                                continue; /* a late answer to an earlier query */
                        if ((size_t)got < qend || !(r[2] & 0x80) || memcmp(r + 12, q + 12, qend - 12) != 0) {
                                what = "BAD";
                                break;
                        }
                        static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
                        int rc = r[3] & 0xf;
                        if (rc < 6)
                                what = names[rc];
                        else {
                                snprintf(code, sizeof code, "RCODE=%d", rc);
                                what = code;
                        }
                        break;
                }
                printf("%s\n", what);
                fflush(stdout);
        }
        close(fd);
        return 0;
}
