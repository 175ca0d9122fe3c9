/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "curl_lib.h"
#include "log.h"
#include "loop.h"
#include "slo.h"
#include "slo_judge.h"

struct probe {
        struct slo_status st;
        char *body;         /* prometheus: the response so far */
        size_t body_len;
        uint64_t next_ns;   /* when the next probe starts */
        bool busy;
        uint64_t started_ns;
        CURL *easy;         /* http: one handle for the run, so that its connection is reused */
        bool in_multi;      /* easy is in the multi handle: a probe is under way */
        bool changed;       /* a sample came in or left the window since the last judgement */
        uint64_t age_ns;    /* when the oldest sample counted leaves the window (0: none) */
        pid_t pid;          /* exec */
        int pidfd;
        struct loop_source *pid_src;
        struct slo_guard *g;
        uint64_t epoch_ns;  /* samples before it do not count (the steady-state phase's failures) */
};

/* One of curl's sockets, watched on the loop. */
struct sock {
        curl_socket_t fd;
        struct loop_source *src;
};

struct slo_guard {
        struct loop *loop;
        /* One timer for everything due: probes' starts and timeouts,
         * samples leaving windows, curl's own timeouts, wake-ups; set
         * only when the earliest moment changed (timerfd_settime is not
         * free: it was a fifth of a probe's CPU). */
        struct loop_source *tick_src;
        uint64_t armed_ns; /* what tick_src is set to, 0: nothing */
        uint64_t curl_ns;  /* when curl wants multi_socket_action(TIMEOUT), 0: never */
        uint64_t wake_ns;  /* slo_guard_wake_at */
        bool sampled;     /* a sample came in during this event */
        struct sock *socks;
        size_t n_socks;
        slo_event_fn on_event;
        void *ud;
        CURLM *multi;
        uid_t uid;
        gid_t gid;
        struct probe *p;
        size_t n;
};

struct slo_sample *slo_status_at(const struct slo_status *st, size_t i) {
        return &st->ring[(st->ring_head + i) % (st->ring_cap ? st->ring_cap : 1)];
}

/* Keep s for the judgement: in the ring, which grows up to SLO_RING_MAX
 * and keeps no sample the window has left (but the last two: the steady
 * state looks at the one before the last). */
static void ring_push(struct slo_status *st, const struct slo_sample *s) {
        if (st->ring_len == st->ring_cap && st->ring_cap < SLO_RING_MAX) {
                size_t cap = st->ring_cap ? st->ring_cap * 2 : 8;
                struct slo_sample *nr = malloc(cap * sizeof *nr);
                if (nr) {
                        for (size_t i = 0; i < st->ring_len; i++)
                                nr[i] = *slo_status_at(st, i);
                        free(st->ring);
                        st->ring = nr, st->ring_cap = cap, st->ring_head = 0;
                }
        }
        if (!st->ring_cap)
                return; /* out of memory from the start: nothing to judge on */
        if (st->ring_len == st->ring_cap) /* full: the oldest goes */
                st->ring_head = (st->ring_head + 1) % st->ring_cap, st->ring_len--;
        st->ring[(st->ring_head + st->ring_len) % st->ring_cap] = *s;
        st->ring_len++;
        while (st->ring_len > 2 && s->t_ns - slo_status_at(st, 0)->t_ns > st->o->window)
                st->ring_head = (st->ring_head + 1) % st->ring_cap, st->ring_len--;
}

/* Keep s (the k-th sample) for the report, if it is one of every
 * hist_every-th; a full history halves. */
static void hist_push(struct slo_status *st, const struct slo_sample *s, size_t k) {
        if (!st->hist_every)
                st->hist_every = 1;
        if (k % st->hist_every)
                return;
        if (st->hist_len == SLO_HIST_MAX) {
                for (size_t i = 0; 2 * i < st->hist_len; i++)
                        st->hist[i] = st->hist[2 * i];
                st->hist_len = (st->hist_len + 1) / 2;
                st->hist_every *= 2;
                if (k % st->hist_every)
                        return;
        }
        /* Its full size at once (32 kB): its pages are touched only as it fills. */
        if (!st->hist && !(st->hist = malloc(SLO_HIST_MAX * sizeof *st->hist)))
                return;
        st->hist[st->hist_len++] = *s;
}

