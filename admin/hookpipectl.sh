#!/bin/sh
# hookpipectl: start, stop, restart and watch the four hookpipe stages.
#
# Each stage runs under its own supervise loop, a separate small process
# (this script run as "_loop STAGE"). There is no central daemon: a loop
# restarts only its own stage, so killing or restarting one stage, or one
# loop, leaves the other three alone. The loops and the stages find each
# other through files under $HOOKPIPE_HOME/run/:
#
#   <stage>.pid       written by the stage when it is ready (atomically)
#   <stage>.lock      flock'ed by the stage while it runs
#   <stage>.sup       "LOOP_PID CHILD_PID", written by the loop
#   <stage>.restarts  how often the loop started the stage again
#   <stage>.down      stop requested: the loop does not restart the stage
#   <stage>.restart   restart requested: the loop restarts it at once
#                     (the receiver's loop takes SIGUSR1 instead: it
#                     starts a successor that takes the socket over)
#   <stage>.exit      the stage's last exit code, when the loop gave up
#   <stage>.exe       the executable set by "swap", if any
#
# Stage exit codes (see README): 0 clean, 100 configuration error (left
# down), anything else (111, a signal) is restarted with backoff.
#
# POSIX sh on purpose: it runs wherever the stages run, with no runtime.

set -u

STAGES="dispatcher router verifier receiver"	# start order
STAGES_REV="receiver verifier router dispatcher"	# stop order
READY_TIMEOUT=10	# seconds a stage gets to write its pid file
STOP_TIMEOUT=10		# seconds a stage gets to drain before SIGKILL

prog=hookpipectl
self=$(readlink -f "$0" 2>/dev/null) || self=$0
bindir=$(cd "$(dirname "$self")" && pwd) || exit 1

: "${HOOKPIPE_HOME:=${XDG_STATE_HOME:-${HOME:?set HOOKPIPE_HOME or HOME}/.local/state}/hookpipe}"
export HOOKPIPE_HOME
run=$HOOKPIPE_HOME/run
logdir=$HOOKPIPE_HOME/log

usage() {
	cat <<EOF
usage: $prog COMMAND [ARGS]

  start [--foreground]    start every stage that is not running, in order
                          (dispatcher, router, verifier, receiver); a stage
                          that exits is restarted with backoff
  stop [STAGE]            stop one stage, or all of them (receiver first)
  restart STAGE|all       stop a stage and start it again at once
  status                  state, pid, uptime and restarts of each stage;
                          exits 0 when all four are up, 3 otherwise
  swap STAGE EXECUTABLE   run EXECUTABLE in place of the stage's binary
  tail STAGE [--payload]  what the stage emits, one JSON line each
  logs STAGE [-f]         print (and follow) the stage's log

STAGE is one of: receiver verifier router dispatcher
State lives in HOOKPIPE_HOME (now $HOOKPIPE_HOME).
EOF
}

usage_error() {
	printf '%s: %s\n\n' "$prog" "$1" >&2
	usage >&2
	exit 2
}

die() {
	printf '%s: %s\n' "$prog" "$1" >&2
	exit 1
}

is_stage() {
	case $1 in
	receiver|verifier|router|dispatcher) return 0 ;;
	*) return 1 ;;
	esac
}

# A live process. kill -0 also succeeds on a zombie: a loop of "start
# --foreground" until we wait for it, or a process whose parent died,
# until init reaps it.
alive() {
	[ -n "$1" ] && [ "$1" != 0 ] && kill -0 "$1" 2>/dev/null || return 1
	st=
	if [ -r "/proc/$1/stat" ]; then
		read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null
	fi
	[ "$st" != Z ]
}

# The pid in a stage's pid file, or nothing.
pid_of() {
	p=
	[ -f "$run/$1.pid" ] && read -r p <"$run/$1.pid" 2>/dev/null
	printf '%s' "${p:-}"
}

# Sets sup_loop and sup_child from run/<stage>.sup (empty when absent).
read_sup() {
	sup_loop=''
	sup_child=''
	if [ -f "$run/$1.sup" ]; then
		read -r sup_loop sup_child <"$run/$1.sup" 2>/dev/null || :
	fi
}

