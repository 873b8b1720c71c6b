/*
 * hookpipe workflow create | trigger | untrigger | publish | unpublish |
 * show | list | delete | test
 *
 * A workflow is an action plus up to TRIGGERS_MAX trigger nodes, each a
 * (subscription, event) pair with an optional jq filter and map. The
 * router does the matching; these commands only keep the records (and,
 * through db_wf_put, the trigger index) right. jq programs are compiled
 * here so that a typo is refused at once rather than at the first event.
 *
 * What may be a credential (http headers, a URL's userinfo, --env values)
 * is sealed under the master key as the workflow is stored; the record
 * keeps only its masked text in clear, and show and list print that.
 */
#include <ctype.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "cluster.h"
#include "jqprog.h"
#include "util.h"

#define TIMEOUT_DEFAULT		30
#define RETRIES_DEFAULT		4
#define TEST_TIMEOUT_DEFAULT	300
#define POLL_MS			100
#define EVENT_WAIT_US		(5 * 1000000)	/* a copy from another host */
#define ASK_EVERY_MS		500	/* cluster mode: the other hosts */
#define ENV_NAME_MAX		128
#define MASK			"****"

static int	wf_create(struct ctx *, const struct cmd *, int, char **);
static int	wf_trigger(struct ctx *, const struct cmd *, int, char **);
static int	wf_untrigger(struct ctx *, const struct cmd *, int, char **);
static int	wf_publish(struct ctx *, const struct cmd *, int, char **);
static int	wf_show(struct ctx *, const struct cmd *, int, char **);
static int	wf_list(struct ctx *, const struct cmd *, int, char **);
static int	wf_delete(struct ctx *, const struct cmd *, int, char **);
static int	wf_test(struct ctx *, const struct cmd *, int, char **);
static int	wf_edit(struct ctx *, const struct cmd *, int, char **);
static int	wf_enable(struct ctx *, const struct cmd *, int, char **);

