#!/bin/sh
# Promise: everything that can be known before the first change is checked
# then. Each bad input below sits in a scenario whose other faults would be
# applied first (a blackhole on an interface that exists, a pause of a
# worker, both at 0s): the run must refuse with FILE:LINE and exit 2 before
# touching anything, and what this test could have seen changed (links,
# qdiscs and filters of its namespace, journals, the worker's state,
# processes launched from its directory) must be as it was.
#
# Which command checks what: `validate` checks the file alone (it may run on
# another machine: a build host, CI), so it refuses the port-range ceiling,
# overflowing or absurd durations and malformed URLs; `plan` and `run` also
# check this host, in the network namespace the run uses: interfaces, exec
# programs, pidfiles.
. "${TESTLIB:-$(dirname "$0")/../integration/lib.sh}"
id=$$
ns=sabot-vbt$id
dev=sabot-vd$id
worker=sabot-vw$id
S="$SABOT --policy $T_TMP/policy.ini --state-dir $T_TMP/state --run-dir $T_TMP/run"
W=""

cleanup() {
	[ -n "$W" ] && { kill -CONT "$W"; kill -9 "$W"; } 2>/dev/null
	for p in $(pgrep -f "$T_TMP/" 2>/dev/null); do kill -CONT "$p"; kill -9 "$p"; done 2>/dev/null
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP" || exit 1

ip netns add "$ns" && ip -n "$ns" link add "$dev" type veth peer name "sabot-vp$id" && ip -n "$ns" link set "$dev" up &&
	ip -n "$ns" link set lo up || { skip "cannot create a network namespace with a veth pair"; t_done; }
printf '[limits]\nmax_duration = 2h\n' > policy.ini
cp "$(command -v sleep)" "$T_TMP/$worker"
"$T_TMP/$worker" 600 &
W=$!
printf '%s\n' "$W" > worker.pid
printf '#!/bin/sh\nexec sleep 60\n' > noexec.sh
chmod 644 noexec.sh

snapshot() {
	ip -n "$ns" -o link show | awk '{print $2}'
	ip netns exec "$ns" tc qdisc show
	for d in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'); do
		ip netns exec "$ns" tc filter show dev "$d" ingress
		ip netns exec "$ns" tc filter show dev "$d" egress
	done
	ls "$T_TMP/run/runs" 2>/dev/null
	echo "worker $(pstate "$W")"
	pgrep -f "$T_TMP/" | grep -vx "$W"
}
BEFORE=$(snapshot)

# While a run goes on: did it ever stop the worker or put a clsact on the
# interface? (A run that fails mid-way reverts before it exits, so the
# snapshot afterwards alone could not tell.)
watch_start() {
	rm -f touched
	(
		while :; do
			[ "$(pstate "$W")" = T ] && echo "the worker was stopped" >> touched
			ip netns exec "$ns" tc qdisc show dev "$dev" 2>/dev/null | grep -q clsact &&
				echo "a clsact was added on $dev" >> touched
			sleep 0.01
		done
	) &
	WATCH=$!
}
watch_stop() { kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null; }

# case NAME WANT_VALIDATE WANT_RUN LINE_PATTERN: the scenario on stdin goes
# after the two good faults (lines 1-11; HEAD, if set, is line 4); LINE_PATTERN is the line the
# refusal must name.
case_() {
	name=$1 want_v=$2 want_r=$3 line=$4
	{
		printf '[scenario]\nname = %s\nduration = 59m\n' "$name"
		[ -n "${HEAD:-}" ] && printf '%s\n' "$HEAD"
		printf '[target w]\ncomm = %s\n' "$worker"
		printf '[fault good-net]\ntype = blackhole\ninterface = %s\n' "$dev"
		printf '[fault good-pause]\ntype = pause\ntarget = w\n'
		cat
	} > "$name.ini"
	expect_exit "$want_v" "$name: validate exits $want_v" $S validate "$name.ini"
	[ "$want_v" = 2 ] && expect_out "$name: validate names $name.ini:$line" "^$name\\.ini:$line: "
	watch_start
	# A run that is wrongly accepted would last 59 minutes.
	OUT=$(timeout -s TERM 20 ip netns exec "$ns" $S run "$name.ini" 2>&1)
	rc=$?
	watch_stop
	if [ -s touched ]; then fail "$name: the run touched the host: $(sort -u touched | tr '\n' ';')"; else
		pass "$name: the run touched nothing while it ran"
	fi
	if [ "$rc" = "$want_r" ]; then pass "$name: run refuses with exit $want_r"; else
		fail "$name: run exits $rc, want $want_r"
		printf '%s\n' "$OUT" | sed 's/^/    | /'
	fi
	expect_out "$name: run names $name.ini:$line" "^$name\\.ini:$line: "
	AFTER=$(snapshot)
	if [ "$AFTER" = "$BEFORE" ]; then pass "$name: nothing was touched"; else
		fail "$name: the host changed"
		diff -u "$(printf '%s\n' "$BEFORE" > before.txt; echo before.txt)" \
			"$(printf '%s\n' "$AFTER" > after.txt; echo after.txt)" | sed 's/^/    | /'
		# Undo what the broken run left, for the next case.
		kill -CONT "$W" 2>/dev/null
		ip netns exec "$ns" tc qdisc del dev "$dev" clsact 2>/dev/null
		rm -f "$T_TMP"/run/runs/*
	fi
	if [ "$want_r" = 2 ] && [ "$want_v" = 0 ]; then
		OUT=$(ip netns exec "$ns" $S plan "$name.ini" 2>&1)
		rc=$?
		[ "$rc" = 2 ] && pass "$name: plan exits 2 too" || fail "$name: plan exits $rc, want 2"
		expect_out "$name: plan names $name.ini:$line" "^$name\\.ini:$line: "
	fi
}

# --- this host: checked by plan and run, in the run's network namespace ---
case_ iface 0 2 14 <<EOF
[fault bad]
type = loss
interface = sabot-nx$id
percent = 50%
EOF
# The interface exists outside the run's namespace, not in it.
ip link add "sabot-vo$id" type veth peer name "sabot-vq$id" 2>/dev/null
case_ iface-elsewhere 0 2 14 <<EOF
[fault bad]
type = loss
interface = sabot-vo$id
percent = 50%
EOF
ip link del "sabot-vo$id" 2>/dev/null
case_ exec-missing 0 2 13 <<EOF
[target x]
exec = $T_TMP/sabot-none$id --flag
[fault bad]
type = kill
target = x
EOF
case_ exec-not-executable 0 2 13 <<EOF
[target x]
exec = $T_TMP/noexec.sh
[fault bad]
type = kill
target = x
EOF
case_ exec-directory 0 2 13 <<EOF
[target x]
exec = $T_TMP
[fault bad]
type = kill
target = x
EOF
echo 1 > pid1
case_ pidfile-1 0 2 13 <<EOF
[target x]
pidfile = $T_TMP/pid1
[fault bad]
type = kill
target = x
EOF
echo 2 > pid2
case_ pidfile-kthread 0 2 13 <<EOF
[target x]
pidfile = $T_TMP/pid2
[fault bad]
type = pause
target = x
EOF
# A number that /proc makes up (the last pid handed out): any process.
ln -s /proc/sys/kernel/ns_last_pid pidproc
case_ pidfile-into-proc 0 2 13 <<EOF
[target x]
pidfile = $T_TMP/pidproc
[fault bad]
type = kill
target = x
EOF
ln -s /proc/self/fdinfo/0 pidproc2
case_ pidfile-into-proc-self 0 2 13 <<EOF
[target x]
pidfile = $T_TMP/pidproc2
[fault bad]
type = kill
target = x
EOF
# The pidfile is fine: a run has a target to pause (sanity: the checks
# above did not refuse everything).
printf '[scenario]\nname = okpf\nduration = 300ms\n[target x]\npidfile = %s/worker.pid\n[fault p]\ntype = pause\ntarget = x\n' "$T_TMP" > okpf.ini
expect_exit 0 "a pidfile naming a plain process is accepted and run" $S run okpf.ini

# --- the file alone: validate refuses these too ---
case_ ports-17 2 2 16 <<'EOF'
[fault bad]
type = loss
interface = lo
percent = 10%
dport = 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33
EOF
case_ sports-17 2 2 15 <<'EOF'
[fault bad]
type = blackhole
interface = lo
sport = 1000-1001, 1003, 1005, 1007, 1009, 1011, 1013, 1015, 1017, 1019, 1021, 1023, 1025, 1027, 1029, 1031, 1033
EOF
printf '[scenario]\nname = ports16\nduration = 1s\n[fault l]\ntype = loss\ninterface = lo\npercent = 1%%\ndport = 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31\n' > ports16.ini
expect_exit 0 "16 port ranges (what the classifier holds) are valid" $S validate ports16.ini
# 40m + 5124095h wraps 64-bit nanoseconds to about 5 minutes.
case_ window-wraps 2 2 16 <<'EOF'
[fault bad]
type = kill
target = w
start = 40m
duration = 5124095h
EOF
HEAD='steady_state = 5124095h'
case_ steady-huge 2 2 4 < /dev/null
HEAD='cooldown = 5124000h'
case_ cooldown-huge 2 2 4 < /dev/null
# Far below the wrap, but no run lasts a year: every duration has a ceiling.
HEAD='steady_state = 9000h'
case_ steady-9000h 2 2 4 < /dev/null
HEAD=
case_ every-huge 2 2 16 <<'EOF'
[fault bad]
type = kill
target = w
start = 1s
every = 5124095h
EOF
case_ url-port-99999 2 2 14 <<'EOF'
[slo h]
probe = http
url = http://127.0.0.1:99999/healthz
max_error_rate = 10%
EOF
case_ url-port-0 2 2 14 <<'EOF'
[slo h]
probe = http
url = http://127.0.0.1:0/healthz
max_error_rate = 10%
EOF
case_ url-port-junk 2 2 14 <<'EOF'
[slo h]
probe = http
url = http://localhost:80x/healthz
max_error_rate = 10%
EOF
case_ url-two-ports 2 2 14 <<'EOF'
[slo h]
probe = http
url = http://localhost:8080:90/
max_error_rate = 10%
EOF
case_ url-bad-ipv6 2 2 14 <<'EOF'
[slo h]
probe = prometheus
url = http://[::1:9090
query = up
max = 1
EOF
case_ url-no-host 2 2 14 <<'EOF'
[slo h]
probe = http
url = http://:8080/
max_error_rate = 10%
EOF
printf '[scenario]\nname = urlok\nduration = 1s\n[fault p]\ntype = loss\ninterface = lo\npercent = 1%%\n[slo a]\nprobe = http\nurl = http://[::1]:8080/a?b=c#d\nmax_error_rate = 1%%\n[slo b]\nprobe = http\nurl = https://Example.COM./x/y\nmax_error_rate = 1%%\n[slo c]\nprobe = http\nurl = http://127.0.0.1:65535\nmax_error_rate = 1%%\n' > urlok.ini
expect_exit 0 "well-formed URLs (IPv6, a trailing dot, port 65535, no path) are valid" $S validate urlok.ini

# The policy's protected ports share the classifier: 17 cannot load.
printf '[protect]\nports = 22, 1001, 1003, 1005, 1007, 1009, 1011, 1013, 1015, 1017, 1019, 1021, 1023, 1025, 1027, 1029, 1031\n' > ports.policy
printf '[scenario]\nname = pp\nduration = 59m\n[target w]\ncomm = %s\n[fault p]\ntype = pause\ntarget = w\n[fault bh]\ntype = blackhole\ninterface = %s\n' "$worker" "$dev" > pp.ini
watch_start
OUT=$(timeout -s TERM 20 ip netns exec "$ns" $SABOT --policy "$T_TMP/ports.policy" --state-dir "$T_TMP/state" --run-dir "$T_TMP/run" run pp.ini 2>&1)
rc=$?
watch_stop
[ $rc = 2 ] && pass "17 protected ports in the policy: the run refuses with exit 2" || fail "17 protected ports: exit $rc"
[ -s touched ] && fail "17 protected ports: the run touched the host: $(sort -u touched | tr '\n' ';')" ||
	pass "17 protected ports: nothing was touched"
expect_out "naming the policy's line" "ports\.policy:2: \[protect\] ports has 17"

[ "$(pstate "$W")" = S ] && pass "the worker was never stopped" || fail "worker state $(pstate "$W")"
t_done
