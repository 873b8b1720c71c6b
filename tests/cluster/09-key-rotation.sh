#!/usr/bin/env bash
# Cluster mode: the master key rotated cluster-wide. `hookpipe key
# rotate --prepare` on host A writes the next key file without sealing
# anything with it; once it is copied to host B, `hookpipe key rotate` on
# A uses it: both hosts verify the subscription's deliveries and run its
# workflow, B still shows the subscription, a change B sealed under the
# old key before it applied the rotation still reads on A (which keeps
# the old key until the next rotation), and after that next rotation B
# may drop its oldest key file. A host that lacks the new key answers
# 503 (the sender retries), says which file is missing, and verifies
# again once the file is there; so does a host whose file holds another
# key.
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
# readable ID [on_b]: `sub show` decrypts subscription ID's secret.
readable() {
	local id=$1 out
	shift
	out=$("$@" hookpipe sub show "$id" 2>&1) &&
	    case $out in *unreadable* | *"cannot decrypt"*) false ;; esac
}
# keyfiles HOME: its master key files, on one line.
keyfiles() {
	(cd "$1" && ls master.key*) | grep -v lock | tr '\n' ' ' | sed 's/ $//'
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
# Host B's admin stage, which applies the others' changes, stopped
# meanwhile: a command on B still seals under key 1 until B has applied
# the rotation, so host A keeps key 1 until the next rotation.
on_b hookpipectl stop admin >/dev/null 2>&1
check "key rotate on host A" hookpipe key rotate
assert_eq "it used the prepared key (no master.key.3), kept key 1" \
    "master.key master.key.2" "$(keyfiles "$HOOKPIPE_HOME")"
if out=$(on_b hookpipe sub create other --integration openai \
    --generate-secret --json 2>&1); then
	ok "a change on host B meanwhile"
else
	not_ok "a change on host B meanwhile" "$out"
fi
OTHER_ID=$(json 'd["id"]' <<<"$out")
on_b hookpipectl start >/dev/null 2>&1
check "host B applied the rotation" wait_for 30 synced
check "host A reads the secret host B sealed meanwhile" \
    wait_for 30 readable "$OTHER_ID"
send A
assert_status "a delivery to host A" 200
send B
assert_status "a delivery to host B" 200
if wait_for 30 ran 3; then
	ok "the workflow ran for each"
else
	not_ok "the workflow ran for each" "$(cat "$RAN")"
fi
check "sub show on host B" readable "$SUB_ID" on_b

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
out=$(on_b hookpipe doctor 2>&1)
assert_contains "hookpipe doctor on host B names the missing file" \
    "FAIL  master key    $HOME_B/master.key.3 is missing" "$out"
cp -p "$HOOKPIPE_HOME/master.key.3" "$HOME_B/"
send B
assert_status "once master.key.3 is copied: host B verifies" 200
if wait_for 30 ran 4; then
	ok "and the workflow ran"
else
	not_ok "and the workflow ran" "$(cat "$RAN")"
fi
assert_eq "host A retired key 1, kept key 2 until the next rotation" \
    "master.key.2 master.key.3" "$(keyfiles "$HOOKPIPE_HOME")"
rm "$HOME_B/master.key"
check "host B without master.key reads the secrets" readable "$SUB_ID" on_b
check "and the one it sealed under key 1" readable "$OTHER_ID" on_b

# Host B's master.key.3 holding another key (a host that rotated on its
# own): 503 as well, not 401, and its log says the file differs; once the
# right file is copied, B verifies again without a restart.
head -c 32 /dev/urandom >"$HOME_B/master.key.3"
check "host B's verifier restarted" on_b hookpipectl restart verifier
send B
assert_status "host B with another key in master.key.3: 503, not 401" 503
assert_contains "its log says the file differs" "master.key.3 differs" \
    "$(cat "$HOME_B/log/verifier.log")"
cp -p "$HOOKPIPE_HOME/master.key.3" "$HOME_B/"
send B
assert_status "the right file copied: host B verifies, not restarted" 200

finish
