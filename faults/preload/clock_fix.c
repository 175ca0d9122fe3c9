/* SPDX-License-Identifier: MIT */
/* libsabot-clock.so: preloaded into a clock fault's launched target in
 * front of libfaketime, to keep the clock kind's promise that monotonic
 * clocks are untouched.
 *
 * libfaketime 0.9.10 (Debian 12, Ubuntu 24.04) rewrites every absolute
 * clock_nanosleep() deadline from the faked wall clock, CLOCK_MONOTONIC's
 * too, even under FAKETIME_DONT_FAKE_MONOTONIC: the target's
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...) fails with EINVAL
 * (Python's time.sleep is that call: every sleep of a Python target
 * raised OSError). Later versions leave such a deadline alone, as this
 * does. Only the wall clocks' absolute deadlines go on to libfaketime
 * (the target computed them from its faked time); every other sleep is
 * the C library's own, found in libc.so.6 itself so that no preloaded
 * library comes between.
 *
 * The other defect of 0.9.10 (a CLOCK_MONOTONIC condition variable's
 * timed wait returning at once) is avoided by the environment sabot sets
 * (FAKETIME_FORCE_MONOTONIC_FIX=0, faults/clock.c).
 *
 * Built without sanitizers: it is loaded into processes that are not
 * sabot's build. No state but two function pointers, set once. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <time.h>

typedef int (*nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

static nanosleep_fn resolve(nanosleep_fn *slot, void *handle) {
        nanosleep_fn f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (!f && handle) {
                f = (nanosleep_fn)dlsym(handle, "clock_nanosleep");
                __atomic_store_n(slot, f, __ATOMIC_RELEASE);
        }
        return f;
}

static int wall_clock(clockid_t id) { return id == CLOCK_REALTIME || id == CLOCK_REALTIME_ALARM || id == CLOCK_TAI; }

__attribute__((visibility("default"))) int clock_nanosleep(clockid_t id, int flags, const struct timespec *req,
                                                           struct timespec *rem) {
        static nanosleep_fn next, libc;
        nanosleep_fn f = NULL;
        if ((flags & TIMER_ABSTIME) && wall_clock(id))
                f = resolve(&next, RTLD_NEXT);
        if (!f) {
                void *h = __atomic_load_n(&libc, __ATOMIC_ACQUIRE) ? NULL : dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
                f = resolve(&libc, h);
                if (h)
                        dlclose(h);
        }
        return f ? f(id, flags, req, rem) : ENOSYS;
}
