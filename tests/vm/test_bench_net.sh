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
# The figures (100 rounds of 37 arms) take ~30 min under qemu's TCG: they
# are run when this test is asked for alone (VM_ONLY=test_bench_net.sh, or
# make bench BENCH_VM=1); in the whole tier a smoke run of 3 rounds checks
# that every arm works, and says it is no benchmark.
trials=100
case ${SABOT_VM_ONLY:-} in
test_bench_net*) ;;
*) trials=3 && export SABOT_BENCH_SMOKE=1 ;;
esac
# As it comes (its progress too: under qemu's TCG this takes many minutes).
{
	$bench /sabot/build/bpf/net_filter.bpf.o "$trials" 2>&1
	echo $? > "$T_TMP/rc"
} | tee "$T_TMP/bench.txt" | sed 's/^/    /'
rc=$(cat "$T_TMP/rc")
[ $rc = 0 ] && pass "bench/net_apply ran" || fail "bench/net_apply exit $rc"
for kind in latency corrupt duplicate reorder bandwidth 'loss in bursts'; do
	grep -q "^$kind" "$T_TMP/bench.txt" && grep -q "sabot $kind" "$T_TMP/bench.txt" &&
		pass "and measured $kind against the tc lines" || fail "$kind not measured"
done
t_done
