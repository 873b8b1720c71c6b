"""Publishes raw messages to a NATS server, as any client it lets in
could: one JSON object a line on stdin, {"subject", "reply", "headers" (a list
of [name, value]) or "raw_headers" (the header block as it goes on the
wire), "payload", "repeat"}. Speaks the client protocol (CONNECT, HPUB,
PUB, PING) over a socket, so that the messages are what the test says,
byte for byte, whatever a client library would check first.

    python3 natspub.py PORT <messages.jsonl
"""
import json
import socket
import sys


def main():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    f = s.makefile("rb")
    if not f.readline().startswith(b"INFO "):
        sys.exit("natspub: not a NATS server")
    out = [b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n']
    n = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        m = json.loads(line)
        subj = m["subject"].encode()
        if m.get("reply"):
            subj += b" " + m["reply"].encode()
        payload = m.get("payload", "").encode("utf-8", "surrogateescape")
        if "raw_headers" in m:
            hdr = m["raw_headers"].encode("utf-8", "surrogateescape")
        elif "headers" in m:
            hdr = b"NATS/1.0\r\n" + b"".join(
                k.encode() + b": " + v.encode() + b"\r\n"
                for k, v in m["headers"]) + b"\r\n"
        else:
            hdr = None
        for _ in range(m.get("repeat", 1)):
            if hdr is None:
                out.append(b"PUB %s %d\r\n%s\r\n" % (subj, len(payload),
                                                     payload))
            else:
                out.append(b"HPUB %s %d %d\r\n%s%s\r\n" % (
                    subj, len(hdr), len(hdr) + len(payload), hdr, payload))
            n += 1
    out.append(b"PING\r\n")
    s.sendall(b"".join(out))
    while True:
        line = f.readline()
        if not line:
            sys.exit("natspub: the server closed the connection")
        if line.startswith(b"-ERR"):
            sys.exit("natspub: " + line.decode().strip())
        if line.startswith(b"PONG"):
            break
    print(n)


main()
