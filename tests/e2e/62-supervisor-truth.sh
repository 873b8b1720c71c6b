#!/usr/bin/env bash
# hookpipectl takes a stage's lock and executable as the truth, never a
# pid file alone: after a crash, files that name a reused pid neither keep
# a stage from starting nor get an unrelated process signalled. swap puts
# the previous executable back when the new one does not come up. And the
# command line's conventions: --help everywhere, one-line usage errors,
# options in any order, status --json, logs -n and --since.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

RUN=$HOOKPIPE_HOME/run
REAL_BIN=$(cd "$BIN" && pwd -P)

# Every call is bounded: a supervisor that waits for a stage that will
# never come must fail the check, not the whole script.
ctl() {
	timeout 60 hookpipectl "$@"
}

# A live process, not a zombie (a killed child of this shell may linger
# as one until it is reaped).
proc_alive() {
	local st
	[ -n "$1" ] || return 1
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

gone() {
	! proc_alive "$1"
}

# Unrelated processes whose pids a stale file will name.
decoy() {
	sleep 600 &
	BG_PIDS+=($!)
	DECOY=$!
}

# exe_of PID: the executable a process runs.
exe_of() {
	readlink "/proc/$1/exe" 2>/dev/null
}

# What a machine or supervisor crash leaves behind: the stage and its
# supervise loop killed with SIGKILL, their pid and .sup files in place.
crash() {
	local s=$1 loop='' p=''
	read -r loop _ <"$RUN/$s.sup" || return 1
	p=$(cat "$RUN/$s.pid") || return 1
	kill -KILL "$loop"
	kill -KILL "$p"
	wait_for 5 gone "$loop"
	wait_for 5 gone "$p"
	test -f "$RUN/$s.pid"
}

# router_runs EXE: the router named by its pid file is up and runs EXE.
stage_runs() {
	local p
	p=$(cat "$RUN/$1.pid" 2>/dev/null)
	proc_alive "$p" && [ "$(exe_of "$p")" = "$2" ]
}

# snap: takes `hookpipectl status --json`; field STAGE KEY...: a field
# of STAGE in it.
snap() {
	ctl status --json >"$T_DIR/snap.json" 2>&1
}
field() {
	local expr="[s for s in d['stages'] if s['name'] == '$1'][0]" k
	shift
	for k; do
		expr="${expr}['$k']"
	done
	json "$expr" <"$T_DIR/snap.json"
}

start_stack

# --- stale pid files ---------------------------------------------------

check "crash the router" crash router
decoy
echo "$DECOY" >"$RUN/router.pid"
out=$(ctl start 2>&1)
check "start with a pid file naming an unrelated process exits 0" test $? -eq 0
p=$(cat "$RUN/router.pid")
check "start started the router again (pid $p, the file named $DECOY)" \
    stage_runs router "$REAL_BIN/hookpipe-router"
check "start left the unrelated process alone" proc_alive "$DECOY"
check "status: all four up" ctl status

check "crash the router again" crash router
decoy
echo "$DECOY" >"$RUN/router.pid"
ctl stop router >"$T_DIR/out" 2>&1
assert_eq "stop router with a pid file naming an unrelated process exits 0" 0 "$?"
check "stop did not signal it" proc_alive "$DECOY"
assert_contains "stop says the router is not running" "not running" "$(cat "$T_DIR/out")"
ctl status >/dev/null
assert_eq "status: the router is down (exit 3)" 3 "$?"
check "start brings it back" ctl start
check "the router runs its own executable" \
    stage_runs router "$REAL_BIN/hookpipe-router"

# --- stale supervise files ---------------------------------------------

check "crash the router (supervise file)" crash router
decoy
d1=$DECOY
decoy
d2=$DECOY
echo "$d1 $d2" >"$RUN/router.sup"
out=$(ctl start 2>&1)
check "start with a .sup naming unrelated processes exits 0" test $? -eq 0
check "start started the router again" \
    stage_runs router "$REAL_BIN/hookpipe-router"
check "start left the .sup's loop pid alone" proc_alive "$d1"
check "start left the .sup's child pid alone" proc_alive "$d2"

check "crash the router (supervise file, restart)" crash router
echo "$d1 $d2" >"$RUN/router.sup"
out=$(ctl restart router 2>&1)
check "restart with a .sup naming unrelated processes exits 0" test $? -eq 0
check "restart started the router" stage_runs router "$REAL_BIN/hookpipe-router"
check "restart left them alone" proc_alive "$d1"
check "restart left them alone (child)" proc_alive "$d2"

check "crash the router (supervise file, stop)" crash router
echo "$d1 $d2" >"$RUN/router.sup"
decoy
echo "$DECOY" >"$RUN/router.pid"
ctl stop >"$T_DIR/out" 2>&1
assert_eq "stop with stale files naming unrelated processes exits 0" 0 "$?"
check "stop did not signal the .sup's loop pid" proc_alive "$d1"
check "stop did not signal the .sup's child pid" proc_alive "$d2"
check "stop did not signal the pid file's pid" proc_alive "$DECOY"
ctl status >/dev/null
assert_eq "everything is stopped (status exits 3)" 3 "$?"
check "start" ctl start

# --- swap rolls back ---------------------------------------------------

ctl swap router /bin/false >"$T_DIR/out" 2>"$T_DIR/err"
assert_eq "swap router /bin/false exits 1" 1 "$?"
# Right away, no waiting: the router runs, with its own executable.
check "after the failed swap all four are up at once" ctl status
check "and the router runs bin/hookpipe-router" \
    stage_runs router "$REAL_BIN/hookpipe-router"
assert_contains "the first line says what failed" false "$(head -n 1 "$T_DIR/err")"
assert_contains "and how" exited "$(head -n 1 "$T_DIR/err")"
st=$(ctl status)
assert_contains "status shows the router's executable unchanged" "router     up" "$st"
snap
assert_eq "status --json: router executable" "$REAL_BIN/hookpipe-router" \
    "$(field router executable)"
out=$(cd "$ROOT" && ctl swap router bin/hookpipe-router 2>&1)
check "swap router bin/hookpipe-router right after succeeds" test $? -eq 0
# (bin/ of the tree: under a sanitized run, not the stack's own build)
check "the router runs bin/hookpipe-router" \
    stage_runs router "$(cd "$ROOT/bin" && pwd -P)/hookpipe-router"

cp "$BIN/hookpipe-router" "$T_DIR/router-copy"
copy=$(cd "$T_DIR" && pwd -P)/router-copy
ctl swap router "$copy" >"$T_DIR/out" 2>&1
check "swap router to a copy of its binary exits 0" test $? -eq 0
check "the router runs the copy" stage_runs router "$copy"
assert_contains "status shows the swapped executable" "$copy" \
    "$(ctl status | grep '^router ')"
assert_contains "and since when" "swapped" "$(ctl status | grep '^router ')"
snap
assert_eq "status --json: the copy" "$copy" \
    "$(field router executable)"
assert_eq "status --json: swapped" true \
    "$(field router swapped)"
check "status --json: swapped_since is a time" test -n \
    "$(field router swapped_since)"
assert_eq "status --json: last restart was the swap" swap \
    "$(field router last_restart reason)"
check "swap back to bin/hookpipe-router" ctl swap router "$BIN/hookpipe-router"
snap
assert_eq "status --json: not swapped any more" false \
    "$(field router swapped)"

# A build that never becomes ready: after READY_TIMEOUT (10 s) the
# previous one runs again, and the one that hung is gone.
printf '#!/bin/sh\nexec sleep 1017\n' >"$T_DIR/hangs"
chmod 755 "$T_DIR/hangs"
ctl swap router "$T_DIR/hangs" >"$T_DIR/out" 2>"$T_DIR/err"
assert_eq "swap router to a build that hangs exits 1" 1 "$?"
assert_contains "it says so" "did not become ready" "$(head -n 1 "$T_DIR/err")"
check "the router runs bin/hookpipe-router again" \
    stage_runs router "$REAL_BIN/hookpipe-router"
check "the build that hung was stopped" \
    wait_for 5 sh -c '! pgrep -f "sleep 101[7]" >/dev/null'

# The receiver hands its socket over: a successor that exits leaves the
# running one in place.
ctl swap receiver /bin/false >"$T_DIR/out" 2>"$T_DIR/err"
assert_eq "swap receiver /bin/false exits 1" 1 "$?"
check "after it all four are up" ctl status
check "the receiver runs bin/hookpipe-receiver" \
    stage_runs receiver "$REAL_BIN/hookpipe-receiver"
post GET "$BASE/healthz" ""
assert_status "the receiver answers" 200

# --- crashes and deliberate restarts -----------------------------------

p=$(cat "$RUN/dispatcher.pid")
kill -KILL "$p"
dispatcher_back() {
	local q
	q=$(cat "$RUN/dispatcher.pid" 2>/dev/null)
	[ -n "$q" ] && [ "$q" != "$p" ] && ctl status >/dev/null
}
check "a killed dispatcher comes back" wait_for 20 dispatcher_back
snap
assert_eq "status --json: a crash" crash "$(field dispatcher last_restart reason)"
assert_eq "status --json: killed by SIGKILL" SIGKILL \
    "$(field dispatcher last_restart signal)"
assert_eq "status --json: one crash" 1 "$(field dispatcher crashes)"
check "restart dispatcher" ctl restart dispatcher
snap
assert_eq "status --json: then a requested restart" restart \
    "$(field dispatcher last_restart reason)"
assert_eq "status --json: two restarts" 2 "$(field dispatcher restarts)"
assert_eq "status --json: still one crash" 1 "$(field dispatcher crashes)"
assert_contains "status tells the crash from the restart" "restarts 2 (1 crash" \
    "$(ctl status | grep '^dispatcher ')"

# --- status --json -----------------------------------------------------

ctl status --json >"$T_DIR/status.json"
assert_eq "status --json exits 0 when all are up" 0 "$?"
check "status --json is one JSON document" python3 -m json.tool "$T_DIR/status.json"
check "status --json has every field of every stage" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
names = [s["name"] for s in d["stages"]]
assert sorted(names) == ["admin", "dispatcher", "receiver", "router",
    "verifier"], names
for s in d["stages"]:
    for k in ("name", "state", "pid", "uptime", "restarts", "crashes",
              "last_restart", "executable", "swapped", "swapped_since"):
        assert k in s, (s["name"], k)
    assert s["state"] == "up", s
    assert isinstance(s["pid"], int) and isinstance(s["uptime"], int), s
' "$T_DIR/status.json"

# --- conventions -------------------------------------------------------

for c in start stop restart status swap tail logs; do
	out=$(ctl "$c" --help 2>&1)
	assert_eq "$c --help exits 0" 0 "$?"
	assert_contains "$c --help shows its usage" "usage: hookpipectl $c" "$out"
	check "$c -h exits 0" ctl "$c" -h
done
check "help status exits 0" ctl help status

ctl tail --x >"$T_DIR/out" 2>"$T_DIR/err"
assert_eq "tail --x exits 2" 2 "$?"
assert_eq "tail --x: one line saying what to do" \
    "hookpipectl: tail: unknown option --x (try hookpipectl tail --help)" \
    "$(cat "$T_DIR/err")"
while IFS= read -r args; do
	# shellcheck disable=SC2086 # the words of a command line
	ctl $args >"$T_DIR/out" 2>"$T_DIR/err"
	assert_eq "'$args' exits 2" 2 "$?"
	assert_eq "'$args': one line on stderr" 1 "$(wc -l <"$T_DIR/err" | tr -d ' ')"
	assert_eq "'$args': nothing on stdout" "" "$(cat "$T_DIR/out")"
done <<'EOF'
frobnicate
start --bogus
stop nowhere
stop router verifier
restart
restart nowhere
status --bogus
status router
swap router
swap nowhere /bin/true
tail verifier --x
tail verifier router
logs
logs router -n
logs router -n many
logs router --since
logs router --since yesterday
logs router --since 2026-13-01
logs router --bogus
EOF

new_sub tapped
new_workflow wf tapped batch.completed "$T_DIR/runs"
f=$T_DIR/tail.payload
ctl tail --payload verifier >"$f" 2>"$f.err" &
BG_PIDS+=($!)
got=0
for _ in $(seq 1 40); do
	deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
	if wait_for 0.5 test -s "$f"; then
		got=1
		break
	fi
done
if [ "$got" = 1 ]; then
	ok "tail --payload verifier prints a line"
	sleep 0.3
	assert_contains "with the payload" batch_ "$(cat "$f")"
else
	not_ok "tail --payload verifier prints a line" "$(cat "$f.err")"
fi

# --- logs -n and --since -----------------------------------------------

check "stop" ctl stop
t_old=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%S.000Z)
t_mid=$(date -u -d '-30 minutes' +%Y-%m-%dT%H:%M:%S.250Z)
t_new=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%S.500Z)
log=$HOOKPIPE_HOME/log/router.log
{
	echo "$t_old hookpipe-router: old"
	echo "$t_mid hookpipe-router: middle"
	echo "  a line that goes with the one before"
	echo "$t_new hookpipe-router: new"
} >"$log"
lines() {
	ctl logs "$@" | awk '{ print $NF }' | tr '\n' ' '
}
assert_eq "logs router -n 2" "before new " "$(lines router -n 2)"
assert_eq "logs -n 1 router" "new " "$(lines -n 1 router)"
assert_eq "logs router --since 1h" "middle before new " "$(lines router --since 1h)"
assert_eq "logs router --since 10m" "new " "$(lines router --since 10m)"
assert_eq "logs router --since 4h" "old middle before new " "$(lines router --since 4h)"
assert_eq "logs router --since 2h59m" "middle before new " "$(lines router --since 2h59m)"
assert_eq "logs router --since TIME (that line's own time)" "middle before new " \
    "$(lines router --since "$t_mid")"
