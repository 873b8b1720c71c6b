#!/usr/bin/env bash
# Slack's published slash-command vector, with its own signature and its
# own timestamp (2018): the stack runs on a clock set to the vector's time
# (faketime), since no tolerance may be that wide.
. "$(dirname "$0")/lib.sh"

vec=$SHARED/vectors/slack-slash-command.txt
if [ ! -f "$vec" ]; then
	skip "no Slack vector"
	finish
fi
if ! command -v faketime >/dev/null 2>&1; then
	skip "faketime is not installed"
	finish
fi
# The vector's second, and onwards from there.
if ! out=$(faketime -f '@2018-07-12 18:36:58' hookpipectl start 2>&1); then
	not_ok "the stack starts at the vector's time" "$out"
	finish
fi
sl_secret=8f742231b10e8888abcd99yyyzzz85a5
hookpipe sub create sl --integration slack --secret "$sl_secret" >/dev/null
sl_sub=$(hookpipe sub show sl --json | json 'd["id"]')
hookpipe workflow create deploy --exec "$(recorder "$T_DIR/slack")" >/dev/null
hookpipe workflow trigger deploy --sub sl --event /webhook-collect >/dev/null
hookpipe workflow publish deploy >/dev/null
HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H 'X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' \
    --data-binary "@$vec" "$BASE/triggers/plugin/$sl_sub")
assert_eq "Slack's published slash-command vector verifies" 200 "$HTTP_STATUS"
check "the slash command ran its workflow" wait_for 15 has_runs "$T_DIR/slack" 1
assert_eq "the command's text reached the inputs" roadrunner \
    "$(json 'd["inputs"]["user_name"]' <"$(ls "$T_DIR"/slack/*.json | head -n 1)")"
# The same vector a day later is outside the tolerance.
hookpipectl stop >/dev/null 2>&1
faketime -f '@2018-07-13 18:36:58' hookpipectl start >/dev/null 2>&1
HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H 'X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' \
    --data-binary "@$vec" "$BASE/triggers/plugin/$sl_sub")
assert_eq "a day later it is refused" 401 "$HTTP_STATUS"
finish
