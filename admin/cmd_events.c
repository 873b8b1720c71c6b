/*
 * hookpipe events | event show ID | runs | run show RUN | replay EVENT
 *
 * Read-only views of what came in and what ran, plus replay, which
 * queues new runs for a stored event exactly as the router would (a new
 * run id, the trigger's filter and map applied) and wakes the dispatcher.
 *
 * The JSON objects (event_json, run_json, attempt_json, rejected_json)
 * are built from a record alone, for every view that shows one.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "admin.h"
#include "cluster.h"
#include "jqpool.h"
#include "msg.h"
#include "runjson.h"
#include "util.h"
#include "zsock.h"

#define LIMIT_DEFAULT	50
#define FOLLOW_LIMIT	10	/* --follow: the last ones first */
#define FOLLOW_POLL_MS	200
#define OUTPUT_LINES	20	/* of the last attempt, in event show */
#define ERROR_WIDTH	40	/* the runs table's ERROR column */

static int	event_show(struct ctx *, const struct cmd *, int, char **);
static int	run_show(struct ctx *, const struct cmd *, int, char **);
struct events_state;
static int	events_list(struct events_state *, const char *, int);
static int	jq_report(struct events_state *);

const struct cmd event_cmds[] = {
	{ "show", event_show, "event show ID [--here]",
	    "Show a stored event: its headers, its payload and the runs it "
	    "started, each with its attempts and the output of the last one "
	    "('hookpipe run show RUN' shows every attempt's). ID may be a "
	    "unique prefix of the id. In cluster mode the runs of every host "
	    "whose admin stage answers, each with its host, and the copies "
	    "of the other hosts' runs (as they were when their last attempt "
	    "ended), or their claims (a run not run yet); --here: this "
	    "host's only.", 1, "ID", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

const struct cmd run_cmds[] = {
	{ "show", run_show, "run show RUN [--here]",
	    "Show a run: its workflow and event, its status, and every "
	    "attempt with its time, duration, exit code or HTTP status, "
	    "error and captured output (the first 64 KiB), then when the "
	    "next attempt is due. RUN may be a unique prefix of the id. In "
	    "cluster mode a run this host does not have is asked of the "
	    "other hosts' admin stages (its host shown), and, none having "
	    "it, looked up by its whole id among the runs' copies (as it "
	    "was when its last attempt ended); --here: this host's only.",
	    1, "RUN", NULL },
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

json_t *
run_json(struct ctx *ctx, struct rtx *t, const struct run_rec *r, int history)
{
	return run_rec_json(history && t != NULL ? t->r : NULL, &ctx->db, r);
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

/* A refused delivery (400, 401): never a body, nor a signature. */
json_t *
rejected_json(const struct rejected_rec *r, const char *sub_name)
{
	return json_pack("{s:s,s:s,s:o,s:s,s:s,s:o,s:s,s:i,s:s,s:s,s:s,s:s}",
	    "id", r->id, "subscription", r->sub, "subscription_name",
	    sub_name != NULL ? json_string(sub_name) : json_null(),
	    "integration", r->integration, "workspace", r->workspace,
	    "received_at", json_time(r->received_at), "status", "rejected",
	    "http_status", r->status, "reason", r->reason, "method",
	    r->method, "user_agent", r->user_agent, "content_type",
	    r->content_type);
}

/* --- ids, by a unique prefix --- */

static int
id_error(struct ctx *ctx, int rc, const char *what, const char *arg,
    const char *first)
{
	if (rc == DB_EAMBIGUOUS)
		return fail("%s names more than one %s (%s, ...): give more of "
		    "the id", arg, what, first);
	if (rc == MDB_NOTFOUND)
		return fail("no %s %s in workspace %s", what, arg, ctx->ws);
	return db_error(rc);
}

/* An event id, or a unique prefix of one: 0 with the id, or EXIT_FAIL. */
static int
event_id(struct ctx *ctx, MDB_txn *etxn, const char *arg,
    char id[UUID_LEN + 1])
{
	int rc = db_id_complete(etxn, &ctx->db, DB_ID_EVENT, arg, id);

	return rc == 0 ? 0 : id_error(ctx, rc, "event", arg, id);
}

static int
run_id(struct ctx *ctx, MDB_txn *rtxn, const char *arg, char id[UUID_LEN + 1])
{
	int rc = db_id_complete(rtxn, &ctx->db, DB_ID_RUN, arg, id);

	return rc == 0 ? 0 : id_error(ctx, rc, "run", arg, id);
}

/* --- events --- */

/*
 * --jq: a predicate over each payload, in hookpipe-jq workers with the
 * router's budgets (jqpool.h): a payload came from outside and the
 * program from whoever searches, the console among them; neither may
 * hold the CLI, or the admin stage that runs it, past a budget. An
 * evaluation that errors skips its event; one over its budget too, and
 * the search stops after JQ_OVER_MAX of those rather than spend a
 * budget on every event of the log.
 */
#define JQ_OVER_MAX	3

struct events_state {
	struct ctx	*ctx;
	struct rtx	 t;
	const char	*sub;		/* id */
	const char	*type;
	const char	*status;
	int		 rejected;	/* --status rejected */
	int64_t		 since;		/* received at or after; 0: any */
	int64_t		 until;		/* received before; 0: any */
	const char	*jq;
	struct jqpool	 pool;
	int		 pool_up;
	int64_t		 jq_errors;	/* events skipped: the program failed */
	char		 jq_first[256];	/* the first of those, why */
	int		 jq_over;	/* events skipped: over its budget */
	int64_t		 left;
	json_t		*a;		/* newest first */
	/* --follow: where the last pass ended. */
	uint64_t	 seq;
	int64_t		 recorded;
};

static int
events_match(struct events_state *l, const char *ws, const char *sub,
    const char *type, const char *status, int64_t received_at)
{
	return strcmp(ws, l->ctx->ws) == 0 &&
	    (l->sub == NULL || strcmp(sub, l->sub) == 0) &&
	    (l->type == NULL || (type != NULL && strcmp(type, l->type) == 0)) &&
	    (l->status == NULL || l->rejected ||
	    strcmp(status, l->status) == 0) &&
	    (l->since == 0 || received_at >= l->since) &&
	    (l->until == 0 || received_at < l->until);
}

/* jq's message on one line. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/*
 * The predicate on one payload: 1 listed, 0 not (false, null, nothing,
 * an error), -1 the search stops (over its budget too often).
 */
static int
events_jq(struct events_state *l, const struct event_rec *e)
{
	char err[512];
	int rc;

	rc = jqpool_eval(&l->pool, JQPOOL_FILTER, l->jq,
	    (const char *)e->payload, e->payload_len, NULL, err, sizeof(err));
	if (rc >= 0)
		return rc;
	one_line(err);
	if (rc == JQ_BUDGET) {
		errmsg("--jq skipped event %s: %s", e->id, err);
		if (++l->jq_over == JQ_OVER_MAX)
			return -1;
		return 0;
	}
	if (l->jq_errors++ == 0)
		str_copy(l->jq_first, err, sizeof(l->jq_first));
	return 0;
}

static int
events_cb(void *arg, struct event_rec *e)
{
	struct events_state *l = arg;
	const char *status = event_state_name(event_state_at(e,
	    l->t.cursor));
	int rc;

	if (e->seq > l->seq)
		l->seq = e->seq;
	if (!events_match(l, e->workspace, e->sub, e->type, status,
	    e->received_at))
		return 0;
	if (l->jq != NULL && (rc = events_jq(l, e)) != 1)
		return rc == -1;
	json_array_append_new(l->a, event_json(l->ctx, &l->t, e, 0));
	return --l->left == 0;
}

static int
rejected_cb(void *arg, const struct rejected_rec *r)
{
	struct events_state *l = arg;
	struct sub_rec s;

	if (r->recorded_at >= l->recorded)
		l->recorded = r->recorded_at + 1;
	if (!events_match(l, r->workspace, r->sub, NULL, NULL,
	    r->received_at))
		return 0;
	json_array_append_new(l->a, rejected_json(r, db_sub_get(l->t.c,
	    &l->ctx->db, r->sub, &s) == 0 ? s.name : NULL));
	return --l->left == 0;
}

/* One event (or refused delivery) of a list, as the table's columns. */
static void
events_cells(json_t *o, const char *cell[5], char *when, size_t whenlen,
    char *http, size_t httplen)
{
	cell[0] = json_string_value(json_object_get(o, "id"));
	cell[1] = time_str(rfc3339_us(json_string_value(json_object_get(o,
	    "received_at"))), when, whenlen);
	cell[2] = json_string_value(json_object_get(o, "subscription_name"));
	if (cell[2] == NULL)
		cell[2] = json_string_value(json_object_get(o, "subscription"));
	if (json_object_get(o, "http_status") != NULL) {
		snprintf(http, httplen, "%lld", (long long)json_integer_value(
		    json_object_get(o, "http_status")));
		cell[3] = http;
		cell[4] = json_string_value(json_object_get(o, "reason"));
	} else {
		cell[3] = json_string_value(json_object_get(o, "type"));
		cell[4] = json_string_value(json_object_get(o, "status"));
	}
}

static void
events_table(struct events_state *l)
{
	const char *cell[5];
	char when[40], http[16];
	struct table t;
	size_t i;

	if (l->rejected)
		table_init(&t, 5, "ID", "RECEIVED", "SUBSCRIPTION", "HTTP",
		    "REASON");
	else {
		table_init(&t, 5, "ID", "RECEIVED", "SUBSCRIPTION", "TYPE",
		    "STATUS");
		table_color(&t, 4);
	}
	for (i = 0; i < json_array_size(l->a); i++) {
		events_cells(json_array_get(l->a, i), cell, when, sizeof(when),
		    http, sizeof(http));
		table_row(&t, cell[0], cell[1], cell[2], cell[3], cell[4]);
	}
	table_print_or(&t, stdout, l->rejected ? "no refused deliveries "
	    "recorded (the last 7 days are kept)" : l->sub || l->type ||
	    l->status || l->since || l->until || l->jq ? "no events match" :
	    "no events yet");
	table_free(&t);
}

/* --follow: one line each, as they come; JSON Lines with --json. */
static void
follow_line(struct events_state *l, json_t *o)
{
	const char *cell[5];
	char when[40], http[16];
	int i;

	if (l->ctx->json) {
		json_line(stdout, o);
		return;
	}
	events_cells(o, cell, when, sizeof(when), http, sizeof(http));
	for (i = 0; i < 5; i++) {
		char *c = str_safe(cell[i]);
		static const int w[] = { 36, 8, 20, 28, 0 };

		if (i == 4 && !l->rejected)
			print_status(stdout, cell[i] ? cell[i] : "-");
		else
			printf("%-*s", w[i], c);
		printf(i < 4 ? "  " : "\n");
		free(c);
	}
}

static volatile sig_atomic_t follow_stop;

static void
follow_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/* One pass: what came since the last one, oldest first. */
static int
follow_pass(struct events_state *l)
{
	struct ctx *ctx = l->ctx;
	size_t i;

	if (rtx_begin(ctx, &l->t) != 0)
		return EXIT_FAIL;
	l->a = json_array();
	l->left = -1;
	if (l->rejected)
		db_rejected_each(l->t.e, &ctx->db, 0, l->recorded, rejected_cb,
		    l);
	else
		db_log_each(l->t.e, &ctx->db, l->seq, 1000, events_cb, l);
	rtx_end(&l->t);
	if (l->jq_over == JQ_OVER_MAX) {
		json_decref(l->a);
		l->a = NULL;
		return jq_report(l);
	}
	for (i = 0; i < json_array_size(l->a); i++)
		follow_line(l, json_array_get(l->a, i));
	json_decref(l->a);
	l->a = NULL;
	fflush(stdout);
	return 0;
}

static int
events_follow(struct events_state *l)
{
	struct timespec ts = { 0, FOLLOW_POLL_MS * 1000000L };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = follow_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The last ones first, oldest first, then whatever comes. */
	if (!l->ctx->json)
		printf("%-36s  %-8s  %-20s  %-28s  %s\n", "ID", "RECEIVED",
		    "SUBSCRIPTION", l->rejected ? "HTTP" : "TYPE",
		    l->rejected ? "REASON" : "STATUS");
	for (i = json_array_size(l->a); i > 0; i--)
		follow_line(l, json_array_get(l->a, i - 1));
	json_decref(l->a);
	l->a = NULL;
	fflush(stdout);
	while (!follow_stop) {
		nanosleep(&ts, NULL);
		if (!follow_stop && follow_pass(l) != 0)
			return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * --since, --until: an RFC 3339 time (2026-01-02T15:04:05Z, a fraction
 * and an offset allowed), or a duration before now (90s, 15m, 2h, 7d).
 */
static int
when_parse(const char *s, int64_t now, int64_t *us)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }
	};
	struct tm tm;
	const char *p;
	char *end;
	int64_t n, frac = 0, scale = 100000, off = 0;
	size_t i;

	if (*s >= '0' && *s <= '9' && strchr(s, '-') == NULL) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || end == s || end[0] == '\0' || end[1] != '\0')
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*end == units[i].unit && n <= INT64_MAX /
			    1000000 / units[i].secs) {
				*us = now - n * units[i].secs * 1000000;
				return 0;
			}
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    s[4] != '-' || s[10] != 'T')
		return -1;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == '+' || *p == '-') {
		if (strlen(p) != 6 || p[3] != ':' || p[1] < '0' || p[1] > '9' ||
		    p[2] < '0' || p[2] > '9' || p[4] < '0' || p[4] > '5' ||
		    p[5] < '0' || p[5] > '9')
			return -1;
		off = ((p[1] - '0') * 10 + p[2] - '0') * 3600 +
		    ((p[4] - '0') * 10 + p[5] - '0') * 60;
		if (*p == '-')
			off = -off;
	} else if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0)
		return -1;
	*us = ((int64_t)timegm(&tm) - off) * 1000000 + frac;
	return 0;
}

