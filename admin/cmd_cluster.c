/*
 * hookpipe cluster: the NATS JetStream side of cluster mode (see
 * common/cluster.h): create its streams and buckets, show their state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cluster.h"

static int	cluster_init_cmd(struct ctx *, const struct cmd *, int, char **);
static int	cluster_forget_cmd(struct ctx *, const struct cmd *, int,
		    char **);
static int	cluster_status_cmd(struct ctx *, const struct cmd *, int,
		    char **);

const struct cmd cluster_cmds[] = {
	{ "init", cluster_init_cmd, "cluster init [--replicas N]",
	    "Create in the NATS JetStream cluster of HOOKPIPE_NATS what the "
	    "hosts share: the stream " CLUSTER_EVENTS " (subjects "
	    CLUSTER_EVENTS_SUBJ ".>, file storage, a 2-minute duplicate "
	    "window), the bucket " CLUSTER_DEDUPE " (delivery ids, kept 7 "
	    "days), the bucket " CLUSTER_CONFIG " (the configuration every "
	    "host applies), the consumer " CLUSTER_ROUTER " of "
	    CLUSTER_EVENTS " (the routers of every host take turns at it), "
	    "the bucket " CLUSTER_CLAIMS " (the run ids created, one host "
	    "each), the bucket " CLUSTER_HOSTS " (the hosts up, each "
	    "seen in the last 15 s), and the stream " CLUSTER_RUNS " (the "
	    "last copy of each run, for the other hosts to show while its "
	    "host is down). Each with N replicas "
	    "(default 3; 1 for a single NATS server); the streams keep "
	    "messages for HOOKPIPE_RETENTION, at least 7 days. Run it once "
	    "from any host; running it again changes nothing, or the "
	    "replicas and the age limit.", 0,
	    NULL, NULL },
	{ "status", cluster_status_cmd, "cluster status",
	    "The NATS connection and, for each stream and bucket: messages, "
	    "bytes, consumers, replicas, the leader and each follower's "
	    "state; then the configuration revision this host applied and "
	    "the bucket " CLUSTER_CONFIG "'s latest; then the hosts up "
	    "(each host's admin stage says so every 5 s, and when it "
	    "stops): name, version, up since, last seen; then the hosts "
	    "forgotten, with the events of their unfinished runs not routed "
	    "again yet; then, with HOOKPIPE_CLUSTER_TAKEOVER, each router's "
	    "last beat and lease, and the hosts lost. Exits 1 when NATS "
	    "cannot be reached or something is missing.", 0, NULL, NULL },
	{ "forget", cluster_forget_cmd, "cluster forget [--undo] HOST",
	    "Say that HOST (a name as cluster status and the routers' log "
	    "show it, hostname:HOOKPIPE_HOME) is gone for good, its state "
	    "directory lost: the routers of the other hosts then take over "
	    "the runs it claimed for events it never acknowledged, which "
	    "otherwise wait for it to come back (7 days at most), and route "
	    "again the events whose runs it created and had not ended, "
	    "which run on them under the same run ids (a run it was in the "
	    "middle of, or ended in its last seconds, may run twice). "
	    "Refused while HOST is up. Its router refuses to start again "
	    "with that state directory; --undo takes the word back (HOST is "
	    "back, and may run an event another host took over too).", 1,
	    "HOST",
	    NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

static int
connect_or_fail(struct cluster *cl)
{
	char err[1024];

	if (!cluster_enabled())
		return fail("HOOKPIPE_NATS is not set: cluster mode needs the "
		    "URLs of the NATS servers (nats://HOST:4222,...)");
	if (cluster_connect(cl, "hookpipe", err, sizeof(err)) != 0)
		return fail("%s", err);
	return 0;
}

static int
cluster_init_cmd(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *rs = NULL;
	const struct opt opts[] = {
		{ "replicas", OPT_STR, &rs },
		{ NULL, 0, NULL }
	};
	struct cluster cl;
	char **args, err[1024];
	int64_t replicas = CLUSTER_REPLICAS;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (rs != NULL && parse_i64(rs, 1, 5, &replicas) != 0)
		return usage_error(ctx, "--replicas: %s is not a number of "
		    "replicas from 1 to 5", rs);
	if ((rc = connect_or_fail(&cl)) != 0)
		return rc;
	rc = cluster_init(&cl, (int)replicas, ctx->cfg.retention_s, err,
	    sizeof(err));
	cluster_close(&cl);
	if (rc != 0)
		return fail("%s (with --replicas %d, the NATS cluster needs at "
		    "least %d servers with JetStream)", err, (int)replicas,
		    (int)replicas);
	if (ctx->json)
		return json_print(json_pack("{s:I, s:[s,s,s,s,s,s,s]}",
		    "replicas", (json_int_t)replicas, "created",
		    CLUSTER_EVENTS, CLUSTER_RUNS, CLUSTER_DEDUPE,
		    CLUSTER_CONFIG, CLUSTER_CLAIMS, CLUSTER_HOSTS,
		    CLUSTER_ROUTER));
	printf("cluster ready: streams %s and %s, buckets %s, %s, %s and %s, "
	    "consumer %s, %d replicas each\n", CLUSTER_EVENTS, CLUSTER_RUNS,
	    CLUSTER_DEDUPE, CLUSTER_CONFIG, CLUSTER_CLAIMS, CLUSTER_HOSTS,
	    CLUSTER_ROUTER, (int)replicas);
	return EXIT_OK;
}

/* The durable consumers of every stream, when there are any. */
static void
print_durables(json_t *streams)
{
	struct table t;
	json_t *s, *d;
	size_t i, j;
	char n[4][24];
	int any = 0;

	table_init(&t, 6, "CONSUMER", "STREAM", "PENDING", "ACK_PENDING",
	    "REDELIVERED", "WAITING");
	json_array_foreach(streams, i, s) {
		json_array_foreach(json_object_get(s, "durables"), j, d) {
			snprintf(n[0], sizeof(n[0]), "%lld", (long long)
			    json_integer_value(json_object_get(d, "pending")));
			snprintf(n[1], sizeof(n[1]), "%lld", (long long)
			    json_integer_value(json_object_get(d,
			    "ack_pending")));
			snprintf(n[2], sizeof(n[2]), "%lld", (long long)
			    json_integer_value(json_object_get(d,
			    "redelivered")));
			snprintf(n[3], sizeof(n[3]), "%lld", (long long)
			    json_integer_value(json_object_get(d, "waiting")));
			table_row(&t, json_string_value(json_object_get(d,
			    "name")), json_string_value(json_object_get(s,
			    "name")), n[0], n[1], n[2], n[3]);
			any = 1;
		}
	}
	if (any)
		table_print(&t, stdout);
	table_free(&t);
}

