"""A stand-in for systemd's socket activation (hookpipe-receiver.socket).

    activate.py HOST PORTFILE COMMAND...

Binds HOST on a free port, writes the port to PORTFILE, and runs COMMAND
with the listening socket as descriptor 3, LISTEN_FDS=1 and LISTEN_PID set
to the command's pid, as systemd does. When the command exits, it runs it
again (after a second) as long as PORTFILE exists: the socket stays open
in between, as the socket unit keeps it, so connections made meanwhile
wait in its queue.
"""
import os
import socket
import subprocess
import sys
import time

host, portfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, 0))
s.listen(128)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
env = dict(os.environ, LISTEN_FDS="1")
while os.path.exists(portfile):
    # sh's $$ is the pid the command gets: exec keeps it.
    p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh"] + cmd,
                         pass_fds=(3,), env=env)
    p.wait()
    time.sleep(1)
