#!/usr/bin/env bash
# The receiver under resource exhaustion. An attacker on other loopback
# addresses (Linux routes all of 127/8 to lo) holds connections that never
# finish their headers, and bodies that never finish; meanwhile /healthz
# and signed deliveries from 127.0.0.1 are still served, the receiver's
# memory stays within its body budget, and what does not fit gets 503
# with Retry-After. While the verifier is away, only signed deliveries are
# spooled, and only up to HOOKPIPE_SPOOL_MAX. A HOOKPIPE_MAX_BODY that a
# message between stages cannot carry is refused at start.
PER_CLIENT=100
export HOOKPIPE_CONN_PER_CLIENT=$PER_CLIENT
export HOOKPIPE_MAX_BODY=4194304		# 4 MiB
export HOOKPIPE_BODY_BUDGET=16777216		# 16 MiB
export HOOKPIPE_SPOOL_MAX=1048576		# 1 MiB
export HOOKPIPE_VERIFY_TIMEOUT_MS=1000
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PORT=${HOOKPIPE_LISTEN##*:}
STATE=$T_DIR/attack

# The attacker: plain sockets from the standard library.
cat >"$T_DIR/attack.py" <<'EOF'
"""attack.py conns PORT FIRST_ADDR NADDR PER_ADDR STATE
    PER_ADDR connections from each of NADDR loopback addresses (from
    FIRST_ADDR up), each sending half a request, never the rest. After a
    second and a half, STATE/ready says "open N closed N"; they are held
    until STATE/done exists.
attack.py bodies PORT ADDR N SIZE PATH STATE
    N chunked POSTs to PATH from ADDR, each sending SIZE bytes of body
    and then nothing. STATE/ready says "sent N"; once STATE/done exists,
    each ends its body and STATE/result gets "STATUS RETRY-AFTER" per
    connection ("- -" when closed without an answer)."""
import os
import resource
import socket
import sys
import time


def wait_done(state):
    end = time.monotonic() + 120
    while not os.path.exists(state + "/done") and time.monotonic() < end:
        time.sleep(0.05)


def ready(state, text):
    with open(state + "/ready.tmp", "w") as f:
        f.write(text + "\n")
    os.rename(state + "/ready.tmp", state + "/ready")


def conns(port, first, naddr, per, state):
    need = naddr * per + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            ready(state, "skip: %d file descriptors needed, hard limit %d"
                  % (need, hard))
            return
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    net, last = first.rsplit(".", 1)
    socks, closed = [], 0
    for a in range(naddr):
        addr = "%s.%d" % (net, int(last) + a)
        for _ in range(per):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.bind((addr, 0))
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            except OSError:
                closed += 1
                s.close()
                continue
            s.setblocking(False)
            socks.append(s)
    time.sleep(1.5)
    n_open = 0
    for s in socks:
        try:
            s.recv(1)
            closed += 1  # the end of the stream (or an answer)
        except BlockingIOError:
            n_open += 1
        except OSError:
            closed += 1
    ready(state, "open %d closed %d" % (n_open, closed))
    wait_done(state)
    for s in socks:
        s.close()


def bodies(port, addr, n, size, path, state):
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            "\r\nTransfer-Encoding: chunked\r\n\r\n" % path).encode()
    chunk = 65536
    piece = b"%x\r\n" % chunk + b"a" * chunk + b"\r\n"
    socks, sent = [], 0
    for _ in range(n):
        s = socket.socket()
        s.settimeout(20)
        try:
            s.bind((addr, 0))
            s.connect(("127.0.0.1", port))
            s.sendall(head)
            for _ in range(size // chunk):
                s.sendall(piece)
                sent += chunk
        except OSError:
            pass
        socks.append(s)
    ready(state, "sent %d" % sent)
    wait_done(state)
    out = []
    for s in socks:
        buf = b""
        try:
            s.sendall(b"0\r\n\r\n")
            while b"\r\n\r\n" not in buf:
                b = s.recv(4096)
                if not b:
                    break
                buf += b
        except OSError:
            pass
        s.close()
        if not buf.startswith(b"HTTP/1."):
            out.append("- -")
            continue
        ra = [l.split(b":", 1)[1].strip().decode() for l in
              buf.split(b"\r\n\r\n")[0].split(b"\r\n")
              if l.lower().startswith(b"retry-after:")]
        out.append("%s %s" % (buf[9:12].decode(), ra[0] if ra else "-"))
    with open(state + "/result", "w") as f:
        f.write("\n".join(out) + "\n")


if sys.argv[1] == "conns":
    conns(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
          sys.argv[6])
else:
    bodies(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
           sys.argv[6], sys.argv[7])
EOF

# attack ARGS...: starts attack.py in the background and waits until its
# clients are in place; READY holds what it reported.
attack() {
	rm -rf "$STATE"
	mkdir -p "$STATE"
	python3 "$T_DIR/attack.py" "$1" "$PORT" "${@:2}" "$STATE" \
	    >"$T_DIR/attack.out" 2>&1 &
	ATTACK_PID=$!
	BG_PIDS+=("$ATTACK_PID")
	if ! wait_for 90 test -f "$STATE/ready"; then
		not_ok "the attacker got its clients in place" \
		    "$(cat "$T_DIR/attack.out")"
		finish
	fi
	READY=$(cat "$STATE/ready")
}

# release: the attacker lets go (or ends its bodies) and exits.
release() {
	touch "$STATE/done"
	wait "$ATTACK_PID"
}

# probe: a signed delivery that gives up after 10 s, well before the 30 s
# after which the receiver closes a connection that sent no headers.
probe() {
	local f id ts
	f=$(payload batch.completed)
	id=$(new_msg_id)
	ts=$(date +%s)
	post POST "$BASE/triggers/plugin/$sub" "$f" -m 10 -H "webhook-id: $id" \
	    -H "webhook-timestamp: $ts" \
	    -H "webhook-signature: v1,$(sign_openai "$secret" "$id" "$ts" "$f")"
	echo "# a signed delivery during the attack: $HTTP_STATUS in ${HTTP_TIME}s"
}

healthz_status() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' "$BASE/healthz"
}

