/*
 * hookpipe events | event show ID | runs | replay EVENT
 *
 * Read-only views of what came in and what ran, plus replay, which
 * queues new runs for a stored event exactly as the router would (a new
 * run id, the trigger's filter and map applied) and wakes the dispatcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "admin.h"
#include "jqpool.h"
#include "msg.h"
#include "util.h"
#include "zsock.h"

#define LIMIT_DEFAULT	50

static int	event_show(struct ctx *, const struct cmd *, int, char **);

const struct cmd event_cmds[] = {
	{ "show", event_show, "event show ID",
	    "Show a stored event: its headers, its payload and the runs it "
	    "started, each with its attempts.", 1, "ID", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

static int
one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

static int
limit_parse(struct ctx *ctx, const char *arg, int64_t *limit)
{
	*limit = LIMIT_DEFAULT;
	if (arg != NULL && parse_i64(arg, 1, 100000, limit) == -1)
		return usage_error(ctx, "--limit: expected 1 to 100000");
	return 0;
}

/* --- JSON objects --- */

static json_t *
attempt_json(const struct attempt_rec *a)
{
	return json_pack("{s:I,s:o,s:I,s:o,s:o,s:o,s:o}",
	    "attempt", (json_int_t)a->n,
	    "started_at", json_time(a->started_at),
	    "duration_ms", (json_int_t)(a->duration_us / 1000),
	    "exit_code", a->exit_code == -1 ? json_null() :
	    json_integer(a->exit_code),
	    "http_status", a->http_status == 0 ? json_null() :
	    json_integer(a->http_status),
	    "error", a->error[0] ? json_string(a->error) : json_null(),
	    "output", json_lossy(a->output, a->output_len));
}

static int
history_cb(void *arg, const struct attempt_rec *a)
{
	json_array_append_new(arg, attempt_json(a));
	return 0;
}

json_t *
run_json(struct ctx *ctx, struct rtx *t, const struct run_rec *r, int history)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:o,s:o,s:b}",
	    "id", r->id, "workflow", r->workflow, "workspace", r->workspace,
	    "event_id", r->event_id, "status", run_state_name(r->state),
	    "attempts", (json_int_t)r->attempts,
	    "max_attempts", (json_int_t)r->max_attempts,
	    "created_at", json_time(r->created_at),
	    "updated_at", json_time(r->updated_at),
	    "last_error", r->last_error[0] ? json_string(r->last_error) :
	    json_null(), "test", r->test);

	if (r->state == RUN_QUEUED || r->state == RUN_FAILED)
		json_object_set_new(o, "next_at", json_time(r->next_at));
	if (history && t != NULL) {
		json_t *h = json_array();

		db_attempt_each(t->r, &ctx->db, r->id, history_cb, h);
		json_object_set_new(o, "history", h);
	}
	return o;
}

struct run_list {
	struct ctx	*ctx;
	struct rtx	*t;
	json_t		*a;
};

static int
runs_of_event_cb(void *arg, const struct run_rec *r)
{
	struct run_list *l = arg;

	json_array_append_new(l->a, run_json(l->ctx, l->t, r, 1));
	return 0;
}

json_t *
event_json(struct ctx *ctx, struct rtx *t, const struct event_rec *e,
    int full)
{
	struct sub_rec s;
	json_t *o, *h;

	o = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:o,s:s}",
	    "id", e->id, "subscription", e->sub, "subscription_name",
	    db_sub_get(t->c, &ctx->db, e->sub, &s) == 0 ?
	    json_string(s.name) : json_null(),
	    "integration", e->integration, "workspace", e->workspace,
	    "type", e->type, "delivery_id", e->delivery_id,
	    "received_at", json_time(e->received_at), "status",
	    event_state_name(event_state_at(e, t->cursor)));
	if (full) {
		struct run_list l = { ctx, t, json_array() };

		h = e->headers ? json_loads(e->headers, 0, NULL) : NULL;
		json_object_set_new(o, "headers", h ? h : json_object());
		json_object_set_new(o, "payload", json_or_string(e->payload,
		    e->payload_len));
		db_run_each_for_event(t->r, &ctx->db, e->id, runs_of_event_cb,
		    &l);
		json_object_set_new(o, "runs", l.a);
	}
	return o;
}

