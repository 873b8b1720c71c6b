#!/usr/bin/env bash
# Cluster mode, a host gone for good with runs it had not ended: each
# batch a router commits with runs is marked in hookpipe_runs for its
# host until the runs end there; once the operator forgets the host, a
# router of another host routes those events again, takes their claims
# over and runs them, once, under the same run ids; runs the host had
# ended are not run again, and their copies show them.
. "$(dirname "$0")/lib.sh"

cluster_init
two_hosts
ran_on_both fr

# marks_is HOME ADMIN N: that host's router says it has N marks in use.
marks_is() {
	HOOKPIPE_HOME=$1 ADMIN=$2 api GET /metrics ""
	[ "$(awk '$1 == "hookpipe_queue_depth{queue=\"marks\"}" { print $2 }' \
	    <<<"$HTTP_BODY")" = "$3" ]
}
queued_on_b() {
	[ "$(on_b hookpipe runs --here --status queued --json |
	    json 'len(d)')" -ge "$1" ]
}

# Host A's router stopped: host B routes everything.
hookpipectl stop router >/dev/null 2>&1
send_to "$BASE_B" 3
check "host B runs three" wait_for 60 ran 3
ended_b=$(on_b hookpipe runs --here --json | json 'd[0]["id"]')
# Its marks of them are gone once it sees the runs ended (every 5 s:
# the gauge read after a sweep that followed the runs' end).
sleep 7
check "host B's marks end with its runs (/metrics)" \
    wait_for 30 marks_is "$HOME_B" "http://$ADMIN_B" 0
# Host B's dispatcher stopped: four runs created there, not run.
on_b hookpipectl stop dispatcher >/dev/null 2>&1
: >"$T_DIR/sent"
send_to "$BASE_B" 4 "$T_DIR/sent"
assert_eq "four more deliveries: 200" 4 "$(wc -l <"$T_DIR/sent")"
check "host B has four runs queued" wait_for 60 queued_on_b 4
check "host B's router has a mark of them (/metrics)" \
    wait_for 20 marks_is "$HOME_B" "http://$ADMIN_B" 1
open_ids=$(on_b hookpipe runs --here --status queued --json |
    json '" ".join(sorted(r["id"] for r in d))')
host_b=$(on_b hookpipe cluster status --json |
    json '"\n".join(h["host"] for h in d["hosts"])' | grep -F ":$HOME_B")
# Host B lost for good: stopped, and never started again here.
on_b hookpipectl stop >/dev/null 2>&1
sleep 2
assert_eq "none of the four ran" 3 "$(sort -u "$RAN" | wc -l)"

out=$(hookpipe cluster forget "$host_b" 2>&1)
assert_eq "hookpipe cluster forget B: exit 0" 0 "$?"
assert_contains "it says the runs B had not ended run again" \
    "and run again the runs it had not ended" "$out"
# Host A's router is still stopped: nobody has taken them up yet.
out=$(hookpipe cluster status 2>&1)
assert_contains "cluster status: four events of B's unfinished runs wait" \
    "4 events of its unfinished runs wait for another host's router" "$out"
assert_eq "cluster status --json: forgotten[0].unfinished" 4 \
    "$(hookpipe cluster status --json | json 'd["forgotten"][0]["unfinished"]')"
start_stack
check "host A runs host B's four unfinished runs" wait_for 60 ran 7
check "its router says so" wait_for 30 grep -q \
    "forgotten host $host_b: 4 events of its unfinished runs routed here" \
    "$HOOKPIPE_HOME/log/router.log"
ran_once_here "$T_DIR/sent" "$open_ids"
sleep 7
assert_eq "each ran once, and the three host B ended did not run again" \
    "" "$(sort "$RAN" | uniq -d)"
assert_eq "seven runs in all" 7 "$(wc -l <"$RAN")"
check "host A's marks end with its runs (/metrics)" \
    wait_for 20 marks_is "$HOOKPIPE_HOME" "$ADMIN" 0
assert_eq "cluster status: none of B's left" 0 \
    "$(hookpipe cluster status --json | json 'd["forgotten"][0]["unfinished"]')"
# What host B ended is not lost with it: its copy, on host A.
assert_eq "run show on host A of a run host B had ended: its copy" \
    "$ended_b succeeded $host_b" \
    "$(hookpipe run show "$ended_b" --json |
    json '" ".join([d["id"], d["status"], d["host"]])')"

finish
