#!/bin/sh
# The systemd units: rendered as make install renders them, verified with
# systemd-analyze, and a disarmed host's run counts as a skip, not a failure.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
trap t_cleanup_tmp EXIT
if ! command -v systemd-analyze >/dev/null; then
	skip "no systemd-analyze on this host"
	t_done
fi
cd "$T_TMP"
expect_exit 0 "make install renders the units" make -s -C "$top" install DESTDIR="$T_TMP/root" PREFIX=/usr
u=$T_TMP/root/usr/lib/systemd/system
[ -f "$u/sabot-run@.service" ] && [ -f "$u/sabot-run@.timer" ] && [ -f "$u/sabot-recover.service" ] &&
	pass "units installed under /usr/lib/systemd/system" || fail "units missing: $(ls "$u")"
grep -q '^ExecStart=/usr/sbin/sabot run --metrics-file ${SABOT_METRICS_DIR}/sabot-%i.prom $SABOT_RUN_OPTS /etc/sabot/scenarios/%i.ini$' "$u/sabot-run@.service" &&
	pass "with the installed binary's path" || fail "ExecStart: $(grep ExecStart "$u/sabot-run@.service")"
# systemd-analyze checks that ExecStart's binary exists: verify copies
# pointing at this build, with an instance and its schedule drop-in.
mkdir -p units/sabot-run@chaos.timer.d
for f in "$top"/packaging/systemd/*; do
	n=$(basename "$f")
	case $n in sabot-run@.*) n=$(echo "$n" | sed 's/@\./@chaos./') ;; esac
	sed "s|@SBINDIR@|$(dirname "$SABOT")|g" "$f" > "units/$n"
done
printf '[Timer]\nOnCalendar=Mon..Fri 10:00\n' > units/sabot-run@chaos.timer.d/schedule.conf
OUT=$(cd units && SYSTEMD_UNIT_PATH="$T_TMP/units:" systemd-analyze verify --man=no \
	sabot-run@chaos.service sabot-run@chaos.timer sabot-recover.service 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$OUT" ]; then pass "systemd-analyze verify: no complaints"; else
	fail "systemd-analyze verify (exit $rc)"
	echo "$OUT" | sed 's/^/    | /'
fi
# A timer without its schedule is what systemd refuses: the drop-in above
# is what makes it whole (README: "Continuous chaos").
mkdir -p units-bare
sed 's/@chaos/@bare/g' units/sabot-run@chaos.timer > units-bare/sabot-run@bare.timer
cp units/sabot-run@chaos.service units-bare/sabot-run@bare.service
OUT=$(cd units-bare && SYSTEMD_UNIT_PATH="$T_TMP/units-bare:" systemd-analyze verify --man=no sabot-run@bare.timer 2>&1)
echo "$OUT" | grep -q 'lacks value setting' && pass "without the drop-in the timer is refused (lacks value setting)" ||
	fail "a bare timer: $OUT"
# The exposure systemd-analyze gives the units (9.6 and 6.7 before they
# were hardened), with a margin over today's 3.2 and 3.9.
mkdir -p sec
sed "s|@SBINDIR@|/usr/sbin|g" "$top/packaging/systemd/sabot-recover.service" > sec/sabot-recover.service
sed "s|@SBINDIR@|/usr/sbin|g" "$top/packaging/systemd/sabot-run@.service" > sec/sabot-run@chaos.service
for x in sabot-recover.service:3.5 sabot-run@chaos.service:4.2; do
	n=${x%%:*} max=${x#*:}
	e=$(cd sec && systemd-analyze security --offline=yes "$n" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$e" ] && awk -v e="$e" -v m="$max" 'BEGIN { exit !(e <= m) }'; then
		pass "systemd-analyze security $n: $e (at most $max)"
	else
		fail "systemd-analyze security $n: ${e:-no figure} (want at most $max)"
	fi
done
grep -q '^CapabilityBoundingSet=.*CAP_SYS_RESOURCE' "$u/sabot-run@.service" &&
	pass "the guardian may lower its oom_score_adj under the unit (CAP_SYS_RESOURCE)" || fail "no CAP_SYS_RESOURCE"
grep -q '^ReadWritePaths=.*-/var/lib/prometheus/node-exporter' "$u/sabot-run@.service" &&
	pass "the unit may write node_exporter's textfile directory" || fail "no ReadWritePaths for the metrics"
grep -q '^EnvironmentFile=-/etc/default/sabot$' "$u/sabot-run@.service" && pass "options from /etc/default/sabot" ||
	fail "no EnvironmentFile"
grep '^SuccessExitStatus=' "$u/sabot-run@.service" | grep -qw 7 && fail "exit 7 counted as a success" ||
	pass "exit 7 (chaos did not happen) is a failure of the unit"
for k in CapabilityBoundingSet= NoNewPrivileges=yes ProtectSystem=strict RestrictAddressFamilies= RuntimeMaxSec= \
	'ExecStopPost=/usr/sbin/sabot recover' SuccessExitStatus=5 KillMode=mixed SystemCallFilter=@system-service \
	RestrictNamespaces=net ProtectKernelTunables=yes ProtectKernelLogs=yes PrivateTmp=yes UMask=; do
	grep -q "^$k" "$u/sabot-run@.service" && pass "sabot-run@.service: $k" || fail "sabot-run@.service lacks $k"
done
# The syscall filter covers what sabot calls: a run (its guardian too),
# recover, abort and status under strace, every syscall checked against
# the unit's SystemCallFilter= as systemd expands it. (Over the
# integration tests of process, network, syscall and SLO faults the same
# check found 94 distinct syscalls, all allowed.)
if command -v strace >/dev/null && command -v python3 >/dev/null; then
	cp "$(command -v sleep)" "$T_TMP/sabot-itsf$$"
	"$T_TMP/sabot-itsf$$" 30 &
	sfw=$!
	printf '[scenario]\nname = sf\nduration = 1s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $sfw > sf.ini
	S="$SABOT --state-dir $T_TMP/sfstate --run-dir $T_TMP/sfrun"
	for c in "run --yes sf.ini" "recover" "status" "abort --reason sf" "arm"; do
		strace -f -qq -o "$T_TMP/sf.trace.$(echo "$c" | cut -d' ' -f1)" $S $c >/dev/null 2>&1
	done
	kill "$sfw" 2>/dev/null
	systemd-analyze syscall-filter > sf.groups 2>/dev/null
	filter=$(sed -n 's/^SystemCallFilter=//p' "$u/sabot-run@.service")
	OUT=$(cat "$T_TMP"/sf.trace.* | sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' | sort -u | python3 -c '
import sys
groups, cur = {}, None
for l in open("sf.groups"):
    w = l.split()
    if not w or w[0].startswith("#"):
        continue
    if l[0] == "@":
        cur = w[0]; groups[cur] = []
    elif cur:
        groups[cur].append(w[0])
def expand(g):
    out = set()
    for m in groups.get(g, []):
        out |= expand(m) if m.startswith("@") else {m}
    return out
allowed = set()
for f in sys.argv[1].split():
    allowed |= expand(f) if f.startswith("@") else {f}
used = [l.strip() for l in sys.stdin if l.strip()]
bad = [u for u in used if u not in allowed]
print(len(used), " ".join(bad))' "$filter")
	n=${OUT%% *} bad=${OUT#* }
	[ -n "$n" ] && [ "$n" -gt 20 ] && [ -z "$bad" ] && pass "the unit's SystemCallFilter= allows each of the $n syscalls sabot made" ||
		fail "syscalls outside the unit's filter: ${bad:-none} (of ${n:-no} traced)"
else
	skip "no strace: the unit's syscall filter is not checked against what sabot calls"
fi
grep -q '^RandomizedDelaySec=' "$u/sabot-run@.timer" && pass "the timer spreads a fleet (RandomizedDelaySec)" || fail "no RandomizedDelaySec"
# What the unit sees when the host is disarmed: exit 5 (a success for it)
# and one clear journal line.
"$SABOT" --state-dir "$T_TMP/state" disarm --reason "change freeze" >/dev/null
printf '[scenario]\nname = t\nduration = 1s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $$ > t.ini
expect_exit 5 "a disarmed host skips the scheduled run (exit 5, SuccessExitStatus)" "$SABOT" --state-dir "$T_TMP/state" --run-dir "$T_TMP/run" run t.ini
expect_out "with a clear journal line" "^sabot: refused: chaos is disarmed on this host \(.*change freeze\); 'sabot arm' allows runs again$"
t_done
