/* SPDX-License-Identifier: MIT */
/* service: stop, restart or kill (KillUnit with a signal) a target's
 * systemd unit through sd-bus; the revert starts it again if it was
 * active before and is not now.
 *
 * The unit's ActiveState is read first and journaled (a "service" entry:
 * the unit in value, "active" or "inactive" in file) before anything is
 * done to it, so the revert needs that one record and the system bus:
 * the runner, the guardian, abort and recover all undo it alike. Every
 * call has a 2 s timeout: a hung PID 1 must not hold up a run or its
 * revert for sd-bus's 25 s. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#include "../agent/systemd_lib.h"
#include "fault.h"

static const char *const keys[] = {"action", "signal", NULL};

static const struct fault_key_doc key_docs[] = {
        {"signal", "SIGTERM", "for action = kill: the signal KillUnit sends to every process of the unit"},
        {NULL},
};

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SERVICE_SUFFIX ".service"

static const char *action_word(int a) {
        return a == SERVICE_RESTART ? "restart" : a == SERVICE_KILL ? "kill" : "stop";
}

static bool unit_name_ok(const char *u) {
        size_t n = u ? strlen(u) : 0, sl = strlen(SERVICE_SUFFIX);
        if (n <= sl || n >= JOURNAL_VALUE_MAX || !streq(u + n - sl, SERVICE_SUFFIX))
                return false;
        for (const char *p = u; *p; p++)
                if (*p == '/' || *p <= ' ' || *p > '~')
                        return false;
        return true;
}

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        fault_require_target(s, f, d);
        if (!fault_line(f, "signal"))
                f->signal = SIGTERM;
        else if (f->action != SERVICE_KILL)
                diag_error(d, s->file, fault_line(f, "signal"),
                           "'signal' is for action = kill; type = service with action = %s sends none: remove it "
                           "or set action = kill", action_word(f->action));
        if (f->target_index < 0)
                return;
        const struct target *t = s->targets[f->target_index];
        if (t->sel != SEL_UNIT)
                diag_error(d, s->file, fault_line(f, "target"),
                           "type = service acts on a systemd unit: target '%s' must select unit = NAME.service, "
                           "not %s =", f->target, selector_to_string(t->sel));
        else if (!unit_name_ok(t->unit))
                diag_error(d, s->file, fault_line(f, "target"),
                           "type = service acts on a service: target '%s' selects unit = %s, which is not a "
                           "NAME.service unit", f->target, t->unit);
}

static const char *unit_of(const struct scenario *s, const struct fault *f) {
        if (f->target_index < 0 || (size_t)f->target_index >= s->n_targets)
                return NULL;
        const struct target *t = s->targets[f->target_index];
        return t->sel == SEL_UNIT ? t->unit : NULL;
}

static int unit_refused(const struct fault *f, const char *unit, char *why, size_t len);

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        if (!systemd_booted()) {
                snprintf(why, len, "systemd is not PID 1 here: no units to stop");
                return -EOPNOTSUPP;
        }
        /* Loaded now, before the run's windows: not inside one, where the
         * guardian waits for the runner's heartbeat. */
        if (systemd_lib_load(why, len) < 0)
                return -EOPNOTSUPP;
        const char *unit = unit_of(s, f);
        return unit_name_ok(unit) ? unit_refused(f, unit, why, len) : 0;
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        const char *u = unit_of(pl->s, f);
        switch (f->action) {
        case SERVICE_RESTART:
                fprintf(out, "      restart unit %s (RestartUnit), started again at the window's end if it is "
                             "not active then\n", u ? u : "?");
                break;
        case SERVICE_KILL:
                fprintf(out, "      send SIG%s to every process of unit %s (KillUnit), started again at the "
                             "window's end if it was active and is not then\n",
                        signal_to_name(f->signal) ? signal_to_name(f->signal) : "?", u ? u : "?");
                break;
        default:
                fprintf(out, "      stop unit %s (StopUnit), started again at the window's end if it was "
                             "active\n", u ? u : "?");
        }
}

/* ---- sd-bus ---- */

/* What acting on a unit, and undoing it, needs to know of it. */
struct unit_facts {
        char state[32];       /* ActiveState; "inactive" when not loaded */
        bool transient;       /* systemd-run's: unloaded once stopped */
        bool can_start;       /* false with RefuseManualStart= */
        /* InactiveExitTimestampMonotonic: when it was last started (0 when
         * never, or after systemd unloaded it: an inactive unit nothing
         * refers to is dropped, and its timestamps with it). */
        uint64_t started_at;
};

