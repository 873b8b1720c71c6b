#!/usr/bin/env bash
# timeout: 600
# lane: side
# Handshakes, event type forms, encrypted bodies, the generic webhook
# integration, definitions reloaded without a restart, and `integration
# list|show`. The providers not shipped yet are user definitions in
# $HOOKPIPE_HOME/integrations, written as each provider's documentation
# describes its handshake; every signature and ciphertext is made with
# the openssl command line.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

D=$HOOKPIPE_HOME/integrations
mkdir -p "$D"

# def NAME JSON: a user definition (its events, if none, empty).
def() {
	printf '%s\n' "$2" >"$D/$1.json"
}

# hmac_hex KEY: the hex HMAC-SHA256 of stdin under KEY.
hmac_hex() {
	openssl dgst -sha256 -hmac "$1" | sed 's/^.*= //'
}

# req METHOD URL [CURL ARGS...]: like post, without a body or a
# Content-Type of its own.
req() {
	local method=$1 url=$2
	shift 2
	HTTP_STATUS=$(curl -s -m 20 -X "$method" -o "$T_DIR/resp.body" \
	    -D "$T_DIR/resp.headers" -w '%{http_code}' "$@" "$url")
	HTTP_BODY=$(cat "$T_DIR/resp.body" 2>/dev/null)
	HTTP_HEADERS=$(tr -d '\r' <"$T_DIR/resp.headers" 2>/dev/null)
}

# header NAME: the value of a response header of the last request.
header() {
	printf '%s\n' "$HTTP_HEADERS" | awk -v n="$(echo "$1" | tr '[:upper:]' '[:lower:]')" \
	    'BEGIN { FS = ": " } tolower($1) == n { print substr($0, length($1) + 3) }' |
	    tail -n 1
}

# mksub NAME INTEGRATION [ARGS...]: creates a subscription, sets ID.
mksub() {
	local out
	ID=none
	if ! out=$(hookpipe sub create "$1" --integration "$2" --json "${@:3}" \
	    2>"$T_DIR/mksub.err"); then
		not_ok "sub create $1" "$(cat "$T_DIR/mksub.err")"
		return 1
	fi
	ID=$(json 'd["id"]' <<<"$out")
}

no_events() {
	assert_eq "$1: nothing stored" 0 \
	    "$(hookpipe events --sub "$2" --json | json 'len(d)')"
}

# --- the definitions ------------------------------------------------------
def meta '{"name": "meta", "title": "Meta", "category": "Messaging",
 "scheme": "hmac",
 "params": {"header": "X-Hub-Signature-256", "prefix": "sha256="},
 "event_type": "body:/object", "delivery_id": "none",
 "sub_params": [{"name": "verify_token", "required": true,
   "description": "The Verify Token typed in the app'"'"'s webhook settings."}],
 "handshakes": [{"name": "subscribe", "method": "GET",
   "when": {"query:hub.mode": "subscribe"},
   "verify": {"token": "query:hub.verify_token", "equals": "param:verify_token"},
   "respond": {"text": "{query:hub.challenge}"}}],
 "setup": {"where": "the app dashboard, Webhooks", "callback_url": "Callback URL",
   "secret": "provider", "secret_field": "App Secret"},
 "events": []}'
def dropbox '{"name": "dropbox", "title": "Dropbox", "scheme": "hmac",
 "params": {"header": "X-Dropbox-Signature"},
 "event_type": "fixed:change", "delivery_id": "none",
 "handshakes": [{"method": "GET", "when": {"query:challenge": true},
   "respond": {"text": "{query:challenge}",
     "headers": {"X-Content-Type-Options": "nosniff"}}}],
 "events": []}'
def lark '{"name": "lark", "title": "Lark", "scheme": "hmac",
 "params": {"header": "X-Test-Signature"},
 "event_type": ["body:/header/event_type", "body:/type"],
 "delivery_id": "body:/header/event_id",
 "encrypted": {"field": "/encrypt", "cipher": "aes-256-cbc", "key": "secret",
   "key_hash": "sha256"},
 "sub_params": [{"name": "verification_token",
   "description": "The Verification Token of the app'"'"'s event settings."}],
 "handshakes": [{"name": "url_verification",
   "when": {"body:/type": "url_verification"},
   "verify": {"token": "body:/token", "equals": "param:verification_token"},
   "respond": {"json": {"challenge": "{body:/challenge}"}}}],
 "events": []}'
def monday '{"name": "monday", "title": "monday.com", "scheme": "hmac",
 "params": {"header": "X-Test-Signature"},
 "event_type": "body:/event/type", "delivery_id": "none",
 "handshakes": [{"when": {"body:/challenge": true, "body:/event": false},
   "verify": "none", "respond": {"json": {"challenge": "{body:/challenge}"}}}],
 "events": []}'
