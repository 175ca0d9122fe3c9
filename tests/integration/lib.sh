# Helpers for root integration tests. Each test prints PASS:/FAIL:/SKIP:
# lines; run.sh counts them. Every kernel object a test makes is named
# sabot-it-* and removed by the test's cleanup.
: "${SABOT:?set SABOT to the sabot binary}"
# A test that sets T_OWN_NS=1 before sourcing this file runs in its own
# mount, network and pid namespaces (see troot_up below): every mount it
# makes, every process it starts and every network object sabot makes for
# it die with it, even when it is SIGKILLed. Fd 7 keeps the machine's
# network namespace, for what must reach the network (host_net).
if [ -n "${T_OWN_NS:-}" ] && [ -z "${T_IN_NS:-}" ]; then
	exec 7</proc/self/ns/net
	# --kill-child: if unshare is killed (a CI timeout), so is the tree.
	T_IN_NS=1 exec unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private sh "$0" "$@"
fi
host_net() { if [ -n "${T_IN_NS:-}" ]; then nsenter --net=/proc/self/fd/7 "$@"; else "$@"; fi; }
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

# SIGKILL a run's runner and its guardian so that neither reverts a thing:
# a runner that sees its guardian die reverts everything itself, and a
# guardian that sees its runner die does, each within microseconds on the
# other CPU (seen between the two kills of one 'kill -9 G R' under load:
# "reverted without recover", "no orphan to sweep"). The runner is
# stopped first, and cannot see anything after.
kill_run() { # RUNNER GUARDIAN
	kill -STOP "$1" 2>/dev/null
	kill -9 "$2" 2>/dev/null
	kill -9 "$1" 2>/dev/null
}

# A small ext4 (MB megabytes) in $T_TMP/img on a loop device (LOOP),
# mounted at $MNT; on failure T_WHY says why, for a skip. Undone by
# loop_ext4_down, which fails the test if the loop device stays.
loop_ext4() { # LABEL MB
	LOOP=""
	for tool in mkfs.ext4 losetup; do
		command -v $tool >/dev/null || { T_WHY="no $tool"; return 1; }
	done
	dd if=/dev/zero of="$T_TMP/img" bs=1M count="$2" status=none
	mkfs.ext4 -q -F -m 0 -L "$1" "$T_TMP/img" || { T_WHY="mkfs.ext4 failed"; return 1; }
	LOOP=$(losetup -f --show "$T_TMP/img") || { T_WHY="no loop device (losetup failed)"; LOOP=""; return 1; }
	mkdir -p "$MNT" && mount "$LOOP" "$MNT" || { T_WHY="cannot mount $LOOP"; return 1; }
}
loop_ext4_down() {
	mountpoint -q "$MNT" && umount "$MNT"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	# The detach completes once the last opener lets go (udev probes it).
	i=0
	while [ $i -lt 100 ] && [ -n "$(losetup -j "$T_TMP/img" 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
	left=$(losetup -j "$T_TMP/img" 2>/dev/null)
	[ -z "$left" ] || echo "FAIL: loop device left: $left"
}

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

# netns_pair_down A B: SIGKILL every process left in the two namespaces,
# reap this shell's children, delete both (the pair goes with them). For
# a test's cleanup trap: each step may fail, none stops the others.
netns_pair_down() {
	ip netns pids "$1" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns pids "$2" 2>/dev/null | xargs -r kill -9 2>/dev/null
	wait 2>/dev/null
	ip netns del "$1" 2>/dev/null
	ip netns del "$2" 2>/dev/null
}

# ns_tc_state NS DEV: everything tc and link state of NS that a network
# fault on DEV could change, to compare before and after.
ns_tc_state() {
	ip netns exec "$1" tc qdisc show
	ip netns exec "$1" tc filter show dev "$2" ingress
	ip netns exec "$1" tc filter show dev "$2" egress
	ip netns exec "$1" ip -o link show | sed 's/ state [A-Z]*//' | awk '{print $2, $3}'
}

# dns_pair A B DEV_A DEV_B NET [DNSMASQ OPTIONS]: netns_pair with
# 10.NET.0.1 and fdNET::1 in A (the client), 10.NET.0.2 and fdNET::2 in B,
# where dnsmasq (pid in $dnsmasq_pid, log in ./dnsmasq.log) answers only
# its own names, shop.example.com, db.internal and www.other.test
# (10.NET.1.1 to .3, and what the options add), bound to B's addresses,
# forwarding nothing anywhere; A's resolv.conf (ip-netns' own
# /etc/netns/A, under a sabot-* name) points at it. Fails the test and
# ends it when any of it cannot be made. dns_pair_down A B removes it all.
dns_pair() {
	dp_a=$1 dp_b=$2 dp_dev=$3 dp_peer=$4 dp_net=$5
	shift 5
	netns_pair "$dp_a" "$dp_b" "$dp_dev" "$dp_peer" 10.$dp_net.0.1 10.$dp_net.0.2 || { fail "namespace setup"; t_done; }
	ip -n "$dp_a" addr add fd$dp_net::1/64 dev "$dp_dev" nodad && ip -n "$dp_b" addr add fd$dp_net::2/64 dev "$dp_peer" nodad ||
		{ fail "IPv6 addresses"; t_done; }
	ip netns exec "$dp_b" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
		--bind-interfaces --listen-address=10.$dp_net.0.2 --listen-address=fd$dp_net::2 --except-interface=lo \
		--pid-file= --user=root --address=/shop.example.com/10.$dp_net.1.1 --address=/db.internal/10.$dp_net.1.2 \
		--address=/www.other.test/10.$dp_net.1.3 "$@" > dnsmasq.log 2>&1 &
	dnsmasq_pid=$!
	mkdir -p "/etc/netns/$dp_a" && printf 'nameserver %s\noptions timeout:1 attempts:1\n' 10.$dp_net.0.2 > "/etc/netns/$dp_a/resolv.conf" ||
		{ fail "resolv.conf for $dp_a"; t_done; }
}
dns_pair_down() {
	[ -n "${dnsmasq_pid:-}" ] && kill -9 "$dnsmasq_pid" 2>/dev/null
	netns_pair_down "$1" "$2"
	rm -rf "/etc/netns/$1"
}

# ---- A throwaway root, for what installs into /usr, /etc and /var ----
# The package and Ansible tests install sabot with dpkg into a minimal
# Debian root, never into this machine. A base root per package list is
# made once with debootstrap from this machine's own release and mirror, and
# cached (T_ROOT_CACHE, keyed by release, mirror and package list); each test
# runs in an overlay over it whose writes go to a tmpfs of the test's own
# mount namespace (T_OWN_NS=1), so the base stays pristine and nothing
# outlives the test.
T_ROOT_CACHE=${SABOT_TEST_ROOT_CACHE:-/var/cache/sabot-test-root}

# The mirror this machine's apt uses for its release: deb822 .sources or
# one-line sources.list entries.
troot_mirror() { # SUITE
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" }
			{ u = ""; ok = 0; deb = 0
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
				if ($i ~ /^Types:.*(^|[ \t])deb([ \t]|$)/) deb = 1
				if ($i ~ /^Suites:/ && (" " $i " ") ~ ("[ \t]" s "[ \t]")) ok = 1
			  }
			  if (u != "" && ok && deb) { print u; exit } }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed 's/\[[^]]*\]//' | awk -v s="$1" '$1 == "deb" && $3 == s { print $2 }'
}

