#!/usr/bin/env bash
# Logs: the receiver writes a line per delivery at info level (event id,
# subscription, status and what it means, duration), never a secret or a
# signature. Past HOOKPIPE_LOG_MAX bytes a stage's log becomes
# STAGE.log.1 (and .1 becomes .2, keeping HOOKPIPE_LOG_KEEP of them), and
# the stage, and its supervise loop after a restart, go on writing
# STAGE.log. A stage whose stderr is not its log file (a pipe to a
# supervisor's logger) leaves rotation to that logger.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_LOG_MAX=4K HOOKPIPE_LOG_KEEP=2
LOG=$HOOKPIPE_HOME/log

start_stack
new_sub logs
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
line_of() {
	grep -h "delivery $1 " "$LOG"/receiver.log* 2>/dev/null | tail -n 1
}
has_line() { [ -n "$(line_of "$1")" ]; }
wait_for 10 has_line "$ev"
assert_contains "a line per delivery: id, subscription, status, duration" \
    "hookpipe-receiver: delivery $ev sub logs ($SUB_ID): 200 stored, " "$(line_of "$ev")"
check "the duration is in milliseconds" \
    grep -Eq "delivery $ev sub logs \($SUB_ID\): 200 stored, [0-9]+ ms\$" \
    "$LOG/receiver.log"

deliver "$SUB_ID" "$SUB_SECRET" "$T_DIR/batch.completed.json" "$MSG_ID"
assert_status "the same delivery again" 200
check "a duplicate is logged as one, with the first event's id" \
    wait_for 10 grep -q "delivery $ev sub logs ($SUB_ID): 200 duplicate" \
    "$LOG/receiver.log"

deliver "$SUB_ID" "whsec_$(printf 'not the secret' | base64)" \
    "$(payload batch.completed)"
assert_status "a forged delivery" 401
check "a refused delivery is logged with its status and reason" \
    wait_for 10 grep -Eq "delivery - sub logs \\($SUB_ID\\): 401 .+, [0-9]+ ms\$" \
    "$LOG/receiver.log"
nosub=$(python3 -c 'import uuid; print(uuid.uuid4())')
post POST "$BASE/triggers/plugin/$nosub" "$T_DIR/batch.completed.json"
assert_status "a delivery to no subscription" 404
check "is logged too" wait_for 10 grep -q \
    "delivery - sub - ($nosub): 404 no such subscription" "$LOG/receiver.log"
post POST "$BASE/triggers/plugin/x%1b%5b31m" "$T_DIR/batch.completed.json"
assert_status "a delivery to a path that is no id" 404
check "is logged without the path" wait_for 10 grep -q \
    "delivery - sub - (-): 404 no such subscription" "$LOG/receiver.log"
assert_not_contains "the log has no secret" "${SUB_SECRET#whsec_}" \
    "$(cat "$LOG"/*.log)"
assert_not_contains "nor a signature" "v1," "$(cat "$LOG"/*.log)"

# Enough traffic for several rotations of the receiver's log.
out=$(node "$ROOT/tests/e2e/helpers/burst.js" \
    "$BASE/triggers/plugin/$SUB_ID" "$SUB_SECRET" 120)
assert_eq "120 deliveries" '{"200":120}' "$out"
check "the receiver's log was rotated" test -s "$LOG/receiver.log.1"
check "into two old files" test -s "$LOG/receiver.log.2"
check "and no more" test ! -e "$LOG/receiver.log.3"
big=
for f in "$LOG"/receiver.log "$LOG"/receiver.log.[12]; do
	# One line may end past the size: at most a few hundred bytes.
	[ "$(stat -c %s "$f")" -le $((4096 + 512)) ] || big="$big $f"
done
assert_eq "each file is about HOOKPIPE_LOG_MAX at most" "" "$big"
n=$(cat "$LOG"/receiver.log "$LOG"/receiver.log.[12] | grep -c ' delivery ')
check "the recent deliveries are in the kept files ($n lines)" test "$n" -gt 20

# A restart: the supervise loop's lines and the new receiver's go to
# the current file, not to a rotated one.
pid=$(hookpipectl restart receiver 2>&1 | grep -Eo '[0-9]+' | tail -n 1)
check "the receiver restarts" test -n "$pid"
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery after the restart" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "its line is in receiver.log" \
    wait_for 10 grep -q "delivery $ev " "$LOG/receiver.log"
check "hookpipectl logs shows it" \
    sh -c "hookpipectl logs receiver -n 50 | grep -q 'delivery $ev '"

# Under a supervisor that collects stderr: no rotation of our own.
hookpipectl stop receiver >/dev/null
rm -f "$LOG"/receiver.log.[0-9]
"$BIN/hookpipe-receiver" 2>&1 | cat >"$T_DIR/collected.log" &
BG_PIDS+=($!)
rx_up() {
	local p
	p=$(cat "$HOOKPIPE_HOME/run/receiver.pid" 2>/dev/null) &&
	    [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}
check "a receiver with stderr on a pipe starts" wait_for 15 rx_up
out=$(node "$ROOT/tests/e2e/helpers/burst.js" \
    "$BASE/triggers/plugin/$SUB_ID" "$SUB_SECRET" 60)
assert_eq "60 deliveries" '{"200":60}' "$out"
rp=$(cat "$HOOKPIPE_HOME/run/receiver.pid")
kill -TERM "$rp"
wait_for 15 sh -c "! kill -0 $rp 2>/dev/null"
assert_eq "the collector got every line" 60 \
    "$(grep -c ' delivery .*: 200 stored' "$T_DIR/collected.log")"
check "and the stage rotated nothing" test ! -e "$LOG/receiver.log.1"

HOOKPIPE_LOG_MAX=lots "$BIN/hookpipe-router" >"$T_DIR/bad.log" 2>&1
assert_eq "a HOOKPIPE_LOG_MAX that is no size: exit 100" 100 "$?"
assert_contains "it says what to fix" "HOOKPIPE_LOG_MAX=lots: expected a size" \
    "$(cat "$T_DIR/bad.log")"

finish
