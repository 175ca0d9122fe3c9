#!/bin/sh
# Fleet runs with Ansible over SSH, against three hosts, each a throwaway
# Debian root (tests/integration/lib.sh troot_*: the package's
# dependencies, ansible-core and openssh debootstrapped there) with its own
# network namespace, its own sshd listening on its own 127.0.0.1:22, and
# so its own /etc, /var/lib/sabot and /run/sabot; the controller is a
# fourth root. The controller reaches each host's sshd through that host's
# namespace (ProxyCommand: nsenter --net, a byte relay to 127.0.0.1:22):
# no address outside the test's namespaces is used.
# What is tried: install.yml (package, scenarios validated before they
# land, schedules, metrics, the kill-switch key; nothing changed on a
# second run; nothing of what it copied left behind), gameday.yml in
# serial slices (all hold; then the second host does not hold and the
# third is never touched), abort.yml reverting runs in progress on every
# host, arm.yml, the kill-switch key, ansible-lint, and purge.
# This machine's own /usr, /etc and /var are never touched: the test runs
# in its own mount, network and pid namespaces and checks that.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
HOSTS="h1 h2 h3"
workers="" sshds=""
cleanup() {
	for p in $sshds $workers; do kill -9 "$p" 2>/dev/null; done
	troot_down
	t_cleanup_tmp
}
trap cleanup EXIT
t0=$(date +%s)
host_before=$(host_pkg_snapshot)

