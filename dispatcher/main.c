/*
 * hookpipe-dispatcher: runs workflows. It starts every run that is due
 * (the `due` index: queued runs, failed runs whose retry time came, and
 * runs left `running` by a dispatcher that died), up to
 * HOOKPIPE_CONCURRENCY at once, and records each attempt. A failed
 * attempt is retried with exponential backoff and jitter until the
 * workflow's retries are spent; then the run is dead.
 *
 *	router --PUSH/PULL--> dispatcher --> action (exec)
 *
 * The retry schedule lives in LMDB, so a restart keeps it. An attempt is
 * on disk as started before its action runs; one cut off by the
 * dispatcher's end (a crash, a SIGKILL, a stop that could not wait) is
 * recorded as interrupted and counts like a failed one: the run goes on
 * with its next attempt under the same run id (actions can dedupe on
 * HOOKPIPE_RUN_ID), and is dead when its retries are spent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "cluster.h"
#include "db.h"
#include "dispatch.h"
#include "integ.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "stage.h"
#include "zsock.h"

#define TICK_MS		1000
#define STOP_GRACE_MS	5000

#define ZMQ_ACTIONS_MAX	32

struct dispatcher {
	struct httpc	 http;
	struct {
		char	*endpoint;
		void	*sock;
	}		 zmq_out[ZMQ_ACTIONS_MAX];	/* PUSH, one per endpoint */
	int		 nzmq;
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;
	void		*zctx;
	void		*in;		/* PULL: hints from router and admin */
	struct tap	 tap;
	struct job	*jobs;
	int		 njobs;		/* 2 x HOOKPIPE_CONCURRENCY */
	int		 chld_fd;	/* signalfd: SIGCHLD, when pidfds are missing */
	int		 active;	/* jobs used */
	int64_t		 next_due_us;	/* earliest due time seen */
	uint64_t	 succeeded, failed;
	/* The definitions, for their enrich calls (enrich.c). */
	struct integ_set integs;
	uint64_t	 integ_stamp;
	/* Runs whose enrich step just succeeded: the next claim of one
	 * that still lacks a result fails instead of asking again and
	 * again (a definition changed between the child's load and ours). */
	char		 enriched[64][UUID_LEN + 1];
	int		 nenriched;
	/* Cluster mode: where the runs' copies go. */
	struct cluster	 cl;
};

static const char usage[] =
    "Runs workflows for routed events, with retries.\n"
    "Started by hookpipectl.\n";

static struct job *
job_find(struct dispatcher *d, const char *run_id)
{
	int i;

	for (i = 0; i < d->njobs; i++)
		if (d->jobs[i].used && strcmp(d->jobs[i].run_id, run_id) == 0)
			return &d->jobs[i];
	return NULL;
}

static struct job *
job_free_slot(struct dispatcher *d)
{
	int i;

	for (i = 0; i < d->njobs; i++)
		if (!d->jobs[i].used)
			return &d->jobs[i];
	return NULL;
}

/* Actions under way: their jobs are used and not done. */
static int
jobs_running(struct dispatcher *d)
{
	int i, n = 0;

	for (i = 0; i < d->njobs; i++)
		if (d->jobs[i].used && !d->jobs[i].done)
			n++;
	return n;
}

static int
wf_active(struct dispatcher *d, const char *ws, const char *name)
{
	int i, n = 0;

	for (i = 0; i < d->njobs; i++)
		if (d->jobs[i].used && !d->jobs[i].done &&
		    strcmp(d->jobs[i].workflow, name) == 0 &&
		    strcmp(d->jobs[i].workspace, ws) == 0)
			n++;
	return n;
}

/*
 * The run document (SPEC "The run document"). The results of the event's
 * enrich calls, when there are any, are in "enriched" by name, and in
 * "inputs" under the same names when the inputs are an object (they are,
 * but for a trigger's --map that made something else).
 */
