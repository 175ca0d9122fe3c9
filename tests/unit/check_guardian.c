/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../agent/guardian.h"
#include "../../agent/guardian_proto.h"
#include "testutil.h"

static int sp[2]; /* [0] the runner's end, [1] the guardian's */

static void setup(void) { ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0); }
static void teardown(void) {
        close(sp[0]);
        close(sp[1]);
}

static struct guardian_state fresh(void) { return (struct guardian_state){.deadline_ns = 1000, .last_ns = 1}; }

/* A raw message, as a confused or hostile peer would send it. */
static void raw(const void *b, size_t len, const int *fds, size_t n_fds) {
        char cbuf[CMSG_SPACE(4 * sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {.iov_base = (void *)b, .iov_len = len};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        if (n_fds) {
                m.msg_control = cbuf;
                m.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
                struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
                memcpy(CMSG_DATA(cm), fds, n_fds * sizeof(int));
        }
        ck_assert_int_eq(sendmsg(sp[0], &m, MSG_NOSIGNAL), (ssize_t)len);
}

/* Whether every copy of a pipe's write end is closed (the read end sees
 * the end): how a test tells that the guardian closed what it refused. */
static bool writers_gone(int rfd) {
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

START_TEST(test_messages_acted_on) {
        struct guardian_state st = fresh();
        ck_assert_int_eq(guardian_recv(sp[1], &st, 5), GUARDIAN_RECV_AGAIN);
        ck_assert_uint_eq(st.last_ns, 1);
        guardian_beat(sp[0]);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 7), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.last_ns, 7);
        /* The hard deadline only ever moves earlier. */
        guardian_deadline(sp[0], 400);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 8), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.deadline_ns, 400);
        guardian_deadline(sp[0], 900);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 9), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.deadline_ns, 400);
        ck_assert_uint_eq(st.last_ns, 9);
        /* A listener arrives as a new fd of the same file, close-on-exec. */
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(guardian_give_fd(sp[0], p[1]), 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 10), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.n_fds, 1);
        struct stat a, b;
        ck_assert_int_eq(fstat(p[1], &a), 0);
        ck_assert_int_eq(fstat(st.fds[0], &b), 0);
        ck_assert_int_ne(st.fds[0], p[1]);
        ck_assert_uint_eq(a.st_ino, b.st_ino);
        ck_assert_int_ne(fcntl(st.fds[0], F_GETFD) & FD_CLOEXEC, 0);
        close(p[1]);
        ck_assert(!writers_gone(p[0])); /* the guardian's copy holds it */
        close(st.fds[0]);
        ck_assert(writers_gone(p[0]));
        close(p[0]);
        guardian_done(sp[0]);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 11), GUARDIAN_RECV_DONE);
        ck_assert_uint_eq(st.refused, 0);
        /* The runner's end closed: the guardian's cue to revert. */
        close(sp[0]);
        sp[0] = -1;
        ck_assert_int_eq(guardian_recv(sp[1], &st, 12), GUARDIAN_RECV_EOF);
}
END_TEST

START_TEST(test_wire_format) {
        /* One message per send: the type byte, then exactly its payload. */
        unsigned char buf[64];
        guardian_deadline(sp[0], 0x0102030405060708ULL);
        ck_assert_int_eq(recv(sp[1], buf, sizeof buf, 0), 9);
        ck_assert_int_eq(buf[0], GUARDIAN_MSG_DEADLINE);
        uint64_t d;
        memcpy(&d, buf + 1, sizeof d);
        ck_assert_uint_eq(d, 0x0102030405060708ULL);
        guardian_beat(sp[0]);
        guardian_done(sp[0]);
        ck_assert_int_eq(recv(sp[1], buf, sizeof buf, 0), 1);
        ck_assert_int_eq(buf[0], GUARDIAN_MSG_BEAT);
        ck_assert_int_eq(recv(sp[1], buf, sizeof buf, 0), 1);
        ck_assert_int_eq(buf[0], GUARDIAN_MSG_DONE);
        /* A sender that has no fd to give sends nothing. */
        ck_assert_int_eq(guardian_give_fd(sp[0], -1), -EBADF);
        ck_assert_int_eq(recv(sp[1], buf, sizeof buf, MSG_DONTWAIT), -1);
        ck_assert_int_eq(errno, EAGAIN);
        /* A raw deadline of the same bytes is read as the runner's. */
        struct guardian_state st = fresh();
        unsigned char m[9] = {'D'};
        uint64_t early = 3;
        memcpy(m + 1, &early, sizeof early);
        raw(m, sizeof m, NULL, 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 2), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.deadline_ns, 3);
}
END_TEST

START_TEST(test_short_and_long_messages) {
        /* Refused, acted on in no way, but the runner showed it is alive. */
        struct guardian_state st = fresh();
        unsigned char m[32] = {'D', 1, 0, 0, 0};
        for (size_t len = 2; len < sizeof m; len++) {
                if (len == 9)
                        continue;
                raw(m, len, NULL, 0);
                ck_assert_msg(guardian_recv(sp[1], &st, 100 + len) == GUARDIAN_RECV_REFUSED, "deadline of %zu bytes", len);
                ck_assert_uint_eq(st.deadline_ns, 1000);
                ck_assert_uint_eq(st.last_ns, 100 + len);
        }
        raw("D", 1, NULL, 0); /* a type without its payload */
        ck_assert_int_eq(guardian_recv(sp[1], &st, 200), GUARDIAN_RECV_REFUSED);
        ck_assert_uint_eq(st.deadline_ns, 1000);
        raw("hh", 2, NULL, 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 201), GUARDIAN_RECV_REFUSED);
        /* "Done" with a payload is not done: the guardian stays on duty. */
        raw("qq", 2, NULL, 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 202), GUARDIAN_RECV_REFUSED);
        /* Each message stands alone: a refused one does not swallow the next. */
        guardian_beat(sp[0]);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 203), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.refused, 30 - 1 + 3);
        /* An empty message cannot be told from the end on SOCK_SEQPACKET:
         * it reads as the runner gone (the runner never sends one). */
        raw("", 0, NULL, 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 204), GUARDIAN_RECV_EOF);
}
END_TEST

