# shellcheck shell=bash
# Shared by the chaos tests (sourced, bash): a scratch HOOKPIPE_HOME, the
# stack under hookpipectl, a subscription and an exec workflow, the load
# generator, and the tally of checks ("N passed, N failed").
#
# Knobs (environment): CHAOS_KEEP=1 keeps the scratch home even when all
# passed; HOOKPIPE_CLI overrides bin/hookpipe.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../python.sh
. "$ROOT/tests/python.sh"
CHAOS_DIR=$ROOT/tests/chaos
BIN=$ROOT/bin
HP=${HOOKPIPE_CLI:-$BIN/hookpipe}
CTL=$BIN/hookpipectl
STAGES="dispatcher router verifier receiver"

n_pass=0
n_fail=0
bg_pids=""

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

ok() {
	n_pass=$((n_pass + 1))
	printf 'ok - %s\n' "$1" >>"$CHECKS"
	printf 'ok - %s\n' "$1"
}

notok() {
	n_fail=$((n_fail + 1))
	printf 'not ok - %s :: %s\n' "$1" "${2:-}" >>"$CHECKS"
	printf 'not ok - %s\n' "$1"
	[ -n "${2:-}" ] && printf '    %s\n' "$2"
	return 0
}

# check DESC EVIDENCE COMMAND...: ok when COMMAND succeeds.
check() {
	local d=$1 e=$2
	shift 2
	if "$@"; then ok "$d"; else notok "$d" "$e"; fi
}

die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 2
}

need_bins() {
	local b
	for b in hookpipe-receiver hookpipe-verifier hookpipe-router \
	    hookpipe-dispatcher hookpipectl; do
		[ -x "$BIN/$b" ] || die "$BIN/$b missing: run make first"
	done
	[ -x "$HP" ] || die "$HP missing: run make first"
	command -v python3 >/dev/null || die "python3 is needed"
	command -v flock >/dev/null || die "flock (util-linux) is needed"
	command -v cc >/dev/null || die "a C compiler is needed"
}

free_port() {
	python3 "$ROOT/tests/free-port.py"
}

# A scratch home (short: unix socket paths stay well under 100 bytes),
# a free port, short retries, the tools built.
setup_env() {
	need_bins
	HOOKPIPE_HOME=$(mktemp -d /tmp/hpc.XXXXXX) || die "mktemp"
	export HOOKPIPE_HOME
	WORK=$HOOKPIPE_HOME/chaos
	mkdir -p "$WORK"
	CHECKS=$WORK/checks
	: >"$CHECKS"
	PORT=$(free_port)
	export HOOKPIPE_LISTEN=127.0.0.1:$PORT
	export TRIGGER_URL=http://127.0.0.1:$PORT
	# Its own admin port too: a stack elsewhere on the default one must
	# not make this one's start fail.
	export HOOKPIPE_ADMIN_LISTEN=127.0.0.1:$(free_port)
	export HOOKPIPE_RETRY_SCHEDULE=${HOOKPIPE_RETRY_SCHEDULE:-0.2,0.2,0.5,1}
	# HOOKPIPE_VERIFY_TIMEOUT_MS: the product default (5 s) unless set.
	LG=$WORK/loadgen
	cc -O2 -Wall -Wextra -o "$LG" "$CHAOS_DIR/loadgen.c" -lcrypto ||
	    die "cannot build loadgen"
	trap on_exit EXIT
	trap 'exit 130' INT TERM
	say "HOOKPIPE_HOME=$HOOKPIPE_HOME listen=$HOOKPIPE_LISTEN"
}

