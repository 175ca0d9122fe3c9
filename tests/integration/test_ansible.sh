#!/bin/sh
# Fleet runs with Ansible, against localhost (connection: local): install
# the package and push scenarios, a game day that holds, one that does not
# (the play stops), the fleet-wide abort, and arm.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
worker=""
cleanup() {
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	rm -f /etc/sabot/scenarios/fleet-held.ini /etc/sabot/scenarios/fleet-unhealthy.ini
	dpkg -s sabot >/dev/null 2>&1 && dpkg --purge sabot >/dev/null 2>&1
	rmdir /etc/sabot/scenarios /etc/sabot 2>/dev/null
	rm -f /tmp/sabot_*.deb
	t_cleanup_tmp
}
trap cleanup EXIT
if ! command -v ansible-playbook >/dev/null; then
	skip "no ansible-playbook: 'make test-deps' installs ansible-core"
	t_done
fi
if dpkg -s sabot >/dev/null 2>&1 || [ -e /etc/sabot ] || [ -e /var/lib/sabot ]; then
	skip "sabot is installed on this machine already; not touching it"
	t_done
fi
cd "$T_TMP"
deb=$(make -s -C "$top" deb 2>&1 | tail -n 1)
[ -f "$deb" ] || { fail "make deb"; t_done; }
cp "$(command -v sleep)" "$T_TMP/sabot-itaw$$"
"$T_TMP/sabot-itaw$$" 600 &
worker=$!
printf '[scenario]\nname = fleet-held\nduration = 1s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $worker > fleet-held.ini
printf '[slo down]\nprobe = http\nurl = http://127.0.0.1:9/\ninterval = 200ms\ntimeout = 150ms\nmax_error_rate = 10%%\n' |
	cat fleet-held.ini - | sed 's/fleet-held/fleet-unhealthy/' > fleet-unhealthy.ini
echo 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3' > hosts
play() {
	book=$1
	shift
	ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ansible-playbook -i hosts "$top/packaging/ansible/$book" "$@"
}

expect_exit 0 "install.yml installs the package and pushes scenarios" play install.yml -e "sabot_deb=$deb" \
	-e "{\"sabot_scenarios\": [\"$T_TMP/fleet-held.ini\", \"$T_TMP/fleet-unhealthy.ini\"]}"
[ -x /usr/sbin/sabot ] && [ "$(stat -c '%U %a' /etc/sabot/scenarios/fleet-held.ini)" = "root 644" ] &&
	pass "the binary, and the scenarios root-owned and 0644" || fail "install: $(ls -l /etc/sabot/scenarios)"
expect_exit 0 "gameday.yml: a run that holds" play gameday.yml -e scenario=fleet-held
expect_out "every host ok" 'localhost +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0'
[ -f /var/lib/sabot/reports/fleet-fleet-held.json ] && pass "the report is on the host" || fail "no report"
expect_exit 2 "gameday.yml: a run that does not hold stops the play" play gameday.yml -e scenario=fleet-unhealthy
expect_out "with the host's exit code" '"rc": 5'
expect_exit 0 "abort.yml: the fleet-wide kill switch" play abort.yml -e reason=fleet-test
[ "$(/usr/sbin/sabot status | head -n 1 | cut -d: -f1)" = DISARMED ] && pass "the host is disarmed" || fail "status: $(/usr/sbin/sabot status)"
expect_exit 0 "arm.yml" play arm.yml
[ "$(/usr/sbin/sabot status | head -n 1)" = armed ] && pass "the host is armed again" || fail "status: $(/usr/sbin/sabot status)"
# What the play pushed is the admin's, not the package's: purge keeps it.
rm -f /etc/sabot/scenarios/fleet-held.ini /etc/sabot/scenarios/fleet-unhealthy.ini
expect_exit 0 "purge after the fleet test" dpkg --purge sabot
[ ! -e /etc/sabot ] && [ ! -e /var/lib/sabot ] && pass "nothing left behind" || fail "left: $(ls -d /etc/sabot /var/lib/sabot 2>/dev/null)"
t_done