const struct cmd workflow_cmds[] = {
	{ "create", wf_create, "workflow create NAME (--exec CMD "
	    "[--env NAME[=VALUE]]... [--user USER] | --http URL "
	    "[--header K:V]... | --dify BASE (--app-key-file F | --app-key - "
	    "| --app-key-env VAR | --app-key K) | --zmq ENDPOINT) "
	    "[--timeout S] [--retries N] [--concurrency N]",
	    "Create a draft workflow. --exec runs CMD with /bin/sh and the run "
	    "document on stdin; --http POSTs the run document to URL; --dify "
	    "runs a Dify workflow app; --zmq PUSHes the run document to a "
	    "ZeroMQ endpoint. --timeout is per attempt (default 30 s); "
	    "--retries is how many times a failed attempt is retried "
	    "(default 4); --concurrency limits its runs at once (default 0, "
	    "no limit). An exec action's environment is PATH, HOME, LANG "
	    "and the run's HOOKPIPE_* variables; --env NAME adds NAME from "
	    "the dispatcher's environment, --env NAME=VALUE sets it "
	    "(repeatable; values are sealed). --user runs the command as "
	    "USER, with its groups and home (the dispatcher must run as "
	    "root). Headers, a URL's user:password and --env values are "
	    "sealed at rest and shown masked." SECRET_HELP("app-key"), 1,
	    "NAME", NULL },
	{ "edit", wf_edit, "workflow edit NAME [--exec CMD | --http URL | "
	    "--dify BASE | --zmq ENDPOINT] [--env NAME[=VALUE]]... "
	    "[--user USER] [--header K:V]... [--app-key-file F | --app-key - "
	    "| --app-key-env VAR] [--timeout S] [--retries N] "
	    "[--concurrency N]",
	    "Change a workflow in place: its triggers, state and past runs "
	    "stay. A new action (--exec, --http, --dify, --zmq) replaces the "
	    "action with its headers, environment, user and app key; without "
	    "one, --header replaces an http action's headers, --env and "
	    "--user an exec action's environment and user, --app-key a dify "
	    "action's key. --timeout, --retries and --concurrency apply to "
	    "the attempts that start from now on." SECRET_HELP("app-key"), 1,
	    "NAME", NULL },
	{ "enable", wf_enable, "workflow enable NAME",
	    "Let the triggers of a published workflow start it again (after "
	    "'workflow disable').", 1, "NAME", NULL },
	{ "disable", wf_enable, "workflow disable NAME",
	    "Stop events from starting a workflow without unpublishing it: "
	    "events that match are stored and not run, as for a draft; "
	    "'workflow enable' turns it back on. Runs already made go on.",
	    1, "NAME", NULL },
	{ "trigger", wf_trigger, "workflow trigger NAME --sub SUB --event EVENT "
	    "[--filter JQ] [--map JQ]",
	    "Add a trigger node: the workflow starts for EVENT ('*' for any) "
	    "of subscription SUB, when the jq --filter is true; --map makes "
	    "the run's inputs from the payload. The same (SUB, EVENT) again "
	    "replaces the node.", 1, "NAME", NULL },
	{ "untrigger", wf_untrigger, "workflow untrigger NAME --sub SUB "
	    "[--event EVENT]",
	    "Remove the trigger node on (SUB, EVENT), or every node on SUB.",
	    1, "NAME", NULL },
	{ "publish", wf_publish, "workflow publish NAME",
	    "Publish a workflow: events start it from now on.", 1, "NAME",
	    NULL },
	{ "unpublish", wf_publish, "workflow unpublish NAME",
	    "Make a workflow a draft again: events no longer start it.", 1,
	    "NAME", NULL },
	{ "show", wf_show, "workflow show NAME", NULL, 1, "NAME", NULL },
	{ "list", wf_list, "workflow list", NULL, 0, NULL, NULL },
	{ "delete", wf_delete, "workflow delete NAME",
	    "Delete a workflow. Its past runs stay.", 1, "NAME", NULL },
	{ "test", wf_test, "workflow test NAME [--timeout S] [--live]",
	    "Listen on the workflow's triggers, draft or not: the next "
	    "matching event is printed with its output variables (the "
	    "inputs the action gets, after --map), the workflow runs once, "
	    "a single attempt without retries, and its result is printed "
	    "with the action's output. Exits 0 when the attempt succeeds, 1 "
	    "when it fails or no event comes within --timeout (default "
	    "300 s). 'hookpipe runs' marks test runs '(test)'. With --json "
	    "--live, one JSON object per line as each part comes: "
	    "{\"phase\": \"event\"} once the event is captured, "
	    "\"inputs\" with its output variables, \"result\" (the object "
	    "--json prints alone) when the run ends. In cluster mode the "
	    "test run is found on whichever host routed the event (the "
	    "other hosts are asked every 0.5 s).",
	    1, "NAME", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

/* --- shared --- */

static int
wf_load(struct ctx *ctx, MDB_txn *txn, const char *name, struct wf_rec *w)
{
	int rc = db_wf_get(txn, &ctx->db, ctx->ws, name, w);

	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return fail("no workflow %s in workspace %s", name, ctx->ws);
	return db_error(rc);
}

/*
 * Masks for display. They apply to what is stored (already masked, or
 * in clear in a record from before sealing) and change nothing masked.
 */

/* "K: V" lines, every value masked; an auth scheme stays ("Bearer ****"). */
static char *
headers_masked(const char *headers)
{
	static const char *const schemes[] = {
		"Basic", "Bearer", "Digest", "Token", "Bot", "ApiKey", NULL
	};
	struct buf b = { 0 };
	const char *p = headers;
	int i;

	buf_append(&b, "", 0);
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n"), k = strcspn(p, ":"), w;
		const char *v = p + k + 1, *scheme = "";

		if (k < n) {
			while (v < p + n && *v == ' ')
				v++;
			w = strcspn(v, " \n");
			for (i = 0; schemes[i] != NULL; i++)
				if (strlen(schemes[i]) == w &&
				    strncasecmp(v, schemes[i], w) == 0 &&
				    v[w] == ' ')
					scheme = schemes[i];
			buf_appendf(&b, "%.*s: %s%s" MASK "\n", (int)k, p,
			    scheme, *scheme ? " " : "");
		}
		p += n + (p[n] == '\n');
	}
	return b.data;
}

/*
 * The URL with its password as ****, or its user when it has no password
 * (a token, as GitHub takes them); NULL when it has no userinfo or is no
 * URL libcurl reads (then neither can the dispatcher).
 */
static char *
url_masked(const char *url)
{
	CURLU *h = curl_url();
	char *user = NULL, *pw = NULL, *s = NULL, *out = NULL;

	if (h == NULL || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto done;
	curl_url_get(h, CURLUPART_USER, &user, 0);
	curl_url_get(h, CURLUPART_PASSWORD, &pw, 0);
	if (user == NULL && pw == NULL)
		goto done;
	if (curl_url_set(h, pw != NULL ? CURLUPART_PASSWORD : CURLUPART_USER,
	    MASK, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = strdup(s);
done:
	curl_free(s);
	curl_free(user);
	if (pw != NULL)
		OPENSSL_cleanse(pw, strlen(pw));
	curl_free(pw);
	curl_url_cleanup(h);
	return out;
}

static int
is_url_action(const char *action)
{
	return strcmp(action, "http") == 0 || strcmp(action, "dify") == 0;
}

/* A workflow's target as it may be shown. */
static char *
target_shown(const struct wf_rec *w)
{
	char *m;

	if (is_url_action(w->action) && w->target != NULL &&
	    (m = url_masked(w->target)) != NULL)
		return m;
	return strdup(w->target != NULL ? w->target : "");
}

/* "NAME" and "NAME=VALUE" lines, values masked. */
static char *
env_masked(const char *env)
{
	struct buf b = { 0 };
	const char *p = env;

	buf_append(&b, "", 0);
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n"), k = strcspn(p, "=\n");

		buf_appendf(&b, "%.*s%s\n", (int)k, p, k < n ? "=" MASK : "");
		p += n + (p[n] == '\n');
	}
	return b.data;
}

static void
str_wipe(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/*
 * Seal what may be a credential and keep its masked text in clear.
 * Create calls it, and so does every change of a workflow: one stored
 * before sealing existed is sealed on its next change.
 */
static int
wf_seal_secrets(struct ctx *ctx, struct wf_rec *w)
{
	char *m;

	if (w->headers != NULL && *w->headers != '\0' &&
	    w->sealed[WF_SEALED_HEADERS].n == 0) {
		if ((m = headers_masked(w->headers)) == NULL ||
		    db_wf_seal(&ctx->db, w, WF_SEALED_HEADERS,
		    w->headers) == -1) {
			free(m);
			return fail("cannot seal the headers of workflow %s",
			    w->name);
		}
		str_wipe(w->headers);
		w->headers = m;
	}
	if (is_url_action(w->action) && w->target != NULL &&
	    w->sealed[WF_SEALED_URL].n == 0 &&
	    (m = url_masked(w->target)) != NULL) {
		if (db_wf_seal(&ctx->db, w, WF_SEALED_URL, w->target) == -1) {
			free(m);
			return fail("cannot seal the URL of workflow %s",
			    w->name);
		}
		str_wipe(w->target);
		w->target = m;
	}
	if (w->env != NULL && strchr(w->env, '=') != NULL &&
	    w->sealed[WF_SEALED_ENV].n == 0) {
		if ((m = env_masked(w->env)) == NULL ||
		    db_wf_seal(&ctx->db, w, WF_SEALED_ENV, w->env) == -1) {
			free(m);
			return fail("cannot seal the --env values of workflow "
			    "%s", w->name);
		}
		str_wipe(w->env);
		w->env = m;
	}
	return 0;
}

static const char *
target_key(const char *action)
{
	if (strcmp(action, "exec") == 0)
		return "command";
	if (strcmp(action, "dify") == 0)
		return "base";
	if (strcmp(action, "zmq") == 0)
		return "endpoint";
	return "url";
}

/* "K: V\n" lines as an object. */
static json_t *
headers_json(const char *headers)
{
	json_t *o = json_object();
	const char *p = headers;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n"), k = strcspn(p, ":");
		char key[256];

		if (k < n && k < sizeof(key)) {
			const char *v = p + k + 1;
			size_t vn = n - k - 1;

			while (vn > 0 && *v == ' ')
				v++, vn--;
			memcpy(key, p, k);
			key[k] = '\0';
			json_object_set_new(o, key, json_stringn(v, vn));
		}
		p += n + (p[n] == '\n');
	}
	return o;
}

/* "a\nb\n" as ["a", "b"]. */
static json_t *
lines_json(const char *lines)
{
	json_t *a = json_array();
	const char *p = lines;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == '\n');
	}
	return a;
}

static json_t *
action_json(const struct wf_rec *w)
{
	char *target = target_shown(w), *m;
	json_t *a = json_pack("{s:s,s:s,s:I,s:I,s:I}", "type", w->action,
	    target_key(w->action), target ? target : "", "timeout",
	    (json_int_t)w->timeout_s, "retries", (json_int_t)w->retries,
	    "concurrency", (json_int_t)w->concurrency);

	free(target);
	if (strcmp(w->action, "http") == 0) {
		m = headers_masked(w->headers);
		json_object_set_new(a, "headers", headers_json(m));
		free(m);
	}
	if (strcmp(w->action, "exec") == 0) {
		m = env_masked(w->env);
		json_object_set_new(a, "env", lines_json(m));
		free(m);
		json_object_set_new(a, "user", w->user != NULL &&
		    *w->user != '\0' ? json_string(w->user) : json_null());
	}
	return a;
}

static json_t *
trigger_json(struct ctx *ctx, MDB_txn *txn, const struct trigger *t)
{
	struct sub_rec s;
	json_t *name = json_null();

	if (db_sub_get(txn, &ctx->db, t->sub, &s) == 0)
		name = json_string(s.name);
	return json_pack("{s:s,s:o,s:s,s:o,s:o}", "subscription", t->sub,
	    "subscription_name", name, "event", t->event, "filter",
	    t->filter ? json_string(t->filter) : json_null(), "map",
	    t->map ? json_string(t->map) : json_null());
}

/* Never the app key, nor anything sealed: they are credentials. */
json_t *
wf_json(struct ctx *ctx, MDB_txn *txn, const struct wf_rec *w)
{
	json_t *o, *trig = json_array();
	int i;

	for (i = 0; i < w->ntrig; i++)
		json_array_append_new(trig, trigger_json(ctx, txn, &w->trig[i]));
	o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "name", w->name,
	    "workspace", w->workspace, "state", w->state, "action",
	    action_json(w), "triggers", trig, "created_at",
	    json_time(w->created_at));
	json_object_set_new(o, "enabled", json_boolean(!w->disabled));
	if (w->listen_until > now_us())
		json_object_set_new(o, "listening_until",
		    json_time(w->listen_until));
	return o;
}

/* Load, change and store one workflow in one write transaction. */
typedef int (*wf_edit_fn)(struct ctx *, MDB_txn *, struct wf_rec *,
    void *arg);

static int
wf_update(struct ctx *ctx, const char *name, wf_edit_fn fn, void *arg)
{
	struct wf_rec w;
	MDB_txn *txn;
	int rc;

	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = wf_load(ctx, txn, name, &w)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = fn(ctx, txn, &w, arg)) == 0 &&
	    (rc = wf_seal_secrets(ctx, &w)) == 0 &&
	    (rc = db_wf_put(txn, &ctx->db, &w)) != 0)
		rc = db_error(rc);
	wf_free(&w);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return txn_commit(txn);
}

