/*
 * /api/v1/...: each call is one command of the CLI, run with --json
 * (admind.h). A route names the command and where its positional
 * argument comes from (the path); the query's filters and the JSON
 * body's members become its options:
 *
 *	"key": "v"		--key v
 *	"key": 3		--key 3
 *	"key": true		--key		(false: nothing)
 *	"key": ["a", "b"]	--key a --key b
 *	"secret": "v"		--secret-file /dev/fd/3, v on a pipe (the
 *				same for every secret option of the CLI)
 *
 * The CLI's exit status makes the HTTP status: 0 is 200 (201 for a
 * creation), 2 (usage) is 400, 1 is 404 when the CLI says something
 * does not exist and 422 otherwise; its error line is the answer's
 * "error". Every change is audited, refused or not.
 *
 *	GET    /api/v1/integrations[/NAME]
 *	GET    /api/v1/subscriptions[/SUB]      ?integration=
 *	POST   /api/v1/subscriptions            {"name", "integration", ...}
 *	PATCH  /api/v1/subscriptions/SUB        {"events", "secret", ...}
 *	DELETE /api/v1/subscriptions/SUB        ?force=1
 *	POST   /api/v1/subscriptions/SUB/refresh-keys
 *	POST   /api/v1/subscriptions/SUB/send   {"event", "payload"}
 *	GET    /api/v1/workflows[/NAME]
 *	POST   /api/v1/workflows                {"name", "exec"|"http"|...}
 *	POST   /api/v1/workflows/NAME/ACTION    trigger, untrigger, publish,
 *						unpublish, enable, disable,
 *						edit
 *	DELETE /api/v1/workflows/NAME
 *	POST   /api/v1/oauth/client             {"integration", "client-id",
 *	                                        "client-secret"}
 *	POST   /api/v1/oauth/authorize          {"integration", "name"}: url
 *	GET    /api/v1/events[/ID]              ?sub=&type=&status=&since=
 *	                                        &until=&jq=&limit=
 *	POST   /api/v1/events/ID/replay         {"workflow", "force"}
 *	GET    /api/v1/runs                     ?workflow=&status=&limit=
 *	POST   /api/v1/runs/replay              {"workflow", "status", "limit",
 *						"dry_run"}
 *	GET    /api/v1/credentials
 *	POST   /api/v1/credentials              {"name", "integration", ...}
 *	DELETE /api/v1/credentials/NAME
 *	GET    /api/v1/spool
 *	GET    /api/v1/stages                   hookpipectl status --json
 *	GET    /api/v1/audit                    ?limit=
 *	POST   /api/v1/jq                       {"input", "filter", "map"}
 *	GET    /api/v1/tail/STAGE               text/event-stream
 *	GET    /api/v1/workflows/NAME/test      text/event-stream
 *
 * Every call takes ?workspace=W (default HOOKPIPE_WORKSPACE).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admind.h"
#include "log.h"
#include "metrics.h"

#define SEGS_MAX	4
#define ARGV_MAX	60
#define KEEPALIVE_S	15

/* The CLI's secret options (SECRET_OPTS in admin/). */
static const char *const secret_keys[] = {
	"secret", "secondary-secret", "api-key", "client-secret", "app-key",
	NULL
};

struct call {
	struct admin	*adm;
	const char	*argv[ARGV_MAX + 1];
	int		 argc;
	char		*own[ARGV_MAX];		/* strings to free */
	int		 nown;
	const char	*secret[2];
	int		 nsecret;
	char		 fdarg[2][48];
	char		 what[64];
	char		 target[256];
	char		 err[256];	/* a bad request's reason */
	int		 also_ok;	/* an exit status that answers */
};

static int
seg_ok(const char *s)
{
	if (*s == '\0' || *s == '-' || *s == '.')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.' || *s == ':'))
			return 0;
	return 1;
}

static int
key_ok(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return 0;
	return 1;
}

/* "--key", malloc'd. */
static char *
opt_of(const char *key)
{
	size_t n = strlen(key) + 3;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "--%s", key);
	return s;
}

