#!/usr/bin/env bash
# Restarting, stopping or killing the router or the dispatcher, or
# restarting the receiver, between events loses none: every event runs,
# once.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub rs
sub=$SUB_ID
new_workflow wf rs batch.completed "$T_DIR/runs"

n=0
send_one() {
	deliver "$sub" "$SUB_SECRET" "$(payload batch.completed "$T_DIR/ev$n.json")"
	n=$((n + 1))
	[ "$HTTP_STATUS" = 200 ]
}

check "event 1 accepted" send_one
old=$(cat "$HOOKPIPE_HOME/run/router.pid")
out=$(hookpipectl restart router 2>&1)
check "hookpipectl restart router" test $? -eq 0
new=$(cat "$HOOKPIPE_HOME/run/router.pid")
check "the router has a new pid" test "$old" != "$new"
assert_contains "restart prints the new pid" "$new" "$out"
check "event 2 accepted" send_one
out=$(hookpipectl restart dispatcher 2>&1)
check "hookpipectl restart dispatcher" test $? -eq 0
check "event 3 accepted" send_one
check "events 1-3 ran" wait_for 20 has_runs "$T_DIR/runs" 3

# While the dispatcher is down, deliveries are still accepted; they run
# once it is back.
hookpipectl stop dispatcher >/dev/null
check "event 4 accepted with the dispatcher down" send_one
hookpipectl stop router >/dev/null
check "event 5 accepted with the router down too" send_one
sleep 0.3
assert_eq "nothing ran while they were down" 3 "$(runs_in "$T_DIR/runs")"
check "hookpipectl start brings them back" hookpipectl start
check "events 4 and 5 ran" wait_for 20 has_runs "$T_DIR/runs" 5

# A crash: the supervise loop restarts the stage by itself.
old=$(cat "$HOOKPIPE_HOME/run/dispatcher.pid")
kill -KILL "$old"
new_dispatcher() {
	local p
	p=$(cat "$HOOKPIPE_HOME/run/dispatcher.pid" 2>/dev/null) &&
	    [ -n "$p" ] && [ "$p" != "$old" ] && kill -0 "$p" 2>/dev/null
}
check "a killed dispatcher is restarted" wait_for 10 new_dispatcher
check "event 6 accepted" send_one
check "event 6 ran" wait_for 20 has_runs "$T_DIR/runs" 6
restarts=$(hookpipectl status | awk '$1 == "dispatcher" { for (i = 1; i < NF; i++) if ($i == "restarts") print $(i + 1) }')
check "status counts the dispatcher's restarts" test "${restarts:-0}" -ge 2

# A restart of the receiver (its successor takes the socket over) when
# hookpipectl is slow to look: each time it opens the loop's record of
# its child it stalls 0.3 s (strace delays that openat), as a busy
# machine may stall it. It must still see the successor come up, not
# take a new restart count beside the old pid for a successor that
# failed.
if command -v strace >/dev/null 2>&1; then
	old=$(cat "$HOOKPIPE_HOME/run/receiver.pid")
	out=$(strace -f -qq -o /dev/null -P "$HOOKPIPE_HOME/run/receiver.sup" \
	    -e trace=openat -e inject=openat:delay_exit=300000 \
	    "$BIN/hookpipectl" restart receiver 2>&1)
	check "hookpipectl restart receiver, slow to look, exits 0" \
	    test $? -eq 0
	assert_contains "and prints the successor's pid" \
	    "$(cat "$HOOKPIPE_HOME/run/receiver.pid")" "$out"
	check "the receiver has a new pid" \
	    test "$old" != "$(cat "$HOOKPIPE_HOME/run/receiver.pid")"
else
	skip "strace is not installed: the slow restart of the receiver"
fi
check "event 7 accepted" send_one
check "event 7 ran" wait_for 20 has_runs "$T_DIR/runs" 7

out=$(hookpipectl restart all 2>&1)
check "hookpipectl restart all" test $? -eq 0
check "event 8 accepted" send_one
check "event 8 ran" wait_for 20 has_runs "$T_DIR/runs" 8
sleep 0.5
assert_eq "every event ran exactly once" 8 "$(runs_in "$T_DIR/runs")"
check "all four up at the end" hookpipectl status
finish
