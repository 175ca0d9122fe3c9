#!/bin/sh
# Network faults on this kernel: loss and blackhole through the clsact
# classifier, between two namespaces joined by a veth pair that this test
# creates. Traffic stays inside them. Latency needs netem: the VM tier.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-itn-$id-a
B=sabot-itn-$id-b
dev=sabot-itn0
cgroot=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | awk '{print $5}')
cg=sabot-itn-$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
J=$(cd "$(dirname "$0")/../.." && pwd)/tests/helpers/json_check.py

cleanup() {
	pkill -9 -f "sabot-itn-$id" 2>/dev/null
	netns_pair_down "$A" "$B"
	[ -n "$cgroot" ] && rmdir "$cgroot/$cg" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

netns_pair "$A" "$B" "$dev" sabot-itn1 10.66.0.1 10.66.0.2 || { fail "namespace setup"; t_done; }
inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }
tc_state() { ns_tc_state "$A" "$dev"; } # everything tc and link state of A
unchanged() {
	now=$(tc_state)
	if [ "$now" = "$baseline" ]; then pass "$1: the namespace's qdiscs, filters and links are exactly as before"; else
		fail "$1: tc state changed"
		echo "$baseline" > b.txt
		echo "$now" > a.txt
		diff b.txt a.txt | sed 's/^/    | /'
	fi
}
has_filter() { inA tc filter show dev "$dev" "$1" | grep -q 'sabot_net'; }
run_bg() { # FILE: start a run in A, wait until its filter is attached and its window open
	# Not through inA: a backgrounded function is a subshell, and $! must
	# be sabot's pid (nsenter execs it). nsenter, not ip netns exec: that
	# one remounts /sys in a new mount namespace, hiding the cgroup2 mount.
	nsenter --net=/run/netns/"$A" $S run "$1" > "$1.out" 2>&1 &
	runner=$!
	wait_for 3000 eval 'has_filter egress || has_filter ingress' || fail "no sabot filter attached for $1: $(cat "$1.out")"
	# The classifier is attached at the run's start with every rule off;
	# the fault acts from its window's opening, which the run reports
	# ("FAULT: DEV egress: dropping ..."). Traffic sent before it passes
	# untouched: at load 10-17 that gap cost the loss check up to a
	# hundred of its thousand pings.
	wait_for 10000 grep -Eq "^sabot: [^ :]+: $dev (egress|ingress): " "$1.out" ||
		fail "the window of $1 did not open: $(cat "$1.out")"
}
tcp_ok() { # NS HOST PORT: a TCP connection and one byte of reply
	[ "$(ip netns exec "$1" nc -w 2 -N "$2" "$3" </dev/null 2>/dev/null | head -c 2)" = ok ]
}
serve() { # NS PORT: answer "ok" to every connection
	ip netns exec "$1" sh -c "while :; do echo ok | nc -l -p $2 -q 0 >/dev/null 2>&1 || nc -l $2 < /dev/null >/dev/null; done" &
}
baseline=$(tc_state)

# --- 30% loss on ICMP, observed over 1000 packets ---
# A thousand pings 2 ms apart take 2 s, but 5-25 s at load 10-17 (each
# sleep overshoots): those after the window's end pass untouched. So the
# drop rate is judged on the pings the window saw, by the run's own count,
# and ping's loss must be those drops (a late reply or two on top at most).
# Only the pings' address: IPv6's MLD reports are ICMP too.
cat > loss.ini <<INI
[scenario]
name = loss
duration = 20s
[fault d]
type = loss
interface = $dev
protocol = icmp
dst = 10.66.0.2/32
percent = 30%
INI
run_bg loss.ini
out=$(inA ping -c 1000 -i 0.002 -W 1 -q 10.66.0.2 2>&1)
wait $runner
rc=$?
[ $rc = 0 ] && pass "loss run exits 0" || fail "loss run exit $rc"
got=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
lost=$((1000 - ${got:-0}))
# The run's own count: the echo requests in the window, those dropped.
set -- $(sed -n 's/.*d: reverted: dropped \([0-9]*\) of \([0-9]*\) matching.*/\1 \2/p' loss.ini.out) x x
drop=$1 seen=$2
[ "$drop" != x ] && pass "the run reports what it dropped" || fail "no drop count: $(cat loss.ini.out)"
# binomial: sd = sqrt(n * 0.3 * 0.7), 14.5 packets for 1000; 4 sd (58):
# 242..358 of 1000. At least 500 pings in the window, or the window
# did not cover the traffic.
if [ "$drop" != x ] && [ "$seen" -ge 500 ] && [ "$seen" -le 1000 ] &&
	awk -v d="$drop" -v n="$seen" 'BEGIN { sd = sqrt(n * 0.21); exit !(d >= 0.3 * n - 4 * sd && d <= 0.3 * n + 4 * sd) }'; then
	pass "30% programmed: $drop of the $seen pings in the window dropped (within 4 sigma); ping lost $lost of 1000"
else
	fail "30% programmed: $drop of the $seen pings in the window dropped, want 30% within 4 sigma of at least 500; ping lost $lost of 1000"
