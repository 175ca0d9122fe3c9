/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>

#include "../../faults/registry.h"
#include "testutil.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

static struct scenario *parse_ok(const char *text) {
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_parse("t.ini", text, strlen(text), &s, &d), 0);
        ck_assert_msg(d.errors == 0, "unexpected error: %s", d.n ? d.v[0].msg : "");
        diags_free(&d);
        return s;
}

static void expect_exact(const char *text, const char *expected) {
        char *out = scenario_problems(text, NULL);
        /* Most cases have no faults; that warning has its own test. */
        static const char nofault[] = "t.ini:1: warning: the scenario has no [fault] sections; it injects nothing\n";
        char *w = strstr(out, nofault);
        if (w && !strstr(expected, nofault))
                memmove(w, w + strlen(nofault), strlen(w + strlen(nofault)) + 1);
        ck_assert_str_eq(out, expected);
        free(out);
}

static void expect(const char *text, const char *needle) {
        char *out = scenario_problems(text, NULL);
        ck_assert_contains(out, needle);
        free(out);
}

START_TEST(test_key_distance) {
        ck_assert_uint_eq(conf_distance("percent", "percent"), 0);
        ck_assert_uint_eq(conf_distance("precent", "percent"), 1); /* one transposition */
        ck_assert_uint_eq(conf_distance("PERCENT", "percent"), 0);
        ck_assert_uint_eq(conf_distance("percnt", "percent"), 1);
        ck_assert_uint_eq(conf_distance("prcnt", "percent"), 2);
        ck_assert_uint_eq(conf_distance("max", "min"), 2);
        ck_assert_uint_eq(conf_distance("colour", "cooldown"), CONF_DISTANCE_MAX + 1);
        ck_assert_uint_eq(conf_distance("", "ab"), 2);
        ck_assert_uint_eq(conf_distance("", "abc"), CONF_DISTANCE_MAX + 1);
}
END_TEST

START_TEST(test_valid_full) {
        struct scenario *s = parse_ok(HEAD
                "description = a test\n"
                "[target api]\nunit = checkout.service\n"
                "[target w]\nexec = /bin/sleep 100\n"
                "[fault slow]\ntype = latency\ninterface = eth0\ndelay = 200ms\njitter = 20ms\n"
                "dst = 10.1.2.0/24, fd00::/64\ndport = 443, 8000-8080\nstart = 30s\nduration = 2m\n"
                "[fault k]\ntype = kill\ntarget = api\n"
                "[fault e]\ntype = syscall-error\ntarget = w\nsyscalls = write\nerrno = EIO\nbackend = seccomp\n"
                "[slo h]\nprobe = http\nurl = http://127.0.0.1:1/\nmax_error_rate = 10%\n");
        ck_assert_str_eq(s->head.name, "t");
        ck_assert_uint_eq(s->head.duration, 300 * NSEC_PER_SEC);
        ck_assert_uint_eq(s->n_targets, 2);
        ck_assert_int_eq(s->targets[0]->sel, SEL_UNIT);
        ck_assert_int_eq(s->targets[1]->sel, SEL_EXEC);
        ck_assert_uint_eq(s->n_faults, 3);
        struct fault *f = s->faults[0];
        ck_assert_int_eq(f->type, FAULT_LATENCY);
        ck_assert_int_eq(f->direction, DIR_EGRESS);
        ck_assert_uint_eq(f->delay, 200 * NSEC_PER_MSEC);
        ck_assert_uint_eq(f->dst.n, 2);
        ck_assert_uint_eq(f->dport.n, 2);
        ck_assert(f->has_duration);
        ck_assert_uint_eq(fault_end(s, f), 150 * NSEC_PER_SEC);
        /* Defaults. */
        f = s->faults[1];
        ck_assert_int_eq(f->signal, SIGKILL);
        ck_assert_uint_eq(f->count, 1);
        ck_assert_int_eq(f->target_index, 0);
        ck_assert(!f->has_duration);
        ck_assert_uint_eq(fault_end(s, f), s->head.duration);
        ck_assert_uint_eq(s->faults[2]->probability, RATIO_ONE);
        struct slo *o = s->slos[0];
        ck_assert_uint_eq(o->interval, NSEC_PER_SEC);
        ck_assert_uint_eq(o->timeout, NSEC_PER_SEC);
        ck_assert_uint_eq(o->window, 10 * NSEC_PER_SEC);
        ck_assert_uint_eq(o->status.n, 1);
        ck_assert_uint_eq(o->status.v[0].lo, 200);
        ck_assert_uint_eq(o->status.v[0].hi, 399);
        scenario_free(s);
}
END_TEST

START_TEST(test_syntax) {
        /* Comments with ; and #, inline too; indentation; CRLF; a BOM. */
        struct scenario *s = parse_ok("\xEF\xBB\xBF; comment\r\n# comment\r\n[scenario] ; inline\r\n"
                                      "  name = t   # inline hash\r\n\tduration = 5m ; x\r\n");
        ck_assert_str_eq(s->head.name, "t");
        ck_assert_uint_eq(s->head.duration, 300 * NSEC_PER_SEC);
        scenario_free(s);
        /* '#' inside a value without a space before it is part of it. */
        s = parse_ok(HEAD "description = issue#42\n");
        ck_assert_str_eq(s->head.description, "issue#42");
        scenario_free(s);

        expect_exact(HEAD "[fault x\n",
                     "t.ini:4: section header without ']'; write [kind] or [kind NAME]\n");
        expect_exact(HEAD "[target a] junk\nunit = a.service\n",
                     "t.ini:4: text after the section header: 'junk'; only a comment may follow ']'\n");
        expect_exact(HEAD "just words\n",
                     "t.ini:4: expected key = value, a [section] or a comment\n");
        expect_exact(HEAD "url: http://x\n",
                     "t.ini:4: expected key = value, a [section] or a comment\n");
        expect_exact(HEAD "= 5\n", "t.ini:4: missing key before '='\n");
        expect_exact("name = x\n" HEAD,
                     "t.ini:1: 'name' is outside any section; put it under a [section] header\n"
                     "t.ini:2: warning: the scenario has no [fault] sections; it injects nothing\n");
        expect_exact(HEAD "description =\n", "t.ini:4: 'description' has no value\n");
        expect_exact(HEAD "[bogus]\nx = 1\ny = 2\n",
                     "t.ini:4: unknown section [bogus]; allowed sections: [scenario], [target], [fault], [slo], [limits]\n");
        expect_exact(HEAD "colour = red\n",
                     "t.ini:4: unknown key 'colour' in [scenario]; allowed keys: name, description, duration, steady_state, steady_state_timeout, cooldown\n");
        /* An unknown key: the keys of the section's type, and the nearest
         * of them if it looks like a typo, wherever the type is set. */
        expect_exact(HEAD "[fault f]\nprecent = 3%\ntype = loss\ninterface = lo\npercent = 2%\n",
                     "t.ini:5: unknown key 'precent' in [fault]; did you mean 'percent'? keys for loss: type, start, duration, "
                     "interface, direction, correlation, percent, burst, model, p13, p31, p32, p23, p14, dst, src, dport, sport, protocol, target\n");
        expect_exact(HEAD "[fault f]\ntype = loss\ninterface = lo\npercent = 2%\ndelya = 1s\n",
                     "t.ini:8: unknown key 'delya' in [fault]; keys for loss: type, start, duration, "
                     "interface, direction, correlation, percent, burst, model, p13, p31, p32, p23, p14, dst, src, dport, sport, protocol, target\n");
        expect_exact(HEAD "[fault f]\ntype = latency\ninterface = lo\ndelya = 1s\n",
                     "t.ini:4: fault 'f' (type = latency) needs 'delay' (e.g. delay = 200ms)\n"
                     "t.ini:7: unknown key 'delya' in [fault]; did you mean 'delay'? keys for latency: type, start, duration, "
                     "interface, direction, delay, jitter, distribution, correlation, dst, src, dport, sport, protocol, target\n");
        expect(HEAD "[fault f]\ntype = bogus\nsignl = 9\n",
               "t.ini:6: unknown key 'signl' in [fault]; did you mean 'signal'? allowed keys: type, start, duration, interface,");
        expect_exact(HEAD "[slo s]\nprobe = http\nurll = http://127.0.0.1:1/\nmax_error_rate = 5%\n",
                     "t.ini:4: slo 's' needs 'url' (e.g. url = http://127.0.0.1:8080/healthz)\n"
                     "t.ini:6: unknown key 'urll' in [slo]; did you mean 'url'? keys for probe = http: probe, url, status, "
                     "interval, timeout, window, min_samples, max_error_rate, max_latency\n");
        expect_exact(HEAD "[target a]\ncomn = w\n",
                     "t.ini:4: target 'a' has no selector; set exactly one of unit, cgroup, pid, pidfile, comm, exe, exec\n"
                     "t.ini:5: unknown key 'comn' in [target]; did you mean 'comm'? allowed keys: unit, cgroup, pid, "
                     "pidfile, comm, exe, exec, optional\n");
        expect_exact(HEAD "cooldwon = 1s\n",
                     "t.ini:4: unknown key 'cooldwon' in [scenario]; did you mean 'cooldown'? allowed keys: name, description, "
                     "duration, steady_state, steady_state_timeout, cooldown\n");
        expect_exact(HEAD "name = u\n",
                     "t.ini:4: 'name' is set twice in this section (first at line 2); set each key once\n");
        expect_exact(HEAD "[scenario]\n",
                     "t.ini:4: [scenario] appears twice (first at line 1); merge them\n");
        expect_exact(HEAD "[target a]\nunit = a.service\n[target a]\nunit = b.service\n",
                     "t.ini:6: target 'a' is defined twice (first at line 4); names must be unique\n");
        expect_exact(HEAD "[target Bad]\nunit = a.service\n",
                     "t.ini:4: invalid target name 'Bad'; use 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'\n");
        expect_exact(HEAD "[limits x]\n", "t.ini:4: [limits] takes no name; write [limits]\n");

        char long_line[400];
        memset(long_line, 'a', sizeof long_line);
        memcpy(long_line, "description = ", 14);
        long_line[sizeof long_line - 2] = '\n';
        long_line[sizeof long_line - 1] = '\0';
        char *text = NULL;
        ck_assert_int_ge(asprintf(&text, HEAD "%s", long_line), 0);
        char *out = scenario_problems(text, NULL);
        ck_assert_contains(out, "t.ini:4: line is longer than");
        free(out);
        free(text);

        struct diags d = {0};
        struct scenario *sc = NULL;
        ck_assert_int_eq(scenario_parse("t.ini", "[scenario]\0x", 12, &sc, &d), 0);
        ck_assert_ptr_nonnull(diags_find(&d, "contains a NUL byte"));
        diags_free(&d);
        scenario_free(sc);
}
END_TEST

