#!/bin/sh
# The Debian package, installed into this machine with dpkg, used from its
# installed paths, and purged without a trace.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
scen=/etc/sabot/scenarios/sabot-it-deb-$$.ini
worker=""
cleanup() {
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	rm -f "$scen"
	dpkg -s sabot >/dev/null 2>&1 && dpkg --purge sabot >/dev/null 2>&1
	t_cleanup_tmp
}
trap cleanup EXIT
if dpkg -s sabot >/dev/null 2>&1; then
	skip "a sabot package is already installed on this machine; not touching it"
	t_done
fi
for d in /etc/sabot /var/lib/sabot /run/sabot; do
	if [ -e "$d" ]; then
		skip "$d exists before the test: not a clean machine for the package test"
		t_done
	fi
done
OUT=$(make -s -C "$top" deb 2>&1)
deb=$(echo "$OUT" | tail -n 1)
[ -f "$deb" ] && pass "make deb builds $(basename "$deb")" || { fail "make deb: $OUT"; t_done; }
expect_exit 0 "dpkg -i installs it" dpkg -i "$deb"
[ -x /usr/sbin/sabot ] && pass "/usr/sbin/sabot" || fail "no /usr/sbin/sabot"
[ -f /etc/sabot/policy.ini ] && dpkg-query -W -f='${Conffiles}' sabot | grep -q '/etc/sabot/policy.ini' &&
	pass "the policy is a conffile" || fail "policy conffile"
for m in man8/sabot.8.gz man5/sabot-scenario.5.gz man5/sabot-policy.5.gz; do
	[ -f "/usr/share/man/$m" ] && pass "man page $m" || fail "no $m"
done
[ -f /usr/lib/systemd/system/sabot-run@.service ] && pass "the systemd units" || fail "no units"
expect_exit 0 "the installed binary validates the installed examples" /usr/sbin/sabot validate /usr/share/sabot/scenarios/checkout-gameday.ini
OUT=$(/usr/sbin/sabot doctor 2>&1)
rc=$?
[ $rc = 0 ] || [ $rc = 6 ] && pass "sabot doctor runs (exit $rc)" || fail "doctor exit $rc: $OUT"
cp "$(command -v sleep)" "$T_TMP/sabot-itdw$$"
"$T_TMP/sabot-itdw$$" 600 &
worker=$!
printf '[scenario]\nname = deb\nduration = 1s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $worker > "$scen"
chmod 644 "$scen"
expect_exit 0 "a short scenario from /etc/sabot/scenarios runs" /usr/sbin/sabot run "$scen"
[ "$(ls /var/lib/sabot/reports | wc -l)" = 1 ] && pass "its report is under /var/lib/sabot" || fail "no report"
rm -f "$scen"
expect_exit 0 "dpkg --purge" dpkg --purge sabot
left=""
for p in /usr/sbin/sabot /etc/sabot /var/lib/sabot /run/sabot /usr/lib/systemd/system/sabot-run@.service /usr/share/sabot \
	/usr/share/doc/sabot /usr/share/man/man8/sabot.8.gz; do
	[ -e "$p" ] && left="$left $p"
done
[ -z "$left" ] && pass "purged: nothing left behind" || fail "left behind:$left"
t_done