/* --- create --- */

struct create_args {
	const char	*exec, *http, *dify, *zmq, *app_key, *user;
	const char	*timeout, *retries, *concurrency;
	struct strlist	 headers;
	struct strlist	 env;
	struct buf	 hdr;		/* "K: V\n" lines */
	struct secret_opt key;		/* app_key points into it */
	struct buf	 envb;		/* "NAME[=VALUE]\n" lines */
};

/* The dispatcher sets these for every run: a workflow cannot. */
static const char *const run_vars[] = {
	"HOOKPIPE_RUN_ID", "HOOKPIPE_EVENT", "HOOKPIPE_EVENT_ID",
	"HOOKPIPE_SUBSCRIPTION", "HOOKPIPE_WORKFLOW", "HOOKPIPE_ATTEMPT", NULL
};

static int
create_env(struct ctx *ctx, struct create_args *a)
{
	int i, j, k;

	for (i = 0; i < a->env.n; i++) {
		const char *e = a->env.v[i];
		size_t n = strcspn(e, "=");

		if (n == 0 || n > ENV_NAME_MAX || isdigit((unsigned char)e[0]))
			return usage_error(ctx, "--env %.*s: expected NAME or "
			    "NAME=VALUE, NAME being up to %d letters, digits "
			    "or '_', not starting with a digit", (int)n, e,
			    ENV_NAME_MAX);
		for (k = 0; k < (int)n; k++)
			if (!isalnum((unsigned char)e[k]) && e[k] != '_')
				return usage_error(ctx, "--env %.*s: a name "
				    "has only letters, digits and '_'", (int)n,
				    e);
		if (strchr(e, '\n') != NULL || strchr(e, '\r') != NULL)
			return usage_error(ctx, "--env %.*s: a value has no "
			    "line breaks", (int)n, e);
		for (k = 0; run_vars[k] != NULL; k++)
			if (strlen(run_vars[k]) == n &&
			    strncmp(run_vars[k], e, n) == 0)
				return usage_error(ctx, "--env %s: the "
				    "dispatcher sets it for every run",
				    run_vars[k]);
		for (j = 0; j < i; j++)
			if (strncmp(a->env.v[j], e, n) == 0 &&
			    (a->env.v[j][n] == '=' || a->env.v[j][n] == '\0'))
				return usage_error(ctx, "--env %.*s: given "
				    "twice", (int)n, e);
		buf_appendf(&a->envb, "%s\n", e);
	}
	return 0;
}

/*
 * The uid the dispatcher runs as: its pid file's process, else (not
 * running) the user running this command, who shares the state.
 */
static long
dispatcher_uid(const struct ctx *ctx)
{
	char path[PATH_MAX + 32], proc[64];
	struct stat sb;
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dispatcher.pid", ctx->cfg.run_dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	if (pid > 0 && stat(proc, &sb) == 0)
		return (long)sb.st_uid;
	return (long)geteuid();
}

static int
create_user(struct ctx *ctx, struct create_args *a)
{
	int64_t id;
	long uid;

	if (getpwnam(a->user) == NULL &&
	    (parse_i64(a->user, 0, UINT32_MAX - 1, &id) == -1 ||
	    getpwuid((uid_t)id) == NULL))
		return fail("--user %s: no such user on this system",
		    a->user);
	if ((uid = dispatcher_uid(ctx)) != 0)
		warnmsg("--user needs the dispatcher to run as root; it runs "
		    "as uid %ld, so the attempts of %s will fail until it "
		    "runs as root", uid, a->user);
	return 0;
}

static int
create_headers(struct ctx *ctx, struct create_args *a)
{
	int i;

	for (i = 0; i < a->headers.n; i++) {
		const char *h = a->headers.v[i], *colon = strchr(h, ':'), *v;
		size_t k;

		if (colon == NULL || colon == h)
			return usage_error(ctx, "--header %s: expected K:V", h);
		k = (size_t)(colon - h);
		if (strcspn(h, " \t\r\n") < k || strpbrk(h, "\r\n") != NULL)
			return usage_error(ctx, "--header %s: a header name "
			    "has no spaces and a header no line breaks", h);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		buf_appendf(&a->hdr, "%.*s: %s\n", (int)k, h, v);
	}
	return 0;
}

/*
 * The action's options, and --timeout, --retries and --concurrency into
 * w when given. `create` needs exactly one action; `edit` at most one,
 * and then the options that go with an action may change the one the
 * workflow has (checked against it in edit_apply).
 */
static int
args_check(struct ctx *ctx, struct create_args *a, struct wf_rec *w,
    int create)
{
	int64_t v;
	int rc, n = (a->exec != NULL) + (a->http != NULL) +
	    (a->dify != NULL) + (a->zmq != NULL);

	if (create ? n != 1 : n > 1)
		return usage_error(ctx, "give %s one action: --exec, --http, "
		    "--dify or --zmq", create ? "exactly" : "at most");
	if (n > 0 && a->headers.n > 0 && a->http == NULL)
		return usage_error(ctx, "--header goes with --http");
	if (n > 0 && a->env.n > 0 && a->exec == NULL)
		return usage_error(ctx, "--env goes with --exec");
	if (n > 0 && a->user != NULL && a->exec == NULL)
		return usage_error(ctx, "--user goes with --exec");
	if (a->user != NULL && (*a->user == '\0' ||
	    strlen(a->user) > NAME_MAX_LEN))
		return usage_error(ctx, "--user: expected a user name or uid");
	if (create && (a->dify != NULL) != (a->app_key != NULL))
		return usage_error(ctx, "--dify and --app-key go together");
	if (n > 0 && a->app_key != NULL && a->dify == NULL)
		return usage_error(ctx, "--app-key goes with --dify");
	if (a->app_key != NULL && (*a->app_key == '\0' ||
	    strlen(a->app_key) > SECRET_MAX))
		return usage_error(ctx, "--app-key: expected 1 to %d bytes",
		    SECRET_MAX);
	if (a->exec != NULL && *a->exec == '\0')
		return usage_error(ctx, "--exec: empty command");
	if ((a->http != NULL || a->dify != NULL) &&
	    strncmp(a->http ? a->http : a->dify, "http://", 7) != 0 &&
	    strncmp(a->http ? a->http : a->dify, "https://", 8) != 0)
		return usage_error(ctx, "--%s: expected an http:// or https:// "
		    "URL", a->http ? "http" : "dify");
	if ((a->http != NULL || a->dify != NULL) &&
	    strchr(a->http ? a->http : a->dify, '@') != NULL) {
		/* Its userinfo is sealed and masked: libcurl must read it. */
		char *m = url_masked(a->http ? a->http : a->dify);

		if (m == NULL)
			return usage_error(ctx, "--%s: not a URL libcurl "
			    "reads", a->http ? "http" : "dify");
		free(m);
	}
	if (a->zmq != NULL && strncmp(a->zmq, "tcp://", 6) != 0 &&
	    strncmp(a->zmq, "ipc://", 6) != 0)
		return usage_error(ctx, "--zmq: expected a tcp:// or ipc:// "
		    "endpoint");
	if (a->timeout && parse_i64(a->timeout, 1, 86400, &w->timeout_s))
		return usage_error(ctx, "--timeout: expected seconds, 1 to "
		    "86400");
	if (a->retries && parse_i64(a->retries, 0, 100, &w->retries))
		return usage_error(ctx, "--retries: expected 0 to 100");
	if (a->concurrency && parse_i64(a->concurrency, 0, 1024, &v))
		return usage_error(ctx, "--concurrency: expected 0 (no limit) "
		    "to 1024");
	if (a->concurrency)
		w->concurrency = v;
	if ((rc = create_env(ctx, a)) != 0)
		return rc;
	return create_headers(ctx, a);
}