static int
cluster_forget_cmd(struct ctx *ctx, const struct cmd *c, int argc,
    char **argv)
{
	int undo = 0, up, rc;
	const struct opt opts[] = {
		{ "undo", OPT_FLAG, &undo },
		{ NULL, 0, NULL }
	};
	struct cluster cl;
	char **args, err[1024];
	const char *host;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	host = args[0];
	if (host[0] == '\0' || strlen(host) >= CLUSTER_HOST_LEN)
		return usage_error(ctx, "HOST: a host's name, as `hookpipe "
		    "cluster status` shows it");
	if ((rc = connect_or_fail(&cl)) != 0)
		return rc;
	if (!undo && (up = cluster_host_up(&cl, host)) != 0) {
		cluster_close(&cl);
		if (up == 1)
			return fail("%s is up (its admin stage said so in the "
			    "last %d s): forget is for a host gone for good; "
			    "stop it first", host, CLUSTER_HOST_TTL_S);
		return fail("cannot tell whether %s is up (bucket %s: run "
		    "hookpipe cluster init)", host, CLUSTER_HOSTS);
	}
	rc = cluster_host_forget(&cl, host, undo, err, sizeof(err));
	cluster_close(&cl);
	if (rc != 0)
		return fail("%s", err);
	if (ctx->json)
		return json_print(json_pack("{s:s, s:b}", "host", host,
		    "forgotten", !undo));
	if (undo)
		printf("%s is not forgotten any more: the runs it claimed "
		    "wait for it again\n", host);
	else
		printf("forgotten: %s. The routers take over the runs it "
		    "claimed for events it never acknowledged, and run again "
		    "the runs it had not ended. Do not start it again with "
		    "its state directory.\n", host);
	return EXIT_OK;
}

