#!/bin/sh
# A breach is judged when the sample that shows it comes in, in the event
# that brings it, not on a later tick: the report's breach.at_ms is the
# breaching sample's own time. On the old 20 ms tick it came 0-20 ms
# later (a sample landing within 0.5 ms of the next tick: about 1 in 40).
# TRIALS runs (default 10), each a pause fault on a sleeping target and an
# exec SLO that fails once the test creates a flag file; counted, not timed.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
J=$(cd "$(dirname "$0")/../helpers" && pwd)/json_check.py
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
N=${TRIALS:-10}
id=$$
tgt=""
cleanup() {
	[ -n "$tgt" ] && kill -9 $tgt 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
chmod 755 "$T_TMP"
cp "$(command -v sleep)" "sabot-itja$id"
"./sabot-itja$id" 600 &
tgt=$!
cat > b.ini <<INI
[scenario]
name = sabot-judged-$id
duration = 1m
steady_state = 300ms
[target t]
pid = $tgt
[fault p]
type = pause
target = t
[slo flag]
probe = exec
command = /usr/bin/test ! -e $T_TMP/flag
interval = 100ms
timeout = 100ms
min_samples = 1
max_error_rate = 0%
INI
stopped() { [ "$(cut -d' ' -f3 /proc/$tgt/stat)" = T ]; }
at_sample=0 breached=0
for t in $(seq "$N"); do
	rm -f flag r.json
	$S run --yes --report "$T_TMP/r.json" b.ini </dev/null >run.out 2>&1 &
	runner=$!
	# Until the fault holds (or the run is over: on a loaded host a probe
	# may time out and breach before the flag).
	i=0
	until stopped || ! kill -0 $runner 2>/dev/null || [ $i -gt 1000 ]; do sleep 0.01; i=$((i + 1)); done
	touch flag
	wait $runner
	rc=$?
	[ $rc = 3 ] || { fail "trial $t: exit $rc, want 3: $(cat run.out)"; continue; }
	breached=$((breached + 1))
	# The gap from the first failed sample of the faults phase to the breach.
	gap=$($J get r.json '(lambda s: round(d["breach"]["at_ms"] - [x[0] for x in s if x[1] == 0 and x[0] >= 0][0], 3))(d["slos"][0]["samples"])')
	echo "  trial $t: breach $gap ms after its sample"
	[ "$gap" = "0" ] || [ "$gap" = "0.0" ] && at_sample=$((at_sample + 1))
done
[ $breached = "$N" ] && pass "every trial breached ($N)" || fail "$breached of $N trials breached"
[ $at_sample -ge $((N * 9 / 10)) ] && pass "the breach was judged at its sample in $at_sample of $N trials" ||
	fail "the breach was judged at its sample in only $at_sample of $N trials"
stopped && fail "the target is still paused" || pass "the target runs again"
t_done
