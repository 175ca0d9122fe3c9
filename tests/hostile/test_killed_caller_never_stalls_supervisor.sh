#!/bin/sh
# A caller killed in the middle of a notified call never stalls the
# supervisor: a launched target (tests/helpers/killed) forks 4 processes
# that write(2) without pause under a syscall-error fault and SIGKILLs them
# after 0-2 ms, 100 rounds; some die with a notification queued and not yet
# received (the runner's RECV then finds nothing), some while it is being
# decided. After each round, with none of its own calls in flight, it
# watches a second launched target (tests/helpers/caller, on its own
# listener) and counts a round stalled where that one's calls stop for 2 s:
# a runner asleep in a receive that found nothing would serve neither.
# Then a last child makes 10000 writes: each must be answered, and the
# fault must hit them at its rate, 30% within 4 sigma.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
killed=$BUILD/tests/helpers/killed
caller=$BUILD/tests/helpers/caller
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
ROUNDS=${ROUNDS:-100}
runner=""
targets() { pgrep -f "^($killed [0-9]* [0-9]* [0-9]*|$caller) $T_TMP/" 2>/dev/null; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $(targets); do kill -9 "$p" 2>/dev/null; done
	wait_for 5000 no_journals
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
for h in "$killed" "$caller"; do [ -x "$h" ] || { fail "no $h (make $h)"; t_done; }; done
cat > k.ini <<INI
[scenario]
name = killed-$$
duration = 120s
[target k]
exec = $killed $ROUNDS 4 10000 $T_TMP/report $T_TMP/cnt
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
if wait_for 90000 reported; then
	pass "after $ROUNDS rounds of 4 callers SIGKILLed mid-call, the last caller's 10000 writes were all answered"
else
	fail "the supervisor stalled: no report 90 s after the start ($(cat report 2>/dev/null); $(tail -3 run.out))"
fi
r=$(cat report 2>/dev/null)
field() { printf '%s\n' "$r" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
echo "    $r"
[ "$(field killed)" = $((ROUNDS * 4)) ] && pass "all $((ROUNDS * 4)) callers died of SIGKILL" ||
	fail "callers killed: $(field killed), want $((ROUNDS * 4))"
[ "$(field stalled)" = 0 ] && pass "and the other target was served after every round" ||
	fail "the other target's calls stopped for 2 s after $(field stalled) of $ROUNDS rounds"
eio=$(field eio)
# sd = sqrt(10000 * 0.3 * 0.7) = 45.8; 4 sd = 183
if [ -n "$eio" ] && [ "$eio" -ge 2817 ] && [ "$eio" -le 3183 ]; then
	pass "30% of 10000 writes: $eio got EIO (within 4 sigma of 3000)"
else
	fail "30% of 10000 writes: ${eio:-?} got EIO, want 2817..3183"
fi
[ "$(field other)" = 0 ] && [ $(($(field ok) + eio)) = 10000 ] && pass "and every other write succeeded" ||
	fail "ok=$(field ok) other=$(field other)"
kill -TERM $runner 2>/dev/null
wait_for 10000 eval "! kill -0 $runner 2>/dev/null" && pass "the runner ends on SIGTERM" || fail "the runner did not end"
wait $runner 2>/dev/null
runner=""
wait_for 5000 no_journals && pass "no journal left" || fail "a journal is left"
[ -z "$(targets)" ] && pass "the target is gone" || fail "the target outlived the run"
t_done
