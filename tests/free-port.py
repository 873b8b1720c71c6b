#!/usr/bin/env python3
"""Print a TCP port on 127.0.0.1 that nothing listens on now.

It comes from below the kernel's ephemeral range
(/proc/sys/net/ipv4/ip_local_port_range): a port the kernel handed out
by bind(0) is free only until the next outgoing connection of any
process takes it as its source port, which on a busy machine running
tests side by side happens before the stage binds it.
"""
import random
import socket

LOW = 10000
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        high = int(f.read().split()[0]) - 1
except (OSError, ValueError, IndexError):
    high = 0
for _ in range(200 if high - LOW >= 1000 else 0):
    port = random.randint(LOW, high)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