void slo_status_each(const struct slo_status *st, void (*fn)(const struct slo_sample *s, void *ud), void *ud) {
        size_t first = st->n_samples - st->ring_len; /* the ring's oldest sample's number */
        for (size_t i = 0; i < st->hist_len && i * st->hist_every < first; i++)
                fn(&st->hist[i], ud);
        for (size_t i = 0; i < st->ring_len; i++)
                fn(slo_status_at(st, i), ud);
}

void slo_status_free(struct slo_status *st) {
        free(st->ring);
        free(st->hist);
        st->ring = st->hist = NULL;
        st->ring_cap = st->ring_len = st->ring_head = st->hist_len = st->n_samples = 0;
}

void slo_status_add(struct slo_status *st, const struct slo_sample *sample, const char *fail) {
        struct slo_sample s = *sample;
        ring_push(st, &s);
        hist_push(st, &s, st->n_samples);
        st->n_samples++;
        const struct slo *o = st->o;
        bool slow = conf_line(&scenario_spec, &o->hdr, "max_latency") && s.latency_ns > o->max_latency;
        /* An http or exec SLO that allows every probe to fail (no
         * max_error_rate, or 100%) holds whatever they answer. */
        bool tolerant = (o->probe == PROBE_HTTP || o->probe == PROBE_EXEC) &&
                        (!conf_line(&scenario_spec, &o->hdr, "max_error_rate") || o->max_error_rate >= RATIO_ONE);
        if ((s.ok || tolerant) && !slow) {
                if (!st->healthy_since_ns)
                        st->healthy_since_ns = s.t_ns;
                return;
        }
        st->healthy_since_ns = 0;
        if (slow) {
                char a[FORMAT_MAX], b[FORMAT_MAX];
                snprintf(st->fail, sizeof st->fail, "took %s, max_latency %s",
                         format_duration(a, s.latency_ns / NSEC_PER_MSEC * NSEC_PER_MSEC), format_duration(b, o->max_latency));
        } else
                snprintf(st->fail, sizeof st->fail, "%s", fail ? fail : "failed");
}

/* fail: what a failed sample saw ("connection refused"), NULL if ok. */
static void add_sample_why(struct probe *p, bool ok, uint64_t latency, double value, const char *fail) {
        struct slo_sample s = {.t_ns = mono_now(), .ok = ok, .latency_ns = latency, .value = value};
        p->busy = false;
        p->changed = true;
        p->g->sampled = true;
        slo_status_add(&p->st, &s, fail);
}

static void add_sample(struct probe *p, bool ok, uint64_t latency, double value) {
        add_sample_why(p, ok, latency, value, NULL);
}

static void settle(struct slo_guard *g);

/* ---- http, through libcurl's multi interface ---- */

static size_t discard(char *ptr, size_t size, size_t n, void *ud) {
        (void)ptr, (void)ud;
        return size * n;
}

/* Prometheus answers are small: keep up to 1 MiB, refuse more. */
static size_t keep(char *ptr, size_t size, size_t n, void *ud) {
        struct probe *p = ud;
        size_t len = size * n;
        if (p->body_len + len > 1024 * 1024)
                return 0;
        char *nb = realloc(p->body, p->body_len + len + 1);
        if (!nb)
                return 0;
        memcpy(nb + p->body_len, ptr, len);
        p->body = nb;
        p->body_len += len;
        p->body[p->body_len] = '\0';
        return len;
}

/* The value of an instant query: the first series of a vector, or a
 * scalar. NAN when the answer holds none. */
static double prom_value(const char *body) {
        double v = NAN;
        struct json_object *root = json_tokener_parse(body), *data, *result, *status, *value, *first;
        if (!root)
                return NAN;
        if (json_object_object_get_ex(root, "status", &status) && streq(json_object_get_string(status), "success") &&
            json_object_object_get_ex(root, "data", &data) && json_object_object_get_ex(data, "result", &result)) {
                value = NULL;
                if (json_object_is_type(result, json_type_array) && json_object_array_length(result) > 0 &&
                    json_object_is_type(json_object_array_get_idx(result, 1), json_type_string))
                        value = result; /* scalar: [ts, "v"] */
                else if (json_object_is_type(result, json_type_array) && json_object_array_length(result) > 0 &&
                         (first = json_object_array_get_idx(result, 0)) && json_object_is_type(first, json_type_object))
                        json_object_object_get_ex(first, "value", &value);
                if (value && json_object_is_type(value, json_type_array) && json_object_array_length(value) == 2) {
                        const char *s = json_object_get_string(json_object_array_get_idx(value, 1));
                        char *end;
                        if (s) {
                                double d = strtod(s, &end);
                                if (end != s && !*end)
                                        v = d;
                        }
                }
        }
        json_object_put(root);
        return v;
}