/* A string member, or "?". */
static const char *
field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "?";
}

/* The hosts up, or why they are not known. */
static void
print_hosts(json_t *st)
{
	struct table t;
	json_t *h;
	size_t i;
	char seen[32];

	if (json_object_get(st, "hosts") == NULL) {
		printf("hosts: %s\n", json_string_value(json_object_get(st,
		    "hosts_error")));
		return;
	}
	table_init(&t, 4, "HOST", "VERSION", "UP SINCE", "SEEN");
	json_array_foreach(json_object_get(st, "hosts"), i, h) {
		snprintf(seen, sizeof(seen), "%lld s ago", (long long)
		    json_integer_value(json_object_get(h, "seen_s")));
		table_row(&t, json_string_value(json_object_get(h, "host")),
		    json_string_value(json_object_get(h, "version")),
		    json_string_value(json_object_get(h, "since")), seen);
	}
	printf("hosts up (seen in the last %d s): %zu\n",
	    CLUSTER_HOST_TTL_S, json_array_size(json_object_get(st,
	    "hosts")));
	if (json_array_size(json_object_get(st, "hosts")) > 0)
		table_print(&t, stdout);
	table_free(&t);
	json_array_foreach(json_object_get(st, "beats"), i, h)
		printf("router of %s: last beat %lld s ago, lease %lld s%s\n",
		    field(h, "host"), (long long)json_integer_value(
		    json_object_get(h, "age_ms")) / 1000,
		    (long long)json_integer_value(json_object_get(h,
		    "lease_s")), json_is_true(json_object_get(h, "lost")) ?
		    " (lost: the other hosts take its runs over)" : "");
	json_array_foreach(json_object_get(st, "forgotten"), i, h) {
		printf("forgotten: %s, at %s by %s (hookpipe cluster forget; "
		    "--undo takes it back)\n", field(h, "host"), field(h, "at"),
		    field(h, "by"));
		if (json_integer_value(json_object_get(h, "unfinished")) > 0)
			printf("  %lld events of its unfinished runs wait for "
			    "another host's router to route them again\n",
			    (long long)json_integer_value(json_object_get(h,
			    "unfinished")));
	}
}

/*
 * A forgotten host's events whose runs no other host has run again yet
 * (the ids left in its marks): "unfinished", or nothing when the marks
 * cannot be read.
 */
static void
unfinished_count(struct cluster *cl, json_t *h)
{
	const char *host = json_string_value(json_object_get(h, "host"));
	char err[1024];
	json_t *marks, *m;
	const char *p;
	size_t i;
	json_int_t n = 0;

	if (host == NULL ||
	    (marks = cluster_marks(cl, host, 0, err, sizeof(err))) == NULL)
		return;
	json_array_foreach(marks, i, m)
		for (p = json_string_value(json_object_get(m, "ids"));
		    p != NULL && *p != '\0'; p += strspn(p, " "))
			if (*p != ' ') {
				n++;
				p += strcspn(p, " ");
			}
	json_decref(marks);
	json_object_set_new(h, "unfinished", json_integer(n));
}

/* A router's beat (HOOKPIPE_CLUSTER_TAKEOVER): "lost" when its host
 * has not been heard from for the takeover time and twice its lease. */
