#!/usr/bin/env bash
# `hookpipe send` signs like OpenAI and posts to the callback URL: the
# event goes all the way through.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub sender
sub=$SUB_ID
new_workflow wf sender batch.completed "$T_DIR/runs"

if s=$(sample openai-batch.completed.json); then
	out=$(hookpipe send sender --event batch.completed --file "$s" 2>&1)
	check "hookpipe send --file exits 0" test $? -eq 0
	echo "$out" | sed 's/^/# /'
	check "the sent event ran" wait_for 15 has_runs "$T_DIR/runs" 1
	doc=$(cat "$T_DIR"/runs/*.json | head -n 1)
	assert_eq "the run's inputs are the file" "$(json 'd' <"$s")" \
	    "$(json 'd["inputs"]' <<<"$doc")"
else
	skip "hookpipe send --file with a published sample (no $SAMPLES)"
	payload batch.completed >/dev/null
	check "hookpipe send --file exits 0" \
	    hookpipe send sender --event batch.completed --file "$T_DIR/batch.completed.json"
	check "the sent event ran" wait_for 15 has_runs "$T_DIR/runs" 1
fi
check "hookpipe send without --file exits 0" hookpipe send "$sub" --event batch.completed
check "that event ran too" wait_for 15 has_runs "$T_DIR/runs" 2
out=$(hookpipe send sender --event batch.completed --json 2>/dev/null)
check "hookpipe send --json prints JSON" json 'd' <<<"$out"
check "and that event ran" wait_for 15 has_runs "$T_DIR/runs" 3
hookpipe send no-such-sub --event batch.completed >/dev/null 2>&1
assert_eq "send to an unknown subscription exits 1" 1 "$?"
sleep 0.5
assert_eq "three sends, three runs" 3 "$(runs_in "$T_DIR/runs")"

# A Svix sender (Clerk): the same scheme under svix-* headers, whose
# svix-id is the delivery id.
hookpipe sub create clerk-sender --integration clerk --generate-secret \
    >/dev/null 2>&1
check "hookpipe send to a clerk subscription exits 0" \
    hookpipe send clerk-sender --event user.created
assert_eq "it is stored with its svix-id as the delivery id" "user.created msg_" \
    "$(hookpipe events --sub clerk-sender --json |
    json '" ".join([d[0]["type"], d[0]["delivery_id"][:4]])')"
finish
