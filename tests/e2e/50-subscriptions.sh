#!/usr/bin/env bash
# Subscriptions created for the user against a fake GitHub: API keys,
# OAuth (with a reused or expired state refused), remote hooks created,
# edited and deleted, failed remote calls leaving nothing behind, the
# limit of 10 also under 20 concurrent creations, workspaces isolated,
# no secret in clear anywhere in HOOKPIPE_HOME, and key rotation.
. "$(dirname "$0")/lib.sh"

python3 "$ROOT/tests/e2e/helpers/fake_github.py" "$T_DIR/gh.port" "$T_DIR/gh.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/gh.port" || { not_ok "the fake GitHub starts"; finish; }
export HOOKPIPE_GITHUB_API=http://127.0.0.1:$(cat "$T_DIR/gh.port")
export HOOKPIPE_GITHUB_WEB=$HOOKPIPE_GITHUB_API
start_stack

# calls METHOD PATH: how many such calls the fake GitHub got.
calls() {
	python3 - "$T_DIR/gh.log" "$1" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    c = json.loads(line)
    if c["method"] == sys.argv[2] and c["path"].split("?")[0] == sys.argv[3]:
        n += 1
print(n)
PY
}
last_call() {
	python3 - "$T_DIR/gh.log" "$1" "$2" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    c = json.loads(line)
    if c["method"] == sys.argv[2] and c["path"].split("?")[0] == sys.argv[3]:
        last = c
print(json.dumps(last))
PY
}

# --- API keys ----------------------------------------------------------
out=$(hookpipe cred add bad --integration github --api-key wrong-token 2>&1)
assert_eq "a bad API key is refused (exit 1)" 1 "$?"
assert_contains "saying what GitHub answered" 401 "$out"
assert_eq "a refused key is not stored" 0 "$(hookpipe cred list --json | json 'len(d)')"
check "cred add with a good key" hookpipe cred add gh --integration github --api-key good-token
c=$(last_call GET /user)
assert_eq "the key was checked with GET /user" "Bearer good-token" \
    "$(json 'd["headers"]["authorization"]' <<<"$c")"
list=$(hookpipe cred list)
assert_not_contains "cred list masks the key" good-token "$list"
assert_contains "cred list shows the login" octocat "$list"

# --- a repository hook through the API key -----------------------------------
out=$(hookpipe sub create app --integration github --mode api-key --credential gh \
    --param repository=acme/app --events push,pull_request --json 2>&1)
assert_eq "sub create --mode api-key" 0 "$?"
sub=$(json 'd["id"]' <<<"$out")
url=$(json 'd["callback_url"]' <<<"$out")
c=$(last_call POST /repos/acme/app/hooks)
body=$(json 'd["body"]' <<<"$c")
assert_eq "hook: config.url is the callback URL" "$url" "$(json 'd["config"]["url"]' <<<"$body")"
assert_eq "hook: content_type json" json "$(json 'd["config"]["content_type"]' <<<"$body")"
assert_eq "hook: the events" '["push", "pull_request"]' "$(json 'd["events"]' <<<"$body")"
secret=$(json 'd["config"]["secret"]' <<<"$body")
check "hook: a generated secret" test -n "$secret"
assert_eq "hook: the API key authorizes the call" "Bearer good-token" \
    "$(json 'd["headers"]["authorization"]' <<<"$c")"
assert_eq "the subscription verifies with the secret it sent" "$secret" \
    "$(hookpipe sub show app --reveal --json | json 'd["secret"]')"
show=$(hookpipe sub show app --json)
assert_eq "sub show: mode" api-key "$(json 'd["mode"]' <<<"$show")"
assert_not_contains "sub show masks the secret" "$secret" "$show"

# A failed remote call leaves nothing behind and says what GitHub said.
out=$(hookpipe sub create gone --integration github --mode api-key --credential gh \
    --param repository=acme/missing 2>&1)
assert_eq "a failed remote call exits 1" 1 "$?"
assert_contains "with GitHub's answer" 404 "$out"
assert_eq "and no local subscription" false \
    "$(hookpipe sub list --json | json 'any(s["name"] == "gone" for s in d)')"
out=$(hookpipe sub create ro --integration github --mode api-key --credential gh \
    --param repository=acme/archived 2>&1)
assert_eq "a 422 from GitHub exits 1" 1 "$?"
assert_contains "quoting GitHub's validation message" "archived" "$out"
assert_eq "and no local subscription either" false \
    "$(hookpipe sub list --json | json 'any(s["name"] == "ro" for s in d)')"
out=$(hookpipe sub create noparam --integration github --mode api-key --credential gh 2>&1)
assert_eq "a missing --param is refused" 1 "$?"

