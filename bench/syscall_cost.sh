#!/bin/sh
# The cost of an active syscall fault on calls it does not fail: ns per
# write(2) of a launched target (build/tests/helpers/writer) under sabot's
# seccomp backend, versus the same workload under
# strace --inject=write:error=EIO:when=65535 (what ChaosBlade wraps; the
# counter never reaches it), in the
# same run, with the bare program as the baseline.
#   syscall_cost.sh SABOT WRITER [WRITES]
set -u
SABOT=$1
WRITER=$2
N=${3:-20000}
T=$(mktemp -d /tmp/sabot-bench.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
ns() { sed -n 's/^ns_per_write=//p' "$T/report"; }
once() { # run the writer under a command prefix until it reports, then stop it
	rm -f "$T/report"
	"$@" "$WRITER" "$N" "$T/report" "$T/out" >/dev/null 2>&1 &
	p=$!
	i=0
	until [ -s "$T/report" ] || [ $i -gt 600 ]; do sleep 0.05; i=$((i + 1)); done
	kill -TERM $p 2>/dev/null
	pkill -TERM -f "^$WRITER $N $T" 2>/dev/null
	wait $p 2>/dev/null
	ns
}
base=$(once env)
strace_ns=$(once strace -f -qq -o /dev/null --inject=write:error=EIO:when=65535)
cat > "$T/s.ini" <<INI
[scenario]
name = bench-syscall
duration = 1m
[target w]
exec = $WRITER $N $T/report $T/out
[fault e]
type = syscall-error
target = w
syscalls = write
errno = EIO
probability = 0.0000001%
INI
rm -f "$T/report"
"$SABOT" --state-dir "$T/s" --run-dir "$T/r" run --yes "$T/s.ini" </dev/null >/dev/null 2>&1 &
runner=$!
i=0
until [ -s "$T/report" ] || [ $i -gt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $runner
wait $runner
sabot_ns=$(ns)
echo "active syscall fault on calls it does not fail: ns per write(2), $N writes:"
echo "  no fault:                                  $base ns"
echo "  sabot, seccomp user notification:          $sabot_ns ns"
echo "  strace --inject=write:error=EIO:when=65535: $strace_ns ns"
awk -v a="$sabot_ns" -v b="$strace_ns" 'BEGIN { printf "  ratio strace/sabot: %.2fx\n", b / a }'
