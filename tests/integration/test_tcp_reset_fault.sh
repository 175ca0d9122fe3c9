#!/bin/sh
# The tcp-reset fault on this kernel: a real TCP server (python3) in one
# namespace, real clients in another, joined by a veth pair this test
# creates; sabot's eBPF program on the client's egress hook turns the
# client's own segments back to it as RSTs from the server, so the
# client's socket is reset (ECONNRESET) and its new connections are
# refused (ECONNREFUSED); on its ingress hook the server's segments become
# RSTs, with the sequence the client's own ACKs say it expects.
# Traffic stays inside the namespaces.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
id=$$
A=sabot-itr-$id-a # the client, where the fault runs
B=sabot-itr-$id-b # the server
dev=sabot-itr0
S4=10.68.0.2
S6=fd68::2
S="$SABOT --state-dir $T_TMP/state --run-dir $T_TMP/run"
server=""
runner=""
holders=""

cleanup() {
	for p in $runner $server $holders $pending; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	t_cleanup_tmp
}
trap cleanup EXIT
cd "$T_TMP"

command -v python3 >/dev/null || { skip "no python3"; exit 0; }
netns_pair "$A" "$B" "$dev" sabot-itr1 10.68.0.1 $S4 || { fail "namespace setup"; t_done; }
ip -n "$A" addr add fd68::1/64 dev "$dev" nodad && ip -n "$B" addr add $S6/64 dev sabot-itr1 nodad ||
	{ fail "IPv6 addresses"; t_done; }
# A process of this test holds A, and A loses its name: other tests'
# sabot runs on this machine sweep every namespace under /run/netns for
# orphaned sabot filters, and one in a pid namespace of its own (lib.sh's
# T_OWN_NS) sees no runner of ours alive and takes our live filters (seen
# looping this test: a window's filter gone a moment after it was
# attached, 'reset 1 of 1 matching TCP segments', 2 runs of 13). No sweep
# reaches a namespace without a name; this test's own runs, and recover
# through the journal, find it by that process (as a container's).
ip netns exec "$A" sleep 100000 &
pending=$!
nsholder=""
wait_for 3000 eval '[ "$(readlink /proc/$pending/ns/net)" = "$(ip netns exec "$A" readlink /proc/self/ns/net)" ]' &&
	nsholder=$pending && ip netns del "$A" || { fail "no process holds A: $(readlink /proc/$pending/ns/net)"; t_done; }
inA() { nsenter --net=/proc/$nsholder/ns/net "$@"; }