static void http_done(struct slo_guard *g) {
        CURLMsg *m;
        int left;
        while ((m = curl_lib.multi_info_read(g->multi, &left))) {
                if (m->msg != CURLMSG_DONE)
                        continue;
                struct probe *p = NULL;
                curl_lib.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
                long code = 0;
                curl_lib.easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
                bool ok = m->data.result == CURLE_OK && port_list_contains(&p->st.o->status, (uint16_t)code);
                double value = (double)code;
                if (p->st.o->probe == PROBE_PROMETHEUS) {
                        value = m->data.result == CURLE_OK && code == 200 && p->body ? prom_value(p->body) : NAN;
                        const struct slo *o = p->st.o;
                        ok = !isnan(value) && (!conf_line(&scenario_spec, &o->hdr, "max") || value <= o->max) &&
                             (!conf_line(&scenario_spec, &o->hdr, "min") || value >= o->min);
                        free(p->body);
                        p->body = NULL;
                        p->body_len = 0;
                }
                uint64_t lat = mono_now() - p->started_ns;
                if (m->data.result == CURLE_OPERATION_TIMEDOUT && lat < p->st.o->timeout)
                        lat = p->st.o->timeout;
                char fail[96] = "";
                long oserr = 0;
                if (ok)
                        ; /* nothing to say */
                else if (m->data.result == CURLE_COULDNT_CONNECT &&
                    curl_lib.easy_getinfo(m->easy_handle, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr > 0)
                        snprintf(fail, sizeof fail, "%s", strerror((int)oserr)); /* "Connection refused" */
                else if (m->data.result != CURLE_OK)
                        snprintf(fail, sizeof fail, "%s", curl_lib.easy_strerror(m->data.result));
                else if (p->st.o->probe == PROBE_PROMETHEUS && isnan(value))
                        snprintf(fail, sizeof fail, "HTTP %ld, no value", code);
                else if (p->st.o->probe == PROBE_PROMETHEUS)
                        snprintf(fail, sizeof fail, "query value %g", value);
                else
                        snprintf(fail, sizeof fail, "HTTP status %ld", code);
                if (m->data.result != CURLE_OK && fail[0] >= 'A' && fail[0] <= 'Z')
                        fail[0] = (char)(fail[0] - 'A' + 'a'); /* "connection refused", as the others read */
                /* Out of the multi handle, kept for the next probe: its
                 * connection stays in the multi's cache (curl closes one
                 * that failed or that the server closed). */
                curl_lib.multi_remove_handle(g->multi, m->easy_handle);
                p->in_multi = false;
                add_sample_why(p, ok, lat, value, ok ? NULL : fail);
        }
}

static void sock_event(struct loop_source *src, uint32_t events, void *ud) {
        struct slo_guard *g = ud;
        int running;
        int flags = (events & EPOLLIN ? CURL_CSELECT_IN : 0) | (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_lib.multi_socket_action(g->multi, (curl_socket_t)loop_source_fd(src), flags, &running);
        http_done(g);
        settle(g);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *ud, void *sockp) {
        struct slo_guard *g = ud;
        (void)e, (void)sockp;
        size_t i = 0;
        while (i < g->n_socks && g->socks[i].fd != s)
                i++;
        if (what == CURL_POLL_REMOVE) {
                if (i < g->n_socks) {
                        loop_remove(g->socks[i].src);
                        g->socks[i] = g->socks[--g->n_socks];
                }
                return 0;
        }
        uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        if (i < g->n_socks)
                return loop_modify(g->socks[i].src, events) < 0 ? -1 : 0;
        struct sock k = {.fd = s};
        if (loop_add_fd(g->loop, "slo: an http probe's socket", s, events, LOOP_NORMAL, sock_event, g, &k.src) < 0)
                return -1;
        if (array_push(&g->socks, &g->n_socks, sizeof k, &k) < 0) {
                loop_remove(k.src);
                return -1;
        }
        return 0;
}

static int timer_cb(CURLM *m, long ms, void *ud) {
        struct slo_guard *g = ud;
        (void)m;
        /* ms < 0: none; 0: at once. Set on the timer when the event that
         * made curl ask ends (settle): curl is called only from the
         * guard's events. */
        g->curl_ns = ms < 0 ? 0 : mono_now() + (uint64_t)ms * NSEC_PER_MSEC;
        return 0;
}

/* The probe's handle, made once: every option set here holds for every
 * probe (curl keeps them across transfers). */
static CURL *http_handle(struct probe *p) {
        CURL *e = curl_lib.easy_init();
        if (!e)
                return NULL;
        if (p->st.o->probe == PROBE_PROMETHEUS) {
                char *q = curl_lib.easy_escape(e, p->st.o->query, 0), *url = NULL;
                const char *base = p->st.o->url;
                size_t bl = strlen(base);
                bool ok = q && asprintf(&url, "%.*s/api/v1/query?query=%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl),
                                        base, q) >= 0;
                if (ok)
                        curl_lib.easy_setopt(e, CURLOPT_URL, url); /* copied by curl */
                curl_lib.free(q);
                free(ok ? url : NULL);
                if (!ok) {
                        curl_lib.easy_cleanup(e);
                        return NULL;
                }
                curl_lib.easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
                curl_lib.easy_setopt(e, CURLOPT_WRITEDATA, p);
        } else {
                curl_lib.easy_setopt(e, CURLOPT_URL, p->st.o->url);
                curl_lib.easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        }
        curl_lib.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(p->st.o->timeout / NSEC_PER_MSEC));
        curl_lib.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_lib.easy_setopt(e, CURLOPT_PROXY, ""); /* probe the service, not a proxy from the environment */
        curl_lib.easy_setopt(e, CURLOPT_PRIVATE, p);
        return e;
}

static void http_start(struct slo_guard *g, struct probe *p) {
        if (!p->easy)
                p->easy = http_handle(p);
        if (!p->easy) {
                add_sample(p, false, 0, 0);
                return;
        }
        free(p->body);
        p->body = NULL;
        p->body_len = 0;
        p->busy = true;
        p->started_ns = mono_now();
        if (curl_lib.multi_add_handle(g->multi, p->easy) != CURLM_OK) {
                add_sample_why(p, false, 0, NAN, "cannot start the request");
                return;
        }
        p->in_multi = true;
}

/* ---- exec: a Nagios-style check, as an unprivileged user ---- */

static void exec_reap(struct probe *p, bool timed_out);

static void exec_event(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        struct probe *p = ud;
        if (p->pidfd >= 0)
                exec_reap(p, false);
        settle(p->g);
}

static void exec_start(struct slo_guard *g, struct probe *p) {
        char **argv = NULL;
        /* No probe at all rather than one with words missing. */
        pid_t pid = argv_split(p->st.o->command, &argv) >= 0 ? fork() : -1;
        if (pid == 0) {
                /* No setpgid: a probe child stays in its runner's process
                 * group, which is how every sabot run recognises it (and
                 * what it starts) as a sabot process that no fault may
                 * touch (host.c proc_is_sabot). Launched targets, which
                 * faults do touch, get a group of their own. */
                child_reset_signals(false);
                child_reset_limits();
                /* CLOEXEC: the copies on 0-2 stay, this one goes (unless it
                 * is one of them: a runner started with 0-2 closed). */
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
                if (nul >= 0 && nul <= 2)
                        (void)fcntl(nul, F_SETFD, 0);
                if (setgroups(0, NULL) < 0 || setgid(g->gid) < 0 || setuid(g->uid) < 0)
                        _exit(125);
                execv(argv[0], argv);
                _exit(127);
        }
        argv_free(argv);
        if (pid < 0) {
                add_sample(p, false, 0, 0);
                return;
        }
        p->pid = pid;
        p->pidfd = sys_pidfd_open(pid);
        /* Without a pidfd on the loop nothing would ever reap it, and its
         * timeout would re-arm a timer in the past forever: the probe
         * fails now (out of fds, most likely). */
        if (p->pidfd < 0 || loop_add_fd(g->loop, "slo: an exec probe's pidfd", p->pidfd, EPOLLIN, LOOP_NORMAL,
                                        exec_event, p, &p->pid_src) < 0) {
                kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                if (p->pidfd >= 0)
                        close(p->pidfd);
                p->pidfd = -1;
                p->pid = 0;
                add_sample(p, false, 0, 0);
                return;
        }
        p->busy = true;
        p->started_ns = mono_now();
}

static void exec_reap(struct probe *p, bool timed_out) {
        int status = 0;
        if (timed_out) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &status, 0);
        } else if (waitpid(p->pid, &status, WNOHANG) <= 0)
                /* Not exited: an event for the probe before it (same id)
                 * that was reaped at its timeout in the same epoll batch.
                 * Waiting here would hold the whole loop. */
                return;
        loop_remove(p->pid_src);
        p->pid_src = NULL;
        close(p->pidfd);
        p->pidfd = -1;
        uint64_t lat = timed_out ? p->st.o->timeout : mono_now() - p->started_ns;
        char fail[64];
        if (timed_out)
                snprintf(fail, sizeof fail, "timed out");
        else if (WIFEXITED(status))
                snprintf(fail, sizeof fail, "exit status %d", WEXITSTATUS(status));
        else
                snprintf(fail, sizeof fail, "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        add_sample_why(p, !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0, lat,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1, fail);
}