def zoom '{"name": "zoom", "title": "Zoom", "scheme": "hmac",
 "params": {"header": "x-zm-signature", "prefix": "v0=",
   "signed": "v0:{timestamp}:{body}", "timestamp_header": "x-zm-request-timestamp"},
 "event_type": "body:/event", "delivery_id": "none",
 "handshakes": [{"when": {"body:/event": "endpoint.url_validation"},
   "respond": {"json": {"plainToken": "{body:/payload/plainToken}",
     "encryptedToken": {"hmac": "sha256", "of": "{body:/payload/plainToken}",
       "encoding": "hex"}}}}],
 "events": []}'
def x '{"name": "x", "title": "X", "scheme": "hmac",
 "params": {"header": "x-twitter-webhooks-signature", "prefix": "sha256=",
   "encoding": "base64"},
 "event_type": "fixed:activity", "delivery_id": "none",
 "handshakes": [{"name": "crc", "method": "GET", "when": {"query:crc_token": true},
   "respond": {"json": {"response_token": {"hmac": "sha256",
     "of": "{query:crc_token}", "encoding": "base64", "prefix": "sha256="}}}}],
 "events": []}'
def twitch '{"name": "twitch", "title": "Twitch", "scheme": "hmac",
 "params": {"header": "Twitch-Eventsub-Message-Signature", "prefix": "sha256=",
   "signed": "{header:Twitch-Eventsub-Message-Id}{header:Twitch-Eventsub-Message-Timestamp}{body}"},
 "event_type": "header:Twitch-Eventsub-Subscription-Type",
 "delivery_id": "header:Twitch-Eventsub-Message-Id",
 "handshakes": [{"when": {"header:Twitch-Eventsub-Message-Type": "webhook_callback_verification"},
   "verify": "signature", "respond": {"text": "{body:/challenge}"}}],
 "events": []}'
def graph '{"name": "graph", "title": "Microsoft Graph", "scheme": "hmac",
 "params": {"header": "X-Test-Signature"},
 "event_type": "fixed:notification", "delivery_id": "none",
 "handshakes": [{"when": {"query:validationToken": true}, "verify": "none",
   "respond": {"text": "{query:validationToken}"}}],
 "events": []}'
def okta '{"name": "okta", "title": "Okta", "scheme": "hmac",
 "params": {"header": "X-Test-Signature"},
 "event_type": "body:/data/events/0/eventType", "delivery_id": "none",
 "handshakes": [{"method": "GET",
   "when": {"header:X-Okta-Verification-Challenge": true},
   "respond": {"json": {"verification": "{header:X-Okta-Verification-Challenge}"}}}],
 "events": []}'
def trello '{"name": "trello", "title": "Trello", "scheme": "hmac",
 "params": {"header": "X-Test-Signature"},
 "event_type": "body:/action/type", "delivery_id": "body:/action/id",
 "handshakes": [{"name": "probe", "method": "HEAD"}],
 "events": []}'
def asana '{"name": "asana", "title": "Asana", "scheme": "hmac",
 "params": {"header": "X-Hook-Signature"},
 "event_type": "fixed:events", "delivery_id": "none",
 "handshakes": [{"name": "x-hook-secret", "set_secret": "header:X-Hook-Secret",
   "respond": {"headers": {"X-Hook-Secret": "{header:X-Hook-Secret}"}}}],
 "setup": {"secret": "none", "where": "the Asana API (POST /webhooks)"},
 "events": []}'
# Discord signs with Ed25519; Standard Webhooks' v1a stands in for it here
# (the same signature, over id.timestamp.body).
def discord '{"name": "discord", "title": "Discord", "scheme": "standard-webhooks",
 "event_type": "body:/type", "delivery_id": "header:webhook-id",
 "handshakes": [{"name": "ping", "when": {"body:/type": 1},
   "respond": {"json": {"type": 1}}}],
 "events": []}'
def telegram '{"name": "telegram", "title": "Telegram", "scheme": "hmac",
 "params": {"header": "X-Test-Signature"},
 "event_type": {"first_key_of": "/", "keys": ["message", "edited_message",
   "channel_post", "callback_query", "inline_query"]},
 "delivery_id": "body:/update_id", "events": []}'
# GitHub's shipped definition with its event type as a template.
python3 - "$ROOT/integrations/github.json" "$D/github.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["event_type"] = "{header:X-GitHub-Event}.{body:/action}"
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY

start_stack

# --- GET challenges -------------------------------------------------------
mksub m1 meta --secret meta-app-secret --param verify_token=tok-123
meta=$ID
req GET "$BASE/triggers/plugin/$meta?hub.mode=subscribe&hub.verify_token=tok-123&hub.challenge=1158201444"
assert_status "Meta's GET subscribe with the verify token" 200
assert_eq "it is answered with hub.challenge" 1158201444 "$HTTP_BODY"
assert_contains "as text/plain" text/plain "$(header Content-Type)"
req GET "$BASE/triggers/plugin/$meta?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444"
assert_status "a wrong verify token is refused" 403
assert_contains "saying why" "does not match the subscription's verify_token" "$HTTP_BODY"
req GET "$BASE/triggers/plugin/$meta?hub.challenge=1"
assert_status "a GET that is not the handshake" 400
assert_contains "says what the handshake is" "hub.mode" "$HTTP_BODY"
no_events "Meta's handshakes" m1