/*
 * --jq, tried on null before the search: a program jq cannot
 * compile is a usage error (jq's own messages start with "jq: error";
 * an error at run time is the program's, on null, and says nothing),
 * and so is one that goes over its budget on null, a bomb.
 */
static int
jq_prepare(struct events_state *l)
{
	char err[512];
	int i, rc;

	if (*l->jq == '\0')
		return usage_error(l->ctx, "--jq: empty jq program");
	if (strlen(l->jq) > JQPOOL_PROG_MAX)
		return usage_error(l->ctx, "--jq: at most %d bytes",
		    JQPOOL_PROG_MAX);
	if (jqpool_init(&l->pool, &l->ctx->cfg, err, sizeof(err)) == -1)
		return fail("--jq: %s", err);
	l->pool_up = 1;
	/* On each worker: the first payload then finds it started. */
	for (i = 0; i < JQPOOL_WORKERS; i++)
		if ((rc = jqpool_eval(&l->pool, JQPOOL_FILTER, l->jq, "null",
		    4, NULL, err, sizeof(err))) < 0)
			break;
	one_line(err);
	if (rc == JQ_ERROR && strncmp(err, "jq: error", 9) == 0)
		return usage_error(l->ctx, "--jq is not a valid jq program: %s",
		    err);
	if (rc == JQ_BUDGET)
		return usage_error(l->ctx, "--jq %s on null: make the program "
		    "do less", err);
	return 0;
}

