#!/usr/bin/env bash
# hookpipe's own events: a subscription that receives nothing for longer
# than its --expect-within is flagged silent in sub list and sends
# subscription.silent, which runs a workflow; once something arrives the
# flag goes. A run that dies sends run.dead, which runs another.
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_LIFECYCLE_INTERVAL=1 HOOKPIPE_RETRY_SCHEDULE=1
start_stack

check "a subscription for hookpipe's events" \
    hookpipe sub create alerts --integration hookpipe --generate-secret
new_workflow on-silent alerts subscription.silent "$T_DIR/silent"
new_workflow on-dead alerts run.dead "$T_DIR/dead"

new_sub quiet --expect-within 3s
assert_eq "sub show has expect_within" 3 "$(hookpipe sub show quiet --json | json 'd["expect_within"]')"
out=$(hookpipe sub create bad --integration openai --generate-secret --expect-within soon 2>&1)
assert_eq "a bad --expect-within is refused (exit 2)" 2 "$?"
assert_contains "saying what fits" "24h" "$out"

wait_for 30 has_runs "$T_DIR/silent" 1
assert_eq "subscription.silent ran the workflow" 1 "$(runs_in "$T_DIR/silent")"
assert_contains "naming the subscription" '"quiet"' "$(cat "$T_DIR"/silent/*.json)"
assert_contains "sub list flags it silent" "ok,silent" "$(hookpipe sub list | grep ' quiet ')"
assert_eq "sub show too" true "$(hookpipe sub show quiet --json | json 'd["silent"]')"

deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery to the silent subscription" 200
wait_for 30 sh -c "hookpipe sub show quiet --json | grep -q '\"silent\": false'"
assert_eq "it is no longer silent" false "$(hookpipe sub show quiet --json | json 'd["silent"]')"
wait_for 30 has_runs "$T_DIR/silent" 2
assert_eq "a new silence is reported again" 2 "$(runs_in "$T_DIR/silent")"

# --- run.dead --------------------------------------------------------------------
new_sub work
hookpipe workflow create failing --exec 'exit 3' --retries 0 >/dev/null &&
    hookpipe workflow trigger failing --sub work --event '*' >/dev/null &&
    hookpipe workflow publish failing >/dev/null
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.failed)"
assert_status "a delivery whose run fails" 200
wait_for 40 has_runs "$T_DIR/dead" 1
assert_eq "run.dead ran the workflow" 1 "$(runs_in "$T_DIR/dead")"
assert_contains "naming the workflow" '"failing"' "$(cat "$T_DIR"/dead/*.json)"

finish
