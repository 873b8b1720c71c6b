#!/usr/bin/env bash
# Slack's published slash-command body: a form whose fields become the
# run's inputs. Its published signature (2018) is checked at its own time
# by the verifier's unit test (test_verify, ../shared/vectors); here the
# same bytes are signed now with the openssl command line, as Slack signs:
# v0=HMAC-SHA256("v0:" timestamp ":" body).
. "$(dirname "$0")/lib.sh"

vec=$SHARED/vectors/slack-slash-command.txt
if [ ! -f "$vec" ]; then
	skip "no Slack vector"
	finish
fi
start_stack
sl_secret=8f742231b10e8888abcd99yyyzzz85a5
hookpipe sub create sl --integration slack --secret "$sl_secret" >/dev/null
sl_sub=$(hookpipe sub show sl --json | json 'd["id"]')
hookpipe workflow create deploy --exec "$(recorder "$T_DIR/slack")" >/dev/null
hookpipe workflow trigger deploy --sub sl --event /webhook-collect >/dev/null
hookpipe workflow publish deploy >/dev/null
ts=$(date +%s)
sig=$({ printf 'v0:%s:' "$ts"; cat "$vec"; } |
    openssl dgst -sha256 -hmac "$sl_secret" | sed 's/^.*= //')
HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: v0=$sig" \
    --data-binary "@$vec" "$BASE/triggers/plugin/$sl_sub")
assert_eq "Slack's slash-command body verifies" 200 "$HTTP_STATUS"
check "the slash command ran its workflow" wait_for 15 has_runs "$T_DIR/slack" 1
assert_eq "the command's text reached the inputs" roadrunner \
    "$(json 'd["inputs"]["user_name"]' <"$(ls "$T_DIR"/slack/*.json | head -n 1)")"
# The published signature, with its 2018 timestamp: outside the tolerance.
HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H 'X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' \
    --data-binary "@$vec" "$BASE/triggers/plugin/$sl_sub")
assert_eq "the published 2018 signature is outside the tolerance today" 401 "$HTTP_STATUS"
finish
