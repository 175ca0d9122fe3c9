#!/bin/sh
# type = service against a real systemd as PID 1: a transient unit is
# stopped for the window and started again after it (by the runner at
# the window's end; by the guardian when the runner is SIGKILLed; by
# `sabot recover` when both are), and action = kill with SIGKILL kills its
# main process, which systemd's Restart=always replaces.
. "${TESTLIB:?}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
u=sabot-svc$id.service
runner=""
guard=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	[ -n "$guard" ] && kill -CONT "$guard" 2>/dev/null && kill -9 "$guard" 2>/dev/null
	wait 2>/dev/null
	systemctl stop "$u" 2>/dev/null
	systemctl reset-failed "$u" 2>/dev/null
	[ -n "${t:-}" ] && systemctl stop "$t" 2>/dev/null
	systemctl disable --runtime --quiet "$u" 2>/dev/null
	rm -f "$uf"
	systemctl daemon-reload
	t_cleanup_tmp
}
trap cleanup EXIT
[ "$(cat /proc/1/comm)" = systemd ] || { fail "PID 1 is $(cat /proc/1/comm), not systemd"; t_done; }
active() { [ "$(systemctl is-active "$u" 2>/dev/null)" = active ]; }
inactive() { ! systemctl is-active --quiet "$u"; }
mainpid() { systemctl show -P MainPID "$u"; }
# A unit file of its own under /run (gone at reboot): a transient unit
# (systemd-run) is unloaded once stopped, and could not be started again.
uf=/run/systemd/system/$u
start_unit() { # [Service] lines
	systemctl stop "$u" 2>/dev/null
	systemctl reset-failed "$u" 2>/dev/null
	printf '[Service]\nExecStart=/bin/sleep 600\n%s\n' "${1:-}" > "$uf"
	systemctl daemon-reload
	systemctl start "$u" || { fail "systemctl could not start $u"; t_done; }
	wait_for 5000 active || fail "$u did not become active"
}
# A long window: under TCG an ASan build takes seconds to start.
scenario() { # NAME ACTION SECONDS [EXTRA]
	cat > "$T_TMP/$1.ini" <<INI
[scenario]
name = svc-$1-$id
duration = ${3}s
[target svc]
unit = $u
[fault f]
type = service
target = svc
action = $2
start = 500ms
duration = $(($3 - 2))s
${4:-}
INI
}

# --- stop: inactive in the window, active again after the run ---
start_unit
scenario stop stop 14
$S run --yes "$T_TMP/stop.ini" > "$T_TMP/stop.out" 2>&1 &
runner=$!
wait_for 12000 inactive && pass "action = stop: $u is inactive in the window" ||
	fail "$u still active in the window: $(cat "$T_TMP/stop.out")"
kill -0 $runner 2>/dev/null && pass "while the run is still on" || fail "the run ended before the unit was seen stopped"
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "the stop run exits 0" || fail "stop run exit $rc: $(cat "$T_TMP/stop.out")"
wait_for 5000 active && pass "and $u is active again after the run" || fail "$u not started again: $(systemctl is-active "$u")"
grep -q "stopped $u (was active)" "$T_TMP/stop.out" && pass "the report says it stopped it (was active)" ||
	fail "no 'stopped $u (was active)' in: $(cat "$T_TMP/stop.out")"
grep -q "stopped $u (was active), started again at revert" "$T_TMP/stop.out" &&
	pass "and that it was started again at revert" || fail "no 'started again at revert' in: $(cat "$T_TMP/stop.out")"
rep=$(sed -n 's/^ *report: //p' "$T_TMP/stop.out" | tail -n 1)
tr -d ' \n' < "$rep" 2>/dev/null | grep -q '"actions":1,"units":1,"outcome":"stopped'"$u"'(wasactive),startedagainatrevert"' &&
	pass "the JSON report counts 1 action on 1 unit, with the outcome" || fail "report $rep: $(cat "$rep" 2>&1)"
no_journals && pass "no journal left" || fail "journal left: $(ls "$T_TMP/run/runs")"

