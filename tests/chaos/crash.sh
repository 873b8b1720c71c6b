#!/usr/bin/env bash
# Crash consistency: with load flowing, SIGKILL every hookpipe process (the
# four stages and their supervise loops, in one kill(1)) at a random
# moment, start the stack again, and repeat. Each time: the stages come up
# (LMDB opens), the reader table holds no dead process once they run
# (stale readers cleared). At the end: every event that got a 2xx has run,
# nothing 4xx'd or badly signed ran, no event ran under two run ids
# (a re-run under the same run id is allowed here, the dispatcher was
# killed: at most HOOKPIPE_CONCURRENCY per kill), and mdb_stat can read
# every database.
#
# With CHAOS_CRASH_STAGES="router dispatcher", only those stages are
# killed, mid-batch, and their supervise loops start them again: the
# router must not create a run twice (run ids come from the event and
# the workflow) nor lose one, whatever the cursor it finds.
#
# Environment: CHAOS_CRASH_LOOPS (20), CHAOS_CRASH_EVENTS (events per loop,
# 300), CHAOS_RATE (300/s), CHAOS_CONNS (4), CHAOS_BAD_EVERY (20),
# CHAOS_ACTION_SLEEP (0.02), CHAOS_DRAIN_TIMEOUT (90), CHAOS_SEED (random
# moments; default: the time), CHAOS_KEEP=1.
#
# Ends with "N passed, N failed"; exits 1 on any failed check.
set -u
. "$(dirname "$0")/lib.sh"

LOOPS=${CHAOS_CRASH_LOOPS:-20}
PER=${CHAOS_CRASH_EVENTS:-300}
RATE=${CHAOS_RATE:-300}
CONNS=${CHAOS_CONNS:-4}
BAD_EVERY=${CHAOS_BAD_EVERY:-20}
NAP=${CHAOS_ACTION_SLEEP:-0.02}
DRAIN=${CHAOS_DRAIN_TIMEOUT:-90}
CONC=${HOOKPIPE_CONCURRENCY:-16}	# the dispatcher's default
SEED=${CHAOS_SEED:-$(date +%s)}
ONLY_STAGES=${CHAOS_CRASH_STAGES:-}
RANDOM=$SEED

setup_env
t_start=$(date +%s)
start_stack
RUNS=$WORK/runs.txt
: >"$RUNS"
make_pipeline crash "$(write_action "$RUNS" "$NAP")"
stream_ms=$((PER * 1000 / RATE))
say "subscription $SUB_ID; $LOOPS crashes${ONLY_STAGES:+ of $ONLY_STAGES}, $PER events each at ${RATE}/s; seed $SEED"

# Every process of the stack: stages (pid files and the loops' children)
# and the supervise loops.
stack_pids() {
	local s p loop child
	if [ -n "$ONLY_STAGES" ]; then
		for s in $ONLY_STAGES; do
			p=$(stage_pid "$s")
			alive "$p" && printf '%s ' "$p"
		done
		return
	fi
	for s in $STAGES; do
		p=$(stage_pid "$s")
		alive "$p" && printf '%s ' "$p"
		if [ -f "$HOOKPIPE_HOME/run/$s.sup" ]; then
			read -r loop child <"$HOOKPIPE_HOME/run/$s.sup"
			alive "$loop" && printf '%s ' "$loop"
			[ "${child:-0}" != 0 ] && alive "$child" && printf '%s ' "$child"
		fi
	done | tr ' ' '\n' | sort -un | tr '\n' ' '
}

# Pids in LMDB's reader table that are not alive (stale readers).
# Every part of the state (db/config, db/events, db/runs, db/spool).
PARTS="config events runs spool"
stale_readers() {
	for part in $PARTS; do
		mdb_stat -r "$HOOKPIPE_HOME/db/$part" 2>/dev/null
	done | awk '$1 ~ /^[0-9]+$/ && NF >= 2 { print $1 }' | sort -u |
	    while read -r p; do
		kill -0 "$p" 2>/dev/null || printf '%s ' "$p"
	done
}

MANIFEST=$WORK/manifest
: >"$MANIFEST"
LGS=
have_mdb_stat=0
command -v mdb_stat >/dev/null && have_mdb_stat=1
[ "$have_mdb_stat" = 0 ] && echo "NOTE: mdb_stat (lmdb-utils) missing: reader table and database checks skipped"

