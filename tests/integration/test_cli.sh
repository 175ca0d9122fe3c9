#!/bin/sh
# The command line: help, version, validate and plan exit codes and
# messages, policy handling, and that validate and plan touch nothing.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
trap t_cleanup_tmp EXIT
cd "$T_TMP"

expect_exit 0 "--version" "$SABOT" --version
expect_out "--version prints the version" '^sabot [0-9]+\.[0-9]+\.[0-9]+$'
# A start (the kill switch's included) loads neither libcurl nor libsystemd
# and what they pull in: both are loaded at run time, where they are used.
loaded=$(LD_DEBUG=libs "$SABOT" --version 2>&1 >/dev/null | sed -n 's/.*calling init: //p')
echo "$loaded" | grep -q libc.so && ! echo "$loaded" | grep -q -e libsystemd -e libcurl -e libgcrypt &&
	pass "a start loads neither libcurl nor libsystemd" || fail "a start loaded: $(echo $loaded)"
expect_exit 0 "--help" "$SABOT" --help
expect_out "--help lists validate" '^  validate '
expect_out "--help lists plan" '^  plan '
expect_exit 0 "validate --help" "$SABOT" validate --help
expect_out "validate --help shows usage" 'Usage: sabot \[GLOBAL OPTIONS\] validate FILE'
expect_exit 0 "plan --help" "$SABOT" plan --help
expect_exit 2 "no command" "$SABOT"
expect_exit 2 "unknown command" "$SABOT" frobnicate
# stderr is neither a terminal nor the journal here: plain text, no <N>
# level prefix (test_journald.sh checks the journal's priorities).
expect_out "unknown command is logged as plain text" "^sabot: unknown command 'frobnicate'"
expect_exit 2 "unknown option" "$SABOT" validate --frob x.ini
expect_exit 2 "validate without files" "$SABOT" validate
expect_exit 2 "plan needs exactly one file" "$SABOT" plan a.ini b.ini

