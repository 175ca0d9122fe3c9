#!/bin/sh
# No BPF program load inside a window can get the runner taken for hung
# and SIGKILLed by its guardian: the dns fault's program (the one a kind
# loads for itself, each fault its own) is loaded by the run's preflight,
# before the guardian watches the heartbeat, and its window only sets the
# target's cgroup and attaches it. The runner, once its guardian is up,
# is held to 1% of a CPU (a cgroup-v1 cpu quota of its own, 2 ms per
# 200 ms: the verifier's 40 ms for this program become 4 s, more than the
# guardian's 3 s grace; at 0.5% the window's own work, the attach and its
# event under ASan, once outlasted the grace too, on a loaded host). Each trial's run must exit 0, its fault applied
# and reverted, nothing left; never SIGKILLed by its guardian (exit 137).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
ns=sabot-hbl-$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cpu=/sys/fs/cgroup/cpu
slow=$cpu/sabot-hbl-$id
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	wait 2>/dev/null
	if [ -d "$slow" ]; then
		for p in $(cat "$slow/cgroup.procs" 2>/dev/null); do echo "$p" > "$cpu/cgroup.procs"; done
		rmdir "$slow"
	fi
	ip netns del "$ns" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
[ -w "$cpu/cgroup.procs" ] && [ -e "$cpu/cpu.cfs_quota_us" ] ||
	{ skip "no cgroup-v1 cpu controller at $cpu (cpu.cfs_quota_us) to hold the runner to 1% of a CPU"; t_done; }
mkdir "$slow" && echo 200000 > "$slow/cpu.cfs_period_us" && echo 2000 > "$slow/cpu.cfs_quota_us" ||
	{ fail "cannot make the cpu cgroup $slow"; t_done; }
ip netns add "$ns" && ip -n "$ns" link set lo up || { fail "namespace setup"; t_done; }
# The biggest program the kind loads: every domain it holds, resolvers.
doms=$(awk 'BEGIN { for (i = 0; i < 16; i++) printf "%sd%d.ex.com", i ? ", " : "", i }')
cat > slow.ini <<INI
[scenario]
name = hbl-$id
duration = 9s
[fault d]
type = dns
interface = lo
domains = $doms
dst = 127.0.0.0/8, ::1/128
start = 4s
duration = 2s
INI
trials=3
killed=0
for trial in $(seq $trials); do
	rm -rf state/reports
	ip netns exec "$ns" $S run --yes slow.ini > run$trial.out 2>&1 &
	runner=$!
	guardian() { g=$(pgrep -P "$runner" -x sabot-guardian) || ! kill -0 "$runner" 2>/dev/null; }
	wait_for 30000 guardian && [ -n "$g" ] || { fail "trial $trial: no guardian below runner $runner: $(cat run$trial.out)"; continue; }
	echo "$runner" > "$slow/cgroup.procs" || fail "trial $trial: cannot move runner $runner to $slow"
	wait "$runner"
	rc=$?
	runner=""
	[ $rc = 137 ] && killed=$((killed + 1))
	[ $rc = 0 ] && pass "trial $trial: the run held to 1% of a CPU exits 0" ||
		fail "trial $trial: exit $rc, want 0: $(tail -4 run$trial.out | tr '\n' ' ')"
	grep -q "lo egress: answering 100% of DNS queries" run$trial.out && grep -q "d: reverted" run$trial.out &&
		pass "trial $trial: its dns fault was applied and reverted" || fail "trial $trial: not applied and reverted: $(cat run$trial.out)"
	left=$(ip netns exec "$ns" tc filter show dev lo egress; ip netns exec "$ns" tc qdisc show dev lo | grep clsact)
	[ -z "$left" ] && pass "trial $trial: nothing left on lo" || fail "trial $trial: left on lo: $(echo "$left" | head -2)"
	wait_for 10000 no_journals || fail "trial $trial: journal left: $(ls run/runs)"
done
[ $killed = 0 ] && pass "no runner of $trials was SIGKILLed as hung" || fail "$killed runs of $trials were SIGKILLed as hung"
t_done
