#!/bin/sh
# VM tier: the dns fault on each stock kernel (Debian 12's 6.1, its cloud
# flavour, 6.12), whose verifiers are older than the host's: 6.1's refused
# the program once (issue #16). A real resolver (dnsmasq) in one
# namespace, clients in another (the small tests/helpers/dnsq, since dig
# takes seconds to start under TCG, and glibc's getent); nxdomain by
# domain, servfail and refused side by side, timeout, over IPv4 and IPv6,
# with and without EDNS (the response leaves the OPT record out: the
# program sums the bytes it cuts), with software checksums (the receiving
# stack checks what the program left), the counters in the outcome, and
# the revert on SIGTERM. The host tier's test_dns_fault.sh covers the
# rest (cgroup targets, percent, SIGKILL, recover) on the host's kernel.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
. "$(dirname "$0")/vmlib.sh"
id=$$
A=sabot-vmd-$id-a # the client
B=sabot-vmd-$id-b # the resolver
dev=sabot-vmd0
R4=10.68.0.2
R6=fd68::2
Q=$BUILD/tests/helpers/dnsq
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
dnsmasq_pid=""
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	dns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP" || exit 1

why=$(load_modules veth cls_bpf sch_ingress) || { skip "$why"; exit 0; }
for c in dnsmasq getent; do
	command -v $c >/dev/null || { fail "no $c in the guest: run-vm.sh copies it from the host ('make test-deps')"; t_done; }
done
[ -x "$Q" ] || { fail "no $Q: 'make check-vm' builds it"; t_done; }

dns_pair "$A" "$B" "$dev" sabot-vmd1 68
inA() { ip netns exec "$A" "$@"; }

# expect WANT SERVER NAME [DNSQ OPTIONS]: DESC
expect() {
	want=$1 srv=$2 name=$3 opts=${4:-}
	got=$(inA "$Q" $opts "$srv" "$name" 2>&1)
	[ "$got" = "$want" ] && pass "$5: $name @$srv $opts→ $got" || fail "$5: $name @$srv $opts→ $got, want $want"
}
has_filters() { [ "$(inA tc filter show dev "$dev" egress | grep -c 'name sabot_dns')" = "$1" ]; }
# wait_s SECONDS CMD...: CMD until it succeeds, for SECONDS by the clock
# (lib.sh's wait_for counts its own sleeps: under TCG each try of a
# command takes far longer than the sleep between tries).
wait_s() {
	ws_end=$(awk -v s="$1" '{ print int($1 + s) }' /proc/uptime)
	shift
	until "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$ws_end" ] || return 1
		sleep 0.2
	done
}
runner_attached() { [ -d "/proc/$runner" ] || return 0; has_filters "$1"; }
# run_bg FILE N: start a run in A, wait until its N programs are attached.
# Under TCG on a loaded machine, loading a program can take longer than
# the guardian's 3 s grace: it then takes the runner for hung and kills
# it (exit 137, nothing attached, everything reverted). Such a run is
# tried again, twice at most, and said.
run_bg() {
	for try in 1 2 3; do
		nsenter --net=/run/netns/"$A" $S run "$1" > "$1.out" 2>&1 &
		runner=$!
		wait_s 120 runner_attached "$2"
		has_filters "$2" && return 0
		[ -d "/proc/$runner" ] && break
		wait $runner
		rb_rc=$?
		runner=""
		echo "    $1: the runner exited $rb_rc before attaching (try $try of 3): $(tail -n 1 "$1.out")"
		[ $rb_rc = 137 ] || break
	done
	fail "$1: not $2 sabot_dns filters attached: $(cat "$1.out")"
}
stop() { # FILE: SIGTERM the run, which exits 4 with everything reverted
	[ -n "$runner" ] || { fail "$1: no run to stop"; return; }
	kill -TERM $runner
	wait $runner
	rc=$?
	runner=""
	[ $rc = 4 ] && ! has_filters 1 && ! has_filters 2 && pass "$1: SIGTERM exits 4, the filters are gone" ||
		fail "$1: SIGTERM: exit $rc, filters: $(inA tc filter show dev "$dev" egress)"
}
csum_errors() { # UDP checksum errors counted in A, over IPv4 and IPv6
	inA cat /proc/net/snmp /proc/net/snmp6 | awk '$1 == "Udp:" && $2 !~ /^[0-9]+$/ { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c = i; next }
		$1 == "Udp:" && c { s += $c } $1 == "Udp6InCsumErrors" { s += $2 } END { print s + 0 }'
}
scenario() { # FILE: a [scenario] head; the runs end by SIGTERM
	printf '[scenario]\nname = dns\nduration = 10m\n' > "$1"
}