# --- kill with SIGKILL, Restart=always: the main pid changes ---
start_unit "$(printf 'Restart=always\nRestartSec=100ms')"
p0=$(mainpid)
scenario kill kill 8 "signal = SIGKILL"
expect_exit 0 "action = kill, signal = SIGKILL: the run exits 0" $S run --yes "$T_TMP/kill.ini"
changed() { p=$(mainpid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$p0" ]; }
wait_for 5000 changed && pass "the main pid changed ($p0 -> $(mainpid)): systemd restarted the killed service" ||
	fail "main pid still $(mainpid) (was $p0): $OUT"
! kill -0 "$p0" 2>/dev/null && pass "the old main process ($p0) is gone" || fail "pid $p0 still runs"
wait_for 5000 active && pass "$u is active after the kill run" || fail "$u is $(systemctl is-active "$u")"
echo "$OUT" | grep -q "sent SIGKILL to $u" && pass "the report says SIGKILL was sent" || fail "no 'sent SIGKILL' in: $OUT"

# --- runner SIGKILLed mid-window: the guardian starts it again ---
start_unit
scenario long stop 40
$S run --yes "$T_TMP/long.ini" > "$T_TMP/long.out" 2>&1 &
runner=$!
wait_for 12000 inactive || fail "$u not stopped in the window: $(cat "$T_TMP/long.out")"
kill -9 $runner
wait $runner 2>/dev/null
runner=""
wait_for 10000 active && pass "runner SIGKILLed: the guardian started $u again" ||
	fail "$u not started after the runner's SIGKILL: $(systemctl is-active "$u")"
wait_for 10000 no_journals && pass "and the guardian removed the journal" || fail "journal left"
wait_for 10000 flock -n "$T_TMP/run/lock" true || fail "the guardian did not finish"

# --- runner and guardian both killed: recover starts it ---
start_unit
$S run --yes "$T_TMP/long.ini" > "$T_TMP/both.out" 2>&1 &
runner=$!
wait_for 12000 inactive || fail "$u not stopped in the window: $(cat "$T_TMP/both.out")"
guard=$(pgrep -P $runner -x sabot-guardian)
[ -n "$guard" ] && pass "the guardian is pid $guard" || fail "no guardian found below runner $runner"
# Both stopped first, so neither sees the other die and reverts.
kill -STOP $runner $guard
kill_run $runner $guard
wait $runner 2>/dev/null
runner=""
gone() { ! kill -0 "$guard" 2>/dev/null; }
wait_for 5000 gone || fail "guardian $guard outlived SIGKILL"
guard=""
sleep 1
inactive && pass "with runner and guardian killed, $u stays stopped" || fail "$u was started by someone: $(systemctl is-active "$u")"
expect_exit 0 "sabot recover exits 0" $S recover
wait_for 5000 active && pass "recover started $u again from the journal" ||
	fail "$u not started by recover: $(systemctl is-active "$u"); $OUT"
no_journals && pass "and removed the journal" || fail "journal left after recover"

# --- a revert done twice (its record lost, as a batched one can be)
# starts nothing that was started since and stopped by hand. The unit is
# enabled, as a real service is: systemd unloads an inactive unit nothing
# refers to, and with it when it was last started ---
start_unit
printf '[Install]\nWantedBy=multi-user.target\n' >> "$uf"
systemctl daemon-reload
systemctl enable --runtime --quiet "$u" || fail "cannot enable $u"
$S run --yes "$T_TMP/long.ini" > "$T_TMP/twice.out" 2>&1 &
runner=$!
wait_for 12000 inactive || fail "$u not stopped in the window: $(cat "$T_TMP/twice.out")"
guard=$(pgrep -P $runner -x sabot-guardian)
kill -STOP $runner $guard
kill_run $runner $guard
wait $runner 2>/dev/null
runner=""
wait_for 5000 gone || fail "guardian $guard outlived SIGKILL"
guard=""
mkdir -p "$T_TMP/saved"
cp "$T_TMP"/run/runs/*.journal "$T_TMP/saved/"
expect_exit 0 "recover after both were killed exits 0" $S recover
wait_for 5000 active || fail "$u not started by recover: $(systemctl is-active "$u")"
systemctl stop "$u"
cp "$T_TMP"/saved/*.journal "$T_TMP/run/runs/"
expect_exit 0 "recover of the same journal again exits 0" $S recover
sleep 1
inactive && pass "the second revert left $u stopped: it was started since the fault stopped it" ||
	fail "the second revert started $u again, though it was started since and stopped by hand"
no_journals || fail "journal left after the second recover"
systemctl disable --runtime --quiet "$u"

# --- a unit with a protected process (a comm the built-in policy
# protects): nothing is done to any of it ---
mkdir -p "$T_TMP/bin"
cp /bin/sleep "$T_TMP/bin/sshd"
start_unit
systemctl stop "$u"
printf '[Service]\nExecStart=/bin/sh -c "%s 600 & exec /bin/sleep 600"\n' "$T_TMP/bin/sshd" > "$uf"
systemctl daemon-reload
systemctl start "$u"
wait_for 5000 active || fail "$u with an sshd did not start"
wait_for 5000 pgrep -x sshd >/dev/null || fail "no sshd in $u"
scenario prot stop 6
expect_exit 7 "a unit holding a protected process: chaos did not happen (exit 7)" $S run --yes "$T_TMP/prot.ini"
echo "$OUT" | grep -q "holds a protected process" && pass "and says it holds a protected process" ||
	fail "no 'holds a protected process' in: $OUT"
active && pass "the unit with a protected process stays active" || fail "$u was stopped: $(systemctl is-active "$u")"
systemctl stop "$u"

# --- a transient unit (unloaded once stopped: nothing could start it
# again): refused, left running ---
t=sabot-svt$id.service
systemd-run --quiet --unit="$t" /bin/sleep 600 || fail "systemd-run could not start $t"
sed "s/unit = $u/unit = $t/" "$T_TMP/prot.ini" > "$T_TMP/trans.ini"
OUT=$($S run --yes "$T_TMP/trans.ini" 2>&1)
rc=$?
[ $rc != 0 ] && echo "$OUT" | grep -q "transient unit" && pass "a transient unit is refused (exit $rc), saying why" ||
	fail "transient unit: exit $rc: $OUT"
[ "$(systemctl is-active "$t")" = active ] && pass "and left running" || fail "$t is $(systemctl is-active "$t")"
# Refused before the run, as a host without systemd is (exit 6, nothing
# touched), not at the window's apply (exit 1).
[ $rc = 6 ] && echo "$OUT" | grep -q "type = service is not supported here: .*transient unit" &&
	! echo "$OUT" | grep -q "apply failed" && pass "refused by the run's preflight (exit 6), before any apply" ||
	fail "transient unit not refused at preflight: exit $rc: $OUT"
no_journals && pass "no journal left (nothing was touched)" || fail "journal left: $(ls "$T_TMP/run/runs")"
systemctl stop "$t" 2>/dev/null

# --- a unit that refuses a manual start (RefuseManualStart=, set after it
# was started): stop and kill are refused at preflight, restart is not ---
start_unit
printf '[Unit]\nRefuseManualStart=yes\n' >> "$uf"
systemctl daemon-reload
[ "$(systemctl show -P CanStart "$u")" = no ] || fail "$u: CanStart is $(systemctl show -P CanStart "$u")"
OUT=$($S run --yes "$T_TMP/prot.ini" 2>&1)
rc=$?
[ $rc = 6 ] && echo "$OUT" | grep -q "type = service is not supported here: .*refuses a manual start" &&
	! echo "$OUT" | grep -q "apply failed" &&
	pass "a unit with RefuseManualStart= is refused by the preflight (exit 6), saying why" ||
	fail "RefuseManualStart unit: exit $rc: $OUT"
active && pass "and left running" || fail "$u is $(systemctl is-active "$u")"
no_journals && pass "no journal left" || fail "journal left: $(ls "$T_TMP/run/runs")"
OUT=$($S plan "$T_TMP/prot.ini" 2>&1)
echo "$OUT" | grep -q "refuses a manual start.*a run would exit 6" && pass "sabot plan says a run would be refused, and why" ||
	fail "plan: $OUT"
systemctl stop "$u"

# --- a stopped unit: nothing done, nothing started (it has no process:
# the target matches nothing) ---
systemctl stop "$u"
scenario idle stop 4
expect_exit 7 "a stop run on an inactive unit: chaos did not happen (exit 7)" $S run --yes "$T_TMP/idle.ini"
inactive && pass "an inactive unit stays inactive after a stop run" || fail "$u was started: $(systemctl is-active "$u")"
[ -e "$uf" ] && pass "(the unit file is there throughout)" || fail "unit file gone"

# --- restart of a unit that is not active (stopping, its processes still
# there, so the target matches): nothing done; before, RestartUnit started
# it, and it stayed running after the run ---
start_unit "ExecStop=/bin/sleep 20"
systemctl stop --no-block "$u"
stopping() { [ "$(systemctl is-active "$u" 2>/dev/null)" = deactivating ]; }
wait_for 5000 stopping || fail "$u is not deactivating: $(systemctl is-active "$u")"
scenario norestart restart 5
$S run --yes "$T_TMP/norestart.ini" > "$T_TMP/norestart.out" 2>&1
grep -q "$u is deactivating: nothing to restart" "$T_TMP/norestart.out" &&
	pass "restart of a deactivating unit: the run says it does nothing" ||
	fail "no 'nothing to restart' in: $(cat "$T_TMP/norestart.out")"
settled() { ! stopping && [ "$(systemctl is-active "$u" 2>/dev/null)" != activating ]; }
wait_for 30000 settled || fail "$u still $(systemctl is-active "$u") 30 s on"
inactive && pass "and $u is inactive once its stop ends (nothing left started)" ||
	fail "$u is $(systemctl is-active "$u") after the run: the restart started it"
no_journals && pass "no journal left" || fail "journal left: $(ls "$T_TMP/run/runs")"
t_done
