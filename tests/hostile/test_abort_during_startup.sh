#!/bin/sh
# Promise: a run stopped during its start-up, by SIGTERM, SIGINT or the
# kill switch, exits 4 and leaves nothing applied. Over many trials (100 by
# default, SABOT_TRIALS to change) each run is signalled at a random point
# 0-300 ms into its start-up: while it loads, plans, creates its journal,
# forks its guardian, launches its target, starts its SLO probe, checks the
# steady state and applies its first faults (a blackhole in a namespace and
# a pause of the launched target).
#
# What counts: the delay runs from the moment the runner reads its policy
# (the policy file's atime changes), the first thing sabot does; a signal
# before that finds no sabot to honour it (the process is still being
# loaded) and is not what this test is about. Expected outcomes, exactly:
#   SIGTERM, SIGINT: exit 4, always.
#   sabot abort:     exit 4; or 5 if the latch was set before the run
#                    looked at it (it says "refused: chaos is disarmed" and
#                    never created a journal).
# The scenario lasts 60s, so no trial can complete (0) first. After every
# trial: no journal, no process started from this test's directory, no
# clsact or filter on the interface, and the abort itself exited 0.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
ns=sabot-ads$id
dev=sabot-ad$id
target=sabot-adt$id
trials=${SABOT_TRIALS:-100}
S="$SABOT --policy $T_TMP/policy.ini --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	for p in $(pgrep -f "$T_TMP/"); do kill -CONT "$p"; kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP" || exit 1
command -v perl >/dev/null || { skip "no perl for sub-millisecond timing"; t_done; }
ip netns add "$ns" && ip -n "$ns" link add "$dev" type veth peer name "sabot-ap$id" &&
	ip -n "$ns" link set "$dev" up || { skip "cannot create a network namespace with a veth pair"; t_done; }
cp "$(command -v sleep)" "$T_TMP/$target"
printf '[limits]\nmax_duration = 2m\n' > policy.ini
cat > s.ini <<EOF
[scenario]
name = startup
duration = 60s
steady_state = 150ms
[target t]
exec = $T_TMP/$target 600
[fault bh]
type = blackhole
interface = $dev
[fault p]
type = pause
target = t
[slo ok]
probe = exec
command = /bin/true
interval = 100ms
max_error_rate = 50%
min_samples = 1
EOF
$S validate s.ini >/dev/null 2>&1 || { fail "the scenario is invalid: $($S validate s.ini 2>&1)"; t_done; }

# signal_at PID MS: once PID has read policy.ini (its atime moves past
# 2001), wait MS milliseconds; print the time waited before that.
cat > at.pl <<'EOF'
use strict; use Time::HiRes qw(stat usleep time);
my ($pid, $ms) = @ARGV;
my $t0 = time; my $until = $t0 + 20;
while (time < $until) { my @s = stat("policy.ini"); last if $s[8] > 978307200; last unless kill 0, $pid; usleep(100); }
usleep($ms * 1000);
EOF

leftovers() {
	l=""
	[ -n "$(ls run/runs 2>/dev/null)" ] && l="$l journal $(ls run/runs | tr '\n' ' ')"
	p=$(pgrep -f "$T_TMP/" | tr '\n' ' ')
	[ -n "$p" ] && l="$l processes $p"
	q=$(ip netns exec "$ns" tc qdisc show dev "$dev" | grep -v 'noqueue\|noop')
	[ -n "$q" ] && l="$l qdisc $q"
	echo "$l"
}
nothing_left() { [ -z "$(leftovers)" ]; }

n=0 bad=0 term4=0 int4=0 abort4=0 abort5=0
: > outcomes
while [ $n -lt "$trials" ]; do
	n=$((n + 1))
	case $((n % 3)) in 0) how=TERM ;; 1) how=INT ;; 2) how=abort ;; esac
	delay=$(awk -v s="$n$id" 'BEGIN { srand(s); print int(rand() * 301) }')
	touch -a -d 2000-01-01 policy.ini
	ip netns exec "$ns" $S run s.ini > run.out 2>&1 &
	pid=$!
	perl at.pl "$pid" "$delay"
	if [ $how = abort ]; then
		$S abort --reason "trial $n" > abort.out 2>&1
		arc=$?
	else
		kill -s $how "$pid" 2>/dev/null
		arc=0
	fi
	wait "$pid"
	rc=$?
	ok=no
	case $how:$rc in
	TERM:4) ok=yes term4=$((term4 + 1)) ;;
	INT:4) ok=yes int4=$((int4 + 1)) ;;
	abort:4) ok=yes abort4=$((abort4 + 1)) ;;
	abort:5) grep -q 'refused: chaos is disarmed' run.out && ! grep -q 'started:' run.out &&
		ok=yes abort5=$((abort5 + 1)) ;;
	esac
	[ $arc = 0 ] || { ok=no; echo "abort exited $arc: $(cat abort.out)" >> run.out; }
	wait_for 3000 nothing_left || { ok=no; echo "left behind:$(leftovers)" >> run.out; }
	if ! grep -q 'started:' run.out; then stage=before-journal
	elif ! grep -q 'faults start now' run.out; then stage=start-up
	else stage=faults; fi
	echo "$n $how ${delay}ms exit $rc $ok $stage" >> outcomes
	if [ $ok = no ]; then
		bad=$((bad + 1))
		if [ $bad -le 5 ]; then
			fail "trial $n: $how ${delay}ms into start-up: exit $rc"
			sed 's/^/    | /' run.out | tail -n 12
		fi
		# Clean up for the next trial.
		for p in $(pgrep -f "$T_TMP/"); do kill -CONT "$p"; kill -9 "$p"; done 2>/dev/null
		ip netns exec "$ns" tc qdisc del dev "$dev" clsact 2>/dev/null
		$S recover >/dev/null 2>&1
		rm -f run/runs/*
	fi
	[ $how = abort ] && $S arm >/dev/null 2>&1
done
echo "outcomes: SIGTERM exit 4: $term4, SIGINT exit 4: $int4, abort exit 4: $abort4, abort exit 5 (refused before start): $abort5, wrong: $bad of $n"
echo "wrong exits: $(awk '$6 == "no" { print $5 }' outcomes | sort | uniq -c | tr '\n' ' ')"
echo "stopped at: $(awk '{ print $7 }' outcomes | sort | uniq -c | tr '\n' ' ')(before the journal; journal and guardian but before the steady state held; faults started)"
[ $bad = 0 ] && pass "$n trials: every run stopped during start-up exited 4 (or 5, refused before it started) and left nothing" ||
	fail "$bad of $n trials ended otherwise"
[ $((term4 + int4)) -gt 0 ] && [ $abort4 -gt 0 ] && pass "signals and the kill switch both landed mid-start-up" ||
	fail "the trials did not reach start-up (term $term4 int $int4 abort $abort4)"
t_done