metric() {
	curl -s -m 10 -H "Authorization: Bearer $(cat \
	    "$HOOKPIPE_HOME/admin.token")" "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

events_count() {
	hookpipe events --json --limit 1000 | json 'len(d)'
}

events_at_least() {
	[ "$(events_count)" -ge "$1" ]
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$RX_PID/status"
}

# big_payload BYTES FILE: an OpenAI event padded to about BYTES.
big_payload() {
	python3 -c 'import json, os, sys, time
print(json.dumps({"id": "evt_" + os.urandom(8).hex(), "object": "event",
    "type": "batch.completed", "created_at": int(time.time()),
    "data": {"id": "batch_x", "pad": "p" * int(sys.argv[1])}}), end="")' \
	    "$1" >"$2"
	echo "$2"
}

# --- limits that agree: HOOKPIPE_MAX_BODY's ceiling -------------------

mkdir -p "$T_DIR/ceil"
HOOKPIPE_HOME=$T_DIR/ceil HOOKPIPE_LISTEN=127.0.0.1:$(free_port) \
    HOOKPIPE_MAX_BODY=70000000 timeout 10 hookpipe-receiver \
    >"$T_DIR/ceil.out" 2>&1
assert_eq "HOOKPIPE_MAX_BODY over the ceiling: the receiver refuses to start (exit 100)" \
    100 "$?"
assert_contains "the message names the variable and the ceiling" \
    "HOOKPIPE_MAX_BODY=70000000: over the ceiling of 66060288" \
    "$(cat "$T_DIR/ceil.out")"

# An integration whose max_body is over the ceiling is capped to it: a
# receiver on its own, whose budget would allow more, answers 413 before
# the body.
mkdir -p "$T_DIR/ceil/integrations"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["name"] = "bigbody"
d["max_body"] = 70000000
json.dump(d, open(sys.argv[2], "w"))' "$ROOT/integrations/openai.json" \
    "$T_DIR/ceil/integrations/bigbody.json"
out=$(HOOKPIPE_HOME=$T_DIR/ceil hookpipe sub create big --integration bigbody \
    --generate-secret --json 2>&1)
big=$(json 'd["id"]' <<<"$out")
cport=$(free_port)
HOOKPIPE_HOME=$T_DIR/ceil HOOKPIPE_LISTEN=127.0.0.1:$cport \
    HOOKPIPE_BODY_BUDGET=1073741824 hookpipe-receiver >"$T_DIR/ceil.log" 2>&1 &
cpid=$!
BG_PIDS+=("$cpid")
check "a receiver on its own starts" wait_for 10 grep -q listening "$T_DIR/ceil.log"
post POST "http://127.0.0.1:$cport/triggers/plugin/$big" "" \
    -H 'Content-Length: 66060289' -m 5
assert_status "a body over the ceiling, for an integration whose max_body is over it" 413
assert_contains "the receiver logs that it capped max_body to the ceiling" \
    "max_body 70000000 is over the most a message between stages can carry; capped to 66060288 bytes" \
    "$(cat "$T_DIR/ceil.log")"
kill -TERM "$cpid"
wait "$cpid"

start_stack
RX_PID=$(cat "$HOOKPIPE_HOME/run/receiver.pid")

new_sub limits
sub=$SUB_ID
secret=$SUB_SECRET

deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "a signed delivery before any attack" 200

# --- connections ------------------------------------------------------

# One address: only HOOKPIPE_CONN_PER_CLIENT of its connections stay.
attack conns 127.0.0.2 1 300
read -r _ n_open _ n_closed <<<"$READY"
check "from one address, at most $PER_CLIENT of 300 half-requests stay open ($READY)" \
    test "$n_open" -le "$PER_CLIENT"
check "the excess from that address is refused ($READY)" \
    test "$n_closed" -ge $((300 - PER_CLIENT))
assert_eq "meanwhile /healthz from 127.0.0.1 answers" 200 "$(healthz_status)"
probe
assert_status "meanwhile a signed delivery from 127.0.0.1" 200
release

# Many addresses, more half-requests than the receiver has connections:
# the ones waiting longest for their headers make room for new ones.
attack conns 127.0.1.1 50 100
case $READY in
skip*)
	skip "5000 connections: $READY"
	release
	;;
