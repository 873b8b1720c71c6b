#!/usr/bin/env bash
# Cluster mode, an event routed on another host: `event show` on host A
# lists the runs host B made of it, each with its host; `workflow test`
# on host A finds the test run host B made (its router caught the test
# event) and prints its result and output, exit 0 or 1 as on one host.
. "$(dirname "$0")/lib.sh"

cluster_init

two_hosts

new_sub ah
RAN=$T_DIR/ran
ran_workflow w "$RAN"
check "host B has the workflow" wait_for 30 published_on_b
HOST_B=$(hostname):$HOME_B

# send: one delivery to host A; sets EVENT_ID.
send() {
	local f
	f=$(payload batch.completed "$T_DIR/p.json")
	BASE=$BASE_A deliver "$SUB_ID" "$SUB_SECRET" "$f"
	EVENT_ID=$(json 'd["event_id"]' <<<"$HTTP_BODY")
}
ran() {
	[ "$(wc -l <"$RAN")" -ge "$1" ]
}

# Host A's router stopped: host B routes and runs what host A stores.
hookpipectl stop router >/dev/null 2>&1
send
check "host B ran the event host A stored" wait_for 60 ran 1
run_b=$(on_b hookpipe runs --here --json | json 'd[0]["id"]')

# event show on host A: host B's run, with its host.
out=$(hookpipe event show "$EVENT_ID" --json 2>&1)
assert_eq "event show on host A lists host B's run" "$run_b" \
    "$(json '" ".join(r["id"] for r in d["runs"])' <<<"$out")"
assert_eq "with its host" "$HOST_B" \
    "$(json '" ".join(r["host"] for r in d["runs"])' <<<"$out")"
assert_eq "and its attempts" 1 \
    "$(json 'len(d["runs"][0]["history"])' <<<"$out")"
out=$(hookpipe event show "${EVENT_ID:0:13}" 2>&1)
assert_contains "in text, by a prefix of the id: the run" "run $run_b of w" \
    "$out"
assert_contains "and its host" "on $HOST_B" "$out"
out=$(hookpipe event show "$EVENT_ID" --here --json 2>&1)
assert_eq "event show --here: host A has none" 0 \
    "$(json 'len(d["runs"])' <<<"$out")"
out=$(on_b hookpipe runs --event "$EVENT_ID" --here --json 2>&1)
assert_eq "runs --event on host B: its run of the event" "$run_b" \
    "$(json '" ".join(r["id"] for r in d)' <<<"$out")"

# workflow test on host A of a draft; the test event is routed on host B.
# listening_on_b NAME: host B has the listening state host A set.
listening_on_b() {
	on_b hookpipe workflow show "$1" 2>/dev/null | grep -q listening
}
not_listening_on_b() {
	! listening_on_b "$1"
}
draft() {
	local out
	if ! out=$(hookpipe workflow create "$1" --exec "$2" 2>&1) ||
	    ! out=$(hookpipe workflow trigger "$1" --sub "$SUB_ID" \
	    --event '*' 2>&1); then
		not_ok "draft $1 is set up on host A" "$out"
		finish
	fi
}
# test_on_a NAME [ARGS...]: workflow test on host A, in the background,
# and one event once host B listens; sets RC, OUT (stdout).
test_on_a() {
	local name=$1 pid
	shift
	hookpipe workflow test "$name" --timeout 60 "$@" \
	    >"$T_DIR/test.out" 2>"$T_DIR/test.err" &
	pid=$!
	if ! wait_for 30 listening_on_b "$name"; then
		not_ok "host B listens for $name" "$(cat "$T_DIR/test.err")"
	fi
	send
	wait "$pid"
	RC=$?
	OUT=$(cat "$T_DIR/test.out")
}

draft ok "echo ok-output-of-the-test"
test_on_a ok
assert_eq "workflow test on host A, run on host B: exit 0" 0 "$RC"
assert_contains "the run's result" "succeeded" "$OUT"
assert_contains "the action's output" "ok-output-of-the-test" "$OUT"
assert_contains "the output variables" "batch.completed" "$OUT"
run_t=$(on_b hookpipe runs --here --test --workflow ok --json |
    json 'd[0]["id"]')
assert_contains "the run host B made" "run $run_t" "$OUT"
check "listening ends on host B" wait_for 30 not_listening_on_b ok

draft bad "echo bad-output-of-the-test; exit 3"
test_on_a bad
assert_eq "a failing action on host B: exit 1" 1 "$RC"
assert_not_contains "after the run, not at the timeout" "no event within" \
    "$(cat "$T_DIR/test.err")"
assert_contains "its result" "failed" "$OUT"
assert_contains "and its output" "bad-output-of-the-test" "$OUT"

test_on_a ok --json --live
res=$(tail -n 1 <<<"$OUT")
assert_eq "--json --live: exit 0" 0 "$RC"
assert_eq "the lines: event, inputs, result" "event inputs result" \
    "$(while read -r l; do json 'd["phase"]' <<<"$l"; done <<<"$OUT" |
    tr '\n' ' ' | sed 's/ $//')"
assert_eq "the result: the run, on host B" "succeeded $HOST_B" \
    "$(json 'd["run"]["status"] + " " + d["run"]["host"]' <<<"$res")"
assert_contains "with its output" "ok-output-of-the-test" \
    "$(json 'd["run"]["history"][-1]["output"]' <<<"$res")"
assert_eq "the event's runs: host B's" "$HOST_B" \
    "$(json '" ".join(sorted(set(r["host"] for r in d["event"]["runs"])))' \
    <<<"$res")"

# No event: the timeout still ends the listening state.
hookpipe workflow test ok --timeout 2 >/dev/null 2>&1
assert_eq "no event: exit 1" 1 "$?"
check "and host B no longer listens (timeout)" wait_for 30 not_listening_on_b ok

# Ctrl-C while host A asks the other hosts: listening ends too.
hookpipe workflow test ok --timeout 60 >/dev/null 2>"$T_DIR/test.err" &
pid=$!
check "host B listens" wait_for 30 listening_on_b ok
kill -INT "$pid"
wait "$pid"
assert_eq "interrupted: exit 1" 1 "$?"
assert_contains "saying so" "interrupted" "$(cat "$T_DIR/test.err")"
check "and host B no longer listens (Ctrl-C)" wait_for 30 not_listening_on_b ok

finish
