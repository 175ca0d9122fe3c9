#!/bin/sh
# Logs into a real journald: this test runs in mount, network and pid
# namespaces of its own (T_OWN_NS) with a tmpfs over /run, starts
# Debian's systemd-journald there (volatile storage, no rate limit), and
# runs sabot with its stderr on journald's stream socket and
# $JOURNAL_STREAM naming it, as systemd does for a service. Then
# `journalctl -o json` must show each line with its priority, sabot's
# fields (SABOT_RUN, SABOT_SCENARIO, SABOT_FAULT, SABOT_EVENT), the
# MESSAGE_ID of its kind, and the guardian's lines as the guardian's.
top=$(cd "$(dirname "$0")/../.." && pwd)
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
worker=sabot-ijw$id
striker=sabot-ijk$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
JD=/lib/systemd/systemd-journald
jpid=""
W=""
cleanup() {
	for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	[ -n "$jpid" ] && kill "$jpid" 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
if [ ! -x "$JD" ] || ! command -v journalctl >/dev/null || ! command -v python3 >/dev/null; then
	skip "no systemd-journald, journalctl or python3 here (build-deps.sh --test installs them)"
	t_done
fi
if [ -z "${T_IN_NS:-}" ]; then
	skip "not in a namespace of its own: a journald of the test's own would replace the host's sockets"
	t_done
fi

# Only in this mount namespace: the host's /run and journald.conf stay.
mount -t tmpfs -o mode=0755 sabot-ijt /run
mkdir -p /run/systemd/journal /run/log/journal
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\nRateLimitIntervalSec=0\nForwardToSyslog=no\nForwardToWall=no\n' > journald.conf
mount --bind journald.conf /etc/systemd/journald.conf
$JD &
jpid=$!
wait_for 5000 test -S /run/systemd/journal/socket && test -S /run/systemd/journal/stdout &&
	pass "a journald of the test's own runs" || { fail "journald did not start"; t_done; }

# Runs CMD with stderr (and stdout) on a journald stream, $JOURNAL_STREAM
# naming it: what a service with StandardError=journal gets.
in_journal() {
	systemd-cat -t sabot-stream sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' sh "$@"
}
# The journal's entries of SYSLOG_IDENTIFIER=sabot*, one JSON object a line.
entries() {
	journalctl --directory=/run/log/journal -o json --no-pager 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("SYSLOG_IDENTIFIER", "").startswith("sabot") or e.get("SABOT_EVENT"):
        print(json.dumps(e, sort_keys=True))'
}
# has DESC PY-EXPR: some entry e (a dict) makes the expression true.
has() {
	if entries | python3 -c '
import json, sys
expr = sys.argv[1]
sys.exit(0 if any(eval(expr, {}, {"e": json.loads(l)}) for l in sys.stdin) else 1)' "$2"; then
		pass "$1"
	else
		fail "$1 (no entry with $2)"
		entries | sed 's/^/    | /' | tail -n 40
	fi
}
# Until journald has written what was sent (it is asynchronous).
settle() { sleep 0.3; }

cp "$(command -v sleep)" "$T_TMP/$worker"
cp "$(command -v sleep)" "$T_TMP/$striker"
for i in 1 2; do "$T_TMP/$worker" 600 & W="$W $!"; done
for i in 1 2 3 4 5; do "$T_TMP/$striker" 600 & W="$W $!"; done

# --- a run: start, apply, strikes, reverts, end ---
cat > jt.ini <<INI
[scenario]
name = jt
duration = 1500ms
[target w]
comm = $worker
[target s]
comm = $striker
[fault p]
type = pause
target = w
duration = 500ms
[fault k]
type = kill
target = s
count = 1
every = 400ms
INI
in_journal $S run jt.ini
rc=$?
[ $rc = 0 ] && pass "a run logging to the journal completes" || fail "the run exited $rc"
settle
run=$(entries | python3 -c '
import json, sys
runs = [e["SABOT_RUN"] for e in map(json.loads, sys.stdin) if e.get("SABOT_EVENT") == "start"]
print(runs[0] if runs else "")')
case "$run" in jt-*) pass "the start entry names the run: $run" ;; *) fail "no start entry with SABOT_RUN" ;; esac
has "start: notice, MESSAGE_ID, SABOT_SCENARIO" \
	'e.get("SABOT_EVENT") == "start" and e["PRIORITY"] == "5" and e.get("MESSAGE_ID") == "102f2a41c6aa443ab6a602c5bd54f9c4" and e.get("SABOT_SCENARIO") == "jt"'
