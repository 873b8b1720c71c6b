#!/usr/bin/env bash
# Automatic subscriptions beyond GitHub, against fake providers: for
# Stripe, GitLab, Linear, Typeform, Zendesk, Airtable, Microsoft Graph and
# Google Calendar, the webhook is made with the provider's API (with an
# API key, or an OAuth token), its events are changed by `sub edit
# --events` and it is removed by `sub delete`; a secret the provider makes
# is the one stored; a refused call leaves nothing behind and quotes the
# provider.
. "$(dirname "$0")/lib.sh"

python3 "$ROOT/tests/e2e/helpers/fake_providers.py" "$T_DIR/fp.port" "$T_DIR/fp.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/fp.port" || { not_ok "the fake providers start"; finish; }
F=http://127.0.0.1:$(cat "$T_DIR/fp.port")
export HOOKPIPE_STRIPE_API=$F/stripe HOOKPIPE_GITLAB_API=$F/gitlab \
    HOOKPIPE_GITLAB_WEB=$F HOOKPIPE_LINEAR_API=$F/linear \
    HOOKPIPE_TYPEFORM_API=$F/typeform HOOKPIPE_ZENDESK_API=$F/zendesk \
    HOOKPIPE_AIRTABLE_API=$F/airtable HOOKPIPE_AIRTABLE_WEB=$F \
    HOOKPIPE_OUTLOOK_API=$F/graph HOOKPIPE_OUTLOOK_WEB=$F \
    HOOKPIPE_GOOGLE_CALENDAR_API=$F/gcal HOOKPIPE_GOOGLE_CALENDAR_WEB=$F
start_stack

# hooks PREFIX: the fake provider's webhooks (JSON object by id).
hooks() { curl -s -X POST "$F/_admin/hooks/$1"; }
# last_body METHOD PATH-PREFIX: the body of the last such call.
last_body() {
	python3 - "$T_DIR/fp.log" "$1" "$2" <<'PY'
import json, sys
last = ""
for line in open(sys.argv[1]):
    c = json.loads(line)
    if c["method"] == sys.argv[2] and c["path"].startswith(sys.argv[3]):
        last = c["body"]
print(last)
PY
}
secret_of() { hookpipe sub show "$1" --reveal --json | json 'd["secret"]'; }

# oauth_cred INTEGRATION NAME: an OAuth credential through the callback.
oauth_cred() {
	hookpipe oauth client set --integration "$1" --client-id cid \
	    --client-secret csecret >/dev/null
	local state code
	state=$(hookpipe oauth authorize --integration "$1" --name "$2" --json |
	    json 'd["state"]')
	code=$(curl -s -o /dev/null -w '%{http_code}' \
	    "$BASE/oauth/$1/callback?code=good-code&state=$state")
	assert_eq "$1: the OAuth callback stores credential $2" 200 "$code"
}

# --- Stripe: the secret is Stripe's --------------------------------------
check "stripe: cred add (checked with the API)" \
    hookpipe cred add sk --integration stripe --api-key good-token
out=$(hookpipe sub create pay --integration stripe --mode api-key --credential sk \
    --events invoice.paid,charge.refunded --json 2>&1)
assert_eq "stripe: sub create --mode api-key" 0 "$?"
url=$(json 'd["callback_url"]' <<<"$out")
h=$(hooks stripe)
assert_eq "stripe: the endpoint has the callback URL" "$url" \
    "$(json 'list(d.values())[0]["url"]' <<<"$h")"
assert_eq "stripe: and the events" "charge.refunded,invoice.paid" \
    "$(json '",".join(sorted(list(d.values())[0]["enabled_events"]))' <<<"$h")"
assert_eq "stripe: the signing secret stored is the one Stripe made" \
    "$(json 'list(d.values())[0]["secret"]' <<<"$h")" "$(secret_of pay)"
check "stripe: sub edit --events" hookpipe sub edit pay --events invoice.paid
assert_eq "stripe: the endpoint's events changed" '["invoice.paid"]' \
    "$(hooks stripe | json 'list(d.values())[0]["enabled_events"]')"
check "stripe: sub delete" hookpipe sub delete pay
assert_eq "stripe: the endpoint is gone" "{}" "$(hooks stripe)"

