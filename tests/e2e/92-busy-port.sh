#!/usr/bin/env bash
# An address another program listens on is a configuration error:
# hookpipectl start checks it before it starts any stage and fails with
# one line that names the address, and nothing stays up.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

port=${HOOKPIPE_LISTEN##*:}
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
open(sys.argv[2], "w").close()
time.sleep(120)' "$port" "$T_DIR/holding" &
BG_PIDS+=($!)
wait_for 10 test -f "$T_DIR/holding"

out=$(hookpipectl start 2>&1)
rc=$?
assert_eq "start fails" 1 "$rc"
assert_contains "one line says the address is in use" \
    "receiver cannot start: cannot listen on 127.0.0.1:$port: the address is in use" "$out"
assert_contains "and what to do" "HOOKPIPE_LISTEN" "$out"
assert_not_contains "without the log's lines" "hookpipectl[receiver]" "$out"
assert_eq "no stage was started (the address is checked first)" 0 \
    "$(cat "$HOOKPIPE_HOME"/log/*.log 2>/dev/null | grep -c ': ready')"
status=$(hookpipectl status --json 2>/dev/null)
assert_eq "no stage is up" 0 \
    "$(json 'len([s for s in d["stages"] if s["state"] == "up"])' <<<"$status")"

out=$(HOOKPIPE_LISTEN=127.0.0.1:$(free_port) hookpipectl start 2>&1)
assert_eq "a free address: the stack starts" 0 "$?"
hookpipectl stop >/dev/null 2>&1
finish