# troot_base PACKAGE...: the path of a cached base root with these packages
# (and their dependencies) installed; made now if missing (about a minute).
# T_ROOT_KEY, if set, is part of the cache key too.
troot_base() {
	tb_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	tb_mirror=$(troot_mirror "$tb_suite" | head -n 1)
	[ -n "$tb_suite" ] && [ -n "$tb_mirror" ] || { echo "no release name or apt mirror for it here" >&2; return 1; }
	command -v debootstrap >/dev/null || { echo "no debootstrap: 'make test-deps' installs it" >&2; return 1; }
	tb_list=$(printf '%s\n' "$@" | sort -u | tr '\n' ',' | sed 's/,$//')
	tb_key=$(printf '%s %s %s %s\n' "$tb_suite" "$tb_mirror" "$tb_list" "${T_ROOT_KEY:-}" | sha256sum | cut -c1-16)
	tb_dir=$T_ROOT_CACHE/$tb_suite-$tb_key
	mkdir -p "$T_ROOT_CACHE" || return 1
	(
		flock 9
		[ -f "$tb_dir/complete" ] && exit 0
		tmp=$T_ROOT_CACHE/.build-$$
		# Under the lock, any other build is one that was killed.
		rm -rf --one-file-system "$T_ROOT_CACHE"/.build-*
		mkdir -p "$tmp"
		t0=$(date +%s)
		if ! host_net debootstrap --variant=minbase --include="$tb_list" "$tb_suite" "$tmp/root" "$tb_mirror" >"$tmp/log" 2>&1; then
			echo "debootstrap $tb_suite from $tb_mirror failed:" >&2
			tail -n 5 "$tmp/log" >&2
			rm -rf --one-file-system "$tmp"
			exit 1
		fi
		echo "$tb_list" > "$tmp/packages"
		echo "debootstrap $tb_suite $tb_mirror: $(($(date +%s) - t0)) s" > "$tmp/complete"
		# One base root at a time: the older package lists go.
		for old in "$T_ROOT_CACHE"/"$tb_suite"-*; do
			[ -d "$old" ] && [ "$old" != "$tb_dir" ] && rm -rf --one-file-system "$old"
		done
		rm -rf --one-file-system "$tb_dir"
		mv "$tmp" "$tb_dir"
		echo "    made the base root in $(($(date +%s) - t0)) s (cached in $tb_dir)" >&2
	) 9>"$T_ROOT_CACHE/lock" || return 1
	echo "$tb_dir/root"
}

