#!/bin/sh
# HTTP probes reuse their connection: one curl handle per SLO, kept for the
# run, so that a keep-alive server sees one connection for many probes. A
# server that closes after each answer, one that drops idle connections,
# and probes that time out (the handle must start afresh after each) are
# all still probed right. A loopback server (tests/helpers/http_count.py)
# counts connections and requests.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
H=$(cd "$(dirname "$0")/../helpers" && pwd)
J=$H/json_check.py
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
srv=""
cleanup() {
	[ -n "$srv" ] && kill -9 $srv 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
command -v python3 >/dev/null || { skip "python3 is needed for the test's HTTP server"; t_done; }

# serve MODE: start the counting server; $port, $srv set.
serve() {
	[ -n "$srv" ] && kill -9 $srv 2>/dev/null && wait $srv 2>/dev/null
	rm -f port counts
	python3 "$H/http_count.py" "$T_TMP/port" "$T_TMP/counts" "$1" &
	srv=$!
	i=0
	until [ -s port ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
	port=$(cat port)
}
# probe_run NAME TIMEOUT: a run of 3 s probing every 100 ms that always
# completes (every failure allowed); its report in NAME.json.
probe_run() {
	cat > "$1.ini" <<INI
[scenario]
name = sabot-ka-$1
duration = 3s
steady_state = 300ms
[slo web]
probe = http
url = http://127.0.0.1:$port/
interval = 100ms
timeout = $2
max_error_rate = 100%
INI
	$S run --yes --report "$T_TMP/$1.json" "$1.ini" > "$1.out" 2>&1 </dev/null
}
counts() { cat counts 2>/dev/null || echo "0 0"; }
# On a loaded host a probe may time out, and curl closes a connection it
# gave up on: the bounds allow one more connection per timeout, and a
# failure must be a timeout (latency at the timeout), never an error of
# a reused connection.
timeouts() { $J get "$1" 'sum(1 for o in d["slos"] for s in o["samples"] if s[1] == 0)'; }
only_timeouts='all(s[1] == 1 or s[2] >= 99 for s in d["slos"][0]["samples"])'


serve keepalive
probe_run ka 100ms
rc=$?
set -- $(counts)
conns=$1 reqs=$2
[ $rc = 0 ] && [ "$reqs" -ge 20 ] && pass "a keep-alive server was probed $reqs times" || fail "exit $rc, $reqs requests: $(cat ka.out)"
to=$(timeouts ka.json)
[ "$conns" -le $((2 + to)) ] && pass "over $conns connection(s), not one per probe ($to timed out)" || fail "$conns connections for $reqs probes ($to timed out)"
$J get ka.json "$only_timeouts and len(d['slos'][0]['samples']) >= 20" >/dev/null &&
	pass "and every probe succeeded (or timed out)" || fail "samples: $($J get ka.json 'd["slos"][0]["samples"]')"

# Twenty SLOs probing at once: each keeps its own connection (curl's
# connection cache must hold them all between probes, not 4 per handle
# under way).
serve keepalive
{
	printf '[scenario]\nname = sabot-ka-many\nduration = 3s\nsteady_state = 300ms\n'
	for i in $(seq 20); do
		printf '[slo web%d]\nprobe = http\nurl = http://127.0.0.1:%d/\ninterval = 100ms\ntimeout = 100ms\nmax_error_rate = 100%%\n' $i "$port"
	done
} > many.ini
$S run --yes --report "$T_TMP/many.json" many.ini > many.out 2>&1 </dev/null
rc=$?
set -- $(counts)
to=$(timeouts many.json)
[ $rc = 0 ] && [ "$2" -ge 400 ] && [ "$1" -le $((25 + to)) ] && pass "20 SLOs probed $2 times over $1 connections (one each, and a few; $to timed out)" ||
	fail "exit $rc: 20 SLOs probed $2 times over $1 connections ($to timed out)"

serve close
probe_run close 100ms
rc=$?
set -- $(counts)
[ $rc = 0 ] && [ "$2" -ge 20 ] && [ "$1" -ge $(($2 - 1)) ] && pass "a server that closes after each answer: a connection per probe ($1 for $2)" ||
	fail "exit $rc, $1 connections for $2 requests"
$J get close.json "$only_timeouts" >/dev/null &&
	pass "and every probe succeeded (or timed out)" || fail "samples: $($J get close.json 'd["slos"][0]["samples"]')"

serve idle
probe_run idle 100ms
rc=$?
set -- $(counts)
[ $rc = 0 ] && [ "$2" -ge 20 ] && pass "a server that drops idle connections (50 ms, the interval is 100 ms): probed $2 times over $1" ||
	fail "exit $rc, $1 connections for $2 requests"
$J get idle.json "$only_timeouts" >/dev/null &&
	pass "and every probe succeeded or timed out (a closed connection is not reused)" ||
	fail "samples: $($J get idle.json 'd["slos"][0]["samples"]')"

serve hang5
probe_run hang 60ms
rc=$?
# Every 5th request is never answered: it times out, and probes after it,
# on a fresh connection, succeed (most of them: on a loaded host one more
# may time out).
$J get hang.json '(lambda s: sum(1 for x in s if x[1] == 0) >= 3 and sum(1 for i in range(len(s) - 1) if s[i][1] == 0 and s[i + 1][1] == 1) >= 2 and sum(x[1] for x in s) >= 0.5 * len(s))(d["slos"][0]["samples"])' >/dev/null &&
	pass "probes that time out fail, and the next one succeeds on the same handle" ||
	fail "exit $rc; samples: $($J get hang.json 'd["slos"][0]["samples"]')"
t_done
