#!/bin/sh
# Promise: no process of a live sabot run is ever eligible, like PID 1:
# runners, guardians and SLO probe children, of this run and of every other
# one, whatever run dir it uses (and after the binary it runs from was
# replaced, as a package upgrade does). Run A (from a copy of the binary
# that is deleted while it runs, with its own run dir and an exec SLO
# probe) is the victim; run B aims pause and SIGSTOP at every way to name A:
# comm = sabot-guardian, comm = sabot, exe = A's binary, comm = A's probe
# (and pid = A's runner, pidfile = A's guardian: refused with exit 2), and
# at its own guardian by the same selectors.
#
# The test runs in its own pid namespace (with its own /proc) so that a
# broken sabot stops no one else's guardian on this machine.
if [ -z "${SABOT_PIDNS:-}" ] && unshare -m -p -f --mount-proc true 2>/dev/null; then
	SABOT_PIDNS=1 exec unshare -m -p -f --mount-proc sh "$0" "$@"
fi
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
[ -n "${SABOT_PIDNS:-}" ] || echo "note: no pid namespace here; the test sees every process of the machine"
id=$$
probe=sabot-prb$id
A=""
cleanup() {
	for p in $(pgrep -f "$T_TMP/"); do kill -CONT "$p"; done 2>/dev/null
	[ -n "$A" ] && kill -TERM "$A" 2>/dev/null
	sleep 0.3
	for p in $(pgrep -f "$T_TMP/"); do kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP" || exit 1
mkdir bin
cp "$SABOT" bin/sabot
cp "$(command -v sleep)" "$T_TMP/$probe"
cp "$(command -v sleep)" "$T_TMP/sabot-stw$id"
chmod 755 bin bin/sabot

cat > a.ini <<EOF
[scenario]
name = a
duration = 60s
[target t]
exec = $T_TMP/sabot-stw$id 600
[fault later]
type = kill
target = t
start = 50s
[slo p]
probe = exec
command = $T_TMP/$probe 1
interval = 1500ms
timeout = 1500ms
max_error_rate = 50%
EOF
"$T_TMP/bin/sabot" --state-dir "$T_TMP/stateA" --run-dir "$T_TMP/runA" run a.ini > a.out 2>&1 &
A=$!
guardian_of() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' "$T_TMP/$1"/runs/*.journal 2>/dev/null | head -n 1; }
has_guardian() { [ -n "$(guardian_of runA)" ]; }
wait_for 10000 has_guardian || { fail "run A did not start: $(cat a.out)"; t_done; }
GA=$(guardian_of runA)
wait_for 5000 pgrep -x "$probe" >/dev/null || { fail "run A's probe never ran: $(cat a.out)"; t_done; }
# The package manager replaces the binary under the running run.
rm -f bin/sabot

SB="$SABOT --state-dir $T_TMP/stateB --run-dir $T_TMP/runB"
cat > b.ini <<EOF
[scenario]
name = b
duration = 3s
[target g]
comm = sabot-guardian
[target s]
comm = sabot
[target e]
exe = $T_TMP/bin/sabot
[target p]
comm = $probe
[fault pause-g]
type = pause
target = g
[fault pause-s]
type = pause
target = s
[fault pause-e]
type = pause
target = e
EOF
# The probe child lives 1s of every 1.5s: windows that open every 500ms.
for t in 0 500 1000 1500 2000; do
	printf '[fault pause-p%s]\ntype = pause\ntarget = p\nstart = %sms\nduration = 400ms\n' $t $t >> b.ini
done

# --- the plan says, for each, that it is never touched, and why ---
wait_for 3000 pgrep -x "$probe" >/dev/null
P=$(pgrep -x "$probe" | head -n 1)
OUT=$($SB plan b.ini 2>&1)
expect_out "plan: run A's runner is never touched (a sabot process)" "never touched: $A \(a sabot process\)"
expect_out "plan: run A's guardian is never touched (a sabot process)" "never touched: $GA \(a sabot process\)"
if [ -n "$P" ] && [ -d "/proc/$P" ]; then
	expect_out "plan: run A's probe child is never touched (a sabot process)" "never touched: $P \(a sabot process\)"
else
	skip "the probe child exited before the plan looked"
fi
expect_no_out "plan: no sabot process is listed as eligible" "^      [0-9]+ process(es)?: "

# pid or pidfile naming a sabot process: refused before anything (exit 2).
printf '[scenario]\nname = pid\nduration = 1s\n[target r]\npid = %s\n[fault p]\ntype = pause\ntarget = r\n' "$A" > pid.ini
expect_exit 2 "pid = run A's runner is refused" $SB run pid.ini
expect_out "with file:line, saying it is a sabot process" "^pid\\.ini:5: .*a sabot process"
echo "$GA" > g.pid
printf '[scenario]\nname = pf\nduration = 1s\n[target g]\npidfile = %s/g.pid\n[fault p]\ntype = pause\ntarget = g\n' "$T_TMP" > pf.ini
expect_exit 2 "a pidfile naming another run's guardian is refused" $SB run pf.ini
expect_out "with file:line, saying it is a sabot process" "^pf\\.ini:5: .*sabot process"

# --- run B: nothing of sabot is ever stopped ---
rm -f stopped
(
	while :; do
		for p in $(pgrep -x sabot-guardian) $(pgrep -x sabot) $(pgrep -x "$probe"); do
			[ "$(pstate "$p")" = T ] && echo "$p $(cat /proc/$p/comm 2>/dev/null)" >> stopped
		done
		sleep 0.02
	done
) &
WATCH=$!
expect_exit 7 "run B finds nothing it may touch: exit 7 (chaos did not happen)" timeout -s TERM 30 $SB run b.ini
kill "$WATCH" 2>/dev/null
wait "$WATCH" 2>/dev/null
expect_out "and says why: only sabot processes matched" "matches only protected processes|a sabot process"
expect_out "a window opened while A's probe child ran, and left it alone" "pause-p[0-9]+: target p matched nothing when the window opened: matches only protected processes"
expect_out "B's guardian was found and left alone too (comm = sabot-guardian)" "pause-g: target g matched nothing when the window opened: matches only protected processes"
if [ -s stopped ]; then
	fail "sabot processes were stopped: $(sort -u stopped | tr '\n' ';')"
else
	pass "no runner, guardian or probe of either run was ever stopped"
fi
[ -d "/proc/$A" ] && [ "$(pstate "$A")" != T ] && [ "$(pstate "$GA")" != T ] && pass "run A is alive and running" ||
	fail "run A: runner $(pstate "$A"), guardian $(pstate "$GA")"

kill -TERM "$A"
wait "$A"
rc=$?
[ $rc = 4 ] && pass "run A ends on SIGTERM with exit 4" || { fail "run A exit $rc"; sed 's/^/    | /' a.out; }
A=""
t_done
