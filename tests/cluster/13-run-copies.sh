#!/usr/bin/env bash
# Cluster mode, the runs of a host that is down: each dispatcher sends a
# copy of a run to HOOKPIPE_RUNS as its attempt ends, and `run show` and
# `event show` on another host show that copy, with its host, while the
# host does not answer; a copy over 512 KiB leaves out the output of
# the attempts before the last; the host back, its own answer again.
. "$(dirname "$0")/lib.sh"

cluster_init
two_hosts
ran_on_both rc

# Host A's router stopped: host B routes, and runs, everything.
hookpipectl stop router >/dev/null 2>&1
send_to "$BASE_A" 2
check "host B ran two" wait_for 60 ran 2

# A run whose copy is over 512 KiB: three attempts of 64 KiB of output
# each, control characters that JSON writes in six bytes.
big_dead_on_b

rb=$(on_b hookpipe runs --here --workflow w --json | json 'd[0]["id"]')
ev=$(on_b hookpipe runs --here --workflow w --json | json 'd[0]["event_id"]')
host_b=$(on_b hookpipe cluster status --json |
    json '"\n".join(h["host"] for h in d["hosts"])' | grep -F ":$HOME_B")

# Host B down.
on_b hookpipectl stop >/dev/null 2>&1

out=$(hookpipe run show "$rb" --json 2>&1)
assert_eq "run show on host A of host B's run, B down: its copy" \
    "$rb succeeded True $host_b 1" \
    "$(json '" ".join([d["id"], d["status"], str(d.get("copy")), d["host"], str(len(d["history"]))])' <<<"$out")"
out=$(hookpipe run show "$rb" 2>&1)
assert_eq "in text: exit 0" 0 "$?"
assert_contains "it says the host does not answer" \
    "That host does not answer: this is the run's copy" "$out"
assert_contains "and shows the run's status" "succeeded" "$out"

out=$(hookpipe event show "$ev" --json 2>&1)
assert_eq "event show on host A: host B's run of the event, its copy" \
    "$rb True" \
    "$(json '" ".join(r["id"] + " " + str(r.get("copy")) for r in d["runs"] if r["workflow"] == "w")' <<<"$out")"
out=$(hookpipe event show "$ev" 2>&1)
assert_contains "in text, the run with its host" \
    "(which does not answer: its copy)" "$out"

out=$(hookpipe run show "$BIG" --json 2>&1)
assert_eq "a copy over 512 KiB: every attempt, the last one's output whole" \
    "dead 3 0 0 65536" \
    "$(json '" ".join([d["status"], str(len(d["history"]))] + [str(len(a["output"])) for a in d["history"]])' <<<"$out")"
assert_eq "the others' left out, and said so" "True True None" \
    "$(json '" ".join(str(a.get("output_left_out")) for a in d["history"])' <<<"$out")"

out=$(hookpipe run show 00000000-0000-4000-8000-000000000000 2>&1)
assert_eq "a run no host and no copy has: exit 1" 1 "$?"
assert_contains "and says so" "no run" "$out"
out=$(HOOKPIPE_WORKSPACE=other hookpipe run show "$rb" 2>&1)
assert_eq "a copy of another workspace's run is not shown: exit 1" 1 "$?"

# Host B back: its own answer, not the copy.
on_b hookpipectl start >/dev/null 2>&1
answers_b() {
	hookpipe run show "$rb" --json 2>/dev/null |
	    json '"copy" not in d and d["status"] == "succeeded"' |
	    grep -qx true
}
check "host B back: run show on host A shows B's answer" wait_for 30 answers_b

finish
