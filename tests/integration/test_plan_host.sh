#!/bin/sh
# sabot plan against real host objects the test creates: a cgroup shaped
# like a systemd unit, processes, a pidfile, a network namespace joined to
# another by a veth pair. Everything is named sabot-it-* and removed.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
ns=sabot-it-$id
ns2=sabot-it-$id-b
cgroot=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | awk '{print $5}')
unit=sabot-it-$id.service
worker=sabot-itw$id
pids=""

cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$cgroot" ]; then
		rmdir "$cgroot/$unit/sub" "$cgroot/$unit" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

# Workers with a comm of their own: a copy of sleep.
cp "$(command -v sleep)" "$T_TMP/$worker"
for i in 1 2 3 4 5; do
	"$T_TMP/$worker" 300 &
	pids="$pids $!"
done

cat > kill.ini <<INI
[scenario]
name = kill-plan
duration = 1m
[target w]
comm = $worker
[fault two]
type = kill
target = w
count = 2
[fault keep4]
type = kill
target = w
percent = 50%
min_survivors = 4
INI
expect_exit 0 "plan a kill by comm" "$SABOT" plan kill.ini
expect_out "resolves the five workers" "5 processes: "
expect_out "count = 2 of 5 strikes 2" "kill 2 of 5 processes of target w per strike \(count 2\), keeping at least 1"
expect_out "min_survivors bounds a percentage" "kill 1 of 5 processes of target w per strike \(percent 50%\), keeping at least 4"

sed "s|^comm = .*|exe = $T_TMP/$worker|" kill.ini > exe.ini
expect_exit 0 "plan by exe" "$SABOT" plan exe.ini
expect_out "exe resolves the same five" "5 processes: "