for i in $(seq -w 1 "$LOOPS"); do
	sc=crash-$i
	lgout=$WORK/$sc.lg
	lgstats=$WORK/$sc.stats
	printf '%s\t%s\t%s\t%s\n' "$sc" "$lgout" "$lgstats" \
	    "bad=$BAD_EVERY,dup-ok" >>"$MANIFEST"
	LGS="$LGS $lgout"
	"$LG" --url "$TRIGGER_URL" --sub "$SUB_ID" --secret "$SECRET" \
	    -n "$PER" -r "$RATE" -c "$CONNS" --prefix "evt_${sc}_" \
	    --bad-every "$BAD_EVERY" --deadline 30 \
	    --out "$lgout" --stats "$lgstats" 2>"$WORK/$sc.lgerr" &
	lgpid=$!
	bg_pids="$bg_pids $lgpid"
	at_ms=$((RANDOM % (stream_ms > 100 ? stream_ms : 100)))
	sleep "$(printf '%d.%03d' $((at_ms / 1000)) $((at_ms % 1000)))"
	pids=$(stack_pids)
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	for p in $pids; do
		j=0
		while alive "$p" && [ "$j" -lt 100 ]; do sleep 0.02; j=$((j + 1)); done
	done
	t0=$(date +%s%N)
	if timeout 60 "$CTL" start >"$WORK/$sc.start" 2>&1; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		ok "$sc: killed at ${at_ms} ms ($(echo $pids | wc -w) processes), stack up again in $ms ms"
	else
		notok "$sc: hookpipectl start brings the stack up after the SIGKILL at ${at_ms} ms" \
		    "$(head -n 3 "$WORK/$sc.start" | tr '\n' '|')"
		# Try on (bounded), so that the rest can still be checked.
		j=0
		while [ "$j" -lt 5 ] && ! "$CTL" status >/dev/null 2>&1; do
			sleep 0.5
			timeout 60 "$CTL" start >>"$WORK/$sc.start" 2>&1
			j=$((j + 1))
		done
		if ! "$CTL" status >/dev/null 2>&1; then
			notok "$sc: the stack comes up at all (crash loop aborted)" \
			    "$("$CTL" status 2>&1 | tr '\n' '|')"
			kill "$lgpid" 2>/dev/null
			wait "$lgpid"
			break
		fi
		echo "    (up after $j more hookpipectl start)"
	fi
	wait "$lgpid"
	sed 's/^/    /' "$WORK/$sc.lgerr"
	if [ "$have_mdb_stat" = 1 ]; then
		stale=$(stale_readers)
		if [ -n "$stale" ]; then
			# The stages clear them at open and every second.
			sleep 1.5
			stale=$(stale_readers)
		fi
		check "$sc: no stale reader in the LMDB reader table" \
		    "dead pids still registered: $stale" \
		    test -z "$stale"
	fi
done

say "$LOOPS crashes done; waiting for the runs"
wait_runs "$DRAIN" "$RUNS" $LGS
sleep 1
echo
python3 "$CHAOS_DIR/check.py" report "$MANIFEST" "$RUNS" "$CHECKS" \
    $((CONC * LOOPS))
echo
check "stack healthy at the end (/healthz 200)" \
    "healthz: $(curl -s -m 2 "$TRIGGER_URL/healthz")" wait_healthy 10
if ! out=$(unexpected_exits); then
	notok "no stage exited on its own (only our SIGKILLs)" "$out"
else
	ok "no stage exited on its own (only our SIGKILLs)"
fi
if [ "$have_mdb_stat" = 1 ]; then
	stop_stack
	bad=0
	: >"$WORK/mdb_stat.txt"
	for part in $PARTS; do
		mdb_stat -a "$HOOKPIPE_HOME/db/$part" >>"$WORK/mdb_stat.txt" \
		    2>&1 || bad=1
	done
	if [ "$bad" = 0 ]; then
		ok "mdb_stat reads every database after $LOOPS crashes ($(grep -c '^Status of' "$WORK/mdb_stat.txt") databases)"
	else
		notok "mdb_stat reads every database after $LOOPS crashes" \
		    "$(tail -n 3 "$WORK/mdb_stat.txt" | tr '\n' '|')"
	fi
fi
say "elapsed $(( $(date +%s) - t_start )) s"
tally
