#!/usr/bin/env bash
# Enrichment, against fake providers: an OpenAI event carries only an id;
# with a credential on its subscription, the object it names is fetched
# (once per event: neither a retry nor a replay asks again) and the
# action finds it in its run document. A provider's 5xx is retried like
# an action's failure, a slow provider holds up no other subscription's
# runs, a 404 fails the run with the provider's answer. Airtable's pings
# get the payloads since the stored cursor, every page of them; with an
# OAuth token the provider revoked, the call is made again once the token
# is refreshed.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

python3 "$ROOT/tests/e2e/helpers/fake_providers.py" "$T_DIR/fp.port" "$T_DIR/fp.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/fp.port" || { not_ok "the fake providers start"; finish; }
F=http://127.0.0.1:$(cat "$T_DIR/fp.port")
export HOOKPIPE_OPENAI_API=$F/openai HOOKPIPE_AIRTABLE_API=$F/airtable \
    HOOKPIPE_AIRTABLE_WEB=$F
start_stack

# calls METHOD PATH: how many calls the fake providers saw (path with its
# query, exactly).
calls() {
	python3 - "$T_DIR/fp.log" "$1" "$2" <<'PY'
import json, sys
print(sum(1 for line in open(sys.argv[1])
          if (lambda c: c["method"] == sys.argv[2] and c["path"] == sys.argv[3])(json.loads(line))))
PY
}
# calls_are N METHOD PATH: PATH was asked N times (for wait_for).
calls_are() {
	test "$(calls "$2" "$3")" = "$1"
}
# auth_of PATH: the Authorization header of the last call to PATH.
auth_of() {
	python3 - "$T_DIR/fp.log" "$1" <<'PY'
import json, sys
last = ""
for line in open(sys.argv[1]):
    c = json.loads(line)
    if c["path"] == sys.argv[2]:
        last = c["headers"].get("authorization", "")
print(last)
PY
}
admin() { curl -s -o /dev/null -X POST "$F/_admin/$1"; }
# doc_of DIR: the run document the recorder kept last.
doc_of() {
	cat "$(find "$1" -name '*.json' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)"
}
# openai_event TYPE ID: an OpenAI event about object ID.
openai_event() {
	local f=$T_DIR/$1.$2.json
	printf '{"id":"evt_%s","object":"event","type":"%s","created_at":%s,"data":{"id":"%s"}}' \
	    "$RANDOM$RANDOM" "$1" "$(date +%s)" "$2" >"$f"
	echo "$f"
}
# shellcheck disable=SC2317 # called by wait_for
run_status() { hookpipe runs --workflow "$1" --json | json "d[0][\"status\"]"; }
# shellcheck disable=SC2317 # called by wait_for
status_is() { [ "$(run_status "$1")" = "$2" ]; }

# --- OpenAI: the response the event names, in the run's inputs -----------
check "openai: cred add (an API key for the enrich calls)" \
    hookpipe cred add oai --integration openai --api-key good-token
new_sub enr --credential oai
A_ID=$SUB_ID A_SECRET=$SUB_SECRET
new_workflow resp enr response "$T_DIR/resp"
deliver "$A_ID" "$A_SECRET" "$(openai_event response.completed resp_one)"
assert_status "openai: response.completed accepted" 200
wait_for 20 has_runs "$T_DIR/resp" 1 || not_ok "openai: the run's action ran"
doc=$(doc_of "$T_DIR/resp")
assert_eq "openai: the fetched response is in the inputs under its name" \
    '["resp_one", "response", "completed"]' \
    "$(json '[d["inputs"]["response"][k] for k in ("id", "object", "status")]' <<<"$doc")"
assert_eq "openai: and under enriched" "resp_one" \
    "$(json 'd["enriched"]["response"]["id"]' <<<"$doc")"
assert_eq "openai: the event's own fields are still there" "resp_one" \
    "$(json 'd["inputs"]["data"]["id"]' <<<"$doc")"
assert_eq "openai: one GET of the response" 1 "$(calls GET /openai/v1/responses/resp_one)"
assert_eq "openai: with the credential's key" "Bearer good-token" \
    "$(auth_of /openai/v1/responses/resp_one)"
assert_not_contains "openai: the key is in no log" "good-token" \
    "$(cat "$HOOKPIPE_HOME"/log/*.log)"

# A replay of the event: the stored result, no second call.
event_id=$(json 'd["trigger"]["event_id"]' <<<"$doc")
check "openai: replay the event" hookpipe replay "$event_id"
wait_for 20 has_runs "$T_DIR/resp" 2 || not_ok "openai: the replay ran"
assert_eq "openai: the replay's run has the response" "resp_one" \
    "$(doc_of "$T_DIR/resp" | json 'd["inputs"]["response"]["id"]')"
