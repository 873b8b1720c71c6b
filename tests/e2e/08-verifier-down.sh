#!/usr/bin/env bash
# While the verifier is down the receiver spools deliveries and answers
# 202; once the verifier is back, the valid ones run and the invalid ones
# are dropped.
HOOKPIPE_VERIFY_TIMEOUT_MS=${HOOKPIPE_VERIFY_TIMEOUT_MS:-1000}
export HOOKPIPE_VERIFY_TIMEOUT_MS
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub spool
sub=$SUB_ID
new_workflow wf spool batch.completed "$T_DIR/runs"

deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "delivery with the verifier up" 200
check "it ran" wait_for 15 has_runs "$T_DIR/runs" 1

out=$(hookpipectl stop verifier 2>&1)
check "hookpipectl stop verifier" test $? -eq 0
assert_contains "status shows the verifier down" "verifier   down" "$(hookpipectl status)"

body=$(payload batch.completed)
deliver "$sub" "$SUB_SECRET" "$body"
assert_status "valid delivery with the verifier down" 202
assert_eq "answered accepted" accepted "$(json 'd["status"]' <<<"$HTTP_BODY")"
valid_id=$MSG_ID

bad=$(payload batch.completed)
id=$(new_msg_id)
ts=$(date +%s)
post POST "$BASE/triggers/plugin/$sub" "$bad" -H "webhook-id: $id" \
    -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$(sign_openai whsec_c2VjcmV0c2VjcmV0c2VjcmV0 "$id" "$ts" "$bad")"
assert_status "invalid delivery with the verifier down" 202
sleep 0.3
assert_eq "nothing ran while the verifier was down" 1 "$(runs_in "$T_DIR/runs")"

hookpipectl start >"$T_DIR/start.out" 2>&1
check "hookpipectl start brings the verifier back" test $? -eq 0
check "the spooled valid delivery ran" wait_for 20 has_runs "$T_DIR/runs" 2
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "delivery once the verifier is back" 200
check "it ran" wait_for 15 has_runs "$T_DIR/runs" 3
sleep 0.5
assert_eq "the invalid spooled delivery never ran" 3 "$(runs_in "$T_DIR/runs")"
events=$(hookpipe events --json)
assert_eq "three events stored" 3 "$(json 'len(d)' <<<"$events")"
check "the spooled delivery is stored with its webhook-id" \
    test "$(json "[e for e in d if e['delivery_id'] == '$valid_id'] != []" <<<"$events")" = true
check "the dropped delivery is logged, with why" \
    grep -q "dropped: 401" "$HOOKPIPE_HOME/log/verifier.log"

# The same with restart instead of stop/start.
hookpipectl stop verifier >/dev/null
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "valid delivery with the verifier stopped again" 202
check "hookpipectl restart verifier starts it" hookpipectl restart verifier
check "that delivery ran too" wait_for 20 has_runs "$T_DIR/runs" 4
finish
