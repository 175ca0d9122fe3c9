#!/bin/sh
# The cgroup squeezes where the target's controllers are not enabled (its
# parent's cgroup.subtree_control lacks them; on this project's hybrid host
# cgroup2 has no controllers at all): validate and plan work, doctor says
# what is missing, and run exits 6 before anything is touched. The effect
# itself is tested in the VM tier (tests/vm/test_cgroup_squeeze.sh).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
root=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$root" ] || { skip "cgroup2 is not mounted"; t_done; }
P=$root/sabot-it-cg-$$
cleanup() {
	rmdir "$P/app" "$P" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
# A fresh cgroup enables nothing for its children: app has no controller.
mkdir "$P" "$P/app" || { fail "mkdir $P/app"; t_done; }
cat > sq.ini <<INI
[scenario]
name = squeeze
duration = 5s

[target app]
cgroup = sabot-it-cg-$$/app

[fault cpu]
type = cpu
target = app
quota = 20%

[fault mem]
type = memory
target = app
high = 64M

[fault io]
type = io
target = app
device = 7:0
wbps = 1M

[fault pids]
type = pids
target = app
limit = 10
INI
expect_exit 0 "validate accepts the four kinds" $S validate sq.ini
expect_exit 0 "plan" $S plan sq.ini
expect_out "plan names cpu.max of the target's cgroup" "$P/app/cpu.max \(cannot read it now: No such file or directory; is the controller enabled for it\? see 'sabot doctor'\): quota 20% of one CPU"
expect_out "plan names pids.max" "$P/app/pids.max .*pids.max 10"
$S doctor > doctor.out 2>&1
OUT=$(cat doctor.out)
for k in cpu memory io pids; do
	expect_out "doctor has a row for $k" "^  $k \(cgroup2 $k controller\) +(ok|UNSUPPORTED)"
done
files() { ls "$P/app"; cat "$P/app/cgroup.procs"; }
before=$(files)
expect_exit 6 "run exits 6: the controllers are not enabled" $S run sq.ini
for k in "cpu:9" "mem:14" "io:19" "pids:25"; do
	expect_out "run: ${k%%:*} refused at sq.ini:${k#*:}, naming the file to enable it in" \
		"sq.ini:${k#*:}: fault '${k%%:*}': type = [a-z]+ is not supported here: the [a-z]+ controller is not enabled for $P/app: $P/cgroup.subtree_control has 'none'; enable it there"
done
[ "$(files)" = "$before" ] && pass "the cgroup is untouched" || fail "the cgroup changed"
[ -z "$(ls run/runs 2>/dev/null)" ] && pass "no journal: nothing was applied" || fail "journal left: $(ls run/runs)"
# Bad values: file:line, exit 2.
sed 's/^quota = 20%/quota = 0.5%/; s/^high = 64M/high = 64/' sq.ini > bad.ini
expect_exit 2 "validate refuses quota 0.5% and a size without a unit" $S validate bad.ini
expect_out "quota below 1% at its line" "bad.ini:11: quota = 0.5% is below 1%"
expect_out "size without unit at its line" "bad.ini:16: high: invalid size '64'"
expect_exit 2 "run refuses them too" $S run bad.ini
[ -z "$(ls run/runs 2>/dev/null)" ] && pass "no journal after the refused run" || fail "journal left"
t_done
