#!/bin/sh
# clock: a launched target's wall clock set behind for the window through
# libfaketime, while it keeps running (the same pid throughout), its
# monotonic clock untouched; real again at the window's end, after the
# guardian's revert (runner SIGKILLed) and after recover's (runner and
# guardian SIGKILLed). The target is tests/helpers/clockprobe: one line a
# 100 ms with its pid, time(NULL), CLOCK_REALTIME and CLOCK_MONOTONIC.
# Bad inputs exit 2 and start nothing. The host's clock is never touched.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD:=$top/build}"
PROBE=$BUILD/tests/helpers/clockprobe
J=$top/tests/helpers/json_check.py
LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
runner=""
seen=""

small=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	[ -n "$small" ] && umount "$small" 2>/dev/null
	for p in $seen; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# libfaketime's /dev/shm names of the targets this test started: sabot
	# removes them; a leftover is a failure (and removed here).
	for p in $seen; do
		for f in /dev/shm/faketime_shm_$p /dev/shm/sem.faketime_sem_$p; do
			[ -e "$f" ] && echo "FAIL: $f left" && rm -f "$f"
		done
	done
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

[ -r "$LIB" ] || { skip "libfaketime is not installed ($LIB; apt-get install libfaketime)"; exit 0; }
[ -x "$PROBE" ] || { fail "$PROBE is not built (make $PROBE)"; t_done; }
: > policy.ini

