#!/usr/bin/env bash
# hookpipectl gen systemd|s6|runit DIR: what runs the stages under a
# service manager. The systemd units pass systemd-analyze verify (when
# it is installed) and say Type=notify, RestartPreventExitStatus=100 and
# the receiver's socket. The s6 and runit service directories are run
# for real when s6-svscan or runsvdir is installed: the four stages come
# up (s6 sees them ready through the notification fd), a delivery runs
# its workflow, and a stage that exits with 100 is left down.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

G=$T_DIR/gen

# --- usage ------------------------------------------------------------
hookpipectl gen >/dev/null 2>"$T_DIR/err"
assert_eq "gen without arguments: usage error" 2 "$?"
assert_contains "one line that says what to give" "expected systemd, s6 or runit" \
    "$(cat "$T_DIR/err")"
hookpipectl gen upstart "$G" >/dev/null 2>"$T_DIR/err"
assert_eq "an unknown service manager: usage error" 2 "$?"
hookpipectl gen systemd "$G" --home 'rel/dir' >/dev/null 2>"$T_DIR/err"
assert_eq "a relative --home: usage error" 2 "$?"
hookpipectl gen systemd "$G" --home '/tmp/a b' >/dev/null 2>"$T_DIR/err"
assert_eq "a --home with a space: usage error" 2 "$?"
hookpipectl gen systemd "$G" --user 'root;x' >/dev/null 2>"$T_DIR/err"
assert_eq "a --user that is no user name: usage error" 2 "$?"
check "gen --help" sh -c 'hookpipectl gen --help | grep -q "usage: hookpipectl gen"'
check "nothing written on a usage error" test ! -e "$G"

# --- systemd ----------------------------------------------------------
out=$(hookpipectl gen systemd "$G/systemd" --user hookpipe \
    --home /var/lib/hookpipe --listen 0.0.0.0:8443 2>&1)
assert_eq "gen systemd lists what it wrote" \
    "hookpipe-admin.service hookpipe-dispatcher.service hookpipe-receiver.service hookpipe-receiver.socket hookpipe-router.service hookpipe-verifier.service hookpipe.target" \
    "$(for f in $out; do basename "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')"
U=$G/systemd
for s in dispatcher router verifier receiver; do
	f=$U/hookpipe-$s.service
	check "$s: Type=notify" grep -qx 'Type=notify' "$f"
	check "$s: no restart after exit 100" \
	    grep -qx 'RestartPreventExitStatus=100' "$f"
	check "$s: runs the stage's executable" \
	    grep -qx "ExecStart=$BIN/hookpipe-$s" "$f"
	check "$s: as its own user" grep -qx 'User=hookpipe' "$f"
	check "$s: in its home" \
	    grep -qx 'Environment=HOOKPIPE_HOME=/var/lib/hookpipe' "$f"
done
check "the verifier starts after the router" \
    grep -qx 'After=hookpipe-router.service' "$U/hookpipe-verifier.service"
check "the receiver's socket, on --listen" \
    grep -qx 'ListenStream=0.0.0.0:8443' "$U/hookpipe-receiver.socket"
check "the receiver needs it" \
    grep -qx 'Requires=hookpipe-receiver.socket' "$U/hookpipe-receiver.service"
