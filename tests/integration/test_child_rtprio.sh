#!/bin/sh
# sabot-run@.service gives sabot LimitRTPRIO=1, for its own reverts at
# SCHED_RR 1 (urgent_begin). That is sabot's, not its children's: a target
# it launches, an exec probe and stress-ng start with RLIMIT_RTPRIO 0 (the
# kernel's and systemd's default; a child cannot tell what sabot had
# before the unit raised it), soft and hard. sabot runs here under
# `prlimit --rtprio=1:1`, as its unit would start it, and each child's
# /proc/PID/limits is read while it runs.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
command -v prlimit >/dev/null || { skip "no prlimit (util-linux) to raise RLIMIT_RTPRIO"; t_done; }
prlimit --rtprio=1:1 true 2>/dev/null ||
	{ skip "cannot raise RLIMIT_RTPRIO: that needs CAP_SYS_RESOURCE, which root lacks here (the systemd guest runs this test too)"; t_done; }
: > policy.ini
chmod 644 policy.ini
rtprio() { sed -n 's/^Max realtime priority *\([0-9a-z]*\) *\([0-9a-z]*\).*/\1 \2/p' "/proc/$1/limits" 2>/dev/null; }
# A probe that lasts, so that it can be seen: the runner's child
# /bin/sleep 0.7; the launched target: /bin/sleep 29.$id.
cat > rt.ini <<INI
[scenario]
name = rt-$id
duration = 6s
[target t]
exec = /bin/sleep 29.$id
[fault p]
type = pause
target = t
start = 5s
[slo s]
probe = exec
command = /bin/sleep 0.7
interval = 1s
timeout = 900ms
max_error_rate = 100%
INI
if command -v stress-ng >/dev/null && grep -q ' - cgroup2 ' /proc/self/mountinfo; then
	stress=yes
	printf '[fault st]\ntype = stress\ncpu = 1\nstart = 1s\nduration = 4s\n' >> rt.ini
else
	stress=""
	skip "stress-ng is not installed or cgroup2 is not mounted: its worker is not checked"
fi
prlimit --rtprio=1:1 $S run --yes rt.ini > rt.out 2>&1 &
runner=$!
# prlimit execs sabot: the same pid.
up() { [ "$(rtprio $runner)" = "1 1" ] || ! kill -0 $runner 2>/dev/null; }
wait_for 5000 up
[ "$(rtprio $runner)" = "1 1" ] && pass "sabot runs with RLIMIT_RTPRIO 1 (soft and hard), as its unit gives it" ||
	fail "sabot's RLIMIT_RTPRIO is '$(rtprio $runner)', want '1 1'"
target() { tp=$(pgrep -P $runner -fx "/bin/sleep 29.$id"); [ -n "$tp" ]; }
probe() { pp=$(pgrep -P $runner -fx "/bin/sleep 0.7"); [ -n "$pp" ]; }
worker() { sp=$(pgrep -P $runner -x stress-ng | head -n 1); [ -n "$sp" ]; }
if wait_for 8000 target; then
	v=$(rtprio "$tp")
	[ "$v" = "0 0" ] && pass "the launched target (pid $tp) has RLIMIT_RTPRIO 0" || fail "the launched target has RLIMIT_RTPRIO '$v'"
else
	fail "no launched target seen: $(cat rt.out)"
fi
if wait_for 8000 probe; then
	v=$(rtprio "$pp")
	[ "$v" = "0 0" ] && pass "the exec probe (pid $pp) has RLIMIT_RTPRIO 0" || fail "the exec probe has RLIMIT_RTPRIO '$v'"
else
	fail "no exec probe seen: $(cat rt.out)"
fi
if [ -n "$stress" ]; then
	if wait_for 8000 worker; then
		v=$(rtprio "$sp")
		[ "$v" = "0 0" ] && pass "stress-ng (pid $sp) has RLIMIT_RTPRIO 0" || fail "stress-ng has RLIMIT_RTPRIO '$v'"
	else
		fail "no stress-ng seen below the runner: $(cat rt.out)"
	fi
fi
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "the run exits 0" || fail "run exit $rc: $(cat rt.out)"
no_journals && pass "no journal left" || fail "journal left"
t_done
