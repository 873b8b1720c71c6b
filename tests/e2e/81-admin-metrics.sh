#!/usr/bin/env bash
# /metrics on the admin listener: every stage's counters in one valid
# Prometheus text exposition (# HELP, # TYPE, histograms), parsed by
# promtool when it is installed (Debian's prometheus package) and by a
# strict reading of the format here in any case.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub m1
sub=$SUB_ID
new_workflow ok "$sub" batch.completed "$T_DIR/ok"
hookpipe workflow create bad --exec 'exit 3' --retries 0 >/dev/null
hookpipe workflow trigger bad --sub "$sub" --event batch.completed >/dev/null
hookpipe workflow publish bad >/dev/null

deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery" 200
id=$MSG_ID
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)" "$id"
assert_status "the same delivery again" 200
deliver "$sub" wrong-secret "$(payload batch.completed)"
assert_status "a forged delivery" 401
wait_for 10 has_runs "$T_DIR/ok" 1
wait_for 10 sh -c 'hookpipe runs --workflow bad --status dead --json | grep -q dead'

scrape() {
	curl -s -m 20 -H "Authorization: Bearer $(cat "$HOOKPIPE_HOME/admin.token")" \
	    "$ADMIN/metrics" >"$T_DIR/metrics"
}
value() {
	awk -v m="$1" '$1 == m { print $2 }' "$T_DIR/metrics"
}
# The dead run's counter is written after the run: wait for it.
# shellcheck disable=SC2317 # called by wait_for, check
dead_counted() {
	scrape
	[ "$(value 'hookpipe_runs_total{workflow="bad",status="dead"}')" = 1 ]
}
wait_for 10 dead_counted
scrape

assert_eq "deliveries by subscription and status: 200" 2 \
    "$(value "hookpipe_deliveries_total{subscription=\"$sub\",status=\"200\"}")"
assert_eq "deliveries by subscription and status: 401" 1 \
    "$(value "hookpipe_deliveries_total{subscription=\"$sub\",status=\"401\"}")"
assert_eq "events stored" 1 "$(value 'hookpipe_events_total{result="stored"}')"
assert_eq "events duplicate" 1 "$(value 'hookpipe_events_total{result="duplicate"}')"
check "verification failures by reason" \
    grep -q '^hookpipe_verification_failures_total{reason="[a-z_]*"} 1$' \
    "$T_DIR/metrics"
assert_eq "runs queued by the router" 1 \
    "$(value 'hookpipe_runs_total{workflow="ok",status="queued"}')"
assert_eq "runs succeeded" 1 \
    "$(value 'hookpipe_runs_total{workflow="ok",status="succeeded"}')"
assert_eq "runs dead" 1 "$(value 'hookpipe_runs_total{workflow="bad",status="dead"}')"
assert_eq "attempts failed" 1 \
    "$(value 'hookpipe_attempts_total{workflow="bad",result="failed"}')"
assert_eq "request -> 2xx histogram: every 2xx counted" 2 \
    "$(value 'hookpipe_receive_seconds_count')"
assert_eq "its +Inf bucket is its count" 2 \
    "$(value 'hookpipe_receive_seconds_bucket{le="+Inf"}')"
assert_eq "request -> action histogram: both runs" 2 \
    "$(value 'hookpipe_action_start_seconds_count')"
for s in receiver verifier router dispatcher admin; do
	assert_eq "stage up: $s" 1 "$(value "hookpipe_stage_up{stage=\"$s\"}")"
done
for q in spool unrouted due; do
	check "queue depth: $q" grep -q "^hookpipe_queue_depth{queue=\"$q\"} [0-9]" \
	    "$T_DIR/metrics"
done
for p in config events runs spool; do
	check "map use of the $p part" test "$(value \
	    "hookpipe_db_map_used_bytes{part=\"$p\"}")" -gt 0
	check "map size of the $p part" test "$(value \
	    "hookpipe_db_map_size_bytes{part=\"$p\"}")" -gt 0
done
check "the admin stage counts its own requests" \
    grep -q '^hookpipe_admin_requests_total{status="200"} [1-9]' "$T_DIR/metrics"

# Every family has its HELP and TYPE before its samples, a histogram's
# buckets are cumulative, and every line is of the format.
check "the exposition is well-formed" python3 - "$T_DIR/metrics" <<'EOF'
import re, sys
help_, type_, seen = {}, {}, []
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*)\})? (-?[0-9.e+]+|\+Inf|NaN)$')
last = {}
for ln in open(sys.argv[1]).read().splitlines():
    if ln.startswith('# HELP '):
        n = ln.split()[2]; help_[n] = 1; continue
    if ln.startswith('# TYPE '):
        _, _, n, t = ln.split()
        assert n in help_, 'TYPE before HELP: ' + n
        assert t in ('counter', 'gauge', 'histogram'), ln
        type_[n] = t; continue
    m = line_re.match(ln)
    assert m, 'bad line: ' + ln
    name = m.group(1)
    fam = re.sub(r'_(bucket|sum|count)$', '', name) if name not in type_ else name
    assert fam in type_, 'no TYPE for ' + name
    if name.endswith('_bucket'):
        v = float(m.group(7))
        assert v >= last.get(fam, 0), 'buckets not cumulative: ' + ln
        last[fam] = v
sys.exit(0)
EOF

if command -v promtool >/dev/null 2>&1; then
	check "promtool check metrics accepts it" sh -c \
	    "promtool check metrics <'$T_DIR/metrics' >'$T_DIR/promtool' 2>&1"
	[ "$T_FAIL" -gt 0 ] && sed 's/^/#   /' "$T_DIR/promtool"
else
	skip "promtool is not installed (Debian: prometheus)"
fi

# A queue that fills: the spool while the verifier is away.
hookpipectl stop verifier >/dev/null
deliver "$sub" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery while the verifier is away is spooled" 202
# shellcheck disable=SC2317 # called by wait_for, check
spooled() {
	scrape
	[ "$(value 'hookpipe_queue_depth{queue="spool"}')" = 1 ]
}
wait_for 10 spooled
assert_eq "the spool's depth shows it" 1 \
    "$(value 'hookpipe_queue_depth{queue="spool"}')"
assert_eq "the verifier is down" 0 "$(value 'hookpipe_stage_up{stage="verifier"}')"
hookpipectl start >/dev/null
# shellcheck disable=SC2317 # called by wait_for, check
drained() {
	scrape
	[ "$(value 'hookpipe_queue_depth{queue="spool"}')" = 0 ]
}
wait_for 20 drained
assert_eq "and drains once it is back" 0 \
    "$(value 'hookpipe_queue_depth{queue="spool"}')"

post GET "$BASE/metrics" ""
assert_status "the public port has no /metrics" 404
finish
