#!/bin/sh
# VM tier: bench/net_apply where netem exists, so that the latency fault's
# apply and revert are measured against tc command lines too. Its figures
# go to the console log; the test checks that it ran to the end.
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
$bench /sabot/build/bpf/net_filter.bpf.o 20 > "$T_TMP/bench.txt" 2>&1
rc=$?
sed 's/^/    /' "$T_TMP/bench.txt"
[ $rc = 0 ] && pass "bench/net_apply ran" || fail "bench/net_apply exit $rc"
grep -q '^latency fault (ifb' "$T_TMP/bench.txt" && pass "and measured the latency fault" || fail "latency fault not measured"
t_done