static char *
run_document(const struct run_rec *run, const struct event_rec *ev,
    const struct sub_rec *sub, const char *mapped, json_t *enriched)
{
	char when[40];
	json_t *inputs, *doc;
	char *s;

	/* The trigger's map made the inputs, or they are the payload. */
	inputs = mapped != NULL ? json_loads(mapped, 0, NULL) :
	    json_loadb((const char *)ev->payload, ev->payload_len, 0, NULL);
	if (inputs == NULL)
		inputs = json_stringn((const char *)ev->payload,
		    ev->payload_len);
	if (inputs == NULL)
		inputs = json_null();
	if (enriched != NULL && json_is_object(inputs))
		json_object_update(inputs, enriched);
	doc = json_pack("{s:s, s:I, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}, s:o}",
	    "run_id", run->id, "attempt", (json_int_t)run->attempts,
	    "workflow", run->workflow,
	    "trigger",
	    "integration", ev->integration, "subscription", ev->sub,
	    "subscription_name", sub ? sub->name : "",
	    "event", ev->type, "event_id", ev->id,
	    "delivery_id", ev->delivery_id,
	    "received_at", fmt_rfc3339(ev->received_at, when, sizeof(when)),
	    "inputs", inputs);
	if (doc == NULL)
		return NULL;
	if (enriched != NULL)
		json_object_set(doc, "enriched", enriched);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

/*
 * An exec action's environment, NULL-terminated with room for HOME: an
 * action gets nothing of the stage's by default (its secrets, the cloud
 * credentials of the host, HOOKPIPE_HOME), only what it needs to run
 * (PATH, HOME, LANG), what its workflow names (`--env NAME` passes ours,
 * `--env NAME=VALUE` sets one) and the run's HOOKPIPE_* variables, which
 * nothing overrides.
 */
#define PATH_DEFAULT	"/usr/local/bin:/usr/bin:/bin"
#define ENV_WF_MAX	64
#define ENV_SLOTS	(3 + ENV_WF_MAX + 6 + 1)

/* Set or replace NAME (namelen bytes of name) to vlen bytes of value. */
static void
env_setn(char **env, const char *name, size_t namelen, const char *value,
    size_t vlen)
{
	size_t i;
	char *s;

	if (asprintf(&s, "%.*s=%.*s", (int)namelen, name, (int)vlen,
	    value) < 0)
		return;
	for (i = 0; i < ENV_SLOTS - 1 && env[i] != NULL; i++)
		if (strncmp(env[i], s, namelen + 1) == 0)
			break;
	if (i == ENV_SLOTS - 1) {
		free(s);
		return;
	}
	free(env[i]);
	env[i] = s;
}

static void
env_set(char **env, const char *name, const char *value)
{
	env_setn(env, name, strlen(name), value, strlen(value));
}

static int
env_has(char **env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return 1;
	return 0;
}

/* lines: the workflow's "NAME" and "NAME=VALUE" lines, or NULL. */
static char **
run_env(const struct run_rec *run, const struct event_rec *ev,
    const char *lines, int own_home)
{
	const char *p, *v;
	char **env, num[24];
	int nwf = 0;

	if ((env = calloc(ENV_SLOTS, sizeof(*env))) == NULL)
		return NULL;
	env_set(env, "PATH", (v = getenv("PATH")) != NULL ? v :
	    PATH_DEFAULT);
	if (own_home && (v = getenv("HOME")) != NULL)
		env_set(env, "HOME", v);
	if ((v = getenv("LANG")) != NULL)
		env_set(env, "LANG", v);
	for (p = lines; p != NULL && *p != '\0' && nwf < ENV_WF_MAX; nwf++) {
		size_t n = strcspn(p, "\n"), k = strcspn(p, "=\n");
		char name[256];

		if (k > 0 && k < sizeof(name)) {
			memcpy(name, p, k);
			name[k] = '\0';
			if (k < n)
				env_setn(env, p, k, p + k + 1, n - k - 1);
			else if ((v = getenv(name)) != NULL)
				env_set(env, name, v);
		}
		p += n + (p[n] == '\n');
	}
	env_set(env, "HOOKPIPE_RUN_ID", run->id);
	env_set(env, "HOOKPIPE_EVENT", ev->type);
	env_set(env, "HOOKPIPE_EVENT_ID", ev->id);
	env_set(env, "HOOKPIPE_SUBSCRIPTION", ev->sub);
	env_set(env, "HOOKPIPE_WORKFLOW", run->workflow);
	snprintf(num, sizeof(num), "%lld", (long long)run->attempts);
	env_set(env, "HOOKPIPE_ATTEMPT", num);
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static void
tap_run(struct dispatcher *d, const struct job *j, const char *status)
{
	json_t *o;

	if (!tap_active(&d->tap))
		return;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "stage",
	    "dispatcher", "message", "attempt", "run_id", j->run_id,
	    "workflow", j->workflow, "event_id", j->event_id, "attempt",
	    j->attempt, "status", status);
	if (j->error[0] != '\0')
		json_object_set_new(o, "error", json_string(j->error));
	tap_publish(&d->tap, o, NULL);
}

/*
 * The zmq action: PUSH the run document to a consumer. One socket per
 * endpoint, connected once. With ZMQ_IMMEDIATE a send fails at once when
 * no consumer is connected, and the attempt is retried like any other.
 */
static void
zmq_action(struct dispatcher *d, struct job *j, const char *endpoint)
{
	void *sock = NULL;
	int i, one = 1;

	j->done = 1;
	j->exit_code = -1;
	for (i = 0; i < d->nzmq; i++)
		if (strcmp(d->zmq_out[i].endpoint, endpoint) == 0)
			sock = d->zmq_out[i].sock;
	if (sock == NULL) {
		if (d->nzmq == ZMQ_ACTIONS_MAX) {
			snprintf(j->error, sizeof(j->error), "too many zmq "
			    "endpoints");
			return;
		}
		if ((sock = zs_socket(d->zctx, ZMQ_PUSH, 0)) == NULL)
			goto fail;
		zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one));
		if (zmq_connect(sock, endpoint) == -1) {
			zmq_close(sock);
			goto fail;
		}
		d->zmq_out[d->nzmq].endpoint = strdup(endpoint);
		d->zmq_out[d->nzmq++].sock = sock;
		/* A fresh connection needs a moment before it is live. */
		zmq_poll(NULL, 0, 50);
	}
	if (zmq_send(sock, j->doc, j->doc_len, ZMQ_DONTWAIT) == -1)
		goto fail;
	j->ok = 1;
	j->exit_code = 0;
	return;
fail:
	snprintf(j->error, sizeof(j->error), "zmq %s: %s", endpoint,
	    errno == EAGAIN ? "no consumer connected" : zmq_strerror(errno));
}

static void
warn_integ(const char *msg)
{
	log_warn("integration definition refused: %s", msg);
}

static void
enriched_remember(struct dispatcher *d, const char *run_id)
{
	int n = (int)(sizeof(d->enriched) / sizeof(d->enriched[0]));

	str_copy(d->enriched[d->nenriched++ % n], run_id, UUID_LEN + 1);
}

/* 1 when the run's enrich step had just succeeded (and forget it). */
static int
enriched_forget(struct dispatcher *d, const char *run_id)
{
	int i, n = (int)(sizeof(d->enriched) / sizeof(d->enriched[0]));

	for (i = 0; i < n; i++)
		if (strcmp(d->enriched[i], run_id) == 0) {
			d->enriched[i][0] = '\0';
			return 1;
		}
	return 0;
}

/* A run that cannot start at all (its workflow or event is gone). */
static int
run_dead(struct dispatcher *d, MDB_txn *txn, struct run_rec *run,
    const char *why)
{
	struct run_rec old = *run;

	run->state = RUN_DEAD;
	str_copy(run->last_error, why, sizeof(run->last_error));
	run->updated_at = now_us();
	log_warn("run %s is dead: %s", run->id, why);
	return db_run_put(txn, &d->db, run, &old);
}

static int64_t
retry_delay_us(struct dispatcher *d, int attempt)
{
	int64_t ms = config_retry_delay_ms(&d->cfg, attempt);
	uint32_t r = 0;

	/* ±20% jitter keeps retries of a burst from arriving together. */
	crypto_random(&r, sizeof(r));
	ms = ms * 8 / 10 + (int64_t)((double)r / UINT32_MAX * (double)ms *
	    4 / 10);
	return ms * 1000;
}

#define INTERRUPTED	"interrupted: the dispatcher stopped"

