#!/usr/bin/env bash
# Per-workflow concurrency (at most N runs at once), a workflow with
# several trigger nodes fires once per event, the exec timeout kills the
# process group, and a full database answers 503 with Retry-After and
# stores nothing half-way.
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_MAP_SIZE=1048576	# 1 MiB, grown at most 16 times
export HOOKPIPE_MAX_BODY=2097152
start_stack
new_sub lim
sub=$SUB_ID

# --concurrency 1: each run notes its start and end; none may overlap.
mkdir -p "$T_DIR/conc"
hookpipe workflow create one-at-a-time --concurrency 1 \
    --exec "echo start \$(date +%s%N) >> $T_DIR/conc/log; sleep 0.4; echo end \$(date +%s%N) >> $T_DIR/conc/log" >/dev/null
hookpipe workflow trigger one-at-a-time --sub lim --event batch.completed >/dev/null
hookpipe workflow publish one-at-a-time >/dev/null
# Several triggers that all match one event: one run.
hookpipe workflow create twice --exec "$(recorder "$T_DIR/twice")" >/dev/null
hookpipe workflow trigger twice --sub lim --event batch.completed >/dev/null
hookpipe workflow trigger twice --sub lim --event batch.completed --filter '.type == "batch.completed"' >/dev/null
hookpipe workflow trigger twice --sub lim --event '*' >/dev/null 2>&1
hookpipe workflow publish twice >/dev/null
for i in 1 2 3; do
	deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
done
ends() { [ "$(grep -c '^end' "$T_DIR/conc/log" 2>/dev/null)" -ge 3 ]; }
check "the three runs finished" wait_for 20 ends
overlap=$(python3 - "$T_DIR/conc/log" <<'PY'
import sys
running = peak = 0
for line in open(sys.argv[1]):
    running += 1 if line.startswith("start") else -1
    peak = max(peak, running)
print(peak)
PY
)
assert_eq "--concurrency 1: never two runs at once" 1 "$overlap"
check "the multi-trigger workflow ran" wait_for 10 has_runs "$T_DIR/twice" 3
sleep 1
assert_eq "several matching triggers: one run per event" 3 "$(runs_in "$T_DIR/twice")"

# --timeout 1: the whole process group goes, grandchildren included.
hookpipe workflow create slow --timeout 1 --retries 0 \
    --exec "(sleep 3; echo survived > $T_DIR/survived) & sleep 30" >/dev/null
hookpipe workflow trigger slow --sub lim --event batch.failed >/dev/null
hookpipe workflow publish slow >/dev/null
deliver "$sub" "$SUB_SECRET" "$(payload batch.failed)"
dead_slow() { hookpipe runs --workflow slow --status dead --json | grep -q '"id"'; }
check "a run past its timeout is killed and dead" wait_for 15 dead_slow
assert_contains "its error says so" "timed out" \
    "$(hookpipe runs --workflow slow --json | json 'd[0]["history"][0]["error"]')"
sleep 3.5
check "its whole process group was killed (the background child too)" \
    test ! -e "$T_DIR/survived"

# A full database: 503 with Retry-After, never a half-stored event.
big=$T_DIR/big.json
python3 -c 'import json, sys; json.dump({"id": "evt_big", "object": "event", "type": "batch.completed", "created_at": 1, "data": {"blob": "x" * (1 << 20)}}, open(sys.argv[1], "w"))' "$big"
got503=0
for i in $(seq 1 40); do
	deliver "$sub" "$SUB_SECRET" "$big"
	if [ "$HTTP_STATUS" = 503 ]; then
		got503=1
		break
	fi
	[ "$HTTP_STATUS" = 200 ] || break
done
assert_eq "a full database answers 503" 1 "$got503"
assert_contains "with Retry-After" "Retry-After" "$HTTP_HEADERS"
check "the stage is still up" sh -c "curl -s -o /dev/null -w '%{http_code}' $BASE/healthz | grep -q 200"
check "and the stored events still read" sh -c "hookpipe events --limit 5 --json >/dev/null"
finish
