/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_BATCH 16

struct loop_source {
        struct loop *l;
        const char *name;
        int fd;
        bool timer; /* the fd is the loop's own timerfd */
        bool dead;  /* removed: skip what is left of the batch, free after it */
        enum loop_prio prio;
        loop_fn cb;
        void *ud;
        struct loop_source *next_dead;
};

struct loop {
        int epfd;
        bool dispatching, quit;
        struct loop_source *dead;
        size_t n_sources; /* live ones, freed by loop_free */
        struct loop_source **sources;
};

int loop_new(struct loop **ret) {
        struct loop *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0) {
                int r = -errno;
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static void reap_dead(struct loop *l) {
        while (l->dead) {
                struct loop_source *s = l->dead;
                l->dead = s->next_dead;
                free(s);
        }
}

void loop_free(struct loop *l) {
        if (!l)
                return;
        while (l->n_sources)
                loop_remove(l->sources[l->n_sources - 1]);
        reap_dead(l);
        free(l->sources);
        close(l->epfd);
        free(l);
}

static int add(struct loop *l, const char *name, int fd, bool timer, uint32_t events, enum loop_prio prio, loop_fn cb,
               void *ud, struct loop_source **ret) {
        struct loop_source *s = calloc(1, sizeof *s);
        struct loop_source **v = realloc(l->sources, (l->n_sources + 1) * sizeof *v);
        if (!s || !v) {
                free(s);
                if (v)
                        l->sources = v;
                return -ENOMEM;
        }
        l->sources = v;
        *s = (struct loop_source){.l = l, .name = name, .fd = fd, .timer = timer, .prio = prio, .cb = cb, .ud = ud};
        struct epoll_event ev = {.events = events, .data.ptr = s};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                free(s);
                return r;
        }
        l->sources[l->n_sources++] = s;
        if (ret)
                *ret = s;
        return 0;
}

int loop_add_fd(struct loop *l, const char *name, int fd, uint32_t events, enum loop_prio prio, loop_fn cb, void *ud,
                struct loop_source **ret) {
        if (fd < 0)
                return -EBADF;
        return add(l, name, fd, false, events, prio, cb, ud, ret);
}

int loop_add_timer(struct loop *l, const char *name, enum loop_prio prio, loop_fn cb, void *ud,
                   struct loop_source **ret) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        int r = add(l, name, fd, true, EPOLLIN, prio, cb, ud, ret);
        if (r < 0)
                close(fd);
        return r;
}

int loop_modify(struct loop_source *s, uint32_t events) {
        struct epoll_event ev = {.events = events, .data.ptr = s};
        return epoll_ctl(s->l->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

static int timer_set(struct loop_source *s, int flags, uint64_t at, uint64_t interval_ns) {
        if (!s->timer)
                return -EINVAL;
        struct itimerspec its = {
                .it_value = {(time_t)(at / 1000000000ULL), (long)(at % 1000000000ULL)},
                .it_interval = {(time_t)(interval_ns / 1000000000ULL), (long)(interval_ns % 1000000000ULL)},
        };
        return timerfd_settime(s->fd, flags, &its, NULL) < 0 ? -errno : 0;
}

int loop_timer_at(struct loop_source *s, uint64_t at, uint64_t interval_ns) {
        return timer_set(s, TFD_TIMER_ABSTIME, at, interval_ns);
}

int loop_timer_in(struct loop_source *s, uint64_t in_ns, uint64_t interval_ns) {
        return timer_set(s, 0, in_ns, interval_ns);
}

void loop_remove(struct loop_source *s) {
        if (!s || s->dead)
                return;
        struct loop *l = s->l;
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
        if (s->timer)
                close(s->fd);
        s->fd = -1;
        s->dead = true;
        for (size_t i = 0; i < l->n_sources; i++)
                if (l->sources[i] == s) {
                        l->sources[i] = l->sources[--l->n_sources];
                        break;
                }
        s->next_dead = l->dead;
        l->dead = s;
        if (!l->dispatching)
                reap_dead(l);
}

const char *loop_source_name(const struct loop_source *s) { return s->name; }
int loop_source_fd(const struct loop_source *s) { return s->fd; }
struct loop *loop_of(const struct loop_source *s) { return s->l; }

void loop_quit(struct loop *l) { l->quit = true; }
bool loop_quitting(const struct loop *l) { return l->quit; }

int loop_run_once(struct loop *l, int timeout_ms) {
        struct epoll_event evs[LOOP_BATCH];
        l->quit = false;
        int n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        /* LOOP_FIRST sources first, each group in the order reported. */
        struct epoll_event sorted[LOOP_BATCH];
        int k = 0;
        for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < n; i++) {
                        const struct loop_source *s = evs[i].data.ptr;
                        if ((s->prio == LOOP_FIRST) == (pass == 0))
                                sorted[k++] = evs[i];
                }
        l->dispatching = true;
        int done = 0;
        for (int i = 0; i < n && !l->quit; i++) {
                struct loop_source *s = sorted[i].data.ptr;
                if (s->dead)
                        continue;
                if (s->timer) {
                        uint64_t x;
                        if (read(s->fd, &x, sizeof x) != (ssize_t)sizeof x)
                                continue; /* re-armed since it fired */
                }
                s->cb(s, sorted[i].events, s->ud);
                done++;
        }
        l->dispatching = false;
        reap_dead(l);
        return done;
}
