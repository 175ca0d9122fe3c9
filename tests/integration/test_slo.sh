#!/bin/sh
# The SLO guard: steady state, abort on breach, and probes that never block
# the loop. A real HTTP server (python3 -m http.server) in one namespace,
# sabot and its probes in the other, joined by a veth pair.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-its-$id-a
B=sabot-its-$id-b
dev=sabot-its0
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
J=$(cd "$(dirname "$0")/../.." && pwd)/tests/helpers/json_check.py
cleanup() {
	pkill -9 -f "sabot-itsw$id" 2>/dev/null
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-its1 10.67.0.1 10.67.0.2 || { fail "namespace setup"; t_done; }
mkdir www && echo ok > www/index.html
(cd www && exec ip netns exec "$B" python3 -m http.server 8080 --bind 10.67.0.2 >/dev/null 2>&1) &
# An endpoint that accepts and never answers.
ip netns exec "$B" sh -c 'while :; do nc -l -p 8081 >/dev/null 2>&1; done' &
http_ok() { ip netns exec "$A" sh -c 'exec 3<>/dev/tcp/10.67.0.2/8080' 2>/dev/null || [ "$(ip netns exec "$A" nc -w 1 -N 10.67.0.2 8080 <<EOF2 2>/dev/null | head -n 1 | tr -d '\r'
GET / HTTP/1.0

EOF2
)" = "HTTP/1.0 200 OK" ]; }
wait_for 5000 http_ok && pass "the HTTP server answers" || fail "the HTTP server did not come up"
tc_state() { ip netns exec "$A" tc qdisc show; ip netns exec "$A" tc filter show dev "$dev" egress; }
baseline=$(tc_state)
runA() { nsenter --net=/run/netns/"$A" "$@"; }

# --- an unhealthy SLO before any fault: exit 5, nothing created ---
cat > unhealthy.ini <<INI
[scenario]
name = unhealthy
duration = 30s
steady_state_timeout = 2s
[fault bh]
type = blackhole
interface = $dev
[slo down]
probe = http
url = http://10.67.0.2:9/
interval = 200ms
timeout = 150ms
max_error_rate = 10%
INI
expect_exit 7 "an SLO that does not hold before any fault exits 7 (chaos did not happen)" runA $S run unhealthy.ini
expect_out "saying which SLO and why" "steady state not met within 2s: slo down: connection refused"
[ "$(tc_state)" = "$baseline" ] && pass "and no kernel object was created" || fail "tc state changed: $(tc_state)"

# --- a blackhole on the server's port after 2 s: breach, exit 3, port works again ---
cat > breach.ini <<INI
[scenario]
name = breach
duration = 30s
steady_state = 1s
cooldown = 4s
[fault bh]
type = blackhole
interface = $dev
protocol = tcp
dport = 8080
start = 2s
[slo web]
probe = http
url = http://10.67.0.2:8080/
interval = 200ms
timeout = 150ms
window = 1s
max_error_rate = 30%
INI
t0=$(date +%s)
runA $S run breach.ini --report "$T_TMP/breach.json" > breach.out 2>&1 &
runner=$!
# While it runs, `sabot status` shows each SLO's state.
slo_shown() { $S status | grep -Eq '^  slo web \(http\): healthy: error rate 0% \([0-9]+ of [0-9]+\), p99 [0-9.]+ ms over 1s$'; }
wait_for 3000 slo_shown && pass "sabot status shows the SLO's state while the run probes" || fail "status: $($S status)"
$S status --json > status.json
$J get status.json '[(o["name"], o["probe"], o["verdict"], o["why"].startswith("healthy: ")) for o in d["runs"][0]["slos"]][:1] == [("web", "http", "healthy", True)]' >/dev/null &&
	pass "and status --json too" || fail "status --json: $(cat status.json)"
$J schema status status.json && pass "status --json follows agent/schema/status.schema.json" || fail "status --json: not its schema"
wait $runner
rc=$?
OUT=$(cat breach.out)
[ $rc = 3 ] && pass "a blackhole on the server's port breaches the SLO: exit 3" || fail "exit $rc, want 3: $OUT"
took=$(($(date +%s) - t0))
[ $took -lt 12 ] && pass "the run ended at the breach plus the cooldown ($took s, not 30 s)" || fail "the run took $took s"
expect_out "the breach is logged with its reason" "SLO breached: web: error rate [0-9]+% .* is above max_error_rate 30%"
expect_out "the summary says the fault was cut short by the breach" "^  bh +blackhole +reverted at breach"
grep -q '"reverted_at": "breach"' breach.json && pass "and so does the report" || fail "report: $(grep -o '"reverted_at": [a-z"_]*' breach.json)"
expect_out "the report records when steady state was reached" "steady state reached [0-9.]+s after the run started"
http_ok && pass "the port works again after the run" || fail "the port is still blackholed"
$J get breach.json 'd["breach"]["slo"] == "web" and __import__("re").fullmatch(r"error rate [0-9]*% \([0-9]* of [0-9]*\) over 1s is above max_error_rate 30%", d["breach"]["why"]) and d["breach"]["value"] >= 0 and d["breach"]["threshold"] == 30' >/dev/null &&
	pass "the report says why, with the value and threshold at the breach" || fail "report: $($J get breach.json 'd["breach"]')"
$J schema report breach.json && pass "the report follows agent/schema/report.schema.json" || fail "the report does not follow its schema"
ms=$(sed -n 's/.*"breach_to_reverted_ms": \([0-9.]*\).*/\1/p' breach.json)
[ -n "$ms" ] && pass "the report records breach_to_reverted_ms ($ms ms)" || fail "no breach_to_reverted_ms"
[ "$(tc_state)" = "$baseline" ] && pass "nothing left in the namespace" || fail "tc state changed"
[ -z "$(ls "$T_TMP/run/runs" 2>/dev/null)" ] && pass "no journal or SLO state file left" || fail "left: $(ls "$T_TMP/run/runs")"
rec=$($J get breach.json '[o["recovered_after_ms"] for o in d["slos"] if o["name"] == "web"][0]')
[ -n "$rec" ] && [ "$rec" != null ] && pass "cooldown: the SLO was healthy again ${rec} ms after the revert" || fail "no recovery recorded: $(grep -o '"recovered_after_ms": [a-z0-9.]*' breach.json)"
expect_out "and the run says so" "slo web healthy again .* after the revert"

# --- the HTML report ---
expect_exit 0 "sabot report --html" "$SABOT" report "$T_TMP/breach.json" --html "$T_TMP/breach.html"
grep -q '<svg' breach.html && grep -q 'class="fault"' breach.html && grep -q 'class="breach"' breach.html &&
	grep -q 'class="fail"' breach.html && grep -q 'class="threshold" data-v="30"' breach.html &&
	pass "a timeline with the fault window, failed samples, the SLO's threshold and the breach" ||
	fail "the page lacks parts of the timeline"
grep -q 'Aborted: SLO web breached' breach.html && pass "and says why it aborted" || fail "no breach box"
grep -Eq '(src|href)=|url\(|@import' breach.html && fail "the page loads something from elsewhere" ||
	pass "self-contained: no src, href, url() or @import"
expect_exit 2 "a file that is not a report is refused" "$SABOT" report breach.ini --html x.html

# --- a probe that hangs neither blocks the loop nor delays another SLO's abort ---
cp "$(command -v sleep)" "$T_TMP/sabot-itsw$id"
"$T_TMP/sabot-itsw$id" 600 &
worker=$!
cat > hang.ini <<INI
[scenario]
name = hang
duration = 60s
steady_state = 1s
[target w]
pid = $worker
[fault p]
type = pause
target = w
[slo hangs]
probe = http
url = http://10.67.0.2:8081/
interval = 500ms
timeout = 400ms
max_error_rate = 100%
[slo cpu]
probe = psi
resource = cpu
max = 100
interval = 200ms
[slo flag]
probe = exec
command = /usr/bin/test ! -e $T_TMP/flag
interval = 100ms
timeout = 100ms
max_error_rate = 0%
INI
runA $S run hang.ini --report "$T_TMP/hang.json" > hang.out 2>&1 &
runner=$!
wait_for 5000 all_in_state T $worker && pass "faults started while a probe hangs" || fail "the run did not start its faults: $(cat hang.out)"
sleep 1
t0=$(date +%s%N)
touch flag
wait $runner
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc = 3 ] && pass "the other SLO's breach aborts the run (exit 3)" || fail "exit $rc: $(cat hang.out)"
[ $ms -lt 1500 ] && pass "within $ms ms of the flag, not held up by the hanging probe" || fail "abort took $ms ms"
none_in_state T $worker && pass "the paused target runs again" || fail "target still stopped"
$J get hang.json 'any(o["name"] == "hangs" and o["probe"] == "http" and o["verdict"] == "healthy" for o in d["slos"]) and any(x[1] == 0 and 400 <= x[2] < 500 for o in d["slos"] for x in o["samples"])' >/dev/null &&
	pass "the hanging probe's samples failed at their timeout (400 ms)" || fail "hang samples: $(grep -o '"hangs".\{0,200\}' hang.json)"
