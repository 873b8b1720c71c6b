#!/usr/bin/env bash
# Hostile input against a running stack (HOOKPIPE_MAX_BODY=65536 unless
# set): slowloris, idle half-requests and slow bodies held open for
# CHAOS_SLOWLORIS_SECS (35 s, past the receiver's 30 s connection
# timeout) while header floods, huge headers, invalid UTF-8 and NUL bytes
# in headers and body, bodies past the limit (declared and chunked) and
# garbage instead of HTTP are sent (hostile.py). Each must get a 4xx or be
# closed; meanwhile and after, a normal signed delivery gets 200 and
# /healthz 200 within CHAOS_PROBE_LIMIT (2 s). Within the same window,
# more half-requests from one address than HOOKPIPE_CONN_PER_CLIENT
# allows, and unfinished bodies past HOOKPIPE_BODY_BUDGET: the excess
# connections are closed, the receiver holds no more than its budget, and
# what does not fit gets 503 with Retry-After. The attacker's connections
# come from 127.0.2.1 and up, the probes from 127.0.0.1. Then: no stage
# died or was restarted, stored data still reads (hookpipe events
# --json), every normal delivery that got 200 ran.
#
# Ends with "N passed, N failed"; exits 1 on any failed check.
set -u
. "$(dirname "$0")/lib.sh"

export HOOKPIPE_MAX_BODY=${HOOKPIPE_MAX_BODY:-65536}
setup_env
t_start=$(date +%s)
start_stack
RUNS=$WORK/runs.txt
: >"$RUNS"
make_pipeline hostile "$(write_action "$RUNS" 0)"
before=
for s in $STAGES; do before="$before $s=$(stage_pid "$s")"; done
say "subscription $SUB_ID; HOOKPIPE_MAX_BODY=$HOOKPIPE_MAX_BODY; stages:$before"

export CHAOS_OK_IDS=$WORK/ok.ids
: >"$CHAOS_OK_IDS"
timeout $(( ${CHAOS_SLOWLORIS_SECS:-35} + 240 )) python3 "$CHAOS_DIR/hostile.py" \
    127.0.0.1 "$PORT" "$SUB_ID" "$SECRET" "$HOOKPIPE_MAX_BODY" "$CHECKS"
rc=$?
[ "$rc" = 0 ] || notok "hostile.py ran to the end" "exit status $rc"

after=
for s in $STAGES; do after="$after $s=$(stage_pid "$s")"; done
check "no stage died or was restarted (pids$before)" "now:$after" \
    test "$before" = "$after"
if ! out=$(unexpected_exits); then
	notok "no stage exited" "$out"
else
	ok "no stage exited"
fi
for s in $STAGES; do
	p=$(stage_pid "$s")
	alive "$p" && printf '    %-10s VmHWM %s kB  VmRSS %s kB  fds %s\n' "$s" \
	    "$(vm_field "$p" VmHWM)" "$(vm_field "$p" VmRSS)" \
	    "$(ls "/proc/$p/fd" 2>/dev/null | wc -l)"
done
if "$HP" events --json --limit 100000 >"$WORK/events.json" 2>"$WORK/events.err" &&
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/events.json" 2>>"$WORK/events.err"; then
	ok "stored data still reads: hookpipe events --json ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/events.json") events)"
else
	notok "stored data still reads: hookpipe events --json" "$(head -c 300 "$WORK/events.err")"
fi
# Every normal delivery that got 200 ran.
missing=
i=0
while [ "$i" -lt 120 ]; do
	missing=$(grep -vxF -f <(cut -d' ' -f1 "$RUNS") "$CHAOS_OK_IDS")
	[ -z "$missing" ] && break
	sleep 0.25
	i=$((i + 1))
done
check "every normal delivery answered 200 ran ($(wc -l <"$CHAOS_OK_IDS") of them)" \
    "missing: $(echo $missing | head -c 300)" test -z "$missing"
strays=$(cut -d' ' -f1 "$RUNS" | grep -vE '^evt_(hostile_ok|utf8hdr|nulhdr)_' | sort -u)
check "nothing hostile ran (only normal deliveries and validly signed odd headers; a NUL header has its own check)" \
    "ran: $(echo $strays | head -c 300)" test -z "$strays"
say "elapsed $(( $(date +%s) - t_start )) s"
tally
