#!/usr/bin/env bash
# Cluster mode under load and failures, checked end to end: two hosts on
# a three-server NATS cluster (R3), an exec workflow that appends
# "WEBHOOK_ID RUN_ID" to a file, four load generators (tests/chaos/
# loadgen.c): one per host, and one per host sending the first tenth of
# the other host's deliveries again (same webhook ids); every 20th
# delivery signed with a wrong key. Meanwhile: every stage of host A
# SIGKILLed (their supervise loops start them again), one NATS server
# SIGKILLed and started again, host B's dispatcher stopped for 10 s.
# Then: every 2xx'd, well signed delivery ran, under one run id, once
# (re-runs under the same run id only as many as one SIGKILL of a
# dispatcher can cut off: HOOKPIPE_CONCURRENCY, 16); a delivery sent to
# both hosts was stored once, one of its copies answered
# "duplicate":true; nothing 4xx'd or badly signed ran; `hookpipe events`
# and `hookpipe runs` on either host list the same events and runs.
#
# Environment: CHAOS_N (deliveries per host, 1000), CHAOS_RATE (per
# host, 60/s).
. "$(dirname "$0")/lib.sh"

N=${CHAOS_N:-1000}
RATE=${CHAOS_RATE:-60}
K=$((N / 10))			# sent again to the other host
BAD_EVERY=20
CONC=${HOOKPIPE_CONCURRENCY:-16}	# runs one dispatcher SIGKILL can cut off
RUNS=$T_DIR/runs
LG=$T_DIR/loadgen

if ! out=$(cc -O2 -Wall -Wextra -o "$LG" "$ROOT/tests/chaos/loadgen.c" \
    -lcrypto 2>&1); then
	not_ok "the load generator builds" "$out"
	finish
fi

cluster_init
two_hosts
new_sub chaos

# The action: the webhook id (the payload's "id", the run's inputs) and
# the run id, one line per attempt that ran to its end (one write of a
# short line to a file opened for appending: lines do not mix).
cat >"$T_DIR/action.sh" <<EOF
#!/bin/sh
IFS= read -r doc || [ -n "\$doc" ] || exit 1
case \$doc in
*'"inputs":{"id":"'*)
	t=\${doc#*'"inputs":{"id":"'}
	id=\${t%%'"'*}
	;;
*)
	exit 1
	;;
esac
printf '%s %s\n' "\$id" "\$HOOKPIPE_RUN_ID" >>"$RUNS"
EOF
chmod 755 "$T_DIR/action.sh"
: >"$RUNS"
if ! out=$(hookpipe workflow create w --exec "$T_DIR/action.sh" 2>&1) ||
    ! out=$(hookpipe workflow trigger w --sub chaos \
    --event batch.completed 2>&1) ||
    ! out=$(hookpipe workflow publish w 2>&1); then
	not_ok "the workflow is set up on host A" "$out"
	finish
fi
check "host B has the workflow" wait_for 30 published_on_b