/* ---- psi ---- */

static void psi_sample(struct probe *p) {
        static const char *const res[] = {"", "cpu", "memory", "io"};
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/pressure/%s", res[p->st.o->resource]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0) {
                add_sample_why(p, false, 0, NAN, "cannot read pressure");
                return;
        }
        buf[n] = '\0';
        const char *line = strstr(buf, p->st.o->pressure == PSI_FULL ? "full " : "some ");
        double v = NAN;
        if (line)
                sscanf(line + 5, "avg10=%lf", &v);
        char fail[64];
        snprintf(fail, sizeof fail, "avg10 %.2f%%, max %.2f%%", v, p->st.o->max);
        add_sample_why(p, !isnan(v) && v <= p->st.o->max, 0, v, fail);
}

/* ---- the timer: start what is due, time out what is late ---- */

static void tick(struct slo_guard *g) {
        uint64_t now = mono_now();
        if (g->wake_ns && now >= g->wake_ns)
                g->wake_ns = 0;
        for (size_t k = 0; k < g->n; k++) {
                struct probe *p = &g->p[k];
                if (p->busy && now - p->started_ns > p->st.o->timeout) {
                        if (p->in_multi) {
                                /* Aborted: curl closes its connection; the
                                 * handle starts afresh at the next probe. */
                                curl_lib.multi_remove_handle(g->multi, p->easy);
                                p->in_multi = false;
                                add_sample_why(p, false, p->st.o->timeout, NAN, "timed out");
                        } else if (p->pidfd >= 0)
                                exec_reap(p, true);
                }
                if (p->age_ns && now >= p->age_ns) /* a sample left the window */
                        p->changed = g->sampled = true, p->age_ns = 0;
                if (p->busy || now < p->next_ns)
                        continue;
                p->next_ns = now + p->st.o->interval;
                switch (p->st.o->probe) {
                case PROBE_HTTP:
                case PROBE_PROMETHEUS: http_start(g, p); break;
                case PROBE_EXEC: exec_start(g, p); break;
                case PROBE_PSI: psi_sample(p); break;
                default: add_sample(p, false, 0, 0); break;
                }
        }
}