/*
 * An attempt that started (its claim is on disk) but whose end was never
 * recorded: the dispatcher stopped under it. It counts like a failed
 * attempt: recorded with INTERRUPTED, then the run goes on with its next
 * attempt, or is dead when its retries are spent. Starting it again
 * under the same attempt number instead would let an action that kills
 * the dispatcher (kill -9 $PPID) run forever, one restart after the
 * other, and give two executions the same HOOKPIPE_ATTEMPT.
 * started and out: what is known of the attempt (0 and NULL after a
 * crash).
 */
static int
run_interrupted(struct dispatcher *d, MDB_txn *txn, struct run_rec *run,
    int64_t started, const struct buf *out)
{
	struct run_rec old = *run;
	struct attempt_rec a;
	int64_t now = now_us();
	int rc;

	memset(&a, 0, sizeof(a));
	a.n = run->attempts;
	a.started_at = started != 0 ? started : run->updated_at;
	a.duration_us = started != 0 ? now - started : 0;
	a.exit_code = -1;
	str_copy(a.error, INTERRUPTED, sizeof(a.error));
	if (out != NULL) {
		a.output = (unsigned char *)out->data;
		a.output_len = out->len;
	}
	if (run->attempts > 0 &&
	    (rc = db_attempt_put(txn, &d->db, run->id, &a)) != 0)
		return rc;
	str_copy(run->last_error, INTERRUPTED, sizeof(run->last_error));
	run->updated_at = now;
	if (run->attempts < run->max_attempts) {
		run->state = RUN_FAILED;
		run->next_at = now + retry_delay_us(d, (int)run->attempts);
	} else {
		run->state = RUN_DEAD;
		log_warn("run %s is dead: attempt %lld was interrupted and was "
		    "its last", run->id, (long long)run->attempts);
	}
	return db_run_put(txn, &d->db, run, &old);
}

struct due {
	char	 id[256][UUID_LEN + 1];
	int	 n;
	int	 cap;
};

static int
collect_due(void *arg, const char *id)
{
	struct due *due = arg;

	if (due->n == due->cap)
		return 1;
	memcpy(due->id[due->n++], id, UUID_LEN + 1);
	return 0;
}

/* What a claimed run needs to start once its claim is committed. */
struct start {
	struct job	*job;
	char		*cmd;		/* exec */
	char		**env;
	char		*user;		/* --user, looked up at the start */
	char		*url;		/* http, dify */
	char		*headers;
	char		*bearer;
	char		*body;
	char		*endpoint;	/* zmq */
	int		 enrich;	/* `hookpipe enrich RUN` first */
	int64_t		 timeout_ms;
};

static void
start_free(struct start *st)
{
	free(st->cmd);
	env_free(st->env);
	free(st->user);
	if (st->url != NULL)	/* its userinfo */
		OPENSSL_cleanse(st->url, strlen(st->url));
	free(st->url);
	if (st->headers != NULL)
		OPENSSL_cleanse(st->headers, strlen(st->headers));
	free(st->headers);
	if (st->bearer != NULL)
		OPENSSL_cleanse(st->bearer, strlen(st->bearer));
	free(st->bearer);
	free(st->body);
	free(st->endpoint);
	memset(st, 0, sizeof(*st));
}

/* Dify's request: {"inputs": …, "response_mode": "blocking", "user": …}. */
static char *
dify_body(const char *doc)
{
	json_t *d = json_loads(doc, 0, NULL), *b;
	char *s;

	b = json_pack("{s:O, s:s, s:s}", "inputs", json_object_get(d,
	    "inputs") ? json_object_get(d, "inputs") : json_object(),
	    "response_mode", "blocking", "user", "hookpipe");
	s = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	json_decref(d);
	return s;
}

/*
 * A part of the workflow that may be sealed: unsealed when it is, as
 * stored when it predates sealing. NULL with job->error when it cannot be
 * unsealed (never the masked text in its place).
 */
static char *
wf_part(struct dispatcher *d, const struct wf_rec *wf, enum wf_sealed which,
    const char *clear, struct job *j, const char *what)
{
	uint32_t id;
	char *s;

	if (wf->sealed[which].n == 0)
		return strdup(clear != NULL ? clear : "");
	if ((s = db_wf_unseal(&d->db, wf, which)) != NULL)
		return s;
	if ((id = db_key_missing(&d->db, wf->sealed[which].p,
	    wf->sealed[which].n)) != 0)
		snprintf(j->error, sizeof(j->error), "cannot unseal the "
		    "workflow's %s: this host lacks the file of master key %u",
		    what, id);
	else
		snprintf(j->error, sizeof(j->error), "cannot unseal the "
		    "workflow's %s: master key %u does not open it (its file "
		    "here holds another key, or the record is damaged)", what,
		    sealed_key_id(wf->sealed[which].p, wf->sealed[which].n));
	return NULL;
}

static void
prepare_action(struct dispatcher *d, const struct wf_rec *wf,
    const struct run_rec *run, const struct event_rec *ev, struct start *st)
{
	struct job *j = st->job;
	int64_t timeout_ms = (wf->timeout_s > 0 ? wf->timeout_s : 30) * 1000;
	char *s;

	st->timeout_ms = timeout_ms;
	if (strcmp(wf->action, "exec") == 0) {
		j->kind = JOB_EXEC;
		if ((s = wf_part(d, wf, WF_SEALED_ENV, wf->env, j,
		    "--env values")) == NULL)
			return;
		st->cmd = strdup(wf->target ? wf->target : "");
		if (wf->user != NULL && *wf->user != '\0')
			st->user = strdup(wf->user);
		st->env = run_env(run, ev, s, st->user == NULL);
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	} else if (strcmp(wf->action, "http") == 0) {
		j->kind = JOB_HTTP;
		st->url = wf_part(d, wf, WF_SEALED_URL, wf->target, j, "URL");
		st->headers = wf_part(d, wf, WF_SEALED_HEADERS, wf->headers, j,
		    "headers");
		if (st->headers == NULL) {
			free(st->url);
			st->url = NULL;
		}
		st->body = j->doc ? strdup(j->doc) : NULL;
	} else if (strcmp(wf->action, "dify") == 0) {
		char key[SECRET_MAX + 1];

		j->kind = JOB_HTTP;
		j->dify = 1;
		if ((s = wf_part(d, wf, WF_SEALED_URL, wf->target, j,
		    "URL")) != NULL && asprintf(&st->url, "%s/v1/workflows/run",
		    s) < 0)
			st->url = NULL;
		if (s != NULL)
			OPENSSL_cleanse(s, strlen(s));
		free(s);
		if (db_wf_app_key(&d->db, wf, key, sizeof(key)) >= 0) {
			st->bearer = strdup(key);
			OPENSSL_cleanse(key, sizeof(key));
		}
		st->body = j->doc ? dify_body(j->doc) : NULL;
	} else if (strcmp(wf->action, "zmq") == 0) {
		j->kind = JOB_NONE;
		st->endpoint = strdup(wf->target ? wf->target : "");
	} else {
		j->kind = JOB_NONE;
		snprintf(j->error, sizeof(j->error), "unknown action %s",
		    wf->action);
	}
}

