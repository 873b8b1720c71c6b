#!/usr/bin/env bash
# Backpressure: a dispatcher that cannot keep up (a slow action, two runs
# at a time) must neither slow the receiver nor grow without bound: the
# runs wait on disk.
#
# Baseline: CHAOS_BP_EVENTS (2000) events at CHAOS_BP_RATE (400/s) for a
# subscription whose workflow is a draft (stored and routed, nothing to
# run). Then the same for a subscription whose published workflow sleeps
# CHAOS_BP_SLEEP (1 s) per run, with HOOKPIPE_CONCURRENCY=2: the
# dispatcher falls ~2000 runs behind. Reported: the receiver's time per
# request in both phases and their ratio (not asserted: timings on a
# shared machine), VmHWM and VmRSS of every stage after each phase, the
# dispatcher's RSS sampled during the slow phase, the backlog at the end.
# Checked: every delivery of both phases got 200 (no 503, no 202: the
# dispatcher's backlog is not the receiver's problem), the dispatcher kept
# running, its anonymous memory (RssAnon: VmRSS also counts the pages of
# the shared LMDB map it touched) grew by less than CHAOS_BP_RSS_SLACK_KB
# (32768) over the slow phase, the backlog is real (most slow runs still to come) and
# on disk (every slow event stored; queued runs listed by hookpipe runs).
# The stack is then stopped with its backlog (the time it takes is shown).
#
# Ends with "N passed, N failed"; exits 1 on any failed check.
set -u
. "$(dirname "$0")/lib.sh"

EVENTS=${CHAOS_BP_EVENTS:-2000}
RATE=${CHAOS_BP_RATE:-400}
NAP=${CHAOS_BP_SLEEP:-1}
SLACK=${CHAOS_BP_RSS_SLACK_KB:-32768}
export HOOKPIPE_CONCURRENCY=${HOOKPIPE_CONCURRENCY:-2}

setup_env
t_start=$(date +%s)
start_stack
RUNS=$WORK/runs.txt
: >"$RUNS"
act=$(write_action "$RUNS" "$NAP")

# Baseline: a draft workflow on its own subscription.
make_pipeline bpbase "$act"
BASE_SUB=$SUB_ID BASE_SECRET=$SECRET
"$HP" workflow unpublish bpbase-wf >/dev/null 2>&1 ||
    echo "NOTE: workflow unpublish failed; the baseline workflow stays published"
make_pipeline bpslow "$act"
SLOW_SUB=$SUB_ID SLOW_SECRET=$SECRET

report_mem() {	# report_mem LABEL
	local s p
	for s in $STAGES; do
		p=$(stage_pid "$s")
		printf '    %-8s %-10s VmHWM %7s kB  VmRSS %7s kB  (RssAnon %6s kB, RssFile+Shmem %6s kB: LMDB map pages)\n' \
		    "$1" "$s" "$(vm_field "$p" VmHWM)" "$(vm_field "$p" VmRSS)" \
		    "$(vm_field "$p" RssAnon)" \
		    "$(( $(vm_field "$p" RssFile) + $(vm_field "$p" RssShmem) ))"
	done
}

phase() {	# phase NAME SUB SECRET
	"$LG" --url "$TRIGGER_URL" --sub "$2" --secret "$3" -n "$EVENTS" \
	    -r "$RATE" -c 4 --prefix "evt_bp$1_" --deadline 120 \
	    --out "$WORK/$1.lg" --stats "$WORK/$1.stats" 2>"$WORK/$1.lgerr"
	sed 's/^/    /' "$WORK/$1.lgerr"
}

stat_of() { sed -n "s/^$2=//p" "$WORK/$1.stats"; }

say "baseline: $EVENTS events at ${RATE}/s, nothing to run"
phase base "$BASE_SUB" "$BASE_SECRET"
sleep 1
report_mem baseline
dpid=$(stage_pid dispatcher)
rss0=$(vm_field "$dpid" VmRSS)
anon0=$(vm_field "$dpid" RssAnon)