static int
create_check(struct ctx *ctx, struct create_args *a, struct wf_rec *w)
{
	w->timeout_s = TIMEOUT_DEFAULT;
	w->retries = RETRIES_DEFAULT;
	w->concurrency = 0;
	return args_check(ctx, a, w, 1);
}

static void
create_fill(struct ctx *ctx, struct create_args *a, const char *name,
    struct wf_rec *w)
{
	const char *target;
	size_t n;

	str_copy(w->workspace, ctx->ws, sizeof(w->workspace));
	str_copy(w->name, name, sizeof(w->name));
	str_copy(w->state, "draft", sizeof(w->state));
	if (a->exec != NULL) {
		str_copy(w->action, "exec", sizeof(w->action));
		target = a->exec;
	} else if (a->http != NULL) {
		str_copy(w->action, "http", sizeof(w->action));
		target = a->http;
	} else if (a->dify != NULL) {
		str_copy(w->action, "dify", sizeof(w->action));
		target = a->dify;
	} else {
		str_copy(w->action, "zmq", sizeof(w->action));
		target = a->zmq;
	}
	w->target = strdup(target);
	/* The dispatcher appends /v1/workflows/run to the base. */
	if (a->dify != NULL)
		for (n = strlen(w->target); n > 8 && w->target[n - 1] == '/';
		    n--)
			w->target[n - 1] = '\0';
	w->headers = a->hdr.len > 0 ? strdup(a->hdr.data) : NULL;
	w->env = a->envb.len > 0 ? strdup(a->envb.data) : NULL;
	w->user = a->user != NULL ? strdup(a->user) : NULL;
	w->created_at = now_us();
}

static int
create_in_txn(struct ctx *ctx, MDB_txn *txn, struct create_args *a,
    struct wf_rec *w)
{
	struct wf_rec old;
	int rc;

	rc = db_wf_get(txn, &ctx->db, ctx->ws, w->name, &old);
	if (rc == 0) {
		wf_free(&old);
		return fail("workflow %s already exists", w->name);
	}
	if (rc != MDB_NOTFOUND)
		return db_error(rc);
	if (a->app_key != NULL && db_wf_set_app_key(&ctx->db, w,
	    a->app_key) == -1)
		return fail("cannot seal the app key");
	if ((rc = wf_seal_secrets(ctx, w)) != 0)
		return rc;
	if ((rc = db_wf_put(txn, &ctx->db, w)) != 0)
		return db_error(rc);
	return 0;
}

/* The lines may hold credentials. */
static void
create_args_free(struct create_args *a)
{
	if (a->hdr.data != NULL)
		OPENSSL_cleanse(a->hdr.data, a->hdr.len);
	if (a->envb.data != NULL)
		OPENSSL_cleanse(a->envb.data, a->envb.len);
	buf_free(&a->hdr);
	buf_free(&a->envb);
}

/* The options that say what a workflow runs: create and edit take them. */
#define ACTION_OPTS(a)							\
	{ "exec", OPT_STR, &(a)->exec },				\
	{ "http", OPT_STR, &(a)->http },				\
	{ "header", OPT_LIST, &(a)->headers },				\
	{ "env", OPT_LIST, &(a)->env },					\
	{ "user", OPT_STR, &(a)->user },				\
	{ "dify", OPT_STR, &(a)->dify },				\
	SECRET_OPTS(&(a)->key, "app-key"),				\
	{ "zmq", OPT_STR, &(a)->zmq },					\
	{ "timeout", OPT_STR, &(a)->timeout },				\
	{ "retries", OPT_STR, &(a)->retries },				\
	{ "concurrency", OPT_STR, &(a)->concurrency }

static int
wf_create(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct create_args a = { .key.name = "app-key" };
	const struct opt opts[] = {
		ACTION_OPTS(&a),
		{ NULL, 0, NULL }
	};
	struct wf_rec w;
	MDB_txn *txn;
	char **args;
	int rc;

	memset(&w, 0, sizeof(w));
	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE ||
	    (rc = secret_read(ctx, &a.key)) != 0)
		return rc;
	a.app_key = a.key.set ? a.key.value : NULL;
	if (!name_valid(args[0]))
		rc = usage_error(ctx, "invalid name '%s': use up to %d "
		    "letters, digits, '.', '_' or '-'", args[0], NAME_MAX_LEN);
	else if ((rc = create_check(ctx, &a, &w)) == 0 &&
	    (rc = ctx_open(ctx, 0)) == 0 && a.user != NULL)
		rc = create_user(ctx, &a);
	if (rc != 0 || (txn = txn_write(ctx, DB_CONFIG)) == NULL) {
		create_args_free(&a);
		secret_clear(&a.key);
		return rc != 0 ? rc : EXIT_FAIL;
	}
	create_fill(ctx, &a, args[0], &w);
	create_args_free(&a);
	if ((rc = create_in_txn(ctx, txn, &a, &w)) != 0)
		mdb_txn_abort(txn);
	else if ((rc = txn_commit(txn)) == 0) {
		if (ctx->json)
			rc = json_print(wf_json(ctx, NULL, &w));
		else
			printf("created workflow %s (draft); add a trigger with "
			    "'hookpipe workflow trigger %s --sub SUB --event "
			    "EVENT', then publish it\n", w.name, w.name);
	}
	wf_free(&w);
	secret_clear(&a.key);
	return rc;
}

/* --- edit, enable, disable --- */

static void
sealed_drop(struct wf_rec *w, enum wf_sealed i)
{
	free(w->sealed[i].p);
	w->sealed[i].p = NULL;
	w->sealed[i].n = 0;
}

static void
str_replace(char **dst, const char *src)
{
	str_wipe(*dst);
	*dst = src != NULL ? strdup(src) : NULL;
}

/*
 * The options given replace what the workflow has; a new action starts
 * from nothing (its old headers, environment, user and key go), the
 * options that go with an action need that action. The parts that change
 * are sealed again by wf_update.
 */
static int
edit_apply(struct ctx *ctx, MDB_txn *txn, struct wf_rec *w, void *arg)
{
	struct create_args *a = arg;
	struct wf_rec n;
	int rc;

	(void)txn;
	memset(&n, 0, sizeof(n));
	n.timeout_s = w->timeout_s;
	n.retries = w->retries;
	n.concurrency = w->concurrency;
	if ((rc = args_check(ctx, a, &n, 0)) != 0)
		return rc;
	if (a->exec || a->http || a->dify || a->zmq) {
		if (a->dify != NULL && a->app_key == NULL &&
		    strcmp(w->action, "dify") != 0)
			return usage_error(ctx, "--dify needs --app-key-file "
			    "F, --app-key - or --app-key-env VAR");
		str_copy(n.workspace, w->workspace, sizeof(n.workspace));
		str_copy(n.name, w->name, sizeof(n.name));
		create_fill(ctx, a, w->name, &n);
		str_copy(w->action, n.action, sizeof(w->action));
		str_replace(&w->target, n.target);
		str_replace(&w->headers, n.headers);
		str_replace(&w->env, n.env);
		str_replace(&w->user, n.user);
		sealed_drop(w, WF_SEALED_HEADERS);
		sealed_drop(w, WF_SEALED_URL);
		sealed_drop(w, WF_SEALED_ENV);
		if (strcmp(w->action, "dify") != 0) {
			OPENSSL_cleanse(w->app_key, sizeof(w->app_key));
			w->app_key_len = 0;
		}
		wf_free(&n);
	} else {
		if (a->headers.n > 0 && strcmp(w->action, "http") != 0)
			return usage_error(ctx, "--header: workflow %s has an "
			    "%s action, not http", w->name, w->action);
		if ((a->env.n > 0 || a->user != NULL) &&
		    strcmp(w->action, "exec") != 0)
			return usage_error(ctx, "--%s: workflow %s has a %s "
			    "action, not exec", a->user ? "user" : "env",
			    w->name, w->action);
		if (a->app_key != NULL && strcmp(w->action, "dify") != 0)
			return usage_error(ctx, "--app-key: workflow %s has "
			    "a %s action, not dify", w->name, w->action);
		if (a->headers.n > 0) {
			str_replace(&w->headers, a->hdr.data);
			sealed_drop(w, WF_SEALED_HEADERS);
		}
		if (a->env.n > 0) {
			str_replace(&w->env, a->envb.data);
			sealed_drop(w, WF_SEALED_ENV);
		}
		if (a->user != NULL)
			str_replace(&w->user, a->user);
	}
	if (a->app_key != NULL && db_wf_set_app_key(&ctx->db, w,
	    a->app_key) == -1)
		return fail("cannot seal the app key");
	w->timeout_s = n.timeout_s;
	w->retries = n.retries;
	w->concurrency = n.concurrency;
	return 0;
}

