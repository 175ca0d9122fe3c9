#!/bin/sh
# Fleet runs with Ansible (connection: local) on a throwaway Debian root
# (tests/integration/lib.sh troot_*: ansible-core and the package's
# dependencies debootstrapped there): install the package and push
# scenarios, a game day that holds, one that does not (the play stops), the
# fleet-wide abort, and arm. This machine's own /usr, /etc and /var are never
# touched: the test runs in its own mount, network and pid namespaces and
# checks that.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
worker=""
cleanup() {
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	troot_down
	t_cleanup_tmp
}
trap cleanup EXIT
t0=$(date +%s)
host_before=$(host_pkg_snapshot)
deb=$(make -s -C "$top" deb 2>&1 | tail -n 1)
[ -f "$deb" ] || { fail "make deb: $deb"; t_done; }
base=$(troot_deb_base "$deb") || { fail "no base root for the Ansible test"; t_done; }
troot_up "$base" || { fail "cannot set up the throwaway root over $base"; t_done; }
troot ansible-playbook --version >/dev/null 2>&1 || { fail "no ansible-playbook in the throwaway root $base"; t_done; }
# The controller's side, inside the root: the playbooks, the package, the
# scenarios.
C=/srv/controller
mkdir -p "$T_ROOT$C"
cp -r "$top/packaging/ansible" "$T_ROOT$C/"
cp "$deb" "$T_ROOT$C/"
deb=$C/$(basename "$deb")
cp "$(command -v sleep)" "$T_TMP/sabot-itaw$$"
"$T_TMP/sabot-itaw$$" 600 &
worker=$!
printf '[scenario]\nname = fleet-held\nduration = 1s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $worker > "$T_ROOT$C/fleet-held.ini"
printf '[slo down]\nprobe = http\nurl = http://127.0.0.1:9/\ninterval = 200ms\ntimeout = 150ms\nmax_error_rate = 10%%\n' |
	cat "$T_ROOT$C/fleet-held.ini" - | sed 's/fleet-held/fleet-unhealthy/' > "$T_ROOT$C/fleet-unhealthy.ini"
echo 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3' > "$T_ROOT$C/hosts"
play() {
	book=$1
	shift
	troot ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCAL_TEMP=/tmp/ansible-local \
		ansible-playbook -i "$C/hosts" "$C/ansible/$book" "$@"
}

expect_exit 0 "install.yml installs the package and pushes scenarios" play install.yml -e "sabot_deb=$deb" \
	-e "{\"sabot_scenarios\": [\"$C/fleet-held.ini\", \"$C/fleet-unhealthy.ini\"]}"
[ -x "$T_ROOT/usr/sbin/sabot" ] && [ "$(stat -c '%U %a' "$T_ROOT/etc/sabot/scenarios/fleet-held.ini")" = "root 644" ] &&
	pass "the binary, and the scenarios root-owned and 0644" || fail "install: $(ls -l "$T_ROOT/etc/sabot/scenarios")"
expect_exit 0 "gameday.yml: a run that holds" play gameday.yml -e scenario=fleet-held
expect_out "every host ok" 'localhost +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0'
[ -f "$T_ROOT/var/lib/sabot/reports/fleet-fleet-held.json" ] && pass "the report is on the host" || fail "no report"
# The exit code the host gives for that run (the contract says which:
# steady state not met), for the play to report.
troot /usr/sbin/sabot run --yes /etc/sabot/scenarios/fleet-unhealthy.ini >/dev/null 2>&1
host_rc=$?
[ $host_rc != 0 ] && pass "the unhealthy scenario does not hold on the host (exit $host_rc)" || fail "the unhealthy scenario held"
expect_exit 2 "gameday.yml: a run that does not hold stops the play" play gameday.yml -e scenario=fleet-unhealthy
expect_out "with the host's exit code" "\"rc\": $host_rc[,}]"
expect_exit 0 "abort.yml: the fleet-wide kill switch" play abort.yml -e reason=fleet-test
[ "$(troot /usr/sbin/sabot status | head -n 1 | cut -d: -f1)" = DISARMED ] && pass "the host is disarmed" ||
	fail "status: $(troot /usr/sbin/sabot status)"
expect_exit 0 "arm.yml" play arm.yml
[ "$(troot /usr/sbin/sabot status | head -n 1)" = armed ] && pass "the host is armed again" ||
	fail "status: $(troot /usr/sbin/sabot status)"
# What the play pushed is the admin's, not the package's: purge keeps it.
rm -f "$T_ROOT/etc/sabot/scenarios/fleet-held.ini" "$T_ROOT/etc/sabot/scenarios/fleet-unhealthy.ini"
expect_exit 0 "purge after the fleet test" troot dpkg --purge sabot
[ ! -e "$T_ROOT/etc/sabot" ] && [ ! -e "$T_ROOT/var/lib/sabot" ] && pass "nothing left behind" ||
	fail "left: $(ls -d "$T_ROOT/etc/sabot" "$T_ROOT/var/lib/sabot" 2>/dev/null)"
[ "$(host_pkg_snapshot)" = "$host_before" ] && pass "this machine's own dpkg and sabot paths are untouched" ||
	fail "the machine changed: $(host_pkg_snapshot)"
echo "    test_ansible took $(($(date +%s) - t0)) s"
t_done
