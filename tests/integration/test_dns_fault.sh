#!/bin/sh
# The dns fault on this kernel: a real resolver (dnsmasq) in one namespace,
# real clients (dig, glibc's getent) in another, joined by a veth pair this
# test creates; sabot's eBPF program on the client's egress hook answers
# or drops the queries it matches. Traffic stays inside the namespaces.
# The client's /etc/resolv.conf is ip-netns' own /etc/netns/NAME, made
# here under a sabot-* name and removed by the trap.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-itd-$id-a # the client
B=sabot-itd-$id-b # the resolver
dev=sabot-itd0
R4=10.67.0.2
R6=fd67::2
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cgroot=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | awk '{print $5}')
cg=sabot-itd-$id
dnsmasq_pid=""
runner=""

cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	dns_pair_down "$A" "$B"
	[ -n "$cgroot" ] && rmdir "$cgroot/$cg" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

for c in dnsmasq dig getent; do
	command -v $c >/dev/null || { skip "no $c: 'make test-deps' installs dnsmasq-base and bind9-dnsutils"; exit 0; }
done

dns_pair "$A" "$B" "$dev" sabot-itd1 67 --address=/notexample.com/10.67.1.4
inA() { ip netns exec "$A" "$@"; }

# status SERVER NAME [DIG OPTIONS]: the rcode dig got (NOERROR, NXDOMAIN,
# ...), TIMEOUT when nothing came back.
status() {
	srv=$1 name=$2
	shift 2
	o=$(inA dig +time=1 +tries=1 "$@" @"$srv" "$name" 2>&1)
	s=$(printf '%s\n' "$o" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -n 1)
	if [ -n "$s" ]; then echo "$s"; elif printf '%s\n' "$o" | grep -q 'timed out\|no servers could be reached'; then
		echo TIMEOUT; else echo "OTHER: $o"; fi
}
answer() { inA dig +time=1 +tries=1 +short @"$1" "$2" 2>/dev/null | head -n 1; }
expect_status() { # WANT SERVER NAME [OPTS]: DESC
	want=$1
	got=$(status "$2" "$3" ${4:-})
	[ "$got" = "$want" ] && pass "$5: $3 @$2 ${4:-}→ $got" || fail "$5: $3 @$2 ${4:-}→ $got, want $want"
}
tc_state() { ns_tc_state "$A" "$dev"; }
has_filter() { inA tc filter show dev "$dev" egress | grep -q 'sabot_dns'; }
unchanged() {
	now=$(tc_state)
	if [ "$now" = "$baseline" ]; then pass "$1: the client's qdiscs, filters and links are exactly as before"; else
		fail "$1: tc state changed"
		echo "$baseline" > b.txt
		echo "$now" > a.txt
		diff b.txt a.txt | sed 's/^/    | /'
	fi
}
run_bg() { # FILE: start a run in A, wait until its program is attached
	nsenter --net=/run/netns/"$A" $S run "$1" > "$1.out" 2>&1 &
	runner=$!
	wait_for 5000 has_filter || fail "no sabot_dns filter attached for $1: $(cat "$1.out")"
}
scenario() { # FILE DURATION: a [scenario] head
	printf '[scenario]\nname = dns\nduration = %s\n' "$2" > "$1"
}
csum_errors() { # UDP checksum errors counted in A, over IPv4 and IPv6
	inA cat /proc/net/snmp /proc/net/snmp6 | awk '$1 == "Udp:" && $2 !~ /^[0-9]+$/ { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c = i; next }
		$1 == "Udp:" && c { s += $c } $1 == "Udp6InCsumErrors" { s += $2 } END { print s + 0 }'
}

wait_for 3000 eval '[ "$(answer $R4 shop.example.com)" = 10.67.1.1 ]' || { fail "dnsmasq does not answer: $(cat dnsmasq.log)"; t_done; }
baseline=$(tc_state)

# --- before: every name resolves, over IPv4 and IPv6, by dig and glibc ---
expect_status NOERROR $R4 shop.example.com "" "before"
expect_status NOERROR $R6 db.internal "" "before, IPv6"
inA getent hosts shop.example.com | grep -q 10.67.1.1 && pass "before: getent hosts shop.example.com resolves" ||
	fail "before: getent hosts shop.example.com does not resolve"

