#!/usr/bin/env bash
# The admin listener's API: who may use it (the token, a console login
# link, a session with its CSRF token), 401 and 403 change nothing, the
# audit log records every change, and the API does what the CLI does.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
token=$HOOKPIPE_HOME/admin.token
check "admin.token is made on first start" test -s "$token"
assert_eq "admin.token is private (0600)" 600 "$(stat -c %a "$token")"

# curl without credentials, or with others: sets HTTP_STATUS.
bare() {
	HTTP_STATUS=$(curl -s -m 20 -o "$T_DIR/bare.body" -w '%{http_code}' \
	    -X "$1" -H 'Content-Type: application/json' "${@:3}" "$ADMIN$2")
}

post GET "$ADMIN/healthz" ""
assert_status "the admin /healthz needs no token" 200

# --- without a token, nothing ---------------------------------------
for ep in "GET /metrics" "GET /api/v1/subscriptions" "GET /api/v1/workflows" \
    "GET /api/v1/integrations" "GET /api/v1/events" "GET /api/v1/runs" \
    "GET /api/v1/audit" "GET /api/v1/stages" "GET /api/v1/credentials" \
    "GET /api/v1/session" "GET /api/v1/tail/router" \
    "POST /api/v1/subscriptions" "PATCH /api/v1/subscriptions/x" \
    "DELETE /api/v1/subscriptions/x" "POST /api/v1/workflows" \
    "POST /api/v1/workflows/x/publish" "POST /api/v1/events/x/replay" \
    "POST /api/v1/oauth/client" "POST /api/v1/oauth/authorize" \
    "POST /logout"; do
	bare "${ep% *}" "${ep#* }" -d '{"name":"sneaky","integration":"openai"}'
	assert_eq "$ep without a token: 401" 401 "$HTTP_STATUS"
	bare "${ep% *}" "${ep#* }" -H "Authorization: Bearer $(printf '%064d' 0)" \
	    -d '{"name":"sneaky","integration":"openai"}'
	assert_eq "$ep with a wrong token: 401" 401 "$HTTP_STATUS"
done
bare GET /api/v1/subscriptions -H "Authorization: Basic $(base64 -w0 <"$token")"
assert_eq "the token as Basic is not accepted: 401" 401 "$HTTP_STATUS"
bare GET /api/v1/subscriptions -H "Cookie: hp_session=$(cat "$token")"
assert_eq "the API token as a session cookie is not a session: 401" 401 \
    "$HTTP_STATUS"
assert_eq "nothing was created without a token" "[]" \
    "$(hookpipe --json sub list)"

# --- with the token: the CLI's shapes ---------------------------------
api POST /api/v1/subscriptions \
    '{"name":"a1","integration":"openai","generate-secret":true}'
assert_status "sub create with the token" 201
secret=$(json 'd["secret"]' <<<"$HTTP_BODY")
sub=$(json 'd["id"]' <<<"$HTTP_BODY")
check "the generated secret is in the answer, once" test -n "$secret"
cli=$(hookpipe --json sub show a1)
api GET /api/v1/subscriptions/a1 ""
assert_status "sub show" 200
assert_eq "GET /subscriptions/NAME is the CLI's sub show --json" \
    "$(json 'sorted(d.keys())' <<<"$cli")" "$(json 'sorted(d.keys())' <<<"$HTTP_BODY")"
assert_not_contains "sub show does not reveal the secret" "$secret" \
    "$HTTP_BODY"
api GET /api/v1/subscriptions ""
assert_eq "sub list has it" a1 "$(json 'd[0]["name"]' <<<"$HTTP_BODY")"
api GET /api/v1/subscriptions/nosuch ""
assert_status "an unknown subscription" 404
check "its error says so" json 'd["error"]' <<<"$HTTP_BODY"
api POST /api/v1/subscriptions '{"name":"a2","integration":"nosuch"}'
assert_status "an unknown integration" 404
api POST /api/v1/subscriptions '{"name":"a2","integration":"openai","bogus":"1"}'
assert_status "an option the CLI does not have" 400
api POST /api/v1/subscriptions '{"name":"a2","integration":"openai","--workspace":"x"}'
assert_status "a member that is not an option name" 400
api POST /api/v1/subscriptions '[1]'
assert_status "a body that is not an object" 400
api POST /api/v1/subscriptions '{"name":"-x","integration":"openai"}'
check "a name like an option is not taken as one" \
    test "$HTTP_STATUS" -ge 400
api GET "/api/v1/subscriptions/-h" ""
assert_status "a path segment like an option" 404

dir=$T_DIR/runs
api POST /api/v1/workflows \
    "$(python3 -c 'import json,sys; print(json.dumps({"name":"w1","exec":sys.argv[1],"retries":0}))' "$(recorder "$dir")")"
