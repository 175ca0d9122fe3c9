#!/bin/sh
# Promise: a disk-fill never outlives a crash and a reboot, and what removes
# it after the reboot never unlinks anything else. The journal is on /run
# (gone at a reboot) and the file on a persistent filesystem: a 64 MB
# loop-mounted ext4 made here. A "reboot" is the runner and its guardian
# SIGKILLed together (stopped first, so that neither reverts) and the run
# dir wiped; then `sabot recover` with the same state dir must unlink the
# fill. An attacker with a local account, between the crash and the
# reboot's recover, swaps the fill's name for a link to a victim, for a
# file of their own, or the directory for a link: recover leaves the
# victim and what the attacker put there, and says what it left and why.
# The state dir is on the filled filesystem itself, filled to its last
# block after the crash: recover needs no space.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
MNT=$T_TMP/mnt
ST=$MNT/state
S="$SABOT --state-dir $ST --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
LOOP=""
runner="" guard=""
cleanup() {
	for p in $runner $guard; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	mountpoint -q /run/netns && umount /run/netns
	loop_ext4_down
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
for tool in setpriv; do
	command -v $tool >/dev/null || { skip "no $tool"; exit 0; }
done
# recover sweeps sabot's network objects in every named namespace: this
# mount namespace's /run/netns is an empty one of its own.
mount -t tmpfs "sabot-hdr$id" /run/netns 2>/dev/null || true
loop_ext4 sabot-hdr$id 64 || { skip "$T_WHY"; exit 0; }
# The filled directory is made writable by everyone, not sticky, once
# the fill is made (validate and apply refuse it so): an attacker may
# rename the fill away and put something at its name.
mkdir "$MNT/d" && chmod 0755 "$MNT/d"
mkdir "$T_TMP/victim" && echo precious > "$T_TMP/victim/precious"
printf '[limits]\nmin_free_disk = 0\n' > policy.ini
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

fills() { ls -A "$MNT/d" | grep '^\.sabot-fill-' | grep -v '\.moved$'; }
# Named and grown: sabot names the fill empty, then grows it (in steps
# of 256 MiB; these are one step).
has_fill() { f=$(fills) && [ -n "$f" ] && [ "$(stat -c %s "$MNT/d/$f" 2>/dev/null || echo 0)" -gt 0 ]; }
no_fill() { [ -z "$(fills)" ]; }
records() { ls -A "$ST/fills" 2>/dev/null; }
avail() { df -B1 --output=avail "$MNT" | tail -n 1 | tr -dc 0-9; }
scenario() { # NAME, then fault keys on stdin
	{ printf '[scenario]\nname = %s\nduration = 60s\n[fault f]\ntype = disk-fill\npath = %s/d\n' "$1" "$MNT"; cat; } > "$1.ini"
}
# A run of NAME.ini up to its fill, then the crash: runner and guardian
# stopped (neither may revert), SIGKILLed, and the run dir wiped.
# What an earlier case left (it failed, and said so) is removed first,
# so that each case stands alone.
guardian_of_run() { sed -n 's/^guardian pid=\([0-9]*\) .*/\1/p' run/runs/*.journal 2>/dev/null | head -n 1; }
has_guardian() { [ -n "$(guardian_of_run)" ]; }
crash() { # NAME
	rm -f "$MNT"/d/.sabot-fill-* "$ST"/fills/*
	chmod 0755 "$MNT/d"
	$S run "$1.ini" > "run-$1.out" 2>&1 &
	runner=$!
	wait_for 5000 has_fill || { fail "$1: no fill seen"; sed 's/^/    | /' "run-$1.out"; return 1; }
	chmod 0777 "$MNT/d"
	wait_for 5000 has_guardian || { fail "$1: no guardian in the journal"; return 1; }
	guard=$(guardian_of_run)
	kill -STOP "$guard" "$runner"
	kill -9 "$guard" "$runner"
	wait "$runner" 2>/dev/null
	runner="" guard=""
	has_fill || { fail "$1: the fill went with the crash: this test means nothing"; return 1; }
	rm -rf "$T_TMP/run"
}

scenario small <<EOF
size = 8M
EOF
scenario full <<EOF
size = 40M
EOF

# --- 0. a live run's fill is left, whatever run dir recover is given ---
rm -f "$MNT"/d/.sabot-fill-*
$S run small.ini > run-live.out 2>&1 &
runner=$!
wait_for 5000 has_fill || fail "live: no fill seen"
expect_exit 0 "recover with another run dir during a live run exits 0" \
	$SABOT --state-dir "$ST" --run-dir "$T_TMP/run2" --policy "$T_TMP/policy.ini" recover
has_fill && [ -n "$(records)" ] && pass "and leaves the live run's fill and its record" ||
	fail "recover removed a live run's fill: $OUT"
kill -TERM $runner
wait $runner
runner=""
no_fill && [ -z "$(records)" ] && pass "the run's own end removes both" || fail "left by the run: $(fills) $(records)"

# --- 1. the crash and the reboot: recover unlinks the fill ---
a0=$(avail)
crash small
name=$(fills)
expect_exit 0 "after the reboot, recover with the same state dir exits 0" $S recover
expect_out "and says it removed the fill" "removed .*$MNT/d/$name"
no_fill && pass "the fill is gone after the reboot's recover" || fail "fill outlived the reboot: $(fills)"
[ -z "$(records)" ] && pass "and so is its record" || fail "record left: $(records)"
# Within 64 KiB: the record's directory takes a block of its own.
[ "$(avail)" -ge $((a0 - 65536)) ] && pass "the space is back ($(avail) bytes free, was $a0)" || fail "free $(avail), was $a0"
expect_exit 0 "a second recover finds nothing" $S recover
expect_out "and says so" "nothing to revert"

# --- 2. the disk full to its last block, the state dir on it ---
crash full
name=$(fills)
# The rest of it filled after the crash, to the last block.
dd if=/dev/zero of="$MNT/other" bs=64k status=none 2>/dev/null
dd if=/dev/zero of="$MNT/other2" bs=4k status=none 2>/dev/null
sync
[ "$(avail)" -lt 65536 ] && pass "the filesystem holding the state dir is full ($(avail) bytes free)" ||
	fail "not full: $(avail) bytes free"
expect_exit 0 "recover on the full disk exits 0" $S recover
no_fill && pass "recover on the full disk unlinks the fill" || fail "fill left on the full disk: $(fills)"
[ -z "$(records)" ] && pass "and its record" || fail "record left: $(records)"
rm -f "$MNT"/d/*.moved "$MNT/other" "$MNT/other2"

# --- 3. attackers between the crash and the reboot's recover ---
# link: the fill renamed away, its name a symbolic link to a victim.
# theirs: the fill renamed away, a file of the attacker's at its name.
# other: the fill renamed away, a root file (another inode) at its name.
# dirlink: the directory renamed away, a link to the victim's at its path.
for how in link theirs other dirlink; do
	crash small || continue
	name=$(fills)
	case $how in
	link) nobody sh -c "mv '$MNT/d/$name' '$MNT/d/$name.moved' && ln -s '$T_TMP/victim/precious' '$MNT/d/$name'" ;;
	theirs) nobody sh -c "mv '$MNT/d/$name' '$MNT/d/$name.moved' && echo mine > '$MNT/d/$name'" ;;
	other) mv "$MNT/d/$name" "$MNT/d/$name.moved" && echo precious > "$MNT/d/$name" ;;
	dirlink)
		echo precious > "$T_TMP/victim/$name"
		mv "$MNT/d" "$MNT/d.real" && ln -s "$T_TMP/victim" "$MNT/d" ;;
	esac
	expect_exit 1 "$how: recover refuses (exit 1)" $S recover
	case $how in
	link) expect_out "$how: and says it left the link" "left $MNT/d/$name: a symbolic link" ;;
	theirs) expect_out "$how: and says it left the attacker's file" "left $MNT/d/$name: owned by uid 65534" ;;
	other) expect_out "$how: and says it left the other file" "left $MNT/d/$name: another file \(inode" ;;
	dirlink) expect_out "$how: and says it left the directory" "left $MNT/d/$name: $MNT/d is a symbolic link" ;;
	esac
	expect_out "$how: keeping the record, and saying where" "record kept: $ST/fills/"
	[ "$(cat "$T_TMP/victim/precious")" = precious ] && pass "$how: the victim is untouched" ||
		fail "$how: the victim was changed"
	case $how in
	link) [ -L "$MNT/d/$name" ] && pass "$how: the link is left" || fail "$how: the link was removed" ;;
	theirs) [ "$(cat "$MNT/d/$name" 2>/dev/null)" = mine ] && pass "$how: the attacker's file is left" ||
		fail "$how: the attacker's file was removed" ;;
	other) [ "$(cat "$MNT/d/$name" 2>/dev/null)" = precious ] && pass "$how: the other file is left" ||
		fail "$how: the other file was removed" ;;
	dirlink) [ "$(cat "$T_TMP/victim/$name" 2>/dev/null)" = precious ] &&
		pass "$how: the file of that name in the victim's directory is left" || fail "$how: sabot unlinked $T_TMP/victim/$name" ;;
	esac
	# The swap undone, recover finishes.
	case $how in
	dirlink) rm "$MNT/d" && mv "$MNT/d.real" "$MNT/d" && rm -f "$T_TMP/victim/$name" ;;
	*) rm -f "$MNT/d/$name" && mv "$MNT/d/$name.moved" "$MNT/d/$name" ;;
	esac
	expect_exit 0 "$how: once the swap is undone, recover exits 0" $S recover
	no_fill && pass "$how: and unlinks the fill" || fail "$how: fill left: $(fills)"
	[ -z "$(records)" ] && pass "$how: and its record" || fail "$how: record left: $(records)"
done

# --- 4. a record naming something that is not a fill is never acted on ---
mkdir -p "$ST/fills"
ino=$(stat -c %i "$T_TMP/victim/precious")
dino=$(stat -c %i "$T_TMP/victim")
printf 'sabot-fill 1 run=forged pid=1 start=1 path=%s dev=0:0 fsid=0 dir_ino=%s name=precious ino=%s uid=0 .\n' \
	"$T_TMP/victim" "$dino" "$ino" > "$ST/fills/forged"
expect_exit 1 "a record naming a file without the fill's prefix: recover refuses" $S recover
expect_out "saying why" "not a sabot fill's name"
[ "$(cat "$T_TMP/victim/precious")" = precious ] && pass "the file it names is untouched" || fail "the victim was changed"
rm -f "$ST/fills/forged"
t_done