# troot_up BASE [NAME]: T_ROOT, a writable throwaway copy of BASE with its
# own /proc (this test's pid namespace), /sys, /run and /tmp. Needs
# T_OWN_NS. With NAME, one more such root ($T_TMP/NAME): a test may have
# several (a fleet), all unmounted by troot_down.
T_ROOTS=""
troot_up() {
	[ -n "${T_IN_NS:-}" ] || { echo "troot_up needs the test's own namespaces (T_OWN_NS=1)" >&2; return 1; }
	tu_name=${2:-root}
	T_ROOT=$T_TMP/$tu_name
	tu_ovl=$T_TMP/ovl${2:+-$2}
	T_ROOTS="$T_ROOTS $T_ROOT:$tu_ovl"
	mkdir -p "$tu_ovl" "$T_ROOT" &&
		mount -t tmpfs -o size=1g,mode=0755 sabot-troot "$tu_ovl" &&
		mkdir "$tu_ovl/upper" "$tu_ovl/work" &&
		mount -t overlay -o "lowerdir=$1,upperdir=$tu_ovl/upper,workdir=$tu_ovl/work" sabot-troot "$T_ROOT" &&
		mount -t proc proc "$T_ROOT/proc" &&
		mount -t sysfs sysfs "$T_ROOT/sys" &&
		mount -t tmpfs -o mode=0755 tmpfs "$T_ROOT/run" &&
		mount -t tmpfs -o mode=1777 tmpfs "$T_ROOT/tmp" &&
		ip link set lo up
}

# Run a command inside the throwaway root.
troot() { chroot "$T_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# Unmount the throwaway root before its files go: removing files under a
# mount point would reach into what is mounted there. Refuses to return
# with anything still mounted under T_TMP.
troot_down() {
	[ -n "${T_ROOTS:-}" ] || return 0
	for td in $T_ROOTS; do
		umount -R "${td%%:*}" 2>/dev/null || umount -R -l "${td%%:*}" 2>/dev/null
		umount "${td#*:}" 2>/dev/null || umount -l "${td#*:}" 2>/dev/null
	done
	if grep -q " $T_TMP/" /proc/self/mounts; then
		echo "FAIL: still mounted under $T_TMP; its files are kept"
		SABOT_TEST_KEEP=1
		return 1
	fi
}

# What the package and Ansible tests must never change on this machine:
# the host's own dpkg record of sabot and sabot's paths.
# Which inode each path is, whose and what mode, and the files' sizes and
# times: not directory times, which a sabot installed here changes by using
# its dirs.
host_pkg_snapshot() {
	dpkg-query -W -f='${Package} ${Status} ${Version}\n' sabot 2>&1
	for p in /etc/sabot /etc/sabot/policy.ini /var/lib/sabot /run/sabot /usr/sbin/sabot /usr/share/sabot \
		/usr/share/doc/sabot /usr/lib/systemd/system/sabot-run@.service /lib/systemd/system/sabot-run@.service \
		/var/lib/dpkg/info/sabot.list /var/lib/dpkg/info/sabot.prerm; do
		if [ -d "$p" ]; then
			stat -c '%n %F %i %U:%G %a' "$p"
		else
			stat -c '%n %F %i %U:%G %a %s %Y' "$p" 2>&1
		fi
	done
}

# The packages a base root holds for the package tests: what DEB depends
# on (so that dpkg -i proves its Depends line), and what Ansible needs on a
# host it manages (python3-apt for the apt module) and to run there
# (ansible-core; python3-cffi-backend is a virtual dependency of it that
# debootstrap does not resolve), and the fleet test's sshd and ssh on
# every host. One list for every such test: one base.
troot_pkgs() { # DEB
	dpkg-deb -f "$1" Depends | sed 's/([^)]*)//g; s/[,|]/ /g'
	echo python3-apt python3-cffi-backend ansible-core openssh-server openssh-client
}

# troot_deb_base DEB: the base root for DEB. Its Depends line, versions
# included, is in the key: a machine whose libraries were upgraded builds
# packages that want newer ones than an older base root has.
troot_deb_base() {
	T_ROOT_KEY=$(dpkg-deb -f "$1" Depends) || return 1
	troot_base $(troot_pkgs "$1")
}
