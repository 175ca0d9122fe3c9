#!/bin/sh
# The README's main-job command: the demo (scenarios/demo/demo.sh, what
# `make demo` runs) end to end — its sandbox, the run of scenarios/demo.ini
# with every fault this kernel supports, the SLO breach that ends it, the
# HTML report — and nothing of its own left on the host (its namespaces and
# links, the BPF programs it loaded, its journals; see demo_left), also when
# it is stopped halfway.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD:=$top/build}"
cleanup() {
	rm -f "$T_TMP/sampling"
	# Only the demo this test started (its own process group), by pid.
	[ -n "$pid" ] && kill -9 -"$pid" 2>/dev/null
	for ns in sabot-demo-web sabot-demo-cli; do
		ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	t_cleanup_tmp
}
pid=""
trap cleanup EXIT
demo_procs() {
	for c in /proc/[0-9]*/comm; do
		n=$(cat "$c" 2>/dev/null) || continue
		case $n in sabot-demo*) p=${c#/proc/} && echo "${p%/comm} $n" ;; esac
	done
}
[ -x "$BUILD/sabot-demo" ] || { fail "$BUILD/sabot-demo is not built (make check builds it)"; t_done; }
# What this run could have created, and only that: other tests and people
# on this machine make their own namespaces and programs meanwhile. The
# demo's namespaces and links are named sabot-demo-*; its BPF programs are
# those its processes hold (their fds and links, from /proc/PID/fdinfo) and
# those on tc hooks in its namespaces, sampled every 250 ms while it runs
# (its network faults last seconds): program ids are not reused soon, so
# "that id is gone afterwards" is exact.
DEMO_NS="sabot-demo-web sabot-demo-cli"
# The cgroup2 hierarchy (/sys/fs/cgroup here, .../unified on hybrid hosts):
# a sabot-named cgroup one of the demo's processes is in is the demo's.
# Not the cgroup this test itself runs in (a CI unit may be sabot-named).
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
own_cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
demo_prog_ids() {
	for ns in $DEMO_NS; do
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			[ -n "$CG2" ] && sed -n 's|^0::\(/.*sabot[^/]*\)$|\1|p' "/proc/$p/cgroup" 2>/dev/null >> "$T_TMP/cgroups"
			for fd in /proc/"$p"/fd/*; do
				case $(readlink "$fd" 2>/dev/null) in
				anon_inode:bpf-prog | anon_inode:bpf_link)
					sed -n 's/^prog_id:[[:space:]]*//p' "/proc/$p/fdinfo/${fd##*/}" 2>/dev/null ;;
				esac
			done
		done
		for dev in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
			for dir in ingress egress; do
				tc -n "$ns" filter show dev "$dev" $dir 2>/dev/null | grep -o ' id [0-9]*' | awk '{print $2}'
			done
		done
	done
}
sampler=""
sample_start() {
	: > "$T_TMP/sampling"
	# Its ip and tc enter the demo's namespaces, where the demo's own
	# clean-up may SIGKILL them: quietly, the next sample comes.
	(while [ -e "$T_TMP/sampling" ]; do demo_prog_ids >> "$T_TMP/progids"; sleep 0.25; done) 2>/dev/null &
	sampler=$!
}
sample_stop() {
	rm -f "$T_TMP/sampling"
	[ -n "$sampler" ] && wait "$sampler" 2>/dev/null
	sampler=""
}
have_bpftool=""
bpftool prog show >/dev/null 2>&1 && have_bpftool=1
for d in /run/sabot /var/lib/sabot /etc/sabot; do [ -e $d ] && echo $d; done > "$T_TMP/dirs-before"
# One line per object of this run's still there.
demo_left() {
	ip netns list 2>/dev/null | grep -o '^sabot-demo-[a-z0-9-]*' | sed 's/^/netns /'
	ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^sabot-demo' | sed 's/^/link in the host namespace /'
	if [ -n "$have_bpftool" ]; then
		for id in $(sort -un "$T_TMP/progids" 2>/dev/null); do
			bpftool prog show id "$id" >/dev/null 2>&1 && echo "BPF program $(bpftool prog show id "$id" | head -n 1)"
		done
	fi
	for cg in $(sort -u "$T_TMP/cgroups" 2>/dev/null); do
		case $own_cg/ in "$cg"/*) continue ;; esac
		[ -d "$CG2$cg" ] && echo "cgroup $CG2$cg"
	done
	ls "$T_TMP/demo/run/runs" 2>/dev/null | sed 's/^/journal /'
	for d in /run/sabot /var/lib/sabot /etc/sabot; do
		[ -e $d ] && ! grep -qx $d "$T_TMP/dirs-before" && echo "$d, which the demo must not use"
	done
}
demo() { SABOT=$SABOT SABOT_DEMO_BIN=$BUILD/sabot-demo DEMO_OUT=$T_TMP/demo sh "$top/scenarios/demo/demo.sh"; }

start=$(date +%s)
sample_start
expect_exit 0 "the demo runs end to end and ends as it intends" demo
sample_stop
echo "    demo took $(($(date +%s) - start)) s"
expect_out "it shows what the kernel supports (sabot doctor)" "network faults"
expect_out "the SLO breaches and sabot reverts everything (exit 3)" "sabot exited 3: the SLO breached"
expect_out "the clients' view is shown" "what the clients saw"
expect_out "the shop replaced its killed workers" "worker [0-9]+ killed by SIGKILL; started worker"
expect_out "the sandbox is gone afterwards" "sandbox removed"
rep=$T_TMP/demo/report.json
[ -s "$rep" ] && pass "a JSON report" || fail "no report at $rep"
# Each fault's state, when it was applied (ms, or null), its outcome.
J=$top/tests/helpers/json_check.py
# The VM tier's guest (a busybox initramfs) has no python3: there, the
# facts come from the report as json-c writes it (one key a line), and
# its schema is checked by this same test on the host.
py=""
command -v python3 >/dev/null 2>&1 && python3 -c 'import jsonschema' 2>/dev/null && py=1
fault_key() { # NAME KEY: the value of KEY in fault NAME's object
	awk -v n="\"name\": \"$1\"" -v k="\"$2\": " 'index($0, n) { f = 1 }
		f && index($0, k) { sub(/^[^:]*: /, ""); sub(/,$/, ""); gsub(/^"|"$/, ""); print; exit }' "$rep"
}
fault_fact() {
	if [ -n "$py" ]; then
		$J get "$rep" '" ".join("%s %s %s" % (f["state"], "null" if f["applied_ms"] is None else int(f["applied_ms"]), f["outcome"]) for f in d["faults"] if f["name"] == "'"$1"'")'
	else
		a=$(fault_key "$1" applied_ms)
		echo "$(fault_key "$1" state) ${a%%.*} $(fault_key "$1" outcome)"
	fi
}
check_fault() { # NAME ERE DESC
	if fault_fact "$1" | grep -qE "$2"; then pass "$3: $(fault_fact "$1" | cut -d' ' -f3-)"; else fail "$3: $(fault_fact "$1")"; fi
}
grep -q '"exit_code": 3,' "$rep" && pass "the report says exit 3" || fail "report: $(grep exit_ "$rep")"
if [ -n "$py" ]; then
	$J get "$rep" 'd["breach"]["slo"] == "shop-up"' >/dev/null && breach_slo=1 || breach_slo=""
else
	grep -A2 '"breach": {' "$rep" | grep -q '"slo": "shop-up"' && breach_slo=1 || breach_slo=""
fi
[ -n "$breach_slo" ] && pass "the breach is the shop-up SLO's" || fail "report: $(grep -A1 '"breach"' "$rep")"
if [ -n "$py" ]; then
	$J schema report "$rep" && pass "the report follows agent/schema/report.schema.json" || fail "the report does not follow its schema"
else
	# Not a skip: the check has its place, the host tier's run of this
	# same test; the VM tier counts a test skipped on every kernel as failed.
	echo "    (no python3 in this guest: the report's schema is checked by the host tier's run of this test)"
fi
check_fault lossy-network '^done [0-9]+ dropped [1-9]' "packet loss dropped packets"
check_fault worker-kill '^done [0-9]+ 3 strikes, 3 processes' "three workers killed, one per strike"
check_fault failing-disk '^done [0-9]+ failed [1-9]' "the failing disk failed openat calls"
[ "$(fault_key failing-disk reverted_at)" = breach ] &&
	pass "the failing disk was reverted at the breach, and the report says so" || fail "failing-disk: $(grep '"failing-disk"' "$rep")"
expect_out "and the summary too" "^  failing-disk +syscall-error +reverted at breach"
expect_out "the demo runs with its own policy, whatever the host has" "policy: the demo's own, scenarios/demo/policy.ini"
expect_out "steady state is waited for and reached before any fault" "steady state reached after [0-9.]+s"
# The service lives until the breach: a fault's window closing never ends it.
grep -q '"message": "target web: pid [0-9]* was killed' "$rep" && fail "the launched service was killed during the run" ||
	pass "the launched service ran until the run ended"
if $SABOT doctor 2>/dev/null | grep -q "latency: netem  *ok"; then
	check_fault slow-network '^done [0-9]+ delayed [1-9]' "latency delayed packets"
	# 100 ms on the clients' egress: a request waits for its SYN and its GET.
	grep -E 'p50 (1[5-9][0-9]|[2-9][0-9][0-9])\.[0-9] ms' "$T_TMP/demo/clients.log" >/dev/null &&
		pass "the clients saw p50 latency of 150 ms and more: $(grep -cE 'p50 (1[5-9][0-9]|[2-9][0-9][0-9])\.' "$T_TMP/demo/clients.log") seconds" ||
		fail "the clients never saw the latency"
else
	check_fault slow-network '^skipped null skipped: not supported here' \
		"latency, which this kernel lacks, is skipped with the reason (the VM tier runs it)"
fi
grep -q '<svg' "$T_TMP/demo/report.html" 2>/dev/null && pass "an HTML report with its timeline" || fail "no HTML report"
grep -E '^ +[0-9]+s .* [1-9][0-9]* http 5xx' "$T_TMP/demo/clients.log" >/dev/null &&
	grep -E '^ +[0-9]+s +[0-9]+ requests: +[0-9]+ ok, +0 http 5xx' "$T_TMP/demo/clients.log" >/dev/null &&
	pass "the clients saw good seconds, then 5xx from the failing disk" || {
	fail "clients' log"
	sed 's/^/    | /' "$T_TMP/demo/clients.log"
}
n_progs=$(sort -un "$T_TMP/progids" 2>/dev/null | wc -l)
left=$(demo_left)
n_cgs=$(sort -u "$T_TMP/cgroups" 2>/dev/null | grep -vxF "$own_cg" | wc -l)
[ -z "$left" ] && pass "nothing of the demo's is left: namespaces, links, its $n_progs BPF program(s), its $n_cgs sabot cgroup(s), journals, sabot's dirs" || {
	fail "the demo left:"
	echo "$left" | sed 's/^/    | /'
}
if [ -z "$have_bpftool" ]; then
	echo "    (no working bpftool here: whether the demo's BPF programs are gone is not checked)"
elif [ "$n_progs" = 0 ]; then
	fail "no BPF program of the demo's was seen while it ran (the loss fault loads one)"
fi
left=$(demo_procs)
[ -n "$left" ] && fail "demo processes left: $left" || pass "no demo process left"

# Stopped halfway (SIGTERM to its process group, as a closed terminal or
# Ctrl-C does): faults reverted, sandbox removed, nothing left.
rm -rf "$T_TMP/demo"
: > "$T_TMP/progids"
: > "$T_TMP/cgroups"
sample_start
SABOT=$SABOT SABOT_DEMO_BIN=$BUILD/sabot-demo DEMO_OUT=$T_TMP/demo setsid sh "$top/scenarios/demo/demo.sh" > "$T_TMP/int.out" 2>&1 &
pid=$!
lossy() { ip netns exec sabot-demo-cli tc filter show dev sabot-demo-c egress 2>/dev/null | grep -q sabot; }
wait_for 25000 lossy && pass "halfway: the loss fault is on the sandbox's interface" || fail "the loss fault never came"
demo_prog_ids >> "$T_TMP/progids" 2>/dev/null
kill -TERM -"$pid"
wait "$pid"
rc=$?
sample_stop
[ "$rc" != 0 ] && pass "stopped, the demo exits $rc" || fail "stopped, the demo exited 0"
grep -q "sabot exited 4: interrupted; every fault was reverted" "$T_TMP/int.out" &&
	pass "sabot reverted everything and exited 4" || { fail "no revert"; sed 's/^/    | /' "$T_TMP/int.out"; }
left=$(demo_left)
[ -z "$left" ] && pass "and nothing of the demo's is left ($(sort -un "$T_TMP/progids" | wc -l) BPF program(s) seen)" || {
	fail "the interrupted demo left:"
	echo "$left" | sed 's/^/    | /'
}
left=$(demo_procs)
[ -n "$left" ] && fail "demo processes left: $left" || pass "no demo process left"
t_done
