#!/usr/bin/env python3
# A loopback HTTP/1.1 server for the SLO tests that counts connections and
# requests (written to COUNTS as "connections requests" after each request).
#   http_count.py PORTFILE COUNTS MODE
# MODE: keepalive (one connection serves many requests), close (the server
# closes after each answer), idle (closes a connection idle for 50 ms),
# hang5 (every 5th request is never answered; its connection is dropped
# when the client gives up).
import socket, sys, threading

portfile, counts, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()
n = {"conn": 0, "req": 0}


def note():
    with open(counts + ".tmp", "w") as f:
        f.write("%d %d\n" % (n["conn"], n["req"]))
    import os
    os.replace(counts + ".tmp", counts)


def serve(c):
    buf = b""
    c.settimeout(0.05 if mode == "idle" else None)
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                try:
                    d = c.recv(4096)
                except socket.timeout:
                    return
                if not d:
                    return
                buf += d
            _, buf = buf.split(b"\r\n\r\n", 1)
            with lock:
                n["req"] += 1
                k = n["req"]
                note()
            if mode == "hang5" and k % 5 == 0:
                c.settimeout(None)
                while c.recv(4096):
                    pass
                return
            body = b"ok\n"
            hdr = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (
                len(body), "Connection: close\r\n" if mode == "close" else "")
            c.sendall(hdr.encode() + body)
            if mode == "close":
                return
    except OSError:
        return
    finally:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.replace(portfile + ".tmp", portfile)
while True:
    c, _ = s.accept()
    with lock:
        n["conn"] += 1
        note()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