scenario() { # NAME DURATION OFFSET START WINDOW [TARGET-SELECTOR]
	sel=${6:-"exec = $PROBE $T_TMP/$1.out"}
	printf '[scenario]\nname = %s\nduration = %s\n[target app]\n%s\n[fault skew]\ntype = clock\ntarget = app\noffset = %s\nstart = %s\nduration = %s\n' \
		"$1" "$2" "$sel" "$3" "$4" "$5" > "$1.ini"
}
ctl_files() { ls "$T_TMP/run/runs" 2>/dev/null | grep '^sabot-clock-'; }
no_ctl() { [ -z "$(ctl_files)" ]; }
pid_of() { awk '$1 != "term" { print $1; exit }' "$1" 2>/dev/null; }
# Lines of OUT as R (real: realtime - monotonic as in the first line),
# F (that less 7200 s, within 2 s) or X (anything else), runs collapsed.
shape() {
	awk '$1 != "term" { d = $3 - $4; if (NR == 1) b = d; x = d - b;
		c = (x > -2 && x < 2) ? "R" : (x > -7202 && x < -7198) ? "F" : "X";
		if (c != last) printf "%s", c; last = c }' "$1"
}
n_fake() { awk '$1 != "term" { d = $3 - $4; if (NR == 1) b = d; x = d - b; if (x > -7202 && x < -7198) n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0; }
faked() { [ "$(n_fake "$1")" -ge 3 ]; }
has_term() { grep -q '^term ' "$1" 2>/dev/null; }
# The term line's clock against the real one (the first line's).
term_real() {
	awk '$1 != "term" && !b { b = $3 - $4 } $1 == "term" { x = ($4 - $5) - b; exit !(x > -2 && x < 2) }' "$1"
}
shm_left() { [ -e "/dev/shm/faketime_shm_$1" ] || [ -e "/dev/shm/sem.faketime_sem_$1" ]; }

# --- bad inputs: exit 2, nothing started ---
scenario nosign 4s 2h 1s 1s
expect_exit 2 "offset without a sign is refused" $S validate nosign.ini
expect_out "with file:line and what is allowed" "nosign.ini:[0-9]+: .*needs a sign: \+ \(ahead\) or - \(behind\); use a whole number with one unit of s, m, h, d"
scenario unit 4s -2w 1s 1s
expect_exit 2 "offset = -2w (no such unit) is refused" $S validate unit.ini
expect_out "saying the units" "unit.ini:[0-9]+: .*'-2w' lacks a valid unit; use a whole number with one unit of s, m, h, d"
scenario zero 4s +0s 1s 1s
expect_exit 2 "offset = +0s is refused" $S validate zero.ini
expect_out "as changing nothing" "zero.ini:[0-9]+: offset = 0 changes nothing"
scenario onpid 4s -2h 1s 1s "pid = $$"
expect_exit 2 "clock on a pid target is refused" $S validate onpid.ini
expect_out "saying what is offered and why" "onpid.ini:[0-9]+: type = clock is offered for targets the run launches \(exec = ...\) alone: .*LD_PRELOAD.*never changes the host's clock"
scenario big 4s -400d 1s 1s
expect_exit 2 "offset = -400d over the default max_clock_offset (365d) is refused" $S validate big.ini
expect_out "naming the ceiling" "big.ini:[0-9]+: offset = -400d exceeds max_clock_offset = 365d set by the host policy"
printf '[limits]\nmax_clock_offset = 1h\n' > policy.ini
scenario two 4s -2h 1s 1s
expect_exit 2 "offset = -2h over a policy's max_clock_offset = 1h is refused" $S validate two.ini
expect_out "naming the ceiling and its file" "two.ini:[0-9]+: offset = -2h exceeds max_clock_offset = 1h set by the host policy $T_TMP/policy.ini"
: > policy.ini
{ cat two.ini; printf '[limits]\nmax_clock_offset = 1h\n'; } > tight.ini
expect_exit 2 "a scenario may tighten max_clock_offset" $S validate tight.ini
{ cat two.ini; printf '[limits]\nmax_clock_offset = 400d\n'; } > loose.ini
expect_exit 2 "a scenario may not loosen max_clock_offset" $S validate loose.ini
expect_out "saying so" "max_clock_offset = 400d would loosen"
printf '[limits]\nallowed_types = latency, kill\n' > policy.ini
expect_exit 2 "a policy whose allowed_types lacks clock refuses it" $S validate two.ini
expect_out "naming allowed_types" "allowed_types"
: > policy.ini
for b in nosign unit zero onpid big; do
	expect_exit 2 "run of $b.ini exits 2" $S run $b.ini
done
[ ! -e nosign.out ] && [ ! -e unit.out ] && [ ! -e zero.out ] && [ ! -e big.out ] && no_ctl && no_journals &&
	pass "the refused runs started nothing and left no file" || fail "a refused run started something: $(ls)"

# --- plan: the file and old -> new ---
scenario win 9s -2h 2s 3s
expect_exit 0 "plan of a clock fault" $S plan win.ini
expect_out "plan shows the file and +0 -> -2h" "file RUN_DIR/runs/sabot-clock-RUN-app: \+0 -> -2h \(target app's wall clock, through $LIB\), back to \+0"
expect_out "plan shows the ceiling" "max_clock_offset 365d"

# --- a run: real, then 2 h behind, then real, one pid throughout ---
t0=$(date +%s)
$S run win.ini > win.log 2>&1
rc=$?
[ $rc = 0 ] && pass "the run exits 0" || { fail "the run exited $rc"; sed 's/^/    | /' win.log; }
p=$(pid_of win.out)
seen="$seen $p"
[ -n "$p" ] && [ "$(awk '$1 != "term" { print $1 }' win.out | sort -u)" = "$p" ] &&
	pass "one pid ($p) wrote every line: the target kept running" || fail "pids: $(awk '{print $1}' win.out | sort -u | tr '\n' ' ')"
first=$(awk 'NR == 1 { print $2 }' win.out)
[ -n "$first" ] && [ "$first" -ge $((t0 - 2)) ] && [ "$first" -le $((t0 + 4)) ] &&
	pass "before the window the target's clock is real ($first vs $t0)" || fail "its first time $first, real $t0"
sh=$(shape win.out)
[ "$sh" = RFR ] && pass "its wall clock went real -> 2 h behind -> real (shape $sh)" ||
	{ fail "shape $sh, want RFR"; sed 's/^/    | /' win.out | head -80; }
nf=$(n_fake win.out)
[ "$nf" -ge 15 ] && [ "$nf" -le 40 ] && pass "$nf lines (of ~30 in the 3 s window) 2 h behind" || fail "$nf lines behind, want ~30"
awk '$1 != "term" { if ($2 - $3 > 1.5 || $3 - $2 > 1.5) bad++ } END { exit bad > 0 }' win.out &&
	pass "time(NULL) agrees with CLOCK_REALTIME on every line" || fail "time() and CLOCK_REALTIME disagree"
awk '$1 != "term" { if (NR > 1) { s = $4 - m; if (s < 0.05 || s > 1.5) bad++ } m = $4 } END { exit bad > 0 }' win.out &&
	pass "monotonic steps stay 0.05-1.5 s through both changes (untouched)" ||
	fail "a monotonic step out of bounds: $(awk '$1 != "term" { if (NR > 1) print $4 - m; m = $4 }' win.out | sort -n | sed -n '1p;$p' | tr '\n' ' ')"
# libfaketime 0.9.10 failed an absolute CLOCK_MONOTONIC sleep (EINVAL:
# every time.sleep of a Python target) and returned a monotonic
# condition variable's wait at once: the probe sleeps each of those ways.
[ -e win.out.bad ] && [ ! -s win.out.bad ] &&
	pass "every absolute monotonic sleep and monotonic condvar wait of the target took its time" ||
	{ fail "the target's sleeps broke under the fault"; sort win.out.bad | uniq -c | sed 's/^/    | /' | head; }
grep -q "skew: target app (pid $p): wall clock -2h" win.log && pass "the run says what it set, on which pid" ||
	{ fail "no apply event"; sed 's/^/    | /' win.log; }
grep -q "under libfaketime (LD_PRELOAD)" win.log && pass "the launch event says libfaketime" || fail "no launch event"
rep=$(sed -n 's/^ *report: //p' win.log)
$J get "$rep" 'd["faults"][0]["clock_sets"] == 1 and d["faults"][0]["clock_targets"] == 1 and "wall clock -2h" in d["faults"][0]["outcome"]' >/dev/null &&
	pass "the report counts the change and says the offset" || fail "report: $(cat "$rep")"
$J schema report "$rep" && pass "the report follows its schema" || fail "report: not its schema"
no_ctl && no_journals && pass "the control file and journal are gone" || fail "left: $(ls "$T_TMP/run/runs")"
shm_left "$p" && fail "libfaketime's /dev/shm names of pid $p are left" || pass "no /dev/shm names of pid $p left"
date_now=$(date +%s)
[ $((date_now - t0)) -ge 8 ] && [ $((date_now - t0)) -le 30 ] && pass "the host's clock moved as real time" ||
	fail "the host's clock jumped: $t0 -> $date_now"

# --- a target that dies of the run's SIGTERM (no clean exit: libfaketime
# cannot remove its /dev/shm names itself) leaves none behind ---
scenario sl 3s -2h 1s 1s "exec = $(command -v sleep) 600"
$S run sl.ini > sl.log 2>&1 || { fail "the sleep run failed"; sed 's/^/    | /' sl.log; }
p=$(sed -n 's/.*launched .* as pid \([0-9]*\) under libfaketime.*/\1/p' sl.log)
seen="$seen $p"
# sleep has no SIGTERM handler: it dies of the signal (the run's log
# says so only when its pidfd is read before the run's end).
[ -n "$p" ] && [ ! -d "/proc/$p" ] && pass "sleep under libfaketime (pid $p) was ended by the run" ||
	{ fail "sleep (pid $p) not ended"; sed 's/^/    | /' sl.log; }
[ -n "$p" ] && ! shm_left "$p" && pass "no /dev/shm names of pid $p left" || fail "/dev/shm names of pid $p left"

# --- a relative --run-dir: the target is given an absolute control file
# path (its working directory is not sabot's), and the revert finds it ---
scenario rel 5s -2h 1s 2s
$SABOT --state-dir rstate --run-dir rrun --policy policy.ini run rel.ini > rel.log 2>&1 &&
	pass "a run with --run-dir rrun (relative) exits 0" || { fail "the relative run failed"; sed 's/^/    | /' rel.log; }
seen="$seen $(pid_of rel.out)"
grep -q "wall clock -2h ($T_TMP/rrun/runs/sabot-clock-" rel.log && pass "the control file's path is absolute" ||
	fail "control file path: $(grep 'wall clock' rel.log)"
case $(shape rel.out) in RFR) pass "its clock went real -> behind -> real" ;; *) fail "shape $(shape rel.out), want RFR" ;; esac
[ -z "$(ls rrun/runs 2>/dev/null)" ] && pass "nothing left in the relative run dir" || fail "left: $(ls rrun/runs)"

