#!/usr/bin/env bash
# What a sender chooses cannot drive the terminal of whoever reads it:
# ESC, BEL and CSI in a kept header, CSI (U+009B) in an event type, ESC
# and BEL in a run's output are printed escaped by event show, events,
# workflow test, tail and the stages' logs, and --json stays valid JSON
# with the same text.
# replay decides as the router does: a filter that does not pass runs
# nothing, a map gives the run its inputs.
. "$(dirname "$0")/lib.sh"

start_stack
new_sub raw
sub=$SUB_ID
secret=$SUB_SECRET

# has_raw FILE: FILE holds a byte a terminal acts on (ESC, BEL, CSI in
# UTF-8 or alone, DEL).
has_raw() {
	python3 -c '
import re, sys
sys.exit(0 if re.search(rb"[\x00-\x08\x0b-\x1f\x7f\x9b]|\xc2[\x80-\x9f]",
    open(sys.argv[1], "rb").read()) else 1)' "$1"
}
no_raw() {
	! has_raw "$1"
}

# send_body FILE [CURL ARGS...]: FILE signed as OpenAI signs it.
send_body() {
	local file=$1 ts id
	shift
	ts=$(date +%s)
	id=$(new_msg_id)
	post POST "$BASE/triggers/plugin/$sub" "$file" -H "webhook-id: $id" \
	    -H "webhook-timestamp: $ts" \
	    -H "webhook-signature: v1,$(sign_openai "$secret" "$id" "$ts" "$file")" "$@"
	EVENT=$(json 'd.get("event_id", "")' <<<"$HTTP_BODY")
}

# --- a kept header with ESC, BEL and CSI ------------------------------------
ua=$(printf 'evil\033]0;owned\007\033[2J\302\233\061m')
send_body "$(payload batch.completed)" -H "User-Agent: $ua"
assert_status "a delivery with ESC and BEL in User-Agent" 200
hookpipe event show "$EVENT" >"$T_DIR/show.txt" 2>&1
assert_contains "event show prints the header" "user-agent: evil" "$(cat "$T_DIR/show.txt")"
check "event show: no raw ESC, BEL or CSI" no_raw "$T_DIR/show.txt"
assert_contains "but visible escapes" 'evil\x1b]0;owned\x07\x1b[2J\u009b1m' \
    "$(cat "$T_DIR/show.txt")"
hookpipe event show "$EVENT" --json >"$T_DIR/show.json"
check "event show --json: no raw control character" no_raw "$T_DIR/show.json"
assert_eq "event show --json: valid JSON with the same header" "$ua" \
    "$(json 'd["headers"]["user-agent"]' <"$T_DIR/show.json")"

# --- an event type with CSI (the verifier refuses C0 and DEL there) --------
hookpipe workflow create typed --exec 'true' >/dev/null
hookpipe workflow trigger typed --sub raw --event '*' --filter '.type | tonumber' >/dev/null
hookpipe workflow publish typed >/dev/null
printf '{"id":"evt_1","object":"event","type":"batch.\\u009b31mred","data":{}}' \
    >"$T_DIR/typed.json"
send_body "$T_DIR/typed.json"
assert_status "a delivery whose type holds CSI (U+009B)" 200
typed=$EVENT
hookpipe events >"$T_DIR/events.txt"
assert_contains "events lists it" 'batch.\u009b31mred' "$(cat "$T_DIR/events.txt")"
check "events: no raw control character" no_raw "$T_DIR/events.txt"
hookpipe event show "$typed" >"$T_DIR/typed.txt"
check "event show: the type escaped" no_raw "$T_DIR/typed.txt"

# The router's filter fails on the type, and its log quotes jq's error,
# which quotes the type: the log line carries escapes, not the bytes.
log=$HOOKPIPE_HOME/log/router.log
if wait_for 10 grep -q "filter on event $typed" "$log"; then
	grep "filter on event $typed" "$log" >"$T_DIR/router.line"
	check "router.log: the line quotes the type" grep -qF 'batch.\u009b31mred' "$T_DIR/router.line"
	check "router.log: no raw control character" no_raw "$log"
else
	not_ok "the router logs the failing filter"
fi

# --- tail: a type with C1 stays JSON, without raw C1 -----------------------
hookpipectl tail verifier >"$T_DIR/tail.txt" 2>/dev/null &
BG_PIDS+=($!)
printf '{"id":"evt_2","object":"event","type":"batch.\\u009b2J","data":{}}' \
    >"$T_DIR/c1.json"