expect_exit 0 "the example scenarios validate" "$SABOT" validate "$top"/scenarios/*.ini
expect_out "each file is reported valid" 'demo.ini: valid: scenario demo, 2 targets, 4 faults, 1 SLO'

cat > bad.ini <<'INI'
[scenario]
name = bad
duration = 5m

[fault f]
type = latency
interface = eth0
delay = 200ms
jitter = 2s
INI
expect_exit 2 "a broken file exits 2" "$SABOT" validate bad.ini
expect_out "and points at the right line" '^bad\.ini:9: jitter 2s is larger than delay 200ms'
expect_exit 2 "one broken file among good ones exits 2" "$SABOT" validate "$top"/scenarios/demo.ini bad.ini
expect_out "the good one is still reported" 'demo.ini: valid'
expect_exit 2 "a missing file exits 2" "$SABOT" validate nonexistent.ini
expect_out "with the reason" '^nonexistent\.ini: cannot read: No such file or directory'

# Host policy: explicit path, ceilings, trust.
cat > policy.ini <<'INI'
[limits]
max_duration = 10m
max_loss = 10%
INI
cat > lossy.ini <<'INI'
[scenario]
name = lossy
duration = 1m
[fault d]
type = loss
interface = lo
percent = 20%
INI
if [ -e /etc/sabot/policy.ini ]; then
	skip "the built-in policy: this host has /etc/sabot/policy.ini"
else
	expect_exit 0 "without a policy file the built-in policy applies" "$SABOT" validate lossy.ini
fi
expect_exit 2 "an explicit --policy that does not exist is an error" "$SABOT" --policy "$T_TMP/absent.ini" validate lossy.ini
expect_out "naming it" 'absent\.ini: cannot read the host policy: No such file or directory'
expect_exit 2 "over the policy's ceiling exits 2" "$SABOT" --policy "$T_TMP/policy.ini" validate lossy.ini
expect_out "naming the key and both values" "^lossy\.ini:7: percent = 20% exceeds max_loss = 10% set by the host policy $T_TMP/policy\.ini:3$"
chmod 666 policy.ini
expect_exit 2 "a policy others can write is refused" "$SABOT" --policy "$T_TMP/policy.ini" validate "$top"/scenarios/demo.ini
expect_out "with the remedy" "policy\.ini is writable by everyone; unattended runs read only files that only root can change: chmod go-w"
chmod 644 policy.ini
printf '[limits]\nmax_loss = lots\n' > badpolicy.ini
expect_exit 2 "an invalid policy exits 2" "$SABOT" --policy "$T_TMP/badpolicy.ini" validate lossy.ini
expect_out "with its own file:line" 'badpolicy\.ini:2: max_loss: invalid proportion'

# Unattended runs will refuse scenarios others can change: validate explains.
cp "$top"/scenarios/demo.ini shared.ini
chmod 664 shared.ini
expect_exit 0 "a group-writable scenario is still valid" "$SABOT" validate shared.ini
expect_out "with a note for unattended runs" 'shared\.ini: note: .*shared\.ini is writable by its group; unattended runs read only files that only root can change'

# plan resolves on this host and prints windows and what it would create.
# Outside its sandbox the demo's interface does not exist: the plan is
# shown, and exits 2 as a run would refuse it (validate does not check the
# host; plan and run do).
expect_exit 2 "plan the demo outside its sandbox: shown, and refused (exit 2)" "$SABOT" plan "$top"/scenarios/demo.ini
expect_out "plan shows the loss window" 'lossy-network: loss, 11s → 18s'
expect_out "plan names the demo's interface, which exists only in its sandbox" "demo\.ini:[0-9]+: fault 'lossy-network': no interface sabot-demo-c in this network namespace"
printf '[scenario]\nname = lo\nduration = 20s\n[fault drop-web]\ntype = loss\ninterface = lo\ndirection = ingress\nprotocol = tcp\ndport = 8089\npercent = 30%%\nstart = 5s\nduration = 10s\n' > lo.ini
expect_exit 0 "plan a loss fault on lo" "$SABOT" plan lo.ini
expect_out "plan resolves the interface" "lo \(ifindex $(cat /sys/class/net/lo/ifindex)\), ingress"
expect_out "plan shows the protected ports" 'never ports 22'
expect_exit 2 "plan of an invalid file exits 2" "$SABOT" plan bad.ini

# Nothing on the host changes: links, qdiscs, filters, BPF programs, state.
before=$(host_snapshot)
"$SABOT" validate "$top"/scenarios/*.ini >/dev/null 2>&1
"$SABOT" plan "$top"/scenarios/checkout-gameday.ini >/dev/null 2>&1
"$SABOT" plan "$top"/scenarios/demo.ini >/dev/null 2>&1
after=$(host_snapshot)
if [ "$before" = "$after" ]; then pass "validate and plan leave the host untouched"; else
	fail "validate and plan changed the host"
	echo "$before" > before.txt
	echo "$after" > after.txt
	diff before.txt after.txt | sed 's/^/    | /'
fi

# status shows the last run: its result and its report, the newest under
# the state dir's reports/; a link there is never followed.
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
expect_exit 0 "status before any run" $S status
expect_out "says there is no last run" "^last run: none reported under $T_TMP/state/reports$"
cp "$(command -v sleep)" "$T_TMP/sabot-itc$$"
cat > brief.ini <<INI
[scenario]
name = brief
duration = 2s
[target t]
exec = $T_TMP/sabot-itc$$ 600
[fault p]
type = pause
target = t
start = 0s
duration = 1s
INI
expect_exit 0 "a short run holds" $S run --yes brief.ini
rep=$(ls "$T_TMP"/state/reports/*.json 2>/dev/null | head -n 1)
expect_exit 0 "status after it" $S status
expect_out "shows the last run's result" "^last run [^ ]+ \(scenario brief\), ended [0-9T:.-]+Z: held, exit 0"
expect_out "and its report" "^  report: $rep$"
[ -n "$rep" ] && [ -f "$rep" ] && pass "which is there" || fail "no report under $T_TMP/state/reports"
sleep 0.05
printf '{"kind": "report", "exit_code": 3}' > "$T_TMP/forged.json"
ln -s "$T_TMP/forged.json" "$T_TMP/state/reports/zz-link.json"
expect_exit 0 "status with a newer link in reports/" $S status
expect_out "still shows the run's own report" "^  report: $rep$"
printf 'not json' > "$T_TMP/state/reports/zz-junk.json"
expect_exit 0 "status with a newer file that is no report" $S status
expect_out "says it cannot be read" "^last run: report $T_TMP/state/reports/zz-junk.json cannot be read as a sabot run report$"
t_done
