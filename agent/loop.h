/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The run's event loop: epoll over named sources, each an fd or a timer
 * with its own callback, instead of numbered epoll ids. A source removed
 * while a batch of events is being dispatched gets none of that batch's
 * events that are still to come (its memory lives until the batch ends),
 * so a callback may remove any source, its own included. Depends on libc
 * only: faults/ register their own sources (the syscall kinds' listeners). */

struct loop;
struct loop_source;

/* events: the EPOLL* bits that fired (for a timer, EPOLLIN once its
 * expirations were read). */
typedef void (*loop_fn)(struct loop_source *s, uint32_t events, void *ud);

/* Dispatch order inside one batch: LOOP_FIRST sources before the others
 * (signals, the schedule, the guardian: a fault window that opens now is
 * open for the calls that arrived with it). */
enum loop_prio { LOOP_NORMAL, LOOP_FIRST };

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

/* Watch fd (not owned: the caller closes it, after loop_remove). */
int loop_add_fd(struct loop *l, const char *name, int fd, uint32_t events, enum loop_prio prio, loop_fn cb, void *ud,
                struct loop_source **ret);
int loop_modify(struct loop_source *s, uint32_t events);
/* A timer of its own (a CLOCK_MONOTONIC timerfd the loop owns), disarmed. */
int loop_add_timer(struct loop *l, const char *name, enum loop_prio prio, loop_fn cb, void *ud,
                   struct loop_source **ret);
/* At CLOCK_MONOTONIC ns at (0: disarm), then every interval_ns (0: once). */
int loop_timer_at(struct loop_source *s, uint64_t at, uint64_t interval_ns);
/* In ns from now (0: disarm), then every interval_ns (0: once). */
int loop_timer_in(struct loop_source *s, uint64_t in_ns, uint64_t interval_ns);
/* Stop watching (and close a timer's fd); NULL is a no-op. */
void loop_remove(struct loop_source *s);

const char *loop_source_name(const struct loop_source *s);
int loop_source_fd(const struct loop_source *s);
struct loop *loop_of(const struct loop_source *s);

/* Wait up to timeout_ms (-1: for ever) and dispatch what fired. Returns
 * the number of events dispatched (0 on a timeout or EINTR), or -errno. A
 * callback that calls loop_quit ends the batch: the events after it wait
 * for the next call. */
int loop_run_once(struct loop *l, int timeout_ms);
void loop_quit(struct loop *l);
/* Whether loop_quit was called since the last loop_run_once began. */
bool loop_quitting(const struct loop *l);
