/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <math.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../agent/loop.h"
#include "../../agent/slo.h"
#include "../../agent/slo_judge.h"
#include "../../agent/util.h"
#include "testutil.h"

#define MS(x) ((uint64_t)(x) * NSEC_PER_MSEC)
#define S(x) ((uint64_t)(x) * NSEC_PER_SEC)
/* Far from 0, so that "now - window" does not wrap. */
#define T0 S(1000)

/* One [slo] section, parsed and checked as a run would, and its status. */
struct fix {
        struct scenario *s;
        struct slo_status st;
};

static struct fix *fix_new(const char *slo) {
        struct fix *x = calloc(1, sizeof *x);
        ck_assert_ptr_nonnull(x);
        char text[1024];
        snprintf(text, sizeof text, HEAD "[slo s]\n%s", slo);
        _cleanup_free_ char *problems = scenario_problems(text, NULL);
        ck_assert_msg(!strstr(problems, "error"), "%s", problems);
        struct diags d = {0};
        ck_assert_int_eq(scenario_parse("t.ini", text, strlen(text), &x->s, &d), 0);
        diags_free(&d);
        ck_assert_uint_eq(x->s->n_slos, 1);
        x->st.o = x->s->slos[0];
        return x;
}

static void fix_free(struct fix *x) {
        slo_status_free(&x->st);
        scenario_free(x->s);
        free(x);
}

static void add(struct fix *x, uint64_t t, bool ok, uint64_t latency) {
        struct slo_sample s = {.t_ns = t, .ok = ok, .latency_ns = latency, .value = NAN};
        slo_status_add(&x->st, &s, ok ? NULL : "connection refused");
}

static void add_value(struct fix *x, uint64_t t, double v) {
        struct slo_sample s = {.t_ns = t, .ok = !isnan(v), .value = v};
        slo_status_add(&x->st, &s, NULL);
}

#define HTTP "probe = http\nurl = http://127.0.0.1:1/\n"

START_TEST(test_error_rate) {
        /* Window 10 s (10 x interval), max 10%: 1 failure in 10 holds, 2 do not. */
        struct fix *x = fix_new(HTTP "max_error_rate = 10%\n");
        for (int i = 0; i < 10; i++)
                add(x, T0 + S(i), i != 4, MS(5));
        slo_judge(&x->st, 0, T0 + S(9));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_str_eq(x->st.why, "healthy: error rate 10% (1 of 10), p99 5.0 ms over 10s");
        ck_assert_double_eq_tol(x->st.value, 10, 1e-9);
        ck_assert_double_eq_tol(x->st.threshold, 10, 1e-9);
        add(x, T0 + S(10), false, MS(5)); /* the first sample leaves the window: 2 of 10 */
        slo_judge(&x->st, 0, T0 + S(10) + 1);
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_str_eq(x->st.why, "error rate 20% (2 of 10) over 10s is above max_error_rate 10%");
        ck_assert_double_eq_tol(x->st.value, 20, 1e-9);
        ck_assert_double_eq_tol(x->st.threshold, 10, 1e-9);
        fix_free(x);
        /* 0%: one failure breaches. */
        x = fix_new(HTTP "max_error_rate = 0%\n");
        for (int i = 0; i < 5; i++)
                add(x, T0 + S(i), true, MS(1));
        slo_judge(&x->st, 0, T0 + S(5));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        add(x, T0 + S(5), false, MS(1));
        slo_judge(&x->st, 0, T0 + S(5));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        fix_free(x);
}
END_TEST

