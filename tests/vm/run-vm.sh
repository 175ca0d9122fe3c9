#!/bin/bash
# The VM test tier: boot the distribution's stock kernel under qemu (TCG)
# with a busybox initramfs holding sabot and its VM tests, run them there,
# and exit with their status. The kernel package is resolved at run time,
# downloaded with apt into a cache outside the clone, and only extracted,
# never installed. A guest that hangs is killed by a timeout: a failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$top/build}
CACHE=${SABOT_VM_CACHE:-/var/cache/sabot-vm}
W=$B/vm
TIMEOUT=${VM_TIMEOUT:-900}
MEM=${VM_MEM:-1024}
MODULES="veth sch_netem sch_fq ifb act_mirred cls_bpf cls_matchall sch_ingress"
APPEND="console=ttyS0 panic=-1 quiet loglevel=4 lsm=lockdown,capability,landlock,yama,apparmor,bpf"
T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "vm: $*" >&2; }
die() { echo "vm: $*" >&2; echo "vm: 0 passed, 1 failed"; exit 1; }

[ "$(id -u)" = 0 ] || die "the VM tier needs root (apt-get download, /var/cache); CI runs it as root"
for f in "$B/sabot" "$B/asan/sabot"; do [ -x "$f" ] || die "missing $f: run it through 'make check-vm'"; done
mkdir -p "$CACHE/debs" "$W"

# 1. The stock kernel: Debian's linux-image-amd64, or Ubuntu's
#    linux-image-generic, resolved to today's versioned package.
resolve() {
	local meta
	for meta in linux-image-amd64 linux-image-generic; do
		apt-cache depends "$meta" 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }' | grep . && return 0
	done
	return 1
}
KPKG=$(resolve) || { apt-get -q update >/dev/null; KPKG=$(resolve); } ||
	die "apt knows no linux-image-amd64 or linux-image-generic: cannot get a stock kernel"