#define SD_UNIT "org.freedesktop.systemd1.Unit"

static int unit_facts(sd_bus *bus, const char *unit, struct unit_facts *ret) {
        *ret = (struct unit_facts){.can_start = true};
        _cleanup_free_ char *path = NULL;
        int r = systemd_unit_path(bus, unit, &path);
        if (r == -ENOENT) {
                snprintf(ret->state, sizeof ret->state, "inactive");
                return 0;
        }
        if (r < 0)
                return r;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *st = NULL;
        int b = 0;
        r = sdl.bus_get_property_string(bus, SD_DEST, path, SD_UNIT, "ActiveState", &e, &st);
        if (r >= 0)
                snprintf(ret->state, sizeof ret->state, "%s", st);
        if (r >= 0 && (r = sdl.bus_get_property_trivial(bus, SD_DEST, path, SD_UNIT, "Transient", &e, 'b', &b)) >= 0)
                ret->transient = b;
        if (r >= 0 && (r = sdl.bus_get_property_trivial(bus, SD_DEST, path, SD_UNIT, "CanStart", &e, 'b', &b)) >= 0)
                ret->can_start = b;
        uint64_t t = 0;
        if (r >= 0 && (r = sdl.bus_get_property_trivial(bus, SD_DEST, path, SD_UNIT, "InactiveExitTimestampMonotonic",
                                                        &e, 't', &t)) >= 0)
                ret->started_at = t;
        free(st);
        sdl.bus_error_free(&e);
        return r < 0 ? r : 0;
}

/* Running or on its way up: nothing for a revert to start. */
static bool state_up(const char *st) {
        return streq(st, "active") || streq(st, "reloading") || streq(st, "activating");
}

/* Stopped or killed, a unit must be possible to start again: not one
 * that systemd unloads once stopped (transient, systemd-run's), nor one
 * that refuses a manual start. Why not, or NULL. */
static const char *cannot_restart(const struct fault *f, const struct unit_facts *uf) {
        if (f->action == SERVICE_RESTART || !state_up(uf->state))
                return NULL;
        if (uf->transient)
                return "is a transient unit, unloaded once stopped";
        return uf->can_start ? NULL : "refuses a manual start (RefuseManualStart=)";
}

static void cannot_restart_why(const char *unit, const char *what, char *why, size_t len) {
        snprintf(why, len, "%s %s: it could not be started again after the window (allowed: a unit from a unit "
                 "file that may be started by hand, or action = restart)", unit, what);
}

/* The run's preflight (and the plan): a unit that is up now and could not
 * be started again is refused before anything is touched, as a host
 * without systemd is (exit 6). A bus that cannot be asked is the apply's
 * to say; the apply checks again, the unit may have changed meanwhile. */
static int unit_refused(const struct fault *f, const char *unit, char *why, size_t len) {
        sd_bus *bus = NULL;
        if (systemd_bus_open(&bus) < 0)
                return 0;
        struct unit_facts uf;
        const char *what = unit_facts(bus, unit, &uf) >= 0 ? cannot_restart(f, &uf) : NULL;
        systemd_bus_close(bus);
        if (!what)
                return 0;
        cannot_restart_why(unit, what, why, len);
        return -EOPNOTSUPP;
}

/* A service entry's value: the unit, then (for stop and kill) a space and
 * when the fault acted (CLOCK_MONOTONIC in microseconds, the clock of
 * systemd's *TimestampMonotonic; the journal on /run lives one boot), so
 * that a revert done twice (its record batched and lost) does not start a
 * unit that someone started since, and stopped again. */
static int entry_unit(const struct jentry *e, char unit[static JOURNAL_VALUE_MAX], uint64_t *since) {
        const char *v = e->value ? e->value : "";
        const char *sp = strchr(v, ' ');
        size_t n = sp ? (size_t)(sp - v) : strlen(v);
        if (n >= JOURNAL_VALUE_MAX)
                return -EBADMSG;
        memcpy(unit, v, n);
        unit[n] = '\0';
        *since = 0;
        if (sp) {
                const char *d = sp + 1;
                if (!*d || strlen(d) > 20 || strspn(d, "0123456789") != strlen(d))
                        return -EBADMSG;
                *since = strtoull(d, NULL, 10);
        }
        return unit_name_ok(unit) ? 0 : -EBADMSG;
}

