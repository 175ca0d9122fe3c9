#!/bin/sh
# The metrics file (--metrics-file, node_exporter's textfile collector):
# the armed gauge, the last run and the last success, runs by result and
# faults applied/reverted by kind, written also when the runner is killed
# (by its guardian, by `sabot abort`, by `sabot recover`) and when the
# latch changes; `promtool check metrics` clean every time. Against
# processes this test starts (copies of sleep named sabot-itm*).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
worker=sabot-itm$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""
cleanup() {
	for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"
for i in 1 2; do "$T_TMP/$worker" 600 & W="$W $!"; done
M=$T_TMP/prom/sabot-mt.prom
mkdir -p prom
m() { sed -n "s/^$1 //p" "$M"; }
# check DESC SERIES VALUE...: each SERIES has VALUE.
check() {
	desc=$1
	shift
	bad=""
	while [ $# -ge 2 ]; do
		v=$(m "$1")
		[ "$v" = "$2" ] || bad="$bad $1=${v:-absent}(want $2)"
		shift 2
	done
	[ -z "$bad" ] && pass "$desc" || { fail "$desc:$bad"; sed 's/^/    | /' "$M" | grep -v '^    | #'; }
}
promtool_ok() {
	if ! command -v promtool >/dev/null; then
		skip "$1: no promtool (Debian's prometheus package; build-deps.sh --test installs it)"
		return
	fi
	out=$(promtool check metrics < "$M" 2>&1)
	[ $? = 0 ] && [ -z "$out" ] && pass "$1: promtool check metrics is clean" ||
		{ fail "$1: promtool check metrics: $out"; }
}
stopped() { for p in $W; do [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" = T ] || return 1; done; }
running() { for p in $W; do [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != T ] || return 1; done; }
journal() { ls "$T_TMP"/run/runs/*.journal 2>/dev/null | head -n 1; }
no_journal() { [ -z "$(journal)" ]; }
header_pid() { sed -n 's/^sabot-journal .* pid=\([0-9]*\) .*/\1/p' "$(journal)" 2>/dev/null; }
guardian_pid() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' "$(journal)" 2>/dev/null | head -n 1; }
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }
gone() { ! alive "$1"; }

cat > mt.ini <<INI
[scenario]
name = mt
duration = 400ms
[target w]
comm = $worker
[fault p]
type = pause
target = w
INI
sed 's/^duration = 400ms/duration = 60s/' mt.ini > long.ini

# --- a run that held ---
expect_exit 0 "a run with --metrics-file holds" $S run mt.ini --metrics-file "$M"
check "held: armed, exit 0, counted by result, its fault by kind" \
	'sabot_armed{scenario="mt"}' 1 'sabot_last_run_exit_code{scenario="mt"}' 0 \
	'sabot_runs_total{scenario="mt",result="held"}' 1 'sabot_runs_total{scenario="mt",result="killed"}' 0 \
	'sabot_faults_applied_total{scenario="mt",kind="pause"}' 1 'sabot_faults_reverted_total{scenario="mt",kind="pause"}' 1 \
	'sabot_faults_applied_total{scenario="mt",kind="loss"}' 0 'sabot_last_run_faults_applied{scenario="mt"}' 1
ok=$(m 'sabot_last_success_timestamp_seconds{scenario="mt"}')
last=$(m 'sabot_last_run_timestamp_seconds{scenario="mt"}')
now=$(date +%s)
[ -n "$ok" ] && [ "$ok" = "$last" ] && [ "${ok%.*}" -le "$now" ] && [ "${ok%.*}" -gt $((now - 60)) ] &&
	pass "the last success is the last run's end, now" || fail "last success '$ok', last run '$last', now $now"
promtool_ok "after a run"
grep -q '^# HELP sabot_last_run_exit_code .*0 held.* 1 .* 2 invalid.* 3 .* 4 .* 5 skipped.* 6 .* 7 .*-1 killed' "$M" &&
	pass "the exit code's HELP names every code, 2 and 6, 5 and 7, and killed" || fail "HELP: $(grep 'HELP sabot_last_run_exit_code' "$M")"
bad=$(grep -v '^#' "$M" | grep -Ev '^sabot_[a-z_]+\{scenario="mt"(,(result|reason|kind)="[a-z_-]+")?\} -?[0-9.e+]+$')
[ -z "$bad" ] && pass "every series: a scenario label and at most one label from a fixed list" || fail "series: $bad"

# --- the latch: disarm and arm rewrite the gauge ---
$S disarm --reason "metrics test: free text, \"quoted\"" >/dev/null
check "disarm: the armed gauge drops to 0 at once" 'sabot_armed{scenario="mt"}' 0 'sabot_runs_total{scenario="mt",result="held"}' 1
grep -q 'free text' "$M" && fail "the latch's free-text reason reached the metrics" || pass "no free text from the latch's reason in the file"
promtool_ok "after disarm"
expect_exit 5 "disarmed: a run is skipped" $S run mt.ini --metrics-file "$M"
check "skipped: counted with reason disarmed, no fault" 'sabot_runs_total{scenario="mt",result="skipped"}' 1 \
	'sabot_aborts_total{scenario="mt",reason="disarmed"}' 1 'sabot_last_run_exit_code{scenario="mt"}' 5 \
	'sabot_faults_applied_total{scenario="mt",kind="pause"}' 1 'sabot_armed{scenario="mt"}' 0
$S arm >/dev/null
check "arm: the gauge is 1 again" 'sabot_armed{scenario="mt"}' 1

# --- invalid for the policy: counted (exit 2) ---
printf '[limits]\nallowed_types = loss\n' > strict.ini
expect_exit 2 "a fault type the policy does not allow: exit 2" $SABOT --policy strict.ini --state-dir "$T_TMP/state" \
	--run-dir "$T_TMP/run" run mt.ini --metrics-file "$M"
check "invalid: counted as such" 'sabot_runs_total{scenario="mt",result="invalid"}' 1 'sabot_last_run_exit_code{scenario="mt"}' 2

# --- the runner SIGKILLed: its guardian reverts and counts the run ---
$S run long.ini --metrics-file "$M" > killed.out 2>&1 &
bg=$!
wait_for 5000 stopped || fail "the long run did not pause the workers"
runner=$(header_pid)
kill -9 "$runner"
wait $bg 2>/dev/null
wait_for 5000 running && wait_for 5000 no_journal || fail "the guardian did not revert"
check "killed (guardian): result killed, exit -1, the fault applied and reverted" \
	'sabot_runs_total{scenario="mt",result="killed"}' 1 'sabot_aborts_total{scenario="mt",reason="killed"}' 1 \
	'sabot_last_run_exit_code{scenario="mt"}' -1 'sabot_faults_applied_total{scenario="mt",kind="pause"}' 2 \
	'sabot_faults_reverted_total{scenario="mt",kind="pause"}' 2 'sabot_runs_total{scenario="mt",result="held"}' 1
promtool_ok "after a killed run"

# --- runner and guardian SIGKILLed: `sabot recover` counts it, once ---
$S run long.ini --metrics-file "$M" > dead.out 2>&1 &
bg=$!
wait_for 5000 stopped || fail "the long run did not pause the workers"
runner=$(header_pid)
g=$(guardian_pid)
kill_run "$runner" "$g"
wait $bg 2>/dev/null
wait_for 2000 gone "$g"
check "runner and guardian dead: not counted yet" 'sabot_runs_total{scenario="mt",result="killed"}' 1
expect_exit 0 "recover reverts the dead run" $S recover
check "recover: counted as killed" 'sabot_runs_total{scenario="mt",result="killed"}' 2 \
	'sabot_faults_reverted_total{scenario="mt",kind="pause"}' 3
expect_exit 0 "recover again: nothing to do" $S recover
check "recover again: not counted twice" 'sabot_runs_total{scenario="mt",result="killed"}' 2

# --- a stopped (hung) runner: `sabot abort` kills it and counts it ---
$S run long.ini --metrics-file "$M" > hung.out 2>&1 &
bg=$!
wait_for 5000 stopped || fail "the long run did not pause the workers"
runner=$(header_pid)
kill -STOP "$runner"
expect_exit 0 "abort with the runner stopped" $S abort --reason "metrics test"
wait $bg 2>/dev/null
check "abort of a hung runner: counted as killed, disarmed" 'sabot_runs_total{scenario="mt",result="killed"}' 3 \
	'sabot_armed{scenario="mt"}' 0 'sabot_last_run_exit_code{scenario="mt"}' -1
$S arm >/dev/null

# --- a live runner and the kill switch: the runner counts itself ---
$S run long.ini --metrics-file "$M" > abort.out 2>&1 &
bg=$!
wait_for 5000 stopped || fail "the long run did not pause the workers"
expect_exit 0 "abort with the runner live" $S abort --reason "metrics test"
wait $bg
rc=$?
[ $rc = 4 ] && pass "the aborted run exits 4" || fail "the aborted run exited $rc"
check "kill switch: aborted, reason kill_switch, disarmed, not killed" \
	'sabot_runs_total{scenario="mt",result="aborted"}' 1 'sabot_aborts_total{scenario="mt",reason="kill_switch"}' 1 \
	'sabot_armed{scenario="mt"}' 0 'sabot_runs_total{scenario="mt",result="killed"}' 3
promtool_ok "at the end"
$S arm >/dev/null
t_done
