#!/usr/bin/env bash
# The scheme vocabulary end to end: user definitions in
# $HOOKPIPE_HOME/integrations for hmac (a ts=;h1= list, Twilio's URL and
# sorted form), token (a header, every clientState of a body), basic,
# ed25519, ecdsa-p256 and jwt (HS256 with a body digest; RS256 by a JWKS
# the CLI fetches at sub create, the dispatcher refreshes when it is due
# and the verifier reads from its cache; a jwks_file for offline use).
# Deliveries are signed with the openssl command line and Node's crypto;
# each scheme answers 200, and 401 (or 503) with a reason that names what
# was wrong.
. "$(dirname "$0")/lib.sh"

HELPERS=$(dirname "$0")/helpers
if ! command -v node >/dev/null; then
	skip "node is not installed (bash .ci/deps installs nodejs)"
	finish
fi
D=$HOOKPIPE_HOME/integrations
mkdir -p "$D" "$T_DIR/keys"

# define NAME SCHEME PARAMS EVENT_TYPE [CONTENT_TYPES]: a user definition.
define() {
	cat >"$D/$1.json" <<JSON
{
  "name": "$1", "scheme": "$2", "params": $3,
  "event_type": "$4", "delivery_id": "none", "body": "any",
  "content_types": ${5:-[\"application/json\"]},
  "events": [{"name": "x", "description": "An event."}]
}
JSON
}

# send SUB BODYFILE [CURL ARGS...]: POST; sets HTTP_STATUS and HTTP_BODY.
send() {
	local sub=$1 file=$2
	shift 2
	HTTP_STATUS=$(curl -s -m 20 -o "$T_DIR/resp.body" -w '%{http_code}' \
	    --data-binary "@$file" "$@" "$BASE/triggers/plugin/$sub")
	HTTP_BODY=$(cat "$T_DIR/resp.body" 2>/dev/null)
}

# refused NAME STATUS REASON: the last post got STATUS with REASON.
refused() {
	assert_status "$1" "$2"
	assert_contains "$1: the reason" "$3" "$HTTP_BODY"
}

sub_id() {
	hookpipe sub show "$1" --json | json 'd["id"]'
}

# --- definitions ------------------------------------------------------
define paddleish hmac '{"signature": "header:Acme-Signature",
  "format": "kv", "separator": ";", "kv_signature": "h1",
  "kv_timestamp": "ts", "signed": "{timestamp}:{body}"}' 'body:/type'
define twil hmac '{"header": "X-Twilio-Signature", "algorithm": "sha1",
  "encoding": "base64", "signed": "{url}{form:sorted}"}' 'body:/EventType' \
    '["application/x-www-form-urlencoded"]'
define gl token '{"token": "header:X-Gitlab-Token"}' 'header:X-Gitlab-Event'
define graph token '{"token": "body:/value/*/clientState"}' \
    'body:/value/0/changeType'
define pm basic '{}' 'body:/RecordType'
define disc ed25519 '{"header": "X-Signature-Ed25519",
  "timestamp": "header:X-Signature-Timestamp",
  "signed": "{timestamp}{body}"}' 'body:/t'
define sg ecdsa-p256 '{"header": "X-Twilio-Email-Event-Webhook-Signature",
  "encoding": "base64",
  "timestamp": "header:X-Twilio-Email-Event-Webhook-Timestamp",
  "signed": "{timestamp}{body}"}' 'body:/0/event'
define nl jwt '{"token": "header:X-Webhook-Signature", "prefix": "",
  "algorithms": ["HS256"], "issuer": "netlify", "require": ["sha256"],
  "body_digest": {"claim": "sha256"}}' 'body:/state'

# A JWKS server on this machine (a definition may name http:// only for
# 127.0.0.1 and localhost).
kport=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$kport" \
    --directory "$T_DIR/keys" >/dev/null 2>&1 &
BG_PIDS+=($!)
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$kport/" ||
    not_ok "the JWKS server starts"
for k in a b; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$T_DIR/rsa-$k.pem" 2>/dev/null
done
printf '{"keys":[%s]}' "$(node "$HELPERS/jwt.js" jwk "$T_DIR/rsa-a.pem" a)" \
    >"$T_DIR/keys/certs"
define ps jwt "{\"algorithms\": [\"RS256\"],
  \"jwks_url\": \"http://127.0.0.1:$kport/certs\",
  \"issuer\": [\"https://accounts.google.com\", \"accounts.google.com\"],
  \"audience\": \"{url}\"}" 'body:/subscription'
