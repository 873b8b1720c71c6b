#!/usr/bin/env bash
# Cluster mode, runs seen from any host: `hookpipe runs` and `run show`
# on either host list the runs of both (each host's admin stage answers
# for its own), with the host of each; --here lists this host's only;
# an answer over the NATS message limit comes in parts; a run of host B
# is replayed from host A (singly, and in bulk); `cluster status`
# lists the hosts up; a host whose admin stage is stopped leaves it, and
# its runs are listed as their copies have them.
. "$(dirname "$0")/lib.sh"

cluster_init

two_hosts

ran_on_both ra

ran() {
	[ "$(wc -l <"$RAN")" -ge "$1" ]
}
# Three runs made on host B (A's router stopped), three on host A.
hookpipectl stop router >/dev/null 2>&1
send_to "$BASE_A" 3
check "host B ran three" wait_for 60 ran 3
start_stack
on_b hookpipectl stop router >/dev/null 2>&1
send_to "$BASE_A" 3
check "host A ran three" wait_for 60 ran 6
on_b hookpipectl start >/dev/null 2>&1

here_a=$(hookpipe runs --here --json | json 'len(d)')
here_b=$(on_b hookpipe runs --here --json | json 'len(d)')
assert_eq "runs --here: each host's own" "3 3" "$here_a $here_b"
out=$(hookpipe runs --json)
assert_eq "runs on host A: both hosts' runs" 6 "$(json 'len(d)' <<<"$out")"
assert_eq "each with its host" 2 \
    "$(json 'len(set(r["host"] for r in d))' <<<"$out")"
ids_a=$(json '" ".join(sorted(r["id"] for r in d))' <<<"$out")
out_b=$(on_b hookpipe runs --json)
assert_eq "runs on host B: the same runs" "$ids_a" \
    "$(json '" ".join(sorted(r["id"] for r in d))' <<<"$out_b")"
assert_eq "newest first" \
    "$(json '" ".join(sorted((r["created_at"] for r in d), reverse=True))' <<<"$out")" \
    "$(json '" ".join(r["created_at"] for r in d)' <<<"$out")"
out=$(hookpipe runs --limit 4 --json)
assert_eq "--limit over both hosts" 4 "$(json 'len(d)' <<<"$out")"
out=$(hookpipe runs)
assert_contains "the table has a HOST column" "HOST" "$out"
assert_eq "and a line per run" 6 "$(grep -c succeeded <<<"$out")"

# run show on host A of a run host B made.
rb=$(on_b hookpipe runs --here --json | json 'd[0]["id"]')
out=$(hookpipe run show "$rb" --json 2>&1)
assert_eq "run show on host A of host B's run" "$rb succeeded" \
    "$(json 'd["id"] + " " + d["status"]' <<<"$out")"
assert_contains "with its attempts" '"history"' "$out"
out=$(hookpipe run show "$rb" 2>&1)
assert_contains "in text, with its host" "host:" "$out"
assert_contains "and its status" "succeeded" "$out"
out=$(hookpipe run show "$rb" --here 2>&1)
assert_contains "--here: not on this host" "no run" "$out"
out=$(hookpipe run show 00000000-0000-4000-8000-000000000000 2>&1)
rc=$?
assert_eq "a run no host has: exit 1" 1 "$rc"

# A run whose answer is over the NATS servers' message limit (1 MiB):
# three attempts of 64 KiB of output each, control characters that JSON
# writes in six bytes. Host B answers in parts; host A shows it whole.
big_dead_on_b
start_stack
rb=$BIG
out=$(hookpipe run show "$rb" --json 2>&1)
assert_eq "run show on host A: host B's answer of over 1 MiB, whole" \
    "$rb dead 3" \
    "$(json '" ".join([d["id"], d["status"], str(len(d["history"]))])' <<<"$out")"
