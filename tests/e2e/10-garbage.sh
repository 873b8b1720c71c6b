#!/usr/bin/env bash
# Hostile and malformed input: each gets its 4xx, and the receiver still
# answers afterwards.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

start_stack
new_sub junk
sub=$SUB_ID
new_workflow wf junk realtime.call.incoming "$T_DIR/runs"

head -c 2048 /dev/urandom >"$T_DIR/random.bin"
deliver "$sub" "$SUB_SECRET" "$T_DIR/random.bin"
assert_status "random bytes, validly signed" 400
check "the 400 is JSON with an error" json 'd["error"]' <<<"$HTTP_BODY"
post POST "$BASE/triggers/plugin/$sub" "$T_DIR/random.bin" \
    -H "webhook-id: $(head -c 64 /dev/urandom | base64 -w0)" \
    -H "webhook-timestamp: $(head -c 16 /dev/urandom | base64 -w0)" \
    -H "webhook-signature: $(head -c 300 /dev/urandom | base64 -w0)"
assert_status "random bytes, random headers" 401

printf '{"type": "batch.completed", "data": {' >"$T_DIR/truncated.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/truncated.json"
assert_status "invalid JSON, validly signed" 400
printf '{"id":"evt_1","object":"event","created_at":1,"data":{}}' >"$T_DIR/notype.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/notype.json"
assert_status "JSON without a type, validly signed" 400
printf '[1, 2, 3]' >"$T_DIR/array.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/array.json"
assert_status "a JSON array, validly signed" 400
printf '{"type": 42}' >"$T_DIR/numtype.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/numtype.json"
assert_status "a type that is not a string, validly signed" 400
python3 -c 'print("[" * 100000 + "]" * 100000)' >"$T_DIR/deep.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/deep.json"
assert_status "deeply nested JSON, validly signed" 400
: >"$T_DIR/empty.json"
deliver "$sub" "$SUB_SECRET" "$T_DIR/empty.json"
assert_status "an empty body, validly signed" 400

# As published, these samples are not valid JSON (a trailing comma, a //
# comment): a receiver must answer 400, not crash.
for f in openai-realtime.call.incoming.json openai-live.call.incoming.json \
    openai-realtime.call.incoming.realtime-sip-guide.json; do
	if s=$(sample "$f"); then
		deliver "$sub" "$SUB_SECRET" "$s"
		assert_status "published sample $f (not valid JSON)" 400
	else
		skip "published sample $f (no $SAMPLES)"
	fi
done

# Header abuse: a huge header, many headers.
big=$(head -c 30000 /dev/zero | tr '\0' a)
post POST "$BASE/triggers/plugin/$sub" "$T_DIR/notype.json" -H "webhook-id: $big"
check "a 30 KB header gets a 4xx" test "${HTTP_STATUS:0:1}" = 4
hs=()
for i in $(seq 1 300); do hs+=(-H "x-h$i: $i"); done
post POST "$BASE/triggers/plugin/$sub" "$T_DIR/notype.json" "${hs[@]}"
check "300 headers get a 4xx" test "${HTTP_STATUS:0:1}" = 4
# Large but reasonable headers (a proxy's, say) still fit: 7 KB of them.
ok_body=$(payload batch.completed)
id=$(new_msg_id)
ts=$(date +%s)
hs=()
for i in 1 2 3 4 5 6 7; do hs+=(-H "x-forwarded-$i: $(head -c 1000 /dev/zero | tr '\0' f)"); done
post POST "$BASE/triggers/plugin/$sub" "$ok_body" "${hs[@]}" \
    -H "webhook-id: $id" -H "webhook-timestamp: $ts" \
    -H "webhook-signature: v1,$(sign_openai "$SUB_SECRET" "$id" "$ts" "$ok_body")"
assert_status "a delivery with 7 KB of extra headers" 200
# Half a request, then the connection closes.
python3 - "$HOOKPIPE_LISTEN" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"POST /triggers/plugin/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"type\"")
s.close()
s = socket.create_connection((host, int(port)))
s.sendall(b"\x00\xff garbage that is not HTTP\r\n\r\n")
s.close()
PY

post GET "$BASE/healthz" ""
assert_status "the receiver still answers /healthz" 200
check "all five stages still up" hookpipectl status
assert_eq "no restarts" "0 0 0 0 0" "$(hookpipectl status | awk '{ for (i = 1; i < NF; i++) if ($i == "restarts") printf "%s%s", sep, $(i + 1); sep = " " }')"

# And a valid delivery still goes all the way through.
deliver "$sub" "$SUB_SECRET" "$(payload realtime.call.incoming)"
assert_status "a valid delivery after the garbage" 200
check "it ran" wait_for 15 has_runs "$T_DIR/runs" 1
assert_eq "only the valid deliveries are stored" 2 "$(hookpipe events --json | json 'len(d)')"
finish
