#!/bin/sh
# sabot run with process faults, the journal, the guardian and the kill
# switch, against processes this test starts (copies of sleep named
# sabot-itr*). Each run gets its own state and run dirs.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
worker=sabot-itr$id
cgroot=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | awk '{print $5}')
unit=sabot-itr-$id.service
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
J=$(cd "$(dirname "$0")/../.." && pwd)/tests/helpers/json_check.py
pids=""

cleanup() {
	for p in $pids; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	pkill -9 -f "$T_TMP/" 2>/dev/null
	wait 2>/dev/null
	[ -n "$cgroot" ] && [ -d "$cgroot/$unit" ] && { echo 0 > "$cgroot/$unit/cgroup.freeze"; rmdir "$cgroot/$unit"; } 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"

start_workers() { # N: start N workers, their pids in $W
	W=""
	i=0
	while [ $i -lt "$1" ]; do
		"$T_TMP/$worker" 600 &
		W="$W $!"
		i=$((i + 1))
	done
	pids="$pids $W"
}
stop_workers() { for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }

scenario() { # NAME DURATION, then fault text on stdin
	{ printf '[scenario]\nname = %s\nduration = %s\n[target w]\ncomm = %s\n' "$1" "$2" "$worker"; cat; } > "$1.ini"
}
journals() { ls "$T_TMP/run/runs" 2>/dev/null | wc -l; }
guardian_of() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' "$T_TMP"/run/runs/*.journal 2>/dev/null | head -n 1; }

# --- kill count = 2 of 5 leaves exactly 3 ---
start_workers 5
scenario kill2 1s <<'INI'
[fault k]
type = kill
target = w
count = 2
INI
expect_exit 0 "a kill run completes" $S run kill2.ini --report "$T_TMP/kill2.json"
[ "$(alive_count $W)" = 3 ] && pass "count = 2 of 5 left exactly 3" || fail "count = 2 of 5 left $(alive_count $W)"
grep -q '"exit_code": 0' kill2.json && grep -q '"type": "kill"' kill2.json && grep -q '"processes": 2' kill2.json &&
	pass "the JSON report records the run and the strike" || fail "report: $(cat kill2.json)"
[ "$(ls state/reports | wc -l)" = 1 ] && pass "a report is also kept under the state dir" || fail "no report under the state dir"
expect_out "one log line per event, plain text off the journal" '^sabot: k: strike 1: SIGKILL to 2 of 5 processes'
stop_workers

# --- on a terminal it shows the plan and asks first ---
if command -v script >/dev/null; then
	start_workers 2
	OUT=$(printf 'n\n' | script -qec "$S run kill2.ini" /dev/null 2>&1)
	rc=$?
	[ $rc = 5 ] && pass "answering no at the prompt exits 5" || fail "prompt 'n': exit $rc"
	expect_out "after showing the plan and asking" 'Inject these faults on .*\? \[y/N\]'
	expect_out "and says nothing was touched" 'Nothing was touched\.'
	[ "$(alive_count $W)" = 2 ] && pass "nothing was killed" || fail "killed after answering no"
	OUT=$(printf 'y\n' | script -qec "$S run kill2.ini" /dev/null 2>&1)
	rc=$?
	[ $rc = 0 ] && pass "answering yes runs it" || fail "prompt 'y': exit $rc"
	expect_out "with the live view" 'k  +kill +0 → 1s +(ACTIVE|done)'
	[ "$(alive_count $W)" = 1 ] && pass "and kills within the blast radius (2 → 1)" || fail "after yes: $(alive_count $W) alive"
	stop_workers
else
	skip "the terminal prompt: no script(1) on this host"
fi

# --- min_survivors is never crossed, over repeated strikes ---
start_workers 5
scenario survivors 1500ms <<'INI'
[fault k]
type = kill
target = w
count = 2
every = 200ms
min_survivors = 2
INI
expect_exit 0 "repeated strikes complete" $S run survivors.ini
[ "$(alive_count $W)" = 2 ] && pass "min_survivors = 2 kept exactly 2 of 5" || fail "min_survivors: $(alive_count $W) alive"
expect_out "and later strikes say why they do nothing" 'nothing to kill: 2 eligible processes, keeping at least 2'
stop_workers

# --- protected processes are never touched, even when a selector matches ---
start_workers 3
printf '[protect]\ncomms = %s\n' "$worker" > protect.ini
sed "s|^comm = .*|exe = $T_TMP/$worker|" kill2.ini > kill-exe.ini
expect_exit 7 "a run whose only matches are protected: chaos did not happen (exit 7)" $S --policy "$T_TMP/protect.ini" run kill-exe.ini
[ "$(alive_count $W)" = 3 ] && pass "protected processes were not killed" || fail "protected: $(alive_count $W) of 3 alive"
stop_workers

# --- pause: stopped during the window, running after ---
start_workers 3
scenario pause 2s <<'INI'
[fault p]
type = pause
target = w
start = 200ms
duration = 1s
INI
$S run pause.ini > pause.out 2>&1 &
runner=$!
wait_for 1500 all_in_state T $W && pass "pause: targets stopped in the window" || fail "pause: not stopped ($(for p in $W; do pstate $p; done))"
wait $runner
rc=$?
[ $rc = 0 ] && pass "pause run exits 0" || fail "pause run exit $rc"
none_in_state T $W && pass "pause: running again after the window" || fail "pause: still stopped after the run"
stop_workers

# --- Ctrl-C mid-window resumes them and exits 4 ---
start_workers 3
scenario ctrlc 30s <<'INI'
[fault p]
type = pause
target = w
INI
$S run ctrlc.ini > ctrlc.out 2>&1 &
runner=$!
wait_for 2000 all_in_state T $W
kill -INT $runner
wait $runner
rc=$?
[ $rc = 4 ] && pass "SIGINT mid-window exits 4" || fail "SIGINT: exit $rc"
none_in_state T $W && pass "SIGINT resumed the targets" || fail "SIGINT left targets stopped"
grep -q 'interrupted by SIGINT' ctrlc.out && pass "the reason is reported" || fail "no reason: $(cat ctrlc.out)"
[ "$(journals)" = 0 ] && pass "no journal left after SIGINT" || fail "journal left after SIGINT"
stop_workers

# --- SIGKILL of the runner mid-pause: the guardian resumes within 1 s ---
start_workers 3
$S run ctrlc.ini > killed.out 2>&1 &
runner=$!
wait_for 2000 all_in_state T $W
g=$(guardian_of)
kill -9 $runner
t0=$(date +%s%N)
if wait_for 1000 none_in_state T $W; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	pass "SIGKILL of the runner: the guardian resumed the targets in ${ms} ms"
else
	fail "SIGKILL of the runner: targets still stopped after 1 s"
fi
wait_for 1000 no_journals && pass "the guardian removed the journal" || fail "journal left: $(ls run/runs)"
gone() { [ ! -d "/proc/$1" ] || [ "$(pstate "$1")" = Z ]; }
wait_for 1000 gone "$g" && pass "the guardian exited" || fail "guardian $g still there"
wait $runner 2>/dev/null
stop_workers

# --- SIGSTOP of the runner: sabot abort resumes them; runs refused until arm ---
start_workers 3
$S run ctrlc.ini > stopped.out 2>&1 &
runner=$!
wait_for 2000 all_in_state T $W
kill -STOP $runner
expect_exit 0 "sabot abort with a stopped runner exits 0" $S abort --reason "integration test"
expect_out "abort says what it reverted and how long it took" 'reverted 3 changes of 1 run in [0-9.]+ ms'
none_in_state T $W && pass "abort resumed the targets" || fail "abort left targets stopped"
wait $runner 2>/dev/null
expect_exit 5 "a new run is refused while disarmed" $S run kill2.ini
expect_out "saying why and how to re-arm" "disarmed on this host \(.*integration test\); 'sabot arm' allows runs again"
expect_exit 0 "status" $S status
expect_out "status shows the latch" '^DISARMED: .*integration test'
expect_exit 0 "sabot arm" $S arm
expect_exit 0 "status --json" $S status --json
$S status --json > status.json 2>&1
$J get status.json 'd["armed"] is True and d["disarmed_reason"] is None and d["runs"] == []' >/dev/null &&
	pass "status --json: armed, no runs" || fail "status --json: $(cat status.json)"
$J schema status status.json && pass "status --json follows its schema" || fail "status --json: not its schema"
wait_for 4000 no_journals && pass "nothing left in the run dir after abort" || fail "journal left after abort: $(ls run/runs)"
stop_workers

# --- one run at a time ---
start_workers 1
$S run ctrlc.ini > first.out 2>&1 &
runner=$!
wait_for 2000 all_in_state T $W
expect_exit 5 "a second run while one is active is refused" $S run kill2.ini
expect_out "naming the active run" "another run is active on this host \(pid $runner\)"
expect_exit 0 "status while running" $S status
expect_out "status lists the run and what it holds" "^  active: stop pid [0-9]+ \(p\)"
kill -TERM $runner
wait $runner
rc=$?
[ $rc = 4 ] && pass "SIGTERM exits 4" || fail "SIGTERM: exit $rc"
stop_workers

# --- recover: journals of dead runs (runner and guardian both gone) ---
start_workers 2
$S run ctrlc.ini > dead.out 2>&1 &
runner=$!
wait_for 2000 all_in_state T $W
g=$(guardian_of)
# Both stopped first, then both killed: killed one after the other, the
# survivor would see the other die and revert, which this case is not about.
kill -STOP $runner "$g"
kill_run $runner "$g"
wait $runner 2>/dev/null
wait_for 500 gone "$g"
all_in_state T $W && pass "with runner and guardian killed, the targets stay stopped" || fail "something resumed them"
expect_exit 0 "sabot recover" $S recover
expect_out "recover reverts the dead run's journal" '^run ctrlc-.*: reverted 2 changes'
none_in_state T $W && pass "recover resumed the targets" || fail "recover left targets stopped"
[ "$(journals)" = 0 ] && pass "recover removed the journal" || fail "journal left after recover"
expect_exit 0 "recover again" $S recover
expect_out "finds nothing" 'nothing to revert'
stop_workers

# --- exec targets: launched for the run, gone at its end ---
cat > exec.ini <<INI
[scenario]
name = exec
duration = 1500ms
[target svc]
exec = $T_TMP/$worker 600
[fault p]
type = pause
target = svc
start = 300ms
duration = 500ms
INI
$S run exec.ini > exec.out 2>&1 &
runner=$!
wait_for 2000 pgrep -f "^$T_TMP/$worker 600\$" >/dev/null
svc=$(pgrep -f "^$T_TMP/$worker 600\$" | head -n 1)
[ -n "$svc" ] && pass "the exec target was launched" || fail "no launched target"
wait_for 1500 all_in_state T $svc && pass "and paused in its window" || fail "launched target not paused"
wait $runner
rc=$?
[ $rc = 0 ] && pass "exec run exits 0" || fail "exec run exit $rc: $(cat exec.out)"
[ -z "$(pgrep -f "^$T_TMP/$worker 600\$")" ] && pass "the launched target did not outlive the run" || fail "launched target still running"
$S run exec.ini > exec2.out 2>&1 &
runner=$!
wait_for 2000 pgrep -f "^$T_TMP/$worker 600\$" >/dev/null
kill -9 $runner
wait_for 1000 eval 'test -z "$(pgrep -f "^$T_TMP/$worker 600\$")"' && pass "nor a SIGKILLed run" || fail "launched target outlived a SIGKILLed runner"
wait $runner 2>/dev/null
# Its guardian holds the run lock until it has reverted everything.
wait_for 5000 eval 'no_journals && flock -n "$T_TMP/run/lock" true' || fail "the SIGKILLed run's guardian did not finish"

# --- a unit target is frozen whole with cgroup.freeze ---
if [ -n "$cgroot" ] && mkdir "$cgroot/$unit" 2>/dev/null && [ -e "$cgroot/$unit/cgroup.freeze" ]; then
	start_workers 2
	for p in $W; do echo "$p" > "$cgroot/$unit/cgroup.procs"; done
	printf '[scenario]\nname = freeze\nduration = 30s\n[target u]\nunit = %s\n[fault p]\ntype = pause\ntarget = u\n' "$unit" > freeze.ini
	$S run freeze.ini > freeze.out 2>&1 &
	runner=$!
	wait_for 2000 grep -q 'frozen 1' "$cgroot/$unit/cgroup.events" && pass "the unit's cgroup is frozen" || fail "cgroup not frozen: $(cat freeze.out)"
	kill -9 $runner
	wait_for 1000 grep -q 'frozen 0' "$cgroot/$unit/cgroup.events" && pass "SIGKILL of the runner: the guardian thawed it" || fail "cgroup still frozen"
	wait $runner 2>/dev/null
	stop_workers
	for p in $W; do wait_for 500 test ! -d /proc/$p; done
	rmdir "$cgroot/$unit" 2>/dev/null
else
	skip "cgroup.freeze: no writable cgroup2 hierarchy with cgroup.freeze on this host"
fi

# --- metrics for continuous chaos: node_exporter's textfile format, one
# file per scenario (a timer unit each), counters carried from run to run ---
start_workers 3
interrupted_run() {
	$S run ctrlc.ini --metrics-file "$T_TMP/sabot-ctrlc.prom" > m.out 2>&1 &
	runner=$!
	wait_for 2000 eval 'all_in_state T $W'
	kill -INT $runner
	wait $runner
}
interrupted_run
interrupted_run
m() { sed -n "s/^$1 //p" sabot-ctrlc.prom; }
[ "$(m 'sabot_last_run_exit_code{scenario="ctrlc"}')" = 4 ] && pass "metrics: the last run's exit code" || fail "exit code metric: $(cat sabot-ctrlc.prom)"
[ "$(m 'sabot_runs_total{scenario="ctrlc",result="aborted"}')" = 2 ] && pass "metrics: runs counted across runs, by result" || fail "runs_total: $(grep runs_total sabot-ctrlc.prom)"
[ "$(m 'sabot_aborts_total{scenario="ctrlc",reason="signal"}')" = 2 ] && [ "$(m 'sabot_aborts_total{scenario="ctrlc",reason="slo_breach"}')" = 0 ] &&
	pass "metrics: aborts counted by reason" || fail "aborts: $(grep aborts sabot-ctrlc.prom)"
[ "$(m 'sabot_faults_applied_total{scenario="ctrlc",kind="pause"}')" = 2 ] && pass "metrics: faults applied, by kind" || fail "faults: $(grep faults_applied sabot-ctrlc.prom)"
grep -q '^# TYPE sabot_runs_total counter$' sabot-ctrlc.prom && grep -q '^sabot_last_run_timestamp_seconds{scenario="ctrlc"} [0-9.]*$' sabot-ctrlc.prom &&
	pass "metrics: in the textfile collector's format" || fail "format: $(cat sabot-ctrlc.prom)"
# A disarmed host skips the run: the metrics say so (a timer's run that
# did nothing must not look like no run at all).
$S disarm --reason metrics-test > /dev/null
expect_exit 5 "disarmed: the run is refused" $S run ctrlc.ini --metrics-file "$T_TMP/sabot-ctrlc.prom"
$S arm > /dev/null
[ "$(m 'sabot_last_run_exit_code{scenario="ctrlc"}')" = 5 ] && [ "$(m 'sabot_runs_total{scenario="ctrlc",result="aborted"}')" = 2 ] &&
	[ "$(m 'sabot_runs_total{scenario="ctrlc",result="skipped"}')" = 1 ] &&
	[ "$(m 'sabot_aborts_total{scenario="ctrlc",reason="disarmed"}')" = 1 ] &&
	[ "$(m 'sabot_faults_applied_total{scenario="ctrlc",kind="pause"}')" = 2 ] &&
	pass "metrics: a run skipped on a disarmed host counts, with reason disarmed and no fault applied" ||
	fail "disarmed metrics: $(cat sabot-ctrlc.prom)"
stop_workers

# --- refused before anything is touched ---
printf '[scenario]\nname = sys\nduration = 5s\n[target w]\ncomm = %s\n[fault e]\ntype = syscall-error\ntarget = w\nsyscalls = write\nerrno = EIO\n' "$worker" > sys.ini
expect_exit 6 "a fault type this build cannot inject exits 6" $S run sys.ini
expect_out "with file:line and the reason" "^sys\.ini:7: fault 'e': type = syscall-error is not supported here"
printf '[slo h]\nprobe = prometheus\nurl = http://127.0.0.1:1/\nquery = up\nmax = 1\n' | cat kill2.ini - > slo.ini
expect_exit 7 "a Prometheus server that does not answer fails the steady state: exit 7" $S run slo.ini
expect_out "saying so" "steady state not met within 15s: slo h: connection refused"
cp kill2.ini shared.ini
chmod 666 shared.ini
expect_exit 2 "unattended, a scenario others can write is refused" $S run shared.ini
expect_out "with the remedy" 'shared\.ini is writable by everyone; unattended runs read only files'
expect_exit 2 "an invalid scenario exits 2" $S run "$T_TMP/nonexistent.ini"

[ "$(journals)" = 0 ] && [ ! -e state/disarmed ] && pass "no journal or latch left behind" || fail "leftovers: $(ls run/runs state)"
[ -z "$(pgrep -f "$T_TMP/")" ] || sleep 0.5
# Only this test's guardians: others may be running on this machine.
live_guardians() {
	for g in $(pgrep -x sabot-guardian); do
		tr '\0' ' ' < "/proc/$g/cmdline" 2>/dev/null | grep -q -- "$T_TMP/" || continue
		gone "$g" || return 1
	done
}
wait_for 2000 live_guardians && pass "no guardian left running" || fail "a guardian is still running"
t_done