static void
beat_lost(struct ctx *ctx, json_t *b)
{
	json_int_t lease = json_integer_value(json_object_get(b, "lease_s"));
	json_int_t age = json_integer_value(json_object_get(b, "age_ms"));

	json_object_set_new(b, "lost", json_boolean(ctx->cfg.takeover_s > 0 &&
	    lease > 0 && age >= ctx->cfg.takeover_s * 1000 &&
	    age >= 2 * lease * 1000));
}

static int
cluster_status_cmd(struct ctx *ctx, const struct cmd *c, int argc,
    char **argv)
{
	struct cluster cl;
	struct table t;
	json_t *st, *s, *f, *hosts;
	size_t i, j;
	char **args, msgs[24], reps[24], peers[256];
	int rc, bad = 0;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = connect_or_fail(&cl)) != 0)
		return rc;
	st = cluster_status(&cl);
	if (st != NULL) {
		uint64_t latest = 0, applied = 0;
		MDB_txn *txn;
		char err[1024];

		if (ccfg_latest(&cl, NULL, &latest, err, sizeof(err)) != 0)
			bad = 1;
		if ((rc = ctx_open(ctx, 0)) != 0) {
			cluster_close(&cl);
			json_decref(st);
			return rc;
		}
		if ((txn = txn_read(ctx, DB_CONFIG)) != NULL) {
			applied = ccfg_applied(txn, &ctx->db);
			mdb_txn_abort(txn);
		}
		json_object_set_new(st, "config", json_pack("{s:I, s:I}",
		    "applied", (json_int_t)applied, "latest",
		    (json_int_t)latest));
		if ((hosts = cluster_hosts(&cl, err, sizeof(err))) != NULL)
			json_object_set_new(st, "hosts", hosts);
		else {
			json_object_set_new(st, "hosts_error",
			    json_string(err));
			bad = 1;
		}
		if ((hosts = cluster_forgotten(&cl, err, sizeof(err))) != NULL)
			json_object_set_new(st, "forgotten", hosts);
		json_array_foreach(hosts, i, s)
			unfinished_count(&cl, s);
		if ((hosts = cluster_beats(&cl, err, sizeof(err))) != NULL)
			json_object_set_new(st, "beats", hosts);
		json_array_foreach(hosts, i, s)
			beat_lost(ctx, s);
	}
	cluster_close(&cl);
	if (st == NULL)
		return fail("out of memory");
	json_array_foreach(json_object_get(st, "streams"), i, s)
		if (json_object_get(s, "error") != NULL)
			bad = 1;
	if (ctx->json) {
		json_print(st);
		return bad ? EXIT_FAIL : EXIT_OK;
	}
	printf("NATS: connected to %s (of %s)\n",
	    json_string_value(json_object_get(st, "connected")) ?
	    json_string_value(json_object_get(st, "connected")) : "none",
	    json_string_value(json_object_get(st, "servers")));
	table_init(&t, 6, "NAME", "KIND", "MESSAGES", "REPLICAS", "LEADER",
	    "FOLLOWERS");
	json_array_foreach(json_object_get(st, "streams"), i, s) {
		const char *e = json_string_value(json_object_get(s, "error"));

		if (e != NULL) {
			table_row(&t, json_string_value(json_object_get(s,
			    "name")), json_string_value(json_object_get(s,
			    "kind")), "-", "-", "-", e);
			continue;
		}
		snprintf(msgs, sizeof(msgs), "%lld", (long long)
		    json_integer_value(json_object_get(s, "messages")));
		snprintf(reps, sizeof(reps), "%lld", (long long)
		    json_integer_value(json_object_get(s, "replicas")));
		peers[0] = '\0';
		json_array_foreach(json_object_get(s, "followers"), j, f) {
			size_t n = strlen(peers);

			snprintf(peers + n, sizeof(peers) - n, "%s%s %s",
			    n ? ", " : "", json_string_value(json_object_get(f,
			    "name")), json_is_true(json_object_get(f,
			    "offline")) ? "offline" : json_is_true(
			    json_object_get(f, "current")) ? "current" :
			    "behind");
		}
		table_row(&t, json_string_value(json_object_get(s, "name")),
		    json_string_value(json_object_get(s, "kind")), msgs, reps,
		    json_string_value(json_object_get(s, "leader")) ?
		    json_string_value(json_object_get(s, "leader")) : "-",
		    peers[0] ? peers : "-");
	}
	table_print(&t, stdout);
	table_free(&t);
	print_durables(json_object_get(st, "streams"));
	printf("configuration: revision %lld applied here, %lld the "
	    "latest in %s\n", (long long)json_integer_value(json_object_get(
	    json_object_get(st, "config"), "applied")), (long long)
	    json_integer_value(json_object_get(json_object_get(st, "config"),
	    "latest")), CLUSTER_CONFIG);
	print_hosts(st);
	json_decref(st);
	return bad ? EXIT_FAIL : EXIT_OK;
}

