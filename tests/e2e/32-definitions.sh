#!/usr/bin/env bash
# Standard Webhooks v1a (Ed25519, a key pair made by the openssl command
# line), a user-defined hmac integration dropped into
# $HOOKPIPE_HOME/integrations/, and a broken definition refused with its
# location while the others keep working.
. "$(dirname "$0")/lib.sh"

mkdir -p "$HOOKPIPE_HOME/integrations"
cat >"$HOOKPIPE_HOME/integrations/acme.json" <<'JSON'
{
  "name": "acme",
  "title": "ACME Monitoring",
  "scheme": "hmac",
  "params": {
    "header": "X-Acme-Signature",
    "algorithm": "sha512",
    "encoding": "base64",
    "prefix": "sha512=",
    "signed": "{timestamp}.{body}",
    "timestamp_header": "X-Acme-Timestamp"
  },
  "event_type": "header:X-Acme-Event",
  "delivery_id": "header:X-Acme-Delivery",
  "events": [
    {"name": "alert.fired", "description": "An alert started firing."},
    {"name": "alert.resolved", "description": "An alert stopped firing."}
  ]
}
JSON
# Line 3 is broken: a missing value.
printf '{\n  "name": "broken",\n  "scheme": ,\n  "events": []\n}\n' \
    >"$HOOKPIPE_HOME/integrations/broken.json"

start_stack

# --- the broken definition ---------------------------------------------
err=$(hookpipe integration list 2>&1 >/dev/null)
assert_contains "a broken definition is reported with file:line" \
    "broken.json:3" "$err"
list=$(hookpipe integration list --json 2>/dev/null)
assert_eq "the broken one is left out" false \
    "$(json 'any(i["name"] == "broken" for i in d)' <<<"$list")"
assert_eq "the others keep working (openai listed)" true \
    "$(json 'any(i["name"] == "openai" for i in d)' <<<"$list")"
check "the verifier's log names the broken file and line" \
    grep -q "broken.json:3" "$HOOKPIPE_HOME/log/verifier.log"

# --- the user-defined hmac integration -----------------------------------
assert_eq "the user's integration is listed" true \
    "$(json 'any(i["name"] == "acme" for i in d)' <<<"$list")"
key=acme-shared-key
hookpipe sub create mon --integration acme --secret "$key" >/dev/null
acme=$(hookpipe sub show mon --json | json 'd["id"]')
hookpipe workflow create page --exec "$(recorder "$T_DIR/acme")" >/dev/null
hookpipe workflow trigger page --sub mon --event alert.fired >/dev/null
hookpipe workflow publish page >/dev/null
f=$T_DIR/alert.json
echo '{"alert":"disk full","host":"db1"}' >"$f"
acme_post() {
	local ts=$1 k=$2 sig
	sig=$({ printf '%s.' "$ts"; cat "$f"; } | openssl dgst -sha512 -hmac "$k" -binary | base64 -w0)
	HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H 'X-Acme-Event: alert.fired' \
	    -H "X-Acme-Delivery: d-$RANDOM$RANDOM" -H "X-Acme-Timestamp: $ts" \
	    -H "X-Acme-Signature: sha512=$sig" --data-binary "@$f" \
	    "$BASE/triggers/plugin/$acme")
}
acme_post "$(date +%s)" "$key"
assert_eq "a delivery signed as the definition says" 200 "$HTTP_STATUS"
check "it ran" wait_for 15 has_runs "$T_DIR/acme" 1
acme_post "$(date +%s)" wrong-key
assert_eq "wrong key" 401 "$HTTP_STATUS"
acme_post $(($(date +%s) - 301)) "$key"
assert_eq "timestamp outside the tolerance" 401 "$HTTP_STATUS"

# --- Standard Webhooks v1a: Ed25519 ------------------------------------
openssl genpkey -algorithm ed25519 -out "$T_DIR/ed.pem" 2>/dev/null
pub=$(openssl pkey -in "$T_DIR/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
hookpipe sub create sw --integration standard-webhooks --secret "whpk_$pub" >/dev/null
sw=$(hookpipe sub show sw --json | json 'd["id"]')
hookpipe workflow create contacts --exec "$(recorder "$T_DIR/sw")" >/dev/null
hookpipe workflow trigger contacts --sub sw --event contact.created >/dev/null
hookpipe workflow publish contacts >/dev/null
body=$(sample standardwebhooks-contact.created.json) ||
    { echo '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"c_1"}}' >"$T_DIR/sw.json"; body=$T_DIR/sw.json; }
sw_post() {
	local id=$1 ts=$2 pem=$3 sig
	{ printf '%s.%s.' "$id" "$ts"; cat "$body"; } >"$T_DIR/sw.msg"
	sig=$(openssl pkeyutl -sign -inkey "$pem" -rawin -in "$T_DIR/sw.msg" | base64 -w0)
	HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H "webhook-id: $id" \
	    -H "webhook-timestamp: $ts" -H "webhook-signature: v1a,$sig" \
	    --data-binary "@$body" "$BASE/triggers/plugin/$sw")
}
sw_post "msg_v1a_1" "$(date +%s)" "$T_DIR/ed.pem"
assert_eq "v1a (Ed25519) round trip" 200 "$HTTP_STATUS"
check "the v1a event ran" wait_for 15 has_runs "$T_DIR/sw" 1
openssl genpkey -algorithm ed25519 -out "$T_DIR/other.pem" 2>/dev/null
sw_post "msg_v1a_2" "$(date +%s)" "$T_DIR/other.pem"
assert_eq "v1a signed by another key" 401 "$HTTP_STATUS"
finish
