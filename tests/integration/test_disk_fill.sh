#!/bin/sh
# disk-fill on a small loop-mounted ext4 filesystem this test makes (a
# 64 MB image in T_TMP): the fill shows in df, min_free_disk refuses and
# caps, the guardian and abort remove the file, and a directory or file
# swapped between apply and revert never makes sabot unlink something else.
# In a mount namespace of its own: a mount namespace another test makes
# meanwhile would get a copy of this one's mount and keep the loop device
# busy after it is unmounted here.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
MNT=$T_TMP/mnt
J=$(cd "$(dirname "$0")/../.." && pwd)/tests/helpers/json_check.py
LOOP=""

cleanup() {
	[ -n "${runner:-}" ] && kill -9 "$runner" 2>/dev/null
	wait 2>/dev/null
	mountpoint -q "$T_TMP/ovl" && umount "$T_TMP/ovl"
	mountpoint -q "$T_TMP/shm" && umount "$T_TMP/shm"
	loop_ext4_down
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

loop_ext4 sabot-it$id 64 || { skip "$T_WHY"; exit 0; }
mkdir "$MNT/d"
printf '[limits]\nmin_free_disk = 5%%\n' > policy.ini

# Used, as sabot counts it: (blocks - free blocks) of all blocks; df's
# Use% is used / (used + available), which ext4's reserved clusters lift.
use() { stat -f -c '%b %f' "$MNT" | awk '{ printf "%d", ($1 - $2) * 100 / $1 + 0.5 }'; }
dfuse() { df --output=pcent "$MNT" | tail -n 1 | tr -dc 0-9; }
avail() { df -B1 --output=avail "$MNT" | tail -n 1 | tr -dc 0-9; }
fills() { ls -A "$MNT/d" | grep '^\.sabot-fill-' ; }
# Named and grown: sabot names the fill empty, then grows it (in steps
# of 256 MiB; these are one step).
has_fill() { f=$(fills) && [ -n "$f" ] && [ "$(stat -c %s "$MNT/d/$f" 2>/dev/null || echo 0)" -gt 0 ]; }
no_fill() { [ -z "$(fills)" ]; }
scenario() { # NAME DURATION, then fault keys on stdin
	{ printf '[scenario]\nname = %s\nduration = %s\n[fault f]\ntype = disk-fill\npath = %s/d\n' "$1" "$2" "$MNT"; cat; } > "$1.ini"
}

use0=$(use)
# --- validate: the keys' rules and min_free_disk ---
scenario p90 3s <<EOF
percent = 90%
EOF
expect_exit 0 "percent = 90% validates" $S validate p90.ini
scenario both 3s <<EOF
percent = 50%
size = 1M
EOF
expect_exit 2 "percent and size together are refused" $S validate both.ini
expect_out "saying one of them" "needs exactly one of 'percent'"
scenario p99 3s <<EOF
percent = 99%
EOF
expect_exit 2 "percent = 99% crosses min_free_disk = 5%: refused" $S validate p99.ini
expect_out "naming the policy key" 'percent = 99.*exceeds min_free_disk = 5% set by the host policy'
scenario big 3s <<EOF
size = 200M
EOF
expect_exit 2 "size = 200M on a 64M filesystem: refused at validate" $S validate big.ini
expect_out "saying what would be left" "size = 200.0M would leave .* free of .* on $MNT/d, which exceeds min_free_disk"
scenario tight 3s <<EOF
percent = 90%
[limits]
min_free_disk = 50%
EOF
expect_exit 2 "a scenario may tighten min_free_disk (90% then crosses it)" $S validate tight.ini
scenario loose 3s <<EOF
percent = 90%
[limits]
min_free_disk = 1%
EOF
expect_exit 2 "a scenario may not loosen min_free_disk" $S validate loose.ini
expect_out "saying so" 'min_free_disk = 1% would loosen'
expect_exit 0 "plan shows the file and the bytes" $S plan p90.ini
expect_out "plan: the file, what is allocated and what stays free" "file $MNT/d/\.sabot-fill-RUN-f: allocate .*M \(.* free of .* -> .*; min_free_disk keeps"

# --- a run: the fill shows in df, and is gone after ---
$S run p90.ini > run.out 2>&1 &
runner=$!
wait_for 3000 has_fill
u=$(use)
[ "$u" -ge 89 ] && [ "$u" -le 91 ] && pass "during the window ${u}% of the filesystem is used (df: $(dfuse)%; was ${use0}%)" ||
	fail "during the window ${u}% is used (df: $(dfuse)%), want 90%"
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "the run exits 0" || { fail "the run exited $rc"; sed 's/^/    | /' run.out; }
no_fill && pass "the file is unlinked at the window's end" || fail "fill left: $(fills)"
[ "$(use)" -le $((use0 + 1)) ] && pass "df back to $(use)%" || fail "df still $(use)%"
grep -q 'allocated .*M in .*: .* free -> ' run.out && pass "the run says what it allocated and free before/after" ||
	{ fail "no allocation event"; sed 's/^/    | /' run.out; }
rep=$(sed -n 's/^ *report: //p' run.out)
$J get "$rep" 'd["faults"][0]["fills"] == 1 and d["faults"][0]["mib"] > 40' >/dev/null &&
	pass "the report counts the fill and its MiB" || fail "report: $(cat "$rep")"
$J schema report "$rep" && pass "the report follows its schema" || fail "report: not its schema"

# --- capped at apply: the disk filled between validate and the window ---
# The run validates 30M against ~54M free; then, before its window opens
# (4 s later), 40M of other data leave ~14M, of which min_free_disk keeps
# ~2.7M.
scenario cap 6s <<EOF
size = 30M
start = 4s
EOF
$S run cap.ini > cap.out 2>&1 &
runner=$!
wait_for 3000 grep -q 'started:' cap.out || fail "the capped run did not start"
dd if=/dev/zero of="$MNT/other" bs=1M count=40 status=none conv=fsync
grep -q 'allocated' cap.out && fail "the window opened before the disk was filled: the check below means nothing"
wait $runner
runner=""
grep -q 'capped by min_free_disk' cap.out && pass "a fill that would now cross min_free_disk is capped" ||
	{ fail "not capped"; sed 's/^/    | /' cap.out; }
rm -f "$MNT/other"
no_fill || fail "capped fill left"

# --- SIGKILL of the runner mid-window: the guardian removes it ---
scenario long 30s <<EOF
size = 20M
EOF
$S run long.ini > long.out 2>&1 &
runner=$!
wait_for 3000 has_fill || fail "no fill seen"
kill -9 $runner
wait $runner 2>/dev/null
runner=""
wait_for 2000 no_fill && pass "SIGKILL of the runner: the guardian unlinked the fill" || fail "fill outlived a SIGKILLed runner: $(fills)"
wait_for 3000 no_journals && pass "and removed the journal" || fail "journal left"
wait_for 5000 flock -n "$T_TMP/run/lock" true || fail "the SIGKILLed run's guardian did not finish"

# --- abort removes it (the runner stopped) ---
$S run long.ini > abort.out 2>&1 &
runner=$!
wait_for 3000 has_fill || fail "no fill seen"
kill -STOP $runner
expect_exit 0 "abort with a stopped runner exits 0" $S abort --reason "disk-fill test"
expect_out "abort says it removed the file" "removed $MNT/d/\.sabot-fill-"
no_fill && pass "abort unlinked the fill" || fail "fill left after abort: $(fills)"
kill -9 $runner 2>/dev/null
wait $runner 2>/dev/null
runner=""
$S arm >/dev/null 2>&1

# --- swaps between apply and revert never make it unlink something else ---
# The directory swapped for a link to another one that holds a file by
# the fill's name; then for another directory at the same path; then the
# fill renamed away and a root file moved to its name. Each time the
# victim survives, the revert refuses, and recover finishes once the swap
# is undone.
for how in dirlink dirnew filemove; do
	rm -rf "$T_TMP/victim"
	mkdir "$T_TMP/victim"
	scenario swap 2s <<EOF
size = 4M
EOF
	$S run swap.ini > swap-$how.out 2>&1 &
	runner=$!
	wait_for 3000 has_fill || fail "$how: no fill seen"
	name=$(fills)
	case $how in
	dirlink)
		echo precious > "$T_TMP/victim/$name"
		mv "$MNT/d" "$MNT/d.real" && ln -s "$T_TMP/victim" "$MNT/d" ;;
	dirnew)
		mv "$MNT/d" "$MNT/d.real" && mkdir "$MNT/d" && echo precious > "$MNT/d/$name" ;;
	filemove)
		mv "$MNT/d/$name" "$MNT/d/$name.moved" && echo precious > "$MNT/d/$name" ;;
	esac
	wait $runner
	runner=""
	case $how in
	dirlink) v="$T_TMP/victim/$name" ;;
	*) v="$MNT/d/$name" ;;
	esac
	[ "$(cat "$v" 2>/dev/null)" = precious ] && pass "$how: the file swapped in is not unlinked" ||
		{ fail "$how: sabot unlinked $v"; sed 's/^/    | /' swap-$how.out; }
	grep -q 'revert failed' swap-$how.out && pass "$how: the revert refuses and says so" ||
		{ fail "$how: no refusal"; sed 's/^/    | /' swap-$how.out; }
	# Undo the swap; recover then removes the real fill.
	case $how in
	dirlink) rm "$MNT/d" && mv "$MNT/d.real" "$MNT/d" ;;
	dirnew) rm -rf "$MNT/d" && mv "$MNT/d.real" "$MNT/d" ;;
	filemove) rm "$MNT/d/$name" && mv "$MNT/d/$name.moved" "$MNT/d/$name" ;;
	esac
	$S recover > recover-$how.out 2>&1
	no_fill && pass "$how: recover removes the fill once the swap is undone" ||
		{ fail "$how: fill left after recover: $(fills)"; sed 's/^/    | /' recover-$how.out; }
	wait_for 3000 no_journals || { fail "$how: journal left"; rm -f "$T_TMP"/run/runs/*; }
done

[ "$(use)" -le $((use0 + 1)) ] && pass "the filesystem is back to ${use0}% used" || fail "df shows $(use)%"
# A filesystem in memory (tmpfs) is RAM that no OOM kill gives back:
# min_free_memory bounds the fill as well as min_free_disk. A tmpfs of
# twice the machine's memory, as /dev/shm or /run can be sized: 95 % of it
# is refused before anything is touched; a small fill goes ahead, and the
# plan says it is RAM.
mkdir shm
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
mount -t tmpfs -o size=$((mem_kb * 2))k sabot-shm$id shm || { fail "cannot mount a tmpfs"; t_done; }
printf '[scenario]\nname = shm-%s\nduration = 2s\n[fault f]\ntype = disk-fill\npath = %s\npercent = 95%%\n' "$id" "$T_TMP/shm" > shm.ini
expect_exit 2 "95% of a tmpfs of twice the RAM: refused" $S validate shm.ini
expect_out "by min_free_memory, naming the filesystem in memory" "percent = 95% on $T_TMP/shm, a filesystem in memory, would leave .* of MemAvailable, which exceeds min_free_memory"
expect_exit 2 "and a run of it touches nothing" $S run --yes shm.ini
[ -z "$(ls -A shm)" ] && pass "nothing was made in the tmpfs" || fail "left in the tmpfs: $(ls -A shm)"
sed -i 's/^percent = 95%$/size = 8M/' shm.ini
expect_exit 0 "a small fill of the tmpfs: plan" $S plan shm.ini
expect_out "the plan says the fill is RAM" "is in memory: the fill is RAM \(MemAvailable"
expect_exit 0 "and the run goes ahead" $S run --yes shm.ini
echo "$OUT" | grep -q "allocated 8.0M in $T_TMP/shm" && pass "it allocated 8 MB there" || fail "no 8 MB fill: $OUT"
[ -z "$(ls -A shm)" ] && pass "and unlinked it at the end" || fail "left in the tmpfs: $(ls -A shm)"
# An overlay whose upper directory is on that tmpfs (a live system, a
# container on tmpfs) says its own type, not tmpfs's: the fill is RAM all
# the same (seen: 'allocate 1900.0G' planned on a host of 23G).
mkdir -p shm/u shm/w shm/l ovl
chmod 755 shm/u
mount -t overlay -o lowerdir="$T_TMP/shm/l",upperdir="$T_TMP/shm/u",workdir="$T_TMP/shm/w" sabot-ovl$id ovl ||
	{ fail "cannot mount an overlay"; umount shm; t_done; }
printf '[scenario]\nname = ovl-%s\nduration = 2s\n[fault f]\ntype = disk-fill\npath = %s\npercent = 95%%\n' "$id" "$T_TMP/ovl" > ovl.ini
expect_exit 2 "95% of an overlay on a tmpfs of twice the RAM: refused" $S validate ovl.ini
expect_out "as a filesystem in memory" "percent = 95% on $T_TMP/ovl, a filesystem in memory, would leave .* of MemAvailable"
umount ovl
umount shm

t_done
