#!/bin/sh
# `sabot recover` never removes what a live run holds, whatever run dir
# either was started with, and never says it reverted what it did not:
#  - a live run in one run dir, recovered from another (many times, from
#    the host namespace and from the run's own, and from a pid namespace
#    of its own): its filters stay;
#  - a filter whose tag names a live process that is not sabot is still an
#    orphan (a pid alone keeps nothing alive);
#  - a dead run whose namespace is pinned outside /run/netns by a bind
#    mount: recover finds it and really reverts;
#  - a dead run whose namespace only a socket holds (nothing recover can
#    enter): non-zero exit, an honest message, the filter untouched; and
#    once the namespace is really gone, recover clears the journal.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
id=$$
A=sabot-hr-$id-a
B=sabot-hr-$id-b
dev=sabot-hr$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
S2="$SABOT --state-dir $T_TMP/state2 --run-dir $T_TMP/run2"
pids=
mounts=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	netns_pair_down "$A" "$B"
	for m in $mounts; do umount "$m" 2>/dev/null; done
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-hrp$id 10.71.$((id % 250)).1 10.71.$((id % 250)).2 || { fail "namespace setup"; t_done; }
inA() { ip netns exec "$A" "$@"; }
nf() { # NSENTER-ARG DEV: sabot filters on both hooks
	{ nsenter "$1" tc filter show dev "$2" egress; nsenter "$1" tc filter show dev "$2" ingress; } 2>/dev/null | grep -c sabot_net
}
guardian_of() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' "$1"/runs/*.journal 2>/dev/null | head -n 1; }
scen() { # NAME DEV
	cat > "$1.ini" <<INI
[scenario]
name = $1
duration = 60s
[fault out]
type = blackhole
interface = $2
protocol = udp
dport = 9
[fault in]
type = loss
interface = $2
direction = ingress
percent = 50%
protocol = udp
dport = 9
INI
}

# --- 1. a live run in run dir 1, recover with run dir 2 ---
scen live "$dev"
nsenter --net=/run/netns/"$A" $S run live.ini > live.out 2>&1 &
runner=$!
pids="$pids $runner"
two() { [ "$(nf --net=/run/netns/"$A" "$dev")" = 2 ]; }
wait_for 5000 two || { fail "the live run did not apply: $(cat live.out)"; t_done; }
spared=0 rounds=10
for i in $(seq $rounds); do
	$S2 recover > rec.out 2>&1
	nsenter --net=/run/netns/"$A" $S2 recover >> rec.out 2>&1
	two && spared=$((spared + 1))
	two || break
done
[ $spared = $rounds ] && pass "$((rounds * 2)) recovers from another run dir (host and run namespace) left the live run's 2 filters" ||
	{ fail "recover from another run dir removed a live run's filters (round $((spared + 1)) of $rounds)"; sed 's/^/    | /' rec.out; }
grep -q 'removed orphaned sabot filter' rec.out && fail "recover said it removed a live run's filter: $(grep removed rec.out | head -2)" ||
	pass "and it did not claim to have removed any"
clsact_there() { inA tc qdisc show dev "$dev" | grep -q clsact; }
clsact_there && pass "the live run's clsact stayed too" || fail "the live run's clsact was removed"
# From a pid namespace of its own (a container, unshare -p: other tests
# run recover so) the runner's pid names nobody: the live run was taken
# for dead and its filters removed under it.
spared=0
for i in 1 2 3; do
	unshare --pid --fork --mount-proc $S2 recover > recns.out 2>&1
	two && spared=$((spared + 1))
done
[ $spared = 3 ] && pass "3 recovers from a pid namespace of their own left the live run's 2 filters" ||
	{ fail "recover from another pid namespace removed a live run's filters ($spared of 3 spared)"; sed 's/^/    | /' recns.out | head -5; }
grep -q "not swept: .*pid namespace of its own" recns.out && pass "and said why it swept nothing" ||
	fail "no word of the sweep left out: $(head -3 recns.out)"

# A tag naming a live process that is not sabot (this shell) keeps nothing.
obj=${BUILD:-$top/build}/bpf/net_filter.bpf.o
if [ -f "$obj" ]; then
	forged=$(printf '0x%x' $(((0x16a << 22) | $$)))
	if inA tc filter add dev "$dev" egress prio 40000 handle "$forged" protocol all bpf da obj "$obj" sec tc 2>/dev/null; then
		expect_exit 0 "recover with a forged orphan exits 0" $S2 recover
		expect_out "the forged filter naming a live non-sabot pid is an orphan" "removed orphaned sabot filter \(prio 40000, handle $forged\)"
		two && pass "the live run's filters stayed" || fail "the live run's filters went with the forged one"
	else fail "could not add a forged filter"; fi
else skip "no $obj to forge a filter with"; fi
kill -TERM $runner
wait $runner
rc=$?
[ $rc = 4 ] && pass "the live run went on until SIGTERM (exit 4)" || fail "the live run: exit $rc: $(tail -5 live.out)"
[ "$(nf --net=/run/netns/"$A" "$dev")" = 0 ] && ! clsact_there && pass "and reverted everything itself" || fail "left after the live run"

