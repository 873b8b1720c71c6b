#!/usr/bin/env bash
# events --status rejected: the deliveries the verifier refused (401,
# 400), with the reason and never the body; events --follow prints
# events as they are stored.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub watched
sub=$SUB_ID
secret=$SUB_SECRET

assert_contains "no refusals yet" "no " "$(hookpipe events --status rejected)"
printf '{"type":"batch.completed","data":{"id":"secret-body-7731"}}' >"$T_DIR/forged.json"
deliver "$sub" "whsec_$(head -c 24 /dev/urandom | base64)" "$T_DIR/forged.json"
assert_status "a delivery signed with another secret" 401
post POST "$BASE/triggers/plugin/$sub" "$T_DIR/forged.json"
assert_status "an unsigned delivery" 401
check "both are recorded" wait_for 10 sh -c \
    "[ \"\$(hookpipe events --status rejected --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')\" = 2 ]"
rej=$(hookpipe events --status rejected --json)
assert_eq "with their status" 401 "$(json 'd[0]["http_status"]' <<<"$rej")"
assert_eq "for the subscription" watched "$(json 'd[0]["subscription_name"]' <<<"$rej")"
check "and a reason" test -n "$(json 'd[0]["reason"]' <<<"$rej")"
assert_not_contains "never the body" "secret-body-7731" "$rej"
assert_not_contains "nor the signature" "v1," "$rej"
table=$(hookpipe events --status rejected)
assert_contains "the table shows the reason" "$(json 'd[0]["reason"]' <<<"$rej" | cut -c1-20)" "$table"
assert_eq "a rejected delivery is no event" 0 "$(hookpipe events --json | json 'len(d)')"

# --follow: the events stored after it started, as they come.
hookpipe events --follow --json >"$T_DIR/follow.out" 2>"$T_DIR/follow.err" &
follow=$!
BG_PIDS+=("$follow")
sleep 1
deliver "$sub" "$secret" "$(payload batch.completed)"
first=$(json 'd["event_id"]' <<<"$HTTP_BODY")
deliver "$sub" "$secret" "$(payload batch.failed)"
second=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "--follow prints both" wait_for 10 sh -c "[ \$(wc -l <'$T_DIR/follow.out') -ge 2 ]"
assert_eq "oldest first, one JSON object a line" "$first $second" \
    "$(python3 -c 'import json, sys
print(" ".join(json.loads(l)["id"] for l in open(sys.argv[1])))' "$T_DIR/follow.out")"
check "it goes on until interrupted" kill -0 "$follow"
kill -INT "$follow"
wait "$follow"
assert_eq "an interrupt ends it cleanly" 0 "$?"
finish
