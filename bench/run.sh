#!/usr/bin/env bash
# hookpipe's benchmark suite (issue 7). `make bench` runs it after `make`.
#
# Everything runs on loopback, against a scratch HOOKPIPE_HOME, and ends
# with one table on stdout and bench/results.md (the machine, the date,
# the exact commands and the figures). Each measurement takes about
# BENCH_SECONDS; the whole run about four minutes, plus BENCH_LONG
# (about ten minutes for 1,000,000 events).
#
#   receipt    wrk + wrk-openai.lua (pre-signed OpenAI events, unique
#              webhook-ids, fresh timestamps) against the full durable
#              stack, nginx `return 200`, a Node.js standardwebhooks
#              receiver, the same receiver INSERTing each event into
#              PostgreSQL (synchronous_commit=on) before it answers, and
#              adnanh/webhook (payload-hmac-sha256, /bin/true); then
#              hookpipe with one connection (median request -> 2xx against
#              a measured fdatasync) and the system calls of every stage
#              thread per event (perf stat --per-thread)
#   latency    bench-send at a fixed BENCH_RATE/s; the workflow's http
#              action posts to bench-sink, which records arrivals; then
#              each hop's share from the stages' records (bench/hops.py:
#              receipt -> run created -> attempt started)
#   dispatch   runs queued while the dispatcher is stopped, then timed
#              from the first action to the last: exec and http
#   filters    BENCH_FILTER_EVENTS (1000) events stored while the router
#              is stopped, then routed through four workflows whose jq
#              filter each builds a 30,000-element array (and passes
#              none): the router's evaluation of trigger programs
#   httplib    the same endpoint (read the body, answer 200) on each
#              HTTP server library from Debian the receiver could use:
#              libmicrohttpd (as the receiver runs it), H2O's evloop,
#              libevent's evhttp, each answering at once and deferred to
#              the loop's next pass (as the receiver answers once its
#              verifier replied); wrk as in receipt, against nginx; and
#              their system calls per request. libmicrohttpd once more
#              with a ZeroMQ round trip per request to a second process
#              that only replies (-z): the pipeline's first hop alone;
#              and the memory each library, and the receiver (after the
#              memory phase), holds of 128 bodies of 1 MiB sent at once,
#              each one byte short (bench/held.py)
#   memory     VmHWM (peak RSS) of each stage; BENCH_LONG=1 also sends
#              BENCH_LONG_EVENTS (1,000,000) events and samples RSS
#   micro      verify_request() against a bare OpenSSL HMAC
#   cluster    cluster mode: three nats-server -js clustered on loopback,
#              two hosts (hookpipectl start, two HOOKPIPE_HOMEs); wrk
#              against host A alone, then against A and B at once (half
#              the connections each); bench-send at BENCH_CLUSTER_RATE/s
#              split over both hosts, http action to bench-sink. Ratios
#              to the single-host receipt and latency of the same run.
#              On one machine this is the cost per event of replication
#              (hosts and NATS servers share its cores), not the gain of
#              a second machine. Skipped when nats-server is missing.
#   floor      receipt (hookpipe alone) and latency again, with the state
#              on tmpfs (BENCH_FLOOR_WORK, /dev/shm/hpbench-floor): every
#              fdatasync returns at once, so the gap to the durable
#              figures is what the disk's flushes cost
#
# Knobs (environment):
#   BENCH_SECONDS=10  BENCH_THREADS=1  BENCH_CONNS=64  BENCH_RATE=2000
#   BENCH_REQUESTS=200000 (pre-signed per wrk run)  BENCH_ROUNDS=3
#   BENCH_EXEC_RUNS=5000  BENCH_HTTP_RUNS=50000  BENCH_LONG=0
#   BENCH_LONG_EVENTS=1000000  BENCH_PROFILE=0 (perf record the stages)
#   BENCH_LATENCY_PLACES=64 (the latency run again with the dispatcher's
#   HOOKPIPE_CONCURRENCY at that; 0: not)
#   BENCH_ONLY="micro receipt httplib latency dispatch filters memory cluster
#   floor"
#   (a subset; add "profile" for the perf profile alone)
#   BENCH_CLUSTER_LOW_RATE (events/s of its second latency run, quiet
#   on purpose; default 10)
#   BENCH_CLUSTER_RATE (events/s of the cluster's latency run; default
#   half the two-host req/s just measured, at most BENCH_RATE/4: each
#   event there is also two quorum writes in a row to three NATS servers
#   (the dedupe claim, the stream), a copy to the other host and a
#   consumer fetch and ack, on the same cores, so the cluster takes a
#   fraction of a single host's rate; past what it sustains the senders
#   queue and the figure times the backlog, not the path)
#   BENCH_WORK=/tmp/hpbench  BENCH_PORT=28080 (the next ports: nginx +1,
#   node +2, webhook +3, PostgreSQL +4, its Node receiver +5,
#   bench-httplib +6, sink +10; cluster: host A +20 (admin +21), host B
#   +22 (admin +23), NATS clients +24..+26, NATS cluster routes
#   +27..+29)  BENCH_KEEP=1 (keep BENCH_WORK)  BENCH_PEERS=0 (receipt: hookpipe
#   alone, no nginx, Node, PostgreSQL or webhook); the floor run's ports
#   are these + 200
#   BENCH_NO_INSTALL=1 (never apt-get/npm install)
#   BENCH_BIN=bin (the stage binaries and the hookpipe CLI to measure)
#   BENCH_RESULTS=bench/results.md (where the report goes)
#   BENCH_BASELINE=<commit> (also build that commit in a worktree and run
#   its own bench, latency and memory, in the same invocation; its figures
#   are reported beside this build's)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=../tests/python.sh
. tests/python.sh

SECS=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-1}
CONNS=${BENCH_CONNS:-64}
PLACES=${BENCH_LATENCY_PLACES:-64}
RATE=${BENCH_RATE:-2000}
CL_RATE=${BENCH_CLUSTER_RATE:-}
CL_LOW_RATE=${BENCH_CLUSTER_LOW_RATE:-10}
NREQ=${BENCH_REQUESTS:-200000}
ROUNDS=${BENCH_ROUNDS:-3}
EXEC_N=${BENCH_EXEC_RUNS:-5000}
HTTP_N=${BENCH_HTTP_RUNS:-50000}
FILTER_N=${BENCH_FILTER_EVENTS:-1000}
LONG=${BENCH_LONG:-0}
LONG_N=${BENCH_LONG_EVENTS:-1000000}
PROFILE=${BENCH_PROFILE:-0}
PEERS=${BENCH_PEERS:-1}
FLOOR_WORK=${BENCH_FLOOR_WORK:-/dev/shm/hpbench-floor}
ONLY=${BENCH_ONLY:-micro receipt httplib latency dispatch filters memory cluster floor}
WORK=${BENCH_WORK:-/tmp/hpbench}
PORT=${BENCH_PORT:-28080}
NGINX_PORT=$((PORT + 1))
NODE_PORT=$((PORT + 2))
WEBHOOK_PORT=$((PORT + 3))
PG_PORT=$((PORT + 4))
PGNODE_PORT=$((PORT + 5))
SINK_PORT=$((PORT + 10))
CL_PORT_A=$((PORT + 20))
CL_ADMIN_A=$((PORT + 21))
CL_PORT_B=$((PORT + 22))
CL_ADMIN_B=$((PORT + 23))
NATS_PORTS="$((PORT + 24)) $((PORT + 25)) $((PORT + 26))"
NATS_ROUTES="$((PORT + 27)) $((PORT + 28)) $((PORT + 29))"
BIN=${BENCH_BIN:-$top/bin}
BB=$top/build/bench
RESULTS=${BENCH_RESULTS:-$top/bench/results.md}

