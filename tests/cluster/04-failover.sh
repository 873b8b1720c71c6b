#!/usr/bin/env bash
# Cluster mode, routing with failover: the routers of both hosts are one
# consumer group over the event stream. Host A's router and dispatcher
# stopped, the deliveries host A's verifier stores run on host B, each
# once, and nothing runs again when A comes back. Host A's router
# SIGKILLed while it routes a burst: every event runs once (what it held
# unacknowledged goes to a router again, and a run already created is
# not created twice).
. "$(dirname "$0")/lib.sh"

cluster_init

two_hosts

ran_on_both fo

# ran_all FILE: every event id in FILE ran.
ran_all() {
	local id
	while read -r id; do
		grep -qx "$id" "$RAN" || return 1
	done <"$1"
}
# runs_here HOST...: the runs that host made (runs --here), of the
# events in $T_DIR/ids.
runs_here() {
	"$@" hookpipe runs --here --json --limit 1000 |
	    json 'len([r for r in d if r["event_id"] in open("'"$T_DIR/ids"'").read().split()])'
}

# Host A's router and dispatcher stopped: its verifier stores, host B
# routes and runs.
hookpipectl stop dispatcher >/dev/null 2>&1
hookpipectl stop router >/dev/null 2>&1
: >"$T_DIR/ids"
for i in $(seq 1 10); do
	f=$(payload batch.completed "$T_DIR/p$i.json")
	BASE=$BASE_A deliver "$SUB_ID" "$SUB_SECRET" "$f"
	[ "$HTTP_STATUS" = 200 ] && json 'd["event_id"]' <<<"$HTTP_BODY" >>"$T_DIR/ids"
done
assert_eq "10 deliveries to host A, its router stopped: 200" 10 \
    "$(wc -l <"$T_DIR/ids" | tr -d ' ')"
if wait_for 60 ran_all "$T_DIR/ids"; then
	ok "host B ran them"
else
	not_ok "host B ran them" "ran: $(wc -l <"$RAN"); B's runs: $(on_b hookpipe runs 2>&1 | head -5)"
fi
assert_eq "host B lists their runs" 10 "$(runs_here on_b)"
assert_eq "each once" "" "$(sort "$RAN" | uniq -d)"

start_stack
sleep 12	# past the consumer's ack wait: a redelivery would show
assert_eq "host A back: nothing ran twice" "" "$(sort "$RAN" | uniq -d)"
assert_eq "host A made no run of them" 0 "$(runs_here env)"
assert_eq "nothing pending for the routers" "0 0" \
    "$(hookpipe cluster status --json | json '" ".join(str(c[k]) for s in d["streams"] for c in s.get("durables", []) for k in ("pending", "ack_pending"))')"

# Host B's router stopped, so that host A's routes everything; a burst
# to host A; host A's router SIGKILLed in the middle of it.
on_b hookpipectl stop router >/dev/null 2>&1
node "$ROOT/tests/e2e/helpers/burst.js" "$BASE_A/triggers/plugin/$SUB_ID" \
    "$SUB_SECRET" 300 >"$T_DIR/burst" &
bp=$!
wait_for 30 eval '[ "$(wc -l <"$RAN")" -ge 40 ]'
kill -KILL "$(cat "$HOOKPIPE_HOME/run/router.pid")"
wait "$bp"
assert_eq "300 deliveries to host A: 200" '{"200":300}' "$(cat "$T_DIR/burst")"
on_b hookpipectl start >/dev/null 2>&1
total=$(hookpipe cluster status --json |
    json '[s["messages"] for s in d["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]')
assert_eq "the stream holds every event" 310 "$total"
if wait_for 90 eval '[ "$(sort -u "$RAN" | wc -l)" -ge "$total" ]'; then
	ok "host A's router killed mid-burst: every event ran"
else
	not_ok "host A's router killed mid-burst: every event ran" \
	    "stream: $total, ran: $(sort -u "$RAN" | wc -l)"
fi
sleep 12	# past the ack wait again
assert_eq "none twice" "" "$(sort "$RAN" | uniq -d)"
assert_eq "and nothing but them" "$total" "$(wc -l <"$RAN" | tr -d ' ')"
check "host A's router was started again" \
    test "$(grep -c 'ready (pid' "$HOOKPIPE_HOME/log/router.log")" -ge 3

finish