/* --- events --- */

struct events_state {
	struct ctx	*ctx;
	struct rtx	 t;
	const char	*sub;		/* id */
	const char	*type;
	const char	*status;
	int64_t		 left;
	struct table	 table;
	json_t		*a;
};

static int
events_cb(void *arg, struct event_rec *e)
{
	struct events_state *l = arg;
	struct sub_rec s;
	char when[40];

	const char *status = event_state_name(event_state_at(e,
	    l->t.cursor));

	if (strcmp(e->workspace, l->ctx->ws) != 0 ||
	    (l->sub && strcmp(e->sub, l->sub) != 0) ||
	    (l->type && strcmp(e->type, l->type) != 0) ||
	    (l->status && strcmp(status, l->status) != 0))
		return 0;
	if (l->a != NULL)
		json_array_append_new(l->a, event_json(l->ctx, &l->t, e, 0));
	else
		table_row(&l->table, e->id, time_str(e->received_at, when,
		    sizeof(when)), db_sub_get(l->t.c, &l->ctx->db, e->sub,
		    &s) == 0 ? s.name : e->sub, e->type, status);
	return --l->left == 0;
}

int
cmd_events(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	static const char *const statuses[] = {
		"stored", "ignored", "routed", NULL
	};
	struct events_state l = { .ctx = ctx };
	const char *sub = NULL, *limit = NULL;
	const struct opt opts[] = {
		{ "sub", OPT_STR, &sub },
		{ "type", OPT_STR, &l.type },
		{ "status", OPT_STR, &l.status },
		{ "limit", OPT_STR, &limit },
		{ NULL, 0, NULL }
	};
	struct sub_rec s;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE ||
	    (rc = limit_parse(ctx, limit, &l.left)) != 0)
		return rc;
	if (l.status != NULL && !one_of(l.status, statuses))
		return usage_error(ctx, "--status: expected stored, ignored or "
		    "routed");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (rtx_begin(ctx, &l.t) != 0)
		return EXIT_FAIL;
	if (sub != NULL && (rc = sub_lookup(ctx, l.t.c, sub, &s)) != 0) {
		rtx_end(&l.t);
		return rc;
	}
	l.sub = sub ? s.id : NULL;
	if (ctx->json)
		l.a = json_array();
	else
		table_init(&l.table, 5, "ID", "RECEIVED", "SUBSCRIPTION",
		    "TYPE", "STATUS");
	db_event_each(l.t.e, &ctx->db, events_cb, &l);
	rtx_end(&l.t);
	if (ctx->json)
		return json_print(l.a);
	table_print(&l.table, stdout);
	table_free(&l.table);
	return EXIT_OK;
}

/* --- event show --- */

