#!/usr/bin/env bash
# Runs every test of hookpipe: the unit test binaries (build/tests/test_*),
# then the end-to-end scripts (tests/e2e/NN-*.sh), each against the real
# stack in its own scratch HOOKPIPE_HOME on its own port. Counts the
# checks of all of them and ends with the line "N passed, N failed".
#
#   bash tests/run.sh [PATTERN]    only the e2e scripts whose name matches
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=python.sh
. tests/python.sh
# shellcheck source=leftovers.sh
. tests/leftovers.sh
pattern=${1:-}

pass=0
fail=0
skipped=0
failed_names=()

free_port() {
	python3 "tests/free-port.py"
}

# Adds up the checks in a test's output. A test that exited non-zero
# without a failing check (a crash, a timeout) counts as one failure.
tally() {
	local name=$1 rc=$2 out=$3 p=0 f=0 s=0
	case $name in
	test_*)
		# The unit harness ends with "NAME: N passed, N failed".
		local last
		last=$(grep -E '^[A-Za-z0-9_]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
		if [ -n "$last" ]; then
			p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$last")
			f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$last")
		fi
		;;
	*)
		s=$(grep -c '^ok - # skip' "$out")
		p=$(($(grep -c '^ok - ' "$out") - s))
		f=$(grep -c '^not ok - ' "$out")
		;;
	esac
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failed_names+=("$name")
}

# Seconds a script may take: 300, or what a "# timeout: N" line among its
# first 20 says (for scripts whose size grows with the catalogue).
script_timeout() {
	local n
	n=$(head -n 20 "$1" | sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' | head -n 1)
	echo "${n:-300}"
}

out=$(mktemp /tmp/hookpipe-test.XXXXXX)
trap 'rm -f "$out"' EXIT

if [ -z "$pattern" ]; then
	found=0
	for t in "${HOOKPIPE_UNIT:-build/tests}"/test_*; do
		[ -x "$t" ] || continue
		found=1
		name=$(basename "$t")
		echo "# $name"
		# Unit tests find ../shared/vectors relative to the repo root.
		timeout 120 "$t" >"$out" 2>&1
		rc=$?
		cat "$out"
		tally "$name" "$rc" "$out"
	done
	if [ "$found" = 0 ]; then
		echo "not ok - no unit test binaries in build/tests (run make unit)"
		fail=$((fail + 1))
	fi
fi

# run_script SCRIPT OUT: one e2e script against its own stack, in its own
# scratch HOOKPIPE_HOME on its own port; its output in OUT, its exit
# status in OUT.rc.
run_script() {
	local t=$1 o=$2 home port start=$SECONDS
	home=$(mktemp -d /tmp/hp.XXXXXX)
	port=$(free_port)
	HOOKPIPE_HOME=$home HOOKPIPE_LISTEN=127.0.0.1:$port \
	    TRIGGER_URL=http://127.0.0.1:$port \
	    HOOKPIPE_RETRY_SCHEDULE=0.2,0.2,0.2 \
	    timeout -k 5 "$(script_timeout "$t")" bash "$t" >"$o" 2>&1 </dev/null
	echo $? >"$o.rc"
	echo $((SECONDS - start)) >"$o.time"
	# The script cleans up after itself; this catches a script that was
	# killed by the timeout.
	HOOKPIPE_HOME=$home bin/hookpipectl stop >/dev/null 2>&1
	kill_leftovers "$home"
	rm -rf "$home"
}

# Scripts that say "# lane: side" among their first 20 lines (long, and
# not sensitive to timing: the catalogue, the browser, packaging) run
# one after another beside the others, which run one after another too;
# their outputs are shown at the end.
side=()
main=()
for t in tests/e2e/[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	case $name in
	*"$pattern"*) ;;
	*) continue ;;
	esac
	if head -n 20 "$t" | grep -qx '# lane: side'; then
		# HOOKPIPE_TEST_LANES=main: the others only (the sanitized
		# run: these exercise the providers' libraries, a browser and
		# packaging more than the C code).
		[ "${HOOKPIPE_TEST_LANES:-all}" = main ] && continue
		side+=("$t")
	else
		main+=("$t")
	fi
done
# HOOKPIPE_TEST_JOBS=N (1) runs the other scripts in N lanes side by
# side, each lane taking the next script of the list when it is done with
# one, so that a long script does not hold back a lane's share: lane 0 in
# the foreground, the rest in the background (shown at the end, as the
# side lane is). Each script has its own home and port; none asserts a
# time, so sharing the CPU costs only speed.
jobs=${HOOKPIPE_TEST_JOBS:-1}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac

sidedir=$(mktemp -d /tmp/hookpipe-side.XXXXXX)
trap 'rm -f "$out" "$out.rc" "$out.time"; rm -rf "$sidedir"' EXIT
echo 0 >"$sidedir/next"
# take: the next script of the list on stdout; fails when none is left.
take() {
	local i
	i=$(flock "$sidedir/next" sh -c 'read -r i <"$1"; echo $((i + 1)) >"$1"
	    echo "$i"' sh "$sidedir/next")
	[ "$i" -lt "${#main[@]}" ] && echo "${main[i]}"
}
lane_pids=()
for ((k = 1; k < jobs; k++)); do
	(
		while t=$(take); do
			echo "$t" >>"$sidedir/lane.$k"
			run_script "$t" "$sidedir/$(basename "$t" .sh)"
		done
	) &
	lane_pids+=($!)
done
if [ "${#side[@]}" -gt 0 ]; then
	(
		for t in "${side[@]}"; do
			echo "$t" >>"$sidedir/lane.side"
			run_script "$t" "$sidedir/$(basename "$t" .sh)"
		done
	) &
	lane_pids+=($!)
fi
while t=$(take); do
	name=$(basename "$t" .sh)
	echo "# $name"
	run_script "$t" "$out"
	cat "$out"
	echo "# $name took $(cat "$out.time")s"
	tally "$name" "$(cat "$out.rc")" "$out"
done
for p in "${lane_pids[@]}"; do
	wait "$p"
done
for l in "$sidedir"/lane.*; do
	[ -f "$l" ] || continue
	while read -r t; do
		name=$(basename "$t" .sh)
		echo "# $name"
		o=$sidedir/$name
		cat "$o" 2>/dev/null
		echo "# $name took $(cat "$o.time" 2>/dev/null)s (beside the others)"
		tally "$name" "$(cat "$o.rc" 2>/dev/null || echo 1)" "$o"
	done <"$l"
done

if [ "${#failed_names[@]}" -gt 0 ]; then
	echo "# failed: ${failed_names[*]}"
fi
[ "$skipped" -gt 0 ] && echo "# $skipped skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
