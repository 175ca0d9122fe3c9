#!/bin/sh
# The Debian package, installed with dpkg into a throwaway Debian root (a
# minimal debootstrap of this machine's release, so that its Depends line
# is proved too), used from its installed paths, and purged without a
# trace. This machine's own /usr, /etc and /var are never touched: the test
# runs in its own mount, network and pid namespaces and checks that.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
worker=""
cleanup() {
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	troot_down
	t_cleanup_tmp
}
trap cleanup EXIT
t0=$(date +%s)
host_before=$(host_pkg_snapshot)
OUT=$(make -s -C "$top" deb 2>&1)
deb=$(echo "$OUT" | tail -n 1)
[ -f "$deb" ] && pass "make deb builds $(basename "$deb")" || { fail "make deb: $OUT"; t_done; }
base=$(troot_deb_base "$deb") || { fail "no base root for the package test"; t_done; }
troot_up "$base" || { fail "cannot set up the throwaway root over $base"; t_done; }
[ ! -e "$T_ROOT/usr/sbin/sabot" ] && ! troot dpkg -s sabot >/dev/null 2>&1 &&
	pass "the throwaway root has no sabot before the test" || fail "sabot is in the base root $base"
cp "$deb" "$T_ROOT/tmp/"
pkg=/tmp/$(basename "$deb")
expect_exit 0 "dpkg -i installs it" troot dpkg -i "$pkg"
[ -x "$T_ROOT/usr/sbin/sabot" ] && pass "/usr/sbin/sabot" || fail "no /usr/sbin/sabot"
missing=$(troot ldd /usr/sbin/sabot | grep 'not found')
[ -z "$missing" ] && pass "its Depends bring every library it links on a minimal host" || fail "missing libraries: $missing"
[ -f "$T_ROOT/etc/sabot/policy.ini" ] && troot dpkg-query -W -f='${Conffiles}' sabot | grep -q '/etc/sabot/policy.ini' &&
	pass "the policy is a conffile" || fail "policy conffile"
for m in man8/sabot.8.gz man5/sabot-scenario.5.gz man5/sabot-policy.5.gz; do
	[ -f "$T_ROOT/usr/share/man/$m" ] && pass "man page $m" || fail "no $m"
done
[ -f "$T_ROOT/usr/lib/systemd/system/sabot-run@.service" ] && pass "the systemd units" || fail "no units"
l=$T_ROOT/usr/lib/sabot/libsabot-clock.so
[ -f "$l" ] && [ "$(stat -c %a "$l")" = 644 ] && readelf -d "$l" 2>/dev/null | grep -q BIND_NOW &&
	pass "the clock kind's preload, 0644, bindnow: /usr/lib/sabot/libsabot-clock.so" || fail "no (or a loose) $l"
# Built the Debian way: dpkg-buildpackage's files beside the .deb, the
# version a snapshot's, lintian with nothing left but what is overridden.
dbg=$(ls "$(dirname "$deb")"/sabot-dbgsym_*.deb 2>/dev/null | head -n 1)
[ -n "$dbg" ] && dpkg-deb -c "$dbg" | grep -c /usr/lib/debug/.build-id/ >/dev/null && pass "a -dbgsym package: $(basename "$dbg")" ||
	fail "no -dbgsym package beside $deb"
troot_file_has_debuginfo() { readelf -S "$T_ROOT/usr/sbin/sabot" | grep -q '\.debug_info'; }
troot_file_has_debuginfo && fail "the installed binary is not stripped" || pass "the installed binary is stripped"
readelf -d "$T_ROOT/usr/sbin/sabot" | grep -q 'FLAGS.*BIND_NOW' && readelf -h "$T_ROOT/usr/sbin/sabot" | grep -q 'DYN' &&
	readelf -s --wide "$T_ROOT/usr/sbin/sabot" | grep -q '__stack_chk_fail' && readelf -s --wide "$T_ROOT/usr/sbin/sabot" | grep -q '_chk@' &&
	pass "hardened: PIE, bindnow, stack protector, fortified calls" || fail "hardening flags missing from the binary"
v=$(dpkg-deb -f "$deb" Version)
deps=$(dpkg-deb -f "$deb" Depends)
rec=$(dpkg-deb -f "$deb" Recommends)
echo "$deps" | grep -q 'libbpf1' && ! echo "$deps" | grep -q libcurl && [ "$rec" = libcurl4 ] &&
	pass "Depends from dpkg-shlibdeps, libcurl4 recommended: $deps; Recommends: $rec" || fail "Depends: $deps; Recommends: $rec"
