#!/bin/sh
# Install what sabot needs to build and test, with apt-get, on Debian 12 or
# Ubuntu 24.04. Idempotent and quick when everything is there.
#   build-deps.sh             build dependencies
#   build-deps.sh --test      build + test dependencies
#   build-deps.sh --deb       build + what make deb needs
#   build-deps.sh --vm        what the VM test tier needs on the host
#   build-deps.sh --bench     what the benchmarks need
#   build-deps.sh --demo      what make demo needs to build its sandbox
#   build-deps.sh --bpftool   print the path of a working bpftool
set -eu

find_bpftool() {
	if command -v bpftool >/dev/null 2>&1 && bpftool version >/dev/null 2>&1; then
		command -v bpftool
		return 0
	fi
	# Ubuntu before the stand-alone bpftool package: linux-tools-common's
	# /usr/sbin/bpftool is a wrapper wanting linux-tools-$(uname -r); any
	# kernel's copy works for compiling and skeletons.
	for b in /usr/lib/linux-tools/*/bpftool /usr/lib/linux-tools-*/bpftool; do
		if [ -x "$b" ] && "$b" version >/dev/null 2>&1; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

if [ "${1:-}" = "--bpftool" ]; then
	find_bpftool || { echo "bpftool-not-found"; exit 0; }
	exit 0
fi

pkgs="make gcc clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev libnl-3-dev libnl-route-3-dev libseccomp-dev libinih-dev libcurl4-openssl-dev libjson-c-dev libsystemd-dev"
if [ "${1:-}" = "--test" ]; then
	# check: unit tests; iproute2/iputils-ping/procps: integration tests;
	# libclang-rt-dev: sanitizer and libFuzzer runtimes; python3-jsonschema:
	# the JSON outputs checked against agent/schema/; debootstrap: the
	# throwaway root the package and Ansible tests install into (Ansible
	# itself runs there: tests/integration/lib.sh troot_pkgs); systemd:
	# journald and journalctl, which test_journald.sh runs in a namespace
	# of its own; prometheus: promtool checks the metrics files; dpkg-dev,
	# debhelper, lintian: make deb and its check; ansible-lint: the
	# playbooks' check; strace: the units' syscall filter against what
	# sabot calls (test_units.sh); dnsmasq-base, bind9-dnsutils (dig) and
	# ethtool: the dns fault's resolver, client and checksum offload
	# switch (test_dns_fault.sh); stress-ng: what type = stress launches
	# (test_stress.sh); mandoc: the man pages' lint (test_man.sh);
	# libfaketime: what type = clock preloads (test_clock_fault.sh).
	pkgs="$pkgs check systemd iproute2 iputils-ping procps netcat-openbsd python3 python3-jsonschema prometheus openssh-server openssh-client libclang-rt-14-dev debootstrap dpkg-dev debhelper lintian ansible-lint strace dnsmasq-base bind9-dnsutils ethtool stress-ng mandoc libfaketime"
fi

if [ "${1:-}" = "--deb" ]; then
	# make deb: dpkg-buildpackage and debhelper; lintian to check the result.
	pkgs="$pkgs dpkg-dev debhelper lintian"
fi
if [ "${1:-}" = "--bench" ]; then
	pkgs="iperf3 iproute2 util-linux strace"
fi
if [ "${1:-}" = "--demo" ]; then
	# ip for the sandbox's namespaces; nsenter and pgrep.
	pkgs="iproute2 util-linux procps"
fi
if [ "${1:-}" = "--vm" ]; then
	# qemu (TCG), busybox for the initramfs, cpio to pack it, the
	# decompressors for kernel modules and images (xz, zstd, lz4), python3
	# to find the ELF vmlinux in a bzImage, perl for the console filter,
	# iperf3 copied into the guest for the bandwidth fault's figure.
	# debootstrap: the systemd guest's root (tests/vm/run-systemd.sh);
	# stress-ng: copied into the guests for the stress kind.
	pkgs="qemu-system-x86 busybox-static cpio xz-utils zstd lz4 python3 perl-base iproute2 iputils-ping iperf3 debootstrap stress-ng"
fi

missing=""
for p in $pkgs; do
	# libclang-rt-14-dev exists on Debian 12; Ubuntu 24.04 ships newer clang
	# whose runtime comes with the clang package itself.
	if [ "$p" = libclang-rt-14-dev ] && ! apt-cache show "$p" >/dev/null 2>&1; then
		continue
	fi
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
need_bpftool=0
find_bpftool >/dev/null || need_bpftool=1

if [ -z "$missing" ] && [ $need_bpftool = 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "sabot: missing build dependencies:$missing$( [ $need_bpftool = 1 ] && echo ' bpftool')" >&2
	echo "sabot: run 'sudo make deps' (or install them with apt-get) and try again" >&2
	exit 1
fi
echo "sabot: installing build dependencies:$missing$( [ $need_bpftool = 1 ] && echo ' bpftool')" >&2
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@"; }
# Packages with services (openssh-server, prometheus) must not start them
# on the build machine: tests start their own, on loopback.
held=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	held=1
fi
# An old package list may lack packages: refresh once, then retry.
if ! apt_get install $missing >/dev/null 2>&1; then
	apt-get -q update >/dev/null
	apt_get install $missing >/dev/null || { [ -n "$held" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
fi
[ -n "$held" ] && rm -f /usr/sbin/policy-rc.d
if ! find_bpftool >/dev/null; then
	apt_get install bpftool >/dev/null 2>&1 ||
		apt_get install linux-tools-common linux-tools-generic >/dev/null
	find_bpftool >/dev/null || { echo "sabot: no working bpftool after installing it" >&2; exit 1; }
fi
