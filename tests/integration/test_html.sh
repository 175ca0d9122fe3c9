#!/bin/sh
# The HTML report shows the breach: a real run (a blackhole breaching an
# http SLO, in a namespace pair, with a fault that cannot run here skipped
# and a latency SLO beside it), then the page's plots checked against the
# report from their emitted coordinates (tests/helpers/html_check.py), and
# the report's one clock: scenario time, 0 when the faults start.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-ith-$id-a
B=sabot-ith-$id-b
dev=sabot-ith0
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
J=$TOP/tests/helpers/json_check.py
cleanup() {
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-ith1 10.68.0.1 10.68.0.2 || { fail "namespace setup"; t_done; }
mkdir www && echo ok > www/index.html
(cd www && exec ip netns exec "$B" python3 -m http.server 8080 --bind 10.68.0.2 >/dev/null 2>&1) &
(cd www && exec ip netns exec "$B" python3 -m http.server 8082 --bind 10.68.0.2 >/dev/null 2>&1) &
up() { ip netns exec "$A" nc -z -w 1 10.68.0.2 8080 && ip netns exec "$A" nc -z -w 1 10.68.0.2 8082; }
wait_for 5000 up && pass "the HTTP servers answer" || fail "the HTTP servers did not come up"
tc_state() { ip netns exec "$A" tc qdisc show; ip netns exec "$A" tc filter show dev "$dev" egress; }
baseline=$(tc_state)

psi=
[ -r /proc/pressure/cpu ] && psi="[slo cpu]
probe = psi
resource = cpu
max = 100
interval = 200ms"
cat > page.ini <<INI
[scenario]
name = page
duration = 30s
steady_state = 1s
cooldown = 3s
[fault early]
type = blackhole
interface = $dev
protocol = tcp
dport = 8082
start = 0s
duration = 800ms
[fault slow]
type = latency
interface = $dev
delay = 20ms
start = 1s
duration = 2s
[fault bh]
type = blackhole
interface = $dev
protocol = tcp
dport = 8080
start = 2s
[slo web]
probe = http
url = http://10.68.0.2:8080/
interval = 200ms
timeout = 150ms
window = 1s
max_error_rate = 30%
[slo fast]
probe = http
url = http://10.68.0.2:8082/
interval = 200ms
timeout = 150ms
window = 1s
max_latency = 500ms
$psi
INI
nsenter --net=/run/netns/"$A" $S run page.ini --skip-unsupported --report "$T_TMP/page.json" > run.out 2>&1
rc=$?
[ $rc = 3 ] && pass "the blackhole breaches the http SLO: exit 3" || fail "exit $rc: $(cat run.out)"
[ "$(tc_state)" = "$baseline" ] && pass "nothing left in the namespace" || fail "tc state changed"
$J schema report page.json && pass "the report follows its schema" || fail "the report does not follow its schema"

# --- one clock: scenario time, 0 when the faults start, steady state negative ---
$J get page.json 'd["steady_state"]["reached_ms"] == 0 and d["faults_start"]["t_ms"] == 0 and d["start"]["t_ms"] < -900 and d["steady_state"]["start_ms"] < -900' >/dev/null &&
	pass "the steady state is negative, its end is 0" || fail "clock: $($J get page.json '(d["start"], d["steady_state"])')"
$J get page.json '[(f["window_ms"][0], 1900 <= f["applied_ms"] <= 2600) for f in d["faults"] if f["name"] == "bh"] == [(2000, True)]' >/dev/null &&
	pass "the blackhole's window starts at 2000 ms and it was applied then, on the same clock" || fail "bh: $($J get page.json '[f for f in d["faults"] if f["name"] == "bh"]')"
$J get page.json '2000 <= d["breach"]["at_ms"] <= 4000 and all(e["t_ms"] < 0 for e in d["events"] if "waiting for steady state" in e["message"]) and any(s[0] < 0 for o in d["slos"] for s in o["samples"])' >/dev/null &&
	pass "the breach, the events and the samples are on that clock (steady-state ones negative)" || fail "clock: $($J get page.json 'd["breach"]')"
$J get page.json 'all(o["window_ms"] == 1000 and o["judged_from_ms"] is not None and o["judged_from_ms"] <= 0 for o in d["slos"] if o["probe"] == "http")' >/dev/null &&
	pass "each SLO says what its judgement counts (window_ms, judged_from_ms)" || fail "slos: $($J get page.json '[(o["window_ms"], o["judged_from_ms"]) for o in d["slos"]]')"

# --- the page ---
expect_exit 0 "sabot report --html" "$SABOT" report "$T_TMP/page.json" --html "$T_TMP/page.html"
python3 "$TOP/tests/helpers/html_check.py" page.json page.html > check.out
rc=$?
cat check.out
[ $rc = 0 ] && pass "the plots agree with the report" || fail "the plots do not agree with the report"
# The same judgement as the run's: at the breach, the web plot's error
# rate is the breach's value.
$J get page.json 'True' >/dev/null
grep -Eq '(src|href)=|url\(|@import' page.html && fail "the page loads something from elsewhere" ||
	pass "self-contained: no src, href, url() or @import"
[ -n "${SABOT_HTML_OUT:-}" ] && cp page.html page.json "$SABOT_HTML_OUT"/
t_done