KV=$WORK/results.kv		# every figure, key=value
CMDS=$WORK/commands.txt		# every command that produced one
PIDS=()				# everything we started, to stop it again

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
kv() { printf '%s=%s\n' "$1" "$2" >>"$KV"; }
kv_get() { sed -n "s/^${1//./\\.}=//p" "$KV" | tail -1; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
# Run a command, noting it in the command list first (quoted as needed).
logged() {
	local a q=
	for a in "$@"; do
		if [[ $a =~ [^A-Za-z0-9_./:=,+@%-] ]]; then
			q+="'${a//\'/\'\\\'\'}' "
		else
			q+="$a "
		fi
	done
	printf '%s\n' "${q% }" >>"$CMDS"
	"$@"
}

cleanup() {
	local p
	cluster_stop
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PIDS=()
	pg_stop
	if [ "${BENCH_KEEP:-0}" != 1 ] && [ -n "$WORK" ]; then
		rm -rf "$WORK/h" "$WORK/ca" "$WORK/cb" "$WORK/nats" \
		    "$WORK"/*.req
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start a background process, remembered for cleanup; its pid in $!.
bg() {
	local name=$1
	shift
	"$@" >"$WORK/log/$name.log" 2>&1 &
	PIDS+=($!)
}

# Stop one process we started, and wait for it.
stop() {
	local p=$1 q keep=()
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for q in "${PIDS[@]}"; do
		[ "$q" = "$p" ] || keep+=("$q")
	done
	PIDS=("${keep[@]}")
}

wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on port $1 (see $WORK/log/)"
}

# --- tools -----------------------------------------------------------

need() {	# need COMMAND|/PATH PACKAGE
	case $1 in
	/*) [ -e "$1" ] && return 0 ;;
	*) command -v "$1" >/dev/null 2>&1 && return 0 ;;
	esac
	[ "${BENCH_NO_INSTALL:-0}" = 1 ] && die "$1 is missing (package $2)"
	say "installing $2 for $1"
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$2" \
	    >"$WORK/log/apt-$2.log" 2>&1 ||
	    die "cannot install $2 (see $WORK/log/apt-$2.log)"
}

tools() {
	need python3 python3
	need curl curl
	if want httplib; then
		need /usr/include/microhttpd.h libmicrohttpd-dev
		need /usr/include/h2o.h libh2o-evloop-dev
		need /usr/include/event2/http.h libevent-dev
	fi
	# The cluster's throughput is measured with wrk too, and so is the
	# floor run's receipt.
	if want receipt || want httplib || want cluster || want floor; then
		need wrk wrk
	fi
	if { want receipt && [ "$PEERS" = 1 ]; } || want httplib; then
		need nginx nginx
		need webhook webhook
		need node nodejs
		need npm npm
		need psql postgresql-client
		[ -n "$(pg_bin)" ] || need /usr/lib/postgresql/15/bin/initdb postgresql
		if [ ! -d bench/node-receiver/node_modules/pg ]; then
			say "npm ci in bench/node-receiver"
			(cd bench/node-receiver && { npm ci --no-audit --no-fund ||
			    npm install --no-audit --no-fund; }) \
			    >"$WORK/log/npm.log" 2>&1 ||
			    die "npm install failed (see $WORK/log/npm.log)"
		fi
	fi
	need mdb_stat lmdb-utils
	# make's targets are relative to the top (where run.sh runs).
	make -s -f Makefile -f bench/bench.mk build/bench/micro \
	    build/bench/send build/bench/sink \
	    $(want httplib && echo build/bench/httplib) \
	    >"$WORK/log/build.log" 2>&1 ||
	    die "cannot build the bench programs (see $WORK/log/build.log)"
	for b in hookpipe-receiver hookpipe-verifier hookpipe-router \
	    hookpipe-dispatcher hookpipe; do
		[ -x "$BIN/$b" ] || die "$BIN/$b is missing: run make first"
	done
}

# --- the machine ------------------------------------------------------

# Percent of the CPUs busy over one second before we start: other load
# on the machine skews every figure, so the report says how much.
background_busy() {
	local a b
	a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
	echo "$a $b" | awk '{busy=$3-$1; idle=$4-$2;
	    printf "%.0f", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0}'
}

machine() {
	kv machine.nproc "$(nproc)"
	kv machine.model "$(awk -F': ' '/^model name/{print $2; exit}' \
	    /proc/cpuinfo)"
	kv machine.mem "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' \
	    /proc/meminfo)"
	kv machine.kernel "$(uname -sr)"
	kv machine.os "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}")"
	kv machine.fs "$(df -PT "$WORK" | awk 'NR==2{print $2}') ($WORK)"
	kv machine.date "$(date -u '+%Y-%m-%d %H:%M UTC')"
	kv machine.commit "$(git rev-parse --short HEAD 2>/dev/null)$(
	    git diff --quiet HEAD -- common receiver verifier router \
	    dispatcher 2>/dev/null || echo '+changes')"
	kv machine.busy_before "$(background_busy)"
	kv version.wrk "$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
	kv version.nginx "$(nginx -v 2>&1 | sed 's/.*nginx\///')"
	kv version.node "$(node --version 2>/dev/null)"
	kv version.standardwebhooks "$(cd bench/node-receiver && node -p \
	    'require("standardwebhooks/package.json").version' 2>/dev/null)"
	kv version.postgresql "$("$(pg_bin)/postgres" --version 2>/dev/null |
	    awk '{print $3}')"
	kv version.pg "$(cd bench/node-receiver && node -p \
	    'require("pg/package.json").version' 2>/dev/null)"
	kv version.webhook "$(webhook -version 2>/dev/null | awk '{print $3}')"
}

# --- hookpipe ---------------------------------------------------------

export HOOKPIPE_HOME=$WORK/h
export HOOKPIPE_LISTEN=127.0.0.1:$PORT
export TRIGGER_URL=http://127.0.0.1:$PORT
export HOOKPIPE_INTEGRATIONS=$top/integrations
declare -A SPID			# stage -> pid
declare -A HWM			# stage -> highest VmHWM seen, kB
declare -A AHWM			# stage -> highest RssAnon sampled, kB
declare -A PHWM			# stage -> highest PSS sampled, kB
STAGES="dispatcher router verifier receiver"

stage_start() {
	local s=$1 i
	rm -f "$HOOKPIPE_HOME/run/$s.pid"
	bg "$s" "$BIN/hookpipe-$s"
	SPID[$s]=$!
	for i in $(seq 100); do
		[ "$(cat "$HOOKPIPE_HOME/run/$s.pid" 2>/dev/null)" = "${SPID[$s]}" ] &&
		    return 0
		kill -0 "${SPID[$s]}" 2>/dev/null || break
		sleep 0.05
	done
	die "hookpipe-$s did not start (see $WORK/log/$s.log)"
}

stage_stop() {
	rss_sample
	stop "${SPID[$1]}"
	unset "SPID[$1]"
}

stack_start() {
	local s
	mkdir -p "$HOOKPIPE_HOME"
	for s in $STAGES; do
		stage_start "$s"
	done
	wait_port "$PORT"
}

# Every stage still the process we started? A crash is a finding.
stack_check() {
	local s
	for s in "${!SPID[@]}"; do
		if ! kill -0 "${SPID[$s]}" 2>/dev/null; then
			say "hookpipe-$s DIED during $1; its log ends:"
			tail -5 "$WORK/log/$s.log" >&2
			kv "crash.$s" "during $1"
			stage_start "$s"
		fi
	done
}

# kB of a /proc/PID/status field.
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }

# Proportional set size, kB: shared pages (the LMDB map) split among
# the processes that map them, so the stages' PSS adds up honestly.
pss_kb() { awk '$1 == "Pss:" {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }

# Peaks per stage: VmHWM (the kernel's own peak RSS), and the highest
# RssAnon and PSS seen at our samples.
rss_sample() {
	local s h
	for s in "${!SPID[@]}"; do
		h=$(status_kb "${SPID[$s]}" VmHWM)
		[ -n "$h" ] && [ "$h" -gt "${HWM[$s]:-0}" ] && HWM[$s]=$h
		h=$(status_kb "${SPID[$s]}" RssAnon)
		[ -n "$h" ] && [ "$h" -gt "${AHWM[$s]:-0}" ] && AHWM[$s]=$h
		h=$(pss_kb "${SPID[$s]}")
		[ -n "$h" ] && [ "$h" -gt "${PHWM[$s]:-0}" ] && PHWM[$s]=$h
	done
}


json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

setup_objects() {
	SECRET=whsec_$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(24)).decode())')
	local s
	for s in rx lat exec; do
		logged "$BIN/hookpipe" sub create "bench-$s" --integration openai \
		    --secret "$SECRET" --json >"$WORK/sub-$s.json" ||
		    die "hookpipe sub create bench-$s failed"
	done
	SUB_RX=$(json_field id <"$WORK/sub-rx.json")
	SUB_LAT=$(json_field id <"$WORK/sub-lat.json")
	SUB_EXEC=$(json_field id <"$WORK/sub-exec.json")
	logged "$BIN/hookpipe" workflow create bench-http \
	    --http "http://127.0.0.1:$SINK_PORT/run" >/dev/null &&
	logged "$BIN/hookpipe" workflow trigger bench-http --sub bench-lat \
	    --event batch.completed >/dev/null &&
	logged "$BIN/hookpipe" workflow publish bench-http >/dev/null &&
	logged "$BIN/hookpipe" workflow create bench-exec \
	    --exec "printf . >>$WORK/exec.count" >/dev/null &&
	logged "$BIN/hookpipe" workflow trigger bench-exec --sub bench-exec \
	    --event batch.completed >/dev/null &&
	logged "$BIN/hookpipe" workflow publish bench-exec >/dev/null ||
	    die "cannot create the bench workflows"
}

# Entries in one table of one of the stack's LMDB environments
# (read-only, safe while it runs): db_entries ENV TABLE.
db_entries() {
	mdb_stat -s "$2" "$HOOKPIPE_HOME/db/$1" 2>/dev/null |
	    awk '/Entries:/{print $2}'
}

# Events stored and not routed yet: the log's length (its sequence
# numbers start at 1 and nothing is pruned during a bench) less the
# router's cursor (a big-endian 64-bit number in runs' meta table).
unrouted() {
	local n cur
	n=$(db_entries events log)
	cur=$(mdb_dump -s meta "$HOOKPIPE_HOME/db/runs" 2>/dev/null | awk '
	    prev == " 637572736f72" { print $1; exit }
	    { prev = $0 }')
	echo $(( ${n:-0} - ${cur:+0x}${cur:-0} ))
}

# wait_zero PROBE TRIES PAUSE WHAT: until PROBE prints 0, at most TRIES
# times PAUSE seconds apart; else says how many WHAT were left.
wait_zero() {
	local i n
	for i in $(seq "$2"); do
		n=$("$1")
		[ "${n:-1}" = 0 ] && return 0
		sleep "$3"
	done
	say "$4: ${n:-?}"
}

# Wait until the router has routed every stored event.
wait_routed() { wait_zero unrouted 600 0.1 "events the router left unrouted"; }

sink_stats() { curl -s "http://127.0.0.1:$SINK_PORT/stats"; }

# Wait until the sink has COUNT arrivals or TIMEOUT seconds pass.
wait_sink() {
	local want=$1 timeout=$2 i n
	for i in $(seq $((timeout * 10))); do
		n=$(sink_stats | awk '{print $1}')
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	say "the sink saw ${n:-0} of $want actions after ${timeout}s"
	return 1
}

cpu_ticks() {	# total utime+stime of the stages, in clock ticks
	local s t=0
	for s in $STAGES; do
		[ -n "${SPID[$s]:-}" ] || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/${SPID[$s]}/stat")))
	done
	echo "$t"
}

# --- phases -----------------------------------------------------------

phase_micro() {
	say "micro: verify_request() against OpenSSL HMAC"
	logged "$BB/micro" integrations/openai.json 500000 >"$WORK/micro.out" ||
	    die "micro failed"
	awk '$1 == "MICRO" {print "micro." $2 "=" $3}' "$WORK/micro.out" >>"$KV"
}

gen_requests() {	# gen_requests FILE: fresh signatures, right before use
	logged python3 bench/gen-requests.py --secret "$SECRET" \
	    --count "$NREQ" --out "$1" || die "gen-requests.py failed"
}

# wrk_run NAME URL PATH: one receipt measurement; figures under
# receipt.NAME.ROUND.*
wrk_run() {
	local name=$1 url=$2 path=$3 round=$4 f=$WORK/$1.req out c0 c1
	gen_requests "$f"
	c0=$(cpu_ticks)
	out=$(logged wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" \
	    -s bench/wrk-openai.lua "$url" -- "$f" "$path" "$THREADS" 2>&1)
	c1=$(cpu_ticks)
	printf '%s\n' "$out" >"$WORK/log/wrk-$name-$round.log"
	out=$(printf '%s\n' "$out" | grep '^WRK ')
	[ -n "$out" ] || die "wrk against $name printed no figures (see \
$WORK/log/wrk-$name-$round.log)"
	for f in $out; do
		case $f in *=*) kv "receipt.$name.$round.${f%%=*}" "${f#*=}" ;; esac
	done
	if [ "$name" = hookpipe ]; then
		kv "receipt.hookpipe.$round.stage_cpu_s" \
		    "$(echo "$c0 $c1 $(getconf CLK_TCK)" |
		    awk '{printf "%.2f", ($2 - $1) / $3}')"
	fi
	say "  $name: $(printf '%s\n' "$out" | sed 's/^WRK //')"
}

# --- PostgreSQL, for the durable Node.js reference ------------------

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PG_DIR=
# initdb and the server refuse to run as root: run them as postgres then.
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local bin d=$WORK/pg
	bin=$(pg_bin)
	rm -rf "$d"
	mkdir -p "$d"
	[ "$(id -u)" = 0 ] && chown postgres "$d"
	pg_as "$bin/initdb" -D "$d/data" -U bench -A trust \
	    >"$WORK/log/pg-initdb.log" 2>&1 || return 1
	PG_DIR=$d
	logged pg_as "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w \
	    -o "-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c fsync=on \
-c synchronous_commit=on -c max_connections=40" start \
	    >"$WORK/log/pg-start.log" 2>&1 || return 1
	psql -q -h 127.0.0.1 -p "$PG_PORT" -U bench -d postgres -c \
	    'CREATE TABLE events (webhook_id text PRIMARY KEY, type text,
	    payload jsonb, received_at timestamptz DEFAULT now())' \
	    >"$WORK/log/pg-schema.log" 2>&1
}

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	pg_as "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop \
	    >/dev/null 2>&1
	PG_DIR=
}

# Median time of a 4 KiB write and its fdatasync on the state directory's
# file system, in ms: what one durable answer cannot go below.
fsync_ms() {
	python3 - "$HOOKPIPE_HOME" <<'PY'
import os, statistics, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
t = []
for i in range(200):
    a = time.perf_counter()
    os.pwrite(fd, b"x" * 4096, (i % 16) * 4096)
    os.fdatasync(fd)
    t.append(time.perf_counter() - a)
os.close(fd)
os.unlink(path)
print("%.3f" % (statistics.median(t) * 1000))
PY
}

# One connection: the median request -> 2xx is one durable commit.
phase_single() {
	local f=$WORK/single.req out
	say "receipt with one connection"
	kv single.fdatasync_ms "$(fsync_ms)"
	gen_requests "$f"
	out=$(logged wrk -t1 -c1 -d"${SECS}s" --latency \
	    -s bench/wrk-openai.lua "http://127.0.0.1:$PORT" -- "$f" \
	    "/triggers/plugin/$SUB_RX" 1 2>&1)
	printf '%s\n' "$out" >"$WORK/log/wrk-single.log"
	for f in $(printf '%s\n' "$out" | grep '^WRK '); do
		case $f in *=*) kv "single.${f%%=*}" "${f#*=}" ;; esac
	done
	kv single.p50_ms "$(printf '%s\n' "$out" | awk '$1 == "50%" {
	    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	    print (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }')"
	kv single.fdatasync_after_ms "$(fsync_ms)"
	wait_routed
}

# System calls of every stage thread per event at BENCH_CONNS connections.
phase_syscalls() {
	local f=$WORK/syscalls.req s pids=() out n
	command -v perf >/dev/null || { say "no perf: no system call count"; return; }
	say "system calls per event, per stage thread"
	gen_requests "$f"
	for s in $STAGES; do pids+=("${SPID[$s]}"); done
	perf stat -x, --per-thread -e raw_syscalls:sys_enter \
	    -p "$(IFS=,; echo "${pids[*]}")" -o "$WORK/syscalls.txt" &
	local pp=$!
	sleep 0.3
	out=$(logged wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" \
	    -s bench/wrk-openai.lua "http://127.0.0.1:$PORT" -- "$f" \
	    "/triggers/plugin/$SUB_RX" "$THREADS" 2>&1)
	wait_routed
	kill -INT "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	n=$(printf '%s\n' "$out" | grep '^WRK ' | tr ' ' '\n' |
	    awk -F= '$1 == "requests" {print $2}')
	kv syscalls.events "${n:-0}"
	# perf's lines: THREAD-TID,COUNT,,EVENT,...; the stage from the pid.
	for s in $STAGES; do
		awk -F, -v n="${n:-1}" -v stage="$s" -v pid="${SPID[$s]}" '
		    $4 ~ /raw_syscalls/ {
			tid = $1; sub(/.*-/, "", tid)
			if (system("test -e /proc/" pid "/task/" tid) == 0 ||
			    tid == pid) {
				name = $1; sub(/-[0-9]+$/, "", name)
				gsub(/[^A-Za-z0-9_]/, "_", name)
				printf "syscalls.%s.%s_%s=%.2f\n", stage, name,
				    tid, $2 / n
			}
		    }' "$WORK/syscalls.txt" >>"$KV"
	done
}

phase_receipt() {
	local r p t0
	say "receipt: wrk -t$THREADS -c$CONNS -d${SECS}s, $ROUNDS round(s)"
	[ "$PEERS" = 1 ] && { pg_start || { say "PostgreSQL did not start" \
	    "(see $WORK/log/pg-*.log): no PostgreSQL reference"; pg_stop; }; }
	for r in $(seq "$ROUNDS"); do
		# hookpipe: the full durable path (no workflow on bench-rx:
		# receipt, verification, storage and routing, no actions).
		local before
		before=$(db_entries events log)
		wrk_run hookpipe "http://127.0.0.1:$PORT" \
		    "/triggers/plugin/$SUB_RX" "$r"
		stack_check "receipt"
		# The router may trail the 2xx answers: how far, how long.
		kv "receipt.hookpipe.$r.pending_after" "$(unrouted)"
		t0=$(date +%s.%N)
		wait_routed
		kv "receipt.hookpipe.$r.routed_after_s" "$(echo "$t0 $(date +%s.%N)" |
		    awk '{printf "%.1f", $2 - $1}')"
		kv "receipt.hookpipe.$r.stored" $(($(db_entries events log) - ${before:-0}))
		[ "$PEERS" = 1 ] || continue

		mkdir -p "$WORK/nginx"
		sed "s/127.0.0.1:28081/127.0.0.1:$NGINX_PORT/" bench/nginx.conf \
		    >"$WORK/nginx/nginx.conf"
		bg nginx nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf"
		p=$!
		printf 'nginx -p %s -c %s\n' "$WORK/nginx/" \
		    "$WORK/nginx/nginx.conf (bench/nginx.conf)" >>"$CMDS"
		wait_port "$NGINX_PORT"
		wrk_run nginx "http://127.0.0.1:$NGINX_PORT" /triggers/plugin/x "$r"
		stop "$p"

		bg node env PORT="$NODE_PORT" SECRET="$SECRET" node \
		    bench/node-receiver/server.js
		p=$!
		printf 'PORT=%s SECRET=whsec_… node bench/node-receiver/server.js\n' \
		    "$NODE_PORT" >>"$CMDS"
		wait_port "$NODE_PORT"
		wrk_run node "http://127.0.0.1:$NODE_PORT" /webhook "$r"
		stop "$p"

		if [ -n "$PG_DIR" ]; then
			bg pgnode env PORT="$PGNODE_PORT" SECRET="$SECRET" \
			    PGHOST=127.0.0.1 PGPORT="$PG_PORT" PGUSER=bench \
			    PGDATABASE=postgres node bench/node-receiver/pg.js
			p=$!
			printf 'PORT=%s SECRET=whsec_… PGHOST=127.0.0.1 PGPORT=%s PGUSER=bench PGDATABASE=postgres node bench/node-receiver/pg.js\n' \
			    "$PGNODE_PORT" "$PG_PORT" >>"$CMDS"
			wait_port "$PGNODE_PORT"
			wrk_run pg "http://127.0.0.1:$PGNODE_PORT" /webhook "$r"
			stop "$p"
		fi

		bg webhook env BENCH_SECRET="$SECRET" webhook \
		    -hooks bench/hooks.json -template -ip 127.0.0.1 \
		    -port "$WEBHOOK_PORT"
		p=$!
		printf 'BENCH_SECRET=whsec_… webhook -hooks bench/hooks.json -template -ip 127.0.0.1 -port %s\n' \
		    "$WEBHOOK_PORT" >>"$CMDS"
		wait_port "$WEBHOOK_PORT"
		wrk_run webhook "http://127.0.0.1:$WEBHOOK_PORT" /hooks/openai "$r"
		stop "$p"
		sleep 1		# webhook's last /bin/true children
	done
	pg_stop
	rss_sample
	phase_single
	phase_syscalls
}

# The HTTP library alone: bench-httplib's servers and nginx, the same
# wrk and requests as receipt (nothing verifies them), rounds
# interleaved; in the first round, each server's system calls per
# request (perf stat over the wrk run).
HTTPLIB_PORT=$((PORT + 6))
hl_run() {	# hl_run NAME ROUND PID REQUESTS-FILE
	local name=$1 r=$2 pid=$3 f=$4 out sc= pids
	if [ "$r" = 1 ] && command -v perf >/dev/null; then
		# nginx answers in its worker processes.
		pids=$pid$(pgrep -P "$pid" | sed 's/^/,/' | tr -d '\n')
		perf stat -x, -e raw_syscalls:sys_enter -p "$pids" \
		    -o "$WORK/hl-$name.perf" 2>/dev/null &
		sc=$!
		sleep 0.2
	fi
	out=$(logged wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" \
	    -s bench/wrk-openai.lua "http://127.0.0.1:$HTTPLIB_PORT" -- \
	    "$f" /triggers/plugin/x "$THREADS" 2>&1)
	if [ -n "$sc" ]; then
		kill -INT "$sc" 2>/dev/null
		wait "$sc" 2>/dev/null
	fi
	printf '%s\n' "$out" >"$WORK/log/wrk-hl-$name-$r.log"
	out=$(printf '%s\n' "$out" | grep '^WRK ')
	[ -n "$out" ] || die "wrk against $name printed no figures (see \
$WORK/log/wrk-hl-$name-$r.log)"
	for f in $out; do
		case $f in *=*) kv "httplib.$name.$r.${f%%=*}" "${f#*=}" ;; esac
	done
	if [ -n "$sc" ]; then
		kv "httplib.$name.syscalls" "$(awk -F, -v o="$out" '
		    BEGIN { n = o; sub(/.*requests=/, "", n); sub(/ .*/, "", n) }
		    $3 ~ /sys_enter/ && $1 ~ /^[0-9]+$/ { c += $1 }
		    END { if (n > 0) printf "%.2f", c / n }' "$WORK/hl-$name.perf")"
	fi
	say "  $name: $(printf '%s\n' "$out" | sed 's/^WRK //')"
}

