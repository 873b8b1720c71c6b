#!/bin/sh
# hookpipectl: start, stop, restart and watch the hookpipe stages: the
# pipeline's four and the admin stage (the console, the API, metrics).
#
# Each stage runs under its own supervise loop, a separate small process
# (this script run as "_loop STAGE"). There is no central daemon: a loop
# restarts only its own stage, so killing or restarting one stage, or one
# loop, leaves the other three alone. The loops and the stages find each
# other through files under $HOOKPIPE_HOME/run/:
#
#   <stage>.pid       written by the stage when it is ready (atomically)
#   <stage>.lock      flock'ed by the stage while it runs
#   <stage>.suplock   flock'ed by the stage's loop (on its fd 9)
#   <stage>.sup       "LOOP_PID CHILD_PID", written by the loop
#   <stage>.restarts  "TOTAL CRASHES": how often the stage was started
#                     again, and how many of those after it crashed
#   <stage>.last      the last restart: "TIME REASON STATUS DETAIL", with
#                     REASON crash, restart or swap
#   <stage>.down      stop requested: the loop does not restart the stage
#   <stage>.restart   restart requested (it holds the reason): the loop
#                     restarts the stage at once (the receiver's loop
#                     takes SIGUSR1 instead: it starts a successor that
#                     takes the socket over)
#   <stage>.exit      the stage's last exit code, when the loop gave up
#   <stage>.exe       the executable set by "swap", if any (its mtime:
#                     since when)
#   <stage>.exe.prev  during a swap, the executable it replaces
#   ctl.lock          held by start, stop, restart and swap
#
# No file is trusted alone: after a crash, a pid file or a .sup file may
# name a pid the system has since given to an unrelated process. A pid is
# the stage only when it runs the stage's executable and holds the
# stage's lock or is the child of the stage's loop (is_stage); a pid is
# the loop only when it runs "hookpipectl _loop STAGE" and holds the
# stage's supervise lock (is_loop). Nothing else is ever signalled.
#
# Stage exit codes (see README): 0 clean, 100 configuration error (left
# down), anything else (111, a signal) is restarted with backoff.
#
# POSIX sh on purpose: it runs wherever the stages run, with no runtime.
# Linux only, as the stages are: it reads /proc. test -ef (POSIX.1-2024;
# dash, bash, ksh and busybox have long had it) compares a process's
# executable or descriptor with a file without a fork.
# shellcheck disable=SC3013

set -u

STAGES="dispatcher router verifier receiver admin"	# start order
STAGES_REV="admin receiver verifier router dispatcher"	# stop order
READY_TIMEOUT=10	# seconds a stage gets to write its pid file
STOP_TIMEOUT=10		# seconds a stage gets to drain before SIGKILL

prog=hookpipectl
self=$(readlink -f "$0" 2>/dev/null) || self=$0
bindir=$(cd "$(dirname "$self")" && pwd -P) || exit 1
# The stages: beside us in a source tree (bin/), in libexec/hookpipe
# once installed (make install).
stagedir=$bindir
if [ ! -x "$bindir/hookpipe-receiver" ] &&
    [ -d "$bindir/../libexec/hookpipe" ]; then
	stagedir=$(cd "$bindir/../libexec/hookpipe" && pwd -P) || exit 1
fi

: "${HOOKPIPE_HOME:=${XDG_STATE_HOME:-${HOME:?set HOOKPIPE_HOME or HOME}/.local/state}/hookpipe}"
export HOOKPIPE_HOME
HOOKPIPE_BINDIR=$stagedir
export HOOKPIPE_BINDIR
run=$HOOKPIPE_HOME/run
logdir=$HOOKPIPE_HOME/log

# $HOOKPIPE_HOME/hookpipe.env, for what hookpipectl itself shows or
# writes (HOOKPIPE_LISTEN, ...): a value the environment does not give.
# Kept out of the environment, so that the stages read the file
# themselves, as it is when they start: an edit and a restart suffice.
# Lines the stages would refuse are theirs to report.
env_file_load() {
	[ -r "$HOOKPIPE_HOME/hookpipe.env" ] || return 0
	while IFS= read -r ef_line || [ -n "$ef_line" ]; do
		ef_line=$(printf '%s' "$ef_line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		case $ef_line in
		''|'#'*) continue ;;
		'export '*) ef_line=${ef_line#export } ;;
		esac
		ef_name=${ef_line%%=*}
		[ "$ef_name" != "$ef_line" ] || continue
		case $ef_name in
		TRIGGER_URL|HOOKPIPE_?*) ;;
		*) continue ;;
		esac
		case $ef_name in
		*[!A-Z0-9_]*|HOOKPIPE_HOME) continue ;;
		esac
		eval "ef_set=\${$ef_name+x}"
		[ -z "$ef_set" ] || continue
		ef_val=${ef_line#*=}
		case $ef_val in
		'"'*'"'|"'"*"'") ef_val=${ef_val#?}; ef_val=${ef_val%?} ;;
		esac
		eval "$ef_name=\$ef_val"
	done <"$HOOKPIPE_HOME/hookpipe.env"
}
env_file_load

usage() {
	cat <<EOF
usage: $prog COMMAND [ARGS]

  start [--foreground]     start every stage that is not running, in order
                           (dispatcher, router, verifier, receiver); a stage
                           that exits is restarted with backoff
  stop [STAGE]             stop one stage, or all of them (receiver first)
  restart STAGE|all        stop a stage and start it again at once
  status [--json]          state, pid, uptime, restarts and executable of
                           each stage; exits 0 when all five are up, 3
                           otherwise
  swap STAGE EXECUTABLE    run EXECUTABLE in place of the stage's binary;
                           if it does not come up, the previous one runs
                           again and swap exits 1
  tail STAGE [--payload]   what the stage emits, one JSON line each
  logs STAGE [-n N] [--since DURATION|TIME] [-f]
                           print (and follow) the stage's log
  reload                   make the stages read the integration
                           definitions again now
  gen systemd|s6|runit DIR [--user USER] [--home DIR] [--listen ADDR]
                           write unit files or service directories that
                           run the stages under a service manager
  help [COMMAND]           this text, or the one of a command
  --version                the version and the commit it was built from

STAGE is one of: receiver verifier router dispatcher admin. Every command
takes --help. State lives in HOOKPIPE_HOME (now $HOOKPIPE_HOME).
EOF
}

# The help of one command, on stdout.
help_of() {
	case $1 in
	start) cat <<EOF
usage: $prog start [--foreground]

Starts every stage that is not running, in the order dispatcher, router,
verifier, receiver, admin, each once the one before it is ready, and
returns when all five are up. If one does not come up, shows its log, stops what
it started and exits 1. Each stage runs under its own supervise loop,
which starts it again when it exits: after 0.2 s, then 0.4 s, ... up to
5 s (0.2 s again once it ran for 10 s); after exit 100 (a configuration
error) the stage is left down.

  -f, --foreground  stay attached, print the stages' logs as they grow,
                    and stop everything on Ctrl-C or SIGTERM
EOF
		;;
	stop) cat <<EOF
usage: $prog stop [STAGE]

Stops one stage, or all five (admin and receiver first). A stage drains
first: it gets $STOP_TIMEOUT s before SIGKILL. A stopped stage stays down until the next
start or restart.
EOF
		;;
	restart) cat <<EOF
usage: $prog restart STAGE|all

Stops a stage and starts it again at once (no backoff), and prints its
new pid once it is ready. The receiver's successor takes the listening
socket over while the old receiver finishes its requests: no connection
is refused. Exits 1 if the stage does not come up again (its log is
shown).
EOF
		;;
	status) cat <<EOF
usage: $prog status [--json]

