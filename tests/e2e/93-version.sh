#!/usr/bin/env bash
# hookpipe version and --version on every binary: the same version and
# commit everywhere, the build's options, no state directory touched.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

home=$(mktemp -u /tmp/hp.XXXXXX)
v=$(HOOKPIPE_HOME=$home hookpipe version --json)
assert_eq "version --json exits 0" 0 "$?"
ver=$(json 'd["version"]' <<<"$v")
commit=$(json 'd["commit"]' <<<"$v")
check "a version" test -n "$ver"
check "a commit" test -n "$commit"
assert_contains "the build's options" "libzmq" "$(json 'sorted(d["build"])' <<<"$v")"
for b in hookpipe hookpipectl hookpipe-receiver hookpipe-verifier \
    hookpipe-router hookpipe-dispatcher hookpipe-jq; do
	out=$(HOOKPIPE_HOME=$home "$b" --version 2>&1)
	assert_eq "$b --version exits 0" 0 "$?"
	assert_eq "$b --version names it, the version and the commit" \
	    "$b $ver (commit $commit)" "$(head -n 1 <<<"$out")"
done
assert_contains "hookpipe version prints the options" "openssl" \
    "$(hookpipe version)"
check "no state directory was made" test ! -e "$home"
assert_contains "version is in --help" "version" "$(hookpipe --help)"
finish
