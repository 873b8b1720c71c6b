#!/usr/bin/env bash
# Socket activation: a receiver started with a listening socket on
# descriptor 3, LISTEN_FDS=1 and LISTEN_PID (as systemd starts
# hookpipe-receiver.service from hookpipe-receiver.socket) serves on that
# socket and binds nothing itself: HOOKPIPE_LISTEN's port is taken by
# someone else here. A delivery made while the receiver restarts waits in
# the socket's queue and is answered. A descriptor that is not a listening
# socket is a configuration error.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub act
hookpipectl stop receiver >/dev/null

# HOOKPIPE_LISTEN's address, busy: a receiver that binds it would fail.
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
host, port = sys.argv[1].rsplit(":", 1)
s.bind((host, int(port)))
s.listen(1)
time.sleep(600)
' "$HOOKPIPE_LISTEN" &
BG_PIDS+=($!)

PORTFILE=$T_DIR/activated.port
python3 "$ROOT/tests/e2e/helpers/activate.py" 127.0.0.1 "$PORTFILE" \
    "$BIN/hookpipe-receiver" >>"$T_DIR/activated.log" 2>&1 &
HARNESS=$!
BG_PIDS+=("$HARNESS")
wait_for 30 test -s "$PORTFILE" || {
	not_ok "the socket is bound" "$(tail -n 5 "$T_DIR/activated.log")"
	finish
}
BASE=http://127.0.0.1:$(cat "$PORTFILE")

rx_ready() {
	local p
	p=$(cat "$HOOKPIPE_HOME/run/receiver.pid" 2>/dev/null) &&
	    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ "$p" != "${1:-}" ]
}
if ! wait_for 15 rx_ready; then
	not_ok "the activated receiver is ready" "$(tail -n 5 "$T_DIR/activated.log")"
	finish
fi
ok "the activated receiver is ready while HOOKPIPE_LISTEN is busy"
assert_contains "it says where the socket came from" \
    "listening on 127.0.0.1:${BASE##*:} (the socket the service manager passed)" \
    "$(cat "$T_DIR/activated.log")"

deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery on the passed socket" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "the event is stored" hookpipe event show "$ev"

# The receiver goes away; the socket stays with the harness, which
# starts a new receiver a second later.
old=$(cat "$HOOKPIPE_HOME/run/receiver.pid")
kill -TERM "$old"
gone() { ! kill -0 "$old" 2>/dev/null; }
check "the receiver stops" wait_for 15 gone
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery made while no receiver ran is answered" 200
check "by the next receiver" rx_ready "$old"

rm -f "$PORTFILE"
kill -TERM "$(cat "$HOOKPIPE_HOME/run/receiver.pid")"
wait "$HARNESS" 2>/dev/null

LISTEN_FDS=1 sh -c 'LISTEN_PID=$$ exec "$0"' "$BIN/hookpipe-receiver" \
    3<"$ROOT/README.md" >"$T_DIR/bad.log" 2>&1
assert_eq "a passed descriptor that is no listening socket: exit 100" 100 "$?"
assert_contains "it says what to fix" "ListenStream" "$(cat "$T_DIR/bad.log")"

finish