fi
[ "$drop" != x ] && [ "$lost" -ge "$drop" ] && [ "$lost" -le $((drop + 2)) ] &&
	pass "ping lost the pings the run dropped ($lost, $drop dropped)" || fail "ping lost $lost of 1000, the run dropped $drop of $seen"
unchanged "after loss"

# --- a blackhole on one port leaves another working ---
serve "$B" 8080
serve "$B" 8081
wait_for 2000 tcp_ok "$A" 10.66.0.2 8081 || fail "test servers did not come up"
cat > port.ini <<INI
[scenario]
name = port
duration = 30s
[fault bh]
type = blackhole
interface = $dev
protocol = tcp
dport = 8080
INI
run_bg port.ini
tcp_ok "$A" 10.66.0.2 8080 && fail "blackholed port 8080 still answers" || pass "blackhole: port 8080 does not answer"
tcp_ok "$A" 10.66.0.2 8081 && pass "blackhole: port 8081 still works" || fail "port 8081 broken by a blackhole on 8080"
kill -TERM $runner
wait $runner
[ $? = 4 ] && pass "SIGTERM exits 4" || fail "SIGTERM exit code"
tcp_ok "$A" 10.66.0.2 8080 && pass "after the run, port 8080 works again" || fail "port 8080 still broken after the run"
unchanged "after blackhole"

# --- a 100% blackhole of the interface leaves port 22 working both ways ---
serve "$B" 22
serve "$A" 22
cat > all.ini <<INI
[scenario]
name = all
duration = 30s
[fault bh]
type = blackhole
interface = $dev
INI
run_bg all.ini
inA ping -c 3 -i 0.2 -W 1 -q 10.66.0.2 >/dev/null 2>&1 && fail "ping got through a 100% blackhole" || pass "100% blackhole: ping does not get through"
tcp_ok "$A" 10.66.0.2 8081 && fail "TCP 8081 got through a 100% blackhole" || pass "100% blackhole: TCP 8081 does not get through"
tcp_ok "$A" 10.66.0.2 22 && pass "100% blackhole: TCP to port 22 works (dport 22 out)" || fail "port 22 blocked (A -> B:22)"
tcp_ok "$B" 10.66.0.1 22 && pass "100% blackhole: TCP from port 22 works (sport 22 out)" || fail "port 22 blocked (B -> A:22)"

# --- the kill switch from another namespace, and a SIGKILLed runner ---
expect_exit 0 "sabot abort from the host namespace reverts a run in another" $S abort --reason test
expect_out "saying what it removed" 'reverted [0-9]+ changes? of 1 run'
has_filter egress && fail "filter left after abort" || pass "abort removed the filter"
wait $runner 2>/dev/null
$S arm >/dev/null
unchanged "after abort"
run_bg all.ini
# This run's program (others' runs on this machine may have theirs).
prog=$(inA tc filter show dev "$dev" egress | sed -n 's/.* id \([0-9]*\) name sabot_net.*/\1/p' | head -n 1)
kill -9 $runner
wait_for 1000 eval '! has_filter egress' && pass "SIGKILL of the runner: the guardian removed the filter within 1 s" || fail "filter still there 1 s after SIGKILL"
wait $runner 2>/dev/null
wait_for 1000 no_journals
unchanged "after SIGKILL"
# The kernel frees a program after its last reference (RCU, a workqueue).
no_prog() { [ -n "$prog" ] && ! bpftool prog show id "$prog" >/dev/null 2>&1; }
wait_for 2000 no_prog && pass "the run's BPF program ($prog) is unloaded" || fail "the run's BPF program ($prog) is still loaded"

