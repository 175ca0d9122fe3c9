#!/bin/sh
# Install a public key that can only throw sabot's kill switch:
#   install-killswitch-key.sh [--replace] PUBKEY_FILE [AUTHORIZED_KEYS] [SABOT_COMMAND]
# AUTHORIZED_KEYS defaults to /root/.ssh/authorized_keys; SABOT_COMMAND to
# /usr/sbin/sabot. Idempotent: exits 0 only when the key stands on exactly
# one line of AUTHORIZED_KEYS and that line is the restricted one.
#
# sshd uses the first line that holds a key, whatever comes after: a line
# for the same key with more rights (no options, other options, another
# command) would leave a root shell behind the kill switch. Such lines are
# refused (exit 1, the file untouched) unless --replace is given, which
# removes them (other keys' lines are kept as they are) and puts the
# restricted line in their place.
set -eu
replace=no
if [ "${1:-}" = --replace ]; then
	replace=yes
	shift
fi
usage="usage: install-killswitch-key.sh [--replace] PUBKEY_FILE [AUTHORIZED_KEYS] [SABOT_COMMAND]"
pub=${1:?$usage}
keys=${2:-/root/.ssh/authorized_keys}
sabot=${3:-/usr/sbin/sabot}
ssh-keygen -l -f "$pub" >/dev/null || { echo "$pub is not a public key" >&2; exit 2; }
type=$(awk 'NF >= 2 && $1 !~ /^#/ { print $1; exit }' "$pub")
blob=$(awk 'NF >= 2 && $1 !~ /^#/ { print $2; exit }' "$pub")
case $type in
ssh-* | ecdsa-* | sk-*) ;;
*)
	echo "$pub: expected 'TYPE KEY [COMMENT]' (a .pub file), found '$type ...'; options do not belong in it" >&2
	exit 2
	;;
esac
case $sabot in
*'"'* | *'\'*)
	echo "SABOT_COMMAND must not contain quotes or backslashes: $sabot" >&2
	exit 2
	;;
esac
# restrict: no forwarding, no pty, no agent, no X11, no ~/.ssh/rc. command:
# whatever the client asks for, this runs instead.
line="restrict,command=\"$sabot abort --reason ssh-killswitch\" $type $blob sabot-killswitch"

mkdir -p "$(dirname "$keys")"
chmod 700 "$(dirname "$keys")"
if [ -L "$keys" ]; then
	echo "$keys is a symbolic link; refusing to write through it" >&2
	exit 1
fi
touch "$keys"
chmod 600 "$keys"

# Lines that hold this key (as a whole field), and whether each is exactly
# the restricted line.
holds() { awk -v b="$blob" '!/^[[:space:]]*#/ { for (i = 1; i <= NF; i++) if ($i == b) { print; next } }' "$1"; }
total=$(holds "$keys" | wc -l)
ours=$(holds "$keys" | grep -cxF "$line" || true)
others=$((total - ours))

if [ $ours = 1 ] && [ $others = 0 ]; then
	echo "the kill-switch key is already installed in $keys (restricted); nothing to do"
	exit 0
fi
if [ $others -gt 0 ] && [ $replace = no ]; then
	{
		echo "REFUSED: this key already stands in $keys on $others line(s) that do not restrict it to the kill switch:"
		holds "$keys" | grep -vxF "$line" | cut -c1-120 | sed "s/^/  /"
		echo "sshd would honour the first line: the key could still open a root shell."
		echo "Remove that line (or use a different key for the kill switch), or run again with --replace"
		echo "to replace every line of this key with the restricted one. $keys was not changed."
	} >&2
	exit 1
fi

# Rewrite atomically: every other line as it was, this key's lines out, the
# restricted line at the end.
tmp=$(mktemp "$keys.XXXXXX")
trap 'rm -f "$tmp"' EXIT
awk -v b="$blob" '/^[[:space:]]*#/ || NF == 0 { print; next } { for (i = 1; i <= NF; i++) if ($i == b) next; print }' \
	"$keys" > "$tmp"
printf '%s\n' "$line" >> "$tmp"
chmod 600 "$tmp"
mv -f "$tmp" "$keys"
trap - EXIT

# Check what sshd will read.
n=$(holds "$keys" | wc -l)
if [ "$n" != 1 ] || [ "$(holds "$keys")" != "$line" ]; then
	echo "FAILED: $keys does not hold exactly the restricted line for this key; fix it by hand" >&2
	exit 1
fi
if [ $others -gt 0 ]; then
	echo "replaced $others unrestricted line(s) of this key in $keys: it can now only throw the kill switch"
else
	echo "installed the kill-switch key in $keys"
fi
