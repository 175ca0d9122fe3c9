#!/bin/sh
# sabot's demo (`make demo`): a throwaway sandbox, scenarios/demo.ini run
# against it with the live view, the HTML report, and the sandbox removed.
#
# The sandbox: network namespaces sabot-demo-web and sabot-demo-cli joined
# by a veth pair (10.251.0.1 and .2), nothing else. The run launches the
# demo web service into sabot-demo-web; clients (20 requests a second) and
# sabot itself live in sabot-demo-cli, so every packet, fault and probe
# stays inside. sabot's journal, lock and reports go under build/demo/,
# not /run/sabot or /var/lib/sabot: the host is left as it was.
#
# Faults this kernel cannot inject (`sabot doctor` says which) are skipped
# with the reason (`run --skip-unsupported`), not faked.
#
# Exit status: 0 when the run ended as the demo intends (the SLO breached
# and sabot reverted everything: exit 3), else sabot's own status, or 1
# when the sandbox could not be built or removed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
SABOT=${SABOT:-build/sabot}
DEMO_BIN=${SABOT_DEMO_BIN:-build/sabot-demo}
OUT=${DEMO_OUT:-build/demo}
WEB=sabot-demo-web
CLI=sabot-demo-cli
NSENTER=$(command -v nsenter || echo /usr/bin/nsenter)
# iproute2's ip by its path: some shells (busybox) prefer their own applet.
IP=ip
for p in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do [ -x $p ] && IP=$p && break; done

if [ -t 1 ]; then
	say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	say() { printf '\n==> %s\n' "$*"; }
fi
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: it builds network namespaces and injects faults (try: sudo make demo)"
for f in "$SABOT" "$DEMO_BIN"; do [ -x "$f" ] || die "$f is missing; run 'make demo', which builds it"; done
[ -x "$IP" ] || die "ip (iproute2) is missing; 'make demo' installs it"

# The demo's own processes (sabot-demo-web, -wrk, the clients): PID NAME.
demo_procs() {
	for c in /proc/[0-9]*/comm; do
		n=$(cat "$c" 2>/dev/null) || continue
		case $n in sabot-demo*) p=${c#/proc/} && echo "${p%/comm} $n" ;; esac
	done
}
sandbox_gone() {
	! "$IP" netns list 2>/dev/null | grep -q "^sabot-demo-" && [ -z "$(demo_procs)" ]
}
remove_sandbox() {
	for ns in $WEB $CLI; do
		[ -e /run/netns/$ns ] || continue
		# Whatever still runs in it is the demo's own (nothing should).
		pids=$("$IP" netns pids $ns 2>/dev/null)
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		"$IP" netns del $ns 2>/dev/null
	done
}

load=""
poldir=""
finish() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$poldir" ] && rm -rf "$poldir"
	if [ -n "$load" ]; then
		kill -TERM "$load" 2>/dev/null
		wait "$load" 2>/dev/null
	fi
	remove_sandbox
	if sandbox_gone; then
		say "sandbox removed: no sabot-demo namespace or process is left"
	else
		echo "demo: the sandbox could not be removed completely:" >&2
		"$IP" netns list | grep '^sabot-demo-' >&2
		demo_procs >&2
		rc=1
	fi
	exit $rc
}

# One demo at a time: a second one would take the first one's sandbox for
# a leftover. The lock goes with this process.
mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
command -v flock >/dev/null || die "flock (util-linux) is missing; 'make demo' installs it"
flock -n 9 || die "another demo is running (it holds $OUT.lock)"
if ! sandbox_gone; then
	echo "demo: removing the sandbox an earlier demo left behind" >&2
	remove_sandbox
fi
rm -rf "$OUT"
mkdir -p "$OUT"
trap finish EXIT
# The terminal, for sabot's live view: a background job's stdin would be /dev/null.
exec 3<&0
# Until sabot runs, a signal ends the demo; while it runs, it goes to sabot,
# which reverts, reports and exits 4 (a non-interactive shell starts
# background jobs with SIGINT ignored, so Ctrl-C is passed on as SIGTERM).
runner=""
on_signal() {
	[ -n "$runner" ] || exit 130
	kill -TERM "$runner" 2>/dev/null
}
trap on_signal INT TERM HUP

say "sandbox: namespaces $WEB (10.251.0.1, the web shop) and $CLI (10.251.0.2: clients, sabot)"
"$IP" netns add $WEB && "$IP" netns add $CLI &&
	"$IP" link add sabot-demo-c netns $CLI type veth peer name sabot-demo-w netns $WEB &&
	"$IP" -n $WEB addr add 10.251.0.1/30 dev sabot-demo-w && "$IP" -n $CLI addr add 10.251.0.2/30 dev sabot-demo-c &&
	"$IP" -n $WEB link set sabot-demo-w up && "$IP" -n $CLI link set sabot-demo-c up &&
	"$IP" -n $WEB link set lo up && "$IP" -n $CLI link set lo up || die "cannot build the sandbox"

# Clients from the start: they wait for the shop to open, then log each second.
"$NSENTER" --net=/run/netns/$CLI "$DEMO_BIN" load http://10.251.0.1:8080/ --rate 20 --timeout 2000 \
	> "$OUT/clients.log" 2>&1 3<&- 9>&- &
load=$!

say "sabot doctor: what this kernel can inject"
"$NSENTER" --net=/run/netns/$CLI "$SABOT" doctor 3<&- 9>&- | sed 's/^/  /'

# The demo's own policy, whatever /etc/sabot holds: copied from the source
# tree (which may belong to a user) into a directory only root can change,
# as sabot requires of a policy; removed at the end.
poldir=$(mktemp -d /tmp/sabot-demo-policy.XXXXXX) && cp scenarios/demo/policy.ini "$poldir/policy.ini" &&
	chmod 0644 "$poldir/policy.ini" ||
	die "cannot copy the demo's policy scenarios/demo/policy.ini"
say "sabot run scenarios/demo.ini   (policy: the demo's own, scenarios/demo/policy.ini; Ctrl-C reverts everything)"
"$NSENTER" --net=/run/netns/$CLI "$SABOT" --state-dir "$OUT/state" --run-dir "$OUT/run" --policy "$poldir/policy.ini" \
	run --yes --skip-unsupported --report "$OUT/report.json" scenarios/demo.ini <&3 3<&- 9>&- &
runner=$!
# wait returns early when a trapped signal arrives: wait again until it is gone.
while :; do
	wait "$runner"
	rc=$?
	kill -0 "$runner" 2>/dev/null || break
done
runner=""

kill -TERM "$load" 2>/dev/null
wait "$load" 2>/dev/null
load=""
say "what the clients saw (20 requests a second, from the shop's first answer)"
sed 's/^/  /' "$OUT/clients.log"
log=$(ls "$OUT"/state/logs/*-web.log 2>/dev/null | head -n 1)
if [ -n "$log" ] && grep -q "killed by" "$log"; then
	say "the shop's own log: workers killed and replaced"
	grep "killed by" "$log" | sed 's/^/  /'
fi

if [ -s "$OUT/report.json" ]; then
	say "the report: $OUT/report.json, and for people (open it in a browser):"
	"$SABOT" report "$OUT/report.json" --html "$OUT/report.html" | sed 's/^/  /'
fi

case $rc in
3)
	say "sabot exited 3: the SLO breached and every fault was reverted, as this demo intends"
	rc=0
	;;
0) say "sabot exited 0: the SLO held through every fault (the failing disk should have broken it)" ;;
4) say "sabot exited 4: interrupted; every fault was reverted" ;;
*) say "sabot exited $rc (see above)" ;;
esac
exit $rc
