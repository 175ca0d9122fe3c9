/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "../../faults/process.h"
#include "../../faults/registry.h"
#include "testutil.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

static struct policy *policy_from(const char *text, struct diags *d) {
        struct policy *p = NULL;
        ck_assert_int_eq(policy_parse("/etc/sabot/policy.ini", text, strlen(text), &p, d), 0);
        return p;
}

START_TEST(test_shipped_policy_is_the_default) {
        struct diags d = {0};
        struct policy *p = NULL;
        ck_assert_int_eq(policy_load(SRCDIR "/packaging/policy.ini", false, &p, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        struct policy *def = policy_new_default();
        ck_assert_mem_eq(&((char *)&p->limits)[sizeof(struct conf_obj)],
                         &((char *)&def->limits)[sizeof(struct conf_obj)],
                         sizeof(struct limits) - sizeof(struct conf_obj));
        char *a = format_port_list(&p->protect.ports), *b = format_port_list(&def->protect.ports);
        ck_assert_str_eq(a, b);
        free(a), free(b);
        a = format_strv(&p->protect.units), b = format_strv(&def->protect.units);
        ck_assert_str_eq(a, b);
        free(a), free(b);
        a = format_strv(&p->protect.comms), b = format_strv(&def->protect.comms);
        ck_assert_str_eq(a, b);
        free(a), free(b);
        policy_free(p);
        policy_free(def);
}
END_TEST

START_TEST(test_policy_parse) {
        struct diags d = {0};
        struct policy *p = policy_from("[limits]\nmax_loss = 10%\nallowed_types = loss, kill\n"
                                       "[protect]\nports = 22, 2222\ninterfaces = eth1\n", &d);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_uint_eq(p->limits.max_loss, RATIO_ONE / 10);
        ck_assert_uint_eq(p->limits.allowed_types, FAULT_MASK(FAULT_LOSS) | FAULT_MASK(FAULT_KILL));
        /* Unset keys keep the built-in values; a list given replaces the default. */
        ck_assert_uint_eq(p->limits.max_duration, 3600 * NSEC_PER_SEC);
        ck_assert_uint_eq(p->protect.ports.n, 2);
        ck_assert(strv_contains(&p->protect.interfaces, "eth1"));
        ck_assert(strv_contains(&p->protect.comms, "sshd"));
        policy_free(p);

        p = policy_from("[limits]\nmax_los = 10%\n[protect x]\n[protect]\nports = 0\n", &d);
        ck_assert_uint_eq(d.errors, 3);
        ck_assert_ptr_nonnull(diags_find(&d, "unknown key 'max_los' in [limits]; did you mean 'max_loss'? allowed keys: max_duration, max_delay, max_loss, max_corrupt, min_bandwidth, max_dns_percent, max_tcp_reset_percent, max_kill_count, max_kill_percent, min_survivors, min_free_disk, min_free_memory, max_clock_offset, allowed_types"));
        ck_assert_ptr_nonnull(diags_find(&d, "[protect] takes no name; write [protect]"));
        ck_assert_ptr_nonnull(diags_find(&d, "ports: invalid port '0'"));
        ck_assert_uint_eq(d.v[0].line, 2);
        policy_free(p);
        diags_free(&d);

        p = policy_from("[limits]\nallowed_types = loss, flood\n", &d);
        ck_assert_ptr_nonnull(diags_find(&d, "allowed_types: unknown fault type 'flood'; use a list of latency, loss, blackhole, corrupt, duplicate, reorder, bandwidth, dns, tcp-reset, syscall-error, syscall-delay, kill, pause, service, cpu, memory, io, pids, disk-fill, stress, clock"));
        policy_free(p);
        diags_free(&d);
}
END_TEST

START_TEST(test_ceilings) {
        struct diags d = {0};
        struct policy *p = policy_from("[limits]\nmax_duration = 10m\nmax_delay = 1s\nmax_loss = 20%\n"
                                       "max_kill_count = 2\nmax_kill_percent = 25%\nmin_survivors = 2\n"
                                       "allowed_types = latency, loss, kill\n[protect]\ninterfaces = eth9\n"
                                       "units = db.service\ncomms = postgres\n", &d);
        ck_assert_uint_eq(d.n, 0);
        char *out = scenario_problems(
                "[scenario]\nname = t\nduration = 20m\n"                                  /* 1-3 */
                "[target a]\ncomm = w\n[target db]\nunit = db.service\n[target pg]\ncomm = postgres\n" /* 4-9 */
                "[fault l]\ntype = latency\ninterface = eth0\ndelay = 900ms\njitter = 200ms\n"  /* 10-14 */
                "[fault d]\ntype = loss\ninterface = eth9\npercent = 30%\n"                   /* 15-18 */
                "[fault k]\ntype = kill\ntarget = a\ncount = 3\nmin_survivors = 1\n"          /* 19-23 */
                "[fault k2]\ntype = kill\ntarget = a\npercent = 50%\n"                        /* 24-27 */
                "[fault b]\ntype = blackhole\ninterface = eth0\n",                            /* 28-30 */
                p);
        ck_assert_str_eq(out,
                "t.ini:3: duration = 20m exceeds max_duration = 10m set by the host policy /etc/sabot/policy.ini:2\n"
                "t.ini:7: unit db.service is protected by the host policy ([protect] units); it cannot be a target\n"
                "t.ini:9: process name postgres is protected by the host policy ([protect] comms); it cannot be a target\n"
                "t.ini:13: delay + jitter = 900ms + 200ms exceeds max_delay = 1s set by the host policy /etc/sabot/policy.ini:3\n"
                "t.ini:17: interface eth9 is protected by the host policy ([protect] interfaces); choose another interface\n"
                "t.ini:18: percent = 30% exceeds max_loss = 20% set by the host policy /etc/sabot/policy.ini:4\n"
                "t.ini:22: count = 3 exceeds max_kill_count = 2 set by the host policy /etc/sabot/policy.ini:5\n"
                "t.ini:23: min_survivors = 1 is below min_survivors = 2 set by the host policy /etc/sabot/policy.ini:7; a fault may only keep more survivors\n"
                "t.ini:27: percent = 50% exceeds max_kill_percent = 25% set by the host policy /etc/sabot/policy.ini:6\n"
                "t.ini:29: type = blackhole is not allowed on this host: allowed_types = latency, loss, kill, set by the host policy /etc/sabot/policy.ini:8\n");
        free(out);
        policy_free(p);
}
END_TEST

/* corrupt is held to max_corrupt and to max_loss; bandwidth to min_bandwidth;
 * a scenario may only lower the one and raise the other. */
START_TEST(test_corrupt_and_bandwidth_ceilings) {
        char *out = scenario_problems(HEAD "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 30%\n"
                                      "[fault b]\ntype = bandwidth\ninterface = eth0\nrate = 512kbit\n", NULL);
        ck_assert_str_eq(out, "t.ini:11: rate = 512kbit is below min_bandwidth = 1mbit set by the built-in host policy; "
                              "a fault may only leave more bandwidth\n");
        free(out);
        out = scenario_problems(HEAD "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 30%\n"
                                "[limits]\nmax_corrupt = 10%\nmin_bandwidth = 20mbit\n"
                                "[fault b]\ntype = bandwidth\ninterface = eth0\nrate = 10mbit\n", NULL);
        ck_assert_str_eq(out,
                "t.ini:7: corrupt percent = 30% exceeds max_corrupt = 10% set by the scenario's [limits] (line 9)\n"
                "t.ini:14: rate = 10mbit is below min_bandwidth = 20mbit set by the scenario's [limits] (line 10); "
                "a fault may only leave more bandwidth\n");
        free(out);
        /* Within max_corrupt, corrupt still answers to max_loss. */
        out = scenario_problems(HEAD "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 30%\n"
                                "[limits]\nmax_loss = 20%\n", NULL);
        ck_assert_str_eq(out, "t.ini:7: corrupt percent = 30% (receivers drop corrupted packets) exceeds max_loss = 20% "
                              "set by the scenario's [limits] (line 9)\n");
        free(out);
        out = scenario_problems(HEAD "[fault c]\ntype = corrupt\ninterface = eth0\npercent = 3%\n"
                                "[limits]\nmax_corrupt = 60%\nmin_bandwidth = 100kbit\n", NULL);
        ck_assert_str_eq(out,
                "t.ini:9: max_corrupt = 60% would loosen the built-in host policy (max_corrupt = 50%); a scenario's [limits] may only tighten the host policy\n"
                "t.ini:10: min_bandwidth = 100kbit would loosen the built-in host policy (min_bandwidth = 1mbit); a scenario's [limits] may only tighten the host policy\n");
        free(out);
}
END_TEST

/* loss with model = 4state answers to max_loss with its chain's stationary
 * loss: (p13 p23 + p14 p23 p31) / (p23 p31 + p13 p32 + p13 p23 + p14 p23 p31),
 * here 0.055 / 0.155 = 35.48%: within 36%, over 35%. */
START_TEST(test_fourstate_loss_ceiling) {
        const char *f = HEAD "[fault l]\ntype = loss\ninterface = eth0\nmodel = 4state\n"
                             "p13 = 10%\np31 = 10%\np32 = 50%\np23 = 50%\np14 = 10%\n";
        struct diags d = {0};
        struct policy *p = policy_from("[limits]\nmax_loss = 36%\n", &d);
        char *out = scenario_problems(f, p);
        ck_assert_str_eq(out, "");
        free(out);
        policy_free(p);
        p = policy_from("[limits]\nmax_loss = 35%\n", &d);
        out = scenario_problems(f, p);
        ck_assert_str_eq(out, "t.ini:7: model = 4state (its stationary loss is 35.4838709%) exceeds max_loss = 35% set by "
                              "the host policy /etc/sabot/policy.ini:2\n");
        free(out);
        policy_free(p);
}
END_TEST

/* tcp-reset is held to max_tcp_reset_percent, its default 100%
 * included; a scenario may only lower it. */
START_TEST(test_tcp_reset_ceiling) {
        struct diags d = {0};
        struct policy *p = policy_from("[limits]\nmax_tcp_reset_percent = 25%\n", &d);
        ck_assert_uint_eq(d.n, 0);
        char *out = scenario_problems(HEAD "[fault a]\ntype = tcp-reset\ninterface = eth0\npercent = 25%\n" /* 4-7 */
                                      "[fault b]\ntype = tcp-reset\ninterface = eth0\npercent = 30%\n"      /* 8-11 */
                                      "[fault c]\ntype = tcp-reset\ninterface = eth0\n",                     /* 12-14 */
                                      p);
        ck_assert_str_eq(out, "t.ini:11: tcp-reset percent = 30% exceeds max_tcp_reset_percent = 25% set by the host "
                              "policy /etc/sabot/policy.ini:2\n"
                              "t.ini:13: tcp-reset percent = 100% (the default) exceeds max_tcp_reset_percent = 25% set "
                              "by the host policy /etc/sabot/policy.ini:2\n");
        free(out);
        out = scenario_problems(HEAD "[fault a]\ntype = tcp-reset\ninterface = eth0\n", NULL);
        ck_assert_str_eq(out, "");
        free(out);
        out = scenario_problems(HEAD "[fault a]\ntype = tcp-reset\ninterface = eth0\npercent = 20%\n"
                                "[limits]\nmax_tcp_reset_percent = 30%\n", p);
        ck_assert_str_eq(out, "t.ini:9: max_tcp_reset_percent = 30% would loosen the host policy /etc/sabot/policy.ini:2 "
                              "(max_tcp_reset_percent = 25%); a scenario's [limits] may only tighten the host policy\n");
        free(out);
        policy_free(p);
}
END_TEST

/* dns is held to max_dns_percent, whatever its answer (a timeout fails
 * its clients as a failing answer does), its default 100% included; a
 * scenario may only lower it. */
START_TEST(test_dns_ceiling) {
        struct diags d = {0};
        struct policy *p = policy_from("[limits]\nmax_dns_percent = 25%\n", &d);
        ck_assert_uint_eq(d.n, 0);
        char *out = scenario_problems(HEAD "[fault a]\ntype = dns\ninterface = eth0\npercent = 25%\n"  /* 4-7 */
                                      "[fault b]\ntype = dns\ninterface = eth0\nanswer = timeout\npercent = 30%\n" /* 8-12 */
                                      "[fault c]\ntype = dns\ninterface = eth0\nanswer = servfail\n",  /* 13-16 */
                                      p);
        ck_assert_str_eq(out, "t.ini:12: dns percent = 30% exceeds max_dns_percent = 25% set by the host policy /etc/sabot/policy.ini:2\n"
                              "t.ini:14: dns percent = 100% (the default) exceeds max_dns_percent = 25% set by the host policy /etc/sabot/policy.ini:2\n");
        free(out);
        /* The built-in policy lets every query fail; a scenario tightens it. */
        out = scenario_problems(HEAD "[fault a]\ntype = dns\ninterface = eth0\nanswer = timeout\n", NULL);
        ck_assert_str_eq(out, "");
        free(out);
        out = scenario_problems(HEAD "[fault a]\ntype = dns\ninterface = eth0\npercent = 20%\n"
                                "[limits]\nmax_dns_percent = 10%\n", NULL);
        ck_assert_str_eq(out, "t.ini:7: dns percent = 20% exceeds max_dns_percent = 10% set by the scenario's [limits] (line 9)\n");
        free(out);
        out = scenario_problems(HEAD "[fault a]\ntype = dns\ninterface = eth0\npercent = 20%\n"
                                "[limits]\nmax_dns_percent = 30%\n", p);
        ck_assert_str_eq(out, "t.ini:9: max_dns_percent = 30% would loosen the host policy /etc/sabot/policy.ini:2 "
                              "(max_dns_percent = 25%); a scenario's [limits] may only tighten the host policy\n");
        free(out);
        policy_free(p);
}
END_TEST

START_TEST(test_scenario_limits_only_tighten) {
        char *out = scenario_problems(HEAD "[fault d]\ntype = loss\ninterface = eth0\npercent = 30%\n"
                                      "[limits]\nmax_loss = 60%\nmax_delay = 1s\nmin_survivors = 0\n"
                                      "allowed_types = loss, pause\n", NULL);
        ck_assert_str_eq(out,
                "t.ini:9: max_loss = 60% would loosen the built-in host policy (max_loss = 50%); a scenario's [limits] may only tighten the host policy\n"
                "t.ini:11: min_survivors = 0 would loosen the built-in host policy (min_survivors = 1); a scenario's [limits] may only tighten the host policy\n");
        free(out);
        /* A tighter scenario limit is the one that applies, and says so. */
        out = scenario_problems(HEAD "[fault d]\ntype = loss\ninterface = eth0\npercent = 30%\n"
                                "[limits]\nmax_loss = 20%\n", NULL);
        ck_assert_str_eq(out, "t.ini:7: percent = 30% exceeds max_loss = 20% set by the scenario's [limits] (line 9)\n");
        free(out);
        out = scenario_problems(HEAD "[fault d]\ntype = loss\ninterface = eth0\npercent = 30%\n"
                                "[limits]\nallowed_types = kill\n", NULL);
        ck_assert_str_eq(out, "t.ini:5: type = loss is not allowed on this host: allowed_types = kill, set by the scenario's [limits] (line 9)\n");
        free(out);

        struct diags d = {0};
        struct scenario *s = NULL;
        const char *text = HEAD "[fault d]\ntype = loss\ninterface = eth0\npercent = 5%\n[limits]\nmax_loss = 20%\nmax_kill_count = 3\n";
        ck_assert_int_eq(scenario_parse("t.ini", text, strlen(text), &s, &d), 0);
        struct policy *p = policy_new_default();
        struct limits eff;
        policy_check(p, s, &eff, &d);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_uint_eq(eff.max_loss, RATIO_ONE / 5);
        ck_assert_uint_eq(eff.max_kill_count, 3);
        ck_assert_uint_eq(eff.max_delay, p->limits.max_delay);
        scenario_free(s);
        policy_free(p);
}
END_TEST

START_TEST(test_protected_ports) {
        char *out = scenario_problems(HEAD "[fault d]\ntype = loss\ninterface = eth0\npercent = 5%\n"
                                      "dport = 22\nsport = 1-1024\n", NULL);
        ck_assert_str_eq(out, "t.ini:8: dport 22 is protected by the host policy ([protect] ports): its traffic is never touched, so this match selects nothing\n");
        free(out);
}
END_TEST

static char dir[] = "/tmp/sabot-unit-XXXXXX";

static void write_file(const char *path, mode_t mode) {
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs("[limits]\nmax_loss = 10%\n", f);
        fclose(f);
        ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_trust) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof path, "%s/policy.ini", dir);
        struct diags d = {0};

        write_file(path, 0644);
        ck_assert(file_is_trusted(path, &d, DIAG_ERROR));
        struct policy *p = NULL;
        ck_assert_int_eq(policy_load(path, false, &p, &d), 0);
        ck_assert_uint_eq(p->limits.max_loss, RATIO_ONE / 10);
        policy_free(p);
        p = NULL;

        ck_assert_int_eq(chmod(path, 0666), 0);
        ck_assert(!file_is_trusted(path, &d, DIAG_NOTE));
        char expect[1024];
        snprintf(expect, sizeof expect, "%s is writable by everyone; unattended runs read only files that only root can change: chmod go-w %s", path, path);
        ck_assert_str_eq(d.v[0].msg, expect);
        ck_assert_int_eq(d.v[0].level, DIAG_NOTE);
        ck_assert_int_eq(policy_load(path, false, &p, &d), -EPERM);
        ck_assert_ptr_null(p);
        diags_free(&d);

        ck_assert_int_eq(chmod(path, 0664), 0);
        ck_assert(!file_is_trusted(path, &d, DIAG_ERROR));
        ck_assert_ptr_nonnull(diags_find(&d, "is writable by its group"));
        diags_free(&d);

        /* A directory anyone can write to (not sticky) lets anyone swap the file. */
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        ck_assert(!file_is_trusted(path, &d, DIAG_ERROR));
        snprintf(expect, sizeof expect, "%s is writable by everyone", dir);
        ck_assert_ptr_nonnull(diags_find(&d, expect));
        diags_free(&d);
        ck_assert_int_eq(chmod(dir, 0700), 0);

        if (geteuid() == 0) {
                /* Only root can give a file away. */
                ck_assert_int_eq(chown(path, 12345, 12345), 0);
                ck_assert(!file_is_trusted(path, &d, DIAG_ERROR));
                snprintf(expect, sizeof expect, "%s is owned by uid 12345; unattended runs read only files owned by root: chown root %s", path, path);
                ck_assert_str_eq(d.v[0].msg, expect);
                diags_free(&d);
        }

        /* The default path may be absent: the built-in policy applies. An
         * explicit --policy must exist. */
        snprintf(path, sizeof path, "%s/absent.ini", dir);
        ck_assert_int_eq(policy_load(path, true, &p, &d), 0);
        ck_assert_ptr_null(p->path);
        policy_free(p);
        ck_assert_int_eq(policy_load(path, false, &p, &d), -ENOENT);
        ck_assert_ptr_nonnull(diags_find(&d, "cannot read the host policy: No such file or directory"));
        diags_free(&d);

        snprintf(path, sizeof path, "%s/policy.ini", dir);
        unlink(path);
        rmdir(dir);
}
END_TEST

