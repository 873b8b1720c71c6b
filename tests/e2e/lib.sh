# shellcheck shell=bash
# Helpers for the end-to-end tests: each test script sources this file,
# starts the real stack in a scratch HOOKPIPE_HOME, talks to it over HTTP
# and through the `hookpipe` CLI, and prints one "ok - NAME" or
# "not ok - NAME" line per check (tests/run.sh counts them).
#
# A script can also run alone: `bash tests/e2e/01-valid-event.sh`. The
# scratch directory, the port and the short retry schedule are then
# chosen here.
#
# Requests are signed with the openssl command line, independently of
# the verifier's C code, so that a bug shared by signer and verifier
# cannot hide.

set -u
# shellcheck source=../python.sh
. "$(dirname "${BASH_SOURCE[0]}")/../python.sh"
# shellcheck source=../leftovers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../leftovers.sh"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# make test SANITIZE=... runs the sanitized build (build-san/bin).
BIN=${HOOKPIPE_BIN:-$ROOT/bin}
SHARED=${HOOKPIPE_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
SAMPLES=$SHARED/samples
PATH=$BIN:$PATH
export PATH

T_PASS=0
T_FAIL=0
T_SKIP=0
T_NAME=$(basename "$0" .sh)
BG_PIDS=()

# The scratch state directory: short, because ZeroMQ ipc paths under
# run/ must fit in a Unix socket address.
if [ -z "${HOOKPIPE_HOME:-}" ]; then
	HOOKPIPE_HOME=$(mktemp -d /tmp/hp.XXXXXX)
	T_OWN_HOME=1
else
	T_OWN_HOME=0
fi
free_port() {
	python3 "$ROOT/tests/free-port.py"
}
if [ -z "${HOOKPIPE_LISTEN:-}" ]; then
	HOOKPIPE_LISTEN=127.0.0.1:$(free_port)
	TRIGGER_URL=http://$HOOKPIPE_LISTEN
fi
: "${TRIGGER_URL:=http://$HOOKPIPE_LISTEN}"
: "${HOOKPIPE_RETRY_SCHEDULE:=0.2,0.2,0.2}"
: "${HOOKPIPE_ADMIN_LISTEN:=127.0.0.1:$(free_port)}"
export HOOKPIPE_HOME HOOKPIPE_LISTEN TRIGGER_URL HOOKPIPE_RETRY_SCHEDULE \
    HOOKPIPE_ADMIN_LISTEN
BASE=$TRIGGER_URL
# The admin listener: the console, the API, /metrics.
ADMIN=http://$HOOKPIPE_ADMIN_LISTEN
# Files the test writes (payloads, responses, action output).
T_DIR=$HOOKPIPE_HOME/t
mkdir -p "$T_DIR"

# --- results --------------------------------------------------------

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $T_NAME: $1"
}

not_ok() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok - $T_NAME: $1"
	shift
	local line
	for line in "$@"; do
		echo "#   $line"
	done
}

skip() {
	T_SKIP=$((T_SKIP + 1))
	echo "ok - # skip $T_NAME: $1"
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$T_DIR/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "command failed (status $?): $*"
		sed 's/^/#   /' "$T_DIR/check.out" | head -n 20
	fi
}

assert_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2" "got:      $3"
	fi
}

assert_contains() {
	case $3 in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "expected to contain: $2" "got: $3" ;;
	esac
}

assert_not_contains() {
	case $3 in
	*"$2"*) not_ok "$1" "must not contain: $2" "got: $3" ;;
	*) ok "$1" ;;
	esac
}

# assert_status NAME EXPECTED: checks the last post's status.
assert_status() {
	if [ "$HTTP_STATUS" = "$2" ]; then
		ok "$1 ($2)"
	else
		not_ok "$1" "expected HTTP $2, got $HTTP_STATUS" \
		    "body: $HTTP_BODY"
	fi
}

# Ends the script: the exit status says whether every check passed.
finish() {
	echo "# $T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
	exit
}

# --- JSON -----------------------------------------------------------

# json EXPR: evaluates a Python expression over the JSON document on
# stdin, bound to `d`; prints strings as they are and anything else as
# JSON (true, 3, {...}). Prints nothing and fails on invalid JSON.
json() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    v = eval(sys.argv[1], {"d": d, "len": len, "sorted": sorted})
except Exception as e:
    sys.stderr.write("json: %s\n" % e)
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
' "$1"
}

# --- the stack ------------------------------------------------------

start_stack() {
	local out
	if ! out=$(hookpipectl start 2>&1); then
		not_ok "the stack starts" "$out"
		dump_logs
		finish
	fi
}

