#!/usr/bin/env bash
# lane: side
# Subscriptions made with the provider, from the console, against the
# fake providers (tests/e2e/helpers/fake_providers.py): the create form
# offers the modes an integration allows; an API key pasted there is
# checked, stored as a credential and used to make a Stripe webhook,
# listed with its remote id; a refused key shows the provider's answer
# and makes nothing; a stored credential is picked; the OAuth flow opens
# the provider's page and the subscription is made once the receiver's
# callback stored the credential. No key in an address or a log.
# Screenshots go to tests/out/84-console-auto/. Skipped without Chromium.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "$chromium" ] || ! command -v node >/dev/null; then
	skip "Chromium is not installed (Debian: chromium)"
	finish
fi
if [ ! -d "$root/tests/npm/node_modules/puppeteer-core" ]; then
	skip "puppeteer-core is not installed (make test-deps)"
	finish
fi
shots=${HOOKPIPE_TEST_OUT:-$root/tests/out}/84-console-auto
rm -rf "$shots"
mkdir -p "$shots"

python3 "$ROOT/tests/e2e/helpers/fake_providers.py" "$T_DIR/fp.port" "$T_DIR/fp.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/fp.port" || { not_ok "the fake providers start"; finish; }
FAKE=http://127.0.0.1:$(cat "$T_DIR/fp.port")
export FAKE HOOKPIPE_STRIPE_API=$FAKE/stripe HOOKPIPE_GITLAB_API=$FAKE/gitlab \
    HOOKPIPE_GITLAB_WEB=$FAKE
start_stack
link=$(hookpipe console --user alice --json | json 'd["url"]')
browser_walk console-auto.js "$link" "$shots"
logs=$(cat "$HOOKPIPE_HOME"/log/*.log 2>/dev/null)
assert_not_contains "no API key in the logs" "good-token" "$logs"
assert_not_contains "nor the refused one" "bad-token-7731" "$logs"
assert_not_contains "nor the OAuth client secret" "csecret" "$logs"
api GET "/api/v1/audit?limit=100" ""
assert_contains "the audit log records the credential" "cred add" "$HTTP_BODY"
assert_contains "and the subscription" "sub create" "$HTTP_BODY"
assert_not_contains "with option names, not the key" "good-token" "$HTTP_BODY"
finish