$J schema report hang.json && pass "that report follows its schema too" || fail "hang.json does not follow its schema"
if [ -r /proc/pressure/cpu ]; then
	$J get hang.json '[(o["probe"], o["verdict"], o["samples"][0][1], o["samples"][0][2] < 0.005, o["samples"][0][3] >= 0) for o in d["slos"] if o["name"] == "cpu"] == [("psi", "healthy", 1, True, True)]' >/dev/null &&
		pass "a psi SLO samples /proc/pressure/cpu (avg10 values in the report)" || fail "psi: $(grep -o '"name": "cpu".\{0,160\}' hang.json)"
else
	skip "psi: this kernel has no /proc/pressure (CONFIG_PSI)"
fi
kill -9 $worker

# --- http probes need libcurl, which sabot loads only for them: without
# it (hidden here by an empty file bound over it in a private mount
# namespace), the run is refused before anything is touched ---
curl_so=$(readlink -f "$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')")
expect_exit 6 "without libcurl, a scenario with an http SLO exits 6" unshare -m sh -c \
	"mount --bind /dev/null '$curl_so' && exec nsenter --net=/run/netns/$A $S run breach.ini"
expect_out "naming the SLO, the library and the package" "breach\.ini:[0-9]+: slo 'web': probe = http is not supported here: cannot load libcurl\.so\.4 .*install libcurl"
[ "$(tc_state)" = "$baseline" ] && no_journals && pass "and nothing was created" || fail "state changed: $(tc_state)"
expect_exit 6 "and sabot doctor says so (exit 6)" unshare -m sh -c "mount --bind /dev/null '$curl_so' && exec $SABOT doctor"
expect_out "naming what is missing" "http, prometheus \(libcurl\) +UNSUPPORTED: cannot load libcurl\.so\.4"

# --- an exec probe whose user does not exist: refused before anything is touched ---
printf '[probes]\nuser = sabot-no-such-user\n' > nouser-policy.ini
chmod 644 nouser-policy.ini
cat > nouser.ini <<INI
[scenario]
name = nouser
duration = 5s
[fault bh]
type = blackhole
interface = $dev
[slo check]
probe = exec
command = /bin/true
interval = 200ms
max_error_rate = 10%
INI
expect_exit 2 "an exec probe whose user does not exist is refused (exit 2)" runA $SABOT --policy nouser-policy.ini \
	--state-dir "$T_TMP/state" --run-dir "$T_TMP/run" run nouser.ini
expect_out "naming the user and the fix" "nouser.ini:8: slo 'check': exec probes run as the policy's probe user 'sabot-no-such-user', which does not exist"
[ "$(tc_state)" = "$baseline" ] && no_journals && pass "and nothing was created" || fail "state changed: $(tc_state)"
t_done
