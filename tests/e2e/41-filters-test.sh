#!/usr/bin/env bash
# jq filters and maps on a real GitHub push payload; a broken program is
# refused at `workflow trigger`; `workflow test` captures an event for a
# draft workflow and exits, and times out with 1 when nothing comes.
. "$(dirname "$0")/lib.sh"

start_stack
secret=gh-secret
hookpipe sub create repo --integration github --secret "$secret" >/dev/null
sub=$(hookpipe sub show repo --json | json 'd["id"]')
push=$(sample github-push.json) || { skip "no github-push.json sample"; finish; }
ref=$(json 'd["ref"]' <"$push")

# Each push is a new one: GitHub never sends the same body as two
# deliveries, and hookpipe dedupes GitHub on the body too.
gh_push() {
	local file=$T_DIR/push.$RANDOM.json sig
	python3 -c 'import json, os, sys
d = json.load(open(sys.argv[1])); d["after"] = os.urandom(20).hex()
json.dump(d, open(sys.argv[2], "w"))' "$1" "$file"
	sig=$(openssl dgst -sha256 -hmac "$secret" <"$file" | sed 's/^.*= //')
	HTTP_STATUS=$(curl -s -o "$T_DIR/resp.body" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
	    -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" \
	    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "@$file" \
	    "$BASE/triggers/plugin/$sub")
}

# A broken program is refused with jq's message, and nothing is added.
hookpipe workflow create main-only --exec "$(recorder "$T_DIR/main")" >/dev/null
out=$(hookpipe workflow trigger main-only --sub repo --event push --filter '.ref ==' 2>&1)
rc=$?
assert_eq "a broken filter is refused (exit 1)" 1 "$rc"
assert_contains "with jq's message" "jq" "$out"
assert_eq "no trigger was added" 0 \
    "$(hookpipe workflow show main-only --json | json 'len(d["triggers"])')"
out=$(hookpipe workflow trigger main-only --sub repo --event push --map '{a:' 2>&1)
assert_eq "a broken map is refused" 1 "$?"

# The filter fires on the sample's own ref and not on another; the map
# makes the inputs.
hookpipe workflow trigger main-only --sub repo --event push \
    --filter ".ref == \"$ref\"" \
    --map '{branch: .ref, pusher: .pusher.name, commits: (.commits | length)}' >/dev/null
hookpipe workflow publish main-only >/dev/null
gh_push "$push"
assert_eq "push delivered" 200 "$HTTP_STATUS"
check "the filter fired" wait_for 15 has_runs "$T_DIR/main" 1
doc=$(cat "$(ls "$T_DIR"/main/*.json | head -n 1)")
assert_eq "the map made the inputs" \
    "$(json '{"branch": d["ref"], "pusher": d["pusher"]["name"], "commits": len(d["commits"])}' <"$push")" \
    "$(json 'd["inputs"]' <<<"$doc")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["ref"]="refs/heads/elsewhere"; json.dump(d, open(sys.argv[2],"w"))' "$push" "$T_DIR/other.json"
gh_push "$T_DIR/other.json"
assert_eq "another branch delivered" 200 "$HTTP_STATUS"
sleep 2
assert_eq "the filter did not fire for another branch" 1 "$(runs_in "$T_DIR/main")"

# A filter that errors on the event counts as no match; the stage lives.
hookpipe workflow create erring --exec "$(recorder "$T_DIR/err")" >/dev/null
hookpipe workflow trigger erring --sub repo --event push --filter '.ref | tonumber' >/dev/null
hookpipe workflow publish erring >/dev/null
gh_push "$push"
sleep 2
assert_eq "an erroring filter does not run" 0 "$(runs_in "$T_DIR/err")"
check "the router is still up" hookpipectl status

# workflow test: a draft captures the next event, runs once, exits 0.
hookpipe workflow create draft-wf --exec "$(recorder "$T_DIR/draft")" >/dev/null
hookpipe workflow trigger draft-wf --sub repo --event push >/dev/null
gh_push "$push"
sleep 1.5
assert_eq "a draft does not run while nobody listens" 0 "$(runs_in "$T_DIR/draft")"
hookpipe workflow test draft-wf --timeout 20 >"$T_DIR/test.out" 2>&1 &
tpid=$!
wait_for 10 sh -c "hookpipe workflow show draft-wf | grep -q listening"
gh_push "$push"
wait "$tpid"
rc=$?
assert_eq "workflow test exits 0 after the run" 0 "$rc"
assert_contains "it prints the event's output variables" "\"ref\"" "$(cat "$T_DIR/test.out")"
assert_contains "and the run's result" succeeded "$(cat "$T_DIR/test.out")"
assert_eq "the draft ran once" 1 "$(runs_in "$T_DIR/draft")"
gh_push "$push"
sleep 1.5
assert_eq "listening ends after one event" 1 "$(runs_in "$T_DIR/draft")"

# Nothing comes: exit 1 at the timeout.
start=$(date +%s)
hookpipe workflow test draft-wf --timeout 2 >/dev/null 2>&1
rc=$?
assert_eq "workflow test times out with 1" 1 "$rc"
check "after about the timeout" test $(($(date +%s) - start)) -le 6
finish