say "slow: $EVENTS events at ${RATE}/s, each run sleeps ${NAP}s, HOOKPIPE_CONCURRENCY=$HOOKPIPE_CONCURRENCY"
samples=$WORK/dispatcher-rss
: >"$samples"
(
	while :; do
		r=$(vm_field "$dpid" VmRSS) || break
		a=$(vm_field "$dpid" RssAnon)
		[ -n "$r" ] || break
		echo "$r/$a" >>"$samples"
		sleep 0.5
	done
) &
sampler=$!
bg_pids="$bg_pids $sampler"
phase slow "$SLOW_SUB" "$SLOW_SECRET"
sleep 2
kill "$sampler" 2>/dev/null
report_mem slow
rss1=$(vm_field "$dpid" VmRSS)
anon1=$(vm_field "$dpid" RssAnon)
echo "    dispatcher VmRSS/RssAnon samples (kB) every 0.5 s of the slow phase: $(tr '\n' ' ' <"$samples" | head -c 700)"

b_mean=$(stat_of base lat_mean_ms) s_mean=$(stat_of slow lat_mean_ms)
b_p99=$(stat_of base lat_p99_ms) s_p99=$(stat_of slow lat_p99_ms)
python3 - "$b_mean" "$s_mean" "$b_p99" "$s_p99" <<'EOF'
import sys
bm, sm, bp, sp = map(float, sys.argv[1:])
r = lambda a, b: "%.2f" % (b / a) if a > 0 else "n/a"
print("    receiver time per request: baseline mean %.2f ms p99 %.0f ms; "
      "slow dispatcher mean %.2f ms p99 %.0f ms; ratio mean %s, p99 %s"
      % (bm, bp, sm, sp, r(bm, sm), r(bp, sp)))
EOF

for ph in base slow; do
	n2=$(stat_of $ph answered_2xx)
	n5=$(stat_of $ph seen_5xx)
	ce=$(stat_of $ph conn_errors)
	n202=$(awk '$2 == 202' "$WORK/$ph.lg" | wc -l)
	check "$ph phase: all $EVENTS deliveries answered 2xx ($n2), no 5xx ($n5), no connection error ($ce)" \
	    "see $WORK/$ph.lgerr" test "$n2" = "$EVENTS" -a "$n5" = 0 -a "$ce" = 0
	check "$ph phase: no 202 (the verifier was up; $n202 got 202)" \
	    "grep 'verifier away' $HOOKPIPE_HOME/log/receiver.log" test "$n202" = 0
done
check "the dispatcher kept running (pid $dpid)" "$(tail -n 5 "$HOOKPIPE_HOME/log/dispatcher.log" | tr '\n' '|')" \
    alive "$dpid"
grow=$(( ${anon1:-0} - ${anon0:-0} ))
check "dispatcher memory bounded: RssAnon ${anon0} kB before the slow phase, ${anon1} kB after (grew ${grow} kB, limit ${SLACK}); VmRSS ${rss0} -> ${rss1} kB" \
    "samples (VmRSS/RssAnon) in $samples" test "$grow" -lt "$SLACK"
ran=$(grep -c '^evt_bpslow_' "$RUNS")
ranbase=$(grep -c '^evt_bpbase_' "$RUNS")
echo "    runs done by now: $ran of $EVENTS slow events (backlog $((EVENTS - ran))); baseline runs: $ranbase"
check "the backlog waits: most slow runs are still to come ($ran of $EVENTS ran)" \
    "the slow action did not hold the dispatcher back?" test "$ran" -lt "$((EVENTS / 2))"
if "$HP" events --sub bpslow --limit 100000 --json >"$WORK/events.json" 2>"$WORK/events.err"; then
	ne=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/events.json")
	check "the backlog is on disk: all $EVENTS slow events stored ($ne)" "" test "$ne" = "$EVENTS"
else
	notok "hookpipe events --sub bpslow --json works" "$(head -c 300 "$WORK/events.err")"
fi
if "$HP" runs --status queued --limit 100000 --json >"$WORK/queued.json" 2>"$WORK/queued.err"; then
	q=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/queued.json")
	echo "    hookpipe runs --status queued: $q runs waiting"
	check "queued runs are listed (hookpipe runs --status queued: $q)" "" test "$q" -gt 0
else
	notok "hookpipe runs --status queued --json works" "$(head -c 300 "$WORK/queued.err")"
fi
# Stop: running attempts get the stop grace, the rest stays queued.
t0=$(date +%s%N)
stop_stack
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "    hookpipectl stop took $ms ms with a backlog"
check "no stage exited on its own" "$(unexpected_exits)" unexpected_exits
say "elapsed $(( $(date +%s) - t_start )) s"
tally
