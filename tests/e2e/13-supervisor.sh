#!/usr/bin/env bash
# hookpipectl itself: status, stop, start, logs, errors.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

hookpipectl status >/dev/null
assert_eq "status before start exits 3" 3 "$?"
out=$(hookpipectl start)
check "start exits 0" test $? -eq 0
assert_eq "start prints one line per stage, in order" \
    "dispatcher router verifier receiver admin" "$(awk '{ printf "%s%s", sep, $1; sep = " " }' <<<"$out")"
st=$(hookpipectl status)
check "status exits 0 with all up" hookpipectl status
assert_eq "status: five stages up" 5 "$(grep -c ' up ' <<<"$st")"
for s in receiver verifier router dispatcher admin; do
	p=$(cat "$HOOKPIPE_HOME/run/$s.pid")
	assert_contains "status shows the $s pid" "$p" "$(grep "^$s " <<<"$st")"
done
out=$(hookpipectl start)
check "start again exits 0" test $? -eq 0
assert_contains "start again says it is running" "already running" "$out"

check "the stop of one stage exits 0" hookpipectl stop router
hookpipectl status >/dev/null
assert_eq "status exits 3 with a stage down" 3 "$?"
assert_contains "status shows the router down" "router     down" "$(hookpipectl status)"
check "start brings it back" hookpipectl start
check "all up again" hookpipectl status

check "logs prints the log" grep -q ready <(hookpipectl logs verifier)
hookpipectl logs >/dev/null 2>&1
assert_eq "logs without a stage exits 2" 2 "$?"
hookpipectl frobnicate >/dev/null 2>&1
assert_eq "an unknown command exits 2" 2 "$?"
hookpipectl restart nothing >/dev/null 2>&1
assert_eq "restart of an unknown stage exits 2" 2 "$?"
check "--help exits 0" hookpipectl --help

out=$(hookpipectl stop)
check "stop exits 0" test $? -eq 0
assert_eq "stop stops the admin stage, then the receiver first" \
    "admin receiver verifier router dispatcher" \
    "$(awk '{ printf "%s%s", sep, $1; sep = " " }' <<<"$out")"
hookpipectl status >/dev/null
assert_eq "status after stop exits 3" 3 "$?"
left=$(ls "$HOOKPIPE_HOME"/run/*.pid "$HOOKPIPE_HOME"/run/*.sup 2>/dev/null)
assert_eq "no pid or supervise file left" "" "$left"
post GET "$BASE/healthz" ""
assert_eq "nothing listens after stop" 000 "$HTTP_STATUS"

# In the foreground: SIGTERM (or Ctrl-C) stops everything.
hookpipectl start --foreground >"$T_DIR/fg.out" 2>&1 &
fg=$!
BG_PIDS+=("$fg")
check "start --foreground brings all four up" wait_for 15 hookpipectl status
kill -TERM "$fg"
fg_gone() { ! kill -0 "$fg" 2>/dev/null; }
check "start --foreground exits on SIGTERM" wait_for 45 fg_gone
wait "$fg"
assert_eq "start --foreground exits 0" 0 "$?"
hookpipectl status >/dev/null
assert_eq "and everything is stopped" 3 "$?"

# A stage that cannot start: start fails with its log, and leaves nothing.
HOOKPIPE_LISTEN=127.0.0.1:notaport hookpipectl start >"$T_DIR/out" 2>&1
assert_eq "start with a bad configuration exits 1" 1 "$?"
assert_contains "and shows the stage's log" "HOOKPIPE_LISTEN" "$(cat "$T_DIR/out")"
hookpipectl status >/dev/null
assert_eq "nothing left running after a failed start" 3 "$?"
finish
