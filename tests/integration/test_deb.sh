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
for p in /usr/sbin/sabot /etc/sabot /var/lib/sabot /run/sabot /usr/lib/systemd/system/sabot-run@.service /usr/share/sabot \
	/usr/share/doc/sabot /usr/share/man/man8/sabot.8.gz /var/lib/dpkg/info/sabot.list; do
	[ -e "$T_ROOT$p" ] && left="$left $p"
done
[ -z "$left" ] && pass "purged: nothing left behind" || fail "left behind:$left"
[ "$(host_pkg_snapshot)" = "$host_before" ] && pass "this machine's own dpkg and sabot paths are untouched" || {
	fail "the machine changed"
	host_pkg_snapshot | diff - "$(printf '%s\n' "$host_before" > "$T_TMP/hb" && echo "$T_TMP/hb")" | sed 's/^/    | /'
}
echo "    test_deb took $(($(date +%s) - t0)) s"
t_done
