#!/usr/bin/env python3
"""Join bench-send's log with bench-sink's dump: request -> action latency.

    latency.py SENDLOG SINKDUMP

SENDLOG lines: "webhook-id sched_ns sent_ns done_ns status" (bench-send);
SINKDUMP lines: "delivery_id arrival_ns" (bench-sink). Both clocks are
CLOCK_MONOTONIC on the same machine.

Prints key=value lines: percentiles (ms) of arrival - sent (the request
written to the socket until the workflow's http action reached the sink),
of arrival - sched (the same from the request's slot in the fixed-rate
schedule: includes any queueing in the sender, coordinated omission
corrected), and of the HTTP answer (done - sent); plus counts of events
that never arrived and of arrivals more than once.
"""
import sys


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 *
                                                 len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def main():
    sent = {}
    ack = []
    non2xx = 0
    with open(sys.argv[1]) as f:
        for line in f:
            wid, sched, snt, done, status = line.split()
            sent[wid] = (int(sched), int(snt))
            if 200 <= int(status) < 300:
                ack.append((int(done) - int(snt)) / 1e6)
            else:
                non2xx += 1
    arrivals = {}
    dup = 0
    with open(sys.argv[2]) as f:
        for line in f:
            did, t = line.split()
            if did in arrivals:
                dup += 1
                continue
            arrivals[did] = int(t)
    lat, lat_sched = [], []
    for wid, (sched, snt) in sent.items():
        t = arrivals.get(wid)
        if t is None:
            continue
        lat.append((t - snt) / 1e6)
        lat_sched.append((t - sched) / 1e6)
    lat.sort()
    lat_sched.sort()
    ack.sort()
    out = {
        "sent": len(sent),
        "arrived": len(lat),
        "missing": len(sent) - len(lat),
        "duplicates": dup,
        "non2xx": non2xx,
    }
    for name, v in (("lat", lat), ("lat_sched", lat_sched), ("ack", ack)):
        for p in (50, 90, 99, 99.9):
            out["%s_p%s_ms" % (name, str(p).replace(".", "_"))] = \
                "%.3f" % pct(v, p)
        out["%s_max_ms" % name] = "%.3f" % (v[-1] if v else float("nan"))
    for k, v in out.items():
        print("%s=%s" % (k, v))


if __name__ == "__main__":
    main()