/*
 * The runs of every host (hookpipe runs, run show, event show, workflow
 * test in cluster mode): this host's, then the other hosts' as their
 * admin stages answer the ask CLUSTER_ASK_RUNS (see answer_runs in
 * admind.c). A host whose admin stage does not answer (stopped, cut off)
 * is listed as its runs' copies in HOOKPIPE_RUNS have it.
 */
#define ASK_MS	3000

struct ask_runs {
	const char	*self;		/* this host's name: its answer skipped */
	json_t		*runs;		/* hookpipe runs: appended to */
	json_t		*run;		/* run show: the first found */
	json_t		*answered;	/* the hosts that answered */
	const char	*event;		/* runs of that event only */
	int		 test;		/* test runs only */
};

/* A host of an earlier version passes over the filters it does not
 * know (--event, --test): what it answers is checked here. */
static int
runs_wanted(const struct ask_runs *q, json_t *r)
{
	const char *ev = json_string_value(json_object_get(r, "event_id"));

	return (q->event == NULL || (ev != NULL && strcmp(ev, q->event) == 0))
	    && (!q->test || json_is_true(json_object_get(r, "test")));
}

static void
runs_answer(void *arg, json_t *ans)
{
	struct ask_runs *q = arg;
	const char *host = json_string_value(json_object_get(ans, "host"));
	json_t *a = json_object_get(ans, "answer"), *r;
	size_t i;

	if (host == NULL || strcmp(host, q->self) == 0)
		return;
	if (q->answered != NULL)
		json_array_append_new(q->answered, json_string(host));
	if (json_integer_value(json_object_get(ans, "status")) != 0)
		return;
	if (q->runs != NULL && json_is_array(a))
		json_array_foreach(a, i, r) {
			if (!runs_wanted(q, r))
				continue;
			json_object_set_new(r, "host", json_string(host));
			json_array_append(q->runs, r);
		}
	if (q->runs == NULL && q->run == NULL && json_is_object(a)) {
		json_object_set_new(a, "host", json_string(host));
		q->run = json_incref(a);
	}
}

static int
newest_first(const void *x, const void *y)
{
	const char *a = json_string_value(json_object_get(*(json_t *const *)x,
	    "created_at"));
	const char *b = json_string_value(json_object_get(*(json_t *const *)y,
	    "created_at"));

	return strcmp(b ? b : "", a ? a : "");
}

/* A copy the command lists: of its workspace, and as its filters say. */
struct copy_want {
	struct ctx		*ctx;
	const struct runs_ask	*ra;
	json_t			*runs;	/* listed already */
};

static int
copy_wanted(void *arg, json_t *c)
{
	struct copy_want *w = arg;
	json_t *r;
	size_t i;

	if (strcmp(field(c, "workspace"), w->ctx->ws) != 0 ||
	    (w->ra->workflow != NULL && strcmp(field(c, "workflow"),
	    w->ra->workflow) != 0) ||
	    (w->ra->status != NULL && strcmp(field(c, "status"),
	    w->ra->status) != 0) ||
	    (w->ra->test && !json_is_true(json_object_get(c, "test"))))
		return 0;
	/* A run taken over: the host that has it now answered for it. */
	json_array_foreach(w->runs, i, r)
		if (strcmp(field(c, "id"), field(r, "id")) == 0)
			return 0;
	return 1;
}

