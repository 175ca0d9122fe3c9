#!/bin/sh
# Promise: the kill switch reverts every fault before it writes anything
# about it, and a kill switch killed in between loses nothing. `sabot
# abort` undoes every entry first and records the reverts afterwards in
# one write (no journal ever holds some of its records but not the rest);
# SIGKILLed between its reverts and its records, the journal still reads
# (the entries count as applied) and `sabot recover` reverts them again
# (idempotent), records them, and leaves nothing applied and no journal.
#
# How the abort is caught in between, for real: the target of the fault
# reverted last is a process that, the moment
# sabot's SIGCONT resumes it, sends SIGSTOP to the abort from its signal
# handler (tests/helpers/onresume); in the other trials the one reverted
# half-way, where a kill switch recording as it goes has written half its
# records. The abort runs at nice 19 and the
# trigger at SCHED_RR 2 on the same CPU, so the woken trigger preempts the
# abort right after that revert. The run is dead (runner and guardian
# SIGKILLed with their faults applied), as after a crash, so that recover
# owns its journal. TRIALS trials (default 20), half of each kind.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
N=10
TRIALS=${TRIALS:-20}
ONRESUME=${BUILD:?set BUILD}/tests/helpers/onresume
[ -x "$ONRESUME" ] || { fail "no $ONRESUME (make $ONRESUME)"; t_done; }
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""
abortp=""
runner=""
cleanup() {
	[ -n "$abortp" ] && kill -9 "$abortp" 2>/dev/null
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $W; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
# Fault p0 is reverted last (newest first), p5 half-way: their targets
# are the triggers, armed by writing a pid to last.pid or middle.pid.
cp "$(command -v sleep)" "sabot-kb$id"
for i in $(seq 0 $((N - 1))); do
	if [ "$i" = 0 ]; then
		chrt -r 2 taskset -c "$cpu" "$ONRESUME" "$T_TMP/last.pid" &
	elif [ "$i" = $((N / 2)) ]; then
		chrt -r 2 taskset -c "$cpu" "$ONRESUME" "$T_TMP/middle.pid" &
	else
		"./sabot-kb$id" 600 &
	fi
	W="$W $!"
done
{
	printf '[scenario]\nname = kb\nduration = 2m\n'
	i=0
	for p in $W; do
		printf '[target t%d]\npid = %d\n[fault p%d]\ntype = pause\ntarget = t%d\n' $i "$p" $i $i
		i=$((i + 1))
	done
} > kb.ini
stopped_n() { n=0; for p in $W; do [ "$(pstate "$p")" = T ] && n=$((n + 1)); done; echo $n; }
all_stopped() { [ "$(stopped_n)" = $N ]; }
records() { # revert records written whole in the journal
	cat run/runs/*.journal 2>/dev/null | grep -c '^revert seq=[0-9]* \.$'
}
abort_stopped() { [ "$(pstate "$abortp")" = T ] || ! kill -0 "$abortp" 2>/dev/null; }

partial=0 window=0 finished=0 bad_status=0 bad_recover=0 left=0 journals=0
for t in $(seq "$TRIALS"); do
	which=last
	[ $((t % 2)) = 0 ] && which=middle
	$S arm >/dev/null 2>&1
	$S run --yes kb.ini </dev/null > "run$t.out" 2>&1 &
	runner=$!
	wait_for 5000 all_stopped || { fail "trial $t: the run did not pause all $N targets: $(tail -3 "run$t.out")"; break; }
	# A dead run: its guardian and its runner gone, every fault applied.
	kill -STOP "$runner"
	g=$(sed -n 's/^guardian pid=\([0-9]*\) .*/\1/p' run/runs/*.journal | head -1)
	[ -n "$g" ] && kill -9 "$g"
	kill -9 "$runner"
	wait "$runner" 2>/dev/null
	runner=""
	wait_for 2000 sh -c "! kill -0 $g 2>/dev/null" || fail "trial $t: the guardian did not die"
	sh -c "echo \$\$ > '$T_TMP/$which.pid'; exec nice -n 19 taskset -c $cpu $S abort" > "abort$t.out" 2>&1 &
	abortp=$!
	wait_for 5000 abort_stopped || fail "trial $t: the abort neither stopped nor ended"
	nrec=$(records)
	resumed=$((N - $(stopped_n)))
	[ -n "${T_VERBOSE:-}" ] && echo "  trial $t ($which): abort $(pstate "$abortp"), $nrec records, $resumed resumed"
	if ! kill -0 "$abortp" 2>/dev/null || grep -q 'reverted [0-9]* change' "abort$t.out"; then
		finished=$((finished + 1)) # the trigger came too late: the abort was done
	elif [ "$nrec" = 0 ] && [ "$resumed" -gt 0 ]; then
		window=$((window + 1)) # caught between its reverts and its records
	fi
	if [ "$nrec" != 0 ] && [ "$nrec" != $N ]; then
		partial=$((partial + 1))
		echo "  trial $t ($which reverted triggers): $nrec of $N revert records written while $resumed targets ran"
	fi
	kill -9 "$abortp" 2>/dev/null
	wait "$abortp" 2>/dev/null
	abortp=""
	rm -f last.pid middle.pid
	# The journal reads, and holds what was not recorded as applied.
	if [ -n "$(ls run/runs/*.journal 2>/dev/null)" ]; then
		active=$($S status --json 2>/dev/null | grep -o '"kind": *"stop"' | wc -l)
		[ "$active" = $((N - nrec)) ] || {
			bad_status=$((bad_status + 1))
			echo "  trial $t: status lists $active active entries, the journal has $nrec of $N reverts recorded"
		}
	fi
	$S recover > "recover$t.out" 2>&1 || {
		bad_recover=$((bad_recover + 1))
		echo "  trial $t: recover failed: $(tail -2 "recover$t.out")"
	}
	wait_for 2000 sh -c "[ \"\$(for p in $W; do sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' /proc/\$p/stat; done | grep -c T)\" = 0 ]" || {
		left=$((left + 1))
		echo "  trial $t: $(stopped_n) targets left stopped after recover"
	}
	no_journals || {
		journals=$((journals + 1))
		echo "  trial $t: a journal is left after recover: $(ls run/runs)"
	}
done
echo "  $TRIALS trials: $window caught between reverting and recording, $finished finished first, $partial partial"
[ $partial = 0 ] && pass "no journal ever held some of the abort's revert records but not the rest (one batch, after every revert)" ||
	fail "$partial of $TRIALS trials found the abort's revert records written piecemeal, between its reverts"
[ $window -gt 0 ] && pass "the abort was SIGKILLed between its reverts and its records in $window trials" ||
	fail "no trial caught the abort between its reverts and its records"
[ $bad_status = 0 ] && pass "after the SIGKILL the journal reads, unrecorded reverts listed as applied" ||
	fail "$bad_status trials: status disagreed with the journal"
[ $bad_recover = 0 ] && pass "recover succeeded every time" || fail "recover failed in $bad_recover trials"
[ $left = 0 ] && pass "recover left nothing applied" || fail "$left trials left targets stopped"
[ $journals = 0 ] && pass "recover removed every journal (everything recorded as reverted)" ||
	fail "$journals trials left a journal"
t_done
