#!/bin/sh
# Promise: a disk-fill gives its space back whatever a local user does to
# its name. An unprivileged user (uid 65534) who is let write the fill's
# directory, or the one above it, once the run has made the fill, renames
# the fill away, hard-links it elsewhere, or swaps the directory for one of
# their own; then the run ends by itself, by `sabot abort` from another
# process (runner and guardian stopped: only the abort may free it), with
# its runner SIGKILLed (its guardian reverts), or with runner and guardian
# SIGKILLed and `sabot recover`. In the first three, the filesystem's free
# space (statfs) must come back (within 1 MiB): the revert truncates the
# file through the fd the run holds (the runner's, the guardian's, or one
# abort takes from them), whatever its name. In the last nobody holds it:
# recover
# must fail and say what it could not free (the file moved away, its
# inode). And validate refuses a directory that others may write (or one
# above it), unless sticky: exit 2, file:line.
# On a 64 MB loop-mounted ext4 made here, in a mount namespace of its own.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
MNT=$T_TMP/mnt
P=$MNT/p
D=$P/d
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run --policy $T_TMP/policy.ini"
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
mount -t tmpfs "sabot-hfw$id" /run/netns 2>/dev/null || true
loop_ext4 sabot-hfw$id 64 || { skip "$T_WHY"; exit 0; }
chmod 0755 "$MNT"
printf '[limits]\nmin_free_disk = 0\n' > policy.ini
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
SIZE=$((24 << 20))