/* Start an exec action, as its --user when it names one. */
static int
exec_prepared(struct job *j, struct start *st)
{
	struct exec_user u;
	int rc;

	if (st->env == NULL) {
		snprintf(j->error, sizeof(j->error), "out of memory");
		return -1;
	}
	if (st->user == NULL)
		return exec_start(j, st->cmd, st->env, NULL);
	if (exec_user_lookup(st->user, &u, j->error, sizeof(j->error)) == -1)
		return -1;
	if (!env_has(st->env, "HOME"))
		env_set(st->env, "HOME", u.home);
	rc = exec_start(j, st->cmd, st->env, &u);
	exec_user_free(&u);
	return rc;
}

/*
 * The latency from receipt to action counts a run's first attempt, of a
 * run the router made (its id derives from the event): not a replay's,
 * whose event may be days old. Returns the event's receipt, or 0.
 */
static int64_t
action_latency_from(const struct run_rec *run, const struct event_rec *ev)
{
	char id[UUID_LEN + 1];

	if (run->attempts != 1)
		return 0;
	run_id_for(ev, run->workspace, run->workflow, id);
	return strcmp(id, run->id) == 0 ? ev->received_at : 0;
}

static int
count_due(void *arg, const char *id)
{
	(*(int64_t *)arg)++;
	return 0;
}

/* Runs due to start now: queued, or failed with their retry time come. */
static void
gauges(struct dispatcher *d)
{
	MDB_txn *txn;
	int64_t n = 0;

	if ((txn = db_begin(&d->db, DB_RUNS, 1)) == NULL)
		return;
	db_due_each(txn, &d->db, now_us(), count_due, &n);
	mdb_txn_abort(txn);
	metrics_set(M_QUEUE, "due", NULL, n);
}

/*
 * Claims up to free_slots due runs in txn (status running, attempt
 * counted) and fills starts with what their actions need; they start
 * once txn is committed (launch()). Sets *held when due runs were all
 * held back by their workflow's concurrency.
 */
static int
claim_due(struct dispatcher *d, MDB_txn *txn, int free_slots, int64_t now,
    struct start *starts, int *nstartp, int *held)
{
	static struct due due;
	int nstart = 0, i, rc = 0;
	MDB_txn *ctxn, *etxn;

	*nstartp = *held = 0;
	due.n = 0;
	due.cap = free_slots + d->active < 256 ? free_slots + d->active : 256;
	/* Their workflows and events to read; without them the claims
	 * wait for the next pass, and the ended attempts are recorded. */
	if ((ctxn = db_begin(&d->db, DB_CONFIG, 1)) == NULL)
		return 0;
	if ((etxn = db_begin(&d->db, DB_EVENTS, 1)) == NULL) {
		mdb_txn_abort(ctxn);
		return 0;
	}
	db_due_each(txn, &d->db, now, collect_due, &due);
	for (i = 0; i < due.n && nstart < free_slots && rc == 0; i++) {
		struct run_rec run, old;
		struct wf_rec wf;
		struct event_rec ev;
		struct sub_rec sub;
		struct job *j;
		json_t *enriched;
		char *mapped;
		int have_sub, need;

		if (job_find(d, due.id[i]) != NULL)
			continue;
		if (db_run_get(txn, &d->db, due.id[i], &run) != 0) {
			db_del(txn, d->db.due, due.id[i], UUID_LEN);
			continue;
		}
		if (db_wf_get(ctxn, &d->db, run.workspace, run.workflow,
		    &wf) != 0) {
			rc = run_dead(d, txn, &run, "its workflow was deleted");
			continue;
		}
		if (wf.concurrency > 0 && wf_active(d, run.workspace,
		    run.workflow) >= wf.concurrency) {
			wf_free(&wf);
			continue;
		}
		if ((run.event_seq > 0 ? db_event_get_seq(etxn, &d->db,
		    run.event_seq, &ev) : db_event_get(etxn, &d->db,
		    run.event_id, &ev)) != 0) {
			wf_free(&wf);
			rc = run_dead(d, txn, &run, "its event is gone");
			continue;
		}
		if (run.state == RUN_RUNNING) {
			/* Its lease ran out and no job of ours holds it: the
			 * attempt was cut off. */
			log_info("run %s: attempt %lld was interrupted",
			    run.id, (long long)run.attempts);
			wf_free(&wf);
			event_free(&ev);
			rc = run_interrupted(d, txn, &run, 0, NULL);
			continue;
		}
		have_sub = db_sub_get(ctxn, &d->db, ev.sub, &sub) == 0;
		old = run;
		run.attempts++;
		run.state = RUN_RUNNING;
		run.updated_at = now;
		/* A lease: the run stays in the due index, but not before the
		 * attempt could have ended; recover_running() handles a
		 * dispatcher that died meanwhile. */
		run.next_at = now + ((wf.timeout_s > 0 ? wf.timeout_s : 30) +
		    60) * 1000000;
		if ((j = job_free_slot(d)) == NULL) {
			wf_free(&wf);
			event_free(&ev);
			break;
		}
		memset(j, 0, sizeof(*j));
		j->used = 1;
		j->in_fd = j->out_fd = j->pidfd = -1;
		str_copy(j->run_id, run.id, sizeof(j->run_id));
		str_copy(j->workspace, run.workspace, sizeof(j->workspace));
		str_copy(j->workflow, run.workflow, sizeof(j->workflow));
		str_copy(j->event_id, run.event_id, sizeof(j->event_id));
		j->attempt = (int)run.attempts;
		j->received_us = action_latency_from(&run, &ev);
		d->active++;
		memset(&starts[nstart], 0, sizeof(starts[nstart]));
		starts[nstart].job = j;
		/* Enrich calls are made with the subscription's credential:
		 * without one, the run goes without them. */
		need = have_sub && sub.credential[0] != '\0' &&
		    enrich_needed(&d->integs, txn, &d->db, &ev);
		if (need && enriched_forget(d, run.id)) {
			j->kind = JOB_NONE;
			snprintf(j->error, sizeof(j->error), "hookpipe enrich "
			    "stored no result for an enrich call of %s %s "
			    "(its definition changed?)", ev.integration,
			    ev.type);
		} else if (need) {
			j->kind = JOB_ENRICH;
			j->received_us = 0;	/* the action's start counts */
			starts[nstart].enrich = 1;
		} else {
			enriched_forget(d, run.id);
			mapped = db_run_inputs_get(txn, &d->db, run.id);
			enriched = enrich_results(&d->integs, txn, &d->db, &ev);
			j->doc = run_document(&run, &ev, have_sub ? &sub : NULL,
			    mapped, enriched);
			json_decref(enriched);
			free(mapped);
			j->doc_len = j->doc ? strlen(j->doc) : 0;
			prepare_action(d, &wf, &run, &ev, &starts[nstart]);
		}
		nstart++;
		wf_free(&wf);
		event_free(&ev);
		rc = db_run_put(txn, &d->db, &run, &old);
	}
	mdb_txn_abort(etxn);
	mdb_txn_abort(ctxn);
	*nstartp = nstart;
	*held = nstart == 0 && due.n > 0;
	return rc;
}