# held NAME PORT PID [PATH]: what the server holds of HELD_CONNS bodies
# of HELD_SIZE bytes sent but for their last byte (bench/held.py): a
# library that reads a whole body before its application sees the
# request holds them all, whatever the application's limits.
HELD_CONNS=128
HELD_SIZE=1048576
held() {
	local out f
	out=$(python3 bench/held.py "$2" "$3" "$HELD_CONNS" "$HELD_SIZE" \
	    "${4:-/triggers/plugin/x}") || return 0
	printf 'python3 bench/held.py %s %s %s %s %s\n' "$2" "$3" \
	    "$HELD_CONNS" "$HELD_SIZE" "${4:-/triggers/plugin/x}" >>"$CMDS"
	for f in $out; do
		kv "held.$1.${f%%=*}" "${f#*=}"
	done
	kv held.bodies "$HELD_CONNS"
	kv held.size "$HELD_SIZE"
	say "  $1, $HELD_CONNS bodies of $HELD_SIZE bytes in flight: $out"
}

phase_httplib() {
	local r v d p name f=$WORK/httplib.req
	say "httplib: libmicrohttpd, H2O, libevent alone, against nginx"
	# Nothing verifies these requests: any secret signs them.
	SECRET=${SECRET:-whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
	mkdir -p "$WORK/nginx"
	sed "s/127.0.0.1:28081/127.0.0.1:$HTTPLIB_PORT/" bench/nginx.conf \
	    >"$WORK/nginx/httplib.conf"
	for r in $(seq "$ROUNDS"); do
		gen_requests "$f"
		bg nginx nginx -p "$WORK/nginx/" -c "$WORK/nginx/httplib.conf"
		p=$!
		printf 'nginx -p %s -c %s\n' "$WORK/nginx/" \
		    "$WORK/nginx/httplib.conf (bench/nginx.conf)" >>"$CMDS"
		wait_port "$HTTPLIB_PORT"
		hl_run nginx "$r" "$p" "$f"
		stop "$p"
		for v in mhd h2o evhttp; do
			# -z: MHD as the receiver, with a ZeroMQ round trip
			# to another process per request, as to a verifier.
			for d in "" -d $([ "$v" = mhd ] && echo -z); do
				case $d in
				-d) name=$v-deferred ;;
				-z) name=$v-zmq ;;
				*) name=$v ;;
				esac
				bg "hl-$name" "$BB/httplib" -l "$v" \
				    -p "$HTTPLIB_PORT" $d
				p=$!
				printf '%s -l %s -p %s %s\n' "$BB/httplib" "$v" \
				    "$HTTPLIB_PORT" "$d" >>"$CMDS"
				wait_port "$HTTPLIB_PORT"
				hl_run "$name" "$r" "$p" "$f"
				[ "$r" = 1 ] && [ -z "$d" ] &&
				    held "$name" "$HTTPLIB_PORT" "$p"
				stop "$p"
			done
		done
	done
	rm -f "$f"
}

