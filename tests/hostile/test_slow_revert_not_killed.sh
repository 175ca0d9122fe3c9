#!/bin/sh
# A run stopped with many faults applied, on a host whose CPU is taken,
# reverts them all itself and exits as it must (4 for a SIGTERM, with its
# report): its guardian must not take the slow revert for a hung runner and
# SIGKILL it (exit 137, no report). The runner shares one CPU at nice 10
# with a busy loop at nice 0 (about a tenth of the CPU), with 1024
# blackholes applied (the ceiling): its revert takes over ten seconds, more
# than three times the guardian's grace.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
A=sabot-hsr-$id-a
B=sabot-hsr-$id-b
dev=sabot-hsr$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner="" hog=""
cleanup() {
	[ -n "$hog" ] && kill -9 "$hog" 2>/dev/null
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
command -v taskset >/dev/null || { skip "no taskset to share one CPU with a busy loop"; t_done; }
netns_pair "$A" "$B" "$dev" sabot-hsrp$id 10.73.$((id % 250)).1 10.73.$((id % 250)).2 || { fail "namespace setup"; t_done; }
awk -v n=1024 -v dev="$dev" 'BEGIN {
	printf "[scenario]\nname = hsr-%d\nduration = 5m\n", '"$id"'
	for (i = 0; i < n; i++)
		printf "[fault f%d]\ntype=blackhole\ninterface=%s\ndport=9\nprotocol=udp\n", i, dev
}' > many.ini
cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')
for trial in 1 2; do
	rm -rf state/reports
	nsenter --net=/run/netns/"$A" taskset -c "$cpu" nice -n 10 $S run many.ini > run$trial.out 2>&1 &
	runner=$!
	applied() { [ "$(grep -c 'dropping every matching packet' run$trial.out)" = 1024 ] || ! kill -0 "$runner" 2>/dev/null; }
	wait_for 120000 applied && kill -0 "$runner" 2>/dev/null || { fail "trial $trial: the 1024 faults were not all applied: $(tail -2 run$trial.out)"; continue; }
	taskset -c "$cpu" sh -c 'while :; do :; done' &
	hog=$!
	kill -TERM "$runner"
	wait "$runner"
	rc=$?
	runner=""
	kill -9 "$hog"; wait "$hog" 2>/dev/null; hog=""
	[ $rc = 4 ] && pass "trial $trial: SIGTERM with 1024 faults on a busy CPU: exit 4" ||
		fail "trial $trial: SIGTERM with 1024 faults on a busy CPU: exit $rc, want 4 ($(grep -i 'guardian\|ended' run$trial.out | tail -2 | tr '\n' ' '))"
	ls state/reports/hsr-$id-*.json >/dev/null 2>&1 && pass "trial $trial: with its report" || fail "trial $trial: no report"
	left=$(ip netns exec "$A" tc filter show dev "$dev" egress; ip netns exec "$A" tc qdisc show dev "$dev" | grep clsact)
	[ -z "$left" ] && pass "trial $trial: nothing left on $dev" || fail "trial $trial: left on $dev: $(echo "$left" | head -2)"
	# A guardian that reverts holds the run lock until it is done.
	guardians_gone() {
		for g in $(pgrep -x sabot-guardian); do
			tr '\0' ' ' < "/proc/$g/cmdline" 2>/dev/null | grep -q -- "$T_TMP/" && return 1
		done
		return 0
	}
	wait_for 60000 guardians_gone || fail "trial $trial: its guardian is still running"
done
ls run/runs/*.journal >/dev/null 2>&1 && fail "a journal is left: $(ls run/runs)" || pass "no journal left"
t_done