static void
arg(struct call *k, const char *a)
{
	if (k->argc < ARGV_MAX)
		k->argv[k->argc++] = a;
}

static void
arg_own(struct call *k, char *a)
{
	if (a == NULL || k->nown >= ARGV_MAX) {
		free(a);
		return;
	}
	k->own[k->nown++] = a;
	arg(k, a);
}

static char *
opt_suffix(const char *key, const char *suffix)
{
	size_t n = strlen(key) + strlen(suffix) + 3;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "--%s%s", key, suffix);
	return s;
}

static int
is_secret(const char *key)
{
	int i;

	for (i = 0; secret_keys[i] != NULL; i++)
		if (strcmp(secret_keys[i], key) == 0)
			return 1;
	return 0;
}

/* One member of the body as options; -1 with k->err. */
static int
member(struct call *k, const char *key, json_t *v)
{
	char num[32];
	size_t i;
	json_t *e;

	if (!key_ok(key) || strcmp(key, "workspace") == 0 ||
	    strcmp(key, "json") == 0 || strcmp(key, "help") == 0) {
		snprintf(k->err, sizeof(k->err), "%.60s: not an option", key);
		return -1;
	}
	if (is_secret(key)) {
		if (!json_is_string(v) || k->nsecret == 2) {
			snprintf(k->err, sizeof(k->err), "%s: expected a "
			    "string", key);
			return -1;
		}
		snprintf(k->fdarg[k->nsecret], sizeof(k->fdarg[0]),
		    "/dev/fd/%d", 3 + k->nsecret);
		arg_own(k, opt_suffix(key, "-file"));
		arg(k, k->fdarg[k->nsecret]);
		k->secret[k->nsecret++] = json_string_value(v);
		return 0;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		arg_own(k, opt_of(key));
		arg(k, json_string_value(v));
		return 0;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(v));
		arg_own(k, opt_of(key));
		arg_own(k, strdup(num));
		return 0;
	case JSON_TRUE:
		arg_own(k, opt_of(key));
		return 0;
	case JSON_FALSE:
	case JSON_NULL:
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			if (!json_is_string(e)) {
				snprintf(k->err, sizeof(k->err), "%s: "
				    "expected strings", key);
				return -1;
			}
			arg_own(k, opt_of(key));
			arg(k, json_string_value(e));
		}
		return 0;
	default:
		snprintf(k->err, sizeof(k->err), "%s: expected a string, "
		    "number, boolean or array of strings", key);
		return -1;
	}
}

/* The body's members, but those in skip (taken as positionals). */
static int
members(struct call *k, json_t *body, const char *skip)
{
	const char *key;
	json_t *v;

	if (body == NULL)
		return 0;
	json_object_foreach(body, key, v) {
		if (skip != NULL && strcmp(key, skip) == 0)
			continue;
		if (member(k, key, v) == -1)
			return -1;
	}
	return 0;
}

/*
 * A creation: the CLI's VERB with the body's "name" as its argument and
 * the other members as options. -1 with k->err set when a member does
 * not fit (or the name is missing).
 */
static int
creation(struct call *k, json_t *body, const char *verb, const char *what)
{
	json_t *name = json_object_get(body, "name");

	if (!json_is_string(name)) {
		snprintf(k->err, sizeof(k->err), "name: expected the new %s's "
		    "name", what);
		return -1;
	}
	arg(k, verb);
	arg(k, json_string_value(name));
	str_copy(k->target, json_string_value(name), sizeof(k->target));
	return members(k, body, "name");
}

/* Query arguments named in keys, as options. */
static void
query(struct call *k, struct MHD_Connection *c, const char *const *keys)
{
	const char *v;

	for (; *keys != NULL; keys++)
		if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
		    *keys)) != NULL && *v != '\0') {
			arg_own(k, opt_of(*keys));
			arg(k, v);
		}
}

static void
call_free(struct call *k)
{
	int i;

	for (i = 0; i < k->nown; i++)
		free(k->own[i]);
	k->nown = 0;
}

/* "what" and "target" for the audit log; "detail" is the option names
 * given (their values may be large, and secrets are not in them). */
