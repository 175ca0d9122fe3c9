#!/bin/sh
# Promise: only sabot's own runs are out of reach. A local user's program
# called sabot (its comm and its file's name both say so) is not a sabot
# run, and neither is the real binary started by a user: what they fork
# stays a target like anything else. Otherwise anyone could start chaos-
# proof processes by naming a program sabot.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
kids=""
cleanup() {
	for p in $kids; do kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	rm -rf "$U" "$R"
	t_cleanup_tmp
}
trap cleanup EXIT
user=nobody
id -u "$user" >/dev/null 2>&1 || { skip "no user $user on this host"; t_done; }
# A directory the user owns, on a path the user can walk.
U=$(mktemp -d /tmp/sabot-look.XXXXXX)
R=$(mktemp -d /tmp/sabot-lookr.XXXXXX)
chmod 755 "$U"
chown "$user" "$U"
as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- "$@"; }
# The user's own copy of a shell, called sabot, forks a child whose comm
# is the test's own name; it is its process group's leader (setsid).
cp "$(command -v dash || command -v sh)" "$U/sabot"
chown "$user" "$U/sabot"
cp "$(command -v sleep)" "$U/sabot-lk$id"
chmod 755 "$U/sabot-lk$id"
as_user setsid "$U/sabot" -c "exec 3>&-; $U/sabot-lk$id 300 & wait" </dev/null >/dev/null 2>&1 &
kids="$kids $!"
# A copy called sabot that root put there (root's file, not writable by
# others), run by the user: the user's euid, not root's.
chmod 755 "$R"
cp "$(command -v dash || command -v sh)" "$R/sabot"
chmod 755 "$R/sabot"
cp "$(command -v sleep)" "$R/sabot-lr$id"
chmod 755 "$R/sabot-lr$id"
as_user setsid "$R/sabot" -c "$R/sabot-lr$id 300 & wait" </dev/null >/dev/null 2>&1 &
kids="$kids $!"
has_kids() { pgrep -x "sabot-lk$id" >/dev/null && pgrep -x "sabot-lr$id" >/dev/null; }
wait_for 5000 has_kids || { fail "the user's processes did not start"; t_done; }
for n in lk lr; do
	cat > "$T_TMP/$n.ini" <<INI
[scenario]
name = look-$n
duration = 2s
[target t]
comm = sabot-$n$id
[fault k]
type = pause
target = t
INI
	"$SABOT" --state-dir "$T_TMP/state" --run-dir "$T_TMP/run" plan --json "$T_TMP/$n.ini" > "$T_TMP/$n.json" 2>&1
	if grep -q 'a sabot process' "$T_TMP/$n.json"; then
		fail "the child of a user's sabot ($n) is protected as a sabot process: $(tr -d '\n' < "$T_TMP/$n.json" | cut -c1-300)"
	elif grep -q "\"pid\": *$(pgrep -x "sabot-$n$id")" "$T_TMP/$n.json" || grep -q "$(pgrep -x "sabot-$n$id")" "$T_TMP/$n.json"; then
		pass "the child of a user's sabot ($n) is a target like any other"
	else
		fail "the child of a user's sabot ($n) is not in the plan: $(tr -d '\n' < "$T_TMP/$n.json" | cut -c1-300)"
	fi
done
t_done
