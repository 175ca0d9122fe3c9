#!/bin/sh
# Promise: a process that becomes a sabot run by exec is never struck
# again, even where a run remembers which processes are not sabot's
# between strikes, and even when its comm does not change: a script named
# sabot-hxPID, struck harmlessly (SIGWINCH, which sh ignores) every 200ms
# by run B, execs sabot through a symlink of the same name, so its pid,
# start time and comm stay the same and only its file is sabot's. Every
# strike of B after that exec must find nothing to hit; B's strikes are
# counted, not timed.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
name=sabot-hx$id
P=""
cleanup() {
	[ -n "$P" ] && kill -TERM "$P" 2>/dev/null
	[ -n "${B:-}" ] && kill -TERM "$B" 2>/dev/null
	sleep 0.5
	[ -n "$P" ] && kill -9 "$P" 2>/dev/null
	for p in $(pgrep -f "$T_TMP/"); do kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP" || exit 1
mkdir a b
chmod 755 a b
ln -s "$SABOT" "b/$name"
# Run C, what the script becomes: a live run of its own (a launched sleep,
# a kill due long after this test ends).
cat > c.ini <<EOF
[scenario]
name = c
duration = 60s
[target t]
exec = $(command -v sleep) 120
[fault later]
type = kill
target = t
start = 50s
EOF
cat > "a/$name" <<EOF
#!/bin/sh
while [ ! -e $T_TMP/go ]; do sleep 0.05; done
exec $T_TMP/b/$name --state-dir $T_TMP/stateC --run-dir $T_TMP/runC run --yes $T_TMP/c.ini
EOF
chmod 755 "a/$name"
"$T_TMP/a/$name" > c.out 2>&1 &
P=$!
is_named() { [ "$(cat /proc/$P/comm 2>/dev/null)" = "$name" ]; }
wait_for 3000 is_named || { fail "the script did not start as $name: $(cat /proc/$P/comm 2>/dev/null)"; t_done; }

cat > b.ini <<EOF
[scenario]
name = b
duration = 5s
[target p]
pid = $P
[fault wake]
type = kill
target = p
signal = WINCH
every = 200ms
EOF
# A policy that lets the only process be struck (min_survivors = 0).
printf '[limits]\nmin_survivors = 0\n' > policy.ini
SB="$SABOT --policy $T_TMP/policy.ini --state-dir $T_TMP/stateB --run-dir $T_TMP/runB"
$SB run --yes b.ini > b.out 2>&1 &
B=$!
strikes() { grep -c 'wake: strike [0-9]*:' b.out 2>/dev/null || echo 0; }
hit_some() { [ "$(grep -c 'wake: strike [0-9]*: SIGWINCH to 1 of 1' b.out)" -ge 3 ]; }
wait_for 5000 hit_some || { fail "run B never struck the script: $(tail -n 5 b.out)"; t_done; }
pass "run B strikes the script while it is not sabot"
touch go
runs_sabot() { [ "$(readlink -f /proc/$P/exe 2>/dev/null)" = "$(readlink -f "$SABOT")" ]; }
wait_for 5000 runs_sabot || { fail "the script did not exec sabot: $(cat c.out)"; t_done; }
[ "$(cat /proc/$P/comm)" = "$name" ] && pass "after the exec: the same pid, and the same comm ($name)" ||
	fail "the comm changed to $(cat /proc/$P/comm): the test does not test what it says"
n0=$(strikes)
more() { [ "$(strikes)" -ge $((n0 + 6)) ]; }
wait_for 5000 more || { fail "run B stopped striking: $(tail -n 3 b.out)"; t_done; }
# The strikes after the first one that began after the exec: none hits.
after=$(grep 'wake: strike [0-9]*:' b.out | sed -n "$((n0 + 2)),\$p")
hits=$(printf '%s\n' "$after" | grep -c 'SIGWINCH to 1 of 1')
if [ "$hits" -eq 0 ]; then
	pass "no strike after the exec hit the sabot run ($(printf '%s\n' "$after" | wc -l) strikes)"
else
	fail "$hits strikes after the exec hit pid $P, a sabot run: $(printf '%s\n' "$after" | grep -m1 'SIGWINCH to 1')"
fi
expect_out_file() { grep -qE "$2" "$3" && pass "$1" || fail "$1: $(tail -n 3 "$3")"; }
expect_out_file "and say why: it is a sabot process now" "wake: strike [0-9]+: nothing to kill: 0 eligible" b.out
wait "$B"
t_done
