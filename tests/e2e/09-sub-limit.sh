#!/usr/bin/env bash
# At most ten subscriptions of an integration per workspace.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

made=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	hookpipe sub create "s$i" --integration openai --generate-secret >/dev/null 2>&1 &&
	    made=$((made + 1))
done
assert_eq "ten subscriptions created" 10 "$made"
err=$(hookpipe sub create s11 --integration openai --generate-secret 2>&1 >/dev/null)
assert_eq "the 11th is refused with exit 1" 1 "$?"
check "the refusal says why" test -n "$err"
echo "# $err"
assert_eq "still ten" 10 "$(hookpipe sub list --json | json 'len(d)')"
check "another workspace can still create one" \
    hookpipe sub create s11 --integration openai --generate-secret --workspace other
assert_eq "the other workspace has one" 1 "$(hookpipe sub list --workspace other --json | json 'len(d)')"
check "HOOKPIPE_WORKSPACE selects the workspace too" \
    env HOOKPIPE_WORKSPACE=third hookpipe sub create s1 --integration openai --generate-secret
hookpipe sub create s1 --integration openai --generate-secret >/dev/null 2>&1
assert_eq "a duplicate name in a workspace is refused with exit 1" 1 "$?"
hookpipe sub create s12 --integration no-such-integration >/dev/null 2>&1
assert_eq "an unknown integration is refused with exit 1" 1 "$?"
hookpipe sub create >/dev/null 2>&1
assert_eq "a usage error exits 2" 2 "$?"
hookpipe sub delete s10 >/dev/null 2>&1
check "after a delete, one more fits" \
    hookpipe sub create s11 --integration openai --generate-secret
finish
