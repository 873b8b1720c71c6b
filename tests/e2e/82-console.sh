#!/usr/bin/env bash
# lane: side
# The console in a real browser (headless Chromium, puppeteer-core from
# tests/npm): log in with the link, create a subscription and copy its
# URL, a workflow with a trigger, test it live with `hookpipe send`, see
# the failed run's output, replay it, bulk-replay a filtered set after
# its count. Screenshots of each page go to tests/out/82-console/ (or
# $HOOKPIPE_TEST_OUT/82-console). Skipped without Chromium.
# A loaded machine runs the trigger's jq filter slowly: not a failure here.
HOOKPIPE_JQ_TIMEOUT_MS=${HOOKPIPE_JQ_TIMEOUT_MS:-5000}
export HOOKPIPE_JQ_TIMEOUT_MS
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
shots=${HOOKPIPE_TEST_OUT:-$root/tests/out}/82-console
rm -rf "$shots"
mkdir -p "$shots"

start_stack
link=$(hookpipe console --user alice --json | json 'd["url"]')
browser_walk console.js "$link" "$shots"
check "a screenshot of each page" test "$(find "$shots" -name "*.png" | wc -l)" -ge 10
finish
