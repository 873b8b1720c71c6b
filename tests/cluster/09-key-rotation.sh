#!/usr/bin/env bash
# Cluster mode: the master key rotated cluster-wide. `hookpipe key
# rotate --prepare` on host A writes the next key file without sealing
# anything with it; once it is copied to host B, `hookpipe key rotate` on
# A uses it: both hosts verify the subscription's deliveries and run its
# workflow, B still shows the subscription, a change made on B afterwards
# still reads on A, and B may drop its old key file. A host that lacks
# the new key answers 503 (the sender retries), says which file is
# missing, and verifies again once the file is there.
. "$(dirname "$0")/lib.sh"

cluster_init

two_hosts

new_sub keyed
RAN=$T_DIR/ran
ran_workflow w "$RAN"
check "host B has the workflow" wait_for 30 published_on_b

# send HOST: a delivery to host HOST (A or B); sets HTTP_STATUS.
send() {
	local f base=BASE_$1
	f=$(payload batch.completed "$T_DIR/p.json")
	BASE=${!base} deliver "$SUB_ID" "$SUB_SECRET" "$f"
}
ran() {
	[ "$(wc -l <"$RAN")" -ge "$1" ]
}
# readable [on_b]: `sub show` decrypts the subscription's secret.
readable() {
	local out
	out=$("$@" hookpipe sub show "$SUB_ID" 2>&1) &&
	    case $out in *unreadable* | *"cannot decrypt"*) false ;; esac
}
# synced: host B has applied the latest configuration.
synced() {
	local st
	st=$(on_b hookpipe cluster status --json 2>/dev/null) &&
	    [ "$(json 'd["config"]["latest"]' <<<"$st")" = \
	    "$(json 'd["config"]["applied"]' <<<"$st")" ]
}

out=$(hookpipe key rotate --prepare 2>&1)
check "key rotate --prepare on host A" test $? = 0
K2=$HOOKPIPE_HOME/master.key.2
assert_contains "it names the file to copy" "$K2" "$out"
assert_eq "the prepared key file: 32 bytes, mode 0600" "32 600" \
    "$(stat -c '%s %a' "$K2" 2>&1)"
send B
assert_status "prepared, not copied yet: host B still verifies" 200

cp -p "$K2" "$HOME_B/"
check "key rotate on host A" hookpipe key rotate
assert_eq "it used the prepared key (no master.key.3), retired key 1" \
    "master.key.2" "$(cd "$HOOKPIPE_HOME" && ls master.key* | grep -v lock)"
check "host B applied the rotation" wait_for 30 synced
send A
assert_status "a delivery to host A" 200
send B
assert_status "a delivery to host B" 200
if wait_for 30 ran 3; then
	ok "the workflow ran for each"
else
	not_ok "the workflow ran for each" "$(cat "$RAN")"
fi
check "sub show on host B" readable on_b

# A change made on host B after the rotation reaches host A sealed
# under a key A still has.
check "a change on host B" on_b hookpipe sub create other \
    --integration openai --generate-secret
check "host A has it" wait_for 30 eval \
    'hookpipe sub list --json | grep -q "\"other\""'
check "host A still reads the first subscription's secret" readable
send A
assert_status "and verifies its deliveries" 200
rm "$HOME_B/master.key"
check "host B without master.key reads the secret" readable on_b
send B
assert_status "and verifies its deliveries" 200

# Host B without the next key.
hookpipe key rotate --prepare >/dev/null 2>&1
assert_contains "key rotate --prepare again names the same file" \
    "$HOOKPIPE_HOME/master.key.3" "$(hookpipe key rotate --prepare 2>&1)"
check "key rotate on host A (B has no copy)" hookpipe key rotate
check "host B applied that rotation" wait_for 30 synced
send B
assert_status "host B without master.key.3: 503, not 401" 503
assert_contains "with Retry-After" "Retry-After:" "$HTTP_HEADERS"
send B
assert_eq "host B logs the missing file once" 1 \
    "$(grep -cF "master.key.3" "$HOME_B/log/verifier.log")"
assert_contains "and where to copy it from" "copy it" \
    "$(grep -F "master.key.3" "$HOME_B/log/verifier.log")"
cp -p "$HOOKPIPE_HOME/master.key.3" "$HOME_B/"
send B
assert_status "once master.key.3 is copied: host B verifies" 200
if wait_for 30 ran 6; then
	ok "and the workflow ran"
else
	not_ok "and the workflow ran" "$(cat "$RAN")"
fi

finish
