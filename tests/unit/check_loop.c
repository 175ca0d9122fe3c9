/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "../../agent/loop.h"
#include "testutil.h"

static uint64_t mono(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What fired, in order, by source name's first letter. */
struct seen {
        char order[64];
        size_t n;
        struct loop_source *pair[2]; /* the first callback that runs removes the other */
        bool quit;                  /* the first callback ends the batch */
};

static void note(struct loop_source *s, uint32_t events, void *ud) {
        (void)events;
        struct seen *w = ud;
        if (w->n < sizeof w->order - 1)
                w->order[w->n++] = loop_source_name(s)[0];
        if (w->pair[0]) {
                loop_remove(w->pair[0] == s ? w->pair[1] : w->pair[0]);
                w->pair[0] = w->pair[1] = NULL;
        }
        if (w->quit) {
                w->quit = false;
                loop_quit(loop_of(s));
        }
}

static void pipe_ready(int p[2]) {
        ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        ck_assert_int_eq(write(p[1], "x", 1), 1);
}

START_TEST(test_timer_once_and_every) {
        struct loop *l = NULL;
        ck_assert_int_eq(loop_new(&l), 0);
        struct seen w = {0};
        struct loop_source *once = NULL, *every = NULL;
        ck_assert_int_eq(loop_add_timer(l, "once", LOOP_NORMAL, note, &w, &once), 0);
        ck_assert_int_eq(loop_add_timer(l, "every", LOOP_NORMAL, note, &w, &every), 0);
        /* Disarmed: nothing fires. */
        ck_assert_int_eq(loop_run_once(l, 30), 0);
        uint64_t t0 = mono();
        ck_assert_int_eq(loop_timer_at(once, t0 + 20 * 1000000ULL, 0), 0);
        ck_assert_int_eq(loop_timer_in(every, 5 * 1000000ULL, 5 * 1000000ULL), 0);
        while (mono() - t0 < 200 * 1000000ULL && !memchr(w.order, 'o', w.n))
                ck_assert_int_ge(loop_run_once(l, 100), 0);
        ck_assert_msg(memchr(w.order, 'o', w.n), "the one-shot timer fired: %.*s", (int)w.n, w.order);
        ck_assert_uint_ge(mono() - t0, 20 * 1000000ULL);
        /* At 5 ms intervals before a 20 ms one-shot: several ticks first. */
        ck_assert_int_eq(w.order[0], 'e');
        size_t before = w.n;
        ck_assert_int_eq(loop_timer_in(every, 0, 0), 0); /* disarmed */
        ck_assert_int_eq(loop_run_once(l, 30), 0);
        ck_assert_uint_eq(w.n, before);
        loop_free(l);
}
END_TEST

START_TEST(test_first_before_normal) {
        struct loop *l = NULL;
        ck_assert_int_eq(loop_new(&l), 0);
        struct seen w = {0};
        int a[2], b[2], c[2];
        pipe_ready(a), pipe_ready(b), pipe_ready(c);
        /* Added normal first: the LOOP_FIRST one still goes first. */
        ck_assert_int_eq(loop_add_fd(l, "normal a", a[0], EPOLLIN, LOOP_NORMAL, note, &w, NULL), 0);
        ck_assert_int_eq(loop_add_fd(l, "normal b", b[0], EPOLLIN, LOOP_NORMAL, note, &w, NULL), 0);
        ck_assert_int_eq(loop_add_fd(l, "first", c[0], EPOLLIN, LOOP_FIRST, note, &w, NULL), 0);
        ck_assert_int_eq(loop_run_once(l, 100), 3);
        ck_assert_int_eq(w.order[0], 'f');
        ck_assert_int_eq(w.order[1], 'n');
        ck_assert_int_eq(w.order[2], 'n');
        loop_free(l);
        for (int i = 0; i < 2; i++)
                close(a[i]), close(b[i]), close(c[i]);
}
END_TEST

/* A source removed while the batch that holds its event is dispatched
 * gets none of it (the SLO guard reaps a probe at its timeout in the same
 * batch as its pidfd's event; a target's listener goes with its target). */
START_TEST(test_removed_in_batch) {
        for (int trial = 0; trial < 100; trial++) {
                struct loop *l = NULL;
                ck_assert_int_eq(loop_new(&l), 0);
                struct seen w = {0};
                int a[2], b[2];
                pipe_ready(a), pipe_ready(b);
                struct loop_source *sa = NULL, *sb = NULL;
                ck_assert_int_eq(loop_add_fd(l, "a", a[0], EPOLLIN, LOOP_NORMAL, note, &w, &sa), 0);
                ck_assert_int_eq(loop_add_fd(l, "b", b[0], EPOLLIN, LOOP_NORMAL, note, &w, &sb), 0);
                /* Whichever runs first removes the other (trial by trial,
                 * added in either order). */
                w.pair[0] = trial % 2 ? sa : sb, w.pair[1] = trial % 2 ? sb : sa;
                ck_assert_int_eq(loop_run_once(l, 100), 1);
                ck_assert_uint_eq(w.n, 1);
                /* And no later batch either: only the one kept. */
                ck_assert_int_eq(loop_run_once(l, 0), 1);
                ck_assert_uint_eq(w.n, 2);
                ck_assert_int_eq(w.order[1], w.order[0]);
                loop_free(l);
                for (int i = 0; i < 2; i++)
                        close(a[i]), close(b[i]);
        }
}
END_TEST

START_TEST(test_quit_ends_batch) {
        struct loop *l = NULL;
        ck_assert_int_eq(loop_new(&l), 0);
        struct seen w = {.quit = true};
        int a[2], b[2];
        pipe_ready(a), pipe_ready(b);
        ck_assert_int_eq(loop_add_fd(l, "a", a[0], EPOLLIN, LOOP_NORMAL, note, &w, NULL), 0);
        ck_assert_int_eq(loop_add_fd(l, "b", b[0], EPOLLIN, LOOP_NORMAL, note, &w, NULL), 0);
        ck_assert_int_eq(loop_run_once(l, 100), 1);
        ck_assert(loop_quitting(l));
        /* The other waits for the next call (level-triggered: still ready). */
        ck_assert_int_eq(loop_run_once(l, 100), 2);
        ck_assert(!loop_quitting(l));
        ck_assert_uint_eq(w.n, 3);
        loop_free(l);
        for (int i = 0; i < 2; i++)
                close(a[i]), close(b[i]);
}
END_TEST

START_TEST(test_bad_fd) {
        struct loop *l = NULL;
        ck_assert_int_eq(loop_new(&l), 0);
        struct seen w = {0};
        ck_assert_int_eq(loop_add_fd(l, "bad", -1, EPOLLIN, LOOP_NORMAL, note, &w, NULL), -EBADF);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        close(p[0]);
        ck_assert_int_eq(loop_add_fd(l, "closed", p[0], EPOLLIN, LOOP_NORMAL, note, &w, NULL), -EBADF);
        close(p[1]);
        loop_remove(NULL);
        loop_free(l);
}
END_TEST

int main(void) {
        Suite *s = suite_create("loop");
        TCase *tc = tcase_create("loop");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_timer_once_and_every);
        tcase_add_test(tc, test_first_before_normal);
        tcase_add_test(tc, test_removed_in_batch);
        tcase_add_test(tc, test_quit_ends_batch);
        tcase_add_test(tc, test_bad_fd);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
