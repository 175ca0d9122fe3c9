/* SPDX-License-Identifier: MIT */
/* A target for the syscall-fault tests: N write(2) calls spread over the
 * given files, then a report (written with writev(2), which the tests do
 * not fault), then it waits to be terminated.
 *
 *   writer N REPORT FILE...
 * report: one line per file "FILE ok=A eio=B other=C", then
 * "ns_per_write=D". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 4)
                return 2;
        long n = strtol(argv[1], NULL, 10);
        int nf = argc - 3;
        int fds[16];
        long ok[16] = {0}, eio[16] = {0}, other[16] = {0};
        if (nf > 16)
                return 2;
        for (int i = 0; i < nf; i++)
                if ((fds[i] = open(argv[3 + i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
                        return 3;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long k = 0; k < n; k++) {
                int i = (int)(k % nf);
                if (write(fds[i], "x", 1) == 1)
                        ok[i]++;
                else if (errno == EIO)
                        eio[i]++;
                else
                        other[i]++;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        char buf[8192];
        size_t len = 0;
        for (int i = 0; i < nf; i++)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s ok=%ld eio=%ld other=%ld\n", argv[3 + i], ok[i],
                                        eio[i], other[i]);
        long long ns = ((long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)) / (n ? n : 1);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "ns_per_write=%lld\n", ns);
        int r = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        if (r < 0 || writev(r, &iov, 1) != (ssize_t)len)
                return 4;
        close(r);
        for (;;)
                pause();
}
