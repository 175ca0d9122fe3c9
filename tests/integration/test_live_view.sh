#!/bin/sh
# The live view on a real terminal (script(1) gives sabot a pseudo-terminal
# for stdin and stderr): each phase is shown, the cooldown after a breach
# says it is probing for recovery with its clock and the SLO still
# unhealthy, and keeps being redrawn; NO_COLOR drops colour and bold,
# TERM=dumb every escape. A blackhole on an http SLO's port, in a netns
# pair (sabot in one namespace, python3's http.server in the other).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-itlv-$id-a
B=sabot-itlv-$id-b
dev=sabot-itlv0
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	netns_pair_down "$A" "$B"
	t_cleanup_tmp
}
trap cleanup EXIT
command -v script >/dev/null || { skip "no script(1) (util-linux) to give sabot a terminal"; t_done; }
command -v python3 >/dev/null || { skip "no python3 for the HTTP server"; t_done; }
cd "$T_TMP"
netns_pair "$A" "$B" "$dev" sabot-itlv1 10.71.0.1 10.71.0.2 || { fail "namespace setup"; t_done; }
mkdir www && echo ok > www/index.html
(cd www && exec ip netns exec "$B" python3 -m http.server 8080 --bind 10.71.0.2 >/dev/null 2>&1) &
http_ok() { [ "$(ip netns exec "$A" nc -w 1 -N 10.71.0.2 8080 <<EOF2 2>/dev/null | head -n 1 | tr -d '\r'
GET / HTTP/1.0

EOF2
)" = "HTTP/1.0 200 OK" ]; }
wait_for 5000 http_ok && pass "the HTTP server answers" || { fail "the HTTP server did not come up"; t_done; }
tc_state() { ip netns exec "$A" tc qdisc show; ip netns exec "$A" tc filter show dev "$dev" egress; }
baseline=$(tc_state)

# No failure allowed: the failed probes stay in the 4 s window after the
# revert, and the SLO stays unhealthy for seconds of the cooldown.
cat > breach.ini <<INI
[scenario]
name = lv
duration = 30s
steady_state = 1s
cooldown = 10s
[fault bh]
type = blackhole
interface = $dev
protocol = tcp
dport = 8080
start = 1s
[slo web]
probe = http
url = http://10.71.0.2:8080/
interval = 300ms
timeout = 250ms
window = 4s
max_error_rate = 0%
INI

# live ENV... : run the scenario on a terminal, its output in $OUT (every
# byte sabot wrote, escapes included), its exit in $rc.
live() {
	OUT=$(script -qfec "env $* nsenter --net=/run/netns/$A $S run --yes breach.ini" /dev/null </dev/null 2>&1)
	rc=$?
	runs=$((runs + 1))
	printf '%s\n' "$OUT" > "view-$runs.out" # kept with SABOT_TEST_KEEP=1
}
runs=0
esc=$(printf '\033')

# The cooldown's clock, each time the view showed it: "probing for
# recovery, 1.4s of 10s" -> 1.4 (seconds), one per line.
cooldown_clock() {
	printf '%s\n' "$OUT" | tr '\r' '\n' | sed -n 's/.*probing for recovery, \([0-9.]*\)\(m\{0,1\}s\)\{0,1\} of .*/\1 \2/p' |
		awk '{ v = $1; if ($2 == "ms") v /= 1000; print v }'
}

# --- a colour terminal ---
live TERM=xterm
[ $rc = 3 ] && pass "the blackhole breaches the SLO on a terminal: exit 3" || fail "exit $rc, want 3"
plain=$(printf '%s\n' "$OUT" | tr '\r' '\n' | sed "s/$esc\[[0-9;]*[A-Za-z]//g")
printf '%s\n' "$plain" | grep -q 'lv  steady state: ' && pass "the view shows the steady-state phase" ||
	fail "no steady-state phase in the view"
printf '%s\n' "$plain" | grep -Eq 'lv  faults: [0-9.]+(m?s)? of 30s, [0-9.]+(m?s)? left' && pass "the view shows the faults' phase" ||
	fail "no faults' phase in the view"
line=$(printf '%s\n' "$plain" | grep -E 'lv  cooldown: every fault reverted; probing for recovery, [0-9.]+(m?s)? of 10s, web unhealthy' | head -n 1)
[ -n "$line" ] && pass "the cooldown says it is probing for recovery, its clock, and which SLO is unhealthy: $line" ||
	fail "no cooldown line naming the unhealthy SLO"
n=$(cooldown_clock | sort -u | wc -l)
[ "$n" -ge 2 ] && pass "the cooldown line updates ($n different clock values)" || fail "the cooldown line never updates ($n clock values)"
# Redrawn at least every 500 ms: the largest gap between successive clock
# values, with a margin for this loaded machine (the view's clock steps
# by 100 ms).
gap=$(cooldown_clock | awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { printf "%.1f", g + 0 }')
awk -v g="$gap" -v n="$n" 'BEGIN { exit !(n >= 2 && g <= 1.2) }' && pass "redrawn often in the cooldown (largest gap ${gap} s)" ||
	fail "the cooldown view went ${gap} s without a redraw"
printf '%s\n' "$plain" | grep -Eq '[0-9]+m?s[0-9]+' && fail "a duration printed in two units: $(printf '%s\n' "$plain" | grep -Eo '[0-9]+m?s[0-9]+[a-z]*' | head -n 3)" ||
	pass "every duration in one format"
printf '%s' "$OUT" | grep -q "$esc\[1m" && pass "on a colour terminal the scenario's name is bold" || fail "no bold on a colour terminal"
printf '%s' "$OUT" | grep -q "$esc\[1;31mBREACHED" && pass "and the breached SLO's verdict red" || fail "no red BREACHED on a colour terminal"
[ "$(tc_state)" = "$baseline" ] && pass "nothing left in the namespace" || fail "tc state changed"

# --- NO_COLOR (any value, no-color.org): no colour or bold ---
live TERM=xterm NO_COLOR=1
[ $rc = 3 ] && pass "NO_COLOR: exit 3" || fail "NO_COLOR: exit $rc, want 3"
printf '%s' "$OUT" | grep -Eq "$esc\[[0-9;]*m" && fail "NO_COLOR: colour or bold escapes: $(printf '%s' "$OUT" | grep -Eo "$esc\[[0-9;]*m" | sort -u | od -c | head -n 3)" ||
	pass "NO_COLOR: no colour or bold escape"
printf '%s\n' "$OUT" | grep -q 'probing for recovery' && pass "NO_COLOR: the cooldown is shown" || fail "NO_COLOR: no cooldown line"
live TERM=xterm NO_COLOR=
printf '%s' "$OUT" | grep -q "$esc\[1m" && pass "an empty NO_COLOR is as if unset (no-color.org)" || fail "an empty NO_COLOR dropped the bold"

# --- TERM=dumb: no escape at all, a plain status line ---
live TERM=dumb
[ $rc = 3 ] && pass "TERM=dumb: exit 3" || fail "TERM=dumb: exit $rc, want 3"
printf '%s' "$OUT" | grep -q "$esc" && fail "TERM=dumb: escapes in the output: $(printf '%s' "$OUT" | grep -o "$esc.." | sort -u | od -c | head -n 3)" ||
	pass "TERM=dumb: no ESC byte at all"
line=$(printf '%s\n' "$OUT" | tr -d '\r' | grep -E '^lv  cooldown: .*probing for recovery, [0-9.]+(m?s)? of 10s, web unhealthy' | head -n 1)
[ -n "$line" ] && pass "TERM=dumb: a plain cooldown status line: $line" || fail "TERM=dumb: no cooldown status line"
n=$(printf '%s\n' "$OUT" | grep -c '^lv  ')
[ "$n" -ge 3 ] && [ "$n" -le 40 ] && pass "TERM=dumb: $n status lines for the run (when it changes, or every few seconds)" ||
	fail "TERM=dumb: $n status lines"

[ "$(tc_state)" = "$baseline" ] && pass "nothing left in the namespace" || fail "tc state changed"
[ -z "$(ls "$T_TMP/run/runs" 2>/dev/null)" ] && pass "no journal left" || fail "left: $(ls "$T_TMP/run/runs")"
t_done
