#!/usr/bin/env bash
# timeout: 360
# Forgeries that pass a naive verifier: an HMAC keyed with a Standard
# Webhooks public key, a header given twice (one copy signed, the other
# stored), and GitHub's unsigned delivery id and event headers (a signed
# body replayed under a new delivery id, or as another event). Signed
# with the openssl command line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/octokit.sh"

start_stack

# --- a whpk_ public key verifies Ed25519 (v1a) only -----------------
openssl genpkey -algorithm ed25519 -out "$T_DIR/ed.pem" 2>/dev/null
pub=whpk_$(openssl pkey -in "$T_DIR/ed.pem" -pubout -outform DER |
    tail -c 32 | base64 -w0)
out=$(hookpipe sub create pk --integration standard-webhooks \
    --secret "$pub" --json 2>&1)
pk=$(json 'd["id"]' <<<"$out")
check "sub create with a whpk_ public key" test -n "$pk"
body=$(payload contact.created)
id=$(new_msg_id)
ts=$(date +%s)
{ printf '%s.%s.' "$id" "$ts"; cat "$body"; } >"$T_DIR/signed"
# Anyone who knows the public key can compute this.
forged=$(openssl dgst -sha256 -hmac "$pub" -binary <"$T_DIR/signed" |
    base64 -w0)
post POST "$BASE/triggers/plugin/$pk" "$body" -H "webhook-id: $id" \
    -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$forged"
assert_status "an HMAC keyed with the public key's text" 401
v1a=$(openssl pkeyutl -sign -inkey "$T_DIR/ed.pem" -rawin \
    -in "$T_DIR/signed" | base64 -w0)
post POST "$BASE/triggers/plugin/$pk" "$body" -H "webhook-id: $id" \
    -H "webhook-timestamp: $ts" -H "webhook-signature: v1a,$v1a"
assert_status "the Ed25519 signature of the key's owner" 200
assert_eq "nothing forged was stored" 1 \
    "$(hookpipe events --sub pk --json | json 'len(d)')"

# --- a header the integration reads, given twice ---------------------
new_sub twice
body=$(payload batch.completed)
id=$(new_msg_id)
ts=$(date +%s)
sig=$(sign_openai "$SUB_SECRET" "$id" "$ts" "$body")
post POST "$BASE/triggers/plugin/$SUB_ID" "$body" -H "webhook-id: $id" \
    -H "webhook-id: msg_other" -H "webhook-timestamp: $ts" \
    -H "webhook-signature: v1,$sig"
assert_status "webhook-id twice" 400
assert_contains "the answer names the header" "webhook-id" "$HTTP_BODY"
post POST "$BASE/triggers/plugin/$SUB_ID" "$body" -H "webhook-id: $id" \
    -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
    -H "webhook-signature: v1,AAAA"
assert_status "webhook-signature twice" 400
post POST "$BASE/triggers/plugin/$SUB_ID" "$body" -H "webhook-id: $id" \
    -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
    -H "X-Trace: a" -H "X-Trace: b"
assert_status "a header the integration does not read, twice" 200
assert_eq "only that delivery was stored" 1 \
    "$(hookpipe events --sub twice --json | json 'len(d)')"

# --- GitHub: the delivery id and the event header are not signed ------
secret="gh-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
out=$(hookpipe sub create gh --integration github --secret "$secret" \
    --json)
gh=$(json 'd["id"]' <<<"$out")
runs=$T_DIR/runs
hookpipe workflow create gh-wf --exec "$(recorder "$runs")" >/dev/null
hookpipe workflow trigger gh-wf --sub gh --event push >/dev/null
hookpipe workflow trigger gh-wf --sub gh --event release >/dev/null
hookpipe workflow publish gh-wf >/dev/null

# gh_post FILE EVENT [DELIVERY]
gh_post() {
	local sig
	sig=$(openssl dgst -sha256 -hmac "$secret" <"$1" | sed 's/^.*= //')
	post POST "$BASE/triggers/plugin/$gh" "$1" \
	    -H "X-GitHub-Event: $2" \
	    -H "X-GitHub-Delivery: ${3:-$(cat /proc/sys/kernel/random/uuid)}" \
	    -H "X-Hub-Signature-256: sha256=$sig"
}

if push=$(sample github-push.json); then
	gh_post "$push" push
	assert_status "a signed push" 200
	first=$(json 'd["event_id"]' <<<"$HTTP_BODY")
	gh_post "$push" push
	assert_status "the same signed body under a new delivery id" 200
	assert_eq "is a duplicate" true "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
	assert_eq "of the first event" "$first" \
	    "$(json 'd["event_id"]' <<<"$HTTP_BODY")"
	gh_post "$push" release
	assert_status "the signed push replayed as a release" 400
	assert_contains "the answer says why" "contradicts" "$HTTP_BODY"
	gh_post "$push" workflow_run
	assert_status "the signed push replayed as an event without a shape" 400
	check "the push ran" wait_for 15 has_runs "$runs" 1
	sleep 0.5
	assert_eq "once, and no release ran" 1 "$(runs_in "$runs")"
	assert_eq "one event stored" 1 \
	    "$(hookpipe events --sub gh --json | json 'len(d)')"
else
	skip "../shared/samples/github-push.json is not there"
fi

# Every example GitHub publishes is accepted as its own event: the
# shapes refuse forgeries, not real deliveries.
if index=$(octokit_index) && [ -d "$ROOT/tests/npm/node_modules/@octokit/webhooks-methods" ]; then
	out=$(node "$ROOT/tests/npm/gh-examples.js" "$index" \
	    "$BASE/triggers/plugin/$gh" "$secret")
	n=$(tail -n 1 <<<"$out")
	assert_eq "all ${n% sent} examples of @octokit/webhooks-examples accepted" "" \
	    "$(sed '$d' <<<"$out")"
	check "more than a hundred examples" test "${n% sent}" -gt 100
else
	skip "@octokit/webhooks-examples or tests/npm's modules are not available (npm)"
fi
check "the receiver still answers" curl -sf -m 5 "$BASE/healthz"
finish
