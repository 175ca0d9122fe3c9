#!/bin/bash
# The VM test tier, once per kernel: boot each stock kernel of VM_KERNELS
# under qemu (TCG) with a busybox initramfs holding sabot, its VM tests and
# the kernel's own modules, run the tests there, and end with a table of
# kernel | passed | failed | skipped | seconds. A failure on any kernel, or
# a test skipped on every kernel, fails the tier.
#
# Each name in VM_KERNELS is an apt package that depends on one versioned
# kernel package (linux-image-amd64 -> linux-image-6.1.0-57-amd64), resolved
# at run time; the kernel is downloaded once into a cache outside the clone
# (SABOT_VM_CACHE, /var/cache/sabot-vm), extracted there, never installed,
# and its older versions removed. A guest that hangs is killed by a
# timeout: a failure.
#
# The console: qemu's output goes through a line filter that keeps all of
# it in build/vm/KERNEL/serial.log and shows the user, as it comes, only the
# guest's own lines (from /init's first line on) with every escape sequence
# and control character removed: SeaBIOS's ESC c, ESC[?7l and ESC[2J would
# otherwise reset the user's terminal and turn its line wrap off.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$top/build}
CACHE=${SABOT_VM_CACHE:-/var/cache/sabot-vm}
W=$B/vm
KERNELS=${VM_KERNELS:-linux-image-amd64 linux-image-cloud-amd64 linux-image-6.12-amd64}
TIMEOUT=${VM_TIMEOUT:-900}
MEM=${VM_MEM:-1024}
MODULES="veth sch_netem sch_fq ifb act_mirred cls_bpf cls_matchall cls_u32 sch_ingress brd"
# The kernel's own LSM list and lockdown default, as a host boots it.
# VM_ONLY=PATTERN runs only the guest tests matching it (test_doctor.sh);
# several, comma- or space-separated (test_doctor.sh,test_dns*), run the
# tests matching any. The kernel hands unknown NAME=VALUE parameters to
# /init as environment and splits its command line at spaces: the guest
# gets the patterns joined by commas.
VM_ONLY=$(printf '%s' "${VM_ONLY:-}" | tr -s ' ,' ',' | sed 's/^,//; s/,$//')
APPEND="console=ttyS0 panic=-1 quiet loglevel=4 ${VM_APPEND:-}${VM_ONLY:+ SABOT_VM_ONLY=$VM_ONLY}"
T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "vm: $*" >&2; }
die() { echo "vm: $*" >&2; echo "vm: 0 passed, 1 failed"; exit 1; }

if [ -n "$VM_ONLY" ]; then
	found=
	IFS=, read -ra only <<< "$VM_ONLY"
	for p in "${only[@]}"; do
		# shellcheck disable=SC2086
		for f in "$top"/tests/vm/$p "$top"/tests/vm/$p.c; do [ -e "$f" ] && found=1; done
	done
	[ -n "$found" ] || { say "VM_ONLY=$VM_ONLY names no test of the busybox guests: none booted"; exit 0; }
fi
[ "$(id -u)" = 0 ] || die "the VM tier needs root (apt-get download, /var/cache); CI runs it as root"
for f in "$B/sabot" "$B/asan/sabot"; do [ -x "$f" ] || die "missing $f: run it through 'make check-vm'"; done
[ -n "${KERNELS// /}" ] || die "VM_KERNELS is empty: name at least one kernel package"
mkdir -p "$CACHE" "$W"

# ---- 1. kernels: resolve, fetch once, extract --------------------------------

# META -> the versioned kernel package it depends on today.
resolve_one() {
	apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }' | grep .
}
resolve() {
	resolve_one "$1" && return 0
	# Ubuntu's stock kernel goes by another name.
	[ "$1" = linux-image-amd64 ] && ! apt-cache show linux-image-amd64 >/dev/null 2>&1 &&
		resolve_one linux-image-generic
}
updated=
declare -A PKG
for meta in $KERNELS; do
	if ! PKG[$meta]=$(resolve "$meta"); then
		if [ -z "$updated" ]; then
			say "apt does not know $meta: refreshing the package lists once"
			apt-get -q update >/dev/null || true
			updated=1
		fi
		PKG[$meta]=$(resolve "$meta") || die "apt knows no package $meta depending on a linux-image-VERSION: cannot get that kernel"
	fi
