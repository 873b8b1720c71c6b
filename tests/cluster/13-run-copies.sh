#!/usr/bin/env bash
# Cluster mode, the runs of a host that is down: each dispatcher sends a
# copy of a run to HOOKPIPE_RUNS as its attempt ends, and `run show` and
# `event show` on another host show that copy, with its host, while the
# host does not answer, and `hookpipe runs` lists its newest copies; a
# run it made and has not run is shown from its claim in `event show`
# and `hookpipe runs`; the console shows both, in a browser; a
# copy over 512 KiB leaves out the output of the attempts before the
# last; the host back, its own answer again.
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

# 80 more runs on host B after it: its copy is behind theirs.
send_to "$BASE_A" 80
check "host B ran 82" wait_for 120 ran 82
newest_b() {
	on_b hookpipe runs --here --json 2>/dev/null |
	    json '" ".join(sorted(r["id"] for r in d if r["status"] == "succeeded"))'
}
check "host B's runs all ended" wait_for 30 eval \
    '[ "$(newest_b | wc -w)" = 50 ]'
ids_b=$(newest_b)

rb=$(on_b hookpipe runs --here --workflow w --json | json 'd[0]["id"]')
ev=$(on_b hookpipe runs --here --workflow w --json | json 'd[0]["event_id"]')
host_b=$(on_b hookpipe cluster status --json |
    json '"\n".join(h["host"] for h in d["hosts"])' | grep -F ":$HOME_B")

# A run host B made and has not run: its dispatcher stopped.
on_b hookpipectl stop dispatcher >/dev/null 2>&1
send_to "$BASE_A" 1 "$T_DIR/queued"
eq=$(cat "$T_DIR/queued")
check "host B routed it, its run queued" wait_for 30 eval \
    'on_b hookpipe runs --here --event "$eq" --status queued --json 2>/dev/null |
    grep -q queued'

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

out=$(hookpipe runs --status succeeded --json 2>&1)
assert_eq "hookpipe runs on host A: host B's 50 newest runs, their copies" \
    "$ids_b" "$(json '" ".join(sorted(r["id"] for r in d))' <<<"$out")"
assert_eq "each with its host, marked a copy" "$host_b True" \
    "$(json '" ".join(sorted(set(r["host"] + " " + str(r.get("copy")) for r in d)))' <<<"$out")"
out=$(hookpipe runs --workflow big --limit 1 --json 2>&1)
assert_eq "an older copy of host B, behind 80 others, by its workflow" \
    "$BIG dead True" \
    "$(json '" ".join(r["id"] + " " + r["status"] + " " + str(r.get("copy")) for r in d)' <<<"$out")"
out=$(hookpipe runs --status dead --json 2>&1)
assert_eq "by its status" "$BIG" "$(json '" ".join(r["id"] for r in d)' <<<"$out")"
out=$(hookpipe runs --limit 2 2>&1)
assert_contains "in text, the HOST column says it is a copy" \
    "$host_b (copy)" "$out"
out=$(HOOKPIPE_WORKSPACE=other hookpipe runs --json 2>&1)
assert_eq "another workspace lists none of them" 0 \
    "$(json 'len(d)' <<<"$out")"

out=$(hookpipe event show "$eq" --json 2>&1)
assert_eq "event show of the event whose run host B made and did not run: its claim" \
    "w queued $host_b True" \
    "$(json '" ".join(" ".join([r["workflow"], r["status"], r["host"], str(r.get("claim"))]) for r in d["runs"])' <<<"$out")"
out=$(hookpipe runs --status queued --json 2>&1)
assert_eq "hookpipe runs --status queued: that run, from its claim" \
    "$eq w queued $host_b True" \
    "$(json '" ".join(" ".join([r["event_id"], r["workflow"], r["status"], r["host"], str(r.get("claim"))]) for r in d)' <<<"$out")"
out=$(hookpipe runs --limit 1 2>&1)
assert_contains "in text, the newest run, its HOST with (claim)" \
    "$host_b (claim)" "$out"
out=$(hookpipe event show "$eq" 2>&1)
assert_contains "in text, which host made it" \
    "(which does not answer: it made the run, and no attempt of it has ended)" \
    "$out"

# The console on host A, in a browser.
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}
if [ -z "$chromium" ] || ! command -v node >/dev/null ||
    [ ! -d "$ROOT/tests/npm/node_modules/puppeteer-core" ]; then
	skip "the console: Chromium or puppeteer-core is not installed"
else
	shots=${HOOKPIPE_TEST_OUT:-$ROOT/tests/out}/cluster-13
	rm -rf "$shots"
	mkdir -p "$shots"
	link=$(hookpipe console --user alice --json | json 'd["url"]')
	HOST_B=$host_b EVENT_ID=$eq browser_walk console-hosts.js "$link" \
	    "$shots"
fi

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
out=$(hookpipe runs --json 2>&1)
assert_eq "and hookpipe runs its runs, not their copies" "$host_b None" \
    "$(json '" ".join(sorted(set(r["host"] + " " + str(r.get("copy")) for r in d)))' <<<"$out")"

finish