assert_status "workflow create" 201
api POST /api/v1/workflows/w1/trigger '{"sub":"a1","event":"batch.completed"}'
assert_status "workflow trigger" 200
api POST /api/v1/workflows/w1/publish ""
assert_status "workflow publish" 200
api GET /api/v1/workflows/w1 ""
assert_contains "the workflow is published" '"published"' "$HTTP_BODY"
api POST /api/v1/workflows/w1/nosuch ""
assert_status "an action the CLI does not have" 400

deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "a delivery" 200
wait_for 10 has_runs "$dir" 1
check "the workflow ran" has_runs "$dir" 1
api GET "/api/v1/events?sub=a1" ""
assert_status "events" 200
event=$(json 'd[0]["id"]' <<<"$HTTP_BODY")
check "events lists the delivery" test -n "$event"
api GET "/api/v1/events/$event" ""
assert_eq "event show" "$event" "$(json 'd["id"]' <<<"$HTTP_BODY")"
api POST "/api/v1/events/$event/replay" '{"workflow":"w1"}'
assert_status "replay" 200
wait_for 10 has_runs "$dir" 2
check "the replay ran the workflow again" has_runs "$dir" 2
api GET "/api/v1/runs?workflow=w1" ""
assert_eq "runs lists both" 2 "$(json 'len(d)' <<<"$HTTP_BODY")"
api POST /api/v1/runs/replay '{"workflow":"w1","dry_run":true}'
assert_status "bulk replay, dry run" 200
assert_eq "the dry run counts the filtered set" 2 "$(json 'd["count"]' <<<"$HTTP_BODY")"
sleep 1
check "and replays nothing" test "$(runs_in "$dir")" = 2
api POST /api/v1/runs/replay '{"workflow":"w1","bogus":"1"}'
assert_status "bulk replay with an unknown filter" 400
api POST /api/v1/runs/replay '{"workflow":"w1"}'
assert_status "bulk replay" 200
assert_eq "it replays each run of the set" 2 "$(json 'd["replayed"]' <<<"$HTTP_BODY")"
wait_for 15 has_runs "$dir" 4
check "the workflow ran for each" has_runs "$dir" 4
api GET /api/v1/stages ""
assert_eq "stages: five, the admin stage among them" \
    '["admin", "dispatcher", "receiver", "router", "verifier"]' \
    "$(json 'sorted(s["name"] for s in d["stages"])' <<<"$HTTP_BODY")"
# A stage stopped: the report still answers, saying which (the
# console's overview draws from it).
hookpipectl stop router >/dev/null 2>&1
api GET /api/v1/stages ""
assert_status "stages with the router stopped" 200
assert_eq "the router is not up, the others are" "router" \
    "$(json '" ".join(s["name"] for s in d["stages"] if s["state"] != "up")' <<<"$HTTP_BODY")"
hookpipectl start router >/dev/null 2>&1
api DELETE /api/v1/subscriptions/a1 ""
assert_status "delete refused while a workflow uses it" 422
api GET /api/v1/subscriptions/a1 ""
assert_status "the subscription is still there" 200

# --- a console session ------------------------------------------------
link=$(hookpipe console --user alice --json | json 'd["url"]')
assert_contains "hookpipe console prints a link to the admin listener" \
    "$ADMIN/login?t=" "$link"
jar=$T_DIR/jar
HTTP_STATUS=$(curl -s -m 20 -o /dev/null -D "$T_DIR/login.h" -c "$jar" \
    -w '%{http_code}' "$link")
assert_eq "the link logs in" 303 "$HTTP_STATUS"
cookie=$(tr -d '\r' <"$T_DIR/login.h" | grep -i '^set-cookie:')
assert_contains "the session cookie is HttpOnly" HttpOnly "$cookie"
assert_contains "the session cookie is SameSite=Strict" SameSite=Strict "$cookie"
HTTP_STATUS=$(curl -s -m 20 -o /dev/null -w '%{http_code}' "$link")
assert_eq "the link works once" 401 "$HTTP_STATUS"
bare GET /api/v1/session -b "$jar"
assert_eq "the session is open" 200 "$HTTP_STATUS"
csrf=$(json 'd["csrf"]' <"$T_DIR/bare.body")
assert_eq "the session names its user" alice \
    "$(json 'd["user"]' <"$T_DIR/bare.body")"
bare GET /api/v1/subscriptions -b "$jar"
assert_eq "a session reads without the CSRF token" 200 "$HTTP_STATUS"
bare POST /api/v1/subscriptions -b "$jar" \
    -d '{"name":"c1","integration":"openai"}'
assert_eq "a change without the CSRF token: 403" 403 "$HTTP_STATUS"
bare POST /api/v1/subscriptions -b "$jar" -H "X-CSRF-Token: $(cat "$token")" \
    -d '{"name":"c1","integration":"openai"}'
assert_eq "a change with a wrong CSRF token: 403" 403 "$HTTP_STATUS"
check "nothing was created without the CSRF token" \
    test "$(hookpipe --json sub list | json 'len(d)')" = 1