# --- GitLab: project hooks with event flags ----------------------------------
check "gitlab: cred add" hookpipe cred add gl --integration gitlab --api-key good-token
out=$(hookpipe sub create code --integration gitlab --mode api-key --credential gl \
    --param project=acme/app --events push,merge_request --json 2>&1)
assert_eq "gitlab: sub create" 0 "$?"
h=$(hooks gitlab | json 'list(d.values())[0]')
assert_eq "gitlab: the token is the subscription's secret" "$(secret_of code)" \
    "$(json 'd["token"]' <<<"$h")"
assert_eq "gitlab: push and merge request events on, the rest off" "[true, true, false]" \
    "$(json '[d["push_events"], d["merge_requests_events"], d["issues_events"]]' <<<"$h")"
assert_contains "gitlab: the API key went as PRIVATE-TOKEN" '"private-token": "good-token"' \
    "$(grep '/gitlab/projects/acme%2Fapp/hooks' "$T_DIR/fp.log" | head -1)"
check "gitlab: sub edit --events" hookpipe sub edit code --events issue
assert_eq "gitlab: the hook's flags changed" "[false, true]" \
    "$(hooks gitlab | json '[list(d.values())[0]["push_events"], list(d.values())[0]["issues_events"]]')"
out=$(hookpipe sub create gone --integration gitlab --mode api-key --credential gl \
    --param project=acme/missing 2>&1)
assert_eq "gitlab: a refused creation exits 1" 1 "$?"
assert_contains "gitlab: quoting GitLab" "404 Project Not Found" "$out"
assert_eq "gitlab: and leaves no subscription" 0 \
    "$(hookpipe sub list --integration gitlab --json | json 'len([s for s in d if s["name"] == "gone"])')"
check "gitlab: sub delete" hookpipe sub delete code
assert_eq "gitlab: the hook is gone" "{}" "$(hooks gitlab)"

# --- Linear: GraphQL --------------------------------------------------------
check "linear: cred add (viewer query)" hookpipe cred add lin --integration linear --api-key good-token
out=$(hookpipe sub create issues --integration linear --mode api-key --credential lin \
    --events Issue,Comment --json 2>&1)
assert_eq "linear: sub create (webhookCreate)" 0 "$?"
h=$(hooks linear | json 'list(d.values())[0]')
assert_eq "linear: resource types" '["Issue", "Comment"]' "$(json 'd["resourceTypes"]' <<<"$h")"
assert_eq "linear: all public teams by default" true "$(json 'd["allPublicTeams"]' <<<"$h")"
assert_eq "linear: the secret is the subscription's" "$(secret_of issues)" "$(json 'd["secret"]' <<<"$h")"
check "linear: sub edit --events (webhookUpdate)" hookpipe sub edit issues --events Project
assert_eq "linear: resource types changed" '["Project"]' \
    "$(hooks linear | json 'list(d.values())[0]["resourceTypes"]')"
check "linear: sub delete (webhookDelete)" hookpipe sub delete issues
assert_eq "linear: the webhook is gone" "{}" "$(hooks linear)"

# --- Typeform: PUT by tag ------------------------------------------------------
check "typeform: cred add" hookpipe cred add tf --integration typeform --api-key good-token
out=$(hookpipe sub create answers --integration typeform --mode api-key --credential tf \
    --param form=abc123 --json 2>&1)
assert_eq "typeform: sub create" 0 "$?"
sub=$(json 'd["id"]' <<<"$out")
h=$(hooks typeform | json 'list(d.values())[0]')
assert_eq "typeform: the webhook's tag names the subscription" "hookpipe-$sub" "$(json 'd["tag"]' <<<"$h")"
assert_eq "typeform: the secret" "$(secret_of answers)" \
    "$(last_body PUT /typeform/forms/abc123/webhooks | json 'd["secret"]')"
check "typeform: sub edit --events" hookpipe sub edit answers --events form_response_partial
assert_eq "typeform: the event types changed" \
    '{"form_response": false, "form_response_partial": true}' \
    "$(hooks typeform | json 'list(d.values())[0]["event_types"]')"
