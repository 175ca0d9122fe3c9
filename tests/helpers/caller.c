/* SPDX-License-Identifier: MIT */
/* A target for the fail-open tests: write(2) to /dev/null in a loop,
 * forever, counting what each call returned in a file it maps (so that the
 * counting makes no system call the filter could notify):
 *
 *   caller COUNTERS
 * COUNTERS: four native 64-bit integers, calls that succeeded, failed with
 * EIO, failed with ENOSYS (a dead listener: fail-closed), failed otherwise.
 * It ignores SIGTERM: a signal must not be what unblocks a held call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 2)
                return 2;
        signal(SIGTERM, SIG_IGN);
        int c = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c < 0 || ftruncate(c, 4 * sizeof(int64_t)) < 0)
                return 3;
        volatile int64_t *n = mmap(NULL, 4 * sizeof(int64_t), PROT_READ | PROT_WRITE, MAP_SHARED, c, 0);
        if (n == MAP_FAILED)
                return 3;
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return 3;
        for (;;) {
                if (write(fd, "x", 1) == 1)
                        n[0]++;
                else if (errno == EIO)
                        n[1]++;
                else if (errno == ENOSYS)
                        n[2]++;
                else
                        n[3]++;
        }
}
