#!/bin/sh
# Build build/sabot_VERSION_ARCH.deb from a built tree:
#   build-deb.sh VERSION BUILD_DIR
# Depends come from the libraries build/sabot links against, each with the
# version installed here as the minimum.
set -eu
version=$1
B=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
arch=$(dpkg --print-architecture)
root=$B/deb/root
rm -rf "$B/deb"
make -s -C "$top" install DESTDIR="$root" PREFIX=/usr SBINDIR=/usr/sbin >/dev/null
install -D -m 0644 "$top/packaging/policy.ini" "$root/etc/sabot/policy.ini"
install -d -m 0755 "$root/etc/sabot/scenarios"
doc=$root/usr/share/doc/sabot
install -D -m 0644 "$top/README.md" "$doc/README.md"
install -D -m 0644 "$top/scenarios/README.md" "$doc/scenarios/README.md"
install -d "$root/usr/share/man/man8" "$root/usr/share/man/man5"
for m in "$top"/packaging/man/*; do
	n=$(basename "$m")
	sec=${n##*.}
	sed "s/@VERSION@/$version/; s|@DOCDIR@|/usr/share/doc/sabot|" "$m" | gzip -9n > "$root/usr/share/man/man$sec/$n.gz"
done
install -D -m 0755 "$top/packaging/ssh/install-killswitch-key.sh" "$root/usr/share/sabot/ssh/install-killswitch-key.sh"
install -m 0644 "$top/packaging/ssh/authorized_keys.example" "$root/usr/share/sabot/ssh/"

# The libraries sabot itself names (NEEDED), not theirs: each package
# brings its own dependencies. And the one it loads at run time
# (agent/curl_lib.h: CURL_LIB_SONAME), found through ld.so's cache.
deps=""
add_dep() { # SONAME PATH
	# With merged /usr, dpkg may know the file by either path.
	pkg=""
	if [ -n "$2" ]; then
		for p in "$2" "$(readlink -f "$2")" "$(echo "$2" | sed 's|^/usr||')" "/usr$2"; do
			pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1)
			[ -n "$pkg" ] && break
		done
	fi
	[ -n "$pkg" ] || { echo "no package owns $1 (${2:-not found})" >&2; exit 1; }
	case " $deps " in *" $pkg "*) ;; *) deps="$deps $pkg" ;; esac
}
for soname in $(objdump -p "$B/sabot" | awk '$1 == "NEEDED" { print $2 }'); do
	lib=$(ldd "$B/sabot" | awk -v s="$soname" '$1 == s { print $3 }')
	[ -n "$lib" ] && add_dep "$soname" "$lib"
done
for soname in $(sed -n 's/^#define CURL_LIB_SONAME "\(.*\)"$/\1/p' "$top/agent/curl_lib.h"); do
	add_dep "$soname" "$(ldconfig -p | awk -v s="$soname" '$1 == s { print $NF; exit }')"
done
depends=""
for pkg in $deps; do
	v=$(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//')
	depends="$depends${depends:+, }$pkg (>= $v)"
done
mkdir -p "$root/DEBIAN"
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CTL
Package: sabot
Version: $version
Architecture: $arch
Maintainer: sabot developers <sabot@localhost>
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Description: chaos-engineering agent with crash-safe faults and a kill switch
 sabot injects network latency, packet loss, syscall errors and process
 kills from declarative scenario files, with hard blast-radius limits from a
 host policy, an automatic abort when an SLO is breached, and a kill switch
 (sabot abort) that reverts every fault in milliseconds. Every change is
 journaled before it is made and reverted even if the runner is killed.
CTL
echo /etc/sabot/policy.ini > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	systemctl enable sabot-recover.service >/dev/null 2>&1 || true
fi
SH
# prerm runs with "upgrade NEW" on every dpkg -i over an installed sabot
# (a reinstall too), and with "remove" only when the package goes. The
# disarm latch under /var/lib/sabot is the operator's: an upgrade or a
# reinstall leaves it, and runs in progress, alone. Removal reverts every
# fault before the binary goes ('sabot abort', which leaves the host
# disarmed: removing a package is no reason to re-arm a host), and refuses
# to go on if sabot's faults may still be applied.
cat > "$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
case "$1" in
remove)
	if [ -x /usr/sbin/sabot ]; then
		rc=0
		/usr/sbin/sabot abort --reason "package removal" >/dev/null || rc=$?
		if [ $rc != 0 ]; then
			echo "sabot: 'sabot abort' failed (exit $rc): not removing sabot while its faults may still be applied." >&2
			echo "sabot: see 'sabot status', revert with 'sabot abort' or 'sabot recover', then remove it again." >&2
			exit 1
		fi
	fi
	if [ -d /run/systemd/system ]; then
		systemctl disable sabot-recover.service >/dev/null 2>&1 || true
	fi
	;;
upgrade | failed-upgrade | deconfigure) ;;
*)
	echo "prerm called with unknown argument '$1'" >&2
	exit 1
	;;
esac
SH
cat > "$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/sabot /run/sabot
	rmdir /etc/sabot/scenarios /etc/sabot 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
out=$B/sabot_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
