#!/bin/sh
# VM tier: on a distribution kernel, sabot doctor finds every fault kind and
# backend available: netem, ifb, act_mirred, clsact, the eBPF LSM hooks.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
trap t_cleanup_tmp EXIT
for m in sch_netem ifb act_mirred cls_bpf sch_ingress; do modprobe "$m"; done
expect_exit 0 "sabot doctor: everything supported on Debian's kernel" "$SABOT" doctor
expect_out "netem" '^  latency: netem +ok$'
expect_out "ifb" '^  latency: ifb +ok$'
expect_out "act_mirred" '^  latency: act_mirred +ok$'
expect_out "clsact and cls_bpf" '^  loss, blackhole \(clsact \+ cls_bpf\) +ok$'
expect_out "the eBPF security-hook backend" '^  running processes \(eBPF LSM hooks\) +ok$'
expect_out "the seccomp backend" '^  launched targets \(seccomp notify\) +ok$'
expect_out "and says so" '^everything is supported$'
[ -z "$(ip -o link show | grep sabot-)" ] && pass "doctor left no link behind" || fail "doctor left a link"
t_done
