#!/usr/bin/env bash
# A valid OpenAI delivery runs its published workflow exactly once, with
# the run document on stdin and the HOOKPIPE_* environment.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
check "hookpipectl status: all five stages up" hookpipectl status
up=$(hookpipectl status | grep -c ' up ')
assert_eq "hookpipectl status lists 5 up" 5 "$up"

new_sub my-openai
sub=$SUB_ID
new_workflow notify my-openai batch.completed "$T_DIR/runs"

body=$(sample openai-batch.completed.json) || body=$(payload batch.completed)
deliver "$sub" "$SUB_SECRET" "$body"
assert_status "valid delivery" 200
msg=$MSG_ID
assert_eq "answer: status ok" ok "$(json 'd["status"]' <<<"$HTTP_BODY")"
assert_eq "answer: not a duplicate" false "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
event_id=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "answer: an event id" test -n "$event_id"

if wait_for 15 has_runs "$T_DIR/runs" 1; then
	ok "the exec action ran"
else
	not_ok "the exec action ran" "no run document in $T_DIR/runs after 15 s"
	finish
fi
doc=$(cat "$T_DIR"/runs/*.json)
run_id=$(json 'd["run_id"]' <<<"$doc")
check "run document: run_id" test -n "$run_id"
assert_eq "run document: attempt 1" 1 "$(json 'd["attempt"]' <<<"$doc")"
assert_eq "run document: workflow" notify "$(json 'd["workflow"]' <<<"$doc")"
assert_eq "run document: trigger.integration" openai "$(json 'd["trigger"]["integration"]' <<<"$doc")"
assert_eq "run document: trigger.subscription" "$sub" "$(json 'd["trigger"]["subscription"]' <<<"$doc")"
assert_eq "run document: trigger.subscription_name" my-openai "$(json 'd["trigger"]["subscription_name"]' <<<"$doc")"
assert_eq "run document: trigger.event" batch.completed "$(json 'd["trigger"]["event"]' <<<"$doc")"
assert_eq "run document: trigger.event_id" "$event_id" "$(json 'd["trigger"]["event_id"]' <<<"$doc")"
assert_eq "run document: trigger.delivery_id is the webhook-id" "$msg" "$(json 'd["trigger"]["delivery_id"]' <<<"$doc")"
check "run document: trigger.received_at" test -n "$(json 'd["trigger"]["received_at"]' <<<"$doc")"
assert_eq "run document: inputs are the payload" \
    "$(json 'd' <"$body")" "$(json 'd["inputs"]' <<<"$doc")"

env_file=$(ls "$T_DIR"/runs/*.env)
assert_eq "environment of the action" "HOOKPIPE_RUN_ID=$run_id
HOOKPIPE_EVENT=batch.completed
HOOKPIPE_EVENT_ID=$event_id
HOOKPIPE_SUBSCRIPTION=$sub
HOOKPIPE_WORKFLOW=notify
HOOKPIPE_ATTEMPT=1" "$(cat "$env_file")"

runs_succeeded() {
	[ "$(hookpipe runs --json 2>/dev/null | json '[r["status"] for r in d]')" = '["succeeded"]' ]
}
check "hookpipe runs: one run, succeeded" wait_for 10 runs_succeeded
runs=$(hookpipe runs --json)
assert_eq "hookpipe runs: the run id" "$run_id" "$(json 'd[0]["id"]' <<<"$runs")"
assert_eq "hookpipe runs: the event id" "$event_id" "$(json 'd[0]["event_id"]' <<<"$runs")"
assert_eq "hookpipe runs: one attempt" 1 "$(json 'd[0]["attempts"]' <<<"$runs")"

ev=$(hookpipe event show "$event_id" --json)
assert_eq "event show: type" batch.completed "$(json 'd["type"]' <<<"$ev")"
assert_eq "event show: delivery id" "$msg" "$(json 'd["delivery_id"]' <<<"$ev")"
assert_eq "event show: integration" openai "$(json 'd["integration"]' <<<"$ev")"
assert_eq "event show: status routed" routed "$(json 'd["status"]' <<<"$ev")"
assert_eq "event show: payload" "$(json 'd' <"$body")" "$(json 'd["payload"]' <<<"$ev")"

# Nothing runs twice: another delivery's run is the barrier.
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
check "a second event runs" wait_for 15 has_runs "$T_DIR/runs" 2
sleep 0.5
assert_eq "each event ran exactly once" 2 "$(runs_in "$T_DIR/runs")"
finish
