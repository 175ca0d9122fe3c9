/* SPDX-License-Identifier: MIT */
/* A target that stops another process the moment it is resumed: when a
 * SIGCONT reaches it, it reads a pid from PIDFILE, removes the file (one
 * shot) and sends that pid SIGSTOP, from the signal handler, so that the
 * stop lands as close as the scheduler allows to the revert that resumed
 * it. The hostile tests use it to freeze `sabot abort` between its
 * reverts and its journal records, then SIGKILL it there.
 *
 *   onresume PIDFILE
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char *pidfile;

static void on_cont(int sig) {
        (void)sig;
        char buf[32];
        int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        (void)unlink(pidfile);
        if (n <= 0)
                return;
        buf[n] = '\0';
        long pid = 0;
        for (char *c = buf; *c >= '0' && *c <= '9'; c++)
                pid = pid * 10 + (*c - '0');
        if (pid > 1)
                kill((pid_t)pid, SIGSTOP);
}

int main(int argc, char **argv) {
        if (argc != 2)
                return 2;
        pidfile = argv[1];
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_cont;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGCONT, &sa, NULL) < 0)
                return 1;
        for (;;)
                pause();
}