mksub db1 dropbox --secret dropbox-app-secret
dbx=$ID
req GET "$BASE/triggers/plugin/$dbx?challenge=x8bQ2Hk%3C"
assert_status "Dropbox's GET challenge" 200
assert_eq "echoed, URL-decoded" 'x8bQ2Hk<' "$HTTP_BODY"
assert_eq "Content-Type: text/plain" text/plain "$(header Content-Type)"
assert_eq "X-Content-Type-Options: nosniff" nosniff "$(header X-Content-Type-Options)"
no_events "Dropbox's challenge" db1

mksub xs x --secret x-consumer-secret
xs=$ID
req GET "$BASE/triggers/plugin/$xs?crc_token=9b4507b3-9040-4669-9ba0-2da8fac4e1a4"
assert_status "X's CRC" 200
want=$(printf '%s' 9b4507b3-9040-4669-9ba0-2da8fac4e1a4 |
    openssl dgst -sha256 -hmac x-consumer-secret -binary | base64 -w0)
assert_eq "response_token is sha256= and the base64 HMAC of crc_token" \
    "sha256=$want" "$(json 'd["response_token"]' <<<"$HTTP_BODY")"
assert_contains "as JSON" application/json "$(header Content-Type)"
req GET "$BASE/triggers/plugin/$xs?crc_token=%7B%22a%22%3A1%7D"
assert_status "a crc_token that is not a token is not signed" 400
no_events "X's CRC" xs

mksub ok1 okta --secret okta-secret
req GET "$BASE/triggers/plugin/$ID" -H 'X-Okta-Verification-Challenge: CPd3Ol9'
assert_status "Okta's verification GET" 200
assert_eq "answered {\"verification\": ...}" CPd3Ol9 "$(json 'd["verification"]' <<<"$HTTP_BODY")"
no_events "Okta's verification" ok1

# --- HEAD, and methods an integration does not take -------------------------
mksub tr1 trello --secret trello-secret
tr=$ID
req HEAD "$BASE/triggers/plugin/$tr" -I
assert_status "Trello's HEAD probe" 200
req GET "$BASE/triggers/plugin/$tr"
assert_status "a GET to an integration without a GET handshake" 405
assert_eq "Allow names what it takes" "POST, HEAD" "$(header Allow)"
new_sub oa
req GET "$BASE/triggers/plugin/$SUB_ID"
assert_status "a GET to an integration without handshakes" 405
assert_eq "with Allow: POST" POST "$(header Allow)"
req HEAD "$BASE/triggers/plugin/$SUB_ID" -I
assert_status "a HEAD to it" 405
no_events "Trello's probe" tr1

# --- POST challenges --------------------------------------------------------
lark_key='lark-encrypt-key-6f1c'
mksub lk1 lark --secret "$lark_key" --param verification_token=vt-42
lark=$ID
printf '{"challenge":"ajls384kdjx98XX","token":"vt-42","type":"url_verification"}' >"$T_DIR/lark-uv.json"
post POST "$BASE/triggers/plugin/$lark" "$T_DIR/lark-uv.json"
assert_status "Lark's url_verification" 200
assert_eq "answered {\"challenge\": ...}" '{"challenge":"ajls384kdjx98XX"}' "$HTTP_BODY"
printf '{"challenge":"ajls384kdjx98XX","token":"vt-wrong","type":"url_verification"}' >"$T_DIR/lark-bad.json"
post POST "$BASE/triggers/plugin/$lark" "$T_DIR/lark-bad.json"
assert_status "with a wrong verification token" 403
# lark_encrypt FILE: Lark's {"encrypt": base64(IV + AES-256-CBC(body))}
# under the SHA-256 of the Encrypt Key.
lark_encrypt() {
	local key iv
	key=$(printf '%s' "$lark_key" | openssl dgst -sha256 | sed 's/^.*= //')
	iv=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	printf '{"encrypt":"%s"}' "$({ printf '%s' "$iv" | xxd -r -p
	    openssl enc -aes-256-cbc -K "$key" -iv "$iv" <"$1"; } | base64 -w0)"
}
lark_encrypt "$T_DIR/lark-uv.json" >"$T_DIR/lark-uv.enc"
post POST "$BASE/triggers/plugin/$lark" "$T_DIR/lark-uv.enc"
assert_status "an encrypted url_verification" 200
assert_eq "is decrypted and answered" '{"challenge":"ajls384kdjx98XX"}' "$HTTP_BODY"
no_events "Lark's url_verification" lk1

