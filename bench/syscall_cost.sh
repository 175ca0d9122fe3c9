#!/bin/sh
# The cost of an active syscall fault on the calls it does not fail: ns per
# write(2) of a launched target (build/tests/helpers/writer) under sabot's
# seccomp backend, against, in the same run:
#   peer   strace --inject=write:error=EIO:when=65535 (what ChaosBlade wraps;
#          the counter never reaches it)
#   floor  bench/notify_floor: the same writes under a filter whose
#          supervisor (the writer's parent) does nothing but RECV and
#          SEND(CONTINUE): plain, with SYNC_WAKE_UP where the kernel has it
#          (sabot sets it), and with an epoll_wait before each RECV; the
#          floor of a round is the cheapest of the three (under load the
#          blocking RECV measured slower than the epoll one)
#   base   with BASE=/path/to/an/older/sabot, that binary too (before/after)
# and the bare program. Rounds are paired and interleaved (each round runs
# every variant once, the order reversed every other round), everything
# pinned to one CPU (taskset; the supervisor and its target share it, as
# the floor's are), run and state dirs and the policy in a private tmpfs.
# Ratios are the median of the per-round ratios, with a 95% confidence
# interval (order statistics); p99 only with >= 100 rounds. Then, once and
# untimed, every system call sabot's runner makes per intercepted call
# (strace of the runner alone).
#   syscall_cost.sh SABOT WRITER FLOOR [ROUNDS [WRITES]]
set -u
SABOT=$1
WRITER=$2
FLOOR=$3
ROUNDS=${4:-${BENCH_SYSCALL_ROUNDS:-100}}
N=${5:-5000}
BASE=${BASE:-}
CPU=$(($(nproc) - 1))
PIN="taskset -c $CPU"
T=$(mktemp -d /tmp/sabot-bench.XXXXXX)
chmod 755 "$T"
mount -t tmpfs -o size=64m,mode=0755 sabot-bench "$T" 2>/dev/null && tmpfs=1 || tmpfs=0
cleanup() {
	pkill -KILL -f "^$WRITER $N $T/" 2>/dev/null
	[ $tmpfs = 1 ] && umount "$T"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cp "$(dirname "$0")/../packaging/policy.ini" "$T/policy.ini"
ns() { sed -n 's/^ns_per_write=//p' "$T/report"; }
wait_report() {
	i=0
	until [ -s "$T/report" ] || [ $i -gt 600 ]; do sleep 0.02; i=$((i + 1)); done
}
under() { # run the writer under a command prefix until it reports, then stop it
	rm -f "$T/report"
	$PIN "$@" "$WRITER" "$N" "$T/report" "$T/out" >/dev/null 2>&1 &
	p=$!
	wait_report
	pkill -TERM -f "^$WRITER $N $T/" 2>/dev/null
	kill -TERM $p 2>/dev/null
	wait $p 2>/dev/null
	ns
}
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
sabot_once() { # SABOT [STRACE-PREFIX...]
	b=$1
	shift
	rm -f "$T/report"
	rm -rf "$T/s" "$T/r"
	$PIN "$@" "$b" --policy "$T/policy.ini" --state-dir "$T/s" --run-dir "$T/r" run --yes "$T/s.ini" </dev/null >/dev/null 2>&1 &
	runner=$!
	wait_report
	# Under strace (which ignores SIGTERM in a background job) the runner
	# is its child.
	[ $# -gt 0 ] && pkill -TERM -P $runner 2>/dev/null
	kill -TERM $runner 2>/dev/null
	wait $runner
	ns
}
floor_once() {
	$PIN "$FLOOR" "$N" "$T/floor.out" > "$T/floor.kv" 2>/dev/null || return 1
	kv() { sed -n "s/^$1=//p" "$T/floor.kv"; }
	f=$(kv floor_sync_ns)
	[ -n "$f" ] || f=$(kv floor_ns)
	echo "$(kv bare_ns) $f $(kv floor_ns) $(kv epoll_sync_ns)"
}

# One round: every variant once, pinned to one CPU and then unpinned (the
# scheduler's choice, as production runs); odd rounds in the reverse order.
: > "$T/rows.pinned"
: > "$T/rows.unpinned"
r=0
while [ $r -lt "$ROUNDS" ]; do
	if [ $((r % 2)) = 0 ]; then order="floor new base strace"; modes="pinned unpinned"; else order="strace base new floor"; modes="unpinned pinned"; fi
	for m in $modes; do
		if [ $m = pinned ]; then PIN="taskset -c $CPU"; else PIN=""; fi
		fl="" new="" old="-" st=""
		for v in $order; do
			case $v in
			floor) fl=$(floor_once) ;;
			new) new=$(sabot_once "$SABOT") ;;
			base) [ -n "$BASE" ] && old=$(sabot_once "$BASE") ;;
			strace) st=$(under strace -f -qq -o /dev/null --inject=write:error=EIO:when=65535) ;;
			esac
		done
		# bare floor floor_plain epoll | sabot base strace
		if [ -n "$fl" ] && [ -n "$new" ] && [ -n "$st" ] && [ -n "$old" ]; then
			echo "$fl $new $old $st" >> "$T/rows.$m"
		else
			echo "  round $r ($m): a variant did not report; left out" >&2
		fi
	done
	r=$((r + 1))
