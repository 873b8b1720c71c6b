#!/usr/bin/env python3
"""Where an event of the latency run waits, hop by hop, from the records.

    hops.py EVENTS.json RUNS.json

EVENTS.json is `hookpipe --json events --sub bench-lat --limit N`,
RUNS.json `hookpipe --json runs --workflow bench-http --limit N`. For
each run of those events, from the times the stages wrote (microseconds):

    receipt -> run created   the receiver's hand-off, the verifier's check
                             and durable commit, the router's hint and plan
    run created -> started   the router's commit, its hint, the
                             dispatcher's durable claim of the attempt

Prints key=value lines as bench/latency.py does (hops.routed_p50_ms
... in ms, and the count).
"""
import datetime
import json
import sys

from latency import pct


def us(t):
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000000 + d.microsecond


def main():
    with open(sys.argv[1]) as f:
        events = json.load(f)
    with open(sys.argv[2]) as f:
        runs = json.load(f)
    received = {e["id"]: us(e["received_at"]) for e in events
                if e.get("received_at")}
    routed, started = [], []
    for r in runs:
        t0 = received.get(r.get("event_id"))
        if t0 is None or not r.get("created_at"):
            continue
        t1 = us(r["created_at"])
        routed.append((t1 - t0) / 1000.0)
        h = r.get("history") or []
        first = [a for a in h if a.get("attempt") == 1 and a.get("started_at")]
        if first:
            started.append((us(first[0]["started_at"]) - t1) / 1000.0)
    for name, v in (("routed", routed), ("started", started)):
        if not v:
            continue
        v.sort()
        print("hops.%s_n=%d" % (name, len(v)))
        for p, key in ((50, "p50"), (99, "p99"), (99.9, "p99_9")):
            print("hops.%s_%s_ms=%.3f" % (name, key, pct(v, p)))


if __name__ == "__main__":
    main()