# --- abort, with the runner stopped mid-window ---
scenario a 30s -2h 1s 25s
$S run a.ini > a.log 2>&1 &
runner=$!
wait_for 8000 faked a.out || fail "the target's clock never went behind"
p=$(pid_of a.out)
seen="$seen $p"
kill -STOP $runner
expect_exit 0 "abort with a stopped runner exits 0" $S abort --reason "clock test"
expect_out "abort says it set the offset back" "set $T_TMP/run/runs/sabot-clock-a-.* back to \+0"
expect_out "and removed the control file" "removed the clock control file $T_TMP/run/runs/sabot-clock-a-"
expect_out "and libfaketime's /dev/shm names" "removed libfaketime's /dev/shm names of pid $p"
wait_for 3000 eval "[ ! -d /proc/$p ]" && pass "abort ended the target" || fail "target $p left after abort"
no_ctl && pass "no control file left after abort" || fail "left: $(ctl_files)"
shm_left "$p" && fail "/dev/shm names of pid $p left after abort" || pass "no /dev/shm names of pid $p left"
kill -9 $runner 2>/dev/null
wait $runner 2>/dev/null
runner=""
$S arm >/dev/null 2>&1

# --- SIGKILL of the runner mid-window: the guardian reverts ---
scenario g 30s -2h 1s 25s
$S run g.ini > g.log 2>&1 &
runner=$!
wait_for 8000 faked g.out || { fail "the target's clock never went behind"; sed 's/^/    | /' g.log; }
p=$(pid_of g.out)
seen="$seen $p"
kill -9 $runner
wait $runner 2>/dev/null
runner=""
wait_for 6000 has_term g.out && pass "the guardian ended the target with SIGTERM" || fail "no term line"
term_real g.out && pass "after the guardian's revert the target's clock is real (its SIGTERM line)" ||
	{ fail "term line not real: $(grep '^term' g.out)"; tail -3 g.out | sed 's/^/    | /'; }