static int manager_call(sd_bus *bus, const char *method, const char *unit, int sig, char *why, size_t len) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sig ? sdl.bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, NULL, "ssi", unit, "all", sig)
                    : sdl.bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, NULL, "ss", unit, "replace");
        if (r < 0 && why)
                snprintf(why, len, "%s %s: %s", method, unit, e.message ? e.message : strerror(-r));
        sdl.bus_error_free(&e);
        return r;
}

/* ---- the run ---- */

struct service_run {
        char unit[JOURNAL_VALUE_MAX];
        char before[32];
        bool acted;
};

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        const char *unit = unit_of(c->pl->s, f);
        if (!unit_name_ok(unit))
                return fault_fail(fr, -EINVAL, "no service unit to act on");
        struct service_run *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        fr->priv = q;
        fr->priv_free = free;
        snprintf(q->unit, sizeof q->unit, "%s", unit);
        sd_bus *bus = NULL;
        int r = systemd_bus_open(&bus);
        if (r < 0)
                return fault_fail(fr, r, "cannot reach systemd on the system bus");
        char why[512];
        struct unit_facts uf;
        fault_beat(c);
        r = unit_facts(bus, unit, &uf);
        fault_beat(c);
        if (r < 0) {
                fault_fail(fr, r, "cannot read the state of %s", unit);
                goto out;
        }
        snprintf(q->before, sizeof q->before, "%s", uf.state);
        bool was_active = state_up(q->before);
        /* Not restart either: a unit started by a restart would stay
         * running after the run, and nothing is left applied after one. */
        if (!was_active) {
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s is %s: nothing to %s", unit, q->before,
                            action_word(f->action));
                goto out;
        }
        /* Refused by the preflight already, unless it changed since. */
        const char *what = cannot_restart(f, &uf);
        if (what) {
                cannot_restart_why(unit, what, why, sizeof why);
                r = fault_fail(fr, -EPERM, "%s", why);
                goto out;
        }
        /* Journaled before it is done: whoever reverts knows whether to
         * start it again. */
        char value[JOURNAL_VALUE_MAX];
        struct timespec now;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t acted_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
        if (f->action != SERVICE_RESTART && strlen(unit) + 1 + 20 < sizeof value)
                snprintf(value, sizeof value, "%s %" PRIu64, unit, acted_us);
        else
                snprintf(value, sizeof value, "%s", unit);
        struct jentry e = {.kind = "service", .name = f->hdr.name, .value = value};
        snprintf(e.file, sizeof e.file, "%s", was_active ? "active" : "inactive");
        r = journal_apply(c->j, &e);
        if (r >= 0)
                r = fault_track(fr, e.seq);
        if (r < 0)
                goto out;
        fault_beat(c);
        if (f->action == SERVICE_KILL)
                r = manager_call(bus, "KillUnit", unit, f->signal, why, sizeof why);
        else
                r = manager_call(bus, f->action == SERVICE_RESTART ? "RestartUnit" : "StopUnit", unit, 0, why,
                                 sizeof why);
        if (r < 0) {
                fault_fail(fr, r, "%s", why);
                goto out;
        }
        q->acted = true;
        fr->strikes = 1;
        fr->hits = 1;
        if (f->action == SERVICE_KILL)
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "sent SIG%s to %s (was %s)", signal_to_name(f->signal),
                            unit, q->before);
        else
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s %s (was %s)",
                            f->action == SERVICE_RESTART ? "restarted" : "stopped", unit, q->before);
out:
        systemd_bus_close(bus);
        return r < 0 ? r : 0;
}

static void said(const struct fault_run *fr, char *buf, size_t len) {
        const struct service_run *q = fr->priv;
        if (!q || !q->acted)
                snprintf(buf, len, "nothing done%s%s%s", q && q->before[0] ? " (" : "", q ? q->before : "",
                         q && q->before[0] ? ")" : "");
        else if (fr->f->action == SERVICE_KILL)
                snprintf(buf, len, "sent SIG%s to %s (was %s)", signal_to_name(fr->f->signal), q->unit, q->before);
        else
                snprintf(buf, len, "%s %s (was %s)", fr->f->action == SERVICE_RESTART ? "restarted" : "stopped",
                         q->unit, q->before);
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        (void)c;
        said(fr, fr->outcome, sizeof fr->outcome);
}

static void progress(struct fault_run *fr, char *buf, size_t len) {
        said(fr, buf, len);
}

/* ---- the revert, from the entry alone ---- */