needed=$(readelf -d "$T_ROOT/usr/sbin/sabot" | awk '/NEEDED/ { print $NF }' | tr -d '[]')
echo "$deps" | grep -q 'libsystemd0' && ! echo "$needed" | grep -q -e libsystemd -e libcurl &&
	pass "libsystemd0 a dependency, loaded at run time like libcurl: neither is NEEDED at start" ||
	fail "libsystemd0 in Depends and not NEEDED: Depends: $deps; NEEDED: $(echo $needed)"
if command -v lintian >/dev/null; then
	L=$(lintian -I --pedantic "$deb" ${dbg:+"$dbg"} 2>&1 | grep -v '^running with root privileges')
	[ -z "$L" ] && pass "lintian -I --pedantic: no tag (one overridden, with its reason)" || {
		fail "lintian -I --pedantic"
		echo "$L" | sed 's/^/    | /'
	}
else
	skip "no lintian: 'make test-deps' installs it"
fi
# Enabled on install even with no systemd running (an image build):
# deb-systemd-helper makes the link itself.
wants=$T_ROOT/etc/systemd/system/multi-user.target.wants/sabot-recover.service
[ -L "$wants" ] && pass "sabot-recover.service enabled on install, systemd not running" || fail "no $wants"
[ -f "$T_ROOT/etc/default/sabot" ] && troot dpkg-query -W -f='${Conffiles}' sabot | grep -q '/etc/default/sabot' &&
	pass "/etc/default/sabot, a conffile" || fail "no /etc/default/sabot conffile"
# The admin disables it; a reinstall and an upgrade keep it so.
rm -f "$wants"
expect_exit 0 "dpkg -i again (a reinstall)" troot dpkg -i "$pkg"
v2=$v.1
dpkg-deb -R "$deb" "$T_TMP/b2" && sed -i "s/^Version: .*/Version: $v2/" "$T_TMP/b2/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$T_TMP/b2" "$T_ROOT/tmp/sabot-2.deb" >/dev/null 2>&1
expect_exit 0 "dpkg -i an upgrade to $v2" troot dpkg -i /tmp/sabot-2.deb
[ -L "$wants" ] && fail "a reinstall or an upgrade enabled sabot-recover.service again" ||
	pass "the admin's disable is kept through a reinstall and an upgrade"
ln -s /lib/systemd/system/sabot-recover.service "$wants"
expect_exit 0 "the installed binary validates the installed examples" \
	troot /usr/sbin/sabot validate /usr/share/sabot/scenarios/checkout-gameday.ini
OUT=$(troot /usr/sbin/sabot doctor 2>&1)
rc=$?
[ $rc = 0 ] || [ $rc = 6 ] && pass "sabot doctor runs (exit $rc)" || fail "doctor exit $rc: $OUT"
cp "$(command -v sleep)" "$T_TMP/sabot-itdw$$"
"$T_TMP/sabot-itdw$$" 600 &
worker=$!
scen=/etc/sabot/scenarios/sabot-it-deb-$$.ini
printf '[scenario]\nname = deb\nduration = 1s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $worker > "$T_ROOT$scen"
chmod 644 "$T_ROOT$scen"
expect_exit 0 "a short scenario from /etc/sabot/scenarios runs" troot /usr/sbin/sabot run "$scen"
[ "$(pstate $worker)" = S ] && pass "its paused target runs again" || fail "target state $(pstate $worker)"
[ "$(ls "$T_ROOT/var/lib/sabot/reports" | wc -l)" = 1 ] && pass "its report is under /var/lib/sabot" || fail "no report"
rm -f "$T_ROOT$scen"
expect_exit 0 "dpkg --purge" troot dpkg --purge sabot
left=""
for p in /usr/sbin/sabot /etc/sabot /etc/default/sabot /etc/systemd/system/multi-user.target.wants/sabot-recover.service \
	/var/lib/systemd/deb-systemd-helper-enabled/sabot-recover.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/sabot-recover.service /var/lib/sabot /run/sabot /usr/lib/systemd/system/sabot-run@.service /usr/share/sabot \
	/usr/share/doc/sabot /usr/share/man/man8/sabot.8.gz /var/lib/dpkg/info/sabot.list; do
	{ [ -e "$T_ROOT$p" ] || [ -L "$T_ROOT$p" ]; } && left="$left $p"
done
[ -z "$left" ] && pass "purged: nothing left behind" || fail "left behind:$left"
[ "$(host_pkg_snapshot)" = "$host_before" ] && pass "this machine's own dpkg and sabot paths are untouched" || {
	fail "the machine changed"
	host_pkg_snapshot | diff - "$(printf '%s\n' "$host_before" > "$T_TMP/hb" && echo "$T_TMP/hb")" | sed 's/^/    | /'
}
echo "    test_deb took $(($(date +%s) - t0)) s"
t_done