done

# The ELF vmlinux inside a bzImage boots directly (PVH entry), skipping the
# in-guest decompression that is slow under TCG (~3.5 s for xz). Debian
# compresses with xz (6.1), lz4 (cloud) or zstd (6.12).
extract_vmlinux() {
	python3 - "$1" "$2" <<'PY'
import lzma, subprocess, sys
d = open(sys.argv[1], 'rb').read()
for magic, cmd in ((b'\xfd7zXZ\x00', None), (b'\x28\xb5\x2f\xfd', ['zstd', '-dcq']),
                   (b'\x02\x21\x4c\x18', ['lz4', '-dcq']), (b'\x1f\x8b\x08', ['gzip', '-dcq'])):
    off = d.find(magic)
    if off < 0:
        continue
    try:
        if cmd is None:
            out = lzma.LZMADecompressor().decompress(d[off:])
        else:
            # Trailing bytes after the stream make the tools complain; what
            # they wrote before is the whole image.
            out = subprocess.run(cmd, input=d[off:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    except (OSError, lzma.LZMAError):
        continue
    if out[:4] == b'\x7fELF' and len(out) > 1 << 20:
        open(sys.argv[2], 'wb').write(out)
        sys.exit(0)
sys.exit(1)
PY
}

# Fetch and extract KPKG (for META) into $CACHE/kernel-KVER, once; a newer
# version of the same META replaces the older one. Modules stay compressed
# as shipped: only the few the tests load are unpacked, into the initramfs.
fetch_kernel() {
	local meta=$1 kpkg=$2 kver=${2#linux-image-} kdir=$CACHE/kernel-${2#linux-image-} dl d deb
	if [ ! -e "$kdir/.ok" ]; then
		exec 9>"$CACHE/.lock"
		flock 9
		if [ ! -e "$kdir/.ok" ]; then
			say "$meta: downloading $kpkg into $CACHE"
			dl=$(mktemp -d "$CACHE/download.XXXXXX")
			(cd "$dl" && apt-get -q -o APT::Sandbox::User=root download "$kpkg" >/dev/null) ||
				{ rm -rf "$dl"; return 1; }
			# Ubuntu ships modules in separate packages.
			for extra in "linux-modules-$kver" "linux-modules-extra-$kver"; do
				if apt-cache show "$extra" >/dev/null 2>&1; then
					(cd "$dl" && apt-get -q -o APT::Sandbox::User=root download "$extra" >/dev/null) ||
						{ rm -rf "$dl"; return 1; }
				fi
			done
			rm -rf "$kdir.tmp"
			for deb in "$dl"/*.deb; do dpkg -x "$deb" "$kdir.tmp"; done
			rm -rf "$dl"
			# The .deb has no modules.dep (the package's postinst makes it).
			busybox depmod -b "$kdir.tmp" "$kver"
			extract_vmlinux "$kdir.tmp/boot/vmlinuz-$kver" "$kdir.tmp/vmlinux" || rm -f "$kdir.tmp/vmlinux"
			touch "$kdir.tmp/.ok"
			rm -rf "$kdir" && mv "$kdir.tmp" "$kdir"
		fi
		flock -u 9
	fi
	echo "$meta" > "$kdir/.meta"
	# One kernel per META in the cache: today's.
	for d in "$CACHE"/kernel-*/; do
		d=${d%/}
		[ "$d" != "$kdir" ] && [ "$(cat "$d/.meta" 2>/dev/null)" = "$meta" ] && { say "$meta: removing the older $(basename "$d")"; rm -rf "$d"; }
	done
	# Left by earlier versions of this script, which kept the .debs too.
	rm -rf "$CACHE/debs"
	return 0
}

# ---- 2. the initramfs: one archive for all kernels, one per kernel ----------
# The kernel unpacks concatenated cpio archives in order, so the common part
# (busybox, iproute2, sabot, the tests, their libraries) is built once and
# each kernel's modules are appended to it.

R=$W/rootfs
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,var,root,lib/modules}
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
copy_with_libs "$(command -v ip)" "$(command -v tc)" "$(command -v flock)"
# iperf3 for test_net_family.sh's bandwidth figure, where the host has it
# (build-deps.sh --vm); the test measures with its own helper otherwise.
! command -v iperf3 >/dev/null || copy_with_libs "$(command -v iperf3)"
# stress-ng, which the stress kind launches: with it, doctor's stress row
# is about the kernel (cgroup2), not about a package the guest lacks
# (build-deps.sh --vm installs it on the host).
copy_with_libs "$(command -v stress-ng)"
# The dns fault's test (test_dns.sh): a real resolver (dnsmasq), glibc's
# getent as a client, ethtool to turn checksum offload off, where the host
# has them ('make test-deps' installs them; check-vm depends on it). Not
# dig: it takes seconds to start under TCG (tests/helpers/dnsq instead).
for c in dnsmasq getent ethtool; do
	! command -v $c >/dev/null || copy_with_libs "$(command -v $c)"
done
# ip netns exec bind-mounts /etc/netns/NAME/resolv.conf over this one: it
# must exist. Empty: the resolver's defaults, as without it.
: > "$R/etc/resolv.conf"
# libcurl and libsystemd, which sabot loads at run time for its http
# probes and for journald and the system bus.
copy_with_libs "$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')"
copy_with_libs "$(ldconfig -p | awk '$1 == "libsystemd.so.0" { print $NF; exit }')"
# libfaketime, which the clock kind preloads into the targets it launches
# (build-deps.sh's test dependencies install it on the host): with it,
# doctor's clock row is about the guest's kernel, not a package it lacks.
if [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ]; then
	copy_with_libs /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
fi
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
for f in "$B/sabot" "$B/asan/sabot" "$B/libsabot-clock.so" "$B/asan/libsabot-clock.so" "$B/sabot-demo" "$B"/tests/vm/check_* "$B/bench/net_apply" "$B"/tests/helpers/*; do
	[ -x "$f" ] || continue
	rel=${f#"$B"/}
	install -D -m755 "$f" "$S/build/$rel"
	for l in $(ldd "$f" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		[ -e "$R$l" ] || install -D -m755 "$(readlink -f "$l")" "$R$l"
	done
done
install -m755 "$top/tests/vm/init.sh" "$R/init"
(cd "$R" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$W/common.cpio.gz")
say "initramfs $(du -h "$W/common.cpio.gz" | cut -f1) for every kernel, ready after $(since "$T0") s"

# KVER's modules the tests load, with what they depend on, unpacked:
# busybox modprobe loads plain .ko files only. Prints what is built in.
modules_cpio() {
	local kver=$1 moddir=$CACHE/kernel-$1/lib/modules/$1 out=$2 m line p dst
	local mr=$W/$kver/modroot
	rm -rf "$mr"
	mkdir -p "$mr/lib/modules/$kver"
	for m in $MODULES; do
		line=$(awk -F: -v m="/$m.ko" '{ f = $1; sub(/\.(xz|zst|gz)$/, "", f) }
			substr(f, length(f) - length(m) + 1) == m { print; exit }' "$moddir/modules.dep")
		if [ -z "$line" ]; then
			grep -qE "/$m\.ko" "$moddir/modules.builtin" 2>/dev/null && { echo "$m"; continue; }
			say "kernel $kver has no module $m and does not build it in"
			continue
		fi
		for p in ${line%%:*} ${line#*:}; do
			dst=$mr/lib/modules/$kver/$p
			dst=${dst%.xz} dst=${dst%.zst} dst=${dst%.gz}
			[ -e "$dst" ] && continue
			mkdir -p "$(dirname "$dst")"
			case $p in
			*.xz) xz -dc "$moddir/$p" > "$dst" ;;
			*.zst) zstd -dcq "$moddir/$p" > "$dst" ;;
			*.gz) gzip -dc "$moddir/$p" > "$dst" ;;
			*) cp "$moddir/$p" "$dst" ;;
			esac
		done
	done
	cp "$moddir"/modules.builtin* "$mr/lib/modules/$kver/" 2>/dev/null || true
	busybox depmod -b "$mr" "$kver"
	(cd "$mr" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$out")
	rm -rf "$mr"
}

# ---- 3. boot each kernel ------------------------------------------------------

# The console filter: all of qemu's output to LOG, and to the user, line by
# line as it arrives, the guest's lines from the marker on, without escape
# sequences or control characters. Prints the last lines when the guest
# never reached its /init.
console_filter() {
	perl -e '
		$| = 1;
		open(my $log, ">", $ARGV[0]) or die "$ARGV[0]: $!\n";
		$log->autoflush(1);
		my ($on, @tail) = (0);
		while (my $l = <STDIN>) {
			print $log $l;
			$l =~ s/\e\[[0-9;?]*[ -\/]*[@-~]//g;   # CSI: ESC[2J, ESC[?7l, ESC[0m
			$l =~ s/\e[\]P^_][^\a\e]*(\a|\e\\)?//g; # OSC, DCS strings
			$l =~ s/\e[ -\/]*[0-~]?//g;           # the rest: ESC c, ESC(B
			$l =~ s/[\x00-\x08\x0b-\x1f\x7f]//g;    # CR, BEL, backspace
			if (!$on && $l =~ s/^.*?(sabot-vm: )/$1/) { $on = 1; }
			if ($on) { print "  | $l"; } else { push @tail, $l; shift @tail if @tail > 40; }
		}
		print map { "  | $_" } @tail if !$on;
	' "$1"
}

# Per kernel: results in $W/KVER/{result,skips}.
boot_kernel() {
	local meta=$1 kpkg=$2 kver=${2#linux-image-} kd=$W/${2#linux-image-} t0 start kernel qrc status line
	t0=$(date +%s.%N)
	rm -rf "$kd"
	mkdir -p "$kd"
	echo "0 1 0" > "$kd/result"
	: > "$kd/skips"
	fetch_kernel "$meta" "$kpkg" || { say "$meta: cannot download $kpkg"; return 1; }
	local kdir=$CACHE/kernel-$kver
	kernel=$kdir/boot/vmlinuz-$kver
	[ -s "$kdir/vmlinux" ] && kernel=$kdir/vmlinux
	local builtin
	builtin=$(modules_cpio "$kver" "$kd/modules.cpio.gz")
	cat "$W/common.cpio.gz" "$kd/modules.cpio.gz" > "$kd/initramfs.cpio.gz"
	rm -f "$kd/modules.cpio.gz"
	say "$meta: kernel $kver ($(basename "$kernel"))${builtin:+, built in: $(echo $builtin)}; booting after $(since "$t0") s"
	start=$(date +%s.%N)
	set +e
	timeout --foreground -k 10 "$TIMEOUT" \
		qemu-system-x86_64 $accel -m "$MEM" -smp 2 -nographic -no-reboot -nic none \
		-kernel "$kernel" -initrd "$kd/initramfs.cpio.gz" -append "$APPEND" </dev/null 2>&1 |
		console_filter "$kd/serial.log"
	qrc=${PIPESTATUS[0]}
	set -e
	rm -f "$kd/initramfs.cpio.gz"
	echo "$(since "$t0")" > "$kd/seconds"
	# SKIP lines with the test that printed them.
	tr -d '\r' < "$kd/serial.log" | awk '/^== / { t = $2 } /^SKIP: / { sub(/^SKIP: /, ""); print t ": " $0 }' > "$kd/skips"
	status=$(tr -d '\r' < "$kd/serial.log" | sed -n 's/.*SABOT-VM-EXIT=\([0-9]*\).*/\1/p' | tail -n 1)
	line=$(tr -d '\r' < "$kd/serial.log" | grep -E '^vm: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' | tail -n 1 || true)
	if [ -n "$line" ]; then
		echo "$line" | awk '{ print $2, $4, $6 }' > "$kd/result"
	fi
	if [ -z "$status" ]; then
		if [ "$qrc" = 124 ]; then
			say "$meta: the guest did not finish within ${TIMEOUT}s: killed, counted as a failure"
		elif grep -q 'Kernel panic' "$kd/serial.log"; then
			say "$meta: the guest kernel panicked: $(tr -d '\r' < "$kd/serial.log" | grep -m1 -E 'Oops|BUG|Kernel panic')"
		else
			say "$meta: the guest stopped without a result (qemu exit $qrc)"
		fi
		[ -n "$line" ] && awk '{ print $1, $2 + 1, $3 }' "$kd/result" > "$kd/result.n" && mv "$kd/result.n" "$kd/result"
		return 1
	fi
	say "$meta: ${line#vm: }, $(cat "$kd/seconds") s; console log: $kd/serial.log"
	[ "$status" = 0 ]
}

# KVM only where it can run a stock kernel (not PVM hosts). TCG runs both
# vCPUs on one host thread, in turn: with a thread each (thread=multi) a
# 6.12 guest died of "Oops: int3" in tc_run while a static key there was
# being patched (text_poke_bp) as the demo added a tc filter, 1 run in 3;
# the other vCPU ran the half-patched code. VM_TCG_THREAD=multi restores it.
accel="-accel tcg,thread=${VM_TCG_THREAD:-single} -cpu max"
if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && [ -z "${VM_TCG:-}" ]; then
	accel="-accel kvm -cpu host"
fi
say "kernels: $(for m in $KERNELS; do printf '%s ' "${PKG[$m]#linux-image-}"; done); qemu $accel -m $MEM, timeout ${TIMEOUT}s each"
# One kernel after another: TCG with -smp 2 keeps both of a 2-core
# machine's cores busy, and the tests' timing bounds assume they have them.
failed=0
for meta in $KERNELS; do
	say "=== $meta (${PKG[$meta]})"
	# In a subshell of its own with -e on: a function called as "f || x"
	# would run with -e off and go on past a failed step.
	set +e
	(set -e; boot_kernel "$meta" "${PKG[$meta]}")
	[ $? = 0 ] || failed=1
	set -e
done

# ---- 4. the table -------------------------------------------------------------
n=0
echo
echo "| kernel | passed | failed | skipped | seconds |"
echo "|---|---:|---:|---:|---:|"
for meta in $KERNELS; do
	kver=${PKG[$meta]#linux-image-}
	read -r p f s < "$W/$kver/result"
	echo "| $kver ($meta) | $p | $f | $s | $(cat "$W/$kver/seconds" 2>/dev/null || echo -) |"
	n=$((n + 1))
done
echo
for meta in $KERNELS; do
	kver=${PKG[$meta]#linux-image-}
	sed "s/^/skipped on $kver: /" "$W/$kver/skips"
done
# A test that skips everywhere tests nothing.
if [ "$n" -gt 1 ]; then
	everywhere=$(for meta in $KERNELS; do sort -u "$W/${PKG[$meta]#linux-image-}/skips"; done | sort | uniq -c |
		awk -v n="$n" '$1 == n { $1 = ""; print substr($0, 2) }')
	if [ -n "$everywhere" ]; then
		echo "$everywhere" | sed 's/^/FAIL: skipped on every kernel: /'
		failed=1
	fi
fi
total=0
for meta in $KERNELS; do read -r p f s < "$W/${PKG[$meta]#linux-image-}/result"; total=$((total + f)); done
[ -n "${everywhere:-}" ] && total=$((total + $(echo "$everywhere" | wc -l)))
echo "vm: $n kernel$([ "$n" = 1 ] || echo s), $total failed, $(since "$T0") s in all"
exit "$failed"
