#!/bin/sh
# Promise: the disarm latch fails closed. A latch that is there but cannot
# be read (too big, a directory, a dangling symlink) keeps runs from
# starting and from going on; `status` reports it as an error, not as
# armed; `abort` exits non-zero when it could not set the latch, after
# reverting everything all the same.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-lf$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	mountpoint -q "$T_TMP/fullstate" && umount "$T_TMP/fullstate"
	for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"
"$T_TMP/$worker" 600 &
W=$!
named() { [ "$(cat /proc/$W/comm 2>/dev/null)" = "$worker" ]; }
wait_for 3000 named || fail "the worker did not start"
mkdir -p state
scenario() { # NAME DURATION START: pause the worker from START to the end
	printf '[scenario]\nname = %s\nduration = %s\n[target w]\ncomm = %s\n[fault p]\ntype = pause\ntarget = w\nstart = %s\n' \
		"$1" "$2" "$worker" "$3" > "$1.ini"
}
scenario quick 50ms 0s
scenario later 3s 1500ms
scenario hold 30s 0s
stopped() { [ "$(pstate $W)" = T ]; }

check_latch() { # DESC: the latch as it is now must refuse runs and fail status
	expect_exit 5 "$1: a run is refused" $S run quick.ini </dev/null
	expect_out "$1: saying the latch cannot be read" "disarm latch.*cannot be read|cannot read the disarm latch"
	stopped && fail "$1: the worker was paused" || pass "$1: nothing was touched"
	OUT=$($S status 2>&1)
	rc=$?
	[ $rc != 0 ] && pass "$1: status fails (exit $rc)" || fail "$1: status exit 0: $OUT"
	echo "$OUT" | grep -q '^armed' && fail "$1: status says armed: $OUT" || pass "$1: status does not say armed"
	OUT=$($S status --json 2>&1)
	echo "$OUT" | grep -q '"armed": true' && fail "$1: status --json says armed: $OUT" || pass "$1: status --json does not say armed"
}

head -c 5000 /dev/zero | tr '\0' x > state/disarmed
check_latch "a latch over 4 KiB"
rm -f state/disarmed
mkdir state/disarmed
check_latch "a latch that is a directory"
ln -s "$T_TMP/nowhere" state/disarmed2 && rmdir state/disarmed && mv state/disarmed2 state/disarmed
check_latch "a latch that is a dangling symlink"
rm -f state/disarmed

# abort cannot set a latch that is a directory: it reverts, then fails.
$S run hold.ini </dev/null > hold.out 2>&1 &
runner=$!
wait_for 3000 stopped && pass "a run holds the worker paused" || fail "no pause: $(cat hold.out)"
mkdir state/disarmed
OUT=$($S abort 2>&1)
rc=$?
[ $rc != 0 ] && pass "abort exits non-zero when it could not set the latch (exit $rc)" || fail "abort exit 0 without a latch: $OUT"
expect_out "saying so" "cannot set the disarm latch"
wait_for 2000 sh -c "[ \"\$(sed 's/.*) //' /proc/$W/stat | cut -c1)\" != T ]" && pass "and every fault was reverted all the same" ||
	fail "the worker is still paused after abort"
wait "$runner"
rc=$?
runner=""
[ $rc = 4 ] && pass "the run ended as aborted (exit 4)" || fail "run exit $rc: $(tail -3 hold.out)"
rmdir state/disarmed

# abort with a state dir that cannot be made at all.
touch notadir
OUT=$($SABOT --state-dir "$T_TMP/notadir/state" --run-dir "$T_TMP/run" abort 2>&1)
rc=$?
[ $rc != 0 ] && pass "abort exits non-zero when the state dir cannot be made (exit $rc)" || fail "abort exit 0: $OUT"

# A latch that becomes unreadable mid-run stops the run before its next fault.
$S run later.ini </dev/null > later.out 2>&1 &
runner=$!
has_journal() { [ -n "$(ls run/runs 2>/dev/null)" ]; }
wait_for 3000 has_journal || fail "the run did not start: $(cat later.out)"
sleep 0.3
mkdir state/disarmed
wait "$runner"
rc=$?
runner=""
grep -q 'p: stopped' later.out && fail "the fault was applied under an unreadable latch: $(cat later.out)" ||
	pass "no fault was applied after the latch became unreadable"
[ $rc = 4 ] && pass "the run ended as aborted (exit 4)" || fail "run exit $rc: $(tail -3 later.out)"
stopped && fail "the worker is left paused" || pass "the worker runs"
rmdir state/disarmed

# A full state dir: abort still sets the latch (an empty one needs no data
# block), and runs see it.
mkdir fullstate
if mount -t tmpfs -o size=16k,mode=0755 "sabot-lf$id" "$T_TMP/fullstate"; then
	dd if=/dev/zero of=fullstate/fill bs=1k 2>/dev/null
	F="$SABOT --state-dir $T_TMP/fullstate --run-dir $T_TMP/run"
	expect_exit 0 "abort on a full state dir" $F abort
	expect_exit 5 "a run is refused after it" $F run quick.ini </dev/null
	expect_out "as disarmed" "disarmed"
	stopped && fail "the worker was paused" || pass "nothing was touched"
	umount "$T_TMP/fullstate"
else
	skip "cannot mount a tmpfs here"
fi
expect_exit 0 "status is fine again once the latch is gone" $S status
expect_out "and says armed" '^armed'
t_done
