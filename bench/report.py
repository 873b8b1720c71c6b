#!/usr/bin/env python3
"""Render bench/run.sh's figures: one table on stdout, bench/results.md.

    report.py RESULTS.kv COMMANDS.txt WORKDIR RESULTS.md
"""
import os
import re
import statistics
import sys

TARGETS = {"nginx": 0.5, "node": 2.0, "pg": 8.0, "webhook": None}
SINGLE_MARGIN_MS = 0.3	# one connection: median <= fdatasync + this
SYSCALLS_PER_EVENT = 6.0
LATENCY_P99_MS = 5.0
RSS_MIB = 64.0
AT_REST_ANON_MIB = 16.0	# after the long run: the four stages' RssAnon
AT_REST_PSS_MIB = 32.0	# and their PSS
GROWTH = 1.05		# private memory, last tenth of the run / first
STAGES = ("receiver", "verifier", "router", "dispatcher")
ABBR = {"receiver": "rx", "verifier": "ver", "router": "rt",
        "dispatcher": "disp"}
REFS = (("nginx", "nginx `return 200`"),
        ("node", "Node.js + standardwebhooks (verify only)"),
        ("pg", "Node.js + standardwebhooks + PostgreSQL INSERT "
               "(synchronous_commit=on)"),
        ("webhook", "adnanh/webhook (payload-hmac-sha256, /bin/true)"))


LIBS = {"mhd": "libmicrohttpd, answered at once",
        "mhd-deferred": "libmicrohttpd, suspended, answered next pass "
                        "(the receiver's way)",
        "h2o": "H2O (libh2o-evloop), answered at once",
        "h2o-deferred": "H2O, answered after the pass",
        "evhttp": "libevent evhttp, answered at once",
        "evhttp-deferred": "libevent evhttp, answered after the pass",
        "mhd-zmq": "libmicrohttpd, suspended, answered after a ZeroMQ "
                   "round trip to another process (the receiver's hop)"}

HELD_NAMES = {"mhd": "libmicrohttpd", "h2o": "H2O", "evhttp": "evhttp",
              "hookpipe": "hookpipe's receiver"}


def load(path):
    kv = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                kv[k] = v
    return kv


def num(kv, key, default=None):
    try:
        return float(kv[key])
    except (KeyError, ValueError):
        return default


def rounds(kv):
    rs = set()
    for k in kv:
        if k.startswith("receipt.hookpipe."):
            rs.add(k.split(".")[2])
    return sorted(rs, key=int)


def totals(line):
    """'stage:rss/anon/pss ...' (kB) -> the three sums in MiB."""
    if not line:
        return None
    t = [0.0, 0.0, 0.0]
    for part in line.split():
        for i, v in enumerate(part.split(":", 1)[1].split("/")):
            try:
                t[i] += float(v) / 1024
            except ValueError:
                pass
    return t


def verdict(ok):
    return "ok" if ok else "MISSED"


def fmt(x, spec="{:,.0f}"):
    return "-" if x is None else spec.format(x)


def median_of(kv, fmtkey, rs):
    """The median over rounds rs of kv[fmtkey % round], or None."""
    v = [num(kv, fmtkey % r) for r in rs]
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def cpu_us(kv, prefix, rs, key=None):
    """Median over rounds of CPU time per answered request, in us."""
    v = []
    for r in rs:
        if key:
            cpu = num(kv, "%s.%s.%s" % (prefix, r, key))
        else:
            cpu = num(kv, "%s.%s.cpu_s" % (prefix, r)) or \
                num(kv, "%s.%s.stage_cpu_s" % (prefix, r))
        req = num(kv, "%s.%s.requests" % (prefix, r))
        if cpu and req:
            v.append(cpu * 1e6 / req)
    return statistics.median(v) if v else None


def three(kv, prefix, key):
    """PREFIX KEY's p50 / p99 / p99.9, as latency.py and hops.py name
    them (KEY_p50_ms ...), "-" for one missing."""
    return "%s / %s / %s ms" % tuple(
        kv.get("%s%s_%s_ms" % (prefix, key, p), "-")
        for p in ("p50", "p99", "p99_9"))


