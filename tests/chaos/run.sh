#!/usr/bin/env bash
# Chaos test: no event lost while each stage in turn is killed (SIGKILL,
# the supervisor restarts it), restarted (hookpipectl restart) and swapped
# for another build (hookpipectl swap), under a steady load of signed
# OpenAI events.
#
# For every scenario: the load generator (loadgen.c) sends its share of
# the events; after a lead-in the stage is disrupted; once the stage is
# back and the sender is done, we wait (bounded) until every event that
# got a 2xx has run. The exec action appends "EVENT_ID RUN_ID" to a file.
# check.py then checks, per scenario: nothing 2xx'd is missing, nothing
# 4xx'd ran, no event ran twice (except under one run id after a SIGKILL
# of the dispatcher: counted and reported), every delivery got an answer;
# while a stage behind the receiver was down the sender saw no 5xx and no
# connection error; no 202 unless the verifier was the one disrupted (202
# means "verifier down"); swapping the receiver refused no connection; a
# SIGKILL of the dispatcher re-ran at most HOOKPIPE_CONCURRENCY runs.
# One more scenario, receiver-swapkill: the new receiver of a swap is
# killed at once; /healthz must answer again within CHAOS_RECOVER_LIMIT
# (3 s).
#
# Environment: CHAOS_EVENTS (3000, spread over the scenarios; but each
# gets at least CHAOS_MIN_STREAM (2.5) seconds of load, i.e. 750 events at
# the default rate, and receiver-swapkill 9 s), CHAOS_RATE (300/s),
# CHAOS_CONNS (4 keep-alive connections), CHAOS_BAD_EVERY (20: every 20th
# delivery is badly signed: 401, or 202 while the verifier is down, and
# never runs), CHAOS_SCENARIOS (e.g. "dispatcher-kill receiver-swap";
# default all), CHAOS_ACTION_SLEEP (0.02 s per run), CHAOS_DRAIN_TIMEOUT
# (60 s), CHAOS_RECOVER_LIMIT (3 s), CHAOS_KEEP=1 (keep the scratch home
# and its logs even when all passed; kept anyway on a failure).
#
# Ends with "N passed, N failed"; exits 1 on any failed check.
set -u
. "$(dirname "$0")/lib.sh"

EVENTS=${CHAOS_EVENTS:-3000}
RATE=${CHAOS_RATE:-300}
CONNS=${CHAOS_CONNS:-4}
BAD_EVERY=${CHAOS_BAD_EVERY:-20}
NAP=${CHAOS_ACTION_SLEEP:-0.02}
DRAIN=${CHAOS_DRAIN_TIMEOUT:-60}
CONC=${HOOKPIPE_CONCURRENCY:-16}	# the dispatcher's default
RECOVER=${CHAOS_RECOVER_LIMIT:-3}	# s: a killed stage answers again

setup_env
t_start=$(date +%s)

have_swap=0
if "$CTL" --help 2>&1 | grep -qE '^ +swap '; then
	have_swap=1
fi
ACTIONS="kill restart"
if [ "$have_swap" = 1 ]; then
	ACTIONS="kill restart swap"
else
	echo "NOTE: hookpipectl has no swap command: swap scenarios skipped"
fi

SCENARIOS=
for s in receiver verifier router dispatcher; do
	for a in $ACTIONS; do
		SCENARIOS="$SCENARIOS $s-$a"
	done
	# A new build that dies right after taking over (the receiver hands
	# its listening socket to its successor): the old one must not be
	# left without a socket.
	[ "$have_swap" = 1 ] && [ "$s" = receiver ] &&
	    SCENARIOS="$SCENARIOS receiver-swapkill"
done
[ -n "${CHAOS_SCENARIOS:-}" ] && SCENARIOS=$CHAOS_SCENARIOS
nscen=$(set -- $SCENARIOS; echo $#)
# Each scenario's stream must outlast its disruption: at least
# CHAOS_MIN_STREAM seconds of load, the disruption half a second in.
PER=$(( (EVENTS + nscen - 1) / nscen ))
PER=$(python3 -c "print(max($PER, int($RATE * ${CHAOS_MIN_STREAM:-2.5})))")

start_stack
RUNS=$WORK/runs.txt
: >"$RUNS"
action=$(write_action "$RUNS" "$NAP")
make_pipeline chaos "$action"
say "subscription $SUB_ID; $nscen scenarios, $PER events each at ${RATE}/s over $CONNS connections"

# Another build for swap: a copy of bin/ with the integrations beside it,
# as an installed tree has them.
mkdir -p "$WORK/alt/bin"
ln -sfn "$ROOT/integrations" "$WORK/alt/integrations"

MANIFEST=$WORK/manifest
: >"$MANIFEST"
LGS=
lead_s=$(python3 -c "print(min(0.5, $PER / $RATE / 4))")

disrupt() {	# disrupt STAGE ACTION -> 0 when the stage is back
	local s=$1 a=$2 old
	old=$(stage_pid "$s")
	case $a in
	kill)
		if ! alive "$old"; then
			echo "    $s is not running (pid file: '$old')"
			return 1
		fi
		kill -9 "$old"
		wait_up "$s" "$old" 20
		;;
	restart)
		timeout 60 "$CTL" restart "$s" >>"$WORK/ctl.log" 2>&1 &&
		    wait_up "$s" "$old" 20
		;;
	swap|swapkill)
		cp "$BIN/hookpipe-$s" "$WORK/alt/bin/hookpipe-$s.new" &&
		    mv -f "$WORK/alt/bin/hookpipe-$s.new" "$WORK/alt/bin/hookpipe-$s" &&
		    timeout 60 "$CTL" swap "$s" "$WORK/alt/bin/hookpipe-$s" \
		    >>"$WORK/ctl.log" 2>&1 && wait_up "$s" "$old" 20 || return 1
		if [ "$a" = swapkill ]; then
			new=$(stage_pid "$s")
			kill -9 "$new"
			tk=$(date +%s%N)
			wait_healthy 20
			back_ms=$(( ($(date +%s%N) - tk) / 1000000 ))
			check "$s-$a: /healthz answers 200 again within ${RECOVER}s of the SIGKILL of the new $s (took $back_ms ms)" \
			    "$(curl -s -m 1 "$TRIGGER_URL/healthz"); $(tail -n 3 "$HOOKPIPE_HOME/log/$s.log" | tr '\n' '|')" \
			    test "$back_ms" -le $((RECOVER * 1000))
			wait_up "$s" "$new" 20
		fi
		;;
	esac
}