/* What --jq left out, on stderr: the list on stdout stays the list. */
static int
jq_report(struct events_state *l)
{
	if (l->jq_over == JQ_OVER_MAX)
		return fail("--jq went over its budget on %d events: search "
		    "stopped; narrow it (--since, --sub, --type) or make the "
		    "program do less", JQ_OVER_MAX);
	if (l->jq_errors > 0)
		warnmsg("--jq failed on %lld event%s, not listed (the first: "
		    "%s)", (long long)l->jq_errors, l->jq_errors == 1 ? "" :
		    "s", l->jq_first);
	return 0;
}

int
cmd_events(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	static const char *const statuses[] = {
		"stored", "ignored", "routed", "rejected", NULL
	};
	struct events_state l = { .ctx = ctx };
	const char *sub = NULL, *limit = NULL, *since = NULL, *until = NULL;
	int follow = 0;
	const struct opt opts[] = {
		{ "sub", OPT_STR, &sub },
		{ "type", OPT_STR, &l.type },
		{ "status", OPT_STR, &l.status },
		{ "since", OPT_STR, &since },
		{ "until", OPT_STR, &until },
		{ "jq", OPT_STR, &l.jq },
		{ "limit", OPT_STR, &limit },
		{ "follow", OPT_FLAG, &follow },
		{ NULL, 0, NULL }
	};
	int64_t now = now_us();
	char **args;
	int rc;

	/* -f, as tail's. */
	for (rc = 1; rc < argc; rc++)
		if (strcmp(argv[rc], "-f") == 0)
			argv[rc] = "--follow";
	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE ||
	    (rc = limit_parse(ctx, limit, &l.left)) != 0)
		return rc;
	if (follow && limit == NULL)
		l.left = FOLLOW_LIMIT;
	if (l.status != NULL && !one_of(l.status, statuses))
		return usage_error(ctx, "--status: expected stored, ignored, "
		    "routed or rejected");
	l.rejected = l.status != NULL && strcmp(l.status, "rejected") == 0;
	if (l.rejected && l.type != NULL)
		return usage_error(ctx, "--type does not go with --status "
		    "rejected: a refused delivery has no trusted type");
	if (l.rejected && l.jq != NULL)
		return usage_error(ctx, "--jq does not go with --status "
		    "rejected: a refused delivery's body is not kept");
	if (since != NULL && when_parse(since, now, &l.since) == -1)
		return usage_error(ctx, "--since %s: expected an RFC 3339 time "
		    "(2026-01-02T15:04:05Z) or a time ago (90s, 15m, 2h, 7d)",
		    since);
	if (until != NULL && when_parse(until, now, &l.until) == -1)
		return usage_error(ctx, "--until %s: expected an RFC 3339 time "
		    "(2026-01-02T15:04:05Z) or a time ago (90s, 15m, 2h, 7d)",
		    until);
	if (since != NULL && until != NULL && l.since >= l.until)
		return usage_error(ctx, "--since %s is not before --until %s",
		    since, until);
	if (follow && until != NULL)
		return usage_error(ctx, "--until does not go with --follow");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (l.jq != NULL && (rc = jq_prepare(&l)) != 0) {
		if (l.pool_up)
			jqpool_close(&l.pool);
		return rc;
	}
	rc = events_list(&l, sub, follow);
	if (l.pool_up)
		jqpool_close(&l.pool);
	return rc;
}