done
PIN=""

# Every system call of the runner from its first receive to its last
# answer, per receive: strace of the runner's process alone (not the
# target's, which would change what is measured), untimed.
count_calls() { # SABOT
	rm -f "$T/st"
	cp "$T/s.ini" "$T/s.full"
	sed -i "s|^exec = $WRITER $N |exec = $WRITER 1000 |" "$T/s.ini"
	sabot_once "$1" strace -qq -o "$T/st" >/dev/null
	mv "$T/s.full" "$T/s.ini"
	awk '
	/SECCOMP_IOCTL_NOTIF_RECV/ { if (!first) first = NR; recv++ }
	{ line[NR] = $0 }
	/SECCOMP_IOCTL_NOTIF_SEND/ { last = NR }
	END {
		for (i = first; i <= last; i++) {
			n = line[i]; sub(/\(.*/, "", n); sub(/^[0-9]+ +/, "", n)
			if (n ~ /^ioctl/) n = (line[i] ~ /NOTIF_RECV/) ? "RECV" : (line[i] ~ /NOTIF_SEND/) ? "SEND" : "ioctl"
			c[n]++; tot++
		}
		printf "%.2f per intercepted call (%d receives):", tot / recv, recv
		for (k in c) if (c[k] / recv >= 0.01) printf " %s %.2f", k, c[k] / recv
		printf "\n"
	}' "$T/st"
}
calls_new=$(count_calls "$SABOT")
calls_base=""
[ -n "$BASE" ] && calls_base=$(count_calls "$BASE")

echo "active syscall fault on the calls it does not fail: ns per write(2), $N writes a round,"
echo "paired rounds, interleaved; run dirs and policy on $([ $tmpfs = 1 ] && echo "a private tmpfs" || echo "/tmp (tmpfs mount refused)")"
for m in unpinned pinned; do
	[ $m = pinned ] && echo " pinned to CPU $CPU (target, supervisor and tracer share it): $(wc -l < "$T/rows.pinned") rounds" ||
		echo " unpinned (as production runs): $(wc -l < "$T/rows.unpinned") rounds"
	awk -v base="$BASE" -f - "$T/rows.$m" <<'AWK'
function sortv(a, n,    i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
function pct(a, n, p) { return a[int(p * (n - 1) + 0.5) + 1] }
function row(name, col,    i, v) {
	for (i = 1; i <= n; i++) v[i] = x[i, col]
	sortv(v, n)
	if (n >= 100) printf "  %-44s median %6d  p90 %6d  p99 %6d ns\n", name, pct(v, n, .5), pct(v, n, .9), pct(v, n, .99)
	else printf "  %-44s median %6d  p90 %6d ns\n", name, pct(v, n, .5), pct(v, n, .9)
}
# the median of per-round ratios a/b, and a 95% interval: ranks n/2 -+ 0.98 sqrt(n)
function ratio(name, a, b,    i, v, lo, hi) {
	for (i = 1; i <= n; i++) v[i] = x[i, a] / x[i, b]
	sortv(v, n)
	lo = int(n / 2 - 0.98 * sqrt(n)); hi = int(n / 2 + 0.98 * sqrt(n)) + 1
	if (lo < 1) lo = 1
	if (hi > n) hi = n
	printf "  %-44s %5.2fx  (95%% CI %.2f-%.2f)\n", name, pct(v, n, .5), v[lo], v[hi]
}
{ n++; for (i = 1; i <= NF; i++) x[n, i] = $i
  # the floor: the cheapest of the three bare supervisors in this round
  m = $2; if ($3 < m) m = $3; if ($4 < m) m = $4; x[n, 8] = m }
END {
	if (!n) { print "  no round completed"; exit 1 }
	row("no fault (bare write):", 1)
	row("floor: bare RECV+SEND, sync wake-up:", 2)
	row("floor: bare RECV+SEND, plain wake-up:", 3)
	row("floor + epoll_wait before each RECV:", 4)
	row("floor: the cheapest of those, per round:", 8)
	row("sabot, seccomp user notification:", 5)
	if (base != "") row("sabot before (BASE):", 6)
	row("strace --inject=write:error=EIO:when=65535:", 7)
	ratio("sabot / floor (goal <= 1.5x):", 5, 8)
	ratio("sabot / floor with sync wake-up:", 5, 2)
	ratio("strace / sabot (goal >= 5x):", 7, 5)
	if (base != "") {
		ratio("sabot before / after:", 6, 5)
		ratio("strace / sabot before:", 7, 6)
		ratio("sabot before / floor:", 6, 8)
	}
}
AWK
done
echo " system calls of sabot's runner: $calls_new"
[ -n "$BASE" ] && echo " system calls of sabot before:   $calls_base"
exit 0