for sc in $SCENARIOS; do
	stage=${sc%%-*}
	act=${sc#*-}
	lgout=$WORK/$sc.lg
	lgstats=$WORK/$sc.stats
	flags="bad=$BAD_EVERY"
	[ "$sc" = dispatcher-kill ] && flags="$flags,dup-ok,dup-max=$CONC"
	[ "$stage" != receiver ] && flags="$flags,no-5xx"
	[ "$sc" = receiver-swap ] && flags="$flags,no-refuse"
	[ "$stage" != verifier ] && flags="$flags,no-202"
	printf '%s\t%s\t%s\t%s\n' "$sc" "$lgout" "$lgstats" "$flags" >>"$MANIFEST"
	LGS="$LGS $lgout"

	n=$PER
	# The old receiver drains its keep-alive connections for up to
	# HOOKPIPE_VERIFY_TIMEOUT_MS + 1 s (6 s by default): keep the load
	# on past that, or its end would hide a receiver left without socket.
	[ "$act" = swapkill ] && n=$(python3 -c "print(max($PER, int($RATE * 9)))")
	"$LG" --url "$TRIGGER_URL" --sub "$SUB_ID" --secret "$SECRET" \
	    -n "$n" -r "$RATE" -c "$CONNS" --prefix "evt_${sc}_" \
	    --bad-every "$BAD_EVERY" --deadline "$(python3 -c "print(int($n / $RATE) + 30)")" \
	    --out "$lgout" --stats "$lgstats" 2>"$WORK/$sc.lgerr" &
	lgpid=$!
	bg_pids="$bg_pids $lgpid"
	sleep "$lead_s"
	t0=$(date +%s%N)
	if disrupt "$stage" "$act"; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		ok "$sc: $stage back up (new pid $(stage_pid "$stage")) in $ms ms"
	else
		notok "$sc: $stage back up within 20 s" \
		    "$(grep -v '^  ' "$WORK/ctl.log" 2>/dev/null | tail -n 4 | tr '\n' '|') log: $HOOKPIPE_HOME/log/$stage.log"
	fi
	wait "$lgpid"
	sed 's/^/    /' "$WORK/$sc.lgerr"
	if ! wait_healthy 20; then
		notok "$sc: stack healthy again (remaining scenarios skipped)" \
		    "$("$CTL" status 2>&1 | tr '\n' '|') healthz: $(curl -s -m 1 "$TRIGGER_URL/healthz")"
		break
	fi
	if ! wait_runs "$DRAIN" "$RUNS" "$lgout"; then
		echo "    (continuing; the final check counts what is missing)"
	fi
done

say "all scenarios done; waiting for the last runs"
wait_runs "$DRAIN" "$RUNS" $LGS
sleep 1		# a re-run after a restart shows up late, if at all
echo
python3 "$CHAOS_DIR/check.py" report "$MANIFEST" "$RUNS" "$CHECKS"
echo

# The stack after all this: every stage up and healthy, none crashed on
# its own, and the admin view agrees with the action's file.
check "stack healthy at the end (/healthz 200)" \
    "healthz: $(curl -s -m 2 "$TRIGGER_URL/healthz")" wait_healthy 10
if ! out=$(unexpected_exits); then
	notok "no stage exited unless we killed or restarted it" "$out"
else
	ok "no stage exited unless we killed or restarted it"
fi
if "$HP" runs --json --limit 100000 >"$WORK/runs.json" 2>"$WORK/runs.err"; then
	summary=$(python3 - "$WORK/runs.json" <<'EOF'
import collections, json, sys
runs = json.load(open(sys.argv[1]))
c = collections.Counter(r.get("status") for r in runs)
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))
bad = [r for r in runs if r.get("status") not in ("succeeded",)]
sys.exit(1 if bad else 0)
EOF
	) && ok "hookpipe runs: every run succeeded ($summary)" ||
	    notok "hookpipe runs: every run succeeded" "statuses: $summary (see $WORK/runs.json)"
else
	notok "hookpipe runs --json works" "$(head -c 300 "$WORK/runs.err")"
fi
say "elapsed $(( $(date +%s) - t_start )) s"
tally
