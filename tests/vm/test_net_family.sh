#!/bin/sh
# VM tier: the netem family (corrupt, duplicate, reorder, bandwidth, loss in
# bursts, by the 4-state model) on a kernel with netem, through sabot's ifb +
# netem, matched by the classifier (UDP to one port, a v6 destination,
# ingress, or TCP); each kind over IPv6 as well, latency included. Each
# share is counted on n = 2000 numbered datagrams (tests/helpers/netcount)
# and must lie within 4 sigma of what was programmed; the bandwidth within 10 % of the rate, with iperf3
# where the guest has it and with netcount's TCP sink as well.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
A=sabot-vmf-$id-a
B=sabot-vmf-$id-b
dev=sabot-vmf0
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
NC=$BUILD/tests/helpers/netcount
N=2000
cleanup() {
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
. "$(dirname "$0")/vmlib.sh"
why=$(load_modules veth sch_netem ifb act_mirred cls_bpf sch_ingress) || { skip "netem family: $why"; t_done; }
[ -x "$NC" ] || { fail "no $NC (make build/tests/helpers/netcount)"; t_done; }

netns_pair "$A" "$B" "$dev" sabot-vmf1 10.56.0.1 10.56.0.2 || { fail "namespace setup"; t_done; }
ip -n "$A" addr add fd56::1/64 dev "$dev" nodad && ip -n "$B" addr add fd56::2/64 dev sabot-vmf1 nodad ||
	{ fail "IPv6 addresses"; t_done; }
state() {
	ip -n "$A" -o link show | awk '{print $2}'
	tc -n "$A" qdisc show
	tc -n "$A" filter show dev "$dev" ingress
	tc -n "$A" filter show dev "$dev" egress
}
baseline=$(state)
unchanged() {
	now=$(state)
	[ "$now" = "$baseline" ] && pass "$1: links, qdiscs and filters exactly as before" || {
		fail "$1: state changed"
		echo "$now" | sed 's/^/    | /'
	}
}
has_filter() { tc -n "$A" filter show dev "$dev" egress | grep -q sabot_net; }
# field NAME LINE: the value of NAME=V in netcount's line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# within4 OBSERVED N P [FACTOR]: |observed - N p| <= 4 sigma, sigma^2 = N p (1-p) FACTOR
within4() {
	# busybox awk has no sqrt: Newton's iteration.
	awk -v o="$1" -v n="$2" -v p="$3" -v f="${4:-1}" 'BEGIN { m = n * p; v = n * p * (1 - p) * f;
		s = v > 1 ? v : 1; for (i = 0; i < 60; i++) s = (s + v / s) / 2;
		printf "%d of %d = %.2f%%, expected %.1f ± %.1f (4σ = %.1f), z = %.2f", o, n, 100 * o / n, m, s, 4 * s, (o - m) / s;
		exit !((o - m) <= 4 * s && (m - o) <= 4 * s) }'
}
# udp_count PORT EARLY_MS [TO]: N datagrams of 1000 bytes, 1 ms apart, A -> B
# (10.56.0.2 or TO); prints netcount's line
udp_count() {
	ip netns exec "$B" "$NC" recv "$1" $N "$2" > recv.out 2>&1 &
	rpid=$!
	wait_for 5000 grep -q ready recv.out || { kill $rpid; echo "receiver not ready"; return 1; }
	ip netns exec "$A" "$NC" send "${3:-10.56.0.2}" "$1" $N 1000 1000
	wait $rpid
	grep received= recv.out
}
# The ifb, netem and filter are built at the run's start, the rule off: the
# window is open once the run says it applies ("... through sabot-...").
opened() { grep -q ' through sabot-' "$1"; }
# start NAME: runs NAME.ini in A, waits for its filter and its window
start() {
	nsenter --net=/run/netns/"$A" $S run "$1.ini" > "$1.out" 2>&1 &
	runner=$!
	wait_for 10000 has_filter && wait_for 10000 opened "$1.out" || fail "$1: no filter attached: $(cat "$1.out")"
}
stop() {
	kill -TERM $runner
	wait $runner
	rc=$?
	[ $rc = 4 ] && pass "$1: SIGTERM exits 4" || fail "$1: exit $rc: $(cat "$1.out")"
	unchanged "$1: after the run"
}
fault() { # NAME TYPE KEYS...: a scenario with one fault on UDP port 7001 (or as the keys say)
	name=$1 type=$2
	shift 2
	{ printf '[scenario]\nname = %s\nduration = 120s\n[fault f]\ntype = %s\ninterface = %s\n' "$name" "$type" "$dev"
	  for kv in "$@"; do printf '%s\n' "$kv"; done; } > "$name.ini"
}