KVER=${KPKG#linux-image-}
KDIR=$CACHE/kernel-$KVER
if [ ! -e "$KDIR/.ok" ]; then
	say "fetching $KPKG into $CACHE"
	(cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$KPKG" >/dev/null)
	# Ubuntu ships modules in separate packages.
	for extra in "linux-modules-$KVER" "linux-modules-extra-$KVER"; do
		if apt-cache show "$extra" >/dev/null 2>&1; then
			(cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$extra" >/dev/null)
		fi
	done
	rm -rf "$KDIR.tmp"
	for deb in "$CACHE"/debs/linux-*"$KVER"_*.deb; do dpkg -x "$deb" "$KDIR.tmp"; done
	# busybox modprobe wants plain .ko files and a modules.dep.
	find "$KDIR.tmp/lib/modules/$KVER" -name '*.ko.xz' -exec xz -d {} +
	find "$KDIR.tmp/lib/modules/$KVER" -name '*.ko.zst' -exec zstd -q -d --rm {} +
	find "$KDIR.tmp/lib/modules/$KVER" -name '*.ko.gz' -exec gzip -d {} +
	busybox depmod -b "$KDIR.tmp" "$KVER"
	touch "$KDIR.tmp/.ok"
	rm -rf "$KDIR" && mv "$KDIR.tmp" "$KDIR"
fi
KERNEL=$KDIR/boot/vmlinuz-$KVER
MODDIR=$KDIR/lib/modules/$KVER
# The ELF vmlinux inside an xz bzImage boots directly (PVH entry), skipping
# the in-guest decompression that is slow under TCG (~3.5 s).
if [ ! -e "$KDIR/vmlinux" ] && command -v python3 >/dev/null; then
	python3 - "$KERNEL" "$KDIR/vmlinux" <<'PY' || rm -f "$KDIR/vmlinux"
import lzma, sys
d = open(sys.argv[1], 'rb').read()
off = d.find(b'\xfd7zXZ\x00')
if off < 0:
    sys.exit(1)
out = lzma.LZMADecompressor().decompress(d[off:])
if out[:4] != b'\x7fELF':
    sys.exit(1)
open(sys.argv[2], 'wb').write(out)
PY
fi
[ -s "$KDIR/vmlinux" ] && KERNEL=$KDIR/vmlinux
say "kernel $KVER ($(basename "$KERNEL")), ready after $(since "$T0") s"

# 2. The initramfs: busybox, iproute2, the modules, sabot and its VM tests,
#    each binary with its shared libraries at the same paths.
R=$W/rootfs
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,var,root,lib/modules/$KVER}
ln -s ../run "$R/var/run"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
rm -f "$R/bin/ip" "$R/bin/tc"
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
echo "root:x:0:" > "$R/etc/group"
copy_with_libs() {
	local f l
	for f in "$@"; do
		install -D -m755 "$f" "$R$f"
		for l in $(ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
			[ -e "$R$l" ] || install -D -m755 "$(readlink -f "$l")" "$R$l"
		done
	done
}
add_mod() {
	local line p
	line=$(awk -F: -v m="/$1.ko" 'substr($1, length($1) - length(m) + 1) == m { print; exit }' "$MODDIR/modules.dep")
	if [ -z "$line" ]; then
		grep -qE "/$1\.ko" "$MODDIR/modules.builtin" 2>/dev/null && return 0
		die "module $1 is neither in $MODDIR/modules.dep nor built in"
	fi
	for p in ${line%%:*} ${line#*:}; do install -D -m644 "$MODDIR/$p" "$R/lib/modules/$KVER/$p"; done
}
for m in $MODULES; do add_mod "$m"; done
cp "$MODDIR"/modules.builtin* "$MODDIR"/modules.order "$R/lib/modules/$KVER/" 2>/dev/null || true
copy_with_libs "$(command -v ip)" "$(command -v tc)" "$(command -v flock)"
# libcurl, which sabot loads at run time for its http probes.
copy_with_libs "$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')"
# netem's distribution tables, where iproute2 keeps them.
for d in /usr/lib/x86_64-linux-gnu/tc /usr/lib/tc; do
	[ -d "$d" ] && mkdir -p "$R$d" && cp "$d"/*.dist "$R$d/" 2>/dev/null
done
# iproute2 by the paths the tests call it with.
[ -e "$R/usr/sbin/ip" ] || install -D -m755 "$(command -v ip)" "$R/usr/sbin/ip"
[ -e "$R/usr/sbin/tc" ] || install -D -m755 "$(command -v tc)" "$R/usr/sbin/tc"
S=$R/sabot
mkdir -p "$S/build/asan" "$S/build/tests/vm" "$S/tests"
cp -r "$top/tests/integration" "$top/tests/vm" "$S/tests/"
cp -r "$top/scenarios" "$S/"
install -D -m644 "$B/bpf/net_filter.bpf.o" "$S/build/bpf/net_filter.bpf.o"
# The demo's scenario launches its service through /usr/bin/nsenter.
ln -sf /bin/busybox "$R/usr/bin/nsenter"
for f in "$B/sabot" "$B/asan/sabot" "$B/sabot-demo" "$B"/tests/vm/check_* "$B/bench/net_apply" "$B"/tests/helpers/*; do
	[ -x "$f" ] || continue
	rel=${f#"$B"/}
	install -D -m755 "$f" "$S/build/$rel"
	for l in $(ldd "$f" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		[ -e "$R$l" ] || install -D -m755 "$(readlink -f "$l")" "$R$l"
	done
done
install -m755 "$top/tests/vm/init.sh" "$R/init"
(cd "$R" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$W/initramfs.cpio.gz")
say "initramfs $(du -h "$W/initramfs.cpio.gz" | cut -f1), ready after $(since "$T0") s"

# 3. Boot. KVM only where it can run a stock kernel (not PVM hosts).
accel="-accel tcg,thread=multi -cpu max"
if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && [ -z "${VM_TCG:-}" ]; then
	accel="-accel kvm -cpu host"
fi
say "booting: qemu $accel -m $MEM, timeout ${TIMEOUT}s"
start=$(date +%s.%N)
set +e
timeout --foreground -k 10 "$TIMEOUT" \
	qemu-system-x86_64 $accel -m "$MEM" -smp 2 -nographic -no-reboot -nic none \
	-kernel "$KERNEL" -initrd "$W/initramfs.cpio.gz" -append "$APPEND" </dev/null 2>&1 |
	tr -d '\r' | tee "$W/serial.log"
qrc=${PIPESTATUS[0]}
set -e
say "qemu exited $qrc after $(since "$start") s (whole tier $(since "$T0") s); console log: $W/serial.log"
status=$(sed -n 's/.*SABOT-VM-EXIT=\([0-9]*\).*/\1/p' "$W/serial.log" | tail -n 1)
if [ -z "$status" ]; then
	[ "$qrc" = 124 ] && die "the guest did not finish within ${TIMEOUT}s: killed, counted as a failure"
	die "the guest stopped without a result (qemu exit $qrc)"
fi
# The guest runner's closing line, repeated as the host's own.
grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$W/serial.log" | tail -n 1
exit "$status"