*)
	assert_eq "with $READY half-requests from 50 addresses, /healthz answers" \
	    200 "$(healthz_status)"
	probe
	assert_status "and a signed delivery is served" 200
	ev=$(metric hookpipe_receiver_connections_evicted_total)
	check "/metrics counts the connections closed to make room ($ev)" \
	    test "${ev:-0}" -gt 0
	release
	;;
esac
assert_eq "after the connection floods, /healthz answers" 200 "$(healthz_status)"

# --- buffered bodies --------------------------------------------------

rss0=$(rss_kb)
# 40 unfinished chunked bodies of 3.5 MiB: 140 MiB if all were kept.
attack bodies 127.0.0.3 40 3670016 "/triggers/plugin/$sub"
rss1=$(rss_kb)
budget_kb=$((HOOKPIPE_BODY_BUDGET / 1024))
if grep -q libasan "/proc/$RX_PID/maps"; then
	# AddressSanitizer keeps what is freed in quarantine (256 MiB).
	skip "RSS of a receiver built with AddressSanitizer"
else
	check "40 unfinished 3.5 MiB bodies: RSS $rss0 -> $rss1 kB stays under 3 x the 16 MiB budget" \
	    test $((rss1 - rss0)) -le $((3 * budget_kb))
fi
# A gauge: the receiver sets it once a second.
body_bytes_is() {	# body_bytes_is positive|zero
	local v
	v=$(metric hookpipe_receiver_body_bytes)
	case $1 in
	positive) [ "${v:-0}" -gt 0 ] ;;
	zero) [ "${v:-x}" = 0 ] ;;
	esac
}
wait_for 5 body_bytes_is positive
held=$(metric hookpipe_receiver_body_bytes)
check "/metrics shows the bodies held ($held bytes), within the budget" \
    test "${held:-x}" -gt 0 -a "${held:-0}" -le "$HOOKPIPE_BODY_BUDGET"