# The path itself neither loses, duplicates nor reorders.
line=$(udp_count 7001 25)
[ "$(field missing "$line")" = 0 ] && [ "$(field duplicates "$line")" = 0 ] && [ "$(field inversions "$line")" = 0 ] &&
	pass "baseline: $line" || fail "baseline is not clean: $line"

# --- corrupt: one bit flipped in 10 %; the receiver's checksums drop them ---
fault corrupt corrupt 'percent = 10%' 'protocol = udp' 'dport = 7001'
start corrupt
tc -n "$A" qdisc show | grep -q 'netem .*corrupt 10%' && pass "corrupt: netem has corrupt 10%" ||
	fail "corrupt: netem: $(tc -n "$A" qdisc show | grep netem)"
line=$(udp_count 7001 25)
bad=$(( $(field missing "$line") + $(field damaged "$line") ))
if r=$(within4 "$bad" $N 0.10); then pass "corrupt 10%: corrupted (lost or damaged) $r"; else fail "corrupt 10%: $r ($line)"; fi
stop corrupt
grep -qE 'steered [1-9][0-9]* of [0-9]+ packets seen to netem to corrupt 10% of them' corrupt.out &&
	pass "corrupt: the run reports what it steered to netem" || fail "corrupt: no outcome: $(cat corrupt.out)"

# --- corrupt over IPv6, matched by a v6 destination: UDP's checksum is mandatory there ---
fault corrupt6 corrupt 'percent = 10%' 'protocol = udp' 'dst = fd56::/64'
start corrupt6
line=$(udp_count 7001 25 fd56::2)
bad=$(( $(field missing "$line") + $(field damaged "$line") ))
if r=$(within4 "$bad" $N 0.10); then pass "corrupt 10% over IPv6: corrupted $r"; else fail "corrupt over IPv6: $r ($line)"; fi
line=$(udp_count 7001 25)
[ "$(field missing "$line")" = 0 ] && pass "corrupt over IPv6: IPv4 to the same host untouched" || fail "corrupt6 hit IPv4: $line"
stop corrupt6

# --- duplicate 10 % ---
fault duplicate duplicate 'percent = 10%' 'protocol = udp' 'dport = 7001'
start duplicate
line=$(udp_count 7001 25)
if r=$(within4 "$(field duplicates "$line")" $N 0.10); then pass "duplicate 10%: duplicated $r"; else fail "duplicate 10%: $r ($line)"; fi
[ "$(field missing "$line")" = 0 ] && pass "duplicate: nothing lost" || fail "duplicate: lost: $line"
stop duplicate
grep -qE 'steered [1-9][0-9]* of [0-9]+ packets seen to netem to send 10% of them twice' duplicate.out &&
	pass "duplicate: the run reports what it steered to netem" || fail "duplicate: no outcome: $(cat duplicate.out)"

# --- duplicate 10 % on ingress: B -> A, through the ifb back into A's stack ---
fault dupin duplicate 'percent = 10%' 'direction = ingress' 'protocol = udp' 'dport = 7003'
nsenter --net=/run/netns/"$A" $S run dupin.ini > dupin.out 2>&1 &
runner=$!
wait_for 10000 eval 'tc -n "$A" filter show dev "$dev" ingress | grep -q sabot_net' && wait_for 10000 opened dupin.out ||
	fail "dupin: no ingress filter: $(cat dupin.out)"