static int
events_list(struct events_state *l, const char *sub, int follow)
{
	struct ctx *ctx = l->ctx;
	struct sub_rec s;
	int rc;

	if (rtx_begin(ctx, &l->t) != 0)
		return EXIT_FAIL;
	if (sub != NULL && (rc = sub_lookup(ctx, l->t.c, sub, &s)) != 0) {
		rtx_end(&l->t);
		return rc;
	}
	l->sub = sub ? s.id : NULL;
	l->a = json_array();
	/* Where --follow goes on from: the end, whatever the filters. */
	l->seq = db_log_last(l->t.e, &ctx->db);
	if (l->rejected)
		db_rejected_each(l->t.e, &ctx->db, 1, 0, rejected_cb, l);
	else
		db_event_each(l->t.e, &ctx->db, events_cb, l);
	rtx_end(&l->t);
	if ((rc = jq_report(l)) != 0) {
		json_decref(l->a);
		return rc;
	}
	if (follow)
		return events_follow(l);
	if (ctx->json)
		return json_print(l->a);
	events_table(l);
	json_decref(l->a);
	return EXIT_OK;
}

/* --- event show --- */

static const char *
str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "#2  3m ago  1.2 s  exit code 3: ..." from an attempt's JSON. */
static void
print_attempt(json_t *a, const char *indent)
{
	json_t *err = json_object_get(a, "error");
	json_t *code = json_object_get(a, "exit_code");
	json_t *http = json_object_get(a, "http_status");
	int64_t ms = json_integer_value(json_object_get(a, "duration_ms"));
	char when[40], dur[24];

	when[0] = '\0';
	if (json_is_string(json_object_get(a, "started_at")))
		time_str(rfc3339_us(str_of(a, "started_at")), when,
		    sizeof(when));
	if (ms < 1000)
		snprintf(dur, sizeof(dur), "%lld ms", (long long)ms);
	else
		snprintf(dur, sizeof(dur), "%lld.%lld s", (long long)ms / 1000,
		    (long long)(ms % 1000) / 100);
	printf("%s#%lld  %.19sZ (%s)  %s", indent,
	    (long long)json_integer_value(json_object_get(a, "attempt")),
	    str_of(a, "started_at") ? str_of(a, "started_at") : "-", when,
	    dur);
	if (json_is_integer(http))
		printf("  HTTP %lld", (long long)json_integer_value(http));
	else if (json_is_integer(code))
		printf("  exit code %lld", (long long)json_integer_value(code));
	if (json_is_string(err) && (!json_is_integer(code) ||
	    json_integer_value(code) == 0 || strncmp(json_string_value(err),
	    "exit code", 9) != 0) && (!json_is_integer(http) ||
	    strncmp(json_string_value(err), "HTTP ", 5) != 0)) {
		printf(": ");
		print_safe(stdout, json_string_value(err));
	}
	printf("\n");
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
		json_t *h = json_object_get(r, "history"), *last;
		const char *out;
		int skipped;

		printf("  run %s of ", str_of(r, "id"));
		print_safe(stdout, str_of(r, "workflow"));
		printf(": ");
		print_status(stdout, str_of(r, "status"));
		if (!json_is_true(json_object_get(r, "claim")))
			printf(", %lld of %lld attempts%s",
			    (long long)json_integer_value(json_object_get(r,
			    "attempts")), (long long)json_integer_value(
			    json_object_get(r, "max_attempts")),
			    json_is_true(json_object_get(r, "test")) ?
			    " (test)" : "");
		/* Cluster mode: the host that has the run. */
		if (str_of(r, "host") != NULL) {
			printf(", on ");
			print_safe(stdout, str_of(r, "host"));
			if (json_is_true(json_object_get(r, "copy")))
				printf(" (which does not answer: its copy)");
			if (json_is_true(json_object_get(r, "claim")))
				printf(" (which does not answer: it made the "
				    "run, and no attempt of it has ended)");
		}
		printf("\n");
		/* A run that never started says why (a trigger's jq program
		 * stopped at its budget, say). */
		if (json_array_size(h) == 0 &&
		    json_is_string(json_object_get(r, "last_error"))) {
			printf("    ");
			print_safe(stdout, str_of(r, "last_error"));
			printf("\n");
		}
		json_array_foreach(h, j, v)
			print_attempt(v, "    ");
		/* Why it failed is most often in what it printed last. */
		last = json_array_get(h, json_array_size(h) - 1);
		out = str_of(last, "output");
		if (out == NULL || *out == '\0')
			continue;
		printf("    output of #%lld:\n", (long long)json_integer_value(
		    json_object_get(last, "attempt")));
		skipped = print_lines_of(stdout, "      ", out,
		    json_string_length(json_object_get(last, "output")),
		    OUTPUT_LINES);
		if (skipped > 0)
			printf("    (%d lines before; all of it: hookpipe run "
			    "show %s)\n", skipped, str_of(r, "id"));
	}
}

