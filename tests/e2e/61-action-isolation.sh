#!/usr/bin/env bash
# What an action gets from the dispatcher, and what it cannot take:
# - an exec action has only stdin, stdout and stderr open, and an
#   environment of PATH, HOME, LANG, the run's HOOKPIPE_* variables and
#   what the workflow names with --env: not the stack's secrets;
# - --user runs it as another user (when the stack runs as root);
# - an action that kills the dispatcher ends dead after its retries
#   instead of running again and again under the same attempt;
# - http headers and URL userinfo are sealed in LMDB and masked on
#   display, and still reach the server;
# - an absurd Retry-After is clamped.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_RETRY_SCHEDULE=0.2
# In the stack's environment, so in the dispatcher's: never the action's,
# unless a workflow names them.
export HOOKPIPE_TEST_SECRET=stack-secret-31415
export AWS_SECRET_ACCESS_KEY=aws-secret-27182
export HP_PASS_ME=passed-through-16180
start_stack
python3 "$ROOT/tests/e2e/helpers/sink.py" "$T_DIR/sink.port" "$T_DIR/sink.log" &
BG_PIDS+=($!)
wait_for 10 test -s "$T_DIR/sink.port" || { not_ok "the sink starts"; finish; }
port=$(cat "$T_DIR/sink.port")
sink=http://127.0.0.1:$port

new_sub iso
sub=$SUB_ID
run_of() { hookpipe runs --workflow "$1" --json | json "$2"; }
status_is() {
	[ "$(hookpipe runs --workflow "$1" --json 2>/dev/null |
	    json 'd[0]["status"] if d else ""' 2>/dev/null)" = "$2" ]
}
hooks() { grep -c "\"path\": \"$1\"" "$T_DIR/sink.log" 2>/dev/null || echo 0; }
has_hooks() { [ "$(hooks "$1")" -ge "$2" ]; }

# wf NAME EVENT ACTION-ARGS... : a published workflow on EVENT.
wf() {
	local name=$1 event=$2 out
	shift 2
	if ! out=$(hookpipe workflow create "$name" "$@" 2>&1) ||
	    ! out=$(hookpipe workflow trigger "$name" --sub iso \
	    --event "$event" 2>&1) ||
	    ! out=$(hookpipe workflow publish "$name" 2>&1); then
		not_ok "workflow $name is set up" "$out"
	fi
}

# --- what an exec action inherits -----------------------------------

# ls lists the descriptors it has itself: 0, 1, 2 and the one it reads
# /proc/self/fd through.
# shellcheck disable=SC2016 # expanded by the action's shell
wf iso batch.completed \
    --exec "ls /proc/self/fd >$T_DIR/iso.fds; ls -l /proc/self/fd >$T_DIR/iso.fdl; env >$T_DIR/iso.env" \
    --env HP_PASS_ME --env FIXED_VALUE=fixed-value-14142 --env NOT_SET_ANYWHERE
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	as_root=1
	wf as-nobody batch.completed --user nobody \
	    --exec 'id -u; id -g; id -G; echo "HOME=$HOME"; ls /proc/self/fd'
else
	as_root=0
	out=$(hookpipe workflow create as-nobody --user nobody --exec 'id -u' 2>&1)
	check "workflow create --user: created" test $? -eq 0
	assert_contains "workflow create --user warns without root" \
	    "needs the dispatcher to run as root" "$out"
	hookpipe workflow trigger as-nobody --sub iso --event batch.completed >/dev/null
	hookpipe workflow publish as-nobody >/dev/null
fi
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "delivery for the exec actions" 200

check "iso: the action ran" wait_for 15 status_is iso succeeded
assert_eq "iso: only fds 0, 1, 2 (and the one ls reads)" "0 1 2 3" \
    "$(tr '\n' ' ' <"$T_DIR/iso.fds" | sed 's/ $//')"
assert_not_contains "iso: no LMDB file among its fds" data.mdb \
    "$(cat "$T_DIR/iso.fdl")"
env_has() { grep -q "^$1\$" "$T_DIR/iso.env"; }
env_name() { grep -q "^$1=" "$T_DIR/iso.env"; }
check "iso: HOOKPIPE_RUN_ID is set" env_name HOOKPIPE_RUN_ID
check "iso: HOOKPIPE_EVENT is set" env_has HOOKPIPE_EVENT=batch.completed
check "iso: HOOKPIPE_ATTEMPT is set" env_has HOOKPIPE_ATTEMPT=1
check "iso: HOOKPIPE_WORKFLOW is set" env_has HOOKPIPE_WORKFLOW=iso
check "iso: HOOKPIPE_SUBSCRIPTION is set" env_has "HOOKPIPE_SUBSCRIPTION=$sub"
check "iso: HOOKPIPE_EVENT_ID is set" env_name HOOKPIPE_EVENT_ID
check "iso: PATH is set" env_name PATH
check "iso: --env NAME passes the dispatcher's value" \
    env_has HP_PASS_ME=passed-through-16180
