#!/bin/bash
# The VM tier's systemd guest: Debian 12 with systemd as PID 1, booted
# under qemu on Debian's stock kernel, for what needs a real service
# manager (a unit's cgroup over sd-bus, sabot under its own units). The
# root file system is built from Debian's packages with debootstrap, once,
# into the VM cache (SABOT_VM_CACHE, /var/cache/sabot-vm/systemd-root-*),
# and booted from an initramfs (no disk, no kernel modules needed): the
# cached root as one cpio archive, this build's sabot and tests as a second
# one appended to it. systemd starts sabot-vmtest.service, which runs
# tests/vm/systemd/test_*.sh and powers the guest off; the host reads the
# PASS/FAIL lines from the console and ends with the same one-line summary
# as the busybox guests ("vm-systemd: N passed, N failed, N skipped").
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$top/build}
CACHE=${SABOT_VM_CACHE:-/var/cache/sabot-vm}
W=$B/vm/systemd
TIMEOUT=${VM_TIMEOUT:-900}
# The guest's release is the host's: sabot and the libraries copied in
# were built against it.
. /etc/os-release
SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
case ${ID:-} in
ubuntu) MIRROR=${SABOT_GUEST_MIRROR:-http://archive.ubuntu.com/ubuntu} ;;
*) MIRROR=${SABOT_GUEST_MIRROR:-http://deb.debian.org/debian} ;;
esac
# What the guest needs beyond debootstrap's minbase: the service manager
# and the bus, and what the tests use (stress-ng: test_child_rtprio checks
# its worker's limits).
PKGS="systemd,systemd-sysv,dbus,iproute2,procps,util-linux,stress-ng"
say() { echo "vm-systemd: $*" >&2; }
die() { echo "vm-systemd: $*" >&2; echo "vm-systemd: 0 passed, 1 failed, 0 skipped"; exit 1; }
T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# VM_ONLY: one pattern or several, comma- or space-separated (as in
# run-vm.sh); the kernel's command line carries them joined by commas.
VM_ONLY=$(printf '%s' "${VM_ONLY:-}" | tr -s ' ,' ',' | sed 's/^,//; s/,$//')
if [ -n "$VM_ONLY" ]; then
	found=
	IFS=, read -ra only <<< "$VM_ONLY"
	for p in "${only[@]}"; do
		# shellcheck disable=SC2086
		for f in "$top"/tests/vm/systemd/$p; do [ -e "$f" ] && found=1; done
	done
	[ -n "$found" ] || { say "VM_ONLY=$VM_ONLY names no test of the systemd guest: not booted"; exit 0; }
fi
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, the VM cache)"
command -v debootstrap >/dev/null || die "debootstrap is missing: packaging/build-deps.sh --vm installs it"
mkdir -p "$CACHE" "$W"

