#!/usr/bin/env bash
# Readiness for a service manager: each stage, started as systemd starts
# a Type=notify service, sends READY=1 with its own pid to NOTIFY_SOCKET
# once it is ready (its pid file is there), and STOPPING=1 on SIGTERM;
# started as s6 starts a service with a notification-fd, it writes a
# newline to that descriptor. Neither reaches the actions the dispatcher
# runs. A notification fd that is not open is a configuration error.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

RUN=$HOOKPIPE_HOME/run
SOCK=$HOOKPIPE_HOME/notify.sock
GOT=$T_DIR/notify.log

# A stand-in for the service manager's socket: one line per datagram.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ").strip() + "\n")
' "$SOCK" "$GOT" &
BG_PIDS+=($!)
wait_for 10 test -S "$SOCK" || { not_ok "the notify socket is bound"; finish; }

got_line() {
	grep -qx "$1" "$GOT" 2>/dev/null
}

declare -A PID
for s in dispatcher router verifier receiver; do
	NOTIFY_SOCKET=$SOCK "$BIN/hookpipe-$s" >>"$T_DIR/$s.log" 2>&1 &
	PID[$s]=$!
	BG_PIDS+=("${PID[$s]}")
	if wait_for 15 got_line "READY=1 MAINPID=${PID[$s]}"; then
		ok "$s sends READY=1 with its pid"
	else
		not_ok "$s sends READY=1 with its pid" "got: $(cat "$GOT")" \
		    "log: $(tail -n 5 "$T_DIR/$s.log")"
		continue
	fi
	assert_eq "$s is ready when it says so (its pid file is there)" \
	    "${PID[$s]}" "$(cat "$RUN/$s.pid" 2>/dev/null)"
done
assert_eq "one READY=1 per stage" 4 "$(grep -c '^READY=1' "$GOT")"

# Traffic through the four: the action's environment has no
# NOTIFY_SOCKET (it must not answer for the dispatcher).
new_sub rdy
hookpipe workflow create envdump --exec "env > $T_DIR/action.env" >/dev/null &&
    hookpipe workflow trigger envdump --sub rdy --event batch.completed >/dev/null &&
    hookpipe workflow publish envdump >/dev/null ||
    not_ok "the workflow is set up"
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery to the notified stack" 200
if wait_for 20 test -s "$T_DIR/action.env"; then
	assert_eq "an action does not inherit NOTIFY_SOCKET" "" \
	    "$(grep -E '^(NOTIFY_SOCKET|HOOKPIPE_NOTIFY_FD|LISTEN_)' "$T_DIR/action.env")"
else
	not_ok "the action ran"
fi

kill -TERM "${PID[receiver]}"
check "the receiver sends STOPPING=1 on SIGTERM" \
    wait_for 15 got_line "STOPPING=1 MAINPID=${PID[receiver]}"
for s in verifier router dispatcher; do
	kill -TERM "${PID[$s]}"
done
for s in receiver verifier router dispatcher; do
	wait "${PID[$s]}" 2>/dev/null
done

# s6: the run script says HOOKPIPE_NOTIFY_FD=3, s6-supervise holds the
# other end of descriptor 3.
mkfifo "$T_DIR/ready.fifo"
exec 7<>"$T_DIR/ready.fifo"
HOOKPIPE_NOTIFY_FD=3 "$BIN/hookpipe-router" 3>"$T_DIR/ready.fifo" \
    >>"$T_DIR/router2.log" 2>&1 &
rp=$!
BG_PIDS+=("$rp")
line=
if IFS= read -r -t 15 line <&7; then
	ok "the router writes a line to its notification fd"
	assert_eq "the line is empty (a newline)" "" "$line"
	assert_eq "it is ready then" "$rp" "$(cat "$RUN/router.pid" 2>/dev/null)"
else
	not_ok "the router writes a line to its notification fd" \
	    "log: $(tail -n 5 "$T_DIR/router2.log")"
fi
kill -TERM "$rp"
wait "$rp" 2>/dev/null
exec 7<&-

HOOKPIPE_NOTIFY_FD=9 "$BIN/hookpipe-verifier" >"$T_DIR/bad.log" 2>&1
assert_eq "a notification fd that is not open: exit 100" 100 "$?"
assert_contains "it says what to fix" "notification-fd" "$(cat "$T_DIR/bad.log")"

finish
