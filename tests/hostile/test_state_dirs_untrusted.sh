#!/bin/sh
# Promise: sabot never writes through, reads from or acts on anything in its
# run and state directories that someone other than root could have put
# there. Symlinked lock, latch, report and metrics files point at a
# root-only file that must stay untouched; forged journals naming a root
# process must not make abort or recover signal it; run and state dirs that
# others can write are refused, with a message saying why.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-sd$id
victim=sabot-sv$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
V=""
W=""
cleanup() {
	for p in $W $V; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"
cp "$(command -v sleep)" "$T_TMP/$victim"
"$T_TMP/$worker" 600 &
W=$!
named() { [ "$(cat /proc/$W/comm 2>/dev/null)" = "$worker" ]; }
wait_for 3000 named || fail "the worker did not start"
printf 'root-only secret %s\n' "$id" > secret
chmod 600 secret
sum0=$(cksum < secret)
secret_intact() { [ "$(cksum < secret)" = "$sum0" ] && [ -f secret ] && ! [ -L secret ]; }
check_secret() { secret_intact && pass "$1: the root-only file is untouched" || { fail "$1: the root-only file was changed: $(head -c 200 secret)"; printf 'root-only secret %s\n' "$id" > secret; }; }
printf '[scenario]\nname = p\nduration = 50ms\n[target w]\ncomm = %s\n[fault p]\ntype = pause\ntarget = w\n' "$worker" > p.ini
mkdir -p state run out elsewhere

# recover sweeps sabot-named objects in every named network namespace:
# keep it to an empty one so that other work on this machine is not
# touched.
isolated() { unshare -m -n sh -c "mount -t tmpfs sabot-sd$id /run/netns 2>/dev/null; exec $*"; }

# --- latch ---
ln -s "$T_TMP/secret" state/disarmed.tmp
expect_exit 0 "disarm with a symlink where the latch's temporary file goes" $S disarm
check_secret "disarm"
$S arm >/dev/null 2>&1
rm -f state/disarmed.tmp state/disarmed
ln -s "$T_TMP/secret" state/disarmed
OUT=$($S status 2>&1)
rc=$?
echo "$OUT" | grep -q "root-only secret" && fail "status read the latch through a symlink: $OUT" || pass "status does not read through a symlinked latch"
[ $rc != 0 ] && pass "status fails on a latch it cannot trust (exit $rc)" || fail "status exit 0 with a symlinked latch: $OUT"
expect_exit 5 "a run is refused while the latch is a symlink" $S run p.ini </dev/null
expect_out "saying the latch cannot be read" "latch"
check_secret "status and run"
rm -f state/disarmed

# --- run lock ---
ln -s "$T_TMP/secret" run/lock
OUT=$($S run p.ini </dev/null 2>&1)
rc=$?
[ $rc != 0 ] && pass "a run is refused when RUN_DIR/lock is a symlink (exit $rc)" || fail "a run went ahead with a symlinked lock"
expect_out "saying so" "lock.*symbolic link|symbolic link.*lock"
check_secret "the run lock"
rm -f run/lock

# --- reports and metrics outside the state dir ---
ln -s "$T_TMP/secret" out/r.json.tmp
ln -s "$T_TMP/secret" out/m.prom.tmp
expect_exit 0 "a run with --report and --metrics-file where symlinks wait" $S run p.ini --report "$T_TMP/out/r.json" \
	--metrics-file "$T_TMP/out/m.prom" </dev/null
check_secret "--report and --metrics-file"
grep -q '"exit_code": 0' out/r.json 2>/dev/null && pass "the report was written all the same" || fail "no report: $(ls -la out)"
rm -f out/*
ln -s "$T_TMP/secret" out/m.prom
$S run p.ini --metrics-file "$T_TMP/out/m.prom" </dev/null >/dev/null 2>&1
check_secret "a metrics file that is a symlink"

# --- forged journals naming a root process ---
start_victim() {
	setsid "$T_TMP/$victim" 600 &
	V="$V $!"
	vp=$!
	wait_for 1000 test -r /proc/$vp/stat
	vstart=$(awk '{print $22}' /proc/$vp/stat)
}
dead=$(sh -c 'echo $$')
forge() { # FILE: a journal of a dead run that launched the victim (alive)
	alive || start_victim
	printf 'sabot-journal 1 run=forged-%s pid=%s start=1 scenario=forged wall=1\n' "$id" "$dead" > "$1"
	printf 'apply seq=1 kind=exec pid=%s start=%s cgroup=- name=t dev=- ifindex=0 hook=egress prio=0 handle=0 netns=0\n' \
		"$vp" "$vstart" >> "$1"
}
vp=""
alive() { [ -n "$vp" ] && [ -d /proc/$vp ] && [ "$(pstate $vp)" != Z ]; }
mkdir -p run/runs
chmod 700 run/runs
forge elsewhere/f.journal
ln -s "$T_TMP/elsewhere/f.journal" run/runs/f.journal
OUT=$($S abort 2>&1)
alive && pass "abort does not act on a journal that is a symlink" || fail "abort signalled a root process named by a symlinked journal: $OUT"
OUT=$(isolated $S recover 2>&1)
alive && pass "nor does recover" || fail "recover signalled a root process named by a symlinked journal: $OUT"
expect_out "recover says why it left it" "symbolic link"
rm -f run/runs/f.journal
$S arm >/dev/null 2>&1

forge run/runs/n.journal
chown 65534 run/runs/n.journal
OUT=$(isolated $S recover 2>&1)
rc=$?
alive && pass "recover does not act on a journal nobody owns" || fail "recover signalled a root process named by nobody's journal: $OUT"
expect_out "and names the owner" "owned by uid 65534"
[ $rc != 0 ] && pass "recover exits non-zero when it refused a journal (exit $rc)" || fail "recover exit 0 after refusing a journal"
OUT=$($S abort 2>&1)
alive && pass "neither does abort" || fail "abort signalled a root process named by nobody's journal: $OUT"
rm -f run/runs/n.journal
$S arm >/dev/null 2>&1

forge run/runs/w.journal
chmod 666 run/runs/w.journal
OUT=$(isolated $S recover 2>&1)
alive && pass "recover does not act on a journal everyone can write" || fail "recover signalled a root process named by a world-writable journal: $OUT"
expect_out "and says so" "writable by everyone"
rm -f run/runs/w.journal

# A journal that is a FIFO or a directory: refused, and nothing hangs.
mkfifo -m 600 run/runs/fifo.journal
mkdir run/runs/dir.journal
OUT=$(timeout 10 $S abort 2>&1)
rc=$?
[ $rc = 1 ] && pass "abort refuses a journal that is a FIFO or a directory, without hanging (exit 1)" || fail "abort exit $rc: $OUT"
expect_out "saying what it is" "fifo.journal is not a regular file"
OUT=$(timeout 10 $S status 2>&1)
rc=$?
[ $rc = 1 ] && pass "so does status (exit 1)" || fail "status exit $rc: $OUT"
rm -rf run/runs/fifo.journal run/runs/dir.journal
$S arm >/dev/null 2>&1

mkdir -p run2/runs && chmod 777 run2 && chmod 700 run2/runs
forge run2/runs/x.journal
OUT=$(isolated $SABOT --state-dir "$T_TMP/state" --run-dir "$T_TMP/run2" recover 2>&1)
rc=$?
alive && pass "recover does not act on journals in a run dir everyone can write" || fail "recover acted on a world-writable run dir: $OUT"
expect_out "and says which directory" "run2 is writable by everyone"
[ $rc != 0 ] && pass "and exits non-zero (exit $rc)" || fail "recover exit 0 with a world-writable run dir"
OUT=$($SABOT --state-dir "$T_TMP/state" --run-dir "$T_TMP/run2" abort 2>&1)
rc=$?
alive && pass "neither does abort" || fail "abort acted on a world-writable run dir: $OUT"
[ $rc != 0 ] && pass "abort exits non-zero when it cannot trust the run dir (exit $rc)" || fail "abort exit 0 with a world-writable run dir"
$S arm >/dev/null 2>&1
expect_exit 1 "a run is refused in a run dir everyone can write" $SABOT --state-dir "$T_TMP/state" --run-dir "$T_TMP/run2" run p.ini </dev/null
expect_out "saying why" "run2 is writable by everyone"

mkdir -p run3 && ln -s "$T_TMP/elsewhere" run3/runs
forge elsewhere/y.journal
OUT=$(isolated $SABOT --state-dir "$T_TMP/state" --run-dir "$T_TMP/run3" recover 2>&1)
alive && pass "recover does not follow RUN_DIR/runs when it is a symlink" || fail "recover followed a symlinked runs dir: $OUT"
expect_out "and says so" "runs.*symbolic link|symbolic link.*runs"

mkdir -p run4 && chown 65534 run4
expect_exit 1 "a run is refused in a run dir nobody owns" $SABOT --state-dir "$T_TMP/state" --run-dir "$T_TMP/run4" run p.ini </dev/null
expect_out "saying whose it is" "run4 is owned by uid 65534"

# --- state dirs others can write ---
mkdir -p state2 && chmod 775 state2
expect_exit 1 "disarm refuses a state dir its group can write" $SABOT --state-dir "$T_TMP/state2" --run-dir "$T_TMP/run" disarm
expect_out "saying why" "state2 is writable by its group"
expect_exit 5 "a run counts such a state dir as disarmed" $SABOT --state-dir "$T_TMP/state2" --run-dir "$T_TMP/run" run p.ini </dev/null
expect_out "saying why" "state2 is writable by its group"
[ "$(pstate $W)" != T ] && pass "the worker was never left stopped" || fail "the worker is stopped"

# --- the control: the same forged journal, in a trusted run dir, owned by
# root, is acted on (so the cases above refused it for their reason). ---
forge run/runs/ok.journal
OUT=$(isolated $S recover 2>&1)
wait_for 1000 sh -c "! [ -d /proc/$vp ] || [ \"\$(sed 's/.*) //' /proc/$vp/stat | cut -c1)\" = Z ]" &&
	pass "control: a root-owned journal in a trusted run dir is acted on" || fail "control: recover did not act on a good journal: $OUT"
check_secret "the end"
t_done