START_TEST(test_required) {
        expect_exact("", "t.ini: no [scenario] section; add one with name and duration\n");
        expect_exact("[scenario]\n",
                     "t.ini:1: [scenario] needs 'name' ([a-z0-9-]+)\n"
                     "t.ini:1: [scenario] needs 'duration', the hard end of the run (e.g. duration = 5m)\n"
                     "t.ini:1: warning: the scenario has no [fault] sections; it injects nothing\n");
        expect_exact(HEAD "duration = 0\n[fault f]\ntype = blackhole\ninterface = eth0\n",
                     "t.ini:4: 'duration' is set twice in this section (first at line 3); set each key once\n");
        expect_exact("[scenario]\nname = t\nduration = 0\n[fault f]\ntype = blackhole\ninterface = eth0\n",
                     "t.ini:3: duration must be greater than 0\n");
        expect_exact(HEAD "[fault f]\ninterface = eth0\n",
                     "t.ini:4: fault 'f' has no type; set type = one of latency, loss, blackhole, corrupt, duplicate, reorder, bandwidth, dns, tcp-reset, syscall-error, syscall-delay, kill, pause, service, cpu, memory, io, pids, disk-fill, stress, clock\n");
        expect_exact(HEAD "[fault f]\ntype = flood\n",
                     "t.ini:5: type: unknown fault type 'flood'; use one of latency, loss, blackhole, corrupt, duplicate, reorder, bandwidth, dns, tcp-reset, syscall-error, syscall-delay, kill, pause, service, cpu, memory, io, pids, disk-fill, stress, clock\n");
        expect_exact(HEAD "[fault f]\ntype = blackhole\n",
                     "t.ini:4: fault 'f' (type = blackhole) needs 'interface' (the interface to disturb, e.g. eth0)\n");
        expect_exact(HEAD "[fault f]\ntype = syscall-error\n",
                     "t.ini:4: fault 'f' (type = syscall-error) needs 'target' (the [target NAME] to act on)\n"
                     "t.ini:4: fault 'f' (type = syscall-error) needs 'syscalls' (e.g. syscalls = write, fsync)\n"
                     "t.ini:4: fault 'f' (type = syscall-error) needs 'errno' (e.g. errno = EIO)\n");
}
END_TEST

START_TEST(test_targets) {
        expect_exact(HEAD "[target a]\nunit = a.service\ncomm = nginx\n[fault k]\ntype = kill\ntarget = a\n",
                     "t.ini:6: target 'a' has a second selector 'comm' (the first is 'unit' at line 5); use exactly one of unit, cgroup, pid, pidfile, comm, exe, exec\n");
        expect_exact(HEAD "[target a]\n[fault k]\ntype = kill\ntarget = a\n",
                     "t.ini:4: target 'a' has no selector; set exactly one of unit, cgroup, pid, pidfile, comm, exe, exec\n");
        expect_exact(HEAD "[target a]\npid = 12\n[fault k]\ntype = kill\ntarget = b\n",
                     "t.ini:8: fault 'k' names target 'b', which is not defined; define [target b] or use one of: a\n");
        expect_exact(HEAD "[target a]\npid = 12\n[fault e]\ntype = syscall-error\ntarget = a\nsyscalls = read\nerrno = EIO\nbackend = seccomp\n",
                     "t.ini:11: backend = seccomp works only for targets that sabot launches (exec = ...); target 'a' uses pid\n");
}
END_TEST