has "apply: notice, with the fault's name in SABOT_FAULT" \
	'e.get("SABOT_EVENT") == "apply" and e["PRIORITY"] == "5" and e.get("SABOT_FAULT") == "p" and e.get("MESSAGE_ID") == "16cdf8af0f6d4fc09edf40399284a227" and e["MESSAGE"].startswith("p: stopped")'
has "a strike: info" \
	'e.get("SABOT_EVENT") == "strike" and e["PRIORITY"] == "6" and e.get("SABOT_FAULT") == "k" and e.get("MESSAGE_ID") == "877746388fcc408ab9b51cbce3cf7945"'
has "revert: notice, of the run" \
	"e.get('SABOT_EVENT') == 'revert' and e['PRIORITY'] == '5' and e.get('SABOT_FAULT') == 'p' and e.get('SABOT_RUN') == '$run' and e.get('MESSAGE_ID') == 'bdd02b554c42470eb5440924cfae4cdc'"
has "end: everything reverted" 'e.get("SABOT_EVENT") == "end" and e["MESSAGE"] == "everything reverted"'
has "the runner's lines are sabot's, sent natively" \
	'e.get("SABOT_EVENT") == "start" and e["SYSLOG_IDENTIFIER"] == "sabot" and e["_TRANSPORT"] == "journal"'
if entries | python3 -c '
import json, sys
sys.exit(1 if any(json.loads(l)["MESSAGE"].startswith("<") for l in sys.stdin) else 0)'; then
	pass "no <N> prefix reaches the journal"
else
	fail "a <N> prefix in a journal entry"
fi

# --- refused and invalid: their priorities ---
$S disarm --reason "journal test" >/dev/null
in_journal $S run jt.ini
$S arm >/dev/null
printf '[scenario]\nname = bad\nduration = 1s\n[fault x]\ntype = loss\npercent = 500%%\ninterface = lo\n' > bad.ini
in_journal $S validate bad.ini
in_journal $S frobnicate
settle
has "refused on a disarmed host: notice (a benign skip), MESSAGE_ID refused" \
	'e.get("SABOT_EVENT") == "refused" and e["PRIORITY"] == "5" and e.get("MESSAGE_ID") == "23c15cd71b434a678bae8436d6e4a3af" and "disarmed" in e["MESSAGE"] and e.get("SABOT_SCENARIO") == "jt"'
has "an invalid scenario's file:line error: err, MESSAGE_ID invalid" \
	'e.get("SABOT_EVENT") == "invalid" and e["PRIORITY"] == "3" and e["MESSAGE"].startswith("bad.ini:6: ") and e.get("MESSAGE_ID") == "1846f3a91e7041468e662cb6c5bac8dc"'
has "an unknown command: err" 'e["PRIORITY"] == "3" and e["MESSAGE"] == "unknown command '"'"'frobnicate'"'"'; see '"'"'sabot --help'"'"'"'