mksub mo1 monday --secret monday-secret
printf '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}' >"$T_DIR/monday.json"
post POST "$BASE/triggers/plugin/$ID" "$T_DIR/monday.json"
assert_status "monday.com's challenge" 200
assert_eq "the same JSON back" \
    '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}' "$HTTP_BODY"
no_events "monday's challenge" mo1

mksub g1 graph --secret graph-secret
req POST "$BASE/triggers/plugin/$ID?validationToken=Validation%3A%20Testing%20client%20application%20reachability%20for%20subscription%20Request-Id%3A%2025b4ac46" \
    -H 'Content-Type: text/plain' --data-binary ''
assert_status "Microsoft Graph's validationToken" 200
assert_eq "echoed, URL-decoded" \
    "Validation: Testing client application reachability for subscription Request-Id: 25b4ac46" \
    "$HTTP_BODY"
assert_eq "as text/plain" text/plain "$(header Content-Type)"
no_events "Graph's validation" g1

zoom_secret='zoom-secret-token'
mksub z1 zoom --secret "$zoom_secret"
zoom=$ID
printf '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}' >"$T_DIR/zoom.json"
zoom_post() {
	local ts sig
	ts=$(date +%s)
	sig=$({ printf 'v0:%s:' "$ts"; cat "$1"; } | hmac_hex "$2")
	post POST "$BASE/triggers/plugin/$zoom" "$1" \
	    -H "x-zm-request-timestamp: $ts" -H "x-zm-signature: v0=$sig"
}
zoom_post "$T_DIR/zoom.json" "$zoom_secret"
assert_status "Zoom's endpoint.url_validation" 200
assert_eq "plainToken comes back" qgg8vlvZRS6UYooatFL8Aw "$(json 'd["plainToken"]' <<<"$HTTP_BODY")"
assert_eq "encryptedToken is the hex HMAC-SHA256 of plainToken" \
    "$(printf qgg8vlvZRS6UYooatFL8Aw | hmac_hex "$zoom_secret")" \
    "$(json 'd["encryptedToken"]' <<<"$HTTP_BODY")"
zoom_post "$T_DIR/zoom.json" wrong-secret
assert_status "an unsigned url_validation is not answered" 401
no_events "Zoom's validation" z1

tw_secret=twitch-eventsub-secret
mksub tw1 twitch --secret "$tw_secret"
tw=$ID
printf '{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}' >"$T_DIR/twitch.json"
twitch_post() {
	local id=$1 ts sig
	ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	sig=$({ printf '%s%s' "$id" "$ts"; cat "$2"; } | hmac_hex "$3")
	post POST "$BASE/triggers/plugin/$tw" "$2" \
	    -H "Twitch-Eventsub-Message-Id: $id" \
	    -H "Twitch-Eventsub-Message-Timestamp: $ts" \
	    -H "Twitch-Eventsub-Message-Type: $4" \
	    -H 'Twitch-Eventsub-Subscription-Type: channel.follow' \
	    -H "Twitch-Eventsub-Message-Signature: sha256=$sig"
}
twitch_post m-1 "$T_DIR/twitch.json" "$tw_secret" webhook_callback_verification
assert_status "Twitch's signed webhook_callback_verification" 200
assert_eq "answered with the challenge" pogchamp-kappa-360noscope-vohiyo "$HTTP_BODY"
twitch_post m-2 "$T_DIR/twitch.json" not-the-secret webhook_callback_verification
assert_status "an unsigned one is refused" 401
assert_contains "with a reason" "Twitch-Eventsub-Message-Signature does not match" "$HTTP_BODY"
no_events "Twitch's verification" tw1

# Asana: the first POST hands over the secret in X-Hook-Secret.
mksub as1 asana
asana=$ID
req POST "$BASE/triggers/plugin/$asana" -H 'X-Hook-Secret: 7f5e2c7b6a9d41c8' --data-binary ''
assert_status "Asana's X-Hook-Secret handshake" 200
assert_eq "X-Hook-Secret is echoed" 7f5e2c7b6a9d41c8 "$(header X-Hook-Secret)"
assert_eq "and becomes the subscription's secret" 7f5e2c7b6a9d41c8 \
    "$(hookpipe sub show as1 --reveal --json | json 'd["secret"]')"
req POST "$BASE/triggers/plugin/$asana" -H 'X-Hook-Secret: 7f5e2c7b6a9d41c8' --data-binary ''
assert_status "the same handshake again" 200
req POST "$BASE/triggers/plugin/$asana" -H 'X-Hook-Secret: an-attackers-secret' --data-binary ''
assert_status "another secret later is refused" 409
assert_eq "and the secret stays" 7f5e2c7b6a9d41c8 \
    "$(hookpipe sub show as1 --reveal --json | json 'd["secret"]')"
