#!/usr/bin/env bash
# events --since/--until/--jq: a time range and a jq predicate over the
# payloads, in the CLI and through the admin API. The predicate runs in
# hookpipe-jq workers with their budgets: a program that errors on an
# event skips it, a jq bomb ends with a clear message, and neither the
# CLI nor the admin stage hangs on it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# Budgets a loaded machine keeps to for a sane program (a first compile
# counts), that a bomb goes over.
export HOOKPIPE_JQ_TIMEOUT_MS=2000 HOOKPIPE_JQ_MEMORY=16M
start_stack
new_sub searched
sub=$SUB_ID
secret=$SUB_SECRET

# Three events, one after the other: amounts 5, 50 and "lots" (a string,
# on which `.data.amount + 1` is an error).
ids=()
for body in '{"type":"batch.completed","data":{"id":"b1","amount":5}}' \
    '{"type":"batch.completed","data":{"id":"b2","amount":50}}' \
    '{"type":"batch.failed","data":{"id":"b3","amount":"lots"}}'; do
	printf '%s' "$body" >"$T_DIR/ev.json"
	deliver "$sub" "$secret" "$T_DIR/ev.json"
	assert_status "event $((${#ids[@]} + 1)) is accepted" 200
	ids+=("$(json 'd["event_id"]' <<<"$HTTP_BODY")")
	sleep 0.05
done
a=${ids[0]} b=${ids[1]} c=${ids[2]}
check "the three are stored" wait_for 10 sh -c \
    "[ \"\$(hookpipe events --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')\" = 3 ]"

# listed ARGS...: the ids `events --json ARGS` lists, oldest first.
listed() {
	hookpipe events --json "$@" 2>"$T_DIR/listed.err" |
	    json '" ".join(e["id"] for e in reversed(d))'
	sed 's/^/# /' "$T_DIR/listed.err" >&2
}
# usage ARGS...: runs `events ARGS` (at most 60 s, a guard against a
# hang, not a timing); sets RC and ERR.
usage() {
	timeout 60 hookpipe events "$@" >"$T_DIR/usage.out" 2>"$T_DIR/usage.err"
	RC=$?
	ERR=$(cat "$T_DIR/usage.err")
}

# --- the time range -------------------------------------------------
at() {
	hookpipe event show "$1" --json | json 'd["received_at"]'
}
tb=$(at "$b")
tc=$(at "$c")
assert_eq "--since the second's time takes it and what came after" \
    "$b $c" "$(listed --since "$tb")"
assert_eq "--until the second's time stops before it" "$a" \
    "$(listed --until "$tb")"
assert_eq "--since B --until C: B alone" "$b" \
    "$(listed --since "$tb" --until "$tc")"
# The same instant with an offset: 2h ahead of UTC.
tb2=$(python3 -c 'import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
print((t + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+02:00")' "$tb")
assert_eq "an RFC 3339 time with an offset is the same instant" "$b $c" \
    "$(listed --since "$tb2")"
assert_eq "--since 1h: all three" "$a $b $c" "$(listed --since 1h)"
assert_eq "--until 2d: none" "" "$(listed --until 2d)"
assert_contains "the table says so" "no events match" \
    "$(hookpipe events --until 2d)"
assert_eq "--since 15m with --type" "$a $b" \
    "$(listed --since 15m --type batch.completed)"

# --- the jq predicate -----------------------------------------------
# jq orders every string after every number: "lots" > 10.
assert_eq "--jq '.data.amount > 10'" "$b $c" "$(listed --jq '.data.amount > 10')"
assert_eq "--jq on the type and the amount" "$b" \
    "$(listed --jq '(.data.amount | numbers) > 10')"
assert_eq "--jq on a member" "$a" "$(listed --jq '.data.id == "b1"')"
assert_eq "--jq false: none" "" "$(listed --jq 'false')"
assert_eq "--jq with --since" "$c" \
    "$(listed --since "$tc" --jq '.data.amount > 10')"
assert_eq "a program that errors on one event skips that event" "$b" \
    "$(listed --jq '.data.amount + 1 > 10')"
assert_contains "and says so on stderr" "failed on 1 event" \
    "$(cat "$T_DIR/listed.err")"
out=$(hookpipe events --jq '.data.amount > 10')
assert_contains "the table lists the match" "$b" "$out"
assert_not_contains "and not the others" "$a" "$out"

# --- bad input: a usage error, and nothing listed -------------------
for bad in "--since yesterday" "--since 15x" "--until 2026-13-01T00:00:00Z" \
    "--since 2026-01-02T03:04:05" "--since -5m"; do
	# shellcheck disable=SC2086 # two words on purpose
	usage $bad
	assert_eq "events $bad: exit 2" 2 "$RC"
	assert_contains "events $bad: says what it expects" "RFC 3339" "$ERR"
done
usage --since 1h --until 2h
assert_eq "--since after --until: exit 2" 2 "$RC"
assert_contains "and why" "is not before --until" "$ERR"
usage --jq '.data | ['
assert_eq "a jq program that does not compile: exit 2" 2 "$RC"
assert_contains "and jq's message" "not a valid jq program" "$ERR"
check "nothing listed" test ! -s "$T_DIR/usage.out"
usage --jq 'nosuchfunction(1)'
assert_eq "an undefined function: exit 2" 2 "$RC"
usage --status rejected --jq 'true'
assert_eq "--jq with --status rejected: exit 2" 2 "$RC"

# --- jq bombs: stopped by the worker's budget -----------------------
for bomb in '[range(1e9)]|length>0' 'def f: f; f'; do
	usage --jq "$bomb"
	assert_eq "the bomb '$bomb' ends with exit 2" 2 "$RC"
	assert_contains "'$bomb': the budget is named" "HOOKPIPE_JQ_" "$ERR"
done
# Harmless on null, a bomb on every payload: the search stops.
usage --jq 'if . == null then false else ([range(1e9)]|length>0) end'
assert_eq "a bomb on each payload stops the search: exit 1" 1 "$RC"
assert_contains "and says why" "went over its budget on 3 events" "$ERR"
assert_eq "the events are all there still" "$a $b $c" "$(listed)"

# --- through the admin API ------------------------------------------
api GET /api/v1/events "" -G --data-urlencode 'jq=.data.amount > 10' \
    --data-urlencode "since=$tb" --data-urlencode "until=$tc"
assert_status "GET /api/v1/events?jq=&since=&until=" 200
assert_eq "answers the matching event" "$b" \
    "$(json '" ".join(e["id"] for e in d)' <<<"$HTTP_BODY")"
api GET /api/v1/events "" -G --data-urlencode 'jq=.data | ['
assert_status "a bad jq program: 400" 400
assert_contains "with jq's message" "not a valid jq program" "$HTTP_BODY"
api GET /api/v1/events "" -G --data-urlencode 'since=last tuesday'
assert_status "a bad --since: 400" 400
api GET /api/v1/events "" -G --data-urlencode 'jq=def f: f; f'
assert_status "a jq bomb: 400" 400
assert_contains "that names the budget" "HOOKPIPE_JQ_" "$HTTP_BODY"
post GET "$ADMIN/healthz" ""
assert_status "the admin stage still answers" 200
api GET /api/v1/events ""
assert_status "and lists events" 200
assert_eq "all three" 3 "$(json 'len(d)' <<<"$HTTP_BODY")"
finish
