#!/bin/sh
# The guardian's exemption from the OOM killer under sabot-run@.service:
# sabot run started with the unit's own CapabilityBoundingSet= (read from
# packaging/systemd/sabot-run@.service, applied with setpriv as systemd
# applies it) leaves the guardian at oom_score_adj -1000 and the runner at
# its own score. Without CAP_SYS_RESOURCE in that set (the unit before)
# the kernel refuses the guardian's write and the exemption is silently
# lost: the control case shows it.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
worker=""
cleanup() {
	[ -n "$worker" ] && kill -9 "$worker" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
if ! sh -c 'echo -1 > /proc/self/oom_score_adj' 2>/dev/null; then
	skip "this kernel refuses to lower oom_score_adj, even for root ($(sh -c 'echo -1 > /proc/self/oom_score_adj' 2>&1 | sed 's/.*: //')): the guardian's exemption cannot be tried here"
	t_done
fi
command -v setpriv >/dev/null || { skip "no setpriv (util-linux)"; t_done; }
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$top/packaging/systemd/sabot-run@.service")
to_setpriv() { echo "-all$(for c in "$@"; do printf ',+%s' "$(echo "${c#CAP_}" | tr A-Z a-z)"; done)"; }
cp "$(command -v sleep)" "$T_TMP/sabot-itoom$$"
"$T_TMP/sabot-itoom$$" 600 &
worker=$!
printf '[scenario]\nname = oom\nduration = 3s\n[target w]\npid = %d\n[fault p]\ntype = pause\ntarget = w\n' $worker > "$T_TMP/oom.ini"
try() { # DESC SETPRIV-BOUNDING-SET: the guardian's and the runner's oom_score_adj
	setpriv --bounding-set "$2" "$SABOT" --state-dir "$T_TMP/state" --run-dir "$T_TMP/run" run --yes "$T_TMP/oom.ini" \
		>"$T_TMP/run.out" 2>&1 &
	runner=$!
	g=""
	n=0
	while [ -z "$g" ] && [ $n -lt 250 ]; do
		g=$(sed -n 's/.*guardian pid \([0-9]*\).*/\1/p' "$T_TMP/run.out" | head -n 1)
		sleep 0.02
		n=$((n + 1))
	done
	sleep 0.3
	gadj=$(cat "/proc/$g/oom_score_adj" 2>/dev/null)
	radj=$(cat "/proc/$runner/oom_score_adj" 2>/dev/null)
	wait $runner
}
try "unit" "$(to_setpriv $caps)"
[ "$gadj" = -1000 ] && pass "under the unit's bounding set the guardian is exempt (oom_score_adj $gadj)" ||
	fail "under the unit's bounding set the guardian's oom_score_adj is '${gadj}': $(cat "$T_TMP/run.out")"
[ "$radj" != -1000 ] && pass "and the runner keeps its own ($radj)" || fail "the runner is exempt too"
try "unit without CAP_SYS_RESOURCE" "$(to_setpriv $(echo $caps | sed 's/CAP_SYS_RESOURCE//'))"
[ "$gadj" != -1000 ] && pass "control: without CAP_SYS_RESOURCE (the unit before) the exemption is lost (oom_score_adj '$gadj')" ||
	fail "control: the guardian was exempt without CAP_SYS_RESOURCE"
t_done