no_events "Asana's handshake" as1
printf '{"events":[{"action":"changed","resource":{"gid":"1"}}]}' >"$T_DIR/asana.json"
post POST "$BASE/triggers/plugin/$asana" "$T_DIR/asana.json" \
    -H "X-Hook-Signature: $(hmac_hex 7f5e2c7b6a9d41c8 <"$T_DIR/asana.json")"
assert_status "then a delivery signed with the handed-over secret" 200

# Notion (the shipped definition): the verification_token comes in the
# body, which the receiver reads whole before it adopts the token.
mksub nt1 notion
nt=$ID
printf '{"verification_token":"secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"}' >"$T_DIR/nt-v.json"
printf '{"id":"e-1","type":"page.created","entity":{"id":"p-1","type":"page"}}' >"$T_DIR/nt-ev.json"
post POST "$BASE/triggers/plugin/$nt" "$T_DIR/nt-ev.json" \
    -H "X-Notion-Signature: sha256=$(hmac_hex x <"$T_DIR/nt-ev.json")"
assert_status "a Notion event before the verification: no secret yet" 401
post POST "$BASE/triggers/plugin/$nt" "$T_DIR/nt-v.json"
assert_status "Notion's verification request" 200
assert_eq "its verification_token becomes the subscription's secret" \
    secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl \
    "$(hookpipe sub show nt1 --reveal --json | json 'd["secret"]')"
printf '{"verification_token":"secret_another"}' >"$T_DIR/nt-v2.json"
post POST "$BASE/triggers/plugin/$nt" "$T_DIR/nt-v2.json"
assert_status "another token later is refused" 409
no_events "Notion's verification" nt1
post POST "$BASE/triggers/plugin/$nt" "$T_DIR/nt-ev.json" \
    -H "X-Notion-Signature: sha256=$(hmac_hex secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl <"$T_DIR/nt-ev.json")"
assert_status "then an event signed with the token" 200

# Discord's PING, answered only once its Ed25519 signature verifies.
openssl genpkey -algorithm ed25519 -out "$T_DIR/ed.pem" 2>/dev/null
pub=$(openssl pkey -in "$T_DIR/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
mksub dc1 discord --secret "whpk_$pub"
dc=$ID
printf '{"type":1,"id":"ping-1","application_id":"a-1"}' >"$T_DIR/ping.json"
discord_post() {
	local id=$1 ts sig
	ts=$(date +%s)
	{ printf '%s.%s.' "$id" "$ts"; cat "$T_DIR/ping.json"; } >"$T_DIR/ping.msg"
	sig=$(openssl pkeyutl -sign -inkey "$2" -rawin -in "$T_DIR/ping.msg" | base64 -w0)
	post POST "$BASE/triggers/plugin/$dc" "$T_DIR/ping.json" \
	    -H "webhook-id: $id" -H "webhook-timestamp: $ts" \
	    -H "webhook-signature: v1a,$sig"
}
discord_post p-1 "$T_DIR/ed.pem"
assert_status "Discord's signed PING" 200
assert_eq "answered {\"type\":1}" '{"type":1}' "$HTTP_BODY"
openssl genpkey -algorithm ed25519 -out "$T_DIR/other.pem" 2>/dev/null
discord_post p-2 "$T_DIR/other.pem"
assert_status "a PING signed by another key" 401
no_events "Discord's PING" dc1

# Slack's url_verification, with the shipped definition.
sl_secret=slack-signing-secret-1
mksub sl1 slack --secret "$sl_secret"
printf '{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV","type":"url_verification"}' >"$T_DIR/slack.json"
ts=$(date +%s)
post POST "$BASE/triggers/plugin/$ID" "$T_DIR/slack.json" \
    -H "X-Slack-Request-Timestamp: $ts" \
    -H "X-Slack-Signature: v0=$({ printf 'v0:%s:' "$ts"; cat "$T_DIR/slack.json"; } | hmac_hex "$sl_secret")"
assert_status "Slack's url_verification" 200
assert_eq "answered with its challenge" 3eZbrw1aBm2rZgRNFdxV "$HTTP_BODY"
no_events "Slack's url_verification" sl1
assert_eq "no handshake anywhere is an event" 0 \
    "$(hookpipe events --json | json 'len([e for e in d if e["subscription"] not in ("'"$asana"'", "'"$nt"'")])')"

# --- encrypted events ---------------------------------------------------------
hookpipe workflow create lark-msg --exec "$(recorder "$T_DIR/lark")" >/dev/null
hookpipe workflow trigger lark-msg --sub lk1 --event im.message >/dev/null
hookpipe workflow publish lark-msg >/dev/null
printf '{"schema":"2.0","header":{"event_id":"5e3702a84e847582be8db7fb73283c02","event_type":"im.message.receive_v1","token":"vt-42"},"event":{"message":{"content":"{\\"text\\":\\"hello\\"}"}}}' >"$T_DIR/lark-ev.json"
lark_encrypt "$T_DIR/lark-ev.json" >"$T_DIR/lark-ev.enc"
post POST "$BASE/triggers/plugin/$lark" "$T_DIR/lark-ev.enc" \
    -H "X-Test-Signature: $(hmac_hex "$lark_key" <"$T_DIR/lark-ev.enc")"
assert_status "an encrypted Lark event, signed" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
assert_eq "its type comes from the decrypted body" im.message.receive_v1 \
    "$(hookpipe event show "$ev" --json | json 'd["type"]')"
assert_eq "the decrypted JSON is what is stored" hello \
    "$(hookpipe event show "$ev" --json | json 'json.loads(d["payload"]["event"]["message"]["content"])["text"]' 2>/dev/null ||
       hookpipe event show "$ev" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.loads(d["payload"]["event"]["message"]["content"])["text"])')"
