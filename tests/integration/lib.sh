# Helpers for root integration tests. Each test prints PASS:/FAIL:/SKIP:
# lines; run.sh counts them. Every kernel object a test makes is named
# sabot-it-* and removed by the test's cleanup.
: "${SABOT:?set SABOT to the sabot binary}"
T_FAILS=0
T_TMP=$(mktemp -d /tmp/sabot-it.XXXXXX)
chmod 755 "$T_TMP"

# Debian's busybox sh (the VM tier's shell) runs its own ip/tc applets
# before PATH: use iproute2's by full path there.
if [ -n "${SABOT_VM:-}" ]; then
	ip() { /usr/sbin/ip "$@"; }
	tc() { /usr/sbin/tc "$@"; }
fi

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
skip() { echo "SKIP: $*"; }

# expect_exit CODE DESC CMD... — run CMD, keep its output in $OUT.
expect_exit() {
	want=$1 desc=$2
	shift 2
	OUT=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc (exit $rc, want $want)"
		printf '%s\n' "$OUT" | sed 's/^/    | /'
	fi
}

# expect_out DESC PATTERN — grep -E PATTERN in $OUT.
expect_out() {
	if printf '%s\n' "$OUT" | grep -qE -- "$2"; then
		pass "$1"
	else
		fail "$1 (no /$2/ in output)"
		printf '%s\n' "$OUT" | sed 's/^/    | /'
	fi
}

expect_no_out() {
	if printf '%s\n' "$OUT" | grep -qE -- "$2"; then
		fail "$1 (/$2/ in output)"
		printf '%s\n' "$OUT" | sed 's/^/    | /'
	else
		pass "$1"
	fi
}

# What sabot could change on the host: links, qdiscs, filters, BPF
# programs, its state and run directories.
host_snapshot() {
	ip -o link show | sed 's/ state [A-Z]*//; s/qlen [0-9]*//' | awk '{print $2}'
	tc qdisc show
	for dev in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'); do
		tc filter show dev "$dev" ingress 2>/dev/null
		tc filter show dev "$dev" egress 2>/dev/null
	done
	bpftool prog show 2>/dev/null | grep -o 'name [a-z0-9_]*' | sort
	ls -la /run/sabot /var/lib/sabot /etc/sabot 2>&1
	ip netns list
}

t_cleanup_tmp() { [ -n "${SABOT_TEST_KEEP:-}" ] && echo "kept $T_TMP" && return; rm -rf "$T_TMP"; }

t_done() {
	exit $((T_FAILS > 0))
}

# The state letter of a process (R, S, T, Z...), empty when gone.
pstate() { sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null; }

# wait_for MS CMD...: poll CMD every 20 ms until it succeeds or MS pass.
wait_for() {
	ms=$1
	shift
	while [ "$ms" -gt 0 ]; do
		"$@" && return 0
		sleep 0.02
		ms=$((ms - 20))
	done
	"$@"
}

all_in_state() { # STATE PID...
	want=$1
	shift
	for p in "$@"; do [ "$(pstate "$p")" = "$want" ] || return 1; done
}
none_in_state() {
	bad=$1
	shift
	for p in "$@"; do [ "$(pstate "$p")" != "$bad" ] || return 1; done
}
alive_count() {
	n=0
	for p in "$@"; do [ -d "/proc/$p" ] && [ "$(pstate "$p")" != Z ] && n=$((n + 1)); done
	echo $n
}

# No journal left in this test's run dir. A function, so that wait_for runs
# the ls each time rather than once when it is called.
no_journals() { [ -z "$(ls "$T_TMP/run/runs" 2>/dev/null)" ]; }

# netns_pair A B DEV_A DEV_B ADDR_A ADDR_B: two namespaces joined by a veth
# pair, addressed (/24) and up, loopback up too. Deleting the namespaces
# removes the pair.
netns_pair() {
	ip netns add "$1" && ip netns add "$2" &&
		ip link add "$3" netns "$1" type veth peer name "$4" netns "$2" &&
		ip -n "$1" addr add "$5/24" dev "$3" && ip -n "$2" addr add "$6/24" dev "$4" &&
		ip -n "$1" link set "$3" up && ip -n "$2" link set "$4" up &&
		ip -n "$1" link set lo up && ip -n "$2" link set lo up
}