#define AGE_SLACK_NS (10 * NSEC_PER_MSEC)

/* When the oldest sample p's judgement counts leaves its window (0: none). */
static uint64_t age_of(const struct probe *p, uint64_t now) {
        const struct slo_status *st = &p->st;
        for (size_t i = 0; i < st->ring_len; i++) {
                const struct slo_sample *x = slo_status_at(st, i);
                if (x->t_ns >= p->epoch_ns && now - x->t_ns <= st->o->window) {
                        /* Rounded up to AGE_SLACK_NS: the samples of many
                         * SLOs leave their windows in one wake-up, not one
                         * each (the old tick's precision was 20 ms). */
                        uint64_t at = x->t_ns + st->o->window + 1;
                        return (at + AGE_SLACK_NS - 1) / AGE_SLACK_NS * AGE_SLACK_NS;
                }
        }
        return 0;
}

/* Set the timer at the earliest moment something is due: a probe's start
 * or timeout, a sample leaving a window, curl's timeout, a wake-up. */
static void arm(struct slo_guard *g) {
        uint64_t at = g->wake_ns;
        if (g->curl_ns && (!at || g->curl_ns < at))
                at = g->curl_ns;
        for (size_t k = 0; k < g->n; k++) {
                const struct probe *p = &g->p[k];
                uint64_t due = p->busy ? p->started_ns + p->st.o->timeout + 1 : p->next_ns;
                if (p->age_ns && p->age_ns < due)
                        due = p->age_ns;
                if (!at || due < at)
                        at = due;
        }
        if (at != g->armed_ns && loop_timer_at(g->tick_src, at, 0) >= 0)
                g->armed_ns = at;
}

