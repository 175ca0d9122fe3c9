#!/bin/sh
# Breach to reverted: from the judgement that finds an SLO breached to the
# last fault reverted, as the run reports it (breach_to_reverted_ms), over
# TRIALS aborted runs with 10 active pause faults. The SLO is an exec probe
# that turns unhealthy when the benchmark creates a flag file.
#   breach_latency.sh SABOT [TRIALS]
set -u
SABOT=$1
N=${2:-25}
T=$(mktemp -d /tmp/sabot-bench.XXXXXX)
chmod 755 "$T"
cp "$(command -v sleep)" "$T/sabot-bbw"
pids=""
for i in $(seq 10); do
	"$T/sabot-bbw" 600 &
	pids="$pids $!"
done
trap 'kill -9 $pids 2>/dev/null; rm -rf "$T"' EXIT
{
	printf '[scenario]\nname = bench-breach\nduration = 1m\nsteady_state = 300ms\n'
	i=0
	for p in $pids; do
		printf '[target t%d]\npid = %d\n[fault p%d]\ntype = pause\ntarget = t%d\n' $i "$p" $i $i
		i=$((i + 1))
	done
	printf '[slo flag]\nprobe = exec\ncommand = /usr/bin/test ! -e %s/flag\ninterval = 100ms\ntimeout = 100ms\nmin_samples = 1\nmax_error_rate = 0%%\n' "$T"
} > "$T/b.ini"
stopped() { for p in $pids; do [ "$(cut -d' ' -f3 /proc/$p/stat)" = T ] || return 1; done; }
ms=""
for t in $(seq "$N"); do
	rm -f "$T/flag" "$T/r.json"
	"$SABOT" --state-dir "$T/s" --run-dir "$T/r" run --yes --report "$T/r.json" "$T/b.ini" </dev/null >/dev/null 2>&1 &
	runner=$!
	i=0
	until stopped || [ $i -gt 200 ]; do sleep 0.01; i=$((i + 1)); done
	touch "$T/flag"
	wait $runner
	v=$(sed -n 's/.*"breach_to_reverted_ms": \([0-9.]*\).*/\1/p' "$T/r.json")
	[ -n "$v" ] && ms="$ms $v"
done
echo "$ms" | tr ' ' '\n' | grep . | sort -n | awk -v n="$N" '
	{ v[NR] = $1 }
	END {
		if (NR == 0) { print "breach to reverted: no trial recorded a breach"; exit 1 }
		p50 = v[int(0.5 * (NR - 1) + 1.5)]; p99 = v[int(0.99 * (NR - 1) + 1.5)]
		printf "breach to reverted (%d of %d trials aborted by an SLO, 10 pause faults):\n", NR, n
		printf "  p50 %.2f ms  p99 %.2f ms  max %.2f ms (target: under 10 ms plus the faults'"'"' own revert time)\n", p50, p99, v[NR]
	}'
