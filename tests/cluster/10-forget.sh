#!/usr/bin/env bash
# Cluster mode, a host gone for good: a host that claimed an event's run
# and died before acknowledging the event holds it; the router that gets
# the event says it waits for that host, which is down; `hookpipe
# cluster forget HOST` (refused while HOST is up) lets the router take
# the claim over and run the event once; a forgotten host's router
# refuses to start with its state directory until `forget --undo`.
#
# The dead host's claim is written into hookpipe_runs by hand, as it
# would have left it: the run id computed here from the event (SHA-256
# of "EVENT\nWORKSPACE/WORKFLOW", the first 48 bits the time it was
# received, in ms, UUID version 8), published with NATS's own protocol.
. "$(dirname "$0")/lib.sh"

cluster_init
start_stack
new_sub fg
RAN=$T_DIR/ran
ran_workflow w "$RAN"

# The router stopped: the event waits in the consumer, unclaimed.
hookpipectl stop router >/dev/null 2>&1
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed "$T_DIR/p.json")"
assert_status "a delivery, the router stopped" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
at=$(hookpipe event show "$ev" --json | json 'd["received_at"]')
rid=$(python3 - "$ev" default w "$at" <<'EOF'
import datetime, hashlib, sys
ev, ws, wf, at = sys.argv[1:]
t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc)
ms = (int(t.timestamp()) * 1000000 + t.microsecond) // 1000
u = bytearray(hashlib.sha256(("%s\n%s/%s" % (ev, ws, wf)).encode()).digest()[:16])
u[0:6] = ms.to_bytes(6, "big")
u[6] = 0x80 | (u[6] & 0x0f)
u[8] = 0x80 | (u[8] & 0x3f)
h = u.hex()
print("%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]))
EOF
)
GONE="gone.example:/var/lib/hookpipe"
# The claim, as the dead host left it.
python3 - "${NATS_PORT[1]}" "\$KV.hookpipe_runs.r.$rid" "$GONE" <<'EOF'
import socket, sys
port, subj, val = sys.argv[1], sys.argv[2], sys.argv[3].encode()
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
f = s.makefile("rb")
f.readline()	# INFO
s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n' +
    b"PUB %s %d\r\n%s\r\nPING\r\n" % (subj.encode(), len(val), val))
while True:
    line = f.readline()
    if not line or line.startswith(b"-ERR"):
        sys.exit("nats: %r" % line)
    if line.startswith(b"PONG"):
        break
EOF
assert_eq "the dead host's claim written" 0 "$?"

hookpipectl start >/dev/null 2>&1
check "the router says the event waits for the host that is down" \
    wait_for 30 grep -q "event $ev waits for host $GONE, which claimed its run $rid and is down" \
    "$HOOKPIPE_HOME/log/router.log"
sleep 2
assert_eq "and does not run it" "" "$(grep -c "$ev" "$RAN" 2>/dev/null | grep -v '^0$')"

self=$(hookpipe cluster status --json | json 'd["hosts"][0]["host"]')
out=$(hookpipe cluster forget "$self" 2>&1)
assert_eq "forget of a host that is up: exit 1" 1 "$?"
assert_contains "it says the host is up" "is up (its admin stage said so" "$out"
out=$(hookpipe cluster forget 2>&1)
assert_eq "forget without a host: exit 2" 2 "$?"

out=$(hookpipe cluster forget "$GONE" 2>&1)
assert_eq "hookpipe cluster forget HOST: exit 0" 0 "$?"
assert_contains "it says what follows" "forgotten: $GONE" "$out"
out=$(hookpipe cluster status 2>&1)
assert_contains "cluster status lists it forgotten" "forgotten: $GONE, at " "$out"
check "the router takes the claim over and runs the event" \
    wait_for 30 grep -q "$ev" "$RAN"
check "the router's log says so" grep -q \
    "run $rid: claim of forgotten host $GONE taken over" \
    "$HOOKPIPE_HOME/log/router.log"
assert_eq "the run is the one the dead host claimed" "$rid" \
    "$(hookpipe run show "$rid" --json 2>/dev/null | json 'd["id"]')"
sleep 2
assert_eq "it ran once" 1 "$(grep -c "$ev" "$RAN")"
out=$(hookpipe --json cluster forget --undo "$GONE")
assert_eq "forget --undo, --json" "False" "$(json 'str(d["forgotten"])' <<<"$out")"
assert_eq "cluster status: nothing forgotten any more" 0 \
    "$(hookpipe cluster status --json | json 'len(d["forgotten"])')"

# This host forgotten while it is stopped: its router refuses to start.
stop_stack
out=$(hookpipe cluster forget "$self" 2>&1)
assert_eq "this host stopped: forget it, exit 0" 0 "$?"
hookpipectl start >/dev/null 2>&1
check "its router refuses to start, saying why" wait_for 30 grep -q \
    "this host ($self) was forgotten at" "$HOOKPIPE_HOME/log/router.log"
sleep 3
assert_eq "and exits 100: not started again" 1 \
    "$(grep -c "this host ($self) was forgotten at" "$HOOKPIPE_HOME/log/router.log")"
stop_stack
hookpipe cluster forget --undo "$self" >/dev/null
check "forget --undo: the stack starts again" hookpipectl start
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed "$T_DIR/p2.json")"
ev2=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "and runs events" wait_for 30 grep -q "$ev2" "$RAN"

# A backlog through slow filters: the router's batches hold at most 64
# workflows with programs, so what it fetched waits for its next pass,
# held (not given back as if its event were missing here), and each
# event is routed once.
for w in 1 2 3 4; do
	hookpipe workflow create "slow$w" --exec true >/dev/null
	hookpipe workflow trigger "slow$w" --sub "$SUB_ID" \
	    --event batch.completed \
	    --filter "[range(300000)] | length < $w" >/dev/null
	hookpipe workflow publish "slow$w" >/dev/null
done
hookpipectl stop router >/dev/null 2>&1
: >"$HOOKPIPE_HOME/log/router.log"
n=0
for _ in $(seq 1 100); do
	deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed "$T_DIR/p3.json")"
	[ "$HTTP_STATUS" = 200 ] && n=$((n + 1))
done
assert_eq "100 deliveries with the router stopped: 200" 100 "$n"
hookpipectl start >/dev/null 2>&1
# The backlog takes 20 to 40 s here, longer on a busy machine: the wait
# fails when 60 s pass with no run, not at a fixed time.
ran_now() {
	sort -u "$RAN" | wc -l
}
check "every one runs workflow w, through the slow filters" \
    wait_progress 102 60 runs ran_now
assert_eq "none twice" "" "$(sort "$RAN" | uniq -d)"
assert_eq "none given back as missing here" 0 \
    "$(grep -c "is not in this host's events database" "$HOOKPIPE_HOME/log/router.log")"

finish