START_TEST(test_fault_rules) {
        /* Keys that do not belong to the type. */
        expect_exact(HEAD "[fault f]\ntype = loss\ninterface = eth0\npercent = 5%\ndelay = 5ms\n",
                     "t.ini:8: 'delay' does not apply to type = loss; keys for loss: type, start, duration, interface, direction, correlation, percent, burst, model, p13, p31, p32, p23, p14, dst, src, dport, sport, protocol, target\n");
        expect(HEAD "[target a]\npid = 5\n[fault f]\ntype = kill\ntarget = a\ninterface = eth0\n",
               "t.ini:9: 'interface' does not apply to type = kill; keys for kill: type, start, duration, percent, target, signal, count, every, min_survivors\n");
        /* Latency rules. */
        expect_exact(HEAD "[fault f]\ntype = latency\ninterface = eth0\njitter = 5ms\n",
                     "t.ini:4: fault 'f' (type = latency) needs 'delay' (e.g. delay = 200ms)\n"
                     "t.ini:7: jitter needs delay; set delay too\n");
        expect_exact(HEAD "[fault f]\ntype = latency\ninterface = eth0\ndelay = 10ms\njitter = 20ms\n",
                     "t.ini:8: jitter 20ms is larger than delay 10ms; netem would clamp negative delays to 0 and reorder packets; use jitter <= delay\n");
        expect_exact(HEAD "[fault f]\ntype = latency\ninterface = eth0\ndelay = 10ms\ndistribution = normal\n",
                     "t.ini:8: distribution shapes the jitter; set jitter too\n");
        expect_exact(HEAD "[fault f]\ntype = latency\ninterface = eth0\ndelay = 0\n",
                     "t.ini:7: delay must be greater than 0\n");
        expect_exact(HEAD "[target a]\ncgroup = x.slice\n[fault f]\ntype = loss\ninterface = eth0\npercent = 1%\ndirection = ingress\ntarget = a\n",
                     "t.ini:11: 'target' applies only to direction = egress: the kernel attributes packets to a process cgroup only when they leave; use src/dst/ports to select ingress traffic\n");
        expect_exact(HEAD "[target a]\npid = 5\n[fault f]\ntype = blackhole\ninterface = eth0\ntarget = a\n",
                     "t.ini:9: a network fault selects a target's traffic by its cgroup, so target 'a' must use unit or cgroup, not pid (a process's cgroup may hold others)\n");
        expect_exact(HEAD "[fault f]\ntype = loss\ninterface = eth0\npercent = 0%\n",
                     "t.ini:7: warning: percent = 0% drops nothing\n");
        /* Windows. */
        expect_exact(HEAD "[fault f]\ntype = blackhole\ninterface = eth0\nstart = 5m\n",
                     "t.ini:7: fault 'f' starts at 5m, not before the scenario ends (duration = 5m); start must be less than the scenario's duration\n");
        expect_exact(HEAD "[fault f]\ntype = blackhole\ninterface = eth0\nstart = 4m\nduration = 1m1s\n",
                     "t.ini:8: fault 'f' window 4m + 61s ends after the scenario (duration = 5m); a fault must end within its scenario\n");
        expect_exact(HEAD "[fault f]\ntype = blackhole\ninterface = eth0\nstart = 4m\nduration = 1m\n", "");
        expect_exact(HEAD "[fault f]\ntype = blackhole\ninterface = eth0\nduration = 0\n",
                     "t.ini:7: fault 'f' has a zero duration; omit it to last until the scenario ends\n");
        /* Process faults. */
        const char *k = HEAD "[target a]\ncomm = w\n[fault f]\ntype = kill\ntarget = a\n";
        char *t = NULL;
        ck_assert_int_ge(asprintf(&t, "%scount = 1\npercent = 5%%\n", k), 0);
        expect_exact(t, "t.ini:10: set either count or percent, not both\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%scount = 0\n", k), 0);
        expect_exact(t, "t.ini:9: count must be at least 1\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%severy = 10ms\n", k), 0);
        expect_exact(t, "t.ini:9: every = 10ms is too short; use 100ms or more\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sstart = 4m\nevery = 2m\n", k), 0);
        expect_exact(t, "t.ini:10: warning: every = 2m is longer than the fault's window (1m): it strikes once\n");
        free(t);
        /* One mistake, one message: no follow-on rule about the refused value. */
        expect_exact("[scenario]\nname = t\nduration = 5x\n[fault f]\ntype = blackhole\ninterface = eth0\nduration = 1q\n",
                     "t.ini:3: duration: '5x' lacks a valid unit; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)\n"
                     "t.ini:7: duration: '1q' lacks a valid unit; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)\n");
}
END_TEST

/* The netem family (corrupt, duplicate, reorder, bandwidth, loss burst):
 * each rule at its line, the values as the mechanism gets them. */
