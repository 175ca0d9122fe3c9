#!/bin/sh
# The README's main-job command: the demo (scenarios/demo/demo.sh, what
# `make demo` runs) end to end — its sandbox, the run of scenarios/demo.ini
# with every fault this kernel supports, the SLO breach that ends it, the
# HTML report — and the host exactly as before, also when it is stopped
# halfway.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD:=$top/build}"
cleanup() {
	pkill -9 -f "scenarios/demo/demo.sh" 2>/dev/null
	for ns in sabot-demo-web sabot-demo-cli; do
		ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	t_cleanup_tmp
}
trap cleanup EXIT
[ -x "$BUILD/sabot-demo" ] || { fail "$BUILD/sabot-demo is not built (make check builds it)"; t_done; }
demo() { SABOT=$SABOT SABOT_DEMO_BIN=$BUILD/sabot-demo DEMO_OUT=$T_TMP/demo sh "$top/scenarios/demo/demo.sh"; }
before=$(host_snapshot)
echo "$before" > "$T_TMP/before"

start=$(date +%s)
expect_exit 0 "the demo runs end to end and ends as it intends" demo
echo "    demo took $(($(date +%s) - start)) s"
expect_out "it shows what the kernel supports (sabot doctor)" "network faults"
expect_out "the SLO breaches and sabot reverts everything (exit 3)" "sabot exited 3: the SLO breached"
expect_out "the clients' view is shown" "what the clients saw"
expect_out "the shop replaced its killed workers" "worker [0-9]+ killed by SIGKILL; started worker"
expect_out "the sandbox is gone afterwards" "sandbox removed"
rep=$T_TMP/demo/report.json
[ -s "$rep" ] && pass "a JSON report" || fail "no report at $rep"
# One line per fault: name state applied outcome; then the breach.
python3 - "$rep" > "$T_TMP/facts" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("exit", r["exit_code"])
print("breach", (r.get("breach") or {}).get("slo"))
for f in r["faults"]:
    print("fault", f["name"], f["state"], 1 if f.get("applied_ns") else 0, f.get("outcome", ""))
for e in r["events"]:
    if e["message"].startswith("target web:") and "killed" in e["message"]:
        print("web-killed", e["mono_ns"])
PY
fact() { grep -E "$1" "$T_TMP/facts"; }
fact '^exit 3$' >/dev/null && pass "the report says exit 3" || fail "report: $(cat "$T_TMP/facts")"
fact '^breach shop-up$' >/dev/null && pass "the breach is the shop-up SLO's" || fail "report: $(cat "$T_TMP/facts")"
fact '^fault lossy-network done 1 dropped [1-9]' >/dev/null && pass "packet loss dropped packets: $(fact lossy | cut -d' ' -f5-9)" ||
	fail "loss: $(fact lossy)"
fact '^fault worker-kill done 1 3 strikes, 3 processes' >/dev/null && pass "three workers killed, one per strike" ||
	fail "kill: $(fact worker-kill)"
fact '^fault failing-disk done 1 failed [1-9]' >/dev/null && pass "the failing disk failed openat calls: $(fact failing-disk | cut -d' ' -f5-10)" ||
	fail "syscall errors: $(fact failing-disk)"
# The service lives until the breach: a fault's window closing never ends it.
fact '^web-killed' >/dev/null && fail "the launched service was killed during the run: $(fact web-killed)" ||
	pass "the launched service ran until the run ended"
if $SABOT doctor 2>/dev/null | grep -q "latency: netem  *ok"; then
	fact '^fault slow-network done 1 delayed [1-9]' >/dev/null && pass "latency delayed packets" || fail "latency: $(fact slow-network)"
else
	fact '^fault slow-network skipped 0 skipped: not supported here' >/dev/null &&
		pass "latency, which this kernel lacks, is skipped with the reason (the VM tier runs it)" ||
		fail "latency: $(fact slow-network)"
fi
grep -q '<svg' "$T_TMP/demo/report.html" 2>/dev/null && pass "an HTML report with its timeline" || fail "no HTML report"
grep -E '^ +[0-9]+s .* [1-9][0-9]* http 5xx' "$T_TMP/demo/clients.log" >/dev/null &&
	grep -E '^ +[0-9]+s +[0-9]+ requests: +[0-9]+ ok, +0 http 5xx' "$T_TMP/demo/clients.log" >/dev/null &&
	pass "the clients saw good seconds, then 5xx from the failing disk" || {
	fail "clients' log"
	sed 's/^/    | /' "$T_TMP/demo/clients.log"
}
[ "$(host_snapshot)" = "$before" ] && pass "the host is exactly as before: links, qdiscs, filters, BPF programs, sabot's dirs, namespaces" || {
	fail "the host changed"
	host_snapshot | diff "$T_TMP/before" - | sed 's/^/    | /'
}
pgrep '^sabot-demo' >/dev/null && fail "demo processes left: $(pgrep -a '^sabot-demo')" || pass "no demo process left"

# Stopped halfway (SIGTERM to its process group, as a closed terminal or
# Ctrl-C does): faults reverted, sandbox removed, nothing left.
rm -rf "$T_TMP/demo"
SABOT=$SABOT SABOT_DEMO_BIN=$BUILD/sabot-demo DEMO_OUT=$T_TMP/demo setsid sh "$top/scenarios/demo/demo.sh" > "$T_TMP/int.out" 2>&1 &
pid=$!
lossy() { ip netns exec sabot-demo-cli tc filter show dev sabot-demo-c egress 2>/dev/null | grep -q sabot; }
wait_for 25000 lossy && pass "halfway: the loss fault is on the sandbox's interface" || fail "the loss fault never came"
kill -TERM -"$pid"
wait "$pid"
rc=$?
[ "$rc" != 0 ] && pass "stopped, the demo exits $rc" || fail "stopped, the demo exited 0"
grep -q "sabot exited 4: interrupted; every fault was reverted" "$T_TMP/int.out" &&
	pass "sabot reverted everything and exited 4" || { fail "no revert"; sed 's/^/    | /' "$T_TMP/int.out"; }
[ "$(host_snapshot)" = "$before" ] && pass "and the host is exactly as before" || {
	fail "the host changed after an interrupted demo"
	host_snapshot | diff "$T_TMP/before" - | sed 's/^/    | /'
}
pgrep '^sabot-demo' >/dev/null && fail "demo processes left: $(pgrep -a '^sabot-demo')" || pass "no demo process left"
t_done
