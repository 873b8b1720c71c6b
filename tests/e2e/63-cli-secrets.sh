#!/usr/bin/env bash
# Secrets given to the CLI: from a file, from stdin and from the
# environment, never in ps; sources that are empty, unreadable or hold a
# control character refused; a secret that does not fit the scheme (a
# whpk_ key that is not 32 bytes) refused at sub create and sub edit;
# masks that show at most 4 characters. cred add and oauth client set
# against the fake GitHub.
. "$(dirname "$0")/lib.sh"

python3 "$ROOT/tests/e2e/helpers/fake_github.py" "$T_DIR/gh.port" "$T_DIR/gh.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/gh.port" || { not_ok "the fake GitHub starts"; finish; }
export HOOKPIPE_GITHUB_API=http://127.0.0.1:$(cat "$T_DIR/gh.port")
export HOOKPIPE_GITHUB_WEB=$HOOKPIPE_GITHUB_API
start_stack

# new_whsec: a fresh whsec_ secret of 32 bytes.
new_whsec() {
	echo "whsec_$(head -c 32 /dev/urandom | base64 -w0)"
}
revealed() {
	hookpipe sub show "$1" --reveal --json | json "d[\"${2:-secret}\"]"
}
sub_count() {
	hookpipe sub list --json | json 'len(d)'
}

# --- sub create from a file, stdin, the environment -----------------------
sec=$(new_whsec)
printf '%s\n' "$sec" >"$T_DIR/sec.file"
out=$(hookpipe sub create from-file --integration openai \
    --secret-file "$T_DIR/sec.file" --json 2>&1)
assert_eq "sub create --secret-file exits 0" 0 "$?"
id=$(json 'd["id"]' <<<"$out")
assert_eq "--secret-file: the file's secret, its newline dropped" "$sec" \
    "$(revealed from-file)"
deliver "$id" "$sec" "$(payload batch.completed)"
assert_status "a delivery signed with it verifies" 200

sec=$(new_whsec)
out=$(printf '%s\n' "$sec" | hookpipe sub create from-stdin \
    --integration openai --secret - --json 2>&1)
assert_eq "sub create --secret - exits 0" 0 "$?"
id=$(json 'd["id"]' <<<"$out")
assert_eq "--secret -: the secret read from stdin" "$sec" "$(revealed from-stdin)"
deliver "$id" "$sec" "$(payload batch.completed)"
assert_status "a delivery signed with it verifies" 200

sec=$(new_whsec)
out=$(HP_TEST_SECRET=$sec hookpipe sub create from-env --integration openai \
    --secret-env HP_TEST_SECRET --json 2>&1)
assert_eq "sub create --secret-env exits 0" 0 "$?"
assert_eq "--secret-env: the variable's secret" "$sec" "$(revealed from-env)"

# sub edit: both secrets of a rotation, without the command line.
new=$(new_whsec)
printf '%s' "$new" >"$T_DIR/new.file"
old=$(revealed from-env)
check "sub edit --secondary-secret-file" hookpipe sub edit from-env \
    --secondary-secret-file "$T_DIR/new.file"
assert_eq "the secondary secret is the file's" "$new" \
    "$(revealed from-env secondary_secret)"
assert_eq "the secret is unchanged" "$old" "$(revealed from-env)"
check "sub edit --secret - (stdin)" sh -c "printf '%s\n' '$new' |
    hookpipe sub edit from-env --secret - --clear-secondary"
assert_eq "the secret is the one from stdin" "$new" "$(revealed from-env)"