# send NAME URL PREFIX EVENTS RATE: a load generator in the background,
# its outputs in $T_DIR/NAME.*; its pid appended to LG_PIDS.
LG_PIDS=()
TAG=$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
send() {
	"$LG" --url "$2" --sub "$SUB_ID" --secret "$SUB_SECRET" \
	    --prefix "$3" --tag "$TAG" -n "$4" -r "$5" -c 4 \
	    --bad-every "$BAD_EVERY" --deadline 150 --out "$T_DIR/$1.out" \
	    --stats "$T_DIR/$1.stats" --progress 2>"$T_DIR/$1.err" &
	LG_PIDS+=("$!")
	BG_PIDS+=("$!")
}
alive_pid() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}
# answered N: host A's load generator has had N final answers (from its
# progress lines, one a second), or has ended.
answered() {
	local n
	alive_pid "${LG_PIDS[0]}" || return 0
	n=$(sed -n 's/.* final \([0-9]*\)\/.*/\1/p' "$T_DIR/a.err" | tail -n 1)
	[ "${n:-0}" -ge "$1" ]
}
# stages_back OLD...: as many stages of host A as there were, each up
# under a pid other than the old ones.
stages_back() {
	local f p n=0
	for f in "$HOOKPIPE_HOME"/run/*.pid; do
		p=$(cat "$f" 2>/dev/null)
		case " $* " in *" $p "*) return 1 ;; esac
		alive_pid "$p" || return 1
		n=$((n + 1))
	done
	[ "$n" -eq $# ]
}

# The second copies go at a tenth of the rate: each one after its first
# copy, mostly, while the first copies go on.
send a "$BASE_A" evt_a_ "$N" "$RATE"
send b "$BASE_B" evt_b_ "$N" "$RATE"
RATE2=$((RATE >= 10 ? RATE / 10 : 1))
send ab "$BASE_B" evt_a_ "$K" "$RATE2"
send ba "$BASE_A" evt_b_ "$K" "$RATE2"

# Every stage of host A SIGKILLed at once, early in the load.
wait_for 60 answered $((N / 10))
old=$(cat "$HOOKPIPE_HOME"/run/*.pid)
# shellcheck disable=SC2086 # one pid a word
kill -KILL $old
# shellcheck disable=SC2086
echo "# $(date +%T) host A's stages SIGKILLed: $(printf '%s ' $old)"
# shellcheck disable=SC2086
check "host A's stages are started again by their supervise loops" \
    wait_for 60 stages_back $old

# A NATS server SIGKILLed (the event stream's leader), and started again.
wait_for 60 answered $((N * 4 / 10))
leader=$(hookpipe cluster status --json 2>/dev/null |
    json '[s["leader"] for s in d["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]' 2>/dev/null)
i=${leader#n}
case $i in 1 | 2 | 3) ;; *) i=2 ;; esac
nats_kill "$i"
echo "# $(date +%T) NATS server n$i SIGKILLed (the stream's leader: ${leader:-?})"

# Host B's dispatcher stopped for 10 s; the NATS server back meanwhile.
dispatcher_b() {
	on_b hookpipectl status --json 2>/dev/null |
	    json '[s["state"] for s in d["stages"] if s["name"] == "dispatcher"][0]'
}
on_b hookpipectl stop dispatcher >/dev/null 2>&1
assert_eq "host B's dispatcher stops" stopped "$(dispatcher_b)"
echo "# $(date +%T) host B's dispatcher stopped"
sleep 4
nats_start "$i"
echo "# $(date +%T) NATS server n$i started again"
sleep 6
out=$(on_b hookpipectl start 2>&1)
# shellcheck disable=SC2016 # expanded by eval
if wait_for 60 eval '[ "$(dispatcher_b)" = up ]'; then
	ok "host B's dispatcher starts again"
else
	not_ok "host B's dispatcher starts again" "$out" "state: $(dispatcher_b)"
fi
echo "# $(date +%T) host B's dispatcher started"

lg_rc=0
for p in "${LG_PIDS[@]}"; do
	wait "$p" || lg_rc=$?
done
for n in a b ab ba; do
	grep -v ' queued ' "$T_DIR/$n.err" | sed "s/^/# $n: /"
done
assert_eq "every delivery had a final answer before the senders' deadline" \
    0 "$lg_rc"

# pending: the 2xx'd, well signed deliveries that have not run yet.
pending() {
	python3 "$ROOT/tests/chaos/check.py" pending "$RUNS" "$BAD_EVERY" \
	    "$T_DIR"/a.out "$T_DIR"/b.out "$T_DIR"/ab.out "$T_DIR"/ba.out
}
# shellcheck disable=SC2016 # expanded by eval
if wait_for 120 eval '[ "$(pending)" = 0 ]'; then
	ok "every 2xx'd, well signed delivery ran"
else
	not_ok "every 2xx'd, well signed delivery ran" "$(pending) have not"
fi

# The CLI's lists, once every run the hosts list is over and each run
# that ran is listed, and both hosts list the same events.
settled() {
	hookpipe runs --json --limit 100000 >"$T_DIR/runs.a" 2>/dev/null &&
	    [ "$(json 'len([r for r in d if r["status"] != "succeeded"])' <"$T_DIR/runs.a")" = 0 ] &&
	    [ "$(json 'len(d)' <"$T_DIR/runs.a")" = "$(awk '{ print $2 }' "$RUNS" | sort -u | wc -l)" ]
}
check "every run the hosts list has succeeded, each run that ran is listed" \
    wait_for 120 settled
same_events() {
	hookpipe events --json --limit 100000 >"$T_DIR/events.a" 2>/dev/null &&
	    on_b hookpipe events --json --limit 100000 >"$T_DIR/events.b" 2>/dev/null &&
	    [ "$(json 'sorted(e["id"] for e in d)' <"$T_DIR/events.a")" = \
	    "$(json 'sorted(e["id"] for e in d)' <"$T_DIR/events.b")" ]
}
wait_for 60 same_events
hookpipe runs --json --limit 100000 >"$T_DIR/runs.a" 2>/dev/null
on_b hookpipe runs --json --limit 100000 >"$T_DIR/runs.b" 2>/dev/null

# The checks, one "ok - ..." or "not ok - ... :: evidence" line each.
python3 - "$T_DIR" "$BAD_EVERY" "$CONC" >"$T_DIR/checks" 2>&1 <<'EOF' ||
import collections
import json
import sys

d, bad_every, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def read_lg(name):
    with open("%s/%s.out" % (d, name)) as f:
        return [(p[0], int(p[1]), p[4] == "1", i % bad_every == bad_every - 1)
                for i, p in enumerate(l.split() for l in f)]


def load(name):
    try:
        with open("%s/%s" % (d, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def sample(xs, k=6):
    xs = sorted(xs)
    return " ".join(xs[:k]) + (" ...(+%d)" % (len(xs) - k) if len(xs) > k else "")


def check(good, what, evidence=()):
    print(("ok - " if good else "not ok - ") + what +
          ("" if good or not evidence else " :: " + sample(evidence)))


runs = collections.defaultdict(list)
with open(d + "/runs") as f:
    for l in f:
        p = l.split()
        runs[p[0]].append(p[1] if len(p) > 1 else "?")
lg = {n: read_lg(n) for n in ("a", "b", "ab", "ba")}
answers = collections.defaultdict(list)	# webhook id: [(status, dup)]
bad = set()
for n, evs in lg.items():
    for eid, st, dup, b in evs:
        answers[eid].append((st, dup))
        if b:
            bad.add(eid)

sent = sum(len(e) for e in lg.values())
unanswered = ["%s=%03d" % (e, s) for e, a in answers.items()
              for s, _ in a if not (200 <= s < 300 or 400 <= s < 500)]
check(not unanswered, "%d deliveries, each with a final 2xx or 4xx answer "
      "(%d not)" % (sent, len(unanswered)), unanswered)
wrong = ["%s=%d" % (e, s) for e, a in answers.items() for s, _ in a
         if (e in bad and s not in (401, 202)) or
         (e not in bad and not 200 <= s < 300)]
check(not wrong, "well signed deliveries 2xx, badly signed ones 401 (202 "
      "while host A's verifier was away)", wrong)

stored = {e for e, a in answers.items()
          if e not in bad and any(200 <= s < 300 for s, _ in a)}
lost = [e for e in stored if e not in runs]
check(not lost, "the %d 2xx'd, well signed webhook ids ran (%d did not)"
      % (len(stored), len(lost)), lost)
ran_bad = [e for e in runs if e in bad]
check(not ran_bad, "no badly signed delivery ran (%d did)" % len(ran_bad),
      ran_bad)
ran_4xx = [e for e in runs if any(400 <= s < 500 for s, _ in answers[e])]
check(not ran_4xx, "nothing 4xx'd ran (%d did)" % len(ran_4xx), ran_4xx)
stray = [e for e in runs if e not in answers]
check(not stray, "every run is of a sent delivery (%d strays)" % len(stray),
      stray)
two_ids = ["%s(%s)" % (e, ",".join(r)) for e, r in runs.items()
           if len(set(r)) > 1]
check(not two_ids, "no webhook id ran under two run ids (%d did)"
      % len(two_ids), two_ids)
reruns = sum(len(r) - 1 for r in runs.values())
print("# re-runs under the same run id (host A's dispatcher SIGKILLed "
      "once): %d" % reruns)
check(reruns <= conc, "re-runs under the same run id (%d) at most the runs "
      "one dispatcher SIGKILL cuts off (%d)" % (reruns, conc),
      [e for e, r in runs.items() if len(r) > 1])

# The ids sent to both hosts: stored once (one copy answered
# "duplicate":true, unless a copy was spooled, 202, and judged later),
# run once.
twice = [e for e, a in answers.items() if len(a) == 2 and e not in bad]
spooled = [e for e in twice if any(s == 202 for s, _ in answers[e])]
both_new = [e for e in twice if e not in spooled and
            not any(dup for _, dup in answers[e])]
print("# sent to both hosts: %d well signed (%d with a copy spooled, 202)"
      % (len(twice), len(spooled)))
check(len(twice) > 0 and not both_new, "a webhook id sent to both hosts: "
      "one copy answered \"duplicate\":true (%d of %d not)"
      % (len(both_new), len(twice)), both_new)
once = [e for e in twice if len(set(runs.get(e, []))) == 1]
check(len(once) == len(twice), "and ran under one run id (%d of %d)"
      % (len(once), len(twice)), [e for e in twice if e not in once])

# The CLI, on either host.
ev = {h: load("events." + h) for h in ("a", "b")}
dids = collections.Counter(e.get("delivery_id") for e in ev["a"])
again = [k for k, c in dids.items() if c > 1]
check(not again, "hookpipe events on host A: each delivery id once "
      "(%d more than once)" % len(again), again)
check(set(dids) == stored, "and the 2xx'd, well signed ones only "
      "(%d events, %d expected)" % (len(dids), len(stored)),
      list(set(dids) ^ stored))
ids = {h: sorted(e["id"] for e in ev[h]) for h in ev}
check(ids["a"] == ids["b"], "hookpipe events on host B: the same events "
      "(%d, %d)" % (len(ids["a"]), len(ids["b"])),
      list(set(ids["a"]) ^ set(ids["b"])))
rl = {h: load("runs." + h) for h in ("a", "b")}
rids = {h: sorted(r["id"] for r in rl[h]) for h in rl}
want = sorted({r for v in runs.values() for r in v})
check(rids["a"] == want, "hookpipe runs on host A: every run, of both hosts "
      "(%d listed, %d ran)" % (len(rids["a"]), len(want)),
      list(set(rids["a"]) ^ set(want)))
check(rids["b"] == rids["a"], "hookpipe runs on host B: the same runs "
      "(%d, %d)" % (len(rids["b"]), len(rids["a"])),
      list(set(rids["a"]) ^ set(rids["b"])))
hosts = collections.Counter(r.get("host") for r in rl["a"])
print("# runs per host: %s" % " ".join("%s=%d" % kv for kv in sorted(hosts.items())))
EOF
    echo "not ok - the checks ran to their end :: see above" >>"$T_DIR/checks"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*" :: "*)
		line=${line#not ok - }
		not_ok "${line%% :: *}" "${line#* :: }"
		;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) printf '# %s\n' "${line#\# }" ;;
	esac
done <"$T_DIR/checks"

finish