def cluster(kv, rs, rows, notes, details):
    if "cluster.skipped" in kv:
        notes.append("cluster: not measured (%s)" % kv["cluster.skipped"])
        return
    crs = sorted({k.split(".")[2] for k in kv
                  if k.startswith("cluster.one.")}, key=int)
    if not crs and "cluster.latency.lat_p99_ms" not in kv:
        return
    single = median_of(kv, "receipt.hookpipe.%s.rps", rs)
    one = median_of(kv, "cluster.one.%s.rps", crs)
    two = median_of(kv, "cluster.two.%s.rps", crs)
    conns = num(kv, "config.conns", 0)

    def ratio(a, b):
        return "-" if a is None or not b else "%.2fx" % (a / b)

    if crs:
        rows.append(("cluster", "one host of two, wrk -c%d to host A" % conns,
                     fmt(one) + " req/s",
                     "%s the single host (%s req/s)" % (
                         ratio(one, single), fmt(single)) if single else
                     "single host: -", "", ""))
        rows.append(("cluster", "two hosts at once, -c%d to each" %
                     max(1, conns // 2), fmt(two) + " req/s",
                     "%s one host; %s the single host" % (
                         ratio(two, one), ratio(two, single)), "", ""))
        cs = cpu_us(kv, "receipt.hookpipe", rs)
        for what, label in (("one", "one host"), ("two", "two hosts")):
            c = cpu_us(kv, "cluster." + what, crs)
            cn = cpu_us(kv, "cluster.%s" % what, crs, "cpu_nats_s")
            rows.append(("cluster", "  CPU per event, %s: NATS servers + "
                         "stages" % label, fmt(c) + " us",
                         "NATS %s us; %s the single host's stages (%s us)"
                         % (fmt(cn), ratio(c, cs), fmt(cs)), "", ""))
        idle = num(kv, "cluster.idle.cpu_s")
        if idle is not None:
            rows.append(("cluster", "  CPU of the idle cluster (3 NATS "
                         "servers, 2 hosts)", "%.0f%% of a core" %
                         (idle / 3 * 100), "NATS %.0f%%" %
                         (num(kv, "cluster.idle.cpu_nats_s", 0) / 3 * 100),
                         "", ""))
        for r in crs:
            for what in ("one", "two"):
                p = "cluster.%s.%s." % (what, r)
                bad = num(kv, p + "non2xx", 0) + num(kv, p + "errors", 0)
                if bad:
                    notes.append("cluster round %s, %s host(s): %d non-2xx "
                                 "or failed requests" % (
                                     r, what, bad))
                if num(kv, p + "wrapped", 0):
                    notes.append("cluster round %s: wrk ran out of "
                                 "pre-signed requests" % r)
        if len(crs) > 1:
            details += ["### Cluster, round by round (req/s)", "",
                        "| round | host A alone | A + B at once |",
                        "| --- | --- | --- |"]
            for r in crs:
                details.append("| %s | %s | %s |" % (
                    r, fmt(num(kv, "cluster.one.%s.rps" % r)),
                    fmt(num(kv, "cluster.two.%s.rps" % r))))
            details.append("")
    if "cluster.latency.lat_p99_ms" in kv:
        rows.append(("cluster", "request -> action at %s/s over both "
                     "hosts: p50 / p99 / p99.9" % kv.get("cluster.rate"),
                     three(kv, "cluster.latency.", "lat"),
                     "single host at %s/s: %s" % (
                         kv.get("cluster.rate"),
                         three(kv, "cluster.single.", "lat")
                         if "cluster.single.lat_p99_ms" in kv else "-"),
                     "", ""))
        if "latency.lat_p99_ms" in kv:
            rows.append(("cluster", "  the single host at %s/s (latency "
                         "above)" % kv.get("config.rate", "?"), "",
                         three(kv, "latency.", "lat"), "", ""))
        rows.append(("cluster", "  from the scheduled send (queueing "
                     "included)", three(kv, "cluster.latency.", "lat_sched"),
                     "single host: %s" % (
                         three(kv, "cluster.single.", "lat_sched")
                         if "cluster.single.lat_p99_ms" in kv else "-"),
                     "", ""))
        rows.append(("cluster", "  HTTP answer (2xx) p50 / p99 / p99.9",
                     three(kv, "cluster.latency.", "ack"),
                     "single host: %s" % (three(kv, "cluster.single.", "ack")
                                          if "cluster.single.ack_p99_ms"
                                          in kv else "-"), "", ""))
        if "cluster.config_ms" in kv:
            rows.append(("cluster", "  a workflow published on host A, "
                         "shown published by host B's CLI",
                         "%s ms" % kv["cluster.config_ms"],
                         "both commands' own time included", "", ""))
        if "cluster.low.lat_p99_ms" in kv:
            rows.append(("cluster", "  at %s/s (a quiet cluster): request "
                         "-> action; HTTP answer" % kv.get(
                             "cluster.low_rate"),
                         three(kv, "cluster.low.", "lat"),
                         three(kv, "cluster.low.", "ack"), "", ""))
        for run, what in (("latency", "cluster latency run"),
                          ("low", "the quiet cluster's latency run"),
                          ("single", "the single host at the cluster's "
                           "rate")):
            for k in ("missing", "duplicates", "non2xx"):
                if num(kv, "cluster.%s.%s" % (run, k), 0):
                    notes.append("%s: %s %s" % (
                        what, kv["cluster.%s.%s" % (run, k)], k))
    if num(kv, "cluster.log_warnings", 0):
        notes.append("cluster: %s warning/error lines in the hosts' logs" %
                     kv["cluster.log_warnings"])
    notes.append("cluster: two hosts and three NATS servers share this "
                 "machine's %s cores, so these figures are the cost per "
                 "event of replication, not the gain of a second machine "
                 "(README.md, Tests: what three machines would show)" %
                 kv.get("machine.nproc", "?"))


def floor(kv, rs, rows):
    fr = sorted({k.split(".")[3] for k in kv
                 if k.startswith("floor.receipt.hookpipe.") and
                 k.endswith(".rps")}, key=int)
    if fr:
        f = statistics.median(num(kv, "floor.receipt.hookpipe.%s.rps" % r)
                              for r in fr)
        extra = []
        if rs:
            d = statistics.median(num(kv, "receipt.hookpipe.%s.rps" % r)
                                  for r in rs)
            extra.append("durable %s req/s (%.2fx)" % (fmt(d), d / f))
            ng = [num(kv, "receipt.nginx.%s.rps" % r) for r in rs]
            ng = [v for v in ng if v]
            if ng:
                extra.append("%.2fx nginx" % (f / statistics.median(ng)))
        rows.append(("floor", "state on tmpfs: receipt at %s connections" %
                     kv.get("config.conns"), fmt(f) + " req/s",
                     "; ".join(extra), "", ""))
    p50 = num(kv, "floor.single.p50_ms")
    if p50 is not None:
        d = num(kv, "single.p50_ms")
        rows.append(("floor", "  one connection: median request -> 2xx",
                     "%.3f ms" % p50, "durable %.3f ms" % d
                     if d is not None else "", "", ""))
    n = num(kv, "floor.syscalls.events")
    if n:
        f = sum(float(v) for k, v in kv.items()
                if k.startswith("floor.syscalls.") and k.count(".") >= 3)
        d = sum(float(v) for k, v in kv.items()
                if k.startswith("syscalls.") and k.count(".") >= 2)
        rows.append(("floor", "  system calls per event, all stage "
                     "threads", "%.1f" % f, "durable %.1f" % d if d else "",
                     "", ""))
    if "floor.latency.lat_p99_ms" in kv:
        for what, label in (("lat", "request -> action at %s/s" %
                             kv.get("config.rate", "?")),
                            ("ack", "HTTP answer (2xx)")):
            rows.append(("floor", "  %s: p50 / p99 / p99.9" % label,
                         three(kv, "floor.latency.", what),
                         "durable %s" % three(kv, "latency.", what)
                         if "latency.lat_p99_ms" in kv else "", "", ""))


def main():
    kv = load(sys.argv[1])
    with open(sys.argv[2]) as f:
        commands = [c.rstrip("\n") for c in f if c.strip()]
    work, out_md = sys.argv[3], sys.argv[4]
    rows = []		# (section, what, figure, ratio/extra, target, verdict)
    notes = []
    details = []	# results.md only

    # Receipt throughput, ratios taken per round, median over rounds.
    rs = rounds(kv)
    if rs:
        hp = [num(kv, "receipt.hookpipe.%s.rps" % r) for r in rs]
        rows.append(("receipt", "hookpipe, full durable stack",
                     fmt(statistics.median(hp)) + " req/s", "", "", ""))
        for name, label in REFS:
            vals = [num(kv, "receipt.%s.%s.rps" % (name, r)) for r in rs]
            ratios = [h / v for h, v in zip(hp, vals) if h and v]
            if not ratios:
                continue
            ratio = statistics.median(ratios)
            rows.append(("receipt", label,
                         fmt(statistics.median(vals)) + " req/s",
                         "hookpipe %.2fx" % ratio,
                         ">= %gx" % TARGETS[name] if TARGETS[name] else "",
                         verdict(ratio >= TARGETS[name])
                         if TARGETS[name] else ""))
        for r in rs:
            for name in ("hookpipe", "nginx", "node", "pg", "webhook"):
                p = "receipt.%s.%s." % (name, r)
                bad = num(kv, p + "non2xx", 0) + num(kv, p + "errors", 0)
                if bad:
                    notes.append("round %s: %s answered %d non-2xx or "
                                 "failed requests" % (r, name, bad))
            w = num(kv, "receipt.hookpipe.%s.wrapped" % r, 0)
            if w:
                notes.append("round %s: wrk ran out of pre-signed requests "
                             "(%d wraps): hookpipe answered repeats as "
                             "duplicates; raise BENCH_REQUESTS" % (r, w))
            req = num(kv, "receipt.hookpipe.%s.requests" % r)
            st = num(kv, "receipt.hookpipe.%s.stored" % r)
            if req is not None and st is not None and st < req:
                notes.append("round %s: wrk counted %d answers but only %d "
                             "events were stored" % (r, req, st))
            cpu = num(kv, "receipt.hookpipe.%s.stage_cpu_s" % r)
            if cpu and req:
                notes.append("round %s: the four stages used %.2f CPU-s for "
                             "%d events: %.0f us of CPU per event" %
                             (r, cpu, req, cpu * 1e6 / req))

    if len(rs) > 1:
        details += ["### Receipt, round by round (req/s)", "",
                    "| round | hookpipe | nginx | node | node+pg | webhook |",
                    "| --- | --- | --- | --- | --- | --- |"]
        for r in rs:
            details.append("| %s | %s |" % (r, " | ".join(
                fmt(num(kv, "receipt.%s.%s.rps" % (n, r)))
                for n in ("hookpipe", "nginx", "node", "pg", "webhook"))))
        details.append("")

    # The HTTP libraries alone (what the receiver's library costs before
    # any of hookpipe's work), per round against nginx, median.
    hl = sorted({k.split(".")[1] for k in kv if k.startswith("httplib.")})
    hr = sorted({k.split(".")[2] for k in kv
                 if k.startswith("httplib.nginx.") and
                 k.split(".")[2].isdigit()}, key=int)
    if hl and hr:
        ng = [num(kv, "httplib.nginx.%s.rps" % r) for r in hr]
        hpm = statistics.median(hp) if rs else None
        for name in ["nginx"] + [n for n in LIBS if n in hl]:
            vals = [num(kv, "httplib.%s.%s.rps" % (name, r)) for r in hr]
            vals = [v for v in vals if v]
            if not vals:
                continue
            ratios = [v / n for v, n in zip(
                [num(kv, "httplib.%s.%s.rps" % (name, r)) for r in hr], ng)
                if v and n]
            extra = []
            if name != "nginx" and ratios:
                extra.append("%.2fx nginx" % statistics.median(ratios))
            if hpm and name != "nginx":
                extra.append("hookpipe %.2fx" % (hpm / statistics.median(vals)))
            sc = num(kv, "httplib.%s.syscalls" % name)
            if sc is not None:
                extra.append("%.1f syscalls/req" % sc)
            rows.append(("httplib", LIBS.get(name, "nginx `return 200`"),
                         fmt(statistics.median(vals)) + " req/s",
                         "; ".join(extra), "", ""))
            for r in hr:
                p = "httplib.%s.%s." % (name, r)
                bad = num(kv, p + "non2xx", 0) + num(kv, p + "errors", 0)
                if bad:
                    notes.append("httplib round %s: %s answered %d non-2xx "
                                 "or failed requests" % (r, name, bad))

    # What each library holds of bodies in flight (bench/held.py), and
    # the receiver within its budget: a library that reads a whole body
    # before the application sees the request cannot keep the budget.
    held = [(n, num(kv, "held.%s.held_kib" % n))
            for n in ("mhd", "h2o", "evhttp", "hookpipe")]
    held = [(n, v) for n, v in held if v is not None]
    if held:
        n, size = num(kv, "held.bodies", 0), num(kv, "held.size", 0)
        parts = []
        for lib, v in held:
            parts.append("%s +%.1f MiB" % (HELD_NAMES[lib], v / 1024))
            if num(kv, "held.%s.closed" % lib):
                parts[-1] += ", %d answered at once (%d with 503)" % (
                    num(kv, "held.%s.closed" % lib),
                    num(kv, "held.%s.status_503" % lib, 0))
        rows.append(("httplib", "memory held with %d bodies of %.0f KiB "
                     "in flight, each one byte short" % (n, size / 1024),
                     "%.0f MiB sent" % (n * size / 1048576),
                     "; ".join(parts), "", ""))

    # One connection: a durable answer costs one fdatasync and little more.
    p50, fs = num(kv, "single.p50_ms"), num(kv, "single.fdatasync_ms")
    if p50 is not None and fs is not None:
        fs2 = num(kv, "single.fdatasync_after_ms", fs)
        rows.append(("receipt", "one connection: median request -> 2xx",
                     "%.3f ms" % p50, "fdatasync %.3f ms (%.3f after); %s "
                     "req/s" % (fs, fs2, fmt(num(kv, "single.rps"))),
                     "<= fdatasync + %g ms" % SINGLE_MARGIN_MS,
                     verdict(p50 <= fs + SINGLE_MARGIN_MS)))

    # System calls per event, per stage and thread.
    sc = {}
    for k, v in kv.items():
        if k.startswith("syscalls.") and k.count(".") >= 2:
            _, stage, thread = k.split(".", 2)
            sc.setdefault(stage, []).append((thread, float(v)))
    if sc:
        total = sum(v for ts in sc.values() for _, v in ts)
        rows.append(("syscalls", "per event at %s connections, all stage "
                     "threads" % kv.get("config.conns"), "%.1f" % total,
                     "; ".join("%s %.1f" % (ABBR.get(s, s),
                                            sum(v for _, v in sc[s]))
                               for s in STAGES if s in sc),
                     "<= %g" % SYSCALLS_PER_EVENT,
                     verdict(total <= SYSCALLS_PER_EVENT)))
        for s in STAGES:
            busy = [(t, v) for t, v in sorted(sc.get(s, []),
                                              key=lambda x: -x[1]) if v >= 0.05]
            if busy:
                rows.append(("syscalls", "  " + s, "", ", ".join(
                    "%s %.2f" % (t, v) for t, v in busy), "", ""))

    # Latency.
    if "latency.lat_p99_ms" in kv:
        p99 = num(kv, "latency.lat_p99_ms")
        rows.append(("latency", "request -> action at %s/s: p50 / p99 / "
                     "p99.9" % kv.get("config.rate", "?"),
                     "%s / %s / %s ms" % (kv["latency.lat_p50_ms"],
                                          kv["latency.lat_p99_ms"],
                                          kv["latency.lat_p99_9_ms"]),
                     "max %s ms" % kv.get("latency.lat_max_ms"),
                     "p99 <= %g ms" % LATENCY_P99_MS,
                     verdict(p99 is not None and p99 <= LATENCY_P99_MS)))
        rows.append(("latency", "  from the scheduled send (queueing "
                     "included)",
                     "%s / %s / %s ms" % (kv.get("latency.lat_sched_p50_ms"),
                                          kv.get("latency.lat_sched_p99_ms"),
                                          kv.get("latency.lat_sched_p99_9_ms")),
                     "", "", ""))
        rows.append(("latency", "  HTTP answer (2xx) p50 / p99 / p99.9",
                     "%s / %s / %s ms" % (kv.get("latency.ack_p50_ms"),
                                          kv.get("latency.ack_p99_ms"),
                                          kv.get("latency.ack_p99_9_ms")),
                     "", "", ""))
        for hop, what in (("routed", "receipt -> run created (verifier, "
                           "router)"),
                          ("started", "run created -> attempt started "
                           "(router's commit, dispatcher's claim)")):
            if "latency.hops.%s_p99_ms" % hop not in kv:
                continue
            rows.append(("latency", "  " + what,
                         three(kv, "latency.hops.", hop),
                         "on tmpfs: %s" % three(kv, "floor.latency.hops.",
                                                hop)
                         if "floor.latency.hops.%s_p99_ms" % hop in kv
                         else "", "", ""))
        for k in ("missing", "duplicates", "non2xx"):
            if num(kv, "latency." + k, 0):
                notes.append("latency run: %s %s" % (kv["latency." + k], k))
    if "latency_places.lat_p99_ms" in kv:
        rows.append(("latency", "  again, HOOKPIPE_CONCURRENCY=%s: p50 / p99 "
                     "/ p99.9" % kv.get("latency_places.places", "?"),
                     "%s / %s / %s ms" % (kv.get("latency_places.lat_p50_ms"),
                                          kv.get("latency_places.lat_p99_ms"),
                                          kv.get("latency_places.lat_p99_9_ms")),
                     "max %s ms" % kv.get("latency_places.lat_max_ms"),
                     "", ""))
        for k in ("missing", "duplicates", "non2xx"):
            if num(kv, "latency_places." + k, 0):
                notes.append("latency run with more places: %s %s" % (
                    kv["latency_places." + k], k))

    # Dispatch.
    for kind, what in (("exec", "exec actions (sh -c)"),
                       ("http", "http actions to a local sink")):
        if "dispatch.%s.per_s" % kind in kv:
            extra = ""
            ceil = num(kv, "dispatch.%s.ceiling_per_s" % kind)
            if ceil:
                extra = "; xargs -P spawns %s/s" % fmt(ceil)
            rows.append(("dispatch", what,
                         fmt(num(kv, "dispatch.%s.per_s" % kind)) + " /s",
                         "%s runs in %s s%s" % (
                             kv.get("dispatch.%s.runs" % kind),
                             kv.get("dispatch.%s.seconds" % kind), extra),
                         "", ""))

    # Routing through trigger programs.
    if "filters.per_s" in kv:
        rows.append(("filters", "events routed through 4 jq filters",
                     fmt(num(kv, "filters.per_s")) + " /s",
                     "%s events in %s s" % (kv.get("filters.events"),
                                            kv.get("filters.seconds")),
                     "", ""))

    # Memory.
    def per_stage(v):
        return " / ".join("%s %.1f" % (ABBR[s], (v[s] or 0) / 1024)
                          for s in STAGES)

    hwm = {s: num(kv, "mem.hwm.%s" % s) for s in STAGES}
    if any(hwm.values()):
        total = sum(v for v in hwm.values() if v) / 1024
        rows.append(("memory", "peak RSS (VmHWM), four stages",
                     "%.1f MiB" % total, per_stage(hwm),
                     "<= %g MiB" % RSS_MIB, verdict(total <= RSS_MIB)))
        for key, what in (("anon", "  of which private (peak RssAnon)"),
                          ("pss", "  PSS (shared LMDB pages split)")):
            v = {s: num(kv, "mem.%s.%s" % (key, s)) for s in STAGES}
            if any(v.values()):
                t = sum(x for x in v.values() if x) / 1024
                rows.append(("memory", what, "%.1f MiB" % t, per_stage(v),
                             "", ""))
    if "long.events" in kv:
        lhwm = sum(num(kv, "long.hwm.%s" % s, 0) for s in STAGES) / 1024
        lanon = sum(num(kv, "long.anon.%s" % s, 0) for s in STAGES) / 1024
        lpss = sum(num(kv, "long.pss.%s" % s, 0) for s in STAGES) / 1024
        rows.append(("memory", "after %s events: peak RSS" % "{:,}".format(
            int(kv["long.events"])), "%.1f MiB" % lhwm,
            "anon %.1f, PSS %.1f MiB; %s actions" % (
                lanon, lpss, kv.get("long.actions")),
            "<= %g MiB" % RSS_MIB, verdict(lhwm <= RSS_MIB)))
        first, last = (totals(kv.get("long.1.rss")),
                       totals(kv.get("long.final.rss")))
        if first and last:
            rows.append(("memory", "  RSS / anon / PSS, 1/10 -> end", "",
                         "%.0f -> %.0f / %.1f -> %.1f / %.0f -> %.0f MiB" % (
                             first[0], last[0], first[1], last[1], first[2],
                             last[2]), "", ""))
            rows.append(("memory", "  at the end: private (RssAnon)",
                         "%.1f MiB" % last[1], "",
                         "<= %g MiB" % AT_REST_ANON_MIB,
                         verdict(last[1] <= AT_REST_ANON_MIB)))
            rows.append(("memory", "  at the end: PSS", "%.1f MiB" % last[2],
                         "", "<= %g MiB" % AT_REST_PSS_MIB,
                         verdict(last[2] <= AT_REST_PSS_MIB)))
        tenth = totals(kv.get("long.10.rss"))
        if first and tenth:
            rows.append(("memory", "  private under load, 1/10 -> 10/10", "",
                         "%.1f -> %.1f MiB" % (first[1], tenth[1]),
                         "growth <= %d%%" % round((GROWTH - 1) * 100),
                         verdict(tenth[1] <= first[1] * GROWTH)))
        details += ["### The long run, chunk by chunk", "",
                    "| after chunk | RSS / anon / PSS of each stage, kB "
                    "| sender |", "| --- | --- | --- |"]
        for i in range(1, 11):
            if "long.%d.rss" % i in kv:
                details.append("| %d | %s | %s |" % (
                    i, kv["long.%d.rss" % i], kv.get("long.%d.sender" % i)))
        details.append("")

    # Storage work per event, per stage and the environment it writes.
    envs = {"receiver": "spool", "verifier": "events", "router": "runs",
            "dispatcher": "runs"}
    if any("io.%s.pages_per_event" % s in kv for s in STAGES):
        # Flushes: fsync and fdatasync calls, and LMDB's synchronous
        # meta-page writes (runs before their count have syncs only).
        flush = "flushes" if any("io.%s.flushes_per_event" % s in kv
                                 for s in STAGES) else "fsyncs"
        rows.append(("storage", "pages written / %s per event "
                     "(latency run)" % flush, "", "; ".join(
                         "%s (%s) %s / %s" % (
                             ABBR[s], envs[s],
                             kv.get("io.%s.pages_per_event" % s, "?"),
                             kv.get("io.%s.%s_per_event" % (
                                 s, "flushes" if flush == "flushes"
                                 else "syncs"), "?"))
                         for s in STAGES), "", ""))

    if any("io.%s.fdatasync_mean_ms" % s in kv for s in STAGES):
        rows.append(("storage", "fdatasync mean / max, per stage "
                     "(latency run)", "", "; ".join(
                         "%s %s / %s ms" % (
                             ABBR[s], kv["io.%s.fdatasync_mean_ms" % s],
                             kv.get("io.%s.fdatasync_max_ms" % s, "?"))
                         for s in STAGES
                         if "io.%s.fdatasync_mean_ms" % s in kv), "", ""))

    # The same stack with its state on tmpfs: what is left without the
    # disk's flushes, beside the durable figures of this run.
    floor(kv, rs, rows)

    # The baseline commit, measured by its own harness in this invocation.
    if "baseline.commit" in kv:
        b = kv["baseline.commit"]
        if "baseline.latency.lat_p99_ms" in kv:
            rows.append(("baseline", "%s: request -> action p50 / p99 / "
                         "p99.9" % b, "%s / %s / %s ms" % (
                             kv.get("baseline.latency.lat_p50_ms"),
                             kv.get("baseline.latency.lat_p99_ms"),
                             kv.get("baseline.latency.lat_p99_9_ms")),
                         "this build: %s / %s / %s ms" % (
                             kv.get("latency.lat_p50_ms"),
                             kv.get("latency.lat_p99_ms"),
                             kv.get("latency.lat_p99_9_ms")), "", ""))
        for key, what in (("hwm", "peak RSS"), ("anon", "private (RssAnon)"),
                          ("pss", "PSS")):
            v = [num(kv, "baseline.mem.%s.%s" % (key, s)) for s in STAGES]
            w = [num(kv, "mem.%s.%s" % (key, s)) for s in STAGES]
            if any(v):
                rows.append(("baseline", "%s: %s, four stages" % (b, what),
                             "%.1f MiB" % (sum(x for x in v if x) / 1024),
                             "this build: %.1f MiB" % (
                                 sum(x for x in w if x) / 1024), "", ""))
        if "baseline.filters.per_s" in kv:
            rows.append(("baseline", "%s: events routed through 4 jq "
                         "filters" % b,
                         fmt(num(kv, "baseline.filters.per_s")) + " /s",
                         "this build: %s /s" % kv.get("filters.per_s"),
                         "", ""))
        if "baseline.latency.lat_p99_ms" not in kv:
            notes.append("baseline %s: no latency figures (see its "
                         "bench's output)" % b)

    # Cluster mode: two hosts on three NATS servers, beside the single host.
    cluster(kv, rs, rows, notes, details)

    # Micro.
    v, h = num(kv, "micro.verify_request"), num(kv, "micro.openssl_hmac")
    if v and h:
        rows.append(("micro", "verify_request() vs bare OpenSSL HMAC()",
                     "%.3f vs %.3f us" % (v, h), "%.2fx the HMAC" % (v / h),
                     "", ""))
        rows.append(("micro", "  keyed EVP_MAC_CTX dup / verify_extract "
                     "(JSON)", "%.3f / %.3f us" % (
                         num(kv, "micro.openssl_mac_ctx_dup", 0),
                         num(kv, "micro.verify_extract", 0)), "", "", ""))

    for k, v in sorted(kv.items()):
        if k.startswith("crash."):
            notes.append("hookpipe-%s DIED %s (restarted by the bench)" %
                         (k[6:], v))
    if kv.get("logs.warnings", "0 0 0 0").replace(" ", "").strip("0"):
        notes.append("warning/error lines in the stage logs (receiver "
                     "verifier router dispatcher): " + kv["logs.warnings"])
    busy = [num(kv, "machine.busy_before"), num(kv, "machine.busy_after")]
    if any(b is not None and b > 10 for b in busy):
        notes.append("other load on the machine: %s%% / %s%% of the CPUs "
                     "busy before / after the run: every figure is skewed" %
                     (kv.get("machine.busy_before"),
                      kv.get("machine.busy_after")))

    # stdout: one table.
    head = ("section", "measurement", "figure", "ratio / detail", "target",
            "")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    machine = "%s x %s, %s, %s" % (kv.get("machine.nproc"),
                                   kv.get("machine.model"),
                                   kv.get("machine.mem"),
                                   kv.get("machine.date"))
    print("\nhookpipe bench: " + machine)
    print("wrk -t%s -c%s -d%ss; results in %s" % (
        kv.get("config.threads"), kv.get("config.conns"),
        kv.get("config.seconds"), out_md))
    line = "  ".join("-" * w for w in widths)
    print(line)
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if r is head:
            print(line)
    print(line)
    for n in notes:
        print("note: " + n)

    # results.md
    md = ["# hookpipe benchmark results", "",
          "Written by `make bench` (bench/run.sh); see issue 7 for what is "
          "measured and why.", "",
          "## Machine", "",
          "| | |", "| --- | --- |"]
    for k, label in (("machine.date", "date"), ("machine.nproc", "nproc"),
                     ("machine.model", "CPU model name"),
                     ("machine.mem", "memory"),
                     ("machine.kernel", "kernel"), ("machine.os", "OS"),
                     ("machine.fs", "file system of HOOKPIPE_HOME"),
                     ("machine.commit", "hookpipe commit"),
                     ("machine.busy_before", "CPU busy before the run, %"),
                     ("machine.busy_after", "CPU busy after the run, %"),
                     ("version.wrk", "wrk"), ("version.nginx", "nginx"),
                     ("version.node", "node"),
                     ("version.standardwebhooks", "standardwebhooks (npm)"),
                     ("version.postgresql", "PostgreSQL"),
                     ("version.pg", "pg (npm)"),
                     ("version.webhook", "adnanh/webhook"),
                     ("version.nats_server", "nats-server")):
        md.append("| %s | %s |" % (label, kv.get(k, "-")))
    md += ["", "Load: wrk -t%s -c%s -d%ss per receipt measurement "
           "(%s round(s)); latency at %s events/s; HOOKPIPE_CONCURRENCY=%s."
           % (kv.get("config.threads"), kv.get("config.conns"),
              kv.get("config.seconds"), len(rs) or 0,
              kv.get("config.rate"), kv.get("config.concurrency")), "",
           "How to read it: *receipt* is wrk against each server with the "
           "same pre-signed requests; hookpipe's subscription has no "
           "workflow, so it is receipt, verification, durable storage and "
           "routing, every 2xx fsync'd. *latency* runs from the request "
           "written to the socket to the http action's arrival at a local "
           "sink (both CLOCK_MONOTONIC). *dispatch* queues runs while the "
           "dispatcher is stopped, then times it (http: first to last arrival "
           "at the sink; exec: dispatcher ready to the last run). *memory*: "
           "VmHWM counts the pages of the shared LMDB "
           "map each stage touched (page cache, counted once per stage; "
           "the kernel maps the whole page-cache folio around a page read, "
           "64 KiB and up); RssAnon is private memory; PSS splits the "
           "shared pages. How the figures moved, change by change: "
           "bench/history.md.", "",
           "## Figures", "",
           "| section | measurement | figure | ratio / detail | target | |",
           "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        md.append("| " + " | ".join(str(c).replace("|", "/") for c in r) +
                  " |")
    if notes:
        md += ["", "## Notes", ""] + ["- " + n for n in notes]
    if details:
        md += ["", "## Details", ""] + details
    md += ["", "## Every figure", "", "```"]
    md += ["%s=%s" % (k, v) for k, v in kv.items()
           if not k.startswith("machine.")]
    md += ["```", "", "## Commands", "",
           "Run from the repository root; `$WORK` is %s, secrets elided."
           % work, "", "```"]
    seen = set()
    for c in commands:
        c = re.sub(r"whsec_[A-Za-z0-9+/=]+", "whsec_...",
                   c.replace(work, "$WORK").replace(os.getcwd() + "/", ""))
        if c not in seen:
            seen.add(c)
            md.append(c)
    md.append("```")
    prof = os.path.join(work, "profile.txt")
    if os.path.exists(prof):
        md += ["", "## Profile (perf record -g of the four stages under "
               "wrk, self time)", "", "```"]
        with open(prof) as f:
            md += [l.rstrip("\n") for l in f]
        md.append("```")
    with open(out_md, "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
