#!/bin/sh
# The guardian's hard deadline covers the whole run: the steady-state
# phase, the faults' duration, the cooldown and the time the launched
# targets get to stop. An SLO breached during the faults stays unhealthy
# through a cooldown longer than the guardian's grace (its window holds the
# failures): the run must still end by itself, exit 3 with its report,
# instead of being SIGKILLed by its own guardian (137, no report).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-hdc$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=""
mine() { pgrep -f "$T_TMP/sabot-hdc" 2>/dev/null; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $(mine); do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
id -u nobody >/dev/null 2>&1 || { skip "no user nobody for the exec probe"; t_done; }
cp "$(command -v sleep)" "$T_TMP/$worker"
"$T_TMP/$worker" 600 &
w=$!
printf "trap '' TERM\nwhile :; do sleep 0.1; done\n" > sabot-hdc-stubborn.sh

scenario() { # NAME COOLDOWN STEADY TARGET(pid|exec)
	{
		printf '[scenario]\nname = hdc-%s-%s\nduration = 2s\ncooldown = %s\nsteady_state = %s\n' "$1" $id "$2" "$3"
		if [ "$4" = exec ]; then
			printf '[target t]\nexec = /bin/sh %s/sabot-hdc-stubborn.sh\n' "$T_TMP"
		else
			printf '[target t]\npid = %s\n' $w
		fi
		printf '[fault p]\ntype = pause\ntarget = t\n'
		printf '[slo flag]\nprobe = exec\ncommand = /usr/bin/test ! -e %s/flag\ninterval = 200ms\ntimeout = 150ms\n' "$T_TMP"
		printf 'window = 20s\nmax_error_rate = 10%%\n'
	} > "$1.ini"
}
paused() { grep -q 'p: stopped 1 of 1' "$1.out" 2>/dev/null; }
run_one() { # NAME DESC COOLDOWN_S
	rm -f flag
	$S run --report "$T_TMP/$1.json" "$1.ini" > "$1.out" 2>&1 &
	runner=$!
	wait_for 8000 paused "$1" || fail "$2: the fault was not applied: $(cat "$1.out")"
	touch flag
	t0=$(date +%s)
	wait $runner
	rc=$?
	runner=""
	s=$(($(date +%s) - t0))
	[ $rc = 3 ] && pass "$2: the breach ends the run by itself, exit 3 after $s s" ||
		fail "$2: exit $rc after $s s, want 3: $(tail -n 4 "$1.out")"
	[ -s "$1.json" ] && pass "$2: the report is written" || fail "$2: no report"
	[ $s -ge "$3" ] && pass "$2: the whole cooldown ran" || fail "$2: the run ended after $s s, before its cooldown"
	grep -q 'not healthy again within the cooldown' "$1.out" && pass "$2: the SLO stayed unhealthy through it" ||
		fail "$2: the SLO recovered: the cooldown was not tested: $(tail -n 4 "$1.out")"
	no_journals && pass "$2: no journal left" || fail "$2: journal left"
	none_in_state T $w && pass "$2: nothing left stopped" || fail "$2: the worker is still stopped"
}
scenario cool 8s 1s pid
run_one cool "cooldown = 8s (longer than the guardian's 3 s grace)" 8
scenario steady 6s 4s pid
run_one steady "steady_state = 4s, cooldown = 6s" 6
scenario stubborn 4s 1s exec
run_one stubborn "cooldown = 4s and a launched target that ignores SIGTERM (2 s to stop)" 6
[ -z "$(pgrep -f "$T_TMP/sabot-hdc-stubborn")" ] && pass "the stubborn target is gone" || fail "the stubborn target outlived the run"
t_done