wait_s 60 eval '[ "$(inA "$Q" $R4 shop.example.com)" = NOERROR ]' || { fail "dnsmasq does not answer: $(cat dnsmasq.log)"; t_done; }
expect NOERROR $R4 shop.example.com "" "before"
expect NOERROR $R6 db.internal -e "before, IPv6"

# --- nxdomain for names under example.com ---
scenario nx.ini
cat >> nx.ini <<INI
[fault nx]
type = dns
interface = $dev
domains = example.com
answer = nxdomain
INI
run_bg nx.ini 1
expect NXDOMAIN $R4 shop.example.com "" "nxdomain"
expect NXDOMAIN $R4 ab.shop.example.com -e "nxdomain, EDNS cut off"
expect NXDOMAIN $R6 shop.example.com "" "nxdomain over IPv6"
expect NXDOMAIN $R6 ab.shop.example.com -e "nxdomain over IPv6, EDNS cut off"
expect NOERROR $R4 www.other.test "" "nxdomain: a name outside the domains passes"
expect NOERROR $R6 db.internal -e "nxdomain: outside the domains, IPv6"
inA getent hosts shop.example.com >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && pass "nxdomain: getent hosts shop.example.com fails (exit 2)" || fail "nxdomain: getent hosts: exit $rc"
inA getent hosts www.other.test | grep -q 10.68.1.3 && pass "nxdomain: getent hosts www.other.test resolves" ||
	fail "nxdomain: getent hosts www.other.test does not resolve"
stop nx.ini
# 4 answered by dnsq, getent's one or two (A, maybe AAAA) on top.
got=$(sed -n 's/.*reverted: answered \([0-9]*\) of \([0-9]*\) matching DNS queries with NXDOMAIN.*/\1 \2/p' nx.ini.out | head -n 1)
set -- $got
[ -n "$got" ] && [ "$1" = "$2" ] && [ "$1" -ge 5 ] && [ "$1" -le 6 ] &&
	pass "nxdomain: the outcome counts what it answered ($1 of $2)" || fail "nxdomain: outcome: $(grep -i answered nx.ini.out)"
expect NOERROR $R4 shop.example.com "" "after nxdomain"

# --- servfail and refused side by side, software checksums ---
scenario sr.ini
cat >> sr.ini <<INI
[fault sf]
type = dns
interface = $dev
domains = example.com
answer = servfail
[fault rf]
type = dns
interface = $dev
domains = internal
answer = refused
dst = $R4/32, $R6/128
INI
run_bg sr.ini 2
expect SERVFAIL $R4 shop.example.com "" "servfail"
expect SERVFAIL $R6 shop.example.com -e "servfail over IPv6"
expect REFUSED $R4 db.internal -e "refused"
expect REFUSED $R6 db.internal "" "refused over IPv6"
expect NOERROR $R4 www.other.test "" "servfail+refused: outside names pass"
# Without transmit checksum offload the kernel computes each UDP checksum
# itself and the receiver checks what the program left: a wrong one is
# dropped (dnsq's TIMEOUT) and counted.
if command -v ethtool >/dev/null && inA ethtool -K "$dev" tx off >/dev/null 2>&1; then
	e0=$(csum_errors)
	ok=0
	for srv in $R4 $R6; do
		for n in shop.example.com ab.shop.example.com x.db.internal db.internal; do
			for o in -e ""; do
				case $n in *internal) w=REFUSED ;; *) w=SERVFAIL ;; esac
				s=$(inA "$Q" $o $srv $n)
				[ "$s" = "$w" ] && ok=$((ok + 1)) || echo "    | $n @$srv $o: $s, want $w"
			done
		done
	done
	e1=$(csum_errors)
	[ $ok = 16 ] && [ "$e1" = "$e0" ] && pass "software checksums: 16 of 16 answers accepted over IPv4 and IPv6, no UDP checksum errors" ||
		fail "software checksums: $ok of 16 answers, UDP checksum errors $e0 -> $e1"
	inA ethtool -K "$dev" tx on >/dev/null 2>&1
else
	fail "no ethtool in the guest to turn checksum offload off: run-vm.sh copies it from the host ('make test-deps')"
fi
stop sr.ini

# --- timeout: the query is dropped ---
scenario to.ini
cat >> to.ini <<INI
[fault to]
type = dns
interface = $dev
domains = example.com
answer = timeout
INI
run_bg to.ini 1
expect TIMEOUT $R4 shop.example.com "-t 1500" "timeout"
expect TIMEOUT $R6 shop.example.com "-e -t 1500" "timeout over IPv6"
expect NOERROR $R4 db.internal "" "timeout: outside names pass"
stop to.ini
expect NOERROR $R6 shop.example.com "" "after timeout"
[ -z "$(ip -o link show | grep sabot-vmd)" ] && pass "no link of the test in the root namespace" || fail "a link left in the root namespace"
t_done
