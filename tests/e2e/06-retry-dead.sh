#!/usr/bin/env bash
# A failing command is retried (--retries 2: three attempts in all), then
# the run is dead, with each attempt in its history.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub failing
sub=$SUB_ID
mkdir -p "$T_DIR/attempts"
# shellcheck disable=SC2016 # expanded by the action's shell
hookpipe workflow create boom --retries 2 \
    --exec "echo attempt \$HOOKPIPE_ATTEMPT >>$T_DIR/attempts/log; echo boom >&2; exit 3" >/dev/null &&
    hookpipe workflow trigger boom --sub failing --event batch.completed >/dev/null &&
    hookpipe workflow publish boom >/dev/null
check "the failing workflow is set up" test "$(hookpipe workflow show boom --json | json 'd["state"]')" = published

deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "delivery" 200
event_id=$(json 'd["event_id"]' <<<"$HTTP_BODY")

run_dead() {
	[ "$(hookpipe runs --json 2>/dev/null | json 'd[0]["status"]' 2>/dev/null)" = dead ]
}
check "the run ends dead" wait_for 30 run_dead
runs=$(hookpipe runs --json)
assert_eq "one run" 1 "$(json 'len(d)' <<<"$runs")"
assert_eq "three attempts" 3 "$(json 'd[0]["attempts"]' <<<"$runs")"
assert_eq "three attempts in the history" 3 "$(json 'len(d[0]["history"])' <<<"$runs")"
assert_eq "the run is for the event" "$event_id" "$(json 'd[0]["event_id"]' <<<"$runs")"
assert_eq "the command ran three times, attempts 1 to 3" "attempt 1
attempt 2
attempt 3" "$(cat "$T_DIR/attempts/log")"
assert_eq "hookpipe runs --status dead" 1 "$(hookpipe runs --status dead --json | json 'len(d)')"
sleep 1
assert_eq "no attempt after the last" 3 "$(wc -l <"$T_DIR/attempts/log" | tr -d ' ')"
finish