check "iso: --env NAME=VALUE" env_has FIXED_VALUE=fixed-value-14142
check "iso: no HOOKPIPE_HOME" sh -c "! grep -q '^HOOKPIPE_HOME=' $T_DIR/iso.env"
check "iso: no HOOKPIPE_RETRY_SCHEDULE" \
    sh -c "! grep -q '^HOOKPIPE_RETRY_SCHEDULE=' $T_DIR/iso.env"
check "iso: not the stack's HOOKPIPE_TEST_SECRET" \
    sh -c "! grep -q stack-secret-31415 $T_DIR/iso.env"
check "iso: not the stack's AWS_SECRET_ACCESS_KEY" \
    sh -c "! grep -q aws-secret-27182 $T_DIR/iso.env"
check "iso: an --env NAME unset in the dispatcher stays unset" \
    sh -c "! grep -q '^NOT_SET_ANYWHERE=' $T_DIR/iso.env"
# Anything else is the shell's own (PWD, SHLVL, _).
extra=$(python3 - "$T_DIR/iso.env" <<'PY'
import sys
allowed = {"PATH", "HOME", "LANG", "HOOKPIPE_RUN_ID", "HOOKPIPE_EVENT",
           "HOOKPIPE_EVENT_ID", "HOOKPIPE_SUBSCRIPTION", "HOOKPIPE_WORKFLOW",
           "HOOKPIPE_ATTEMPT", "HP_PASS_ME", "FIXED_VALUE", "PWD", "OLDPWD",
           "SHLVL", "_"}
names = [l.split("=", 1)[0] for l in open(sys.argv[1]) if "=" in l]
print(" ".join(sorted(n for n in names if n not in allowed)))
PY
)
assert_eq "iso: nothing else in the environment" "" "$extra"
show=$(hookpipe workflow show iso)
assert_contains "workflow show lists --env" HP_PASS_ME "$show"
assert_not_contains "workflow show masks an --env value" fixed-value-14142 "$show"
assert_not_contains "workflow show --json masks an --env value" \
    fixed-value-14142 "$(hookpipe workflow show iso --json)"

if [ "$as_root" = 1 ]; then
	check "--user: the action ran" wait_for 15 status_is as-nobody succeeded
	out=$(run_of as-nobody 'd[0]["history"][0]["output"]')
	uid=$(id -u nobody) gid=$(id -g nobody)
	assert_eq "--user: id -u" "$uid" "$(sed -n 1p <<<"$out")"
	assert_eq "--user: id -g" "$gid" "$(sed -n 2p <<<"$out")"
	assert_eq "--user: id -G (its groups, not root's)" "$(id -G nobody)" \
	    "$(sed -n 3p <<<"$out")"
	assert_eq "--user: HOME is the user's" \
	    "HOME=$(getent passwd nobody | cut -d: -f6)" "$(sed -n 4p <<<"$out")"
	assert_eq "--user: only fds 0, 1, 2 (and the one ls reads)" "0 1 2 3" \
	    "$(sed -n '5,$p' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
else
	check "--user without root: the run fails" wait_for 15 status_is as-nobody failed
	assert_contains "--user without root: the error says why" \
	    "needs the dispatcher to run as root" \
	    "$(run_of as-nobody 'd[0]["last_error"]')"
	skip "--user as another user: the tests do not run as root"
fi

# Refused at once, nothing stored.
for bad in "1BAD" "BAD NAME" "A=b
c" "HOOKPIPE_RUN_ID" "HOOKPIPE_ATTEMPT=9"; do
	hookpipe workflow create env-bad --exec true --env "$bad" >/dev/null 2>&1
	assert_eq "--env '$bad' is a usage error" 2 $?
done
hookpipe workflow create env-bad --http "$sink/ok" --env A=b >/dev/null 2>&1
assert_eq "--env goes with --exec" 2 $?
hookpipe workflow create env-bad --http "$sink/ok" --user nobody >/dev/null 2>&1
assert_eq "--user goes with --exec" 2 $?
hookpipe workflow create env-bad --exec true --user no-such-user-2718 >/dev/null 2>&1
assert_eq "--user with an unknown user fails" 1 $?
check "nothing was stored" sh -c "! hookpipe workflow show env-bad >/dev/null 2>&1"

# --- http: headers and URL userinfo sealed --------------------------

wf sealed-hdr response.completed --http "$sink/hdr" \
    --header "Authorization: Bearer tok-secret-57721" --header "X-Team: ops-team"
wf sealed-url response.completed \
    --http "http://robot:url-pass-66260@127.0.0.1:$port/userinfo"
deliver "$sub" "$SUB_SECRET" "$(payload response.completed)"
assert_status "delivery for the http actions" 200
check "sealed: the server got the header" wait_for 15 has_hooks /hdr 1
line=$(grep '"path": "/hdr"' "$T_DIR/sink.log" | head -n 1)
assert_eq "sealed: Authorization reached the server" "Bearer tok-secret-57721" \
    "$(json 'd["headers"]["authorization"]' <<<"$line")"
