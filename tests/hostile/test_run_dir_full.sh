#!/bin/sh
# Promise: a full run dir never leaves a fault behind nor a false story. The
# run dir is a tiny tmpfs: filled before a run, the run refuses before its
# first change; filled during a run, a journal write that fails reverts
# everything, says so, and does not claim that anything could not be
# reverted; the guardian, recover and abort revert on the full disk.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
worker=sabot-rf$id
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	mountpoint -q "$T_TMP/run" && umount "$T_TMP/run"
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/$worker"
mkdir run
mount -t tmpfs -o size=256k,mode=0755 "sabot-hrf$id" "$T_TMP/run" || { skip "cannot mount a tmpfs here"; t_done; }
start_workers() { # N
	W=""
	i=0
	while [ $i -lt "$1" ]; do
		"$T_TMP/$worker" 600 &
		W="$W $!"
		i=$((i + 1))
	done
}
# Every worker has exec'd (has its name), so that a run sees them all.
workers_ready() { [ "$(ps -o comm= -p "$(echo $W | tr ' ' ',')" | grep -cx "$worker")" = "$(echo $W | wc -w)" ]; }
stop_workers() { for p in $W; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; W=""; }
n_stopped() { ps -o stat= -p "$(echo $W | tr ' ' ',')" | grep -c '^T'; }
none_stopped() { [ "$(n_stopped)" = 0 ]; }
fill() { dd if=/dev/zero of="$T_TMP/run/fill$1" bs=4k 2>/dev/null; sync; }
free_kb() { df -k "$T_TMP/run" | awk 'NR == 2 {print $4}'; }
printf '[scenario]\nname = big\nduration = 3s\n[target w]\ncomm = %s\n[fault p]\ntype = pause\ntarget = w\nstart = 1s\n' "$worker" > big.ini
printf '[scenario]\nname = small\nduration = 30s\n[target w]\ncomm = %s\n[fault p]\ntype = pause\ntarget = w\n' "$worker" > small.ini
has_journal() { [ -n "$(ls run/runs 2>/dev/null)" ]; }
# recover sweeps sabot-named objects in every named network namespace:
# keep it to an empty one so that other work on this machine is not touched.
isolated() { unshare -m -n sh -c "mount -t tmpfs sabot-hrf$id /run/netns 2>/dev/null; exec $*"; }

# --- before: a run dir with almost no room ---
start_workers 300
wait_for 10000 workers_ready || fail "the workers did not start"
fill 0
rm -f run/fill0
dd if=/dev/zero of=run/fill0 bs=4k count=$(($(free_kb) / 4 - 3)) 2>/dev/null
echo "    run dir: $(free_kb) KiB free"
OUT=$($S run big.ini </dev/null 2>&1)
rc=$?
[ $rc != 0 ] && pass "a run with 12 KiB left in its run dir is refused (exit $rc)" || fail "the run went ahead: $(echo "$OUT" | tail -3)"
expect_out "saying there is no room" "[Nn]o space|no room"
expect_no_out "before any change" "started|stopped [0-9]+ of|apply failed|not reverted"
none_stopped && pass "no worker was ever stopped" || fail "$(n_stopped) workers left stopped"
has_journal && fail "a journal was left: $(ls run/runs)" || pass "no journal left"
rm -f run/fill*

# --- during: the disk fills after the start; the pause needs more journal
# than there is room for ---
$S run big.ini </dev/null > big.out 2>&1 &
runner=$!
wait_for 3000 has_journal || fail "the run did not start: $(cat big.out)"
fill 1
echo "    run dir: $(free_kb) KiB free"
wait "$runner"
rc=$?
runner=""
OUT=$(cat big.out)
[ $rc = 1 ] && pass "the run ended with exit 1 when the journal could not be written" || fail "run exit $rc: $(tail -5 big.out)"
expect_out "saying the journal could not be written" "journal.*(No space|no room)"
expect_no_out "and not claiming that something could not be reverted" "could not be reverted|not reverted|revert failed"
wait_for 2000 none_stopped && pass "every worker runs again" || fail "$(n_stopped) of 300 workers left stopped"
has_journal && fail "a journal was left on the full disk: $(ls run/runs)" || pass "no journal left: its removal is the record"
expect_exit 0 "recover on the full disk" isolated $S recover
expect_exit 0 "abort on the full disk" $S abort
$S arm >/dev/null
stop_workers
rm -f run/fill*

# --- the runner dies on a full disk: the guardian reverts ---
start_workers 100
wait_for 10000 workers_ready || fail "the workers did not start"
$S run small.ini </dev/null > small.out 2>&1 &
runner=$!
all_stopped() { [ "$(n_stopped)" = 100 ]; }
wait_for 5000 all_stopped && pass "a run holds 100 workers stopped" || fail "not stopped: $(n_stopped) ($(tail -3 small.out))"
fill 2
dd if=/dev/zero of=run/fill3 bs=1 2>/dev/null
echo "    run dir: $(free_kb) KiB free"
kill -9 "$runner"
wait "$runner" 2>/dev/null
runner=""
wait_for 3000 none_stopped && pass "the guardian resumed every worker on the full disk" || fail "$(n_stopped) workers left stopped"
wait_for 3000 sh -c "[ -z \"\$(ls $T_TMP/run/runs 2>/dev/null)\" ]" && pass "and removed the journal" ||
	fail "journal left: $(cat run/runs/*.journal | tail -3)"
OUT=$(isolated $S recover 2>&1)
rc=$?
[ $rc = 0 ] && pass "recover on the full disk exits 0" || fail "recover exit $rc: $OUT"
expect_no_out "with nothing failed" "failed|could not"
stop_workers

# --- abort on a full disk, with a live run ---
start_workers 20
wait_for 10000 workers_ready || fail "the workers did not start"
rm -f run/fill*
$S run small.ini </dev/null > abort.out 2>&1 &
runner=$!
all20() { [ "$(n_stopped)" = 20 ]; }
wait_for 5000 all20 || fail "not stopped: $(tail -3 abort.out)"
fill 4
dd if=/dev/zero of=run/fill5 bs=1 2>/dev/null
OUT=$($S abort 2>&1)
rc=$?
[ $rc = 0 ] && pass "abort on the full disk exits 0" || fail "abort exit $rc: $OUT"
expect_out "and reverted every change" "reverted 20 changes"
none_stopped && pass "every worker runs again" || fail "$(n_stopped) workers left stopped"
wait "$runner"
rc=$?
runner=""
[ $rc = 4 ] && pass "the run ended as aborted (exit 4)" || fail "run exit $rc: $(tail -3 abort.out)"
grep -qE "could not be reverted|not reverted" abort.out && fail "the run claimed a change was not reverted: $(tail -5 abort.out)" ||
	pass "the run does not claim that anything was left"
wait_for 3000 sh -c "[ -z \"\$(ls $T_TMP/run/runs 2>/dev/null)\" ]" && pass "no journal left" || fail "journal left"
$S arm >/dev/null
stop_workers
t_done