static void
detail_of(const struct call *k, int from, char *out, size_t len)
{
	size_t n = 0;
	int i;

	out[0] = '\0';
	for (i = from; i < k->argc && n + 2 < len; i++) {
		if (strncmp(k->argv[i], "--", 2) != 0)
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "",
		    k->argv[i]);
		if (n >= len)
			n = len - 1;
	}
}

static int
http_status(int exit_status, const char *err, int created)
{
	if (exit_status == 0)
		return created ? 201 : 200;
	if (exit_status == 2)
		return 400;
	if (strncmp(err, "hookpipe: ", 10) == 0)
		err += 10;
	/* "no subscription x in workspace w", "no such run" */
	if (exit_status == 1 && (strncmp(err, "no ", 3) == 0 ||
	    strstr(err, "not found") != NULL ||
	    strstr(err, "no such") != NULL || strstr(err, "unknown") != NULL))
		return 404;
	if (exit_status == 1)
		return 422;
	return 500;
}

/* The first line of the CLI's stderr, without "hookpipe: ". */
static json_t *
error_of(const struct cli_out *o)
{
	const char *e = o->err.data != NULL ? o->err.data : "";
	size_t n;

	if (strncmp(e, "hookpipe: ", 10) == 0)
		e += 10;
	n = strcspn(e, "\n");
	if (n == 0)
		return json_string("the command failed; see the admin log");
	return json_stringn_nocheck(e, n);
}

static enum MHD_Result
run(struct admin *adm, struct MHD_Connection *c, const struct who *w,
    struct call *k, int change, int created, int ctl)
{
	struct cli_out o;
	char detail[512];
	json_t *ans;
	int status;

	arg(k, NULL);
	k->argc--;
	if (cli_run(adm, ctl, k->argv, k->secret[0], k->secret[1], &o) == -1) {
		cli_out_free(&o);
		if (change)
			adm_audit(adm, w, k->what, k->target, "cannot run",
			    500);
		return adm_error(c, 500, "cannot run the CLI; see the admin "
		    "log");
	}
	/* `hookpipectl status` says a stage is down with exit 3, and its
	 * report, which is the answer. */
	if (k->also_ok != 0 && o.status == k->also_ok && o.out.len > 0)
		o.status = 0;
	status = http_status(o.status, o.err.data != NULL ? o.err.data : "",
	    created);
	if (o.status == 0) {
		ans = o.out.len == 0 ? json_object() :
		    json_loadb(o.out.data, o.out.len, JSON_DECODE_ANY, NULL);
		if (ans == NULL)
			ans = json_pack("{s:s%}", "output", o.out.data,
			    o.out.len);
	} else
		ans = json_pack("{s:o}", "error", error_of(&o));
	if (o.status != 0 && o.err.len > 0)
		log_info("%s %s: %.*s", k->what, k->target,
		    (int)strcspn(o.err.data, "\n"), o.err.data);
	cli_out_free(&o);
	if (change) {
		detail_of(k, 0, detail, sizeof(detail));
		adm_audit(adm, w, k->what, k->target, detail, status);
	}
	return adm_json(c, status, ans);
}

/* --- event streams ---------------------------------------------------- */

struct stream {
	struct admin	*adm;
	pid_t		 pid;
	int		 fd;
	struct buf	 line;		/* a line not yet complete */
	struct buf	 doc;		/* a document not yet complete */
	struct buf	 out;		/* framed, not yet sent */
	size_t		 off;
	int		 eof;
	int		 ended;
};

static void
frame(struct stream *s, const char *event, const char *data, size_t n)
{
	if (event != NULL)
		buf_appendf(&s->out, "event: %s\n", event);
	buf_append(&s->out, "data: ", 6);
	buf_append(&s->out, data, n);
	buf_append(&s->out, "\n\n", 2);
}

static void
doc_flush(struct stream *s)
{
	if (s->doc.len == 0)
		return;
	frame(s, NULL, s->doc.data, s->doc.len);
	s->doc.len = 0;
}