START_TEST(test_net_family) {
        struct scenario *s = parse_ok(HEAD
                "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 5%\ncorrelation = 25%\n"      /* 4-8 */
                "[fault d]\ntype = duplicate\ninterface = eth0\npercent = 0.1\ndport = 53\n"           /* 9-13 */
                "[fault r]\ntype = reorder\ninterface = eth0\npercent = 25%\ndelay = 10ms\n"          /* 14-18 */
                "[fault b]\ntype = bandwidth\ninterface = eth0\nrate = 1.5mbit\ndelay = 40ms\n"       /* 19-23 */
                "[fault l]\ntype = loss\ninterface = eth0\npercent = 20%\nburst = 4\n");              /* 24-28 */
        ck_assert_uint_eq(s->n_faults, 5);
        ck_assert_str_eq(fault_kinds[s->faults[0]->type]->name, "corrupt");
        ck_assert_uint_eq(s->faults[0]->percent, RATIO_ONE / 20);
        ck_assert_uint_eq(s->faults[0]->correlation, RATIO_ONE / 4);
        ck_assert_str_eq(fault_kinds[s->faults[1]->type]->name, "duplicate");
        ck_assert_uint_eq(s->faults[1]->percent, RATIO_ONE / 10);
        ck_assert_uint_eq(s->faults[2]->delay, 10 * NSEC_PER_MSEC);
        ck_assert_uint_eq(s->faults[3]->rate, 1500000);
        ck_assert_uint_eq(s->faults[3]->delay, 40 * NSEC_PER_MSEC);
        ck_assert_uint_eq(s->faults[4]->burst, 4);
        scenario_free(s);
        /* Rates: bit units, decimals; bytes refused; ranges. */
        s = parse_ok(HEAD "[fault b]\ntype = bandwidth\ninterface = eth0\nrate = 2gbit\n");
        ck_assert_uint_eq(s->faults[0]->rate, 2000000000ULL);
        scenario_free(s);
        s = parse_ok(HEAD "[fault b]\ntype = bandwidth\ninterface = eth0\nrate = 512kbit\n");
        ck_assert_uint_eq(s->faults[0]->rate, 512000);
        scenario_free(s);
        const char *bw = HEAD "[fault b]\ntype = bandwidth\ninterface = eth0\n";
        char *t = NULL;
        ck_assert_int_ge(asprintf(&t, "%srate = 10mbps\n", bw), 0);
        expect_exact(t, "t.ini:7: rate: '10mbps': bytes per second are not accepted (tc's kbps means kilobytes per second, a common mistake); write bits: a number with a unit in bits per second: bit, kbit, mbit, gbit (e.g. 10mbit, 512kbit, 1.5gbit)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%srate = 10\n", bw), 0);
        expect_exact(t, "t.ini:7: rate: '10' lacks a valid unit; use a number with a unit in bits per second: bit, kbit, mbit, gbit (e.g. 10mbit, 512kbit, 1.5gbit)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%srate = fast\n", bw), 0);
        expect(t, "t.ini:7: rate: invalid rate 'fast'");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%srate = 1001gbit\n", bw), 0);
        expect(t, "t.ini:7: rate: rate '1001gbit' is above 1000gbit");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%srate = 1.5bit\n", bw), 0);
        expect(t, "t.ini:7: rate: '1.5bit' has a fraction of a bit per second");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%srate = 7bit\n", bw), 0);
        expect_exact(t, "t.ini:7: rate must be at least 8bit (netem paces in bytes per second)\n");
        free(t);
        expect_exact(bw, "t.ini:4: fault 'b' (type = bandwidth) needs 'rate' (e.g. rate = 10mbit)\n");
        ck_assert_int_ge(asprintf(&t, "%srate = 1mbit\npercent = 5%%\n", bw), 0);
        expect(t, "t.ini:8: 'percent' does not apply to type = bandwidth; keys for bandwidth: type, start, duration, interface, direction, delay, rate, dst, src, dport, sport, protocol, target\n");
        free(t);
        /* Percentages: required, 0..100%, a warning at 0. */
        expect_exact(HEAD "[fault c]\ntype = corrupt\ninterface = eth0\n",
                     "t.ini:4: fault 'c' (type = corrupt) needs 'percent' (the share of matching packets to corrupt, e.g. percent = 5%)\n");
        expect(HEAD "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 101%\n",
               "t.ini:7: percent: 101% is more than 100%");
        expect_exact(HEAD "[fault c]\ntype = duplicate\ninterface = eth0\npercent = 0%\n",
                     "t.ini:7: warning: percent = 0% duplicates nothing\n");
        expect_exact(HEAD "[fault c]\ntype = duplicate\ninterface = eth0\n",
                     "t.ini:4: fault 'c' (type = duplicate) needs 'percent' (the share of matching packets to send twice, e.g. percent = 5%)\n");
        expect(HEAD "[fault c]\ntype = duplicate\ninterface = eth0\npercent = 5%\ndelay = 1ms\n",
               "t.ini:8: 'delay' does not apply to type = duplicate");
        expect(HEAD "[fault c]\ntype = corrupt\npercent = 5%\n",
               "t.ini:4: fault 'c' (type = corrupt) needs 'interface'");
        /* Reorder needs a delay. */
        expect_exact(HEAD "[fault r]\ntype = reorder\ninterface = eth0\npercent = 25%\n",
                     "t.ini:4: fault 'r' (type = reorder) needs 'delay' (netem reorders by holding the other packets back, e.g. delay = 10ms)\n");
        expect_exact(HEAD "[fault r]\ntype = reorder\ninterface = eth0\npercent = 25%\ndelay = 0\n",
                     "t.ini:8: reorder needs a delay greater than 0: netem reorders by sending some packets at once while it holds the others for delay\n");
        expect_exact(HEAD "[fault r]\ntype = reorder\ninterface = eth0\npercent = 100%\ndelay = 5ms\n",
                     "t.ini:7: warning: percent = 100% reorders nothing (no packet is held back); use less than 100%\n");
        expect_exact(HEAD "[fault r]\ntype = reorder\ninterface = eth0\npercent = 0%\ndelay = 5ms\n",
                     "t.ini:7: warning: percent = 0% reorders nothing (every packet is only delayed)\n");
        /* Loss in bursts. */
        const char *ls = HEAD "[fault l]\ntype = loss\ninterface = eth0\n";
        ck_assert_int_ge(asprintf(&t, "%spercent = 5%%\nburst = 0\n", ls), 0);
        expect_exact(t, "t.ini:8: burst is the mean number of packets lost in a row; use 1 or more (e.g. burst = 4)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 5%%\nburst = 3\ncorrelation = 10%%\n", ls), 0);
        expect_exact(t, "t.ini:9: correlation and burst both shape how losses cluster; use one (burst: netem's Gilbert-Elliott model; correlation: the classifier's)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 60%%\nburst = 1\n", ls), 0);
        expect_exact(t, "t.ini:7: percent = 60% cannot be lost in bursts of 1 on average: between two bursts at least one packet passes, so at most 50% are lost; lower percent or raise burst\n"
                        "t.ini:7: percent = 60% exceeds max_loss = 50% set by the built-in host policy\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 50%%\nburst = 1\n", ls), 0);
        expect_exact(t, "");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 100%%\nburst = 9\n", ls), 0);
        expect(t, "t.ini:7: percent = 100% cannot be lost in bursts of 9 on average");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 5%%\nburst = x\n", ls), 0);
        expect_exact(t, "t.ini:8: burst: invalid number 'x'; use a whole number from 0 to 4294967295\n");
        free(t);
        /* protocol = icmpv6 with IPv4 prefixes alone matches nothing. */
        expect_exact(HEAD "[fault b]\ntype = blackhole\ninterface = eth0\nprotocol = icmpv6\ndst = 10.0.0.0/8\nsrc = 10.1.0.0/16, fd00::/8\n",
                     "t.ini:8: protocol = icmpv6 matches IPv6 packets only, and dst has no IPv6 prefix: the fault could match nothing; add one, or use protocol = icmp for IPv4's ICMP\n");
        expect_exact(HEAD "[fault b]\ntype = blackhole\ninterface = eth0\nprotocol = icmpv6\ndst = fd00::/8\n", "");
        /* ICMP has no ports: a port with it matches nothing. */
        expect_exact(HEAD "[fault b]\ntype = blackhole\ninterface = eth0\nprotocol = icmp\ndport = 7\n",
                     "t.ini:8: protocol = icmp has no ports, so dport could match nothing; ports go with protocol = "
                     "tcp, udp or any (TCP and UDP)\n");
        expect_exact(HEAD "[fault b]\ntype = blackhole\ninterface = eth0\nprotocol = icmpv6\nsport = 80\n",
                     "t.ini:8: protocol = icmpv6 has no ports, so sport could match nothing; ports go with protocol = "
                     "tcp, udp or any (TCP and UDP)\n");
        /* netem's 4-state model: p13 required, percent, burst and correlation
         * refused, the p's only with it, every combination a chain that keeps
         * losing (bursts end, losses do not stop for good), and its
         * stationary loss held to max_loss. */
        const char *gi = HEAD "[fault l]\ntype = loss\ninterface = eth0\nmodel = 4state\n";
        ck_assert_int_ge(asprintf(&t, "%sp13 = 5%%\np31 = 30%%\np32 = 10%%\np23 = 60%%\np14 = 1%%\n", gi), 0);
        expect_exact(t, "");
        free(t);
        expect_exact(gi, "t.ini:4: fault 'l' (type = loss) needs 'p13' with model = 4state (e.g. p13 = 1%)\n");
        ck_assert_int_ge(asprintf(&t, "%sp13 = 5%%\npercent = 5%%\nburst = 3\ncorrelation = 5%%\n", gi), 0);
        expect_exact(t, "t.ini:9: with model = 4state the share lost follows from p13, p31, p32, p23 and p14 (sabot plan shows it); remove percent\n"
                        "t.ini:10: burst is the Gilbert-Elliott model's, model = 4state is another; use one (burst with percent, or model = 4state with p13 ... p14)\n"
                        "t.ini:11: correlation does not apply to model = 4state (its p32 and p23 shape the bursts); remove correlation\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 5%%\np31 = 5%%\n", ls), 0);
        expect_exact(t, "t.ini:8: p31 is a parameter of netem's 4-state model: add model = 4state, or remove p31\n");
        free(t);
        expect_exact(HEAD "[fault l]\ntype = loss\ninterface = eth0\nmodel = 2state\np13 = 1%\n",
                     "t.ini:4: fault 'l' (type = loss) needs 'percent' (e.g. percent = 5%)\n"
                     "t.ini:7: model: unknown loss model '2state'; use 4state\n"
                     "t.ini:8: p13 is a parameter of netem's 4-state model: add model = 4state, or remove p13\n");
        ck_assert_int_ge(asprintf(&t, "%sp13 = 30%%\np14 = 80%%\n", gi), 0);
        expect_exact(t, "t.ini:9: p13 + p14 is 110%: they are the chances of leaving the gap for a burst or for an isolated loss, together at most 100%\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 5%%\np31 = 90%%\np32 = 20%%\n", gi), 0);
        expect_exact(t, "t.ini:10: p31 + p32 is more than 100%: they are the chances of a loss in a burst being followed by a packet passed in the gap or in the burst, together at most 100%\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 100%%\n", gi), 0);
        expect_exact(t, "t.ini:8: p31 is 0% (100% - p13 when not given): a burst would never end and every packet after the first would be dropped or bounce inside it; use p31 above 0% (or the blackhole kind)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 5%%\np31 = 0%%\np32 = 50%%\n", gi), 0);
        expect(t, "t.ini:9: p31 is 0%: a burst would never end");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 5%%\np31 = 50%%\np32 = 10%%\np23 = 0%%\n", gi), 0);
        expect_exact(t, "t.ini:11: p23 = 0% with p32 = 10%: a packet passed within a burst would never be followed by a loss nor leave the burst, so losses would stop for good; raise p23 or set p32 = 0%\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 0%%\n", gi), 0);
        expect_exact(t, "t.ini:7: warning: p13 = 0% and p14 = 0% drop nothing\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 101%%\n", gi), 0);
        expect(t, "t.ini:8: p13: 101% is more than 100%");
        free(t);
        /* Stationary loss (p13 p23 + p14 p23 p31) / (p23 p31 + p13 p32 + p13 p23 + p14 p23 p31):
         * 40% / 10% alone: 0.4 / 0.5 = 80%; 0.1, 0.1, 0.5, 0.5, 0.1: 0.055 / 0.155 = 35.5%. */
        ck_assert_int_ge(asprintf(&t, "%sp13 = 40%%\np31 = 10%%\n", gi), 0);
        expect_exact(t, "t.ini:7: model = 4state (its stationary loss is 80%) exceeds max_loss = 50% set by the built-in host policy\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sp13 = 10%%\np31 = 10%%\np32 = 50%%\np23 = 50%%\np14 = 10%%\n", gi), 0);
        expect_exact(t, "");
        free(t);
        /* The policy: corrupt counts against max_loss, reorder and bandwidth delays against max_delay. */
        char *out = scenario_problems(HEAD
                "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 60%\n"
                "[fault r]\ntype = reorder\ninterface = eth0\npercent = 10%\ndelay = 6s\n"
                "[fault b]\ntype = bandwidth\ninterface = eth0\nrate = 1mbit\ndelay = 5001ms\n"
                "[fault d]\ntype = duplicate\ninterface = eth0\npercent = 100%\n", NULL);
        ck_assert_str_eq(out,
                "t.ini:7: corrupt percent = 60% (receivers drop corrupted packets) exceeds max_loss = 50% set by the built-in host policy\n"
                "t.ini:12: delay = 6s exceeds max_delay = 5s set by the built-in host policy\n"
                "t.ini:17: delay = 5.001s exceeds max_delay = 5s set by the built-in host policy\n");
        free(out);
}
END_TEST

