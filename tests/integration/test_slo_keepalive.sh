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

serve keepalive
probe_run ka 80ms
rc=$?
set -- $(counts)
conns=$1 reqs=$2
[ $rc = 0 ] && [ "$reqs" -ge 20 ] && pass "a keep-alive server was probed $reqs times" || fail "exit $rc, $reqs requests: $(cat ka.out)"
[ "$conns" -le 2 ] && pass "over $conns connection(s), not one per probe" || fail "$conns connections for $reqs probes"
$J get ka.json 'all(s[1] == 1 for s in d["slos"][0]["samples"]) and len(d["slos"][0]["samples"]) >= 20' >/dev/null &&
	pass "and every probe succeeded" || fail "samples: $($J get ka.json 'd["slos"][0]["samples"]')"

# Twenty SLOs probing at once: each keeps its own connection (curl's
# connection cache must hold them all between probes, not 4 per handle
# under way).
serve keepalive
{
	printf '[scenario]\nname = sabot-ka-many\nduration = 3s\nsteady_state = 300ms\n'
	for i in $(seq 20); do
		printf '[slo web%d]\nprobe = http\nurl = http://127.0.0.1:%d/\ninterval = 100ms\ntimeout = 80ms\nmax_error_rate = 100%%\n' $i "$port"
	done
} > many.ini
$S run --yes --report "$T_TMP/many.json" many.ini > many.out 2>&1 </dev/null
rc=$?
set -- $(counts)
[ $rc = 0 ] && [ "$2" -ge 400 ] && [ "$1" -le 25 ] && pass "20 SLOs probed $2 times over $1 connections (one each, and a few)" ||
	fail "exit $rc: 20 SLOs probed $2 times over $1 connections"

serve close
probe_run close 80ms
rc=$?
set -- $(counts)
[ $rc = 0 ] && [ "$2" -ge 20 ] && [ "$1" = "$2" ] && pass "a server that closes after each answer: a connection per probe ($1 for $2)" ||
	fail "exit $rc, $1 connections for $2 requests"
$J get close.json 'all(s[1] == 1 for s in d["slos"][0]["samples"])' >/dev/null &&
	pass "and every probe succeeded" || fail "samples: $($J get close.json 'd["slos"][0]["samples"]')"

serve idle
probe_run idle 80ms
rc=$?
set -- $(counts)
[ $rc = 0 ] && [ "$2" -ge 20 ] && pass "a server that drops idle connections (50 ms, the interval is 100 ms): probed $2 times over $1" ||
	fail "exit $rc, $1 connections for $2 requests"
$J get idle.json 'all(s[1] == 1 for s in d["slos"][0]["samples"])' >/dev/null &&
	pass "and every probe succeeded (a closed connection is not reused)" ||
	fail "samples: $($J get idle.json 'd["slos"][0]["samples"]')"

serve hang5
probe_run hang 60ms
rc=$?
# Every 5th request is never answered: it times out, and the probe after
# it, on a fresh connection, succeeds.
$J get hang.json '(lambda s: sum(1 for x in s if x[1] == 0) >= 3 and all(s[i + 1][1] == 1 for i in range(len(s) - 1) if s[i][1] == 0) and sum(x[1] for x in s) >= 0.7 * len(s))(d["slos"][0]["samples"])' >/dev/null &&
	pass "probes that time out fail, and the next one succeeds on the same handle" ||
	fail "exit $rc; samples: $($J get hang.json 'd["slos"][0]["samples"]')"
t_done