START_TEST(test_unknown_types) {
        struct guardian_state st = fresh();
        const unsigned char types[] = {'x', 'H', 'Q', 'd', 'N', 0, 0xff, 0x80};
        for (size_t i = 0; i < sizeof types; i++) {
                raw(&types[i], 1, NULL, 0);
                ck_assert_int_eq(guardian_recv(sp[1], &st, 10 + i), GUARDIAN_RECV_REFUSED);
                ck_assert_uint_eq(st.last_ns, 10 + i);
        }
        /* An unknown type with an fd: refused, and the fd closed. */
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        raw("z", 1, &p[1], 1);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 50), GUARDIAN_RECV_REFUSED);
        close(p[1]);
        ck_assert(writers_gone(p[0]));
        close(p[0]);
        ck_assert_uint_eq(st.n_fds, 0);
        ck_assert_uint_eq(st.deadline_ns, 1000);
        ck_assert_uint_eq(st.refused, sizeof types + 1);
}
END_TEST

START_TEST(test_fds_where_they_belong) {
        struct guardian_state st = fresh();
        int p[2], q[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(q, O_CLOEXEC), 0);
        /* A listener message without its fd. */
        raw("n", 1, NULL, 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 2), GUARDIAN_RECV_REFUSED);
        ck_assert_uint_eq(st.n_fds, 0);
        /* An fd on a message that takes none. */
        raw("h", 1, &p[1], 1);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 3), GUARDIAN_RECV_REFUSED);
        /* Two fds on one listener message. */
        int two[] = {p[1], q[1]};
        raw("n", 1, two, 2);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 4), GUARDIAN_RECV_REFUSED);
        ck_assert_uint_eq(st.n_fds, 0);
        close(p[1]);
        close(q[1]);
        ck_assert(writers_gone(p[0]));
        ck_assert(writers_gone(q[0]));
        close(p[0]);
        close(q[0]);
        /* More listeners than it holds: the extra ones are closed. */
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        for (int i = 0; i < GUARDIAN_FDS_MAX + 3; i++) {
                ck_assert_int_eq(guardian_give_fd(sp[0], p[1]), 0);
                ck_assert_int_eq(guardian_recv(sp[1], &st, 10), i < GUARDIAN_FDS_MAX ? GUARDIAN_RECV_OK : GUARDIAN_RECV_REFUSED);
        }
        ck_assert_uint_eq(st.n_fds, GUARDIAN_FDS_MAX);
        close(p[1]);
        for (size_t i = 0; i < st.n_fds; i++) {
                ck_assert(!writers_gone(p[0]));
                close(st.fds[i]);
        }
        ck_assert(writers_gone(p[0]));
        close(p[0]);
}
END_TEST

/* A file held (disk-fill's): kept in its own list, not among the
 * listeners it answers; one without its fd is refused. */
START_TEST(test_held_files) {
        struct guardian_state st = fresh();
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        raw("F", 1, NULL, 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 2), GUARDIAN_RECV_REFUSED);
        ck_assert_int_eq(guardian_hold_fd(sp[0], -1), -EBADF);
        ck_assert_int_eq(guardian_hold_fd(sp[0], p[1]), 0);
        ck_assert_int_eq(guardian_recv(sp[1], &st, 3), GUARDIAN_RECV_OK);
        ck_assert_uint_eq(st.n_held, 1);
        ck_assert_uint_eq(st.n_fds, 0);
        close(p[1]);
        ck_assert(!writers_gone(p[0])); /* the guardian's copy holds it */
        close(st.held[0]);
        ck_assert(writers_gone(p[0]));
        close(p[0]);
}
END_TEST

/* The guardian itself, forked: "done" ends it without a revert, whatever
 * refused messages came first; the runner's end closing makes it revert
 * (here a journal already gone: nothing to do) and exit. */
static int wait_exit(pid_t pid) {
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

START_TEST(test_spawned_guardian) {
        char dir[] = "/tmp/sabot-guardian-XXXXXX", path[PATH_MAX];
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/runs/gone.journal", dir);
        uint64_t far = mono_now() + 3600 * NSEC_PER_SEC;
        for (int how = 0; how < 2; how++) {
                int fd = -1;
                pid_t pid = 0;
                void *sh = NULL;
                ck_assert_int_eq(guardian_spawn(path, far, GUARDIAN_GRACE_NS, &fd, &pid, &sh), 0);
                ck_assert_int_eq(send(fd, "x", 1, MSG_NOSIGNAL), 1);
                ck_assert_int_eq(send(fd, "D12", 3, MSG_NOSIGNAL), 3);
                guardian_beat(fd);
                if (how == 0)
                        guardian_done(fd);
                else
                        close(fd);
                ck_assert_int_eq(wait_exit(pid), 0);
                if (how == 0)
                        close(fd);
                munmap(sh, sizeof *sh);
        }
        rmdir(dir);
}
END_TEST

int main(void) {
        Suite *s = suite_create("guardian");
        TCase *tc = tcase_create("protocol");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_messages_acted_on);
        tcase_add_test(tc, test_wire_format);
        tcase_add_test(tc, test_short_and_long_messages);
        tcase_add_test(tc, test_unknown_types);
        tcase_add_test(tc, test_fds_where_they_belong);
        tcase_add_test(tc, test_held_files);
        tcase_add_test(tc, test_spawned_guardian);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