# --- nxdomain for names under example.com and internal, reverted at the window's end ---
scenario nx.ini 30s
cat >> nx.ini <<INI
[fault nx]
type = dns
interface = $dev
domains = example.com, Internal.
answer = nxdomain
duration = 8s
INI
# The policy forbids it like any kind: exit 2, nothing touched.
printf '[limits]\nallowed_types = latency, loss, blackhole\n' > strict.ini
expect_exit 2 "allowed_types without dns refuses the fault" nsenter --net=/run/netns/"$A" $S --policy strict.ini run nx.ini
expect_out "saying so at the fault's line" "nx.ini:5: type = dns is not allowed on this host: allowed_types = latency, loss, blackhole"
unchanged "after the refused run"
run_bg nx.ini
expect_status NXDOMAIN $R4 shop.example.com "" "nxdomain"
expect_status NXDOMAIN $R4 SHOP.Example.COM "" "nxdomain, names compared case-insensitively"
expect_status NXDOMAIN $R4 ab.shop.example.com "" "nxdomain, a name below the domain"
expect_status NXDOMAIN $R4 db.internal "" "nxdomain, the second domain"
expect_status NXDOMAIN $R6 db.internal "" "nxdomain over IPv6"
expect_status NXDOMAIN $R6 ab.shop.example.com +noedns "nxdomain over IPv6, no EDNS"
expect_status NOERROR $R4 www.other.test "" "nxdomain: a name outside the domains passes untouched"
expect_status NOERROR $R4 notexample.com "" "nxdomain: domains match on label boundaries (notexample.com is not under example.com)"
expect_status NOERROR $R6 www.other.test "" "nxdomain: outside the domains, IPv6"
expect_status NOERROR $R4 shop.example.com +tcp "nxdomain: queries over TCP pass (not covered, documented)"
[ "$(answer $R4 www.other.test)" = 10.67.1.3 ] && pass "nxdomain: the resolver's own answer for an outside name" ||
	fail "nxdomain: www.other.test gets $(answer $R4 www.other.test)"
t0=$(date +%s%N)
out=$(inA getent hosts shop.example.com 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc = 2 ] && [ $ms -lt 900 ] && pass "nxdomain: getent hosts shop.example.com fails at once (exit 2, $ms ms)" ||
	fail "nxdomain: getent hosts shop.example.com: exit $rc after $ms ms: $out"
inA getent hosts www.other.test | grep -q 10.67.1.3 && pass "nxdomain: getent hosts www.other.test resolves" ||
	fail "nxdomain: getent hosts www.other.test does not resolve"
grep -q 'answering 100% of DNS queries for names under example.com, Internal. with NXDOMAIN' nx.ini.out &&
	pass "nxdomain: the run says what it does" || fail "nxdomain: no apply event: $(cat nx.ini.out)"
# The window ends at 8s while the run goes on to 30s.
wait_for 12000 eval '! has_filter' && pass "nxdomain: the program is gone at the window's end" || fail "nxdomain: still attached after its window"
expect_status NOERROR $R4 shop.example.com "" "after the window, while the run goes on"
expect_status NOERROR $R6 db.internal "" "after the window, IPv6"
inA getent hosts shop.example.com | grep -q 10.67.1.1 && pass "after the window: getent hosts shop.example.com resolves" ||
	fail "after the window: getent hosts shop.example.com does not resolve"
unchanged "after the nxdomain window"
kill -TERM $runner
wait $runner
runner=""
# 6 dig queries and getent's (one or two) matched, each answered.
got=$(sed -n 's/.*reverted: answered \([0-9]*\) of \([0-9]*\) matching DNS queries with NXDOMAIN (\([0-9]*\) seen, 0 protected).*/\1 \2 \3/p' nx.ini.out | head -n 1)
set -- $got
[ -n "$got" ] && [ "$1" = "$2" ] && [ "$1" -ge 7 ] && [ "$1" -le 9 ] && [ "$3" -gt "$1" ] &&
	pass "nxdomain: the outcome counts what it answered ($1 of $2 matching, $3 seen)" ||
	fail "nxdomain: outcome: $(grep -i answered nx.ini.out)"
rep=$(ls "$T_TMP"/state/reports/dns-*.json 2>/dev/null | head -n 1)
grep -q "\"matched\": *${1:-x}," "$rep" && grep -q "\"acted_on\": *${1:-x}," "$rep" &&
	pass "nxdomain: the report's counters: matched $1, acted_on $1" ||
	fail "nxdomain: report counters: $(grep -E 'matched|acted_on' "$rep" 2>/dev/null)"

