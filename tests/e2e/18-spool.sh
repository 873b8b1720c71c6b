#!/usr/bin/env bash
# The verifier's spool drain: 300 deliveries spooled for an integration
# whose definition is then removed wait with a next-try time (the
# verifier starts, stays quiet, stops on SIGTERM), and run once the
# definition is back; an entry nothing can decode is quarantined, shown,
# retried and dropped with `hookpipe spool`.
. "$(dirname "$0")/lib.sh"

mkdir -p "$HOOKPIPE_HOME/integrations"
sed 's/"name": *"openai"/"name": "myhook"/' "$ROOT/integrations/openai.json" \
    >"$HOOKPIPE_HOME/integrations/myhook.json"
start_stack
out=$(hookpipe sub create mine --integration myhook --generate-secret --json)
sub=$(json 'd["id"]' <<<"$out")
secret=$(json 'd["secret"]' <<<"$out")
new_workflow wf mine batch.completed "$T_DIR/runs"

hookpipectl stop verifier >/dev/null
assert_eq "300 deliveries spooled while the verifier is away" '{"202": 300}' \
    "$(node "$ROOT/tests/e2e/helpers/burst.js" "$BASE/triggers/plugin/$sub" \
    "$secret" 300 | json 'd')"
assert_eq "spool list shows them waiting" 300 \
    "$(hookpipe spool list --json | json 'len([e for e in d if e["state"] == "waiting"])')"

# The definition goes; the verifier comes back a few seconds later (an
# entry's next try is half its age away, at least a second).
rm "$HOOKPIPE_HOME/integrations/myhook.json"
sleep 4
check "the verifier starts and is ready" hookpipectl start
sleep 3
size=$(stat -c %s "$HOOKPIPE_HOME/log/verifier.log")
check "its log stays small ($size bytes)" test "$size" -lt 200000
assert_eq "the deliveries wait for their integration" 300 \
    "$(hookpipe spool list --json | json 'len([e for e in d if e["state"] == "waiting"])')"
check "with next-try times growing with their age" sh -c \
    "hookpipe spool list --json | python3 -c 'import json,sys,datetime
d = json.load(sys.stdin)
now = datetime.datetime.now(datetime.timezone.utc)
due = [datetime.datetime.fromisoformat(e[\"due_at\"].replace(\"Z\", \"+00:00\")) for e in d]
sys.exit(0 if max(due) > now + datetime.timedelta(seconds=2) else 1)'"
t0=$(date +%s%N)
check "SIGTERM stops the verifier" hookpipectl stop verifier
t1=$(date +%s%N)
check "promptly ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 5000

# The definition is back: every delivery is verified and runs once.
sed 's/"name": *"openai"/"name": "myhook"/' "$ROOT/integrations/openai.json" \
    >"$HOOKPIPE_HOME/integrations/myhook.json"
hookpipectl start >/dev/null
check "all 300 ran" wait_for 120 has_runs "$T_DIR/runs" 300
check "the spool is empty" wait_for 10 sh -c \
    "hookpipe spool list --json | python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)))'"

# An entry nothing can decode: quarantined, not retried in a loop.
if command -v mdb_load >/dev/null 2>&1; then
	key=$(printf '%016x' "$(($(date +%s) * 1000000))")$(printf '%s' \
	    01a00000-0000-7000-8000-00000000beef | od -An -tx1 -v | tr -d ' \n')
	printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n' \
	    "$key" "$(printf 'not a message' | od -An -tx1 -v | tr -d ' \n')" |
	    mdb_load -s spool "$HOOKPIPE_HOME/db/spool"
	check "the damaged entry is quarantined" wait_for 10 sh -c \
	    "hookpipe spool list --quarantined --json | grep -q quarantined"
	show=$(hookpipe spool show 01a00000-0000-7000-8000-00000000beef 2>&1)
	assert_contains "spool show says why" "cannot decode" "$show"
	lines=$(wc -l <"$HOOKPIPE_HOME/log/verifier.log")
	check "spool retry puts it back" hookpipe spool retry 01a00000
	check "and it is quarantined again" wait_for 10 sh -c \
	    "hookpipe spool list --quarantined --json | grep -q quarantined"
	sleep 2
	after=$(wc -l <"$HOOKPIPE_HOME/log/verifier.log")
	check "once, not in a loop ($((after - lines)) log lines)" \
	    test $((after - lines)) -lt 10
	check "spool drop removes it" hookpipe spool drop 01a00000-0000-7000-8000-00000000beef
	assert_eq "the spool is empty" "[]" "$(hookpipe spool list --json | tr -d ' \n')"
	out=$(hookpipe spool drop 2>&1)
	assert_eq "drop without an id is a usage error" 2 "$?"
else
	skip "mdb_load (lmdb-utils) is not installed"
fi
check "the receiver still answers" curl -sf -m 5 "$BASE/healthz"
finish