# An organisation hook.
check "sub create --param org=" hookpipe sub create org --integration github \
    --mode api-key --credential gh --param org=acme
assert_eq "POST /orgs/acme/hooks" 1 "$(calls POST /orgs/acme/hooks)"

# Edit the events: the remote hook follows.
check "sub edit --events" hookpipe sub edit app --events push
c=$(python3 - "$T_DIR/gh.log" <<'PY'
import json, sys
print(json.dumps([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["method"] == "PATCH"][-1]))
PY
)
assert_contains "PATCH the repository's hook" /repos/acme/app/hooks/ "$(json 'd["path"]' <<<"$c")"
assert_eq "with the new events" '["push"]' "$(json 'd["body"]' <<<"$c" | json 'd["events"]')"

# The credential is in use: it cannot go.
out=$(hookpipe cred delete gh 2>&1)
assert_eq "cred delete refuses while subscriptions use it" 1 "$?"

# Delete: the remote hook goes too; a hook already gone is no error.
check "sub delete app" hookpipe sub delete app
assert_eq "DELETE the repository's hook" 1 \
    "$(grep -c '"method": "DELETE", "path": "/repos/acme/app/hooks/' "$T_DIR/gh.log")"
hookpipe sub create app2 --integration github --mode api-key --credential gh \
    --param repository=acme/app >/dev/null
# Remove it behind hookpipe's back, then delete the subscription.
rid=$(hookpipe sub show app2 --json | json 'd.get("remote_id", "")')
[ -n "$rid" ] && curl -s -X DELETE -H 'Authorization: Bearer good-token' \
    "$HOOKPIPE_GITHUB_API/repos/acme/app/hooks/$rid" >/dev/null
check "a hook already gone (404) does not stop sub delete" hookpipe sub delete app2
hookpipe sub delete org >/dev/null
check "cred delete once unused" hookpipe cred delete gh

# --- OAuth ---------------------------------------------------------------
check "oauth client set" hookpipe oauth client set --integration github \
    --client-id cid --client-secret csecret
out=$(hookpipe oauth authorize --integration github --name gho --json)
aurl=$(json 'd["url"]' <<<"$out")
state=$(json 'd["state"]' <<<"$out")
assert_contains "the authorize URL is GitHub's" "$HOOKPIPE_GITHUB_WEB/login/oauth/authorize?" "$aurl"
assert_contains "with the client id" "client_id=cid" "$aurl"
assert_contains "and the state" "state=$state" "$aurl"
assert_contains "and a PKCE challenge (S256)" "code_challenge_method=S256" "$aurl"
challenge=$(python3 -c 'import sys, urllib.parse
q = urllib.parse.parse_qs(urllib.parse.urlsplit(sys.argv[1]).query)
print(q["code_challenge"][0])' "$aurl")
cb="$BASE/oauth/github/callback"
code=$(curl -s -o "$T_DIR/cb.html" -w '%{http_code}' "$cb?code=good-code&state=$state")
assert_eq "the callback stores the token" 200 "$code"
assert_contains "and says so" gho "$(cat "$T_DIR/cb.html")"
assert_eq "the exchange went to /login/oauth/access_token" 1 \
    "$(calls POST /login/oauth/access_token)"
verifier=$(last_call POST /login/oauth/access_token | json 'd["body"]' |
    python3 -c 'import sys, urllib.parse
print(urllib.parse.parse_qs(sys.stdin.read().strip())["code_verifier"][0])')
assert_eq "the exchange sent the verifier of that challenge" "$challenge" \
    "$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 -w0 |
    tr '+/' '-_' | tr -d '=')"
out=$(hookpipe oauth authorize --integration github --name gho 2>&1)
assert_eq "authorizing an existing credential again needs --replace" 1 "$?"
assert_contains "and says so" "--replace" "$out"
# A credential of that name made meanwhile is kept: no silent replacement.
state=$(hookpipe oauth authorize --integration github --name race --json | json 'd["state"]')
hookpipe cred add race --integration github --api-key good-token >/dev/null
code=$(curl -s -o "$T_DIR/cb.html" -w '%{http_code}' "$cb?code=good-code&state=$state")
assert_eq "a callback for a name taken meanwhile is refused" 409 "$code"
assert_eq "the credential made meanwhile is kept" api-key \
    "$(hookpipe cred list --json | json '[c["kind"] for c in d if c["name"] == "race"][0]')"
state=$(hookpipe oauth authorize --integration github --name race --replace --json | json 'd["state"]')
code=$(curl -s -o /dev/null -w '%{http_code}' "$cb?code=good-code&state=$state")
assert_eq "with --replace the callback replaces it" 200 "$code"
assert_eq "now an OAuth token" oauth \
    "$(hookpipe cred list --json | json '[c["kind"] for c in d if c["name"] == "race"][0]')"
hookpipe cred delete race >/dev/null
# Unknown states cost no write transaction (anyone can send them): while
# another process holds LMDB's writer lock (mdb_load, in the middle of its
# input), the receiver still refuses them at once.
if command -v mdb_load >/dev/null 2>&1; then
	{ printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 6b\n 76\n'
	  sleep 6; printf 'DATA=END\n'; } |
	    mdb_load -s scratch "$HOOKPIPE_HOME/db/config" &
	loader=$!
	sleep 1
	code=$(curl -s -m 4 -o /dev/null -w '%{http_code}' "$cb?code=x&state=unknown")
	assert_eq "an unknown state, while the writer lock is held" 400 "$code"
	wait "$loader"
else
	skip "mdb_load (lmdb-utils) is not installed"
fi
creds=$(hookpipe cred list --json)
assert_eq "credential gho is an OAuth token" oauth \
    "$(json '[c["kind"] for c in d if c["name"] == "gho"][0]' <<<"$creds")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$cb?code=good-code&state=$state")
