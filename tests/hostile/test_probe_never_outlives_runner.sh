#!/bin/sh
# The seccomp probe a run makes before its first launch (a child holding a
# filter, a grandchild held in a notified call) never outlives the runner:
# the runner is held (strace delays its pidfd_getfd(2) on the probe's
# child, the first it makes) while both exist, and SIGKILLed there. Then
# nothing with the run's command line may be left: not the probe's child
# (it waited for its grandchild, whose call nobody would answer), nor its
# grandchild, nor the guardian once it is done.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
writer=$BUILD/tests/helpers/writer
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
TRIALS=${TRIALS:-3}
mine() { pgrep -f -- "--run-dir $T_TMP/run run" 2>/dev/null; }
cleanup() {
	for p in $(mine); do kill -9 "$p" 2>/dev/null; done
	pkill -9 -f "^$writer 10 $T_TMP/" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
command -v strace >/dev/null || { skip "no strace (packaging/build-deps.sh --test installs it)"; t_done; }
cat > p.ini <<INI
[scenario]
name = probe-$$
duration = 2s
[target w]
exec = $writer 10 $T_TMP/report $T_TMP/out
[fault e]
type = syscall-error
target = w
syscalls = write
errno = EIO
probability = 30%
INI
left=0 held=0
i=0
while [ $i -lt "$TRIALS" ]; do
	strace -qq -o /dev/null -e trace=pidfd_getfd -e inject=pidfd_getfd:delay_enter=1500000:when=1 \
		$S run --yes p.ini > run.out 2>&1 &
	tracer=$!
	# The runner, the guardian, the probe's child and grandchild.
	n4() { [ "$(mine | wc -l)" -ge 4 ]; }
	if wait_for 5000 n4; then
		held=$((held + 1))
		runner=$(pgrep -P $tracer)
		kill -9 "$runner"
	else
		echo "    trial $i: the probe was not seen held ($(mine | wc -l) processes)"
	fi
	wait $tracer 2>/dev/null
	gone() { [ -z "$(mine)" ]; }
	if ! wait_for 5000 gone; then
		left=$((left + 1))
		echo "    trial $i: left behind: $(ps -o pid=,ppid=,stat= -p "$(mine | tr '\n' ',' | sed 's/,$//')" | tr '\n' ';')"
		for p in $(mine); do kill -9 "$p" 2>/dev/null; done
	fi
	pkill -9 -f "^$writer 10 $T_TMP/" 2>/dev/null
	$S recover > /dev/null 2>&1
	i=$((i + 1))
done
[ $held = "$TRIALS" ] && pass "the runner was SIGKILLed in the middle of its probe $TRIALS times" ||
	fail "the probe was held in $held of $TRIALS trials"
[ $left = 0 ] && pass "and nothing of the run outlived it" || fail "processes of the run outlived it in $left of $TRIALS trials"
t_done