# --- servfail and refused side by side, with and without checksum offload ---
scenario sr.ini 30s
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
run_bg sr.ini
wait_for 3000 eval '[ "$(inA tc filter show dev $dev egress | grep -c "name sabot_dns")" = 2 ]' ||
	fail "servfail+refused: not both filters attached"
expect_status SERVFAIL $R4 shop.example.com "" "servfail"
expect_status SERVFAIL $R6 shop.example.com "" "servfail over IPv6"
expect_status REFUSED $R4 db.internal "" "refused"
expect_status REFUSED $R6 db.internal "" "refused over IPv6"
expect_status NOERROR $R4 www.other.test "" "servfail+refused: outside names pass"
inA getent hosts db.internal >/dev/null 2>&1 && fail "refused: getent hosts db.internal resolved" ||
	pass "refused: getent hosts db.internal fails"
# Without transmit checksum offload the kernel computes each UDP checksum
# itself, and the receiving stack checks what the program left: every
# answer must get through, none counted as a checksum error. Names of
# even and odd lengths, with EDNS's OPT record cut off and without it.
if inA ethtool -K "$dev" tx off >/dev/null 2>&1; then
	e0=$(csum_errors)
	ok=0
	for srv in $R4 $R6; do
		for n in shop.example.com ab.shop.example.com x.db.internal db.internal; do
			for o in +edns +noedns; do
				s=$(status $srv $n $o)
				case $n in *internal) w=REFUSED ;; *) w=SERVFAIL ;; esac
				[ "$s" = "$w" ] && ok=$((ok + 1)) || echo "    | $n @$srv $o: $s, want $w"
			done
		done
	done
	e1=$(csum_errors)
	[ $ok = 16 ] && [ "$e1" = "$e0" ] && pass "software checksums: 16 of 16 answers accepted over IPv4 and IPv6, no UDP checksum errors" ||
		fail "software checksums: $ok of 16 answers, UDP checksum errors $e0 -> $e1"
	inA ethtool -K "$dev" tx on >/dev/null 2>&1
else
	skip "no ethtool here to turn off checksum offload: 'make test-deps' installs it"
fi
kill -TERM $runner
wait $runner
rc=$?
runner=""
[ $rc = 4 ] && pass "SIGTERM exits 4" || fail "SIGTERM: exit $rc"
has_filter && fail "servfail+refused: a filter left after SIGTERM" || pass "servfail+refused: reverted on SIGTERM"
expect_status NOERROR $R4 db.internal "" "after servfail+refused"
unchanged "after servfail+refused"

# --- timeout: the query is dropped; the kill switch ends it ---
scenario to.ini 30s
cat >> to.ini <<INI
[fault to]
type = dns
interface = $dev
domains = example.com
answer = timeout
INI
run_bg to.ini
expect_status TIMEOUT $R4 shop.example.com "" "timeout"
expect_status TIMEOUT $R6 shop.example.com "" "timeout over IPv6"
expect_status NOERROR $R4 db.internal "" "timeout: outside names pass"
t0=$(date +%s%N)
inA getent hosts shop.example.com >/dev/null 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc != 0 ] && [ $ms -ge 900 ] && pass "timeout: getent hosts fails after resolv.conf's 1 s timeout ($ms ms)" ||
	fail "timeout: getent hosts: exit $rc after $ms ms"
expect_exit 0 "sabot abort from the host namespace removes the dns fault" $S abort --reason test
has_filter && fail "timeout: filter left after abort" || pass "timeout: abort removed the filter"
wait $runner 2>/dev/null
runner=""
$S arm >/dev/null
expect_status NOERROR $R4 shop.example.com "" "after abort"
unchanged "after abort"

# --- a target's queries only: its cgroup's, not another process's ---
if [ -n "$cgroot" ] && mkdir "$cgroot/$cg" 2>/dev/null; then
	scenario cg.ini 30s
	cat >> cg.ini <<INI