static const char *
str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Every value may be what a sender chose: each goes through print_safe. */
static void
event_print(json_t *o)
{
	json_t *v, *runs = json_object_get(o, "runs"), *r;
	const char *k;
	size_t i, j;

	print_field(stdout, "id", 13, str_of(o, "id"));
	printf("subscription: ");
	print_safe(stdout, json_is_string(json_object_get(o,
	    "subscription_name")) ? str_of(o, "subscription_name") :
	    "deleted");
	printf(" (");
	print_safe(stdout, str_of(o, "subscription"));
	printf(")\n");
	print_field(stdout, "integration", 13, str_of(o, "integration"));
	print_field(stdout, "type", 13, str_of(o, "type"));
	print_field(stdout, "delivery_id", 13, str_of(o, "delivery_id"));
	print_field(stdout, "received_at", 13, str_of(o, "received_at"));
	print_field(stdout, "status", 13, str_of(o, "status"));
	printf("\nheaders:\n");
	json_object_foreach(json_object_get(o, "headers"), k, v) {
		printf("  ");
		print_safe(stdout, k);
		printf(": ");
		print_safe(stdout, json_is_string(v) ? json_string_value(v) :
		    "");
		printf("\n");
	}
	printf("\npayload:\n");
	print_json(stdout, json_object_get(o, "payload"));
	printf("\n\nruns:%s\n", json_array_size(runs) ? "" : " none");
	json_array_foreach(runs, i, r) {
		printf("  run %s of ", str_of(r, "id"));
		print_safe(stdout, str_of(r, "workflow"));
		printf(": %s, %lld of %lld attempts\n", str_of(r, "status"),
		    (long long)json_integer_value(json_object_get(r,
		    "attempts")), (long long)json_integer_value(
		    json_object_get(r, "max_attempts")));
		/* A run that never started says why (a trigger's jq program
		 * stopped at its budget, say). */
		if (json_array_size(json_object_get(r, "history")) == 0 &&
		    json_is_string(json_object_get(r, "last_error")))
			printf("    %s\n", json_string_value(json_object_get(r,
			    "last_error")));
		json_array_foreach(json_object_get(r, "history"), j, v) {
			json_t *err = json_object_get(v, "error");

			printf("    #%lld %s %lld ms",
			    (long long)json_integer_value(json_object_get(v,
			    "attempt")), str_of(v, "started_at"),
			    (long long)json_integer_value(json_object_get(v,
			    "duration_ms")));
			if (json_is_string(err)) {
				printf(": ");
				print_safe(stdout, json_string_value(err));
			}
			printf("\n");
		}
	}
}

static int
event_get(struct ctx *ctx, MDB_txn *txn, const char *id, struct event_rec *e)
{
	int rc = uuid_valid(id) ? db_event_get(txn, &ctx->db, id, e) :
	    MDB_NOTFOUND;

	if (rc == 0 && strcmp(e->workspace, ctx->ws) != 0) {
		event_free(e);
		rc = MDB_NOTFOUND;
	}
	if (rc == MDB_NOTFOUND)
		return fail("no event %s in workspace %s", id, ctx->ws);
	return rc == 0 ? 0 : db_error(rc);
}

static int
event_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct event_rec e;
	struct rtx t;
	char **args;
	json_t *o;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (rtx_begin(ctx, &t) != 0)
		return EXIT_FAIL;
	if ((rc = event_get(ctx, t.e, args[0], &e)) != 0) {
		rtx_end(&t);
		return rc;
	}
	o = event_json(ctx, &t, &e, 1);
	event_free(&e);
	rtx_end(&t);
	if (ctx->json)
		return json_print(o);
	event_print(o);
	json_decref(o);
	return EXIT_OK;
}

/* --- runs --- */

struct runs_state {
	struct ctx	*ctx;
	struct rtx	 tx;
	const char	*workflow;
	const char	*status;
	int64_t		 left;
	struct table	 t;
	json_t		*a;
};

static int
runs_cb(void *arg, const struct run_rec *r)
{
	struct runs_state *l = arg;
	char when[40], att[48];

	if (strcmp(r->workspace, l->ctx->ws) != 0 ||
	    (l->workflow && strcmp(r->workflow, l->workflow) != 0) ||
	    (l->status && strcmp(run_state_name(r->state), l->status) != 0))
		return 0;
	if (l->a != NULL)
		json_array_append_new(l->a, run_json(l->ctx, &l->tx, r, 1));
	else {
		snprintf(att, sizeof(att), "%lld/%lld", (long long)r->attempts,
		    (long long)r->max_attempts);
		table_row(&l->t, r->id, r->workflow, r->event_id,
		    run_state_name(r->state), att, time_str(r->updated_at,
		    when, sizeof(when)));
	}
	return --l->left == 0;
}