static int
wf_edit(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct create_args a = { .key.name = "app-key" };
	const struct opt opts[] = {
		ACTION_OPTS(&a),
		{ NULL, 0, NULL }
	};
	struct wf_rec w;
	MDB_txn *txn;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE ||
	    (rc = secret_read(ctx, &a.key)) != 0)
		return rc;
	a.app_key = a.key.set ? a.key.value : NULL;
	if (!a.exec && !a.http && !a.dify && !a.zmq && a.headers.n == 0 &&
	    a.env.n == 0 && !a.user && !a.app_key && !a.timeout &&
	    !a.retries && !a.concurrency)
		rc = usage_error(ctx, "nothing to change: give an action, "
		    "--header, --env, --user, --app-key, --timeout, --retries "
		    "or --concurrency");
	else if ((rc = ctx_open(ctx, 0)) == 0 && a.user != NULL)
		rc = create_user(ctx, &a);
	if (rc == 0)
		rc = wf_update(ctx, args[0], edit_apply, &a);
	create_args_free(&a);
	secret_clear(&a.key);
	if (rc != 0)
		return rc;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = wf_load(ctx, txn, args[0], &w)) == 0) {
		if (ctx->json)
			rc = json_print(wf_json(ctx, txn, &w));
		else
			printf("changed workflow %s; new attempts use it\n",
			    w.name);
		wf_free(&w);
	}
	mdb_txn_abort(txn);
	return rc;
}

static int
enable_edit(struct ctx *ctx, MDB_txn *txn, struct wf_rec *w, void *arg)
{
	(void)ctx;
	(void)txn;
	w->disabled = *(int *)arg;
	return 0;
}

static int
wf_enable(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int off = strcmp(c->name, "disable") == 0;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 ||
	    (rc = wf_update(ctx, args[0], enable_edit, &off)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s,s:b}", "name", args[0],
		    "enabled", !off));
	printf("workflow %s is %s\n", args[0], off ? "disabled: events no "
	    "longer start it" : "enabled");
	return EXIT_OK;
}

/* --- trigger, untrigger --- */

struct trig_args {
	const char	*sub;
	const char	*event;
	const char	*filter;
	const char	*map;
	struct sub_rec	 s;
	int		 replaced;
	int		 removed;
};

/* jq's message can span lines; an error is one line. */
static int
jq_check(const char *what, const char *prog)
{
	char err[512], *p;
	struct jqprog *jp;

	if (*prog == '\0')
		return fail("--%s: empty jq program", what);
	if ((jp = jqprog_compile(prog, err, sizeof(err))) != NULL) {
		jqprog_free(jp);
		return 0;
	}
	for (p = err; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return fail("--%s is not a valid jq program: %s%s", what,
	    strncmp(err, "jq", 2) == 0 ? "" : "jq: ", err);
}

static int
trigger_edit(struct ctx *ctx, MDB_txn *txn, struct wf_rec *w, void *arg)
{
	struct trig_args *a = arg;
	struct trigger *t;
	int i, rc;

	if ((rc = sub_lookup(ctx, txn, a->sub, &a->s)) != 0)
		return rc;
	if (strcmp(a->event, "*") != 0 && !integ_events_cover(a->s.events,
	    a->event))
		return fail("subscription %s does not cover event %s (it "
		    "selects %s), so the trigger would never fire; add the "
		    "event with 'hookpipe sub edit %s --events ...'",
		    a->s.name, a->event, a->s.events, a->s.name);
	for (i = 0; i < w->ntrig; i++)
		if (strcmp(w->trig[i].sub, a->s.id) == 0 &&
		    strcmp(w->trig[i].event, a->event) == 0)
			break;
	if (i == TRIGGERS_MAX)
		return fail("workflow %s already has %d triggers (the limit)",
		    w->name, TRIGGERS_MAX);
	t = &w->trig[i];
	if (i < w->ntrig) {
		free(t->filter);
		free(t->map);
		a->replaced = 1;
	} else
		w->ntrig++;
	memset(t, 0, sizeof(*t));
	str_copy(t->sub, a->s.id, sizeof(t->sub));
	str_copy(t->event, a->event, sizeof(t->event));
	t->filter = a->filter ? strdup(a->filter) : NULL;
	t->map = a->map ? strdup(a->map) : NULL;
	return 0;
}

static int
wf_trigger(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct trig_args a = { 0 };
	const struct opt opts[] = {
		{ "sub", OPT_STR, &a.sub },
		{ "event", OPT_STR, &a.event },
		{ "filter", OPT_STR, &a.filter },
		{ "map", OPT_STR, &a.map },
		{ NULL, 0, NULL }
	};
	const struct integ *ig;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (a.sub == NULL || a.event == NULL)
		return usage_error(ctx, "missing --%s", a.sub ? "event EVENT" :
		    "sub SUB");
	if (*a.event == '\0' || strlen(a.event) > 255 ||
	    strchr(a.event, ',') != NULL)
		return usage_error(ctx, "--event: '%s' is not an event name",
		    a.event);
	if ((a.filter && (rc = jq_check("filter", a.filter)) != 0) ||
	    (a.map && (rc = jq_check("map", a.map)) != 0))
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 ||
	    (rc = wf_update(ctx, args[0], trigger_edit, &a)) != 0)
		return rc;
	ig = integ_find(&ctx->integs, a.s.integration);
	if (ig != NULL && strcmp(a.event, "*") != 0 &&
	    !integ_has_event(ig, a.event))
		warnmsg("event %s is not in the %s catalogue; the trigger "
		    "fires if it comes anyway", a.event, ig->name);
	if (ctx->json)
		return json_print(json_pack("{s:s,s:s,s:s,s:s,s:b}",
		    "workflow", args[0], "subscription", a.s.id,
		    "subscription_name", a.s.name, "event", a.event,
		    "replaced", a.replaced));
	printf("%s trigger of workflow %s: %s %s\n", a.replaced ? "replaced" :
	    "added", args[0], a.s.name, a.event);
	return EXIT_OK;
}

static int
untrigger_edit(struct ctx *ctx, MDB_txn *txn, struct wf_rec *w, void *arg)
{
	struct trig_args *a = arg;
	int i, j, rc;

	if ((rc = sub_lookup(ctx, txn, a->sub, &a->s)) != 0)
		return rc;
	for (i = j = 0; i < w->ntrig; i++) {
		struct trigger *t = &w->trig[i];

		if (strcmp(t->sub, a->s.id) == 0 && (a->event == NULL ||
		    strcmp(t->event, a->event) == 0)) {
			free(t->filter);
			free(t->map);
			a->removed++;
		} else
			w->trig[j++] = *t;
	}
	w->ntrig = j;
	if (a->removed == 0)
		return fail("workflow %s has no trigger on %s%s%s", w->name,
		    a->s.name, a->event ? " " : "", a->event ? a->event : "");
	return 0;
}

