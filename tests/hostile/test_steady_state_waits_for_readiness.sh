#!/bin/sh
# Promise: steady state means every SLO has held continuously for
# steady_state, and the run waits for it up to steady_state_timeout
# (default max(15s, 3 x steady_state)). A launched target slower than the
# first probe (listening only after 1.5 s) gets that time to become ready
# and the run goes on; one that never becomes healthy exits 7 at the bound,
# not before; one that flaps (healthy, then a refused probe, again) never
# counts as steady, whatever its error rate over a window.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
port=$((20000 + id % 20000))
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	[ -n "$FL" ] && kill -9 "$FL" 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP" || exit 1
chmod 755 "$T_TMP"
command -v python3 >/dev/null || { echo "SKIP: no python3 for the HTTP server"; t_done; }
# The slow service: listens 1.5 s after it was launched.
cat > slow.sh <<EOF
#!/bin/sh
sleep \$(cat $T_TMP/delay)
exec python3 -m http.server $port --bind 127.0.0.1 --directory $T_TMP
EOF
chmod 755 slow.sh
echo 1.5 > delay
scen() { # name, steady_state, extra [scenario] line, url port
	cat <<EOF
[scenario]
name = $1
duration = 1s
steady_state = $2
$3
[target web]
exec = $T_TMP/slow.sh
[target w]
exec = /bin/sleep 30
[fault k]
type = kill
target = w
[slo up]
probe = http
url = http://127.0.0.1:$4/
interval = 100ms
timeout = 100ms
max_error_rate = 50%
EOF
}
now_ms() { date +%s%3N; }

# --- a target slower than the first probe: steady state reached, the run goes on ---
ok=0
for t in 1 2 3; do
	scen slow 500ms "" $port > slow.ini
	$S run slow.ini --report "$T_TMP/rep.json" > out.$t 2>&1
	rc=$?
	# Scenario time: 0 when the faults start, the run's start before it.
	reached=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(d["steady_state"]["reached_ms"] - d["start"]["t_ms"]))' rep.json 2>/dev/null)
	if [ $rc = 0 ] && grep -q "steady state reached" out.$t && [ "${reached:-0}" -ge 1500 ]; then
		ok=$((ok + 1))
	else
		echo "trial $t: exit $rc, reached_ms ${reached:-none}: $(grep -E 'steady|ended' out.$t | head -n 4)"
	fi
	rm -f rep.json
done
[ $ok = 3 ] && pass "a target listening after 1.5 s reaches steady state and the faults run (3 of 3 runs exit 0)" ||
	fail "a target listening after 1.5 s: $ok of 3 runs reached steady state and exited 0"
grep -q "steady state reached .* after the run started" out.1 && pass "the summary says when steady state was reached" ||
	fail "no steady-state line in the summary: $(tail -n 5 out.1)"

# --- a steady state reached late (after 6 s) is not cut short by the guardian's
# deadline, which covers the whole bound: 300ms of steady state, 1 s of faults
# and the targets' stop would end at 3.3 s + 3 s of grace ---
echo 6 > delay
scen late 300ms "steady_state_timeout = 9s" $port > late.ini
$S run late.ini > late.out 2>&1
rc=$?
[ $rc = 0 ] && grep -q "steady state reached after [6-8]\." late.out && pass "a steady state reached after 6 s: the run completes (exit 0)" ||
	fail "late steady state: exit $rc: $(grep -E 'steady|ended|guardian' late.out | tail -n 4)"
echo 1.5 > delay

# --- never healthy: exit 7 at the bound, not before ---
scen never 500ms "steady_state_timeout = 3s" 1 > never.ini
t0=$(now_ms)
$S run never.ini > never.out 2>&1
rc=$?
el=$(($(now_ms) - t0))
[ $rc = 7 ] && pass "an SLO that never holds exits 7" || fail "never healthy: exit $rc: $(tail -n 3 never.out)"
# At the bound (3 s from the probes' start), with 3 s of margin for start-up and stop on a loaded host.
[ $el -ge 3000 ] && [ $el -lt 6000 ] && pass "at the bound: after $el ms (steady_state_timeout = 3s)" ||
	fail "never healthy ended after $el ms, not at the 3 s bound"
grep -q "steady state not met within 3s: slo up: connection refused" never.out && pass "saying which SLO and what it saw" ||
	fail "reason: $(grep 'not met' never.out)"

# --- the default bound: max(15s, 3 x steady_state) = 15 s ---
scen never-default 500ms "" 1 > nd.ini
t0=$(now_ms)
$S run nd.ini > nd.out 2>&1
rc=$?
el=$(($(now_ms) - t0))
[ $rc = 7 ] && [ $el -ge 15000 ] && [ $el -lt 19000 ] && pass "the default bound is 15 s: exit 7 after $el ms" ||
	fail "default bound: exit $rc after $el ms: $(grep 'not met' nd.out)"

# --- a flapping SLO (every third probe refused): never steady, though its error rate is under 50% ---
cat > flap.py <<EOF
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", $((port + 1)))); s.listen(16)
n = 0
while True:
    c, _ = s.accept(); n += 1
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n" if n % 3 else b"HTTP/1.0 503 NO\r\nContent-Length: 0\r\n\r\n")
    c.close()
EOF
python3 flap.py & FL=$!
sleep 0.3
scen flap 500ms "steady_state_timeout = 2s" $((port + 1)) > flap.ini
$S run flap.ini > flap.out 2>&1
rc=$?
[ $rc = 7 ] && grep -Eq "steady state not met within 2s: slo up: (HTTP status 503|healthy for only [0-9.]+ms of 500ms \(before: HTTP status 503\))" flap.out &&
	pass "a flapping SLO never counts as steady (exit 7, HTTP status 503)" || fail "flapping: exit $rc: $(grep -E 'steady|ended' flap.out)"
kill -9 $FL; FL=
t_done
