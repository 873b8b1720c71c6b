#!/usr/bin/env bash
# Every stage under valgrind's memcheck while EVENTS (default 10000)
# signed events go through the whole pipeline; then a clean stop, and
# each stage's report must show no definite or indirect leak and no
# error. make test-valgrind runs it; it takes a few minutes.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${HOOKPIPE_BIN:-$ROOT/bin}
EVENTS=${EVENTS:-10000}
export HOOKPIPE_HOME=$(mktemp -d /tmp/hpvg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HOOKPIPE_LISTEN=127.0.0.1:$port TRIGGER_URL=http://127.0.0.1:$port
export HOOKPIPE_VERIFY_TIMEOUT_MS=30000
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - valgrind: $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - valgrind: $1"; }
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -z "${HP_KEEP:-}" ] && rm -rf "$HOOKPIPE_HOME"
}
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "ok - # skip valgrind is not installed"; echo "0 passed, 0 failed"; exit 0; }
mkdir -p "$HOOKPIPE_HOME/vg"
for s in dispatcher router verifier receiver; do
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect --error-exitcode=99 \
	    --log-file="$HOOKPIPE_HOME/vg/$s.log" "$BIN/hookpipe-$s" --no-sandbox \
	    >>"$HOOKPIPE_HOME/vg/$s.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 300); do [ -s "$HOOKPIPE_HOME/run/$s.pid" ] && break; sleep 0.1; done
done
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
sub=$("$BIN/hookpipe" sub create vg --integration openai --secret "$secret" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/hookpipe" workflow create vg-wf --exec true >/dev/null
"$BIN/hookpipe" workflow trigger vg-wf --sub vg --event batch.completed >/dev/null
"$BIN/hookpipe" workflow publish vg-wf >/dev/null
res=$(python3 - "$port" "$sub" "$EVENTS" <<'PY'
import base64, hashlib, hmac, http.client, json, sys, time, uuid
port, sub, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
ok = 0
for i in range(n):
    mid = "msg_" + uuid.uuid4().hex
    body = json.dumps({"id": mid, "object": "event", "created_at": 1,
                       "type": "batch.completed", "data": {"i": i}})
    ts = str(int(time.time()))
    sig = base64.b64encode(hmac.new(key, f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
    c.request("POST", "/triggers/plugin/" + sub, body, {
        "content-type": "application/json", "webhook-id": mid,
        "webhook-timestamp": ts, "webhook-signature": "v1," + sig})
    r = c.getresponse(); r.read()
    ok += r.status == 200
print(ok)
PY
)
[ "$res" = "$EVENTS" ] && ok "$EVENTS events answered 200" || not_ok "$res of $EVENTS events answered 200"
runs_done() {
	"$BIN/hookpipe" runs --status succeeded --limit 100000 --json |
	    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
for _ in $(seq 1 600); do [ "$(runs_done)" -ge "$EVENTS" ] && break; sleep 1; done
n=$(runs_done)
[ "$n" -ge "$EVENTS" ] && ok "$n runs succeeded" || not_ok "only $n runs succeeded"
for i in 3 2 1 0; do
	kill -TERM "${pids[$i]}" 2>/dev/null
	wait "${pids[$i]}"
	rc=$?
	s=$(echo dispatcher router verifier receiver | cut -d' ' -f$((i + 1)))
	sum=$(grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$HOOKPIPE_HOME/vg/$s.log" | sed 's/^==[0-9]*== *//' | tr '\n' ';')
	if [ "$rc" = 0 ] && grep -q "ERROR SUMMARY: 0 errors" "$HOOKPIPE_HOME/vg/$s.log"; then
		ok "$s: no leak, no error ($sum)"
	else
		not_ok "$s: exit $rc; $sum"
		grep -A12 "definitely lost in\|Invalid" "$HOOKPIPE_HOME/vg/$s.log" | head -30 | sed 's/^/#   /'
	fi
done
pids=()
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
