#!/bin/sh
# VM tier: what this machine's kernel lacks and production kernels have —
# sch_netem, sch_fq, and the ifb + act_mirred path the latency fault uses.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
a=sabot-vm-a
b=sabot-vm-b
cleanup() {
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT

# Each module, loaded, or built into this kernel (kernels differ in what
# they build in); one the kernel does not have at all is a skip.
for m in veth sch_netem sch_fq ifb act_mirred cls_bpf cls_matchall sch_ingress; do
	if grep -qE "/$m\.ko" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null; then
		pass "$m is built in"
	elif ! grep -qE "/$m\.ko" "/lib/modules/$(uname -r)/modules.dep" 2>/dev/null; then
		skip "$m: this kernel ($(uname -r)) has it neither as a module nor built in"
	elif modprobe "$m" 2>"$T_TMP/err"; then pass "modprobe $m"; else fail "modprobe $m: $(cat "$T_TMP/err")"; fi
done

ip netns add "$a" && ip netns add "$b" &&
	ip link add sabot-vm0 netns "$a" type veth peer name sabot-vm1 netns "$b" &&
	ip -n "$a" addr add 10.77.0.1/24 dev sabot-vm0 && ip -n "$b" addr add 10.77.0.2/24 dev sabot-vm1 &&
	ip -n "$a" link set sabot-vm0 up && ip -n "$b" link set sabot-vm1 up &&
	ip -n "$a" link set lo up && ip -n "$b" link set lo up
[ $? = 0 ] && pass "two namespaces joined by a veth pair" || fail "namespace setup"

. "$(dirname "$0")/vmlib.sh"
avg_rtt() { # prints the median RTT in ms of N pings from a to b
	ip netns exec "$a" ping -c "$1" -i 0.2 -W 2 10.77.0.2 | rtt_stats | cut -d' ' -f2
}
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

base=$(avg_rtt 5)
[ -n "$base" ] && pass "baseline ping: ${base} ms" || fail "baseline ping"

if tc -n "$a" qdisc add dev sabot-vm0 root netem delay 100ms; then
	pass "netem qdisc created"
	rtt=$(avg_rtt 10)
	if within "$rtt" 95 160; then pass "netem delay 100ms: rtt ${base} -> ${rtt} ms"; else fail "netem delay 100ms: rtt ${base} -> ${rtt} ms"; fi
	tc -n "$a" qdisc del dev sabot-vm0 root
else
	fail "netem qdisc"
fi

if tc -n "$b" qdisc add dev sabot-vm1 root fq && tc -n "$b" qdisc del dev sabot-vm1 root; then
	pass "fq qdisc"
else
	fail "fq qdisc"
fi

# The latency fault's path (DESIGN.md): the interface's root qdisc stays;
# clsact steers packets with act_mirred to an ifb whose root is netem.
ip -n "$a" link add sabot-vmifb type ifb && ip -n "$a" link set sabot-vmifb up &&
	tc -n "$a" qdisc add dev sabot-vmifb root netem delay 50ms &&
	tc -n "$a" qdisc add dev sabot-vm0 clsact &&
	tc -n "$a" filter add dev sabot-vm0 egress matchall action mirred egress redirect dev sabot-vmifb
if [ $? = 0 ]; then
	pass "ifb with netem, clsact with a mirred redirect"
	rtt=$(avg_rtt 10)
	if within "$rtt" 45 110; then pass "egress steered through the ifb: rtt ${base} -> ${rtt} ms"; else fail "steered through the ifb: rtt ${base} -> ${rtt} ms"; fi
	tc -n "$a" qdisc del dev sabot-vm0 clsact
	ip -n "$a" link del sabot-vmifb
	rtt=$(avg_rtt 5)
	if within "$rtt" 0 20; then pass "removed: rtt back to ${rtt} ms"; else fail "after removal rtt ${rtt} ms"; fi
else
	fail "ifb + mirred setup"
fi
t_done