ip netns exec "$A" "$NC" recv 7003 $N 25 > recv.out 2>&1 &
rpid=$!
wait_for 5000 grep -q ready recv.out
ip netns exec "$B" "$NC" send 10.56.0.1 7003 $N 1000 1000
wait $rpid
line=$(grep received= recv.out)
if r=$(within4 "$(field duplicates "$line")" $N 0.10); then pass "duplicate 10% on ingress: duplicated $r"; else fail "duplicate on ingress: $r ($line)"; fi
stop dupin

# --- reorder 25 %, the others held 50 ms: the quarter arrives early, ahead of earlier ones ---
fault reorder reorder 'percent = 25%' 'delay = 50ms' 'protocol = udp' 'dport = 7001'
start reorder
tc -n "$A" qdisc show | grep -q 'netem .*delay 50ms.*reorder 25%' && pass "reorder: netem has delay 50ms reorder 25%" ||
	fail "reorder: netem: $(tc -n "$A" qdisc show | grep netem)"
line=$(udp_count 7001 25)
if r=$(within4 "$(field early "$line")" $N 0.25); then pass "reorder 25%: sent ahead (under 25 ms) $r"; else fail "reorder 25%: $r ($line)"; fi
# netem loses a few packets when it reorders (3 of 2000 seen on 6.1, none
# without reorder): at most 1 %.
[ "$(field inversions "$line")" -gt 0 ] && [ "$(field missing "$line")" -le $((N / 100)) ] &&
	pass "reorder: $(field inversions "$line") arrived after a later one, $(field missing "$line") lost" || fail "reorder: $line"
stop reorder

# --- loss in bursts: 10 %, 4 in a row on average (Gilbert-Elliott) ---
fault burst loss 'percent = 10%' 'burst = 4' 'protocol = udp' 'dport = 7001'
start burst
line=$(udp_count 7001 25)
lost=$(field missing "$line") runs=$(field runs "$line")
# A two-state chain's count has variance n pi (1-pi) (1+l)/(1-l), l = 1-p-r:
# p = 0.1/(4 * 0.9), r = 0.25.
f=$(awk 'BEGIN { p = 0.1 / 3.6; l = 1 - p - 0.25; print (1 + l) / (1 - l) }')
if r=$(within4 "$lost" $N 0.10 "$f"); then pass "loss 10% burst 4: lost $r"; else fail "loss burst: $r ($line)"; fi
mean=$(awk -v a="$lost" -v b="$runs" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
# About 50 bursts of mean 4 (geometric, sigma ~3.5): their mean has sigma ~0.5.
awk -v m="$mean" 'BEGIN { exit !(m >= 2.5 && m <= 6) }' && pass "loss burst: $runs bursts, $mean packets in a row on average (4 programmed)" ||
	fail "loss burst: mean burst $mean ($line)"
stop burst

# --- loss in bursts over IPv6, matched by a v6 destination ---
fault burst6 loss 'percent = 10%' 'burst = 4' 'protocol = udp' 'dst = fd56::/64'
start burst6
line=$(udp_count 7001 25 fd56::2)
if r=$(within4 "$(field missing "$line")" $N 0.10 "$f"); then pass "loss 10% burst 4 over IPv6: lost $r"; else fail "loss burst over IPv6: $r ($line)"; fi
line=$(udp_count 7001 25)
[ "$(field missing "$line")" = 0 ] && pass "loss burst over IPv6: IPv4 to the same host untouched" || fail "burst6 hit IPv4: $line"
stop burst6

# --- netem's 4-state model: p13 5%, p31 40%, p32 20%, p23 50%, p14 2% ---
# Stationary loss (p13 p23 + p14 p23 p31) / (p23 p31 + p13 p32 + p13 p23 +
# p14 p23 p31) = 0.029 / 0.239 = 12.13%. The count of losses of a Markov
# chain has variance n (Var f + 2 sum_k Cov(f(X_0), f(X_k))), f = 1 in the
# lost states 3 and 4: FACTOR is that over n mu (1 - mu), summed in awk.
gi_stats() { # P13 P31 P32 P23 P14: "MU FACTOR"
	awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v e="$5" 'BEGIN {
		P[1,1] = 1 - a - e; P[1,3] = a; P[1,4] = e; P[2,2] = 1 - d; P[2,3] = d
		P[3,1] = b; P[3,2] = c; P[3,3] = 1 - b - c; P[4,1] = 1
		pi[1] = 1; pi[4] = e; pi[3] = a / b; pi[2] = pi[3] * c / d; t = 0
		for (i = 1; i <= 4; i++) t += pi[i]; for (i = 1; i <= 4; i++) pi[i] /= t
		f[1] = 0; f[2] = 0; f[3] = 1; f[4] = 1; mu = pi[3] + pi[4]
		for (i = 1; i <= 4; i++) g[i] = f[i]; sum = 0
		for (k = 1; k <= 5000; k++) {
			for (i = 1; i <= 4; i++) { h[i] = 0; for (j = 1; j <= 4; j++) h[i] += P[i,j] * g[j] }
			cov = -mu * mu; for (i = 1; i <= 4; i++) { g[i] = h[i]; cov += pi[i] * f[i] * g[i] }
			sum += cov
		}
		printf "%.6f %.4f\n", mu, (mu * (1 - mu) + 2 * sum) / (mu * (1 - mu)) }'
}
fault gi loss 'model = 4state' 'p13 = 5%' 'p31 = 40%' 'p32 = 20%' 'p23 = 50%' 'p14 = 2%' 'protocol = udp' 'dport = 7001'
nsenter --net=/run/netns/"$A" $S plan gi.ini > gi.plan 2>&1
grep -q 'drop 12.1338912% of matching packets in the long run (netem 4-state: p13 5%, p31 40%, p32 20%, p23 50%, p14 2%)' gi.plan &&
	pass "4-state: sabot plan shows the stationary loss 12.13% and the five probabilities" || fail "4-state plan: $(cat gi.plan)"