START_TEST(test_p99_latency) {
        /* 100 samples: p99 is the 99th fastest, so one slow sample holds
         * and two breach. Failures count in the error rate only. */
        struct fix *x = fix_new(HTTP "interval = 100ms\nmax_latency = 300ms\n");
        for (int i = 0; i < 100; i++)
                add(x, T0 + MS(i * 10), true, i == 50 ? MS(900) : MS(10 + i % 7));
        uint64_t now = T0 + MS(990);
        slo_judge(&x->st, 0, now);
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_double_eq_tol(x->st.value, 16, 1e-9); /* ms */
        ck_assert_double_eq_tol(x->st.threshold, 300, 1e-9);
        slo_status_at(&x->st, 60)->latency_ns = MS(301);
        slo_judge(&x->st, 0, now);
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_str_eq(x->st.why, "p99 latency 301ms over 1s is above max_latency 300ms");
        ck_assert_double_eq_tol(x->st.value, 301, 1e-9);
        /* At the bound exactly: not above it. */
        slo_status_at(&x->st, 60)->latency_ns = MS(300);
        slo_status_at(&x->st, 50)->latency_ns = MS(300);
        slo_judge(&x->st, 0, now);
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        fix_free(x);
        /* Both thresholds: the error rate is judged first. */
        x = fix_new(HTTP "max_latency = 300ms\nmax_error_rate = 10%\n");
        for (int i = 0; i < 3; i++)
                add(x, T0 + S(i), i == 0, MS(900));
        slo_judge(&x->st, 0, T0 + S(2));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_contains(x->st.why, "error rate 67% (2 of 3)");
        fix_free(x);
}
END_TEST

START_TEST(test_min_samples) {
        struct fix *x = fix_new(HTTP "max_error_rate = 10%\nmin_samples = 4\n");
        slo_judge(&x->st, 0, T0); /* none at all */
        ck_assert_int_eq(x->st.verdict, SLO_UNKNOWN);
        ck_assert_str_eq(x->st.why, "0 of 4 samples so far");
        for (int i = 0; i < 3; i++)
                add(x, T0 + S(i), false, MS(1));
        slo_judge(&x->st, 0, T0 + S(3));
        ck_assert_int_eq(x->st.verdict, SLO_UNKNOWN); /* three failures: not judged yet */
        ck_assert_str_eq(x->st.why, "3 of 4 samples so far");
        add(x, T0 + S(3), true, MS(1));
        slo_judge(&x->st, 0, T0 + S(3));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        /* A verdict does not stick: with the samples out of the window it is unknown again. */
        slo_judge(&x->st, 0, T0 + S(60));
        ck_assert_int_eq(x->st.verdict, SLO_UNKNOWN);
        fix_free(x);
}
END_TEST

START_TEST(test_one_sample) {
        struct fix *x = fix_new(HTTP "max_error_rate = 50%\nmax_latency = 100ms\nmin_samples = 1\n");
        add(x, T0, true, MS(150));
        slo_judge(&x->st, 0, T0);
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED); /* its p99 is itself */
        ck_assert_str_eq(x->st.why, "p99 latency 150ms over 10s is above max_latency 100ms");
        slo_status_at(&x->st, 0)->latency_ns = MS(50);
        slo_judge(&x->st, 0, T0);
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_str_eq(x->st.why, "healthy: error rate 0% (0 of 1), p99 50.0 ms over 10s");
        slo_status_at(&x->st, 0)->ok = false;
        slo_judge(&x->st, 0, T0);
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_contains(x->st.why, "error rate 100% (1 of 1)");
        fix_free(x);
}
END_TEST

START_TEST(test_window_edges) {
        /* window = 5s: a sample exactly 5 s old counts, one a nanosecond older does not. */
        struct fix *x = fix_new(HTTP "max_error_rate = 10%\nwindow = 5s\nmin_samples = 1\n");
        add(x, T0 - 1, false, MS(1));
        add(x, T0, true, MS(1));
        add(x, T0 + S(4), true, MS(1));
        slo_judge(&x->st, 0, T0 + S(5));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_contains(x->st.why, "(0 of 2)");
        slo_judge(&x->st, 0, T0 + S(5) - 1);
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED); /* the failure is 5 s old: in */
        ck_assert_contains(x->st.why, "(1 of 3)");
        slo_judge(&x->st, 0, T0 + S(5) + 1);
        ck_assert_contains(x->st.why, "(0 of 1)");
        /* The newest first: once one is out, all older ones are. */
        slo_judge(&x->st, 0, T0 + S(11));
        ck_assert_int_eq(x->st.verdict, SLO_UNKNOWN);
        fix_free(x);
}
END_TEST