/*
 * One JSON document per event: a line of its own (tail), or the lines
 * of an indented one up to its closing brace at the margin (the CLI's
 * --json), as one event of several data: lines.
 */
static void
doc_line(struct stream *s, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (s->doc.len == 0 && p[0] == '{' && p[n - 1] == '}') {
		frame(s, NULL, p, n);
		return;
	}
	if (s->doc.len > 0)
		buf_append(&s->doc, "\ndata: ", 7);
	buf_append(&s->doc, p, n);
	if (n == 1 && (p[0] == '}' || p[0] == ']'))
		doc_flush(s);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct stream *s = cls;
	char chunk[16384], *nl;
	struct pollfd p;
	size_t n;
	ssize_t r;
	int waited = 0, st;

	while (s->out.len - s->off == 0) {
		s->out.len = s->off = 0;
		if (s->ended || __atomic_load_n(&s->adm->stopping,
		    __ATOMIC_RELAXED))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (s->eof) {
			doc_flush(s);
			while (waitpid(s->pid, &st, 0) == -1 && errno == EINTR)
				;
			s->pid = -1;
			buf_appendf(&s->out, "event: end\ndata: {\"exit\":%d}"
			    "\n\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			s->ended = 1;
			break;
		}
		p = (struct pollfd){ s->fd, POLLIN, 0 };
		if (poll(&p, 1, 1000) <= 0) {
			if (++waited >= KEEPALIVE_S)
				buf_append(&s->out, ": keepalive\n\n", 13);
			continue;
		}
		if ((r = read(s->fd, chunk, sizeof(chunk))) <= 0) {
			s->eof = 1;
			continue;
		}
		buf_append(&s->line, chunk, (size_t)r);
		while (s->line.len > 0 && (nl = memchr(s->line.data, '\n',
		    s->line.len)) != NULL) {
			n = (size_t)(nl - s->line.data);
			doc_line(s, s->line.data, n);
			memmove(s->line.data, nl + 1, s->line.len - n - 1);
			s->line.len -= n + 1;
		}
	}
	n = s->out.len - s->off;
	if (n > max)
		n = max;
	memcpy(dst, s->out.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;
	int st;

	if (s->pid > 0) {
		kill(-s->pid, SIGTERM);
		while (waitpid(s->pid, &st, 0) == -1 && errno == EINTR)
			;
	}
	close(s->fd);
	buf_free(&s->line);
	buf_free(&s->doc);
	buf_free(&s->out);
	free(s);
}

/*
 * A command whose output lines go to the browser as they come, one
 * server-sent event each, then an "end" event with its exit status.
 * The child ends when the browser goes away.
 */
static enum MHD_Result
stream(struct admin *adm, struct MHD_Connection *c, struct call *k)
{
	struct MHD_Response *r;
	struct stream *s;
	enum MHD_Result mr;

	arg(k, NULL);
	k->argc--;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MHD_NO;
	s->adm = adm;
	if ((s->pid = cli_spawn(adm, k->argv, &s->fd)) == -1) {
		free(s);
		return adm_error(c, 500, "cannot run the CLI");
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
	    stream_read, s, stream_free);
	if (r == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	mr = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	metrics_add(M_ADMIN_REQUESTS, "200", NULL, 1);
	return mr;
}

/* --- the audit log ---------------------------------------------------- */

struct audit_list {
	json_t		*arr;
	int		 limit;
};

static int
audit_one(void *arg, const struct audit_rec *a)
{
	struct audit_list *l = arg;
	char t[40];

	json_array_append_new(l->arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:i}", "at", fmt_rfc3339(a->at, t, sizeof(t)), "who", a->who,
	    "from", a->from, "what", a->what, "target", a->target, "detail",
	    a->detail, "status", a->status));
	return (int)json_array_size(l->arr) >= l->limit;
}

static enum MHD_Result
audit(struct admin *adm, struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "limit");
	struct audit_list l = { json_array(), 100 };
	int64_t n;
	MDB_txn *txn;
	int rc = -1;

	if (v != NULL) {
		if (parse_i64(v, 1, 10000, &n) == -1) {
			json_decref(l.arr);
			return adm_error(c, 400, "limit: expected 1 to 10000");
		}
		l.limit = (int)n;
	}
	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 1)) != NULL) {
		rc = db_audit_each(txn, &adm->db, audit_one, &l);
		mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&adm->dblock);
	if (rc != 0 && rc != 1) {
		json_decref(l.arr);
		return adm_error(c, 500, "cannot read the audit log");
	}
	return adm_json(c, 200, l.arr);
}

