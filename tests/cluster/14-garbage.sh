#!/usr/bin/env bash
# Cluster mode, what any client the NATS servers let in may publish:
# messages on the event stream that no host's verifier published (no
# header, a header that is not JSON, an event whose id is not its
# subject's, headers that are not an object, a subject that is not an
# event's) are stored by no host and terminated by the routers, not
# given back and forth forever; asks that are not asks get no answer;
# and both hosts still take, route, run and answer.
. "$(dirname "$0")/lib.sh"

cluster_init
two_hosts
ran_on_both rc

uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
u1=$(uuid) u2=$(uuid) u3=$(uuid) u4=$(uuid) u5=$(uuid)
meta() {
	python3 -c 'import json, sys
print(json.dumps({"id": sys.argv[1], "sub": sys.argv[2], "workspace":
    "default", "integration": "openai", "type": "batch.completed",
    "delivery_id": sys.argv[1], "state": "stored",
    "received_at": 1700000000000000, "headers": sys.argv[3]}))' "$@"
}
m3=$(meta "$u4" "$SUB_ID" '{}')
m5=$(meta "$u5" "$SUB_ID" '[1]')
python3 - "$m3" "$m5" >"$T_DIR/garbage.jsonl" <<PY
import json, sys
h = "Hookpipe-Event"
for m in [
    {"subject": "hookpipe.events.$u1", "payload": "{}", "repeat": 300},
    {"subject": "hookpipe.events.$u2", "headers": [[h, "not json"]],
     "payload": "{}", "repeat": 300},
    {"subject": "hookpipe.events.$u3", "headers": [[h, sys.argv[1]]],
     "payload": "{}"},
    {"subject": "hookpipe.events.$u5", "headers": [[h, sys.argv[2]]],
     "payload": "{}"},
    {"subject": "hookpipe.events.not-an-id", "payload": "{}"},
    {"subject": "hookpipe.ask.runs", "reply": "_INBOX.x",
     "payload": "garbage"},
    {"subject": "hookpipe.ask.runs", "reply": "_INBOX.x",
     "payload": '{"what": "runs", "workspace": "--here"}'},
    {"subject": "hookpipe.ask.runs", "reply": "_INBOX.x",
     "payload": '{"what": "rm", "workspace": "default"}'},
]:
    print(json.dumps(m))
PY
out=$(python3 "$(dirname "$0")/natspub.py" "${NATS_PORT[2]}" \
    <"$T_DIR/garbage.jsonl" 2>&1)
assert_eq "603 messages no host sent on the event stream, 3 asks" 606 "$out"

# The routers terminate them: nothing pending for the consumer, nothing
# held unacknowledged, once they have been through.
settled() {
	[ "$(hookpipe cluster status --json 2>/dev/null | json '" ".join(
	    str(c[k]) for s in d["streams"] for c in s.get("durables", [])
	    for k in ("pending", "ack_pending"))')" = "0 0" ]
}
check "the routers' consumer has none of them left" wait_for 60 settled
check "and stays so (none given back)" eval 'sleep 8; settled'
assert_contains "a router says so" \
    "that no host's verifier published" \
    "$(cat "$HOOKPIPE_HOME/log/router.log" "$HOME_B/log/router.log")"

for id in "$u1" "$u2" "$u3" "$u4" "$u5"; do
	hookpipe event show "$id" >/dev/null 2>&1
	a=$?
	on_b hookpipe event show "$id" >/dev/null 2>&1
	assert_eq "no host stored $id" "1 1" "$a $?"
done

# Both hosts still take, route and run, and answer for their runs.
send_to "$BASE_A" 2
send_to "$BASE_B" 2
check "four deliveries ran" wait_for 60 ran 4
out=$(hookpipe runs --json 2>&1)
assert_eq "host A lists both hosts' runs, none a copy" "4 0" \
    "$(json '"%d %d" % (len(d), sum(1 for r in d if r.get("copy")))' <<<"$out")"
out=$(on_b hookpipe runs --json 2>&1)
assert_eq "so does host B" 4 "$(json 'len(d)' <<<"$out")"

finish
