#!/usr/bin/env bash
# hookpipe doctor: a line per check, exit 0 on a healthy stack, exit 1
# with a FAIL line that says what to fix when something is wrong.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_GITHUB_API=$BASE	# its answers carry a Date
start_stack
new_sub doc
out=$(hookpipe doctor 2>&1)
assert_eq "a healthy stack: exit 0" 0 "$?"
for c in home "master key" stages listen integrations "trigger url" clock disk "map space"; do
	assert_contains "a line for $c" "$c" "$out"
done
assert_not_contains "no FAIL" "FAIL" "$out"
assert_contains "the clock was compared" "s off $BASE" "$out"
assert_eq "--json: ok" true "$(hookpipe doctor --json | json 'd["ok"]')"

chmod 644 "$HOOKPIPE_HOME/master.key"
out=$(hookpipe doctor 2>&1)
assert_eq "a master key others can read: exit 1" 1 "$?"
assert_contains "the line says how to fix it" "chmod 600" "$out"
chmod 600 "$HOOKPIPE_HOME/master.key"

cp "$HOOKPIPE_HOME/master.key" "$T_DIR/key.saved"
head -c 32 /dev/urandom >"$HOOKPIPE_HOME/master.key"
out=$(hookpipe doctor 2>&1)
assert_eq "another master key: exit 1" 1 "$?"
assert_contains "it does not open the secrets" "does not open the secret of subscription doc" "$out"
cp "$T_DIR/key.saved" "$HOOKPIPE_HOME/master.key"

# After a rotation the key in use is master.key.2; an old key file left
# readable by others is found too.
check "key rotate" hookpipe key rotate
out=$(hookpipe doctor 2>&1)
assert_contains "after a rotation: the key in use opens the secrets" \
    "master.key.2 (key 2, mode 600), opens the 1 stored secret" "$out"
cp -p "$T_DIR/key.saved" "$HOOKPIPE_HOME/master.key"
chmod 644 "$HOOKPIPE_HOME/master.key"
out=$(hookpipe doctor 2>&1)
assert_eq "an old key file others can read: exit 1" 1 "$?"
assert_contains "it is named" "master.key is readable by others" "$out"
rm "$HOOKPIPE_HOME/master.key"

hookpipectl stop >/dev/null 2>&1
out=$(hookpipe doctor 2>&1)
assert_eq "a stopped stack: exit 1" 1 "$?"
assert_contains "the stages are down" "down: receiver, verifier, router, dispatcher" "$out"
assert_contains "its address is free" "is free for the receiver" "$out"
finish