/* After each of the guard's events: the timer set, and the run told. */
static void settle(struct slo_guard *g) {
        uint64_t now = mono_now();
        for (size_t k = 0; k < g->n; k++)
                g->p[k].age_ns = age_of(&g->p[k], now);
        arm(g);
        bool sampled = g->sampled;
        g->sampled = false;
        g->on_event(g->ud, sampled);
}

void slo_guard_wake_at(struct slo_guard *g, uint64_t at) {
        if (g->wake_ns == at)
                return;
        g->wake_ns = at;
        arm(g);
}

static void tick_event(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        struct slo_guard *g = ud;
        g->armed_ns = 0; /* fired: a one-shot timer */
        if (g->curl_ns && mono_now() >= g->curl_ns) {
                int running;
                g->curl_ns = 0;
                curl_lib.multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
                http_done(g);
        }
        tick(g);
        settle(g);
}

/* ---- judgement ---- */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

void slo_judge(struct slo_status *st, uint64_t epoch_ns, uint64_t now) {
        const struct slo *o = st->o;
        size_t n = 0, bad = 0;
        uint64_t lat[4096];
        double last = NAN;
        for (size_t i = st->ring_len; i-- > 0;) {
                const struct slo_sample *s = slo_status_at(st, i);
                if (now - s->t_ns > o->window || s->t_ns < epoch_ns || n == ELEMENTSOF(lat))
                        break;
                lat[n++] = s->latency_ns;
                bad += !s->ok;
                /* The newest sample's value, NAN included: a query that
                 * returned none is judged, not the value before it. */
                if (n == 1)
                        last = s->value;
        }
        st->verdict = SLO_UNKNOWN;
        if (n < o->min_samples) {
                snprintf(st->why, sizeof st->why, "%zu of %u samples so far", n, o->min_samples);
                return;
        }
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        st->verdict = SLO_HEALTHY;
        if (o->probe == PROBE_PROMETHEUS) {
                bool has_max = conf_line(&scenario_spec, &o->hdr, "max"), has_min = conf_line(&scenario_spec, &o->hdr, "min");
                st->value = last;
                st->threshold = has_max && (!has_min || isnan(last) || last > o->max) ? o->max : o->min;
                if (isnan(last)) {
                        st->verdict = SLO_BREACHED;
                        snprintf(st->why, sizeof st->why, "the query '%s' returned no value", o->query);
                } else if (has_max && last > o->max) {
                        st->verdict = SLO_BREACHED;
                        snprintf(st->why, sizeof st->why, "query value %g is above max %g", last, o->max);
                } else if (has_min && last < o->min) {
                        st->verdict = SLO_BREACHED;
                        snprintf(st->why, sizeof st->why, "query value %g is below min %g", last, o->min);
                }
                if (st->verdict != SLO_BREACHED)
                        snprintf(st->why, sizeof st->why, "healthy: query value %g", last);
                return;
        }
        if (o->probe == PROBE_PSI) {
                st->value = last, st->threshold = o->max;
                if (isnan(last) || last > o->max) {
                        st->verdict = SLO_BREACHED;
                        snprintf(st->why, sizeof st->why, "%s pressure avg10 %.2f%% is above max %.2f%%",
                                 o->resource == PSI_CPU ? "cpu" : o->resource == PSI_MEMORY ? "memory" : "io", last, o->max);
                } else
                        snprintf(st->why, sizeof st->why, "healthy: avg10 %.2f%%", last);
                return;
        }
        double rate = (double)bad / (double)n;
        if (conf_line(&scenario_spec, &o->hdr, "max_error_rate") && rate > (double)o->max_error_rate / RATIO_ONE) {
                st->verdict = SLO_BREACHED;
                st->value = rate * 100, st->threshold = (double)o->max_error_rate / RATIO_ONE * 100;
                snprintf(st->why, sizeof st->why, "error rate %.0f%% (%zu of %zu) over %s is above max_error_rate %s", rate * 100,
                         bad, n, format_duration(a, o->window), format_ratio(b, o->max_error_rate));
                return;
        }
        qsort(lat, n, sizeof lat[0], cmp_u64);
        uint64_t p99 = lat[(size_t)ceil(0.99 * (double)n) - 1];
        if (conf_line(&scenario_spec, &o->hdr, "max_latency")) {
                st->value = (double)p99 / 1e6, st->threshold = (double)o->max_latency / 1e6;
                if (p99 > o->max_latency) {
                        st->verdict = SLO_BREACHED;
                        snprintf(st->why, sizeof st->why, "p99 latency %s over %s is above max_latency %s",
                                 format_duration(a, p99 / NSEC_PER_USEC * NSEC_PER_USEC), format_duration(b, o->window),
                                 format_duration(c, o->max_latency));
                        return;
                }
        }
        if (!conf_line(&scenario_spec, &o->hdr, "max_latency"))
                st->value = rate * 100, st->threshold = (double)o->max_error_rate / RATIO_ONE * 100;
        snprintf(st->why, sizeof st->why, "healthy: error rate %.0f%% (%zu of %zu), p99 %.1f ms over %s", rate * 100, bad,
                 n, (double)p99 / 1e6, format_duration(b, o->window));
}