check "a trigger on im.message fires for im.message.receive_v1" wait_for 15 has_runs "$T_DIR/lark" 1
# Encrypted under another key, signed with the right one: refused, why.
lark_key=some-other-key lark_encrypt "$T_DIR/lark-ev.json" >"$T_DIR/lark-bad.enc"
post POST "$BASE/triggers/plugin/$lark" "$T_DIR/lark-bad.enc" \
    -H "X-Test-Signature: $(hmac_hex "$lark_key" <"$T_DIR/lark-bad.enc")"
assert_status "a body that does not decrypt" 400
assert_contains "says so" "does not decrypt" "$HTTP_BODY"
# Unsigned, it is refused for its signature before anything is said of
# the decryption.
post POST "$BASE/triggers/plugin/$lark" "$T_DIR/lark-bad.enc"
assert_status "unsigned, the signature is what is refused" 401

# --- event type templates -------------------------------------------------------
gh_secret='gh-webhook-secret'
mksub gh1 github --secret "$gh_secret" --events issues,ping
gh=$ID
hookpipe workflow create on-issues --exec "$(recorder "$T_DIR/issues")" >/dev/null
hookpipe workflow trigger on-issues --sub gh1 --event issues >/dev/null
hookpipe workflow publish on-issues >/dev/null
gh_post() {
	local ev=$1 file=$2
	post POST "$BASE/triggers/plugin/$gh" "$file" -H "X-GitHub-Event: $ev" \
	    -H "X-GitHub-Delivery: d-$RANDOM$RANDOM" \
	    -H "X-Hub-Signature-256: sha256=$(hmac_hex "$gh_secret" <"$file")"
}
printf '{"action":"opened","issue":{"number":1,"title":"t"},"repository":{"full_name":"o/r"}}' >"$T_DIR/issue.json"
gh_post issues "$T_DIR/issue.json"
assert_status "a GitHub issues delivery" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
assert_eq "{header:X-GitHub-Event}.{body:/action} gives issues.opened" issues.opened \
    "$(hookpipe event show "$ev" --json | json 'd["type"]')"
assert_eq "the subscription's issues covers issues.opened (not ignored)" true \
    "$(hookpipe event show "$ev" --json | json 'd["status"] in ("stored", "routed")')"
check "a trigger on issues fires for issues.opened" wait_for 15 has_runs "$T_DIR/issues" 1
printf '{"zen":"Keep it logically awesome.","hook_id":1}' >"$T_DIR/ping.json"
gh_post ping "$T_DIR/ping.json"
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
assert_eq "without an action: ping" ping "$(hookpipe event show "$ev" --json | json 'd["type"]')"
gh_post ping "$T_DIR/issue.json"
assert_status "the header's part still agrees with the body's shape" 400
assert_contains "saying which" "contradicts" "$HTTP_BODY"

tg_key=telegram-test-key
mksub tg1 telegram --secret "$tg_key"
tg=$ID
printf '{"update_id":10001,"edited_message":{"message_id":5,"text":"hi"}}' >"$T_DIR/tg.json"
post POST "$BASE/triggers/plugin/$tg" "$T_DIR/tg.json" \
    -H "X-Test-Signature: $(hmac_hex "$tg_key" <"$T_DIR/tg.json")"
assert_status "a Telegram update" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
assert_eq "the first key present names the event" edited_message \
    "$(hookpipe event show "$ev" --json | json 'd["type"]')"
assert_eq "the delivery id from the body" 10001 \
    "$(hookpipe event show "$ev" --json | json 'd["delivery_id"]')"
printf '{"update_id":10002,"poll":{"id":"1"}}' >"$T_DIR/tg2.json"
post POST "$BASE/triggers/plugin/$tg" "$T_DIR/tg2.json" \
    -H "X-Test-Signature: $(hmac_hex "$tg_key" <"$T_DIR/tg2.json")"
assert_status "an update with none of the keys" 400
assert_contains "has no event type" "no event type" "$HTTP_BODY"

# --- the generic webhook integration ------------------------------------------
out=$(hookpipe sub create gen --integration webhook --param header=X-Signature \
    --param algorithm=sha256 --param encoding=hex --param prefix=sha256= \
    --param signed='{timestamp}.{body}' --param timestamp_header=X-Timestamp \
    --param event_type=header:X-Event --generate-secret --json 2>&1)
