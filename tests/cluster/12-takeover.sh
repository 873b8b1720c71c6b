#!/usr/bin/env bash
# Cluster mode with HOOKPIPE_CLUSTER_TAKEOVER: a host whose router has
# not been heard from for that long is lost, and the other host runs
# the runs it had created and not ended, once, under the same run ids;
# when the lost host comes back with its state directory it ends those
# runs itself (taken over) and runs none of them; its dispatcher starts
# no attempt without the lease its router renews.
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_CLUSTER_TAKEOVER=30s
cluster_init
two_hosts
ran_on_both tk

queued_on_b() {
	[ "$(on_b hookpipe runs --here --status queued --json |
	    json 'len(d)')" -ge "$1" ]
}
check "host A's router renews its lease" wait_for 60 grep -q \
    "lease renewed" "$HOOKPIPE_HOME/log/router.log"
check "host B's router too" wait_for 60 grep -q \
    "lease renewed" "$HOME_B/log/router.log"

# Four runs made on host B (A's router stopped), not run (B's
# dispatcher stopped).
hookpipectl stop router >/dev/null 2>&1
on_b hookpipectl stop dispatcher >/dev/null 2>&1
send_to "$BASE_B" 4 "$T_DIR/sent"
assert_eq "four deliveries to host B: 200" 4 "$(wc -l <"$T_DIR/sent")"
check "host B has four runs queued" wait_for 60 queued_on_b 4
open_ids=$(on_b hookpipe runs --here --status queued --json |
    json '" ".join(sorted(r["id"] for r in d))')
host_b=$(on_b hookpipe cluster status --json |
    json '"\n".join(h["host"] for h in d["hosts"])' | grep -F ":$HOME_B")

# Host B goes away; host A's router comes back. B's runs wait until B
# has not been heard from for 30 s (its router beat every 5 s until it
# stopped, unless the NATS servers were too busy to take a beat).
on_b hookpipectl stop >/dev/null 2>&1
hookpipectl start >/dev/null 2>&1
sleep 10
assert_eq "none of them runs at once" 0 "$(wc -l <"$RAN")"
check "host A runs host B's four runs once B is lost" wait_for 120 ran 4
out=$(hookpipe cluster status 2>&1)
assert_contains "cluster status: host B's router's last beat" \
    "router of $host_b: last beat " "$out"
assert_contains "and that host B is lost" \
    "(lost: the other hosts take its runs over)" "$out"
assert_eq "cluster status --json: beats, B lost" true \
    "$(hookpipe cluster status --json | HB=$host_b json \
    '[b["lost"] for b in d["beats"] if b["host"] == __import__("os").environ["HB"]][0]')"
check "host A's router says so" grep -q \
    "lost host $host_b: 4 events of its unfinished runs routed here" \
    "$HOOKPIPE_HOME/log/router.log"
ran_once_here "$T_DIR/sent" "$open_ids"

# Host B back with its state directory: it ends the four itself.
on_b hookpipectl start >/dev/null 2>&1
check "host B's dispatcher starts nothing before its lease" wait_for 30 \
    grep -q "no attempt starts until the router renews it" \
    "$HOME_B/log/dispatcher.log"
check "host B's router ends the runs taken over" wait_for 60 grep -q \
    "4 runs of this host were taken over by other hosts" \
    "$HOME_B/log/router.log"
out=$(on_b hookpipe runs --here --json)
assert_eq "host B's four runs: dead" "dead dead dead dead" \
    "$(json '" ".join(r["status"] for r in d)' <<<"$out")"
assert_contains "taken over by host A" "taken over by host " \
    "$(json 'd[0]["last_error"]' <<<"$out")"
check "host B renews its lease" wait_for 60 grep -q "lease renewed" \
    "$HOME_B/log/router.log"
assert_eq "cluster status --json: B not lost any more" false \
    "$(hookpipe cluster status --json | HB=$host_b json \
    '[b["lost"] for b in d["beats"] if b["host"] == __import__("os").environ["HB"]][0]')"
sleep 3
assert_eq "none ran twice" "" "$(sort "$RAN" | uniq -d)"
assert_eq "four runs in all" 4 "$(wc -l <"$RAN")"

# Host B runs again: a delivery it routes (A's router stopped) runs on
# it, once.
hookpipectl stop router >/dev/null 2>&1
send_to "$BASE_B" 1 "$T_DIR/sent2"
check "a new delivery runs on host B" wait_for 60 ran 5
assert_eq "one run on host B that succeeded" 1 \
    "$(on_b hookpipe runs --here --status succeeded --json | json 'len(d)')"
finish