START_TEST(test_many_samples) {
        /* A window holding more samples than the judgement keeps (4096):
         * the newest 4096 are judged. */
        struct fix *x = fix_new(HTTP "interval = 100ms\nwindow = 1h\nmax_error_rate = 1%\n");
        for (int i = 0; i < 5000; i++)
                add(x, T0 + MS(i), i >= 904, MS(1)); /* the oldest 904 failed, out of the count */
        slo_judge(&x->st, 0, T0 + S(5));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_contains(x->st.why, "(0 of 4096)");
        fix_free(x);
}
END_TEST

struct each {
        size_t n;
        uint64_t last_t;
        bool ordered;
};

static void each_cb(const struct slo_sample *s, void *ud) {
        struct each *e = ud;
        e->ordered = e->ordered && (!e->n || s->t_ns > e->last_t);
        e->last_t = s->t_ns;
        e->n++;
}

START_TEST(test_bounded_memory) {
        /* An hour and more of probes (100,000 at 100 ms): the guard keeps
         * what the window needs (10 s of 100 ms: 100 samples, at most
         * 102) and a history of at most SLO_HIST_MAX for the report; the
         * judgement is that of the whole window still. */
        struct fix *x = fix_new(HTTP "interval = 100ms\nwindow = 10s\nmax_error_rate = 5%\n");
        for (int i = 0; i < 100000; i++)
                add(x, T0 + MS(100 * i), i % 20 != 0 || i < 99000, MS(1)); /* 1 in 20 fails at the end */
        ck_assert_uint_eq(x->st.n_samples, 100000);
        ck_assert_uint_le(x->st.ring_len, 102);
        ck_assert_uint_le(x->st.ring_cap, 256);
        ck_assert_uint_le(x->st.hist_len, SLO_HIST_MAX);
        ck_assert_uint_ge(x->st.hist_len, SLO_HIST_MAX / 2);
        ck_assert_uint_eq(x->st.hist_every, 128); /* 100,000 / 1024, rounded up to a power of two */
        slo_judge(&x->st, 0, T0 + MS(100 * 99999));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_contains(x->st.why, "error rate 5% (5 of 101)");
        /* The report's samples: oldest first, the last window whole, the
         * last sample last, and no more than the two stores hold. */
        struct each e = {.ordered = true};
        slo_status_each(&x->st, each_cb, &e);
        ck_assert(e.ordered);
        ck_assert_uint_eq(e.last_t, T0 + MS(100 * 99999));
        ck_assert_uint_le(e.n, SLO_HIST_MAX + x->st.ring_len);
        ck_assert_uint_ge(e.n, SLO_HIST_MAX / 2 + x->st.ring_len);
        fix_free(x);
        /* A short run: every sample is in the report. */
        x = fix_new(HTTP "interval = 100ms\nmax_error_rate = 5%\n");
        for (int i = 0; i < 500; i++)
                add(x, T0 + MS(100 * i), true, MS(1));
        e = (struct each){.ordered = true};
        slo_status_each(&x->st, each_cb, &e);
        ck_assert(e.ordered);
        ck_assert_uint_eq(e.n, 500);
        fix_free(x);
}
END_TEST