assert_eq "meanwhile /healthz answers" 200 "$(healthz_status)"
probe
assert_status "meanwhile a small signed delivery is served" 200
# As large as theirs: it cannot fit where the next of theirs did not.
deliver "$sub" "$secret" "$(big_payload 3600000 "$T_DIR/big.json")"
assert_status "a signed 3.5 MiB delivery that does not fit the budget" 503
assert_contains "it says when to retry" "Retry-After:" "$HTTP_HEADERS"
release
# Two fit the budget (401 once ended: they are not signed); the others
# get 503 with Retry-After, unless, on a slow machine, their 30 s were up
# before they ended (closed without an answer).
answers=$(sort "$STATE/result" | uniq -c | tr -s ' \n' ' ')
n503=$(awk '$1 == 503 && $2 != "-"' "$STATE/result" | wc -l)
check "the unfinished bodies over the budget, once ended, got 503 with Retry-After ($n503 of 40; answers:$answers)" \
    test "$n503" -ge 10
check "the others got 401 (not signed) or were closed ($answers)" \
    test "$(awk '!($1 == 503 && $2 != "-") && $1 != 401 && $1 != "-"' \
    "$STATE/result" | wc -l)" -eq 0
refused=$(metric 'hookpipe_receiver_refused_total{reason="body_budget"}')
check "/metrics counts the deliveries refused for the budget ($refused)" \
    test "${refused:-0}" -gt 0
wait_for 10 body_bytes_is zero
assert_eq "once they are gone, no body is held" 0 \
    "$(metric hookpipe_receiver_body_bytes)"
deliver "$sub" "$secret" "$T_DIR/big.json"
assert_status "the 3.5 MiB delivery fits now" 200
assert_eq "after the body flood, /healthz answers" 200 "$(healthz_status)"

# --- the spool while the verifier is away ------------------------------

n_events=$(events_count)
check "hookpipectl stop verifier" hookpipectl stop verifier
post POST "$BASE/triggers/plugin/$sub" "$(payload batch.completed)"
assert_status "verifier away: a delivery without signature headers" 401
assert_contains "it names the missing header" "webhook-id" "$HTTP_BODY"
f=$(payload batch.completed)
post POST "$BASE/triggers/plugin/$sub" "$f" -H "webhook-id: $(new_msg_id)" \
    -H "webhook-timestamp: $(date +%s)"
assert_status "verifier away: a delivery without webhook-signature" 401
assert_contains "it names webhook-signature" "webhook-signature" "$HTTP_BODY"

n202=0
last=
for i in $(seq 1 20); do
	deliver "$sub" "$secret" "$(big_payload 204800 "$T_DIR/spool$i.json")"
	last=$HTTP_STATUS
	[ "$last" = 202 ] || break
	n202=$((n202 + 1))
done
check "signed deliveries are spooled ($n202 of 200 KiB each)" test "$n202" -ge 1
check "until the 1 MiB spool is full ($n202 spooled)" test "$n202" -le 6
assert_eq "then a delivery gets 503" 503 "$last"
assert_contains "with Retry-After" "Retry-After:" "$HTTP_HEADERS"
full=$(metric 'hookpipe_receiver_refused_total{reason="spool_full"}')
check "/metrics counts the deliveries refused for a full spool ($full)" \
    test "${full:-0}" -gt 0
assert_eq "with the spool full, /healthz still answers (503: verifier down)" \
    503 "$(healthz_status)"

hookpipectl start >"$T_DIR/start.out" 2>&1
check "the verifier comes back" test $? -eq 0
check "the spooled deliveries are stored" \
    wait_for 30 events_at_least $((n_events + n202))
deliver "$sub" "$secret" "$(payload batch.completed)"
assert_status "after everything, a signed delivery" 200
assert_eq "after everything, /healthz answers" 200 "$(healthz_status)"
check "the receiver never restarted" \
    test "$(cat "$HOOKPIPE_HOME/run/receiver.pid")" = "$RX_PID"
finish
