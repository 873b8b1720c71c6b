#!/usr/bin/env bash
# timeout: 600
# lane: side
# The integration catalogue: every provider module in tests/npm/catalogue
# signs deliveries the way its provider does (its own npm library where
# there is one), sends them to a subscription of the shipped definition,
# and checks what is stored and what is refused (tests/npm/catalogue/run.js).
# Needs Node and `npm ci` in tests/npm (.ci/run does both).
. "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "node is not installed"
	finish
fi
if [ ! -d "$ROOT/tests/npm/node_modules" ]; then
	skip "no tests/npm/node_modules: run npm ci in tests/npm"
	finish
fi
start_stack
# The driver prints TAP lines of its own; they are counted as ours.
HOOKPIPE_SHARED=$SHARED \
    node "$ROOT/tests/npm/catalogue/run.js" "$@" >"$T_DIR/catalogue.out" 2>&1
rc=$?
cat "$T_DIR/catalogue.out"
p=$(grep -c '^ok - ' "$T_DIR/catalogue.out")
f=$(grep -c '^not ok - ' "$T_DIR/catalogue.out")
T_PASS=$((T_PASS + p))
T_FAIL=$((T_FAIL + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	not_ok "the catalogue driver exits 0" "exit $rc"
fi
stop_stack
finish
