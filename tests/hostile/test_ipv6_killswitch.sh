#!/bin/sh
# IPv6 cannot cut the SSH kill switch: a 100% blackhole on both hooks of an
# interface must still let neighbour discovery (ICMPv6 133-137) and ARP
# through, or SSH to the protected port dies as soon as the neighbour entry
# expires. A real sshd listens on the peer namespace's IPv6 (and IPv4)
# address, port 22 (protected by the default policy); the neighbour caches
# are flushed while the blackhole holds, and the client must still connect.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
if ! [ -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	skip "no sshd/ssh: 'make test-deps' installs openssh-server and openssh-client"
	t_done
fi
id=$$
A=sabot-h6-$id-a
B=sabot-h6-$id-b
da=sabot-6a$id
db=sabot-6b$id
hx=$(printf %x $((id % 65536)))
ip6a=fd00:5ab:$hx::1
ip6b=fd00:5ab:$hx::2
ip4a=10.69.$((id % 250)).1
ip4b=10.69.$((id % 250)).2
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	[ -f "$T_TMP/sshd.pid" ] && kill "$(cat "$T_TMP/sshd.pid")" 2>/dev/null
	netns_pair_down "$A" "$B"
	if ip netns list | grep -q "sabot-h6-$id-"; then echo "FAIL: namespaces of this test left behind"; fi
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$da" "$db" "$ip4a" "$ip4b" || { fail "namespace setup"; t_done; }
ip -n "$A" -6 addr add "$ip6a/64" dev "$da" nodad && ip -n "$B" -6 addr add "$ip6b/64" dev "$db" nodad ||
	{ fail "IPv6 addresses"; t_done; }
inA() { ip netns exec "$A" "$@"; }

ssh-keygen -q -t ed25519 -N '' -f host_key && ssh-keygen -q -t ed25519 -N '' -f client_key || { fail "ssh-keygen"; t_done; }
cp client_key.pub authorized_keys
cat > sshd_config <<CFG
Port 22
ListenAddress $ip6b
ListenAddress $ip4b
HostKey $T_TMP/host_key
AuthorizedKeysFile $T_TMP/authorized_keys
PidFile $T_TMP/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CFG
mkdir -p /run/sshd
ip netns exec "$B" /usr/sbin/sshd -f "$T_TMP/sshd_config" -E "$T_TMP/sshd.log" || { fail "sshd: $(cat sshd.log)"; t_done; }
ssh_to() { # ADDR: one command over SSH from A, with a bounded wait
	inA ssh -i "$T_TMP/client_key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=6 -o LogLevel=ERROR "root@$1" echo sabot-ssh-ok 2>&1
}
up6() { ip netns exec "$B" ss -Hltn "sport = :22" | grep -q "$ip6b"; }
wait_for 5000 up6 || { fail "sshd did not start: $(cat sshd.log)"; t_done; }
[ "$(ssh_to "$ip6b")" = sabot-ssh-ok ] && pass "SSH over IPv6 works before the run" || { fail "SSH over IPv6 before the run"; t_done; }

cat > bh.ini <<INI
[scenario]
name = ipv6-bh
duration = 60s
[fault out]
type = blackhole
interface = $da
direction = egress
[fault in]
type = blackhole
interface = $da
direction = ingress
INI
has_filters() { [ "$(inA tc filter show dev "$da" egress | grep -c sabot_net)" -ge 1 ] &&
	[ "$(inA tc filter show dev "$da" ingress | grep -c sabot_net)" -ge 1 ]; }
nsenter --net=/run/netns/"$A" $S run bh.ini > run.out 2>&1 &
runner=$!
wait_for 5000 has_filters && pass "a run holds a 100% blackhole on both hooks of $da" || { fail "no fault: $(cat run.out)"; t_done; }
inA ping -6 -c 2 -W 1 -q "$ip6b" >/dev/null 2>&1 && fail "ping6 still answered: the blackhole is not in effect" ||
	pass "the blackhole drops other IPv6 traffic (ping6)"

# Each round flushes both neighbour caches, so the connection needs fresh
# neighbour solicitations and advertisements through the blackhole.
ok6=0 ok4=0 rounds=5
for i in $(seq $rounds); do
	inA ip -6 neigh flush dev "$da"
	ip -n "$B" -6 neigh flush dev "$db"
	[ -z "$(inA ip -6 neigh show dev "$da" | grep "$ip6b" | grep -v FAILED)" ] || echo "    (neighbour entry survived the flush)"
	[ "$(ssh_to "$ip6b")" = sabot-ssh-ok ] && ok6=$((ok6 + 1))
	inA ip -4 neigh flush dev "$da"
	ip -n "$B" -4 neigh flush dev "$db"
	[ "$(ssh_to "$ip4b")" = sabot-ssh-ok ] && ok4=$((ok4 + 1))
done
[ $ok6 = $rounds ] && pass "SSH over IPv6 connects through the blackhole after a neighbour flush ($ok6 of $rounds)" ||
	fail "SSH over IPv6 through the blackhole after a neighbour flush: $ok6 of $rounds connected"
[ $ok4 = $rounds ] && pass "SSH over IPv4 connects through the blackhole after an ARP flush ($ok4 of $rounds)" ||
	fail "SSH over IPv4 through the blackhole after an ARP flush: $ok4 of $rounds connected"
inA ip -6 neigh show dev "$da" | grep -q "$ip6b.*\(REACHABLE\|STALE\|DELAY\|PROBE\)" &&
	pass "A resolved B's IPv6 neighbour during the blackhole" || fail "no neighbour entry for $ip6b: $(inA ip -6 neigh show dev "$da")"

kill -TERM "$runner"
wait "$runner"
rc=$?
runner=
[ $rc = 4 ] && pass "SIGTERM ends the run, exit 4" || fail "run exit $rc: $(tail -5 run.out)"
left=$(inA tc qdisc show dev "$da" | grep clsact; inA tc filter show dev "$da" egress; inA tc filter show dev "$da" ingress)
[ -z "$left" ] && pass "nothing of sabot's is left on $da" || fail "left on $da: $left"
t_done