static int
event_get(struct ctx *ctx, MDB_txn *txn, const char *arg, struct event_rec *e)
{
	char id[UUID_LEN + 1];
	int rc;

	if ((rc = event_id(ctx, txn, arg, id)) != 0)
		return rc;
	rc = db_event_get(txn, &ctx->db, id, e);
	if (rc == 0 && strcmp(e->workspace, ctx->ws) != 0) {
		event_free(e);
		rc = MDB_NOTFOUND;
	}
	if (rc == MDB_NOTFOUND)
		return fail("no event %s in workspace %s", arg, ctx->ws);
	return rc == 0 ? 0 : db_error(rc);
}

/*
 * Cluster mode: the runs of event o on every host (the host that routed
 * it made them), each with its host, added to o's "runs" (this host's).
 */
void
event_runs_cluster(struct ctx *ctx, json_t *o, json_t *claims)
{
	struct runs_ask q = { .event = str_of(o, "id"), .claims = claims };

	cluster_runs(ctx, json_object_get(o, "runs"), &q, INT64_MAX);
}

static int	collect_cb(void *, const char *, size_t);

/* The runs the event's triggers make, as the router names them, each
 * {id, workflow, event_id, created_at (the event's receipt)}. */
static void
trigger_runs_add(struct ctx *ctx, struct rtx *t, const struct event_rec *e,
    json_t *a)
{
	struct buf keys = { 0 };
	char id[UUID_LEN + 1];
	const char *key, *name;
	size_t off;

	if (strcmp(e->workspace, ctx->ws) != 0)
		return;
	db_trigger_match(t->c, &ctx->db, e->sub, e->type, collect_cb, &keys);
	for (off = 0; off < keys.len; off += strlen(keys.data + off) + 1) {
		key = keys.data + off;
		if ((name = strchr(key, '/')) == NULL ||
		    (size_t)(name - key) != strlen(e->workspace) ||
		    strncmp(key, e->workspace, (size_t)(name - key)) != 0)
			continue;
		run_id_for(e, e->workspace, name + 1, id);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}",
		    "id", id, "workflow", name + 1, "event_id", e->id,
		    "created_at", json_time(e->received_at)));
	}
	buf_free(&keys);
}

json_t *
events_run_ids(struct ctx *ctx, json_t *event_ids)
{
	struct event_rec e;
	struct rtx t;
	json_t *a = json_array(), *v;
	size_t i;

	if (rtx_begin(ctx, &t) != 0)
		return a;
	json_array_foreach(event_ids, i, v) {
		if (!json_is_string(v) || db_event_get(t.e, &ctx->db,
		    json_string_value(v), &e) != 0)
			continue;
		trigger_runs_add(ctx, &t, &e, a);
		event_free(&e);
	}
	rtx_end(&t);
	return a;
}

