#!/bin/sh
# Promise: the kill switch's latch belongs to the operator. A host that was
# disarmed stays disarmed through every reinstall, upgrade and downgrade of
# the package, byte for byte (its reason and time too), and an armed one
# stays armed; only removal touches sabot's state, and then only to revert
# everything before the binary goes (which leaves the host disarmed, never
# re-armed). Tried in a throwaway Debian root (tests/integration/lib.sh
# troot_*), never on this machine's own /usr, /etc, /var.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD:=$top/build}"
worker=""
cleanup() {
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	troot_down
	t_cleanup_tmp
}
trap cleanup EXIT
host_before=$(host_pkg_snapshot)
OUT=$(make -s -C "$top" deb 2>&1)
deb=$(echo "$OUT" | tail -n 1)
[ -f "$deb" ] || { fail "make deb: $OUT"; t_done; }
v1=$(dpkg-deb -f "$deb" Version)
# A later version of the same package (the same files, the same
# maintainer scripts), as an upgrade brings.
v2=$v1.1
deb2=$T_TMP/sabot_${v2}.deb
dpkg-deb -R "$deb" "$T_TMP/b2" && sed -i "s/^Version: .*/Version: $v2/" "$T_TMP/b2/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$T_TMP/b2" "$deb2" >/dev/null 2>&1
[ -f "$deb2" ] || { fail "no $v2 package"; t_done; }
base=$(troot_deb_base "$deb") || { fail "no base root for the package test"; t_done; }
troot_up "$base" || { fail "cannot set up the throwaway root over $base"; t_done; }
cp "$deb" "$T_ROOT/tmp/sabot-1.deb"
cp "$deb2" "$T_ROOT/tmp/sabot-2.deb"
latch=$T_ROOT/var/lib/sabot/disarmed

version() { troot dpkg-query -W -f='${Version}' sabot 2>/dev/null; }
status1() { troot /usr/sbin/sabot status 2>&1 | head -n 1; }
# A host with systemd, as far as the maintainer scripts can tell: they ask
# /run/systemd/system, and a systemctl that writes down what it is told.
mkdir -p "$T_ROOT/run/systemd/system"
printf '#!/bin/sh\necho "$*" >> /tmp/systemctl.log\n' > "$T_ROOT/usr/bin/systemctl"
chmod 755 "$T_ROOT/usr/bin/systemctl"
sysctl_log() { cat "$T_ROOT/tmp/systemctl.log" 2>/dev/null; }
# With systemd running, dh_installsystemd's deb-systemd-helper has
# systemctl enable the unit (by its preset); without, it makes the link
# itself (test_deb.sh). After the first install, no upgrade, reinstall or
# downgrade may enable or disable it again: that is the admin's to say.
wants=$T_ROOT/etc/systemd/system/multi-user.target.wants/sabot-recover.service
expect_exit 0 "dpkg -i installs $v1" troot dpkg -i /tmp/sabot-1.deb
grep -q 'preset sabot-recover.service' "$T_ROOT/tmp/systemctl.log" 2>/dev/null &&
	pass "installing enables sabot-recover.service (systemctl preset)" || fail "install told systemctl: $(sysctl_log)"
: > "$T_ROOT/tmp/systemctl.log"

# The operator pulls the kill switch, with a reason of their own.
reason="incident 4711 ($$): payments degraded, no chaos until the review"
expect_exit 0 "the operator disarms the host" troot /usr/sbin/sabot abort --reason "$reason"
cp "$latch" "$T_TMP/latch.before" 2>/dev/null || fail "no latch at /var/lib/sabot/disarmed after abort"
# Reinstall, upgrade, reinstall the upgrade, downgrade, and again: every
# path through the maintainer scripts an operator can take with dpkg -i.
n=0
for step in 1:reinstalls 2:upgrades 2:reinstalls 1:downgrades 2:upgrades; do
	n=$((n + 1))
	pkg=/tmp/sabot-${step%%:*}.deb
	v=$v1
	[ "${step%%:*}" = 2 ] && v=$v2
	expect_exit 0 "step $n: dpkg -i $(basename "$pkg") ${step#*:} sabot (to $v)" troot dpkg -i "$pkg"
	[ "$(version)" = "$v" ] || fail "step $n: installed version $(version), want $v"
	if cmp -s "$T_TMP/latch.before" "$latch"; then
		pass "step $n: the latch is kept byte for byte"
	else
		fail "step $n: the latch changed: $(cat "$latch" 2>&1)"
	fi
	s=$(status1)
	[ "$s" = "DISARMED: $(head -n 1 "$T_TMP/latch.before")" ] && pass "step $n: status says DISARMED with the operator's reason" ||
		fail "step $n: status says: $s"
done
grep -Eq '(^| )(disable|enable|preset|mask|stop|restart) ' "$T_ROOT/tmp/systemctl.log" &&
	fail "an upgrade told systemd to change or stop sabot-recover.service: $(sysctl_log)" ||
	pass "no upgrade, reinstall or downgrade enabled, disabled or stopped sabot-recover.service"
# What the latch is for: an unattended run after the upgrade is refused.
scen=/etc/sabot/scenarios/sabot-hs-latch-$$.ini
cp "$(command -v sleep)" "$T_TMP/sabot-hsl$$"
"$T_TMP/sabot-hsl$$" 600 &
worker=$!
for d in 2 30; do
	printf '[scenario]\nname = latch\nduration = %ds\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $d $worker \
		> "$T_ROOT$scen.$d"
	chmod 644 "$T_ROOT$scen.$d"
done
expect_exit 5 "after the upgrades a run is still refused (exit 5: disarmed)" troot /usr/sbin/sabot run --yes "$scen.2"
expect_out "and it says why" "disarmed"