/* What the revert did, for the report: 1 started, 0 nothing. */
static int revert_unit(const struct jentry *e) {
        char unit[JOURNAL_VALUE_MAX];
        uint64_t t0;
        if (entry_unit(e, unit, &t0) < 0 || (!streq(e->file, "active") && !streq(e->file, "inactive")))
                return -EBADMSG;
        if (!streq(e->file, "active"))
                return 0;
        sd_bus *bus = NULL;
        int r = systemd_bus_open(&bus);
        if (r < 0)
                return r;
        struct unit_facts uf;
        r = unit_facts(bus, unit, &uf);
        /* Started since (by this revert done once already, or by hand):
         * whatever it is now is someone's choice, not the fault's. */
        bool since = r >= 0 && t0 && uf.started_at > t0;
        if (r >= 0 && !since && !state_up(uf.state)) {
                sd_bus_error err = SD_BUS_ERROR_NULL;
                r = sdl.bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StartUnit", &err, NULL, "ss", unit,
                                        "replace");
                /* Gone (a unit file removed): nothing is there to start,
                 * by anyone. */
                if (r < 0 && (sdl.bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit") ||
                              sdl.bus_error_has_name(&err, "org.freedesktop.systemd1.LoadFailed")))
                        r = 0;
                else
                        r = r < 0 ? r : 1;
                sdl.bus_error_free(&err);
        }
        else if (r >= 0)
                r = 0;
        systemd_bus_close(bus);
        return r;
}

static int revert(const struct jentry *e) {
        int r = revert_unit(e);
        return r < 0 ? r : 0;
}

static void describe_entry(const struct jentry *e, char *buf, size_t len) {
        char unit[JOURNAL_VALUE_MAX];
        uint64_t t0;
        if (entry_unit(e, unit, &t0) < 0)
                snprintf(unit, sizeof unit, "?");
        if (streq(e->file, "active"))
                snprintf(buf, len, "started %s again unless it is up or was started since", unit);
        else
                snprintf(buf, len, "left %s as it is (it was not active)", unit);
}

static void reverted(struct fault_ctx *c, struct fault_run *fr, unsigned n) {
        (void)c;
        char now[256];
        said(fr, now, sizeof now);
        const struct service_run *q = fr->priv;
        char st[32] = "";
        sd_bus *bus = NULL;
        if (n && q && q->acted && systemd_bus_open(&bus) >= 0) {
                struct unit_facts uf;
                if (unit_facts(bus, q->unit, &uf) < 0)
                        st[0] = '\0';
                else
                        snprintf(st, sizeof st, "%s", uf.state);
                systemd_bus_close(bus);
        }
        if (!n || !q || !q->acted)
                snprintf(fr->outcome, sizeof fr->outcome, "%s", now);
        else if (!state_up(q->before))
                snprintf(fr->outcome, sizeof fr->outcome, "%s, left as it is at revert%s%s", now, st[0] ? ": " : "", st);
        else if (fr->f->action == SERVICE_STOP)
                snprintf(fr->outcome, sizeof fr->outcome, "%s, %s at revert", now,
                         !st[0] || state_up(st) ? "started again" : st);
        else
                snprintf(fr->outcome, sizeof fr->outcome, "%s, %s at revert", now, st[0] ? st : "started if not active");
}

static void doctor(doctor_row_fn row, void *ud) {
        sd_bus *bus = NULL;
        /* Advisory: a host without systemd lacks nothing it could add;
         * the probe refuses a service fault there. */
        char why[256];
        if (!systemd_booted())
                row(ud, "service (systemd units over sd-bus)", "systemd is not PID 1 here: no units to stop",
                    "boot with systemd", true);
        else if (systemd_lib_load(why, sizeof why) < 0)
                row(ud, "service (systemd units over sd-bus)", why, "apt install libsystemd0", false);
        else if (systemd_bus_open(&bus) < 0)
                row(ud, "service (systemd units over sd-bus)", "the system bus is not reachable",
                    "start dbus (systemd's system bus)", false);
        else
                row(ud, "service (systemd units over sd-bus)", "", NULL, false);
        systemd_bus_close(bus);
}

static const struct fault_backend backend = {.title = "service faults", .doctor = doctor};

static const struct jentry_kind entries[] = {{"service", revert, describe_entry, false}, {NULL}};

const struct fault_ops service_ops = {
        .kind = {.name = "service",
                 .summary = "stops, restarts or signals a target's systemd service for the window; started again "
                            "at its end if it was active",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .backend = &backend,
        .probe = probe,
        .describe = describe,
        .counter_names = {"actions", "units"},
        .apply = apply,
        .finish = finish,
        .reverted = reverted,
        .progress = progress,
        .reach = FAULT_REACH_WHOLE_UNIT,
};