first=${pids# }
first=${first%% *}
echo "$first" > "$T_TMP/w.pid"
sed "s|^comm = .*|pidfile = $T_TMP/w.pid|" kill.ini > pidfile.ini
expect_exit 0 "plan by pidfile" "$SABOT" plan pidfile.ini
expect_out "pidfile resolves its pid" "1 process: $first \($worker\)"

# A protected comm is never touched, even though the selector matches.
printf '[protect]\ncomms = %s\n' "$worker" > protect.ini
sed "s|^comm = .*|exe = $T_TMP/$worker|" kill.ini > exe.ini
expect_exit 0 "plan with the workers protected" "$SABOT" --policy "$T_TMP/protect.ini" plan exe.ini
expect_out "protected processes are listed as never touched" "never touched: $first \(protected comm $worker\)"
expect_out "and the target is flagged" "^exe\.ini:5: warning: target 'w' matches only protected processes"

# Units: a cgroup named like a unit, with a nested child cgroup.
if [ -z "$cgroot" ] || ! mkdir "$cgroot/$unit" 2>/dev/null; then
	skip "unit targets: no writable cgroup2 hierarchy on this host"
else
	mkdir "$cgroot/$unit/sub"
	set -- $pids
	echo "$1" > "$cgroot/$unit/cgroup.procs"
	echo "$2" > "$cgroot/$unit/sub/cgroup.procs"
	cat > unit.ini <<INI
[scenario]
name = unit-plan
duration = 1m
[target svc]
unit = $unit
[fault freeze]
type = pause
target = svc
duration = 10s
INI
	expect_exit 0 "plan a unit target" "$SABOT" plan unit.ini
	expect_out "unit resolves to its cgroup" "cgroup $cgroot/$unit\$"
	expect_out "with the pids of its cgroup and below" "2 processes: $1 \($worker\), $2 \($worker\)"
	expect_out "pause of all processes" "stop all 2 processes of target svc"
	sed "s|^unit = .*|cgroup = $unit/sub|" unit.ini > cg.ini
	expect_exit 0 "plan a cgroup target" "$SABOT" plan cg.ini
	expect_out "cgroup resolves its own pids" "1 process: $2 \($worker\)"
	printf '[protect]\nunits = %s\n' "$unit" > protect-unit.ini
	expect_exit 0 "a process in a protected unit" "$SABOT" --policy "$T_TMP/protect-unit.ini" plan cg.ini
	expect_out "is never touched" "never touched: $2 \(protected unit $unit\)"
	expect_exit 2 "a protected unit cannot be a target" "$SABOT" --policy "$T_TMP/protect-unit.ini" plan unit.ini
	expect_out "says which line" "^unit\.ini:5: unit $unit is protected by the host policy"
	sed "s|^unit = .*|unit = sabot-it-none-$id.service|" unit.ini > nounit.ini
	expect_exit 0 "a unit that is not running" "$SABOT" plan nounit.ini
	expect_out "is flagged with its line" "^nounit\.ini:5: warning: target 'svc' unit sabot-it-none-$id.service has no cgroup below"
fi

# Interfaces: resolved inside the namespace sabot runs in.
ip netns add "$ns" && ip netns add "$ns2" &&
	ip link add sabot-it0 netns "$ns" type veth peer name sabot-it1 netns "$ns2" &&
	ip -n "$ns" link set sabot-it0 up && ip -n "$ns2" link set sabot-it1 up
cat > net.ini <<INI
[scenario]
name = net-plan
duration = 1m
[fault drop]
type = loss
interface = sabot-it0
percent = 10%
dst = 10.99.0.0/24
dport = 80, 8000-8080
protocol = tcp
INI
ifindex=$(ip netns exec "$ns" cat /sys/class/net/sabot-it0/ifindex)
before=$(ip netns exec "$ns" tc qdisc show; ip netns exec "$ns" tc filter show dev sabot-it0 ingress; ip netns exec "$ns" tc filter show dev sabot-it0 egress)
expect_exit 0 "plan a loss fault in a namespace" ip netns exec "$ns" "$SABOT" plan net.ini
expect_out "the veth's ifindex" "sabot-it0 \(ifindex $ifindex\), egress"
expect_out "its matches" "match: dst 10\.99\.0\.0/24; dport 80, 8000-8080; protocol tcp; never ports 22"
after=$(ip netns exec "$ns" tc qdisc show; ip netns exec "$ns" tc filter show dev sabot-it0 ingress; ip netns exec "$ns" tc filter show dev sabot-it0 egress)
[ "$before" = "$after" ] && pass "plan left the interface's qdiscs and filters alone" || fail "plan changed tc state"
expect_exit 2 "an interface missing in this network namespace: plan exits 2, as a run would refuse" "$SABOT" plan net.ini
expect_out "naming its line" "^net\.ini:6: fault 'drop': no interface sabot-it0 in this network namespace"
expect_exit 0 "validate does not check the host (it may run elsewhere)" "$SABOT" validate net.ini
# --- a target its launched sibling will start (a service's workers): no alarm ---
cat > later.ini <<EOF
[scenario]
name = later
duration = 30s
[target web]
exec = /bin/sleep 30
[target workers]
comm = sabot-nw$$
[fault k]
type = kill
target = workers
count = 1
every = 2s
start = 20s
duration = 6s
EOF
expect_exit 0 "plan a target that the launched one will start" "$SABOT" plan later.ini
expect_no_out "with no warning for it" "matches no process|^  ! workers|kill 0 of 0"
expect_out "saying when it is resolved and by what" "no process yet: resolved when fault k's window at 20s opens, among the processes that launched target web starts \(children of a launched target\), by comm sabot-nw"
expect_out "and what the kill will do then" "kill 1 of the processes target workers matches when the window opens \(per strike\), keeping at least 1"
grep -v '^exec\|^\[target web\]' later.ini > nolaunch.ini
expect_exit 0 "without a launched target" "$SABOT" plan nolaunch.ini
expect_out "a target that matches nothing is still warned about" "target 'workers' matches no process"
t_done
