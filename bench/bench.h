/* SPDX-License-Identifier: MIT */
/* What the benchmarks share besides their statistics (stats.h): the
 * clock, and a command run the way the peers run theirs. */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One fork and exec per command line, as the peers' tools do (no shell:
 * the words split at spaces); its output goes to /dev/null. Its exit
 * status, or -1. */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...) {
        char cmd[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        char *argv[64];
        int n = 0;
        for (char *save = NULL, *w = strtok_r(cmd, " ", &save); w && n < 63; w = strtok_r(NULL, " ", &save))
                argv[n++] = w;
        argv[n] = NULL;
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
                if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