if command -v ansible-lint >/dev/null; then
	OUT=$(cd "$top/packaging/ansible" && HOME=$T_TMP/lint ansible-lint --offline --nocolor -q ./*.yml roles/sabot 2>&1)
	[ $? = 0 ] && pass "ansible-lint (production profile): clean" || {
		fail "ansible-lint"
		echo "$OUT" | sed 's/^/    | /'
	}
else
	skip "no ansible-lint: 'make test-deps' installs it"
fi

deb=$(make -s -C "$top" deb 2>&1 | tail -n 1)
[ -f "$deb" ] || { fail "make deb: $deb"; t_done; }
base=$(troot_deb_base "$deb") || { fail "no base root for the Ansible test"; t_done; }
troot_up "$base" controller || { fail "cannot set up the controller's root over $base"; t_done; }
CR=$T_ROOT
[ -x "$CR/usr/bin/ansible-playbook" ] && [ -x "$CR/usr/sbin/sshd" ] ||
	{ fail "no ansible-playbook or sshd in the base root $base"; t_done; }
C=/srv/controller
mkdir -p "$CR$C"
cp -r "$top/packaging/ansible" "$CR$C/"
cp "$deb" "$CR$C/"
cdeb=$C/$(basename "$deb")
ssh-keygen -q -t ed25519 -N '' -f "$CR$C/id_controller" -C controller &&
	ssh-keygen -q -t ed25519 -N '' -f "$CR$C/ic_key" -C incident-commander || { fail "ssh-keygen"; t_done; }
# Relays the ssh stream of the controller to 127.0.0.1:22 of the
# namespace it is started in.
cat > "$CR$C/relay.py" <<'PY'
import os, selectors, socket, sys
s = socket.create_connection(("127.0.0.1", 22))
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ, 0)
sel.register(s, selectors.EVENT_READ, 1)
def put(fd, d):
    while d:
        d = d[os.write(fd, d):]
while True:
    for k, _ in sel.select():
        if k.data == 0:
            d = os.read(0, 65536)
            if not d:
                sel.unregister(0)
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(d)
        else:
            d = s.recv(65536)
            if not d:
                sys.exit(0)
            put(1, d)
PY

# The hosts: a root each, its sshd in a network namespace of its own.
printf '[fleet]\n' > "$CR$C/hosts"
for h in $HOSTS; do
	troot_up "$base" "$h" || { fail "cannot set up host $h"; t_done; }
	R=$T_ROOT
	rm -f "$R"/etc/ssh/ssh_host_*
	ssh-keygen -q -t ed25519 -N '' -f "$R/etc/ssh/ssh_host_ed25519_key" -C "$h" || { fail "$h: host key"; t_done; }
	mkdir -p -m 700 "$R/root/.ssh" "$R/run/sshd"
	cp "$CR$C/id_controller.pub" "$R/root/.ssh/authorized_keys"
	chmod 600 "$R/root/.ssh/authorized_keys"
	printf 'ListenAddress 127.0.0.1\nPort 22\nHostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPidFile none\n' \
		> "$R/etc/ssh/sshd_test_config"
	unshare --net sh -c "ip link set lo up && exec chroot '$R' /usr/sbin/sshd -D -e -f /etc/ssh/sshd_test_config" \
		>"$T_TMP/sshd-$h.log" 2>&1 &
	pid=$!
	sshds="$sshds $pid"
	eval "sshd_$h=$pid root_$h=$R"
	# The host's own worker: a process of its own that its scenarios
	# target (through a pidfile in the host's /run).
	cp "$(command -v sleep)" "$T_TMP/sabot-itfw-$h-$$"
	"$T_TMP/sabot-itfw-$h-$$" 600 &
	w=$!
	workers="$workers $w"
	eval "worker_$h=$w"
	echo "$w" > "$R/run/sabot-fleet.pid"
	printf '%s ansible_host=%s ansible_ssh_common_args='"'"'-o ProxyCommand="nsenter --net=/proc/%s/ns/net python3 %s/relay.py"'"'"'\n' \
		"$h" "$h" "$pid" "$C" >> "$CR$C/hosts"
done
on() { # HOST CMD...: run CMD on HOST (its root, its network namespace)
	eval "oh_pid=\$sshd_$1 oh_root=\$root_$1"
	shift
	nsenter --net="/proc/$oh_pid/ns/net" chroot "$oh_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
root_of() { eval "echo \$root_$1"; }
worker_of() { eval "echo \$worker_$1"; }
listening() { for h in $HOSTS; do on "$h" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 22), 1)' 2>/dev/null || return 1; done; }
wait_for 10000 listening && pass "three hosts, each its own sshd on 127.0.0.1:22 of its own network namespace" ||
	{ fail "the hosts' sshd: $(cat "$T_TMP"/sshd-*.log)"; t_done; }

ctl() { # CMD...: on the controller
	chroot "$CR" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 ANSIBLE_NOCOLOR=1 \
		ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_PRIVATE_KEY_FILE=$C/id_controller ANSIBLE_REMOTE_USER=root \
		ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR' \
		ANSIBLE_BECOME=false "$@"
}
play() { book=$1; shift; ctl ansible-playbook -i "$C/hosts" "$C/ansible/$book" "$@"; }
OUT=$(ctl ansible fleet -i "$C/hosts" -m ansible.builtin.command -a 'cat /etc/ssh/ssh_host_ed25519_key.pub' 2>&1)
n=0
for h in $HOSTS; do echo "$OUT" | grep -q " $h\$" && n=$((n + 1)); done
[ $n = 3 ] && pass "the controller reaches each host over SSH, and each answers as itself" ||
	{ fail "ssh to the hosts: $OUT"; t_done; }

scen() { # NAME DURATION [extra]
	printf '[scenario]\nname = %s\nduration = %s\n[target w]\npidfile = /run/sabot-fleet.pid\n[fault p]\ntype = pause\ntarget = w\n' "$1" "$2"
}
scen fleet-held 1s > "$CR$C/fleet-held.ini"
scen fleet-long 60s > "$CR$C/fleet-long.ini"
vars="{\"sabot_deb\": \"$cdeb\", \"sabot_scenarios\": [\"$C/fleet-held.ini\", \"$C/fleet-long.ini\"],
 \"sabot_schedules\": {\"fleet-held\": \"Mon..Fri 10:00\"}, \"sabot_killswitch_key\": \"$C/ic_key.pub\"}"
expect_exit 0 "install.yml: the package, scenarios, a schedule, metrics and the kill-switch key on three hosts" play install.yml -e "$vars"
for h in $HOSTS; do
	R=$(root_of "$h")
	ok=1 why=""
	[ -x "$R/usr/sbin/sabot" ] || { ok=0; why="$why no binary;"; }
	[ "$(stat -c '%U %a' "$R/etc/sabot/scenarios/fleet-held.ini" 2>&1)" = "root 644" ] || { ok=0; why="$why scenario not root 0644;"; }
	grep -qx 'OnCalendar=Mon..Fri 10:00' "$R/etc/systemd/system/sabot-run@fleet-held.timer.d/schedule.conf" 2>/dev/null || { ok=0; why="$why no schedule;"; }
	[ "$(readlink "$R/etc/systemd/system/timers.target.wants/sabot-run@fleet-held.timer")" = /lib/systemd/system/sabot-run@.timer ] ||
		{ ok=0; why="$why timer not enabled;"; }
	grep -qx 'SABOT_METRICS_DIR=/var/lib/prometheus/node-exporter' "$R/etc/default/sabot" && [ -d "$R/var/lib/prometheus/node-exporter" ] ||
		{ ok=0; why="$why no metrics settings;"; }
	grep -q '^restrict,command="/usr/sbin/sabot abort --reason ssh-killswitch" ssh-ed25519 ' "$R/root/.ssh/authorized_keys" ||
		{ ok=0; why="$why no kill-switch key;"; }
	left=$(ls -d "$R"/tmp/*.deb "$R"/tmp/*.pub "$R"/var/tmp/*.deb "$R"/var/tmp/*.pub "$R"/var/tmp/ansible-sabot* 2>/dev/null)
	[ -z "$left" ] || { ok=0; why="$why copies left: $left;"; }
	[ $ok = 1 ] && pass "$h: binary, scenarios root-owned 0644, schedule drop-in and timer link, metrics settings, kill-switch key; nothing it copied left" ||
		fail "$h:$why"
done
# The schedule as the role wrote it passes systemd's own check.
if command -v systemd-analyze >/dev/null; then
	R=$(root_of h1)
	mkdir -p "$T_TMP/units/sabot-run@fleet-held.timer.d"
	sed 's|^ExecStart=/usr/sbin/sabot|ExecStart=/bin/true|; s|^ExecStopPost=.*||' "$R/lib/systemd/system/sabot-run@.service" > "$T_TMP/units/sabot-run@fleet-held.service"
	cp "$R/lib/systemd/system/sabot-run@.timer" "$T_TMP/units/sabot-run@fleet-held.timer"
	cp "$R/etc/systemd/system/sabot-run@fleet-held.timer.d/schedule.conf" "$T_TMP/units/sabot-run@fleet-held.timer.d/"
	OUT=$(cd "$T_TMP/units" && SYSTEMD_UNIT_PATH="$T_TMP/units:" systemd-analyze verify --man=no sabot-run@fleet-held.timer 2>&1)
	[ $? = 0 ] && [ -z "$OUT" ] && pass "the installed timer with the role's schedule: systemd-analyze verify, no complaints" ||
		fail "systemd-analyze verify: $OUT"
fi
expect_exit 0 "install.yml again" play install.yml -e "$vars"
n=$(echo "$OUT" | grep -cE '^h[123] +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0')
[ "$n" = 3 ] && pass "a second install.yml changes nothing (changed=0 on every host)" || {
	fail "a second run reported changes"
	echo "$OUT" | grep -E 'changed:|^h[123] ' | sed 's/^/    | /'
}
# A scenario the hosts refuse never lands.
printf '[scenario]\nname = bad\nduration = 1s\n[fault p]\ntype = pause\ntarget = nowhere\n' > "$CR$C/fleet-bad.ini"
expect_exit 2 "install.yml with an invalid scenario fails" play install.yml -e "{\"sabot_scenarios\": [\"$C/fleet-bad.ini\"]}"
expect_out "on sabot validate's word" "target 'nowhere', which is not defined"
left=""
for h in $HOSTS; do [ -e "$(root_of "$h")/etc/sabot/scenarios/fleet-bad.ini" ] && left="$left $h"; done
[ -z "$left" ] && pass "validated before it lands: on no host in /etc/sabot/scenarios" || fail "it landed on:$left"

# What a scheduled run does with the options the role wrote: metrics in
# the textfile directory (the unit's ExecStart, its variables from
# /etc/default/sabot).
OUT=$(on h1 sh -c '. /etc/default/sabot && exec sabot run --yes --metrics-file "$SABOT_METRICS_DIR/sabot-fleet-held.prom" $SABOT_RUN_OPTS /etc/sabot/scenarios/fleet-held.ini' 2>&1)
grep -q '^sabot_last_run_exit_code{scenario="fleet-held"} 0$' "$(root_of h1)/var/lib/prometheus/node-exporter/sabot-fleet-held.prom" 2>/dev/null &&
	pass "h1: a run with the unit's options writes node_exporter's textfile metrics" || fail "no metrics: $OUT"

for h in $HOSTS; do rm -f "$(root_of "$h")"/var/lib/sabot/reports/fleet-*; done
expect_exit 0 "gameday.yml, one host at a time: every host holds" play gameday.yml -e scenario=fleet-held -e sabot_serial=1
n=$(echo "$OUT" | grep -cE '^h[123] +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0')
[ "$n" = 3 ] && pass "every host ok, one run each" || fail "recap: $(echo "$OUT" | grep -E '^h[123] ')"
n=0
for h in $HOSTS; do [ -f "$(root_of "$h")/var/lib/sabot/reports/fleet-fleet-held.json" ] && n=$((n + 1)); done
[ $n = 3 ] && pass "each host has its own report" || fail "reports on $n hosts"
order=$(echo "$OUT" | sed -n 's/^PLAY \[Game day\].*/P/p; s/^changed: \[\(h[123]\)\].*/\1/p' | tr -d '\n')
[ "$order" = Ph1Ph2Ph3 ] && pass "in serial slices: h1, then h2, then h3" || fail "slices: $order"

# h2 does not hold: its target is gone (exit 7, the chaos did not happen).
for h in $HOSTS; do rm -f "$(root_of "$h")"/var/lib/sabot/reports/fleet-*; done
echo 999999 > "$(root_of h2)/run/sabot-fleet.pid"
on h2 sabot run --yes /etc/sabot/scenarios/fleet-held.ini >/dev/null 2>&1
h2_rc=$?
[ $h2_rc = 7 ] && pass "h2 alone: its run does not hold (exit 7)" || fail "h2 alone: exit $h2_rc"
expect_exit 2 "gameday.yml: h2 does not hold, the play stops" play gameday.yml -e scenario=fleet-held -e sabot_serial=1
expect_out "with h2's exit code" "\"rc\": $h2_rc[,}]"
[ -f "$(root_of h1)/var/lib/sabot/reports/fleet-fleet-held.json" ] && pass "h1, before it, ran" || fail "h1 did not run"
[ ! -f "$(root_of h3)/var/lib/sabot/reports/fleet-fleet-held.json" ] && ! echo "$OUT" | grep -q '\[h3\]' &&
	pass "h3, after it, was never touched" || fail "h3 ran after h2 failed"
echo "$(worker_of h2)" > "$(root_of h2)/run/sabot-fleet.pid"

# The fleet-wide kill switch with a run in progress on every host.
for h in $HOSTS; do on "$h" sh -c 'sabot run --yes /etc/sabot/scenarios/fleet-long.ini >/tmp/long.out 2>&1 &'; done
all_paused() { for h in $HOSTS; do [ "$(pstate "$(worker_of "$h")")" = T ] || return 1; done; }
wait_for 15000 all_paused && pass "a long run pauses each host's worker" || fail "not all paused"
# A rolling upgrade with install.yml while the game day runs: the runs go
# on (the package's prerm says so), on the upgraded binary's watch.
v2=$(dpkg-deb -f "$deb" Version).1
dpkg-deb -R "$deb" "$T_TMP/b2" && sed -i "s/^Version: .*/Version: $v2/" "$T_TMP/b2/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$T_TMP/b2" "$CR$C/sabot-v2.deb" >/dev/null 2>&1
expect_exit 0 "install.yml upgrades every host to $v2 with the runs in progress" play install.yml -e "sabot_deb=$C/sabot-v2.deb"
n=0
for h in $HOSTS; do [ "$(on "$h" dpkg-query -W -f='${Version}' sabot)" = "$v2" ] && n=$((n + 1)); done
[ $n = 3 ] && all_paused && pass "upgraded on every host, every run still holds its target" ||
	fail "after the upgrade: $n of 3 upgraded; workers $(for h in $HOSTS; do pstate "$(worker_of "$h")"; done)"
expect_exit 0 "abort.yml: every host at once" play abort.yml -e reason=fleet-test
all_running() { for h in $HOSTS; do [ "$(pstate "$(worker_of "$h")")" = S ] || return 1; done; }
wait_for 5000 all_running && pass "every host's worker runs again" || fail "after abort: $(for h in $HOSTS; do pstate "$(worker_of "$h")"; done)"
n=0
for h in $HOSTS; do on "$h" sabot status | head -n 1 | grep -q '^DISARMED: .*fleet-test' && n=$((n + 1)); done
[ $n = 3 ] && pass "every host is disarmed, with the reason" || fail "disarmed: $n of 3"
expect_exit 2 "gameday.yml on a disarmed fleet stops at the first host" play gameday.yml -e scenario=fleet-held -e sabot_serial=1
expect_out "exit 5: refused" '"rc": 5[,}]'
expect_exit 0 "arm.yml" play arm.yml
n=$(echo "$OUT" | grep -cE '^h[123] +: ok=[0-9]+ +changed=1 ')
[ "$n" = 3 ] && pass "arm.yml changed each host" || fail "arm recap: $(echo "$OUT" | grep -E '^h[123] ')"
n=0
for h in $HOSTS; do [ "$(on "$h" sabot status | head -n 1)" = armed ] && n=$((n + 1)); done
[ $n = 3 ] && pass "every host is armed again" || fail "armed: $n of 3"
expect_exit 0 "arm.yml on an armed fleet" play arm.yml
n=$(echo "$OUT" | grep -cE '^h[123] +: ok=[0-9]+ +changed=0 ')
[ "$n" = 3 ] && pass "changes nothing (changed=0)" || fail "arm again recap: $(echo "$OUT" | grep -E '^h[123] ')"

# The kill-switch key the role installed: it aborts h3, and can do nothing else.
OUT=$(ctl ssh -i $C/ic_key -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	-o ProxyCommand="nsenter --net=/proc/$sshd_h3/ns/net python3 $C/relay.py" root@h3 id 2>&1)
echo "$OUT" | grep -q 'uid=' && fail "the kill-switch key runs any command: $OUT" ||
	{ echo "$OUT" | grep -q 'chaos disarmed' && pass "the kill-switch key throws h3's kill switch, and runs nothing else" || fail "kill-switch key: $OUT"; }
on h3 sabot status | head -n 1 | grep -q 'DISARMED: .*ssh-killswitch' && [ "$(on h1 sabot status | head -n 1)" = armed ] &&
	pass "h3 disarmed by it, h1 untouched" || fail "after the key: h3 $(on h3 sabot status | head -n 1), h1 $(on h1 sabot status | head -n 1)"

# What the plays pushed is the admin's, not the package's: purge keeps it.
R=$(root_of h1)
rm -f "$R"/etc/sabot/scenarios/fleet-*.ini
expect_exit 0 "purge on h1 after the fleet test" on h1 dpkg --purge sabot
[ ! -e "$R/etc/sabot" ] && [ ! -e "$R/var/lib/sabot" ] && [ ! -e "$R/etc/default/sabot" ] && pass "nothing of the package left on h1" ||
	fail "left: $(ls -d "$R/etc/sabot" "$R/var/lib/sabot" "$R/etc/default/sabot" 2>/dev/null)"
[ "$(host_pkg_snapshot)" = "$host_before" ] && pass "this machine's own dpkg and sabot paths are untouched" ||
	fail "the machine changed: $(host_pkg_snapshot)"
echo "    test_ansible took $(($(date +%s) - t0)) s"
t_done
