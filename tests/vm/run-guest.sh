#!/bin/sh
# The VM tier's runner inside the guest (busybox sh), called by /init: every
# built check_* suite in CHECKDIR and every test_*.sh in TESTDIR, counted as
# tests/integration/run.sh counts them, but with each test's output going to
# the console as it is printed (through tee), so that the host shows the
# tests running rather than a silent minute per test. Ends with
# "vm: N passed, N failed, N skipped".
set -u
: "${SABOT:?}" "${BUILD:?}" "${TESTDIR:?}" "${CHECKDIR:?}"
log=/tmp/run-guest.log
rcf=/tmp/run-guest.rc
up() { cut -d' ' -f1 /proc/uptime; }
took() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }
pass=0 fail=0 skip=0

# SABOT_VM_ONLY (from the kernel command line, VM_ONLY on the host): run
# only the tests and suites whose name matches one of its shell patterns,
# separated by commas.
only=${SABOT_VM_ONLY:-*}
wanted() { # NAME
	rest=$only,
	while [ -n "$rest" ]; do
		p=${rest%%,*}
		rest=${rest#*,}
		[ -n "$p" ] && case $1 in $p) return 0 ;; esac
	done
	return 1
}
for t in "$CHECKDIR"/check_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	wanted "$name" || continue
	echo "== $name"
	t0=$(up)
	{ "$t" 2>&1; echo $? > "$rcf"; } | tee "$log"
	rc=$(cat "$rcf")
	line=$(grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		echo "FAIL: $name exited $rc without a result"
		continue
	fi
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/')
	f=$(($f))
	pass=$((pass + n - f))
	fail=$((fail + f))
	[ "$rc" = 0 ] || [ "$f" -gt 0 ] || { fail=$((fail + 1)); echo "FAIL: $name exited $rc"; }
	echo "-- $name: $((n - f)) passed, $f failed, $(took "$t0") s"
done

# A test marked "# vm-order: last" changes the kernel for good (lockdown
# only goes up): it runs after the others.
tests="$(grep -L '^# vm-order: last' "$TESTDIR"/test_*.sh) $(grep -l '^# vm-order: last' "$TESTDIR"/test_*.sh)"
for t in $tests; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	wanted "$name" || continue
	echo "== $name"
	t0=$(up)
	{ SABOT="$SABOT" BUILD="$BUILD" TESTLIB="$TESTLIB" sh "$t" 2>&1; echo $? > "$rcf"; } | tee "$log"
	rc=$(cat "$rcf")
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "FAIL: $name exited $rc"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	echo "-- $name: $p passed, $f failed, $s skipped, $(took "$t0") s"
done

echo "vm: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
