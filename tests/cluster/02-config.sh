#!/usr/bin/env bash
# Cluster mode, step 2: the configuration shared through the
# hookpipe_config bucket. A subscription made on host A is in force on
# host B within seconds (same id, same secret), a workflow made on B runs
# on A, a deletion reaches the other host, a host whose stages were
# stopped catches up when they start, and two hosts changing the
# configuration at the same moment both keep their change.
. "$(dirname "$0")/lib.sh"

cluster_init

two_hosts

# lists ID [on_b]: the subscription ID is in `hookpipe sub list`.
lists() {
	local id=$1
	shift
	"$@" hookpipe sub list --json | grep -q "\"$id\""
}

new_sub on_a
ID_A=$SUB_ID
SECRET_A=$SUB_SECRET
if wait_for 30 lists "$ID_A" on_b; then
	ok "a subscription made on host A: host B lists it"
else
	not_ok "a subscription made on host A: host B lists it" \
	    "$(on_b hookpipe sub list 2>&1)"
fi
# The callback URL's host is each host's own HOOKPIPE_PUBLIC_URL.
assert_eq "with the same name and callback path" \
    "$(hookpipe sub show "$ID_A" --json | json 'd["name"] + " " + d["callback_url"].split("/", 3)[3]')" \
    "$(on_b hookpipe sub show "$ID_A" --json | json 'd["name"] + " " + d["callback_url"].split("/", 3)[3]')"

f=$(payload batch.completed "$T_DIR/p1.json")
BASE=$BASE_B deliver "$ID_A" "$SECRET_A" "$f"
assert_status "a delivery signed with its secret, to host B" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
out=$(on_b hookpipe event show "$ev" --json 2>&1)
assert_eq "host B stored it" "$MSG_ID" "$(json 'd["delivery_id"]' <<<"$out")"
BASE=$BASE_B deliver "$ID_A" "wrong$SECRET_A" "$f"
assert_status "a delivery with another secret, to host B" 401

# A workflow made on host B runs on host A.
DIR=$T_DIR/ran
if ! out=$(on_b hookpipe workflow create wb --exec "$(recorder "$DIR")" \
    2>&1) ||
    ! out=$(on_b hookpipe workflow trigger wb --sub "$ID_A" --event '*' \
    2>&1) ||
    ! out=$(on_b hookpipe workflow publish wb 2>&1); then
	not_ok "workflow wb is set up on host B" "$out"
	finish
fi
published_on_a() {
	hookpipe workflow show wb --json 2>/dev/null | grep -q '"published"'
}
if wait_for 30 published_on_a; then
	ok "host A has host B's workflow"
else
	not_ok "host A has host B's workflow" \
	    "$(hookpipe workflow show wb 2>&1)"
fi
sleep 1
f=$(payload batch.completed "$T_DIR/p2.json")
BASE=$BASE_A deliver "$ID_A" "$SECRET_A" "$f"
assert_status "a delivery to host A" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
if wait_for 30 eval 'grep -qs "HOOKPIPE_EVENT_ID=$ev" "$DIR"/*.env'; then
	ok "host B's workflow ran on host A for it"
else
	not_ok "host B's workflow ran on host A for it" \
	    "$(hookpipe runs 2>&1)"
fi

# A deletion on host A reaches host B.
new_sub gone
ID_G=$SUB_ID
wait_for 30 lists "$ID_G" on_b
check "sub delete on host A" hookpipe sub delete "$ID_G" --force
if wait_for 30 eval '! lists "$ID_G" on_b'; then
	ok "host B no longer lists the deleted subscription"
else
	not_ok "host B no longer lists the deleted subscription" \
	    "$(on_b hookpipe sub list 2>&1)"
fi
f=$(payload batch.completed "$T_DIR/p3.json")
BASE=$BASE_B deliver "$ID_G" "$SUB_SECRET" "$f"
assert_status "and refuses a delivery for it" 404

# Host B's stages stopped: a change made meanwhile reaches B at start.
on_b hookpipectl stop >/dev/null 2>&1
new_sub late
ID_L=$SUB_ID
sleep 2
if lists "$ID_L" on_b; then
	not_ok "host B stopped does not have the change yet" ""
else
	ok "host B stopped does not have the change yet"
fi
if ! out=$(on_b hookpipectl start 2>&1); then
	not_ok "host B starts again" "$out"
	finish
