#!/bin/sh
# Nothing runs unguarded: with its guardian SIGKILLed, the runner notices at
# once, reverts what it applied, applies nothing more and exits 1 saying
# why; killed before the first fault's window, no fault is applied at all.
# Repeated, with the guardian killed at a random moment.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-hgf$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
TRIALS=${TRIALS:-5}
runner="" pids=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $pids; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"
"$T_TMP/$worker" 600 &
a=$!
"$T_TMP/$worker" 600 &
b=$!
pids="$a $b"
guardian_of() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' run/runs/*.journal 2>/dev/null | head -n 1; }
rand_ms() { echo $(($(od -An -N2 -tu2 /dev/urandom) % $1)); }

cat > two.ini <<INI
[scenario]
name = hgf-$id
duration = 8s
[target a]
pid = $a
[target b]
pid = $b
[fault first]
type = pause
target = a
[fault later]
type = pause
target = b
start = 2s
INI
i=0
while [ $i -lt "$TRIALS" ]; do
	$S run two.ini > two.out 2>&1 &
	runner=$!
	wait_for 3000 all_in_state T $a || fail "trial $i: the first fault was not applied: $(cat two.out)"
	sleep "0.$(printf %03d "$(rand_ms 1000)")"
	g=$(guardian_of)
	t0=$(date +%s%N)
	kill -9 "$g"
	wait $runner
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	runner=""
	[ $rc = 1 ] && pass "trial $i: the guardian SIGKILLed: the runner exits 1 ($ms ms later)" ||
		fail "trial $i: the guardian SIGKILLed: exit $rc after $ms ms, want 1: $(tail -n 5 two.out)"
	[ $ms -lt 1000 ] && pass "trial $i: at once (within 1 s)" || fail "trial $i: the runner noticed after $ms ms"
	grep -q 'guardian.*died\|guardian.*gone\|lost.*guardian' two.out && pass "trial $i: saying the guardian is gone" ||
		fail "trial $i: no reason naming the guardian: $(tail -n 5 two.out)"
	grep -q 'later: stopped' two.out && fail "trial $i: a fault was applied after the guardian died" ||
		pass "trial $i: no fault applied after the guardian died"
	none_in_state T $a $b && pass "trial $i: what was applied is reverted" || fail "trial $i: a process is still stopped"
	no_journals && pass "trial $i: no journal left" || fail "trial $i: journal left"
	kill -CONT $a $b 2>/dev/null
	i=$((i + 1))
done

# --- killed before the first window: no fault is ever applied ---
sed 's/^type = pause$/type = pause\nstart = 1500ms/; s/^start = 2s$//' two.ini > late.ini
$S run late.ini > late.out 2>&1 &
runner=$!
wait_for 3000 eval '[ -n "$(guardian_of)" ]'
sleep 0.3
kill -9 "$(guardian_of)"
wait $runner
rc=$?
runner=""
[ $rc = 1 ] && pass "the guardian SIGKILLed before any window: exit 1" || fail "before any window: exit $rc: $(tail -n 5 late.out)"
grep -q 'stopped' late.out && fail "a fault was applied without a guardian: $(grep stopped late.out)" ||
	pass "and no fault was applied"
none_in_state T $a $b && pass "no process is stopped" || fail "a process is stopped"
t_done