# --- refused sources: a clear message, nothing stored --------------------
n=$(sub_count)
: >"$T_DIR/empty"
out=$(hookpipe sub create bad --integration openai --secret-file "$T_DIR/empty" 2>&1)
assert_eq "an empty file is refused (exit 2)" 2 "$?"
assert_contains "naming the file" "$T_DIR/empty" "$out"
printf 'abc\033[2Jdef\n' >"$T_DIR/ctl"
out=$(hookpipe sub create bad --integration openai --secret-file "$T_DIR/ctl" 2>&1)
assert_eq "a control character is refused" 2 "$?"
assert_contains "saying which" "0x1b" "$out"
printf 'abc\0def' >"$T_DIR/nul"
out=$(hookpipe sub create bad --integration openai --secret-file "$T_DIR/nul" 2>&1)
assert_eq "a NUL byte is refused" 2 "$?"
head -c 513 /dev/zero | tr '\0' k >"$T_DIR/long"
out=$(hookpipe sub create bad --integration openai --secret-file "$T_DIR/long" 2>&1)
assert_eq "513 bytes are refused" 2 "$?"
assert_contains "saying the limit" 512 "$out"
out=$(hookpipe sub create bad --integration openai --secret-file "$T_DIR/none" 2>&1)
assert_eq "a missing file is refused" 2 "$?"
assert_contains "naming it" "$T_DIR/none" "$out"
out=$(env -u HP_NOPE hookpipe sub create bad --integration openai --secret-env HP_NOPE 2>&1)
assert_eq "an unset variable is refused" 2 "$?"
assert_contains "naming it" HP_NOPE "$out"
out=$(hookpipe sub create bad --integration openai --secret-file "$T_DIR/sec.file" \
    --secret x 2>&1)
assert_eq "two sources are refused" 2 "$?"
out=$(printf 'a\nb\n' | hookpipe sub create bad --integration openai --secret - 2>&1)
assert_eq "two lines on stdin are refused" 2 "$?"
assert_eq "none of them created a subscription" "$n" "$(sub_count)"

# --- never in ps ------------------------------------------------------------
# The CLI reads the secret from a fifo; while it waits for the end of its
# input, with the secret already read, ps lists it.
sec=$(new_whsec)
mkfifo "$T_DIR/fifo"
exec 3<>"$T_DIR/fifo"
hookpipe sub create in-ps --integration openai --secret - <"$T_DIR/fifo" 3>&- \
    >"$T_DIR/ps.out" 2>&1 &
cli=$!
printf '%s\n' "$sec" >&3
if wait_for 10 sh -c "ps -eo args | grep -q '[s]ub create in-ps'"; then
	sleep 0.3
	ps -eo args >"$T_DIR/ps.args"
	assert_contains "ps lists the command" "sub create in-ps --integration openai --secret -" \
	    "$(cat "$T_DIR/ps.args")"
	check "ps never shows the secret" sh -c "! grep -qF -e '$sec' -e '${sec#whsec_}' '$T_DIR/ps.args'"
else
	not_ok "the CLI is running while it reads the fifo"
fi
exec 3>&-
wait "$cli"
assert_eq "and then creates the subscription" 0 "$?"
assert_eq "with the secret from the fifo" "$sec" "$(revealed in-ps)"

# --- the secret must fit the scheme ----------------------------------------
n=$(sub_count)
short_pk="whpk_$(head -c 16 /dev/urandom | base64 -w0)"
out=$(hookpipe sub create pk --integration openai --secret "$short_pk" 2>&1)
assert_eq "a whpk_ secret of 16 bytes is refused (exit 1)" 1 "$?"
assert_contains "the message names whpk_" "whpk_" "$out"
assert_contains "and says what an HMAC secret is" "whsec_" "$out"
assert_contains "and what a whpk_ key is" "32 bytes" "$out"
printf '%s\n' "whpk_not-base64" >"$T_DIR/pk.file"
out=$(hookpipe sub create pk --integration openai --secret-file "$T_DIR/pk.file" 2>&1)
assert_eq "a whpk_ secret that is not base64 is refused" 1 "$?"
out=$(hookpipe sub create pk --integration openai --secret whsec_abc 2>&1)
assert_eq "a whsec_ secret that is not base64 is refused" 1 "$?"
assert_contains "naming whsec_" "whsec_" "$out"
assert_eq "nothing was created" "$n" "$(sub_count)"
out=$(hookpipe sub edit from-file --secret "$short_pk" 2>&1)
assert_eq "sub edit refuses it too" 1 "$?"
out=$(hookpipe sub edit from-file --secondary-secret "$short_pk" 2>&1)
assert_eq "as a secondary secret too" 1 "$?"
assert_eq "the secret is unchanged" "$(cat "$T_DIR/sec.file")" "$(revealed from-file)"
check "a whpk_ secret of 32 bytes is accepted" hookpipe sub create pk \
    --integration openai --secret "whpk_$(head -c 32 /dev/urandom | base64 -w0)"