START_TEST(test_steady_state_epoch) {
        /* Failures of the steady-state phase (the service not up yet) do not
         * count once steady state is reached: samples before the epoch are
         * out of every judgement. */
        struct fix *x = fix_new(HTTP "max_error_rate = 10%\nmin_samples = 3\n");
        for (int i = 0; i < 4; i++)
                add(x, T0 + S(i), false, 0);
        ck_assert_uint_eq(x->st.healthy_since_ns, 0);
        ck_assert_str_eq(x->st.fail, "connection refused");
        for (int i = 4; i < 8; i++)
                add(x, T0 + S(i), true, MS(3));
        ck_assert_uint_eq(x->st.healthy_since_ns, T0 + S(4));
        slo_judge(&x->st, 0, T0 + S(7));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED); /* without the epoch */
        uint64_t epoch = x->st.healthy_since_ns;
        slo_judge(&x->st, epoch, T0 + S(7));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_contains(x->st.why, "(0 of 4)");
        /* A sample at the epoch itself counts. */
        slo_judge(&x->st, epoch + 1, T0 + S(7));
        ck_assert_contains(x->st.why, "(0 of 3)");
        /* Too few since the epoch: unknown, not breached. */
        slo_judge(&x->st, T0 + S(6), T0 + S(7));
        ck_assert_int_eq(x->st.verdict, SLO_UNKNOWN);
        ck_assert_str_eq(x->st.why, "2 of 3 samples so far");
        fix_free(x);
}
END_TEST

START_TEST(test_healthy_streak) {
        struct fix *x = fix_new(HTTP "max_latency = 100ms\n");
        ck_assert(!slo_steady_held(&x->st, S(1), T0)); /* no sample */
        add(x, T0, true, MS(10));
        ck_assert_uint_eq(x->st.healthy_since_ns, T0);
        /* One healthy sample is no streak, however long ago. */
        ck_assert(!slo_steady_held(&x->st, S(1), T0 + S(30)));
        add(x, T0 + S(1), true, MS(10));
        ck_assert(slo_steady_held(&x->st, S(1), T0 + S(1)));
        ck_assert(!slo_steady_held(&x->st, S(1) + 1, T0 + S(1)));
        /* A slow sample is unhealthy for the steady state, ok or not. */
        add(x, T0 + S(2), true, MS(101));
        ck_assert_uint_eq(x->st.healthy_since_ns, 0);
        ck_assert_str_eq(x->st.fail, "took 101ms, max_latency 100ms");
        ck_assert(!slo_steady_held(&x->st, 0, T0 + S(3)));
        add(x, T0 + S(3), true, MS(10));
        ck_assert_uint_eq(x->st.healthy_since_ns, T0 + S(3));
        ck_assert(!slo_steady_held(&x->st, 0, T0 + S(3))); /* the sample before it was not healthy */
        add(x, T0 + S(4), true, MS(10));
        ck_assert(slo_steady_held(&x->st, S(1), T0 + S(4)));
        fix_free(x);
        /* An http SLO that allows every probe to fail holds whatever they answer. */
        x = fix_new(HTTP "max_latency = 100ms\nmax_error_rate = 100%\n");
        add(x, T0, false, MS(10));
        ck_assert_uint_eq(x->st.healthy_since_ns, T0);
        add(x, T0 + S(1), false, MS(200)); /* but not a slow one */
        ck_assert_uint_eq(x->st.healthy_since_ns, 0);
        fix_free(x);
        x = fix_new(HTTP "max_error_rate = 99%\n");
        add(x, T0, false, MS(10));
        ck_assert_uint_eq(x->st.healthy_since_ns, 0);
        ck_assert_str_eq(x->st.fail, "connection refused");
        fix_free(x);
}
END_TEST

#define PROM "probe = prometheus\nurl = http://127.0.0.1:9090\nquery = up\n"