int
cmd_runs(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	static const char *const statuses[] = {
		"queued", "running", "succeeded", "failed", "dead", NULL
	};
	struct runs_state l = { .ctx = ctx };
	const char *limit = NULL;
	const struct opt opts[] = {
		{ "workflow", OPT_STR, &l.workflow },
		{ "status", OPT_STR, &l.status },
		{ "limit", OPT_STR, &limit },
		{ NULL, 0, NULL }
	};
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE ||
	    (rc = limit_parse(ctx, limit, &l.left)) != 0)
		return rc;
	if (l.status != NULL && !one_of(l.status, statuses))
		return usage_error(ctx, "--status: expected queued, running, "
		    "succeeded, failed or dead");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (rtx_begin(ctx, &l.tx) != 0)
		return EXIT_FAIL;
	if (ctx->json)
		l.a = json_array();
	else
		table_init(&l.t, 6, "ID", "WORKFLOW", "EVENT", "STATUS",
		    "ATTEMPTS", "UPDATED");
	db_run_each(l.tx.r, &ctx->db, runs_cb, &l);
	rtx_end(&l.tx);
	if (ctx->json)
		return json_print(l.a);
	table_print(&l.t, stdout);
	table_free(&l.t);
	return EXIT_OK;
}

/* --- replay --- */

void
dispatcher_wake(struct ctx *ctx, const char *run_id)
{
	char err[256];
	struct mpw w;
	void *zctx, *sock;

	if ((zctx = zmq_ctx_new()) == NULL)
		return;
	/* Linger a little so the message leaves before the socket closes. */
	if ((sock = zs_socket(zctx, ZMQ_PUSH, 100)) != NULL) {
		if (zs_connect(sock, &ctx->cfg, EP_DISPATCHER, err,
		    sizeof(err)) == 0) {
			mpw_init(&w);
			msg_hint_pack(&w, MSG_WAKE, run_id);
			zmq_send(sock, w.sb.data, w.sb.size, ZMQ_DONTWAIT);
			mpw_free(&w);
		}
		zmq_close(sock);
	}
	zmq_ctx_term(zctx);
}

/* NUL-separated distinct "ws/name" keys. */
static int
collect_cb(void *arg, const char *key, size_t n)
{
	struct buf *b = arg;
	size_t off;

	for (off = 0; off < b->len; off += strlen(b->data + off) + 1)
		if (strlen(b->data + off) == n && memcmp(b->data + off, key,
		    n) == 0)
			return 0;
	buf_append(b, key, n);
	buf_append(b, "", 1);
	return 0;
}

/*
 * Whether the router would run the workflow for the event, and with
 * which inputs (router/main.c, trigger_fires): the first of its triggers
 * on the event's subscription and type whose --filter passes and whose
 * --map gives a result makes the run, the map's result its inputs (none:
 * the dispatcher then uses the payload). force skips the filters.
 */
enum replay_verdict {
	REPLAY_FIRES,
	REPLAY_REFUSED,		/* why: the filter or the map said no */
	REPLAY_NO_TRIGGER	/* no trigger on this subscription and type */
};

/*
 * A jq program on the payload: 1, 0 (false, null, nothing) or -1. In a
 * hookpipe-jq worker with the router's budgets: the payload came from
 * outside, and replay must not hang on it either.
 */
static struct jqpool replay_pool;
static int replay_pool_up;

static int
replay_jq(struct ctx *ctx, const char *program, const struct event_rec *e,
    char **out, char *err, size_t errlen)
{
	int rc;

	err[0] = '\0';
	if (!replay_pool_up) {
		if (jqpool_init(&replay_pool, &ctx->cfg, err, errlen) == -1)
			return -1;
		replay_pool_up = 1;
	}
	rc = jqpool_eval(&replay_pool, out ? JQPOOL_MAP : JQPOOL_FILTER,
	    program, (const char *)e->payload, e->payload_len, out, err,
	    errlen);
	return rc < 0 ? -1 : rc;
}

