#!/usr/bin/env python3
"""Pre-sign N OpenAI (Standard Webhooks) events for wrk-openai.lua.

wrk's LuaJIT has no HMAC, so the requests are signed here, ahead of the
run, with timestamps fresh at generation time (hookpipe and the Node
receiver accept 300 s of skew: generate right before each run).

Every request carries the same headers for every server under test:
webhook-id (unique), webhook-timestamp, webhook-signature (v1, HMAC-SHA256
over "id.ts.body" with the whsec_ secret base64-decoded) and X-Signature
(hex HMAC-SHA256 of the body with the secret string as the key: what
adnanh/webhook's payload-hmac-sha256 rule checks).

Output: one record per request, "LENGTH\\n" then LENGTH bytes: the request
without its request line (wrk-openai.lua prefixes "POST PATH HTTP/1.1").

    gen-requests.py --secret whsec_... --count 200000 --out FILE
"""
import argparse
import base64
import hashlib
import hmac
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", required=True)
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--event", default="batch.completed")
    args = ap.parse_args()

    s = args.secret
    key = base64.b64decode(s[6:]) if s.startswith("whsec_") else s.encode()
    raw_key = s.encode()
    tag = os.urandom(6).hex()
    ts = str(int(time.time()))
    out = bytearray()
    for i in range(args.count):
        wid = "msg_%s%08x" % (tag, i)
        body = ('{"id":"evt_%s%08x","object":"event","type":"%s",'
                '"created_at":%s,"data":{"id":"batch_%s%08x"}}'
                % (tag, i, args.event, ts, tag, i)).encode()
        sig = base64.b64encode(hmac.new(
            key, ("%s.%s." % (wid, ts)).encode() + body,
            hashlib.sha256).digest()).decode()
        xsig = hmac.new(raw_key, body, hashlib.sha256).hexdigest()
        rec = ("Host: 127.0.0.1\r\nUser-Agent: wrk\r\n"
               "Content-Type: application/json\r\n"
               "Content-Length: %d\r\nwebhook-id: %s\r\n"
               "webhook-timestamp: %s\r\nwebhook-signature: v1,%s\r\n"
               "X-Signature: %s\r\n\r\n"
               % (len(body), wid, ts, sig, xsig)).encode() + body
        out += b"%d\n" % len(rec)
        out += rec
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.rename(tmp, args.out)


if __name__ == "__main__":
    main()
