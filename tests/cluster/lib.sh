# shellcheck shell=bash
# Helpers for the cluster tests: three nats-server processes clustered
# with JetStream on free loopback ports, and two hookpipe hosts (two
# HOOKPIPE_HOMEs, two receiver ports) that share them. Sourced after
# tests/e2e/lib.sh, whose scratch HOOKPIPE_HOME is host A's.

# shellcheck source=../e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

if ! command -v nats-server >/dev/null 2>&1; then
	skip "nats-server is not installed (bash .ci/deps installs it)"
	finish
fi

NATS_DIR=$T_DIR/nats
NATS_PORT=()
NATS_ROUTE=()
NATS_PID=()

# nats_start I: starts server I (1..3) of the cluster, with its store.
nats_start() {
	local i=$1 routes="" j
	for j in 1 2 3; do
		[ "$j" = "$i" ] && continue
		routes=${routes:+$routes,}nats://127.0.0.1:${NATS_ROUTE[$j]}
	done
	mkdir -p "$NATS_DIR/n$i"
	nats-server -a 127.0.0.1 -p "${NATS_PORT[$i]}" -js \
	    -sd "$NATS_DIR/n$i" --server_name "n$i" --cluster_name hp \
	    --cluster "nats://127.0.0.1:${NATS_ROUTE[$i]}" --routes "$routes" \
	    >>"$NATS_DIR/n$i.log" 2>&1 &
	NATS_PID[$i]=$!
}

# nats_kill I: SIGKILL, as a crashed machine.
nats_kill() {
	kill -KILL "${NATS_PID[$1]}" 2>/dev/null
	wait "${NATS_PID[$1]}" 2>/dev/null
	NATS_PID[$1]=
}

# other_port VAR: sets VAR to a free port that none of this script's
# listeners has (free_port alone may give the same one twice).
T_PORTS=" ${HOOKPIPE_LISTEN##*:} ${HOOKPIPE_ADMIN_LISTEN##*:} "
other_port() {
	local p
	while :; do
		p=$(free_port)
		case $T_PORTS in
		*" $p "*) ;;
		*) T_PORTS="$T_PORTS$p "; printf -v "$1" '%s' "$p"; return ;;
		esac
	done
}

nats_cluster() {
	local i
	for i in 1 2 3; do
		other_port "NATS_PORT[$i]"
		other_port "NATS_ROUTE[$i]"
	done
	for i in 1 2 3; do
		nats_start "$i"
	done
	HOOKPIPE_NATS=nats://127.0.0.1:${NATS_PORT[1]},nats://127.0.0.1:${NATS_PORT[2]},nats://127.0.0.1:${NATS_PORT[3]}
	export HOOKPIPE_NATS
}

nats_stop() {
	local i
	for i in 1 2 3; do
		[ -n "${NATS_PID[$i]:-}" ] && kill "${NATS_PID[$i]}" 2>/dev/null
	done
	wait 2>/dev/null
}

# Host B: its own state directory, receiver and admin ports.
HOME_B=$HOOKPIPE_HOME/b
other_port LISTEN_B
other_port ADMIN_B
LISTEN_B=127.0.0.1:$LISTEN_B
ADMIN_B=127.0.0.1:$ADMIN_B
BASE_A=$BASE
BASE_B=http://$LISTEN_B

# on_b COMMAND...: runs COMMAND as host B.
on_b() {
	HOOKPIPE_HOME=$HOME_B HOOKPIPE_LISTEN=$LISTEN_B TRIGGER_URL=$BASE_B \
	    HOOKPIPE_ADMIN_LISTEN=$ADMIN_B "$@"
}

# The hosts, then the NATS servers, then the scratch directory (a server
# still running would write its store into it again).
cluster_cleanup() {
	on_b hookpipectl stop >/dev/null 2>&1
	if [ "$T_FAIL" -gt 0 ]; then
		echo "# --- host B"
		HOOKPIPE_HOME=$HOME_B dump_logs
	fi
	stop_stack
	nats_stop
	cleanup
}
trap cluster_cleanup EXIT

# cluster_init: the NATS cluster and `hookpipe cluster init`; a failure
# ends the script.
cluster_init() {
	nats_cluster
	if ! wait_for 60 hookpipe cluster init --replicas 3 >/dev/null 2>&1
	then
		not_ok "cluster init" "$(hookpipe cluster init --replicas 3 2>&1)"
		finish
	fi
	ok "cluster init${1:+ $1}"
}

