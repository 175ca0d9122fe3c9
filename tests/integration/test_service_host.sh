#!/bin/sh
# type = service where systemd is not PID 1 (this host): the kind's probe
# refuses it before anything is done, `sabot run` exits 6 with the
# probe's reason, and `sabot plan` marks the fault as not supported here.
# (Its effect on a real systemd is tests/vm/systemd/test_service_fault.sh.)
. "${TESTLIB:?}"
id=$$
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
trap t_cleanup_tmp EXIT
if [ "$(cat /proc/1/comm)" = systemd ]; then
	skip "systemd is PID 1 here: the refusal this test checks cannot happen (the VM tier tests the kind itself)"
	t_done
fi
cat > "$T_TMP/svc.ini" <<INI
[scenario]
name = svc-host-$id
duration = 3s
[target svc]
unit = sabot-svc$id.service
[fault f]
type = service
target = svc
action = stop
INI
expect_exit 0 "validate accepts a service fault" $S validate "$T_TMP/svc.ini"
expect_exit 6 "run of a service fault without systemd as PID 1 exits 6" $S run --yes "$T_TMP/svc.ini"
expect_out "with the probe's reason" "type = service is not supported here: systemd is not PID 1 here: no units to stop"
no_journals && pass "no journal left" || fail "journal left: $(ls "$T_TMP/run/runs")"
expect_exit 0 "plan exits 0" $S plan "$T_TMP/svc.ini"
expect_out "plan says what it would do" "stop unit sabot-svc$id\.service \(StopUnit\), started again at the window's end if it was active"
expect_out "plan marks it not supported here" "! not supported here: systemd is not PID 1 here: no units to stop; run would exit 6"
t_done