dead=$(free_port)
define psdead jwt "{\"algorithms\": [\"RS256\"],
  \"jwks_url\": \"http://127.0.0.1:$dead/certs\"}" 'body:/subscription'
# Offline: the keys in a file beside the definition.
printf '{"keys":[%s]}' "$(node "$HELPERS/jwt.js" jwk "$T_DIR/rsa-b.pem" b)" \
    >"$D/psoff.jwks"
define psoff jwt '{"algorithms": ["RS256"], "jwks_file": "psoff.jwks",
  "audience": "{url}"}' 'body:/subscription'

# The README's example definitions load as they are.
python3 - "$ROOT/README.md" "$T_DIR/readme" <<'PY'
import json, os, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^### Signature schemes$(.*?)^## ", text, re.S | re.M)
os.makedirs(sys.argv[2], exist_ok=True)
for i, block in enumerate(re.findall(r"```json\n(.*?)```", m.group(1), re.S)):
    d = json.loads(block)
    d["name"] = "readme-" + d["name"]
    json.dump(d, open(os.path.join(sys.argv[2], "%02d.json" % i), "w"))
PY
n=0
for f in "$T_DIR"/readme/*.json; do
	cp "$f" "$D/$(basename "$f")"
	n=$((n + 1))
done
check "the README shows one example definition per scheme and more" test "$n" -ge 9
err=$(hookpipe integration list 2>&1 >/dev/null)
assert_eq "every example definition of the README loads" "" "$err"
listed=$(hookpipe integration list --json | json 'len([i for i in d if i["name"].startswith("readme-")])')
assert_eq "all of them are listed" "$n" "$listed"

# --- secrets, and the keys the CLI fetches --------------------------------
openssl genpkey -algorithm ed25519 -out "$T_DIR/ed.pem" 2>/dev/null
ed_pub=$(openssl pkey -in "$T_DIR/ed.pem" -pubout -outform DER | tail -c 32 |
    od -An -tx1 -v | tr -d ' \n')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$T_DIR/ec.pem" 2>/dev/null
ec_pub=$(openssl pkey -in "$T_DIR/ec.pem" -pubout -outform DER | base64 -w0)

hookpipe sub create paddleish --integration paddleish --secret pdl_s3cret >/dev/null
hookpipe sub create twil --integration twil --secret twilio-auth-token >/dev/null
hookpipe sub create gl --integration gl --secret gl-token-123 >/dev/null
hookpipe sub create graph --integration graph --secret graph-state >/dev/null
hookpipe sub create pm --integration pm --secret 'hooks:p4ss word' >/dev/null
hookpipe sub create disc --integration disc --secret "$ed_pub" >/dev/null
hookpipe sub create sg --integration sg --secret "$ec_pub" >/dev/null
hookpipe sub create nl --integration nl --secret netlify-jws >/dev/null
hookpipe sub create psoff --integration psoff >/dev/null
out=$(hookpipe sub create ps --integration ps 2>&1)
check "sub create fetches the JWKS of a jwt integration" \
    grep -q '"kid": "a"' "$HOOKPIPE_HOME"/cache/jwks/*.json
out=$(hookpipe sub create psdead --integration psdead 2>&1)
assert_contains "sub create warns when the keys cannot be fetched" \
    "cannot fetch the keys of psdead" "$out"
out=$(hookpipe sub create ed2 --integration disc --secret hunter2 2>&1)
assert_contains "an ed25519 secret must be a public key" \
    "public key" "$out"
out=$(hookpipe sub create pm2 --integration pm --secret nopassword 2>&1)
assert_contains "a basic secret is user:password" "user:password" "$out"
out=$(hookpipe sub refresh-keys ps 2>&1)
assert_contains "sub refresh-keys fetches now" "fetched 1 key" "$out"
out=$(hookpipe sub refresh-keys gl 2>&1)
assert_contains "sub refresh-keys on a scheme without keys" \
    "fetches no keys" "$out"

# The keys rotate: the provider now publishes b only, and the cached
# copy is due. The dispatcher's first tick refreshes it.
printf '{"keys":[%s]}' "$(node "$HELPERS/jwt.js" jwk "$T_DIR/rsa-b.pem" b)" \
    >"$T_DIR/keys/certs"
for f in "$HOOKPIPE_HOME"/cache/jwks/*.json; do
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["next_at"] = 0
json.dump(d, open(sys.argv[1], "w"))' "$f"
done

start_stack

# --- hmac: a ts=;h1= list -------------------------------------------------
sub=$(sub_id paddleish)
f=$T_DIR/paddle.json
echo '{"type":"subscription.created","id":"evt_1"}' >"$f"
paddle() {
	local ts=$1 key=$2 sig
	sig=$({ printf '%s:' "$ts"; cat "$f"; } | openssl dgst -sha256 -hmac "$key" -r | cut -d' ' -f1)
	send "$sub" "$f" -H 'Content-Type: application/json' \
	    -H "Acme-Signature: ts=$ts;h1=0000;h1=$sig"
}
paddle "$(date +%s)" pdl_s3cret
assert_status "hmac key=value list: the second h1 matches" 200
paddle "$(date +%s)" wrong
refused "hmac key=value list: wrong secret" 401 \
    "no h1 signature in Acme-Signature matches"
paddle $(($(date +%s) - 400)) pdl_s3cret
refused "hmac key=value list: an old timestamp" 401 "outside the tolerance"
send "$sub" "$f" -H 'Content-Type: application/json'
refused "hmac: no signature header" 401 "missing Acme-Signature header"

# --- hmac: Twilio's URL and sorted form fields ------------------------------
sub=$(sub_id twil)
f=$T_DIR/twilio.form
printf 'To=%%2B15551234567&From=%%2B15557654321&EventType=call.completed&Body=hi+there' >"$f"
url="$BASE/triggers/plugin/$sub?tenant=acme"
data="${url}Bodyhi thereEventTypecall.completedFrom+15557654321To+15551234567"
sig=$(printf '%s' "$data" | openssl dgst -sha1 -hmac twilio-auth-token -binary | base64 -w0)
HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "X-Twilio-Signature: $sig" --data-binary "@$f" "$url")
assert_status "Twilio: {url}{form:sorted}" 200
HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "X-Twilio-Signature: $sig" --data-binary "@$f" "$url&extra=1")
HTTP_BODY=$(cat "$T_DIR/resp.body")
refused "Twilio: the same signature on another URL" 401 \
    "X-Twilio-Signature does not match"
check "the Twilio event is stored with its type" sh -c \
    "hookpipe events --sub twil --json | grep -q call.completed"

# --- token -------------------------------------------------------------
sub=$(sub_id gl)
f=$T_DIR/gl.json
echo '{"object_kind":"push"}' >"$f"
send "$sub" "$f" -H 'Content-Type: application/json' \
    -H 'X-Gitlab-Event: Push Hook' -H 'X-Gitlab-Token: gl-token-123'
assert_status "token in a header" 200
send "$sub" "$f" -H 'Content-Type: application/json' \
    -H 'X-Gitlab-Event: Push Hook' -H 'X-Gitlab-Token: gl-token-12'
refused "token: wrong" 401 "X-Gitlab-Token does not match"
send "$sub" "$f" -H 'Content-Type: application/json' \
    -H 'X-Gitlab-Event: Push Hook'
refused "token: missing" 401 "missing X-Gitlab-Token header"

sub=$(sub_id graph)
f=$T_DIR/graph.json
note='{"subscriptionId":"s1","clientState":"%s","changeType":"created","resource":"me/messages/1"}'
printf "{\"value\":[$note,$note]}" graph-state graph-state >"$f"
send "$sub" "$f" -H 'Content-Type: application/json'
assert_status "token: every clientState of the body" 200
printf "{\"value\":[$note,$note]}" graph-state forged >"$f"
send "$sub" "$f" -H 'Content-Type: application/json'
refused "token: one clientState forged" 401 \
    "body field /value/1/clientState does not match"

# --- basic ---------------------------------------------------------------
sub=$(sub_id pm)
f=$T_DIR/pm.json
echo '{"RecordType":"Delivery","MessageID":"m1"}' >"$f"
send "$sub" "$f" -H 'Content-Type: application/json' -u 'hooks:p4ss word'
assert_status "basic: user:password" 200
send "$sub" "$f" -H 'Content-Type: application/json' -u 'hooks:guess'
refused "basic: wrong password" 401 "credentials in Authorization do not match"
send "$sub" "$f" -H 'Content-Type: application/json'
refused "basic: none" 401 "missing Authorization header"

# --- ed25519 (Discord) ----------------------------------------------------
sub=$(sub_id disc)
f=$T_DIR/disc.json
echo '{"t":"interaction","type":2,"id":"1"}' >"$f"
disc() {
	local ts=$1 key=$2 sig
	{ printf '%s' "$ts"; cat "$f"; } >"$T_DIR/disc.msg"
	sig=$(openssl pkeyutl -sign -inkey "$key" -rawin -in "$T_DIR/disc.msg" |
	    od -An -tx1 -v | tr -d ' \n')
	send "$sub" "$f" -H 'Content-Type: application/json' \
	    -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $ts"
}
disc "$(date +%s)" "$T_DIR/ed.pem"
assert_status "ed25519: Discord's signature" 200
openssl genpkey -algorithm ed25519 -out "$T_DIR/ed-other.pem" 2>/dev/null
disc "$(date +%s)" "$T_DIR/ed-other.pem"
refused "ed25519: another key" 401 "X-Signature-Ed25519 does not match"

# --- ecdsa-p256 (SendGrid) ------------------------------------------------
sub=$(sub_id sg)
f=$T_DIR/sg.json
printf '[{"email":"a@example.com","event":"delivered","sg_event_id":"e1"}]\r\n' >"$f"
sg() {
	local ts=$1 key=$2 sig
	sig=$({ printf '%s' "$ts"; cat "$f"; } | openssl dgst -sha256 -sign "$key" | base64 -w0)
	send "$sub" "$f" -H 'Content-Type: application/json' \
	    -H "X-Twilio-Email-Event-Webhook-Signature: $sig" \
	    -H "X-Twilio-Email-Event-Webhook-Timestamp: $ts"
}
sg "$(date +%s)" "$T_DIR/ec.pem"
assert_status "ecdsa-p256: SendGrid's signature" 200
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$T_DIR/ec-other.pem" 2>/dev/null
sg "$(date +%s)" "$T_DIR/ec-other.pem"
refused "ecdsa-p256: another key" 401 \
    "X-Twilio-Email-Event-Webhook-Signature does not match"

# --- jwt HS256 with the body's digest (Netlify) ----------------------------
sub=$(sub_id nl)
f=$T_DIR/nl.json
echo '{"id":"d1","state":"ready"}' >"$f"
digest=$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)
tok=$(node "$HELPERS/jwt.js" sign HS256 netlify-jws \
    "{\"iss\":\"netlify\",\"sha256\":\"$digest\"}")
send "$sub" "$f" -H 'Content-Type: application/json' \
    -H "X-Webhook-Signature: $tok"
assert_status "jwt HS256: Netlify's JWS" 200
echo '{"id":"d1","state":"error"}' >"$T_DIR/nl2.json"
send "$sub" "$T_DIR/nl2.json" -H 'Content-Type: application/json' \
    -H "X-Webhook-Signature: $tok"
refused "jwt: the token of another body" 401 \
    "the body does not match the JWT's sha256 claim"

# --- jwt RS256 by a JWKS (Google Pub/Sub push) ------------------------------
sub=$(sub_id ps)
f=$T_DIR/ps.json
echo '{"message":{"data":"e30=","messageId":"1"},"subscription":"projects/p/subscriptions/s"}' >"$f"
pubsub() {
	local key=$1 kid=$2 exp=$3 aud=${4:-$BASE/triggers/plugin/$sub}
	tok=$(node "$HELPERS/jwt.js" sign RS256 "$key" \
	    "{\"iss\":\"https://accounts.google.com\",\"aud\":\"$aud\",\"exp\":$exp,\"email\":\"p@x.iam.gserviceaccount.com\"}" "$kid")
	send "$sub" "$f" -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $tok"
}
check "the dispatcher refreshes the due JWKS (the rotated key b)" \
    wait_for 20 grep -q '"kid": "b"' "$HOOKPIPE_HOME"/cache/jwks/*.json
now=$(date +%s)
pubsub "$T_DIR/rsa-b.pem" b $((now + 600))
assert_status "jwt RS256 by the refreshed JWKS" 200
pubsub "$T_DIR/rsa-a.pem" a $((now + 600))
refused "jwt: a key the JWKS no longer has" 401 "no RS256 key with kid a"
pubsub "$T_DIR/rsa-b.pem" b $((now - 400))
refused "jwt: expired" 401 "the JWT expired"
pubsub "$T_DIR/rsa-b.pem" b $((now + 600)) https://elsewhere.example/push
refused "jwt: wrong audience" 401 "wrong audience"
send "$sub" "$f" -H 'Content-Type: application/json'
refused "jwt: no token" 401 "missing Authorization header"

sub=$(sub_id psoff)
pubsub "$T_DIR/rsa-b.pem" b $((now + 600))
assert_status "jwt RS256 by a jwks_file" 200
sub=$(sub_id psdead)
pubsub "$T_DIR/rsa-b.pem" b $((now + 600))
refused "jwt: keys never fetched" 503 "are not fetched yet"

# The stages still answer.
HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")
assert_eq "healthz after the refusals" 200 "$HTTP_STATUS"
finish
