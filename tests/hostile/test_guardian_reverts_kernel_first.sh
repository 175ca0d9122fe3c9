#!/bin/sh
# The guardian reverts the kernel first: with a launched target that
# ignores SIGTERM (and a child of it that does too), the loss and blackhole
# filters of a run are gone after the runner's SIGKILL before that
# target's 2 s SIGTERM grace has run out (under half of it, in every one
# of >= 20 trials), and the stubborn target is still ended afterwards.
# The median is printed, not judged: a figure belongs to the benchmarks,
# and on a loaded machine it was seen at 55-118 ms with the code unchanged
# (a bound of 50 ms failed there).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
A=sabot-hgk-$id-a
B=sabot-hgk-$id-b
dev=sabot-hgk0
TRIALS=${TRIALS:-20}
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=""
stubborn() { pgrep -f "$T_TMP/sabot-hgk-stubborn" 2>/dev/null; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $(stubborn); do kill -9 "$p" 2>/dev/null; done
	wait_for 5000 no_journals
	ip netns pids "$A" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-hgk1 10.69.0.1 10.69.0.2 || { fail "namespace setup"; t_done; }
inA() { nsenter --net=/run/netns/"$A" "$@"; }

cat > sabot-hgk-stubborn.sh <<'SH'
trap '' TERM
sh -c 'while :; do sleep 0.1; done' &
while :; do sleep 0.1; done
SH
cat > kf.ini <<INI
[scenario]
name = hgk-$id
duration = 60s
[target t]
exec = /bin/sh $T_TMP/sabot-hgk-stubborn.sh
[fault bh]
type = blackhole
interface = $dev
protocol = udp
dport = 9
[fault loss]
type = loss
interface = $dev
direction = ingress
percent = 50%
INI
filters() { # how many sabot filters are on the device
	{ inA tc filter show dev "$dev" egress; inA tc filter show dev "$dev" ingress; } 2>/dev/null | grep -c 'sabot_net'
}
both() { [ "$(filters)" -ge 2 ]; }

times=""
i=0 disturbed=0
while [ $i -lt "$TRIALS" ]; do
	# nsenter itself, not inA: $! must be sabot's pid (nsenter execs it).
	nsenter --net=/run/netns/"$A" $S run kf.ini > run.out 2>&1 &
	runner=$!
	if ! wait_for 5000 both; then
		# Seen when another run's `sabot recover` swept this namespace
		# (issue #12 item 9): not this promise; retried a few times.
		disturbed=$((disturbed + 1))
		echo "    trial $i: the filters were not attached (or were removed by someone else): $(tail -n 2 run.out)"
		kill -9 $runner
		wait $runner 2>/dev/null
		runner=""
		wait_for 6000 eval '[ -z "$(stubborn)" ]'
		wait_for 5000 no_journals
		[ $disturbed -gt 3 ] && { fail "the filters of 4 runs were not attached"; break; }
		continue
	fi
	wait_for 3000 eval '[ -n "$(stubborn)" ]' || fail "trial $i: the target did not start"
	# One shell inside the namespace polls tc until both filters are
	# gone (no nsenter per poll): it ends when they are.
	# Then it notes whether the stubborn target was still running then
	# (the [s] keeps pgrep from finding this shell's own command line).
	nsenter --net=/run/netns/"$A" sh -c "i=0; while [ \$i -lt 5000 ] && tc filter show dev $dev egress | grep -q sabot_net ||
		tc filter show dev $dev ingress | grep -q sabot_net; do i=\$((i + 1)); done
		pgrep -f '$T_TMP/[s]abot-hgk-stubborn' >/dev/null && echo alive > order.$i || echo ended > order.$i" &
	watcher=$!
	t0=$(date +%s%N)
	kill -9 $runner
	wait $watcher
	[ "$(filters)" = 0 ] || fail "trial $i: the filters are still there after the watcher gave up"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	times="$times $ms"
	wait $runner 2>/dev/null
	runner=""
	# The target is ended too, after its SIGTERM grace.
	wait_for 6000 eval '[ -z "$(stubborn)" ]' || fail "trial $i: the stubborn target outlived the guardian: $(stubborn | tr '\n' ' ')"
	for p in $(stubborn); do kill -9 "$p"; done
	wait_for 5000 no_journals || fail "trial $i: journal left"
	i=$((i + 1))
done
sorted=$(echo $times | tr ' ' '\n' | sort -n)
n=$(echo "$sorted" | wc -l)
median=$(echo "$sorted" | sed -n "$(((n + 1) / 2))p")
max=$(echo "$sorted" | tail -n 1)
echo "    revert after SIGKILL of the runner, SIGTERM-ignoring target, $n trials (ms, measured by polling tc):$times"
echo "    median $median ms, max $max ms"
first=$(grep -l alive order.* 2>/dev/null | wc -l)
[ "$first" = "$n" ] && pass "in all $n trials the filters were gone while the SIGTERM-ignoring target still ran" ||
	fail "in $((n - first)) of $n trials the filters outlived the stubborn target"
# Reverted before the targets' 2 s SIGTERM grace, not after it (seen with
# the targets ended first: 2032-2039 ms); half the grace is the bound, far
# above what a loaded machine adds (max 330 ms seen).
[ "$max" -lt 1000 ] && pass "the filters went before the targets' SIGTERM grace ran out in every trial (max $max ms, median $median ms)" ||
	fail "the slowest trial took $max ms, want < 1000 (the filters waited for the targets' grace)"
[ "$(filters)" = 0 ] && [ -z "$(inA tc qdisc show dev "$dev" | grep clsact)" ] && pass "no sabot filter or clsact left" ||
	fail "left on $dev: $(inA tc qdisc show dev "$dev")"
t_done