START_TEST(test_cgroup_rules) {
        const char *cg = HEAD "[target a]\ncgroup = x.slice\n";
        char *t = NULL;
        /* cpu */
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = cpu\ntarget = a\n", cg), 0);
        expect_exact(t, "t.ini:6: fault 'f' (type = cpu) needs 'quota' (the share of one CPU the target keeps, 1% to 100%)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = cpu\ntarget = a\nquota = 0.5%%\n", cg), 0);
        expect_exact(t, "t.ini:9: quota = 0.5% is below 1%; use 1% to 100% (of one CPU)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = cpu\ntarget = a\nquota = 120%%\n", cg), 0);
        expect(t, "t.ini:9: quota: 120% is more than 100%");
        free(t);
        struct scenario *s = parse_ok(HEAD "[target a]\nunit = x.service\n[fault f]\ntype = cpu\ntarget = a\nquota = 20%\n");
        ck_assert_int_eq(s->faults[0]->type, FAULT_CPU);
        ck_assert_uint_eq(s->faults[0]->quota, RATIO_ONE / 5);
        scenario_free(s);
        /* A process selector has no cgroup of its own. */
        expect_exact(HEAD "[target a]\ncomm = w\n[fault f]\ntype = cpu\ntarget = a\nquota = 20%\n",
                     "t.ini:8: type = cpu squeezes a target's own cgroup: target 'a' must select unit = or cgroup =, not processes\n");
        /* memory: sizes need units; memory.max is not a key. */
        expect_exact(HEAD "[fault f]\ntype = memory\nhigh = 256\n",
                     "t.ini:4: fault 'f' (type = memory) needs 'target' (the [target NAME] to act on)\n"
                     "t.ini:6: high: invalid size '256'; use a whole number with a unit: B, K, M, G or T (binary: 1K = 1024 bytes), e.g. 256M\n");
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = memory\ntarget = a\nhigh = 1000K\n", cg), 0);
        expect_exact(t, "t.ini:9: high = 1024000B is below 1M; use 1M or more\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = memory\ntarget = a\nmax = 1G\n", cg), 0);
        expect(t, "t.ini:9: unknown key 'max' in [fault]");
        free(t);
        s = parse_ok(HEAD "[target a]\ncgroup = x\n[fault f]\ntype = memory\ntarget = a\nhigh = 256M\n");
        ck_assert_uint_eq(s->faults[0]->high, 256ULL << 20);
        scenario_free(s);
        /* io: a device, at least one limit, each above 0. */
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = io\ntarget = a\ndevice = sda\n", cg), 0);
        expect_exact(t, "t.ini:6: fault 'f' (type = io) needs at least one of rbps, wbps, riops, wiops\n"
                        "t.ini:9: device: invalid device 'sda'; use MAJOR:MINOR (e.g. 8:0, see lsblk) or a block device path (e.g. /dev/sda)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = io\ntarget = a\ndevice = /dev/null\nrbps = 0\n", cg), 0);
        expect_exact(t, "t.ini:9: device = /dev/null: not a block device; use MAJOR:MINOR or a block device path\n"
                        "t.ini:10: rbps must be at least 1\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = io\ntarget = a\nrbps = 1M\n", cg), 0);
        expect_exact(t, "t.ini:6: fault 'f' (type = io) needs 'device' (MAJOR:MINOR or a block device path)\n");
        free(t);
        s = parse_ok(HEAD "[target a]\ncgroup = x\n[fault f]\ntype = io\ntarget = a\ndevice = 8:0\nwbps = 2M\nriops = 100\n");
        ck_assert_str_eq(s->faults[0]->device, "8:0");
        ck_assert_uint_eq(s->faults[0]->wbps, 2ULL << 20);
        ck_assert_uint_eq(s->faults[0]->riops, 100);
        scenario_free(s);
        /* pids */
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = pids\ntarget = a\nlimit = 0\n", cg), 0);
        expect_exact(t, "t.ini:9: limit must be at least 1\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%s[fault f]\ntype = pids\ntarget = a\nlimit = 5\nquota = 5%%\n", cg), 0);
        expect_exact(t, "t.ini:10: 'quota' does not apply to type = pids; keys for pids: type, start, duration, target, limit\n");
        free(t);
}
END_TEST

/* disk-fill: a directory, exactly one of percent or size, no target. */
START_TEST(test_disk_fill_rules) {
        expect_exact(HEAD "[fault f]\ntype = disk-fill\npercent = 90%\n",
                     "t.ini:4: fault 'f' (type = disk-fill) needs 'path' (the directory whose filesystem it fills, e.g. /var/tmp)\n");
        expect_exact(HEAD "[fault f]\ntype = disk-fill\npath = /var/tmp\n",
                     "t.ini:4: fault 'f' (type = disk-fill) needs exactly one of 'percent' (the share of the filesystem "
                     "used at the end, e.g. 90%) or 'size' (bytes to allocate, e.g. 1G)\n");
        expect_exact(HEAD "[fault f]\ntype = disk-fill\npath = /var/tmp\npercent = 0%\n",
                     "t.ini:7: percent = 0% fills nothing; use 1% to 100%\n");
        expect(HEAD "[fault f]\ntype = disk-fill\npath = /var/tmp\nsize = 1G\ndevice = 8:0\n",
               "t.ini:8: 'device' does not apply to type = disk-fill; keys for disk-fill: type, start, duration, percent, target, path, size\n");
        struct scenario *s = parse_ok(HEAD "[fault f]\ntype = disk-fill\npath = /var/tmp\nsize = 1G\n");
        ck_assert_uint_eq(s->faults[0]->size, 1ULL << 30);
        ck_assert_str_eq(s->faults[0]->path, "/var/tmp");
        scenario_free(s);
}
END_TEST

/* service: a unit = NAME.service target, an action, a signal only with kill;
 * a protected unit is refused by the policy. */
/* clock: a signed offset, on a launched target alone, one at a time. */
START_TEST(test_clock_rules) {
        const char *t = HEAD "[target t]\nexec = /bin/sleep 60\n[fault f]\ntype = clock\ntarget = t\n";
        char buf[512];
        snprintf(buf, sizeof buf, "%soffset = 2h\n", t);
        expect_exact(buf, "t.ini:9: offset: clock offset '2h' needs a sign: + (ahead) or - (behind); use a whole number "
                          "with one unit of s, m, h, d (e.g. -2h, +30d)\n");
        snprintf(buf, sizeof buf, "%soffset = -1.5h\n", t);
        expect_exact(buf, "t.ini:9: offset: '-1.5h' lacks a valid unit; use a whole number with one unit of s, m, h, d "
                          "(e.g. -2h, +30d)\n");
        snprintf(buf, sizeof buf, "%soffset = +36501d\n", t);
        expect_exact(buf, "t.ini:9: offset: clock offset '+36501d' is too large; the most is 36500d (100 years)\n");
        /* Digits past the ceiling are read on: too large, not "lacks a unit". */
        snprintf(buf, sizeof buf, "%soffset = +99999999999999999999999s\n", t);
        expect_exact(buf, "t.ini:9: offset: clock offset '+99999999999999999999999s' is too large; the most is 36500d "
                          "(100 years)\n");
        snprintf(buf, sizeof buf, "%soffset = -0m\n", t);
        expect_exact(buf, "t.ini:9: offset = 0 changes nothing; use a signed whole number of s, m, h or d, e.g. -2h\n");
        expect_exact(t, "t.ini:6: fault 'f' (type = clock) needs 'offset' (how far the target's wall clock moves, e.g. "
                        "-2h or +30d)\n");
        expect_exact(HEAD "[target t]\ncomm = web\n[fault f]\ntype = clock\ntarget = t\noffset = -2h\n",
                     "t.ini:8: type = clock is offered for targets the run launches (exec = ...) alone: target 't' "
                     "selects running processes (comm =), which libfaketime (LD_PRELOAD) cannot enter after they "
                     "exec, and sabot never changes the host's clock; use a target with exec =\n");
        snprintf(buf, sizeof buf, "%soffset = -2h\nduration = 5s\n[fault g]\ntype = clock\ntarget = t\n"
                 "offset = +1d\nstart = 4s\n", t);
        expect_exact(buf, "t.ini:11: fault 'g' overlaps fault 'f' (line 6): both set target 't''s clock; one clock "
                          "fault a target at a time\n");
        snprintf(buf, sizeof buf, "%soffset = +30d\n", t);
        struct scenario *s = parse_ok(buf);
        ck_assert_int_eq(s->faults[0]->clock_offset, 30LL * 86400);
        scenario_free(s);
        snprintf(buf, sizeof buf, "%soffset = -90s\n", t);
        s = parse_ok(buf);
        ck_assert_int_eq(s->faults[0]->clock_offset, -90);
        char f[FORMAT_MAX];
        ck_assert_str_eq(format_clock_offset(f, -7200, true), "-2h");
        ck_assert_str_eq(format_clock_offset(f, 30LL * 86400, true), "+30d");
        ck_assert_str_eq(format_clock_offset(f, 365LL * 86400, false), "365d");
        ck_assert_str_eq(format_clock_offset(f, 90, true), "+90s");
        scenario_free(s);
}
END_TEST