/* Returns the jobs claim_due() took when its transaction failed. */
static void
unclaim(struct dispatcher *d, struct start *starts, int nstart)
{
	int i;

	for (i = 0; i < nstart; i++) {
		start_free(&starts[i]);
		job_release(starts[i].job);
		d->active--;
	}
}

/*
 * The claims reached the disk with their commit (commit_synced, once a
 * pass), before any action of the pass starts: an action that takes the
 * dispatcher (or the machine) down with it finds its attempt counted on
 * the way back.
 */
static void
launch(struct dispatcher *d, struct start *starts, int nstart)
{
	int i;

	for (i = 0; i < nstart; i++) {
		struct job *j = starts[i].job;
		struct start *st = &starts[i];
		int rc2 = -1;

		j->started_us = now_us();
		j->deadline_ms = mono_ms() + st->timeout_ms;
		if (st->enrich) {
			j->deadline_ms = mono_ms() + ENRICH_TIMEOUT_MS;
			rc2 = enrich_start(j);
		} else if (st->cmd != NULL)
			rc2 = exec_prepared(j, st);
		else if (st->url != NULL && st->body != NULL) {
			if (j->dify && st->bearer == NULL)
				snprintf(j->error, sizeof(j->error), "the Dify "
				    "app key cannot be read");
			else
				rc2 = http_start(&d->http, j, st->url,
				    st->headers, st->bearer, st->body,
				    st->timeout_ms);
		} else if (st->endpoint != NULL) {
			zmq_action(d, j, st->endpoint);
			rc2 = 0;
		} else if (j->error[0] == '\0')
			snprintf(j->error, sizeof(j->error), "cannot prepare "
			    "the action");
		if (rc2 == -1) {
			j->done = 1;
			j->exit_code = -1;
		} else {
			tap_run(d, j, "running");
			if (j->received_us > 0)
				metrics_observe(H_ACTION_START, j->started_us -
				    j->received_us);
		}
		start_free(st);
	}
}

/*
 * Commits txn and waits for it to be on disk, meta page included
 * (db_sync): as a synced commit, with the writer lock let go sooner. A
 * failed sync leaves the commit in place but perhaps not on disk: said,
 * and the next commit's sync takes it along.
 */
static int
commit_synced(struct dispatcher *d, MDB_txn *txn)
{
	int rc;

	if ((rc = db_commit(txn)) != 0)
		return rc;
	if ((rc = db_sync(&d->db, DB_RUNS)) != 0)
		log_warn("cannot sync db/runs: %s", db_strerror(rc));
	return 0;
}

/*
 * At start no attempt is running, whatever the records say: a run left
 * `running` was cut off by a dispatcher that died. Its attempt counts
 * (run_interrupted).
 */
static void
recover_running(struct dispatcher *d)
{
	struct run_ids l = { NULL, 0, 0 };
	MDB_txn *txn;
	size_t i, n = 0;
	int rc = 0;

	if ((txn = db_begin(&d->db, DB_RUNS, 0)) == NULL)
		fatal(EXIT_TEMPORARY, "cannot read the run queue");
	db_due_each(txn, &d->db, INT64_MAX, run_ids_add, &l);
	for (i = 0; i < l.n && rc == 0; i++) {
		struct run_rec run;

		if (db_run_get(txn, &d->db, l.id[i], &run) != 0 ||
		    run.state != RUN_RUNNING)
			continue;
		log_info("run %s: attempt %lld was interrupted", run.id,
		    (long long)run.attempts);
		rc = run_interrupted(d, txn, &run, 0, NULL);
		n++;
	}
	free(l.id);
	if (rc != 0 || (rc = commit_synced(d, txn)) != 0)
		fatal(EXIT_TEMPORARY, "cannot recover interrupted runs: %s",
		    db_strerror(rc));
	if (n > 0)
		log_info("%zu runs had an attempt interrupted; they go on with "
		    "their next attempt, if any is left", n);
}

static void
count_attempt(const struct job *j)
{
	metrics_add(M_ATTEMPTS, j->workflow, j->ok ? "succeeded" : "failed",
	    1);
	if (j->outcome == RUN_SUCCEEDED)
		metrics_add(M_RUNS, j->workflow, "succeeded", 1);
	else if (j->outcome == RUN_DEAD)
		metrics_add(M_RUNS, j->workflow, "dead", 1);
	else if (j->outcome == RUN_FAILED)
		metrics_add(M_RETRIES, j->workflow, NULL, 1);
}

