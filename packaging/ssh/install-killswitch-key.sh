#!/bin/sh
# Install a public key that can only throw sabot's kill switch:
#   install-killswitch-key.sh PUBKEY_FILE [AUTHORIZED_KEYS] [SABOT_COMMAND]
# AUTHORIZED_KEYS defaults to /root/.ssh/authorized_keys; SABOT_COMMAND to
# /usr/sbin/sabot. Idempotent: a key already there is left as it is.
set -eu
pub=${1:?usage: install-killswitch-key.sh PUBKEY_FILE [AUTHORIZED_KEYS] [SABOT_COMMAND]}
keys=${2:-/root/.ssh/authorized_keys}
sabot=${3:-/usr/sbin/sabot}
ssh-keygen -l -f "$pub" >/dev/null || { echo "$pub is not a public key" >&2; exit 2; }
key=$(awk 'NF >= 2 { print $1, $2; exit }' "$pub")
mkdir -p "$(dirname "$keys")"
chmod 700 "$(dirname "$keys")"
touch "$keys"
chmod 600 "$keys"
if grep -qF "$key" "$keys"; then
	echo "the key is already in $keys; left as it is"
	exit 0
fi
# restrict: no forwarding, no pty, no agent, no X11, no ~/.ssh/rc. command:
# whatever the client asks for, this runs instead.
printf 'restrict,command="%s abort --reason ssh-killswitch" %s sabot-killswitch\n' "$sabot" "$key" >> "$keys"
echo "installed the kill-switch key in $keys"
