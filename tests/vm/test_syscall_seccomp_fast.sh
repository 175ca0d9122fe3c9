#!/bin/sh
# VM tier: the seccomp backend's lean path on each distribution kernel.
# doctor reports what the probe found (a receive after a caller died never
# sleeps on these kernels; SYNC_WAKE_UP from Linux 6.6, which Debian 12's
# 6.1 lacks and must fall back from silently); then faults hit at their
# rate, and callers SIGKILLed mid-notification, 100 rounds with the runner
# stopped at that moment, never stall the supervisor (the hostile tier's
# test_killed_caller_never_stalls_supervisor.sh, on the host's kernel).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
killed=${BUILD:-/sabot/build}/tests/helpers/killed
caller=${BUILD:-/sabot/build}/tests/helpers/caller
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=""
targets() { pgrep -f "^($killed [0-9]* [0-9]* [0-9]*|$caller) $T_TMP/" 2>/dev/null; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $(targets); do kill -9 "$p" 2>/dev/null; done
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
for h in "$killed" "$caller"; do [ -x "$h" ] || { fail "no $h"; t_done; }; done

kver=$(uname -r)
major=${kver%%.*}
minor=${kver#*.}
minor=${minor%%[!0-9]*}
line=$("$SABOT" doctor 2>/dev/null | grep 'seccomp notify: RECV+SEND only')
echo "    $kver: $line"
if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 6 ]; }; then
	printf '%s\n' "$line" | grep -Eq 'RECV\+SEND only +ok$' && pass "Linux $kver: RECV and SEND only, SYNC_WAKE_UP set" ||
		fail "Linux $kver: $line"
else
	printf '%s\n' "$line" | grep -q 'no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP' &&
		pass "Linux $kver: no SYNC_WAKE_UP, and doctor says so" || fail "Linux $kver: $line"
fi
printf '%s\n' "$line" | grep -q 'may block' && echo "    (the probe found a receive that sleeps: the timer guard is kept)"

cat > k.ini <<INI
[scenario]
name = killed-$$
duration = 120s
[target k]
exec = $killed 100 4 10000 $T_TMP/report $T_TMP/cnt
[target c]
exec = $caller $T_TMP/cnt
[fault e]
type = syscall-error
target = k
syscalls = write
errno = EIO
probability = 30%
[fault c]
type = syscall-error
target = c
syscalls = write
errno = EIO
probability = 1%
INI
$S run k.ini > run.out 2>&1 &
runner=$!
reported() { [ -s report ]; }
wait_for 120000 reported && pass "100 rounds of callers SIGKILLed mid-call: the last caller's writes were answered" ||
	fail "the supervisor stalled: no report ($(tail -3 run.out))"
r=$(cat report 2>/dev/null)
echo "    $r"
field() { printf '%s\n' "$r" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
[ "$(field stalled)" = 0 ] && pass "and the other target was served after every round" ||
	fail "the other target stalled after $(field stalled) rounds"
eio=$(field eio)
# sd = sqrt(10000 * 0.3 * 0.7) = 45.8; 4 sd = 183
[ -n "$eio" ] && [ "$eio" -ge 2817 ] && [ "$eio" -le 3183 ] && [ "$(field other)" = 0 ] &&
	pass "30% of 10000 writes: $eio got EIO (within 4 sigma of 3000)" || fail "eio=${eio:-?} other=$(field other)"
kill -TERM $runner 2>/dev/null
wait_for 10000 eval "! kill -0 $runner 2>/dev/null" && pass "the runner ends on SIGTERM" || fail "the runner did not end"
wait $runner 2>/dev/null
runner=""
[ -z "$(targets)" ] && pass "the targets are gone" || fail "a target outlived the run"
t_done