assert_eq "sealed: X-Team reached the server" ops-team \
    "$(json 'd["headers"]["x-team"]' <<<"$line")"
check "sealed: the server got the userinfo request" wait_for 15 has_hooks /userinfo 1
line=$(grep '"path": "/userinfo"' "$T_DIR/sink.log" | head -n 1)
assert_eq "sealed: the URL's userinfo reached the server" \
    "Basic $(printf robot:url-pass-66260 | base64)" \
    "$(json 'd["headers"]["authorization"]' <<<"$line")"

out=$(hookpipe workflow show sealed-hdr)
assert_not_contains "workflow show: no token" tok-secret-57721 "$out"
assert_contains "workflow show: the header, masked" "Authorization: Bearer ****" "$out"
out=$(hookpipe workflow show sealed-hdr --json)
assert_not_contains "workflow show --json: no token" tok-secret-57721 "$out"
assert_eq "workflow show --json: the header, masked" "Bearer ****" \
    "$(json 'd["action"]["headers"]["Authorization"]' <<<"$out")"
out=$(hookpipe workflow show sealed-url)
assert_not_contains "workflow show: no URL password" url-pass-66260 "$out"
assert_contains "workflow show: the URL, masked" "http://robot:****@127.0.0.1:$port/userinfo" "$out"
assert_not_contains "workflow show --json: no URL password" url-pass-66260 \
    "$(hookpipe workflow show sealed-url --json)"
out="$(hookpipe workflow list) $(hookpipe workflow list --json)"
assert_not_contains "workflow list: no token" tok-secret-57721 "$out"
assert_not_contains "workflow list: no URL password" url-pass-66260 "$out"
for s in tok-secret-57721 url-pass-66260 fixed-value-14142; do
	assert_eq "LMDB: $s is not stored in clear" 0 \
	    "$(cat "$HOOKPIPE_HOME"/db/*/data.mdb | grep -ac "$s")"
	assert_eq "logs: $s is not logged" 0 \
	    "$(cat "$HOOKPIPE_HOME"/log/*.log | grep -c "$s")"
done

# --- Retry-After ----------------------------------------------------

# Too big for any integer type: ignored, retried on the schedule.
wf ra-huge response.failed --retries 2 --http "$sink/after/1/99999999999999999999"
# 3,000 years, and a date in 9999: clamped to a day.
wf ra-far response.failed --retries 2 --http "$sink/after/1/99999999999"
wf ra-date response.failed --retries 2 \
    --http "$sink/after/1/Fri%2C%2031%20Dec%209999%2023%3A59%3A59%20GMT"
deliver "$sub" "$SUB_SECRET" "$(payload response.failed)"
assert_status "delivery for the Retry-After actions" 200
check "Retry-After 99999999999999999999: retried, succeeded" \
    wait_for 15 status_is ra-huge succeeded
assert_eq "Retry-After 99999999999999999999: two attempts" 2 \
    "$(run_of ra-huge 'd[0]["attempts"]')"
within_a_day() {
	python3 - "$1" <<'PY'
import datetime, sys
try:
    t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
except ValueError:
    sys.exit(1)
now = datetime.datetime.now(datetime.timezone.utc)
sys.exit(0 if datetime.timedelta(hours=23) < t - now <= datetime.timedelta(days=1, minutes=1) else 1)
PY
}
for w in ra-far ra-date; do
	check "$w: waits for the retry" wait_for 15 status_is "$w" failed
	next=$(run_of "$w" 'd[0].get("next_at") or ""')
	check "$w: the retry is due within a day ($next)" within_a_day "$next"
done

# --- an action that kills the dispatcher ----------------------------

# Each attempt SIGKILLs the dispatcher. The attempt was recorded as
# started before the action ran, so it counts: 1 + 2 retries, then dead.
wf killer batch.failed --retries 2 \
    --exec "echo \$HOOKPIPE_ATTEMPT >>$T_DIR/killer.log; kill -KILL \$(cat $HOOKPIPE_HOME/run/dispatcher.pid)"
deliver "$sub" "$SUB_SECRET" "$(payload batch.failed)"
assert_status "delivery for the killer" 200
check "killer: the run ends dead" wait_for 60 status_is killer dead
assert_eq "killer: attempts 1, 2, 3 ran once each" "1 2 3" \
    "$(tr '\n' ' ' <"$T_DIR/killer.log" | sed 's/ $//')"
assert_eq "killer: three attempts" 3 "$(run_of killer 'd[0]["attempts"]')"
assert_eq "killer: each attempt recorded as interrupted" \
    '["interrupted: the dispatcher stopped", "interrupted: the dispatcher stopped", "interrupted: the dispatcher stopped"]' \
    "$(run_of killer '[a["error"] for a in d[0]["history"]]')"
check "the dispatcher is back" wait_for 15 sh -c 'hookpipectl status | grep -q "^dispatcher *up"'
sleep 1
assert_eq "killer: no attempt after the last" 3 "$(wc -l <"$T_DIR/killer.log" | tr -d ' ')"
finish