static int
event_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct event_rec e;
	struct rtx t;
	char **args;
	json_t *o, *claims = NULL;
	int rc, here = 0, clustered;
	const struct opt opts[] = {
		{ "here", OPT_FLAG, &here },
		{ NULL, 0, NULL }
	};

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
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
	clustered = cluster_enabled() && !here;
	if (clustered)
		trigger_runs_add(ctx, &t, &e, claims = json_array());
	event_free(&e);
	rtx_end(&t);
	if (clustered)
		event_runs_cluster(ctx, o, claims);
	json_decref(claims);
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
	const char	*event;		/* its full id, or NULL */
	int		 test;		/* test runs only */
	int64_t		 left;
	int		 seen;		/* runs of --workflow, any status */
	struct table	 t;
	json_t		*a;
};

/* Text cut to width characters, with "..." when it was longer. */
static void
cut(char *out, size_t len, const char *s, size_t width)
{
	if (strlen(s) <= width)
		str_copy(out, s, len);
	else
		snprintf(out, len, "%.*s...", (int)(width - 3), s);
}

static int
runs_cb(void *arg, const struct run_rec *r)
{
	struct runs_state *l = arg;
	char when[40], att[48], wf[NAME_MAX_LEN + 8], err[ERROR_WIDTH + 4];

	if (strcmp(r->workspace, l->ctx->ws) != 0 ||
	    (l->workflow && strcmp(r->workflow, l->workflow) != 0))
		return 0;
	l->seen = 1;
	if ((l->status && strcmp(run_state_name(r->state), l->status) != 0) ||
	    (l->test && !r->test))
		return 0;
	if (l->a != NULL)
		json_array_append_new(l->a, run_json(l->ctx, &l->tx, r, 1));
	else {
		snprintf(att, sizeof(att), "%lld/%lld", (long long)r->attempts,
		    (long long)r->max_attempts);
		snprintf(wf, sizeof(wf), "%s%s", r->workflow, r->test ?
		    " (test)" : "");
		cut(err, sizeof(err), r->state == RUN_SUCCEEDED ? "" :
		    r->last_error, ERROR_WIDTH);
		table_row(&l->t, r->id, wf, run_state_name(r->state), att,
		    time_str(r->updated_at, when, sizeof(when)),
		    err[0] ? err : NULL);
	}
	return --l->left == 0;
}

/* Cluster mode: the runs of every host, from their JSON, with a HOST. */
static int
runs_print_hosts(json_t *a, int filtered)
{
	char when[40], att[48], wf[NAME_MAX_LEN + 8], err[ERROR_WIDTH + 4];
	char host[CLUSTER_HOST_LEN + 8];
	struct table t;
	const char *e, *st;
	json_t *r;
	size_t i;

	table_init(&t, 7, "ID", "WORKFLOW", "STATUS", "ATTEMPTS", "UPDATED",
	    "ERROR", "HOST");
	table_color(&t, 2);
	json_array_foreach(a, i, r) {
		st = json_string_value(json_object_get(r, "status"));
		snprintf(att, sizeof(att), "%lld/%lld", (long long)
		    json_integer_value(json_object_get(r, "attempts")),
		    (long long)json_integer_value(json_object_get(r,
		    "max_attempts")));
		if (json_is_true(json_object_get(r, "claim")))
			snprintf(att, sizeof(att), "0/-");
		snprintf(wf, sizeof(wf), "%s%s", json_string_value(
		    json_object_get(r, "workflow")), json_is_true(
		    json_object_get(r, "test")) ? " (test)" : "");
		e = json_string_value(json_object_get(r, "last_error"));
		cut(err, sizeof(err), e == NULL || (st != NULL &&
		    strcmp(st, "succeeded") == 0) ? "" : e, ERROR_WIDTH);
		/* A host that does not answer: the run as its copy has it,
		 * or from its claim. */
		snprintf(host, sizeof(host), "%s%s", str_of(r, "host") ?
		    str_of(r, "host") : "-", json_is_true(json_object_get(r,
		    "copy")) ? " (copy)" : json_is_true(json_object_get(r,
		    "claim")) ? " (claim)" : "");
		table_row(&t, json_string_value(json_object_get(r, "id")), wf,
		    st, att, time_str(rfc3339_us(json_string_value(
		    json_object_get(r, "updated_at"))), when, sizeof(when)),
		    err[0] ? err : NULL, host);
	}
	json_decref(a);
	table_print_or(&t, stdout, filtered ? "no runs match" : "no runs yet");
	table_free(&t);
	return EXIT_OK;
}

/*
 * --event: an event id or a unique prefix of one, completed here. A full
 * id this host has not stored (yet, or no longer) is taken as it is: its
 * runs may be here all the same, and the other hosts ask with full ids.
 */
