#!/bin/sh
# type = stress: stress-ng in a cgroup of sabot's own (sabot-RUN-stress-F
# below the cgroup2 root). Its CPU workers show in the cgroup's cpu.stat;
# the guardian (runner SIGKILLed) and abort end the whole tree; a process
# of the cgroup that ignores SIGTERM and left the process group goes too
# (cgroup.kill); min_free_memory refuses what would cross it.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
CG=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | awk '{print $5}')
seen=""
J=$(cd "$(dirname "$0")/../.." && pwd)/tests/helpers/json_check.py

cgroups() { ls -d "$CG"/sabot-st$id-*-stress-* 2>/dev/null; }
cleanup() {
	[ -n "${runner:-}" ] && { kill -CONT "$runner"; kill -9 "$runner"; } 2>/dev/null
	for p in $seen; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for c in $(cgroups); do
		echo 1 > "$c/cgroup.kill"
		wait_for 3000 rmdir "$c"
	done 2>/dev/null
	left=$(cgroups)
	[ -n "$left" ] && echo "FAIL: stress cgroup left: $left"
	t_cleanup_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$T_TMP"

command -v stress-ng >/dev/null || { skip "stress-ng is not installed (packaging/build-deps.sh --test)"; exit 0; }
[ -n "$CG" ] || { skip "cgroup2 is not mounted"; exit 0; }
printf '[limits]\nmin_free_memory = 10%%\n' > policy.ini

scenario() { # DURATION, then fault keys on stdin
	{ printf '[scenario]\nname = st%s\nduration = %s\n[fault s]\ntype = stress\n' "$id" "$1"; cat; } > st.ini
}
has_cg() { [ -n "$(cgroups)" ]; }
no_cg() { [ -z "$(cgroups)" ]; }
procs() { for c in $(cgroups); do cat "$c/cgroup.procs"; done 2>/dev/null; }
usage() { sed -n 's/^usage_usec //p' "$(cgroups | head -n 1)/cpu.stat" 2>/dev/null; }
none_alive() { for p in "$@"; do [ -d "/proc/$p" ] && [ "$(pstate "$p")" != Z ] && return 1; done; return 0; }
remember() { # the pids of the stress cgroup now, kept for the checks and the cleanup
	now=$(procs)
	seen="$seen $now"
	echo $now
}

# --- validate ---
scenario 3s <<EOF
cpu_load = 50%
EOF
expect_exit 2 "no workers: refused" $S validate st.ini
expect_out "saying which keys" "needs at least one of cpu, vm, io"
scenario 3s <<EOF
vm = 1
EOF
expect_exit 2 "vm without vm_bytes: refused" $S validate st.ini
expect_out "asking for vm_bytes" "needs 'vm_bytes'"
scenario 3s <<EOF
vm = 2
vm_bytes = 1T
EOF
expect_exit 2 "vm workers past min_free_memory: refused" $S validate st.ini
expect_out "naming the policy key" 'vm = 2 x vm_bytes = 1048576M would leave .* of MemAvailable, which exceeds min_free_memory = 10%'
scenario 3s <<EOF
cpu = 1
[limits]
min_free_memory = 1%
EOF
expect_exit 2 "a scenario may not loosen min_free_memory" $S validate st.ini
printf 'allowed_types = latency, kill\n' >> policy.ini
scenario 3s <<EOF
cpu = 1
EOF
expect_exit 2 "allowed_types can forbid stress" $S validate st.ini
expect_out "saying so" "type = stress is not allowed on this host"
printf '[limits]\nmin_free_memory = 10%%\n' > policy.ini
expect_exit 0 "plan shows the command and the cgroup" $S plan st.ini
expect_out "plan: the command" 'runs /usr/bin/stress-ng --cpu 1 --timeout [0-9]+s --quiet'

# --- the cpu stressor raises the stress cgroup's CPU usage ---
scenario 5s <<EOF
cpu = 1
EOF
$S run st.ini > cpu.out 2>&1 &
runner=$!
wait_for 3000 has_cg || fail "no stress cgroup seen"
sleep 0.5
u0=$(usage)
sleep 2
u1=$(usage)
d=$(( ${u1:-0} - ${u0:-0} ))
# A cgroup with nothing in it uses 0 us. One worker on this shared, loaded
# 2-core machine got 10-35% of a CPU (measured): at least 5% over 2 s.
[ "$d" -ge 100000 ] && pass "cpu = 1: the stress cgroup's cpu.stat usage_usec rose ${d} us in 2 s" ||
	fail "cpu.stat usage_usec rose only ${d} us in 2 s"
pids=$(remember)
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "the run exits 0" || { fail "run exit $rc"; sed 's/^/    | /' cpu.out; }
grep -q 'reverted: stress-ng ran in .*: cpu [0-9.]* s used' cpu.out && pass "the run says the CPU time stress-ng used" ||
	{ fail "no usage in the outcome"; sed 's/^/    | /' cpu.out; }
wait_for 2000 no_cg && pass "the cgroup is removed at the window's end" || fail "cgroup left: $(cgroups)"
wait_for 2000 none_alive $pids && pass "no stress-ng left ($(echo $pids | wc -w) processes seen)" || fail "stress-ng left"

# --- back-off: with MemAvailable below min_free_memory (here: all of
# MemTotal) every worker stops (the cgroup frozen); the revert still ends
# the frozen tree ---
printf '[limits]\nmin_free_memory = 100%%\n' > policy.ini
scenario 4s <<EOT
cpu = 1
EOT
$S run st.ini > backoff.out 2>&1 &
runner=$!
wait_for 3000 has_cg || fail "no stress cgroup seen"
frozen() { grep -q 'frozen 1' "$(cgroups | head -n 1)/cgroup.events" 2>/dev/null; }
if wait_for 2000 frozen; then
	pass "below min_free_memory the stress cgroup is frozen"
	u0=$(usage)
	sleep 1
	u1=$(usage)
	[ $(( ${u1:-0} - ${u0:-0} )) -lt 20000 ] && pass "and its workers use no CPU ($(( ${u1:-0} - ${u0:-0} )) us in 1 s)" ||
		fail "frozen workers used $(( ${u1:-0} - ${u0:-0} )) us in 1 s"
else
	fail "the stress cgroup was never frozen below min_free_memory"
fi
pids=$(remember)
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "the run exits 0" || { fail "run exit $rc"; sed 's/^/    | /' backoff.out; }
grep -q 'backing off: .*MemAvailable [0-9]*M: stress-ng.s workers stopped' backoff.out && pass "the run says it backed off" ||
	{ fail "no back-off event"; sed 's/^/    | /' backoff.out; }
grep -q 'backed off [1-9][0-9]* time' backoff.out && pass "the outcome counts the back-offs" || fail "no back-off count"
rep=$(sed -n 's/^ *report: //p' backoff.out)
$J get "$rep" 'd["faults"][0]["backoffs"] >= 1' >/dev/null && pass "the report counts the back-offs" || fail "report: $(cat "$rep")"
$J schema report "$rep" && pass "the report follows its schema" || fail "report: not its schema"
wait_for 3000 none_alive $pids && pass "the frozen tree is ended at the window's end" || fail "frozen stress-ng left"
wait_for 2000 no_cg && pass "and its cgroup removed" || fail "cgroup left: $(cgroups)"
printf '[limits]\nmin_free_memory = 10%%\n' > policy.ini

# --- SIGKILL of the runner: the guardian ends the whole tree ---
scenario 30s <<EOF
cpu = 2
io = 1
EOF
$S run st.ini > killed.out 2>&1 &
runner=$!
wait_for 3000 has_cg || fail "no stress cgroup seen"
wait_for 2000 eval '[ "$(procs | wc -l)" -ge 4 ]'
pids=$(remember)
kill -9 $runner
wait $runner 2>/dev/null
runner=""
wait_for 3000 none_alive $pids && pass "SIGKILL of the runner: every stress-ng process ended ($(echo $pids | wc -w) seen)" ||
	fail "stress-ng outlived a SIGKILLed runner: $(for p in $pids; do [ -d /proc/$p ] && echo $p; done)"
wait_for 3000 no_cg && pass "and the guardian removed the cgroup" || fail "cgroup left: $(cgroups)"
wait_for 3000 no_journals && pass "and the journal" || fail "journal left"
wait_for 5000 flock -n "$T_TMP/run/lock" true || fail "the guardian did not finish"

# --- abort, with the runner stopped; a SIGTERM-ignoring process that left
# the process group, in the cgroup, goes too ---
$S run st.ini > abort.out 2>&1 &
runner=$!
wait_for 3000 has_cg || fail "no stress cgroup seen"
setsid sh -c 'trap "" TERM; exec sleep 600' &
stubborn=$!
seen="$seen $stubborn"
echo $stubborn > "$(cgroups | head -n 1)/cgroup.procs"
# Its trap is set once it is sleep (a SIGTERM before that ends the shell).
wait_for 3000 eval '[ "$(cat /proc/$stubborn/comm 2>/dev/null)" = sleep ]' || fail "the stubborn process did not start"
kill -TERM $stubborn
sleep 0.2
[ -d /proc/$stubborn ] && pass "the stubborn process ignores SIGTERM" || fail "it did not survive SIGTERM"
pids=$(remember)
kill -STOP $runner
expect_exit 0 "abort with a stopped runner exits 0" $S abort --reason "stress test"
expect_out "abort says it ended stress-ng" "ended stress-ng \(pid [0-9]+\) and its workers, removed $CG/sabot-st$id"
wait_for 3000 none_alive $pids && pass "abort ended the whole tree, the SIGTERM-ignoring one too" ||
	fail "left after abort: $(for p in $pids; do [ -d /proc/$p ] && [ "$(pstate $p)" != Z ] && echo $p; done)"
no_cg && pass "abort removed the cgroup" || fail "cgroup left after abort"
kill -9 $runner $stubborn 2>/dev/null
wait $runner 2>/dev/null
wait $stubborn 2>/dev/null
runner=""
$S arm >/dev/null 2>&1

# --- recover, from the journal alone (runner and guardian both gone) ---
$S run st.ini > recover.out 2>&1 &
runner=$!
wait_for 3000 has_cg || fail "no stress cgroup seen"
pids=$(remember)
g=$(sed -n 's/.*guardian pid \([0-9]*\).*/\1/p' recover.out | head -n 1)
kill_run $runner "$g"
wait $runner 2>/dev/null
runner=""
expect_exit 0 "recover with runner and guardian SIGKILLed" $S recover
wait_for 3000 none_alive $pids && pass "recover ended every stress-ng process" || fail "stress-ng left after recover"
no_cg && pass "recover removed the cgroup" || fail "cgroup left after recover"
t_done
