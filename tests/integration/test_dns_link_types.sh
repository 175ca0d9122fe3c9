#!/bin/sh
# The dns fault reads a query's IP header where the link type puts it:
# 14 bytes in on Ethernet and loopback, at once on an IP-only link. Here,
# without modules: a tun device (ARPHRD_NONE, IP-only) gets the fault and
# its queries the answer; a tun whose link type is set (TUNSETLINK) to
# IEEE 802.15.4, a header the program cannot read, is refused before the
# run (exit 6, nothing touched), and a link that turns into one after the
# run started fails the fault at its window, leaving nothing.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
ns=sabot-dlt-$id
tun=sabot-t$id # IP-only
odd=sabot-o$id # IEEE 802.15.4
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	wait 2>/dev/null
	ip -n "$ns" link del "$tun" 2>/dev/null
	ip -n "$ns" link del "$odd" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
for c in dig perl; do
	command -v $c >/dev/null || { skip "no $c ('make test-deps' installs bind9-dnsutils; perl-base is essential)"; t_done; }
done
[ -c /dev/net/tun ] || { skip "no /dev/net/tun: this kernel has no tun built in"; t_done; }
ip netns add "$ns" && ip -n "$ns" link set lo up || { fail "namespace setup"; t_done; }
in_ns() { ip netns exec "$ns" "$@"; }
# set_type DEV ARPHRD: the link type of a tun that is down (TUNSETLINK).
set_type() {
	in_ns perl -e 'open(my $f, "+<", "/dev/net/tun") or die "/dev/net/tun: $!\n";
		ioctl($f, 0x400454ca, pack("a16 s x22", $ARGV[0], 0x1001)) or die "TUNSETIFF: $!\n";
		ioctl($f, 0x400454cd, int($ARGV[1])) or die "TUNSETLINK: $!\n";' "$1" "$2"
}
mktun() { # DEV ADDR
	ip -n "$ns" tuntap add mode tun name "$1" && ip -n "$ns" addr add "$2/24" dev "$1" &&
		ip -n "$ns" link set "$1" up
}
mktun "$tun" 10.69.1.1 || { skip "cannot make a tun device in a namespace"; t_done; }
[ "$(in_ns cat /sys/class/net/$tun/type)" = 65534 ] && pass "$tun is of link type 65534 (ARPHRD_NONE, IP-only)" ||
	fail "$tun is of type $(in_ns cat /sys/class/net/$tun/type)"
ip -n "$ns" tuntap add mode tun name "$odd" && set_type "$odd" 804 &&
	ip -n "$ns" addr add 10.69.2.1/24 dev "$odd" && ip -n "$ns" link set "$odd" up || { fail "cannot set up $odd"; t_done; }
[ "$(in_ns cat /sys/class/net/$odd/type)" = 804 ] && pass "$odd is of link type 804 (IEEE 802.15.4)" ||
	fail "$odd is of type $(in_ns cat /sys/class/net/$odd/type)"

scenario() { # NAME DEV SECONDS START
	cat > "$1.ini" <<INI
[scenario]
name = dlt-$1-$id
duration = ${3}s
[fault d]
type = dns
interface = $2
domains = example.com
start = ${4:-0}
INI
}
status() { # RESOLVER
	o=$(in_ns dig +time=1 +tries=1 @"$1" www.example.com 2>&1)
	s=$(printf '%s\n' "$o" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -n 1)
	echo "${s:-TIMEOUT}"
}
untouched() { # DEV: no clsact, no filter, no journal
	[ -z "$(ip netns exec "$ns" tc qdisc show dev "$1" | grep clsact)" ] &&
		[ -z "$(ip netns exec "$ns" tc filter show dev "$1" egress 2>/dev/null)" ] && no_journals
}

# --- the IP-only tun: the program finds the header at once ---
[ "$(status 10.69.1.2)" = TIMEOUT ] && pass "without the fault a query out of $tun gets no answer (no resolver)" ||
	fail "a query out of $tun got an answer without the fault"
scenario tun "$tun" 8
in_ns $S run --yes tun.ini > tun.out 2>&1 &
runner=$!
answered() { [ "$(status 10.69.1.2)" = NXDOMAIN ] || ! kill -0 "$runner" 2>/dev/null; }
wait_for 8000 answered && kill -0 "$runner" 2>/dev/null && pass "on $tun a query is answered NXDOMAIN by the program" ||
	fail "no NXDOMAIN out of $tun: $(cat tun.out)"
wait "$runner"
rc=$?
runner=""
[ $rc = 0 ] && pass "the run on $tun exits 0" || fail "run on $tun: exit $rc: $(cat tun.out)"
untouched "$tun" && pass "nothing left on $tun" || fail "left on $tun: $(ip netns exec "$ns" tc qdisc show dev "$tun")"

# --- a link type it cannot read: refused before the run ---
scenario odd "$odd" 4
OUT=$(in_ns $S run --yes odd.ini 2>&1)
rc=$?
[ $rc = 6 ] && pass "a dns fault on a link of type 804 is refused (exit 6)" || fail "exit $rc, want 6: $OUT"
echo "$OUT" | grep -q "odd.ini:[0-9]*: .*type = dns is not supported here: $odd is of link type 804" &&
	pass "with the file's line and the link type" || fail "no clear message: $OUT"
echo "$OUT" | grep -q "knows Ethernet, loopback and IP-only links" && pass "saying which links it knows" ||
	fail "not what it knows: $OUT"
untouched "$odd" && pass "nothing was touched on $odd" || fail "left on $odd: $(ip netns exec "$ns" tc qdisc show dev "$odd")"
OUT=$(in_ns $S plan odd.ini 2>&1)
echo "$OUT" | grep -q "$odd is of link type 804.*a run would exit 6" && pass "sabot plan says a run would be refused" ||
	fail "plan: $OUT"

# --- a link that changes type after the run's start: its window fails ---
scenario late "$tun" 8 4s
in_ns $S run --yes late.ini > late.out 2>&1 &
runner=$!
journaled() { [ -n "$(ls run/runs 2>/dev/null)" ]; }
wait_for 10000 journaled || fail "the run made no journal: $(cat late.out)"
ip -n "$ns" link set "$tun" down && set_type "$tun" 804 && ip -n "$ns" link set "$tun" up ||
	fail "cannot change $tun's link type"
wait "$runner"
rc=$?
runner=""
grep -q "apply failed: $tun is of link type 804" late.out && pass "the link turned 804: the window's apply fails, saying why" ||
	fail "no apply failure in: $(cat late.out)"
[ $rc != 0 ] && pass "and the run does not exit 0 (exit $rc)" || fail "exit 0 with a failed fault: $(cat late.out)"
untouched "$tun" && pass "nothing left on $tun" || fail "left on $tun: $(ip netns exec "$ns" tc qdisc show dev "$tun")"
ip -n "$ns" link del "$tun" && ip -n "$ns" link del "$odd" || fail "cannot delete the tun devices"
[ -z "$(ip -o link | grep -e "$tun" -e "$odd")" ] && pass "no tun device of the test is on the host" ||
	fail "left on the host: $(ip -o link | grep -e "$tun" -e "$odd")"
t_done
