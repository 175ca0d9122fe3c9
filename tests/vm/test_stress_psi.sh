#!/bin/sh
# VM tier: type = stress on a cgroup2 with its controllers (the host's is
# hybrid): the stress cgroup's hard limits (memory.max, memory.swap.max,
# cpu.max, pids.max) are written; stress-ng and its workers have
# oom_score_adj 1000, the OOM killer's first pick; real memory pressure
# (hogs throttled in a cgroup of their own under memory.high, PSI memory
# full avg10 past backoff_psi) freezes the workers, and they go on, said
# by the run, once it is gone; a hog taking MemAvailable below the
# policy's min_free_memory freezes them too, and validate refuses vm
# workers that would cross it.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
CG=/sys/fs/cgroup
H=$CG/sabot-vmpsi-$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
runner= hog= added=
cgroups() { ls -d "$CG"/sabot-psi$id-*-stress-* 2>/dev/null; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $hog; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for c in $(cgroups); do echo 1 > "$c/cgroup.kill"; wait_for 3000 rmdir "$c"; done 2>/dev/null
	for c in "$H/hog" "$H/big" "$H"; do [ -d "$c" ] && { echo 1 > "$c/cgroup.kill"; wait_for 3000 rmdir "$c"; }; done 2>/dev/null
	for c in $added; do echo "-$c" > $CG/cgroup.subtree_control 2>/dev/null; done
	left=$(cgroups)
	[ -n "$left" ] && echo "FAIL: stress cgroup left: $left"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
command -v stress-ng >/dev/null || { skip "stress-ng is not in this guest"; t_done; }
[ -e $CG/cgroup.controllers ] || { skip "cgroup2 is not mounted at $CG"; t_done; }
cat /proc/pressure/memory >/dev/null 2>&1 || { skip "no PSI on this kernel"; t_done; }
for c in cpu memory pids; do
	grep -qw "$c" $CG/cgroup.controllers || { skip "this kernel's cgroup2 has no $c controller"; t_done; }
	grep -qw "$c" $CG/cgroup.subtree_control || { echo "+$c" > $CG/cgroup.subtree_control && added="$added $c"; }
done
mkdir "$H" && echo +memory > "$H/cgroup.subtree_control" && mkdir "$H/hog" "$H/big" || { fail "cannot make $H"; t_done; }
echo 4194304 > "$H/hog/memory.high"
printf '[limits]\nmin_free_memory = 10%%\n' > policy.ini

cg() { cgroups | head -n 1; }
has_cg() { [ -n "$(cg)" ]; }
no_cg() { [ -z "$(cgroups)" ]; }
procs() { cat "$(cg)/cgroup.procs" 2>/dev/null; }
# stress-ng and its workers (cpu, vm), the vm worker's child too.
workers_up() { [ "$(procs | wc -l)" -ge 3 ]; }
frozen() { grep -qx 'frozen 1' "$(cg)/cgroup.events" 2>/dev/null; }
thawed() { grep -qx 'frozen 0' "$(cg)/cgroup.events" 2>/dev/null; }
usage() { sed -n 's/^usage_usec //p' "$(cg)/cpu.stat"; }
psi_full() { sed -n 's/^full avg10=\([0-9.]*\) .*/\1/p' /proc/pressure/memory; }
psi_below() { awk -v v="$(psi_full)" -v t="$1" 'BEGIN { exit !(v < t) }'; }
avail_mb() { awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo; }
# A hog: dd's one buffer of SIZE, filled from /dev/zero again and again,
# in cgroup DIR.
start_hog() { # DIR SIZE
	sh -c "echo \$\$ > $1/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=$2 count=1000000" 2>/dev/null &
	hog="$hog $!"
}
# A churning hog: a new dd of SIZE again and again, each one charged
# afresh (a dd that keeps its buffer is charged once, then stalls no more).
start_churn() { # DIR SIZE
	sh -c "echo \$\$ > $1/cgroup.procs && while :; do dd if=/dev/zero of=/dev/null bs=$2 count=1; done" 2>/dev/null &
	hog="$hog $!"
}
stop_hog() {
	for c in "$H/hog" "$H/big"; do echo 1 > "$c/cgroup.kill"; done
	for p in $hog; do wait "$p" 2>/dev/null; done
	hog=
}
# within SECS CMD...: poll CMD until it succeeds or SECS of the guest's
# uptime pass (wait_for counts its own sleeps, which a loaded TCG guest
# stretches many times over).
within() {
	end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && { "$@"; return; }
		sleep 0.25
	done
}
oom_all() { # every process of the stress cgroup at oom_score_adj 1000, at least 3
	bad= n=0
	for p in $(procs); do
		a=$(cat "/proc/$p/oom_score_adj" 2>/dev/null) || continue
		n=$((n + 1))
		[ "$a" = 1000 ] || bad="$bad $p:$a"
	done
	[ $n -ge 3 ] && [ -z "$bad" ]
}
cpu_ms() { # SECS: the stress cgroup's CPU time over that long, in ms
	u0=$(usage)
	sleep "$1"
	u1=$(usage)
	echo $(((u1 - u0) / 1000))
}
end_run() { # NAME: SIGTERM, exit 4, the cgroup gone
	kill -TERM "$runner"
	wait "$runner"
	rc=$?
	runner=
	[ $rc = 4 ] && pass "$1: SIGTERM ends the run (exit 4)" || { fail "$1: exit $rc"; sed 's/^/    | /' "$1.out"; }
	within 10 no_cg && pass "$1: the stress cgroup is gone" || fail "$1: left: $(cgroups)"
}

# ---- 1: hard limits and oom_score_adj ----
cat > lim.ini <<EOF
[scenario]
name = psi$id
duration = 120s
[fault s]
type = stress
cpu = 1
cpu_load = 50%
vm = 1
vm_bytes = 32M
EOF
expect_exit 0 "validate" $S validate lim.ini
$S run lim.ini > lim.out 2>&1 &
runner=$!
within 30 has_cg || { fail "no stress cgroup: $(cat lim.out)"; t_done; }
within 30 workers_up || fail "stress-ng's workers did not start: $(procs | tr '\n' ' ')"
c=$(cg)
v=$(cat "$c/memory.max")
[ "$v" = 100663296 ] && pass "memory.max $v (vm 1 x 32M + 64M)" || fail "memory.max '$v', want 100663296"
v=$(cat "$c/memory.swap.max" 2>/dev/null)
[ "$v" = 0 ] && pass "memory.swap.max 0" || fail "memory.swap.max '$v', want 0"
v=$(cat "$c/cpu.max")
[ "$v" = "50000 100000" ] && pass "cpu.max '$v' (1 worker x cpu_load 50%)" || fail "cpu.max '$v', want '50000 100000'"
v=$(cat "$c/pids.max")
[ "$v" = 72 ] && pass "pids.max $v" || fail "pids.max '$v', want 72"
grep -q "limits of $c: memory.max 100663296 cpu.max '50000 100000' pids.max 72" lim.out &&
	pass "the run says which limits it set" || { fail "no limits event"; sed 's/^/    | /' lim.out; }
within 10 oom_all && pass "oom_score_adj 1000 for stress-ng and its $((n - 1)) workers" ||
	fail "oom_score_adj not 1000 for:$bad ($n processes)"
# The first pick: every stress process scores above every other process.
lo=$(for p in $(procs); do cat "/proc/$p/oom_score"; done 2>/dev/null | sort -n | head -n 1)
hi=0
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	procs | grep -qx "$p" && continue
	s=$(cat "$d/oom_score" 2>/dev/null) || continue
	[ "$s" -gt "$hi" ] && hi=$s
done
[ -n "$lo" ] && [ "$lo" -gt "$hi" ] && pass "the OOM killer's first pick: stress scores >= $lo, every other process <= $hi" ||
	fail "oom_score: stress lowest ${lo:-none}, others up to $hi"
end_run lim

# ---- 2: back-off under real memory pressure ----
# Two hogs, one per vCPU, each a new dd of 32M after another under the
# memory.high 4M of their cgroup (no swap in the guest): each charge past
# it is reclaim and a throttling sleep, memory stalls, while stress's one
# CPU worker at 20% leaves the CPUs idle otherwise: PSI memory "full"
# (every non-idle task stalled) rises.
cat > psi.ini <<EOF
[scenario]
name = psi$id
duration = 300s
[fault s]
type = stress
cpu = 1
cpu_load = 20%
backoff_psi = 5%
EOF
# The pressure of what ran before must be gone first.
within 60 psi_below 1 || skip "memory PSI full avg10 is $(psi_full)% before the test"
$S run psi.ini > psi.out 2>&1 &
runner=$!
within 30 has_cg || { fail "psi: no stress cgroup: $(cat psi.out)"; t_done; }
ran=$(cpu_ms 2)
[ "$ran" -gt 50 ] && pass "before the pressure the worker runs: ${ran} ms of CPU in 2 s" || fail "the worker used ${ran} ms in 2 s"
thawed || fail "frozen before any pressure"
start_churn "$H/hog" 32M
start_churn "$H/hog" 32M
within 120 frozen && pass "under memory pressure the workers are stopped (cgroup.events frozen 1; PSI full avg10 now $(psi_full)%)" ||
	fail "not frozen; PSI full avg10 $(psi_full)%, memory.events of the hogs: $(tr '\n' ' ' < "$H/hog/memory.events")"
line=$(grep 'backing off: memory PSI full avg10' psi.out | head -n 1)
[ -n "$line" ] && pass "the run says it backed off: ${line#*backing off: }" || { fail "no back-off event"; sed 's/^/    | /' psi.out; }
echo "    hogs: memory.events $(tr '\n' ' ' < "$H/hog/memory.events")"
# Measured from a moment it is frozen: it may go on again meanwhile (the
# pressure below half the threshold), which this would count.
if frozen; then
	ran=$(cpu_ms 1)
	[ "$ran" -lt 10 ] && pass "frozen, the worker uses ${ran} ms of CPU in 1 s" || fail "while backed off the worker used ${ran} ms in 1 s"
fi
stop_hog
# avg10 decays over tens of seconds; they go on below half the threshold.
within 180 thawed && pass "the pressure gone (PSI full avg10 $(psi_full)%), the workers go on (frozen 0)" ||
	fail "still frozen, PSI full avg10 $(psi_full)%"
line=$(grep 'pressure gone' psi.out | head -n 1)
[ -n "$line" ] && pass "the run says so: ${line#*pressure gone }" || { fail "no resume event"; sed 's/^/    | /' psi.out; }
ran=$(cpu_ms 2)
[ "$ran" -gt 20 ] && pass "after the back-off the worker runs again: ${ran} ms in 2 s" || fail "after the back-off ${ran} ms in 2 s"
end_run psi
rep=$(sed -n 's/^ *report: //p' psi.out)
grep -qE '"backoffs": *[1-9]' "$rep" 2>/dev/null && pass "the report counts the back-off ($(grep -oE '"backoffs": *[0-9]+' "$rep"))" ||
	fail "report: no backoffs: $(head -c 400 "$rep" 2>/dev/null)"

# ---- 3: min_free_memory ----
a=$(avail_mb)
reserve=$((a - 200))
printf '[limits]\nmin_free_memory = %dM\n' "$reserve" > policy.ini
cat > big.ini <<EOF
[scenario]
name = psi$id
duration = 60s
[fault s]
type = stress
vm = 1
vm_bytes = 300M
EOF
expect_exit 2 "vm_bytes 300M with ${a}M available and min_free_memory ${reserve}M: refused" $S validate big.ini
expect_out "naming the policy key" "would leave .* of MemAvailable, which exceeds min_free_memory = "
cat > mem.ini <<EOF
[scenario]
name = psi$id
duration = 300s
[fault s]
type = stress
vm = 1
vm_bytes = 16M
backoff_psi = 90%
EOF
$S run mem.ini > mem.out 2>&1 &
runner=$!
within 30 has_cg && within 30 workers_up || fail "mem: stress did not start: $(cat mem.out)"
sleep 1
thawed && pass "mem: ${a}M available, min_free_memory ${reserve}M: the vm worker runs" || fail "mem: frozen at once"
# Another process takes 300M: MemAvailable below the reserve, whoever took it.
start_hog "$H/big" 300M
within 90 frozen && pass "mem: MemAvailable $(avail_mb)M below min_free_memory ${reserve}M: the workers are stopped" ||
	fail "mem: not frozen with MemAvailable $(avail_mb)M, reserve ${reserve}M"
line=$(grep 'backing off' mem.out | head -n 1)
[ -n "$line" ] && pass "mem: the run says so: ${line#*backing off: }" || { fail "mem: no back-off event"; sed 's/^/    | /' mem.out; }
stop_hog
within 90 thawed && pass "mem: the memory back (MemAvailable $(avail_mb)M), the workers go on" ||
	fail "mem: still frozen, MemAvailable $(avail_mb)M"
end_run mem
t_done
