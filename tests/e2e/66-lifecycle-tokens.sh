#!/usr/bin/env bash
# OAuth tokens that look after themselves, against a fake GitLab: the
# refresh token and expiry from the authorization are kept; a token near
# its expiry is refreshed before it is used; a token refused with 401 is
# refreshed once and the call made again; a refresh the provider refuses
# marks the credential needs-reauthorization (cred list, sub show, the
# command to fix it) and sends credential.needs_reauthorization, an event
# of the hookpipe integration that runs a workflow.
. "$(dirname "$0")/lib.sh"

export TOKEN_TTL=3600
python3 "$ROOT/tests/e2e/helpers/fake_providers.py" "$T_DIR/fp.port" "$T_DIR/fp.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/fp.port" || { not_ok "the fake providers start"; finish; }
F=http://127.0.0.1:$(cat "$T_DIR/fp.port")
export HOOKPIPE_GITLAB_API=$F/gitlab HOOKPIPE_GITLAB_WEB=$F
export HOOKPIPE_LIFECYCLE_INTERVAL=2
start_stack

refreshes() { grep -c 'grant_type=refresh_token' "$T_DIR/fp.log"; }
cred() { hookpipe cred list --json | json "[c for c in d if c[\"name\"] == \"gl\"][0][\"$1\"]"; }

hookpipe oauth client set --integration gitlab --client-id cid --client-secret csecret >/dev/null
state=$(hookpipe oauth authorize --integration gitlab --name gl --json | json 'd["state"]')
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/oauth/gitlab/callback?code=good-code&state=$state")
assert_eq "the authorization is stored" 200 "$code"
assert_eq "with its refresh token" true "$(cred refreshable)"
assert_contains "and its expiry" T "$(cred expires_at)"
assert_not_contains "the refresh token is not in clear in HOOKPIPE_HOME" refresh- \
    "$(grep -rao 'refresh-[0-9a-f]*' "$HOOKPIPE_HOME/db" | head -1)"

# --- refreshed before use, when it expires within HOOKPIPE_REFRESH_BEFORE ----
exp0=$(cred expires_at)
out=$(HOOKPIPE_REFRESH_BEFORE=7200 hookpipe sub create code --integration gitlab \
    --mode oauth --credential gl --param project=acme/app 2>&1)
assert_eq "sub create with a token about to expire" 0 "$?"
assert_eq "the token was refreshed first" 1 "$(refreshes)"
assert_not_contains "to a new expiry" "$exp0" "$(cred expires_at)"

# --- a 401: refreshed once, and the call made again -----------------------
curl -s -X POST "$F/_admin/revoke" >/dev/null
out=$(hookpipe sub edit code --events push 2>&1)
assert_eq "sub edit after the provider revoked the token" 0 "$?"
assert_eq "a 401 made one refresh" 2 "$(refreshes)"
assert_eq "and the edit reached GitLab" true \
    "$(curl -s -X POST "$F/_admin/hooks/gitlab" | json 'list(d.values())[0]["push_events"]')"

# --- a refresh refused ---------------------------------------------------------
check "a hookpipe subscription for hookpipe's own events" \
    hookpipe sub create alerts --integration hookpipe --generate-secret
new_workflow alert alerts credential.needs_reauthorization "$T_DIR/alert"
curl -s -X POST "$F/_admin/refuse-refresh" >/dev/null
out=$(hookpipe cred refresh gl 2>&1)
assert_eq "cred refresh refused by the provider exits 1" 1 "$?"
assert_contains "saying how to fix it" "hookpipe oauth authorize --integration gitlab --name gl" "$out"
assert_eq "the credential needs reauthorization" needs-reauthorization "$(cred state)"
assert_eq "sub show says so too" needs-reauthorization \
    "$(hookpipe sub show code --json | json 'd["credential_state"]')"
wait_for 30 has_runs "$T_DIR/alert" 1
assert_eq "credential.needs_reauthorization ran the workflow" 1 "$(runs_in "$T_DIR/alert")"
assert_contains "its input names the credential" '"gl"' "$(cat "$T_DIR"/alert/*.json)"
assert_eq "the event is stored once" 1 \
    "$(hookpipe events --sub alerts --type credential.needs_reauthorization --json | json 'len(d)')"

finish