stop_stack() {
	hookpipectl stop >/dev/null 2>&1
	# Anything that survived (a loop killed with SIGKILL, a stuck stage).
	kill_leftovers "$HOOKPIPE_HOME"
}

dump_logs() {
	local s
	for s in receiver verifier router dispatcher admin; do
		[ -f "$HOOKPIPE_HOME/log/$s.log" ] || continue
		echo "# --- last lines of $s.log"
		tail -n 15 "$HOOKPIPE_HOME/log/$s.log" | sed 's/^/#   /'
	done
}

cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ "$T_FAIL" -gt 0 ] && dump_logs
	stop_stack
	if [ "$T_OWN_HOME" = 1 ] && [ -z "${HP_KEEP:-}" ]; then
		rm -rf "$HOOKPIPE_HOME"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it
# succeeds; fails after SECONDS (a decimal number).
wait_for() {
	local deadline
	deadline=$(($(date +%s%N) / 1000000 + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
	shift
	while ! "$@"; do
		if [ $(($(date +%s%N) / 1000000)) -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# wait_progress N IDLE WHAT COMMAND...: waits until COMMAND prints a
# count of N or more; fails (saying "stuck at K of N WHAT") when IDLE
# seconds pass with the count unchanged, not at a fixed time: for work
# that takes seconds here and minutes under a sanitizer.
wait_progress() {
	local want=$1 idle_max=$2 what=$3 n last=-1 idle=0
	shift 3
	while :; do
		n=$("$@")
		[ "${n:-0}" -ge "$want" ] && return 0
		if [ "$n" != "$last" ]; then
			last=$n
			idle=0
		elif [ "$idle" -ge "$idle_max" ]; then
			echo "stuck at $n of $want $what" >&2
			return 1
		fi
		sleep 1
		idle=$((idle + 1))
	done
}

# --- subscriptions and workflows ------------------------------------

# new_sub NAME [ARGS...]: creates an OpenAI subscription with a
# generated secret; sets SUB_ID, SUB_SECRET and SUB_URL.
new_sub() {
	local name=$1 out
	shift
	if ! out=$(hookpipe sub create "$name" --integration openai \
	    --generate-secret --json "$@" 2>&1); then
		not_ok "sub create $name" "$out"
		finish
	fi
	SUB_ID=$(json 'd["id"]' <<<"$out")
	SUB_SECRET=$(json 'd["secret"]' <<<"$out")
	# shellcheck disable=SC2034 # for the scripts that source this file
	SUB_URL=$(json 'd["callback_url"]' <<<"$out")
	if [ -z "$SUB_ID" ] || [ -z "$SUB_SECRET" ]; then
		not_ok "sub create $name prints id and secret" "$out"
		finish
	fi
}

# recorder DIR: a shell command for an exec action that keeps each
# attempt's run document and HOOKPIPE_* environment in DIR.
recorder() {
	mkdir -p "$1"
	# shellcheck disable=SC2016 # expanded by the action's /bin/sh
	printf 'f=%s/$HOOKPIPE_RUN_ID.$HOOKPIPE_ATTEMPT; cat >"$f.json"; printf "%%s\\n" "HOOKPIPE_RUN_ID=$HOOKPIPE_RUN_ID" "HOOKPIPE_EVENT=$HOOKPIPE_EVENT" "HOOKPIPE_EVENT_ID=$HOOKPIPE_EVENT_ID" "HOOKPIPE_SUBSCRIPTION=$HOOKPIPE_SUBSCRIPTION" "HOOKPIPE_WORKFLOW=$HOOKPIPE_WORKFLOW" "HOOKPIPE_ATTEMPT=$HOOKPIPE_ATTEMPT" >"$f.env"' "$1"
}

# new_workflow NAME SUB EVENT DIR [ARGS...]: a published workflow whose
# exec action records its runs in DIR.
new_workflow() {
	local name=$1 sub=$2 event=$3 dir=$4 out
	shift 4
	if ! out=$(hookpipe workflow create "$name" --exec "$(recorder "$dir")" \
	    "$@" 2>&1) ||
	    ! out=$(hookpipe workflow trigger "$name" --sub "$sub" \
	    --event "$event" 2>&1) ||
	    ! out=$(hookpipe workflow publish "$name" 2>&1); then
		not_ok "workflow $name is set up" "$out"
		finish
	fi
}

# runs_in DIR: how many run documents the recorder wrote.
runs_in() {
	find "$1" -name '*.json' 2>/dev/null | wc -l | tr -d ' '
}

# has_runs DIR N: at least N runs recorded.
has_runs() {
	[ "$(runs_in "$1")" -ge "$2" ]
}

# --- signing and posting --------------------------------------------

# sign_openai SECRET ID TS BODYFILE: the base64 Standard Webhooks v1
# signature. A whsec_ secret is base64-decoded; any other is used as raw
# bytes, as OpenAI's SDKs do.
sign_openai() {
	local secret=$1 id=$2 ts=$3 file=$4 key
	if [[ $secret == whsec_* ]]; then
		key=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 -v |
		    tr -d ' \n')
	else
		key=$(printf '%s' "$secret" | od -An -tx1 -v | tr -d ' \n')
	fi
	{ printf '%s.%s.' "$id" "$ts"; cat "$file"; } |
	    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary |
	    base64 -w0
}

new_msg_id() {
	echo "msg_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
}

# post METHOD URL BODYFILE [CURL ARGS...]: sets HTTP_STATUS, HTTP_BODY
# and HTTP_HEADERS.
post() {
	local method=$1 url=$2 file=$3
	shift 3
	local data=()
	[ -n "$file" ] && data=(--data-binary "@$file")
	local out
	out=$(curl -s -m 20 -X "$method" -o "$T_DIR/resp.body" \
	    -D "$T_DIR/resp.headers" -w '%{http_code} %{time_total}' \
	    -H 'Content-Type: application/json' "${data[@]}" "$@" "$url")
	HTTP_STATUS=${out%% *}
	# shellcheck disable=SC2034 # seconds, for scripts that report it
	HTTP_TIME=${out#* }
	HTTP_BODY=$(cat "$T_DIR/resp.body" 2>/dev/null)
	# shellcheck disable=SC2034 # for the scripts that source this file
	HTTP_HEADERS=$(tr -d '\r' <"$T_DIR/resp.headers" 2>/dev/null)
}

# api METHOD PATH [JSON [CURL ARGS...]]: an admin API call with the
# token in admin.token; sets what post sets.
api() {
	local method=$1 path=$2 body=${3:-}
	shift 3 2>/dev/null || shift $#
	local data=()
	[ -n "$body" ] && data=(--data-binary "$body")
	HTTP_STATUS=$(curl -s -m 60 -X "$method" -o "$T_DIR/resp.body" \
	    -D "$T_DIR/resp.headers" -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $(cat "$HOOKPIPE_HOME/admin.token")" \
	    "${data[@]}" "$@" "$ADMIN$path")
	HTTP_BODY=$(cat "$T_DIR/resp.body" 2>/dev/null)
	# shellcheck disable=SC2034 # for the scripts that source this file
	HTTP_HEADERS=$(tr -d '\r' <"$T_DIR/resp.headers" 2>/dev/null)
}

# deliver SUB_ID SECRET BODYFILE [ID [TS]]: posts BODYFILE signed as
# OpenAI signs it; sets MSG_ID besides the post variables.
deliver() {
	local sub=$1 secret=$2 file=$3
	MSG_ID=${4:-$(new_msg_id)}
	local ts=${5:-$(date +%s)}
	post POST "$BASE/triggers/plugin/$sub" "$file" \
	    -H "webhook-id: $MSG_ID" -H "webhook-timestamp: $ts" \
	    -H "webhook-signature: v1,$(sign_openai "$secret" "$MSG_ID" "$ts" "$file")"
}

# payload TYPE [FILE]: writes an OpenAI event of TYPE to FILE (default
# $T_DIR/TYPE.json) and prints the file name.
payload() {
	local f=${2:-$T_DIR/$1.json}
	printf '{"id":"evt_%s","object":"event","type":"%s","created_at":%s,"data":{"id":"batch_%s"}}' \
	    "$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" "$1" "$(date +%s)" \
	    "$RANDOM" >"$f"
	echo "$f"
}

# Waits for the start of a new second, so that a timestamp taken now is
# still the same second when the verifier checks it.
next_second() {
	python3 -c 'import time; time.sleep(1.02 - time.time() % 1)'
}

# sample NAME: the path of a provider sample, or fails when ../shared is
# not there.
sample() {
	[ -f "$SAMPLES/$1" ] && echo "$SAMPLES/$1"
}

# browser_walk HELPER LINK SHOTS: runs tests/e2e/helpers/HELPER (a
# puppeteer-core walk through the console, in $chromium) and turns its
# "PASS what" / "FAIL what: why" lines into checks; then checks it ended
# well.
browser_walk() {
	local rc line
	CHROMIUM=$chromium timeout 150 node "$ROOT/tests/e2e/helpers/$1" \
	    "$2" "$3" >"$T_DIR/browser.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) not_ok "${line#FAIL }" "" ;;
		*) echo "# $line" ;;
		esac
	done <"$T_DIR/browser.out"
	check "the browser walk ended well (exit $rc)" test "$rc" = 0
}
