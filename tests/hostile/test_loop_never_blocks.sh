#!/bin/sh
# The runner's loop never blocks on a stale event: every timer and signal
# fd it waits on is non-blocking. A timer re-armed earlier in one epoll
# batch (curl's, the schedule's) still shows up as ready later in that
# batch; a blocking read of it waits for the new expiry, and the loop, its
# heartbeats with it, stand still: under load the guardian took the runner
# for hung and killed it (seen: test_slo exit 137, the runner in read(2) at
# do_wait_intr_irq for 3 s). Checked here on a live run, in the runner's
# fd table (the flags in /proc/PID/fdinfo), and the guardian's (none of
# the runner's loop fds), then the
# run is stopped and must end as a stopped run does (exit 4, target
# resumed).
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner="" worker=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "$T_TMP/sabot-lnb$id"
"$T_TMP/sabot-lnb$id" 600 &
worker=$!
cat > lnb.ini <<INI
[scenario]
name = lnb-$id
duration = 60s
steady_state = 300ms
[target w]
pid = $worker
[fault p]
type = pause
target = w
start = 1s
[slo ok]
probe = exec
command = /bin/true
interval = 100ms
max_error_rate = 50%
INI
$S run lnb.ini > run.out 2>&1 &
runner=$!
wait_for 15000 all_in_state T $worker && pass "the run paused its target" || { fail "the run did not start: $(cat run.out)"; t_done; }

# Every timerfd, signalfd and eventfd of pid must have O_NONBLOCK (04000).
check_fds() {
	n=0 bad=""
	for fd in /proc/$1/fd/*; do
		l=$(readlink "$fd" 2>/dev/null) || continue
		case "$l" in
		'anon_inode:[timerfd]' | 'anon_inode:[signalfd]' | 'anon_inode:[eventfd]') ;;
		*) continue ;;
		esac
		n=$((n + 1))
		flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
		[ $((0$flags & 04000)) -ne 0 ] || bad="$bad ${fd##*/}=$l(flags $flags)"
	done
	echo "$n$bad"
}
out=$(check_fds $runner)
case "$out" in
*' '*) fail "the runner waits on blocking fds:${out#* }" ;;
0) fail "the runner has no timer or signal fd to check (is pid $runner the runner?)" ;;
*) pass "all $out of the runner's timer and signal fds are non-blocking" ;;
esac
g=$(sed -n 's/.*guardian pid \([0-9]*\).*/\1/p' run.out | head -1)
if [ -n "$g" ] && [ -d /proc/$g ]; then
	# The guardian waits in poll(2) on its socket and the runner's pidfd:
	# it must not keep the runner's loop (its epoll, timers, signalfd) open,
	# which it never reads and which would outlive the runner.
	held=""
	for fd in /proc/$g/fd/*; do
		l=$(readlink "$fd" 2>/dev/null) || continue
		case "$l" in
		'anon_inode:[timerfd]' | 'anon_inode:[signalfd]' | 'anon_inode:[eventfd]' | 'anon_inode:[eventpoll]') held="$held ${fd##*/}=$l" ;;
		esac
	done
	[ -z "$held" ] && pass "the guardian holds none of the runner's loop fds" ||
		fail "the guardian holds the runner's loop fds:$held"
else
	fail "no guardian pid in the run's output: $(head -2 run.out)"
fi
kill -TERM $runner
wait $runner
rc=$?
runner=""
[ $rc = 4 ] && pass "the stopped run exits 4" || fail "exit $rc, want 4: $(tail -3 run.out)"
none_in_state T $worker && pass "its target runs again" || fail "the target is still stopped"
t_done