assert_eq "a reused state is refused" 400 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$cb?code=good-code&state=nosuchstate")
assert_eq "an unknown state is refused" 400 "$code"
state=$(HOOKPIPE_OAUTH_TTL=1 hookpipe oauth authorize --integration github --name late --json | json 'd["state"]')
sleep 2
code=$(curl -s -o "$T_DIR/cb.html" -w '%{http_code}' "$cb?code=good-code&state=$state")
assert_eq "an expired state is refused" 400 "$code"
assert_contains "saying it expired" expired "$(cat "$T_DIR/cb.html")"
state=$(hookpipe oauth authorize --integration github --name bad --json | json 'd["state"]')
code=$(curl -s -o "$T_DIR/cb.html" -w '%{http_code}' "$cb?code=wrong&state=$state")
assert_eq "a code GitHub refuses" 502 "$code"
assert_contains "saying what GitHub answered" "incorrect or expired" "$(cat "$T_DIR/cb.html")"
check "sub create --mode oauth" hookpipe sub create viaoauth --integration github \
    --mode oauth --credential gho --param repository=acme/web
c=$(last_call POST /repos/acme/web/hooks)
assert_eq "the OAuth token authorizes the call" "Bearer oauth-token-1" \
    "$(json 'd["headers"]["authorization"]' <<<"$c")"

# --- limits and workspaces -------------------------------------------------
for i in $(seq 1 10); do
	hookpipe --workspace lim sub create "s$i" --integration openai >/dev/null 2>&1
done
out=$(hookpipe --workspace lim sub create s11 --integration openai 2>&1)
assert_eq "the 11th subscription is refused" 1 "$?"
assert_contains "with a clear error" 10 "$out"
check "another integration still can" hookpipe --workspace lim sub create gh1 --integration github
check "another workspace still can" hookpipe --workspace other sub create s1 --integration openai
assert_eq "workspaces are isolated" 1 "$(hookpipe --workspace other sub list --json | json 'len(d)')"
pids=()
for i in $(seq 1 20); do
	hookpipe --workspace race sub create "r$i" --integration openai >/dev/null 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
assert_eq "20 concurrent creations yield exactly 10" 10 \
    "$(hookpipe --workspace race sub list --json | json 'len(d)')"

# --- secrets at rest -----------------------------------------------------------
new_sub plain-check
sec=$SUB_SECRET
found=$(grep -rlaF -e good-token -e oauth-token-1 -e csecret -e "$secret" -e "$sec" \
    "$HOOKPIPE_HOME" --exclude-dir=t 2>/dev/null)
assert_eq "no secret or token in clear in HOOKPIPE_HOME" "" "$found"

# --- key rotation ----------------------------------------------------------------
before=$(od -An -tx1 "$HOOKPIPE_HOME/master.key" | tr -d ' \n')
check "key rotate" hookpipe key rotate
after=$(od -An -tx1 "$HOOKPIPE_HOME/master.key" | tr -d ' \n')
check "the master key changed" test "$before" != "$after"
deliver "$SUB_ID" "$sec" "$(payload batch.completed)"
assert_status "deliveries still verify after a rotation (no restart)" 200
assert_eq "secrets still reveal after a rotation" "$sec" \
    "$(hookpipe sub show plain-check --reveal --json | json 'd["secret"]')"
check "credentials still readable" sh -c "hookpipe cred list | grep -q gho"
finish