assert_eq "openai: a replay does not call again" 1 \
    "$(calls GET /openai/v1/responses/resp_one)"

# An action that fails once: its retry does not call again.
hookpipe workflow create bat --retries 3 \
    --exec "test \"\$HOOKPIPE_ATTEMPT\" -ge 2 && cat >$T_DIR/bat.json" >/dev/null &&
    hookpipe workflow trigger bat --sub enr --event batch.completed >/dev/null &&
    hookpipe workflow publish bat >/dev/null
deliver "$A_ID" "$A_SECRET" "$(openai_event batch.completed batch_one)"
wait_for 20 status_is bat succeeded || not_ok "openai: the batch run succeeds on its retry"
assert_eq "openai: the retry had the batch" '["batch_one", "batch", 2]' \
    "$(json '[d["inputs"]["batch"]["id"], d["inputs"]["batch"]["object"], d["attempt"]]' <"$T_DIR/bat.json")"
assert_eq "openai: a retry does not call again" 1 "$(calls GET /openai/v1/batches/batch_one)"

# --- a 500, then the answer: retried like an action -----------------------
new_workflow ft enr fine_tuning "$T_DIR/ft" --retries 3
admin answer/openai/500/1
deliver "$A_ID" "$A_SECRET" "$(openai_event fine_tuning.job.succeeded ftjob_one)"
wait_for 20 status_is ft succeeded || not_ok "openai: the run succeeds after the 500"
out=$(hookpipe run show "$(hookpipe runs --workflow ft --json | json 'd[0]["id"]')" --json)
assert_eq "openai: the first attempt failed on the 500, the second ran" \
    '[2, "succeeded"]' "$(json '[d["attempts"], d["status"]]' <<<"$out")"
assert_contains "openai: the attempt says what OpenAI answered" \
    "OpenAI answered 500: The server had an error" \
    "$(json 'd["history"][0]["error"]' <<<"$out")"
assert_eq "openai: asked twice (the 500, then the job)" 2 \
    "$(calls GET /openai/v1/fine_tuning/jobs/ftjob_one)"
assert_eq "openai: the job is in the inputs" "fine_tuning.job" \
    "$(doc_of "$T_DIR/ft" | json 'd["inputs"]["fine_tuning_job"]["object"]')"

# --- a provider that does not answer holds up no other run ---------------
new_sub plain
new_workflow other plain batch "$T_DIR/other"
admin hold/openai
deliver "$A_ID" "$A_SECRET" "$(openai_event response.completed resp_slow)"
wait_for 20 calls_are 1 GET /openai/v1/responses/resp_slow ||
    not_ok "openai: the enrich call is under way"
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
wait_for 20 has_runs "$T_DIR/other" 1
assert_eq "openai: another subscription's run ran while the enrich call waits" \
    "1 2" "$(runs_in "$T_DIR/other") $(runs_in "$T_DIR/resp")"
other_batch=$(doc_of "$T_DIR/other" | json 'd["inputs"]["data"]["id"]')
assert_eq "openai: a subscription without a credential makes no enrich call" \
    "0 False" "$(calls GET "/openai/v1/batches/$other_batch") $(doc_of "$T_DIR/other" |
    json 'str("enriched" in d)')"
admin release/openai
wait_for 20 has_runs "$T_DIR/resp" 3 || not_ok "openai: the held run goes on once answered"
assert_eq "openai: with its response" "resp_slow" \
    "$(doc_of "$T_DIR/resp" | json 'd["inputs"]["response"]["id"]')"

# --- 404: the run fails at once, quoting OpenAI ----------------------------
deliver "$A_ID" "$A_SECRET" "$(openai_event response.failed missing_one)"
wait_for 20 status_is resp dead || not_ok "openai: a 404 fails the run"
out=$(hookpipe run show "$(hookpipe runs --workflow resp --json | json 'd[0]["id"]')" 2>&1)
assert_contains "openai: run show quotes OpenAI's answer" \
    "OpenAI answered 404: No response found with id 'missing_one'." "$out"
assert_eq "openai: no retry of a 404" '["dead", 1]' \
    "$(hookpipe runs --workflow resp --json | json '[d[0]["status"], d[0]["attempts"]]')"
assert_eq "openai: the action did not run" 3 "$(runs_in "$T_DIR/resp")"