fi
if wait_for 30 lists "$ID_L" on_b; then
	ok "host B started again: it has the change made meanwhile"
else
	not_ok "host B started again: it has the change made meanwhile" \
	    "$(on_b hookpipe sub list 2>&1)"
fi
st=$(on_b hookpipe cluster status --json)
assert_eq "cluster status on host B: the latest revision applied" \
    "$(json 'd["config"]["latest"]' <<<"$st")" \
    "$(json 'd["config"]["applied"]' <<<"$st")"

# Two hosts change the configuration at the same moment (eight: with
# the two above, the 10 subscriptions an integration may have).
pids=()
want="late on_a"
for i in 1 2 3 4; do
	want="$want x$i y$i"
	hookpipe sub create "x$i" --integration openai --generate-secret \
	    >"$T_DIR/x$i" 2>&1 &
	pids+=($!)
	on_b hookpipe sub create "y$i" --integration openai --generate-secret \
	    >"$T_DIR/y$i" 2>&1 &
	pids+=($!)
done
# Not a bare wait: the NATS servers are this shell's children too.
bad=0
for p in "${pids[@]}"; do
	wait "$p" || bad=$((bad + 1))
done
if [ "$bad" = 0 ]; then
	ok "eight sub create at once, four per host: all exit 0"
else
	not_ok "eight sub create at once, four per host: all exit 0" \
	    "$bad failed: $(grep -h hookpipe: "$T_DIR"/[xy]* | sort | uniq -c)"
fi
names() {
	"$@" hookpipe sub list --json | json '" ".join(sorted(s["name"] for s in d))'
}
want=$(tr ' ' '\n' <<<"$want" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
if wait_for 30 eval '[ "$(names env)" = "$want" ] && [ "$(names on_b)" = "$want" ]'; then
	ok "subscriptions made on both hosts at once: both hosts have all eight"
else
	not_ok "subscriptions made on both hosts at once: both hosts have all eight" \
	    "A: $(names env); B: $(names on_b)"
fi

# A command's change is in its host's copy, at the revision it made,
# when the command ends (host A's admin stage, which applies the
# others' changes, stopped meanwhile).
hookpipectl stop admin >/dev/null 2>&1
check "host A's admin stage stopped: a change on host A" \
    hookpipe workflow create solo --exec true
st=$(hookpipe cluster status --json)
assert_eq "host A holds the revision it made" \
    "$(json 'd["config"]["latest"]' <<<"$st")" \
    "$(json 'd["config"]["applied"]' <<<"$st")"
hookpipectl start >/dev/null 2>&1

# Workflows set up step by step on both hosts at once: the admin stages
# apply each other's revisions all the while, and never an older one
# over a newer step (the trigger lost, then published without it).
# flow HOST... : the state and trigger count of each q workflow there.
flows() {
	"$@" hookpipe workflow list --json |
	    json '" ".join(sorted(w["name"] + ":" + w["state"] + ":" + str(len(w["triggers"])) for w in d if w["name"][0] == "q"))'
}
steps_b() {
	local i
	for i in 1 2 3 4 5 6; do
		on_b hookpipe workflow create "qb$i" --exec true >/dev/null &&
		    on_b hookpipe workflow trigger "qb$i" --sub "$ID_A" \
		    --event '*' >/dev/null &&
		    on_b hookpipe workflow publish "qb$i" >/dev/null || return 1
	done
}
steps_a() {
	local i
	for i in 1 2 3 4 5 6; do
		hookpipe workflow create "qa$i" --exec true >/dev/null &&
		    hookpipe workflow trigger "qa$i" --sub "$ID_A" \
		    --event '*' >/dev/null &&
		    hookpipe workflow publish "qa$i" >/dev/null || return 1
	done
}
steps_a &
pa=$!
steps_b &
pb=$!
wait "$pa" && wait "$pb"
check "six workflows set up on each host at once" test $? = 0
want=$(for h in a b; do for i in 1 2 3 4 5 6; do echo "q$h$i:published:1"; done; done | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
if wait_for 30 eval '[ "$(flows env)" = "$want" ] && [ "$(flows on_b)" = "$want" ]'; then
	ok "both hosts have all twelve, published, each with its trigger"
else
	not_ok "both hosts have all twelve, published, each with its trigger" \
	    "A: $(flows env); B: $(flows on_b)"
fi

finish
