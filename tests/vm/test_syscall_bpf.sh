#!/bin/sh
# VM tier: syscall errors for running processes through the eBPF backend
# (fmod_ret on LSM hooks), on processes sabot did not start, inside and
# outside a target cgroup.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
cg=/sys/fs/cgroup/sabot-vms-$id
writer=/sabot/build/tests/helpers/writer
opener=/sabot/build/tests/helpers/opener
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	[ -d "$cg" ] && { for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done; sleep 0.2; rmdir "$cg"; }
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
mkdir -p data locked out
echo secret > locked/f
mkdir "$cg" || { fail "cannot create $cg"; t_done; }
incg() { sh -c "echo \$\$ > $cg/cgroup.procs && exec \"\$@\"" sh "$@"; }
field() { sed -n "s|^$T_TMP/$2 .*$3=\([0-9]*\).*|\1|p" "$1"; }

cat > bpf.ini <<INI
[scenario]
name = bpf
duration = 60s
[target app]
cgroup = sabot-vms-$id
[fault w]
type = syscall-error
target = app
syscalls = write
errno = EIO
probability = 25%
path = $T_TMP/data/
[fault o]
type = syscall-error
target = app
syscalls = openat
errno = EACCES
path = $T_TMP/locked/
INI
# Each run writes a log of its own: the background shell truncates a
# shared one only when it gets to run, and the wait below could first read
# the last run's "failing openat" (it did, on 6.12, whose slower BPF load
# left the fault not yet active).
runs=0
start_run() {
	runs=$((runs + 1))
	out=run$runs.out
	$S run bpf.ini > "$out" 2>&1 &
	runner=$!
	wait_for 20000 grep -q "o: failing openat" "$out" || fail "the faults were not applied: $(cat "$out")"
}
start_run
pass "the eBPF backend attached (fmod_ret on security_file_permission and security_file_open)"
# A process sabot did not start, in the target cgroup.
incg $writer 2000 "$T_TMP/out/in" "$T_TMP/data/a" &
w=$!
wait_for 20000 test -s out/in
kill $w
eio=$(field out/in data/a eio)
other=$(field out/in data/a other)
if [ -n "$eio" ] && [ "$eio" -ge 423 ] && [ "$eio" -le 577 ]; then pass "in the cgroup: $eio of 2000 writes got EIO (25%, within 4 sigma)"; else
	fail "in the cgroup: ${eio:-?} of 2000 writes got EIO, want 423..577"
fi
[ "$other" = 0 ] && pass "and no other errno" || fail "other errnos: $other"
incg cat locked/f >/dev/null 2>&1 && fail "in the cgroup, openat under locked/ succeeded" || pass "in the cgroup, openat under locked/ fails"
# Outside the cgroup: untouched.
$writer 2000 "$T_TMP/out/out" "$T_TMP/data/b" &
w=$!
wait_for 20000 test -s out/out
kill $w
[ "$(field out/out data/b eio)" = 0 ] && pass "outside the cgroup: no write failed" || fail "outside: $(cat out/out)"
cat locked/f >/dev/null 2>&1 && pass "outside the cgroup, openat under locked/ works" || fail "outside, openat failed"
# Cost on a process that is not targeted, while the fault is active.
with=$($opener 20000 locked/f | sed -n 's/ns_per_open=\([0-9]*\).*/\1/p')
kill -TERM $runner
wait $runner
rc=$?
[ $rc = 4 ] && pass "SIGTERM exits 4" || fail "exit $rc: $(cat "$out")"
incg cat locked/f >/dev/null 2>&1 && pass "revert stops the errors at once" || fail "still failing after the run"
without=$($opener 20000 locked/f | sed -n 's/ns_per_open=\([0-9]*\).*/\1/p')
echo "    openat(2) of an untargeted process: ${without} ns without a fault, ${with} ns with an eBPF fault active"
[ -n "$with" ] && [ -n "$without" ] && pass "measured openat cost: $without ns -> $with ns" || fail "no openat figures"

# SIGKILL of the runner detaches the programs.
start_run
incg cat locked/f >/dev/null 2>&1 && fail "fault not active for the SIGKILL test" || pass "active again"
kill -9 $runner
wait $runner 2>/dev/null
wait_for 1000 incg cat locked/f >/dev/null 2>&1 && pass "SIGKILL of the runner detaches the programs" || fail "still failing after SIGKILL"
wait_for 3000 no_journals && pass "and the guardian removed the journal" || fail "journal left"

# A syscall the hooks cannot cover is refused, with the list of those they can.
sed 's/^syscalls = write$/syscalls = fsync/' bpf.ini > fsync.ini
expect_exit 2 "fsync on a running process is refused" $S validate fsync.ini
expect_out "naming what the eBPF backend covers" "cannot fail 'fsync'; it covers .*openat.*write"
t_done