START_TEST(test_prometheus_max_min) {
        struct fix *x = fix_new(PROM "max = 100\nmin = 10\n");
        add_value(x, T0, 500); /* old: only the newest value is judged */
        add_value(x, T0 + S(1), 50);
        add_value(x, T0 + S(2), 50);
        slo_judge(&x->st, 0, T0 + S(2));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_str_eq(x->st.why, "healthy: query value 50");
        ck_assert_double_eq_tol(x->st.value, 50, 1e-9);
        ck_assert_double_eq_tol(x->st.threshold, 10, 1e-9);
        add_value(x, T0 + S(3), 100.5);
        slo_judge(&x->st, 0, T0 + S(3));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_str_eq(x->st.why, "query value 100.5 is above max 100");
        ck_assert_double_eq_tol(x->st.threshold, 100, 1e-9);
        add_value(x, T0 + S(4), 9);
        slo_judge(&x->st, 0, T0 + S(4));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_str_eq(x->st.why, "query value 9 is below min 10");
        ck_assert_double_eq_tol(x->st.threshold, 10, 1e-9);
        add_value(x, T0 + S(5), 10); /* the bounds themselves hold */
        slo_judge(&x->st, 0, T0 + S(5));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        add_value(x, T0 + S(6), 100);
        slo_judge(&x->st, 0, T0 + S(6));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        /* No value (a failed query, a series gone): a breach, not a pass on
         * the value before it ("a query that returns no value is a failure",
         * scenarios/README.md). */
        add_value(x, T0 + S(7), NAN);
        slo_judge(&x->st, 0, T0 + S(7));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_str_eq(x->st.why, "the query 'up' returned no value");
        ck_assert_double_eq_tol(x->st.threshold, 100, 1e-9);
        fix_free(x);
        /* min only: no upper bound. */
        x = fix_new(PROM "min = 1\nmin_samples = 1\n");
        add_value(x, T0, 1e12);
        slo_judge(&x->st, 0, T0);
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        add_value(x, T0 + 1, 0.5);
        slo_judge(&x->st, 0, T0 + 1);
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        fix_free(x);
        /* max only: a negative value is no breach. */
        x = fix_new(PROM "max = 0\nmin_samples = 1\n");
        add_value(x, T0, -3);
        slo_judge(&x->st, 0, T0);
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        fix_free(x);
}
END_TEST

START_TEST(test_psi) {
        struct fix *x = fix_new("probe = psi\nresource = memory\nmax = 20\nmin_samples = 2\n");
        add_value(x, T0, 50);
        add_value(x, T0 + S(1), 19.5);
        slo_judge(&x->st, 0, T0 + S(1));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        ck_assert_str_eq(x->st.why, "healthy: avg10 19.50%");
        add_value(x, T0 + S(2), 20.25);
        slo_judge(&x->st, 0, T0 + S(2));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_str_eq(x->st.why, "memory pressure avg10 20.25% is above max 20.00%");
        add_value(x, T0 + S(3), 1);
        slo_judge(&x->st, 0, T0 + S(3));
        ck_assert_int_eq(x->st.verdict, SLO_HEALTHY);
        /* /proc/pressure unreadable: no value is a breach, whatever came before. */
        add_value(x, T0 + S(4), NAN);
        slo_judge(&x->st, 0, T0 + S(4));
        ck_assert_int_eq(x->st.verdict, SLO_BREACHED);
        ck_assert_double_eq(isnan(x->st.value), 1);
        fix_free(x);
}
END_TEST

/* An exec probe that gets no pidfd (the runner out of fds) fails there and
 * then, once a round: before, it stayed under way with nothing to reap it,
 * and its timeout re-armed the guard's timer in the past, for ever (the
 * loop spun on one core and no sample came). The fds run out after the
 * first probe's end, so that its pidfd was the last one free. */
struct no_fds {
        struct slo_guard *g;
        int fds[512];
        int n;
        bool full;
        size_t samples_then; /* when the fds ran out */
};

