#!/usr/bin/env bash
# `hookpipe key rotate` is crash- and race-safe: 20 rotations while CLI
# commands open the database in loops, another command keeps writing new
# secrets, stages restart, and some rotations are killed with SIGKILL at
# random moments. Afterwards every secret reads back and valid deliveries
# verify. Then key files that hold other keys: the dispatcher's attempt
# says so, and a replay works once they are right again.
. "$(dirname "$0")/lib.sh"

start_stack
declare -A secret id
for n in a b c; do
	new_sub "rot-$n"
	secret[$n]=$SUB_SECRET
	id[$n]=$SUB_ID
done
new_workflow wf rot-a batch.completed "$T_DIR/runs"
# An http action's header is sealed too: it must reach the sink after.
python3 "$ROOT/tests/e2e/helpers/sink.py" "$T_DIR/sink.port" "$T_DIR/sink.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/sink.port" || { not_ok "the sink starts"; finish; }
tok=tok-$RANDOM$RANDOM
hookpipe workflow create hook --http "http://127.0.0.1:$(cat "$T_DIR/sink.port")/ok" \
    --header "Authorization: Bearer $tok" >/dev/null
hookpipe workflow trigger hook --sub rot-b --event batch.completed >/dev/null
hookpipe workflow publish hook >/dev/null

stop_loops=$T_DIR/stop
# Readers: every command opens the database (and, before, deleted a
# rotation's pending key).
(
	while [ ! -e "$stop_loops" ]; do
		hookpipe sub list >/dev/null 2>&1
		hookpipe sub show rot-b --reveal >/dev/null 2>&1
	done
) &
loops=($!)
# A writer: secondary secrets sealed while rotations run; the last one
# written is what must read back.
(
	i=0
	while [ ! -e "$stop_loops" ]; do
		i=$((i + 1))
		hookpipe sub edit rot-c --secondary-secret "second-$i" \
		    >/dev/null 2>&1 && echo "second-$i" >"$T_DIR/second"
	done
) &
loops+=($!)
# Stage restarts: each opens the database at start.
(
	while [ ! -e "$stop_loops" ]; do
		hookpipectl restart router >/dev/null 2>&1
		sleep 0.3
		hookpipectl restart verifier >/dev/null 2>&1
		sleep 0.3
	done
) &
loops+=($!)

ok_rot=0
killed=0
for i in $(seq 1 20); do
	if [ $((i % 3)) = 0 ]; then
		# Cut off at a random moment, from at once to after the end.
		hookpipe key rotate >/dev/null 2>&1 &
		p=$!
		sleep "0.0$((RANDOM % 10))"
		kill -KILL "$p" 2>/dev/null && killed=$((killed + 1))
		wait "$p" 2>/dev/null
	elif hookpipe key rotate >"$T_DIR/rot.out" 2>&1; then
		ok_rot=$((ok_rot + 1))
	else
		not_ok "rotation $i" "$(cat "$T_DIR/rot.out")"
	fi
done
: >"$stop_loops"
for p in "${loops[@]}"; do
	wait "$p" 2>/dev/null
done
echo "# $ok_rot rotations completed, $killed killed"
assert_eq "every uninterrupted rotation succeeded" 14 "$ok_rot"
check "the stack is up" wait_for 15 hookpipectl status

for n in a b c; do
	assert_eq "secret of rot-$n reads back" "${secret[$n]}" \
	    "$(hookpipe sub show "rot-$n" --reveal --json | json 'd["secret"]')"
done
if [ -f "$T_DIR/second" ]; then
	assert_eq "the last secondary secret written reads back" \
	    "$(cat "$T_DIR/second")" \
	    "$(hookpipe sub show rot-c --reveal --json | json 'd["secondary_secret"]')"
fi
for n in a b c; do
	deliver "${id[$n]}" "${secret[$n]}" "$(payload batch.completed)"
	assert_status "a delivery to rot-$n verifies" 200
done
check "the workflow ran" wait_for 15 has_runs "$T_DIR/runs" 1
check "the http action's sealed header reached the sink" wait_for 15 \
    grep -q "Bearer $tok" "$T_DIR/sink.log"

# The master key files replaced by other keys under a dispatcher that
# starts (a host that rotated on its own): the http action's attempt
# fails and says why, nothing is sent with its header missing; once the
# right files are back, a replay reaches the sink without a restart.
mkdir "$T_DIR/keys"
for f in "$HOOKPIPE_HOME"/master.key*; do
	case $f in *.lock | *.tmp) continue ;; esac
	cp -p "$f" "$T_DIR/keys/" && head -c 32 /dev/urandom >"$f"
done
check "the dispatcher restarts" hookpipectl restart dispatcher
sent=$(wc -l <"$T_DIR/sink.log")
deliver "${id[b]}" "${secret[b]}" "$(payload batch.completed)"
assert_status "a delivery to rot-b (its verifier has the key)" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
hook_dead() {
	hookpipe runs --workflow hook --event "$ev" --json 2>/dev/null |
	    grep -q '"dead"'
}
check "the run ends dead" wait_for 15 hook_dead
assert_contains "its error names the key that does not open" \
    "does not open it" "$(hookpipe runs --workflow hook --event "$ev" --json)"
assert_eq "nothing reached the sink" "$sent" "$(wc -l <"$T_DIR/sink.log")"
cp -p "$T_DIR"/keys/master.key* "$HOOKPIPE_HOME/"
check "replay with the right key files back" \
    hookpipe replay "$ev" --workflow hook
# Counted at each try of the wait (a $(...) in its arguments would be
# counted once, before the replay's attempt).
sink_has_more() {
	[ "$(grep -c "Bearer $tok" "$T_DIR/sink.log")" -gt "$sent" ]
}
check "the replay's action reached the sink with its header" wait_for 15 \
    sink_has_more

# Old keys are retired once nothing uses them: a few files, not 20.
nkeys=$(find "$HOOKPIPE_HOME" -maxdepth 1 -name 'master.key*' ! -name '*.lock' | wc -l)
check "old master keys were retired ($nkeys left)" test "$nkeys" -le 3
finish