# An armed host stays armed through an upgrade and a downgrade: the
# package does not disarm behind the operator's back either.
expect_exit 0 "the operator arms the host" troot /usr/sbin/sabot arm
expect_exit 0 "dpkg -i upgrades an armed host" troot dpkg -i /tmp/sabot-2.deb
[ "$(status1)" = armed ] && [ ! -e "$latch" ] && pass "the upgraded host is still armed" || fail "after upgrade: $(status1)"
expect_exit 0 "dpkg -i downgrades an armed host" troot dpkg -i /tmp/sabot-1.deb
[ "$(status1)" = armed ] && [ ! -e "$latch" ] && pass "the downgraded host is still armed" || fail "after downgrade: $(status1)"

# A run in progress through an upgrade: the upgrade leaves it alone (it
# ends on its own schedule, reverting what it applied), and the upgraded
# binary's kill switch still stops it.
troot sh -c "/usr/sbin/sabot run --yes $scen.30 >/tmp/run.out 2>&1 &"
paused() { [ "$(pstate $worker)" = T ]; }
wait_for 10000 paused && pass "a run pauses its target" || fail "the run never paused its target: $(cat "$T_ROOT/tmp/run.out")"
expect_exit 0 "dpkg -i downgrades with a run in progress" troot dpkg -i /tmp/sabot-1.deb
expect_exit 0 "dpkg -i upgrades with a run in progress" troot dpkg -i /tmp/sabot-2.deb
expect_out "and says that the run goes on" 'upgrade: runs in progress go on'
# (status --json: the run's runner is running and still holds the stop.)
holds_stop() {
	troot /usr/sbin/sabot status --json | troot python3 -c 'import json, sys
s = json.load(sys.stdin)
sys.exit(not any(r["runner"] == "running" and any(a["kind"] == "stop" and a["pid"] == int(sys.argv[1]) for a in r["active"])
                 for r in s["runs"]))' "$worker"
}
[ "$(pstate $worker)" = T ] && holds_stop &&
	pass "the run is still in progress after both" || fail "after the upgrade: target $(pstate $worker), $(troot /usr/sbin/sabot status)"
expect_exit 0 "the upgraded binary's abort stops the older binary's run" troot /usr/sbin/sabot abort --reason "after upgrade"
running() { [ "$(pstate $worker)" = S ]; }
wait_for 5000 running && pass "and its target runs again" || fail "target state $(pstate $worker) after abort"
expect_exit 0 "arm again" troot /usr/sbin/sabot arm
: > "$T_ROOT/tmp/systemctl.log"

# Removal: the binary goes, so nothing of sabot's may stay applied. With a
# run in progress (its target paused), dpkg -r reverts it first, and leaves
# the host disarmed: removal never re-arms a host.
troot sh -c "/usr/sbin/sabot run --yes $scen.30 >/tmp/run.out 2>&1 &"
wait_for 10000 paused && pass "a run pauses its target" || fail "the run never paused its target: $(cat "$T_ROOT/tmp/run.out")"
expect_exit 0 "dpkg -r with a run in progress" troot dpkg -r sabot
expect_out "and says that it aborted the run" 'removal: every run was aborted'
grep -q 'daemon-reload' "$T_ROOT/tmp/systemctl.log" && pass "removal tells systemd (daemon-reload): the unit is gone" ||
	fail "removal told systemctl: $(sysctl_log)"
[ ! -e "$T_ROOT/usr/sbin/sabot" ] && pass "the binary is gone" || fail "/usr/sbin/sabot is still there"
wait_for 5000 running && pass "the run's target runs again: the removal reverted it" || fail "target state $(pstate $worker) after removal"
grep -q 'package removal' "$latch" 2>/dev/null &&
	pass "removal left the host disarmed ($(cat "$latch"))" || fail "after removal the latch is: $(cat "$latch" 2>&1)"
expect_exit 0 "dpkg -i after the removal" troot dpkg -i /tmp/sabot-2.deb
s=$(status1)
case $s in DISARMED:*package\ removal*) pass "reinstalled, the host is still disarmed: $s" ;; *) fail "reinstalled after removal: $s" ;; esac
# A removal whose abort fails (here: the journals cannot be read) must not
# take the binary away: faults may still be applied.
rm -rf "$T_ROOT/run/sabot/runs"
mkdir -p "$T_ROOT/run/sabot"
: > "$T_ROOT/run/sabot/runs"
expect_exit 1 "dpkg -r is refused when 'sabot abort' fails" troot dpkg -r sabot
expect_out "and says why" "abort' failed"
# (dpkg keeps the operator's wish, "deinstall", and the package "installed".)
[ -x "$T_ROOT/usr/sbin/sabot" ] && troot dpkg-query -W -f='${Status}' sabot | grep -q ' ok installed$' &&
	pass "the package stays installed, the binary with it" || fail "after a refused removal: $(troot dpkg-query -W -f='${Status}' sabot)"
rm -f "$T_ROOT/run/sabot/runs"
expect_exit 0 "dpkg --purge" troot dpkg --purge sabot
[ ! -e "$T_ROOT/var/lib/sabot" ] && pass "purge removes the state, the latch with it" || fail "left: $(ls -la "$T_ROOT/var/lib/sabot")"
! [ -L "$wants" ] && [ -z "$(find "$T_ROOT/var/lib/systemd/deb-systemd-helper-enabled" -name 'sabot*' 2>/dev/null)" ] &&
	pass "purge removes the .wants link and deb-systemd-helper's record" || fail "purge left $(ls -l "$wants" 2>&1)"
[ "$(host_pkg_snapshot)" = "$host_before" ] && pass "this machine's own dpkg and sabot paths are untouched" ||
	fail "the machine changed: $(host_pkg_snapshot)"
t_done