static enum replay_verdict
replay_fires(struct ctx *ctx, const struct wf_rec *w,
    const struct event_rec *e, int force, char **inputs, char *why,
    size_t whylen)
{
	char err[512];
	int i, matched = 0;

	*inputs = NULL;
	for (i = 0; i < w->ntrig; i++) {
		const struct trigger *t = &w->trig[i];

		if (strcmp(t->sub, e->sub) != 0 ||
		    !integ_event_matches(t->event, e->type))
			continue;
		matched = 1;
		if (!force && t->filter != NULL && t->filter[0] != '\0') {
			switch (replay_jq(ctx, t->filter, e, NULL, err,
			    sizeof(err))) {
			case 1:
				break;
			case 0:
				snprintf(why, whylen, "its --filter '%.80s' does "
				    "not pass", t->filter);
				continue;
			default:
				snprintf(why, whylen, "its --filter fails: %s",
				    err);
				continue;
			}
		}
		if (t->map != NULL && t->map[0] != '\0' &&
		    (replay_jq(ctx, t->map, e, inputs, err, sizeof(err)) == -1 ||
		    *inputs == NULL)) {
			free(*inputs);
			*inputs = NULL;
			snprintf(why, whylen, "its --map fails: %s", err[0] ?
			    err : "no result");
			continue;
		}
		return REPLAY_FIRES;
	}
	return matched ? REPLAY_REFUSED : REPLAY_NO_TRIGGER;
}

/*
 * What replay decides to run, decided first with read snapshots (jq runs
 * outside every write transaction), then queued in one of the runs part.
 */
struct to_queue {
	char	 ws[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	int64_t	 retries;
	char	*inputs;
};

struct replay {
	struct to_queue	 q[TRIGGERS_MAX * 4];
	int		 n;
};

static int
replay_add(struct replay *rp, const struct wf_rec *w, char *inputs)
{
	struct to_queue *t;

	if (rp->n == (int)(sizeof(rp->q) / sizeof(rp->q[0]))) {
		free(inputs);
		return fail("too many workflows to replay at once");
	}
	t = &rp->q[rp->n++];
	str_copy(t->ws, w->workspace, sizeof(t->ws));
	str_copy(t->name, w->name, sizeof(t->name));
	t->retries = w->retries;
	t->inputs = inputs;
	return 0;
}

/*
 * Every published workflow with a trigger on the event; one whose
 * filter or map says no is not run, and the reason is printed.
 */
static int
replay_matching(struct ctx *ctx, struct rtx *t, const struct event_rec *e,
    struct replay *rp, int *refused)
{
	struct buf keys = { 0 };
	char why[700], *inputs;
	size_t off;
	int rc = 0;