[target app]
cgroup = $cg
[fault nx]
type = dns
interface = $dev
target = app
INI
	run_bg cg.ini
	# nsenter, not ip netns exec: that one remounts /sys, hiding the cgroup2 mount.
	in=$(nsenter --net=/run/netns/"$A" sh -c "echo \$\$ > $cgroot/$cg/cgroup.procs && exec dig +time=1 +tries=1 @$R4 shop.example.com" 2>&1 |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
	[ "$in" = NXDOMAIN ] && pass "cgroup target: its process's query gets NXDOMAIN" || fail "cgroup target: in the cgroup: '$in'"
	expect_status NOERROR $R4 shop.example.com "" "cgroup target: another process's query passes"
	kill -TERM $runner
	wait $runner
	runner=""
	rmdir "$cgroot/$cg"
	unchanged "after cgroup targeting"
else
	skip "cgroup targeting: no writable cgroup2 hierarchy"
fi

# --- percent: 50% of 200 queries, and the counters say exactly which ---
scenario pc.ini 60s
cat >> pc.ini <<INI
[fault half]
type = dns
interface = $dev
answer = nxdomain
percent = 50%
INI
i=0
: > names
while [ $i -lt 200 ]; do echo shop.example.com >> names; i=$((i + 1)); done
run_bg pc.ini
out=$(inA dig +time=1 +tries=1 @$R4 -f names 2>&1)
nx=$(printf '%s\n' "$out" | grep -c 'status: NXDOMAIN')
ok=$(printf '%s\n' "$out" | grep -c 'status: NOERROR')
kill -TERM $runner
wait $runner
runner=""
# binomial: sd = sqrt(200 * 0.5 * 0.5) = 7.1 queries; 4 sd = 28
[ $((nx + ok)) = 200 ] && [ $nx -ge 72 ] && [ $nx -le 128 ] &&
	pass "percent = 50%: $nx of 200 queries got NXDOMAIN, $ok NOERROR (within 4 sigma)" ||
	fail "percent = 50%: $nx NXDOMAIN and $ok NOERROR of 200, want 72..128 NXDOMAIN"
grep -q "answered $nx of 200 matching DNS queries with NXDOMAIN" pc.ini.out &&
	pass "percent: the outcome's count is what the clients saw ($nx of 200)" ||
	fail "percent: outcome $(grep -o 'answered [0-9]* of [0-9]*[^(]*' pc.ini.out), clients saw $nx"
unchanged "after percent"

# --- SIGKILL of the runner mid-window: the guardian; of both: recover ---
scenario k.ini 60s
cat >> k.ini <<INI
[fault nx]
type = dns
interface = $dev
domains = example.com
INI
run_bg k.ini
expect_status NXDOMAIN $R4 shop.example.com "" "before SIGKILL"
prog=$(inA tc filter show dev "$dev" egress | sed -n 's/.* id \([0-9]*\) name sabot_dns.*/\1/p' | head -n 1)
kill -9 $runner
wait $runner 2>/dev/null
runner=""
wait_for 2000 eval '! has_filter' && pass "SIGKILL of the runner: the guardian removed the filter" ||
	fail "SIGKILL of the runner: filter still there after 2 s"
wait_for 2000 eval '! bpftool prog show id '"${prog:-0}"' >/dev/null 2>&1' && pass "SIGKILL: the program ($prog) is unloaded" ||
	fail "SIGKILL: program $prog still loaded"
wait_for 2000 no_journals && pass "SIGKILL: no journal left" || fail "SIGKILL: journal left: $(ls "$T_TMP/run/runs")"
expect_status NOERROR $R4 shop.example.com "" "after SIGKILL"
unchanged "after SIGKILL of the runner"

run_bg k.ini
guardian=$(sed -n 's/.*guardian pid \([0-9]*\).*/\1/p' k.ini.out | head -n 1)
if [ -n "$guardian" ]; then
	# Stopped first: each reverts at once when it sees the other die.
	kill -STOP "$guardian" $runner
	kill -9 "$guardian" $runner
	wait $runner 2>/dev/null
	runner=""
	wait_for 1000 eval '[ ! -d /proc/$guardian ]'
	has_filter && pass "runner and guardian SIGKILLed: the filter outlives them (for recover)" || fail "the filter went without a guardian"
	expect_status NXDOMAIN $R4 shop.example.com "" "while nothing reverts it"
	expect_exit 0 "sabot recover reverts the dead run's dns fault from its journal" $S recover
	has_filter && fail "recover left the filter" || pass "recover: the filter is gone"
	no_journals && pass "recover: no journal left" || fail "recover: journal left"
	expect_status NOERROR $R4 shop.example.com "" "after recover"
	unchanged "after recover"
else
	fail "no guardian pid in the run's output: $(cat k.ini.out)"
fi
t_done