START_TEST(test_service_rules) {
        expect_exact(HEAD "[target t]\nunit = web.service\n[fault f]\ntype = service\ntarget = t\naction = pause\n",
                     "t.ini:9: action: unknown action 'pause'; use stop | restart | kill\n");
        expect_exact(HEAD "[target t]\ncomm = web\n[fault f]\ntype = service\ntarget = t\n",
                     "t.ini:8: type = service acts on a systemd unit: target 't' must select unit = NAME.service, "
                     "not comm =\n");
        expect_exact(HEAD "[target t]\nunit = web.socket\n[fault f]\ntype = service\ntarget = t\n",
                     "t.ini:8: type = service acts on a service: target 't' selects unit = web.socket, which is not "
                     "a NAME.service unit\n");
        expect_exact(HEAD "[target t]\nunit = web.service\n[fault f]\ntype = service\ntarget = t\nsignal = SIGHUP\n",
                     "t.ini:9: 'signal' is for action = kill; type = service with action = stop sends none: remove "
                     "it or set action = kill\n");
        expect_exact(HEAD "[fault f]\ntype = service\n",
                     "t.ini:4: fault 'f' (type = service) needs 'target' (the [target NAME] to act on)\n");
        struct scenario *s = parse_ok(HEAD "[target t]\nunit = web.service\n[fault f]\ntype = service\ntarget = t\n");
        ck_assert_int_eq(s->faults[0]->action, SERVICE_STOP);
        ck_assert_int_eq(s->faults[0]->signal, SIGTERM);
        scenario_free(s);
        s = parse_ok(HEAD "[target t]\nunit = web.service\n[fault f]\ntype = service\ntarget = t\naction = kill\n"
                          "signal = KILL\n");
        ck_assert_int_eq(s->faults[0]->action, SERVICE_KILL);
        ck_assert_int_eq(s->faults[0]->signal, SIGKILL);
        scenario_free(s);
        /* The built-in policy protects ssh.service: no service fault on it. */
        s = parse_ok(HEAD "[target t]\nunit = ssh.service\n[fault f]\ntype = service\ntarget = t\naction = restart\n");
        struct diags d = {0};
        struct policy *p = policy_new_default();
        policy_check(p, s, NULL, &d);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_ptr_nonnull(diags_find(&d, "unit ssh.service is protected by the host policy ([protect] units); "
                                             "it cannot be a target"));
        ck_assert_uint_eq(d.v[0].line, 5);
        diags_free(&d);
        policy_free(p);
        scenario_free(s);
}
END_TEST

/* stress: workers, their keys' pairs, no target. */
START_TEST(test_stress_rules) {
        expect_exact(HEAD "[fault s]\ntype = stress\ncpu_load = 50%\n",
                     "t.ini:4: fault 's' (type = stress) needs at least one of cpu, vm, io (stress-ng workers, e.g. cpu = 2)\n"
                     "t.ini:6: cpu_load needs cpu workers (cpu = N)\n");
        expect_exact(HEAD "[fault s]\ntype = stress\nvm = 1\n",
                     "t.ini:4: fault 's' (type = stress) needs 'vm_bytes' (the memory each vm worker keeps touching, e.g. 256M)\n");
        expect_exact(HEAD "[fault s]\ntype = stress\nvm = 1\nvm_bytes = 1M\n",
                     "t.ini:7: vm_bytes = 1048576B is below 4M; use 4M or more\n");
        expect_exact(HEAD "[fault s]\ntype = stress\ncpu = 5000\nbackoff_psi = 0%\n",
                     "t.ini:6: cpu = 5000 workers is too many; use 0 to 1024\n"
                     "t.ini:7: backoff_psi = 0% would stop the workers at once; use 1% to 100% (memory PSI full avg10)\n");
        struct scenario *s = parse_ok(HEAD "[fault s]\ntype = stress\ncpu = 2\ncpu_load = 50%\nvm = 1\nvm_bytes = 256M\nio = 1\n");
        ck_assert_uint_eq(s->faults[0]->cpu, 2);
        ck_assert_uint_eq(s->faults[0]->cpu_load, RATIO_ONE / 2);
        ck_assert_uint_eq(s->faults[0]->vm_bytes, 256ULL << 20);
        ck_assert_uint_eq(s->faults[0]->io, 1);
        scenario_free(s);
}
END_TEST

START_TEST(test_slo_rules) {
        expect_exact(HEAD "[slo s]\nurl = http://x/\n",
                     "t.ini:4: slo 's' has no probe; set probe = http | exec | prometheus | psi\n");
        expect_exact(HEAD "[slo s]\nprobe = http\n",
                     "t.ini:4: slo 's' needs 'url' (e.g. url = http://127.0.0.1:8080/healthz)\n"
                     "t.ini:4: slo 's' has no threshold; set max_error_rate and/or max_latency\n");
        expect_exact(HEAD "[slo s]\nprobe = psi\nresource = io\nmax = 120\n",
                     "t.ini:7: psi max is a percentage of time stalled; use 0 to 100\n");
        expect_exact(HEAD "[slo s]\nprobe = prometheus\nurl = http://p:9090\nquery = up\nmax = 1\nmin = 2\n",
                     "t.ini:9: min 2 is above max 1; nothing could be healthy\n");
        expect_exact(HEAD "[slo s]\nprobe = exec\ncommand = /bin/true\nmax_error_rate = 0%\nquery = up\n",
                     "t.ini:8: 'query' does not apply to this probe; see scenarios/README.md for the keys of each probe\n");
        expect_exact(HEAD "[slo s]\nprobe = exec\ncommand = /bin/true\nmax_error_rate = 0%\ninterval = 1s\ntimeout = 2s\n",
                     "t.ini:9: timeout = 2s must be above 0 and at most the interval (1s), so probes never pile up\n");
        expect_exact(HEAD "[slo s]\nprobe = exec\ncommand = /bin/true\nmax_error_rate = 0%\ninterval = 10ms\n",
                     "t.ini:8: interval = 10ms is too short; use 100ms or more\n");
        expect_exact(HEAD "[slo s]\nprobe = exec\ncommand = /bin/true\nmax_error_rate = 0%\nwindow = 500ms\n",
                     "t.ini:8: window = 500ms is shorter than the interval (1s); use a window of several intervals\n");
}
END_TEST

START_TEST(test_many_errors_one_pass) {
        char *out = scenario_problems("[scenario]\nname = Bad\nduration = 5x\n"
                                      "[target a]\nunit = nope\n"
                                      "[fault f]\ntype = latency\ninterface = eth0\ndelay = 1s\ndst = 10.0.0.1/8\n"
                                      "[wat]\n", NULL);
        ck_assert_contains(out, "t.ini:2: name:");
        ck_assert_contains(out, "t.ini:3: duration:");
        ck_assert_contains(out, "t.ini:5: unit:");
        ck_assert_contains(out, "t.ini:10: dst:");
        ck_assert_contains(out, "t.ini:11: unknown section [wat]");
        free(out);
}
END_TEST