/* --- replaying many runs ------------------------------------------------ */

/*
 * POST /api/v1/runs/replay {"workflow", "status", "limit", "dry_run"}:
 * the runs `runs` lists with these filters; with dry_run, how many and
 * which, and nothing else; without, each one's event replayed through
 * its workflow, one after another (as `replay EVENT --workflow W
 * --force`). Audited once, with the count.
 */
static enum MHD_Result
bulk_replay(struct admin *adm, struct MHD_Connection *c, const struct who *w,
    json_t *body, const char *ws)
{
	static const char *const keys[] = { "workflow", "status", "limit",
	    NULL };
	const char *args[16], *key;
	struct cli_out o;
	json_t *runs, *r, *v, *done, *ans;
	char detail[128];
	size_t i;
	int n = 0, k, ok = 0, dry;

	dry = json_is_true(json_object_get(body, "dry_run"));
	if (ws != NULL) {
		args[n++] = "--workspace";
		args[n++] = ws;
	}
	args[n++] = "runs";
	for (k = 0; keys[k] != NULL; k++) {
		v = json_object_get(body, keys[k]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_string(v))
			return adm_error(c, 400, "%s: expected a string",
			    keys[k]);
		args[n++] = strcmp(keys[k], "workflow") == 0 ? "--workflow" :
		    strcmp(keys[k], "status") == 0 ? "--status" : "--limit";
		args[n++] = json_string_value(v);
	}
	json_object_foreach(body, key, v)
		if (strcmp(key, "dry_run") != 0 && strcmp(key, "workflow") != 0 &&
		    strcmp(key, "status") != 0 && strcmp(key, "limit") != 0)
			return adm_error(c, 400, "%.60s: not a filter (workflow, "
			    "status, limit, dry_run)", key);
	args[n] = NULL;
	if (cli_run(adm, 0, args, NULL, NULL, &o) == -1 || o.status != 0) {
		ans = json_pack("{s:o}", "error", error_of(&o));
		k = http_status(o.status, o.err.data != NULL ? o.err.data :
		    "", 0);
		cli_out_free(&o);
		return adm_json(c, k, ans);
	}
	runs = json_loadb(o.out.data, o.out.len, 0, NULL);
	cli_out_free(&o);
	if (!json_is_array(runs)) {
		json_decref(runs);
		return adm_error(c, 500, "runs: not a list");
	}
	if (dry) {
		ans = json_pack("{s:I,s:[]}", "count",
		    (json_int_t)json_array_size(runs), "runs");
		json_array_foreach(runs, i, r)
			json_array_append(json_object_get(ans, "runs"),
			    json_object_get(r, "id"));
		json_decref(runs);
		return adm_json(c, 200, ans);
	}
	done = json_array();
	json_array_foreach(runs, i, r) {
		const char *ev = json_string_value(json_object_get(r,
		    "event_id"));
		const char *wf = json_string_value(json_object_get(r,
		    "workflow"));

		if (ev == NULL || wf == NULL)
			continue;
		n = 0;
		if (ws != NULL) {
			args[n++] = "--workspace";
			args[n++] = ws;
		}
		args[n++] = "replay";
		args[n++] = ev;
		args[n++] = "--workflow";
		args[n++] = wf;
		args[n++] = "--force";
		args[n] = NULL;
		k = cli_run(adm, 0, args, NULL, NULL, &o) == 0 &&
		    o.status == 0;
		ok += k;
		json_array_append_new(done, json_pack("{s:O,s:b}", "run",
		    json_object_get(r, "id"), "replayed", k));
		cli_out_free(&o);
	}
	snprintf(detail, sizeof(detail), "%d of %zu replayed", ok,
	    json_array_size(runs));
	adm_audit(adm, w, "bulk replay", json_string_value(json_object_get(
	    body, "workflow")), detail, 200);
	ans = json_pack("{s:I,s:i,s:o}", "count",
	    (json_int_t)json_array_size(runs), "replayed", ok, "runs", done);
	json_decref(runs);
	return adm_json(c, 200, ans);
}

