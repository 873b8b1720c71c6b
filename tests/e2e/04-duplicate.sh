#!/usr/bin/env bash
# The same webhook-id twice: both answered 200, the second flagged as a
# duplicate with the same event id, and the workflow runs once.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub dup
sub=$SUB_ID
new_workflow wf dup batch.completed "$T_DIR/runs"
body=$(payload batch.completed)

id=$(new_msg_id)
ts=$(date +%s)
deliver "$sub" "$SUB_SECRET" "$body" "$id" "$ts"
assert_status "first delivery" 200
assert_eq "first delivery: not a duplicate" false "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
first=$(json 'd["event_id"]' <<<"$HTTP_BODY")

deliver "$sub" "$SUB_SECRET" "$body" "$id" "$ts"
assert_status "the same delivery again" 200
assert_eq "second delivery: a duplicate" true "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
assert_eq "second delivery: the first one's event id" "$first" "$(json 'd["event_id"]' <<<"$HTTP_BODY")"

# A provider retry comes later, with a new timestamp and signature.
deliver "$sub" "$SUB_SECRET" "$body" "$id" "$((ts + 5))"
assert_status "a retry of the delivery" 200
assert_eq "the retry: a duplicate" true "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"

check "the event ran" wait_for 15 has_runs "$T_DIR/runs" 1
# A later, different delivery is the barrier: once it ran, a second run of
# the first would have happened too.
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_eq "another webhook-id is not a duplicate" false "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
check "the other event ran" wait_for 15 has_runs "$T_DIR/runs" 2
sleep 0.5
assert_eq "the duplicated delivery ran once" 2 "$(runs_in "$T_DIR/runs")"
assert_eq "one event stored per webhook-id" 2 "$(hookpipe events --json | json 'len(d)')"
finish
