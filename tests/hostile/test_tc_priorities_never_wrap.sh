#!/bin/sh
# tc priorities never wrap or collide: a scenario over the ceiling of
# faults is refused at validation (file:line, exit 2, nothing touched); one
# at the ceiling runs with one classifier per hook (every rule in it, at
# the priority of the hook's first fault, in sabot's range; before #15 a
# filter per fault, each at its own); a filter sabot did not create at the
# priority a fault needs is
# found at preflight (exit 6, nothing touched, the foreign filter intact),
# on either hook, of either kind.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
id=$$
A=sabot-hp-$id-a
B=sabot-hp-$id-b
dev=sabot-hp$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
max=1024
cleanup() {
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-hpp$id 10.72.$((id % 250)).1 10.72.$((id % 250)).2 || { fail "namespace setup"; t_done; }
inA() { ip netns exec "$A" "$@"; }
runA() { nsenter --net=/run/netns/"$A" "$@"; }
tc_state() {
	inA tc qdisc show
	inA tc filter show dev "$dev" ingress
	inA tc filter show dev "$dev" egress
	inA tc chain show dev "$dev" egress 2>/dev/null
	inA ip -o link show | awk '{print $2}'
}
gen() { # FILE N DURATION [KEYS]: N blackholes on $dev, each with KEYS (terse: the file limit is 1 MiB)
	awk -v n="$2" -v dev="$dev" -v d="$3" -v keys="${4:-}" 'BEGIN {
		printf "[scenario]\nname = many\nduration = %s\n", d
		for (i = 0; i < n; i++)
			printf "[fault f%d]\ntype=blackhole\ninterface=%s\n%s", i, dev, keys
	}' > "$1"
}
# like expect_exit, but shows only the first lines of the output
expect_exit_short() {
	want=$1 desc=$2
	shift 2
	OUT=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then pass "$desc"; else
		fail "$desc (exit $rc, want $want)"
		printf '%s\n' "$OUT" | head -n 4 | sed 's/^/    | /'
	fi
}

# --- over the ceiling: 16385 faults (the count that wrapped to priority 0) and max + 1 ---
# (16385 blackholes of everything: terse, the file limit is 1 MiB.)
for n in 16385 $((max + 1)); do
	keys='dport=9\nprotocol=udp\n'
	[ $n = 16385 ] && keys=
	gen over.ini $n 2s "$keys"
	line=$(grep -n "^\[fault f$max\]" over.ini | cut -d: -f1)
	expect_exit_short 2 "$n faults: validate refuses" $S validate over.ini
	expect_out "$n faults: at the first fault over the ceiling, over.ini:$line" "over.ini:$line: .*at most $max faults"
	before=$(tc_state)
	expect_exit_short 2 "$n faults: run refuses" runA $S run over.ini
	[ "$(tc_state)" = "$before" ] && pass "$n faults: nothing touched" || fail "$n faults: the run touched the namespace"
done

# --- at the ceiling: one classifier, at the first fault's priority, no wrap ---
# Windows of 8 s: the run's end does not revert all of them at once.
gen max.ini $max 20s 'dport=9\nprotocol=udp\nduration=8s\n'
expect_exit 0 "$max faults validate" $S validate max.ini
runA $S run max.ini > max.out 2>&1 &
runner=$!
# Every priority seen on the hook while the run lives (each filter lives 8 s).
: > prios.txt
while [ -n "$(pstate $runner)" ] && [ "$(pstate $runner)" != Z ]; do
	inA tc filter show dev "$dev" egress | sed -n 's/.* pref \([0-9]*\) bpf .*sabot_net.*/\1/p' >> prios.txt
	sleep 0.5
done
prios=$(sort -un prios.txt)
n=$(echo "$prios" | grep -c .)
lo=$(echo "$prios" | head -n 1)
hi=$(echo "$prios" | tail -n 1)
[ "$n" = 1 ] && [ "$lo" = 49152 ] && [ "$hi" = 49152 ] &&
	pass "$max faults held one classifier, at priority $lo" || fail "$max faults: $n distinct priorities seen, $lo..$hi"
wait $runner
rc=$?
[ $rc = 0 ] && pass "the $max-fault run exits 0" || fail "the $max-fault run: exit $rc: $(tail -5 max.out)"
left=$(inA tc qdisc show dev "$dev" | grep clsact; inA tc filter show dev "$dev" egress)
[ -z "$left" ] && pass "and leaves nothing" || fail "left after $max faults: $(echo "$left" | head -3)"

# --- a foreign filter at a priority a fault needs: found at preflight ---
cat > three.ini <<INI
[scenario]
name = three
duration = 3s
[fault a]
type = blackhole
interface = $dev
protocol = udp
dport = 9
[fault b]
type = loss
interface = $dev
percent = 50%
protocol = udp
dport = 7
[fault c]
type = blackhole
interface = $dev
direction = ingress
protocol = udp
dport = 9
INI
obj=${BUILD:-$top/build}/bpf/net_filter.bpf.o
# hook prio kind: the egress classifier's priority (its first fault's, a),
# the ingress one's (c, the third)
for foreign in "egress 49152 u32" "ingress 49154 u32" "egress 49152 bpf" "ingress 49154 bpf"; do
	set -- $foreign
	inA tc qdisc add dev "$dev" clsact
	if [ "$3" = u32 ]; then
		inA tc filter add dev "$dev" "$1" prio "$2" protocol all u32 match u32 0x5ab0ffff 0xffffffff at 0 flowid 1:1
	else
		inA tc filter add dev "$dev" "$1" prio "$2" handle 0x77 protocol all bpf da obj "$obj" sec tc
	fi || { fail "could not add a foreign $3 filter"; continue; }
	before=$(tc_state)
	expect_exit_short 6 "a foreign $3 filter at $1 priority $2: the run is refused (exit 6)" runA $S run three.ini
	expect_out "saying which priority and why" "priority $2 on $dev $1.*sabot did not create"
	expect_no_out "no fault was applied before the refusal" 'dropping|apply failed'
	after=$(tc_state)
	[ "$after" = "$before" ] && pass "nothing touched, the foreign $3 filter intact" ||
		{ fail "the namespace changed"; echo "$before" > b.txt; echo "$after" > a.txt; diff b.txt a.txt | sed 's/^/    | /'; }
	inA tc qdisc del dev "$dev" clsact
done
t_done
