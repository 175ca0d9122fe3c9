#!/bin/sh
# sabot under its own units, started by systemd as a timer would:
# sabot-run@NAME.service from packaging/systemd (only @SBINDIR@ filled in,
# as the package does) runs the scenario /etc/sabot/scenarios/NAME.ini
# with every hardening option of the unit in force. Under it the guardian
# keeps its exemption from the OOM killer (oom_score_adj -1000: the unit's
# capability set must allow it), the runner does not; the run's metrics
# land in node_exporter's textfile directory; stopping the unit (the kill
# switch of a scheduled run) reverts, and the ExecStopPost recover finds
# nothing left. The guest is a throwaway VM: its /etc is the test's.
. "${TESTLIB:?}"
id=$$
name=sdu$id
unit=sabot-run@$name.service
worker=""
cleanup() {
	systemctl stop "$unit" 2>/dev/null
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	wait 2>/dev/null
	rm -f "/etc/sabot/scenarios/$name.ini" /etc/systemd/system/sabot-run@.service /etc/systemd/system/sabot-recover.service
	systemctl daemon-reload
	t_cleanup_tmp
}
trap cleanup EXIT
mkdir -p /etc/sabot/scenarios /var/lib/prometheus/node-exporter
for u in sabot-run@.service sabot-recover.service; do
	sed "s|@SBINDIR@|/sabot/build|g" "/sabot/packaging/systemd/$u" > "/etc/systemd/system/$u"
done
systemctl daemon-reload
/bin/sleep 600 &
worker=$!
cat > "/etc/sabot/scenarios/$name.ini" <<INI
[scenario]
name = $name
duration = 60s
[target w]
pid = $worker
[fault p]
type = pause
target = w
start = 200ms
INI
systemctl start "$unit" || fail "systemctl start $unit failed: $(systemctl status "$unit" 2>&1 | tail -n 5)"
n=0
while [ "$(pstate "$worker")" != T ] && [ $n -lt 1000 ]; do sleep 0.05; n=$((n + 1)); done
[ "$(pstate "$worker")" = T ] && pass "under $unit the run paused its target" ||
	fail "the target was not paused: $(journalctl -u "$unit" --no-pager 2>&1 | tail -n 8)"
cg=/sys/fs/cgroup$(systemctl show -P ControlGroup "$unit")
g="" r=""
for p in $(cat "$cg/cgroup.procs"); do
	case "$(cat "/proc/$p/comm" 2>/dev/null)" in
	sabot-guardian) g=$p ;;
	sabot) r=$p ;;
	esac
done
[ -n "$g" ] && [ -n "$r" ] && pass "the unit's cgroup holds the runner ($r) and the guardian ($g)" ||
	fail "runner '$r' or guardian '$g' not in $cg: $(cat "$cg/cgroup.procs" | tr '\n' ' ')"
gadj=$(cat "/proc/$g/oom_score_adj" 2>/dev/null)
radj=$(cat "/proc/$r/oom_score_adj" 2>/dev/null)
[ "$gadj" = -1000 ] && pass "the guardian is exempt from the OOM killer under the unit (oom_score_adj $gadj)" ||
	fail "the guardian's oom_score_adj is '$gadj' under the unit, want -1000"
[ -n "$radj" ] && [ "$radj" != -1000 ] && pass "the runner is not (oom_score_adj $radj)" || fail "the runner's oom_score_adj is '$radj'"
systemctl stop "$unit"
[ "$(pstate "$worker")" != T ] && pass "systemctl stop reverts: the target runs again" || fail "the target stays stopped after systemctl stop"
ls /run/sabot/runs/*.journal >/dev/null 2>&1 && fail "a journal is left in /run/sabot/runs" || pass "no journal is left in /run/sabot"
m=/var/lib/prometheus/node-exporter/sabot-$name.prom
[ -s "$m" ] && grep -q '^sabot_' "$m" && pass "the run's metrics are in $m" || fail "no metrics in $m: $(ls -l /var/lib/prometheus/node-exporter)"
journalctl -u "$unit" --no-pager -o cat 2>/dev/null | grep -q "sabot recover\|nothing to revert" &&
	pass "ExecStopPost's recover ran and found nothing to revert" ||
	fail "no recover in the unit's log: $(journalctl -u "$unit" --no-pager -o cat 2>&1 | tail -n 5)"
t_done
