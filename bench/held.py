#!/usr/bin/env python3
"""How much of the request bodies in flight an HTTP server holds.

    held.py PORT PID [CONNECTIONS [SIZE [PATH]]]

Opens CONNECTIONS (128) connections to 127.0.0.1:PORT, each sending a
POST to PATH (/triggers/plugin/x) whose Content-Length is SIZE (1 MiB)
and all of its body but the last byte, then reads the resident memory of process PID (VmRSS) until
it stops growing. Prints "held_kib=N" (VmRSS then, less VmRSS before),
"closed=N" (connections the server answered or closed meanwhile) and
"status_CODE=N" for the answers among them (the receiver answers 503 at
once to a body that would go over its budget).

A server that hands the body to its application as it arrives holds
what the application keeps (bench-httplib keeps nothing; the receiver
keeps it within HOOKPIPE_BODY_BUDGET and refuses past it at once, from
the Content-Length). A server that reads the whole body before its
application sees the request holds every byte, whatever the
application's limits: CONNECTIONS x SIZE.
"""
import socket
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("held.py: no VmRSS for pid %d" % pid)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__.strip().splitlines()[2].strip())
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 1 << 20
    path = sys.argv[5] if len(sys.argv) > 5 else "/triggers/plugin/x"
    before = rss_kib(pid)
    head = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), size))
    body = b"a" * (size - 1)
    socks, ended = [], set()
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.settimeout(1)  # a server that stops reading: on to the next
        try:
            s.sendall(head + body)
        except OSError:
            ended.add(i)
        socks.append(s)
    # Until the server has read what it was sent: two samples alike.
    last, now = -1, rss_kib(pid)
    deadline = time.monotonic() + 10
    while now != last and time.monotonic() < deadline:
        time.sleep(0.3)
        last, now = now, rss_kib(pid)
    answers = {}
    for i, s in enumerate(socks):
        s.setblocking(False)
        try:
            status = s.recv(12)  # "HTTP/1.1 503", or the end
        except BlockingIOError:
            continue
        except OSError:
            status = b""
        ended.add(i)
        if status.startswith(b"HTTP/1.") and len(status) == 12:
            code = status[9:12].decode("ascii", "replace")
            answers[code] = answers.get(code, 0) + 1
    print("held_kib=%d closed=%d%s" % (
        max(0, now - before), len(ended),
        "".join(" status_%s=%d" % kv for kv in sorted(answers.items()))))
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