gen=$(json 'd["id"]' <<<"$out")
gen_secret=$(json 'd["secret"]' <<<"$out")
check "sub create with the webhook params" test -n "$gen"
hookpipe workflow create gen-run --exec "$(recorder "$T_DIR/gen")" >/dev/null
hookpipe workflow trigger gen-run --sub gen --event order >/dev/null
hookpipe workflow publish gen-run >/dev/null
printf '{"order":{"id":77,"total":"12.50"}}' >"$T_DIR/gen.json"
gen_post() {
	local ts=$1 key=$2
	post POST "$BASE/triggers/plugin/$gen" "$T_DIR/gen.json" \
	    -H 'X-Event: order.paid' -H "X-Timestamp: $ts" \
	    -H "X-Signature: sha256=$({ printf '%s.' "$ts"; cat "$T_DIR/gen.json"; } | hmac_hex "$key")"
}
gen_post "$(date +%s)" "$gen_secret"
assert_status "a delivery signed as the params say" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
assert_eq "its type from --param event_type" order.paid \
    "$(hookpipe event show "$ev" --json | json 'd["type"]')"
check "a trigger on order fires for order.paid" wait_for 15 has_runs "$T_DIR/gen" 1
gen_post "$(date +%s)" wrong-key
assert_status "a wrong signature" 401
gen_post $(($(date +%s) - 1000)) "$gen_secret"
assert_status "a timestamp outside the tolerance" 401
err=$(hookpipe sub create gen2 --integration webhook --param header=X-Sig \
    --param signed='{timestamp}.{bdy}' 2>&1)
assert_eq "a template that does not check is refused (exit 1)" 1 "$?"
assert_contains "naming the param and the placeholder" "--param signed: unknown placeholder {bdy}" "$err"
err=$(hookpipe sub create gen2 --integration webhook --param algorithm=sha256 2>&1)
assert_contains "a missing required param is named" "--param header=... is required" "$err"
err=$(hookpipe sub create gen2 --integration webhook --param header=X --param colour=red 2>&1)
assert_contains "an unknown param is named" "--param colour: integration webhook takes no such param" "$err"
assert_eq "nothing was created" 0 "$(hookpipe sub list --integration webhook --json | json 'len([s for s in d if s["name"] == "gen2"])')"

# --- definitions reloaded without a restart --------------------------------------
verifier_pid=$(cat "$HOOKPIPE_HOME/run/verifier.pid")
receiver_pid=$(cat "$HOOKPIPE_HOME/run/receiver.pid")
def acme '{"name": "acme", "title": "ACME", "scheme": "hmac",
 "params": {"header": "X-Acme-Signature"},
 "event_type": "header:X-Acme-Event", "delivery_id": "none",
 "handshakes": [{"method": "GET", "when": {"query:ping": true},
   "respond": {"text": "pong {query:ping}"}}],
 "events": [{"name": "alert", "description": "An alert."}]}'
mksub a1 acme --secret acme-key
acme=$ID
printf '{"alert":"disk"}' >"$T_DIR/acme.json"
acme_post() {
	post POST "$BASE/triggers/plugin/$acme" "$T_DIR/acme.json" \
	    -H 'X-Acme-Event: alert.fired' \
	    -H "X-Acme-Signature: $(hmac_hex acme-key <"$T_DIR/acme.json")"
}
acme_post
assert_status "a definition added while running is used at once" 200
req GET "$BASE/triggers/plugin/$acme?ping=1"
assert_status "its GET handshake too (the receiver reloaded)" 200
assert_eq "answered" "pong 1" "$HTTP_BODY"
# Changed: the event type now comes from the body.
def acme '{"name": "acme", "title": "ACME", "scheme": "hmac",
 "params": {"header": "X-Acme-Signature"},
 "event_type": "fixed:changed", "delivery_id": "none",
 "handshakes": [{"method": "GET", "when": {"query:ping": true},
   "respond": {"text": "pong2 {query:ping}"}}],
 "events": [{"name": "alert", "description": "An alert."}]}'
