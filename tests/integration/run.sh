#!/bin/sh
# The root integration tier: every tests/integration/test_*.sh and every
# built check_* suite. Prints a closing "N passed, N failed, N skipped".
set -u
: "${SABOT:?}" "${BUILD:?}"
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ "$(id -u)" != 0 ]; then
	n=$(ls "$here"/test_*.sh "$BUILD"/tests/integration/check_* 2>/dev/null | wc -l)
	echo "SKIP: the root integration tests need root (network namespaces, cgroups, BPF); CI runs them as root"
	echo "integration: 0 passed, 0 failed, $n skipped"
	exit 0
fi

pass=0 fail=0 skip=0
for t in "$BUILD"/tests/integration/check_*; do
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
	echo "== $(basename "$t")"
	SABOT="$SABOT" BUILD="$BUILD" sh "$t" >"$log" 2>&1
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

echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
