#!/usr/bin/env bash
# sub check [--repair] against fake providers: a webhook deleted behind
# hookpipe's back is found missing and made anew (Stripe: with the new
# secret Stripe makes), one changed is found different and updated
# (GitLab); the lifecycle pass repairs by itself (HOOKPIPE_CHECK_EVERY).
. "$(dirname "$0")/lib.sh"

python3 "$ROOT/tests/e2e/helpers/fake_providers.py" "$T_DIR/fp.port" "$T_DIR/fp.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/fp.port" || { not_ok "the fake providers start"; finish; }
F=http://127.0.0.1:$(cat "$T_DIR/fp.port")
export HOOKPIPE_STRIPE_API=$F/stripe HOOKPIPE_GITLAB_API=$F/gitlab
start_stack

hooks() { curl -s -X POST "$F/_admin/hooks/$1"; }
hookpipe sub create alerts --integration hookpipe --generate-secret >/dev/null
hookpipe cred add sk --integration stripe --api-key good-token >/dev/null
hookpipe cred add gl --integration gitlab --api-key good-token >/dev/null
check "stripe: sub create" hookpipe sub create pay --integration stripe \
    --mode api-key --credential sk --events invoice.paid
check "gitlab: sub create" hookpipe sub create code --integration gitlab \
    --mode api-key --credential gl --param project=acme/app --events push

out=$(hookpipe sub check 2>&1)
assert_eq "sub check: all as made (exit 0)" 0 "$?"
assert_eq "sub check --json: both ok" '["ok", "ok"]' \
    "$(hookpipe sub check --json | json 'sorted(c["result"] for c in d)')"

# --- missing -----------------------------------------------------------------
old=$(hookpipe sub show pay --reveal --json | json 'd["secret"]')
curl -s -X POST "$F/_admin/drop/stripe" >/dev/null
out=$(hookpipe sub check pay 2>&1)
assert_eq "a webhook deleted in Stripe: sub check exits 1" 1 "$?"
assert_contains "saying it is missing" missing "$out"
assert_eq "the subscription shows drifted" drifted \
    "$(hookpipe sub show pay --json | json 'd["state"]')"
out=$(hookpipe sub check pay --repair 2>&1)
assert_eq "sub check --repair makes it again (exit 0)" 0 "$?"
h=$(hooks stripe | json 'list(d.values())[0]')
assert_eq "with the callback URL" "$(hookpipe sub show pay --json | json 'd["callback_url"]')" \
    "$(json 'd["url"]' <<<"$h")"
assert_eq "and the events" '["invoice.paid"]' "$(json 'd["enabled_events"]' <<<"$h")"
new=$(hookpipe sub show pay --reveal --json | json 'd["secret"]')
assert_eq "the secret stored is the new one Stripe made" "$(json 'd["secret"]' <<<"$h")" "$new"
[ "$old" != "$new" ]; assert_eq "and not the old one" 0 "$?"
assert_eq "the subscription is ok again" ok "$(hookpipe sub show pay --json | json 'd["state"]')"

# --- changed -----------------------------------------------------------------
rid=$(hookpipe sub show code --json | json 'd["remote_id"]')
curl -s -X PUT -H 'PRIVATE-TOKEN: good-token' -H 'Content-Type: application/json' \
    -d '{"url": "https://elsewhere.example/hook", "push_events": false}' \
    "$F/gitlab/projects/acme%2Fapp/hooks/$rid" >/dev/null
out=$(hookpipe sub check code 2>&1)
assert_eq "a hook changed in GitLab: sub check exits 1" 1 "$?"
assert_contains "saying what differs" "elsewhere.example" "$out"
check "sub check --repair updates it" hookpipe sub check code --repair
h=$(hooks gitlab | json 'list(d.values())[0]')
assert_eq "the URL is hookpipe's again" "$(hookpipe sub show code --json | json 'd["callback_url"]')" \
    "$(json 'd["url"]' <<<"$h")"
assert_eq "push events on again" true "$(json 'd["push_events"]' <<<"$h")"
assert_eq "the same hook (updated, not made anew)" "$rid" "$(json 'd["id"]' <<<"$h")"

# --- the lifecycle repairs by itself -------------------------------------------
drifted() { hookpipe events --type subscription.drifted --json | json 'len(d)'; }
n=$(drifted)
assert_eq "each drift found so far was an event of the hookpipe integration" 4 "$n"
curl -s -X POST "$F/_admin/drop/gitlab" >/dev/null
# A check is due once HOOKPIPE_CHECK_EVERY has passed since the last
# one, which sub check --repair made moments ago.
sleep 1.2
HOOKPIPE_CHECK_EVERY=1 hookpipe lifecycle >/dev/null 2>&1
assert_eq "the lifecycle pass made the lost hook again" 1 "$(hooks gitlab | json 'len(d)')"
assert_eq "and sent subscription.drifted" $((n + 1)) "$(drifted)"

finish