# The live run's journal: applied yet, its runner's pid.
applied() { grep -q " kind=stop " "$T_TMP"/run/runs/*.journal 2>/dev/null; }
header_pid() { sed -n 's/^sabot-journal .* pid=\([0-9]*\) .*/\1/p' "$T_TMP"/run/runs/*.journal 2>/dev/null | head -n 1; }

# --- a signal: abort ---
cat > long.ini <<INI
[scenario]
name = long
duration = 30s
[target w]
comm = $worker
[fault p]
type = pause
target = w
INI
in_journal $S run long.ini &
bg=$!
wait_for 10000 applied
runner=$(header_pid)
[ -n "$runner" ] && kill -TERM "$runner"
wait $bg
settle
has "a signal: warning, MESSAGE_ID abort" \
	'e.get("SABOT_EVENT") == "abort" and e["PRIORITY"] == "4" and e.get("MESSAGE_ID") == "67144375909044869b57f570c1b14565" and "SIGTERM" in e["MESSAGE"] and e.get("SABOT_SCENARIO") == "long"'

# --- the runner killed: the guardian's lines are the guardian's ---
in_journal $S run long.ini &
bg=$!
wait_for 10000 applied
runner=$(header_pid)
guardian=$(sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' "$T_TMP"/run/runs/*.journal 2>/dev/null | head -n 1)
[ -n "$runner" ] && kill -KILL "$runner"
wait $bg
wait_for 10000 eval '! ls "$T_TMP"/run/runs/*.journal >/dev/null 2>&1'
settle
has "the guardian's revert: SYSLOG_IDENTIFIER sabot-guardian, its own pid, the run's fields" \
	"e['SYSLOG_IDENTIFIER'] == 'sabot-guardian' and e.get('_PID') == '$guardian' and e.get('SABOT_EVENT') == 'revert' and e.get('SABOT_SCENARIO') == 'long' and e['MESSAGE'].startswith('guardian: ')"

# --- a change that cannot be reverted: crit ---
# A forged journal of a dead run: a filter in a network namespace that no
# longer exists (recover cannot reach it, so it stays outstanding).
printf 'sabot-journal 1 run=forged-1 pid=999999 start=1 scenario=forged wall=1\napply seq=1 kind=tcfilter pid=0 start=0 cgroup=- name=f dev=sabot-ijx0 ifindex=99999 hook=egress prio=1 handle=1 netns=4026599999\n' \
	> run/runs/forged-1.journal
chmod 600 run/runs/forged-1.journal
in_journal $S recover
settle
has "what recover could not revert: crit, MESSAGE_ID revert-failed" \
	'e.get("SABOT_EVENT") == "revert-failed" and e["PRIORITY"] == "2" and e.get("MESSAGE_ID") == "0f2ee123ae07441ab470d851cd4d0969" and "not reverted" in e["MESSAGE"]'
rm -f run/runs/forged-1.journal

# --- the catalog explains every MESSAGE_ID sabot sends, and no other ---
mkdir -p croot/usr/lib/systemd/catalog
cp "$top/packaging/sabot.catalog" croot/usr/lib/systemd/catalog/
if journalctl --root="$T_TMP/croot" --update-catalog 2>cat.err; then
	journalctl --root="$T_TMP/croot" --list-catalog | awk '{print $1}' | sort > cat.ids
	sed -n 's/.*{"[a-z-]*", "\([0-9a-f]\{32\}\)"}.*/\1/p' "$top/agent/log.c" | sort > src.ids
	[ -s src.ids ] && cmp -s cat.ids src.ids && pass "packaging/sabot.catalog: one entry for each of the $(wc -l < src.ids) MESSAGE_IDs of agent/log.c" ||
		fail "catalog ids $(tr '\n' ' ' < cat.ids) != log.c ids $(tr '\n' ' ' < src.ids)"
else
	fail "journalctl --update-catalog refuses packaging/sabot.catalog: $(cat cat.err)"
fi

# --- off the journal: plain text, no prefix ---
OUT=$($S frobnicate 2>&1)
expect_out "stderr that is not the journal: plain text" "^sabot: unknown command 'frobnicate'"
OUT=$(JOURNAL_STREAM=1:1 $S frobnicate 2>&1)
expect_out "a \$JOURNAL_STREAM that is not stderr's (inherited by a redirected child): plain text" "^sabot: unknown command"
# journald gone: the stream would still read a prefix.
kill "$jpid" 2>/dev/null
wait "$jpid" 2>/dev/null
jpid=""
rm -f /run/systemd/journal/socket
sock_out=$(python3 -c '
import os, socket, subprocess, sys
a, b = socket.socketpair()
st = os.fstat(a.fileno())
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
subprocess.run(sys.argv[1:], stderr=a, env=env)
a.close()
print(b.recv(4096).decode(), end="")' $S frobnicate)
case "$sock_out" in "<3>sabot: unknown command"*) pass "journald unreachable: the stream gets <3> and the line" ;;
*) fail "journald unreachable: got '$sock_out'" ;; esac
t_done