/*
 * The runs of hosts that did not answer (down, cut off): an event's
 * copies, or each such host's newest copies, as each run was when its
 * last attempt ended (the dispatchers send them).
 */
static void
runs_add_copies(struct ctx *ctx, struct cluster *cl, json_t *runs,
    const struct runs_ask *ra, json_t *answered, int64_t lim)
{
	struct copy_want w = { ctx, ra, runs };
	json_t *copies, *c;
	char err[1024];
	size_t i;

	if (ra->event == NULL) {
		copies = json_array();
		if (cluster_host_copies(cl, answered, copy_wanted, &w,
		    (size_t)lim, copies, err, sizeof(err)) == -1)
			warnmsg("cluster: %s: the runs of hosts that do not "
			    "answer are not listed", err);
	} else if ((copies = cluster_run_copies(cl, ra->event, NULL, err,
	    sizeof(err))) == NULL) {
		warnmsg("cluster: %s: the runs of hosts that do not answer are "
		    "not listed", err);
		return;
	}
	json_array_foreach(copies, i, c)
		if (ra->event == NULL || copy_wanted(&w, c))
			json_array_append(runs, c);
	json_decref(copies);
}

/* name is one of the hosts in a (an array of names). */
static int
host_in(json_t *a, const char *name)
{
	json_t *h;
	size_t i;

	json_array_foreach(a, i, h)
		if (json_is_string(h) &&
		    strcmp(json_string_value(h), name) == 0)
			return 1;
	return 0;
}

/*
 * Runs that neither a host nor a copy showed, from their claims: of the
 * candidates cand ({id, workflow, event_id, created_at}, the runs the
 * events' triggers make), those a host that did not answer claimed (its
 * router made them, and no attempt of them has ended there, or its copy
 * was lost), shown as queued, on that host; up to lim.
 */
static void
runs_add_claims(struct ctx *ctx, struct cluster *cl, json_t *runs,
    json_t *cand, json_t *answered, int64_t lim, int copies)
{
	char owner[CLUSTER_HOST_LEN], err[256];
	json_t *c, *r, *cp;
	size_t i, j;
	int64_t n = 0;
	int have;

	json_array_foreach(cand, i, c) {
		if (n >= lim)
			break;
		have = 0;
		json_array_foreach(runs, j, r)
			have |= strcmp(field(c, "id"), field(r, "id")) == 0;
		if (have || cluster_claim_owner(cl, field(c, "id"), owner,
		    sizeof(owner)) != 1 || strcmp(owner, cl->host) == 0 ||
		    host_in(answered, owner))
			continue;
		/* A run whose copy the command's filters left out (copies:
		 * not looked up yet) has ended an attempt: not queued. */
		if (copies) {
			cp = cluster_run_copies(cl, field(c, "event_id"),
			    field(c, "id"), err, sizeof(err));
			have = cp == NULL || json_array_size(cp) > 0;
			json_decref(cp);
			if (have)
				continue;
		}
		json_array_append_new(runs, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:i, s:[], s:O, s:s, s:b}", "id", field(c, "id"),
		    "workspace", ctx->ws, "workflow", field(c, "workflow"),
		    "event_id", field(c, "event_id"), "status", "queued",
		    "attempts", 0, "history", "created_at",
		    json_object_get(c, "created_at"), "host", owner, "claim",
		    1));
		n++;
	}
}

static int
newest_id_first(const void *x, const void *y)
{
	return strcmp(json_string_value(*(json_t *const *)y),
	    json_string_value(*(json_t *const *)x));
}

/*
 * hookpipe runs: the runs hosts that did not answer made and have not
 * ended (their routers' marks name the events), newest event first
 * (event ids are in time order), as runs_add_claims finds them. A run
 * with a copy is listed as its copy already.
 */