const struct slo_status *slo_guard_judge(struct slo_guard *g) {
        uint64_t now = mono_now();
        const struct slo_status *first = NULL;
        for (size_t k = 0; k < g->n; k++) {
                slo_judge(&g->p[k].st, g->p[k].epoch_ns, now);
                g->p[k].changed = false;
                if (!first && g->p[k].st.verdict == SLO_BREACHED)
                        first = &g->p[k].st;
        }
        return first;
}

const struct slo_status *slo_guard_judge_changed(struct slo_guard *g) {
        uint64_t now = mono_now();
        const struct slo_status *first = NULL;
        for (size_t k = 0; k < g->n; k++) {
                if (g->p[k].changed)
                        slo_judge(&g->p[k].st, g->p[k].epoch_ns, now);
                g->p[k].changed = false;
                if (!first && g->p[k].st.verdict == SLO_BREACHED)
                        first = &g->p[k].st;
        }
        return first;
}

bool slo_guard_all_healthy(struct slo_guard *g, const struct slo_status **ret_unhealthy) {
        (void)slo_guard_judge(g);
        for (size_t k = 0; k < g->n; k++)
                if (g->p[k].st.verdict != SLO_HEALTHY) {
                        *ret_unhealthy = &g->p[k].st;
                        return false;
                }
        return true;
}

bool slo_steady_held(const struct slo_status *st, uint64_t need_ns, uint64_t now) {
        /* At least two samples: held from one to the next. */
        return st->healthy_since_ns && now - st->healthy_since_ns >= need_ns && st->ring_len >= 2 &&
               slo_status_at(st, st->ring_len - 2)->t_ns >= st->healthy_since_ns;
}

bool slo_guard_steady_peek(const struct slo_guard *g, uint64_t need_ns, const struct slo_status **ret_waiting) {
        uint64_t now = mono_now();
        const struct slo_status *worst = NULL;
        for (size_t k = 0; k < g->n; k++) {
                const struct slo_status *st = &g->p[k].st;
                if (!st->healthy_since_ns) {
                        *ret_waiting = st;
                        return false;
                }
                if (!worst || st->healthy_since_ns > worst->healthy_since_ns)
                        worst = st;
        }
        if (worst && !slo_steady_held(worst, need_ns, now)) {
                *ret_waiting = worst;
                return false;
        }
        return true;
}

bool slo_guard_steady(struct slo_guard *g, uint64_t need_ns, const struct slo_status **ret_waiting) {
        if (!slo_guard_steady_peek(g, need_ns, ret_waiting))
                return false;
        for (size_t k = 0; k < g->n; k++) {
                g->p[k].epoch_ns = g->p[k].st.healthy_since_ns;
                g->p[k].changed = true; /* judged afresh on the clean window */
        }
        return true;
}

size_t slo_guard_count(const struct slo_guard *g) { return g ? g->n : 0; }