One line per stage: up or down (and why: restarting, stopped, failed,
not started), pid, uptime, restarts (of which crashes, and the last
restart's reason and age), and, when swapped, the executable and since
when. In cluster mode (HOOKPIPE_NATS set) then what \`hookpipe cluster
status\` shows: the NATS connection, the streams, buckets and durable
consumers (pending, unacknowledged, redelivered). Exits 0 when all five
stages are up (and, in cluster mode, NATS answers with everything
there), 3 otherwise.

  --json  one JSON document: {"home", "up", "stages": [{"name", "state"
          (up, down, restarting, stopped, failed), "pid", "uptime"
          (seconds), "restarts", "crashes", "last_restart" ({"reason"
          (crash, restart, swap), "time", "ago", "exit_code", "signal",
          "detail"} or null), "executable", "swapped", "swapped_since",
          "swapped_age", "supervised"}], "cluster" (cluster mode: the
          document of hookpipe --json cluster status, or {"error"})}
EOF
		;;
	swap) cat <<EOF
usage: $prog swap STAGE EXECUTABLE

Runs EXECUTABLE (another build of the stage) in place of the stage's
binary, and keeps it across restarts until the next swap (swap back with
bin/hookpipe-STAGE). The receiver's successor takes the listening socket
over; the other stages stop (draining first) and start again at once.

If EXECUTABLE does not come up (it exits, or is not ready within
$READY_TIMEOUT s), the previous executable is started again and swap exits 1,
saying why. Either way the stage runs when swap returns, with the
executable status shows.
EOF
		;;
	tail) cat <<EOF
usage: $prog tail STAGE [--payload]

Prints what the stage emits, one JSON line per message, until
interrupted. Never a secret or a signature.

  --payload  with the events' payloads
EOF
		;;
	logs) cat <<EOF
usage: $prog logs STAGE [-n N] [--since DURATION|TIME] [-f]

Prints the stage's log (log/STAGE.log). Each line starts with its time,
RFC 3339 in UTC: "2026-01-02T03:04:05.678Z hookpipe-router: ready".

  -n, --lines N       only the last N lines
  --since DURATION    only the lines of the last DURATION: 90s, 10m, 2h,
                      1d, 1h30m (a bare number is seconds)
  --since TIME        only the lines from TIME on: 2026-01-02,
                      2026-01-02T03:04, 2026-01-02T03:04:05Z,
                      2026-01-02T05:04:05+02:00 (UTC without a zone)
  -f, --follow        then print the lines as they are written
EOF
		;;
	reload) cat <<EOF
usage: $prog reload

Makes the receiver and the verifier read the integration definitions
(integrations/ of the install and \$HOOKPIPE_HOME/integrations/) again
now, with SIGHUP. They also notice a changed directory within a second
on their own. A file that does not load is refused in their logs, with
its file:line, and its previous version stays in use. The router and the
dispatcher hold no definitions; the CLI reads them on every command.
Exits 0 when the signal reached both, 3 when one is not running.
EOF
		;;
	gen) cat <<EOF
usage: $prog gen systemd|s6|runit DIR [--user USER] [--home DIR]
           [--listen ADDR] [--exe-dir DIR]

Writes into DIR what runs the four stages under a service manager, in
place of start and stop. Each stage says when it is ready, and one that
exits with 100 (a configuration error) is not restarted.

  systemd  hookpipe-{dispatcher,router,verifier,receiver}.service
           (Type=notify, RestartPreventExitStatus=100),
           hookpipe-receiver.socket (the receiver's listening socket,
           kept open across its restarts) and hookpipe.target. Copy them
           to /etc/systemd/system, then: systemctl daemon-reload;
           systemctl enable --now hookpipe.target
  s6       a service directory per stage (run, finish, notification-fd,
           log/run with s6-log), for s6-svscan's scan directory
  runit    a service directory per stage (run, finish, log/run with
           svlogd), for runsvdir's directory

  --user USER    run the stages as USER (the service manager starts as
                 root); default: the user the manager runs them as
  --home DIR     HOOKPIPE_HOME of the stages (default: the current one,
                 $HOOKPIPE_HOME)
  --listen ADDR  the receiver's address (default: HOOKPIPE_LISTEN, or
                 127.0.0.1:8080)
  --exe-dir DIR  where the stages' executables are (default: those
                 hookpipectl runs, in $stagedir)
EOF
		;;
	help) cat <<EOF
usage: $prog help [COMMAND]

Prints the commands, or the help of one (as COMMAND --help does).
EOF
		;;
	*) return 1 ;;
	esac
}

# usage_error COMMAND MESSAGE: one line on stderr, exit 2. COMMAND may be
# empty (an error about the command itself).
usage_error() {
	if [ -n "$1" ]; then
		printf '%s: %s: %s (try %s %s --help)\n' "$prog" "$1" "$2" \
		    "$prog" "$1" >&2
	else
		printf '%s: %s (try %s --help)\n' "$prog" "$2" "$prog" >&2
	fi
	exit 2
}

die() {
	printf '%s: %s\n' "$prog" "$1" >&2
	exit 1
}

is_stage_name() {
	case $1 in
	receiver|verifier|router|dispatcher|admin) return 0 ;;
	*) return 1 ;;
	esac
}

# need_stage COMMAND ARG
need_stage() {
	is_stage_name "$2" || usage_error "$1" \
	    "unknown stage '$2': receiver, verifier, router, dispatcher or admin"
}

# ---------------------------------------------------------------------
# Processes: what is the stage, what is its loop.

# alive PID: a live process, not a zombie (kill -0 also succeeds on a
# zombie: a loop of "start --foreground" until we wait for it, or a
# process whose parent died, until init reaps it). Sets proc_ppid and
# proc_start (its start time in clock ticks since boot: with the pid, it
# names one process for good).
alive() {
	proc_ppid=
	proc_start=
	case ${1:-} in
	''|0|*[!0-9]*) return 1 ;;
	esac
	al_stat=
	{ read -r al_stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	# What follows the command name, which may hold anything.
	al_stat=${al_stat##*) }
	# shellcheck disable=SC2086 # the fields of /proc/PID/stat
	set -- $al_stat
	[ $# -ge 20 ] || return 1
	case $1 in
	Z|X|x) return 1 ;;
	esac
	proc_ppid=$2
	proc_start=${20}
}

# same_proc PID START: the process alive() saw then is still there.
same_proc() {
	alive "$1" && [ "$proc_start" = "$2" ]
}

# The executable a process runs. The kernel appends " (deleted)" once
# the file was replaced (make does that): still the same path.
exe_of() {
	eo=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	printf '%s' "${eo% (deleted)}"
}

# The path /proc/PID/exe shows for a file: absolute, no symbolic links.
real_path() {
	readlink -f "$1" 2>/dev/null && return 0
	rp_dir=$(cd "$(dirname "$1")" 2>/dev/null && pwd -P) || return 1
	printf '%s/%s' "$rp_dir" "$(basename "$1")"
}

# Sets ex_own (the stage's own executable), ex_cur (the one its loop
# starts: the one "swap" set, or its own) and ex_prev (while a swap runs,
# the one it replaces), as /proc/PID/exe shows them: no symbolic links.
stage_exes() {
	ex_own=$stagedir/hookpipe-$1
	if [ -h "$ex_own" ]; then
		ex_own=$(real_path "$ex_own")
	fi
	ex_cur=
	if [ -f "$run/$1.exe" ]; then
		{ IFS= read -r ex_cur <"$run/$1.exe"; } 2>/dev/null
	fi
	ex_cur=${ex_cur:-$ex_own}
	ex_prev=
	if [ -f "$run/$1.exe.prev" ]; then
		{ IFS= read -r ex_prev <"$run/$1.exe.prev"; } 2>/dev/null
	fi
}

default_exe() {
	stage_exes "$1"
	printf '%s' "$ex_own"
}

stage_exe() {
	stage_exes "$1"
	printf '%s' "$ex_cur"
}

# exe_ok STAGE PID: PID runs one of the stage's executables: its own, the
# one "swap" set, or the one a running swap replaces (a receiver hands
# over while the old one still runs).
exe_ok() {
	stage_exes "$1"
	for xo in "$ex_own" "$ex_cur" "$ex_prev"; do
		[ -n "$xo" ] && [ "/proc/$2/exe" -ef "$xo" ] && return 0
	done
	# Replaced on disk since it started (make does that): the path
	# tells then.
	xo=$(exe_of "$2") || return 1
	[ "$xo" = "$ex_own" ] || [ "$xo" = "$ex_cur" ] ||
	    { [ -n "$ex_prev" ] && [ "$xo" = "$ex_prev" ]; }
}

inode_of() {
	io=$(ls -di "$1" 2>/dev/null) || return 1
	io=${io#"${io%%[! ]*}"}
	io=${io%% *}
	[ -n "$io" ] && printf '%s' "$io"
}

# fd_locked PID FD: the process holds an exclusive flock through its
# descriptor FD (the kernel lists it in the descriptor's fdinfo).
fd_locked() {
	{
		while read -r fl_key _ fl_lock; do
			case "$fl_key $fl_lock" in
			"lock: FLOCK "*" WRITE "*) return 0 ;;
			esac
		done <"/proc/$1/fdinfo/$2"
	} 2>/dev/null
	return 1
}

# holds_lock PID FILE: the process holds the exclusive flock on FILE.
holds_lock() {
	for hl in /proc/"$1"/fd/*; do
		[ "$hl" -ef "$2" ] && fd_locked "$1" "${hl##*/}" && return 0
	done
	return 1
}

# The pids holding an exclusive flock on FILE, from /proc/locks (a lock
# taken with flock(2) names the process that took it; the stages take
# theirs themselves).
lock_holders() {
	lh=$(inode_of "$1") || return 0
	awk -v ino="$lh" '$2 == "FLOCK" && $4 == "WRITE" {
		n = split($6, a, ":")
		if (a[n] == ino)
			print $5
	}' /proc/locks 2>/dev/null
}

# Someone holds the stage's lock (what /healthz checks).
lock_held() {
	[ -f "$run/$1.lock" ] || return 1
	flock -n -s -E 75 "$run/$1.lock" true 2>/dev/null
	[ $? -eq 75 ]
}

# Sets pf to the pid in a stage's pid file, or to nothing.
read_pid() {
	pf=
	if [ -f "$run/$1.pid" ]; then
		{ read -r pf <"$run/$1.pid"; } 2>/dev/null
	fi
}

pid_of() {
	read_pid "$1"
	printf '%s' "$pf"
}

# Sets sup_loop and sup_child from run/<stage>.sup (empty when absent).
# Their word is checked by is_loop and is_stage.
read_sup() {
	sup_loop=''
	sup_child=''
	if [ -f "$run/$1.sup" ]; then
		{ read -r sup_loop sup_child <"$run/$1.sup"; } 2>/dev/null || :
	fi
}

# is_loop STAGE PID: PID is the stage's supervise loop in this
# HOOKPIPE_HOME: it runs "sh .../hookpipectl _loop STAGE" and holds
# run/STAGE.suplock on its fd 9 (see supervise).
is_loop() {
	alive "$2" || return 1
	# read drops the NULs between the arguments:
	# "sh/.../hookpipectl_loopSTAGE".
	il_args=
	{ read -r il_args <"/proc/$2/cmdline"; } 2>/dev/null
	case $il_args in
	*hookpipectl*_loop"$1") ;;
	*) return 1 ;;
	esac
	[ "/proc/$2/fd/9" -ef "$run/$1.suplock" ] && fd_locked "$2" 9
}

# Sets sup_loop and sup_child when the stage's loop runs; else empties
# them and returns 1.
loop_alive() {
	read_sup "$1"
	is_loop "$1" "$sup_loop" && return 0
	sup_loop=''
	sup_child=''
	return 1
}

# The pid of the stage's loop, or nothing.
loop_pid() {
	read_sup "$1"
	is_loop "$1" "$sup_loop" && printf '%s' "$sup_loop"
}

# is_stage STAGE PID: PID is the stage. It runs one of the stage's
# executables, and holds the stage's lock or is the child of the stage's
# loop: a receiver that took the listening socket over gets the lock only
# once its predecessor has drained and exited.
is_stage() {
	alive "$2" || return 1
	is_ppid=$proc_ppid
	exe_ok "$1" "$2" || return 1
	holds_lock "$2" "$run/$1.lock" && return 0
	is_loop=
	{ read -r is_loop _ <"$run/$1.sup"; } 2>/dev/null
	[ -n "$is_loop" ] && [ "$is_ppid" = "$is_loop" ] &&
	    is_loop "$1" "$is_loop"
}

# The pid of the stage when it is up (ready: its pid file names it).
stage_pid() {
	stage_up "$1" || return 1
	printf '%s' "$pf"
}

# Also sets pf.
stage_up() {
	read_pid "$1"
	is_stage "$1" "$pf"
}

# The pid of the stage when it runs, ready or not.
running_pid() {
	stage_pid "$1" && return 0
	for rn in $(lock_holders "$run/$1.lock"); do
		if is_stage "$1" "$rn"; then
			printf '%s' "$rn"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------------
# Time.

now() {
	date +%s
}

mtime() {
	date -r "$1" +%s 2>/dev/null || stat -c %Y "$1" 2>/dev/null
}

# In the stages' format: "2026-01-02T03:04:05.678Z name: message". Into
# the stage's log by name: the stage may have rotated the file the loop
# started with (HOOKPIPE_LOG_MAX).
log_line() {
	t=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	case $t in
	*N*) t=$(date -u +%Y-%m-%dT%H:%M:%S.000Z) ;;	# no %N in this date
	esac
	printf '%s hookpipectl[%s]: %s\n' "$t" "$1" "$2" >>"$logdir/$1.log"
}

ms_to_s() {
	printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# "42s", "5m12s", "3h04m", "2d07h"
fmt_age() {
	fa=$1
	if [ "$fa" -lt 0 ]; then
		fa=0
	fi
	if [ "$fa" -lt 60 ]; then
		printf '%ds' "$fa"
	elif [ "$fa" -lt 3600 ]; then
		printf '%dm%02ds' $((fa / 60)) $((fa % 60))
	elif [ "$fa" -lt 86400 ]; then
		printf '%dh%02dm' $((fa / 3600)) $((fa % 3600 / 60))
	else
		printf '%dd%02dh' $((fa / 86400)) $((fa % 86400 / 3600))
	fi
}

# utc_time EPOCH: "2026-01-02T03:04:05", in UTC. Calendar arithmetic
# (civil_from_days): date(1) formats a given time only in extensions.
utc_time() {
	ut_d=$(($1 / 86400))
	ut_r=$(($1 % 86400))
	ut_z=$((ut_d + 719468))
	ut_era=$((ut_z / 146097))
	ut_doe=$((ut_z - ut_era * 146097))
	ut_yoe=$(((ut_doe - ut_doe / 1460 + ut_doe / 36524 -
	    ut_doe / 146096) / 365))
	ut_y=$((ut_yoe + ut_era * 400))
	ut_doy=$((ut_doe - (365 * ut_yoe + ut_yoe / 4 - ut_yoe / 100)))
	ut_mp=$(((5 * ut_doy + 2) / 153))
	ut_day=$((ut_doy - (153 * ut_mp + 2) / 5 + 1))
	if [ "$ut_mp" -lt 10 ]; then
		ut_m=$((ut_mp + 3))
	else
		ut_m=$((ut_mp - 9))
		ut_y=$((ut_y + 1))
	fi
	printf '%04d-%02d-%02dT%02d:%02d:%02d' "$ut_y" "$ut_m" "$ut_day" \
	    $((ut_r / 3600)) $((ut_r % 3600 / 60)) $((ut_r % 60))
}

# epoch_of Y M D h m s (UTC, 1970 on): seconds since the epoch
# (days_from_civil).
epoch_of() {
	eo_y=$1
	if [ "$2" -gt 2 ]; then
		eo_mp=$(($2 - 3))
	else
		eo_mp=$(($2 + 9))
		eo_y=$((eo_y - 1))
	fi
	eo_era=$((eo_y / 400))
	eo_yoe=$((eo_y - eo_era * 400))
	eo_doy=$(((153 * eo_mp + 2) / 5 + $3 - 1))
	eo_doe=$((eo_yoe * 365 + eo_yoe / 4 - eo_yoe / 100 + eo_doy))
	echo $(((eo_era * 146097 + eo_doe - 719468) * 86400 + $4 * 3600 + \
	    $5 * 60 + $6))
}

# A number without its leading zeros (which $((...)) reads as octal).
dec() {
	dc=${1#"${1%%[!0]*}"}
	printf '%s' "${dc:-0}"
}

# "90s", "10m", "1h30m", "2d", "1w", "45": seconds.
duration_seconds() {
	ds=$1
	ds_total=0
	while [ -n "$ds" ]; do
		ds_n=${ds%%[!0-9]*}
		case $ds_n in
		''|??????????*) return 1 ;;
		esac
		ds=${ds#"$ds_n"}
		ds_unit=${ds%"${ds#?}"}
		ds=${ds#"$ds_unit"}
		case $ds_unit in
		''|s) ds_mul=1 ;;
		m) ds_mul=60 ;;
		h) ds_mul=3600 ;;
		d) ds_mul=86400 ;;
		w) ds_mul=604800 ;;
		*) return 1 ;;
		esac
		ds_total=$((ds_total + $(dec "$ds_n") * ds_mul))
	done
	printf '%s' "$ds_total"
}

# since_time DURATION|TIME: the time "--since" means, in the format of
# the log lines without the "Z" ("2026-01-02T03:04:05[.678]"), so that
# the two compare as strings.
since_time() {
	st=$1
	case $st in
	''|*[!0-9smhdw]*) ;;
	[0-9]*)
		st_ago=$(duration_seconds "$st") || return 1
		st_e=$(($(now) - st_ago))
		if [ "$st_e" -lt 0 ]; then
			st_e=0
		fi
		utc_time "$st_e"
		return 0
		;;
	*) return 1 ;;
	esac
	case $st in
	[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*) ;;
	*) return 1 ;;
	esac
	st_rest=${st#??????????}
	st_date=${st%"$st_rest"}
	st_y=${st_date%%-*}
	st_m=${st_date#*-}
	st_m=${st_m%-*}
	st_d=${st_date##*-}
	st_hh=00
	st_mm=00
	st_ss=00
	st_frac=
	case $st_rest in
	'') ;;
	[Tt][0-9][0-9]:[0-9][0-9]*|" "[0-9][0-9]:[0-9][0-9]*)
		st_rest=${st_rest#?}
		st_hh=${st_rest%%:*}
		st_rest=${st_rest#??:}
		st_mm=${st_rest%"${st_rest#??}"}
		st_rest=${st_rest#??}
		case $st_rest in
		:[0-9][0-9]*)
			st_rest=${st_rest#:}
			st_ss=${st_rest%"${st_rest#??}"}
			st_rest=${st_rest#??}
			case $st_rest in
			.[0-9]*)
				st_frac=${st_rest%%[!.0-9]*}
				st_rest=${st_rest#"$st_frac"}
				case ${st_frac#.} in
				*[!0-9]*) return 1 ;;
				esac
				;;
			esac
			;;
		esac
		;;
	*) return 1 ;;
	esac
	st_off=0
	case $st_rest in
	''|Z|z) ;;
	[+-][0-9][0-9]:[0-9][0-9]|[+-][0-9][0-9][0-9][0-9])
		st_sign=${st_rest%"${st_rest#?}"}
		st_rest=${st_rest#?}
		st_oh=${st_rest%"${st_rest#??}"}
		st_om=${st_rest#??}
		st_om=${st_om#:}
		st_off=$(($(dec "$st_oh") * 3600 + $(dec "$st_om") * 60))
		if [ "$st_sign" = - ]; then
			st_off=$((-st_off))
		fi
		;;
	*) return 1 ;;
	esac
	st_y=$(dec "$st_y")
	st_m=$(dec "$st_m")
	st_d=$(dec "$st_d")
	st_hh=$(dec "$st_hh")
	st_mm=$(dec "$st_mm")
	st_ss=$(dec "$st_ss")
	if [ "$st_m" -lt 1 ] || [ "$st_m" -gt 12 ] || [ "$st_d" -lt 1 ] ||
	    [ "$st_d" -gt 31 ] || [ "$st_hh" -gt 23 ] || [ "$st_mm" -gt 59 ] ||
	    [ "$st_ss" -gt 60 ]; then
		return 1
	fi
	if [ "$st_y" -lt 1970 ]; then
		utc_time 0
		return 0
	fi
	st_e=$(($(epoch_of "$st_y" "$st_m" "$st_d" "$st_hh" "$st_mm" \
	    "$st_ss") - st_off))
	if [ "$st_e" -lt 0 ]; then
		st_e=0
	fi
	printf '%s%s' "$(utc_time "$st_e")" "$st_frac"
}

# ---------------------------------------------------------------------
# Restarts: how many, why the last one.

# count_restart STAGE REASON [STATUS [DETAIL]]: the stage was started
# again, for REASON: crash (STATUS: its wait status), restart or swap.
count_restart() {
	cr_n=0
	cr_c=0
	if [ -f "$run/$1.restarts" ]; then
		{ read -r cr_n cr_c <"$run/$1.restarts"; } 2>/dev/null
	fi
	case ${cr_n:-} in
	''|*[!0-9]*) cr_n=0 ;;
	esac
	case ${cr_c:-} in
	''|*[!0-9]*) cr_c=0 ;;
	esac
	cr_n=$((cr_n + 1))
	if [ "$2" = crash ]; then
		cr_c=$((cr_c + 1))
	fi
	echo "$cr_n $cr_c" >"$run/$1.restarts.$$" &&
	    mv -f "$run/$1.restarts.$$" "$run/$1.restarts"
	printf '%s %s %s %s\n' "$(now)" "$2" "${3:--}" "${4:-}" \
	    >"$run/$1.last.$$" && mv -f "$run/$1.last.$$" "$run/$1.last"
}

# Sets lm to the last restart's record, or "none": what changes when the
# loop starts the stage again.
read_last() {
	lm=
	if [ -f "$run/$1.last" ]; then
		{ IFS= read -r lm <"$run/$1.last"; } 2>/dev/null
	fi
	lm=${lm:-none}
}

# How a process ended, from its wait status: "exited with 111",
# "was killed by SIGKILL".
exit_words() {
	case ${1:-} in
	''|-|*[!0-9]*)
		printf 'exited'
		;;
	*)
		if [ "$1" -gt 128 ]; then
			ew=$(kill -l "$1" 2>/dev/null) || ew=$(($1 - 128))
			printf 'was killed by SIG%s' "$ew"
		else
			printf 'exited with %s' "$1"
		fi
		;;
	esac
}

# Takes a restart request: prints its reason (restart or swap) and
# removes it; prints nothing when there is none.
restart_request() {
	[ -e "$run/$1.restart" ] || return 0
	rr=
	{ read -r rr <"$run/$1.restart"; } 2>/dev/null
	rm -f "$run/$1.restart"
	printf '%s' "${rr:-restart}"
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

# SIGUSR1 from "restart" or "swap". Between two tries: try again now.
# While the receiver runs: start the new receiver while the old one
# runs. It takes the listening socket over (run/receiver.handoff) and the
# old one drains and exits, so that no connection is refused in between.
loop_usr1() {
	if [ -n "$loop_sleeper" ]; then
		kill "$loop_sleeper" 2>/dev/null
	elif [ "$stage" = receiver ]; then
		loop_handoff=1
	fi
}

write_sup() {
	printf '%s %s\n' "$$" "$2" >"$run/$1.sup.$$" &&
	    mv -f "$run/$1.sup.$$" "$run/$1.sup"
}

# Starts the stage (or the executable "swap" set) in the background.
start_child() {
	loop_exe=$(stage_exe "$stage")
	# A pid file left by a killed stage would look like readiness. Only
	# the one of a receiver that hands over stays.
	loop_p=$(pid_of "$stage")
	if [ -n "$loop_p" ] && [ "$loop_p" != "$loop_prev" ]; then
		rm -f "$run/$stage.pid"
	fi
	started=$(now)
	# Opened anew at each start: the current log, after a rotation.
	"$loop_exe" 9>&- >>"$logdir/$stage.log" 2>&1 &
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
			# Only a receiver that is ready hands over.
			if [ "$loop_handoff" = 1 ] &&
			    [ "$(pid_of "$stage")" = "$loop_child" ]; then
				loop_prev=$loop_child
				loop_why=$(restart_request "$stage")
				log_line "$stage" "starting a successor to pid $loop_prev"
				start_child
				count_restart "$stage" "${loop_why:-restart}" -
			fi
			loop_handoff=0
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
			start_child
			count_restart "$stage" crash "$rc"
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
	# stage's lock. This lock on fd 9 also tells the loop from a process
	# that got its pid after it died (is_loop).
	exec 9>"$run/$stage.suplock"
	flock -n 9 || exit 0
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
		loop_why=$(restart_request "$stage")
		if [ -n "$loop_why" ]; then
			# Requested by "hookpipectl restart" or "swap": no
			# backoff.
			count_restart "$stage" "$loop_why" "$rc"
			log_line "$stage" "stage exited with $rc, restarting now ($loop_why requested)"
			delay=200
			continue
		fi
		count_restart "$stage" crash "$rc"
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

# One start, stop, restart or swap at a time: two would act on the same
# loops at once (a swap's rollback against a restart, say). On fd 8,
# which the loops do not inherit.
ctl_lock() {
	command -v flock >/dev/null 2>&1 ||
	    die "flock(1) is needed (util-linux)"
	exec 8>"$run/ctl.lock"
	flock -w 60 8 ||
	    die "another start, stop, restart or swap is running (it holds $run/ctl.lock)"
}

# Runs the loop of one stage in the background, detached: its own
# session (no terminal: a Ctrl-C meant for "start --foreground" must not
# reach the stages, which we stop in order), stdin from /dev/null, output
# to the stage's log. setsid does not fork here (we are not a process
# group leader), so $! is the loop, which "start --foreground" waits for.
spawn_loop() {
	# A .sup file left by a loop that was killed names processes that
	# are gone, or pids given to others since.
	rm -f "$run/$1.down" "$run/$1.restart" "$run/$1.exit" "$run/$1.sup"
	if command -v setsid >/dev/null 2>&1; then
		setsid sh "$self" _loop "$1" </dev/null >>"$logdir/$1.log" \
		    2>&1 8>&- &
	else
		nohup sh "$self" _loop "$1" </dev/null >>"$logdir/$1.log" \
		    2>&1 8>&- &
	fi
	# The loop's pid, before it has written its .sup file (a loaded
	# machine may take a while to run it).
	spawned=$!
	fg_loops="$fg_loops $spawned"
}

# wait_ready STAGE [MARK]: waits until the stage's pid file names the
# child its loop started, and that child is the stage. Returns 1, with
# not_ready saying why, when the loop ends (exit 100), after
# READY_TIMEOUT seconds, or, given MARK (its .last record before the
# start), as
# soon as the child exits.
wait_ready() {
	wr_i=0
	while [ "$wr_i" -lt $((READY_TIMEOUT * 20)) ]; do
		read_sup "$1"
		read_pid "$1"
		if [ -n "$pf" ] && [ "$pf" = "$sup_child" ] &&
		    is_stage "$1" "$pf"; then
			return 0
		fi
		read_last "$1"
		if [ -n "${2:-}" ] && [ "$lm" != "$2" ]; then
			wr_st=${lm#* * }
			not_ready="$(exit_words "${wr_st%% *}") before it was ready"
			return 1
		fi
		if ! alive "$spawned" && ! is_loop "$1" "$sup_loop"; then
			not_ready="exited before it was ready"
			return 1
		fi
		sleep 0.05
		wr_i=$((wr_i + 1))
	done
	not_ready="did not become ready within $READY_TIMEOUT s"
	return 1
}

# wait_gone PID START SECONDS: waits for a process that is not
# necessarily our child to exit.
wait_gone() {
	wg_i=0
	while same_proc "$1" "$2" && [ "$wg_i" -lt $(($3 * 20)) ]; do
		sleep 0.05
		wg_i=$((wg_i + 1))
	done
	! same_proc "$1" "$2"
}

print_up() {
	printf '%-10s up    pid %s\n' "$1" "$(pid_of "$1")"
}

# start_failed STAGE [WHY]
start_failed() {
	sf_why=${2:-}
	if [ -z "$sf_why" ] && [ -f "$run/$1.exit" ]; then
		# A configuration error says what to fix in its fatal line:
		# that line alone.
		sf_fatal=$(tail -n 5 "$logdir/$1.log" 2>/dev/null |
		    grep ': fatal: ' | tail -n 1)
		if [ -n "$sf_fatal" ]; then
			printf '%s: %s cannot start: %s\n(full log: %s logs %s)\n' \
			    "$prog" "$1" "${sf_fatal#*: fatal: }" "$prog" "$1" >&2
			return
		fi
		sf_why="exited with 100 (configuration error)"
	fi
	sf_why=${sf_why:-$not_ready}
	printf '%s: %s %s; last lines of %s:\n' "$prog" "$1" \
	    "${sf_why:-did not become ready within $READY_TIMEOUT s}" \
	    "$logdir/$1.log" >&2
	log_tail "$1"
}

log_tail() {
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
		spawned=
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
# STOP_TIMEOUT seconds. LOOP_PID names a loop we spawned, which may not
# have written its .sup file yet.
#   stop_stage STAGE [quiet] [LOOP_PID]
stop_stage() {
	ss=$1
	[ -d "$run" ] || return 0
	: >"$run/$ss.down"
	ss_loop=$(loop_pid "$ss")
	if [ -z "$ss_loop" ] && [ -n "${3:-}" ] && alive "$3"; then
		ss_loop=$3
	fi
	ss_was=0
	if ss_pid=$(running_pid "$ss") && alive "$ss_pid"; then
		ss_was=1
		ss_start=$proc_start
		kill -TERM "$ss_pid" 2>/dev/null
		if ! wait_gone "$ss_pid" "$ss_start" "$STOP_TIMEOUT"; then
			printf '%s: %s did not exit within %d s, killing it\n' \
			    "$prog" "$ss" "$STOP_TIMEOUT" >&2
			kill -KILL "$ss_pid" 2>/dev/null
			wait_gone "$ss_pid" "$ss_start" 2 || :
		fi
	fi
	if [ -n "$ss_loop" ] && alive "$ss_loop"; then
		# It stops its own children too (one that was not ready yet,
		# a receiver still draining).
		ss_was=1
		ss_start=$proc_start
		kill -TERM "$ss_loop" 2>/dev/null
		wait_gone "$ss_loop" "$ss_start" 5 || :
	fi
	rm -f "$run/$ss.sup" "$run/$ss.restart"
	stage_up "$ss" || rm -f "$run/$ss.pid"
	if [ "${2:-}" != quiet ] && [ "$ss_was" = 1 ]; then
		printf '%-10s stopped\n' "$ss"
	fi
}

stop_all() {
	for s in $STAGES_REV; do
		stop_stage "$s"
	done
}

# Removes a pid file and a .sup file that name no stage and no loop.
forget_stale() {
	stage_up "$1" || rm -f "$run/$1.pid"
	loop_alive "$1" || rm -f "$run/$1.sup"
}

# restart_stage STAGE [REASON [VERB]]: restarts a running stage through
# its loop, at once, and waits for the new process to be ready; prints
# "STAGE VERB pid N" unless VERB is "-". A stage without a loop is
# stopped and started under a new one. REASON (restart or swap) is what
# status shows.
restart_stage() {
	rs=$1
	rs_why=${2:-restart}
	rs_verb=${3:-restarted}
	if ! loop_alive "$rs"; then
		# Running without its loop (the loop was killed): it would
		# keep its lock and the new one could not start.
		if running_pid "$rs" >/dev/null; then
			stop_stage "$rs" quiet
			count_restart "$rs" "$rs_why" -
		fi
		spawn_loop "$rs"
		if ! wait_ready "$rs"; then
			start_failed "$rs"
			stop_stage "$rs" quiet "$spawned"
			return 1
		fi
		read_pid "$rs"
		[ "$rs_verb" = - ] ||
		    printf '%-10s %s  pid %s\n' "$rs" "$rs_verb" "$pf"
		return 0
	fi
	rs_loop=$sup_loop
	rs_old=$sup_child
	rs_start=
	if alive "$rs_old" && [ "$proc_ppid" = "$rs_loop" ] &&
	    rs_start=$proc_start && exe_ok "$rs" "$rs_old"; then
		:
	else
		rs_old=
	fi
	read_last "$rs"
	rs_mark=$lm
	if [ "$rs" = receiver ] && [ -n "$rs_old" ] && stage_up "$rs"; then
		# The successor takes the socket over; the old one drains.
		# A receiver that itself took over holds its lock only once
		# its predecessor has gone: a successor started before then
		# would find the lock free, and the port taken.
		rs_i=0
		while ! lock_held "$rs" && [ "$rs_i" -lt 60 ]; do
			sleep 0.05
			rs_i=$((rs_i + 1))
		done
		echo "$rs_why" >"$run/$rs.restart"
		kill -USR1 "$rs_loop"
	elif [ -n "$rs_old" ]; then
		echo "$rs_why" >"$run/$rs.restart"
		kill -TERM "$rs_old" 2>/dev/null
		if ! wait_gone "$rs_old" "$rs_start" "$STOP_TIMEOUT"; then
			kill -KILL "$rs_old" 2>/dev/null
		fi
	else
		# Between two tries after a crash: the loop tries again now
		# instead of at the end of its backoff.
		kill -USR1 "$rs_loop"
	fi
	rs_i=0
	while [ "$rs_i" -lt $((READY_TIMEOUT * 20)) ]; do
		# The loop records the successor's pid, then counts the
		# restart: read the count first. A count that changed comes
		# with the successor's pid (or, if it failed, the old one's
		# again); read the other way round, a count that changed
		# meanwhile would come with the old pid of before the start.
		read_last "$rs"
		read_sup "$rs"
		read_pid "$rs"
		rs_p=$pf
		if [ -n "$rs_p" ] && [ "$rs_p" != "$rs_old" ] &&
		    [ "$rs_p" = "$sup_child" ] && is_stage "$rs" "$rs_p"; then
			[ "$rs_verb" = - ] ||
			    printf '%-10s %s  pid %s\n' "$rs" "$rs_verb" "$rs_p"
			return 0
		fi
		if ! alive "$rs_loop"; then
			break
		fi
		# A receiver whose successor failed goes on as before. (Its
		# loop counts the restart once it has started the successor.)
		if [ "$rs" = receiver ] && [ -n "$rs_old" ] &&
		    [ "$sup_child" = "$rs_old" ] && [ "$lm" != "$rs_mark" ]; then
			not_ready="exited before it was ready"
			start_failed "$rs" \
			    "successor exited before it was ready (pid $rs_old goes on)"
			return 1
		fi
		sleep 0.05
		rs_i=$((rs_i + 1))
	done
	not_ready="did not become ready within $READY_TIMEOUT s"
	start_failed "$rs"
	return 1
}

# ---------------------------------------------------------------------
# Commands.

# The commands parse their arguments in any order: options anywhere,
# "--" ends them.

cmd_start() {
	foreground=0
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of start; exit 0 ;;
		-f|--foreground) foreground=1 ;;
		-*) usage_error start "unknown option $1" ;;
		*) usage_error start "unexpected argument $1" ;;
		esac
		shift
	done
	for b in $STAGES; do
		[ -x "$stagedir/hookpipe-$b" ] ||
		    die "$stagedir/hookpipe-$b: not found (run make first)"
	done
	prepare_dirs
	ctl_lock
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
	# An address the receiver cannot have fails now, in one line, not
	# after the other stages have started.
	if ! stage_up receiver && ! loop_alive receiver &&
	    ! cl_out=$("$bindir/hookpipe-receiver" --check-listen 2>&1); then
		case $cl_out in
		*': fatal: '*)
			printf '%s: receiver cannot start: %s\n' "$prog" \
			    "${cl_out##*: fatal: }" >&2
			exit 1
			;;
		esac
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
	exec 8>&-
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
	ctl_lock
	stop_all
	[ -n "${fg_tail:-}" ] && kill "$fg_tail" 2>/dev/null
	wait
	exit 0
}

cmd_stop() {
	sp_stage=
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of stop; exit 0 ;;
		--) shift; break ;;
		-*) usage_error stop "unknown option $1" ;;
		*)
			[ -z "$sp_stage" ] ||
			    usage_error stop "too many arguments"
			sp_stage=$1
			;;
		esac
		shift
	done
	if [ $# -gt 0 ]; then
		if [ -n "$sp_stage" ] || [ $# -ne 1 ]; then
			usage_error stop "too many arguments"
		fi
		sp_stage=$1
	fi
	[ -z "$sp_stage" ] || need_stage stop "$sp_stage"
	if [ ! -d "$run" ]; then
		echo "hookpipe is not running"
		return 0
	fi
	ctl_lock
	if [ -n "$sp_stage" ]; then
		if ! running_pid "$sp_stage" >/dev/null &&
		    ! loop_alive "$sp_stage"; then
			echo "$sp_stage is not running"
			: >"$run/$sp_stage.down"
			forget_stale "$sp_stage"
			return 0
		fi
		stop_stage "$sp_stage"
		return 0
	fi
	any=0
	for s in $STAGES; do
		if running_pid "$s" >/dev/null || loop_alive "$s"; then
			any=1
		fi
	done
	if [ "$any" = 0 ]; then
		for s in $STAGES; do
			forget_stale "$s"
		done
		echo "hookpipe is not running"
		return 0
	fi
	stop_all
}

cmd_restart() {
	rt_what=
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of restart; exit 0 ;;
		--) shift; break ;;
		-*) usage_error restart "unknown option $1" ;;
		*)
			[ -z "$rt_what" ] ||
			    usage_error restart "too many arguments"
			rt_what=$1
			;;
		esac
		shift
	done
	if [ $# -gt 0 ]; then
		if [ -n "$rt_what" ] || [ $# -ne 1 ]; then
			usage_error restart "too many arguments"
		fi
		rt_what=$1
	fi
	[ -n "$rt_what" ] || usage_error restart "expected STAGE or all"
	[ "$rt_what" = all ] || need_stage restart "$rt_what"
	prepare_dirs
	ctl_lock
	foreground=0
	fg_loops=
	if [ "$rt_what" = all ]; then
		for s in $STAGES; do
			restart_stage "$s" || return 1
		done
		return 0
	fi
	restart_stage "$rt_what"
}

# A string as JSON: quotes, backslashes escaped, control characters
# dropped.
json_str() {
	case $1 in
	*[\"\\]*|*[![:print:]]*)
		printf '"%s"' "$(printf '%s' "$1" |
		    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\000-\037')"
		;;
	*)
		printf '"%s"' "$1"
		;;
	esac
}

# Sets the st_* variables that describe one stage for status, at st_now.
stage_status() {
	st_pid=
	st_state=down
	st_why=
	st_uptime=
	st_supervised=false
	if loop_alive "$1"; then
		st_supervised=true
	fi
	if stage_up "$1"; then
		st_pid=$pf
		st_state=up
		st_m=$(mtime "$run/$1.pid")
		st_uptime=$((st_now - ${st_m:-$st_now}))
	elif [ -f "$run/$1.exit" ]; then
		st_state=failed
		st_why="configuration error, see: $prog logs $1"
	elif [ "$st_supervised" = true ]; then
		st_state=restarting
		st_why=restarting
	elif [ -e "$run/$1.down" ]; then
		st_state=stopped
		st_why=stopped
	elif [ -e "$run/$1.lock" ]; then
		st_why="not running"
	else
		st_why="not started"
	fi
	st_n=0
	st_c=0
	if [ -f "$run/$1.restarts" ]; then
		{ read -r st_n st_c <"$run/$1.restarts"; } 2>/dev/null
	fi
	case ${st_n:-} in
	''|*[!0-9]*) st_n=0 ;;
	esac
	case ${st_c:-} in
	''|*[!0-9]*) st_c=0 ;;
	esac
	st_lt=
	st_lr=
	st_ls=
	st_ld=
	if [ -f "$run/$1.last" ]; then
		{ read -r st_lt st_lr st_ls st_ld <"$run/$1.last"; } 2>/dev/null
	fi
	case ${st_lt:-} in
	''|*[!0-9]*) st_lr= ;;
	esac
	# The executable: the one the stage runs, else the one it would.
	stage_exes "$1"
	st_exe=$ex_cur
	if [ -n "$st_pid" ]; then
		if [ "/proc/$st_pid/exe" -ef "$ex_cur" ]; then
			:
		elif [ "/proc/$st_pid/exe" -ef "$ex_own" ]; then
			st_exe=$ex_own
		else
			st_exe=$(exe_of "$st_pid") || st_exe=$ex_cur
		fi
	fi
	st_swapped=false
	st_since=
	if [ "$ex_cur" != "$ex_own" ]; then
		st_swapped=true
		st_since=$(mtime "$run/$1.exe")
	fi
}

# "restarts 3 (1 crash; last: swap 12s ago)"
restarts_words() {
	printf 'restarts %s' "$st_n"
	[ "$st_n" -gt 0 ] || return 0
	case $st_c in
	0) printf ' (no crash' ;;
	1) printf ' (1 crash' ;;
	*) printf ' (%s crashes' "$st_c" ;;
	esac
	case ${st_lr:-} in
	crash) printf '; last: crash, %s, %s ago)' "$(exit_words "$st_ls")" \
	    "$(fmt_age $((st_now - st_lt)))" ;;
	restart|swap) printf '; last: %s %s ago)' "$st_lr" \
	    "$(fmt_age $((st_now - st_lt)))" ;;
	*) printf ')' ;;
	esac
}

status_line() {
	if [ "$st_state" = up ]; then
		printf '%-10s up    pid %-8s uptime %-8s %s' "$1" "$st_pid" \
		    "$(fmt_age "$st_uptime")" "$(restarts_words)"
	else
		printf '%-10s down  pid %-8s uptime %-8s %s  (%s)' "$1" - - \
		    "$(restarts_words)" "$st_why"
	fi
	if [ "$st_swapped" = true ]; then
		printf '  exe %s (swapped %s ago)' "$st_exe" \
		    "$(fmt_age $((st_now - ${st_since:-$st_now})))"
	fi
	if [ "$st_state" = up ] && [ "$st_supervised" = false ]; then
		printf '  (not supervised: %s restart %s)' "$prog" "$1"
	fi
	printf '\n'
}

status_json() {
	printf '{"name": "%s", "state": "%s", ' "$1" "$st_state"
	if [ -n "$st_pid" ]; then
		printf '"pid": %s, "uptime": %s, ' "$st_pid" "$st_uptime"
	else
		printf '"pid": null, "uptime": null, '
	fi
	printf '"restarts": %s, "crashes": %s, "last_restart": ' "$st_n" "$st_c"
	if [ -n "$st_lr" ]; then
		printf '{"reason": %s, "time": "%sZ", "ago": %s, ' \
		    "$(json_str "$st_lr")" "$(utc_time "$st_lt")" \
		    $((st_now - st_lt))
		sj_code=null
		sj_sig=null
		if [ "$st_lr" = crash ]; then
			case ${st_ls:-} in
			''|-|*[!0-9]*) ;;
			*)
				if [ "$st_ls" -gt 128 ]; then
					sj_sig=$(kill -l "$st_ls" 2>/dev/null)
					sj_sig=\"SIG$sj_sig\"
				else
					sj_code=$st_ls
				fi
				;;
			esac
		fi
		printf '"exit_code": %s, "signal": %s, "detail": ' \
		    "$sj_code" "$sj_sig"
		if [ -n "$st_ld" ]; then
			json_str "$st_ld"
		else
			printf 'null'
		fi
		printf '}, '
	else
		printf 'null, '
	fi
	printf '"executable": %s, "swapped": %s, ' "$(json_str "$st_exe")" \
	    "$st_swapped"
	if [ -n "$st_since" ]; then
		printf '"swapped_since": "%sZ", "swapped_age": %s, ' \
		    "$(utc_time "$st_since")" $((st_now - st_since))
	else
		printf '"swapped_since": null, "swapped_age": null, '
	fi
	printf '"supervised": %s}' "$st_supervised"
}

cmd_status() {
	json=0
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of status; exit 0 ;;
		--json) json=1 ;;
		-*) usage_error status "unknown option $1" ;;
		*) usage_error status "unexpected argument $1" ;;
		esac
		shift
	done
	rc=0
	out=
	st_now=$(now)
	for s in receiver verifier router dispatcher admin; do
		stage_status "$s"
		[ "$st_state" = up ] || rc=3
		if [ "$json" = 1 ]; then
			out="$out${out:+, }$(status_json "$s")"
		else
			status_line "$s"
		fi
	done
	# Cluster mode: the NATS connection, the streams and consumers
	# (hookpipe cluster status, which exits 1 when NATS cannot be
	# reached or something is missing).
	sj_cl=
	if [ -n "${HOOKPIPE_NATS:-}" ]; then
		if [ "$json" = 1 ]; then
			sj_cl=$("$bindir/hookpipe" --json cluster status 2>&1) ||
			    rc=3
			case $sj_cl in
			'{'*) ;;
			*) sj_cl="{\"error\": $(json_str "$sj_cl")}" ;;
			esac
			sj_cl=", \"cluster\": $sj_cl"
		else
			echo
			"$bindir/hookpipe" cluster status 2>&1 || rc=3
		fi
	fi
	if [ "$json" = 1 ]; then
		if [ "$rc" = 0 ]; then
			sj_up=true
		else
			sj_up=false
		fi
		printf '{"home": %s, "up": %s, "stages": [%s]%s}\n' \
		    "$(json_str "$HOOKPIPE_HOME")" "$sj_up" "$out" "$sj_cl"
	fi
	return $rc
}

# Sets the stage's executable: EXE, or its own (no .exe file).
set_exe() {
	if [ "$2" = "$(default_exe "$1")" ]; then
		rm -f "$run/$1.exe"
	else
		printf '%s\n' "$2" >"$run/$1.exe.$$" &&
		    mv -f "$run/$1.exe.$$" "$run/$1.exe"
	fi
}

# Stops the stage and starts it under a new loop with the executable now
# set, giving up as soon as that exits: no backoff, no second try.
#   swap_start STAGE DETAIL
swap_start() {
	if running_pid "$1" >/dev/null || loop_alive "$1"; then
		stop_stage "$1" quiet
		count_restart "$1" swap - "$2"
	fi
	read_last "$1"
	spawn_loop "$1"
	wait_ready "$1" "$lm" && return 0
	stop_stage "$1" quiet "$spawned"
	return 1
}

cmd_swap() {
	sw_stage=
	sw_arg=
	sw_n=0
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of swap; exit 0 ;;
		--) shift; break ;;
		-*) usage_error swap "unknown option $1" ;;
		*)
			sw_n=$((sw_n + 1))
			[ "$sw_n" = 1 ] && sw_stage=$1
			[ "$sw_n" = 2 ] && sw_arg=$1
			;;
		esac
		shift
	done
	for a in "$@"; do
		sw_n=$((sw_n + 1))
		[ "$sw_n" = 1 ] && sw_stage=$a
		[ "$sw_n" = 2 ] && sw_arg=$a
	done
	[ "$sw_n" -eq 2 ] || usage_error swap "expected STAGE EXECUTABLE"
	need_stage swap "$sw_stage"
	s=$sw_stage
	sw_exe=$(real_path "$sw_arg") || sw_exe=
	if [ -z "$sw_exe" ] || [ ! -f "$sw_exe" ] || [ ! -x "$sw_exe" ]; then
		die "swap: $sw_arg: not an executable file"
	fi
	prepare_dirs
	ctl_lock
	foreground=0
	fg_loops=
	# The executable being replaced, kept (with its time) to be put back.
	sw_prev=$(stage_exe "$s")
	if [ -f "$run/$s.exe" ]; then
		cp -p "$run/$s.exe" "$run/$s.exe.prev"
	else
		printf '%s\n' "$sw_prev" >"$run/$s.exe.prev"
	fi
	set_exe "$s" "$sw_exe"

	if [ "$s" = receiver ] && stage_up "$s" && loop_alive "$s"; then
		if restart_stage "$s" swap - 2>"$run/$s.swap.err"; then
			rm -f "$run/$s.exe.prev" "$run/$s.swap.err"
			printf '%-10s swapped  pid %s  %s\n' "$s" \
			    "$(pid_of "$s")" "$sw_exe"
			return 0
		fi
		rm -f "$run/$s.swap.err"
	elif swap_start "$s" "to $sw_exe"; then
		rm -f "$run/$s.exe.prev"
		printf '%-10s swapped  pid %s  %s\n' "$s" "$(pid_of "$s")" \
		    "$sw_exe"
		return 0
	fi

	# It did not come up: put the previous executable back, and the
	# stage runs that one when we return.
	sw_why=$not_ready
	if [ "$sw_prev" = "$(default_exe "$s")" ]; then
		rm -f "$run/$s.exe"
	else
		mv -f "$run/$s.exe.prev" "$run/$s.exe"
	fi
	read_sup "$s"
	if sw_pid=$(stage_pid "$s") && [ "$sw_pid" = "$sup_child" ] &&
	    [ "$(exe_of "$sw_pid")" = "$sw_prev" ]; then
		# A receiver whose successor failed goes on as it was.
		:
	elif ! { count_restart "$s" swap - "back to $sw_prev" &&
	    swap_start "$s" "back to $sw_prev"; }; then
		rm -f "$run/$s.exe.prev"
		printf '%s: swap: %s %s; and %s %s too, %s is down; last lines of %s:\n' \
		    "$prog" "$sw_exe" "$sw_why" "$sw_prev" "$not_ready" "$s" \
		    "$logdir/$s.log" >&2
		log_tail "$s"
		return 1
	fi
	rm -f "$run/$s.exe.prev"
	printf '%s: swap: %s %s; %s runs %s again (pid %s); last lines of %s:\n' \
	    "$prog" "$sw_exe" "$sw_why" "$s" "$sw_prev" "$(pid_of "$s")" \
	    "$logdir/$s.log" >&2
	log_tail "$s"
	return 1
}

cmd_tail() {
	tl_stage=
	tl_payload=
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of tail; exit 0 ;;
		--payload) tl_payload=--payload ;;
		--) shift; break ;;
		-*) usage_error tail "unknown option $1" ;;
		*)
			[ -z "$tl_stage" ] ||
			    usage_error tail "too many arguments"
			tl_stage=$1
			;;
		esac
		shift
	done
	if [ $# -gt 0 ]; then
		if [ -n "$tl_stage" ] || [ $# -ne 1 ]; then
			usage_error tail "too many arguments"
		fi
		tl_stage=$1
	fi
	[ -n "$tl_stage" ] || usage_error tail "expected STAGE"
	need_stage tail "$tl_stage"
	exec "$bindir/hookpipe" tail "$tl_stage" ${tl_payload:+"$tl_payload"}
}

cmd_logs() {
	lg_stage=
	lg_follow=0
	lg_lines=
	lg_since=
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of logs; exit 0 ;;
		-f|--follow) lg_follow=1 ;;
		-n|--lines)
			[ $# -ge 2 ] || usage_error logs "$1 needs a number"
			lg_lines=$2
			shift
			;;
		-n*) lg_lines=${1#-n} ;;
		--lines=*) lg_lines=${1#--lines=} ;;
		--since)
			[ $# -ge 2 ] ||
			    usage_error logs "--since needs a duration or a time"
			lg_since=$2
			shift
			;;
		--since=*) lg_since=${1#--since=} ;;
		--) shift; break ;;
		-*) usage_error logs "unknown option $1" ;;
		*)
			[ -z "$lg_stage" ] ||
			    usage_error logs "too many arguments"
			lg_stage=$1
			;;
		esac
		shift
	done
	if [ $# -gt 0 ]; then
		if [ -n "$lg_stage" ] || [ $# -ne 1 ]; then
			usage_error logs "too many arguments"
		fi
		lg_stage=$1
	fi
	[ -n "$lg_stage" ] || usage_error logs "expected STAGE"
	need_stage logs "$lg_stage"
	case $lg_lines in
	*[!0-9]*) usage_error logs "-n $lg_lines: not a number of lines" ;;
	esac
	lg_from=
	if [ -n "$lg_since" ]; then
		lg_from=$(since_time "$lg_since") || usage_error logs \
		    "--since $lg_since: not a duration (10m, 2h) or a time (2026-01-02T03:04:05Z)"
	fi
	f=$logdir/$lg_stage.log
	if [ "$lg_follow" = 0 ] && [ ! -f "$f" ]; then
		die "no log yet: $f"
	fi
	# The first line to print: the first one from --since on, and no
	# more than -n lines from the end. A line without a time goes with
	# the one before it.
	lg_start=1
	if [ -f "$f" ] && [ -n "$lg_lines$lg_from" ]; then
		lg_start=$(awk -v from="$lg_from" -v n="$lg_lines" '
		    from != "" && !first &&
		    $0 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ &&
		    ($1 "") >= (from "") {
			first = NR
		    }
		    END {
			if (from == "")
				first = 1
			else if (!first)
				first = NR + 1
			if (n != "" && NR - n + 1 > first)
				first = NR - n + 1
			print first
		    }' "$f")
	fi
	if [ "$lg_follow" = 1 ]; then
		exec tail -n "+$lg_start" -F "$f"
	fi
	exec tail -n "+$lg_start" "$f"
}

cmd_reload() {
	rl_rc=0
	case ${1:-} in
	'') ;;
	-h|--help) help_of reload; exit 0 ;;
	*) usage_error reload "unexpected argument $1" ;;
	esac
	for rl_s in receiver verifier; do
		if rl_pid=$(stage_pid "$rl_s") &&
		    kill -HUP "$rl_pid" 2>/dev/null; then
			printf '%s: reloading (pid %s)\n' "$rl_s" "$rl_pid"
		else
			printf '%s: not running (it reads them when it starts)\n' \
			    "$rl_s"
			rl_rc=3
		fi
	done
	exit "$rl_rc"
}

# ---------------------------------------------------------------------
# gen: the stages under a service manager (systemd, s6, runit) instead
# of our supervise loops. Each stage tells the manager it is ready
# (NOTIFY_SOCKET, or HOOKPIPE_NOTIFY_FD for s6's notification-fd), exit
# 100 stops the restarts, and under systemd the receiver takes its
# listening socket from a socket unit. The values are checked against a
# plain set of characters, so that they need no quoting in a unit file
# or a run script.

gen_path() {
	case $2 in
	/*) ;;
	*) usage_error gen "$1 $2: expected an absolute path" ;;
	esac
	case $2 in
	*[!A-Za-z0-9._/+-]*) usage_error gen \
	    "$1 $2: only letters, digits and . _ / + - please" ;;
	esac
}

# gen_put PATH MODE: PATH.tmp, just written, becomes PATH; prints PATH.
# (Written by a redirection, not a pipe: die here ends the command.)
gen_put() {
	[ -d "$1" ] && die "$1 is a directory"
	if ! { chmod "$2" "$1.tmp" && mv -f "$1.tmp" "$1"; }; then
		die "cannot write $1"
	fi
	printf '%s\n' "$1"
}

gen_what() {
	case $1 in
	dispatcher) echo "runs the workflows' actions" ;;
	router) echo "matches events to workflows" ;;
	verifier) echo "checks signatures, stores events" ;;
	receiver) echo "answers the webhook deliveries" ;;
	admin) echo "serves the console, the API and /metrics" ;;
	esac
}

# The stage a stage feeds: started (and ready) before it.
gen_next() {
	case $1 in
	router) echo dispatcher ;;
	verifier) echo router ;;
	receiver) echo verifier ;;
	esac
}

gen_systemd() {
	for s in $STAGES; do
		nx=$(gen_next "$s")
		{
			echo "# Written by: hookpipectl gen systemd"
			echo "[Unit]"
			echo "Description=hookpipe $s ($(gen_what "$s"))"
			echo "Documentation=man:hookpipectl(8) man:hookpipe.env(5)"
			echo "PartOf=hookpipe.target"
			case $s in
			receiver|dispatcher)
				echo "Wants=network-online.target"
				echo "After=network-online.target" ;;
			esac
			if [ -n "$nx" ]; then
				echo "Wants=hookpipe-$nx.service"
				echo "After=hookpipe-$nx.service"
			fi
			if [ "$s" = receiver ]; then
				echo "Requires=hookpipe-receiver.socket"
				echo "After=hookpipe-receiver.socket"
			fi
			echo
			echo "[Service]"
			echo "Type=notify"
			echo "NotifyAccess=main"
			echo "ExecStart=$g_exe/hookpipe-$s"
			echo "Environment=HOOKPIPE_HOME=$g_home"
			[ -n "$g_user" ] && echo "User=$g_user"
			case $g_home in
			/var/lib/?*)
				# Made (and given to User) by systemd.
				echo "StateDirectory=${g_home#/var/lib/}"
				echo "StateDirectoryMode=0700" ;;
			esac
			echo "UMask=0077"
			echo "Restart=on-failure"
			echo "RestartSec=1"
			echo "# 100: a configuration error; fix it, then start again."
			echo "RestartPreventExitStatus=100"
			echo "TimeoutStartSec=30"
			echo "# SIGTERM: the stage drains for up to ${STOP_TIMEOUT} s;"
			echo "# the actions the dispatcher runs are killed after it."
			echo "TimeoutStopSec=$((STOP_TIMEOUT + 5))"
			echo "KillMode=mixed"
			echo "LimitNOFILE=65536"
			# Not the dispatcher: the actions it runs may write
			# anywhere their user may, /tmp included, or sudo.
			if [ "$s" != dispatcher ]; then
				echo "NoNewPrivileges=yes"
				echo "PrivateTmp=yes"
				echo "ProtectSystem=full"
				echo "ProtectKernelTunables=yes"
				echo "ProtectControlGroups=yes"
			fi
			echo
			echo "[Install]"
			echo "WantedBy=hookpipe.target"
		} >"$g_dir/hookpipe-$s.service.tmp"
		gen_put "$g_dir/hookpipe-$s.service" 644
	done
	{
		echo "# Written by: hookpipectl gen systemd"
		echo "[Unit]"
		echo "Description=hookpipe receiver's listening socket"
		echo "Documentation=man:hookpipectl(8)"
		echo "PartOf=hookpipe.target"
		echo
		echo "# Held by systemd: deliveries made while the receiver restarts"
		echo "# wait in its queue."
		echo "[Socket]"
		echo "ListenStream=$g_listen"
		echo "NoDelay=true"
		echo "Backlog=1024"
		echo "Service=hookpipe-receiver.service"
		echo
		echo "[Install]"
		echo "WantedBy=sockets.target hookpipe.target"
	} >"$g_dir/hookpipe-receiver.socket.tmp"
	gen_put "$g_dir/hookpipe-receiver.socket" 644
	{
		echo "# Written by: hookpipectl gen systemd"
		echo "[Unit]"
		echo "Description=hookpipe webhook gateway"
		echo "Documentation=man:hookpipectl(8) man:hookpipe(1)"
		echo "Wants=hookpipe-dispatcher.service hookpipe-router.service"
		echo "Wants=hookpipe-verifier.service hookpipe-receiver.socket"
		echo "Wants=hookpipe-receiver.service hookpipe-admin.service"
		echo
		echo "[Install]"
		echo "WantedBy=multi-user.target"
	} >"$g_dir/hookpipe.target.tmp"
	gen_put "$g_dir/hookpipe.target" 644
}

# gen_svdir KIND STAGE: an s6 or runit service directory.
gen_svdir() {
	d=$g_dir/hookpipe-$2
	mkdir -p "$d/log" || die "cannot create $d/log"
	case $1 in
	s6) asuser=${g_user:+"s6-setuidgid $g_user "} ;;
	runit) asuser=${g_user:+"chpst -u $g_user "} ;;
	esac
	{
		echo "#!/bin/sh"
		echo "# Written by: hookpipectl gen $1"
		echo "exec 2>&1"
		echo "HOOKPIPE_HOME=$g_home"
		echo "export HOOKPIPE_HOME"
		[ -n "$g_listen_set" ] && [ "$2" = receiver ] &&
		    echo "HOOKPIPE_LISTEN=$g_listen_set; export HOOKPIPE_LISTEN"
		if [ "$1" = s6 ]; then
			echo "# Ready: a newline on descriptor 3 (notification-fd)."
			echo "HOOKPIPE_NOTIFY_FD=3"
			echo "export HOOKPIPE_NOTIFY_FD"
		fi
		echo "umask 077"
		echo "exec ${asuser}$g_exe/hookpipe-$2"
	} >"$d/run.tmp"
	gen_put "$d/run" 755
	{
		echo "#!/bin/sh"
		echo "# Written by: hookpipectl gen $1"
		echo "# Exit 100 is a configuration error: leave the stage down"
		echo "# until it is fixed and the service started again."
		# shellcheck disable=SC2016 # the script's $1
		case $1 in
		s6) echo '[ "$1" = 100 ] && exit 125' ;;
		runit) echo '[ "$1" = 100 ] && exec sv down .' ;;
		esac
		echo "exit 0"
	} >"$d/finish.tmp"
	gen_put "$d/finish" 755
	if [ "$1" = s6 ]; then
		echo 3 >"$d/notification-fd.tmp"
		gen_put "$d/notification-fd" 644
	fi
	# The stages stamp their lines: the logger keeps them as they are,
	# 10 files of up to 1 MB (svlogd reads that from DIR/config).
	case $1 in
	s6) logger="exec s6-log -b n10 s1000000 \"\$1\"" ;;
	runit) logger="printf \"s1000000\\\\nn10\\\\n\" >\"\$1/config\"; exec svlogd \"\$1\"" ;;
	esac
	{
		echo "#!/bin/sh"
		echo "# Written by: hookpipectl gen $1"
		echo "exec ${asuser}sh -ec 'mkdir -p \"\$1\"; $logger' sh $g_home/log/$2"
	} >"$d/log/run.tmp"
	gen_put "$d/log/run" 755
}

cmd_gen() {
	g_kind=
	g_dir=
	g_user=
	g_home=$HOOKPIPE_HOME
	g_listen_set=
	g_exe=$stagedir
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) help_of gen; exit 0 ;;
		--user|--home|--listen|--exe-dir)
			[ $# -ge 2 ] || usage_error gen "$1 needs a value"
			case $1 in
			--user) g_user=$2 ;;
			--home) g_home=$2 ;;
			--listen) g_listen_set=$2 ;;
			--exe-dir) g_exe=$2 ;;
			esac
			shift ;;
		--user=*) g_user=${1#*=} ;;
		--home=*) g_home=${1#*=} ;;
		--listen=*) g_listen_set=${1#*=} ;;
		--exe-dir=*) g_exe=${1#*=} ;;
		-*) usage_error gen "unknown option $1" ;;
		*)
			if [ -z "$g_kind" ]; then
				g_kind=$1
			elif [ -z "$g_dir" ]; then
				g_dir=$1
			else
				usage_error gen "too many arguments"
			fi ;;
		esac
		shift
	done
	case $g_kind in
	systemd|s6|runit) ;;
	'') usage_error gen "expected systemd, s6 or runit, and DIR" ;;
	*) usage_error gen "unknown service manager '$g_kind': systemd, s6 or runit" ;;
	esac
	[ -n "$g_dir" ] || usage_error gen "expected DIR"
	gen_path --home "$g_home"
	gen_path --exe-dir "$g_exe"
	case $g_user in
	''|[a-z_]*) ;;
	*) usage_error gen "--user $g_user: expected a user name" ;;
	esac
	case $g_user in
	*[!a-z0-9_-]*) usage_error gen "--user $g_user: expected a user name" ;;
	esac
	g_listen=${g_listen_set:-${HOOKPIPE_LISTEN:-127.0.0.1:8080}}
	g_host=${g_listen%:*}
	g_port=${g_listen##*:}
	case $g_host in
	'') g_host=0.0.0.0 ;;
	localhost) g_host=127.0.0.1 ;;
	esac
	case $g_port in
	''|*[!0-9]*) usage_error gen "--listen $g_listen: expected HOST:PORT" ;;
	esac
	case $g_host in
	*[!0-9A-Fa-f.:\[\]]*) usage_error gen \
	    "--listen $g_listen: expected a numeric address (127.0.0.1:8080, [::1]:8080)" ;;
	esac
	g_listen=$g_host:$g_port
	for s in $STAGES; do
		[ -x "$g_exe/hookpipe-$s" ] ||
		    printf '%s: warning: %s is not there (yet): see --exe-dir\n' \
		    "$prog" "$g_exe/hookpipe-$s" >&2
	done
	mkdir -p "$g_dir" || die "cannot create $g_dir"
	case $g_kind in
	systemd) gen_systemd ;;
	*)
		for s in $STAGES; do
			gen_svdir "$g_kind" "$s"
		done ;;
	esac
}

cmd_help() {
	[ $# -le 1 ] || usage_error help "too many arguments"
	case ${1:-} in
	'') usage ;;
	-h|--help) help_of help ;;
	*) help_of "$1" || usage_error help "unknown command $1" ;;
	esac
}

[ $# -ge 1 ] || usage_error "" "expected a command"
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
reload) cmd_reload "$@" ;;
gen) cmd_gen "$@" ;;
help) cmd_help "$@" ;;
-h|--help) usage ;;
--version|version) echo "$prog @VERSION@" ;;
_loop)
	is_stage_name "${1:-}" || usage_error "" "_loop: unknown stage"
	supervise "$1"
	;;
*) usage_error "" "unknown command $cmd" ;;
esac