assert_eq "logs router --since TIME with an offset" "new " \
    "$(lines router --since "$(python3 -c 'import datetime as d
z = d.timezone(d.timedelta(hours=2))
t = d.datetime.now(z) - d.timedelta(minutes=5)
print(t.strftime("%Y-%m-%dT%H:%M:%S+02:00"))')")"
assert_eq "logs router --since a future time" "" "$(lines router --since 2099-01-01)"
assert_eq "logs --since 1h -n 1 router" "new " "$(lines --since 1h -n 1 router)"
ctl logs router -f -n 1 >"$T_DIR/follow" 2>&1 &
BG_PIDS+=($!)
check "logs -f -n 1 prints the last line" wait_for 10 grep -q 'new$' "$T_DIR/follow"
echo "$(date -u +%Y-%m-%dT%H:%M:%S.000Z) hookpipe-router: appended" >>"$log"
check "and follows" wait_for 10 grep -q 'appended$' "$T_DIR/follow"
assert_eq "only those" 2 "$(wc -l <"$T_DIR/follow" | tr -d ' ')"
ctl logs --since 10m router --follow >"$T_DIR/follow2" 2>&1 &
BG_PIDS+=($!)
check "logs --since 10m --follow" wait_for 10 grep -q 'appended$' "$T_DIR/follow2"
assert_eq "prints the lines since then" "new appended " \
    "$(awk '{ print $NF }' "$T_DIR/follow2" | tr '\n' ' ')"

# --- POSIX sh ----------------------------------------------------------

check "dash runs it: --help" dash "$ROOT/admin/hookpipectl.sh" --help
dash "$ROOT/admin/hookpipectl.sh" tail --x >/dev/null 2>&1
assert_eq "dash: a usage error exits 2" 2 "$?"
check "dash runs it: start" dash "$BIN/hookpipectl" start
dash "$BIN/hookpipectl" status --json >"$T_DIR/status.json"
assert_eq "dash: status --json exits 0" 0 "$?"
check "dash: status --json parses" python3 -m json.tool "$T_DIR/status.json"
check "dash runs it: stop" dash "$BIN/hookpipectl" stop

check "every unrelated process is still alive" proc_alive "$d1"

# --- the test harness's own cleanup ------------------------------------

# stop_stack, every script's cleanup, kills what a stopped stack left
# behind by the pids its run/ files name (files a stop that did not
# finish leaves): a process that holds a file of this HOOKPIPE_HOME, never
# one that merely has such a pid now (pids come round again: 32768 of
# them here, and another suite's stack may have one). Files hookpipectl
# does not manage stand for them here, since a stop that works removes
# the stages' own.
decoy
d3=$DECOY
echo "$d3" >"$RUN/gone.pid"
decoy
d4=$DECOY
echo "$d4 0" >"$RUN/gone.sup"
(exec 9>"$RUN/leftover.lock" && exec sleep 600) &
left=$!
BG_PIDS+=("$left")
echo "$left" >"$RUN/leftover.pid"
check "a leftover holds a file of the stack" \
    wait_for 5 test -e "/proc/$left/fd/9"
stop_stack
check "stop_stack killed the stack's leftover" wait_for 5 gone "$left"
check "stop_stack left a process a stale pid file names alone" \
    proc_alive "$d3"
check "stop_stack left a process a stale .sup names alone" proc_alive "$d4"
rm -f "$RUN/gone.pid" "$RUN/gone.sup" "$RUN/leftover.pid" \
    "$RUN/leftover.lock"
finish