bare POST /api/v1/subscriptions -b "$jar" -H "X-CSRF-Token: $csrf" \
    -d '{"name":"c1","integration":"openai"}'
assert_eq "a change with the CSRF token" 201 "$HTTP_STATUS"
bare POST /api/v1/oauth/client -b "$jar" \
    -d '{"integration":"github","client-id":"cid","client-secret":"cs"}'
assert_eq "oauth client set without the CSRF token: 403" 403 "$HTTP_STATUS"
api POST /api/v1/oauth/authorize '{"integration":"github","name":"gh"}'
assert_contains "so no OAuth client was set: authorize is refused" \
    "no OAuth client for github" "$HTTP_BODY"
bare POST /logout -b "$jar" -H "X-CSRF-Token: $csrf"
assert_eq "log out" 200 "$HTTP_STATUS"
bare GET /api/v1/subscriptions -b "$jar"
assert_eq "the session has ended on the server" 401 "$HTTP_STATUS"
HTTP_STATUS=$(curl -s -m 20 -o /dev/null -w '%{http_code}' \
    "$ADMIN/login?t=$(printf '%064d' 1)")
assert_eq "a made-up link: 401" 401 "$HTTP_STATUS"

api PATCH "/api/v1/subscriptions/a%0aforged%20line" '{}'
assert_status "a path with a line break" 404

# --- the audit log ----------------------------------------------------
api GET "/api/v1/audit?limit=1000" ""
audit=$HTTP_BODY
# shellcheck disable=SC2317 # called by check
has() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
want = json.loads(sys.argv[2])
sys.exit(0 if any(all(r.get(k) == v for k, v in want.items()) for r in d) else 1)' "$audit" "$1"
}
check "audit: sub create by the token" has \
    '{"who":"token","what":"sub create","target":"a1","status":201}'
check "audit: workflow publish" has \
    '{"who":"token","what":"workflow publish","target":"w1","status":200}'
check "audit: the replay" has "{\"what\":\"replay\",\"target\":\"$event\"}"
check "audit: the bulk replay, once, with its count" has \
    '{"what":"bulk replay","target":"w1","detail":"2 of 2 replayed"}'
check "audit: the refused delete" has \
    '{"what":"sub delete","target":"a1","status":422}'
check "audit: alice's login" has '{"who":"alice","what":"login"}'
check "audit: alice's change, by her name" has \
    '{"who":"alice","what":"sub create","target":"c1","status":201}'
check "audit: the change without the CSRF token" has \
    '{"who":"alice","what":"refused","status":403}'
check "a change without credentials is not recorded (nor anything)" \
    python3 -c 'import json, sys
sys.exit(any(r["status"] == 401 for r in json.loads(sys.argv[1])))' "$audit"
check "the admin log says it was refused" grep -q \
    "refused POST without credentials from 127.0.0.1" "$HOOKPIPE_HOME/log/admin.log"
check "the admin log says a link was refused" grep -q \
    "login: a link refused" "$HOOKPIPE_HOME/log/admin.log"
check "audit records where a change came from" has '{"from":"127.0.0.1"}'
check "a line break in a path is not one in the audit log" has \
    '{"what":"refused","target":"/api/v1/subscriptions/a?forged line"}'
check "nor in the admin log" sh -c "! grep -q '^forged line' \
    '$HOOKPIPE_HOME/log/admin.log'"
assert_not_contains "the audit log holds no secret" "$secret" "$audit"
assert_not_contains "the audit log holds no token" "$(cat "$token")" "$audit"
assert_not_contains "the admin log holds no token" "$(cat "$token")" \
    "$(cat "$HOOKPIPE_HOME"/log/admin.log)"

# --- a secret goes to the CLI on a pipe, not in its arguments ----------
api PATCH /api/v1/subscriptions/c1 '{"secret":"s3cr3t-not-in-ps-0123456789"}'
assert_status "sub edit with a new secret" 200
hookpipe --json sub show c1 --reveal >"$T_DIR/c1.json"
assert_eq "the secret was set" s3cr3t-not-in-ps-0123456789 \
    "$(json 'd["secret"]' <"$T_DIR/c1.json")"

# --- the stage under hookpipectl ---------------------------------------
hookpipectl tail admin >"$T_DIR/tail" 2>/dev/null &
BG_PIDS+=($!)
sleep 1
api DELETE /api/v1/subscriptions/c1 ""
assert_status "delete an unused subscription" 200
wait_for 10 grep -q '"sub delete"' "$T_DIR/tail"
check "hookpipectl tail admin shows the change" grep -q '"target": *"c1"' \
    "$T_DIR/tail"
old=$(cat "$HOOKPIPE_HOME/run/admin.pid")
check "hookpipectl restart admin" hookpipectl restart admin
check "the admin stage has a new pid" test "$(cat "$HOOKPIPE_HOME/run/admin.pid")" != "$old"
api GET /api/v1/subscriptions ""
assert_status "the token still works after a restart" 200
finish