static void fill_fds(void *ud, bool sample) {
        (void)sample;
        struct no_fds *x = ud;
        if (x->full || !x->g || slo_guard_status(x->g, 0)->n_samples < 1)
                return;
        x->full = true;
        x->samples_then = slo_guard_status(x->g, 0)->n_samples;
        while (x->n < (int)(sizeof x->fds / sizeof *x->fds)) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        break;
                x->fds[x->n++] = fd;
        }
}

START_TEST(test_exec_probe_without_pidfd) {
        struct rlimit old;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
        struct rlimit tight = {.rlim_cur = 256, .rlim_max = old.rlim_max};
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &tight), 0);
        const char *text = HEAD "[slo s]\nprobe = exec\ncommand = /bin/true\ninterval = 100ms\ntimeout = 100ms\n"
                                "max_error_rate = 100%\n";
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_parse("t.ini", text, strlen(text), &s, &d), 0);
        diags_free(&d);
        struct loop *l = NULL;
        ck_assert_int_eq(loop_new(&l), 0);
        struct no_fds x = {0};
        struct passwd *pw = getpwuid(getuid());
        ck_assert_ptr_nonnull(pw);
        ck_assert_int_eq(slo_guard_new(s, pw->pw_name, l, fill_fds, &x, &x.g), 0);
        /* 1.5 s: the first probe, then a dozen rounds without fds. */
        uint64_t t0 = mono_now(), spent0;
        struct rusage ru;
        size_t wakeups = 0;
        getrusage(RUSAGE_SELF, &ru);
        spent0 = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                 (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
        while (mono_now() - t0 < 1500 * NSEC_PER_MSEC) {
                ck_assert_int_ge(loop_run_once(l, 100), 0);
                wakeups++;
        }
        getrusage(RUSAGE_SELF, &ru);
        uint64_t spent = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                         (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec - spent0;
        const struct slo_status *st = slo_guard_status(x.g, 0);
        /* The ring keeps what the window needs, down to two: the last. */
        bool last_failed = st->ring_len && !slo_status_at(st, st->ring_len - 1)->ok;
        bool full = x.full;
        size_t n_samples = st->n_samples;
        slo_guard_free(x.g);
        loop_free(l);
        for (int i = 0; i < x.n; i++)
                close(x.fds[i]);
        setrlimit(RLIMIT_NOFILE, &old);
        scenario_free(s);
        ck_assert_msg(full, "the first probe never ended");
        /* Each round after the fds ran out is one sample, a failure: about
         * 13 in 1.4 s; at least 3, however loaded the machine. A wake-up
         * per round and per sample leaving the window: a few dozen (the
         * spinning loop made tens of thousands, on a whole core). */
        size_t later = n_samples - x.samples_then;
        ck_assert_msg(later >= 3 && last_failed && wakeups < 400 && spent < 750000,
                      "after the fds ran out: %zu samples (the last %s), %zu loop wake-ups and %.2f s of CPU in 1.5 s "
                      "(want >= 3, failed, < 400 wake-ups, < 0.75 s)",
                      later, last_failed ? "failed" : "not failed", wakeups, (double)spent / 1e6);
}
END_TEST

int main(void) {
        Suite *s = suite_create("slo");
        TCase *tc = tcase_create("judge");
        tcase_add_test(tc, test_error_rate);
        tcase_add_test(tc, test_p99_latency);
        tcase_add_test(tc, test_min_samples);
        tcase_add_test(tc, test_one_sample);
        tcase_add_test(tc, test_window_edges);
        tcase_add_test(tc, test_many_samples);
        tcase_add_test(tc, test_bounded_memory);
        tcase_add_test(tc, test_steady_state_epoch);
        tcase_add_test(tc, test_healthy_streak);
        tcase_add_test(tc, test_prometheus_max_min);
        tcase_add_test(tc, test_psi);
        suite_add_tcase(s, tc);
        TCase *guard = tcase_create("guard");
        tcase_add_test(guard, test_exec_probe_without_pidfd);
        suite_add_tcase(s, guard);
        return run_suite(s);
}
