#!/bin/sh
# Fail-open holds for calls in flight: a launched target under a seccomp
# notify filter makes write(2) calls without pause (tests/helpers/caller,
# which ignores SIGTERM and counts what each call returned), and the runner
# is SIGKILLed at a random moment, ≥ 100 times. Whatever the runner had
# received and not yet answered (or held, for syscall-delay) must be
# answered by the guardian: the caller keeps making calls after the runner
# died, and never sees ENOSYS (a listener nobody holds). Some trials kill
# the runner during start-up, while it is still taking the listener.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
caller=$BUILD/tests/helpers/caller
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
TRIALS=${TRIALS:-100}
EARLY=${EARLY:-20}
runner=""
callers() { pgrep -f "^$caller $T_TMP/" 2>/dev/null; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $(callers); do kill -9 "$p"; done
	# The guardians end when their targets are gone.
	wait_for 5000 no_journals
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
[ -x "$caller" ] || { fail "no $caller (make build/tests/helpers/caller)"; t_done; }

for kind in error delay; do
	{
		printf '[scenario]\nname = fo-%s-%s\nduration = 60s\n' "$kind" $$
		printf '[target c]\nexec = %s %s/cnt\n' "$caller" "$T_TMP"
		printf '[fault f]\ntarget = c\nsyscalls = write\nprobability = 50%%\n'
		if [ $kind = error ]; then printf 'type = syscall-error\nerrno = EIO\npath = /dev/\n'; else printf 'type = syscall-delay\ndelay = 1ms\n'; fi
	} > $kind.ini
done

total() { od -An -v -w32 -t d8 -N 32 cnt 2>/dev/null | awk '{print $1 + $2 + $3 + $4}'; }
enosys() { od -An -v -w32 -t d8 -N 32 cnt 2>/dev/null | awk '{print $3 + $4}'; }
flowing() { [ "$(total)" -gt 50 ] 2>/dev/null; }
rand_ms() { echo $(($(od -An -N2 -tu2 /dev/urandom) % $1)); }
msleep() { sleep "$(awk "BEGIN { print $1 / 1000 }")"; }

stuck=0 closed=0 done_n=0 early_seen=0 notstarted=0 headers=0
trial() { # KIND EARLY(0|1)
	rm -f cnt
	$S run "$1.ini" > run.out 2>&1 &
	runner=$!
	if [ "$2" = 1 ]; then
		msleep "$(rand_ms 120)"
	else
		wait_for 5000 flowing || { fail "trial $done_n: calls did not start: $(cat run.out)"; }
		msleep "$(rand_ms 100)"
	fi
	kill -9 $runner
	wait $runner 2>/dev/null
	runner=""
	c=$(callers)
	if [ -n "$c" ] && [ -s cnt ]; then
		[ "$2" = 1 ] && early_seen=$((early_seen + 1))
		sleep 0.3
		a=$(total)
		sleep 0.4
		b=$(total)
		if [ "$a" = "$b" ] && [ -n "$(callers)" ]; then
			stuck=$((stuck + 1))
			echo "    trial $done_n ($1, early=$2): the caller is blocked after the runner died (calls: $a)"
		fi
		if [ "$(enosys)" != 0 ]; then
			closed=$((closed + 1))
			echo "    trial $done_n ($1, early=$2): $(enosys) calls failed with ENOSYS or another errno"
		fi
	else
		notstarted=$((notstarted + 1))
	fi
	for p in $(callers); do kill -9 "$p" 2>/dev/null; done
	# The guardian holds the run lock (inherited) until it is done.
	wait_for 5000 eval '! pgrep -f -- "--run-dir $T_TMP/run run" >/dev/null' || fail "trial $done_n: the guardian did not finish"
	if ! no_journals && ! grep -q '^apply ' run/runs/*.journal; then
		# Killed after the journal was created and before the guardian
		# started: nothing was applied, and recover removes it.
		headers=$((headers + 1))
		$S recover >/dev/null 2>&1
	fi
	no_journals || fail "trial $done_n: the guardian left its journal: $(cat run/runs/*.journal)"
	done_n=$((done_n + 1))
}

i=0
while [ $i -lt "$TRIALS" ]; do
	if [ $((i % 2)) = 0 ]; then trial error 0; else trial delay 0; fi
	i=$((i + 1))
done
i=0
while [ $i -lt "$EARLY" ]; do
	if [ $((i % 2)) = 0 ]; then trial error 1; else trial delay 1; fi
	i=$((i + 1))
done
echo "    $TRIALS trials with calls flowing, $EARLY during start-up ($early_seen of them with the target running, $headers before the guardian started): $stuck blocked, $closed with ENOSYS"
[ $stuck = 0 ] && pass "SIGKILL of the runner $((TRIALS + EARLY)) times: no intercepted call stayed blocked" ||
	fail "SIGKILL of the runner: the caller stayed blocked in $stuck of $((TRIALS + early_seen)) trials"
[ $closed = 0 ] && pass "and no call failed with ENOSYS (the listener was always held)" ||
	fail "calls failed with ENOSYS after the runner died in $closed of $((TRIALS + early_seen)) trials"
t_done
