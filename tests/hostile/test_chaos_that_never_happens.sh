#!/bin/sh
# Promise: chaos that silently never happens shows up as a failure. Exit 5
# is only a benign skip (disarmed, another run active), which a timer counts
# as success; a steady state that does not hold, or a fault whose target
# matches nothing when its window opens (unless the target is optional =
# yes), exits 7 and says why, and the timer's unit counts 7 as a failure.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-cnh$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""
cleanup() {
	for p in $W; do kill -CONT "$p"; kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$T_TMP" || exit 1
cp "$(command -v sleep)" "$T_TMP/$worker"
m() { sed -n "s/^$1 //p" "$T_TMP/m.prom"; }

# --- a typo'd SLO URL: nothing listens there, the steady state never holds ---
cat > typo.ini <<'EOF'
[scenario]
name = typo
duration = 2s
steady_state = 600ms
steady_state_timeout = 1s
[target w]
exec = /bin/sleep 30
[fault k]
type = kill
target = w
[slo health]
probe = http
url = http://127.0.0.1:1/healtz
interval = 100ms
timeout = 100ms
max_error_rate = 10%
EOF
expect_exit 7 "an SLO that never holds (a typo'd URL) exits 7, not 5" $S run typo.ini --metrics-file "$T_TMP/m.prom"
expect_out "saying the steady state was not met, and which SLO" "steady state not met within 1s: slo health: connection refused"
expect_out "and that no fault was applied" "no fault was applied"
[ "$(m 'sabot_last_run_exit_code{scenario="typo"}')" = 7 ] && pass "the metrics say exit 7" ||
	fail "metrics: $(cat m.prom)"
grep -q '^# HELP sabot_last_run_exit_code .*5 skipped.*7 ' m.prom && pass "whose HELP text explains 5 and 7" ||
	fail "HELP: $(grep HELP.*exit_code m.prom)"

cat > falseprobe.ini <<'EOF'
[scenario]
name = falseprobe
duration = 2s
steady_state = 400ms
steady_state_timeout = 1s
[target w]
exec = /bin/sleep 30
[fault k]
type = kill
target = w
[slo check]
probe = exec
command = /bin/false
interval = 100ms
max_error_rate = 10%
EOF
expect_exit 7 "an exec SLO that fails before any fault exits 7" $S run falseprobe.ini
expect_out "saying why" "steady state not met within 1s: slo check: exit status 1"

# --- a target that matches nothing when its window opens ---
cat > nothing.ini <<EOF
[scenario]
name = nothing
duration = 1s
[target w]
comm = sabot-none$id
[fault k]
type = kill
target = w
count = 2
every = 200ms
EOF
expect_exit 7 "a kill whose target matches nothing exits 7 (was: 0, '2 strikes, 0 processes')" $S run nothing.ini
expect_out "naming the fault and the target" "k: .*target w matche[sd] (no process|nothing)"

cat > nopause.ini <<EOF
[scenario]
name = nopause
duration = 600ms
[target w]
pidfile = $T_TMP/missing.pid
[fault p]
type = pause
target = w
EOF
expect_exit 7 "a pause whose pidfile does not exist exits 7" $S run nopause.ini

# The target is there when the run starts (plan and start-up see it) and
# gone when the window opens.
"$T_TMP/$worker" 600 &
W=$!
cat > gone.ini <<EOF
[scenario]
name = gone
duration = 2s
[target w]
comm = $worker
[fault k]
type = kill
target = w
start = 1s
EOF
( sleep 0.5; kill -9 $W ) &
expect_exit 7 "a target that vanished before its window opened exits 7" $S run gone.ini
expect_out "saying so when the window opened" "k: .*target w matche[sd] (no process|nothing)"
wait

# Only the window that opens on nothing counts: with a real target, 0.
# (Two workers: the default policy keeps one survivor.)
"$T_TMP/$worker" 600 &
W=$!
"$T_TMP/$worker" 600 &
W="$W $!"
cat > some.ini <<EOF
[scenario]
name = some
duration = 600ms
[target w]
comm = $worker
[target x]
comm = sabot-none$id
optional = yes
[fault k]
type = kill
target = w
[fault k2]
type = kill
target = x
EOF
expect_exit 0 "optional = yes: a target that matches nothing is no failure" $S run some.ini
expect_out "and the run says the fault was skipped" "k2: .*skipped"
[ "$(alive_count $W)" = 1 ] && pass "the fault with a real target ran" || fail "$(alive_count $W) of 2 workers alive"
expect_exit 0 "optional = yes validates" $S validate some.ini
sed -i 's/^optional = yes/optional = maybe/' some.ini
expect_exit 2 "optional takes yes or no" $S validate some.ini
expect_out "with file:line" "^some\\.ini:8: "
sed -i 's/^optional = maybe/optional = no/' some.ini
expect_exit 7 "optional = no is the default: exit 7" $S run some.ini

# --- --require-effect: a fault that acted on nothing ---
# One worker, and the policy keeps one survivor: the kill has a target but
# may kill nothing.
for p in $W; do kill -9 "$p"; done 2>/dev/null
wait 2>/dev/null
"$T_TMP/$worker" 600 &
W=$!
cat > noeffect.ini <<EOF
[scenario]
name = noeffect
duration = 500ms
[target w]
comm = $worker
[fault k]
type = kill
target = w
EOF
expect_exit 0 "a kill that may kill nothing (min_survivors) completes with 0 by default" $S run noeffect.ini
expect_exit 7 "with --require-effect it exits 7" $S run noeffect.ini --require-effect
expect_out "saying which fault acted on nothing" "chaos did not happen: fault k acted on nothing \(--require-effect\)"

# --- a benign skip stays 5 ---
$S disarm --reason "test $id" >/dev/null 2>&1
expect_exit 5 "a disarmed host still skips with 5" $S run nothing.ini --metrics-file "$T_TMP/m.prom"
[ "$(m 'sabot_last_run_exit_code{scenario="nothing"}')" = 5 ] && pass "metrics: exit 5 for the skip" || fail "metrics: $(cat m.prom)"
$S arm >/dev/null 2>&1

# --- the timer's unit: 5 is success, 7 (and everything else) failure ---
unit="$top/packaging/systemd/sabot-run@.service"
if [ -f "$unit" ]; then
	grep -qx 'SuccessExitStatus=5' "$unit" && pass "the unit counts 5 as success" || fail "no SuccessExitStatus=5 in $unit"
	grep '^SuccessExitStatus=' "$unit" | grep -qw 7 && fail "the unit counts 7 as success" ||
		pass "and not 7"
	grep -q '7' "$unit" && grep -qi 'chaos did not happen\|no chaos\|exit 7\|7 (' "$unit" &&
		pass "the unit's comment explains 7" || fail "the unit does not explain exit 7"
	if command -v systemd-analyze >/dev/null; then
		mkdir -p units
		sed "s|@SBINDIR@/sabot|$SABOT|g" "$unit" > "units/sabot-run@.service"
		V=$(cd units && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "./sabot-run@t.service" 2>&1)
		vrc=$?
		if printf '%s\n' "$V" | grep -qi 'SuccessExitStatus\|unknown key\|invalid\|failed to parse'; then
			fail "systemd-analyze verify: $V"
		elif [ $vrc = 0 ]; then
			pass "systemd-analyze verify accepts the unit"
		else
			skip "systemd-analyze verify cannot run here (systemd is not PID 1): $(printf '%s' "$V" | head -n 2 | tr '\n' ' ')"
		fi
	else
		skip "no systemd-analyze"
	fi
else
	skip "no unit file next to the tests"
fi

# --- the documentation lists 7 ---
grep -q 'optional = yes' "$top/scenarios/README.md" && pass "scenarios/README.md documents optional" ||
	fail "scenarios/README.md does not document optional"
grep -q '7' "$top/packaging/man/sabot.8.in" && grep -qi '7 .*chaos\|chaos .*7' "$top/packaging/man/sabot.8.in" &&
	pass "sabot(8) lists exit 7" || fail "sabot(8) does not list exit 7"
t_done