avail() { stat -f -c '%a %S' "$MNT" | awk '{ printf "%d", $1 * $2 }'; }
fills() { ls -A "$D" 2>/dev/null | grep '^\.sabot-fill-'; }
# The fill named and grown to its size.
filled() {
	f=$(fills)
	[ -n "$f" ] && [ "$(stat -c %b "$D/$f" 2>/dev/null || echo 0)" -ge $((SIZE / 512)) ]
}
guardian_of_run() { sed -n 's/^guardian pid=\([0-9]*\) .*/\1/p' run/runs/*.journal 2>/dev/null | head -n 1; }
has_guardian() { [ -n "$(guardian_of_run)" ]; }
scenario() { # NAME DURATION
	printf '[scenario]\nname = %s\nduration = %s\n[fault f]\ntype = disk-fill\npath = %s\nsize = %sM\n' \
		"$1" "$2" "$D" "$((SIZE >> 20))" > "$1.ini"
}
fresh() { # a clean directory, root's and not open to others
	rm -rf "$P" "$MNT/away" "$T_TMP/run" "$T_TMP/state/fills"
	mkdir -p "$D" "$MNT/away"
	chmod 0755 "$P" "$D"
	chown 65534 "$MNT/away"
	sync
}

# --- 1. validate refuses what others may write; sticky is fine ---
fresh
scenario v 2s
line=$(grep -n '^path' v.ini | cut -d: -f1)
chmod 0777 "$D"
expect_exit 2 "validate refuses a fill directory anyone may write (0777)" $S validate v.ini
expect_out "at the path's line, saying why" "v.ini:$line: .*$D \(mode 0777, owner uid 0\) may be written by users other than root"
chmod 1777 "$D"
expect_exit 0 "a sticky one (1777, as /var/tmp) validates" $S validate v.ini
chmod 0755 "$D" && chmod 0777 "$P"
expect_exit 2 "validate refuses a directory above it that anyone may write" $S validate v.ini
expect_out "naming it" "$P \(mode 0777, owner uid 0\)"
chmod 0755 "$P" && chown 65534 "$D"
expect_exit 2 "validate refuses a fill directory a user owns" $S validate v.ini
expect_out "naming its owner" "$D \(mode 0755, owner uid 65534\)"
chown 0 "$D" && mv "$D" "$P/real" && ln -s real "$D"
expect_exit 2 "validate refuses a path through a symbolic link" $S validate v.ini
expect_out "saying so" "$D is a symbolic link"
expect_exit 2 "and so does run, applying nothing" $S run v.ini
[ -z "$(ls -A "$P/real")" ] && pass "nothing was made in the directory" || fail "left: $(ls -A "$P/real")"

# --- 2. the attacks, and the three ends ---
# rename: the fill renamed to another name of the same directory.
# link: the fill hard-linked to a directory of the attacker's, its name removed.
# swapdir: the fill's directory renamed away, one of the attacker's at its path.
attack() { # HOW
	name=$(fills)
	case $1 in
	rename) chmod 0777 "$D" && nobody mv "$D/$name" "$D/moved" ;;
	link)
		chmod 0777 "$D"
		# protected_hardlinks: a user may not link root's file; the
		# attack then is root's own mistake, made for them.
		if nobody ln "$D/$name" "$MNT/away/kept" 2>/dev/null; then :; else ln "$D/$name" "$MNT/away/kept"; fi &&
			nobody rm -f "$D/$name" ;;
	swapdir) chmod 0777 "$P" && nobody mv "$D" "$P/gone" && nobody mkdir "$D" ;;
	esac
}
start() { # NAME
	$S run "$1.ini" > "run-$1.out" 2>&1 &
	runner=$!
	wait_for 10000 filled || { fail "$1: no fill of $SIZE bytes seen"; sed 's/^/    | /' "run-$1.out"; return 1; }
	wait_for 5000 has_guardian || { fail "$1: no guardian in the journal"; return 1; }
	guard=$(guardian_of_run)
}
for how in rename link swapdir; do
	for end in normal guardian abort kill; do
		fresh
		a0=$(avail)
		scenario "$how-$end" 5s
		start "$how-$end" || { kill -9 $runner 2>/dev/null; wait $runner 2>/dev/null; runner=""; continue; }
		attack $how || fail "$how-$end: the attack failed"
		[ "$(avail)" -lt $((a0 - SIZE + (1 << 20))) ] ||
			fail "$how-$end: the fill was freed by the attack itself: this case means nothing"
		case $end in
		normal)
			wait $runner
			rc=$?
			# swapdir: the name is in a directory that is not the fill's
			# any more; its revert frees the space and says it left it.
			want=0
			[ $how = swapdir ] && want=1
			[ $rc = $want ] && pass "$how-$end: the run ends by itself (exit $want)" ||
				fail "$how-$end: the run exited $rc, want $want"
			[ $how = swapdir ] && { grep -q "revert failed" "run-$how-$end.out" &&
				pass "$how-$end: and says the revert left something" ||
				{ fail "$how-$end: no word of the name left"; sed 's/^/    | /' "run-$how-$end.out"; }; }
			;;
		guardian) # the runner SIGKILLed: its guardian reverts, with the fd it was handed
			kill -9 "$runner"
			wait $runner 2>/dev/null
			wait_for 10000 sh -c "! kill -0 $guard 2>/dev/null" || fail "$how-$end: the guardian did not finish"
			;;
		abort) # runner and guardian stopped: only the abort can free it (pidfd_getfd)
			kill -STOP "$guard" "$runner"
			OUT=$($SABOT --state-dir "$T_TMP/state" --run-dir "$T_TMP/run" abort 2>&1)
			echo "$OUT" | grep -q '^reverted' && pass "$how-$end: sabot abort says it reverted" ||
				fail "$how-$end: abort: $OUT"
			sync
			a1=$(avail)
			[ "$a1" -ge $((a0 - (1 << 20))) ] &&
				pass "$how-$end: the space is back when abort returns, its runner and guardian stopped ($a1 bytes free, was $a0)" ||
				fail "$how-$end: the space stays taken after abort: $a1 bytes free, was $a0"
			kill -9 "$guard" "$runner" 2>/dev/null
			kill -CONT "$guard" "$runner" 2>/dev/null
			wait $runner 2>/dev/null
			$S arm > /dev/null
			;;
		kill)
			kill -STOP "$guard" "$runner"
			kill -9 "$guard" "$runner"
			wait $runner 2>/dev/null
			# Until the guardian is gone, its fds are there to be taken.
			wait_for 10000 sh -c "! kill -0 $guard 2>/dev/null" || fail "$how-$end: the guardian outlived SIGKILL"
			;;
		esac
		runner="" guard=""
		sync
		a1=$(avail)
		if [ $end = abort ]; then
			:
		elif [ $end != kill ]; then
			[ "$a1" -ge $((a0 - (1 << 20))) ] && pass "$how-$end: the space is back ($a1 bytes free, was $a0)" ||
				fail "$how-$end: the space stays taken: $a1 bytes free, was $a0"
		else
			expect_exit 1 "$how-kill: recover, with nobody holding the fill, exits 1" $S recover
			case $how in
			swapdir) expect_out "$how-kill: and says it left the fill: another directory" \
				"left $D/\.sabot-fill-.*: $D is another directory" ;;
			*) expect_out "$how-kill: and says what it could not free: the file moved away" \
				"its name is gone from $D and no process holds the file \(inode [0-9]+ on device [0-9:]+\) open: someone who may write a directory on its path moved it away" ;;
			esac
			expect_out "$how-kill: keeping the record" "record kept: $T_TMP/state/fills/"
		fi
	done
done
t_done
