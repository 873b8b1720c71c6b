#!/usr/bin/env bash
# workflow edit changes a workflow in place (its triggers and runs stay);
# workflow disable stops events from starting it without unpublishing,
# enable turns it back on.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub ed
sub=$SUB_ID
secret=$SUB_SECRET
new_workflow wf ed batch.completed "$T_DIR/a"

out=$(hookpipe workflow edit wf 2>&1)
assert_eq "edit without a change is a usage error" 2 "$?"
assert_contains "and says what to give" "nothing to change" "$out"
out=$(hookpipe workflow edit wf --header 'X-A: 1' 2>&1)
assert_eq "--header on an exec action is refused" 2 "$?"
assert_contains "naming the action" "exec action, not http" "$out"
out=$(hookpipe workflow edit nosuch --timeout 5 2>&1)
assert_eq "edit of an unknown workflow fails" 1 "$?"
assert_eq "a refused edit changes nothing" 30 \
    "$(hookpipe workflow show wf --json | json 'd["action"]["timeout"]')"

check "edit the timeout, retries and concurrency" \
    hookpipe workflow edit wf --timeout 7 --retries 1 --concurrency 3
show=$(hookpipe workflow show wf --json)
assert_eq "timeout" 7 "$(json 'd["action"]["timeout"]' <<<"$show")"
assert_eq "retries" 1 "$(json 'd["action"]["retries"]' <<<"$show")"
assert_eq "concurrency" 3 "$(json 'd["action"]["concurrency"]' <<<"$show")"
assert_eq "still published" published "$(json 'd["state"]' <<<"$show")"
assert_eq "its trigger stays" 1 "$(json 'len(d["triggers"])' <<<"$show")"

# A new command: the next event runs it, not the old one.
check "edit the command" hookpipe workflow edit wf --exec "$(recorder "$T_DIR/b")" \
    --env TOKEN=s3cr3t-value
show=$(hookpipe workflow show wf)
assert_not_contains "the new --env value is masked" "s3cr3t-value" "$show"
deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "delivery" 200
check "the new command ran" wait_for 15 has_runs "$T_DIR/b" 1
assert_eq "the old one did not" 0 "$(runs_in "$T_DIR/a")"

# Disabled: stored, not run; enabled again: runs.
check "disable" hookpipe workflow disable wf
assert_eq "disabled shows in --json" false \
    "$(hookpipe workflow show wf --json | json 'd["enabled"]')"
assert_contains "and in the list" "(disabled)" "$(hookpipe workflow list)"
deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "delivery to a disabled workflow is accepted" 200
off_event=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "the event is stored" wait_for 10 hookpipe event show "$off_event"
hookpipe workflow create other --exec "$(recorder "$T_DIR/c")" >/dev/null &&
    hookpipe workflow trigger other --sub ed --event batch.completed >/dev/null &&
    hookpipe workflow publish other >/dev/null
deliver "$sub" "$secret" "$(payload batch.completed)"
# The barrier: the other workflow runs for the third event after the
# router has passed the second.
check "another workflow runs" wait_for 15 has_runs "$T_DIR/c" 1
sleep 0.5
assert_eq "the disabled workflow did not run" 1 "$(runs_in "$T_DIR/b")"
assert_eq "still published" published \
    "$(hookpipe workflow show wf --json | json 'd["state"]')"
check "enable" hookpipe workflow enable wf
deliver "$sub" "$secret" "$(payload batch.completed)"
check "enabled again, it runs" wait_for 15 has_runs "$T_DIR/b" 2
finish
