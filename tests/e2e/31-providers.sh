#!/usr/bin/env bash
# Stripe (signed here with openssl), Slack (url_verification answered with
# its challenge and not stored; the published slash-command vector is in
# 33-slack-vector.sh), and secret rotation: during a rotation either
# secret verifies.
. "$(dirname "$0")/lib.sh"

start_stack

# --- Stripe ---------------------------------------------------------
st_secret=whsec_stripe_test_secret
hookpipe sub create pay --integration stripe --secret "$st_secret" >/dev/null
st_sub=$(hookpipe sub show pay --json | json 'd["id"]')
hookpipe workflow create pay-wf --exec "$(recorder "$T_DIR/stripe")" >/dev/null
hookpipe workflow trigger pay-wf --sub pay --event invoice.payment_failed >/dev/null
hookpipe workflow publish pay-wf >/dev/null
f=$T_DIR/stripe.json
printf '{"id":"evt_1Nx","object":"event","api_version":"2024-06-20","created":%s,"type":"invoice.payment_failed","livemode":false,"data":{"object":{"id":"in_1","object":"invoice"}}}' "$(date +%s)" >"$f"
stripe_post() {
	local ts=$1 key=$2 sig
	sig=$({ printf '%s.' "$ts"; cat "$f"; } | openssl dgst -sha256 -hmac "$key" | sed 's/^.*= //')
	HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    -H "Stripe-Signature: t=$ts,v1=$sig,v0=deadbeef" \
	    --data-binary "@$f" "$BASE/triggers/plugin/$st_sub")
	HTTP_BODY=$(cat "$T_DIR/resp.body")
}
stripe_post "$(date +%s)" "$st_secret"
assert_status "Stripe delivery" 200
check "the Stripe event ran" wait_for 15 has_runs "$T_DIR/stripe" 1
assert_eq "Stripe event type from the body" invoice.payment_failed \
    "$(json 'd["trigger"]["event"]' <"$(ls "$T_DIR"/stripe/*.json | head -n 1)")"
stripe_post "$(date +%s)" whsec_wrong
assert_status "Stripe signature mismatch" 401

# --- Slack ----------------------------------------------------------
sl_secret=8f742231b10e8888abcd99yyyzzz85a5
hookpipe sub create sl --integration slack --secret "$sl_secret" >/dev/null
sl_sub=$(hookpipe sub show sl --json | json 'd["id"]')
slack_post() {
	local file=$1 ct=$2 ts=$3 sig
	sig=$({ printf 'v0:%s:' "$ts"; cat "$file"; } | openssl dgst -sha256 -hmac "$sl_secret" | sed 's/^.*= //')
	HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
	    -H "Content-Type: $ct" -H "X-Slack-Request-Timestamp: $ts" \
	    -H "X-Slack-Signature: v0=$sig" --data-binary "@$file" \
	    "$BASE/triggers/plugin/$sl_sub")
	HTTP_BODY=$(cat "$T_DIR/resp.body")
}
if uv=$(sample slack-url_verification.json); then
	slack_post "$uv" application/json "$(date +%s)"
	assert_status "url_verification" 200
	assert_eq "url_verification is answered with its challenge" \
	    "$(json 'd["challenge"]' <"$uv")" "$HTTP_BODY"
	assert_eq "url_verification is not stored as an event" 0 \
	    "$(hookpipe events --sub sl --json | json 'len(d)')"
else
	skip "no slack-url_verification.json sample"
fi
# --- rotation: a second secret ---------------------------------------
new_sub rot
rot=$SUB_ID
old_secret=$SUB_SECRET
hookpipe sub edit rot --secondary-secret whsec_bmV3c2VjcmV0bmV3c2VjcmV0bmV3c2VjcmV0 >/dev/null
deliver "$rot" "$old_secret" "$(payload batch.completed)"
assert_status "during rotation the first secret verifies" 200
deliver "$rot" whsec_bmV3c2VjcmV0bmV3c2VjcmV0bmV3c2VjcmV0 "$(payload batch.completed)"
assert_status "during rotation the second secret verifies" 200
deliver "$rot" whsec_b3RoZXJvdGhlcm90aGVyb3RoZXI= "$(payload batch.completed)"
assert_status "any other secret does not" 401
finish
