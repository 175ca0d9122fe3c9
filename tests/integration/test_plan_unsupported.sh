#!/bin/sh
# `sabot plan` marks each fault this host cannot inject (its kind's probe,
# the one a run's preflight asks), saying that a run would exit 6, in its
# text and in --json (a field per fault, in the schema); and `sabot run` of
# the same file indeed exits 6 for the same faults, for the same reason,
# touching nothing. Where plan marks nothing, run does not exit 6. Asked of
# a latency fault (netem: missing on this project's kernel), a cgroup
# squeeze (the controller: none on a hybrid host's cgroup2) and a BPF
# syscall fault (tracing BPF), on whatever kernel the test runs on.
T_OWN_NS=1
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
J=$top/tests/helpers/json_check.py
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
root=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
# $$ is 1 in the test's own pid namespace: T_TMP's suffix is unique.
id=${T_TMP##*.}
P=$root/sabot-it-pu-$id
sleeper=""
cleanup() {
	[ -n "$sleeper" ] && kill -9 "$sleeper" 2>/dev/null
	wait 2>/dev/null
	[ -n "$root" ] && rmdir "$P/app" "$P" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"
ip link set lo up

cat > lat.ini <<'INI'
[scenario]
name = pu-latency
duration = 2s

[fault slow]
type = latency
interface = lo
delay = 20ms

[fault drop]
type = loss
interface = lo
percent = 1%
INI

sleep 300 &
sleeper=$!
cat > sys.ini <<INI
[scenario]
name = pu-syscall
duration = 2s

[target s]
pid = $sleeper

[fault eio]
type = syscall-error
target = s
backend = bpf
syscalls = write
errno = EIO
INI

# Only what the classifier does (clsact, cls_bpf: this project's kernel
# has them): plan marks nothing, and the run goes ahead.
cat > loss.ini <<'INI'
[scenario]
name = pu-loss
duration = 1s

[fault drop]
type = loss
interface = lo
percent = 1%
INI

files="lat.ini sys.ini loss.ini"
if [ -n "$root" ] && mkdir "$P" "$P/app"; then
	cat > cg.ini <<INI
[scenario]
name = pu-cgroup
duration = 2s

[target app]
cgroup = sabot-it-pu-$id/app

[fault cpu]
type = cpu
target = app
quota = 50%
INI
	files="$files cg.ini"
else
	skip "no cgroup2 here: the squeeze's probe is not asked"
fi

for f in $files; do
	expect_exit 0 "$f: plan exits 0 (a plan, whatever this host lacks)" $S plan "$f"
	text=$OUT
	$S plan --json "$f" > "$f.json" 2>/dev/null
	$J schema plan "$f.json" && pass "$f: plan --json follows its schema" || fail "$f: plan --json: $(cat "$f.json")"
	# name<TAB>why of each fault plan marks.
	marked=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for x in d["faults"]:
    u = x.get("unsupported")
    if u:
        assert u["run_exit"] == 6
        assert x["plan"][-1] == "! not supported here: %s; run would exit 6 (--skip-unsupported leaves it out)" % u["why"]
        print(x["name"] + "\t" + u["why"])
' "$f.json") || { fail "$f: the marks in plan --json: $(cat "$f.json")"; continue; }
	n=$(printf '%s' "$marked" | grep -c .)
	# Whether this kernel has netem, asked of tc on the test's own lo:
	# plan's mark on the latency fault must say the same.
	if [ "$f" = lat.ini ]; then
		if tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
			tc qdisc del dev lo root
			printf '%s\n' "$marked" | grep -q "^slow	" && fail "lat.ini: tc makes a netem qdisc, yet plan marks it: $marked" ||
				pass "lat.ini: this kernel has netem (tc says) and plan does not mark the latency fault"
		else
			printf '%s\n' "$marked" | grep -q "^slow	.*netem" && pass "lat.ini: no netem here (tc says) and plan says so: run would exit 6" ||
				fail "lat.ini: tc cannot make a netem qdisc, but plan does not mark the latency fault: $marked"
		fi
	fi
	n_text=$(printf '%s\n' "$text" | grep -c '^      ! not supported here: .*; run would exit 6')
	[ "$n" = "$n_text" ] && pass "$f: plan marks $n fault(s) in its text as in --json" ||
		fail "$f: $n marked in --json, $n_text in the text"
	if [ "$n" -gt 0 ]; then
		expect_exit 6 "$f: run exits 6, as plan said" $S run --yes "$f"
		tab=$(printf '\t')
		while IFS=$tab read -r name why; do
			printf '%s\n' "$OUT" | grep -F "fault '$name': type = " | grep -qF "is not supported here: $why" &&
				pass "$f: run refuses fault '$name' for the reason plan gave" ||
				fail "$f: run's reason for '$name' is not plan's ($why)"
		done <<MARKED
$marked
MARKED
		[ -z "$(ls run/runs 2>/dev/null)" ] && pass "$f: no journal: nothing was applied" ||
			fail "$f: a journal was left: $(ls run/runs)"
	else
		$S run --yes "$f" > run.out 2>&1
		rc=$?
		[ "$rc" != 6 ] && pass "$f: plan marked nothing and run does not exit 6 (exit $rc)" ||
			{ fail "$f: plan marked nothing, yet run exits 6"; sed 's/^/    | /' run.out; }
	fi
done
t_done
