#!/bin/sh
# The whole tree of a launched target ends with the run: a worker it forks
# whose leader exits, a worker that leaves the process group (setsid), and
# a leader and worker that both ignore SIGTERM, each ended by the runner at
# the end of the run, by the guardian after SIGKILL of the runner, and by
# `sabot recover` after SIGKILL of both. The target runs under a seccomp
# filter (a syscall fault), so a survivor would live under a dead filter.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
cgroot=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | awk '{print $5}')
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
runner=""
mine() { pgrep -f "$T_TMP/sabot-htr-" 2>/dev/null; }
our_cgroups() { [ -n "$cgroot" ] && ls "$cgroot" 2>/dev/null | grep "^sabot-.*htr-$id-"; }
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $(cat "$T_TMP"/*.pid 2>/dev/null) $(mine); do kill -9 "$p" 2>/dev/null; done
	wait_for 5000 no_journals
	for g in $(our_cgroups); do
		echo 1 > "$cgroot/$g/cgroup.kill" 2>/dev/null
		rmdir "$cgroot/$g" 2>/dev/null
	done
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
gone() { # PID: dead or a zombie
	st=$(pstate "$1")
	[ -z "$st" ] || [ "$st" = Z ]
}

cat > sabot-htr-worker.sh <<SH
echo \$\$ > "\$1"
while :; do sleep 0.1; done
SH
# leaves: forks a worker, then exits
cat > sabot-htr-leaves.sh <<SH
sh $T_TMP/sabot-htr-worker.sh "\$1" &
sleep 0.3
SH
# escapes: the worker leaves the process group, then the leader exits
cat > sabot-htr-escapes.sh <<SH
setsid sh $T_TMP/sabot-htr-worker.sh "\$1" &
sleep 0.3
SH
# stubborn: leader and worker ignore SIGTERM, the leader stays
cat > sabot-htr-stubborn.sh <<SH
trap '' TERM
sh $T_TMP/sabot-htr-worker.sh "\$1" &
while :; do sleep 0.1; done
SH

scenario() { # CASE SHAPE DURATION
	cat > "$1.ini" <<INI
[scenario]
name = htr-$id-$1
duration = $3
[target t]
exec = /bin/sh $T_TMP/sabot-htr-$2.sh $T_TMP/$1.pid
[fault e]
type = syscall-error
target = t
syscalls = getppid
errno = EIO
probability = 1%
INI
}
worker_of() { wait_for 3000 test -s "$1.pid" && cat "$1.pid"; }
check_gone() { # CASE WHO MS
	w=$(cat "$1.pid" 2>/dev/null)
	if [ -z "$w" ]; then fail "$1: the worker never started"; return; fi
	if wait_for "$3" gone "$w"; then pass "$1: the worker (pid $w) ended with the run, by $2"; else
		fail "$1: the worker (pid $w) outlived the run ($2): $(cat /proc/$w/cmdline 2>/dev/null | tr '\0' ' ')"
		kill -9 "$w"
	fi
}

# --- the runner, at the end of the run ---
for shape in leaves escapes stubborn; do
	c=run-$shape
	scenario $c $shape 2s
	$S run $c.ini > $c.out 2>&1
	rc=$?
	[ $rc = 0 ] && pass "$c: the run exits 0" || fail "$c: exit $rc: $(cat $c.out)"
	check_gone $c "the runner" 500
done

# --- the guardian, after SIGKILL of the runner ---
for shape in leaves escapes stubborn; do
	c=guardian-$shape
	scenario $c $shape 60s
	$S run $c.ini > $c.out 2>&1 &
	runner=$!
	w=$(worker_of $c)
	sleep 0.5 # the leader has exited (leaves, escapes)
	kill -9 $runner
	wait $runner 2>/dev/null
	runner=""
	# stubborn: 2 s for SIGTERM, then SIGKILL.
	check_gone $c "the guardian" 4000
	wait_for 5000 no_journals || fail "$c: journal left"
done

# --- sabot recover, after SIGKILL of the runner and the guardian ---
guardian_pid() { sed -n 's/^guardian pid=\([0-9]*\).*/\1/p' run/runs/*.journal 2>/dev/null | head -n 1; }
guardian_known() { [ -n "$(guardian_pid)" ]; }
for shape in leaves escapes; do
	c=recover-$shape
	scenario $c $shape 60s
	$S run $c.ini > $c.out 2>&1 &
	runner=$!
	w=$(worker_of $c)
	# The guardian's pid is in the journal once it has started; under load
	# that can take longer than any fixed sleep.
	wait_for 5000 guardian_known || fail "$c: no guardian pid in the journal"
	g=$(guardian_pid)
	# Both stopped, then both killed: one killed after the other, the
	# survivor would see it die and end the tree itself.
	kill -STOP $runner "$g"
	kill_run $runner "$g"
	wait $runner 2>/dev/null
	runner=""
	gone "$w" && fail "$c: the worker died with the runner and guardian; nothing to test" ||
		pass "$c: with runner and guardian SIGKILLed, the worker is still running"
	expect_exit 0 "$c: sabot recover exits 0" $S recover
	check_gone $c "sabot recover" 1000
done

[ -z "$(our_cgroups)" ] && pass "no sabot cgroup of this test is left" || fail "cgroups left: $(our_cgroups)"
no_journals && pass "no journal left" || fail "journals left: $(ls run/runs)"
t_done