static int
runs_event(struct ctx *ctx, const char *arg, char id[UUID_LEN + 1])
{
	MDB_txn *txn;
	int rc;

	if ((txn = txn_read(ctx, DB_EVENTS)) == NULL)
		return EXIT_FAIL;
	rc = db_id_complete(txn, &ctx->db, DB_ID_EVENT, arg, id);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND && strlen(arg) == UUID_LEN) {
		str_copy(id, arg, UUID_LEN + 1);
		return 0;
	}
	return rc == 0 ? 0 : id_error(ctx, rc, "event", arg, id);
}

/* A workflow named by --workflow: one that exists, or has runs left. */
static int
runs_workflow_check(struct ctx *ctx, struct runs_state *l)
{
	struct wf_rec w;

	if (db_wf_get(l->tx.c, &ctx->db, ctx->ws, l->workflow, &w) == 0) {
		wf_free(&w);
		return 0;
	}
	if (l->seen)
		return 0;
	return fail("no workflow %s in workspace %s", l->workflow, ctx->ws);
}

int
cmd_runs(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	static const char *const statuses[] = {
		"queued", "running", "succeeded", "failed", "dead", NULL
	};
	struct runs_state l = { .ctx = ctx };
	const char *limit = NULL, *event = NULL;
	int here = 0, clustered;
	const struct opt opts[] = {
		{ "workflow", OPT_STR, &l.workflow },
		{ "status", OPT_STR, &l.status },
		{ "event", OPT_STR, &event },
		{ "test", OPT_FLAG, &l.test },
		{ "limit", OPT_STR, &limit },
		{ "here", OPT_FLAG, &here },
		{ NULL, 0, NULL }
	};
	char **args, eid[UUID_LEN + 1];
	struct runs_ask q = { NULL };
	int64_t lim;
	int rc, filtered;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE ||
	    (rc = limit_parse(ctx, limit, &l.left)) != 0)
		return rc;
	if (l.status != NULL && !one_of(l.status, statuses))
		return usage_error(ctx, "--status: expected queued, running, "
		    "succeeded, failed or dead");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (event != NULL) {
		if ((rc = runs_event(ctx, event, eid)) != 0)
			return rc;
		l.event = eid;
	}
	if (rtx_begin(ctx, &l.tx) != 0)
		return EXIT_FAIL;
	/* Cluster mode: every host's runs, unless --here. */
	clustered = cluster_enabled() && !here;
	if (ctx->json || clustered)
		l.a = json_array();
	else {
		table_init(&l.t, 6, "ID", "WORKFLOW", "STATUS", "ATTEMPTS",
		    "UPDATED", "ERROR");
		table_color(&l.t, 2);
	}
	lim = l.left;
	if (l.event != NULL)
		db_run_each_for_event(l.tx.r, &ctx->db, l.event, runs_cb, &l);
	else
		db_run_each(l.tx.r, &ctx->db, runs_cb, &l);
	rc = l.workflow != NULL ? runs_workflow_check(ctx, &l) : 0;
	rtx_end(&l.tx);
	if (rc != 0) {
		json_decref(l.a);
		table_free(&l.t);
		return rc;
	}
	filtered = l.workflow || l.status || l.event || l.test;
	if (clustered) {
		q.workflow = l.workflow;
		q.status = l.status;
		q.event = l.event;
		q.test = l.test;
		q.limit = limit;
		cluster_runs(ctx, l.a, &q, lim);
		if (!ctx->json)
			return runs_print_hosts(l.a, filtered);
	}
	if (ctx->json)
		return json_print(l.a);
	table_print_or(&l.t, stdout, filtered ? "no runs match" :
	    "no runs yet");
	table_free(&l.t);
	return EXIT_OK;
}

/* --- run show --- */

static void
run_print(struct ctx *ctx, json_t *o, const struct run_rec *r)
{
	json_t *h = json_object_get(o, "history"), *ev = json_object_get(o,
	    "event"), *a, *v;
	const char *inputs = str_of(o, "inputs_text");
	char when[64];
	size_t i;

	(void)ctx;
	print_field(stdout, "id", 10, r->id);
	printf("workflow:  ");
	print_safe(stdout, r->workflow);
	printf("%s\n", r->test ? " (a workflow test: one attempt)" : "");
	printf("event:     %s", r->event_id);
	if (ev != NULL) {
		printf(" (");
		print_safe(stdout, str_of(ev, "type"));
		printf(" from ");
		print_safe(stdout, json_is_string(json_object_get(ev,
		    "subscription_name")) ? str_of(ev, "subscription_name") :
		    str_of(ev, "subscription"));
		printf(")");
	}
	printf("\nstatus:    ");
	print_status(stdout, run_state_name(r->state));
	printf(", %lld of %lld attempts\n", (long long)r->attempts,
	    (long long)r->max_attempts);
	printf("created:   %s\n", time_long(r->created_at, when,
	    sizeof(when)));
	printf("updated:   %s\n", time_long(r->updated_at, when,
	    sizeof(when)));
	if (r->last_error[0] != '\0' && r->state != RUN_SUCCEEDED)
		print_field(stdout, "error", 10, r->last_error);
	if (r->state == RUN_QUEUED || r->state == RUN_FAILED)
		printf("next:      attempt %lld %s\n", (long long)r->attempts +
		    1, time_long(r->next_at, when, sizeof(when)));
	else if (r->state == RUN_RUNNING)
		printf("running:   attempt %lld\n", (long long)r->attempts);
	if (inputs != NULL) {
		printf("\ninputs (from the trigger's --map):\n");
		print_pretty(stdout, inputs, strlen(inputs));
	}
	printf("\nattempts:%s\n", json_array_size(h) ? "" : " none yet");
	json_array_foreach(h, i, a) {
		const char *out = str_of(a, "output");

		print_attempt(a, "  ");
		v = json_object_get(a, "output");
		if (out != NULL && *out != '\0') {
			printf("    output:\n");
			print_lines_of(stdout, "      ", out,
			    json_string_length(v), 0);
		}
	}
}