# Storage work per event, per stage (each writes one environment): pages
# from /proc/PID/io's write_bytes; flushes counted by perf's syscall
# tracepoints while the stage runs: fsync and fdatasync calls, and LMDB's
# synchronous meta-page writes (a pwrite to the data file's second
# descriptor, opened O_DSYNC; a handle with MDB_NOMETASYNC writes its
# meta page through the other one and syncs it with fdatasync).
declare -A IOW IOPERF
# dsync_fds PID: the stage's O_DSYNC descriptors of an LMDB data file, as
# a perf filter ("fd == 7 || fd == 9"), or nothing.
dsync_fds() {
	local f fd fl out=
	for f in /proc/"$1"/fd/*; do
		case $(readlink "$f" 2>/dev/null) in
		*/data.mdb) ;;
		*) continue ;;
		esac
		fd=${f##*/}
		fl=$(awk '$1 == "flags:" { print $2 }' "/proc/$1/fdinfo/$fd" \
		    2>/dev/null)
		# O_DSYNC is 010000 (octal) on Linux.
		[ -n "$fl" ] && [ $((8#$fl & 8#10000)) -ne 0 ] || continue
		out="${out:+$out || }fd == $fd"
	done
	echo "$out"
}
declare -A IOTRACE
io_begin() {
	local s filt
	for s in $STAGES; do
		IOW[$s]=$(awk '$1 == "write_bytes:" {print $2}' \
		    "/proc/${SPID[$s]}/io" 2>/dev/null)
		if command -v perf >/dev/null; then
			filt=$(dsync_fds "${SPID[$s]}")
			perf stat -x, -o "$WORK/syncs-$s.txt" -p "${SPID[$s]}" \
			    -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync \
			    ${filt:+-e syscalls:sys_enter_pwrite64 --filter "$filt"} \
			    2>/dev/null &
			IOPERF[$s]=$!
			# How long each flush took: perf trace's summary.
			perf trace -s -e fdatasync,fsync -p "${SPID[$s]}" \
			    -o "$WORK/flushes-$s.txt" 2>/dev/null &
			IOTRACE[$s]=$!
		fi
	done
	sleep 0.3
}

io_end() {	# io_end EVENTS
	local s n=$1 w
	for s in $STAGES; do
		w=$(awk '$1 == "write_bytes:" {print $2}' \
		    "/proc/${SPID[$s]}/io" 2>/dev/null)
		[ -n "$w" ] && [ -n "${IOW[$s]}" ] && kv "io.$s.pages_per_event" \
		    "$(awk -v a="${IOW[$s]}" -v b="$w" -v n="$n" \
		    'BEGIN { printf "%.3f", (b - a) / 4096 / (n ? n : 1) }')"
		[ -n "${IOPERF[$s]:-}" ] || continue
		kill -INT "${IOPERF[$s]}" 2>/dev/null
		wait "${IOPERF[$s]}" 2>/dev/null
		kv "io.$s.syncs_per_event" "$(awk -F, -v n="$n" \
		    '$3 ~ /sync/ && $1 ~ /^[0-9]+$/ { c += $1 }
		    END { printf "%.4f", c / (n ? n : 1) }' "$WORK/syncs-$s.txt")"
		kv "io.$s.flushes_per_event" "$(awk -F, -v n="$n" \
		    '$3 ~ /sync|pwrite/ && $1 ~ /^[0-9]+$/ { c += $1 }
		    END { printf "%.4f", c / (n ? n : 1) }' "$WORK/syncs-$s.txt")"
		[ -n "${IOTRACE[$s]:-}" ] || continue
		kill -INT "${IOTRACE[$s]}" 2>/dev/null
		wait "${IOTRACE[$s]}" 2>/dev/null
		# Summary lines, per thread: NAME CALLS ERRORS TOTAL MIN AVG MAX.
		awk -v s="$s" '$1 == "fdatasync" || $1 == "fsync" {
			c += $2; t += $4; if ($7 > m) m = $7 }
		    END { if (c) printf "io.%s.fdatasync_mean_ms=%.3f\n" \
			"io.%s.fdatasync_max_ms=%.3f\n", s, t / c, s, m }' \
		    "$WORK/flushes-$s.txt" >>"$KV"
	done
	IOPERF=()
	IOTRACE=()
}

phase_latency() {
	say "latency: $RATE events/s for ${SECS}s, http action to bench-sink"
	wait_routed
	curl -s "http://127.0.0.1:$SINK_PORT/reset" >/dev/null
	local out n
	io_begin
	out=$(logged "$BB/send" -u "127.0.0.1:$PORT" \
	    -p "/triggers/plugin/$SUB_LAT" -s "$SECRET" -r "$RATE" -d "$SECS" \
	    -c 32 -o "$WORK/latency-send.log")
	say "  $out"
	kv latency.sender "$out"
	n=$(awk 'END{print NR}' "$WORK/latency-send.log")
	wait_sink "$n" 60
	io_end "$n"
	curl -s "http://127.0.0.1:$SINK_PORT/dump" >/dev/null
	cp "$WORK/sink.dump" "$WORK/latency-sink.dump"
	logged python3 bench/latency.py "$WORK/latency-send.log" \
	    "$WORK/latency-sink.dump" | sed 's/^/latency./' >>"$KV"
	# Where the events waited, hop by hop, from the stages' records (the
	# newest, as many as the CLI lists at once).
	local l=$((n > 100000 ? 100000 : n))
	if "$BIN/hookpipe" --json events --sub bench-lat --limit "$l" \
	    >"$WORK/latency-events.json" 2>>"$WORK/log/hops.log" &&
	    "$BIN/hookpipe" --json runs --workflow bench-http --limit "$l" \
	    >"$WORK/latency-runs.json" 2>>"$WORK/log/hops.log"; then
		logged python3 bench/hops.py "$WORK/latency-events.json" \
		    "$WORK/latency-runs.json" | sed 's/^/latency./' >>"$KV"
	fi
	stack_check "latency"
	rss_sample
	[ "$PLACES" -gt 0 ] && latency_places
}

# sink_latency NAME PREFIX: once the sink has every request of
# $WORK/NAME-send.log, its arrivals kept as $WORK/NAME-sink.dump and the
# request -> action figures added to the results as PREFIX.*.
sink_latency() {
	local n
	n=$(awk 'END{print NR}' "$WORK/$1-send.log")
	wait_sink "$n" 60
	curl -s "http://127.0.0.1:$SINK_PORT/dump" >/dev/null
	cp "$WORK/sink.dump" "$WORK/$1-sink.dump"
	logged python3 bench/latency.py "$WORK/$1-send.log" \
	    "$WORK/$1-sink.dump" | sed "s/^/$2./" >>"$KV"
}

# The same run with the dispatcher restarted with more places
# (HOOKPIPE_CONCURRENCY): a place comes free for the next run only at the
# pass after its attempt ended, so the places bound the runs started per
# pass, however quick the actions are.
latency_places() {
	local out was=${HOOKPIPE_CONCURRENCY-}
	say "latency: again with HOOKPIPE_CONCURRENCY=$PLACES"
	stage_stop dispatcher
	export HOOKPIPE_CONCURRENCY=$PLACES
	stage_start dispatcher
	if [ -n "$was" ]; then export HOOKPIPE_CONCURRENCY=$was
	else unset HOOKPIPE_CONCURRENCY; fi
	wait_routed
	curl -s "http://127.0.0.1:$SINK_PORT/reset" >/dev/null
	out=$(logged "$BB/send" -u "127.0.0.1:$PORT" \
	    -p "/triggers/plugin/$SUB_LAT" -s "$SECRET" -r "$RATE" -d "$SECS" \
	    -c 32 -o "$WORK/latency-places-send.log")
	say "  $out"
	kv latency_places.places "$PLACES"
	sink_latency latency-places latency_places
	stack_check "latency (places)"
	# The next phases: the dispatcher as it was.
	stage_stop dispatcher
	stage_start dispatcher
}

# Queue N runs with the dispatcher stopped, then time it through them.
queue_runs() {	# queue_runs SUB N
	local out
	stage_stop dispatcher
	out=$(logged "$BB/send" -u "127.0.0.1:$PORT" -p "/triggers/plugin/$1" \
	    -s "$SECRET" -n "$2" -c "$CONNS")
	say "  queued: $out"
	wait_routed
}

phase_dispatch() {
	local first last n t0 tx i size

	say "dispatch: $HTTP_N http actions to bench-sink"
	queue_runs "$SUB_LAT" "$HTTP_N"
	curl -s "http://127.0.0.1:$SINK_PORT/reset" >/dev/null
	stage_start dispatcher
	wait_sink "$HTTP_N" 600
	read -r n first last < <(sink_stats)
	kv dispatch.http.runs "$n"
	kv dispatch.http.seconds "$(echo "$first $last" | awk '{printf "%.3f", ($2-$1)/1e9}')"
	kv dispatch.http.per_s "$(echo "$n $first $last" | awk '{printf "%.0f", ($3 > $2) ? ($1-1)*1e9/($3-$2) : 0}')"
	stack_check "dispatch (http)"

	say "dispatch: $EXEC_N exec actions (sh -c 'printf . >>file')"
	queue_runs "$SUB_EXEC" "$EXEC_N"
	: >"$WORK/exec.count"
	stage_start dispatcher
	# From the dispatcher ready to the last action: polled every 20 ms.
	t0=$(date +%s.%N)
	for i in $(seq 30000); do
		size=$(stat -c %s "$WORK/exec.count")
		[ "$size" -ge "$EXEC_N" ] && break
		sleep 0.02
	done
	last=$(date +%s.%N)
	kv dispatch.exec.runs "$size"
	kv dispatch.exec.seconds "$(echo "$t0 $last" | awk '{printf "%.3f", $2-$1}')"
	kv dispatch.exec.per_s "$(echo "$size $t0 $last" | awk '{printf "%.0f", ($3 > $2) ? $1/($3-$2) : 0}')"
	stack_check "dispatch (exec)"
	# The machine's own ceiling for the same work: xargs spawning the
	# same shell command, as many at once as the dispatcher runs.
	: >"$WORK/xargs.count"
	tx=$(date +%s.%N)
	seq 2000 | logged xargs -P "${HOOKPIPE_CONCURRENCY:-16}" -I{} sh -c \
	    "printf . >>$WORK/xargs.count"
	kv dispatch.exec.ceiling_per_s "$(echo "$tx $(date +%s.%N) $(stat -c %s \
	    "$WORK/xargs.count")" | awk '{printf "%.0f", $3 / ($2 - $1)}')"
	rss_sample
}

# Routing through trigger programs: the router's jq workers at work.
phase_filters() {
	local i t0 t1

	say "filters: $FILTER_N events through 4 workflows with a jq filter each"
	for i in 1 2 3 4; do
		logged "$BIN/hookpipe" workflow create "bench-jq$i" \
		    --http "http://127.0.0.1:$SINK_PORT/run" >/dev/null &&
		logged "$BIN/hookpipe" workflow trigger "bench-jq$i" \
		    --sub bench-rx --event batch.completed \
		    --filter "[range(30000)] | length < $i" >/dev/null &&
		logged "$BIN/hookpipe" workflow publish "bench-jq$i" \
		    >/dev/null || die "cannot create workflow bench-jq$i"
	done
	wait_routed
	stage_stop router
	logged "$BB/send" -u "127.0.0.1:$PORT" -p "/triggers/plugin/$SUB_RX" \
	    -s "$SECRET" -n "$FILTER_N" -c "$CONNS" >/dev/null
	# Timed to the last event routed, not to the router's ready: a
	# router may route a backlog before it says it is ready.
	rm -f "$HOOKPIPE_HOME/run/router.pid"
	t0=$(date +%s.%N)
	bg router "$BIN/hookpipe-router"
	SPID[router]=$!
	wait_routed
	t1=$(date +%s.%N)
	kv filters.events "$FILTER_N"
	kv filters.seconds "$(echo "$t0 $t1" | awk '{printf "%.3f", $2-$1}')"
	kv filters.per_s "$(echo "$FILTER_N $t0 $t1" | awk '{printf "%.0f", $1/($3-$2)}')"
	for i in 1 2 3 4; do
		logged "$BIN/hookpipe" workflow disable "bench-jq$i" >/dev/null
	done
	stack_check "filters"
}

mem_line() {	# kB: VmRSS/RssAnon/PSS of each stage
	local s
	for s in receiver verifier router dispatcher; do
		printf '%s:%s/%s/%s ' "$s" "$(status_kb "${SPID[$s]}" VmRSS)" \
		    "$(status_kb "${SPID[$s]}" RssAnon)" "$(pss_kb "${SPID[$s]}")"
	done
}

phase_long() {
	local chunk=$((LONG_N / 10)) i out s
	say "memory: $LONG_N events through all four stages (http action)"
	curl -s "http://127.0.0.1:$SINK_PORT/reset" >/dev/null
	printf '%s\n' "$BB/send -u 127.0.0.1:$PORT -p /triggers/plugin/\$SUB_LAT -s \$SECRET -n $chunk -c $CONNS   # 10 times" >>"$CMDS"
	for i in $(seq 10); do
		out=$("$BB/send" -u "127.0.0.1:$PORT" \
		    -p "/triggers/plugin/$SUB_LAT" -s "$SECRET" -n "$chunk" \
		    -c "$CONNS")
		stack_check "the long run"
		rss_sample
		kv "long.$i.sender" "$out"
		kv "long.$i.rss" "$(mem_line)"
		say "  $((i * chunk)) events: $(echo "$out" | awk '{print $14 " req/s"}') $(mem_line)"
	done
	wait_sink "$((chunk * 10))" 1800
	sleep 2
	rss_sample
	kv long.events $((chunk * 10))
	kv long.actions "$(sink_stats | awk '{print $1}')"
	kv long.final.rss "$(mem_line)"
	for s in receiver verifier router dispatcher; do
		kv "long.hwm.$s" "${HWM[$s]:-0}"
		kv "long.anon.$s" "${AHWM[$s]:-0}"
		kv "long.pss.$s" "${PHWM[$s]:-0}"
	done
	for s in config events runs spool; do
		kv "long.db_bytes.$s" "$(stat -c %s "$HOOKPIPE_HOME/db/$s/data.mdb")"
	done
}

phase_profile() {
	command -v perf >/dev/null 2>&1 || { say "no perf: no profile"; return; }
	say "profile: perf record of the four stages under wrk"
	local f=$WORK/profile.req pids
	gen_requests "$f"
	pids=$(IFS=,; echo "${SPID[*]}")
	wrk -t"$THREADS" -c"$CONNS" -d"$((SECS + 2))s" -s bench/wrk-openai.lua \
	    "http://127.0.0.1:$PORT" -- "$f" "/triggers/plugin/$SUB_RX" \
	    "$THREADS" >/dev/null 2>&1 &
	local w=$!
	sleep 1
	logged perf record -q -g -o "$WORK/perf.data" -p "$pids" -- \
	    sleep "$SECS" >/dev/null 2>&1
	wait "$w"
	perf report -q -i "$WORK/perf.data" --no-children --sort comm,dso,sym \
	    --stdio -g none --percent-limit 0.7 2>/dev/null |
	    sed 's/ *$//' | grep -v '^$' | head -60 >"$WORK/profile.txt"
}

# --- cluster mode -----------------------------------------------------

CL_A=$WORK/ca			# host A's HOOKPIPE_HOME
CL_B=$WORK/cb			# host B's
CL_UP=				# the hosts hookpipectl started
CL_NATS=			# HOOKPIPE_NATS of both hosts
CL_DONE=			# set once the phase has measured
NATS_PIDS=()

# on_host A|B COMMAND...: runs COMMAND as that host of the cluster.
on_host() {
	local h=$1 home port admin
	shift
	case $h in
	A) home=$CL_A port=$CL_PORT_A admin=$CL_ADMIN_A ;;
	B) home=$CL_B port=$CL_PORT_B admin=$CL_ADMIN_B ;;
	esac
	HOOKPIPE_HOME=$home HOOKPIPE_LISTEN=127.0.0.1:$port \
	    TRIGGER_URL=http://127.0.0.1:$port \
	    HOOKPIPE_ADMIN_LISTEN=127.0.0.1:$admin HOOKPIPE_NATS=$CL_NATS "$@"
}