	db_trigger_match(t->c, &ctx->db, e->sub, e->type, collect_cb, &keys);
	for (off = 0; off < keys.len && rc == 0; off += strlen(keys.data +
	    off) + 1) {
		const char *key = keys.data + off, *slash = strchr(key, '/');
		char ws[NAME_MAX_LEN + 1];
		enum replay_verdict v;
		struct wf_rec w;

		if (slash == NULL || (size_t)(slash - key) > NAME_MAX_LEN)
			continue;
		snprintf(ws, sizeof(ws), "%.*s", (int)(slash - key), key);
		if (db_wf_get(t->c, &ctx->db, ws, slash + 1, &w) != 0)
			continue;
		v = strcmp(w.state, "published") != 0 ? REPLAY_NO_TRIGGER :
		    replay_fires(ctx, &w, e, 0, &inputs, why, sizeof(why));
		if (v == REPLAY_FIRES)
			rc = replay_add(rp, &w, inputs);
		else if (v == REPLAY_REFUSED) {
			errmsg("workflow %s not run: %s on event %s", w.name,
			    why, e->id);
			(*refused)++;
		}
		wf_free(&w);
	}
	buf_free(&keys);
	return rc;
}

/*
 * Workflow W, draft or not. Its trigger's filter and map apply as above;
 * --force runs it although its filter says no. A workflow with no
 * trigger on the event runs with the payload as its inputs.
 */
static int
replay_named(struct ctx *ctx, const struct wf_rec *w,
    const struct event_rec *e, int force, struct replay *rp)
{
	char why[700], *inputs;

	if (replay_fires(ctx, w, e, force, &inputs, why, sizeof(why)) ==
	    REPLAY_REFUSED)
		return fail("workflow %s not run: %s on event %s%s", w->name,
		    why, e->id, force ? "" : "; --force runs it anyway");
	return replay_add(rp, w, inputs);
}

/* Decide what to run, in read snapshots; *e is the event. */
static int
replay_plan(struct ctx *ctx, const char *id, const char *workflow,
    int force, struct replay *rp, struct event_rec *e)
{
	struct wf_rec w;
	struct rtx t;
	int rc, refused = 0;

	if (rtx_begin(ctx, &t) != 0)
		return EXIT_FAIL;
	if ((rc = event_get(ctx, t.e, id, e)) != 0) {
		rtx_end(&t);
		return rc;
	}
	if (workflow == NULL)
		rc = replay_matching(ctx, &t, e, rp, &refused);
	else if ((rc = db_wf_get(t.c, &ctx->db, ctx->ws, workflow, &w)) == 0) {
		rc = replay_named(ctx, &w, e, force, rp);
		wf_free(&w);
	} else if (rc == MDB_NOTFOUND)
		rc = fail("no workflow %s in workspace %s", workflow, ctx->ws);
	else
		rc = db_error(rc);
	rtx_end(&t);
	if (rc == 0 && rp->n == 0 && refused > 0)
		rc = fail("no run queued: no trigger on event %s passes; name a "
		    "workflow with --workflow W --force to run it anyway", id);
	else if (rc == 0 && rp->n == 0)
		rc = fail("no run queued: no published workflow has a trigger "
		    "on event %s (%s); name one with --workflow W", id, e->type);
	if (rc != 0)
		event_free(e);
	return rc;
}

/* Queue the planned runs, new ids, in one transaction of the runs part. */
static int
replay_queue(struct ctx *ctx, struct replay *rp, const struct event_rec *e,
    json_t *runs)
{
	struct run_rec r;
	MDB_txn *txn;
	int i, rc = 0;

	if ((txn = txn_write(ctx, DB_RUNS)) == NULL)
		return EXIT_FAIL;
	for (i = 0; i < rp->n && rc == 0; i++) {
		memset(&r, 0, sizeof(r));
		uuid7(r.id);
		str_copy(r.workspace, rp->q[i].ws, sizeof(r.workspace));
		str_copy(r.workflow, rp->q[i].name, sizeof(r.workflow));
		str_copy(r.event_id, e->id, sizeof(r.event_id));
		r.event_seq = e->seq;
		r.state = RUN_QUEUED;
		r.max_attempts = rp->q[i].retries + 1;
		r.created_at = r.updated_at = r.next_at = now_us();
		if ((rc = db_run_put(txn, &ctx->db, &r, NULL)) == 0 &&
		    rp->q[i].inputs != NULL)
			rc = db_run_inputs_put(txn, &ctx->db, r.id,
			    rp->q[i].inputs);
		if (rc == 0)
			json_array_append_new(runs, run_json(ctx, NULL, &r, 0));
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	return txn_commit(txn);
}

int
cmd_replay(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *workflow = NULL;
	int force = 0;
	const struct opt opts[] = {
		{ "workflow", OPT_STR, &workflow },
		{ "force", OPT_FLAG, &force },
		{ NULL, 0, NULL }
	};
	static struct replay rp;
	struct event_rec e;
	json_t *runs, *r;
	char **args;
	size_t i;
	int rc, k;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (force && workflow == NULL)
		return usage_error(ctx, "--force goes with --workflow W");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((rc = replay_plan(ctx, args[0], workflow, force, &rp, &e)) != 0)
		return rc;
	runs = json_array();
	rc = replay_queue(ctx, &rp, &e, runs);
	event_free(&e);
	for (k = 0; k < rp.n; k++)
		free(rp.q[k].inputs);
	if (rc != 0) {
		json_decref(runs);
		return rc;
	}
	dispatcher_wake(ctx, json_string_value(json_object_get(json_array_get(
	    runs, 0), "id")));
	if (ctx->json)
		return json_print(runs);
	json_array_foreach(runs, i, r) {
		printf("run %s queued for workflow ", str_of(r, "id"));
		print_safe(stdout, str_of(r, "workflow"));
		putchar('\n');
	}
	json_decref(runs);
	return EXIT_OK;
}
