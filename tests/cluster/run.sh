#!/usr/bin/env bash
# Runs the cluster tests (tests/cluster/NN-*.sh), each with its own NATS
# cluster and hookpipe hosts in a scratch directory, and ends with the
# line "N passed, N failed".
#
#   bash tests/cluster/run.sh [PATTERN]
set -u
cd "$(dirname "$0")" || exit 1
pass=0
fail=0
for t in [0-9][0-9]-*.sh; do
	case $t in *"${1:-}"*) ;; *) continue ;; esac
	out=$(mktemp)
	timeout 600 bash "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t exited with status $rc"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	rm -f "$out"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
