#!/usr/bin/env bash
# A hostile payload cannot stall the pipeline through a jq program: a
# signed GitHub issue whose body is 32,000 newlines meets a filter that
# runs gsub on it (seconds and hundreds of megabytes in libjq 1.6), a
# filter that spins, and a map that builds a huge array. Each stops at its
# budget (HOOKPIPE_JQ_TIMEOUT_MS, HOOKPIPE_JQ_MEMORY) in a jq worker; that
# trigger fails with the reason in `event show`, the event's other
# workflow runs, and unrelated deliveries are answered meanwhile.
. "$(dirname "$0")/lib.sh"

# Budgets that tell time from memory on a slow machine: jq 1.6 fills
# megabytes slowly, so the memory ceiling is small and the time generous.
export HOOKPIPE_JQ_TIMEOUT_MS=2000 HOOKPIPE_JQ_MEMORY=16M
start_stack
secret=gh-$RANDOM$RANDOM
hookpipe sub create repo --integration github --secret "$secret" >/dev/null
gh=$(hookpipe sub show repo --json | json 'd["id"]')
new_sub other
hookpipe workflow create slow --exec "$(recorder "$T_DIR/slow")" >/dev/null
hookpipe workflow trigger slow --sub repo --event issues \
    --filter '.issue.body | gsub("\n"; "x") | length > 0' >/dev/null
hookpipe workflow create spin --exec "$(recorder "$T_DIR/spin")" >/dev/null
hookpipe workflow trigger spin --sub repo --event issues \
    --filter 'reduce range(0; 1000000000) as $i (0; . + $i) > 0' >/dev/null
hookpipe workflow create greedy --exec "$(recorder "$T_DIR/greedy")" >/dev/null
hookpipe workflow trigger greedy --sub repo --event issues \
    --map '[range(0; 10000000)] | length' >/dev/null
hookpipe workflow create plain --exec "$(recorder "$T_DIR/plain")" >/dev/null
hookpipe workflow trigger plain --sub repo --event issues >/dev/null
for w in slow spin greedy plain; do
	hookpipe workflow publish "$w" >/dev/null
done

python3 - "$T_DIR/issue.json" <<'PY'
import json, sys
json.dump({"action": "opened", "issue": {"number": 1, "title": "x",
    "body": "\n" * 32000}, "repository": {"full_name": "o/r"},
    "sender": {"login": "mallory"}}, open(sys.argv[1], "w"))
PY
sig=$(openssl dgst -sha256 -hmac "$secret" <"$T_DIR/issue.json" | sed 's/^.*= //')
post POST "$BASE/triggers/plugin/$gh" "$T_DIR/issue.json" \
    -H 'X-GitHub-Event: issues' \
    -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" \
    -H "X-Hub-Signature-256: sha256=$sig"
assert_status "the hostile issue is received" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")

# While the router meets it: unrelated deliveries are answered, and run.
new_workflow quick other batch.completed "$T_DIR/quick"
for i in 1 2 3; do
	deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
	assert_status "an unrelated delivery meanwhile ($i)" 200
	echo "# an unrelated delivery answered in ${HTTP_TIME}s while the hostile filters run"
done
# The router follows the log in order: the unrelated events are routed
# after the hostile one, whose three programs may each use their 2 s of
# CPU time (wall time on a busy machine running sanitized builds: many
# seconds more). Their answers above are what must not wait.
check "the unrelated events ran" wait_for 60 has_runs "$T_DIR/quick" 3

check "the event's other workflow ran" wait_for 15 has_runs "$T_DIR/plain" 1
assert_eq "the slow filter's workflow did not run" 0 "$(runs_in "$T_DIR/slow")"
assert_eq "the spinning filter's workflow did not run" 0 "$(runs_in "$T_DIR/spin")"
# AddressSanitizer maps its shadow as it goes: a sanitized jq worker runs
# without an address-space ceiling (router/jqworker.c).
asan=
grep -q libasan "/proc/$(cat "$HOOKPIPE_HOME/run/router.pid")/maps" 2>/dev/null && asan=1
if [ -z "$asan" ]; then
	assert_eq "the greedy map's workflow did not run" 0 "$(runs_in "$T_DIR/greedy")"
else
	skip "the memory ceiling, with AddressSanitizer"
fi
show=$(hookpipe event show "$ev" 2>&1)
assert_contains "event show: the hostile payload's filter was stopped" \
    "the filter of a trigger was stopped" "$show"
assert_contains "event show: the spinning filter stopped at its time budget" \
    "time budget of 2000 ms" "$show"
[ -n "$asan" ] || assert_contains "event show: the map stopped at its memory ceiling" \
    "memory ceiling of 16 MiB" "$show"
slow=$(hookpipe runs --workflow slow --json)
assert_eq "the slow workflow's run is dead" dead "$(json 'd[0]["status"]' <<<"$slow")"
check "the router is up" hookpipectl status
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$(cat "$HOOKPIPE_HOME/run/router.pid")/status")
check "the router itself never held the payload's blow-up (${rss} kB)" \
    test "$rss" -lt 102400
grep -q "stopped" "$HOOKPIPE_HOME/log/router.log"
assert_eq "the router's log says why" 0 "$?"

# A budget is configuration: outside its range, the router refuses.
out=$(HOOKPIPE_JQ_MEMORY=12x hookpipe-router 2>&1)
assert_eq "a bad HOOKPIPE_JQ_MEMORY is a configuration error" 100 "$?"
assert_contains "naming the variable" HOOKPIPE_JQ_MEMORY "$out"
finish
