#!/usr/bin/env bash
# Events that must not run: a type outside the subscription's events
# (stored as ignored), a draft workflow, an event no trigger asks for.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub picky --events batch.completed,batch.failed
picky=$SUB_ID
picky_secret=$SUB_SECRET
new_workflow wf picky batch.completed "$T_DIR/runs"
hookpipe workflow trigger wf --sub picky --event response.completed >/dev/null 2>&1

deliver "$picky" "$picky_secret" "$(payload response.completed)"
assert_status "event outside the subscription's events" 200
assert_eq "answered as ignored" ignored "$(json 'd["status"]' <<<"$HTTP_BODY")"
ignored_id=$(json 'd.get("event_id", "")' <<<"$HTTP_BODY")

deliver "$picky" "$picky_secret" "$(payload batch.failed)"
assert_status "selected event without a trigger" 200
assert_eq "stored, answered ok" ok "$(json 'd["status"]' <<<"$HTTP_BODY")"

new_sub drafty
drafty=$SUB_ID
drafty_secret=$SUB_SECRET
hookpipe workflow create draft --exec "$(recorder "$T_DIR/draft")" >/dev/null &&
    hookpipe workflow trigger draft --sub drafty --event batch.completed >/dev/null
check "a workflow starts as a draft" test "$(hookpipe workflow show draft --json | json 'd["state"]')" = draft
deliver "$drafty" "$drafty_secret" "$(payload batch.completed)"
assert_status "event for a draft workflow" 200

# The barrier: a published workflow's event runs after the others.
deliver "$picky" "$picky_secret" "$(payload batch.completed)"
assert_status "event for the published workflow" 200
check "the published workflow ran" wait_for 15 has_runs "$T_DIR/runs" 1
sleep 0.5
assert_eq "neither the ignored nor the unmatched event ran" 1 "$(runs_in "$T_DIR/runs")"
assert_eq "the draft workflow did not run" 0 "$(runs_in "$T_DIR/draft")"
if [ -n "$ignored_id" ]; then
	assert_eq "the ignored event is stored as ignored" ignored \
	    "$(hookpipe event show "$ignored_id" --json | json 'd["status"]')"
fi
assert_eq "hookpipe runs: one run" 1 "$(hookpipe runs --json | json 'len(d)')"

# Published later, the draft runs for the next event (not the old one).
hookpipe workflow publish draft >/dev/null
deliver "$drafty" "$drafty_secret" "$(payload batch.completed)"
check "once published, the workflow runs" wait_for 15 has_runs "$T_DIR/draft" 1
finish
