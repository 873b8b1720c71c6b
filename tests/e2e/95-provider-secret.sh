#!/usr/bin/env bash
# Who makes the signing secret: integration show says it; sub create
# --generate-secret for a provider that makes its own says so; the
# callback URL follows TRIGGER_URL without re-creating the subscription;
# the provider's secret pasted with sub edit --secret - verifies.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

assert_contains "integration show openai: the provider makes it" \
    "made by the provider" "$(hookpipe integration show openai)"
assert_contains "integration show webhook: hookpipe may make it" \
    "made by hookpipe" "$(hookpipe integration show webhook)"

out=$(hookpipe sub create oa --integration openai --generate-secret 2>&1)
assert_contains "sub create --generate-secret for OpenAI says OpenAI makes its own" \
    "OpenAI makes the signing secret itself" "$out"
assert_contains "and what to do" "sub edit NAME --secret-file F" "$out"
out=$(hookpipe sub create oa2 --integration openai --generate-secret --json)
assert_contains "--json carries the note" "makes the signing secret" \
    "$(json 'd["note"]' <<<"$out")"
out=$(hookpipe sub create gen --integration webhook --generate-secret 2>&1)
assert_not_contains "no note where hookpipe's secret is the one" "makes the signing secret" "$out"

# The callback URL is derived from TRIGGER_URL each time it is shown.
id=$(hookpipe sub show oa --json | json 'd["id"]')
assert_eq "a new TRIGGER_URL, the same subscription" \
    "https://hooks.example.com/triggers/plugin/$id" \
    "$(TRIGGER_URL=https://hooks.example.com hookpipe sub show oa --json | json 'd["callback_url"]')"

# The provider's secret, pasted on stdin, is the one that verifies.
start_stack
theirs=whsec_$(head -c 24 /dev/urandom | base64)
check "sub edit --secret - takes the provider's secret" \
    sh -c "printf '%s\n' '$theirs' | hookpipe sub edit oa --secret -"
deliver "$id" "$theirs" "$(payload batch.completed)"
assert_status "a delivery signed with the provider's secret" 200
finish