/* Records the attempts that ended in txn. */
static int
record_done(struct dispatcher *d, MDB_txn *txn, struct job **done, int ndone)
{
	int i, rc = 0;

	for (i = 0; i < ndone && rc == 0; i++) {
		struct job *j = done[i];
		struct run_rec run, old;
		struct attempt_rec a;
		int64_t now = now_us();

		if ((rc = db_run_get(txn, &d->db, j->run_id, &run)) != 0) {
			rc = rc == MDB_NOTFOUND || rc == DB_EDAMAGED ? 0 : rc;
			continue;
		}
		old = run;
		if (j->kind == JOB_ENRICH)
			enrich_done(j);
		if (j->kind == JOB_ENRICH && j->ok) {
			/* The results are stored: the action starts now, as
			 * the same attempt. */
			run.attempts--;
			run.state = RUN_QUEUED;
			run.next_at = now;
			run.updated_at = now;
			j->outcome = run.state;
			rc = db_run_put(txn, &d->db, &run, &old);
			continue;
		}
		memset(&a, 0, sizeof(a));
		a.n = j->attempt;
		a.started_at = j->started_us;
		a.duration_us = now - j->started_us;
		a.exit_code = j->exit_code;
		a.http_status = j->http_status;
		str_copy(a.error, j->error, sizeof(a.error));
		a.output = (unsigned char *)j->out.data;
		a.output_len = j->out.len;
		if ((rc = db_attempt_put(txn, &d->db, run.id, &a)) != 0)
			break;
		run.updated_at = now;
		str_copy(run.last_error, j->error, sizeof(run.last_error));
		if (j->ok)
			run.state = RUN_SUCCEEDED;
		else if (run.attempts < run.max_attempts && !j->no_retry) {
			int64_t delay = retry_delay_us(d, (int)run.attempts);

			if (j->retry_after_ms * 1000 > delay)
				delay = j->retry_after_ms * 1000;
			run.state = RUN_FAILED;
			run.next_at = now + delay;
		} else
			run.state = RUN_DEAD;
		j->outcome = run.state;
		rc = db_run_put(txn, &d->db, &run, &old);
	}
	return rc;
}

/* Their records committed: the jobs are free again. */
static void
release_done(struct dispatcher *d, struct job **done, int ndone)
{
	int i;

	for (i = 0; i < ndone; i++) {
		struct job *j = done[i];

		if (j->kind == JOB_ENRICH && j->ok) {
			log_debug("run %s: its enrich calls are done",
			    j->run_id);
			enriched_remember(d, j->run_id);
			job_release(j);
			d->active--;
			continue;
		}
		if (j->ok) {
			d->succeeded++;
			log_debug("run %s of %s succeeded (attempt %d)",
			    j->run_id, j->workflow, j->attempt);
		} else {
			d->failed++;
			log_info("run %s of %s attempt %d failed: %s",
			    j->run_id, j->workflow, j->attempt, j->error);
		}
		tap_run(d, j, j->ok ? "succeeded" : "failed");
		count_attempt(j);
		http_abort(&d->http, j);
		job_release(j);
		d->active--;
	}
}

/*
 * One pass over the runs: the attempts that ended are recorded and the
 * due runs claimed (when claim is set) in one transaction, synced once,
 * then the claimed actions start. A failed commit changes nothing: the
 * ended attempts are recorded by the next pass.
 */
/*
 * Cluster mode with HOOKPIPE_CLUSTER_TAKEOVER: past the host's lease,
 * which its router renews while NATS answers, another host may take its
 * runs over, so no attempt starts here (those running go on).
 */
static int
fenced(struct dispatcher *d, MDB_txn *txn, int64_t now)
{
	static int said;

	if (d->cfg.takeover_s == 0 || !cluster_enabled())
		return 0;
	if (db_lease(txn, &d->db) >= now) {
		if (said)
			log_info("cluster: this host's lease is renewed: "
			    "attempts start again");
		said = 0;
		return 0;
	}
	if (!said)
		log_warn("cluster: this host's lease has lapsed (its router "
		    "is not running, or cannot reach NATS): no attempt starts "
		    "until the router renews it");
	said = 1;
	return 1;
}

static void
pass(struct dispatcher *d, int claim)
{
	static struct start starts[256];
	static char copies[1024][UUID_LEN + 1];
	struct job *done[1024];
	int ndone = 0, nstart = 0, held = 0, free_slots, i, rc = 0, ncopy = 0;
	int64_t now = now_us();
	MDB_txn *txn;

	for (i = 0; i < d->njobs && ndone < 1024; i++)
		if (d->jobs[i].used && d->jobs[i].done)
			done[ndone++] = &d->jobs[i];
	/* Jobs whose attempt ended give their place in this pass. */
	free_slots = (int)d->cfg.concurrency - (d->active - ndone);
	claim = claim && free_slots > 0 && d->next_due_us <= now;
	if (ndone == 0 && !claim)
		return;
	if ((txn = db_begin(&d->db, DB_RUNS, 0)) == NULL)
		return;	/* retried on the next pass */
	if (ndone > 0)
		rc = record_done(d, txn, done, ndone);
	if (rc == 0 && claim && !fenced(d, txn, now))
		rc = claim_due(d, txn, free_slots, now, starts, &nstart,
		    &held);
	if (rc == 0)
		rc = commit_synced(d, txn);
	else
		mdb_txn_abort(txn);
	if (rc == MDB_MAP_FULL)
		db_grow(&d->db, DB_RUNS);	/* the next pass does it */
	if (rc != 0) {
		log_warn("cannot record %d attempts and claim due runs: %s",
		    ndone, db_strerror(rc));
		unclaim(d, starts, nstart);
		return;
	}
	/* Cluster mode: a copy of each run whose attempt ended, for the
	 * other hosts to show while this one does not answer; once the
	 * pass's actions have started. */
	for (i = 0; i < ndone && d->cl.nc != NULL; i++)
		if (!(done[i]->kind == JOB_ENRICH && done[i]->ok))
			str_copy(copies[ncopy++], done[i]->run_id,
			    sizeof(copies[0]));
	release_done(d, done, ndone);
	launch(d, starts, nstart);
	cluster_copy_runs(&d->cl, &d->db, copies, ncopy);
	/* Due runs all held back by their workflow's concurrency: look
	 * again shortly rather than spin; ended attempts may have made
	 * retries due: look again. */
	if (claim)
		d->next_due_us = held ? now + 200000 : 0;
	else
		d->next_due_us = 0;
}