[ "$(awk '$1 == "term" { print $2 }' g.out)" = "$p" ] && pass "the same pid $p to the end" || fail "the term line is another pid's"
wait_for 3000 no_journals && pass "the guardian removed the journal" || fail "journal left"
no_ctl && pass "and the control file" || fail "control file left: $(ctl_files)"
shm_left "$p" && fail "/dev/shm names of pid $p left after the guardian" || pass "no /dev/shm names of pid $p left"
wait_for 5000 flock -n "$T_TMP/run/lock" true || fail "the guardian did not finish"

# --- recover, from the journal alone (runner and guardian SIGKILLed) ---
scenario r 30s -2h 1s 25s
$S run r.ini > r.log 2>&1 &
runner=$!
wait_for 8000 faked r.out || fail "the target's clock never went behind"
p=$(pid_of r.out)
seen="$seen $p"
g=$(sed -n 's/.*guardian pid \([0-9]*\).*/\1/p' r.log | head -n 1)
kill_run $runner "$g"
wait $runner 2>/dev/null
runner=""
n0=$(n_fake r.out)
sleep 1
[ -d "/proc/$p" ] && [ "$(n_fake r.out)" -gt "$n0" ] && pass "with runner and guardian gone the target runs on, still behind" ||
	fail "the target stopped or its clock came back alone"
ctl=$(ctl_files)
expect_exit 0 "recover exits 0" $S recover
expect_out "recover reverts the run's changes" "run r-.*: reverted [0-9]+ changes"
wait_for 3000 eval "[ ! -d /proc/$p ]" && pass "recover ended the target" || fail "target $p left"
no_ctl && no_journals && pass "no control file or journal left" || fail "left: $(ls "$T_TMP/run/runs")"
shm_left "$p" && fail "/dev/shm names of pid $p left after recover" || pass "no /dev/shm names of pid $p left"

# --- the run dir full during the window: the revert needs no space ---
# (it wrote a new +0 file: ENOSPC left the offset in force until the
# run's end; now each apply makes the +0 it renames over the offset)
small=$T_TMP/small
mkdir -p "$small" "$T_TMP/sstate"
mount -t tmpfs -o size=256k,nr_inodes=200,mode=0755 "sabot-clock-$$" "$small"
SS="$SABOT --state-dir $T_TMP/sstate --run-dir $small --policy $T_TMP/policy.ini"
scenario full 12s -2h 2s 3s
$SS run full.ini > full.log 2>&1 &
runner=$!
wait_for 8000 faked full.out || { fail "the target's clock never went behind"; sed 's/^/    | /' full.log; }
p=$(pid_of full.out)
seen="$seen $p"
dd if=/dev/zero of="$small/filler" bs=4k 2>/dev/null
[ "$(df -k "$small" | awk 'NR == 2 { print $4 }')" = 0 ] && pass "the run dir is full in the window" || fail "the run dir is not full"
# The window ends 5 s into the run: 3 s later the target must be real.
sleep 6
sh=$(shape full.out)
case $sh in RFR) pass "its clock came back at the window's end with the run dir full (shape $sh)" ;;
*) fail "shape $sh with the run dir full, want RFR"; sed 's/^/    | /' full.log | tail -8 ;; esac
rm -f "$small/filler"
wait $runner 2>/dev/null
runner=""
wait_for 6000 has_term full.out || fail "no term line"
[ -z "$(ls "$small/runs" 2>/dev/null | grep '^sabot-clock-')" ] && pass "no control file or spare left" ||
	fail "left: $(ls "$small/runs")"
umount "$small" && small=""
shm_left "$p" && fail "/dev/shm names of pid $p left" || pass "no /dev/shm names of pid $p left"
t_done