# A stage is up when its pid file names a live process.
stage_up() {
	alive "$(pid_of "$1")"
}

# The stage holds its lock (what /healthz checks). Without flock(1),
# the pid file has to do.
lock_held() {
	if command -v flock >/dev/null 2>&1; then
		! flock -n -s "$run/$1.lock" true 2>/dev/null
	else
		stage_up "$1"
	fi
}

loop_alive() {
	read_sup "$1"
	alive "$sup_loop"
}

now() {
	date +%s
}

# In the stages' format: "2026-01-02T03:04:05.678Z name: message".
log_line() {
	t=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	case $t in
	*N*) t=$(date -u +%Y-%m-%dT%H:%M:%S.000Z) ;;	# no %N in this date
	esac
	printf '%s hookpipectl[%s]: %s\n' "$t" "$1" "$2"
}

ms_to_s() {
	printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# "42s", "5m12s", "3h04m", "2d07h"
fmt_age() {
	s=$1
	if [ "$s" -lt 60 ]; then
		printf '%ds' "$s"
	elif [ "$s" -lt 3600 ]; then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	elif [ "$s" -lt 86400 ]; then
		printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
	else
		printf '%dd%02dh' $((s / 86400)) $((s % 86400 / 3600))
	fi
}

mtime() {
	date -r "$1" +%s 2>/dev/null || stat -c %Y "$1" 2>/dev/null
}

# ---------------------------------------------------------------------
# The supervise loop of one stage: "_loop STAGE", stdout and stderr on the
# stage's log. It exits when a stop was requested, or when the stage
# exits 100 (a configuration error: restarting cannot help).

spawned=
not_ready=
loop_child=
loop_prev=
loop_sleeper=
loop_stopping=0
loop_handoff=0

loop_term() {
	loop_stopping=1
	if [ -n "$loop_sleeper" ]; then
		kill "$loop_sleeper" 2>/dev/null
	fi
	for c in $loop_child $loop_prev; do
		kill -TERM "$c" 2>/dev/null
	done
}

# SIGUSR1 from "restart receiver" or "swap receiver": start the new
# receiver while the old one runs. It takes the listening socket over
# (run/receiver.handoff) and the old one drains and exits, so that no
# connection is refused in between.
loop_usr1() {
	loop_handoff=1
}

write_sup() {
	printf '%s %s\n' "$$" "$2" >"$run/$1.sup.$$" &&
	    mv -f "$run/$1.sup.$$" "$run/$1.sup"
}

count_restart() {
	n=0
	[ -f "$run/$stage.restarts" ] && read -r n <"$run/$stage.restarts"
	echo $((${n:-0} + 1)) >"$run/$stage.restarts"
}

# Starts the stage (or the executable "swap" set) in the background.
start_child() {
	exe="$bindir/hookpipe-$stage"
	if [ -f "$run/$stage.exe" ]; then
		read -r exe <"$run/$stage.exe"
	fi
	# A pid file left by a killed stage would look like readiness.
	p=$(pid_of "$stage")
	if [ -n "$p" ] && ! alive "$p"; then
		rm -f "$run/$stage.pid"
	fi
	started=$(now)
	"$exe" 9>&- &
	loop_child=$!
	write_sup "$stage" "$loop_child"
	# A stop that came while we were forking found no child to stop.
	if [ "$loop_stopping" = 1 ]; then
		kill -TERM "$loop_child" 2>/dev/null
	fi
}

# Waits for the child to exit; sets rc to its exit status. A trap
# interrupts wait while the child is still there: then wait again.
wait_child() {
	while :; do
		# The shell may have reaped the child already (while running
		# another command): wait still returns its status.
		wait "$loop_child"
		rc=$?
		if alive "$loop_child"; then
			if [ "$loop_handoff" = 1 ]; then
				loop_handoff=0
				loop_prev=$loop_child
				log_line "$stage" "starting a successor to pid $loop_prev"
				count_restart
				start_child
			fi
			continue
		fi
		if [ -n "$loop_prev" ] && alive "$loop_prev" &&
		    [ "$loop_stopping" = 0 ] &&
		    [ "$(pid_of "$stage")" != "$loop_prev" ]; then
			# The successor was ready (its pid file replaced the
			# previous one's) and then failed. The previous receiver
			# handed it the listening socket and is draining: start
			# another successor, which takes the socket from it
			# again, so that connections keep being accepted.
			log_line "$stage" "the successor exited with $rc; starting another (pid $loop_prev is draining)"
			sleep 0.2
			count_restart
			start_child
			continue
		fi
		if [ -n "$loop_prev" ] && alive "$loop_prev"; then
			# The successor failed before it was ready: the
			# previous one never handed over, and goes on.
			log_line "$stage" "the successor exited with $rc; pid $loop_prev goes on"
			loop_child=$loop_prev
			loop_prev=
			write_sup "$stage" "$loop_child"
			continue
		fi
		loop_prev=
		return
	done
}

supervise() {
	stage=$1
	# One loop per stage: a second one would fight the first for the
	# stage's lock. flock(1) is util-linux, present on every Linux.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$run/$stage.suplock"
		flock -n 9 || exit 0
	fi
	trap loop_term TERM INT HUP
	trap loop_usr1 USR1
	rm -f "$run/$stage.exit"
	delay=200
	while [ "$loop_stopping" = 0 ] && [ ! -e "$run/$stage.down" ]; do
		loop_handoff=0
		start_child
		wait_child
		loop_child=
		write_sup "$stage" 0
		if [ "$loop_stopping" = 1 ] || [ -e "$run/$stage.down" ]; then
			break
		fi
		if [ "$rc" = 100 ]; then
			log_line "$stage" "stage exited with 100 (configuration error), not restarting"
			echo 100 >"$run/$stage.exit"
			break
		fi
		count_restart
		if [ -e "$run/$stage.restart" ]; then
			# Requested by "hookpipectl restart": no backoff.
			rm -f "$run/$stage.restart"
			log_line "$stage" "stage exited with $rc, restarting now (requested)"
			delay=200
			continue
		fi
		if [ $(($(now) - started)) -ge 10 ]; then
			delay=200
		fi
		log_line "$stage" "stage exited with $rc, restarting in $(ms_to_s "$delay") s"
		sleep "$(ms_to_s "$delay")" &
		loop_sleeper=$!
		wait "$loop_sleeper"
		loop_sleeper=
		delay=$((delay * 2))
		if [ "$delay" -gt 5000 ]; then
			delay=5000
		fi
	done
	rm -f "$run/$stage.sup"
	[ -f "$run/$stage.exit" ] && exit 100
	exit 0
}

# ---------------------------------------------------------------------
# Starting and stopping, used by the commands below.

prepare_dirs() {
	(umask 077 && mkdir -p "$run" "$logdir") ||
	    die "cannot create $run and $logdir"
}

# Runs the loop of one stage in the background, detached: its own
# session (no terminal: a Ctrl-C meant for "start --foreground" must not
# reach the stages, which we stop in order), stdin from /dev/null, output
# to the stage's log. setsid does not fork here (we are not a process
# group leader), so $! is the loop, which "start --foreground" waits for.
spawn_loop() {
	# A .sup file left by a loop that was killed names dead processes:
	# wait_ready must not take it for this loop's.
	rm -f "$run/$1.down" "$run/$1.restart" "$run/$1.exit" "$run/$1.sup"
	if command -v setsid >/dev/null 2>&1; then
		setsid sh "$self" _loop "$1" </dev/null >>"$logdir/$1.log" 2>&1 &
	else
		nohup sh "$self" _loop "$1" </dev/null >>"$logdir/$1.log" 2>&1 &
	fi
	# The loop's pid, before it has written its .sup file (a loaded
	# machine may take a while to run it).
	spawned=$!
	fg_loops="$fg_loops $spawned"
}

# Waits until the stage's pid file names the child its loop started.
# Returns 1 when the loop ends (exit 100) or after READY_TIMEOUT seconds.
wait_ready() {
	i=0
	while [ "$i" -lt $((READY_TIMEOUT * 20)) ]; do
		read_sup "$1"
		p=$(pid_of "$1")
		if [ -n "$p" ] && [ "$p" = "$sup_child" ] && alive "$p"; then
			return 0
		fi
		if ! alive "${sup_loop:-$spawned}"; then
			not_ready="exited before it was ready"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	not_ready=
	return 1
}

# Waits for a process that is not necessarily our child to exit.
wait_exit() {
	i=0
	while alive "$1" && [ "$i" -lt $(($2 * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	! alive "$1"
}

print_up() {
	printf '%-10s up    pid %s\n' "$1" "$(pid_of "$1")"
}

# start_failed STAGE [WHY]
start_failed() {
	why=${2:-}
	if [ -z "$why" ] && [ -f "$run/$1.exit" ]; then
		why="exited with 100 (configuration error)"
	fi
	why=${why:-$not_ready}
	printf '%s: %s %s; last lines of %s:\n' "$prog" "$1" \
	    "${why:-did not become ready within $READY_TIMEOUT s}" \
	    "$logdir/$1.log" >&2
	tail -n 15 "$logdir/$1.log" 2>/dev/null | sed 's/^/  /' >&2
	printf '(full log: %s logs %s)\n' "$prog" "$1" >&2
}

# Starts the stages that are not running, in order, each once the one
# before it is ready. On failure, stops what this call started.
start_stages() {
	started_here=
	for s in $STAGES; do
		if stage_up "$s"; then
			print_up "$s"
			continue
		fi
		if loop_alive "$s"; then
			# Its loop is between two restarts: wait for it.
			:
		else
			spawn_loop "$s"
			started_here="$s $started_here"
		fi
		if ! wait_ready "$s"; then
			start_failed "$s"
			stop_stage "$s" quiet "$spawned"
			for t in $started_here; do
				stop_stage "$t" quiet
			done
			return 1
		fi
		print_up "$s"
	done
	return 0
}

# Stops one stage and its loop: down marker first, so that the loop does
# not restart it, then SIGTERM (the stage drains), SIGKILL after
# STOP_TIMEOUT seconds. LOOP_PID names a loop that may not have written
# its .sup file yet.
#   stop_stage STAGE [quiet] [LOOP_PID]
stop_stage() {
	s=$1
	[ -d "$run" ] || return 0
	: >"$run/$s.down"
	read_sup "$s"
	[ -n "$sup_loop" ] || sup_loop=${3:-}
	p=$(pid_of "$s")
	alive "$p" || p=$sup_child
	was_up=0
	if alive "$p"; then
		was_up=1
		kill -TERM "$p" 2>/dev/null
		if ! wait_exit "$p" "$STOP_TIMEOUT"; then
			printf '%s: %s did not exit within %d s, killing it\n' \
			    "$prog" "$s" "$STOP_TIMEOUT" >&2
			kill -KILL "$p" 2>/dev/null
			wait_exit "$p" 2 || :
		fi
	fi
	if alive "$sup_loop"; then
		was_up=1
		kill -TERM "$sup_loop" 2>/dev/null
		wait_exit "$sup_loop" 5 || :
	fi
	rm -f "$run/$s.sup" "$run/$s.restart"
	p=$(pid_of "$s")
	if [ -n "$p" ] && ! alive "$p"; then
		rm -f "$run/$s.pid"
	fi
	if [ "${2:-}" != quiet ] && [ "$was_up" = 1 ]; then
		printf '%-10s stopped\n' "$s"
	fi
}

stop_all() {
	for s in $STAGES_REV; do
		stop_stage "$s"
	done
}

# Restarts a running stage through its loop, at once, and waits for the
# new process to be ready. A stage without a loop is simply started.
restart_stage() {
	s=$1
	if ! loop_alive "$s"; then
		# Running without its loop (the loop was killed): it would
		# keep its lock and the new one could not start.
		if stage_up "$s"; then
			stop_stage "$s" quiet
		fi
		spawn_loop "$s"
		if ! wait_ready "$s"; then
			start_failed "$s"
			stop_stage "$s" quiet "$spawned"
			return 1
		fi
		printf '%-10s started  pid %s\n' "$s" "$(pid_of "$s")"
		return 0
	fi
	old=$sup_child
	if [ "$s" = receiver ] && alive "$old" && stage_up "$s"; then
		# The successor takes the socket over; the old one drains.
		# A receiver that itself took over holds its lock only once
		# its predecessor has gone: a successor started before then
		# would find the lock free, and the port taken.
		i=0
		while ! lock_held "$s" && [ "$i" -lt 60 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -USR1 "$sup_loop"
	elif alive "$old"; then
		# Between two restarts there is no child to stop: the loop
		# starts a new one when its backoff ends.
		: >"$run/$s.restart"
		kill -TERM "$old" 2>/dev/null
		if ! wait_exit "$old" "$STOP_TIMEOUT"; then
			kill -KILL "$old" 2>/dev/null
		fi
	fi
	i=0
	while [ "$i" -lt $((READY_TIMEOUT * 20)) ]; do
		read_sup "$s"
		p=$(pid_of "$s")
		if [ -n "$p" ] && [ "$p" != "$old" ] && [ "$p" = "$sup_child" ] &&
		    alive "$p"; then
			printf '%-10s restarted  pid %s\n' "$s" "$p"
			return 0
		fi
		if ! alive "$sup_loop"; then
			break
		fi
		# A receiver whose successor failed goes on as before.
		if [ "$i" -gt 10 ] && [ "$sup_child" = "$old" ]; then
			start_failed "$s" "successor failed (pid $old goes on)"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	start_failed "$s"
	return 1
}

# ---------------------------------------------------------------------
# Commands.

cmd_start() {
	foreground=0
	case ${1:-} in
	"") ;;
	--foreground|-f) foreground=1 ;;
	*) usage_error "start: unknown option $1" ;;
	esac
	[ $# -le 1 ] || usage_error "start: too many arguments"
	for b in $STAGES; do
		[ -x "$bindir/hookpipe-$b" ] ||
		    die "$bindir/hookpipe-$b: not found (run make first)"
	done
	prepare_dirs
	all_up=1
	for s in $STAGES; do
		stage_up "$s" || all_up=0
	done
	if [ "$all_up" = 1 ]; then
		echo "hookpipe is already running in $HOOKPIPE_HOME"
		for s in $STAGES; do
			print_up "$s"
		done
		return 0
	fi
	fg_loops=
	if [ "$foreground" = 0 ]; then
		start_stages
		return
	fi

	# Foreground: our loops are children; print their logs as they grow
	# and stop everything on SIGINT/SIGTERM.
	trap 'fg_stop' INT TERM
	start_stages || exit 1
	echo "hookpipe is running in $HOOKPIPE_HOME (listening on ${HOOKPIPE_LISTEN:-127.0.0.1:8080}); Ctrl-C stops it"
	tail -q -n 0 -F "$logdir"/*.log 2>/dev/null &
	fg_tail=$!
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$fg_loops" ] && wait $fg_loops
	# Every loop has ended (stopped from outside, or exit 100).
	kill "$fg_tail" 2>/dev/null
	exit 0
}

fg_stop() {
	trap '' INT TERM
	echo "stopping hookpipe"
	stop_all
	[ -n "${fg_tail:-}" ] && kill "$fg_tail" 2>/dev/null
	wait
	exit 0
}

cmd_stop() {
	[ $# -le 1 ] || usage_error "stop: too many arguments"
	if [ $# -eq 1 ]; then
		is_stage "$1" || usage_error "unknown stage: $1"
		if ! stage_up "$1" && ! loop_alive "$1"; then
			echo "$1 is not running"
			: >"$run/$1.down" 2>/dev/null
			return 0
		fi
		stop_stage "$1"
		return 0
	fi
	any=0
	for s in $STAGES; do
		if stage_up "$s" || loop_alive "$s"; then
			any=1
		fi
	done
	if [ "$any" = 0 ]; then
		echo "hookpipe is not running"
		return 0
	fi
	stop_all
}

cmd_restart() {
	[ $# -eq 1 ] || usage_error "restart: expected STAGE or all"
	prepare_dirs
	foreground=0
	fg_loops=
	if [ "$1" = all ]; then
		for s in $STAGES; do
			restart_stage "$s" || return 1
		done
		return 0
	fi
	is_stage "$1" || usage_error "unknown stage: $1"
	restart_stage "$1"
}

cmd_status() {
	[ $# -eq 0 ] || usage_error "status: no arguments expected"
	rc=0
	t=$(now)
	for s in receiver verifier router dispatcher; do
		n=0
		[ -f "$run/$s.restarts" ] && read -r n <"$run/$s.restarts"
		if stage_up "$s"; then
			m=$(mtime "$run/$s.pid")
			printf '%-10s up    pid %-8s uptime %-8s restarts %s\n' \
			    "$s" "$(pid_of "$s")" "$(fmt_age $((t - ${m:-$t})))" \
			    "${n:-0}"
			continue
		fi
		rc=3
		if [ -f "$run/$s.exit" ]; then
			why="configuration error, see: $prog logs $s"
		elif loop_alive "$s"; then
			why="restarting"
		elif [ -e "$run/$s.down" ]; then
			why="stopped"
		else
			why="not started"
		fi
		printf '%-10s down  pid %-8s uptime %-8s restarts %s  (%s)\n' \
		    "$s" - - "${n:-0}" "$why"
	done
	return $rc
}

cmd_swap() {
	[ $# -eq 2 ] || usage_error "swap: expected STAGE EXECUTABLE"
	is_stage "$1" || usage_error "unknown stage: $1"
	case $2 in
	/*) exe=$2 ;;
	*) exe=$(pwd)/$2 ;;
	esac
	if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then
		die "$2: not an executable file"
	fi
	prepare_dirs
	prev=
	[ -f "$run/$1.exe" ] && read -r prev <"$run/$1.exe"
	echo "$exe" >"$run/$1.exe"
	foreground=0
	fg_loops=
	if restart_stage "$1"; then
		return 0
	fi
	# The new build did not come up: put the previous one back.
	if [ -n "$prev" ]; then
		echo "$prev" >"$run/$1.exe"
	else
		rm -f "$run/$1.exe"
	fi
	echo "$prog: swap failed, restarting $1 with its previous executable" >&2
	restart_stage "$1" >&2
	return 1
}

cmd_tail() {
	[ $# -ge 1 ] || usage_error "tail: expected STAGE"
	is_stage "$1" || usage_error "unknown stage: $1"
	case ${2:-} in
	""|--payload) ;;
	*) usage_error "tail: unknown option $2" ;;
	esac
	[ $# -le 2 ] || usage_error "tail: too many arguments"
	exec "$bindir/hookpipe" tail "$@"
}

cmd_logs() {
	[ $# -ge 1 ] || usage_error "logs: expected STAGE"
	is_stage "$1" || usage_error "unknown stage: $1"
	f=$logdir/$1.log
	case ${2:-} in
	"")
		[ $# -eq 1 ] || usage_error "logs: too many arguments"
		[ -f "$f" ] || die "no log yet: $f"
		exec cat "$f"
		;;
	-f|--follow)
		[ $# -eq 2 ] || usage_error "logs: too many arguments"
		exec tail -n +1 -F "$f"
		;;
	*) usage_error "logs: unknown option $2" ;;
	esac
}

[ $# -ge 1 ] || usage_error "expected a command"
cmd=$1
shift
case $cmd in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
restart) cmd_restart "$@" ;;
status) cmd_status "$@" ;;
swap) cmd_swap "$@" ;;
tail) cmd_tail "$@" ;;
logs) cmd_logs "$@" ;;
-h|--help|help) usage ;;
_loop)
	is_stage "${1:-}" || usage_error "_loop: unknown stage"
	supervise "$1"
	;;
*) usage_error "unknown command: $cmd" ;;
esac