# ---- 1. the kernel: the one the busybox tier fetched for linux-image-amd64 ----
kdir=$(grep -lx linux-image-amd64 "$CACHE"/kernel-*/.meta 2>/dev/null | head -n 1 || true)
[ -n "$kdir" ] || die "no linux-image-amd64 kernel in $CACHE: tests/vm/run-vm.sh fetches it first"
kdir=$(dirname "$kdir")
kver=${kdir##*/kernel-}
kernel=$kdir/boot/vmlinuz-$kver
[ -s "$kdir/vmlinux" ] && kernel=$kdir/vmlinux

# ---- 2. the root file system, once per package list ---------------------------
key=$(echo "$SUITE $PKGS" | sha256sum | cut -c1-12)
root=$CACHE/systemd-root-$key
if [ ! -e "$root/.ok" ]; then
	exec 9>"$CACHE/.lock"
	flock 9
	if [ ! -e "$root/.ok" ]; then
		say "building the guest's root with debootstrap ($SUITE, minbase + $PKGS), once"
		rm -rf "$root.tmp"
		debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$root.tmp" "$MIRROR" > "$W/debootstrap.log" 2>&1 ||
			{ tail -n 5 "$W/debootstrap.log" >&2; rm -rf "$root.tmp"; die "debootstrap failed (log: $W/debootstrap.log)"; }
		# Smaller and quicker to unpack: no package caches, docs or locales.
		rm -rf "$root.tmp"/var/cache/apt/archives/*.deb "$root.tmp"/var/lib/apt/lists/* \
			"$root.tmp"/usr/share/doc/* "$root.tmp"/usr/share/man/* "$root.tmp"/usr/share/locale/*
		touch "$root.tmp/.ok"
		rm -rf "$root" && mv "$root.tmp" "$root"
	fi
	# Older package lists' roots.
	for d in "$CACHE"/systemd-root-*; do
		[ "$d" = "$root" ] || { [ -d "$d" ] && say "removing the older $(basename "$d")" && rm -rf "$d"; }
	done
	flock -u 9
fi
base=$CACHE/systemd-root-$key.cpio.gz
if [ ! -s "$base" ]; then
	(cd "$root" && find . -path ./.ok -prune -o -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$base.tmp")
	mv "$base.tmp" "$base"
fi

# ---- 3. this build on top: sabot, its libraries, the tests, the test unit ----
O=$W/overlay
rm -rf "$O"
mkdir -p "$O/sabot/build/asan" "$O/etc/systemd/system/multi-user.target.wants" "$O/usr/lib/x86_64-linux-gnu"
cp "$B/sabot" "$O/sabot/build/sabot"
cp "$B/asan/sabot" "$O/sabot/build/asan/sabot"
cp "$B/libsabot-clock.so" "$O/sabot/build/libsabot-clock.so"
cp "$B/libsabot-clock.so" "$O/sabot/build/asan/libsabot-clock.so"
cp -r "$top/tests" "$O/sabot/tests"
cp -r "$top/packaging" "$O/sabot/packaging"
# Libraries the guest's packages do not bring (the root has the same
# Debian release, so the host's copies fit), into the loader's default
# directory (no ld.so.cache entry needed).
for f in "$B/sabot" "$B/asan/sabot"; do
	for l in $(ldd "$f" | awk '/=> \// { print $3 }'); do
		n=$(basename "$l")
		[ -e "$root/usr/lib/x86_64-linux-gnu/$n" ] || [ -e "$root/lib/x86_64-linux-gnu/$n" ] ||
			[ -e "$O/usr/lib/x86_64-linux-gnu/$n" ] || cp -L "$l" "$O/usr/lib/x86_64-linux-gnu/$n"
	done
done
cat > "$O/etc/systemd/system/sabot-vmtest.service" <<'UNIT'
[Unit]
Description=sabot's systemd-guest tests
After=dbus.service
Wants=dbus.service

[Service]
Type=oneshot
ExecStart=/bin/sh /sabot/tests/vm/systemd/guest.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT
ln -s ../sabot-vmtest.service "$O/etc/systemd/system/multi-user.target.wants/sabot-vmtest.service"
# No login prompt on the console the tests write to.
ln -s /dev/null "$O/etc/systemd/system/serial-getty@ttyS0.service"
ln -s /lib/systemd/systemd "$O/init"
echo sabot-vm > "$O/etc/hostname"
(cd "$O" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$W/overlay.cpio.gz")
cat "$base" "$W/overlay.cpio.gz" > "$W/initramfs.cpio.gz"
rm -f "$W/overlay.cpio.gz"
say "kernel $kver, root $(du -h "$base" | cut -f1) + this build; booting after $(since "$T0") s"

# ---- 4. boot ------------------------------------------------------------------
accel="-accel tcg,thread=single -cpu max"
if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && [ -z "${VM_TCG:-}" ]; then
	accel="-accel kvm -cpu host"
fi
APPEND="console=ttyS0 panic=-1 quiet loglevel=4 systemd.show_status=0 ${VM_APPEND:-}${VM_ONLY:+ SABOT_VM_ONLY=$VM_ONLY}"
set +e
timeout --foreground -k 10 "$TIMEOUT" \
	qemu-system-x86_64 $accel -m "${VM_MEM_SYSTEMD:-2048}" -smp 2 -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$W/initramfs.cpio.gz" -append "$APPEND" </dev/null > "$W/serial.log" 2>&1
qrc=$?
set -e
rm -f "$W/initramfs.cpio.gz"
tr -d '\r' < "$W/serial.log" | sed -n '/^sabot-vm-systemd:/,$p' | grep -E '^(sabot-vm|== |-- |PASS|FAIL|SKIP|vm:)' >&2 || true
status=$(tr -d '\r' < "$W/serial.log" | sed -n 's/.*SABOT-VM-EXIT=\([0-9]*\).*/\1/p' | tail -n 1)
line=$(tr -d '\r' < "$W/serial.log" | grep -E '^vm: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' | tail -n 1 | sed 's/^vm:/vm-systemd:/' || true)
if [ -z "$status" ] || [ -z "$line" ]; then
	[ "$qrc" = 124 ] && say "the guest did not finish within ${TIMEOUT}s: killed"
	die "the guest stopped without a result (qemu exit $qrc; console log: $W/serial.log)"
fi
say "kernel $kver with systemd as PID 1: ${line#vm-systemd: }, $(since "$T0") s; console log: $W/serial.log"
echo "$line"
[ "$status" = 0 ]