# --- a dead run in a namespace pinned outside /run/netns ---
# NAME: a namespace bind-mounted at $T_TMP/NAME.ns with a veth pair inside,
# a run there, runner and guardian stopped and killed (nobody reverts).
dead_run_in() {
	: > "$T_TMP/$1.ns"
	unshare --net="$T_TMP/$1.ns" true || return 1
	mounts="$mounts $T_TMP/$1.ns"
	nsenter --net="$T_TMP/$1.ns" ip link add "$2" type veth peer name "$2p" &&
		nsenter --net="$T_TMP/$1.ns" ip link set "$2" up && nsenter --net="$T_TMP/$1.ns" ip link set "$2p" up || return 1
	scen "$1" "$2"
	nsenter --net="$T_TMP/$1.ns" $S run "$1.ini" > "$1.out" 2>&1 &
	r=$!
	pids="$pids $r"
	wait_for 5000 eval '[ "$(nf --net='"$T_TMP/$1.ns $2"')" = 2 ]' || { echo "no fault: $(cat "$1.out")"; return 1; }
	g=$(guardian_of "$T_TMP/run")
	pids="$pids $g"
	kill -STOP $r $g
	kill -9 $r $g
	wait $r 2>/dev/null
	wait_for 2000 eval '[ ! -d /proc/'"$g"' ]'
}
dev2=sabot-hm$id
if dead_run_in bound "$dev2"; then
	expect_exit 0 "recover enters a namespace bind-mounted outside /run/netns" $S recover
	[ "$(nf --net="$T_TMP/bound.ns" "$dev2")" = 0 ] && pass "and the dead run's filters are really gone" ||
		{ fail "recover left the filters in the bind-mounted namespace: $(nf --net="$T_TMP/bound.ns" "$dev2") remain"; printf '%s\n' "$OUT" | sed 's/^/    | /'; }
	nsenter --net="$T_TMP/bound.ns" tc qdisc show dev "$dev2" | grep -q clsact && fail "its clsact stayed" || pass "and its clsact"
	[ -z "$(ls run/runs/ 2>/dev/null)" ] && pass "the journal is gone" || { fail "journal left"; rm -f run/runs/*; }
else fail "could not make a dead run in a bind-mounted namespace"; fi

# --- a dead run in a namespace held only by a socket ---
dev3=sabot-hs$id
cat > holder.py <<'PY'
import ctypes, os, socket, sys, fcntl
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET, SIOCGSKNS = 0x40000000, 0x894C
home = os.open("/proc/self/ns/net", os.O_RDONLY)
ns = os.open(sys.argv[1], os.O_RDONLY)
assert libc.setns(ns, CLONE_NEWNET) == 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
assert libc.setns(home, CLONE_NEWNET) == 0
os.close(ns)
print("ready", flush=True)
for line in sys.stdin:  # "show": list sabot filters in the namespace the socket holds
    fd = fcntl.ioctl(s.fileno(), SIOCGSKNS)
    pid = os.fork()
    if pid == 0:
        libc.setns(fd, CLONE_NEWNET)
        os.execvp("sh", ["sh", "-c", "{ tc filter show dev %s egress; tc filter show dev %s ingress; } | grep -c sabot_net > %s" % (sys.argv[2], sys.argv[2], sys.argv[3])])
    os.waitpid(pid, 0)
    os.close(fd)
    print("shown", flush=True)
PY
if dead_run_in sock "$dev3"; then
	mkfifo hold.in
	python3 holder.py "$T_TMP/sock.ns" "$dev3" "$T_TMP/held.count" < hold.in > hold.out 2>&1 &
	holder=$!
	pids="$pids $holder"
	exec 9> hold.in
	wait_for 3000 grep -q ready hold.out || fail "holder: $(cat hold.out)"
	umount "$T_TMP/sock.ns" && rm -f "$T_TMP/sock.ns"
	expect_exit 1 "recover cannot enter a namespace only a socket holds: exit 1" $S recover
	expect_no_out "it does not claim the changes reverted" 'reverted [1-9][0-9]* change'
	expect_out "it says why" 'NOT reverted: its network namespace .*cannot be found'
	printf '%s\n' "$OUT" | sed 's/^/    | /'
	echo show >&9
	wait_for 3000 grep -q shown hold.out
	[ "$(cat held.count 2>/dev/null)" = 2 ] && pass "the filters in that namespace are untouched (2)" ||
		fail "filters in the socket-held namespace: $(cat held.count 2>/dev/null)"
	[ -n "$(ls run/runs/*.journal 2>/dev/null)" ] && pass "the journal is kept for a retry" || fail "the journal was removed"
	# Now the namespace really goes: recover sees the classifier unloaded.
	exec 9>&-
	kill $holder 2>/dev/null
	wait $holder 2>/dev/null
	gone() { [ -z "$(ls run/runs/*.journal 2>/dev/null)" ] || { $S recover > last.out 2>&1; false; }; }
	wait_for 5000 gone && pass "once the namespace is gone, recover clears the journal" ||
		{ fail "recover after the namespace went: $(cat last.out)"; }
else fail "could not make a dead run in a socket-held namespace"; fi
t_done