# The hosts first (hookpipectl stop, then any stage or supervise loop a
# pid file still names, if it is one), then the NATS servers; safe to
# call again, and on any exit.
cluster_stop() {
	local h home f p
	for h in ${CL_UP:-}; do
		on_host "$h" "$BIN/hookpipectl" stop >/dev/null 2>&1
		[ "$h" = A ] && home=$CL_A || home=$CL_B
		for f in "$home"/run/*.pid "$home"/run/*.sup; do
			[ -f "$f" ] || continue
			for p in $(cat "$f" 2>/dev/null); do
				case $p in
				'' | 0 | *[!0-9]*) continue ;;
				esac
				tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
				    grep -q hookpipe && kill -KILL "$p" 2>/dev/null
			done
		done
	done
	CL_UP=
	for p in "${NATS_PIDS[@]:-}"; do
		[ -n "$p" ] && stop "$p"
	done
	NATS_PIDS=()
}

nats_start() {
	local i=0 p r routes j
	local -a ports routes_
	read -ra ports <<<"$NATS_PORTS"
	read -ra routes_ <<<"$NATS_ROUTES"
	CL_NATS=
	for i in 0 1 2; do
		routes=
		for j in 0 1 2; do
			[ "$j" = "$i" ] && continue
			routes=${routes:+$routes,}nats://127.0.0.1:${routes_[$j]}
		done
		p=${ports[$i]}
		r=${routes_[$i]}
		mkdir -p "$WORK/nats/n$i"
		printf 'nats-server -a 127.0.0.1 -p %s -js -sd %s --server_name n%s --cluster_name hpbench --cluster nats://127.0.0.1:%s --routes %s\n' \
		    "$p" "$WORK/nats/n$i" "$i" "$r" "$routes" >>"$CMDS"
		bg "nats-$i" nats-server -a 127.0.0.1 -p "$p" -js \
		    -sd "$WORK/nats/n$i" --server_name "n$i" \
		    --cluster_name hpbench --cluster "nats://127.0.0.1:$r" \
		    --routes "$routes"
		NATS_PIDS+=($!)
		CL_NATS=${CL_NATS:+$CL_NATS,}nats://127.0.0.1:$p
	done
	for p in "${ports[@]}"; do
		wait_port "$p"
	done
}

# Host B has the workflow NAME, published.
published_on_b() {
	on_host B "$BIN/hookpipe" workflow show "$1" --json 2>/dev/null |
	    grep -q '"published"'
}

cluster_start() {
	local i out t0
	say "cluster: three nats-server -js, hosts A (:$CL_PORT_A) and B (:$CL_PORT_B)"
	nats_start
	for i in $(seq 60); do
		out=$(on_host A "$BIN/hookpipe" cluster init --replicas 3 2>&1) &&
		    break
		sleep 1
	done
	[ "$i" -lt 60 ] || die "hookpipe cluster init failed: $out"
	printf '%s\n' "HOOKPIPE_NATS=$CL_NATS hookpipe cluster init --replicas 3" >>"$CMDS"
	mkdir -p "$CL_A" "$CL_B"
	chmod 700 "$CL_A" "$CL_B"
	echo "# on_host A|B: HOOKPIPE_HOME, HOOKPIPE_LISTEN, HOOKPIPE_ADMIN_LISTEN, TRIGGER_URL and HOOKPIPE_NATS of that host" >>"$CMDS"
	on_host A "$BIN/hookpipe" sub list >/dev/null 2>&1
	cp -p "$CL_A/master.key" "$CL_B/master.key" ||
	    die "host A made no master.key"
	for i in A B; do
		CL_UP="$CL_UP $i"
		out=$(on_host "$i" "$BIN/hookpipectl" start 2>&1) ||
		    die "cluster: host $i does not start: $out"
	done
	printf '%s\n' "HOOKPIPE_HOME=\$WORK/ca HOOKPIPE_LISTEN=127.0.0.1:$CL_PORT_A HOOKPIPE_ADMIN_LISTEN=127.0.0.1:$CL_ADMIN_A HOOKPIPE_NATS=$CL_NATS hookpipectl start   # and host B: \$WORK/cb, :$CL_PORT_B, :$CL_ADMIN_B" >>"$CMDS"
	[ -n "${SECRET:-}" ] ||
	    SECRET=whsec_$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(24)).decode())')
	# Made on host A: the configuration is every host's.
	for i in clrx cllat; do
		logged on_host A "$BIN/hookpipe" sub create "bench-$i" \
		    --integration openai --secret "$SECRET" --json \
		    >"$WORK/sub-$i.json" ||
		    die "cluster: hookpipe sub create bench-$i failed"
	done
	SUB_CLRX=$(json_field id <"$WORK/sub-clrx.json")
	SUB_CLLAT=$(json_field id <"$WORK/sub-cllat.json")
	logged on_host A "$BIN/hookpipe" workflow create bench-cl-http \
	    --http "http://127.0.0.1:$SINK_PORT/run" >/dev/null &&
	logged on_host A "$BIN/hookpipe" workflow trigger bench-cl-http \
	    --sub bench-cllat --event batch.completed >/dev/null &&
	t0=$(date +%s%N)
	logged on_host A "$BIN/hookpipe" workflow publish bench-cl-http \
	    >/dev/null || die "cluster: cannot create the bench workflow"
	# From the publish on A to B's CLI showing it: the two commands'
	# own time included.
	for i in $(seq 1500); do
		if published_on_b bench-cl-http; then
			kv cluster.config_ms $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	die "cluster: host B did not get the workflow within 30 s"
}

# Events stored and not yet acknowledged by a router: the routers'
# consumer's pending and ack-pending messages.
cluster_unrouted() {
	on_host A "$BIN/hookpipe" cluster status --json 2>/dev/null |
	    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(c.get("pending", 0) + c.get("ack_pending", 0)
    for s in d["streams"] for c in s.get("durables") or []))' 2>/dev/null
}

cluster_wait_routed() {
	wait_zero cluster_unrouted 300 0.2 \
	    "cluster: events the routers left unacknowledged"
}

# CPU time (clock ticks) of the NATS servers, then of both hosts'
# stages (the admin stages included).
cluster_ticks() {
	local f p n=0 t=0 v
	for p in "${NATS_PIDS[@]}"; do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)
		n=$((n + ${v:-0}))
	done
	for f in "$CL_A"/run/*.pid "$CL_B"/run/*.pid; do
		p=$(cat "$f" 2>/dev/null)
		case $p in '' | *[!0-9]*) continue ;; esac
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$n $t"
}

# cl_wrk FILE PORT CONNS LOG: wrk against one host with the pre-signed
# requests in FILE.
cl_wrk() {
	logged wrk -t"$THREADS" -c"$3" -d"${SECS}s" -s bench/wrk-openai.lua \
	    "http://127.0.0.1:$2" -- "$1" "/triggers/plugin/$SUB_CLRX" \
	    "$THREADS" >"$4" 2>&1
}

# cl_cpu KEY T0: CPU seconds the cluster's processes used since T0
# (ticks), split into the NATS servers' and the hosts' stages'.
cl_cpu() {
	local t
	read -r -a t <<<"$(cluster_ticks)"
	echo "$2 ${t[*]} $(getconf CLK_TCK)" | awk -v k="$1" '{
	    printf "%s.cpu_s=%.2f\n%s.cpu_nats_s=%.2f\n", k,
		($3 + $4 - $1 - $2) / $5, k, ($3 - $1) / $5 }' >>"$KV"
}

# cl_figures KEY LOG...: the WRK figures of the logs under KEY: counts
# and req/s summed over the hosts, times (seconds, p50, p99) the
# largest of them.
cl_figures() {
	local key=$1 l
	shift
	for l in "$@"; do
		grep -q '^WRK ' "$l" || die "wrk printed no figures (see $l)"
	done
	grep -h '^WRK ' "$@" | tr ' ' '\n' | awk -F= -v k="$key" '
	    $2 == "" { next }
	    $1 ~ /^(seconds|p[0-9]+_ms)$/ { if ($2 > s[$1]) s[$1] = $2; next }
	    { s[$1] += $2 }
	    END { for (n in s) printf "%s.%s=%s\n", k, n, s[n] }' >>"$KV"
}

# cl_latency RATE KEY: request -> action at RATE events/s, half to each
# host, as cluster.KEY.*.
cl_latency() {
	local rate=$1 key=$2 sa
	say "cluster: latency at $rate events/s, half to each host"
	curl -s "http://127.0.0.1:$SINK_PORT/reset" >/dev/null
	logged "$BB/send" -u "127.0.0.1:$CL_PORT_A" \
	    -p "/triggers/plugin/$SUB_CLLAT" -s "$SECRET" \
	    -r "$(((rate + 1) / 2))" -d "$SECS" -c 16 \
	    -o "$WORK/cluster-send-a.log" >"$WORK/cluster-send-a.out" &
	sa=$!
	logged "$BB/send" -u "127.0.0.1:$CL_PORT_B" \
	    -p "/triggers/plugin/$SUB_CLLAT" -s "$SECRET" \
	    -r "$(((rate + 1) / 2))" -d "$SECS" -c 16 \
	    -o "$WORK/cluster-send-b.log" >"$WORK/cluster-send-b.out"
	wait "$sa"
	kv "cluster.$key.sender" "A: $(cat "$WORK/cluster-send-a.out"); B: $(
	    cat "$WORK/cluster-send-b.out")"
	cat "$WORK/cluster-send-a.log" "$WORK/cluster-send-b.log" \
	    >"$WORK/cluster-$key-send.log"
	sink_latency "cluster-$key" "cluster.$key"
}

phase_cluster() {
	local r t0 w half=$((CONNS / 2))
	[ "$half" -ge 1 ] || half=1
	if ! command -v nats-server >/dev/null 2>&1; then
		say "cluster: nats-server is missing (Debian: nats-server):" \
		    "no cluster figures"
		kv cluster.skipped "nats-server is missing"
		return
	fi
	kv version.nats_server "$(nats-server --version 2>/dev/null |
	    awk '{print $2}')"
	cluster_start
	# What the cluster burns with nothing to do (heartbeats, the
	# consumers' pulls, the configuration poll), in % of one core.
	sleep 1
	t0=$(cluster_ticks)
	sleep 3
	cl_cpu cluster.idle "$t0"
	say "cluster: wrk -c$CONNS against host A, then -c$half against A and B at once, $ROUNDS round(s)"
	for r in $(seq "$ROUNDS"); do
		# Each window runs from wrk's start until the routers have
		# taken every event: all the work the events cost.
		gen_requests "$WORK/cluster-a.req"
		t0=$(cluster_ticks)
		cl_wrk "$WORK/cluster-a.req" "$CL_PORT_A" "$CONNS" \
		    "$WORK/log/wrk-cluster-a-$r.log"
		cluster_wait_routed
		cl_cpu "cluster.one.$r" "$t0"
		cl_figures "cluster.one.$r" "$WORK/log/wrk-cluster-a-$r.log"

		# Both request files made first: the two wrk start together.
		gen_requests "$WORK/cluster-a.req"
		gen_requests "$WORK/cluster-b.req"
		t0=$(cluster_ticks)
		cl_wrk "$WORK/cluster-a.req" "$CL_PORT_A" "$half" \
		    "$WORK/log/wrk-cluster-a2-$r.log" &
		w=$!
		cl_wrk "$WORK/cluster-b.req" "$CL_PORT_B" "$half" \
		    "$WORK/log/wrk-cluster-b2-$r.log"
		wait "$w"
		cluster_wait_routed
		cl_cpu "cluster.two.$r" "$t0"
		cl_figures "cluster.two.$r" "$WORK/log/wrk-cluster-a2-$r.log" \
		    "$WORK/log/wrk-cluster-b2-$r.log"
		say "  round $r: host A $(kv_get "cluster.one.$r.rps") req/s;" \
		    "A + B $(kv_get "cluster.two.$r.rps") req/s"
	done

	if [ -z "$CL_RATE" ]; then
		CL_RATE=$(grep -h '^cluster\.two\.[0-9]*\.rps=' "$KV" |
		    sed 's/.*=//' | sort -n | awk -v cap=$((RATE / 4)) '
		    { v[NR] = $1 }
		    END { r = NR ? v[int((NR + 1) / 2)] / 2 : cap
			r = int(r / 10) * 10; if (r > cap) r = cap
			if (r < 20) r = 20; print r }')
	fi
	cl_latency "$CL_RATE" latency
	# At a few events a second, what a quiet cluster adds to each
	# (nothing batches there: the waits show).
	cl_latency "$CL_LOW_RATE" low
	kv cluster.rate "$CL_RATE"
	kv cluster.low_rate "$CL_LOW_RATE"
	grep -h -c -i -E 'warn|error|fatal' "$CL_A"/log/*.log "$CL_B"/log/*.log \
	    2>/dev/null | awk '{s += $1} END {print "cluster.log_warnings=" s+0}' \
	    >>"$KV"
	cluster_stop
	CL_DONE=1
}

# The single host again, at the cluster's rate: its latency beside the
# cluster's at the same load (BENCH_RATE may be past what the cluster,
# or a busy machine, sustains).
cluster_single_latency() {
	local out s
	say "cluster: the single host at $CL_RATE events/s, for comparison"
	stack_start
	wait_routed
	curl -s "http://127.0.0.1:$SINK_PORT/reset" >/dev/null
	out=$(logged "$BB/send" -u "127.0.0.1:$PORT" \
	    -p "/triggers/plugin/$SUB_LAT" -s "$SECRET" -r "$CL_RATE" \
	    -d "$SECS" -c 32 -o "$WORK/cluster-single-send.log")
	kv cluster.single.sender "$out"
	sink_latency cluster-single cluster.single
	stack_check "the single host at the cluster's rate"
	for s in $STAGES; do
		stage_stop "$s"
	done
}

# --- main -------------------------------------------------------------

[ "$(nproc)" -ge 1 ] || exit 1
case $WORK in /tmp/*|/var/tmp/*|/dev/shm/*) ;; *) [ -n "${BENCH_WORK:-}" ] ||
    die "BENCH_WORK must be a scratch directory" ;; esac
rm -rf "$WORK"
mkdir -p "$WORK/log"
: >"$KV"
: >"$CMDS"

cl_ports=
want cluster && cl_ports="$CL_PORT_A $CL_ADMIN_A $CL_PORT_B $CL_ADMIN_B \
$NATS_PORTS $NATS_ROUTES"
# shellcheck disable=SC2086 # the cluster's ports, one word each
for p in "$PORT" "$NGINX_PORT" "$NODE_PORT" "$WEBHOOK_PORT" "$PG_PORT" \
    "$PGNODE_PORT" "$HTTPLIB_PORT" "$SINK_PORT" $cl_ports; do
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
	    die "port $p is taken: stop what listens there, or set BENCH_PORT"
done
tools
machine
kv config.seconds "$SECS"
kv config.threads "$THREADS"
kv config.conns "$CONNS"
kv config.rate "$RATE"
kv config.concurrency "${HOOKPIPE_CONCURRENCY:-16 (default)}"

want micro && phase_micro

single=
if want receipt || want latency || want dispatch || want filters ||
    want memory ||
    want profile || [ "$PROFILE" = 1 ]; then
	single=1
fi
if [ -n "$single" ] || want cluster; then
	bg sink "$BB/sink" "$SINK_PORT" "$WORK/sink.dump"
	printf '%s\n' "$BB/sink $SINK_PORT $WORK/sink.dump" >>"$CMDS"
	wait_port "$SINK_PORT"
fi
if [ -n "$single" ]; then
	say "starting hookpipe in $HOOKPIPE_HOME on $HOOKPIPE_LISTEN"
	stack_start
	setup_objects
	want receipt && phase_receipt
	{ [ "$PROFILE" = 1 ] || want profile; } && phase_profile
	want latency && phase_latency
	want dispatch && phase_dispatch
	want filters && phase_filters
	want memory && [ "$LONG" = 1 ] && phase_long
	rss_sample
	for s in receiver verifier router dispatcher; do
		kv "mem.hwm.$s" "${HWM[$s]:-0}"
		kv "mem.anon.$s" "${AHWM[$s]:-0}"
		kv "mem.pss.$s" "${PHWM[$s]:-0}"
	done
	grep -h -c -i -E 'warn|error|fatal' "$WORK"/log/{receiver,verifier,router,dispatcher}.log \
	    2>/dev/null | paste -sd' ' | sed 's/^/logs.warnings=/' >>"$KV"
	# The receiver's body budget against the bodies of the httplib
	# phase's probe; after the memory figures, which it would inflate.
	want receipt && held hookpipe "$PORT" "${SPID[receiver]}" \
	    "/triggers/plugin/$SUB_RX"
	# The cluster's hosts get the machine to themselves.
	for s in $STAGES; do
		stage_stop "$s"
	done
fi
if want cluster; then
	phase_cluster
	[ -n "$single" ] && [ -n "$CL_DONE" ] && cluster_single_latency
fi
want httplib && phase_httplib
kv machine.busy_after "$(background_busy)"

# The same stack again with its state on tmpfs, where an fdatasync
# reaches no disk: receipt and latency as above, no peers. What the
# durable figures lose against these is what the disk's flushes cost; the
# rest is the pipeline's own.
phase_floor() {
	local fw=$FLOOR_WORK
	if [ "$(stat -f -c %T "$(dirname "$fw")" 2>/dev/null)" != tmpfs ]; then
		say "floor: $(dirname "$fw") is not tmpfs: no floor run" \
		    "(set BENCH_FLOOR_WORK)"
		return
	fi
	say "floor: receipt and latency again with the state in $fw (tmpfs)"
	rm -rf "$fw"
	printf 'BENCH_ONLY="receipt latency" BENCH_PEERS=0 BENCH_LATENCY_PLACES=0 BENCH_WORK=%s BENCH_PORT=%s bash bench/run.sh (its commands as above)\n' \
	    "$fw" $((PORT + 200)) >>"$CMDS"
	BENCH_ONLY="receipt latency" BENCH_PEERS=0 BENCH_LATENCY_PLACES=0 \
	    BENCH_WORK=$fw BENCH_KEEP=1 BENCH_PORT=$((PORT + 200)) \
	    BENCH_RESULTS=$fw/floor.md BENCH_BASELINE= \
	    bash "$top/bench/run.sh" >"$WORK/log/floor.log" 2>&1 ||
	    say "floor: its bench failed (see $WORK/log/floor.log)"
	grep -E '^(receipt\.hookpipe\.|single\.|syscalls\.|latency\.|io\.)' \
	    "$fw/results.kv" 2>/dev/null | sed 's/^/floor./' >>"$KV"
	rm -rf "$fw"
}
want floor && phase_floor

# Another commit, measured by its own harness in the same invocation: the
# same machine, minutes apart, so the comparison is fair.
phase_baseline() {
	local src=$WORK/baseline-src bw=$WORK/baseline k
	say "baseline: building $BENCH_BASELINE in $src"
	git -C "$top" worktree remove --force "$src" 2>/dev/null
	rm -rf "$src" "$bw"
	if ! git -C "$top" worktree add -q --detach "$src" "$BENCH_BASELINE" ||
	    ! make -s -C "$src" -j2 all >"$WORK/baseline-build.log" 2>&1; then
		say "baseline: $BENCH_BASELINE does not build (see $WORK/baseline-build.log)"
		return
	fi
	BENCH_ONLY="latency filters memory" BENCH_WORK=$bw BENCH_KEEP=1 \
	    BENCH_PORT=$((PORT + 100)) BENCH_RESULTS=$WORK/baseline.md \
	    BENCH_BASELINE= BENCH_NO_INSTALL=1 bash "$src/bench/run.sh" ||
	    say "baseline: its bench failed (see $bw)"
	kv baseline.commit "$(git -C "$src" rev-parse --short HEAD)"
	for k in latency.lat_p50_ms latency.lat_p99_ms latency.lat_p99_9_ms \
	    latency.ack_p99_ms; do
		grep "^$k=" "$bw/results.kv" 2>/dev/null | sed 's/^/baseline./' >>"$KV"
	done
	grep -E '^(mem\.|io\.|filters\.)' "$bw/results.kv" 2>/dev/null |
	    sed 's/^/baseline./' >>"$KV"
	git -C "$top" worktree remove --force "$src" 2>/dev/null
}
[ -n "${BENCH_BASELINE:-}" ] && phase_baseline

python3 bench/report.py "$KV" "$CMDS" "$WORK" "$RESULTS"
