#!/usr/bin/env bash
# A router started on a backlog (it was stopped while deliveries came in)
# is ready at once and routes the backlog in the loop: `hookpipectl
# start` returns before it is through, a stop meanwhile is prompt (the
# rest waits in the log), and the next start routes the rest, each
# event once.
. "$(dirname "$0")/lib.sh"

# Slow filters that pass nothing: routing the backlog takes seconds.
HOOKPIPE_JQ_TIMEOUT_MS=20000
export HOOKPIPE_JQ_TIMEOUT_MS
start_stack
new_sub bl
for w in 1 2 3 4; do
	hookpipe workflow create "w$w" --exec true >/dev/null
	hookpipe workflow trigger "w$w" --sub "$SUB_ID" --event batch.completed \
	    --filter "[range(300000)] | length < $w" >/dev/null
	hookpipe workflow publish "w$w" >/dev/null
done
N=80
hookpipectl stop router >/dev/null 2>&1
f=$(payload batch.completed "$T_DIR/p.json")
ok=0
for _ in $(seq 1 "$N"); do
	deliver "$SUB_ID" "$SUB_SECRET" "$f"
	[ "$HTTP_STATUS" = 200 ] && ok=$((ok + 1))
done
assert_eq "$N deliveries while the router is stopped: 200" "$N" "$ok"

# routed: events the router has passed (the count goes on across its
# restarts).
routed() {
	local n
	n=$(awk '/stopping: [0-9]+ events routed/ { s += $4 } END { print s + 0 }' \
	    "$HOOKPIPE_HOME/log/router.log")
	echo "$n"
}
before=$(routed)
check "hookpipectl start: the router comes up on the backlog" \
    hookpipectl start
api GET /metrics ""
now=$(awk '$1 == "hookpipe_events_routed_total" { print $2 }' <<<"$HTTP_BODY")
check "and is ready before it is through ($now routed of $N)" \
    test "${now:-0}" -lt "$N"
check "a stop while it routes the backlog" hookpipectl stop router
stopped=$(( $(routed) - before ))
check "is prompt: the rest waits ($stopped of $N routed)" \
    test "$stopped" -lt "$N"
hookpipectl start >/dev/null 2>&1
# Every event routed, as long as the router gets on: the backlog takes
# seconds here and minutes under a sanitizer on a busy machine, so the
# wait fails when 60 s pass with no event routed, not at a fixed time.
routed_now() {
	hookpipe events --limit 1000 --json |
	    json 'len([e for e in d if e["status"] == "routed"])'
}
check "started again: every event routed" \
    wait_progress "$N" 60 routed routed_now
assert_eq "and no run (the filters pass none)" 0 \
    "$(hookpipe runs --json | json 'len(d)')"

finish
