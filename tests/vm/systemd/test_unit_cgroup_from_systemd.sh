#!/bin/sh
# A unit target's cgroup is the one systemd put the unit in, asked over
# sd-bus (Unit.ControlGroup), not a directory of the same name found by
# walking the tree: here the unit runs in a slice of its own, and a decoy
# cgroup named like it waits in system.slice, where the walk looks first
# (a nested container's cgroup could be such a decoy). The pause fault
# must freeze the unit's cgroup and leave the decoy's running. A unit that
# is not running has no cgroup, whatever directory is there.
. "${TESTLIB:?}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
u=sabot-sdt$id.service
decoy=/sys/fs/cgroup/system.slice/$u
dpid=""
cleanup() {
	systemctl stop "$u" 2>/dev/null
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	wait 2>/dev/null
	rmdir "$decoy" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
[ "$(cat /proc/1/comm)" = systemd ] || { fail "PID 1 is $(cat /proc/1/comm), not systemd"; t_done; }
systemd-run --quiet --unit="$u" --slice="sabot-sdt$id.slice" /bin/sleep 600 ||
	{ fail "systemd-run could not start $u"; t_done; }
cg=$(systemctl show -P ControlGroup "$u")
main=$(systemctl show -P MainPID "$u")
[ -n "$cg" ] && [ "$main" -gt 0 ] && pass "$u runs as pid $main in $cg" || fail "no cgroup or pid for $u: '$cg' '$main'"
mkdir "$decoy"
/bin/sleep 601 &
dpid=$!
echo "$dpid" > "$decoy/cgroup.procs"
grep -qx "$dpid" "$decoy/cgroup.procs" && pass "a decoy cgroup $decoy holds pid $dpid" || fail "decoy not set up"

# A 10 s window: under TCG on a loaded host one turn of the polling loop
# below can take seconds (seen: a 2 s window passed unseen, 2 runs in 4).
cat > "$T_TMP/u.ini" <<INI
[scenario]
name = sdt-$id
duration = 12s
[target svc]
unit = $u
[fault p]
type = pause
target = svc
start = 500ms
duration = 10s
INI
$S run --yes "$T_TMP/u.ini" > "$T_TMP/run.out" 2>&1 &
runner=$!
# A unit's cgroup is frozen (cgroup.freeze), its processes then sleep in
# the freezer: cgroup.events says so.
frozen() { [ "$(sed -n 's/^frozen //p' "$1/cgroup.events" 2>/dev/null)" = 1 ]; }
# Whichever sabot freezes, it does so in the window: both judged then.
n=0
# Under TCG an ASan build takes seconds to start: the run's own end bounds
# the wait.
while ! frozen "/sys/fs/cgroup$cg" && ! frozen "$decoy" && kill -0 $runner 2>/dev/null && [ $n -lt 3000 ]; do
	sleep 0.02
	n=$((n + 1))
done
frozen "/sys/fs/cgroup$cg" && pass "the unit's own cgroup ($cg) was frozen" ||
	fail "the unit's cgroup was not frozen (after $n polls; cgroup.freeze $(cat "/sys/fs/cgroup$cg/cgroup.freeze"), events: $(tr '\n' ' ' < "/sys/fs/cgroup$cg/cgroup.events")): $(cat "$T_TMP/run.out")"
! frozen "$decoy" && [ "$(pstate "$dpid")" != T ] && pass "the decoy of the same name (pid $dpid) was left alone" ||
	fail "the decoy cgroup was frozen or its process stopped: the cgroup was guessed, not asked of systemd"
wait $runner
rc=$?
[ $rc = 0 ] && pass "the run exits 0" || fail "run exit $rc: $(cat "$T_TMP/run.out")"
! frozen "/sys/fs/cgroup$cg" && pass "and thawed the unit at the end" || fail "the unit stays frozen"

# systemd is PID 1 but cannot be asked (its bus is not where sd-bus
# looks): no guess by name, which would be the decoy.
OUT=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T_TMP/no-bus $S plan "$T_TMP/u.ini" 2>&1)
echo "$OUT" | grep -q "could not be asked for unit $u" && ! echo "$OUT" | grep -q -e "$decoy" -e "pid $dpid" &&
	pass "with the system bus unreachable the plan says so and names no cgroup" ||
	fail "bus unreachable: the cgroup was guessed or the reason not said: $OUT"

# Stopped, the unit has no cgroup: sabot says so, though the decoy is there.
systemctl stop "$u"
expect_exit 7 "a stopped unit: chaos did not happen (exit 7)" $S run --yes "$T_TMP/u.ini"
echo "$OUT" | grep -q "unit $u has no cgroup" && pass "and says the unit has no cgroup" ||
	fail "no 'has no cgroup' message: $OUT"
t_done