static void
runs_add_marked(struct ctx *ctx, struct cluster *cl, json_t *runs,
    const struct runs_ask *ra, json_t *answered, int64_t lim)
{
	char err[1024], dg[33], *ids, *tok, *save;
	json_t *keys, *skip, *marks, *m, *evs, *cand, *c, **v;
	size_t i, j, n = 0;

	if (ra->test || (ra->status != NULL && strcmp(ra->status,
	    "queued") != 0))
		return;
	/* The hosts with marks ("o." + digest + "." + slot), their keys
	 * alone, then the marks of those that neither are this host nor
	 * answered. */
	if ((keys = cluster_marks_of(cl, NULL, 1, err, sizeof(err))) == NULL) {
		warnmsg("cluster: %s: the queued runs of hosts that do not "
		    "answer are not listed", err);
		return;
	}
	skip = cluster_digests(cl, answered);
	evs = json_array();
	json_array_foreach(keys, i, m) {
		if (strlen(field(m, "key")) < 2 + 32 + 1)
			continue;
		snprintf(dg, sizeof(dg), "%.32s", field(m, "key") + 2);
		if (cluster_digest_in(skip, dg))
			continue;
		json_array_append_new(skip, json_string(dg));
		if ((marks = cluster_marks_of(cl, dg, 0, err, sizeof(err))) ==
		    NULL) {
			warnmsg("cluster: %s: the queued runs of hosts that do "
			    "not answer are not listed", err);
			continue;
		}
		json_array_foreach(marks, j, c) {
			if ((ids = strdup(field(c, "ids"))) == NULL)
				continue;
			for (tok = strtok_r(ids, " ", &save); tok != NULL;
			    tok = strtok_r(NULL, " ", &save))
				if (uuid_valid(tok))
					json_array_append_new(evs,
					    json_string(tok));
			free(ids);
		}
		json_decref(marks);
	}
	json_decref(keys);
	json_decref(skip);
	/* The newest events, as many as the limit (a run each at least). */
	n = json_array_size(evs);
	if ((v = calloc(n + 1, sizeof(*v))) != NULL) {
		for (i = 0; i < n; i++)
			v[i] = json_array_get(evs, i);
		qsort(v, n, sizeof(*v), newest_id_first);
		cand = json_array();
		for (i = 0; i < n && (int64_t)i < lim; i++)
			json_array_append(cand, v[i]);
		free(v);
		json_decref(evs);
		evs = cand;
	}
	cand = events_run_ids(ctx, evs);
	json_decref(evs);
	/* --workflow: its runs only. */
	for (i = json_array_size(cand); ra->workflow != NULL && i > 0; i--) {
		c = json_array_get(cand, i - 1);
		if (strcmp(field(c, "workflow"), ra->workflow) != 0)
			json_array_remove(cand, i - 1);
	}
	runs_add_claims(ctx, cl, runs, cand, answered, lim, 1);
	json_decref(cand);
}