static void validate_file_expect(const char *path, const char *only_error);

static void validate_file(const char *path) { validate_file_expect(path, NULL); }

static void validate_file_expect(const char *path, const char *only_error) {
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_load(path, &s, &d), 0);
        struct policy *p = policy_new_default();
        policy_check(p, s, NULL, &d);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        diags_print(&d, f);
        fclose(f);
        if (only_error) {
                ck_assert_msg(d.n == 1 && strstr(out, only_error), "%s: want only \"%s\", got: %s", path, only_error, out);
        } else
                ck_assert_msg(d.n == 0, "%s: %s", path, out);
        free(out);
        diags_free(&d);
        policy_free(p);
        scenario_free(s);
}

/* Inputs the fuzzer once crashed on: each must parse, with errors. */
START_TEST(test_fuzz_crashes) {
        expect_exact(HEAD "[target a]\npid = 5\n[fault k]\ntype = kill\ntarget =Bad{x}\n",
                     "t.ini:8: target: invalid name 'Bad{x}'; use 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'\n");
        DIR *dir = opendir(SRCDIR "/tests/unit/data/fuzz-crashes");
        ck_assert_ptr_nonnull(dir);
        struct dirent *de;
        int n = 0;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.')
                        continue;
                char path[1024];
                snprintf(path, sizeof path, SRCDIR "/tests/unit/data/fuzz-crashes/%s", de->d_name);
                struct diags d = {0};
                struct scenario *s = NULL;
                struct policy *p = NULL, *def = policy_new_default();
                char *buf = NULL;
                size_t len;
                ck_assert_int_eq(read_full_file(path, CONF_MAX_FILE, &buf, &len), 0);
                ck_assert_int_eq(scenario_parse(path, buf, len, &s, &d), 0);
                (void)policy_parse(path, buf, len, &p, &d);
                policy_check(def, s, NULL, &d);
                if (p)
                        policy_check(p, s, NULL, &d);
                ck_assert_msg(d.errors > 0, "%s parses without errors", path);
                diags_free(&d);
                scenario_free(s);
                policy_free(p);
                policy_free(def);
                free(buf);
                n++;
        }
        closedir(dir);
        ck_assert_int_ge(n, 1);
}
END_TEST

START_TEST(test_examples_validate) {
        validate_file(SRCDIR "/scenarios/checkout-gameday.ini");
        validate_file(SRCDIR "/scenarios/nightly-worker-chaos.ini");
        validate_file(SRCDIR "/scenarios/bad-link.ini");
        validate_file(SRCDIR "/scenarios/demo.ini");
        validate_file(SRCDIR "/scenarios/dns-outage.ini");
        /* CONTRACT.md's example, verbatim: its flaky-disk fault fails fsync of
         * a running unit, and no LSM hook stands behind fsync(2), so the eBPF
         * backend refuses it (launched targets can fail any syscall). */
        validate_file_expect(SRCDIR "/tests/unit/data/contract.ini",
                             "contract.ini:30: the eBPF backend (for running processes) cannot fail 'fsync'; it covers open, openat");
}
END_TEST

/* dns: its keys, each rule at its line, the allowed values listed. */
START_TEST(test_dns_rules) {
        struct scenario *s = parse_ok(HEAD "[fault d]\ntype = dns\ninterface = eth0\ndomains = Example.com, internal.\n"
                                      "answer = servfail\npercent = 25%\ndport = 53, 5353\ndst = 10.0.0.53/32, fd00::53/128\n");
        ck_assert_str_eq(fault_kinds[s->faults[0]->type]->name, "dns");
        ck_assert_int_eq(s->faults[0]->answer, DNS_ANSWER_SERVFAIL);
        ck_assert_str_eq(s->faults[0]->domains, "Example.com, internal.");
        ck_assert_uint_eq(s->faults[0]->percent, RATIO_ONE / 4);
        scenario_free(s);
        s = parse_ok(HEAD "[fault d]\ntype = dns\ninterface = eth0\n");
        ck_assert_int_eq(s->faults[0]->answer, DNS_ANSWER_NXDOMAIN); /* the default; every name */
        scenario_free(s);
        const char *d = HEAD "[fault d]\ntype = dns\ninterface = eth0\n";
        char *t = NULL;
        ck_assert_int_ge(asprintf(&t, "%sanswer = noerror\n", d), 0);
        expect_exact(t, "t.ini:7: answer: unknown answer 'noerror'; use nxdomain | servfail | refused | timeout\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sdomains = example.com,, internal\n", d), 0);
        expect_exact(t, "t.ini:7: domains: an empty entry in the list; allowed: up to 16 names, comma-separated, each "
                        "matching itself and every name below it (e.g. domains = example.com, internal)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sdomains = exa mple.com\n", d), 0);
        expect_exact(t, "t.ini:7: domains: 'exa mple.com' has ' '; a name is letters, digits, '-' and '_' in labels split "
                        "by '.'; allowed: up to 16 names, comma-separated, each matching itself and every name below it "
                        "(e.g. domains = example.com, internal)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sdomains = a..b\n", d), 0);
        expect_exact(t, "t.ini:7: domains: 'a..b' has a label of 0 characters; each label is 1 to 63; allowed: up to 16 "
                        "names, comma-separated, each matching itself and every name below it (e.g. domains = example.com, "
                        "internal)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sdomains = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", d), 0);
        expect_exact(t, "t.ini:7: domains: more than 16 names; allowed: up to 16 names, comma-separated, each matching "
                        "itself and every name below it (e.g. domains = example.com, internal)\n");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%sdirection = ingress\n", d), 0);
        expect_exact(t, "t.ini:7: a dns fault answers the queries this host sends: direction = egress only (the default)\n");
        free(t);
        /* Keys of other kinds are refused. */
        ck_assert_int_ge(asprintf(&t, "%sprotocol = tcp\n", d), 0);
        expect(t, "t.ini:7: 'protocol' does not apply to type = dns; keys for dns: type, start, duration, interface, direction, percent, dst, dport, answer, domains, target");
        free(t);
        expect_exact(HEAD "[fault d]\ntype = dns\ndomains = internal\n",
                     "t.ini:4: fault 'd' (type = dns) needs 'interface' (the interface to disturb, e.g. eth0)\n");
}
END_TEST

/* tcp-reset: the network match keys and percent, not protocol. */
START_TEST(test_tcp_reset_rules) {
        struct scenario *s = parse_ok(HEAD "[fault r]\ntype = tcp-reset\ninterface = eth0\ndirection = egress\n"
                                      "dst = 10.0.0.0/24, fd00::/64\ndport = 8080\npercent = 25%\n");
        ck_assert_str_eq(fault_kinds[s->faults[0]->type]->name, "tcp-reset");
        ck_assert_int_eq(s->faults[0]->direction, DIR_EGRESS);
        ck_assert_uint_eq(s->faults[0]->percent, RATIO_ONE / 4);
        scenario_free(s);
        const char *d = HEAD "[fault r]\ntype = tcp-reset\ninterface = eth0\n";
        char *t = NULL;
        ck_assert_int_ge(asprintf(&t, "%sprotocol = udp\n", d), 0);
        expect(t, "t.ini:7: 'protocol' does not apply to type = tcp-reset; keys for tcp-reset: type, start, duration, "
                  "interface, direction, percent, dst, src, dport, sport, target");
        free(t);
        ck_assert_int_ge(asprintf(&t, "%spercent = 0%%\n", d), 0);
        expect(t, "t.ini:7: warning: percent = 0% resets no connection");
        free(t);
        s = parse_ok(HEAD "[fault r]\ntype = tcp-reset\ninterface = eth0\ndirection = ingress\n"
                     "src = 10.0.0.0/24, fd00::/64\nsport = 8080\n");
        ck_assert_int_eq(s->faults[0]->direction, DIR_INGRESS);
        scenario_free(s);
        expect_exact(HEAD "[fault r]\ntype = tcp-reset\nsport = 80\n",
                     "t.ini:4: fault 'r' (type = tcp-reset) needs 'interface' (the interface to disturb, e.g. eth0)\n");
}
END_TEST

