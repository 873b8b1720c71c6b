#!/usr/bin/env bash
# Upgrade: a HOOKPIPE_HOME written before the database was split by owner
# (tests/fixtures/home-v1.tar.gz, made by hookpipe 41dbe55; see
# make-home-v1.sh) is moved into db/config, db/events, db/runs and db/spool
# losing nothing: the subscription and its sealed secret, workflows (the
# Dify app key sealed), routed events and their runs, a run waiting for its
# retry, an event not yet routed (routed once now), a spooled delivery
# (verified now), the delivery ids seen (a duplicate stays one).
. "$(dirname "$0")/lib.sh"

fx=$ROOT/tests/fixtures
tar -C "$HOOKPIPE_HOME" -xzf "$fx/home-v1.tar.gz"
meta() { json "d[\"$1\"]" <"$fx/home-v1.json"; }
sub=$(meta subscription)
secret=$(meta secret)

out=$(hookpipe migrate 2>&1)
assert_eq "hookpipe migrate succeeds" 0 "$?"
assert_contains "and says what it moved" "moved" "$out"
check "the old environment is kept aside in db/v1" test -f "$HOOKPIPE_HOME/db/v1/data.mdb"
check "db/config is there" test -f "$HOOKPIPE_HOME/db/config/data.mdb"
check "no data.mdb left in db/" test ! -e "$HOOKPIPE_HOME/db/data.mdb"
out=$(hookpipe migrate 2>&1)
assert_contains "a second migrate has nothing to do" "nothing to move" "$out"

assert_eq "the subscription's secret reads back" "$secret" \
    "$(hookpipe sub show v1sub --reveal --json | json 'd["secret"]')"
assert_eq "the workflows" '["dify", "failing", "ok"]' \
    "$(hookpipe workflow list --json | json 'sorted(w["name"] for w in d)')"
ev=$(hookpipe events --json)
assert_eq "four events before the stack starts" 4 "$(json 'len(d)' <<<"$ev")"
assert_eq "the routed ones say routed, the pending one stored" \
    '["routed", "routed", "routed", "stored"]' \
    "$(json 'sorted(e["status"] for e in d)' <<<"$ev")"
fail=$(hookpipe runs --workflow failing --json)
assert_eq "the failing run waits for its retry" failed "$(json 'd[0]["status"]' <<<"$fail")"
assert_eq "after one attempt" 1 "$(json 'd[0]["attempts"]' <<<"$fail")"
next_at=$(meta failing_next_at)
assert_eq "its retry keeps the time it had" "$next_at" "$(json 'd[0]["next_at"]' <<<"$fail")"

start_stack
# The pending event is routed, the spooled delivery verified: two more
# runs of ok, none twice.
check "the pending and the spooled deliveries ran" wait_for 20 sh -c \
    "[ \$(hookpipe runs --workflow ok --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -ge 4 ]"
sleep 2
runs=$(hookpipe runs --workflow ok --json)
assert_eq "four runs of ok, each event once" 4 "$(json 'len(d)' <<<"$runs")"
assert_eq "all succeeded" '["succeeded"]' \
    "$(json 'sorted(set(r["status"] for r in d))' <<<"$runs")"
assert_eq "five events now, every one routed" 5 \
    "$(hookpipe events --status routed --json | json 'len(d)')"
# The fixture's retry was due an hour after it was made: later than that,
# the run is tried again at once (and fails again); before, it waits.
attempts=$(hookpipe runs --workflow failing --json | json 'd[0]["attempts"]')
if python3 -c 'import sys,datetime as d; sys.exit(d.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp() > __import__("time").time())' "$next_at"; then
	check "the failing run, due already, was tried again" test "$attempts" -ge 2
else
	assert_eq "the failing run still waits (not run again)" 1 "$attempts"
fi
assert_eq "the spool is empty" "[]" "$(hookpipe spool list --json | tr -d ' \n')"

# A delivery id seen before the upgrade is a duplicate after it.
body=$T_DIR/again.json
printf '{"id":"evt_msg_routed_1","object":"event","type":"batch.completed","created_at":1,"data":{"id":"x"}}' >"$body"
deliver "$sub" "$secret" "$body" msg_routed_1
assert_status "a delivery seen before the upgrade" 200
assert_eq "is a duplicate" true "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "a new delivery verifies with the old secret" 200
check "and runs" wait_for 15 sh -c \
    "[ \$(hookpipe runs --workflow ok --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -ge 5 ]"
check "the master key still rotates" hookpipe key rotate
assert_eq "and the secret still reads back" "$secret" \
    "$(hookpipe sub show v1sub --reveal --json | json 'd["secret"]')"
finish