# --- Airtable: the payloads since the stored cursor, every page -----------
check "airtable: cred add" hookpipe cred add at --integration airtable --api-key good-token
out=$(hookpipe sub create base --integration airtable --mode api-key --credential at \
    --param base=appBase --json 2>&1)
assert_eq "airtable: sub create" 0 "$?"
AT_ID=$(json 'd["id"]' <<<"$out") AT_BASE=appBase
AT_SECRET=$(hookpipe sub show base --reveal --json | json 'd["secret"]')
HOOK=$(curl -s -X POST "$F/_admin/hooks/airtable" | json 'list(d)[0]')
new_workflow changes base ping "$T_DIR/at"
# ping N: Airtable's notification of a change in AT_BASE, webhook HOOK,
# signed as Airtable signs it.
ping() {
	local f=$T_DIR/ping.$1.json key
	printf '{"base":{"id":"%s"},"webhook":{"id":"%s"},"timestamp":"2026-01-01T00:00:0%s.000Z"}' \
	    "$AT_BASE" "$HOOK" "$1" >"$f"
	key=$(printf '%s' "$AT_SECRET" | base64 -d | od -An -tx1 -v | tr -d ' \n')
	post POST "$BASE/triggers/plugin/$AT_ID" "$f" -H "X-Airtable-Content-MAC: hmac-sha256=$(
	    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" <"$f" | sed 's/^.*= //')"
}
P=/airtable/bases/appBase/webhooks/$HOOK/payloads
admin "change/airtable/$HOOK/3"
ping 1
assert_status "airtable: the first ping accepted" 200
wait_for 20 has_runs "$T_DIR/at" 1 || not_ok "airtable: the first ping's run ran"
assert_eq "airtable: its run has the three payloads" "[1, 2, 3]" \
    "$(doc_of "$T_DIR/at" | json '[p["baseTransactionNumber"] for p in d["inputs"]["payloads"]]')"
assert_eq "airtable: from the start, then the next page" "1 1" \
    "$(calls GET "$P") $(calls GET "$P?cursor=3")"
admin "change/airtable/$HOOK/2"
ping 2
wait_for 20 has_runs "$T_DIR/at" 2 || not_ok "airtable: the second ping's run ran"
assert_eq "airtable: the second run has the new payloads only" "[4, 5]" \
    "$(doc_of "$T_DIR/at" | json '[p["baseTransactionNumber"] for p in d["inputs"]["payloads"]]')"
assert_eq "airtable: asked from the cursor the first call stored" "1 1" \
    "$(calls GET "$P") $(calls GET "$P?cursor=4")"

# --- an OAuth token the provider revoked: refreshed once, asked again -----
hookpipe oauth client set --integration airtable --client-id cid \
    --client-secret csecret >/dev/null
state=$(hookpipe oauth authorize --integration airtable --name ato --json | json 'd["state"]')
assert_eq "airtable: the OAuth callback stores the credential" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/oauth/airtable/callback?code=good-code&state=$state")"
out=$(hookpipe sub create obase --integration airtable --mode oauth --credential ato \
    --param base=appOauth --json 2>&1)
assert_eq "airtable: sub create --mode oauth" 0 "$?"
AT_ID=$(json 'd["id"]' <<<"$out") AT_BASE=appOauth
AT_SECRET=$(hookpipe sub show obase --reveal --json | json 'd["secret"]')
HOOK=$(curl -s -X POST "$F/_admin/hooks/airtable" |
    json '[k for k, h in d.items() if h["base"] == "appOauth"][0]')
new_workflow ochanges obase ping "$T_DIR/ato"
admin "change/airtable/$HOOK/1"
admin revoke
ping 3
wait_for 20 has_runs "$T_DIR/ato" 1 || not_ok "airtable: the run with a revoked token ran"
assert_eq "airtable: its payload, fetched with a refreshed token" "[1]" \
    "$(doc_of "$T_DIR/ato" | json '[p["baseTransactionNumber"] for p in d["inputs"]["payloads"]]')"
P=/airtable/bases/appOauth/webhooks/$HOOK/payloads
assert_eq "airtable: refused once, refreshed, asked again with a new token" \
    "2 refresh_token different" "$(python3 - "$T_DIR/fp.log" "$P" <<'PY'
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
gets = [i for i, c in enumerate(calls) if c["path"] == sys.argv[2]]
between = [c["body"] for c in calls[gets[0]:gets[-1]] if c["path"].endswith("/token")]
auth = [calls[i]["headers"].get("authorization") for i in gets]
print(len(gets), "refresh_token" if any("grant_type=refresh_token" in b for b in between) else "none",
      "different" if len(set(auth)) == len(auth) else "same")
PY
)"

finish