# two_hosts: host A's state made, its master key copied to host B (as
# the operator distributes it), both hosts started; a failure ends the
# script.
two_hosts() {
	local out

	hookpipe sub list >/dev/null 2>&1
	mkdir -p "$HOME_B"
	chmod 700 "$HOME_B"
	cp -p "$HOOKPIPE_HOME/master.key" "$HOME_B/master.key"
	start_stack
	if ! out=$(on_b hookpipectl start 2>&1); then
		not_ok "host B starts" "$out"
		finish
	fi
	ok "both hosts started"
}

# ran_workflow NAME FILE: a published workflow NAME, on every event of
# the subscription SUB_ID, whose exec action appends the event's id to
# FILE; made on host A; a failure ends the script.
ran_workflow() {
	local out

	: >"$2"
	# shellcheck disable=SC2016 # expanded by the action's /bin/sh
	if ! out=$(hookpipe workflow create "$1" \
	    --exec "printf '%s\\n' \"\$HOOKPIPE_EVENT_ID\" >>$2" 2>&1) ||
	    ! out=$(hookpipe workflow trigger "$1" --sub "$SUB_ID" \
	    --event '*' 2>&1) ||
	    ! out=$(hookpipe workflow publish "$1" 2>&1); then
		not_ok "workflow $1 is set up on host A" "$out"
		finish
	fi
}

# published_on_b [NAME]: host B has workflow NAME (w), published.
published_on_b() {
	on_b hookpipe workflow show "${1:-w}" --json 2>/dev/null |
	    grep -q '"published"'
}

# send_to BASE N [FILE]: N signed deliveries (batch.completed) for the
# subscription SUB_ID to the host at BASE; the event ids of those
# answered 200 appended to FILE.
send_to() {
	local base=$1 n=$2 out=${3:-} _ f
	for _ in $(seq 1 "$n"); do
		f=$(payload batch.completed "$T_DIR/p.json")
		BASE=$base deliver "$SUB_ID" "$SUB_SECRET" "$f"
		if [ -n "$out" ] && [ "$HTTP_STATUS" = 200 ]; then
			json 'd["event_id"]' <<<"$HTTP_BODY" >>"$out"
		fi
	done
}

# ran_on_both SUB: a subscription SUB (new_sub) and a workflow w whose
# exec action appends each event's id to $RAN, published on both hosts.
ran_on_both() {
	new_sub "$1"
	RAN=$T_DIR/ran
	ran_workflow w "$RAN"
	check "host B has the workflow" wait_for 30 published_on_b
}

# ran N: N events or more ran ($RAN), each counted once.
ran() {
	[ "$(sort -u "$RAN" | wc -l)" -ge "$1" ]
}

# big_dead_on_b: a workflow big whose three attempts each print 64 KiB
# of control characters (JSON writes each in six bytes: 384 KiB an
# attempt) and fail, made on host A; one event of it delivered to host
# A with A's router stopped (it stays stopped), so that host B routes
# it and runs it to dead. BIG: that run's id.
big_dead_on_b() {
	# shellcheck disable=SC2016 # expanded by the action's /bin/sh
	hookpipe workflow create big --retries 2 \
	    --exec 'head -c 65536 /dev/zero | tr "\0" "\001"; exit 1' >/dev/null
	hookpipe workflow trigger big --sub "$SUB_ID" --event batch.failed \
	    >/dev/null
	hookpipe workflow publish big >/dev/null
	check "host B has workflow big" wait_for 30 published_on_b big
	hookpipectl stop router >/dev/null 2>&1
	BASE=$BASE_A deliver "$SUB_ID" "$SUB_SECRET" \
	    "$(payload batch.failed "$T_DIR/f.json")"
	check "host B ran workflow big three times" wait_for 60 eval \
	    'on_b hookpipe runs --here --workflow big --json 2>/dev/null |
	    grep -q "\"dead\""'
	BIG=$(on_b hookpipe runs --here --workflow big --json |
	    json 'd[0]["id"]')
}

# ran_once_here FILE IDS: each event of FILE (an id a line) ran once
# ($RAN), and this host's runs have the ids IDS (sorted, one space
# between), those another host had made.
ran_once_here() {
	local ev
	while read -r ev; do
		assert_eq "event $ev ran once" 1 "$(grep -c "$ev" "$RAN")"
	done <"$1"
	assert_eq "under the run ids the other host had made" "$2" \
	    "$(hookpipe runs --here --json |
	    json '" ".join(sorted(r["id"] for r in d))')"
}