START_TEST(test_blast_radius) {
        ck_assert_uint_eq(blast_strike_count(5, 2, 0, 1), 2);
        ck_assert_uint_eq(blast_strike_count(5, 10, 0, 1), 4);           /* keeps min_survivors */
        ck_assert_uint_eq(blast_strike_count(5, 0, RATIO_ONE / 4, 1), 1); /* 1.25 rounds down */
        ck_assert_uint_eq(blast_strike_count(4, 0, RATIO_ONE / 2, 0), 2);
        ck_assert_uint_eq(blast_strike_count(3, 0, RATIO_ONE, 3), 0);
        ck_assert_uint_eq(blast_strike_count(3, 1, 0, 5), 0);
        ck_assert_uint_eq(blast_strike_count(0, 1, 0, 0), 0);
        ck_assert_uint_eq(blast_strike_count(1, 1, 0, 0), 1);
        ck_assert_uint_eq(blast_strike_count(UINT32_MAX, 0, RATIO_ONE, 0), UINT32_MAX);
}
END_TEST

int main(void) {
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("policy");
        tcase_add_test(tc, test_shipped_policy_is_the_default);
        tcase_add_test(tc, test_policy_parse);
        tcase_add_test(tc, test_ceilings);
        tcase_add_test(tc, test_scenario_limits_only_tighten);
        tcase_add_test(tc, test_protected_ports);
        tcase_add_test(tc, test_trust);
        tcase_add_test(tc, test_blast_radius);
        tcase_add_test(tc, test_corrupt_and_bandwidth_ceilings);
        tcase_add_test(tc, test_fourstate_loss_ceiling);
        tcase_add_test(tc, test_dns_ceiling);
        tcase_add_test(tc, test_tcp_reset_ceiling);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