static int
wf_untrigger(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct trig_args a = { 0 };
	const struct opt opts[] = {
		{ "sub", OPT_STR, &a.sub },
		{ "event", OPT_STR, &a.event },
		{ NULL, 0, NULL }
	};
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (a.sub == NULL)
		return usage_error(ctx, "missing --sub SUB");
	if ((rc = ctx_open(ctx, 0)) != 0 ||
	    (rc = wf_update(ctx, args[0], untrigger_edit, &a)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s,s:i}", "workflow", args[0],
		    "removed", a.removed));
	printf("removed %d trigger%s from workflow %s\n", a.removed,
	    a.removed == 1 ? "" : "s", args[0]);
	return EXIT_OK;
}

/* --- publish, unpublish --- */

static int
state_edit(struct ctx *ctx, MDB_txn *txn, struct wf_rec *w, void *arg)
{
	const char *state = arg;

	if (strcmp(state, "published") == 0 && w->ntrig == 0)
		warnmsg("workflow %s has no triggers: nothing will start it "
		    "until 'hookpipe workflow trigger %s ...'", w->name,
		    w->name);
	str_copy(w->state, state, sizeof(w->state));
	return 0;
}

static int
wf_publish(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *state = strcmp(c->name, "publish") == 0 ? "published" :
	    "draft";
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 ||
	    (rc = wf_update(ctx, args[0], state_edit, (void *)state)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s,s:s}", "name", args[0],
		    "state", state));
	printf("workflow %s is %s\n", args[0], strcmp(state, "draft") == 0 ?
	    "a draft" : "published");
	return EXIT_OK;
}

/* --- show, list, delete --- */

static void
print_lines(const char *p)
{
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);

		printf("  ");
		print_safe(stdout, line ? line : "");
		printf("\n");
		free(line);
		p += n + (p[n] == '\n');
	}
}

static void
show_text(struct ctx *ctx, MDB_txn *txn, const struct wf_rec *w)
{
	char when[40], cc[24], *target = target_shown(w), *m;
	struct table t;
	int i;

	printf("name:        %s\nworkspace:   %s\nstate:       %s%s\n"
	    "action:      %s\n", w->name, w->workspace, w->state,
	    w->disabled ? " (disabled)" : "", w->action);
	print_field(stdout, target_key(w->action), 12, target ? target : "");
	free(target);
	if (w->user != NULL && *w->user != '\0')
		print_field(stdout, "user", 12, w->user);
	m = headers_masked(w->headers);
	if (m != NULL && *m != '\0')
		printf("headers:\n");
	print_lines(m);
	free(m);
	m = env_masked(w->env);
	if (m != NULL && *m != '\0')
		printf("env:\n");
	print_lines(m);
	free(m);
	if (w->concurrency > 0)
		snprintf(cc, sizeof(cc), "%lld", (long long)w->concurrency);
	else
		str_copy(cc, "no limit", sizeof(cc));
	printf("timeout:     %lld s\nretries:     %lld\nconcurrency: %s\n"
	    "created_at:  %s\n", (long long)w->timeout_s,
	    (long long)w->retries, cc, time_str(w->created_at, when,
	    sizeof(when)));
	if (w->listen_until > now_us())
		printf("listening:   until %s\n", time_str(w->listen_until, when,
		    sizeof(when)));
	printf("\ntriggers:\n");
	table_init(&t, 5, "  SUBSCRIPTION", "ID", "EVENT", "FILTER", "MAP");
	for (i = 0; i < w->ntrig; i++) {
		const struct trigger *tr = &w->trig[i];
		struct sub_rec s;
		char name[80];

		snprintf(name, sizeof(name), "  %s", db_sub_get(txn,
		    &ctx->db, tr->sub, &s) == 0 ? s.name : "(deleted)");
		table_row(&t, name, tr->sub, tr->event, tr->filter, tr->map);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int
wf_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct wf_rec w;
	MDB_txn *txn;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = wf_load(ctx, txn, args[0], &w)) == 0) {
		if (ctx->json)
			rc = json_print(wf_json(ctx, txn, &w));
		else
			show_text(ctx, txn, &w);
		wf_free(&w);
	}
	mdb_txn_abort(txn);
	return rc;
}

struct list_state {
	struct ctx	*ctx;
	MDB_txn		*txn;
	struct table	 t;
	json_t		*a;
};

static int
list_cb(void *arg, const struct wf_rec *w)
{
	struct list_state *l = arg;
	char target[64], n[16], state[32], *shown;

	if (l->a != NULL) {
		json_array_append_new(l->a, wf_json(l->ctx, l->txn, w));
		return 0;
	}
	shown = target_shown(w);
	if (shown != NULL && strlen(shown) > 50)
		snprintf(target, sizeof(target), "%.47s...", shown);
	else
		str_copy(target, shown ? shown : "", sizeof(target));
	free(shown);
	snprintf(n, sizeof(n), "%d", w->ntrig);
	snprintf(state, sizeof(state), "%s%s", w->state, w->disabled ?
	    " (disabled)" : "");
	table_row(&l->t, w->name, state, w->action, target, n);
	return 0;
}