stage_pid() {
	local p=
	[ -f "$HOOKPIPE_HOME/run/$1.pid" ] && read -r p <"$HOOKPIPE_HOME/run/$1.pid"
	printf '%s' "$p"
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# is_stage_proc STAGE PID: PID runs a hookpipe-STAGE binary (a pid file
# left by a crash may name a pid given to another process since).
is_stage_proc() {
	local e
	e=$(readlink "/proc/$2/exe" 2>/dev/null) || return 1
	e=${e% (deleted)}
	[ "${e##*/}" = "hookpipe-$1" ]
}

# wait_up STAGE OLD_PID SECONDS: a live stage other than OLD_PID.
wait_up() {
	local s=$1 old=$2 i=0 p
	while [ "$i" -lt $(($3 * 20)) ]; do
		p=$(stage_pid "$s")
		if [ -n "$p" ] && [ "$p" != "$old" ] && alive "$p"; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

healthz() {
	curl -s -m "${1:-2}" -o /dev/null -w '%{http_code}' "$TRIGGER_URL/healthz"
}

# wait_healthy SECONDS
wait_healthy() {
	local i=0
	while [ "$i" -lt $(($1 * 10)) ]; do
		[ "$(healthz 1)" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start_stack() {
	if ! "$CTL" start >"$WORK/start.log" 2>&1; then
		cat "$WORK/start.log"
		die "hookpipectl start failed (logs in $HOOKPIPE_HOME/log)"
	fi
	wait_healthy 10 || die "/healthz not 200 after start: $(curl -s "$TRIGGER_URL/healthz")"
}

stop_stack() {
	timeout 60 "$CTL" stop >>"$WORK/stop.log" 2>&1
}

# Everything we started, by pid: loadgens, then the stack, then any stage
# of this home still alive (e.g. after a failed stop).
on_exit() {
	local rc=$? p s
	trap - EXIT
	[ -n "${CHECKS:-}" ] && [ -f "$CHECKS" ] && count_checks
	for p in $bg_pids; do
		alive "$p" && kill "$p" 2>/dev/null
	done
	if [ -n "${HOOKPIPE_HOME:-}" ] && [ -d "$HOOKPIPE_HOME/run" ]; then
		stop_stack
		for s in $STAGES; do
			p=$(stage_pid "$s")
			is_stage_proc "$s" "$p" && kill -9 "$p" 2>/dev/null
		done
	fi
	if [ -n "${HOOKPIPE_HOME:-}" ] && [ -d "$HOOKPIPE_HOME" ]; then
		if [ "$n_fail" = 0 ] && [ "$rc" = 0 ] && [ -z "${CHAOS_KEEP:-}" ]; then
			rm -rf "$HOOKPIPE_HOME"
		else
			echo "state, logs and outputs kept in $HOOKPIPE_HOME (logs: log/, test files: chaos/)"
		fi
	fi
	exit "$rc"
}

# The exec action: appends "EVENT_ID RUN_ID" to $1 under flock, after
# sleeping $2 seconds (0: none). Written as a script so quoting stays sane.
# The id is cut out of the one-line run document with shell builtins (a
# jq per run costs more CPU than the rest of the pipeline); jq, or python3,
# only when the inputs do not start with "id".
write_action() {
	local out=$1 nap=${2:-0} f getid
	f=$WORK/action-$(basename "$1").sh
	if command -v jq >/dev/null; then
		getid='jq -r .inputs.id'
	else
		getid="python3 -c 'import json,sys; print(json.load(sys.stdin)[\"inputs\"][\"id\"])'"
	fi
	cat >"$f" <<EOF
#!/bin/sh
# hookpipe chaos test action: stdin is the run document.
IFS= read -r doc || [ -n "\$doc" ] || exit 1
case \$doc in
*'"inputs":{"id":"'*)
	t=\${doc#*'"inputs":{"id":"'}
	id=\${t%%'"'*}
	;;
*)
	id=\$({ printf '%s\n' "\$doc"; cat; } | $getid) || exit 1
	;;
esac
[ -n "\$id" ] && [ "\$id" != null ] || exit 1
[ "$nap" != 0 ] && sleep $nap
exec 9>>"$out.lock"
flock 9 || exit 1
printf '%s %s\n' "\$id" "\$HOOKPIPE_RUN_ID" >>"$out"
EOF
	chmod 755 "$f"
	printf '%s' "$f"
}

json_field() {
	python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# shellcheck disable=SC2034 # SUB_ID and SECRET are for the caller
# make_pipeline NAME ACTION_CMD: a subscription NAME (openai, all events)
# and a published workflow NAME-wf on batch.completed. Sets SUB_ID, SECRET.
make_pipeline() {
	local name=$1 cmd=$2 js
	SECRET=whsec_$(head -c 24 /dev/urandom | base64)
	js=$("$HP" sub create "$name" --integration openai --secret "$SECRET" \
	    --json) || die "hookpipe sub create failed"
	SUB_ID=$(printf '%s' "$js" | json_field id) || die "sub create: no id in: $js"
	"$HP" workflow create "$name-wf" --exec "$cmd" >/dev/null ||
	    die "hookpipe workflow create failed"
	"$HP" workflow trigger "$name-wf" --sub "$name" \
	    --event batch.completed >/dev/null || die "hookpipe workflow trigger failed"
	"$HP" workflow publish "$name-wf" >/dev/null ||
	    die "hookpipe workflow publish failed"
}

# wait_runs SECONDS RUNS LG_OUT...: until every 2xx'd event has run.
wait_runs() {
	local t=$1 runs=$2 i=0 left
	shift 2
	while :; do
		left=$(python3 "$CHAOS_DIR/check.py" pending "$runs" "${BAD_EVERY:-0}" "$@")
		[ "$left" = 0 ] && return 0
		[ "$i" -ge $((t * 4)) ] && {
			echo "    still $left 2xx'd events without a run after ${t}s"
			return 1
		}
		sleep 0.25
		i=$((i + 1))
	done
}

vm_field() {	# vm_field PID VmHWM -> kB
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Exits of each stage recorded by its supervise loop other than the ones
# we caused; prints them, returns 1 if any.
unexpected_exits() {
	local s bad=0 lines
	for s in $STAGES; do
		[ -f "$HOOKPIPE_HOME/log/$s.log" ] || continue
		lines=$(grep -E 'stage exited with' "$HOOKPIPE_HOME/log/$s.log" |
		    grep -vE "stage exited with (0|137|143)[ ,]")
		if [ -n "$lines" ]; then
			printf '%s\n' "$lines" | sed "s/^/    $s: /"
			bad=1
		fi
	done
	return $bad
}

# Counts from the checks file: the shell's and check.py's alike.
count_checks() {
	n_pass=$(grep -c '^ok - ' "$CHECKS")
	n_fail=$(grep -c '^not ok - ' "$CHECKS")
}

tally() {
	count_checks
	echo
	printf '%d passed, %d failed\n' "$n_pass" "$n_fail"
	[ "$n_fail" = 0 ]
}
