#!/bin/sh
# VM tier: bench/net_apply where netem exists, so that every netem kind's
# apply and revert (latency, corrupt, duplicate, reorder, bandwidth, loss
# in bursts) is measured against the tc command lines too. Its figures go
# to the console log; the test checks that it ran to the end and measured
# each kind (no timing is asserted).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
trap t_cleanup_tmp EXIT
. "$(dirname "$0")/vmlib.sh"
why=$(load_modules veth sch_netem ifb act_mirred cls_bpf sch_ingress) || { skip "the network benchmark: $why"; t_done; }
# The u32 peers (bench/net_apply says so when it is missing).
load_modules cls_u32 >/dev/null 2>&1 || true
bench=/sabot/build/bench/net_apply
if [ ! -x "$bench" ]; then
	fail "no $bench in the initramfs"
	t_done
fi
# As it comes (its progress too: under qemu's TCG this takes many minutes).
{
	$bench /sabot/build/bpf/net_filter.bpf.o "${BENCH_TRIALS:-100}" 2>&1
	echo $? > "$T_TMP/rc"
} | tee "$T_TMP/bench.txt" | sed 's/^/    /'
rc=$(cat "$T_TMP/rc")
[ $rc = 0 ] && pass "bench/net_apply ran" || fail "bench/net_apply exit $rc"
for kind in latency corrupt duplicate reorder bandwidth 'loss in bursts'; do
	grep -q "^$kind" "$T_TMP/bench.txt" && grep -q "sabot $kind" "$T_TMP/bench.txt" &&
		pass "and measured $kind against the tc lines" || fail "$kind not measured"
done
t_done