check "so is any other text (raw HMAC bytes)" hookpipe sub create raw \
    --integration openai --secret "It's a Secret to Everybody"
check "and for GitHub, any printable text" hookpipe sub create gh \
    --integration github --secret "whpk_abc"

# --- masks: at most 4 characters, none of a short secret ------------------
long=abcdefghijklmnopqrstuvwxyz0123456789WXYZ
check "a 40-character secret" hookpipe sub create m40 --integration github --secret "$long"
check "a 10-character secret" hookpipe sub create m10 --integration github --secret 0123456789
assert_eq "sub show masks 40 characters to the last 4" "…WXYZ" \
    "$(hookpipe sub show m40 --json | json 'd["secret"]')"
out=$(hookpipe sub show m40)
assert_not_contains "and prints no more of it" "9WXYZ" "$out"
assert_contains "in the text too" "…WXYZ" "$out"
assert_eq "sub show masks 10 characters completely" "****" \
    "$(hookpipe sub show m10 --json | json 'd["secret"]')"
pre=$(new_whsec)
hookpipe sub create mpre --integration openai --secret "$pre" >/dev/null
assert_eq "a whsec_ secret keeps its prefix and 4 characters" "whsec_…${pre: -4}" \
    "$(hookpipe sub show mpre --json | json 'd["secret"]')"

# --- cred add and oauth client set, without the command line ---------------
printf 'good-token\n' >"$T_DIR/key"
check "cred add --api-key-file" hookpipe cred add gh-file --integration github \
    --api-key-file "$T_DIR/key"
c=$(grep '"path": "/user"' "$T_DIR/gh.log" | tail -n 1)
assert_eq "the file's key was checked with GET /user" "Bearer good-token" \
    "$(json 'd["headers"]["authorization"]' <<<"$c")"
check "cred add --api-key -" sh -c "printf 'good-token\n' |
    hookpipe cred add gh-stdin --integration github --api-key -"
out=$(GH_KEY=wrong-token hookpipe cred add gh-env --integration github \
    --api-key-env GH_KEY 2>&1)
assert_eq "cred add --api-key-env: a bad key is refused" 1 "$?"
assert_contains "with GitHub's answer" 401 "$out"
c=$(grep '"path": "/user"' "$T_DIR/gh.log" | tail -n 1)
assert_eq "the variable's key was the one checked" "Bearer wrong-token" \
    "$(json 'd["headers"]["authorization"]' <<<"$c")"
list=$(hookpipe cred list --json)
assert_eq "cred list masks a 10-character key completely" "****" \
    "$(json '[c["token"] for c in d if c["name"] == "gh-file"][0]' <<<"$list")"

printf 'csecret\n' >"$T_DIR/client"
check "oauth client set --client-secret-file" hookpipe oauth client set \
    --integration github --client-id cid --client-secret-file "$T_DIR/client"
state=$(hookpipe oauth authorize --integration github --name via-file --json |
    json 'd["state"]')
code=$(curl -s -o "$T_DIR/cb.html" -w '%{http_code}' \
    "$BASE/oauth/github/callback?code=good-code&state=$state")
assert_eq "the stored client secret is the file's (GitHub accepts it)" 200 "$code"

# --- no secret in clear at rest; --help says what the flag exposes ------
found=$(grep -rlaF -e good-token -e csecret -e "$long" "$HOOKPIPE_HOME" \
    --exclude-dir=t 2>/dev/null)
assert_eq "no secret in clear in HOOKPIPE_HOME" "" "$found"
for c in "sub create" "sub edit" "cred add" "oauth client set" "workflow create"; do
	# shellcheck disable=SC2086 # the command is words
	assert_contains "$c --help: the flag is visible in ps" "visible to other users in ps" \
	    "$(hookpipe $c --help | tr -s ' \n' '  ')"
done
finish
