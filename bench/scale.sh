#!/bin/bash
# validate and plan at scale: generated scenarios of 100, 1000 and 2000
# sections, the largest a scenario may be (1024 targets, 1024 faults, 256
# SLOs: scenarios/README.md), and 10,000 sections and a whole 1 MiB file,
# both refused at the ceiling. Each is timed as a user sees it (exec to
# exit) and by its CPU time (user + system), medians of TRIALS interleaved
# runs, against the peer (one linear pass of awk over the same file: every
# line read, every section header hashed for duplicates) and the floor (sabot --version: starting the
# binary and its libraries). With a second binary (e.g. the main branch's
# build), both are run in the same trials: before and after.
#   scale.sh SABOT [TRIALS] [OTHER_SABOT]
# Isolated: its own policy file and state/run dirs in a private tmpfs dir;
# plan reads /proc, touches nothing.
set -u
SABOT=$1
N=${2:-21}
OTHER=${3:-}
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=/tmp
T=$(mktemp -d "$base/sabot-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
printf '[limits]\nmax_duration = 1h\n' > "$T/policy.ini"

# gen SECTIONS [shape]: after [scenario], alternately a target (comm) and a
# fault naming it (kill, latency on lo, pause in turn), and every 50th an
# SLO. shape "max": the ceilings exactly.
gen() {
	awk -v n="$1" -v shape="${2:-mixed}" 'BEGIN {
		printf "[scenario]\nname = scale-%d\nduration = 10m\n", n
		if (shape == "max") {
			for (i = 0; i < 1024; i++) printf "[target t%d]\ncomm = sabot-sc-%d\noptional = yes\n", i, i
			for (i = 0; i < 1024; i++) printf "[fault f%d]\ntype = kill\ntarget = t%d\nsignal = TERM\nevery = 10s\nstart = 1s\nduration = 1m\n", i, i
			for (i = 0; i < 256; i++) printf "[slo s%d]\nprobe = http\nurl = http://127.0.0.1:9/\nmax_error_rate = 5%%\n", i
			exit
		}
		f = 0
		for (i = 1; i < n; i++) {
			if (i % 50 == 0) printf "[slo s%d]\nprobe = http\nurl = http://127.0.0.1:9/\nmax_error_rate = 5%%\ninterval = 1s\n", i
			else if (i % 2 == 1) printf "[target t%d]\ncomm = sabot-sc-%d\noptional = yes\n", i, i
			else if (f++ % 3 == 0) printf "[fault k%d]\ntype = kill\ntarget = t%d\nsignal = TERM\nevery = 10s\nstart = 1s\nduration = 1m\n", i, i - 1
			else if (f % 3 == 2) printf "[fault l%d]\ntype = latency\ninterface = lo\ndelay = 10ms\ndport = 9\nstart = 2s\n", i
			else printf "[fault p%d]\ntype = pause\ntarget = t%d\nstart = 3s\nduration = 5s\n", i, i - 1
		}
	}'
}
for n in 100 1000 2000 10000; do gen $n > "$T/s$n.ini"; done
gen 0 max > "$T/smax.ini"
# A whole 1 MiB of the smallest sections there are: refused, and counted
# past the ceiling rather than parsed.
{ gen 10 | head -n 3; i=0; while :; do printf '[target t%d]\ncomm = x\n' $i; i=$((i + 1)); [ $i -ge 60000 ] && break; done; } |
	head -c 1048000 > "$T/s1m.ini"

# The command's wall time and its CPU time (user + system, which load on
# a shared box inflates far less), in ms: "WALL CPU".
TIMEFORMAT='%3R %3U %3S'
ms() {
	{ time "$@" >/dev/null 2>&1; } 2>&1 | awk '{ printf "%.3f %.3f\n", $1 * 1000, ($2 + $3) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] }'; }
# "WALL/CPU" medians of a file of "WALL CPU" lines.
both() { printf '%s/%s' "$(cut -d' ' -f1 "$1" | median)" "$(cut -d' ' -f2 "$1" | median)"; }
peer() { awk '/^\[/ { if (seen[$0]++) d++ } END { exit d > 0 }' "$1"; }
opts="--policy $T/policy.ini --state-dir $T/state --run-dir $T/run"

echo "validate / plan at scale: median ms of $N interleaved trials, wall (exec to exit) / CPU (user + system)"
printf '  %-26s %13s %13s' "scenario" "validate" "plan"
[ -n "$OTHER" ] && printf ' %15s %15s' "other:validate" "other:plan"
printf ' %13s %11s\n' "awk pass" "floor"
for f in s100 s1000 s2000 smax s10000 s1m; do
	file=$T/$f.ini
	: > "$T/v" ; : > "$T/p"; : > "$T/ov"; : > "$T/op"; : > "$T/a"; : > "$T/fl"
	for t in $(seq "$N"); do
		ms "$SABOT" $opts validate "$file" >> "$T/v"
		# The other binary may take seconds where it grows
		# quadratically: 3 trials of it there.
		other=$OTHER
		[ "$f" = s1m ] && [ "$t" -gt 3 ] && other=
		[ -n "$other" ] && ms "$other" $opts validate "$file" >> "$T/ov"
		ms "$SABOT" $opts plan "$file" >> "$T/p"
		[ -n "$other" ] && ms "$other" $opts plan "$file" >> "$T/op"
		ms peer "$file" >> "$T/a"
		ms "$SABOT" --version >> "$T/fl"
	done
	"$SABOT" $opts validate "$file" > "$T/out" 2>&1
	rc=$?
	what=$(grep -c '^\[' "$file")
	printf '  %-26s %13s %13s' "$what sections (exit $rc)" "$(both "$T/v")" "$(both "$T/p")"
	[ -n "$OTHER" ] && printf ' %15s %15s' "$(both "$T/ov")" "$(both "$T/op")"
	printf ' %13s %11s\n' "$(both "$T/a")" "$(both "$T/fl")"
	[ $rc -ne 0 ] && grep -v -m1 ': warning: ' "$T/out" | sed 's/^[^:]*:/      first error: line /'
done
echo "  (goal: 10,000 sections validated or refused in under 100 ms; the floor is what any sabot command costs)"
[ -n "$OTHER" ] && echo "  other: $OTHER (3 trials on the 1 MiB file)"