# shellcheck disable=SC2317 # called by wait_for
changed() {
	acme_post
	[ "$HTTP_STATUS" = 200 ] && [ "$(hookpipe event show "$(json 'd["event_id"]' <<<"$HTTP_BODY")" --json | json 'd["type"]')" = changed ]
}
check "a changed definition is used without a restart" wait_for 10 changed
req GET "$BASE/triggers/plugin/$acme?ping=2"
assert_eq "by the receiver too" "pong2 2" "$HTTP_BODY"
# Broken: the previous version keeps working.
printf '{\n  "name": "acme",\n  "scheme": ,\n}\n' >"$D/acme.json"
# shellcheck disable=SC2317 # called by wait_for
logged() { grep -q "acme.json:3.*the version loaded before stays in use" "$HOOKPIPE_HOME/log/$1.log"; }
check "the verifier refuses the broken file with its location" wait_for 10 logged verifier
check "the receiver too" wait_for 10 logged receiver
acme_post
assert_status "the previous version keeps working" 200
assert_eq "as it was" changed "$(hookpipe event show "$(json 'd["event_id"]' <<<"$HTTP_BODY")" --json | json 'd["type"]')"
err=$(hookpipe integration list 2>&1 >/dev/null)
assert_contains "integration list names the broken file and line" "acme.json:3" "$err"
# hookpipectl reload (SIGHUP): the stages read the definitions now, and go on.
out=$(hookpipectl reload)
check "hookpipectl reload exits 0" test $? -eq 0
assert_contains "it names the receiver" "receiver: reloading (pid $receiver_pid)" "$out"
assert_contains "and the verifier" "verifier: reloading (pid $verifier_pid)" "$out"
check "SIGHUP: the receiver reloads" wait_for 10 grep -q "reloaded" "$HOOKPIPE_HOME/log/receiver.log"
check "SIGHUP: the verifier reloads" wait_for 10 grep -q "reloaded" "$HOOKPIPE_HOME/log/verifier.log"
req GET "$BASE/healthz"
assert_status "and both keep running" 200
assert_eq "the same receiver" "$receiver_pid" "$(cat "$HOOKPIPE_HOME/run/receiver.pid")"
assert_eq "the same verifier" "$verifier_pid" "$(cat "$HOOKPIPE_HOME/run/verifier.pid")"

# --- integration list and show ------------------------------------------------------
list=$(hookpipe integration list 2>/dev/null)
assert_contains "list has a CATEGORY column" CATEGORY "$list"
assert_contains "and a HANDSHAKES one" HANDSHAKES "$list"
cats=$(hookpipe integration list --json 2>/dev/null | json '[i["category"] for i in d]')
assert_eq "grouped by category, in order, Other last" true \
    "$(json 'd == sorted(d, key=lambda c: (c == "Other", c))' <<<"$cats")"
assert_eq "the shipped categories" '["AI", "Code", "Generic", "Messaging", "Payments"]' \
    "$(hookpipe integration list --json 2>/dev/null | json 'sorted(set(i["category"] for i in d if i["name"] in ("openai", "github", "stripe", "slack", "standard-webhooks", "webhook")))')"
lj=$(hookpipe integration list --json 2>/dev/null)
assert_eq "--json carries the modes" '["manual", "api-key", "oauth"]' \
    "$(json '[i["modes"] for i in d if i["name"] == "github"][0]' <<<"$lj")"
show=$(hookpipe integration show meta)
assert_contains "show: the handshake" "GET with query parameter hub.mode = subscribe" "$show"
assert_contains "show: its token check" "hub.verify_token matches the subscription's verify_token" "$show"
assert_contains "show: the headers it reads" "reads headers: x-hub-signature-256" "$show"
assert_contains "show: the params" "verify_token" "$show"
assert_contains "show: a ready-to-paste setup" "hookpipe sub create NAME --integration meta --param verify_token=..." "$show"
show=$(hookpipe integration show github)
assert_contains "GitHub's setup: hookpipe makes the secret" "--generate-secret" "$show"
assert_contains "GitHub's setup: where it goes" "the Secret field" "$show"
show=$(hookpipe integration show stripe)
assert_contains "Stripe's setup: Stripe makes the secret" "hookpipe sub edit NAME --secret-file FILE" "$show"
sj=$(hookpipe integration show zoom --json)
assert_eq "show --json: the handshake" endpoint.url_validation \
    "$(json 'd["handshakes"][0]["when"]["body:/event"]' <<<"$sj")"
assert_eq "show --json: answered by the verifier after the signature" "verifier signature" \
    "$(json 'd["handshakes"][0]["answered_by"] + " " + d["handshakes"][0]["verify"]' <<<"$sj")"
assert_eq "show --json: the headers it reads" true \
    "$(json '"x-zm-signature" in d["read_headers"]' <<<"$sj")"
sj=$(hookpipe integration show webhook --json)
assert_eq "show --json: the setup's secret side" hookpipe "$(json 'd["setup"]["secret"]' <<<"$sj")"
assert_eq "show --json: the params" header "$(json 'd["sub_params"][0]["name"]' <<<"$sj")"

# --- while the verifier is away ---------------------------------------------
hookpipectl stop verifier >/dev/null
req GET "$BASE/triggers/plugin/$meta?hub.mode=subscribe&hub.verify_token=tok-123&hub.challenge=7"
assert_status "a GET handshake while the verifier is away" 503
assert_eq "is not spooled" 0 "$(hookpipe spool list --json | json 'len(d)')"
req HEAD "$BASE/triggers/plugin/$tr" -I
assert_status "the receiver's own handshakes still answer" 200
finish
