#!/bin/sh
# Promise: after packaging/ssh/install-killswitch-key.sh exits 0, the key
# can throw the kill switch and nothing else. Tried against a real sshd on
# a loopback port with authorized_keys files where the same key already
# stands with full access, with other options, twice, or next to other
# keys; whenever the installer exits 0, `ssh -i KEY host id` must not run
# `id`, and other keys' lines must be kept as they were.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! [ -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	skip "no sshd/ssh: 'make test-deps' installs openssh-server and openssh-client"
	t_done
fi
id=$$
port=$((30000 + id % 10000))
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
inst="$top/packaging/ssh/install-killswitch-key.sh"
sshd_pid=""
cleanup() {
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
	[ -n "$sshd_pid" ] && wait_for 3000 sh -c "! [ -d /proc/$sshd_pid ]"
	wait_for 10000 sessions_done
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
ssh-keygen -q -t ed25519 -N '' -f host_key && ssh-keygen -q -t ed25519 -N '' -f ic_key -C incident-commander &&
	ssh-keygen -q -t ed25519 -N '' -f other_key -C someone-else || { fail "ssh-keygen"; t_done; }
cat > sshd_config <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $T_TMP/host_key
AuthorizedKeysFile $T_TMP/authorized_keys
PidFile $T_TMP/sshd.pid
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CFG
mkdir -p /run/sshd
/usr/sbin/sshd -f "$T_TMP/sshd_config" -E "$T_TMP/sshd.log" || { fail "sshd did not start: $(cat sshd.log)"; t_done; }
port_up() { nc -z 127.0.0.1 "$port"; }
wait_for 5000 port_up && pass "sshd listens on 127.0.0.1:$port" || { fail "sshd did not start: $(cat sshd.log)"; t_done; }
sshd_pid=$(cat sshd.pid)
as() { # KEY CMD...: ssh with KEY, run CMD
	k=$1
	shift
	ssh -i "$T_TMP/$k" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o ConnectTimeout=5 root@127.0.0.1 "$@" </dev/null
}
# Sessions end before the next case: a late abort would otherwise write
# the latch after the test has moved on.
# (sshd leaves a command running when its client has gone: those aborts
# are told apart by this test's own state dir.)
sessions_done() { [ -z "$(pgrep -P "$sshd_pid")" ] && ! pgrep -f -- "--state-dir $T_TMP/state .*abort" >/dev/null; }
key=$(awk '{print $1, $2}' ic_key.pub)
other=$(cat other_key.pub)

installed() { # DESC: the installer exited 0: the key must do the abort only
	OUT=$(as ic_key id 2>&1)
	wait_for 5000 sessions_done
	if echo "$OUT" | grep -q 'uid='; then
		fail "$1: the installer exited 0 and the key still runs any command: $OUT ($msg)"
	else
		pass "$1: installer exit 0, and the key cannot run 'id'"
	fi
	expect_out "$1: what it runs is the kill switch" 'sabot abort: chaos disarmed'
	OUT=$(as ic_key -tt 2>&1)
	wait_for 5000 sessions_done
	echo "$OUT" | grep -q 'PTY allocation request failed' && pass "$1: no terminal" ||
		fail "$1: a terminal was allocated: $(echo "$OUT" | head -n 2)"
	$S arm >/dev/null
	n=$(grep -cF "$key" authorized_keys)
	[ "$n" = 1 ] && pass "$1: the key stands on one line" || fail "$1: the key is on $n lines: $(cat authorized_keys)"
	if grep -qF "$other" before; then
		grep -qxF "$other" authorized_keys && pass "$1: the other key's line is kept" || fail "$1: the other key's line was lost"
		OUT=$(as other_key echo other-ok 2>&1)
		wait_for 5000 sessions_done
		[ "$OUT" = other-ok ] && pass "$1: the other key still works" || fail "$1: the other key: $OUT"
	fi
}

try() { # DESC: install over the authorized_keys prepared by the caller
	desc=$1
	cp authorized_keys before
	msg=$(sh "$inst" ic_key.pub "$T_TMP/authorized_keys" "$S" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		installed "$desc"
		return
	fi
	echo "$msg" | grep -qi "key" && pass "$desc: refused loudly (exit $rc): $(echo "$msg" | head -n 1 | cut -c1-90)" ||
		fail "$desc: exit $rc without saying why: $msg"
	cmp -s before authorized_keys && pass "$desc: a refusal leaves authorized_keys as it was" ||
		fail "$desc: a refusal changed authorized_keys"
	msg=$(sh "$inst" --replace ic_key.pub "$T_TMP/authorized_keys" "$S" 2>&1)
	rc=$?
	[ $rc = 0 ] && pass "$desc: --replace exits 0" || fail "$desc: --replace exit $rc: $msg"
	[ $rc = 0 ] && installed "$desc, --replace"
}

# Control: before the installer, a plain line gives a shell.
printf '%s\n' "$(cat ic_key.pub)" > authorized_keys
chmod 600 authorized_keys
OUT=$(as ic_key id 2>&1)
wait_for 5000 sessions_done
echo "$OUT" | grep -q 'uid=0' && pass "control: the key unrestricted runs 'id' as root" || fail "control: no shell with the plain key: $OUT"

printf '%s\n%s\n' "$other" "$(cat ic_key.pub)" > authorized_keys
try "the same key already there, unrestricted"
printf 'no-pty %s\n' "$(cat ic_key.pub)" > authorized_keys
try "the same key with other options"
printf 'command="/bin/sh -c id" %s\n' "$key" > authorized_keys
try "the same key with another forced command"
printf 'restrict,command="%s abort --reason ssh-killswitch" %s sabot-killswitch\n%s\n' "$S" "$key" "$(cat ic_key.pub)" > authorized_keys
try "the key restricted and also unrestricted"
printf 'restrict,command="%s abort --reason ssh-killswitch",pty %s sabot-killswitch\n' "$S" "$key" > authorized_keys
try "the key restricted, with pty allowed again"
printf '%s\n' "$other" > authorized_keys
try "a file with only another key"
try "installed twice"
[ "$(grep -c 'restrict,command=' authorized_keys)" = 1 ] && pass "one restricted line after installing twice" ||
	fail "authorized_keys: $(cat authorized_keys)"
t_done
