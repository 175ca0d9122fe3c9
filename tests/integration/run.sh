#!/bin/sh
# Runs a tier of root tests: every test_*.sh in TESTDIR and every built
# check_* suite in CHECKDIR. The host integration tier and the VM tier
# (inside the guest) both use it. Prints a closing
# "TIER: N passed, N failed, N skipped".
set -u
: "${SABOT:?}" "${BUILD:?}"
here=${TESTDIR:-$(cd "$(dirname "$0")" && pwd)}
checks=${CHECKDIR:-$BUILD/tests/integration}
tier=${TIER:-integration}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ "$(id -u)" != 0 ]; then
	n=$(ls "$here"/test_*.sh "$checks"/check_* 2>/dev/null | wc -l)
	echo "SKIP: the root $tier tests need root (network namespaces, cgroups, BPF); CI runs them as root"
	echo "$tier: 0 passed, 0 failed, $n skipped"
	exit 0
fi

pass=0 fail=0 skip=0
for t in "$checks"/check_*; do
	[ -x "$t" ] || continue
	echo "== $(basename "$t")"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/')
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		echo "FAIL: $(basename "$t") exited $rc without a result"
		continue
	fi
	f=$(($f))
	pass=$((pass + n - f))
	fail=$((fail + f))
	[ "$rc" = 0 ] || [ "$f" -gt 0 ] || { fail=$((fail + 1)); echo "FAIL: $(basename "$t") exited $rc"; }
done

for t in "$here"/test_*.sh; do
	[ -e "$t" ] || continue
	echo "== $(basename "$t")"
	SABOT="$SABOT" BUILD="$BUILD" TESTLIB="$(dirname "$0")/lib.sh" sh "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		fail=$((fail + 1))
		echo "FAIL: $(basename "$t") exited $rc"
	fi
done

echo "$tier: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