start gi
q=$(tc -n "$A" qdisc show | grep netem)
echo "$q" | grep -q 'loss state p13 5% p31 40% p32 20% p23 50% p14 2%' && pass "4-state: netem has $(echo "$q" | grep -o 'loss state.*%')" ||
	fail "4-state: netem: $q"
line=$(udp_count 7001 25)
set -- $(gi_stats 0.05 0.40 0.20 0.50 0.02)
if r=$(within4 "$(field missing "$line")" $N "$1" "$2"); then pass "4-state, stationary loss 12.13% (variance factor $2): lost $r"; else fail "4-state: $r ($line)"; fi
stop gi
grep -qE 'steered [1-9][0-9]* of [0-9]+ packets seen to netem to drop 12.1338912% of them \(4-state model\)' gi.out &&
	pass "4-state: the run reports what it steered to netem" || fail "4-state: no outcome: $(cat gi.out)"

# --- the same chain over IPv6 ---
fault gi6 loss 'model = 4state' 'p13 = 5%' 'p31 = 40%' 'p32 = 20%' 'p23 = 50%' 'p14 = 2%' 'protocol = udp' 'dst = fd56::/64'
start gi6
line=$(udp_count 7001 25 fd56::2)
set -- $(gi_stats 0.05 0.40 0.20 0.50 0.02)
if r=$(within4 "$(field missing "$line")" $N "$1" "$2"); then pass "4-state over IPv6: lost $r"; else fail "4-state over IPv6: $r ($line)"; fi
stop gi6

# --- duplicate and reorder over IPv6 ---
fault dup6 duplicate 'percent = 10%' 'protocol = udp' 'dst = fd56::/64'
start dup6
line=$(udp_count 7001 25 fd56::2)
if r=$(within4 "$(field duplicates "$line")" $N 0.10); then pass "duplicate 10% over IPv6: duplicated $r"; else fail "duplicate over IPv6: $r ($line)"; fi
line=$(udp_count 7001 25)
[ "$(field duplicates "$line")" = 0 ] && pass "duplicate over IPv6: IPv4 untouched" || fail "dup6 hit IPv4: $line"
stop dup6
# Held 200 ms, "early" under 100 ms: a loaded guest's scheduling delays
# (tens of ms under TCG) do not turn packets sent at once into late ones.
fault reorder6 reorder 'percent = 25%' 'delay = 200ms' 'protocol = udp' 'dst = fd56::/64'
start reorder6
line=$(udp_count 7001 100 fd56::2)
if r=$(within4 "$(field early "$line")" $N 0.25); then pass "reorder 25% over IPv6: sent ahead (under 100 ms of 200) $r"; else fail "reorder over IPv6: $r ($line)"; fi
stop reorder6