assert_eq "with each attempt's output" "65536 65536 65536" \
    "$(json '" ".join(str(len(a["output"])) for a in d["history"])' <<<"$out")"

# Replayed from host A: host B's dead run, found in the list of every
# host's runs, runs again here (each host has every event): in bulk
# first (while host A has no dead run of its own), then singly.
api POST /api/v1/runs/replay '{"workflow":"big","status":"dead","dry_run":true}'
assert_eq "bulk replay on host A, dry run: host B's dead run" "200 1 $rb" \
    "$HTTP_STATUS $(json 'str(d["count"]) + " " + d["runs"][0]' <<<"$HTTP_BODY")"
api POST /api/v1/runs/replay '{"workflow":"big","status":"dead"}'
assert_eq "bulk replay on host A: host B's dead run replayed" "200 1" \
    "$HTTP_STATUS $(json 'd["replayed"]' <<<"$HTTP_BODY")"
# big_here N: host A has N runs of workflow big.
big_here() {
	[ "$(hookpipe runs --here --workflow big --json | json 'len(d)')" = "$1" ]
}
check "the replayed run is host A's" wait_for 30 big_here 1
ev=$(json 'd["event_id"]' <<<"$out")
out=$(hookpipe replay "$ev" --workflow big 2>&1)
assert_eq "hookpipe replay on host A of host B's run's event: exit 0" 0 "$?"
check "a second run of it on host A" wait_for 30 big_here 2

# The hosts up, in hookpipe_hosts: each admin stage says so every 5 s
# and when it stops; one not heard of for 15 s is left out.
# hosts_up: the hosts `cluster status` on host A lists, sorted.
hosts_up() {
	hookpipe cluster status --json 2>/dev/null |
	    json '" ".join(sorted(h["host"].split(":", 1)[1] for h in d["hosts"]))'
}
both="$(printf '%s\n' "$HOOKPIPE_HOME" "$HOME_B" | sort | tr '\n' ' ' | sed 's/ $//')"
check "cluster status lists both hosts up" wait_for 30 \
    eval '[ "$(hosts_up)" = "$both" ]'
out=$(hookpipe cluster status 2>&1)
assert_contains "with a line that counts them" \
    "hosts up (seen in the last 15 s): 2" "$out"
assert_contains "and host B's row" "$HOME_B" "$out"
check "/metrics: hookpipe_cluster_hosts_up 2" wait_for 30 eval \
    'api GET /metrics "" && grep -qx "hookpipe_cluster_hosts_up 2" <<<"$HTTP_BODY"'
# Host B's admin stage frozen: it stops saying it is up, and is left
# out once 15 s have passed; thawed, it is back.
adm_b=$(cat "$HOME_B/run/admin.pid")
kill -STOP "$adm_b"
check "host B's admin stage frozen: left out within 30 s" wait_for 30 \
    eval '[ "$(hosts_up)" = "$HOOKPIPE_HOME" ]'
kill -CONT "$adm_b"
check "thawed: listed again" wait_for 30 eval '[ "$(hosts_up)" = "$both" ]'

# Host B's admin stage stopped: it leaves the list at once (not 15 s
# later), and host A lists its own runs, and host B's from their copies.
ids_b=$(on_b hookpipe runs --here --json |
    json '" ".join(sorted(r["id"] for r in d))')
on_b hookpipectl stop admin >/dev/null 2>&1
check "host B's admin stage stopped: it left the hosts up" wait_for 5 \
    eval '[ "$(hosts_up)" = "$HOOKPIPE_HOME" ]'
out=$(hookpipe runs --json)
assert_eq "host B's admin stage stopped: host A lists its own (3, 2 replayed)" 5 \
    "$(json 'sum(1 for r in d if not r.get("copy"))' <<<"$out")"
assert_eq "and host B's, from their copies" "$ids_b" \
    "$(json '" ".join(sorted(r["id"] for r in d if r.get("copy")))' <<<"$out")"

finish
