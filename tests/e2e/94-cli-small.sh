#!/usr/bin/env bash
# The small ones: send checks its --file, shows its headers and sends the
# provider's example; cred add tells "cannot reach" from "not accepted";
# lookups that find nothing fail; empty lists say so; ids by prefix;
# relative times in tables, RFC 3339 in --json; no color off a terminal;
# sub list in 100 columns.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

assert_contains "an empty workflow list says so" "no workflows yet" "$(hookpipe workflow list)"
assert_contains "an empty subscription list says so" "no subscriptions yet" "$(hookpipe sub list)"
assert_contains "no events yet" "no events" "$(hookpipe events)"
assert_contains "no runs yet" "no runs" "$(hookpipe runs)"

start_stack
new_sub a-subscription-of-some-length
sub=$SUB_ID
new_workflow wf a-subscription-of-some-length batch.completed "$T_DIR/runs"

printf 'a=1&b=2' >"$T_DIR/form.txt"
out=$(hookpipe send "$sub" --event batch.completed --file "$T_DIR/form.txt" 2>&1)
assert_eq "send refuses a non-JSON file for a JSON integration" 2 "$?"
assert_contains "saying so" "is not JSON" "$out"
assert_eq "nothing was sent" 0 "$(hookpipe events --json | json 'len(d)')"

out=$(hookpipe send "$sub" --event batch.completed --json)
assert_eq "send without --file" 0 "$?"
assert_eq "--json shows the content type it sent" application/json \
    "$(json 'd["headers"]["Content-Type"]' <<<"$out")"
check "and the delivery id header" test -n "$(json 'd["headers"]["webhook-id"]' <<<"$out")"
ev=$(json 'd["response"]["event_id"]' <<<"$out")
check "the event is stored" wait_for 10 hookpipe event show "$ev"
assert_eq "it is OpenAI's own example of the event" batch_abc123 \
    "$(hookpipe event show "$ev" --json | json 'd["payload"]["data"]["id"]')"
check "the run" wait_for 15 has_runs "$T_DIR/runs" 1
out=$(hookpipe send "$sub" --event batch.completed --json)
assert_eq "the example again is a new event, not a duplicate" ok \
    "$(json 'd["response"]["status"]' <<<"$out")"

# Ids by a unique prefix; times relative in tables, RFC 3339 in --json.
assert_eq "event show takes a prefix of the id" "$ev" \
    "$(hookpipe event show "${ev:0:23}" --json | json 'd["id"]')"
assert_eq "sub show takes a prefix of the id" "$sub" \
    "$(hookpipe sub show "${sub:0:8}" --json | json 'd["id"]')"
# Under a second old, an event's time reads "now": wait past that (on a
# fast machine the checks above take less).
sleep 2
assert_contains "events: how long ago" " ago" "$(hookpipe events)"
assert_contains "events --json: RFC 3339" "T" \
    "$(hookpipe events --json | json 'd[0]["received_at"]')"
check "an RFC 3339 time" python3 -c 'import datetime, sys
datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))' \
    "$(hookpipe events --json | json 'd[0]["received_at"]')"
out=$(hookpipe runs)
assert_not_contains "no color off a terminal" $'\e[' "$out"
out=$(NO_COLOR=1 script -qc 'hookpipe runs' /dev/null 2>/dev/null)
assert_not_contains "nor with NO_COLOR on a terminal" $'\e[' "$out"

out=$(hookpipe runs --workflow nosuch 2>&1)
assert_eq "runs --workflow nosuch fails" 1 "$?"
assert_contains "naming it" "nosuch" "$out"

width=$(hookpipe sub list | awk '{ if (length($0) > m) m = length($0) } END { print m }')
check "sub list fits 100 columns ($width)" test "$width" -le 100

# A provider that cannot be reached is not one that refused the key.
printf 'some-token\n' >"$T_DIR/key"
out=$(HOOKPIPE_GITHUB_API=http://127.0.0.1:1 hookpipe cred add gh \
    --integration github --api-key-file "$T_DIR/key" 2>&1)
assert_eq "cred add fails" 1 "$?"
assert_contains "saying it cannot reach the provider" "cannot reach" "$out"
assert_not_contains "not that the key was refused" "not accepted" "$out"
assert_contains "the empty list of credentials says so" "no credentials" "$(hookpipe cred list)"
finish
