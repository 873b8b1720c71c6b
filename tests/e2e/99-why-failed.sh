#!/usr/bin/env bash
# Why did my run fail? run show lists every attempt with its exit code
# and output; runs has an error column; event show ends with the last
# attempt's output. workflow test of a failing action: one attempt, its
# output, exit 1, no retry left behind, marked (test) in runs.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_RETRY_SCHEDULE=0.2
start_stack
new_sub src
sub=$SUB_ID
secret=$SUB_SECRET
hookpipe workflow create broken --retries 1 \
    --exec 'echo "config file /etc/app.conf is missing" >&2; exit 3' >/dev/null &&
    hookpipe workflow trigger broken --sub src --event batch.failed >/dev/null &&
    hookpipe workflow publish broken >/dev/null
deliver "$sub" "$secret" "$(payload batch.failed)"
assert_status "delivery" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
# shellcheck disable=SC2317 # called by wait_for
dead() { [ "$(hookpipe runs --status dead --json | json 'len(d)')" = 1 ]; }
check "the run ends dead after its retry" wait_for 20 dead
run=$(hookpipe runs --status dead --json | json 'd[0]["id"]')

out=$(hookpipe runs)
assert_contains "runs has an ERROR column" "ERROR" "$out"
assert_contains "with the last error" "exit code 3" "$out"
out=$(hookpipe run show "$run")
assert_eq "run show" 0 "$?"
assert_contains "attempt 1" "#1 " "$out"
assert_contains "attempt 2" "#2 " "$out"
assert_contains "the exit code" "exit code 3" "$out"
assert_contains "the captured output" "config file /etc/app.conf is missing" "$out"
assert_eq "run show --json: both attempts" 2 \
    "$(hookpipe run show "$run" --json | json 'len(d["history"])')"
out=$(hookpipe event show "$ev")
assert_contains "event show ends with the last attempt's output" \
    "config file /etc/app.conf is missing" "$out"
out=$(hookpipe run show nosuch 2>&1)
assert_eq "run show of an unknown run fails" 1 "$?"

# workflow test: one attempt, exit 1 with the output, no retries.
hookpipe workflow create flaky --retries 4 \
    --exec 'echo "upstream said no"; exit 5' >/dev/null &&
    hookpipe workflow trigger flaky --sub src --event batch.completed \
    --map '{batch: .data.id}' >/dev/null
hookpipe workflow test flaky --timeout 60 >"$T_DIR/test.out" 2>&1 &
tpid=$!
wait_for 10 sh -c "hookpipe workflow show flaky | grep -q listening"
deliver "$sub" "$secret" "$(payload batch.completed)"
check "workflow test ends" wait_for 30 sh -c "! kill -0 $tpid 2>/dev/null"
wait "$tpid"
assert_eq "a failing test exits 1" 1 "$?"
out=$(cat "$T_DIR/test.out")
assert_contains "it prints the action's output" "upstream said no" "$out"
assert_contains "and the inputs the action gets (after --map)" '"batch"' "$out"
runs=$(hookpipe runs --workflow flaky --json)
assert_eq "one run" 1 "$(json 'len(d)' <<<"$runs")"
assert_eq "one attempt, no retry" 1 "$(json 'd[0]["attempts"]' <<<"$runs")"
assert_eq "it ended (no retries left), nothing due" "dead False" \
    "$(json 'd[0]["status"] + " " + str(d[0]["status"] in ("queued",) or d[0].get("next_at") is not None)' <<<"$runs")"
assert_contains "runs marks it (test)" "(test)" "$(hookpipe runs --workflow flaky)"
finish
