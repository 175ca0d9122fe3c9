#!/bin/sh
# VM tier: on each distribution kernel, sabot doctor finds every fault kind
# and backend available once the modules are loaded: netem, ifb,
# act_mirred, clsact, the eBPF LSM hooks. Before, with sch_netem unloaded,
# it advises modprobe: this kernel loads modules and ships that one (the
# host tier checks the other advice, on a kernel without modules).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
trap t_cleanup_tmp EXIT
. "$(dirname "$0")/vmlib.sh"
# Everything else latency needs, loaded first: its probe must get as far
# as netem whichever tests ran before (alone, it stopped at clsact).
load_modules ifb act_mirred cls_bpf sch_ingress >/dev/null
# Nothing in this initramfs loads modules on demand (no /sbin/modprobe for
# the kernel to call), so an unloaded module stays unloaded.
if [ -e /proc/modules ] && grep -q "/sch_netem\.ko" /lib/modules/"$(uname -r)"/modules.dep 2>/dev/null; then
	rmmod sch_netem 2>/dev/null
	if [ ! -d /sys/module/sch_netem ]; then
		expect_exit 6 "without sch_netem loaded, sabot doctor exits 6" "$SABOT" doctor
		expect_out "and advises modprobe, which works here" "latency: netem +UNSUPPORTED: .*try 'modprobe sch_netem' \(CONFIG_NET_SCH_NETEM\)"
	else
		skip "sch_netem is in use and cannot be unloaded: doctor's modprobe advice not tried"
	fi
else
	skip "sch_netem is built in here: doctor's modprobe advice not tried"
fi
why=$(load_modules sch_netem ifb act_mirred cls_bpf sch_ingress) || echo "    ($why: doctor must say so)"
OUT=$("$SABOT" doctor 2>&1)
rc=$?
doctor_all_supported $rc "$OUT" && pass "sabot doctor: everything supported on this kernel (exit $rc)" ||
	fail "sabot doctor: not everything is supported on this kernel (exit $rc)"
# The whole output, for the README's per-kernel summary.
printf '%s\n' "$OUT" | sed 's/^/    doctor| /'
expect_out "netem" '^  latency: netem +ok$'
expect_out "ifb" '^  latency: ifb +ok$'
expect_out "act_mirred" '^  latency: act_mirred +ok$'
expect_out "clsact and cls_bpf" '^  loss, blackhole \(clsact \+ cls_bpf\) +ok$'
expect_out "the eBPF security-hook backend" '^  running processes \(eBPF LSM hooks\) +ok$'
expect_out "the seccomp backend" '^  launched targets \(seccomp notify\) +ok$'
expect_out "cgroup.freeze" '^  pause by cgroup.freeze +ok$'
expect_out "PSI" '^  psi \(/proc/pressure\) +ok$'
printf '%s\n' "$OUT" | grep -q '^everything is supported$' && pass "and says so" ||
	fail "and says so (no summary line in the output)"
[ -z "$(ip -o link show | grep sabot-)" ] && pass "doctor left no link behind" || fail "doctor left a link"
t_done
