/* SPDX-License-Identifier: MIT */
/* N openat(2) + close(2) of one file; prints "ns_per_open=D". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 3)
                return 2;
        long n = strtol(argv[1], NULL, 10), failed = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++) {
                int fd = openat(AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        failed++;
                else
                        close(fd);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("ns_per_open=%lld failed=%ld\n",
               ((long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)) / (n ? n : 1), failed);
        return 0;
}