static int
wf_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct list_state l = { .ctx = ctx };
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((l.txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if (ctx->json)
		l.a = json_array();
	else
		table_init(&l.t, 5, "NAME", "STATE", "ACTION", "TARGET",
		    "TRIGGERS");
	rc = db_wf_each(l.txn, &ctx->db, ctx->ws, list_cb, &l);
	mdb_txn_abort(l.txn);
	if (rc != 0) {
		json_decref(l.a);
		table_free(&l.t);
		return db_error(rc);
	}
	if (ctx->json)
		return json_print(l.a);
	table_print_or(&l.t, stdout, "no workflows yet: 'hookpipe workflow "
	    "create NAME --exec CMD' makes one");
	table_free(&l.t);
	return EXIT_OK;
}

static int
wf_delete(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	MDB_txn *txn;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = db_wf_del(txn, &ctx->db, ctx->ws, args[0]);
	if (rc != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return fail("no workflow %s in workspace %s", args[0],
			    ctx->ws);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s}", "deleted", args[0]));
	printf("deleted workflow %s\n", args[0]);
	return EXIT_OK;
}

/* --- test --- */

static volatile sig_atomic_t test_stop;

static void
on_signal(int sig)
{
	(void)sig;
	test_stop = 1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
listen_edit(struct ctx *ctx, MDB_txn *txn, struct wf_rec *w, void *arg)
{
	const int64_t *until = arg;

	if (*until != 0 && w->ntrig == 0)
		return fail("workflow %s has no triggers to listen on; add one "
		    "with 'hookpipe workflow trigger %s ...'", w->name,
		    w->name);
	w->listen_until = *until;
	return 0;
}

/* Ends the listening state; the router also ends it on the first event. */
static void
listen_clear(struct ctx *ctx, const char *name)
{
	int64_t zero = 0;

	wf_update(ctx, name, listen_edit, &zero);
}

/*
 * The test run, once found: a run_rec, and in cluster mode, when another
 * host made it (its router caught the event), that host's JSON of it
 * (`run show --json` there: its attempts, its inputs), asked again until
 * the run ends.
 */
struct test_find {
	const char	*ws, *name;
	int64_t		 start;
	struct run_rec	 run;
	int		 found;
	struct cluster	*cl;		/* cluster mode: the other hosts */
	json_t		*remote;	/* the run another host made */
};

static int
test_find_cb(void *arg, const struct run_rec *r)
{
	struct test_find *f = arg;

	if (r->created_at < f->start)
		return 1;	/* newest first: nothing newer is left */
	if (r->test && strcmp(r->workspace, f->ws) == 0 &&
	    strcmp(r->workflow, f->name) == 0) {
		f->run = *r;
		f->found = 1;
		return 1;
	}
	return 0;
}

/* The next poll: an ask of the other hosts is one already. */
static void
test_pace(const struct test_find *f, int64_t asked_ms)
{
	int64_t took = mono_ms() - asked_ms;

	if (f->cl == NULL)
		sleep_ms(POLL_MS);
	else if (took < ASK_EVERY_MS)
		sleep_ms((int)(ASK_EVERY_MS - took));
}

/*
 * The run as the host that made it has it now; 0, or an exit code. In
 * cluster mode, another host's: its JSON from `run show` there, with its
 * attempts and its inputs.
 */
static int
test_run_get(struct ctx *ctx, struct test_find *f)
{
	MDB_txn *txn;
	json_t *o;
	int rc;

	if (f->remote != NULL) {
		/* Not answered this time: the next ask may be. */
		if ((o = cluster_run_on(ctx, f->cl, f->run.id)) != NULL) {
			json_decref(f->remote);
			f->remote = o;
			run_rec_of_json(o, &f->run);
		}
		return 0;
	}
	if ((txn = txn_read(ctx, DB_RUNS)) == NULL)
		return EXIT_FAIL;
	rc = db_run_get(txn, &ctx->db, f->run.id, &f->run);
	mdb_txn_abort(txn);
	return rc == 0 ? 0 : db_error(rc);
}

/*
 * Cluster mode: whether another host made the test run, then its full
 * JSON. Each ask waits for every host's answer (half a second at least),
 * so the asks come that far apart.
 */
static int
test_find_remote(struct ctx *ctx, struct test_find *f)
{
	if ((f->remote = cluster_test_run(ctx, f->cl, f->name, f->start)) ==
	    NULL)
		return 0;
	run_rec_of_json(f->remote, &f->run);
	f->found = 1;
	test_run_get(ctx, f);
	return 1;
}

/* Poll for the run the router makes; 0 found, 1 timed out or stopped. */
static int
test_wait_run(struct ctx *ctx, struct test_find *f, int64_t deadline)
{
	MDB_txn *txn;
	int64_t asked;

	while (!test_stop && now_us() < deadline) {
		if ((txn = txn_read(ctx, DB_RUNS)) == NULL)
			return 1;
		db_run_each(txn, &ctx->db, test_find_cb, f);
		mdb_txn_abort(txn);
		if (f->found)
			return 0;
		asked = mono_ms();
		if (f->cl != NULL && test_find_remote(ctx, f))
			return 0;
		test_pace(f, asked);
	}
	return 1;
}

/* A test run has one attempt (a router of an older build gave it more:
 * the first one's result is the answer all the same). */
static int
run_finished(const struct run_rec *r)
{
	return r->state == RUN_SUCCEEDED || r->state == RUN_DEAD ||
	    (r->state == RUN_FAILED && ((r->max_attempts > 0 &&
	    r->attempts >= r->max_attempts) || (r->test &&
	    r->attempts >= 1)));
}

/*
 * The longest a test run can take: its one attempt (the router gives a
 * test run no retries), with room for the dispatcher to start it and to
 * record it.
 */
static int64_t
run_budget_us(const struct wf_rec *w)
{
	return (w->timeout_s + 15) * 1000000;
}

static int
test_wait_done(struct ctx *ctx, struct test_find *f, int64_t deadline)
{
	int64_t asked;
	int rc;

	while (!test_stop && now_us() < deadline) {
		asked = mono_ms();
		if ((rc = test_run_get(ctx, f)) != 0)
			return rc;
		if (run_finished(&f->run))
			return 0;
		if (f->remote != NULL)
			test_pace(f, asked);
		else
			sleep_ms(POLL_MS);
	}
	return EXIT_FAIL;
}

/*
 * Cluster mode: the event of a run another host made is copied to this
 * host within a second or so; wait for it, up to deadline.
 */
static void
test_event_wait(struct ctx *ctx, const char *id, int64_t deadline)
{
	struct event_rec e;
	MDB_txn *txn;
	int rc;

	while (!test_stop && now_us() < deadline) {
		if ((txn = txn_read(ctx, DB_EVENTS)) == NULL)
			return;
		rc = db_event_get(txn, &ctx->db, id, &e);
		mdb_txn_abort(txn);
		if (rc == 0) {
			event_free(&e);
			return;
		}
		sleep_ms(POLL_MS);
	}
}

/* The run's inputs (the trigger's --map result), or NULL: none. */
static char *
test_inputs(struct ctx *ctx, struct rtx *t, const struct test_find *f)
{
	json_t *in;

	if (f->remote == NULL)
		return db_run_inputs_get(t->r, &ctx->db, f->run.id);
	in = json_object_get(f->remote, "inputs");
	return in != NULL ? json_dumps(in, JSON_ENCODE_ANY) : NULL;
}

/*
 * The event caught, and the output variables: what the action gets as
 * its inputs, the trigger's --map result when it has one, else the
 * payload.
 */
static void
test_print_event(struct ctx *ctx, const struct test_find *f)
{
	const struct run_rec *r = &f->run;
	struct event_rec e;
	struct sub_rec s;
	struct rtx t;
	char *inputs;

	if (rtx_begin(ctx, &t) != 0)
		return;
	if (db_event_get(t.e, &ctx->db, r->event_id, &e) == 0) {
		printf("event %s: ", e.id);
		print_safe(stdout, e.type);
		printf(" from ");
		print_safe(stdout, db_sub_get(t.c, &ctx->db, e.sub, &s) == 0 ?
		    s.name : e.sub);
		if ((inputs = test_inputs(ctx, &t, f)) != NULL) {
			printf("\n\noutput variables (after the trigger's "
			    "--map):\n");
			print_pretty(stdout, inputs, strlen(inputs));
			free(inputs);
		} else {
			printf("\n\noutput variables:\n");
			print_pretty(stdout, e.payload, e.payload_len);
		}
		event_free(&e);
	}
	rtx_end(&t);
	printf("\nrunning workflow %s once (run %s)...\n", r->workflow, r->id);
	fflush(stdout);
}

struct last_attempt {
	int64_t		 n;
	int64_t		 duration_ms;
	json_t		*output;
};

static int
last_attempt_cb(void *arg, const struct attempt_rec *a)
{
	struct last_attempt *l = arg;

	l->n = a->n;
	l->duration_ms = a->duration_us / 1000;
	json_decref(l->output);
	l->output = json_lossy(a->output, a->output_len);
	return 0;
}

/* The run's last attempt: here, or in the other host's answer. */
static void
test_last_attempt(struct ctx *ctx, const struct test_find *f,
    struct last_attempt *l)
{
	json_t *h, *a;
	MDB_txn *txn;

	if (f->remote == NULL) {
		if ((txn = txn_read(ctx, DB_RUNS)) == NULL)
			return;
		db_attempt_each(txn, &ctx->db, f->run.id, last_attempt_cb, l);
		mdb_txn_abort(txn);
		return;
	}
	h = json_object_get(f->remote, "history");
	if ((a = json_array_get(h, json_array_size(h) - 1)) == NULL)
		return;
	l->n = json_integer_value(json_object_get(a, "attempt"));
	l->duration_ms = json_integer_value(json_object_get(a,
	    "duration_ms"));
	if (json_is_string(json_object_get(a, "output")))
		l->output = json_incref(json_object_get(a, "output"));
}

static void
test_print_result(struct ctx *ctx, const struct test_find *f)
{
	const struct run_rec *r = &f->run;
	struct last_attempt l = { .output = NULL };

	test_last_attempt(ctx, f, &l);
	/* One attempt: the run is dead when it failed, which says less
	 * than that. */
	printf("\nrun %s: ", r->id);
	print_status(stdout, r->state == RUN_SUCCEEDED ? "succeeded" :
	    "failed");
	if (l.n > 0)
		printf(" in %lld ms", (long long)l.duration_ms);
	printf("\n");
	if (r->last_error[0] != '\0' && r->state != RUN_SUCCEEDED)
		print_field(stdout, "error", 6, r->last_error);
	if (l.output != NULL && json_string_length(l.output) > 0) {
		printf("output:\n");
		print_pretty(stdout, json_string_value(l.output),
		    json_string_length(l.output));
	}
	json_decref(l.output);
}

/*
 * The run's JSON as --json prints it: run_json's, or the other host's
 * answer without what `run show` adds to it (and with its "host").
 */
static json_t *
test_run_json(struct ctx *ctx, struct rtx *t, const struct test_find *f,
    int history)
{
	json_t *o;

	if (f->remote == NULL)
		return run_json(ctx, t, &f->run, history);
	o = json_copy(f->remote);
	json_object_del(o, "event");
	json_object_del(o, "inputs");
	if (!history)
		json_object_del(o, "history");
	return o;
}

/* What the action got: the map's result, or the payload. */
static json_t *
test_inputs_json(struct ctx *ctx, struct rtx *t, const struct test_find *f,
    const struct event_rec *e, int *mapped)
{
	json_t *o;
	char *inputs;

	*mapped = 1;
	if (f->remote != NULL &&
	    (o = json_object_get(f->remote, "inputs")) != NULL)
		return json_incref(o);
	if (f->remote == NULL &&
	    (inputs = db_run_inputs_get(t->r, &ctx->db, f->run.id)) != NULL) {
		o = json_or_string(inputs, strlen(inputs));
		free(inputs);
		return o;
	}
	*mapped = 0;
	return json_or_string(e->payload, e->payload_len);
}

/* The result; with --live, its line after those of the event. */
static int
test_result_json(struct ctx *ctx, const struct test_find *f, int live)
{
	struct event_rec e;
	struct rtx t;
	json_t *o;
	int mapped;

	if (rtx_begin(ctx, &t) != 0)
		return EXIT_FAIL;

	o = json_pack("{s:o}", "run", test_run_json(ctx, &t, f, 1));
	if (live)
		json_object_set_new(o, "phase", json_string("result"));
	if (db_event_get(t.e, &ctx->db, f->run.event_id, &e) == 0) {
		json_object_set_new(o, "event", event_json(ctx, &t, &e, 1));
		json_object_set_new(o, "inputs", test_inputs_json(ctx, &t, f,
		    &e, &mapped));
		event_free(&e);
	}
	rtx_end(&t);
	/* Cluster mode: the event's runs are on the host that routed it. */
	if (f->cl != NULL && json_object_get(o, "event") != NULL)
		event_runs_cluster(ctx, json_object_get(o, "event"), NULL);
	if (!live)
		return json_print(o);
	json_line(stdout, o);
	json_decref(o);
	return fflush(stdout) == 0 ? EXIT_OK : fail("cannot write the output");
}

/*
 * --json --live: the event as soon as the router made the test run,
 * then its output variables, each a line of its own, flushed: whoever
 * reads the pipe (the console's Test page) shows them while the run
 * goes on.
 */
static void
test_live_event(struct ctx *ctx, const struct test_find *f)
{
	struct event_rec e;
	struct rtx t;
	json_t *o, *in;
	int mapped;

	if (rtx_begin(ctx, &t) != 0)
		return;
	if (db_event_get(t.e, &ctx->db, f->run.event_id, &e) != 0) {
		rtx_end(&t);
		return;
	}
	o = json_pack("{s:s,s:o,s:o}", "phase", "event", "event",
	    event_json(ctx, &t, &e, 1), "run", test_run_json(ctx, &t, f, 0));
	json_line(stdout, o);
	json_decref(o);
	fflush(stdout);
	in = test_inputs_json(ctx, &t, f, &e, &mapped);
	o = json_pack("{s:s,s:o,s:b}", "phase", "inputs", "inputs", in,
	    "mapped", mapped);
	event_free(&e);
	rtx_end(&t);
	json_line(stdout, o);
	json_decref(o);
	fflush(stdout);
}

static int
test_run(struct ctx *ctx, struct test_find *f, int64_t timeout_s, int live)
{
	struct wf_rec w;
	MDB_txn *txn;
	int64_t until;
	int rc;

	f->start = now_us();
	until = f->start + timeout_s * 1000000;
	if ((rc = wf_update(ctx, f->name, listen_edit, &until)) != 0)
		return rc;
	if (!ctx->json)
		fprintf(stderr, "listening on the triggers of %s for %lld s; "
		    "send a matching event (e.g. with 'hookpipe send')...\n",
		    f->name, (long long)timeout_s);
	if (test_wait_run(ctx, f, until) != 0) {
		listen_clear(ctx, f->name);
		if (test_stop)
			return fail("interrupted; no longer listening");
		return fail("no event within %lld s", (long long)timeout_s);
	}
	listen_clear(ctx, f->name);
	if (f->remote != NULL)
		test_event_wait(ctx, f->run.event_id, now_us() +
		    EVENT_WAIT_US);
	if (!ctx->json)
		test_print_event(ctx, f);
	else if (live)
		test_live_event(ctx, f);
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = wf_load(ctx, txn, f->name, &w);
	mdb_txn_abort(txn);
	if (rc != 0)
		return rc;
	rc = test_wait_done(ctx, f, now_us() + run_budget_us(&w));
	wf_free(&w);
	if (rc != 0)
		return fail("run %s has not finished (status %s)", f->run.id,
		    run_state_name(f->run.state));
	if (ctx->json)
		rc = test_result_json(ctx, f, live);
	else
		test_print_result(ctx, f);
	return rc == 0 && f->run.state == RUN_SUCCEEDED ? EXIT_OK : EXIT_FAIL;
}

/*
 * Cluster mode: the test event may be routed on any host, so the other
 * hosts are asked for the run too, on one connection; NATS unreachable,
 * this host's run only (a warning says so).
 */
static int
test_here_or_anywhere(struct ctx *ctx, const char *name, int64_t timeout_s,
    int live)
{
	struct test_find f = { .ws = ctx->ws, .name = name };
	struct cluster cl;
	char err[1024];
	int rc;

	if (cluster_enabled()) {
		if (cluster_connect(&cl, "hookpipe", err, sizeof(err)) == 0)
			f.cl = &cl;
		else
			warnmsg("cluster: %s: waiting for a run of this host "
			    "only", err);
	}
	rc = test_run(ctx, &f, timeout_s, live);
	json_decref(f.remote);
	if (f.cl != NULL)
		cluster_close(f.cl);
	return rc;
}

static int
wf_test(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *timeout = NULL;
	int live = 0;
	const struct opt opts[] = {
		{ "timeout", OPT_STR, &timeout },
		{ "live", OPT_FLAG, &live },
		{ NULL, 0, NULL }
	};
	struct sigaction sa;
	int64_t secs = TEST_TIMEOUT_DEFAULT;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (timeout != NULL && parse_i64(timeout, 1, 86400, &secs) == -1)
		return usage_error(ctx, "--timeout: expected seconds, 1 to "
		    "86400");
	if (live && !ctx->json)
		return usage_error(ctx, "--live goes with --json");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	/* Ctrl-C must still end the listening state. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return test_here_or_anywhere(ctx, args[0], secs, live);
}
