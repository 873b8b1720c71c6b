#!/usr/bin/env bash
# Every robustness test in turn (make test-chaos): restarts, kills and
# swaps under load (run.sh), crash consistency (crash.sh) twice: every
# process, then the router and the dispatcher alone (crash-rd); hostile
# input (hostile.sh), backpressure (backpressure.sh). Each starts its own
# stack in a scratch HOOKPIPE_HOME on a free port. CHAOS_TESTS="run crash" picks
# some. Ends with the sum of their checks: "N passed, N failed".
set -u
dir=$(cd "$(dirname "$0")" && pwd)
tests=${CHAOS_TESTS:-run crash crash-rd hostile backpressure}
passed=0
failed=0
summary=
for t in $tests; do
	echo "=== tests/chaos/$t.sh"
	t0=$SECONDS
	out=$(mktemp)
	case $t in
	# The router and the dispatcher alone, killed mid-batch.
	crash-rd) CHAOS_CRASH_STAGES="router dispatcher" \
	    CHAOS_CRASH_LOOPS=${CHAOS_CRASH_LOOPS:-6} \
	    bash "$dir/crash.sh" 2>&1 | tee "$out" ;;
	*) bash "$dir/$t.sh" 2>&1 | tee "$out" ;;
	esac
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		# It stopped before counting (setup failed): one failure.
		line="0 passed, 1 failed"
	fi
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed}
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	summary="$summary$(printf '%-14s %s (exit %s, %ss)' "$t.sh" "$line" "$rc" \
	    $((SECONDS - t0)))
"
	echo
done
echo "=== summary"
printf '%s' "$summary"
echo
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
