#!/usr/bin/env bash
# $HOOKPIPE_HOME/hookpipe.env: settings every binary reads, under the
# environment; config list|get|set|unset; the CLI says when it makes a
# new state directory, and will not make one when the stack runs with
# another that it was not told of.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

env_file=$HOOKPIPE_HOME/hookpipe.env
out=$(hookpipe config set HOOKPIPE_TOLERANCE soon 2>&1)
assert_eq "an invalid value is refused" 2 "$?"
assert_contains "saying why" "HOOKPIPE_TOLERANCE=soon" "$out"
check "and no file is written" test ! -e "$env_file"
out=$(hookpipe config set HOOKPIPE_HOME /tmp/x 2>&1)
assert_eq "HOOKPIPE_HOME is not a setting of the file" 2 "$?"
out=$(hookpipe config set hookpipe_listen x 2>&1)
assert_eq "a name that is not a setting's is refused" 2 "$?"

check "config set" hookpipe config set HOOKPIPE_TOLERANCE 120
assert_contains "the file has it" "HOOKPIPE_TOLERANCE=120" "$(cat "$env_file")"
assert_eq "the file is private" 600 "$(stat -c %a "$env_file")"
assert_eq "config get" 120 "$(hookpipe config get HOOKPIPE_TOLERANCE)"
list=$(hookpipe config list --json)
assert_eq "config list says it comes from the file" file \
    "$(json '[s["source"] for s in d if s["name"] == "HOOKPIPE_TOLERANCE"][0]' <<<"$list")"
assert_eq "and a default is a default" default \
    "$(json '[s["source"] for s in d if s["name"] == "HOOKPIPE_CONCURRENCY"][0]' <<<"$list")"
assert_eq "the environment wins" environment \
    "$(HOOKPIPE_TOLERANCE=60 hookpipe config get HOOKPIPE_TOLERANCE --json | json 'd["source"]')"
check "config unset" hookpipe config unset HOOKPIPE_TOLERANCE
assert_not_contains "the line is gone" "HOOKPIPE_TOLERANCE" "$(cat "$env_file")"

# The stages read it: the receiver listens where the file says.
port=$(free_port)
check "config set HOOKPIPE_LISTEN" hookpipe config set HOOKPIPE_LISTEN "127.0.0.1:$port"
unset HOOKPIPE_LISTEN
start_stack
post GET "http://127.0.0.1:$port/healthz" ""
assert_status "the receiver listens on the file's address" 200
# hookpipectl reads it too, for what it writes itself.
hookpipectl gen systemd "$T_DIR/units" >/dev/null
assert_contains "hookpipectl gen: the socket unit listens where the file says" \
    "ListenStream=127.0.0.1:$port" "$(cat "$T_DIR/units/hookpipe-receiver.socket")"

printf 'HOOKPIPE_TOLERANCE=300\nnot a setting\n' >>"$env_file"
out=$(hookpipe sub list 2>&1)
assert_eq "a bad line stops the CLI" 1 "$?"
assert_contains "naming the file and line" "hookpipe.env:3: expected NAME=VALUE" "$out"
sed -i '$d' "$env_file"

# A state directory that is not there: made, and said so, when named.
other=$(mktemp -u /tmp/hp.XXXXXX)
out=$(hookpipe --home "$other" sub list 2>&1)
assert_contains "a new state directory is announced" "created a new state directory, $other" "$out"
check "and made" test -d "$other/db"
rm -rf "$other"
# Not named (the default under HOME) while this stack runs: refused.
fake=$(mktemp -d /tmp/hp.XXXXXX)
out=$(env -u HOOKPIPE_HOME HOME="$fake" XDG_STATE_HOME= hookpipe sub list 2>&1)
assert_eq "refused when the stack runs with another" 1 "$?"
# (other stacks of this user may run too: any of them is named)
assert_contains "naming one in use" "and hookpipe runs with /" "$out"
check "nothing made" test ! -e "$fake/.local/state/hookpipe"
rm -rf "$fake"
finish
