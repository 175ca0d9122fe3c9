#!/bin/sh
# Every JSON sabot writes follows its schema (agent/schema/*.schema.json),
# checked with python3-jsonschema on real outputs: validate, plan, doctor,
# status and abort --json, and the run report; diagnostics name file, line,
# key and message; '-' reads the scenario from standard input.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
J=$top/tests/helpers/json_check.py
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	$S abort >/dev/null 2>&1
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
python3 -c 'import jsonschema' 2>/dev/null || { fail "no python3-jsonschema: 'make test-deps' installs it"; t_done; }

for k in report status abort validate plan doctor; do
	python3 -c "import json, jsonschema, sys; jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))" \
		"$top/agent/schema/$k.schema.json" && pass "agent/schema/$k.schema.json is a valid JSON Schema" ||
		fail "agent/schema/$k.schema.json is not a valid schema"
done

# validate --json: one document, each diagnostic with file, line, key, message.
cat > bad.ini <<'INI'
[scenario]
name = bad
duration = 5m

[fault f]
type = latency
interface = eth0
delay = 200ms
jitter = 2s
precent = 3
INI
expect_exit 2 "validate --json of a broken file exits 2" $S validate --json bad.ini "$top"/scenarios/demo.ini
$S validate --json bad.ini "$top"/scenarios/demo.ini > v.json 2> v.err
$J schema validate v.json && pass "validate --json follows its schema" || fail "validate --json: $(cat v.json)"
[ ! -s v.err ] && pass "and writes nothing to stderr" || fail "stderr: $(cat v.err)"
$J get v.json '{"file": "bad.ini", "line": 9, "level": "error", "key": "jitter", "message": "jitter 2s is larger than delay 200ms; netem would clamp negative delays to 0 and reorder packets; use jitter <= delay"} in d["diagnostics"]' >/dev/null &&
	pass "a diagnostic names file, line, key and message" || fail "diagnostics: $($J get v.json 'd["diagnostics"]')"
$J get v.json 'any(x["line"] == 10 and x["key"] == "precent" and x["message"].startswith("unknown key") for x in d["diagnostics"])' >/dev/null &&
	pass "an unknown key is named as the key" || fail "diagnostics: $($J get v.json 'd["diagnostics"]')"
$J get v.json 'd["valid"] is False and [(f["file"].endswith("demo.ini"), f["valid"], f["faults"]) for f in d["files"]] == [(False, False, None), (True, True, 4)]' >/dev/null &&
	pass "and each file's verdict, with its counts" || fail "files: $($J get v.json 'd["files"]')"
