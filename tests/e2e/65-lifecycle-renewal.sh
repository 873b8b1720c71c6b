#!/usr/bin/env bash
# Webhooks that expire are renewed by the lifecycle pass the dispatcher
# runs, against fake providers whose webhooks live 30 seconds
# (HOOK_TTL): Graph is extended (PATCH), Airtable refreshed (POST
# .../refresh), a Google channel made anew and the old one stopped. A
# renewal that keeps failing marks the subscription expiring, then
# expired, in sub list and sub show, and it recovers once the provider
# answers again.
. "$(dirname "$0")/lib.sh"

export HOOK_TTL=30
python3 "$ROOT/tests/e2e/helpers/fake_providers.py" "$T_DIR/fp.port" "$T_DIR/fp.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/fp.port" || { not_ok "the fake providers start"; finish; }
F=http://127.0.0.1:$(cat "$T_DIR/fp.port")
export HOOKPIPE_AIRTABLE_API=$F/airtable HOOKPIPE_OUTLOOK_API=$F/graph \
    HOOKPIPE_OUTLOOK_WEB=$F HOOKPIPE_GOOGLE_CALENDAR_API=$F/gcal \
    HOOKPIPE_GOOGLE_CALENDAR_WEB=$F
# Time, shortened: a pass every 2 s, renewals due 20 s before expiry
# (at most half the lifetime: 15 s), failures tried again after 1 s.
export HOOKPIPE_LIFECYCLE_INTERVAL=2 HOOKPIPE_RENEW_BEFORE=20 \
    HOOKPIPE_RENEW_RETRY=1
start_stack

hooks() { curl -s -X POST "$F/_admin/hooks/$1"; }
field() { hookpipe sub show "$1" --json | json "d.get(\"$2\") or \"\""; }
oauth_cred() {
	hookpipe oauth client set --integration "$1" --client-id cid \
	    --client-secret csecret >/dev/null
	local state
	state=$(hookpipe oauth authorize --integration "$1" --name "$2" --json |
	    json 'd["state"]')
	curl -s -o /dev/null "$BASE/oauth/$1/callback?code=good-code&state=$state"
}

oauth_cred outlook ms
oauth_cred google_calendar goo
hookpipe cred add at --integration airtable --api-key good-token >/dev/null
check "graph: sub create" hookpipe sub create mail --integration outlook --mode oauth --credential ms
check "airtable: sub create" hookpipe sub create base --integration airtable \
    --mode api-key --credential at --param base=appFake
check "google: sub create" hookpipe sub create cal --integration google_calendar \
    --mode oauth --credential goo
g0=$(field mail expires_at) a0=$(field base expires_at) c0=$(field cal remote_id)
assert_contains "sub show has expires_at" "T" "$g0"

wait_for 60 sh -c "[ \"\$(hookpipe sub show mail --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"expires_at\"])')\" != '$g0' ]"
assert_eq "graph: renewed with PATCH /subscriptions/{id}" 1 \
    "$(grep -c '"method": "PATCH", "path": "/graph/subscriptions/' "$T_DIR/fp.log" | sed 's/^[2-9][0-9]*$/1/')"
assert_eq "graph: the new expiry is Graph's" \
    "$(hooks graph | json 'list(d.values())[0]["expirationDateTime"][:19]')" "$(field mail expires_at | cut -c1-19)"
wait_for 30 sh -c "grep -q '/airtable/bases/appFake/webhooks/.*/refresh' '$T_DIR/fp.log'"
assert_contains "airtable: refreshed with POST .../refresh" refresh \
    "$(grep -o '/airtable/bases/appFake/webhooks/[^"]*/refresh' "$T_DIR/fp.log" | head -1)"
wait_for 10 sh -c "[ \"\$(hookpipe sub show base --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"expires_at\"])')\" != '$a0' ]"
assert_eq "airtable: its expiry moved" 1 "$([ "$(field base expires_at)" != "$a0" ] && echo 1)"
wait_for 30 sh -c "[ \"\$(hookpipe sub show cal --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"remote_id\"])')\" != '$c0' ]"
# A renewal may come between two reads: compare until both agree.
for _ in 1 2 3 4 5; do
	c1=$(field cal remote_id) left=$(hooks gcal | json 'list(d)')
	[ "$left" = "[\"$c1\"]" ] && break
	sleep 1
done
assert_eq "google: one channel is left, the subscription's" "[\"$c1\"]" "$left"
assert_eq "google: the old one was stopped" 1 \
    "$(grep -c '"path": "/gcal/channels/stop"' "$T_DIR/fp.log" | sed 's/^[2-9][0-9]*$/1/')"
assert_eq "the subscriptions are ok" "ok ok ok" "$(field mail state) $(field base state) $(field cal state)"

# --- renewals that fail ----------------------------------------------------
curl -s -X POST "$F/_admin/fail/graph" >/dev/null
wait_for 40 sh -c "hookpipe sub list | grep -q 'mail .*expiring'"
assert_contains "a failing renewal shows expiring in sub list" expiring \
    "$(hookpipe sub list | grep ' mail ')"
assert_contains "sub show says why" "503" "$(field mail state_error)"
assert_contains "and how many failed" renewal_failures "$(hookpipe sub show mail --json)"
wait_for 60 sh -c "hookpipe sub list | grep -q 'mail .*expired'"
assert_contains "once it lapsed: expired" expired "$(field mail state)"
assert_contains "the dispatcher's log tells it" "renewal of default/mail" \
    "$(cat "$HOOKPIPE_HOME/log/dispatcher.log")"
assert_contains "GET /metrics counts the failed renewals" \
    'hookpipe_lifecycle_total{what="renewal.failed"}' \
    "$(curl -s -H "Authorization: Bearer $(cat "$HOOKPIPE_HOME/admin.token")" \
    "$ADMIN/metrics")"
curl -s -X POST "$F/_admin/ok/graph" >/dev/null
out=$(hookpipe sub renew mail 2>&1)
assert_eq "sub renew once Graph answers again" 0 "$?"
assert_contains "saying when it expires now" "expires at" "$out"
assert_eq "the subscription is ok again" ok "$(field mail state)"

finish