# The server: echoes every byte back, on ports 8080 and 22 (of its own
# namespace), IPv4 and IPv6.
cat > server.py <<'PY'
import socket, threading
def serve(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(512)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()
def echo(c):
    try:
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError: pass
    c.close()
ts = [threading.Thread(target=serve, args=a) for a in
      [(socket.AF_INET, "10.68.0.2", 8080), (socket.AF_INET, "10.68.0.2", 22),
       (socket.AF_INET6, "fd68::2", 8080), (socket.AF_INET6, "fd68::2", 22)]]
for t in ts: t.start()
for t in ts: t.join()
PY
ip netns exec "$B" python3 server.py > server.log 2>&1 &
server=$!

# hold ADDR PORT SECONDS STOPFILE: connect, then every 0.2 s write and read
# a byte until STOPFILE exists (at most SECONDS); prints "connected", then
# the errno name that ended it, or ALIVE.
cat > hold.py <<'PY'
import socket, sys, time, errno, os
a, p, secs, stop = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.create_connection((a, p), timeout=2)
s.sendall(b"x"); assert s.recv(1) == b"x"
print("connected", flush=True)
end = time.time() + secs
try:
    while time.time() < end and not os.path.exists(stop):
        s.sendall(b"x")
        if s.recv(1) != b"x": print("EOF"); sys.exit()
        time.sleep(0.2)
    print("ALIVE")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
PY
# bulk ADDR PORT SECONDS STOPFILE: like hold, with 256 KiB each way a round (large
# GSO segments cross the veth pair: the payload cut is the most of them),
# written by a thread while the main thread reads. The kernel reports a
# reset once (sock_error() takes sk_err): to whichever of the two calls
# asks first, and the other then sees EOF (recv) or EPIPE (send). So the
# writer's error is kept, and EOF with a writer's ECONNRESET is a reset.
cat > bulk.py <<'PY'
import socket, sys, time, errno, threading, os
a, p, secs, stop = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.create_connection((a, p), timeout=3)
print("connected", flush=True)
blob = b"y" * 262144
end = time.time() + secs
werr = []
def write():
    try: s.sendall(blob)
    except OSError as e: werr.append(e)
def said(e, how): print("%s (on %s)" % (errno.errorcode.get(e.errno, str(e)), how)); sys.exit()
try:
    while time.time() < end and not os.path.exists(stop):
        t = threading.Thread(target=write); t.start()
        got = 0
        while got < len(blob):
            d = s.recv(65536)
            if not d:
                t.join(3)
                if werr: said(werr[0], "write")
                print("EOF"); sys.exit()
            got += len(d)
        t.join()
        if werr: said(werr[0], "write")
    print("ALIVE")
except OSError as e:
    said(e, "read")
PY
# conn ADDR PORT [N]: N new connections, each an echo of a byte; prints
# how many ended how: "OK n", "ECONNREFUSED n", ...
cat > conn.py <<'PY'
import socket, sys, errno, collections
a, p = sys.argv[1], int(sys.argv[2]); n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
c = collections.Counter()
for i in range(n):
    try:
        s = socket.create_connection((a, p), timeout=2)
        s.sendall(b"x"); r = s.recv(1); s.close()
        c["OK" if r == b"x" else "EOF"] += 1
    except OSError as e:
        c[errno.errorcode.get(e.errno, "timeout" if isinstance(e, socket.timeout) else str(e))] += 1
print(" ".join("%s %d" % kv for kv in sorted(c.items())))
PY
tc_state() {
	inA tc qdisc show
	inA tc filter show dev "$dev" ingress
	inA tc filter show dev "$dev" egress
}
has_filter() { inA tc filter show dev "$dev" egress | grep -q 'sabot_tcp_reset'; }
unchanged() {
	now=$(tc_state)
	[ "$now" = "$baseline" ] && pass "$1: the client's qdiscs and filters are exactly as before" ||
		fail "$1: tc state changed: $now"
}
run_bg() { # FILE: start a run in A, wait until its program is attached
	nsenter --net=/proc/$nsholder/ns/net $S run "$1" > "$1.out" 2>&1 &
	runner=$!
	wait_for 5000 has_filter || fail "no sabot_tcp_reset filter attached for $1: $(cat "$1.out")"
}
scenario() { # FILE DURATION WINDOW [EXTRA KEY LINES]
	printf '[scenario]\nname = tr\nduration = %s\n[fault r]\ntype = tcp-reset\ninterface = %s\ndirection = egress\nduration = %s\n%s\n' \
		"$2" "$dev" "$3" "${4:-}" > "$1"
}
hold_bg() { # NAME ADDR PORT [SCRIPT]: held until NAME.stop exists (60 s at most)
	: > "$1.hold"
	inA python3 ${4:-hold.py} "$2" "$3" 60 "$1.stop" > "$1.hold" 2>&1 &
	holders="$holders $!"
	wait_for 3000 grep -q connected "$1.hold" || fail "holder $1 did not connect: $(cat "$1.hold")"
}

wait_for 3000 eval '[ "$(inA python3 conn.py $S4 8080)" = "OK 1" ]' || { fail "server does not answer: $(cat server.log)"; t_done; }
baseline=$(tc_state)
[ "$(inA python3 conn.py $S6 8080)" = "OK 1" ] && pass "before: IPv6 connections work" || fail "before: IPv6"

# --- refused by the policy ---
scenario r.ini 20s 10s
printf '[limits]\nallowed_types = latency, loss, blackhole\n' > strict.ini
expect_exit 2 "allowed_types without tcp-reset refuses the fault" inA $S --policy strict.ini run r.ini
expect_out "saying so at the fault's line" "r.ini:5: type = tcp-reset is not allowed on this host"
unchanged "after the refused run"

# --- every connection on the interface: the client's own segments turned
# back as RSTs; established ones reset, new ones refused, port 22 left alone ---
scenario e.ini 25s 15s
hold_bg e4 $S4 8080
hold_bg e6 $S6 8080
hold_bg essh $S4 22
hold_bg eb4 $S4 8080 bulk.py
hold_bg eb6 $S6 8080 bulk.py
run_bg e.ini
# New connections first: the window is open now, whatever the load.
got=$(inA python3 conn.py $S4 8080 3)
[ "$got" = "ECONNREFUSED 3" ] && pass "egress: new IPv4 connections are refused ($got)" || fail "egress: new IPv4 connections: $got"
got=$(inA python3 conn.py $S6 8080 3)
[ "$got" = "ECONNREFUSED 3" ] && pass "egress: new IPv6 connections are refused ($got)" || fail "egress: new IPv6 connections: $got"
wait_for 4000 grep -q ECONNRESET e4.hold && pass "egress: an established IPv4 connection: the client's next read or write fails with ECONNRESET" ||
	fail "egress IPv4 holder: $(cat e4.hold)"
wait_for 4000 grep -q ECONNRESET e6.hold && pass "egress: an established IPv6 connection is reset (ECONNRESET)" ||
	fail "egress IPv6 holder: $(cat e6.hold)"
wait_for 4000 grep -q ECONNRESET eb4.hold && pass "egress: a bulk IPv4 transfer (large segments) is reset (ECONNRESET)" ||
	fail "egress IPv4 bulk: $(cat eb4.hold); $(inA nstat -az TcpEstabResets TcpExtTCPChallengeACK TcpExtTCPACKSkippedChallenge 2>&1 | tail -n 3 | tr '\n' ' ')"
wait_for 4000 grep -q ECONNRESET eb6.hold && pass "egress: a bulk IPv6 transfer (large segments) is reset (ECONNRESET)" ||
	fail "egress IPv6 bulk: $(cat eb6.hold)"
got=$(inA python3 conn.py $S6 22 3)
[ "$got" = "OK 3" ] && pass "egress: the protected port 22: new connections work ($got)" || fail "egress: port 22: $got"
wait_for 18000 eval '! has_filter' && pass "the program is gone at the window's end" || fail "still attached after its window"
touch essh.stop
wait_for 4000 grep -q ALIVE essh.hold && pass "egress: the port-22 connection lived through the window" ||
	fail "egress: port 22 holder: $(cat essh.hold)"
got=$(inA python3 conn.py $S4 8080 3)
[ "$got" = "OK 3" ] && pass "after the window: new IPv4 connections work" || fail "after the window, IPv4: $got"
got=$(inA python3 conn.py $S6 8080 3)
[ "$got" = "OK 3" ] && pass "after the window: new IPv6 connections work" || fail "after the window, IPv6: $got"
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "egress: the run exits 0" || fail "egress: the run exited $rc: $(cat e.ini.out)"
grep -q 'reset [1-9][0-9]* of [0-9]* matching TCP segments' e.ini.out && pass "the outcome counts the resets: $(grep -o 'reset [0-9]* of [^)]*)' e.ini.out | head -n 1)" ||
	fail "no counted outcome: $(cat e.ini.out)"
grep -q 'could not be rewritten' e.ini.out && fail "a segment could not be rewritten: $(grep -h 'could not' e.ini.out)" ||
	pass "every matching segment was rewritten"
unchanged "after the egress window"

# --- ingress: the server's segments rewritten into RSTs (their sequence
# the client's rcv_nxt, learned from its ACKs on egress) ---
has_ifilter() { inA tc filter show dev "$dev" ingress | grep -q 'sabot_tcp_reset'; }
has_learn() { inA tc filter show dev "$dev" egress | grep -q 'sabot_tcp_reset_learn'; }
scenario i.ini 25s 15s
sed -i 's/^direction = egress$/direction = ingress/' i.ini
hold_bg v4 $S4 8080
hold_bg v6 $S6 8080
hold_bg ssh $S4 22
hold_bg b4 $S4 8080 bulk.py
hold_bg b6 $S6 8080 bulk.py
nsenter --net=/proc/$nsholder/ns/net $S run i.ini > i.ini.out 2>&1 &
runner=$!
wait_for 5000 has_ifilter || fail "no ingress sabot_tcp_reset filter: $(cat i.ini.out)"
# New connections first: the window is open now, whatever the load.
got=$(inA python3 conn.py $S4 8080 3)
[ "$got" = "ECONNREFUSED 3" ] && pass "ingress: new IPv4 connections are refused ($got)" || fail "ingress: new IPv4 connections: $got"
got=$(inA python3 conn.py $S6 8080 3)
[ "$got" = "ECONNREFUSED 3" ] && pass "ingress: new IPv6 connections are refused ($got)" || fail "ingress: new IPv6 connections: $got"
has_learn && pass "ingress: the learning program is on the egress hook too" || fail "ingress: no sabot_tcp_reset_learn on egress"
wait_for 4000 grep -q ECONNRESET v4.hold && pass "ingress: an established IPv4 connection: ECONNRESET" ||
	fail "ingress IPv4 holder: $(cat v4.hold)"
wait_for 4000 grep -q ECONNRESET v6.hold && pass "ingress: an established IPv6 connection: ECONNRESET" ||
	fail "ingress IPv6 holder: $(cat v6.hold)"
wait_for 4000 grep -q ECONNRESET b4.hold && pass "ingress: a bulk IPv4 transfer (large segments) is reset: ECONNRESET" ||
	fail "ingress IPv4 bulk: $(cat b4.hold); $(inA ss -tni dst $S4 2>&1 | tr '\n' ' ')"
wait_for 4000 grep -q ECONNRESET b6.hold && pass "ingress: a bulk IPv6 transfer (large segments) is reset: ECONNRESET" ||
	fail "ingress IPv6 bulk: $(cat b6.hold); $(inA ss -tni dst $S6 2>&1 | tr '\n' ' ')"
got=$(inA python3 conn.py $S4 22 3)
[ "$got" = "OK 3" ] && pass "ingress: the protected port 22: new connections work ($got)" || fail "ingress: port 22: $got"
wait_for 18000 eval '! has_ifilter && ! has_learn' && pass "ingress: both programs are gone at the window's end" ||
	fail "ingress: still attached after its window"
touch ssh.stop
wait_for 4000 grep -q ALIVE ssh.hold && pass "ingress: the port-22 connection lived through the window" ||
	fail "ingress: port 22 holder: $(cat ssh.hold)"
wait $runner
rc=$?
runner=""
[ $rc = 0 ] && pass "ingress: the run exits 0" || fail "ingress: the run exited $rc: $(cat i.ini.out)"
grep -q 'reset [1-9][0-9]* of [0-9]* matching TCP segments' i.ini.out && pass "ingress: the outcome counts the resets: $(grep -o 'reset [0-9]* of [^)]*)' i.ini.out | head -n 1)" ||
	fail "ingress: no counted outcome: $(cat i.ini.out)"
grep -q 'could not be rewritten' i.ini.out && fail "ingress: a segment could not be rewritten: $(grep -h 'could not' i.ini.out)" ||
	pass "ingress: every matching segment was rewritten"
got=$(inA python3 conn.py $S4 8080 3)
[ "$got" = "OK 3" ] && pass "after the ingress window: new connections work" || fail "after the ingress window: $got"
unchanged "after the ingress window"

# --- only dport 8080; percent = 50%: a connection is reset or not, as a whole ---
scenario p.ini 30s 25s "dport = 8080
percent = 50%"
run_bg p.ini
got=$(inA python3 conn.py $S4 8080 240)
ok=$(echo "$got" | sed -n 's/.*OK \([0-9]*\).*/\1/p')
ref=$(echo "$got" | sed -n 's/.*ECONNREFUSED \([0-9]*\).*/\1/p')
# n = 240, p = 0.5: sigma = 7.75, 4 sigma = 31
[ "$((${ok:-0} + ${ref:-0}))" = 240 ] && [ "${ok:-0}" -ge 89 ] && [ "${ok:-0}" -le 151 ] &&
	pass "percent = 50%: $got of 240 new connections (within 4 sigma of 120)" || fail "percent = 50%: $got"
got=$(inA python3 conn.py $S4 22 3)
[ "$got" = "OK 3" ] && pass "percent: port 22 untouched (dport = 8080 only)" || fail "percent: port 22: $got"
kill $runner
wait $runner 2>/dev/null
runner=""
wait_for 3000 eval '! has_filter' || fail "percent: filter left after SIGTERM"
unchanged "after the percent run"

# --- SIGKILL of the runner mid-window: the guardian reverts ---
scenario k.ini 60s 60s
run_bg k.ini
prog=$(inA tc filter show dev "$dev" egress | sed -n 's/.* id \([0-9]*\) name sabot_tcp_reset.*/\1/p' | head -n 1)
got=$(inA python3 conn.py $S4 8080 1)
[ "$got" = "ECONNREFUSED 1" ] && pass "before SIGKILL: refused" || fail "before SIGKILL: $got"
kill -9 $runner
wait $runner 2>/dev/null
runner=""
wait_for 3000 eval '! has_filter' && pass "SIGKILL of the runner: the guardian removed the filter" ||
	fail "SIGKILL of the runner: filter still there after 3 s"
wait_for 3000 eval '! bpftool prog show id '"${prog:-0}"' >/dev/null 2>&1' && pass "SIGKILL: the program ($prog) is unloaded" ||
	fail "SIGKILL: program $prog still loaded"
got=$(inA python3 conn.py $S4 8080 3)
[ "$got" = "OK 3" ] && pass "after SIGKILL: connections work" || fail "after SIGKILL: $got"
unchanged "after SIGKILL of the runner"
wait_for 2000 no_journals && pass "SIGKILL: no journal left" || fail "SIGKILL: journal left: $(ls "$T_TMP/run/runs")"

# --- runner and guardian SIGKILLed: sabot recover, from the journal alone ---
# With its runner and guardian dead the filter is an orphan; A has no name
# (above), so no other run's sweep can reach it, and this run's journal
# alone (the namespace found through the process holding it) must bring
# recover there.
run_bg k.ini
guardian=$(sed -n 's/.*guardian pid \([0-9]*\).*/\1/p' k.ini.out | head -n 1)
if [ -n "$guardian" ]; then
	kill -STOP "$guardian" $runner
	kill -9 "$guardian" $runner
	wait $runner 2>/dev/null
	runner=""
	wait_for 1000 eval '[ ! -d /proc/$guardian ]'
	has_filter && pass "runner and guardian SIGKILLed: the filter outlives them (for recover)" || fail "the filter went without a guardian"
	got=$(inA python3 conn.py $S4 8080 1)
	[ "$got" = "ECONNREFUSED 1" ] && pass "while nothing reverts it: refused" || fail "while nothing reverts it: $got"
	expect_exit 0 "sabot recover reverts the dead run's tcp-reset fault from its journal" $S recover
	has_filter && fail "recover left the filter" || pass "recover: the filter is gone"
	no_journals && pass "recover: no journal left" || fail "recover: journal left"
	got=$(inA python3 conn.py $S4 8080 3)
	[ "$got" = "OK 3" ] && pass "after recover: connections work" || fail "after recover: $got"
	unchanged "after recover"
else
	[ -n "$guardian" ] || fail "no guardian pid in the run's output: $(cat k.ini.out)"
fi
t_done
