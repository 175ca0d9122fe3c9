#!/bin/sh
# vm-order: last (lockdown only ever goes up: the tests after it would run locked down)
# VM tier: sabot under kernel lockdown, as Debian's kernels impose it when
# booted with Secure Boot (integrity: CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT),
# and its stricter level, confidentiality. The level is raised at run time
# through securityfs, the same check the kernel makes at boot. At integrity
# only signed modules load (Debian signs its own) and every fault kind
# works; at confidentiality doctor's verdict on the eBPF backend must match
# what a run does.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
cg=/sys/fs/cgroup/sabot-vmlk-$id
cleanup() {
	[ -d "$cg" ] && { for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done; sleep 0.2; rmdir "$cg"; }
	t_cleanup_tmp
}
trap cleanup EXIT
incg() { sh -c "echo \$\$ > $cg/cgroup.procs && exec \"\$@\"" sh "$@"; }
lk=/sys/kernel/security/lockdown
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cd "$T_TMP" || exit 1
if [ ! -w "$lk" ]; then
	skip "no $lk: this kernel has no lockdown LSM"
	t_done
fi
if ! grep -q '\[none\]' "$lk"; then
	skip "lockdown is already $(sed -n 's/.*\[\(.*\)\].*/\1/p' "$lk") at boot (lockdown= on the command line): not raised by this test"
	t_done
fi
. "$(dirname "$0")/vmlib.sh"
why=$(load_modules sch_netem ifb act_mirred cls_bpf sch_ingress) || { skip "lockdown: $why"; t_done; }
mkdir -p locked
echo secret > locked/f
mkdir "$cg" || { fail "cannot create $cg"; t_done; }
cat > bpf.ini <<INI
[scenario]
name = lockdown
duration = 60s
[target app]
cgroup = sabot-vmlk-$id
[fault o]
type = syscall-error
target = app
syscalls = openat
errno = EACCES
path = $T_TMP/locked/
INI

# LEVEL: the eBPF fault fails openat under locked/ in the cgroup, then reverts.
bpf_run() {
	out=run-$1.out   # one log per run: see test_syscall_bpf.sh
	out=$(echo "$out" | tr -c 'a-z0-9.\n-' _)
	$S run bpf.ini > "$out" 2>&1 &
	runner=$!
	if wait_for 20000 grep -q "o: failing openat" "$out"; then
		incg cat locked/f >/dev/null 2>&1 && fail "$1: openat under locked/ works during the run" ||
			pass "$1: the eBPF fault fails openat in the target cgroup"
	else
		fail "$1: the fault was not applied: $(cat "$out")"
	fi
	kill -TERM $runner
	wait $runner
	incg cat locked/f >/dev/null 2>&1 && pass "$1: reverted" || fail "$1: openat still fails after the run"
}

echo integrity > "$lk"
grep -q '\[integrity\]' "$lk" && pass "lockdown raised to integrity (Secure Boot's level)" ||
	fail "lockdown is $(cat "$lk") after writing integrity"
# A module loaded after lockdown must be signed by a key the kernel trusts.
if [ -e /proc/modules ] && rmmod sch_netem 2>/dev/null; then
	modprobe sch_netem 2>"$T_TMP/err" && pass "integrity: Debian's signed sch_netem loads" ||
		fail "integrity: sch_netem does not load: $(cat "$T_TMP/err")"
fi
OUT=$($S doctor 2>&1)
rc=$?
doctor_all_supported $rc "$OUT" && pass "integrity: sabot doctor finds everything supported (exit $rc)" ||
	fail "integrity: sabot doctor does not find everything supported (exit $rc)"
printf '%s\n' "$OUT" | grep -v ' ok$' | sed 's/^/    doctor(integrity)| /'
bpf_run integrity

echo confidentiality > "$lk"
grep -q '\[confidentiality\]' "$lk" && pass "lockdown raised to confidentiality" ||
	fail "lockdown is $(cat "$lk") after writing confidentiality"
OUT=$($S doctor 2>&1)
rc=$?
printf '%s\n' "$OUT" | grep -v ' ok$' | sed 's/^/    doctor(confidentiality)| /'
case $rc in 0 | 6) pass "confidentiality: doctor exits $rc" ;; *) fail "confidentiality: doctor exits $rc" ;; esac
expect_no_out "confidentiality: and advises no modprobe" "modprobe"
if printf '%s\n' "$OUT" | grep -qE '^  running processes \(eBPF LSM hooks\) +ok$'; then
	bpf_run "confidentiality (doctor: ok)"
else
	expect_exit 6 "confidentiality: doctor says the eBPF backend does not load, and a run of it exits 6" $S run bpf.ini
	expect_out "saying why" "eBPF backend for running processes does not load"
	incg cat locked/f >/dev/null 2>&1 && pass "and nothing was applied" || fail "openat fails after a refused run"
fi
t_done
