#!/usr/bin/env bash
# HTTP-level answers: unknown subscription, body too large, wrong method,
# health, and no metrics on the public port.
HOOKPIPE_MAX_BODY=4096
export HOOKPIPE_MAX_BODY
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub http
sub=$SUB_ID
body=$(payload batch.completed)

deliver 00000000-0000-4000-8000-000000000000 "$SUB_SECRET" "$body"
assert_status "unknown subscription" 404
check "the 404 is JSON with an error" json 'd["error"]' <<<"$HTTP_BODY"
deliver not-a-subscription-id "$SUB_SECRET" "$body"
assert_status "malformed subscription id" 404
post POST "$BASE/nowhere" "$body"
assert_status "unknown path" 404

python3 -c 'import json, sys
print(json.dumps({"id": "evt_big", "object": "event", "type": "batch.completed",
                  "created_at": 1719168000, "data": {"pad": "x" * 4096}}))' >"$T_DIR/big.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/big.json"
assert_status "body over HOOKPIPE_MAX_BODY" 413
python3 -c 'import json, sys
d = {"id": "evt_fit", "object": "event", "type": "batch.completed",
     "created_at": 1719168000, "data": {"pad": ""}}
d["data"]["pad"] = "x" * (4096 - len(json.dumps(d)))
sys.stdout.write(json.dumps(d))' >"$T_DIR/fit.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/fit.json"
assert_status "body of exactly HOOKPIPE_MAX_BODY bytes" 200

post GET "$BASE/triggers/plugin/$sub" ""
assert_status "GET on a callback URL" 405
allow=$(grep -i '^allow:' <<<"$HTTP_HEADERS" | tr -d ' ' | tr '[:upper:]' '[:lower:]')
assert_eq "405 carries Allow: POST" "allow:post" "$allow"
post PUT "$BASE/triggers/plugin/$sub" "$body"
assert_status "PUT on a callback URL" 405

post GET "$BASE/healthz" ""
assert_status "healthz with all stages up" 200
post GET "$BASE/metrics" ""
assert_status "no /metrics on the public port (the admin listener has it)" 404
api GET /metrics ""
assert_status "metrics on the admin listener" 200
assert_contains "metrics in Prometheus text format" "# TYPE" "$HTTP_BODY"

hookpipectl stop router >/dev/null
post GET "$BASE/healthz" ""
assert_status "healthz with the router down" 503
assert_contains "healthz names the missing stage" router "$HTTP_BODY"
hookpipectl start >/dev/null
post GET "$BASE/healthz" ""
assert_status "healthz once the router is back" 200
finish
