#!/usr/bin/env bash
# Every process that writes the database syncs its commits: the router
# and the dispatcher share the environment that holds acknowledged
# events, and an unsynced commit (LMDB's MDB_NOSYNC) of any writer can
# corrupt it on an OS crash. Traced with strace while an event is routed
# and run: every write to data.mdb is synced before the stage waits for
# more work (a sync on a timer, later, is not enough).
. "$(dirname "$0")/lib.sh"

if ! command -v strace >/dev/null 2>&1; then
	skip "strace is not installed"
	finish
fi
start_stack
new_sub dur
new_workflow wf dur batch.completed "$T_DIR/runs"
for s in router dispatcher; do
	strace -f -qq -y -e trace=pwrite64,pwritev,pwritev2,fdatasync,fsync,msync,poll,ppoll,epoll_wait \
	    -o "$T_DIR/$s.trace" -p "$(cat "$HOOKPIPE_HOME/run/$s.pid")" \
	    2>/dev/null &
	BG_PIDS+=($!)
done
sleep 1
if [ "$(awk '/TracerPid/ { print $2 }' "/proc/$(cat "$HOOKPIPE_HOME/run/router.pid")/status")" = 0 ]; then
	skip "cannot trace the stages here (ptrace not permitted)"
	finish
fi
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery" 200
check "it ran" wait_for 15 has_runs "$T_DIR/runs" 1
sleep 1.5
for p in "${BG_PIDS[@]}"; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
BG_PIDS=()

# unsynced TRACE: writes to data.mdb, and the groups of them (between
# two waits of a thread) without a sync. LMDB syncs the data pages, then
# writes the meta page through a descriptor opened O_DSYNC; with
# MDB_NOSYNC it writes both and syncs nothing.
unsynced() {
	python3 - "$1" <<'PY'
import re, sys
dirty, synced = {}, {}
bad = writes = 0
for line in open(sys.argv[1]):
    m = re.match(r"(\d+)\s+(\w+)\(", line)
    if not m:
        continue
    tid, call = m.groups()
    if call.startswith("pwrite") and "data.mdb" in line:
        dirty[tid] = True
        writes += 1
    elif call in ("fdatasync", "fsync", "msync"):
        synced[tid] = True
    elif call in ("poll", "ppoll", "epoll_wait"):
        if dirty.get(tid) and not synced.get(tid):
            bad += 1
        dirty[tid] = synced[tid] = False
print("%d %d" % (writes, bad))
PY
}
for s in router dispatcher; do
	read -r w bad < <(unsynced "$T_DIR/$s.trace")
	check "the $s wrote ($w writes)" test "$w" -ge 1
	assert_eq "the $s synced each commit before waiting again" 0 "$bad"
done
finish
