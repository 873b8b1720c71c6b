#!/usr/bin/env bash
# Cluster mode, step 1: two hookpipe hosts on one three-server NATS
# JetStream cluster. A delivery id is stored once cluster-wide, whichever
# host each copy reaches; a 2xx means the stream's quorum has the event;
# one NATS server down changes nothing for senders; two down is a 503
# with Retry-After, nothing stored, and the sender's retry is stored
# once the quorum is back.
. "$(dirname "$0")/lib.sh"

cluster_init "--replicas 3 on three NATS servers"
out=$(hookpipe cluster init --replicas 3 2>&1)
assert_contains "cluster init again changes nothing" "cluster ready" "$out"
st=$(hookpipe cluster status --json)
assert_eq "the event stream has 3 replicas" 3 \
    "$(json '[s["replicas"] for s in d["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]' <<<"$st")"
assert_eq "the event stream keeps HOOKPIPE_RETENTION (30d)" 2592000 \
    "$(json '[s["max_age_s"] for s in d["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]' <<<"$st")"
assert_eq "the dedupe bucket keeps 7 days" 604800 \
    "$(json '[s["max_age_s"] for s in d["streams"] if s["name"] == "KV_hookpipe_dedupe"][0]' <<<"$st")"

# The configuration on host A, copied to host B (same subscription ids,
# secrets and master key): config replication is a later step.
new_sub cl
RAN=$T_DIR/ran
ran_workflow w "$RAN"
check "host A's configuration backed up" hookpipe backup "$T_DIR/a.tgz"
check "and restored as host B's" on_b hookpipe restore "$T_DIR/a.tgz"
start_stack
if ! out=$(on_b hookpipectl start 2>&1); then
	not_ok "host B starts" "$out"
	finish
fi
ok "both hosts started"

# to HOST URL FILE ID TS: one signed delivery to host A or B.
to() {
	local base=$1
	shift
	BASE=$base deliver "$SUB_ID" "$SUB_SECRET" "$@"
}

f1=$(payload batch.completed "$T_DIR/p1.json")
ts=$(date +%s)
to "$BASE_A" "$f1" msg_one "$ts"
assert_status "a delivery to host A" 200
ev1=$(json 'd["event_id"]' <<<"$HTTP_BODY")
to "$BASE_B" "$f1" msg_one "$ts"
assert_status "the same delivery to host B" 200
assert_eq "host B answers duplicate" true \
    "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
assert_eq "with host A's event id" "$ev1" \
    "$(json 'd["event_id"]' <<<"$HTTP_BODY")"

f2=$(payload batch.completed "$T_DIR/p2.json")
to "$BASE_B" "$f2" msg_two "$ts"
assert_status "a delivery to host B" 200
ev2=$(json 'd["event_id"]' <<<"$HTTP_BODY")
to "$BASE_A" "$f2" msg_two "$ts"
assert_eq "the same to host A: duplicate, B's event" "true $ev2" \
    "$(json 'str(d["duplicate"]).lower() + " " + d["event_id"]' <<<"$HTTP_BODY")"
to "$BASE_A" "$f2" msg_two "$ts"
assert_eq "and again to host A: duplicate" true \
    "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"

# Both hosts at once.
node "$ROOT/tests/e2e/helpers/burst.js" "$BASE_A/triggers/plugin/$SUB_ID" \
    "$SUB_SECRET" 100 >"$T_DIR/burst.a" &
node "$ROOT/tests/e2e/helpers/burst.js" "$BASE_B/triggers/plugin/$SUB_ID" \
    "$SUB_SECRET" 100 >"$T_DIR/burst.b"
wait $!
assert_eq "100 deliveries to host A: 200" '{"200":100}' "$(cat "$T_DIR/burst.a")"
assert_eq "100 deliveries to host B at the same time: 200" '{"200":100}' \
    "$(cat "$T_DIR/burst.b")"

# stream_msgs: the events the stream holds.
stream_msgs() {
	hookpipe cluster status --json |
	    json '[s["messages"] for s in d["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]'
}
assert_eq "the stream holds each event once" 202 "$(stream_msgs)"
# Each host copies the stream into its own events database.
events_on() {
	"$@" hookpipe events --json --limit 1000 | json 'len(d)'
}
lists_all() {
	[ "$(events_on "$@")" = "$(stream_msgs)" ]
}
if wait_for 30 lists_all env && wait_for 30 lists_all on_b; then
	ok "hookpipe events on either host lists every host's events"
else
	not_ok "hookpipe events on either host lists every host's events" \
	    "stream: $(stream_msgs), A: $(events_on env), B: $(events_on on_b)"