expect_exit 0 "validate --json of valid files exits 0" $S validate --json "$top"/scenarios/*.ini

# '-': the scenario from standard input.
expect_exit 2 "validate - reads standard input" sh -c "$S validate - < bad.ini"
expect_out "naming it <stdin>" '^<stdin>:9: jitter 2s is larger than delay 200ms'
expect_exit 0 "validate - of a valid scenario" sh -c "$S validate - < $top/scenarios/demo.ini"
expect_out "reports it valid" '^<stdin>: valid: scenario demo, 2 targets, 4 faults, 1 SLO'
$S validate --json - < bad.ini > vs.json 2>&1
$J get vs.json 'd["diagnostics"][0]["file"] == "<stdin>" and d["diagnostics"][0]["line"] == 9' >/dev/null &&
	pass "validate --json - too" || fail "validate --json -: $(cat vs.json)"

# plan --json: a plan this host can run, and one it cannot.
printf '[scenario]\nname = lo\nduration = 20s\n[fault drop-web]\ntype = loss\ninterface = lo\ndirection = ingress\nprotocol = tcp\ndport = 8089\npercent = 30%%\nstart = 5s\nduration = 10s\n' > lo.ini
expect_exit 0 "plan --json of a loss fault on lo exits 0" $S plan --json lo.ini
$S plan --json lo.ini > p.json 2>&1
$J schema plan p.json && pass "plan --json follows its schema" || fail "plan --json: $(cat p.json)"
$J get p.json 'd["runnable"] and d["faults"][0]["window_ms"] == [5000, 15000] and d["faults"][0]["plan"][0].startswith("lo (ifindex ") and d["policy"]["limits"]["max_loss"] >= 0' >/dev/null &&
	pass "with the window in ms and what the fault would do" || fail "plan: $(cat p.json)"
expect_exit 0 "plan --json - reads standard input" sh -c "$S plan --json - < lo.ini > ps.json"
$J get ps.json 'd["scenario"]["file"] == "<stdin>"' >/dev/null && pass "and names it <stdin>" || fail "plan -: $(cat ps.json)"
expect_exit 2 "plan --json outside the demo's sandbox exits 2" $S plan --json "$top"/scenarios/demo.ini
$S plan --json "$top"/scenarios/demo.ini > pd.json 2>/dev/null
$J schema plan pd.json && $J get pd.json 'd["runnable"] is False and any(x["key"] == "interface" for x in d["diagnostics"])' >/dev/null &&
	pass "saying why, by key, in its schema" || fail "plan demo: $(cat pd.json)"
$S plan --json bad.ini > pb.json 2>/dev/null
$J schema plan pb.json && $J get pb.json 'd["runnable"] is False and len(d["diagnostics"]) == 2' >/dev/null &&
	pass "plan --json of an invalid file: its diagnostics only" || fail "plan bad: $(cat pb.json)"

# doctor --json.
$S doctor --json > doc.json 2>/dev/null
rc=$?
$J schema doctor doc.json && pass "doctor --json follows its schema" || fail "doctor --json: $(cat doc.json)"
n=$($J get doc.json 'sum(1 for c in d["checks"] if c["required"] and not c["supported"])')
want=6
[ "$n" = 0 ] && want=0
[ "$n" = "$($J get doc.json 'd["unsupported"]')" ] && [ $rc = $want ] &&
	pass "its count of unsupported checks matches its exit ($rc)" || fail "doctor: $n unsupported, exit $rc"

# status and abort --json with a run holding a fault; then its report.
cp "$(command -v sleep)" "$T_TMP/sabot-itj$id"
cat > hold.ini <<INI
[scenario]
name = hold
duration = 60s
[target t]
exec = $T_TMP/sabot-itj$id 600
[fault p]
type = pause
target = t
start = 0s
duration = 60s
INI
$S run --yes --report "$T_TMP/hold.json" hold.ini > hold.out 2>&1 &
runner=$!
holding() { $S status --json 2>/dev/null | $J get - 'any(r["active"] for r in d["runs"])' >/dev/null 2>&1; }
wait_for 10000 holding && pass "status --json shows the run's fault" || fail "no active fault: $(cat hold.out)"
$S status --json > st.json 2>&1
$J schema status st.json && pass "status --json of a live run follows its schema" || fail "status: $(cat st.json)"
$S abort --json --reason "json test" > ab.json 2>ab.err
rc=$?
[ $rc = 0 ] && pass "abort --json exits 0" || fail "abort --json: exit $rc: $(cat ab.err)"
$J schema abort ab.json && pass "abort --json follows its schema" || fail "abort --json: $(cat ab.json)"
$J get ab.json 'd["disarmed"] and d["runs"] == 1 and d["reverted"] >= 1 and d["failed"] == 0 and d["reverted"] == len(d["changes"]) and all(c["reverted"] for c in d["changes"]) and d["elapsed_ms"] > 0' >/dev/null &&
	pass "saying what it reverted and how long it took" || fail "abort: $(cat ab.json)"
wait $runner
runner=""
$J schema report hold.json && pass "the aborted run's report follows its schema" || fail "report: $(head -c 2000 hold.json)"
$J get hold.json 'd["exit_code"] == 4 and d["faults"][0]["reverted_at"] == "abort" and d["end"]["t_ms"] > 0 and d["start"]["wall"].endswith("Z")' >/dev/null &&
	pass "with the abort, in ms and RFC 3339" || fail "report: $(head -c 2000 hold.json)"
expect_exit 0 "sabot report --html reads it" $SABOT report hold.json --html hold.html
expect_exit 0 "arm again" $S arm
expect_exit 0 "status --json after" $S status --json
$S status --json > st2.json 2>&1
$J schema status st2.json && pass "status --json after the run follows its schema" || fail "status: $(cat st2.json)"
$J get st2.json 'd["last_run"]["exit_code"] == 4 and d["last_run"]["result"] == "aborted" and d["last_run"]["scenario"] == "hold" and d["last_run"]["report"].endswith(".json") and d["last_run"]["readable"]' >/dev/null &&
	pass "and shows the last run: aborted, with its report" || fail "status: $(cat st2.json)"
t_done
