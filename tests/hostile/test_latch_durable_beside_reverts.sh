#!/bin/sh
# Promise: the kill switch's disarm latch is on disk (fsynced, file and
# directory) while the reverts are still running, not after the last of
# them: a host reset while slow reverts run (a service started again, a
# squeezed cgroup emptied) comes back disarmed, and no timer starts chaos
# again. The reverts are made slow for real: strace delays each signal the
# abort sends (pidfd_send_signal, kill) by 700 ms, so four pause faults
# take >= 2.8 s to revert; the latch's fsync of the state directory must
# come before the last revert has returned.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
command -v strace >/dev/null || { skip "strace is not installed (Debian: strace)"; t_done; }
id=$$
N=4
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null
	for p in $W; do kill -CONT "$p"; kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
cp "$(command -v sleep)" "sabot-ld$id"
for i in $(seq 1 $N); do
	"./sabot-ld$id" 600 &
	W="$W $!"
done
{
	printf '[scenario]\nname = ld-%s\nduration = 2m\n' "$id"
	i=0
	for p in $W; do
		printf '[target t%d]\npid = %d\n[fault p%d]\ntype = pause\ntarget = t%d\n' $i "$p" $i $i
		i=$((i + 1))
	done
} > ld.ini
stopped_n() { n=0; for p in $W; do [ "$(pstate "$p")" = T ] && n=$((n + 1)); done; echo $n; }
all_stopped() { [ "$(stopped_n)" = $N ]; }
$S run --yes ld.ini </dev/null > run.out 2>&1 &
runner=$!
wait_for 10000 all_stopped || { fail "the run did not pause all $N targets: $(tail -3 run.out)"; t_done; }
# The runner stopped (a hung run): the abort reverts every fault itself.
kill -STOP "$runner"
# (LeakSanitizer cannot work under ptrace: leaks are checked elsewhere.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -ttt -y -o st.txt -e trace=fsync,fdatasync,pidfd_send_signal,kill \
	-e inject=pidfd_send_signal,kill:delay_enter=700000 $S abort > abort.out 2>&1
rc=$?
kill -CONT "$runner" 2>/dev/null
wait "$runner" 2>/dev/null
runner=""
[ $rc = 0 ] && pass "abort exits 0" || fail "abort exit $rc: $(cat abort.out)"
[ "$(stopped_n)" = 0 ] && pass "every target resumed" || fail "$(stopped_n) targets still stopped"
# fsync of the state directory (the latch's name in it): the line's time.
t_latch=$(awk -v d="$T_TMP/state>" '/fsync\(/ && index($0, d ")") { print $2; exit }' st.txt)
# The last revert's signal (SIGCONT) returning.
t_last=$(awk '/SIGCONT/ && / = 0( |$)/ { t = $2 } END { print t }' st.txt)
n_cont=$(grep -c 'SIGCONT' st.txt)
if [ -z "$t_latch" ] || [ -z "$t_last" ]; then
	fail "no latch fsync ('$t_latch') or no SIGCONT ('$t_last') in the trace: $(head -c 3000 st.txt)"
elif [ "$n_cont" -lt $N ]; then
	fail "only $n_cont of $N reverts (SIGCONT) in the trace"
elif awk -v a="$t_latch" -v b="$t_last" 'BEGIN { exit !(a < b) }'; then
	pass "the latch was durable ($t_latch) before the last of $n_cont slow reverts returned ($t_last)"
else
	fail "the latch was made durable ($t_latch) only after the last slow revert ($t_last): $(grep -e fsync -e SIGCONT st.txt | head -20)"
fi
$S status 2>&1 | grep -qi 'disarmed' && pass "and the host is disarmed" || fail "status: $($S status 2>&1)"
t_done
