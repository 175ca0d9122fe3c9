#!/bin/sh
# The classifier's cost on traffic it does not match: TCP throughput
# between two namespaces over a veth pair (iperf3), without a fault and with
# an active loss fault whose matches select nothing, in the same run.
#   throughput.sh SABOT [SECONDS] [ROUNDS]
set -u
SABOT=$1
secs=${2:-3}
rounds=${3:-3}
id=$$
A=sabot-bt-$id-a
B=sabot-bt-$id-b
T=$(mktemp -d /tmp/sabot-bench.XXXXXX)
chmod 755 "$T"
cleanup() {
	[ -n "${runner:-}" ] && kill -TERM "$runner" 2>/dev/null && wait "$runner" 2>/dev/null
	ip netns pids "$B" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$A" && ip netns add "$B" &&
	ip link add sabot-bt0 netns "$A" type veth peer name sabot-bt1 netns "$B" &&
	ip -n "$A" addr add 10.44.0.1/24 dev sabot-bt0 && ip -n "$B" addr add 10.44.0.2/24 dev sabot-bt1 &&
	ip -n "$A" link set sabot-bt0 up && ip -n "$B" link set sabot-bt1 up && ip -n "$A" link set lo up && ip -n "$B" link set lo up ||
	exit 1
ip netns exec "$B" iperf3 -s -D -1 >/dev/null 2>&1 || true
gbps() { # one iperf3 run, Gbit/s received
	ip netns exec "$B" iperf3 -s -1 -D >/dev/null 2>&1
	sleep 0.3
	ip netns exec "$A" iperf3 -c 10.44.0.2 -t "$secs" -J 2>/dev/null |
		awk -F: '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { gsub(/[ ,]/, "", $2); printf "%.2f\n", $2 / 1e9; exit }'
}
cat > "$T/nomatch.ini" <<INI
[scenario]
name = bench-nomatch
duration = 10m
[fault d]
type = loss
interface = sabot-bt0
percent = 50%
dst = 192.0.2.0/24
INI
without="" with=""
for r in $(seq "$rounds"); do
	without="$without $(gbps)"
	nsenter --net=/run/netns/"$A" "$SABOT" --state-dir "$T/s" --run-dir "$T/r" run --yes "$T/nomatch.ini" </dev/null >"$T/run.log" 2>&1 &
	runner=$!
	i=0
	until ip netns exec "$A" tc filter show dev sabot-bt0 egress | grep -q sabot_net || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
	with="$with $(gbps)"
	kill -TERM "$runner"
	wait "$runner"
	runner=""
done
mean() { echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF }'; }
mw=$(mean $without)
mf=$(mean $with)
echo "classifier cost on non-matching traffic: iperf3 TCP over veth, ${rounds} x ${secs}s each:"
echo "  without a fault:                   $mw Gbit/s  (runs:$without)"
echo "  with a loss fault matching nothing: $mf Gbit/s  (runs:$with)"
awk -v a="$mw" -v b="$mf" 'BEGIN { printf "  difference: %+.1f%%\n", (b - a) / a * 100 }'
