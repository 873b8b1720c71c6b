# shellcheck shell=bash
# Sourced by tests/run.sh and tests/e2e/lib.sh. What a stack leaves behind
# after `hookpipectl stop` (a loop killed with SIGKILL, a stuck stage, a
# script the runner's timeout cut short) is killed by the pids its run/
# files name, but only a process that holds a file of that HOOKPIPE_HOME
# open: a stage its lock, its databases and its log, a loop its .suplock
# and the log. A file left behind names a process that is gone, and pids
# come round again (pid_max is 32768 on these machines, and the suites
# start thousands of processes a minute): without the check, the kill
# hits whatever has that pid now, another suite's stack included.

# kill_leftovers HOME
kill_leftovers() {
	local home f p fd
	home=$(cd "$1" 2>/dev/null && pwd -P) || return 0
	for f in "$home"/run/*.pid "$home"/run/*.sup; do
		[ -f "$f" ] || continue
		for p in $(cat "$f" 2>/dev/null); do
			case $p in '' | 0 | *[!0-9]*) continue ;; esac
			for fd in /proc/"$p"/fd/*; do
				case $(readlink "$fd" 2>/dev/null) in
				"$home"/*)
					kill -KILL "$p" 2>/dev/null
					break
					;;
				esac
			done
		done
	done
}
