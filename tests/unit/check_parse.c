/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <signal.h>
#include <sys/syscall.h>

#include "testutil.h"

static char err[PARSE_ERR_MAX];

static uint64_t dur(const char *s) {
        uint64_t v = 12345;
        ck_assert_msg(parse_duration(s, &v, err) == 0, "%s: %s", s, err);
        return v;
}

static void dur_bad(const char *s, const char *msg) {
        uint64_t v = 77;
        ck_assert_int_eq(parse_duration(s, &v, err), -EINVAL);
        ck_assert_uint_eq(v, 77); /* untouched on failure */
        ck_assert_str_eq(err, msg);
}

START_TEST(test_duration) {
        ck_assert_uint_eq(dur("250ms"), 250 * NSEC_PER_MSEC);
        ck_assert_uint_eq(dur("10s"), 10 * NSEC_PER_SEC);
        ck_assert_uint_eq(dur("2m"), 120 * NSEC_PER_SEC);
        ck_assert_uint_eq(dur("1h"), 3600 * NSEC_PER_SEC);
        ck_assert_uint_eq(dur("1m30s"), 90 * NSEC_PER_SEC);
        ck_assert_uint_eq(dur("1h2m3s4ms5us6ns"), 3723004005006ULL);
        ck_assert_uint_eq(dur("1.5s"), 1500 * NSEC_PER_MSEC);
        ck_assert_uint_eq(dur("0.000000001s"), 1);
        ck_assert_uint_eq(dur("7ns"), 7);
        ck_assert_uint_eq(dur("0"), 0);
        ck_assert_uint_eq(dur("0s"), 0);
        dur_bad("5", "'5' lacks a valid unit; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("5x", "'5x' lacks a valid unit; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("-5s", "invalid duration '-5s'; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("30s1m", "'30s1m' repeats a unit or puts a smaller unit first; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("1s1s", "'1s1s' repeats a unit or puts a smaller unit first; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("1.5ns", "'1.5ns' has a fraction of a nanosecond; durations have nanosecond resolution");
        dur_bad("0.0000000001s", "'0.0000000001s' has more than 9 decimal places; durations have nanosecond resolution");
        dur_bad("99999999999h", "duration '99999999999h' is too long; the maximum is about 584 years");
        dur_bad("1.s", "invalid duration '1.s'; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad(" 5s", "invalid duration ' 5s'; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("5 s", "'5 s' lacks a valid unit; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");
        dur_bad("5sec", "'5sec' lacks a valid unit; use a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)");

        char b[FORMAT_MAX];
        /* One format: seconds with their fraction, not "11s8ms". */
        ck_assert_str_eq(format_duration(b, 90 * NSEC_PER_SEC), "90s");
        ck_assert_str_eq(format_duration(b, 11008 * NSEC_PER_MSEC), "11.008s");
        ck_assert_str_eq(format_duration(b, 20 * NSEC_PER_SEC), "20s");
        ck_assert_str_eq(format_duration(b, 1500 * NSEC_PER_MSEC), "1.5s");
        ck_assert_str_eq(format_duration(b, 5 * 60 * NSEC_PER_SEC), "5m");
        ck_assert_str_eq(format_duration(b, 2 * 3600 * NSEC_PER_SEC), "2h");
        ck_assert_str_eq(format_duration(b, 250 * NSEC_PER_MSEC), "250ms");
        ck_assert_str_eq(format_duration(b, 1250 * NSEC_PER_USEC), "1.25ms");
        ck_assert_str_eq(format_duration(b, 1500), "1.5us");
        ck_assert_str_eq(format_duration(b, 7), "7ns");
        ck_assert_str_eq(format_duration(b, 0), "0");
        ck_assert_str_eq(format_duration(b, 3723004005006ULL), "3723.004005006s");
        /* Every one reads back as what it was. */
        static const uint64_t back[] = {1, 999, 1000, 1500, 999999, 1000000, 1250000, 999999999, 1000000000, 11008000000ULL,
                                        60000000000ULL, 61000000000ULL, 3600000000000ULL, 3723004005006ULL};
        for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
                uint64_t v = 0;
                ck_assert_msg(parse_duration(format_duration(b, back[i]), &v, err) == 0 && v == back[i], "%s", b);
        }
}
END_TEST

static ratio_t ratio(const char *s) {
        ratio_t v = 0;
        ck_assert_msg(parse_ratio(s, &v, err) == 0, "%s: %s", s, err);
        return v;
}

START_TEST(test_ratio) {
        ck_assert_uint_eq(ratio("5%"), RATIO_ONE / 20);
        ck_assert_uint_eq(ratio("0.05"), RATIO_ONE / 20);
        ck_assert_uint_eq(ratio("100%"), RATIO_ONE);
        ck_assert_uint_eq(ratio("1.0"), RATIO_ONE);
        ck_assert_uint_eq(ratio("0"), 0);
        ck_assert_uint_eq(ratio("0%"), 0);
        ck_assert_uint_eq(ratio("0.5%"), 5000000);
        ck_assert_uint_eq(ratio("0.0000001%"), 1);
        ratio_t v = 9;
        ck_assert_int_eq(parse_ratio("5", &v, err), -EINVAL);
        ck_assert_str_eq(err, "'5' is ambiguous; write 5% for a percentage or 5.0 for a fraction; use a percentage from 0% to 100% (e.g. 5%, 0.5%) or a fraction from 0 to 1.0 (e.g. 0.05)");
        ck_assert_uint_eq(v, 9);
        ck_assert_int_eq(parse_ratio("101%", &v, err), -EINVAL);
        ck_assert_str_eq(err, "101% is more than 100%; use a percentage from 0% to 100% (e.g. 5%, 0.5%) or a fraction from 0 to 1.0 (e.g. 0.05)");
        ck_assert_int_eq(parse_ratio("1.5", &v, err), -EINVAL);
        ck_assert_str_eq(err, "1.5 is more than 1.0 (100%); write 1.5% for a percentage; use a percentage from 0% to 100% (e.g. 5%, 0.5%) or a fraction from 0 to 1.0 (e.g. 0.05)");
        ck_assert_int_eq(parse_ratio("5 %", &v, err), -EINVAL);
        ck_assert_int_eq(parse_ratio("-1%", &v, err), -EINVAL);
        ck_assert_int_eq(parse_ratio("5%%", &v, err), -EINVAL);
        ck_assert_int_eq(parse_ratio("0.00000001%", &v, err), -EINVAL);
        ck_assert_str_eq(err, "'0.00000001%' is finer than 0.0000001%; use at most 7 decimal places");
        ck_assert_int_eq(parse_ratio("99999999999999999999%", &v, err), -EINVAL);
        char b[FORMAT_MAX];
        ck_assert_str_eq(format_ratio(b, RATIO_ONE / 20), "5%");
        ck_assert_str_eq(format_ratio(b, 5000000), "0.5%");
        ck_assert_str_eq(format_ratio(b, RATIO_ONE), "100%");
        ck_assert_str_eq(format_ratio(b, 0), "0%");
}
END_TEST

START_TEST(test_numbers) {
        uint32_t u = 3;
        ck_assert_int_eq(parse_uint32("42", &u, err), 0);
        ck_assert_uint_eq(u, 42);
        ck_assert_int_eq(parse_uint32("4294967295", &u, err), 0);
        ck_assert_int_eq(parse_uint32("4294967296", &u, err), -EINVAL);
        ck_assert_str_eq(err, "4294967296 is too large; the maximum is 4294967295");
        ck_assert_int_eq(parse_uint32("+1", &u, err), -EINVAL);
        ck_assert_int_eq(parse_uint32("1x", &u, err), -EINVAL);
        ck_assert_str_eq(err, "invalid number '1x'; use a whole number from 0 to 4294967295");
        double d;
        ck_assert_int_eq(parse_double("0.5", &d, err), 0);
        ck_assert(d == 0.5);
        ck_assert_int_eq(parse_double("-1e3", &d, err), 0);
        ck_assert(d == -1000);
        ck_assert_int_eq(parse_double("inf", &d, err), -EINVAL);
        ck_assert_int_eq(parse_double("nan", &d, err), -EINVAL);
        ck_assert_int_eq(parse_double("0x10", &d, err), -EINVAL);
        ck_assert_int_eq(parse_double("1e999", &d, err), -EINVAL);
        ck_assert_int_eq(parse_double("1.2.3", &d, err), -EINVAL);
        pid_t pid;
        ck_assert_int_eq(parse_pid("1234", &pid, err), 0);
        ck_assert_int_eq(pid, 1234);
        ck_assert_int_eq(parse_pid("1", &pid, err), -EINVAL);
        ck_assert_str_eq(err, "PID 1 is always protected; target another process");
        ck_assert_int_eq(parse_pid("0", &pid, err), -EINVAL);
        ck_assert_int_eq(parse_pid("4194305", &pid, err), -EINVAL);
        ck_assert_str_eq(err, "invalid pid '4194305'; use a number from 2 to 4194304");
}
END_TEST

START_TEST(test_ports) {
        struct port_list l = {0};
        ck_assert_int_eq(parse_port_list("443", &l, err), 0);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.v[0].lo, 443);
        ck_assert_uint_eq(l.v[0].hi, 443);
        ck_assert_int_eq(parse_port_list("80, 8000-8080 ,65535", &l, err), 0);
        ck_assert_uint_eq(l.n, 3);
        ck_assert_uint_eq(l.v[1].lo, 8000);
        ck_assert_uint_eq(l.v[1].hi, 8080);
        ck_assert(port_list_contains(&l, 8042));
        ck_assert(!port_list_contains(&l, 8081));
        char *s = format_port_list(&l);
        ck_assert_str_eq(s, "80, 8000-8080, 65535");
        free(s);
        ck_assert_int_eq(parse_port_list("0", &l, err), -EINVAL);
        ck_assert_str_eq(err, "invalid port '0'; use numbers from 1 to 65535 or ranges like 8000-8080, separated by commas");
        ck_assert_uint_eq(l.n, 3); /* untouched */
        ck_assert_int_eq(parse_port_list("65536", &l, err), -EINVAL);
        ck_assert_int_eq(parse_port_list("90-80", &l, err), -EINVAL);
        ck_assert_str_eq(err, "port range '90-80' is backwards; write the smaller number first");
        ck_assert_int_eq(parse_port_list("80,,81", &l, err), -EINVAL);
        ck_assert_str_eq(err, "empty item in the list '80,,81'; separate items with single commas");
        ck_assert_int_eq(parse_port_list("80-", &l, err), -EINVAL);
        ck_assert_int_eq(parse_port_list("http", &l, err), -EINVAL);
        port_list_free(&l);
        ck_assert_int_eq(parse_status_list("200-299, 404", &l, err), 0);
        ck_assert_int_eq(parse_status_list("99", &l, err), -EINVAL);
        ck_assert_str_eq(err, "invalid HTTP status '99'; use numbers from 100 to 599 or ranges like 200-299, separated by commas");
        port_list_free(&l);
}
END_TEST

START_TEST(test_cidr) {
        struct cidr_list l = {0};
        ck_assert_int_eq(parse_cidr_list("10.1.2.0/24, fd00::/8, 192.168.1.7, ::1", &l, err), 0);
        ck_assert_uint_eq(l.n, 4);
        ck_assert_uint_eq(l.v[0].family, AF_INET);
        ck_assert_uint_eq(l.v[0].prefix, 24);
        ck_assert_uint_eq(l.v[1].family, AF_INET6);
        ck_assert_uint_eq(l.v[1].prefix, 8);
        ck_assert_uint_eq(l.v[2].prefix, 32);
        ck_assert_uint_eq(l.v[3].prefix, 128);
        char *s = format_cidr_list(&l);
        ck_assert_str_eq(s, "10.1.2.0/24, fd00::/8, 192.168.1.7/32, ::1/128");
        free(s);
        ck_assert_int_eq(parse_cidr_list("10.1.2.3/24", &l, err), -EINVAL);
        ck_assert_str_eq(err, "'10.1.2.3/24' has bits set after the /24 prefix; did you mean 10.1.2.0/24?");
        ck_assert_int_eq(parse_cidr_list("fd00::1/64", &l, err), -EINVAL);
        ck_assert_str_eq(err, "'fd00::1/64' has bits set after the /64 prefix; did you mean fd00::/64?");
        ck_assert_int_eq(parse_cidr_list("10.1.2.0/33", &l, err), -EINVAL);
        ck_assert_str_eq(err, "invalid prefix length in '10.1.2.0/33'; use /0 to /32");
        ck_assert_int_eq(parse_cidr_list("10.1.2/24", &l, err), -EINVAL);
        ck_assert_str_eq(err, "invalid address '10.1.2/24'; use an IPv4 or IPv6 CIDR such as 10.1.2.0/24 or fd00::/64");
        ck_assert_int_eq(parse_cidr_list("10.0.0.0/+8", &l, err), -EINVAL);
        ck_assert_int_eq(parse_cidr_list("10.0.0.0/", &l, err), -EINVAL);
        ck_assert_int_eq(parse_cidr_list("example.com", &l, err), -EINVAL);
        ck_assert_uint_eq(l.n, 4);
        cidr_list_free(&l);
}
END_TEST

START_TEST(test_signal_errno_syscall) {
        int v = 0;
        ck_assert_int_eq(parse_signal("SIGKILL", &v, err), 0);
        ck_assert_int_eq(v, SIGKILL);
        ck_assert_int_eq(parse_signal("term", &v, err), 0);
        ck_assert_int_eq(v, SIGTERM);
        ck_assert_int_eq(parse_signal("SIGSTOP", &v, err), -EINVAL);
        ck_assert_str_eq(err, "SIGSTOP stops or resumes processes and would leave them stopped; use type = pause, which resumes them at the window's end");
        ck_assert_int_eq(parse_signal("9", &v, err), -EINVAL);
        ck_assert_str_eq(err, "unknown signal '9'; use a name such as SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGUSR1 or SIGUSR2");
        ck_assert_str_eq(signal_to_name(SIGUSR1), "USR1");

        ck_assert_int_eq(parse_errno("EIO", &v, err), 0);
        ck_assert_int_eq(v, EIO);
        ck_assert_int_eq(parse_errno("ENOSPC", &v, err), 0);
        ck_assert_int_eq(v, ENOSPC);
        ck_assert_int_eq(parse_errno("EBOGUS", &v, err), -EINVAL);
        ck_assert_str_eq(err, "unknown errno 'EBOGUS'; use a name such as EIO, ENOSPC, EACCES, EPERM, ECONNREFUSED, ETIMEDOUT, EAGAIN or EINTR");
        ck_assert_str_eq(errno_to_name(ECONNREFUSED), "ECONNREFUSED");

        struct syscall_list l = {0};
        ck_assert_int_eq(parse_syscall_list("write, fsync,openat", &l, err), 0);
        ck_assert_uint_eq(l.n, 3);
        ck_assert_int_eq(l.nr[0], SYS_write);
        ck_assert_int_eq(l.nr[1], SYS_fsync);
        ck_assert_int_eq(l.nr[2], SYS_openat);
        ck_assert_str_eq(l.name[2], "openat");
        ck_assert_int_eq(parse_syscall_list("wrte", &l, err), -EINVAL);
        ck_assert_str_eq(err, "'wrte' is not a system call on this architecture; use names from syscalls(2) such as write, openat, connect");
        /* socketcall exists on i386, not on x86-64. */
        ck_assert_int_eq(parse_syscall_list("socketcall", &l, err), -EINVAL);
        ck_assert_int_eq(parse_syscall_list("write, write", &l, err), -EINVAL);
        ck_assert_str_eq(err, "system call 'write' is listed twice");
        ck_assert_int_eq(parse_syscall_list("Write", &l, err), -EINVAL);
        ck_assert_str_eq(err, "invalid system call name 'Write'; use lower-case names such as write, openat, connect");
        ck_assert_uint_eq(l.n, 3);
        syscall_list_free(&l);
}
END_TEST

START_TEST(test_names) {
        char *s = NULL;
        ck_assert_int_eq(parse_ifname("eth0", &s, err), 0);
        ck_assert_str_eq(s, "eth0");
        ck_assert_int_eq(parse_ifname("veth-sabot-long", &s, err), 0); /* 15 characters */
        ck_assert_int_eq(parse_ifname("veth-sabot-long1", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid interface name 'veth-sabot-long1'; use 1 to 15 characters without '/', ':' or spaces (e.g. eth0)");
        ck_assert_int_eq(parse_ifname("eth0:1", &s, err), -EINVAL);
        ck_assert_int_eq(parse_ifname("..", &s, err), -EINVAL);
        ck_assert_int_eq(parse_ifname("a/b", &s, err), -EINVAL);

        ck_assert_int_eq(parse_unit_name("checkout.service", &s, err), 0);
        ck_assert_int_eq(parse_unit_name("worker@3.service", &s, err), 0);
        ck_assert_int_eq(parse_unit_name("user-1000.slice", &s, err), 0);
        ck_assert_int_eq(parse_unit_name("checkout", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid unit name 'checkout'; use a full systemd unit name such as checkout.service, with at most 255 characters");
        ck_assert_int_eq(parse_unit_name("backup.timer", &s, err), -EINVAL);
        ck_assert_str_eq(err, "unit 'backup.timer' has no processes to target; use a .service, .scope, .slice, .socket, .mount or .swap unit");
        ck_assert_int_eq(parse_unit_name("worker@.service", &s, err), -EINVAL);
        ck_assert_str_eq(err, "'worker@.service' is a unit template or malformed instance; name an instance such as worker@1.service");
        ck_assert_int_eq(parse_unit_name("a b.service", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid character ' ' in unit name 'a b.service'; allowed are letters, digits and : - _ . \\ @");

        ck_assert_int_eq(parse_comm("nginx", &s, err), 0);
        ck_assert_int_eq(parse_comm("0123456789abcdef", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid process name '0123456789abcdef'; use 1 to 15 characters without '/', as in /proc/PID/comm (the kernel truncates names to 15)");

        ck_assert_int_eq(parse_abs_path("/run/x.pid", &s, err), 0);
        ck_assert_int_eq(parse_abs_path("run/x.pid", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid path 'run/x.pid'; use an absolute path without '..' components (e.g. /run/app.pid)");
        ck_assert_int_eq(parse_abs_path("/run/../etc/shadow", &s, err), -EINVAL);
        ck_assert_int_eq(parse_abs_path("/run/..x", &s, err), 0); /* a name, not a component */

        ck_assert_int_eq(parse_cgroup_path("/system.slice/x.service", &s, err), 0);
        ck_assert_str_eq(s, "system.slice/x.service");
        ck_assert_int_eq(parse_cgroup_path("system.slice/../x", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid cgroup path 'system.slice/../x'; use a path below the cgroup2 mount such as system.slice/checkout.service");
        ck_assert_int_eq(parse_cgroup_path("/", &s, err), -EINVAL);
        ck_assert_int_eq(parse_cgroup_path("a//b", &s, err), -EINVAL);

        ck_assert_int_eq(parse_command("/usr/bin/app --port 8080", &s, err), 0);
        ck_assert_int_eq(parse_command("app --port 8080", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid command 'app --port 8080'; use an absolute program path and its arguments separated by spaces (no shell), e.g. /usr/bin/app --port 8080");

        ck_assert_int_eq(parse_url("http://127.0.0.1:8080/healthz", &s, err), 0);
        ck_assert_int_eq(parse_url("https://x", &s, err), 0);
        ck_assert_int_eq(parse_url("http://", &s, err), -EINVAL);
        ck_assert_int_eq(parse_url("ftp://x", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid URL 'ftp://x'; use http://HOST[:PORT]/PATH or https://…");

        ck_assert_int_eq(parse_user_name("sabot_probe", &s, err), 0);
        ck_assert_str_eq(s, "sabot_probe");
        free(s), s = NULL;
        ck_assert_int_eq(parse_user_name("nobody", &s, err), 0);
        free(s), s = NULL;
        ck_assert_int_eq(parse_user_name("host$", &s, err), 0);
        free(s), s = NULL;
        ck_assert_int_eq(parse_user_name("_apt", &s, err), -EINVAL);
        ck_assert_int_eq(parse_user_name("Root", &s, err), -EINVAL);
        ck_assert_int_eq(parse_user_name("a$b", &s, err), -EINVAL);
        ck_assert_int_eq(parse_user_name("a b", &s, err), -EINVAL);
        ck_assert_int_eq(parse_user_name("", &s, err), -EINVAL);
        ck_assert_int_eq(parse_user_name("abcdefghijklmnopqrstuvwxyz0123456", &s, err), -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(parse_name("checkout-gameday", &s, err), 0);
        ck_assert_int_eq(parse_name("Checkout", &s, err), -EINVAL);
        ck_assert_str_eq(err, "invalid name 'Checkout'; use 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'");
        ck_assert_int_eq(parse_name("-x", &s, err), -EINVAL);
        ck_assert_int_eq(parse_text("tab\there", &s, err), -EINVAL);
        free(s);

        struct strv v = {0};
        ck_assert_int_eq(parse_unit_list("a.service, b.service", &v, err), 0);
        ck_assert_uint_eq(v.n, 2);
        ck_assert(strv_contains(&v, "b.service"));
        ck_assert_int_eq(parse_unit_list("a.service, b", &v, err), -EINVAL);
        ck_assert_uint_eq(v.n, 2);
        strv_free(&v);
}
END_TEST

int main(void) {
        Suite *s = suite_create("parse");
        TCase *tc = tcase_create("parsers");
        tcase_add_test(tc, test_duration);
        tcase_add_test(tc, test_ratio);
        tcase_add_test(tc, test_numbers);
        tcase_add_test(tc, test_ports);
        tcase_add_test(tc, test_cidr);
        tcase_add_test(tc, test_signal_errno_syscall);
        tcase_add_test(tc, test_names);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