void
run_rec_of_json(json_t *o, struct run_rec *r)
{
	const char *v;

	memset(r, 0, sizeof(*r));
	str_copy(r->id, str_of(o, "id") ? str_of(o, "id") : "", sizeof(r->id));
	str_copy(r->workspace, str_of(o, "workspace") ? str_of(o,
	    "workspace") : "", sizeof(r->workspace));
	str_copy(r->workflow, str_of(o, "workflow") ? str_of(o, "workflow") :
	    "", sizeof(r->workflow));
	str_copy(r->event_id, str_of(o, "event_id") ? str_of(o, "event_id") :
	    "", sizeof(r->event_id));
	if ((v = str_of(o, "last_error")) != NULL)
		str_copy(r->last_error, v, sizeof(r->last_error));
	r->state = (enum run_state)run_state_parse(str_of(o, "status") ?
	    str_of(o, "status") : "");
	r->attempts = json_integer_value(json_object_get(o, "attempts"));
	r->max_attempts = json_integer_value(json_object_get(o,
	    "max_attempts"));
	r->created_at = rfc3339_us(str_of(o, "created_at"));
	r->updated_at = rfc3339_us(str_of(o, "updated_at"));
	r->next_at = rfc3339_us(str_of(o, "next_at"));
	r->test = json_is_true(json_object_get(o, "test"));
}

/*
 * Cluster mode: a run another host has (its admin stage's answer): the
 * record rebuilt from its JSON for run_print. EXIT_FAIL when none has it.
 */
static int
run_show_remote(struct ctx *ctx, const char *arg)
{
	json_t *o = cluster_run(ctx, arg), *in;
	struct run_rec r;
	char *s;

	if (o == NULL)
		return fail("no run %s in workspace %s", arg, ctx->ws);
	if (ctx->json)
		return json_print(o);
	run_rec_of_json(o, &r);
	if ((in = json_object_get(o, "inputs")) != NULL &&
	    (s = json_dumps(in, JSON_ENCODE_ANY)) != NULL) {
		json_object_set_new(o, "inputs_text", json_string(s));
		free(s);
	}
	run_print(ctx, o, &r);
	printf("\nhost:      ");
	print_safe(stdout, str_of(o, "host"));
	printf("\n");
	if (json_is_true(json_object_get(o, "copy")))
		printf("\nThat host does not answer: this is the run's copy, "
		    "as it was when its\nlast attempt ended.\n");
	json_decref(o);
	return EXIT_OK;
}

static int
run_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	char **args, id[UUID_LEN + 1], *inputs;
	struct event_rec e;
	struct run_rec r;
	struct rtx t;
	json_t *o;
	int rc, here = 0;
	const struct opt opts[] = {
		{ "here", OPT_FLAG, &here },
		{ NULL, 0, NULL }
	};

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (rtx_begin(ctx, &t) != 0)
		return EXIT_FAIL;
	/* Cluster mode: not here, maybe on another host. */
	if (cluster_enabled() && !here) {
		if ((rc = db_id_complete(t.r, &ctx->db, DB_ID_RUN, args[0],
		    id)) == 0 && (rc = db_run_get(t.r, &ctx->db, id, &r)) == 0 &&
		    strcmp(r.workspace, ctx->ws) != 0)
			rc = MDB_NOTFOUND;
		if (rc == MDB_NOTFOUND) {
			rtx_end(&t);
			return run_show_remote(ctx, args[0]);
		}
	}
	if ((rc = run_id(ctx, t.r, args[0], id)) == 0) {
		if ((rc = db_run_get(t.r, &ctx->db, id, &r)) == 0 &&
		    strcmp(r.workspace, ctx->ws) != 0)
			rc = MDB_NOTFOUND;
		if (rc == MDB_NOTFOUND)
			rc = fail("no run %s in workspace %s", args[0],
			    ctx->ws);
		else if (rc != 0)
			rc = db_error(rc);
	}
	if (rc != 0) {
		rtx_end(&t);
		return rc;
	}
	o = run_json(ctx, &t, &r, 1);
	if (db_event_get(t.e, &ctx->db, r.event_id, &e) == 0) {
		json_object_set_new(o, "event", event_json(ctx, &t, &e, 0));
		event_free(&e);
	}
	if ((inputs = db_run_inputs_get(t.r, &ctx->db, r.id)) != NULL) {
		json_object_set_new(o, "inputs", json_or_string(inputs,
		    strlen(inputs)));
		if (!ctx->json)
			json_object_set_new(o, "inputs_text",
			    json_string(inputs));
		free(inputs);
	}
	rtx_end(&t);
	if (ctx->json)
		return json_print(o);
	run_print(ctx, o, &r);
	json_decref(o);
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
		v = strcmp(w.state, "published") != 0 || w.disabled ?
		    REPLAY_NO_TRIGGER :
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
