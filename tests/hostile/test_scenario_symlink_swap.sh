#!/bin/sh
# Promise: an unattended run reads only a scenario and a policy that only
# root can change. An attacker with a local account (here uid 65534,
# nobody, owning files in this test's directory) races a symlink between a
# root-owned file and their own while unattended runs start: their scenario
# must never run, their policy must never apply. A root-owned symlink to a
# root-owned file still works.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-ss$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
swapper=""
W=""
cleanup() {
	[ -n "$swapper" ] && kill "$swapper" 2>/dev/null
	for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"
"$T_TMP/$worker" 600 &
W=$!
named() { [ "$(cat /proc/$W/comm 2>/dev/null)" = "$worker" ]; }
wait_for 3000 named || fail "the worker did not start"

# The attacker's files: same shape, another name, owned by nobody.
mk() { # NAME: a scenario pausing the worker for 50 ms
	printf '[scenario]\nname = %s\nduration = 50ms\n[target w]\ncomm = %s\n[fault p]\ntype = pause\ntarget = w\n' \
		"$1" "$worker" > "$1.ini"
}
mk good-$id
mk evil-$id
chown 65534 "evil-$id.ini"
printf '[limits]\nallowed_types = kill\n' > policy-root.ini
printf '[limits]\nallowed_types = kill, pause\n' > policy-evil.ini
chown 65534 policy-evil.ini

# A root-owned symlink to a root-owned file: an ordinary setup that works.
ln -s "good-$id.ini" via-link.ini
$S run via-link.ini </dev/null > link.out 2>&1
rc=$?
[ $rc = 0 ] && pass "a root-owned symlink to a root-owned scenario runs" || fail "symlink to a trusted file: exit $rc: $(tail -3 link.out)"

swap() { # LINK A B: swap LINK between A and B as fast as possible
	while :; do
		ln -sfn "$2" "$1.new" && mv -T "$1.new" "$1"
		ln -sfn "$3" "$1.new" && mv -T "$1.new" "$1"
	done
}

# --- the scenario ---
ln -s "good-$id.ini" cur.ini # there from the first run on
swap cur.ini "good-$id.ini" "evil-$id.ini" &
swapper=$!
evil=0 good=0 refused=0 other=0 n=0
end=$(($(date +%s) + 8))
while [ "$(date +%s)" -lt $end ] || [ $n -lt 20 ]; do
	rm -rf state/reports
	$S run cur.ini </dev/null > run.out 2>&1
	rc=$?
	n=$((n + 1))
	if grep -q "run evil-$id" run.out || ls state/reports 2>/dev/null | grep -q "^evil-"; then
		evil=$((evil + 1))
		[ $evil = 1 ] && sed 's/^/    | /' run.out | head -5
	elif [ $rc = 0 ]; then
		good=$((good + 1))
	elif [ $rc = 2 ] && grep -q "owned by uid 65534" run.out; then
		refused=$((refused + 1))
	else
		other=$((other + 1))
		[ $other = 1 ] && { echo "    exit $rc:"; sed 's/^/    | /' run.out | head -5; }
	fi
	[ $n -ge 200 ] && break
done
kill "$swapper" 2>/dev/null
wait "$swapper" 2>/dev/null
swapper=""
echo "    $n runs: $good ran the root-owned scenario, $refused refused the other, $evil ran nobody's, $other otherwise"
[ $evil = 0 ] && pass "nobody's scenario never ran, in $n runs racing a symlink swap" ||
	fail "nobody's scenario ran as root in $evil of $n runs"
[ $other = 0 ] && pass "every run either ran the root-owned scenario or refused nobody's, saying whose it is" ||
	fail "$other of $n runs ended otherwise"
[ $good -gt 0 ] && [ $refused -gt 0 ] && pass "both sides of the swap were seen" ||
	fail "the race was not exercised ($good good, $refused refused)"
[ "$(pstate $W)" != T ] && pass "the worker is running after the runs" || fail "the worker was left stopped"

# --- the policy: root's forbids pause, nobody's allows it ---
ln -s policy-root.ini cur-policy.ini
swap cur-policy.ini policy-root.ini policy-evil.ini &
swapper=$!
applied=0 n=0 other=0
end=$(($(date +%s) + 6))
while [ "$(date +%s)" -lt $end ] || [ $n -lt 50 ]; do
	$S --policy "$T_TMP/cur-policy.ini" run "good-$id.ini" </dev/null > pol.out 2>&1
	rc=$?
	n=$((n + 1))
	if [ $rc = 0 ]; then
		applied=$((applied + 1))
	elif ! [ $rc = 2 ]; then
		other=$((other + 1))
		[ $other = 1 ] && { echo "    exit $rc:"; sed 's/^/    | /' pol.out | head -5; }
	fi
	[ $n -ge 400 ] && break
done
kill "$swapper" 2>/dev/null
wait "$swapper" 2>/dev/null
swapper=""
[ $applied = 0 ] && pass "nobody's policy never applied, in $n runs racing a symlink swap" ||
	fail "nobody's policy let a run through in $applied of $n runs"
[ $other = 0 ] && pass "every one was refused with exit 2" || fail "$other of $n policy runs ended otherwise"

# --- static cases ---
mkdir sticky && chmod 1777 sticky
ln -s "$T_TMP/good-$id.ini" sticky/x.ini && chown -h 65534 sticky/x.ini
expect_exit 2 "nobody's symlink in a sticky directory to a root-owned scenario is refused" $S run sticky/x.ini </dev/null
expect_out "naming the link's owner" "owned by uid 65534"
mkdir userdir && cp "good-$id.ini" userdir/x.ini && chown 65534 userdir
expect_exit 2 "a root-owned scenario in nobody's directory is refused" $S run userdir/x.ini </dev/null
expect_out "naming the directory" "userdir is owned by uid 65534"
ln -s userdir dirlink
expect_exit 2 "and through a root-owned symlink to that directory" $S run dirlink/x.ini </dev/null
expect_out "naming the directory the link leads to" "userdir is owned by uid 65534"
expect_exit 0 "validate still reads a scenario nobody owns" $SABOT validate "evil-$id.ini"
expect_out "with a note for unattended runs" "note: .*owned by uid 65534"
expect_exit 0 "and through the symlink" $SABOT validate sticky/x.ini
expect_exit 0 "plan reads it too" $SABOT plan "evil-$id.ini"
[ "$(pstate $W)" != T ] && pass "the worker is running at the end" || fail "the worker was left stopped"
t_done
