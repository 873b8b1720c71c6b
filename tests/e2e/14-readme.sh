#!/usr/bin/env bash
# The README's five-minute walk-through, command by command, as written
# (only the stack runs in a scratch directory on a free port, and the
# action writes to a scratch file).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

readme=$ROOT/README.md
cmds=$(python3 - "$readme" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^## Five minutes.*?$(.*?)^## ", text, re.S | re.M)
for block in re.findall(r"```sh\n(.*?)```", m.group(1) if m else "", re.S):
    for line in block.splitlines():
        line = line.split("  #")[0].strip()
        if line and not line.startswith("#"):
            print(line)
PY
)
check "the README has a walk-through" test -n "$cmds"

start_stack
run_file=$T_DIR/hookpipe-run.json
cd "$ROOT" || exit 1
while IFS= read -r cmd; do
	case $cmd in
	"make run" | "export PATH="*) continue ;;	# done by start_stack, lib.sh
	esac
	cmd=${cmd//\/tmp\/hookpipe-run.json/$run_file}
	if [[ $cmd == *EVENT_ID* ]]; then
		id=$(hookpipe events --json | json 'd[0]["id"]')
		cmd=${cmd//EVENT_ID/$id}
	fi
	if [[ $cmd == "cat $run_file" ]]; then
		wait_for 15 test -s "$run_file"
	fi
	if [[ $cmd == "hookpipe runs" ]]; then
		# Give the run a moment to finish, as a reader would.
		wait_for 15 sh -c "hookpipe runs --json | grep -q succeeded"
	fi
	out=$(bash -c "$cmd" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "README: $cmd"
	else
		not_ok "README: $cmd" "exit $rc" "$out"
		continue
	fi
	echo "$out" | head -n 20 | sed 's/^/#   /'
	case $cmd in
	"hookpipe sub create"*)
		sub=$(hookpipe sub show my-openai --json | json 'd["id"]')
		assert_contains "sub create prints the id" "$sub" "$out"
		assert_contains "sub create prints the callback URL" \
		    "$TRIGGER_URL/triggers/plugin/$sub" "$out"
		assert_contains "sub create prints the secret" whsec_ "$out"
		;;
	"hookpipe send"*)
		assert_contains "send prints the event id" \
		    "$(hookpipe events --json | json 'd[0]["id"]')" "$out"
		;;
	"hookpipe runs")
		assert_contains "runs shows the run succeeded" succeeded "$out"
		;;
	"cat $run_file")
		assert_eq "the run document is the event's" batch.completed \
		    "$(json 'd["trigger"]["event"]' <<<"$out")"
		;;
	"hookpipe event show"*)
		assert_contains "event show shows the payload" batch_abc123 "$out"
		;;
	esac
done <<<"$cmds"
finish
