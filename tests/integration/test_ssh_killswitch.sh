#!/bin/sh
# The SSH kill switch, end to end: a real sshd (Debian's openssh-server) on
# a loopback port with its own host key and config, a key installed by
# packaging/ssh/install-killswitch-key.sh, and a run holding a network fault.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! [ -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	skip "no sshd/ssh: 'make test-deps' installs openssh-server and openssh-client"
	t_done
fi
id=$$
A=sabot-itk-$id-a
B=sabot-itk-$id-b
dev=sabot-itk0
port=$((40000 + id % 10000))
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	if [ -f "$T_TMP/sshd.pid" ]; then
		sp=$(cat "$T_TMP/sshd.pid")
		kill "$sp" 2>/dev/null
		wait_for 3000 sh -c "! [ -d /proc/$sp ]"
	fi
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-itk1 10.68.0.1 10.68.0.2 || { fail "namespace setup"; t_done; }

ssh-keygen -q -t ed25519 -N '' -f host_key && ssh-keygen -q -t ed25519 -N '' -f ic_key -C incident-commander
expect_exit 0 "the install script adds the key" sh "$top/packaging/ssh/install-killswitch-key.sh" ic_key.pub \
	"$T_TMP/authorized_keys" "$S"
expect_exit 0 "and is idempotent" sh "$top/packaging/ssh/install-killswitch-key.sh" ic_key.pub "$T_TMP/authorized_keys" "$S"
[ "$(grep -c 'restrict,command=' authorized_keys)" = 1 ] && pass "one restricted line" || fail "authorized_keys: $(cat authorized_keys)"
cat > sshd_config <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $T_TMP/host_key
AuthorizedKeysFile $T_TMP/authorized_keys
PidFile $T_TMP/sshd.pid
PermitRootLogin forced-commands-only
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CFG
mkdir -p /run/sshd
/usr/sbin/sshd -f "$T_TMP/sshd_config" -E "$T_TMP/sshd.log"
killswitch() {
	ssh -i "$T_TMP/ic_key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR root@127.0.0.1 "$@"
}
port_up() { nc -z 127.0.0.1 "$port"; }
# The aborts this test's key started: a client can end (a refused pty)
# before the abort it asked for has run (sshd then leaves it to run on its
# own), and that abort would write the latch after the test has armed and
# cleaned up. They are told apart by this test's own state dir.
sessions_done() {
	[ -z "$(pgrep -P "$(cat "$T_TMP/sshd.pid")")" ] && ! pgrep -f -- "--state-dir $T_TMP/state .*abort" >/dev/null
}
wait_for 5000 port_up && pass "sshd listens on 127.0.0.1:$port" || { fail "sshd did not start: $(cat sshd.log)"; t_done; }

cat > bh.ini <<INI
[scenario]
name = ssh-bh
duration = 60s
[fault bh]
type = blackhole
interface = $dev
INI
has_filter() { ip netns exec "$A" tc filter show dev "$dev" egress | grep -q sabot_net; }
nsenter --net=/run/netns/"$A" $S run bh.ini > run.out 2>&1 &
runner=$!
wait_for 5000 has_filter && pass "a run holds a blackhole" || fail "no fault: $(cat run.out)"
t0=$(date +%s%N)
OUT=$(killswitch 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc = 0 ] && pass "ssh -i KEY throws the kill switch: exit 0 in $ms ms end to end" || fail "ssh exit $rc: $OUT"
expect_out "it says what it reverted" 'reverted [0-9]+ changes? of 1 run in [0-9.]+ ms'
has_filter && fail "the blackhole is still there" || pass "every fault was reverted"
wait $runner
[ $? = 4 ] && pass "the run ended with exit 4 (aborted by the kill switch)" || fail "run exit: $(cat run.out)"
grep -q 'aborted by the kill switch: .*ssh-killswitch' run.out && pass "with the reason recorded" || fail "reason: $(tail -3 run.out)"

# The key cannot do anything else.
OUT=$(killswitch id 2>&1)
echo "$OUT" | grep -q 'uid=' && fail "the key ran another command: $OUT" || pass "asked for 'id', it runs the kill switch instead"
expect_out "(its output is abort's)" 'sabot abort: chaos disarmed'
killswitch -W 127.0.0.1:22 </dev/null >/dev/null 2>&1 && fail "the key could forward a port" || pass "no forwarding"
OUT=$(killswitch -tt 2>&1 </dev/null)
echo "$OUT" | grep -q 'PTY allocation request failed' && pass "no terminal" || fail "a terminal was allocated: $(echo "$OUT" | head -2)"
wait_for 10000 sessions_done && pass "every session and the aborts they started ended" ||
	fail "still running: $(pgrep -a -P "$(cat sshd.pid)"; pgrep -af -- "--state-dir $T_TMP/state .*abort")"
$S arm >/dev/null
[ -e state/disarmed ] && fail "the latch is still set after arm" || pass "armed again, nothing left in the state dir's latch"
t_done
