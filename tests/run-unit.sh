#!/bin/sh
# Run the Check unit suites; fail if any fails.
failed=0
for t in "$@"; do
	echo "== $(basename "$t")"
	"$t" || failed=$((failed + 1))
done
[ "$failed" = 0 ] || { echo "unit: $failed suite(s) failed"; exit 1; }