bool slo_guard_note_recovery(struct slo_guard *g) {
        (void)slo_guard_judge(g);
        bool all = true;
        for (size_t k = 0; k < g->n; k++) {
                struct slo_status *st = &g->p[k].st;
                if (!st->recovered_ns && st->verdict == SLO_HEALTHY)
                        st->recovered_ns = mono_now();
                all = all && st->recovered_ns;
        }
        return all;
}
const struct slo_status *slo_guard_status(const struct slo_guard *g, size_t i) { return &g->p[i].st; }
uint64_t slo_guard_epoch(const struct slo_guard *g, size_t i) { return g->p[i].epoch_ns; }

bool slo_needs_curl(const struct scenario *s) {
        for (size_t k = 0; k < s->n_slos; k++)
                if (s->slos[k]->probe == PROBE_HTTP || s->slos[k]->probe == PROBE_PROMETHEUS)
                        return true;
        return false;
}

int slo_guard_new(const struct scenario *s, const char *user, struct loop *l, slo_event_fn on_event, void *ud,
                  struct slo_guard **ret) {
        /* Only exec probes run as the user; the run's preflight checked it. */
        uid_t uid = 0;
        gid_t gid = 0;
        for (size_t k = 0; k < s->n_slos; k++)
                if (s->slos[k]->probe == PROBE_EXEC) {
                        struct passwd *pw = getpwnam(user);
                        if (!pw)
                                return -ESRCH;
                        uid = pw->pw_uid, gid = pw->pw_gid;
                        break;
                }
        struct slo_guard *g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->loop = l;
        g->on_event = on_event;
        g->ud = ud;
        g->uid = uid;
        g->gid = gid;
        g->p = calloc(s->n_slos + 1, sizeof *g->p);
        g->n = g->p ? s->n_slos : 0;
        /* pidfd -1 before anything can fail: slo_guard_free kills the
         * process behind each pidfd >= 0. */
        for (size_t k = 0; k < g->n; k++)
                g->p[k] = (struct probe){.st.o = s->slos[k], .pidfd = -1, .g = g};
        int r = g->p ? 0 : -ENOMEM;
        if (r >= 0)
                r = loop_add_timer(l, "slo: the probes' tick", LOOP_NORMAL, tick_event, g, &g->tick_src);
        if (r < 0) {
                slo_guard_free(g);
                return r;
        }
        if (slo_needs_curl(s)) {
                char why[256];
                r = curl_lib_load(why, sizeof why);
                if (r < 0) {
                        slo_guard_free(g);
                        return r;
                }
                curl_lib.global_init(CURL_GLOBAL_DEFAULT);
                g->multi = curl_lib.multi_init();
                if (!g->multi) {
                        slo_guard_free(g);
                        return -ENOMEM;
                }
                curl_lib.multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
                curl_lib.multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
                curl_lib.multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
                curl_lib.multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
                /* Every SLO's connection kept between its probes: curl's
                 * cache holds by default 4 per handle under way, and a
                 * handle is out of the multi between probes (seen: 20 SLOs
                 * made 151 connections in 620 probes). One each, and a
                 * few for redirects. */
                size_t n_http = 0;
                for (size_t k = 0; k < s->n_slos; k++)
                        n_http += s->slos[k]->probe == PROBE_HTTP || s->slos[k]->probe == PROBE_PROMETHEUS;
                curl_lib.multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)(n_http + 4));
        }
        /* The timer is set at each event to the earliest moment due: a
         * probe starts at its interval and a late one fails at its
         * timeout, to the timer's precision. The first round starts now;
         * the run hears of it at its first event. */
        tick(g);
        g->sampled = false;
        arm(g);
        *ret = g;
        return 0;
}

void slo_guard_free(struct slo_guard *g) {
        if (!g)
                return;
        for (size_t k = 0; g->p && k < g->n; k++) {
                struct probe *p = &g->p[k];
                if (p->in_multi)
                        curl_lib.multi_remove_handle(g->multi, p->easy);
                if (p->easy)
                        curl_lib.easy_cleanup(p->easy);
                free(p->body);
                loop_remove(p->pid_src);
                if (p->pidfd >= 0) {
                        kill(p->pid, SIGKILL);
                        waitpid(p->pid, NULL, 0);
                        close(p->pidfd);
                }
                slo_status_free(&p->st);
        }
        free(g->p);
        if (g->multi)
                curl_lib.multi_cleanup(g->multi);
        for (size_t i = 0; i < g->n_socks; i++)
                loop_remove(g->socks[i].src);
        free(g->socks);
        loop_remove(g->tick_src);
        free(g);
}