static void
check_deadlines(struct dispatcher *d)
{
	int64_t now = mono_ms();
	int i;

	for (i = 0; i < d->njobs; i++) {
		struct job *j = &d->jobs[i];

		if (j->used && !j->done && (j->kind == JOB_EXEC ||
		    j->kind == JOB_ENRICH) && j->pid > 0 &&
		    !j->exited &&
		    !j->timed_out && now >= j->deadline_ms) {
			j->timed_out = 1;
			exec_kill(j);
		}
	}
}

/*
 * Stop: running attempts had STOP_GRACE_MS to end; kill the rest and
 * count them as interrupted, as after a crash: the run goes on with its
 * next attempt after the usual delay, or is dead if that was its last.
 * Requeuing under the same attempt number would spare an operator's
 * restart an attempt, but an action can stop the dispatcher too (kill
 * $PPID; sleep 60): the supervisor starts it again, and the action would
 * run forever, one stop after the other. And the killed attempt may
 * have done part of its work: HOOKPIPE_ATTEMPT names one execution.
 * A run on its last attempt is thus dead after such a stop; `hookpipe
 * replay` runs its event again.
 */
static void
requeue_running(struct dispatcher *d)
{
	MDB_txn *txn;
	int i, rc = 0;

	if (d->active == 0 || (txn = db_begin(&d->db, DB_RUNS, 0)) == NULL)
		return;
	for (i = 0; i < d->njobs; i++) {
		struct job *j = &d->jobs[i];
		struct run_rec run;

		if (!j->used)
			continue;
		exec_kill(j);
		http_abort(&d->http, j);
		if (rc == 0 && db_run_get(txn, &d->db, j->run_id, &run) == 0 &&
		    run.state == RUN_RUNNING &&
		    run.attempts == j->attempt)
			rc = run_interrupted(d, txn, &run, j->started_us,
			    &j->out);
		log_info("run %s: attempt %d interrupted by the stop", j->run_id,
		    j->attempt);
		job_release(j);
		d->active--;
	}
	if (rc != 0)
		mdb_txn_abort(txn);
	else
		rc = commit_synced(d, txn);
	if (rc != 0)
		log_warn("cannot record the interrupted attempts: %s; the "
		    "next start does", rc == -1 ? "damaged record" :
		    db_strerror(rc));
}

/* Run and wake hints: read them all; the due index says what to do. */
static int
drain_hints(struct dispatcher *d)
{
	struct msg_hint h;
	zmq_msg_t part;
	struct msg m;
	const char *why;
	int n = 0;

	for (;;) {
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, d->in, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&part);
			return n;
		}
		if (msg_decode(zmq_msg_data(&part), zmq_msg_size(&part), &m,
		    &why) == -1)
			log_warn("dropped a malformed message: %s", why);
		else {
			switch (m.type) {
			case MSG_RUN:
			case MSG_WAKE:
				if (msg_hint_unpack(&m, &h, &why) == 0)
					n++;
				else
					log_warn("dropped a malformed %s hint: "
					    "%s", msg_type_name(m.type), why);
				break;
			default:
				log_warn("dropped an unexpected %s message",
				    msg_type_name(m.type));
				break;
			}
			msg_free(&m);
		}
		zmq_msg_close(&part);
	}
}

static void
loop(struct dispatcher *d)
{
	zmq_pollitem_t *items;
	int64_t stop_at = 0, next_tick = mono_ms() + TICK_MS;
	int running = 1, i;

	items = calloc((size_t)(4 + 3 * d->njobs + HTTPC_SOCKS_MAX),
	    sizeof(*items));
	if (items == NULL)
		fatal(EXIT_TEMPORARY, "out of memory");
	/* The gauges from the start, not a second later. */
	metrics_set(M_DISPATCHER_ACTIVE, NULL, NULL, jobs_running(d));
	gauges(d);
	for (;;) {
		int n = 0, nhttp, ready, map[3 * 1024 + 4];
		long timeout = (long)(next_tick - mono_ms());
		int64_t ht = httpc_timeout(&d->http);

		items[n++] = (zmq_pollitem_t){ d->in, 0, ZMQ_POLLIN, 0 };
		items[n++] = (zmq_pollitem_t){ NULL, d->st.sig_fd, ZMQ_POLLIN,
		    0 };
		items[n++] = (zmq_pollitem_t){ NULL, d->chld_fd, ZMQ_POLLIN, 0 };
		items[n++] = (zmq_pollitem_t){ d->tap.sock, 0, ZMQ_POLLIN, 0 };
		for (i = 0; i < d->njobs; i++) {
			struct job *j = &d->jobs[i];

			if (!j->used || j->done)
				continue;
			if (j->pidfd >= 0) {
				map[n] = i;
				items[n++] = (zmq_pollitem_t){ NULL, j->pidfd,
				    ZMQ_POLLIN, 0 };
			}
			if (j->out_fd >= 0) {
				map[n] = i;
				items[n++] = (zmq_pollitem_t){ NULL, j->out_fd,
				    ZMQ_POLLIN, 0 };
			}
			if (j->in_fd >= 0) {
				map[n] = i;
				items[n++] = (zmq_pollitem_t){ NULL, j->in_fd,
				    ZMQ_POLLOUT, 0 };
			}
			if (j->deadline_ms - mono_ms() < timeout)
				timeout = (long)(j->deadline_ms - mono_ms());
		}
		nhttp = n;
		n += httpc_poll_items(&d->http, items + n, HTTPC_SOCKS_MAX);
		if (ht >= 0 && ht < timeout)
			timeout = (long)ht;
		if (jobs_running(d) < (int)d->cfg.concurrency &&
		    d->next_due_us != INT64_MAX) {
			int64_t until = (d->next_due_us - now_us()) / 1000 + 1;

			if (until < timeout)
				timeout = (long)until;
		}
		if (timeout < 0)
			timeout = 0;
		if ((ready = zmq_poll(items, n, timeout)) == -1 &&
		    errno != EINTR)
			fatal(EXIT_TEMPORARY, "zmq_poll: %s",
			    zmq_strerror(errno));
		if (stage_pass(&d->st, ready > 0 || jobs_running(d) > 0))
			db_unmap_read(&d->db);
		if (items[3].revents & ZMQ_POLLIN)
			tap_poll(&d->tap);
		if (items[2].revents & ZMQ_POLLIN) {
			struct signalfd_siginfo si;

			while (read(d->chld_fd, &si, sizeof(si)) > 0)
				;
			for (i = 0; i < d->njobs; i++)
				if (d->jobs[i].used && d->jobs[i].pid > 0)
					exec_reap(&d->jobs[i]);
		}
		if ((items[0].revents & ZMQ_POLLIN) && drain_hints(d) > 0)
			d->next_due_us = 0;
		if ((items[1].revents & ZMQ_POLLIN) && stage_signal(&d->st) &&
		    running) {
			running = 0;
			stop_at = mono_ms() + STOP_GRACE_MS;
			log_info("stopping: waiting for %d running attempts",
			    d->active);
		}
		for (i = nhttp; i < n; i++)
			if (items[i].revents != 0)
				httpc_ready(&d->http, items[i].fd,
				    items[i].revents);
		httpc_run(&d->http);
		for (i = 4; i < nhttp; i++) {
			struct job *j = &d->jobs[map[i]];

			if (items[i].revents == 0 || !j->used)
				continue;
			if (items[i].fd == j->pidfd)
				exec_reap(j);
			else if (items[i].fd == j->out_fd)
				exec_read(j);
			else if (items[i].fd == j->in_fd)
				exec_write(j);
		}
		check_deadlines(d);
		for (i = 0; i < d->njobs; i++)
			if (d->jobs[i].used)
				exec_check_done(&d->jobs[i]);
		if (!running) {
			pass(d, 0);
			if (d->active == 0)
				break;
			if (mono_ms() >= stop_at) {
				requeue_running(d);
				break;
			}
			continue;
		}
		if (mono_ms() >= next_tick) {
			metrics_set(M_DISPATCHER_ACTIVE, NULL, NULL,
			    jobs_running(d));
			gauges(d);
			d->next_due_us = 0;
			db_reader_check(&d->db);
			jwks_tick(&d->cfg);
			life_tick();
			if (integ_refresh(&d->integs, &d->integ_stamp, &d->cfg,
			    warn_integ))
				log_info("definitions changed: %d integrations "
				    "loaded", d->integs.n);
			next_tick = mono_ms() + TICK_MS;
		}
		pass(d, 1);
		if (d->next_due_us == 0) {
			MDB_txn *txn = db_begin(&d->db, DB_RUNS, 1);

			d->next_due_us = INT64_MAX;
			if (txn != NULL) {
				d->next_due_us = db_due_next(txn, &d->db);
				mdb_txn_abort(txn);
			}
		}
	}
	free(items);
}