/* --- trying a filter and a map ----------------------------------------- */

static json_t *
jq_try(struct admin *adm, int kind, const char *prog, const char *in,
    size_t len)
{
	char err[512], *out = NULL;
	json_t *v;
	int rc;

	err[0] = '\0';
	pthread_mutex_lock(&adm->jqlock);
	rc = jqpool_eval(&adm->jq, kind, prog, in, len, &out, err,
	    sizeof(err));
	pthread_mutex_unlock(&adm->jqlock);
	if (rc == JQ_BUDGET)
		return json_pack("{s:s}", "error", "over its time or memory "
		    "budget (HOOKPIPE_JQ_TIMEOUT_MS, HOOKPIPE_JQ_MEMORY)");
	if (rc == JQ_ERROR || rc < 0)
		return json_pack("{s:s}", "error", err[0] ? err : "failed");
	if (kind == JQPOOL_FILTER)
		return json_pack("{s:b}", "value", rc == 1);
	v = out != NULL ? json_loads(out, JSON_DECODE_ANY, NULL) : json_null();
	free(out);
	return json_pack("{s:o}", "value", v != NULL ? v : json_null());
}

/*
 * POST /api/v1/jq {"input": PAYLOAD, "filter": JQ, "map": JQ}: what the
 * router would make of a payload, for the trigger editor. It changes
 * nothing, and is not audited.
 */