# --- recover sweeps sabot objects that no journal accounts for ---
run_bg all.ini
g=$(sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' run/runs/*.journal | head -n 1)
kill_run $runner "$g"
wait $runner 2>/dev/null
rm -f run/runs/*.journal # as if the run dir were wiped
# An orphan ifb named as sabot names them (sabot-<pid in hex>-<fault>),
# with this shell's pid: unique to the run, and no sabot process's (the
# sweep spares a live sabot's ifb; pid 0xfff once could have been one).
ifb=sabot-$(printf %x $$)-9
ip -n "$A" link add "$ifb" type ifb
has_filter egress && pass "with runner, guardian and journal gone, the filter is an orphan" || fail "no orphan to sweep"
expect_exit 0 "sabot recover sweeps orphans" $S recover
expect_out "the filter, found by its handle" "removed orphaned sabot filter \(prio 49152, handle 0x5a8[0-9a-f]+\) on $dev egress in netns $A"
expect_out "the ifb, found by its name" "removed orphaned ifb device $ifb in netns $A"
has_filter egress && fail "orphan filter still there" || pass "the orphan filter is gone"
ip -n "$A" link show "$ifb" >/dev/null 2>&1 && fail "orphan ifb still there" || pass "the orphan ifb is gone"
ip -n "$A" link show "$dev" >/dev/null 2>&1 && pass "the veth named sabot-* (not an ifb) was left alone" || fail "the veth was deleted"
# The clsact qdisc that run created carries sabot's marker chain: with the
# last sabot filter on it gone, it is swept too.
expect_out "the clsact, found by its marker chain" "removed orphaned sabot clsact on $dev in netns $A"
unchanged "after the sweep"

# --- a pre-existing clsact and another owner's filter survive ---
# Another owner's filter: classic BPF through cls_bpf ("ret 0": no match).
if inA tc qdisc add dev "$dev" clsact && inA tc filter add dev "$dev" egress prio 1 handle 7 bpf bytecode '1,6 0 0 0,'; then
	baseline=$(tc_state)
	run_bg loss.ini
	inA tc filter show dev "$dev" egress | grep -q 'handle 0x7 .*bytecode' && pass "while running, the other filter is still there" || fail "other filter gone: $(inA tc filter show dev "$dev" egress)"
	kill -TERM $runner
	wait $runner
	unchanged "with a pre-existing clsact and filter"
	inA tc qdisc del dev "$dev" clsact
	baseline=$(tc_state)
else
	inA tc qdisc del dev "$dev" clsact 2>/dev/null
	fail "coexistence: could not set up another owner's clsact filter"
fi

# --- only the target cgroup's traffic ---
if [ -n "$cgroot" ] && mkdir "$cgroot/$cg" 2>/dev/null; then
	cat > cg.ini <<INI
[scenario]
name = cg
duration = 30s
[target app]
cgroup = $cg
[fault bh]
type = blackhole
interface = $dev
target = app
INI
	run_bg cg.ini
	nsenter --net=/run/netns/"$A" sh -c "echo \$\$ > $cgroot/$cg/cgroup.procs && exec ping -c 10 -i 0.1 -W 1 -q 10.66.0.2" > in.txt 2>&1
	inA ping -c 10 -i 0.1 -W 1 -q 10.66.0.2 > out.txt 2>&1
	grep -q ' 0 received' in.txt && pass "cgroup target: its process's pings are all dropped" || fail "in-cgroup ping: $(grep received in.txt)"
	grep -q ' 10 received' out.txt && pass "cgroup target: another process's pings all get through" || fail "outside ping: $(grep received out.txt)"
	kill -TERM $runner
	wait $runner
	rmdir "$cgroot/$cg"
	unchanged "after cgroup targeting"
else
	skip "cgroup targeting: no writable cgroup2 hierarchy"
fi

# --- latency needs netem, which this kernel lacks: refused, nothing touched ---
printf '[scenario]\nname = lat\nduration = 5s\n[fault l]\ntype = latency\ninterface = %s\ndelay = 100ms\n' "$dev" > lat.ini
if inA tc qdisc add dev "$dev" root netem delay 1ms 2>/dev/null; then
	inA tc qdisc del dev "$dev" root
	skip "latency refusal: this kernel has netem (the VM tier tests latency)"
else
	# No /proc/modules: a kernel without loadable modules, where modprobe
	# cannot help; the advice names the kernels that have netem instead.
	if [ -e /proc/modules ]; then remedy="modprobe sch_netem"; else
		remedy="this kernel lacks CONFIG_NET_SCH_NETEM and loads no modules; Debian 12's linux-image-amd64"
	fi
	expect_exit 6 "sabot doctor on a kernel without netem exits 6" $S doctor
	expect_out "naming netem and the remedy" "latency: netem +UNSUPPORTED: .*$remedy"
	[ -e /proc/modules ] || expect_no_out "and no modprobe on a kernel without modules" "modprobe"
	expect_out "while loss and blackhole work here" 'loss, blackhole \(clsact \+ cls_bpf\) +ok'
	expect_exit 6 "latency without netem exits 6" inA $S run lat.ini
	expect_out "naming what is missing and what to do" "lat\.ini:5: fault 'l': type = latency is not supported here: .*netem.*$remedy"
	unchanged "after a refused latency run"
	expect_exit 6 "with --skip-unsupported, a scenario of only unsupported faults still exits 6" \
		inA $S run --skip-unsupported lat.ini
	expect_out "saying nothing is left to inject" "no fault of the scenario is supported here; nothing to inject"
	printf '[fault bh]\ntype = blackhole\ninterface = %s\nprotocol = udp\ndport = 9\n' "$dev" >> lat.ini
	expect_exit 0 "with --skip-unsupported, the supported faults run and the latency fault is skipped" \
		inA $S run --skip-unsupported --report skip.json lat.ini
	expect_out "with a warning naming why" "lat\.ini:5: warning: fault 'l': type = latency is not supported here, skipped \(--skip-unsupported\)"
	$J get skip.json '{f["name"]: (f["type"], f["state"], f["applied_ms"] is None) for f in d["faults"]}.items() >= {"l": ("latency", "skipped", True), "bh": ("blackhole", "done", False)}.items()' >/dev/null &&
		$J schema report skip.json &&
		pass "the report shows the latency fault skipped and the blackhole done" || fail "report: $(grep '"name"' skip.json)"
	unchanged "after a run with a skipped fault"
fi
[ -z "$(ls run/runs 2>/dev/null)" ] && pass "no journal left" || fail "journal left: $(ls run/runs)"
t_done