if command -v systemd-analyze >/dev/null; then
	# verify says "ignoring" (and exits 0) for a line it cannot use:
	# nothing on stderr is the pass.
	systemd-analyze verify --man=no "$U"/* >"$T_DIR/verify.out" 2>&1
	rc=$?
	assert_eq "systemd-analyze verify passes" "0 " \
	    "$rc $(cat "$T_DIR/verify.out")"
	sed 's/^Type=notify/Type=notifyy/' "$U/hookpipe-router.service" \
	    >"$T_DIR/hookpipe-router.service"
	systemd-analyze verify --man=no "$T_DIR/hookpipe-router.service" \
	    >"$T_DIR/verify.out" 2>&1
	check "(and it would see a wrong line)" test -s "$T_DIR/verify.out"
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi
hookpipectl gen systemd "$G/sd2" --home /srv/hp --listen :9000 >/dev/null
check "--listen :PORT is every address" \
    grep -qx 'ListenStream=0.0.0.0:9000' "$G/sd2/hookpipe-receiver.socket"
check "no User= without --user" test -z "$(grep '^User=' "$G/sd2"/*.service)"

# --- s6 and runit, run for real ------------------------------------------
new_sub svc
new_workflow svcwf svc batch.completed "$T_DIR/rec"

up_all() {
	local s p
	for s in dispatcher router verifier receiver; do
		p=$(cat "$HOOKPIPE_HOME/run/$s.pid" 2>/dev/null) || return 1
		kill -0 "$p" 2>/dev/null || return 1
	done
}
ran_n() { [ "$(runs_in "$T_DIR/rec")" = "$1" ]; }
all_gone() {
	local s p
	for s in dispatcher router verifier receiver; do
		p=$(cat "$HOOKPIPE_HOME/run/$s.pid" 2>/dev/null) || continue
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}

if command -v s6-svscan >/dev/null; then
	hookpipectl gen s6 "$G/s6" --home "$HOOKPIPE_HOME" \
	    --listen "$HOOKPIPE_LISTEN" >/dev/null
	check "s6: notification-fd 3" test "$(cat "$G/s6/hookpipe-router/notification-fd")" = 3
	s6-svscan "$G/s6" >/dev/null 2>&1 &
	SCAN=$!
	BG_PIDS+=("$SCAN")
	check "s6: the four stages come up" wait_for 20 up_all
	for s in dispatcher router verifier receiver; do
		check "s6: $s said it is ready" \
		    s6-svwait -U -t 10000 "$G/s6/hookpipe-$s"
	done
	deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
	assert_status "s6: a delivery" 200
	check "s6: its workflow runs" wait_for 20 ran_n 1
	check "s6: the stages' lines go to s6-log" \
	    wait_for 10 grep -q 'hookpipe-receiver: ready' "$HOOKPIPE_HOME/log/receiver/current"
	# A configuration error: the router exits 100 and stays down.
	sed -i 's/^umask 077$/HOOKPIPE_LOG_MAX=lots; export HOOKPIPE_LOG_MAX\n&/' \
	    "$G/s6/hookpipe-router/run"
	s6-svc -r "$G/s6/hookpipe-router"
	router_failed() {
		s6-svstat -o up,wantedup,exitcode "$G/s6/hookpipe-router" 2>/dev/null |
		    grep -qx 'false false 100'
	}
	check "s6: a router that exits 100 is not restarted" wait_for 20 router_failed
	s6-svscanctl -t "$G/s6"
	check "s6: svscan stops the stages" wait_for 30 all_gone
	wait "$SCAN" 2>/dev/null
else
	skip "s6 service directories" "s6 is not installed"
fi

if command -v runsvdir >/dev/null; then
	hookpipectl gen runit "$G/runit" --home "$HOOKPIPE_HOME" \
	    --listen "$HOOKPIPE_LISTEN" >/dev/null
	runsvdir -P "$G/runit" >/dev/null 2>&1 &
	SCAN=$!
	BG_PIDS+=("$SCAN")
	check "runit: the four stages come up" wait_for 20 up_all
	deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
	assert_status "runit: a delivery" 200
	check "runit: its workflow runs" wait_for 20 ran_n 2
	check "runit: the stages' lines go to svlogd" \
	    wait_for 10 grep -q 'hookpipe-receiver: ready' "$HOOKPIPE_HOME/log/receiver/current"
	sed -i 's/^umask 077$/HOOKPIPE_LOG_MAX=lots; export HOOKPIPE_LOG_MAX\n&/' \
	    "$G/runit/hookpipe-router/run"
	sv term "$G/runit/hookpipe-router" >/dev/null
	router_down() {
		sv status "$G/runit/hookpipe-router" 2>/dev/null | grep -q '^down:.*normally up'
	}
	check "runit: a router that exits 100 is not restarted" wait_for 20 router_down
	sleep 2
	check "runit: still down" router_down
	kill -HUP "$SCAN"
	check "runit: runsvdir stops the stages" wait_for 30 all_gone
	wait "$SCAN" 2>/dev/null
else
	skip "runit service directories" "runit is not installed"
fi

finish
