#!/bin/sh
# IPv6 for the network kinds this kernel runs (the classifier's own: loss
# without burst, blackhole), between two namespaces joined by a veth pair
# with v4 and v6 addresses: v6 destination and source CIDRs, ICMPv6 through
# protocol = icmp (with a v6 match) and protocol = icmpv6, UDP counted with netcount, TCP with nc, and IPv6
# neighbour discovery always passing, even under a blackhole of the whole
# /64 or of ICMPv6. (The netem kinds over IPv6: tests/vm/test_net_family.sh.)
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-it6-$id-a
B=sabot-it6-$id-b
dev=sabot-it6a
peer=sabot-it6b
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
NC=$BUILD/tests/helpers/netcount
N=2000
cleanup() {
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
[ -x "$NC" ] || { fail "no $NC (make build/tests/helpers/netcount)"; t_done; }

netns_pair "$A" "$B" "$dev" "$peer" 10.67.0.1 10.67.0.2 || { fail "namespace setup"; t_done; }
ip -n "$A" addr add fd67::1/64 dev "$dev" nodad && ip -n "$B" addr add fd67::2/64 dev "$peer" nodad ||
	{ fail "IPv6 addresses"; t_done; }
inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }
tc_state() { ns_tc_state "$A" "$dev"; }
unchanged() {
	now=$(tc_state)
	[ "$now" = "$baseline" ] && pass "$1: qdiscs, filters and links exactly as before" || {
		fail "$1: tc state changed"
		echo "$now" | sed 's/^/    | /'
	}
}
has_filter() { inA tc filter show dev "$dev" "$1" | grep -q sabot_net; }
run_bg() { # NAME: run NAME.ini in A, wait until its filter is attached
	nsenter --net=/run/netns/"$A" $S run "$1.ini" > "$1.out" 2>&1 &
	runner=$!
	wait_for 3000 eval 'has_filter egress || has_filter ingress' || fail "$1: no sabot filter attached: $(cat "$1.out")"
}
stop() {
	kill -TERM $runner
	wait $runner
	rc=$?
	[ $rc = 4 ] && pass "$1: SIGTERM exits 4" || fail "$1: exit $rc: $(cat "$1.out")"
	unchanged "$1: after the run"
}
scen() { # NAME TYPE KEYS...: a scenario with one fault on $dev
	name=$1 type=$2
	shift 2
	{ printf '[scenario]\nname = %s\nduration = 60s\n[fault f]\ntype = %s\ninterface = %s\n' "$name" "$type" "$dev"
	  for kv in "$@"; do printf '%s\n' "$kv"; done; } > "$name.ini"
}
# A server in NS answering "ok" on PORT, IPv4 and IPv6 (:: takes both).
serve() { # NS PORT
	ip netns exec "$1" sh -c "while :; do echo ok | nc -6 -l $2 -q 0 >/dev/null 2>&1 || sleep 0.1; done" &
}
tcp_ok() { # NS HOST PORT: a TCP connection and its reply
	[ "$(ip netns exec "$1" nc -w 2 -N "$2" "$3" </dev/null 2>/dev/null | head -c 2)" = ok ]
}
pings6() { inA ping -6 -c "${2:-3}" -i 0.2 -W 1 -q "${1:-fd67::2}" 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
pings4() { inA ping -c "${1:-3}" -i 0.2 -W 1 -q 10.67.0.2 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# udp_count PORT TO: N datagrams A -> B:PORT, 0.5 ms apart; netcount's line
udp_count() {
	inB "$NC" recv "$1" $N 25 > recv.out 2>&1 &
	rpid=$!
	wait_for 5000 grep -q ready recv.out || { kill $rpid; echo "receiver not ready"; return 1; }
	inA "$NC" send "$2" "$1" $N 500 200
	wait $rpid
	grep received= recv.out
}
within4() { # OBSERVED N P: |observed - N p| <= 4 sigma, binomial
	awk -v o="$1" -v n="$2" -v p="$3" 'BEGIN { m = n * p; s = sqrt(n * p * (1 - p));
		printf "%d of %d = %.2f%%, expected %.1f ± %.1f (4σ = %.1f)", o, n, 100 * o / n, m, s, 4 * s;
		exit !((o - m) <= 4 * s && (m - o) <= 4 * s) }'
}
# Forget B's link-layer address (and B forgets A's): the next packet
# between them needs neighbour discovery (or ARP) to be answered.
forget() {
	inA ip -6 neigh flush dev "$dev"
	inB ip -6 neigh flush dev "$peer"
	inA ip neigh flush dev "$dev"
	inB ip neigh flush dev "$peer"
}
reachable6() { inA ip -6 neigh show fd67::2 dev "$dev" | grep -qE 'REACHABLE|DELAY|PROBE|STALE'; }

serve "$B" 8080
serve "$B" 8081
serve "$B" 22
serve "$A" 22
wait_for 3000 tcp_ok "$A" fd67::2 8081 && wait_for 3000 tcp_ok "$A" 10.67.0.2 8081 || fail "test servers did not come up"
[ "$(pings6)" = 3 ] && [ "$(pings4)" = 3 ] && pass "baseline: ping and ping -6 get through" || fail "baseline pings"
line=$(udp_count 7001 fd67::2)
[ "$(field missing "$line")" = 0 ] && pass "baseline UDP over IPv6: $line" || fail "baseline UDP over IPv6 lossy: $line"
baseline=$(tc_state)

# --- loss 30% of UDP to a v6 destination /64: counted, and IPv4 untouched ---
scen loss6 loss 'percent = 30%' 'protocol = udp' 'dst = fd67::/64'
run_bg loss6
line=$(udp_count 7001 fd67::2)
if r=$(within4 "$(field missing "$line")" $N 0.30); then pass "loss 30% over IPv6 (dst fd67::/64): lost $r"; else fail "loss over IPv6: $r ($line)"; fi
line=$(udp_count 7001 10.67.0.2)
[ "$(field missing "$line")" = 0 ] && pass "loss over IPv6: UDP over IPv4 to the same host untouched" || fail "loss6 hit IPv4: $line"
stop loss6
grep -qE 'dropped [1-9][0-9]* of [0-9]+ matching packets' loss6.out && pass "loss over IPv6: the run reports what it dropped" ||
	fail "loss6: no drop count: $(cat loss6.out)"

# --- loss 30% of ICMPv6 echo (protocol = icmp means ICMPv6 for IPv6), by a v6 source ---
scen icmp6 loss 'percent = 30%' 'protocol = icmp' 'src = fd67::1/128'
run_bg icmp6
got=$(inA ping -6 -c 1000 -i 0.002 -W 1 -q fd67::2 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
# A lost request or a lost... only requests leave A from fd67::1: one draw per ping.
if r=$(within4 $((1000 - ${got:-0})) 1000 0.30); then pass "loss 30% of ICMPv6 from src fd67::1/128: ping -6 lost $r"; else fail "icmp6 loss: $r"; fi
[ "$(pings4 5)" = 5 ] && pass "loss of ICMPv6: IPv4 ping untouched" || fail "icmp6 loss hit IPv4 ping"
stop icmp6

# --- blackhole of TCP from a v6 source to one port: that port, over v6 only ---
scen port6 blackhole 'protocol = tcp' 'dport = 8080' 'src = fd67::1/128'
run_bg port6
tcp_ok "$A" fd67::2 8080 && fail "blackhole src fd67::1: [fd67::2]:8080 still answers" || pass "blackhole src fd67::1/128 dport 8080: [fd67::2]:8080 does not answer"
tcp_ok "$A" fd67::2 8081 && pass "blackhole over IPv6: [fd67::2]:8081 still works" || fail "blackhole on 8080 broke [fd67::2]:8081"
tcp_ok "$A" 10.67.0.2 8080 && pass "blackhole over IPv6: 10.67.0.2:8080 over IPv4 still works" || fail "v6 blackhole broke IPv4 8080"
stop port6
tcp_ok "$A" fd67::2 8080 && pass "after the run, [fd67::2]:8080 answers again" || fail "[fd67::2]:8080 still broken after the run"

# --- blackhole of the whole /64, both directions: ND and the protected port pass ---
for dir in egress ingress; do
	if [ $dir = egress ]; then m='dst = fd67::/64'; else m='src = fd67::/64'; fi
	scen bh64-$dir blackhole "direction = $dir" "$m"
	forget
	run_bg bh64-$dir
	[ "$(pings6)" = 0 ] && pass "blackhole of fd67::/64 ($dir): ping -6 does not get through" || fail "bh64 $dir: ping -6 got through"
	tcp_ok "$A" fd67::2 8081 && fail "bh64 $dir: TCP 8081 over IPv6 got through" || pass "blackhole of fd67::/64 ($dir): TCP 8081 over IPv6 does not get through"
	[ "$(pings4)" = 3 ] && pass "blackhole of fd67::/64 ($dir): IPv4 ping untouched" || fail "bh64 $dir hit IPv4"
	# Each side forgot the other: only neighbour discovery gets them there.
	forget
	tcp_ok "$A" fd67::2 22 && pass "blackhole of fd67::/64 ($dir), neighbours forgotten: TCP to [fd67::2]:22 works (neighbour discovery passes)" ||
		fail "bh64 $dir: [fd67::2]:22 blocked after the neighbours were forgotten: $(inA ip -6 neigh show dev "$dev")"
	reachable6 && pass "blackhole of fd67::/64 ($dir): A's neighbour entry for fd67::2 resolved: $(inA ip -6 neigh show fd67::2 dev "$dev")" ||
		fail "bh64 $dir: no neighbour entry: $(inA ip -6 neigh show dev "$dev")"
	forget
	tcp_ok "$B" fd67::1 22 && pass "blackhole of fd67::/64 ($dir), neighbours forgotten: TCP from B to [fd67::1]:22 works" ||
		fail "bh64 $dir: B -> [fd67::1]:22 blocked"
	stop bh64-$dir
done

# --- a blackhole of ICMPv6 drops echo but not neighbour discovery ---
scen bhicmp6 blackhole 'protocol = icmp' 'dst = fd67::/64'
forget
run_bg bhicmp6
[ "$(pings6)" = 0 ] && pass "blackhole of ICMPv6 to fd67::/64: ping -6 (echo) does not get through" || fail "bhicmp6: echo got through"
forget
tcp_ok "$A" fd67::2 8081 && pass "blackhole of ICMPv6, neighbours forgotten: TCP 8081 over IPv6 works (ND's ICMPv6 is not matched)" ||
	fail "bhicmp6: TCP over IPv6 blocked: ND matched? $(inA ip -6 neigh show dev "$dev")"
reachable6 && pass "blackhole of ICMPv6: A's neighbour entry for fd67::2 resolved" || fail "bhicmp6: no neighbour entry"
forget
tcp_ok "$B" fd67::1 22 && pass "blackhole of ICMPv6, neighbours forgotten: TCP from B to [fd67::1]:22 works (A's neighbour advertisement passes)" ||
	fail "bhicmp6: B -> [fd67::1]:22 blocked: A's NA matched?"
[ "$(pings4)" = 3 ] && pass "blackhole of ICMPv6 to a v6 /64: IPv4 ping untouched" || fail "bhicmp6 hit IPv4 ping"
stop bhicmp6
grep -qE 'dropped [1-9][0-9]* of [0-9]+ matching packets' bhicmp6.out && pass "blackhole of ICMPv6: the run reports what it dropped" ||
	fail "bhicmp6: no drop count: $(cat bhicmp6.out)"

# --- protocol = icmpv6: ICMPv6 alone (echo, not ND), not IPv4's ICMP ---
scen bhicmpv6 blackhole 'protocol = icmpv6'
forget
run_bg bhicmpv6
[ "$(pings6)" = 0 ] && pass "protocol = icmpv6: ping -6 (echo) does not get through" || fail "protocol = icmpv6: echo got through"
[ "$(pings4)" = 3 ] && pass "protocol = icmpv6: IPv4 ping (ICMP) untouched" || fail "protocol = icmpv6 dropped IPv4's ICMP"
forget
tcp_ok "$A" fd67::2 8081 && pass "protocol = icmpv6, neighbours forgotten: TCP 8081 over IPv6 works (ND is not matched)" ||
	fail "protocol = icmpv6: TCP over IPv6 blocked: ND matched? $(inA ip -6 neigh show dev "$dev")"
forget
tcp_ok "$B" fd67::1 22 && pass "protocol = icmpv6, neighbours forgotten: TCP from B to [fd67::1]:22 works" ||
	fail "protocol = icmpv6: B -> [fd67::1]:22 blocked"
stop bhicmpv6

[ -z "$(ls run/runs 2>/dev/null)" ] && pass "no journal left" || fail "journal left: $(ls run/runs)"
t_done
