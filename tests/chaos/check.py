#!/usr/bin/env python3
"""Checks the outcome of a chaos run (standard library only).

Inputs:
  RUNS      the file the exec action appends to: "EVENT_ID RUN_ID" per run
  MANIFEST  one scenario per line, tab-separated:
            NAME  LOADGEN_OUT  LOADGEN_STATS  FLAGS
            LOADGEN_OUT holds "WEBHOOK_ID STATUS ATTEMPTS LATENCY_MS DUP"
            per event (tests/chaos/loadgen.c); ids whose index is a multiple
            of BAD_EVERY minus one were signed with a wrong key.
            FLAGS, comma-separated, any of:
              dup-ok     duplicate runs under one run id are allowed here
                         (a SIGKILL of the dispatcher)
              dup-max=N  but no more than N of them (one SIGKILL can cut
                         off at most HOOKPIPE_CONCURRENCY runs)
              no-5xx     the sender must have seen no 5xx and no connection
                         error (a stage behind the receiver was disrupted)
              no-refuse  no connection refused or broken (receiver swap)
              no-202     no 202: the verifier was up all along, so every
                         delivery should have had its verdict
              bad=K      every K-th event carries a bad signature

Commands:
  check.py pending RUNS BAD_EVERY LOADGEN_OUT...
        prints how many 2xx'd, well signed events have not run yet
  check.py report MANIFEST RUNS CHECKS_FILE [TOTAL_DUP_MAX]
        prints a summary per scenario and appends one line per check to
        CHECKS_FILE: "ok - ..." or "not ok - ..." (with evidence);
        TOTAL_DUP_MAX bounds the re-runs under one run id over all
        scenarios
"""
import collections
import os
import sys


def read_runs(path):
    runs = collections.defaultdict(list)
    if not os.path.exists(path):
        return runs
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                runs[parts[0]].append(parts[1])
            elif len(parts) == 1:
                runs[parts[0]].append("?")
    return runs