int
cluster_runs(struct ctx *ctx, json_t *runs, const struct runs_ask *ra,
    int64_t lim)
{
	struct cluster cl;
	struct ask_runs q = { .runs = runs, .event = ra->event,
	    .test = ra->test };
	json_t *req, **v, *r;
	char err[1024];
	size_t i, n;
	int rc;

	if ((rc = cluster_connect(&cl, "hookpipe", err, sizeof(err))) != 0) {
		warnmsg("cluster: %s: this host's runs only", err);
		return -1;
	}
	json_array_foreach(runs, i, r)
		json_object_set_new(r, "host", json_string(cl.host));
	q.self = cl.host;
	q.answered = json_array();
	req = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:b}", "what",
	    "runs", "workspace", ctx->ws, "workflow", ra->workflow, "status",
	    ra->status, "event", ra->event, "limit", ra->limit, "test",
	    ra->test);
	rc = cluster_ask(&cl, CLUSTER_ASK_RUNS, req, ASK_MS, runs_answer, &q,
	    err, sizeof(err));
	json_decref(req);
	if (rc == -1)
		warnmsg("cluster: %s: this host's runs only", err);
	else {
		runs_add_copies(ctx, &cl, runs, ra, q.answered, lim);
		if (ra->event != NULL && ra->claims != NULL)
			runs_add_claims(ctx, &cl, runs, ra->claims, q.answered,
			    lim, 0);
		else if (ra->event == NULL)
			runs_add_marked(ctx, &cl, runs, ra, q.answered, lim);
	}
	json_decref(q.answered);
	cluster_close(&cl);
	/* Newest first, as one host lists them, and no more than asked. */
	n = json_array_size(runs);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(runs, i));
	qsort(v, n, sizeof(*v), newest_first);
	json_array_clear(runs);
	for (i = 0; i < n; i++) {
		if ((int64_t)i < lim)
			json_array_append(runs, v[i]);
		json_decref(v[i]);
	}
	free(v);
	return rc == -1 ? -1 : 0;
}

json_t *
cluster_run_on(struct ctx *ctx, struct cluster *cl, const char *id)
{
	struct ask_runs q = { .self = cl->host };
	json_t *req;
	char err[1024];

	req = json_pack("{s:s, s:s, s:s}", "what", "run", "workspace",
	    ctx->ws, "id", id);
	if (cluster_ask(cl, CLUSTER_ASK_RUNS, req, ASK_MS, runs_answer, &q,
	    err, sizeof(err)) == -1)
		warnmsg("cluster: %s: this host's runs only", err);
	json_decref(req);
	return q.run;
}

/* A run no host up has: its copy, by its whole id. */
static json_t *
run_copy(struct ctx *ctx, struct cluster *cl, const char *id)
{
	json_t *copies, *r;
	char err[1024];

	if (strlen(id) != UUID_LEN)
		return NULL;
	if ((copies = cluster_run_copies(cl, NULL, id, err, sizeof(err))) ==
	    NULL) {
		warnmsg("cluster: %s: the runs of hosts that do not answer are "
		    "not looked up", err);
		return NULL;
	}
	r = json_array_get(copies, 0);
	if (r != NULL && strcmp(field(r, "workspace"), ctx->ws) == 0)
		json_incref(r);
	else
		r = NULL;
	json_decref(copies);
	return r;
}

json_t *
cluster_run(struct ctx *ctx, const char *id)
{
	struct cluster cl;
	char err[1024];
	json_t *r;

	if (cluster_connect(&cl, "hookpipe", err, sizeof(err)) != 0) {
		warnmsg("cluster: %s: this host's runs only", err);
		return NULL;
	}
	if ((r = cluster_run_on(ctx, &cl, id)) == NULL)
		r = run_copy(ctx, &cl, id);
	cluster_close(&cl);
	return r;
}

/* Each host answers with its newest test run of the workflow. */
json_t *
cluster_test_run(struct ctx *ctx, struct cluster *cl, const char *workflow,
    int64_t since)
{
	struct ask_runs q = { .self = cl->host, .runs = json_array(),
	    .test = 1 };
	json_t *req, *r, *found = NULL;
	char err[1024];
	size_t i;

	req = json_pack("{s:s, s:s, s:s, s:s, s:b}", "what", "runs",
	    "workspace", ctx->ws, "workflow", workflow, "limit", "1", "test",
	    1);
	if (cluster_ask(cl, CLUSTER_ASK_RUNS, req, ASK_MS, runs_answer, &q,
	    err, sizeof(err)) == -1)
		warnmsg("cluster: %s: this host's runs only", err);
	json_decref(req);
	json_array_foreach(q.runs, i, r) {
		if (rfc3339_us(json_string_value(json_object_get(r,
		    "created_at"))) >= since) {
			found = json_incref(r);
			break;
		}
	}
	json_decref(q.runs);
	return found;
}