# --- latency over IPv6: ICMPv6 echo to a v6 destination delayed, IPv4 ping not ---
fault lat6 latency 'delay = 100ms' 'protocol = icmp' 'dst = fd56::/64'
start lat6
rtt6=$(ip netns exec "$A" ping -6 -c 10 -i 0.1 -W 2 fd56::2 | rtt_stats | awk '{ print $2 }')
rtt4=$(ip netns exec "$A" ping -c 10 -i 0.1 -W 2 10.56.0.2 | rtt_stats | awk '{ print $2 }')
awk -v r="$rtt6" 'BEGIN { exit !(r >= 95 && r <= 150) }' && pass "latency 100ms over IPv6: ping -6 median RTT $rtt6 ms" ||
	fail "latency over IPv6: ping -6 median RTT '$rtt6' ms, want 95..150"
awk -v r="$rtt4" 'BEGIN { exit !(r != "" && r < 50) }' && pass "latency over IPv6: IPv4 ping untouched ($rtt4 ms)" ||
	fail "latency over IPv6 delayed IPv4: '$rtt4' ms"
stop lat6

# --- bandwidth 10mbit, on TCP ---
fault bw bandwidth 'rate = 10mbit' 'protocol = tcp'
start bw
tc -n "$A" qdisc show | grep -q 'netem .*limit 84 .*rate 10Mbit' && pass "bandwidth: netem has rate 10Mbit, limit 84 (rate x 100ms)" ||
	fail "bandwidth: netem: $(tc -n "$A" qdisc show | grep netem)"
