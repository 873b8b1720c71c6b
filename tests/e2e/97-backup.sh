#!/usr/bin/env bash
# hookpipe backup while the stack runs, restore on a second state
# directory (another machine's): subscriptions, secrets, workflows,
# events and runs come back, and the restored stack verifies and runs.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub keep
sub=$SUB_ID
secret=$SUB_SECRET
new_workflow wf keep batch.completed "$T_DIR/runs"
deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "a delivery before the backup" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "it ran" wait_for 15 has_runs "$T_DIR/runs" 1

backup=$T_DIR/state.tgz
out=$(hookpipe backup "$backup" 2>&1)
assert_eq "backup while the stack runs" 0 "$?"
assert_contains "it says the file holds the master key" "master key" "$out"
assert_eq "the backup is private" 600 "$(stat -c %a "$backup")"
check "it is a tar with the databases and the key" sh -c \
    "tar -tzf '$backup' | grep -q 'db/events/data.mdb' && tar -tzf '$backup' | grep -q 'master.key'"

out=$(hookpipe restore "$backup" 2>&1)
assert_eq "restore over a running stack is refused" 1 "$?"
assert_contains "saying to stop it" "stop the stack first" "$out"
stop_stack
out=$(hookpipe restore "$backup" 2>&1)
assert_eq "restore over a state of its own is refused" 1 "$?"
assert_contains "naming --force and --home" "--force" "$out"
printf 'not a backup' | gzip >"$T_DIR/bad.tgz"
out=$(hookpipe --home "$(mktemp -u /tmp/hp.XXXXXX)" restore "$T_DIR/bad.tgz" 2>&1)
assert_eq "a file that is not a backup is refused" 1 "$?"

# The second machine: a new state directory and port.
second=$(mktemp -u /tmp/hp.XXXXXX)
out=$(hookpipe --home "$second" restore "$backup" 2>&1)
assert_eq "restore into a new state directory" 0 "$?"
first=$HOOKPIPE_HOME
export HOOKPIPE_HOME=$second
assert_eq "the subscription is back" "$sub" "$(hookpipe sub show keep --json | json 'd["id"]')"
assert_eq "with its secret, under the restored key" "$secret" \
    "$(hookpipe sub show keep --reveal --json | json 'd["secret"]')"
assert_eq "the workflow is back" published "$(hookpipe workflow show wf --json | json 'd["state"]')"
assert_eq "the event is back" "$ev" "$(hookpipe event show "$ev" --json | json 'd["id"]')"
assert_eq "its run is back" 1 "$(hookpipe runs --json | json 'len(d)')"
start_stack
deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "the restored stack verifies with the restored secret" 200
check "and runs the workflow" wait_for 15 has_runs "$T_DIR/runs" 2
stop_stack
rm -rf "$second"
export HOOKPIPE_HOME=$first
finish
