#!/usr/bin/env bash
# Cluster mode, operations: `hookpipectl status` shows the NATS
# connection, the streams and the durable consumers; the admin stage's
# /metrics has the connection, each stream's messages, each durable
# consumer's pending and redelivered counts, and the configuration
# revision applied against the latest. With NATS gone, both say so.
. "$(dirname "$0")/lib.sh"

cluster_init
start_stack
new_sub ops

f=$(payload batch.completed "$T_DIR/p1.json")
deliver "$SUB_ID" "$SUB_SECRET" "$f"
assert_status "a delivery" 200

out=$(hookpipectl status 2>&1)
rc=$?
assert_eq "hookpipectl status exits 0" 0 "$rc"
assert_contains "it shows the NATS connection" "NATS: connected to nats://127.0.0.1:" "$out"
assert_contains "and the event stream" "HOOKPIPE_EVENTS" "$out"
assert_contains "and the configuration bucket" "KV_hookpipe_config" "$out"
assert_contains "and the routers' durable consumer" "hookpipe_router" "$out"
assert_contains "with its pending and redelivered counts" "REDELIVERED" "$out"

out=$(hookpipectl status --json 2>&1)
assert_eq "status --json: the cluster's connection" yes \
    "$(json '"yes" if d["up"] and d["cluster"]["connected"].startswith("nats://") else "no"' <<<"$out")"
assert_eq "status --json: the event stream holds the delivery" 1 \
    "$(json '[s["messages"] for s in d["cluster"]["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]' <<<"$out")"
assert_eq "status --json: the routers' consumer" hookpipe_router \
    "$(json '[c["name"] for s in d["cluster"]["streams"] for c in s.get("durables", [])][0]' <<<"$out")"

# metric NAME: the value of the series NAME (with its labels) on /metrics.
metric() {
	api GET /metrics ""
	awk -v m="$1" '$1 == m { print $2 }' <<<"$HTTP_BODY"
}
# config_synced: the revision applied here is the bucket's latest.
config_synced() {
	local a l
	a=$(metric 'hookpipe_cluster_config_revision{which="applied"}')
	l=$(metric 'hookpipe_cluster_config_revision{which="latest"}')
	[ -n "$l" ] && [ "$l" != 0 ] && [ "$a" = "$l" ]
}
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}
check "/metrics: hookpipe_cluster_connected 1" \
    wait_for 30 metric_is hookpipe_cluster_connected 1
assert_eq "/metrics: the event stream's messages" 1 \
    "$(metric 'hookpipe_cluster_stream_messages{stream="HOOKPIPE_EVENTS"}')"
if wait_for 30 config_synced; then
	ok "/metrics: the configuration revision applied is the latest"
else
	not_ok "/metrics: the configuration revision applied is the latest" \
	    "$(grep config_revision <<<"$HTTP_BODY")"
fi
check "/metrics: the routers' consumer has nothing pending" wait_for 30 \
    metric_is 'hookpipe_cluster_consumer_pending{stream="HOOKPIPE_EVENTS",consumer="hookpipe_router"}' 0
check "/metrics: and nothing redelivered" metric_is \
    'hookpipe_cluster_consumer_redelivered{stream="HOOKPIPE_EVENTS",consumer="hookpipe_router"}' 0

# The router stopped: what comes in waits in its consumer.
hookpipectl stop router >/dev/null 2>&1
for i in 1 2 3; do
	f=$(payload batch.completed "$T_DIR/p$i.json")
	deliver "$SUB_ID" "$SUB_SECRET" "$f"
done
assert_status "three deliveries while the router is stopped" 200
check "/metrics: 3 pending for the routers' consumer" wait_for 30 \
    metric_is 'hookpipe_cluster_consumer_pending{stream="HOOKPIPE_EVENTS",consumer="hookpipe_router"}' 3
hookpipectl start >/dev/null 2>&1
check "the router back: nothing pending" wait_for 30 \
    metric_is 'hookpipe_cluster_consumer_pending{stream="HOOKPIPE_EVENTS",consumer="hookpipe_router"}' 0

# NATS gone: status says so, exits 3; the metric says 0.
nats_stop
out=$(hookpipectl status 2>&1)
rc=$?
assert_eq "NATS down: hookpipectl status exits 3" 3 "$rc"
assert_contains "and says NATS cannot be reached" "HOOKPIPE_NATS" "$out"
out=$(hookpipectl status --json 2>&1)
assert_eq "status --json: up false, the cluster's error" "False yes" \
    "$(json 'str(d["up"]) + " " + ("yes" if d["cluster"].get("error") else "no")' <<<"$out")"
check "/metrics: hookpipe_cluster_connected 0" \
    wait_for 30 metric_is hookpipe_cluster_connected 0

finish
