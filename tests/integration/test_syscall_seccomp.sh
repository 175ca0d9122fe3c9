#!/bin/sh
# Syscall faults through seccomp user notification, on targets the run
# launches: a helper (build/tests/helpers/writer) makes write(2) calls and
# reports what each returned.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
writer=$BUILD/tests/helpers/writer
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
cleanup() {
	pkill -9 -f "^$writer .*$T_TMP" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
mkdir -p data other
alive() { pgrep -f "^$writer .*$T_TMP" >/dev/null; }
field() { sed -n "s|^$T_TMP/$1 .*$2=\([0-9]*\).*|\1|p" report; }

# NAME.ini: the writer making WRITES writes under one fault of TYPE on
# write(2), with the fault's LINES.  NAME DURATION WRITES TYPE LINES...
writer_ini() {
	n=$1 d=$2 w=$3 t=$4
	shift 4
	{
		printf '[scenario]\nname = %s\nduration = %s\n[target w]\nexec = %s %s %s/report %s/data/a\n' \
			"$n" "$d" "$writer" "$w" "$T_TMP" "$T_TMP"
		printf '[fault f]\ntype = %s\ntarget = w\nsyscalls = write\n' "$t"
		printf '%s\n' "$@"
	} > "$n.ini"
}

# --- 2000 writes at 25%: EIO on a count within 4 sigma of 500, nothing else ---
writer_ini p25 3s 2000 syscall-error 'errno = EIO' 'probability = 25%'
expect_exit 0 "a syscall-error run completes" $S run p25.ini
expect_out "the target runs under a seccomp notify filter" 'under a seccomp notify filter'
eio=$(field data/a eio)
other=$(field data/a other)
# sd = sqrt(2000 * 0.25 * 0.75) = 19.4; 4 sd = 77
if [ -n "$eio" ] && [ "$eio" -ge 423 ] && [ "$eio" -le 577 ]; then pass "25% of 2000 writes: $eio got EIO (within 4 sigma of 500)"; else
	fail "25% of 2000 writes: ${eio:-?} got EIO, want 423..577"
fi
[ "$other" = 0 ] && pass "and no other errno" || fail "other errnos: $other"
alive && fail "the launched target outlived the run" || pass "the launched target is gone when the run ends"

# --- a path prefix limits the errors to that directory ---
sed -e "s|^exec = .*|exec = $writer 2000 $T_TMP/report $T_TMP/data/a $T_TMP/other/b|" \
	-e "s|^probability = .*|probability = 50%\npath = $T_TMP/data/|" p25.ini > path.ini
expect_exit 0 "a run with a path prefix completes" $S run path.ini
a=$(field data/a eio)
b=$(field other/b eio)
[ "${a:-0}" -gt 300 ] && pass "writes under $T_TMP/data/ fail ($a of 1000)" || fail "under the prefix: ${a:-?} failed"
[ "$b" = 0 ] && pass "writes elsewhere do not (0 of 1000)" || fail "outside the prefix: $b failed"

# --- syscall-delay: each matched call is held, then proceeds ---
writer_ini delay 4s 50 syscall-delay 'delay = 20ms'
expect_exit 0 "a syscall-delay run completes" $S run delay.ini
ns=$(sed -n 's/^ns_per_write=//p' report)
ok=$(field data/a ok)
if [ -n "$ns" ] && [ "$ns" -ge 15000000 ] && [ "$ns" -le 25000000 ]; then pass "delay = 20ms: $((ns / 1000)) us per write"; else
	fail "delay = 20ms: ${ns:-?} ns per write, want 15..25 ms"
fi
[ "$ok" = 50 ] && pass "and every held call succeeded" || fail "held calls: ok=$ok"

# --- SIGKILL of the runner: a call held on the listener continues (fail open) ---
sed -e "s|^delay = .*|delay = 5s|" -e "s|^duration = .*|duration = 30s|" -e "s|$writer 50|$writer 1|" delay.ini > held.ini
rm -f report
$S run held.ini > held.out 2>&1 &
runner=$!
wait_for 3000 alive || fail "the target did not start"
sleep 0.5
[ ! -e report ] && pass "the target is held in write(2)" || fail "the write was not held"
kill -9 $runner
wait_for 2000 test -e report && pass "SIGKILL of the runner: the held call went on" || fail "no report after the runner died"
[ "$(field data/a ok)" = 1 ] && [ "$(field data/a other)" = 0 ] && pass "and succeeded (no ENOSYS)" ||
	fail "the held call failed: $(cat report 2>/dev/null)"
wait_for 4000 eval '! alive' && pass "the guardian then terminated the launched target" || fail "the launched target is still running"
wait $runner 2>/dev/null
# The guardian gives targets up to 2 s after SIGTERM: allow that and more.
wait_for 5000 no_journals && pass "no journal left" || fail "journal left"

# --- refused before anything is touched ---
cp "$writer" "$T_TMP/sabot-itsys"
"$T_TMP/sabot-itsys" 1000000 /dev/null /dev/null &
running=$!
printf '[scenario]\nname = bpf\nduration = 5s\n[target t]\ncomm = sabot-itsys\n[fault e]\ntype = syscall-error\ntarget = t\nsyscalls = write\nerrno = EIO\n' > bpf.ini
if "$SABOT" doctor 2>/dev/null | grep -q 'running processes (eBPF LSM hooks) *ok'; then
	expect_exit 6 "a running target needs the eBPF backend, not yet wired into run" $S run bpf.ini
else
	expect_exit 6 "a running target needs the eBPF backend, which this kernel refuses" $S run bpf.ini
	expect_out "with the reason" "bpf\.ini:7: fault 'e': type = syscall-error is not supported here: the eBPF backend .* does not load here"
fi
kill -9 $running
wait $running 2>/dev/null
printf '[scenario]\nname = d\nduration = 5s\n[target t]\ncomm = x\n[fault d]\ntype = syscall-delay\ntarget = t\nsyscalls = write\ndelay = 1ms\n' > baddelay.ini
expect_exit 2 "syscall-delay on a running process is invalid" $SABOT validate baddelay.ini
expect_out "with the reason" "baddelay\.ini:8: syscall-delay works only for targets that sabot launches"
t_done
