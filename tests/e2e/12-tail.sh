#!/usr/bin/env bash
# `hookpipectl tail STAGE` prints what the stage emits, one JSON line per
# message, and never a secret.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub tapped
sub=$SUB_ID
secret=$SUB_SECRET
new_workflow wf tapped batch.completed "$T_DIR/runs"

# tail_until STAGE FILE [--payload]: starts the tail and sends events
# until it has printed a line (a subscription takes a moment to reach the
# publisher).
tail_until() {
	hookpipectl tail "$1" ${3:+"$3"} >"$2" 2>"$2.err" &
	BG_PIDS+=($!)
	local _
	for _ in $(seq 1 40); do
		deliver "$sub" "$secret" "$(payload batch.completed)"
		if wait_for 0.5 test -s "$2"; then
			return 0
		fi
	done
	return 1
}

for stage in verifier router dispatcher; do
	f=$T_DIR/tail.$stage
	if ! tail_until "$stage" "$f"; then
		not_ok "hookpipectl tail $stage prints a line" "$(cat "$f.err")"
		continue
	fi
	ok "hookpipectl tail $stage prints a line"
	sleep 0.3
	check "tail $stage: every line is a JSON object" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    assert isinstance(json.loads(line), dict), line' "$f"
	assert_not_contains "tail $stage: never the secret" "${secret#whsec_}" "$(cat "$f")"
	assert_not_contains "tail $stage: never the signature" "v1," "$(cat "$f")"
done

f=$T_DIR/tail.payload
if tail_until verifier "$f" --payload; then
	ok "hookpipectl tail verifier --payload prints a line"
	sleep 0.3
	assert_contains "tail --payload: the payload is there" batch_ "$(cat "$f")"
	assert_not_contains "tail --payload: never the secret" "${secret#whsec_}" "$(cat "$f")"
else
	not_ok "hookpipectl tail verifier --payload prints a line" "$(cat "$f.err")"
fi
f=$T_DIR/tail.receiver
if tail_until receiver "$f"; then
	ok "hookpipectl tail receiver prints a line"
	sleep 0.3
	assert_not_contains "tail receiver: never the secret" "${secret#whsec_}" "$(cat "$f")"
	assert_not_contains "tail receiver: never the signature" "v1," "$(cat "$f")"
else
	not_ok "hookpipectl tail receiver prints a line" "$(cat "$f.err")"
fi
for s in receiver verifier router dispatcher; do
	assert_not_contains "the $s log never holds the secret" "${secret#whsec_}" \
	    "$(cat "$HOOKPIPE_HOME/log/$s.log")"
done
hookpipectl tail nowhere >/dev/null 2>&1
assert_eq "tail of an unknown stage exits 2" 2 "$?"
finish