check "typeform: sub delete" hookpipe sub delete answers
assert_eq "typeform: the webhook is gone" "{}" "$(hooks typeform)"

# --- Zendesk: the webhook, then its signing secret ------------------------------
check "zendesk: cred add (email/token:KEY)" hookpipe cred add zd --integration zendesk \
    --api-key 'ada@example.com/token:good-token'
out=$(hookpipe sub create desk --integration zendesk --mode api-key --credential zd \
    --param subdomain=acme --events zen:event-type:ticket.created --json 2>&1)
assert_eq "zendesk: sub create" 0 "$?"
h=$(hooks zendesk | json 'list(d.values())[0]')
assert_eq "zendesk: the signing secret stored is Zendesk's" "$(json 'd["secret"]' <<<"$h")" \
    "$(secret_of desk)"
assert_eq "zendesk: subscriptions" '["zen:event-type:ticket.created"]' \
    "$(json 'd["subscriptions"]' <<<"$h")"
check "zendesk: sub edit --events" hookpipe sub edit desk --events zen:event-type:user.created
assert_eq "zendesk: subscriptions changed" '["zen:event-type:user.created"]' \
    "$(hooks zendesk | json 'list(d.values())[0]["subscriptions"]')"
check "zendesk: sub delete" hookpipe sub delete desk
assert_eq "zendesk: the webhook is gone" "{}" "$(hooks zendesk)"

# --- Airtable: the MAC secret and the expiry are Airtable's ----------------------
check "airtable: cred add" hookpipe cred add at --integration airtable --api-key good-token
out=$(hookpipe sub create base --integration airtable --mode api-key --credential at \
    --param base=appFake --json 2>&1)
assert_eq "airtable: sub create" 0 "$?"
assert_eq "airtable: the secret is the macSecretBase64" \
    "$(grep -c '' <<<"$(secret_of base)")" 1
assert_contains "airtable: an expiry is stored" "expires_at" "$(hookpipe sub show base --json)"
check "airtable: sub delete" hookpipe sub delete base
assert_eq "airtable: the webhook is gone" "{}" "$(hooks airtable)"

# --- Microsoft Graph: OAuth, validation through the receiver, expiry -------------
oauth_cred outlook ms
out=$(hookpipe sub create mail --integration outlook --mode oauth --credential ms --json 2>&1)
assert_eq "outlook: sub create (Graph validated the callback URL)" 0 "$?"
h=$(hooks graph | json 'list(d.values())[0]')
assert_eq "outlook: changeType" "created,updated,deleted" "$(json 'd["changeType"]' <<<"$h")"
assert_eq "outlook: the clientState is the secret" "$(secret_of mail)" \
    "$(last_body POST /graph/subscriptions | json 'd["clientState"]')"
assert_eq "outlook: expires_at is Graph's" "$(json 'd["expirationDateTime"][:19]' <<<"$h")" \
    "$(hookpipe sub show mail --json | json 'd["expires_at"][:19]')"
assert_eq "outlook: an OAuth token was used" 1 \
    "$(grep '"/graph/subscriptions"' "$T_DIR/fp.log" | grep -c 'Bearer oauth-')"
check "outlook: sub delete" hookpipe sub delete mail
assert_eq "outlook: the subscription is gone from Graph" "{}" "$(hooks graph)"

# --- Google Calendar: a push channel ------------------------------------------
oauth_cred google_calendar goo
out=$(hookpipe sub create cal --integration google_calendar --mode oauth --credential goo --json 2>&1)
assert_eq "google_calendar: sub create (events.watch)" 0 "$?"
h=$(hooks gcal | json 'list(d.values())[0]')
assert_eq "google_calendar: the channel token is the secret" "$(secret_of cal)" \
    "$(json 'd["token"]' <<<"$h")"
assert_eq "google_calendar: the channel id is the remote id" "$(json 'd["id"]' <<<"$h")" \
    "$(hookpipe sub show cal --json | json 'd["remote_id"]')"
check "google_calendar: sub delete (channels.stop)" hookpipe sub delete cal
assert_eq "google_calendar: the channel is stopped" "{}" "$(hooks gcal)"

finish