static enum MHD_Result
jq_eval(struct admin *adm, struct MHD_Connection *c, json_t *body)
{
	json_t *in = json_object_get(body, "input"), *f, *m, *ans;
	char *text;

	f = json_object_get(body, "filter");
	m = json_object_get(body, "map");
	if (!adm->jq_up)
		return adm_error(c, 503, "jq workers are not running; see the "
		    "admin log");
	if (in == NULL || (f != NULL && !json_is_string(f)) ||
	    (m != NULL && !json_is_string(m)))
		return adm_error(c, 400, "expected {\"input\": PAYLOAD, "
		    "\"filter\": JQ, \"map\": JQ}");
	if ((text = json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return adm_error(c, 500, "out of memory");
	ans = json_object();
	if (f != NULL && json_string_length(f) > 0)
		json_object_set_new(ans, "filter", jq_try(adm, JQPOOL_FILTER,
		    json_string_value(f), text, strlen(text)));
	if (m != NULL && json_string_length(m) > 0)
		json_object_set_new(ans, "map", jq_try(adm, JQPOOL_MAP,
		    json_string_value(m), text, strlen(text)));
	free(text);
	return adm_json(c, 200, ans);
}

/* --- routes ----------------------------------------------------------- */

static int
split(const char *path, char segs[SEGS_MAX][256])
{
	const char *p = path, *e;
	size_t n;
	int i = 0;

	while (*p == '/')
		p++;
	while (*p != '\0') {
		if (i == SEGS_MAX)
			return -1;
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n >= 256)
			return -1;
		memcpy(segs[i], p, n);
		segs[i][n] = '\0';
		if (!seg_ok(segs[i]))
			return -1;
		i++;
		p += n;
		while (*p == '/')
			p++;
	}
	return i;
}

enum MHD_Result
adm_api(struct admin *adm, struct MHD_Connection *c, const struct who *w,
    const char *method, const char *path, struct req *rq)
{
	static const char *const q_events[] = { "sub", "type", "status",
	    "since", "until", "jq", "limit", NULL };
	static const char *const q_runs[] = { "workflow", "status", "limit",
	    NULL };
	static const char *const q_subs[] = { "integration", NULL };
	char seg[SEGS_MAX][256];
	const char *ws, *m = method;
	struct call k;
	json_t *body = NULL;
	json_error_t jerr;
	enum MHD_Result mr;
	int n, get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
	int del = strcmp(m, "DELETE") == 0, patch = strcmp(m, "PATCH") == 0;
	int change = !get, created = 0, ctl = 0, b;

	if (strncmp(path, "/api/v1/", 8) != 0 ||
	    (n = split(path + 8, seg)) <= 0) {
		if (change)
			adm_audit(adm, w, "refused", path, method, 404);
		return adm_error(c, 404, "%s: no such API; see /api/v1/ in "
		    "the README", path);
	}
	memset(&k, 0, sizeof(k));
	k.adm = adm;
	if (rq->body.len > 0) {
		body = json_loadb(rq->body.data, rq->body.len, 0, &jerr);
		if (!json_is_object(body)) {
			json_decref(body);
			if (change)
				adm_audit(adm, w, "refused", path,
				    "body is not a JSON object", 400);
			return adm_error(c, 400, "the body is not a JSON "
			    "object: %s", jerr.text);
		}
	}
	if ((ws = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "workspace")) != NULL) {
		arg(&k, "--workspace");
		arg(&k, ws);
	}
	if (n > 1)
		str_copy(k.target, seg[1], sizeof(k.target));

	if (strcmp(seg[0], "jq") == 0 && n == 1 && post) {
		mr = jq_eval(adm, c, body);
		json_decref(body);
		return mr;
	} else if (strcmp(seg[0], "audit") == 0 && n == 1 && get) {
		json_decref(body);
		return audit(adm, c);
	} else if (strcmp(seg[0], "stages") == 0 && n == 1 && get) {
		k.argc = 0;
		arg(&k, "status");
		arg(&k, "--json");
		ctl = 1;
		k.also_ok = 3;
	} else if (strcmp(seg[0], "integrations") == 0 && get && n <= 2) {
		arg(&k, "integration");
		arg(&k, n == 1 ? "list" : "show");
		if (n == 2)
			arg(&k, seg[1]);
	} else if (strcmp(seg[0], "subscriptions") == 0) {
		arg(&k, "sub");
		if (get && n <= 2) {
			arg(&k, n == 1 ? "list" : "show");
			if (n == 2)
				arg(&k, seg[1]);
			else
				query(&k, c, q_subs);
		} else if (post && n == 1) {
			created = 1;
			if (creation(&k, body, "create", "subscription") == -1)
				goto bad;
		} else if (patch && n == 2) {
			arg(&k, "edit");
			arg(&k, seg[1]);
			if (members(&k, body, NULL) == -1)
				goto bad;
		} else if (del && n == 2) {
			arg(&k, "delete");
			arg(&k, seg[1]);
			if (MHD_lookup_connection_value(c,
			    MHD_GET_ARGUMENT_KIND, "force") != NULL)
				arg(&k, "--force");
		} else if (post && n == 3 && strcmp(seg[2], "refresh-keys") ==
		    0) {
			arg(&k, "refresh-keys");
			arg(&k, seg[1]);
		} else
			goto nosuch;
	} else if (strcmp(seg[0], "workflows") == 0) {
		arg(&k, "workflow");
		if (get && n <= 2) {
			arg(&k, n == 1 ? "list" : "show");
			if (n == 2)
				arg(&k, seg[1]);
		} else if (get && n == 3 && strcmp(seg[2], "test") == 0) {
			arg(&k, "test");
			arg(&k, seg[1]);
			/* Each part as it comes: the event, then the result. */
			arg(&k, "--live");
			query(&k, c, (const char *const[]){ "timeout", NULL });
			json_decref(body);
			adm_audit(adm, w, "workflow test", seg[1], "", 200);
			mr = stream(adm, c, &k);
			call_free(&k);
			return mr;
		} else if (post && n == 1) {
			created = 1;
			if (creation(&k, body, "create", "workflow") == -1)
				goto bad;
		} else if (post && n == 3 && strcmp(seg[2], "show") != 0 &&
		    strcmp(seg[2], "list") != 0 &&
		    strcmp(seg[2], "create") != 0 &&
		    strcmp(seg[2], "delete") != 0 &&
		    strcmp(seg[2], "test") != 0) {
			arg(&k, seg[2]);
			arg(&k, seg[1]);
			if (members(&k, body, NULL) == -1)
				goto bad;
		} else if (del && n == 2) {
			arg(&k, "delete");
			arg(&k, seg[1]);
		} else
			goto nosuch;
	} else if (strcmp(seg[0], "events") == 0) {
		if (get && n == 1) {
			arg(&k, "events");
			query(&k, c, q_events);
		} else if (get && n == 2) {
			arg(&k, "event");
			arg(&k, "show");
			arg(&k, seg[1]);
		} else if (post && n == 3 && strcmp(seg[2], "replay") == 0) {
			arg(&k, "replay");
			arg(&k, seg[1]);
			if (members(&k, body, NULL) == -1)
				goto bad;
		} else
			goto nosuch;
	} else if (strcmp(seg[0], "runs") == 0 && post && n == 2 &&
	    strcmp(seg[1], "replay") == 0) {
		if (body == NULL)
			body = json_object();
		mr = bulk_replay(adm, c, w, body, ws);
		json_decref(body);
		return mr;
	} else if (strcmp(seg[0], "runs") == 0 && get && n == 1) {
		arg(&k, "runs");
		query(&k, c, q_runs);
	} else if (strcmp(seg[0], "credentials") == 0) {
		arg(&k, "cred");
		if (get && n == 1)
			arg(&k, "list");
		else if (post && n == 1) {
			created = 1;
			if (creation(&k, body, "add", "credential") == -1)
				goto bad;
		} else if (del && n == 2) {
			arg(&k, "delete");
			arg(&k, seg[1]);
		} else
			goto nosuch;
	} else if (strcmp(seg[0], "oauth") == 0 && post && n == 2 &&
	    (strcmp(seg[1], "authorize") == 0 ||
	    strcmp(seg[1], "client") == 0)) {
		/* The authorize link goes back to the browser, which opens
		 * it; the receiver's callback stores the credential. */
		arg(&k, "oauth");
		if (strcmp(seg[1], "client") == 0) {
			arg(&k, "client");
			arg(&k, "set");
		} else
			arg(&k, "authorize");
		if (members(&k, body, NULL) == -1)
			goto bad;
		str_copy(k.target, json_string_value(json_object_get(body,
		    "integration")) ? json_string_value(json_object_get(body,
		    "integration")) : "", sizeof(k.target));
	} else if (strcmp(seg[0], "spool") == 0 && get && n == 1) {
		arg(&k, "spool");
		arg(&k, "list");
	} else if (strcmp(seg[0], "tail") == 0 && get && n == 2) {
		arg(&k, "tail");
		arg(&k, seg[1]);
		if (MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
		    "payload") != NULL)
			arg(&k, "--payload");
		json_decref(body);
		mr = stream(adm, c, &k);
		call_free(&k);
		return mr;
	} else
		goto nosuch;

	/* "sub create", "workflow publish": the command's words. */
	b = ctl || ws == NULL ? 0 : 2;
	snprintf(k.what, sizeof(k.what), "%s%s", ctl ? "hookpipectl " : "",
	    k.argv[b]);
	if (k.argc > b + 1 && k.argv[b + 1][0] != '-' &&
	    strcmp(k.argv[b], "replay") != 0)
		snprintf(k.what + strlen(k.what), sizeof(k.what) -
		    strlen(k.what), " %s", k.argv[b + 1]);
	mr = run(adm, c, w, &k, change, created, ctl);
	call_free(&k);
	json_decref(body);
	return mr;

bad:
	call_free(&k);
	json_decref(body);
	adm_audit(adm, w, "refused", path, k.err, 400);
	return adm_error(c, 400, "%s", k.err);
nosuch:
	call_free(&k);
	json_decref(body);
	if (change)
		adm_audit(adm, w, "refused", path, method, 404);
	return adm_error(c, 404, "%s %s: no such API; see /api/v1/ in the "
	    "README", method, path);
}
