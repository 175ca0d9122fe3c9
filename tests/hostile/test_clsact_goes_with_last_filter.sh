#!/bin/sh
# The clsact qdisc sabot creates goes with the last sabot filter on it,
# whoever reverts them and in whatever order: windows that overlap either
# way round, the guardian after a SIGKILL, the kill switch, `recover` after
# runner and guardian are both gone, two runs from two run dirs. A clsact
# sabot did not create is never removed.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
A=sabot-hc-$id-a
B=sabot-hc-$id-b
dev=sabot-hc$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
S2="$SABOT --state-dir $T_TMP/state2 --run-dir $T_TMP/run2"
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-hcp$id 10.70.$((id % 250)).1 10.70.$((id % 250)).2 || { fail "namespace setup"; t_done; }
inA() { ip netns exec "$A" "$@"; }
clsact_there() { inA tc qdisc show dev "$dev" | grep -q clsact; }
nfilters() { { inA tc filter show dev "$dev" egress; inA tc filter show dev "$dev" ingress; } | grep -c 'sabot_net'; }
clean() { # DESC: no clsact, no filter
	if clsact_there || [ "$(nfilters)" != 0 ]; then
		fail "$1: left on $dev: $(inA tc qdisc show dev "$dev" | grep clsact) $(nfilters) sabot filter(s)"
		inA tc qdisc del dev "$dev" clsact 2>/dev/null
	else pass "$1: no clsact and no sabot filter left"; fi
}
runA() { nsenter --net=/run/netns/"$A" "$@"; }
guardian_of() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' "$1"/runs/*.journal 2>/dev/null | head -n 1; }

# FIRST SECOND: two blackholes on $dev, one egress and one ingress and one
# more egress, windows overlapping; "first" ends first.
scen() { # NAME END1 START2 END2 DURATION
	cat > "$1.ini" <<INI
[scenario]
name = $1
duration = $5
[fault one]
type = blackhole
interface = $dev
protocol = udp
dport = 9
duration = $2
[fault two]
type = blackhole
interface = $dev
direction = ingress
protocol = udp
dport = 9
start = $3
duration = $4
[fault three]
type = loss
interface = $dev
percent = 10%
protocol = udp
dport = 7
start = $3
duration = $4
INI
}

# --- overlapping windows, both orders, completed runs (exit 0) ---
for i in 1 2 3; do
	scen first-ends-first 1s 300ms 1200ms 2s
	expect_exit 0 "round $i: overlapping windows, the first fault ends first: exit 0" runA $S run first-ends-first.ini
	clean "round $i: after the first fault ended first"
	scen last-ends-first 1500ms 300ms 500ms 2s
	expect_exit 0 "round $i: overlapping windows, the later fault ends first: exit 0" runA $S run last-ends-first.ini
	clean "round $i: after the later fault ended first"
done

# --- the guardian reverts after a SIGKILL, with one fault's window over ---
scen guardian 500ms 200ms 30s 40s
nsenter --net=/run/netns/"$A" $S run guardian.ini > guardian.out 2>&1 &
runner=$!
pids="$pids $runner"
# The first window is over (its revert is journaled), the two others hold.
two_left() { grep -q '^revert' "$T_TMP"/run/runs/*.journal 2>/dev/null && [ "$(nfilters)" = 2 ]; }
wait_for 5000 two_left || fail "guardian case: the first window did not end: $(cat guardian.out)"
kill -9 $runner
wait $runner 2>/dev/null
wait_for 3000 eval '! clsact_there && [ "$(nfilters)" = 0 ]'
clean "the guardian reverted after SIGKILL of the runner"

# --- the kill switch, with one fault's window over ---
scen abort 500ms 200ms 30s 40s
nsenter --net=/run/netns/"$A" $S run abort.ini > abort.out 2>&1 &
runner=$!
pids="$pids $runner"
wait_for 5000 two_left || fail "abort case: the first window did not end: $(cat abort.out)"
expect_exit 0 "sabot abort exits 0" runA $S abort --reason test
wait $runner 2>/dev/null
clean "after sabot abort"
$S arm >/dev/null

# --- recover, runner and guardian both gone ---
scen recover 500ms 200ms 30s 40s
nsenter --net=/run/netns/"$A" $S run recover.ini > recover.out 2>&1 &
runner=$!
pids="$pids $runner"
wait_for 5000 two_left || fail "recover case: the first window did not end: $(cat recover.out)"
g=$(guardian_of "$T_TMP/run")
pids="$pids $g"
kill -STOP $runner $g
kill_run $runner $g
wait $runner 2>/dev/null
wait_for 2000 eval '[ ! -d /proc/'"$g"' ]'
clsact_there && pass "recover case: the run died holding its clsact" || fail "recover case: nothing left to recover"
expect_exit 0 "sabot recover exits 0" runA $S recover
clean "after sabot recover"

# --- two runs from two run dirs on the same interface; the creator ends first ---
scen two-a 1s 0s 1s 1s
scen two-b 2s 0s 2500ms 3s
nsenter --net=/run/netns/"$A" $S run two-a.ini > two-a.out 2>&1 &
ra=$!
wait_for 3000 clsact_there
nsenter --net=/run/netns/"$A" $S2 run two-b.ini > two-b.out 2>&1 &
rb=$!
pids="$pids $ra $rb"
wait $ra
rca=$?
wait $rb
rcb=$?
[ $rca = 0 ] && [ $rcb = 0 ] && pass "two concurrent runs on one interface exit 0" ||
	fail "two runs: exits $rca $rcb: $(tail -3 two-a.out) $(tail -3 two-b.out)"
clean "after two runs whose creator of the clsact ended first"

# --- a clsact sabot did not create stays, with its own filter ---
inA tc qdisc add dev "$dev" clsact
scen foreign 1s 300ms 1200ms 2s
expect_exit 0 "a run on a clsact that was already there: exit 0" runA $S run foreign.ini
clsact_there && [ "$(nfilters)" = 0 ] && pass "a clsact sabot did not create is left in place" ||
	fail "foreign clsact: $(inA tc qdisc show dev "$dev") $(nfilters) sabot filters"
inA tc qdisc del dev "$dev" clsact
# and one sabot created, to which someone else added a filter during the run
scen adopted 2s 0s 2s 3s
nsenter --net=/run/netns/"$A" $S run adopted.ini > adopted.out 2>&1 &
runner=$!
pids="$pids $runner"
wait_for 3000 clsact_there
# u32 is what this kernel has besides cls_bpf; this one matches nothing.
inA tc filter add dev "$dev" egress prio 7 protocol all u32 match u32 0x5ab0ffff 0xffffffff at 0 flowid 1:1
wait $runner
[ $? = 0 ] && pass "a run whose clsact got a foreign filter: exit 0" || fail "adopted: $(tail -3 adopted.out)"
inA tc filter show dev "$dev" egress | grep -q u32 && clsact_there && pass "the foreign filter, and its clsact, stay" ||
	fail "the foreign filter or its clsact was removed"
inA tc qdisc del dev "$dev" clsact
t_done
