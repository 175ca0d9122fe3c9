#!/bin/sh
# SLO breach -> reverted, honestly: from the moment the SLO's server
# starts failing (the flag file its exec probe tests appears; probe
# interval 100 ms, the shortest a scenario may set) to the last of 10
# pause faults reverted, so the probe's interval and the judgement are
# counted, not only what follows the judgement. The run's own
# breach_to_reverted_ms (judgement -> reverted) is printed beside it.
# Peer: a watchdog running the same probe at the same interval and then
# `/bin/kill -CONT` of the same pids; floor: ten kill(SIGCONT). Quiet and
# loaded (a CPU hog per core + a disk writer), run dir on a private tmpfs
# and on a busy ext4 image, >= 100 trials each: bench/abort_latency.c -b
# does the measuring (waitid on the targets, no polling).
#   breach_latency.sh SABOT [TRIALS [abort_latency options: -c OLD_SABOT -r -m MODES -f FSES]]
set -eu
SABOT=$1
N=${2:-100}
[ $# -ge 2 ] && shift 2 || shift $#
BENCH=${ABORT_LATENCY:-$(cd "$(dirname "$0")/.." && pwd)/build/bench/abort_latency}
[ -x "$BENCH" ] || { echo "breach_latency: no $BENCH (make build/bench/abort_latency)" >&2; exit 2; }
exec "$BENCH" -b "$@" "$SABOT" "$N"
