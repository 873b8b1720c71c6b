#!/usr/bin/env bash
# timeout: 360
# lane: side
# GitHub: GitHub's own example deliveries (@octokit/webhooks-examples) in
# both encodings, ping, a 12 MB body, a signature mismatch and missing
# headers. Signed with the openssl command line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/octokit.sh"

if ! index=$(octokit_index); then
	skip "@octokit/webhooks-examples is not available (npm)"
	finish
fi
start_stack
secret="It's a Secret to Everybody"
out=$(hookpipe sub create gh --integration github --secret "$secret" --json)
sub=$(json 'd["id"]' <<<"$out")
check "sub create --integration github" test -n "$sub"

runs=$T_DIR/runs
hookpipe workflow create gh-wf --exec "$(recorder "$runs")" >/dev/null
for e in push pull_request issues release ping workflow_run; do
	hookpipe workflow trigger gh-wf --sub gh --event "$e" >/dev/null ||
	    not_ok "workflow trigger --event $e"
done
hookpipe workflow publish gh-wf >/dev/null

# gh_post FILE EVENT [form]: signs the exact bytes sent.
gh_post() {
	local file=$1 event=$2 enc=${3:-json} body=$T_DIR/gh-body ct sig
	if [ "$enc" = form ]; then
		python3 -c 'import sys, urllib.parse
sys.stdout.write("payload=" + urllib.parse.quote_plus(open(sys.argv[1]).read()))' \
		    "$file" >"$body"
		ct=application/x-www-form-urlencoded
	else
		cp "$file" "$body"
		ct=application/json
	fi
	sig=$(openssl dgst -sha256 -hmac "$secret" <"$body" | sed 's/^.*= //')
	DELIVERY=$(cat /proc/sys/kernel/random/uuid)
	HTTP_STATUS=$(curl -s -m 60 -o "$T_DIR/resp.body" -w '%{http_code}' \
	    -H "Content-Type: $ct" -H "X-GitHub-Event: $event" \
	    -H "X-GitHub-Delivery: $DELIVERY" \
	    -H "X-Hub-Signature-256: sha256=$sig" \
	    --data-binary "@$body" "$BASE/triggers/plugin/$sub")
	HTTP_BODY=$(cat "$T_DIR/resp.body")
}

n=0
for e in push pull_request issues release workflow_run ping; do
	f=$T_DIR/$e.json
	if ! octokit_example "$index" "$e" 0 "$f"; then
		not_ok "an example of $e in @octokit/webhooks-examples"
		continue
	fi
	gh_post "$f" "$e"
	assert_status "$e (JSON)" 200
	n=$((n + 1))
	octokit_example "$index" "$e" 1 "$f.2" 2>/dev/null || cp "$f" "$f.2"
	gh_post "$f.2" "$e" form
	assert_status "$e (form-encoded)" 200
	n=$((n + 1))
done
check "every delivery ran ($n)" wait_for 20 has_runs "$runs" "$n"

# The form-encoded pull_request ran with the JSON document as inputs.
pr=$(grep -l '"event":"pull_request"' "$runs"/*.json | head -n 1)
doc=$(cat "$pr")
check "inputs of a delivery are its JSON payload" test -n \
    "$(json 'd["inputs"]["action"]' <<<"$doc")"
assert_eq "trigger.integration" github "$(json 'd["trigger"]["integration"]' <<<"$doc")"
form_docs=0
for d in "$runs"/*.json; do
	a=$(json 'd["inputs"].get("action", "") if isinstance(d["inputs"], dict) else "not-an-object"' <"$d")
	[ "$a" = not-an-object ] && form_docs=$((form_docs + 1))
done
assert_eq "form-encoded deliveries are stored as their JSON" 0 "$form_docs"

# The same X-GitHub-Delivery twice: one event.
f=$T_DIR/push.json
gh_post "$f" push
first=$DELIVERY
sig=$(openssl dgst -sha256 -hmac "$secret" <"$f" | sed 's/^.*= //')
code=$(curl -s -o "$T_DIR/dup" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $first" \
    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "@$f" \
    "$BASE/triggers/plugin/$sub")
assert_eq "a repeated X-GitHub-Delivery is a duplicate" "200 true" \
    "$code $(json 'd["duplicate"]' <"$T_DIR/dup")"

# Rejections.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: x-1" \
    -H "X-Hub-Signature-256: sha256=${sig%?}0" --data-binary "@$f" \
    "$BASE/triggers/plugin/$sub")
assert_eq "signature mismatch" 401 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: x-2" \
    --data-binary "@$f" "$BASE/triggers/plugin/$sub")
assert_eq "no signature header" 401 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-GitHub-Delivery: x-3" -H "X-Hub-Signature-256: sha256=$sig" \
    --data-binary "@$f" "$BASE/triggers/plugin/$sub")
assert_eq "no X-GitHub-Event header" 400 "$code"

# Bodies up to 25 MB for this integration (the default limit is 10 MB).
python3 -c 'import json, sys; json.dump({"zen": "x" * (12 << 20), "hook_id": 1}, open(sys.argv[1], "w"))' "$T_DIR/big.json"
gh_post "$T_DIR/big.json" ping
assert_status "a 12 MB GitHub delivery (over the 10 MB default)" 200

# The catalogue.
list=$(hookpipe integration list --json)
assert_eq "integration list names github" true \
    "$(json 'any(i["name"] == "github" for i in d)' <<<"$list")"
cnt=$(json '[len(i["events"]) for i in d if i["name"] == "github"][0]' <<<"$list")
check "github lists its event catalogue ($cnt events)" test "$cnt" -ge 50
show=$(hookpipe integration show github --json)
for e in push pull_request pull_request_review issues issue_comment release \
    workflow_run workflow_job create delete check_run deployment_status ping; do
	assert_eq "github catalogue has $e" true \
	    "$(json "any(e['name'] == '$e' for e in d['events'])" <<<"$show")"
done
finish