fi
out=$(hookpipe event show "$ev2" --json)
assert_eq "host A shows the event host B stored" msg_two \
    "$(json 'd["delivery_id"]' <<<"$out")"

# One NATS server down: a quorum of two remains. A leader that was on it
# is elected again within seconds (503 with Retry-After until then).
nats_kill 1
fresh_200() {
	local f
	f=$(payload batch.completed "$T_DIR/p.json")
	to "$1" "$f"
	[ "$HTTP_STATUS" = 200 ]
}
if wait_for 30 fresh_200 "$BASE_A" && wait_for 30 fresh_200 "$BASE_B"; then
	ok "one NATS server killed: both hosts store deliveries"
else
	not_ok "one NATS server killed: both hosts store deliveries" \
	    "last: $HTTP_STATUS $HTTP_BODY"
fi
out=$(node "$ROOT/tests/e2e/helpers/burst.js" \
    "$BASE_B/triggers/plugin/$SUB_ID" "$SUB_SECRET" 50)
assert_eq "50 deliveries with one server down: 200" '{"200":50}' "$out"

# Host A copies B's deliveries from the stream within a second, once
# the stream has its leader again; what it lists is counted once it has
# them all.
check "host A has copied host B's deliveries" wait_for 90 lists_all env

# Two down: no quorum.
nats_kill 2
f3=$(payload batch.completed "$T_DIR/p3.json")
ts3=$(date +%s)
before=$(hookpipe events --json --limit 1000 | json 'len(d)')
to "$BASE_A" "$f3" msg_three "$ts3"
assert_status "two NATS servers killed: a delivery" 503
assert_contains "with Retry-After" "retry-after:" \
    "$(tr 'A-Z' 'a-z' <<<"$HTTP_HEADERS")"
assert_eq "and nothing stored" "$before" \
    "$(hookpipe events --json --limit 1000 | json 'len(d)')"

# The quorum back: the sender's retry is stored, once.
nats_start 1
retry_three() {
	to "$BASE_A" "$f3" msg_three "$ts3"
	[ "$HTTP_STATUS" = 200 ]
}
if wait_for 60 retry_three; then
	ok "a NATS server back: the retry is stored"
else
	not_ok "a NATS server back: the retry is stored" \
	    "last: $HTTP_STATUS $HTTP_BODY"
fi
assert_eq "as a new event" false "$(json 'd["duplicate"]' <<<"$HTTP_BODY")"
ev3=$(json 'd["event_id"]' <<<"$HTTP_BODY")
to "$BASE_B" "$f3" msg_three "$ts3"
assert_eq "then a duplicate on host B" "true $ev3" \
    "$(json 'str(d["duplicate"]).lower() + " " + d["event_id"]' <<<"$HTTP_BODY")"

# Host B's verifier SIGKILLed: its supervisor starts it again, and its
# follower reads the stream from the start again, copying nothing twice
# (the counts below would differ).
old=$(cat "$HOME_B/run/verifier.pid")
kill -KILL "$old"
restarted() {
	local p
	p=$(cat "$HOME_B/run/verifier.pid" 2>/dev/null) && [ "$p" != "$old" ] &&
	    kill -0 "$p" 2>/dev/null
}
if wait_for 30 restarted && wait_for 30 fresh_200 "$BASE_B"; then
	ok "host B's verifier killed: restarted, it stores deliveries again"
else
	not_ok "host B's verifier killed: restarted, it stores deliveries again" \
	    "last: $HTTP_STATUS $HTTP_BODY"
fi

# Every stored event ran, none twice: the routers of both hosts take
# the events from one consumer group over the stream, each event once.
total=$(stream_msgs)
if wait_for 30 lists_all env && wait_for 30 lists_all on_b; then
	ok "after the outage, both hosts list every event again ($total)"
else
	not_ok "after the outage, both hosts list every event again" \
	    "stream: $total, A: $(events_on env), B: $(events_on on_b)"
fi
if wait_for 60 eval '[ "$(sort -u "$RAN" | wc -l)" -ge "$total" ]'; then
	ok "every event in the stream ran ($total)"
else
	not_ok "every event in the stream ran" \
	    "stream: $total, ran: $(sort -u "$RAN" | wc -l)"
fi
sleep 1
assert_eq "none twice" "" "$(sort "$RAN" | uniq -d)"
assert_eq "and nothing but them" "$total" "$(sort -u "$RAN" | wc -l | tr -d ' ')"
assert_contains "the delivery refused with 503 ran after its retry" "$ev3" \
    "$(cat "$RAN")"

finish
