#!/bin/sh
# A prometheus SLO against a real Prometheus server (Debian's package),
# started by this test on loopback, scraping an exporter this test serves.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v prometheus >/dev/null; then
	skip "no prometheus binary: 'make test-deps' installs Debian's prometheus package"
	t_done
fi
id=$$
exp_port=$((20000 + id % 10000))
prom_port=$((30000 + id % 10000))
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
mkdir exporter
printf 'sabot_test_value 1\n' > exporter/metrics
(cd exporter && exec python3 -m http.server "$exp_port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids="$pids $!"
cat > prometheus.yml <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sabot-test
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$exp_port']
YML
prometheus --config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" > prometheus.log 2>&1 &
pids="$pids $!"
query_is() { # VALUE: the server answers the query with it
	python3 -c "import json,sys,urllib.request
r=json.load(urllib.request.urlopen('http://127.0.0.1:$prom_port/api/v1/query?query=sabot_test_value', timeout=2))
sys.exit(0 if r['data']['result'] and r['data']['result'][0]['value'][1] == '$1' else 1)" 2>/dev/null
}
wait_for 30000 query_is 1 && pass "Prometheus scrapes the test exporter" || { fail "Prometheus did not come up: $(tail -5 prometheus.log)"; t_done; }

cp "$(command -v sleep)" "$T_TMP/sabot-itpw$id"
"$T_TMP/sabot-itpw$id" 600 &
worker=$!
pids="$pids $worker"
cat > prom.ini <<INI
[scenario]
name = prom
duration = 60s
steady_state = 2s
[target w]
pid = $worker
[fault p]
type = pause
target = w
[slo errors]
probe = prometheus
url = http://127.0.0.1:$prom_port
query = sabot_test_value
interval = 500ms
timeout = 400ms
min_samples = 2
max = 5
INI
$S run prom.ini --report "$T_TMP/prom.json" > prom.out 2>&1 &
runner=$!
wait_for 10000 all_in_state T $worker && pass "steady state held; the fault started" || fail "no fault: $(cat prom.out)"
printf 'sabot_test_value 10\n' > exporter/metrics
wait $runner
rc=$?
[ $rc = 3 ] && pass "the query crossing max aborts the run: exit 3" || fail "exit $rc: $(cat prom.out)"
grep -q 'SLO breached: errors: query value 10 is above max 5' prom.out && pass "saying which value crossed which threshold" ||
	fail "reason: $(grep -i breach prom.out)"
none_in_state T $worker && pass "the paused target runs again" || fail "still stopped"
J=$top/tests/helpers/json_check.py
$J get prom.json '(d["breach"]["slo"], d["breach"]["why"], d["breach"]["value"], d["breach"]["threshold"]) == ("errors", "query value 10 is above max 5", 10, 5)' >/dev/null &&
	pass "the report records the value and threshold" || fail "report: $($J get prom.json 'd["breach"]')"
$J schema report prom.json && pass "the report follows agent/schema/report.schema.json" || fail "the report does not follow its schema"

# A query answering +Inf: the report stays JSON (null, and why), and the
# HTML page is made from it.
printf 'sabot_test_value 1\n' > exporter/metrics
wait_for 30000 query_is 1 || fail "the query did not come back to 1"
$S run prom.ini --report "$T_TMP/inf.json" > inf.out 2>&1 &
runner=$!
wait_for 10000 all_in_state T $worker && pass "+Inf: the fault started" || fail "+Inf: no fault: $(cat inf.out)"
printf 'sabot_test_value +Inf\n' > exporter/metrics
wait $runner
rc=$?
[ $rc = 3 ] && pass "+Inf above max aborts the run: exit 3" || fail "+Inf: exit $rc: $(cat inf.out)"
$J get inf.json 'd["breach"]["value"] is None and d["breach"]["value_nonfinite"] == "+Inf"' >/dev/null &&
	pass "+Inf: the report's breach value is null, saying +Inf" || fail "+Inf: report: $(grep -A8 '"breach"' inf.json)"
$J get inf.json 'any(len(x) == 5 and x[3] is None and x[4] == "+Inf" for o in d["slos"] for x in o["samples"])' >/dev/null &&
	pass "+Inf: the samples say it too" || fail "+Inf: samples: $(grep -c Inf inf.json)"
$J schema report inf.json && pass "+Inf: the report follows its schema" || fail "+Inf: the report does not follow its schema"
expect_exit 0 "+Inf: sabot report --html accepts the report" "$SABOT" report inf.json --html "$T_TMP/inf.html"
grep -q '<svg' inf.html && pass "+Inf: the page has its timeline" || fail "+Inf: no timeline in the page"
t_done