# Goodput over the wire's bytes: netem paces whole frames (1448 bytes of
# payload in 1514 on the wire with TCP timestamps).
wire() { awk -v g="$1" 'BEGIN { printf "%.2f", g * 1514 / 1448 / 1e6 }'; }
ok10() { awk -v w="$1" 'BEGIN { exit !(w >= 9 && w <= 11) }'; }
if command -v iperf3 >/dev/null; then
	ip netns exec "$B" iperf3 -s -1 -p 5201 > iperf-s.out 2>&1 &
	spid=$!
	sleep 1
	ip netns exec "$A" iperf3 -c 10.56.0.2 -p 5201 -t 8 -O 2 -f k > iperf.out 2>&1
	wait $spid
	kb=$(awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Kbits/sec") v = $i } END { print v }' iperf.out)
	g=$(awk -v k="$kb" 'BEGIN { print k * 1000 }')
	w=$(wire "$g")
	ok10 "$w" && pass "bandwidth 10mbit: iperf3 goodput $(awk -v g="$g" 'BEGIN { printf "%.2f", g / 1e6 }') Mbit/s = $w Mbit/s on the wire" ||
		fail "bandwidth 10mbit: iperf3 $kb Kbit/s ($w on the wire): $(tail -4 iperf.out)"
else
	skip "iperf3: not in this guest (packaging/build-deps.sh --vm installs it on the host); netcount measures below"
fi
ip netns exec "$B" "$NC" sink 7002 2 6 > sink.out 2>&1 &
spid=$!
wait_for 5000 grep -q ready sink.out
ip netns exec "$A" "$NC" source 10.56.0.2 7002 9
wait $spid
g=$(field bits_per_s "$(grep bits_per_s sink.out)")
w=$(wire "${g:-0}")
ok10 "$w" && pass "bandwidth 10mbit: netcount goodput $(awk -v g="$g" 'BEGIN { printf "%.2f", g / 1e6 }') Mbit/s = $w Mbit/s on the wire" ||
	fail "bandwidth 10mbit: netcount $(cat sink.out) ($w on the wire)"
stop bw
grep -qE 'paced [1-9][0-9]* of [0-9]+ packets seen to 10mbit \(queue 84 packets\)' bw.out &&
	pass "bandwidth: the run reports what it paced" || fail "bandwidth: no outcome: $(cat bw.out)"

# --- bandwidth over IPv6: TCP to a v6 destination (1428 bytes of payload in 1514 with timestamps) ---
fault bw6 bandwidth 'rate = 10mbit' 'protocol = tcp' 'dst = fd56::/64'
start bw6
ip netns exec "$B" "$NC" sink 7002 2 6 > sink.out 2>&1 &
spid=$!
wait_for 5000 grep -q ready sink.out
ip netns exec "$A" "$NC" source fd56::2 7002 9
wait $spid
g=$(field bits_per_s "$(grep bits_per_s sink.out)")
w=$(awk -v g="${g:-0}" 'BEGIN { printf "%.2f", g * 1514 / 1428 / 1e6 }')
ok10 "$w" && pass "bandwidth 10mbit over IPv6: netcount goodput $(awk -v g="${g:-0}" 'BEGIN { printf "%.2f", g / 1e6 }') Mbit/s = $w Mbit/s on the wire" ||
	fail "bandwidth over IPv6: netcount $(cat sink.out) ($w on the wire)"
stop bw6

# SIGKILL of the runner: the guardian removes ifb, netem and filter within 1 s.
start corrupt
kill -9 $runner
sleep 1
unchanged "1 s after SIGKILL of the runner"
wait $runner 2>/dev/null
[ -z "$(ls run/runs 2>/dev/null)" ] && pass "no journal left" || fail "journal left"

# --- built at the run's start: before its window the fault's ifb, netem and
# filter exist with the rule off (nothing disturbed); the window is a map
# update. SIGKILLed there (and mid-window), the guardian reverts all of it
# from the journal; runner and guardian SIGKILLed together, recover does. ---
fault early duplicate 'percent = 10%' 'protocol = udp' 'dport = 7001' 'start = 100s' 'duration = 10s'
guardian_of() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' run/runs/*.journal 2>/dev/null | head -n 1; }
built() { has_filter && tc -n "$A" qdisc show | grep -q 'netem .*duplicate 10%' && grep -q 'built for the run' "$1"; }
for how in guardian recover; do
	for when in before mid; do
		t="$how-$when"
		if [ $when = before ]; then
			nsenter --net=/run/netns/"$A" $S run early.ini > "$t.out" 2>&1 &
			runner=$!
			wait_for 10000 built "$t.out" || fail "$t: not built at the run's start: $(cat "$t.out")"
			ip -n "$A" -o link show | grep -q ' sabot-[0-9a-f]*-0' && pass "$t: the ifb exists before the window" ||
				fail "$t: no ifb before the window"
			opened "$t.out" && fail "$t: the window opened early: $(cat "$t.out")"
			line=$(udp_count 7001 25)
			[ "$(field duplicates "$line")" = 0 ] && [ "$(field missing "$line")" = 0 ] &&
				pass "$t: before its window nothing is disturbed (rule off): $line" || fail "$t: disturbed before the window: $line"
		else
			cp corrupt.ini "$t.ini"
			start "$t"
		fi
		if [ $how = guardian ]; then
			kill -9 $runner
			sleep 1
			unchanged "$t: 1 s after SIGKILL of the runner ($when the window)"
			wait $runner 2>/dev/null
		else
			g=$(guardian_of)
			kill -STOP $runner
			[ -n "$g" ] && kill -9 "$g"
			kill -9 $runner
			wait $runner 2>/dev/null
			sleep 0.5
			[ -n "$(ip -n "$A" -o link show | grep ' sabot-[0-9a-f]*-0')" ] && pass "$t: runner and guardian SIGKILLed: the ifb is left" ||
				fail "$t: runner and guardian SIGKILLed, yet the ifb is gone (the test proves nothing)"
			nsenter --net=/run/netns/"$A" $S recover > "$t.rec" 2>&1
			rc=$?
			[ $rc = 0 ] && pass "$t: recover exits 0" || fail "$t: recover exit $rc: $(cat "$t.rec")"
			unchanged "$t: after recover ($when the window)"
		fi
		[ -z "$(ls run/runs 2>/dev/null)" ] && pass "$t: no journal left" || fail "$t: journal left: $(ls run/runs)"
	done
done
t_done
