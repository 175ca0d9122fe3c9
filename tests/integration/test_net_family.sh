#!/bin/sh
# The netem family (corrupt, duplicate, reorder, bandwidth, loss with
# burst) on this host: validated and planned (the kernel objects each would
# create, the queue limit, the Gilbert-Elliott parameters), named in
# doctor, and, on a kernel without netem, refused by run with exit 6 and
# nothing left in the namespace. Their effect is tested in the VM tier
# (tests/vm/test_net_family.sh).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-itf-$id-a
B=sabot-itf-$id-b
dev=sabot-itf0
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

netns_pair "$A" "$B" "$dev" sabot-itf1 10.67.0.1 10.67.0.2 || { fail "namespace setup"; t_done; }
inA() { ip netns exec "$A" "$@"; }
tc_state() { ns_tc_state "$A" "$dev"; }
baseline=$(tc_state)
unchanged() {
	now=$(tc_state)
	if [ "$now" = "$baseline" ]; then pass "$1: the namespace's qdiscs, filters and links are exactly as before"; else
		fail "$1: tc state changed"
		printf '%s\n' "$now" | sed 's/^/    | /'
	fi
}

cat > fam.ini <<EOF
[scenario]
name = family
duration = 5s
[fault c]
type = corrupt
interface = $dev
percent = 5%
correlation = 25%
protocol = udp
[fault d]
type = duplicate
interface = $dev
percent = 10%
direction = ingress
[fault r]
type = reorder
interface = $dev
percent = 25%
delay = 10ms
[fault b]
type = bandwidth
interface = $dev
rate = 10mbit
delay = 20ms
dst = 10.67.0.0/24
[fault l]
type = loss
interface = $dev
percent = 5%
burst = 4
EOF
expect_exit 0 "validate accepts all five kinds" $S validate fam.ini
expect_out "as five faults" "valid: scenario family, 0 targets, 5 faults"
expect_exit 0 "plan shows them" inA $S plan fam.ini
expect_out "corrupt: what it does" "flip one bit in 5% of matching packets \(correlation 25%\)"
expect_out "duplicate: on ingress" "^      $dev \(ifindex [0-9]+\), ingress$"
expect_out "duplicate: what it does" "send 10% of matching packets twice"
expect_out "reorder: what it does" "send 25% of matching packets at once, delay the others by 10ms"
expect_out "bandwidth: the rate and the queue sized from rate x (delay + 100ms)" \
	"pace matching packets to 10mbit, delayed by 20ms; netem queue limit 100 packets"
expect_out "loss burst: netem's Gilbert-Elliott parameters" \
	"drop 5% of matching packets, 4 in a row on average \(netem Gilbert-Elliott: p 1.3157894%, r 25%\)"
[ "$(printf '%s\n' "$OUT" | grep -c 'would create: .*a sabot ifb device with a netem root qdisc')" = 5 ] &&
	pass "each of the five would create a sabot ifb with netem" || fail "would-create lines: $(printf '%s\n' "$OUT" | grep 'would create')"
expect_exit 0 "plan --json" inA $S plan --json fam.ini
expect_out "carries the same lines" '"pace matching packets to 10mbit, delayed by 20ms; netem queue limit 100 packets'

# Bad input: file:line, exit 2, nothing touched.
printf '[scenario]\nname = bad\nduration = 5s\n[fault r]\ntype = reorder\ninterface = %s\npercent = 25%%\n[fault b]\ntype = bandwidth\ninterface = %s\nrate = 10mbps\n[fault c]\ntype = corrupt\ninterface = %s\npercent = 120%%\n' \
	"$dev" "$dev" "$dev" > bad.ini
expect_exit 2 "invalid values exit 2" inA $S run bad.ini
expect_out "reorder without delay, at its section" "bad\.ini:4: fault 'r' \(type = reorder\) needs 'delay'"
expect_out "a rate in bytes, at its line" "bad\.ini:11: rate: '10mbps': bytes per second are not accepted"
expect_out "a percentage over 100%" "bad\.ini:15: percent: 120% is more than 100%"
unchanged "after the invalid scenario"

if inA tc qdisc add dev "$dev" root netem delay 1ms 2>/dev/null; then
	inA tc qdisc del dev "$dev" root
	skip "refusal without netem: this kernel has netem (the VM tier tests the effect)"
	t_done
fi
expect_exit 6 "doctor on a kernel without netem exits 6" $S doctor
expect_out "and names the family's row" "^  corrupt/duplicate/reorder/bandwidth +UNSUPPORTED: cannot create a netem qdisc"
for k in c d r b l; do
	# One fault of the scenario at a time: each alone is refused.
	awk -v k="$k" '/^\[fault /{ on = ($0 == "[fault " k "]") } /^\[scenario\]/{ on = 1 } on' fam.ini > one-$k.ini
	expect_exit 6 "fault $k alone: run exits 6 (unsupported here)" inA $S run one-$k.ini
	expect_out "naming netem" "one-$k\.ini:[0-9]+: fault '$k': type = [a-z]+ is not supported here: .*netem"
	expect_no_out "with nothing applied" "through sabot-|apply failed"
	unchanged "after the refused $k"
done
expect_exit 6 "all five at once: exit 6" inA $S run fam.ini
unchanged "after the refused scenario"
inA ip -o link show | grep -q 'sabot-[0-9a-f]*-' && fail "an ifb is left" || pass "no sabot ifb device in the namespace"
[ -z "$(ls run/runs 2>/dev/null)" ] && pass "no journal left" || fail "journal left: $(ls run/runs)"
t_done