/* What the host cannot tell: ceilings, overflow, URLs, optional. */
START_TEST(test_bounds) {
        /* 40m + 5124095h wraps 64-bit nanoseconds to about 5 minutes. */
        expect("[scenario]\nname = t\nduration = 59m\n[target w]\ncomm = x\n[fault k]\ntype = kill\n"
               "target = w\nstart = 40m\nduration = 5124095h\n",
               "t.ini:10: duration = ");
        expect(HEAD "steady_state = 5124095h\n[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\n",
               "t.ini:4: steady_state = ");
        expect(HEAD "steady_state = 10s\nsteady_state_timeout = 5s\n[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\n",
               "t.ini:5: steady_state_timeout = 5s is shorter than steady_state = 10s; it must be at least as long");
        expect(HEAD "steady_state_timeout = 0\n[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\n",
               "t.ini:4: steady_state_timeout must be greater than 0");
        expect(HEAD "steady_state_timeout = 9000h\n[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\n",
               "t.ini:4: steady_state_timeout = ");
        expect(HEAD "cooldown = 9000h\n[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\n",
               "is too long; a duration in a scenario is at most");
        expect(HEAD "[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\nevery = 5124095h\n", "t.ini:9: every = ");
        struct scenario *ok = parse_ok(HEAD "cooldown = 8784h\n[target w]\ncomm = x\n[fault k]\ntype = kill\ntarget = w\n");
        scenario_free(ok);

        char ports[512] = "";
        for (int i = 1; i <= 17; i++)
                snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s%d", i > 1 ? ", " : "", 2 * i);
        char text[1024];
        snprintf(text, sizeof text, HEAD "[fault l]\ntype = loss\ninterface = lo\npercent = 1%%\ndport = %s\n", ports);
        expect(text, "t.ini:8: dport has 17 ports or ranges; the network classifier holds at most 16 per list");
        *strrchr(ports, ',') = '\0';
        snprintf(text, sizeof text, HEAD "[fault l]\ntype = loss\ninterface = lo\npercent = 1%%\nsport = %s\n", ports);
        ok = parse_ok(text);
        ck_assert_uint_eq(ok->faults[0]->sport.n, 16);
        scenario_free(ok);

        static const char *const bad[] = {
                "http://127.0.0.1:99999/healthz", "http://127.0.0.1:0/", "http://localhost:80x/", "http://h:8080:90/",
                "http://[::1:9090", "http://:8080/", "http://[::1]x/", "http://ho st/", "http://a{b}/",
                "http://h:/", "http://[fe80::1%]/", "gopher://h/",
        };
        static const char *const good[] = {
                "http://[::1]:8080/a?b=c#d", "https://Example.COM./x/y", "http://127.0.0.1:65535", "HTTP://h",
                "http://user:pw@h:1/", "http://[fe80::1%25eth0]:80/", "http://my_host.internal/",
        };
        char err[PARSE_ERR_MAX];
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(url_check(bad[i], err) == -EINVAL, "accepted %s", bad[i]);
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ck_assert_msg(url_check(good[i], err) == 0, "refused %s: %s", good[i], err);
        ck_assert_int_eq(url_check("http://127.0.0.1:99999/", err), -EINVAL);
        ck_assert_str_eq(err, "invalid URL 'http://127.0.0.1:99999/': port '99999' is not a number from 1 to 65535");

        ok = parse_ok(HEAD "[target w]\ncomm = x\noptional = yes\n[target v]\ncomm = y\n"
                      "[fault k]\ntype = kill\ntarget = w\n");
        ck_assert_int_eq(ok->targets[0]->optional, 1);
        ck_assert_int_eq(ok->targets[1]->optional, 0);
        scenario_free(ok);
        expect(HEAD "[target w]\ncomm = x\noptional = maybe\n", "t.ini:6: optional: unknown value 'maybe'; use yes | no");
}
END_TEST

/* A growing text buffer for the generated scenarios below. */
static void gen(char **buf, size_t *len, size_t *cap, const char *fmt, ...) _printf_(4, 5);
static void gen(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
                va_end(ap);
                ck_assert_int_ge(n, 0);
                if ((size_t)n < *cap - *len) {
                        *len += (size_t)n;
                        return;
                }
                *cap = *cap * 2 + (size_t)n;
                *buf = realloc(*buf, *cap);
                ck_assert_ptr_nonnull(*buf);
        }
}

/* Targets, faults and SLOs, n of each kind asked, after a [scenario]. */
static char *many(size_t targets, size_t faults, size_t slos) {
        size_t len = 0, cap = 4096;
        char *t = malloc(cap);
        ck_assert_ptr_nonnull(t);
        t[0] = '\0';
        gen(&t, &len, &cap, "[scenario]\nname = big\nduration = 10m\n");
        for (size_t i = 0; i < targets; i++)
                gen(&t, &len, &cap, "[target t%zu]\ncomm = w%zu\n", i, i);
        for (size_t i = 0; i < faults; i++)
                gen(&t, &len, &cap, "[fault f%zu]\ntype = kill\ntarget = t%zu\n", i, targets ? i % targets : 0);
        for (size_t i = 0; i < slos; i++)
                gen(&t, &len, &cap, "[slo s%zu]\nprobe = psi\nresource = cpu\nmax = 50\n", i);
        return t;
}

/* The ceilings: 1024 faults, 1024 targets, 256 SLOs; the first section over
 * one is the error, at its line; at the ceilings a scenario is valid. */
START_TEST(test_ceilings) {
        char *t = many(SCENARIO_MAX_TARGETS, SCENARIO_MAX_FAULTS, SCENARIO_MAX_SLOS);
        struct scenario *s = parse_ok(t);
        ck_assert_uint_eq(s->n_targets, 1024);
        ck_assert_uint_eq(s->n_faults, 1024);
        ck_assert_uint_eq(s->n_slos, 256);
        ck_assert_int_eq(s->faults[1023]->target_index, 1023);
        scenario_free(s);
        free(t);

        /* Line of target 1025: 3 lines of [scenario], 2 per target. */
        t = many(1100, 1, 0);
        expect_exact(t, "t.ini:2052: target 't1024' is target 1025 of 1100: a scenario holds at most 1024 targets; "
                        "split it into several scenarios\n");
        free(t);
        t = many(1, 1, 300);
        /* 3 + 2 + 3 lines, then 4 per slo. */
        expect_exact(t, "t.ini:1033: slo 's256' is slo 257 of 300: a scenario holds at most 256 SLOs; split it "
                        "into several scenarios\n");
        free(t);
        /* Faults: the message that was there before, with every fault counted. */
        t = many(1, 5000, 0);
        expect_exact(t, "t.ini:3078: fault 'f1024' is fault 1025 of 5000: a scenario holds at most 1024 faults; "
                        "split it into several scenarios\n");
        free(t);
}
END_TEST

int main(void) {
        Suite *s = suite_create("scenario");
        TCase *tc = tcase_create("language");
        tcase_add_test(tc, test_key_distance);
        tcase_add_test(tc, test_valid_full);
        tcase_add_test(tc, test_syntax);
        tcase_add_test(tc, test_required);
        tcase_add_test(tc, test_targets);
        tcase_add_test(tc, test_fault_rules);
        tcase_add_test(tc, test_net_family);
        tcase_add_test(tc, test_dns_rules);
        tcase_add_test(tc, test_tcp_reset_rules);
        tcase_add_test(tc, test_cgroup_rules);
        tcase_add_test(tc, test_slo_rules);
        tcase_add_test(tc, test_many_errors_one_pass);
        tcase_add_test(tc, test_fuzz_crashes);
        tcase_add_test(tc, test_examples_validate);
        tcase_add_test(tc, test_bounds);
        tcase_add_test(tc, test_disk_fill_rules);
        tcase_add_test(tc, test_stress_rules);
        tcase_add_test(tc, test_service_rules);
        tcase_add_test(tc, test_clock_rules);
        tcase_add_test(tc, test_ceilings);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