int
main(int argc, char **argv)
{
	struct dispatcher *d = calloc(1, sizeof(*d));
	char err[1024];
	int i;

	if (d == NULL)
		return EXIT_TEMPORARY;
	stage_init(&d->st, "dispatcher", argc, argv, &d->cfg, usage);
	metrics_open(&d->cfg, "dispatcher");
	if (http_init(&d->http) == -1)
		fatal(EXIT_TEMPORARY, "cannot initialise libcurl");
	/* It advances runs; it reads workflows and subscriptions (and
	 * unseals what actions need) and the events runs are made of. */
	if ((i = db_open(&d->db, &d->cfg, DB_PART(DB_CONFIG) |
	    DB_PART(DB_EVENTS) | DB_PART(DB_RUNS), 0, err, sizeof(err))) != 0)
		fatal(i == DB_ESCHEMA ? EXIT_PERMANENT : EXIT_TEMPORARY, "%s",
		    err);
	/* Its commits are synced by commit_synced(), the meta page's
	 * write waited for after db/runs' writer lock is let go: the
	 * router's commits wait for one disk write of ours, not two. */
	db_sync_pages_only(&d->db, DB_RUNS);
	/* Twice the actions that may run at once: the jobs of attempts
	 * that ended wait for the pass that records them, which claims
	 * their successors in the same transaction. */
	d->njobs = 2 * (int)d->cfg.concurrency;
	if ((d->jobs = calloc((size_t)d->njobs, sizeof(*d->jobs))) == NULL)
		fatal(EXIT_TEMPORARY, "out of memory");
	{
		sigset_t chld;

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		if ((d->chld_fd = signalfd(-1, &chld, SFD_NONBLOCK |
		    SFD_CLOEXEC)) == -1)
			fatal(EXIT_TEMPORARY, "signalfd: %s", strerror(errno));
	}
	for (i = 0; i < d->njobs; i++)
		d->jobs[i].in_fd = d->jobs[i].out_fd = d->jobs[i].pidfd = -1;
	if ((d->zctx = zmq_ctx_new()) == NULL ||
	    (d->in = zs_socket(d->zctx, ZMQ_PULL, 0)) == NULL)
		fatal(EXIT_TEMPORARY, "zmq: %s", zmq_strerror(errno));
	if (zs_bind(d->in, &d->cfg, EP_DISPATCHER, err, sizeof(err)) == -1 ||
	    tap_open(&d->tap, d->zctx, &d->cfg, "dispatcher", err,
	    sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);
	d->integ_stamp = integ_stamp(&d->cfg);
	d->integs.slim = 1;
	integ_load_all(&d->integs, &d->cfg, warn_integ);
	recover_running(d);
	if (cluster_enabled() && (i = cluster_connect_later(&d->cl,
	    "hookpipe-dispatcher", err, sizeof(err))) != 0)
		fatal(i == 100 ? EXIT_PERMANENT : EXIT_TEMPORARY, "cluster: %s",
		    err);
	stage_ready(&d->st, &d->cfg);
	loop(d);
	log_info("stopping: %llu attempts succeeded, %llu failed",
	    (unsigned long long)d->succeeded, (unsigned long long)d->failed);
	tap_close(&d->tap);
	zmq_close(d->in);
	for (i = 0; i < d->nzmq; i++) {
		zmq_close(d->zmq_out[i].sock);
		free(d->zmq_out[i].endpoint);
	}
	zmq_ctx_term(d->zctx);
	httpc_cleanup(&d->http);
	cluster_close(&d->cl);
	free(d->jobs);
	integ_free_all(&d->integs);
	db_close(&d->db);
	stage_exit(&d->st, &d->cfg);
	free(d);
	return 0;
}