for _ in $(seq 1 40); do
	send_body "$T_DIR/c1.json"
	wait_for 0.5 grep -q 'evt_2\|2J' "$T_DIR/tail.txt" && break
done
sleep 0.3
check "tail printed the event" grep -q '2J' "$T_DIR/tail.txt"
check "tail: no raw C1 or DEL" no_raw "$T_DIR/tail.txt"
check "tail: each line is JSON with the type as sent" python3 -c '
import json, sys
types = [json.loads(l).get("type") for l in open(sys.argv[1])]
assert "batch.\x9b2J" in types, types' "$T_DIR/tail.txt"

# --- a run's output -------------------------------------------------------------
hookpipe workflow create noisy --retries 0 \
    --exec "cat >/dev/null; printf 'out \\033]0;owned\\007\\033[2Jdone\\n'; exit 3" >/dev/null
hookpipe workflow trigger noisy --sub raw --event batch.failed >/dev/null
hookpipe workflow test noisy --timeout 30 >"$T_DIR/test.txt" 2>&1 &
tester=$!
wait_for 10 sh -c "hookpipe workflow show noisy | grep -q listening"
send_body "$(payload batch.failed)"
wait "$tester"
assert_contains "workflow test prints the run's output" 'out \x1b]0;owned\x07\x1b[2Jdone' \
    "$(cat "$T_DIR/test.txt")"
check "workflow test: no raw control character" no_raw "$T_DIR/test.txt"

# --- replay: the trigger's filter and map ---------------------------------
hookpipe workflow create picky --exec "$(recorder "$T_DIR/picky")" >/dev/null
hookpipe workflow trigger picky --sub raw --event batch.expired \
    --filter '.data.id == "wanted"' --map '{batch: .data.id, kind: .type}' >/dev/null
hookpipe workflow publish picky >/dev/null
picky_runs() {
	hookpipe runs --workflow picky --json | json 'len(d)'
}
printf '{"id":"evt_3","object":"event","type":"batch.expired","data":{"id":"other"}}' \
    >"$T_DIR/other.json"
send_body "$T_DIR/other.json"
other=$EVENT
check "the other event is routed" wait_for 10 sh -c \
    "hookpipe event show $other --json | grep -q '\"status\": \"routed\"'"
assert_eq "the router ran nothing for it (the filter)" 0 "$(picky_runs)"
out=$(hookpipe replay "$other" 2>&1)
assert_eq "replay of an event the filter refuses exits 1" 1 "$?"
assert_contains "saying the filter does not pass" "picky not run" "$out"
out=$(hookpipe replay "$other" --workflow picky 2>&1)
assert_eq "replay --workflow picky exits 1 as well" 1 "$?"
assert_contains "pointing at --force" "--force" "$out"
sleep 0.5
assert_eq "no run was created" 0 "$(picky_runs)"
out=$(hookpipe replay "$other" --workflow picky --force 2>&1)
assert_eq "replay --workflow picky --force runs it" 0 "$?"
check "the forced run ran" wait_for 15 has_runs "$T_DIR/picky" 1
assert_eq "with the map's inputs" '{"batch": "other", "kind": "batch.expired"}' \
    "$(json 'd["inputs"]' <"$(ls "$T_DIR"/picky/*.json | head -n 1)")"

rm -f "$T_DIR"/picky/*
printf '{"id":"evt_4","object":"event","type":"batch.expired","data":{"id":"wanted"}}' \
    >"$T_DIR/wanted.json"
send_body "$T_DIR/wanted.json"
wanted=$EVENT
check "the router runs the wanted event" wait_for 15 has_runs "$T_DIR/picky" 1
rm -f "$T_DIR"/picky/*
out=$(hookpipe replay "$wanted" --json 2>"$T_DIR/replay.err")
assert_eq "replay of the wanted event exits 0" 0 "$?"
assert_contains "saying which workflow it did not run" "typed not run" \
    "$(cat "$T_DIR/replay.err")"
assert_eq "one run, of picky" '["picky"]' "$(json '[r["workflow"] for r in d]' <<<"$out")"
check "the replayed run ran" wait_for 15 has_runs "$T_DIR/picky" 1
assert_eq "replay gives the run the map's inputs" '{"batch": "wanted", "kind": "batch.expired"}' \
    "$(json 'd["inputs"]' <"$(ls "$T_DIR"/picky/*.json | head -n 1)")"
finish