def read_lg(path):
    """[(id, status, attempts, latency, dup)] in event order."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 5:
                out.append((p[0], int(p[1]), int(p[2]), int(p[3]), p[4] == "1"))
    return out


def read_stats(path):
    st = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    try:
                        st[k] = float(v) if "." in v else int(v)
                    except ValueError:
                        st[k] = v
    return st


def is_bad(i, bad_every):
    return bad_every > 0 and i % bad_every == bad_every - 1


def pending(runs_path, bad_every, lg_paths):
    runs = read_runs(runs_path)
    n = 0
    for p in lg_paths:
        for i, (eid, status, *_) in enumerate(read_lg(p)):
            if 200 <= status < 300 and not is_bad(i, bad_every) \
                    and eid not in runs:
                n += 1
    print(n)


def sample(xs, k=8):
    xs = sorted(xs)
    s = " ".join(xs[:k])
    return s + (" …(+%d)" % (len(xs) - k) if len(xs) > k else "")


def report(manifest, runs_path, checks_path, total_dup_max=None):
    runs = read_runs(runs_path)
    known = set()
    checks = []

    def check(ok, what, evidence=""):
        line = ("ok - " if ok else "not ok - ") + what
        if not ok and evidence:
            line += " :: " + evidence
        checks.append(line)

    rows = []
    total_dup = [0]
    with open(manifest) as f:
        scen = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    for name, lgout, lgstats, flags in scen:
        flags = [x for x in flags.split(",") if x]
        bad_every = 0
        dup_max = None
        for fl in flags:
            if fl.startswith("bad="):
                bad_every = int(fl[4:])
            if fl.startswith("dup-max="):
                dup_max = int(fl[8:])
        evs = read_lg(lgout)
        st = read_stats(lgstats)
        sent = len(evs)
        ok2, got4, unanswered, other = [], [], [], []
        valid_4xx, bad_200, bad_ids, n202 = [], [], [], 0
        for i, (eid, status, att, lat, dup) in enumerate(evs):
            known.add(eid)
            bad = is_bad(i, bad_every)
            if bad:
                bad_ids.append(eid)
            if status == 202:
                n202 += 1
            if 200 <= status < 300:
                # A badly signed delivery gets 202 while the verifier is
                # down (spooled, dropped once verified), never 200.
                if bad:
                    if status != 202:
                        bad_200.append("%s=%d" % (eid, status))
                else:
                    ok2.append(eid)
            elif 400 <= status < 500:
                got4.append(eid)
                if not bad:
                    valid_4xx.append("%s=%d" % (eid, status))
            elif status == 0:
                unanswered.append(eid)
            else:
                other.append("%s=%d" % (eid, status))
        ran = [e for e in ok2 if e in runs]
        lost = [e for e in ok2 if e not in runs]
        ran_4xx = [e for e in got4 if e in runs]
        ran_bad = [e for e in bad_ids if e in runs]
        dup_same, dup_diff = [], []
        for e in (x for x, *_ in evs):
            r = runs.get(e)
            if r and len(r) > 1:
                if len(set(r)) == 1:
                    dup_same.append(e)
                else:
                    dup_diff.append("%s(%s)" % (e, ",".join(r)))
        ran_any = sum(1 for e, *_ in evs if e in runs)
        n2xx = sum(1 for e in evs if 200 <= e[1] < 300)
        rows.append((name, sent, n2xx, n202, len(got4), ran_any, len(lost),
                     len(dup_same), len(dup_diff), len(unanswered),
                     st.get("retries", "-"), st.get("seen_5xx", "-"),
                     st.get("conn_errors", "-"), st.get("refused", "-"),
                     st.get("lat_mean_ms", "-"), st.get("lat_p99_ms", "-")))
        check(sent > 0, "%s: events sent" % name, "no loadgen output in " + lgout)
        check(not lost, "%s: every 2xx'd event ran (lost %d)" % (name, len(lost)),
              sample(lost))
        check(not ran_4xx, "%s: no 4xx'd event ran (%d did)" % (name, len(ran_4xx)),
              sample(ran_4xx))
        check(not ran_bad, "%s: no badly signed delivery ran (%d did)"
              % (name, len(ran_bad)), sample(ran_bad))
        check(not dup_diff, "%s: no event ran twice under different run ids (%d did)"
              % (name, len(dup_diff)), sample(dup_diff, 4))
        if "dup-ok" not in flags:
            check(not dup_same, "%s: no event ran twice (%d ran again under the same run id)"
                  % (name, len(dup_same)), sample(dup_same))
        elif dup_max is not None:
            check(len(dup_same) <= dup_max,
                  "%s: re-runs under the same run id (%d) at most the runs one SIGKILL "
                  "can cut off (%d)" % (name, len(dup_same), dup_max), sample(dup_same))
        total_dup[0] += len(dup_same)
        check(not unanswered and not other,
              "%s: every delivery got a final 2xx/4xx answer (%d none, %d other)"
              % (name, len(unanswered), len(other)),
              sample(unanswered + other))
        check(not valid_4xx and not bad_200,
              "%s: valid deliveries 2xx, badly signed ones 401 (or 202 while the verifier is down)" % name,
              "valid answered 4xx: %s; bad answered 200: %s"
              % (sample(valid_4xx, 4), sample(bad_200, 4)))
        if "no-5xx" in flags:
            n5, nce = st.get("seen_5xx", 0), st.get("conn_errors", 0)
            check(n5 == 0 and nce == 0,
                  "%s: receiver kept answering 2xx (5xx seen %s, connection errors %s)"
                  % (name, n5, nce), "loadgen stats in " + lgstats)
        if "no-202" in flags:
            check(n202 == 0, "%s: no 202 while the verifier was up (%d deliveries "
                  "answered 202 \"accepted, not yet verified\")" % (name, n202),
                  "the receiver spooled them: grep 'verifier away' log/receiver.log")
        if "no-refuse" in flags:
            nr, nce = st.get("refused", 0), st.get("conn_errors", 0)
            nst = st.get("stale_keepalive", 0)
            check(nr == 0 and nce == 0 and nst == 0,
                  "%s: no connection refused or broken (refused %s, errors %s, "
                  "keep-alive closed under a request %s)" % (name, nr, nce, nst),
                  "loadgen stats in " + lgstats)

    if total_dup_max is not None:
        check(total_dup[0] <= total_dup_max,
              "re-runs under the same run id over all scenarios (%d) at most the runs "
              "the SIGKILLs can cut off (%d)" % (total_dup[0], total_dup_max))
    stray = [e for e in runs if e not in known]
    check(not stray, "runs file: every run belongs to a sent event (%d strays)"
          % len(stray), sample(stray))

    hdr = ("scenario", "sent", "2xx", "of-which-202", "4xx", "run", "lost", "dup-same-run",
           "dup-diff-run", "unanswered", "retries", "5xx-seen", "conn-err",
           "refused", "lat-mean-ms", "lat-p99-ms")
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = "  ".join("%%-%ds" % w[0] if i == 0 else "%%%ds" % w[i]
                    for i in range(len(hdr)))
    print(fmt % hdr)
    tot = [0] * 9
    for r in rows:
        print(fmt % tuple(str(x) for x in r))
        for i in range(9):
            tot[i] += r[1 + i]
    print(fmt % tuple(["TOTAL"] + [str(x) for x in tot] + [""] * 6))
    with open(checks_path, "a") as f:
        for c in checks:
            f.write(c + "\n")
    for c in checks:
        if c.startswith("not ok"):
            print(c)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "pending":
        pending(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4],
               int(sys.argv[5]) if len(sys.argv) == 6 else None)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
