/*
 * hookpipe-router: turns stored events into runs. It follows the event
 * log (the verifier's, in db/events) from its cursor, the last event it
 * routed; for each event it finds the trigger nodes of its (subscription,
 * event type), and for every published workflow among them (or one in
 * the listening state of `workflow test`) it writes a queued run. The
 * runs and the cursor move in one transaction of db/runs, and a run's id
 * is derived from its event and workflow: a crash redoes whole events,
 * and routing one twice creates nothing twice.
 *
 *	verifier --PUSH/PULL--> router --PUSH/PULL--> dispatcher
 *
 * Messages are hints; the log is the truth, read at start, on every hint
 * and on every tick.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "db.h"
#include "integ.h"
#include "jqpool.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "rcluster.h"
#include "sandbox.h"
#include "stage.h"
#include "zsock.h"

#define BATCH_MAX	512
#define TICK_MS		1000
#define SLICE_MS	200	/* of routing a backlog, between two looks at
				   signals and hints */
#define MATCH_MAX	64
#define PRUNE_EVERY_MS	60000
#define PRUNE_BATCH	1000
#define SWEEP_MS	5000	/* cluster mode: the marks looked at */
#define SWEEP_SLOTS	256	/* of this host's marks, at a time */

struct router {
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;
	void		*zctx;
	void		*in;		/* PULL: events from the verifier */
	void		*out;		/* PUSH: runs to the dispatcher */
	struct tap	 tap;
	struct jqpool	 jq;		/* filters and maps */
	uint64_t	 routed, runs;
	struct rcl	*cl;		/* cluster mode: the consumer group */
};

struct ids {
	char	 id[BATCH_MAX][UUID_LEN + 1];
	int	 n;
};

struct matches {
	char	 wf[MATCH_MAX][2 * NAME_MAX_LEN + 2];
	int	 n;
};

static const char usage[] =
    "Matches stored events to workflow triggers and queues runs.\n"
    "Started by hookpipectl.\n";

static int
collect_match(void *arg, const char *key, size_t n)
{
	struct matches *m = arg;
	int i;

	if (n >= sizeof(m->wf[0]) || m->n == MATCH_MAX)
		return 0;
	/* One run per workflow, however many of its triggers match. */
	for (i = 0; i < m->n; i++)
		if (strlen(m->wf[i]) == n && memcmp(m->wf[i], key, n) == 0)
			return 0;
	memcpy(m->wf[m->n], key, n);
	m->wf[m->n++][n] = '\0';
	return 0;
}

static void
tap_route(struct router *r, const struct event_rec *ev, const char *wf,
    const char *run_id, const char *why)
{
	json_t *o;

	if (!tap_active(&r->tap))
		return;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "stage", "router",
	    "message", run_id ? "run" : "skip", "event_id", ev->id, "type",
	    ev->type, "subscription", ev->sub);
	if (wf != NULL)
		json_object_set_new(o, "workflow", json_string(wf));
	if (run_id != NULL)
		json_object_set_new(o, "run_id", json_string(run_id));
	if (why != NULL)
		json_object_set_new(o, "reason", json_string(why));
	tap_publish(&r->tap, o, NULL);
}

/*
 * Routing runs in three steps, so that no jq program ever runs inside a
 * write transaction (a slow one would hold LMDB's writer lock, which the
 * verifier needs to answer senders):
 *
 *	plan	 read transactions: the events after the cursor, the workflows whose
 *		 triggers match them, the triggers' filter and map programs
 *	evaluate no transaction: the programs, in hookpipe-jq workers with a
 *		 time and memory budget each
 *	write	 one write transaction: the runs, and the events routed
 *
 * What changed between plan and write (a workflow deleted, a test that
 * caught another event) is checked again in the write step.
 */
#define PLAN_PAYLOAD_MAX (32u << 20)	/* payloads a plan keeps, bytes */
/* Workflows with programs a plan evaluates: a batch of slow programs
 * (each up to its budget) stays short enough for a stop to be prompt. */
#define PLAN_PROGRAMS_MAX 64

struct wf_plan {
	char		 ws[NAME_MAX_LEN + 1];
	char		 name[NAME_MAX_LEN + 1];
	int		 test;		/* a listening `workflow test` */
	int64_t		 listen_until;
	int64_t		 retries;
	int		 ntrig;
	struct trigger	 trig[TRIGGERS_MAX];	/* filter, map: owned */
	/* The evaluation's outcome. */
	int		 fires;
	char		*inputs;	/* a map's result */
	char		 failed[512];	/* a trigger over its jq budget */
	int		 created;	/* its run was written */
	int		 elsewhere;	/* cluster mode: another host's run */
	int		 claimed;	/* cluster mode: claimed here now */
};

struct ev_plan {
	struct event_rec ev;		/* payload kept when programs need it */
	int		 stored;	/* to route (else ignored: only passed) */
	int		 nwf;
	struct wf_plan	*wf;
};

struct plan {
	struct ev_plan	 e[BATCH_MAX];
	int		 n;
	size_t		 payload_bytes;
	uint64_t	 last;		/* the seq the cursor moves to */
	int		 full;		/* stopped early: more to read */
	int		 programs;	/* workflows with programs planned */
	int		 fetched;	/* cluster mode: events from the
					   consumer group, not the cursor's */
	/* Read transactions of the plan step. */
	MDB_txn		*ctxn, *rtxn;
	struct router	*r;
	int		 rc;
};

static void
plan_free(struct plan *p)
{
	int i, j, k;

	for (i = 0; i < p->n; i++) {
		for (j = 0; j < p->e[i].nwf; j++) {
			struct wf_plan *w = &p->e[i].wf[j];

			for (k = 0; k < w->ntrig; k++) {
				free(w->trig[k].filter);
				free(w->trig[k].map);
			}
			free(w->inputs);
		}
		free(p->e[i].wf);
		event_free(&p->e[i].ev);
	}
	p->n = 0;
	p->payload_bytes = 0;
}

static int
has_programs(const struct wf_plan *w)
{
	int k;

	for (k = 0; k < w->ntrig; k++)
		if ((w->trig[k].filter && w->trig[k].filter[0]) ||
		    (w->trig[k].map && w->trig[k].map[0]))
			return 1;
	return 0;
}

/* Plan one workflow for the event: 0, or an LMDB code. */
static int
plan_wf(struct router *r, MDB_txn *txn, MDB_txn *rtxn, struct ev_plan *e,
    const char *key)
{
	char ws[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
	const char *slash = strchr(key, '/');
	struct wf_plan *w;
	struct wf_rec wf;
	int rc, i, test;

	if (slash == NULL || (size_t)(slash - key) > NAME_MAX_LEN ||
	    strlen(slash + 1) > NAME_MAX_LEN)
		return 0;
	memcpy(ws, key, (size_t)(slash - key));
	ws[slash - key] = '\0';
	str_copy(name, slash + 1, sizeof(name));
	if ((rc = db_wf_get(txn, &r->db, ws, name, &wf)) != 0)
		return rc == MDB_NOTFOUND || rc == DB_EDAMAGED ? 0 : rc;
	/* Drafts run only for a listening `workflow test`, once: the first
	 * event it catches ends it (recorded in the runs part). */
	test = wf.listen_until > now_us() && db_test_caught(rtxn, &r->db, ws,
	    name) != wf.listen_until;
	if ((strcmp(wf.state, "published") != 0 || wf.disabled) && !test) {
		tap_route(r, &e->ev, key, NULL, wf.disabled ? "disabled" :
		    "draft");
		wf_free(&wf);
		return 0;
	}
	w = &e->wf[e->nwf++];
	memset(w, 0, sizeof(*w));
	str_copy(w->ws, ws, sizeof(w->ws));
	str_copy(w->name, name, sizeof(w->name));
	w->test = test;
	w->listen_until = wf.listen_until;
	w->retries = wf.retries;
	for (i = 0; i < wf.ntrig; i++) {
		struct trigger *t = &wf.trig[i];

		if (strcmp(t->sub, e->ev.sub) != 0 ||
		    !integ_event_matches(t->event, e->ev.type))
			continue;
		w->trig[w->ntrig] = *t;
		w->trig[w->ntrig].filter = t->filter ? strdup(t->filter) : NULL;
		w->trig[w->ntrig++].map = t->map ? strdup(t->map) : NULL;
	}
	wf_free(&wf);
	return 0;
}

/* One event of the log into the plan. */
static int
plan_event(void *arg, struct event_rec *ev)
{
	struct plan *p = arg;
	struct ev_plan *e = &p->e[p->n];
	struct router *r = p->r;
	struct matches m;
	int j, need_payload = 0;

	if (p->payload_bytes > PLAN_PAYLOAD_MAX ||
	    p->programs >= PLAN_PROGRAMS_MAX) {
		p->full = 1;	/* the rest in the next batch */
		return 1;
	}
	memset(e, 0, sizeof(*e));
	e->ev = *ev;
	ev->payload = NULL;	/* the plan owns them now */
	ev->headers = NULL;
	p->n++;
	p->last = e->ev.seq;
	/* Cluster mode: every event, whichever host stored it, comes
	 * through the consumer group (route_fetched), not the cursor. */
	if (e->ev.state != EV_STORED || (e->ev.remote && !p->fetched) ||
	    (r->cl != NULL && !p->fetched))
		return 0;
	e->stored = 1;
	m.n = 0;
	if ((p->rc = db_trigger_match(p->ctxn, &r->db, e->ev.sub, e->ev.type,
	    collect_match, &m)) != 0)
		return 1;
	if (m.n == 0)
		tap_route(r, &e->ev, NULL, NULL, "no trigger");
	if (m.n > 0 && (e->wf = calloc((size_t)m.n, sizeof(*e->wf))) == NULL) {
		p->rc = ENOMEM;
		return 1;
	}
	for (j = 0; j < m.n && p->rc == 0; j++)
		p->rc = plan_wf(r, p->ctxn, p->rtxn, e, m.wf[j]);
	for (j = 0; j < e->nwf; j++)
		if (has_programs(&e->wf[j])) {
			need_payload = 1;
			p->programs++;
		}
	if (!need_payload) {
		free(e->ev.payload);
		e->ev.payload = NULL;
	} else
		p->payload_bytes += e->ev.payload_len;
	return p->rc != 0;
}

/*
 * Step one: the events after the cursor, what they match. Read
 * transactions of all three parts; 0 or an LMDB code.
 */
static int
plan_batch(struct router *r, struct plan *p)
{
	MDB_txn *etxn;
	uint64_t cursor;
	int rc;

	p->r = r;
	p->rc = 0;
	p->full = 0;
	p->programs = 0;
	if ((p->rtxn = db_begin(&r->db, DB_RUNS, 1)) == NULL)
		return EIO;
	if ((p->ctxn = db_begin(&r->db, DB_CONFIG, 1)) == NULL) {
		mdb_txn_abort(p->rtxn);
		return EIO;
	}
	if ((etxn = db_begin(&r->db, DB_EVENTS, 1)) == NULL) {
		mdb_txn_abort(p->ctxn);
		mdb_txn_abort(p->rtxn);
		return EIO;
	}
	cursor = db_cursor(p->rtxn, &r->db);
	p->last = cursor;
	rc = db_log_each(etxn, &r->db, cursor, BATCH_MAX, plan_event, p);
	if (rc == 0)
		rc = p->rc;
	mdb_txn_abort(etxn);
	mdb_txn_abort(p->ctxn);
	mdb_txn_abort(p->rtxn);
	if (p->n == BATCH_MAX)
		p->full = 1;
	return rc;
}

/*
 * Step two, for one workflow: does one of its triggers fire? A filter
 * must give a truthy first result; a map makes the inputs. A program
 * that fails counts as no match, and is logged; one stopped at its
 * budget fails that trigger, with the reason kept for a dead run if no
 * other trigger fires.
 */
static void
evaluate(struct router *r, int worker, const struct event_rec *ev,
    struct wf_plan *w)
{
	char err[512];
	int i, rc;

	for (i = 0; i < w->ntrig && !w->fires; i++) {
		const struct trigger *t = &w->trig[i];

		free(w->inputs);
		w->inputs = NULL;
		err[0] = '\0';
		rc = 1;
		if (t->filter != NULL && t->filter[0] != '\0')
			rc = jqpool_eval_on(&r->jq, worker, JQPOOL_FILTER,
			    t->filter,
			    (const char *)ev->payload, ev->payload_len, NULL,
			    err, sizeof(err));
		if (rc == 1 && t->map != NULL && t->map[0] != '\0') {
			rc = jqpool_eval_on(&r->jq, worker, JQPOOL_MAP,
			    t->map,
			    (const char *)ev->payload, ev->payload_len,
			    &w->inputs, err, sizeof(err));
			if (rc != JQ_ERROR && rc != JQ_BUDGET &&
			    w->inputs == NULL) {
				rc = JQ_ERROR;
				snprintf(err, sizeof(err), "no result");
			} else if (rc == 0)
				rc = 1;	/* a map may give false or null */
		}
		if (rc == JQ_BUDGET) {
			snprintf(w->failed, sizeof(w->failed), "the %s of a "
			    "trigger was %s", t->map && t->map[0] &&
			    !(t->filter && t->filter[0] && !w->inputs) ?
			    "map" : "filter", err);
			log_warn("workflow %s: event %s: %s", w->name, ev->id,
			    w->failed);
		} else if (rc == JQ_ERROR)
			log_info("workflow %s: %s on event %s: %s", w->name,
			    t->map && t->map[0] ? "map" : "filter", ev->id,
			    err);
		w->fires = rc == 1;
	}
	if (!w->fires) {
		free(w->inputs);
		w->inputs = NULL;
	}
}

/* A run id that is new, and queued (or dead with a reason). */
static int
put_run(struct router *r, MDB_txn *txn, const struct event_rec *ev,
    struct wf_plan *w, struct ids *runs)
{
	struct run_rec run;
	int64_t now = now_us();
	int rc;

	memset(&run, 0, sizeof(run));
	run_id_for(ev, w->ws, w->name, run.id);
	str_copy(run.workspace, w->ws, sizeof(run.workspace));
	str_copy(run.workflow, w->name, sizeof(run.workflow));
	str_copy(run.event_id, ev->id, sizeof(run.event_id));
	run.event_seq = ev->seq;
	/* A `workflow test` waits for its one attempt: no retries behind
	 * it that outlive the command. */
	run.max_attempts = w->test ? 1 : w->retries + 1;
	run.created_at = run.updated_at = run.next_at = now;
	run.test = w->test;
	if (w->fires)
		run.state = RUN_QUEUED;
	else {
		run.state = RUN_DEAD;
		str_copy(run.last_error, w->failed, sizeof(run.last_error));
	}
	/* Routed before (a crash between the run and the cursor cannot
	 * happen: one transaction; but a replayed log can): nothing new. */
	if ((rc = db_run_put(txn, &r->db, &run, NULL)) == MDB_KEYEXIST)
		return 0;
	w->created = rc == 0;
	if (rc != 0 ||
	    (w->inputs != NULL && (rc = db_run_inputs_put(txn, &r->db, run.id,
	    w->inputs)) != 0))
		return rc;
	if (w->fires && runs->n < BATCH_MAX)
		memcpy(runs->id[runs->n++], run.id, UUID_LEN + 1);
	tap_route(r, ev, w->name, run.id, w->fires ? NULL : w->failed);
	log_debug("event %s -> run %s of %s/%s", ev->id, run.id, w->ws,
	    w->name);
	return 0;
}

/* Step three, for one workflow of an event. */
static int
write_wf(struct router *r, MDB_txn *txn, const struct event_rec *ev,
    struct wf_plan *w, struct ids *runs)
{
	int rc;

	if (!w->fires && w->failed[0] == '\0') {
		tap_route(r, ev, w->name, NULL, "filter");
		return 0;
	}
	if (w->elsewhere) {
		tap_route(r, ev, w->name, NULL, "another host");
		return 0;
	}
	if (w->test) {
		/* Not caught by another event of this batch meanwhile? */
		if (db_test_caught(txn, &r->db, w->ws, w->name) ==
		    w->listen_until)
			return 0;
		if ((rc = db_test_catch(txn, &r->db, w->ws, w->name,
		    w->listen_until)) != 0)
			return rc;
	}
	return put_run(r, txn, ev, w, runs);
}

static void
hint_dispatcher(struct router *r, const char *run_id)
{
	struct mpw w;

	mpw_init(&w);
	msg_hint_pack(&w, MSG_RUN, run_id);
	zs_send(r->out, w.sb.data, w.sb.size, 0);
	mpw_free(&w);
}

/* Step three: the runs and the cursor, in one transaction of db/runs. */
static int
write_batch(struct router *r, struct plan *p, struct ids *runs)
{
	MDB_txn *txn;
	int i, j, rc = 0;

	if ((txn = db_begin(&r->db, DB_RUNS, 0)) == NULL)
		return EIO;
	for (i = 0; i < p->n && rc == 0; i++) {
		struct ev_plan *e = &p->e[i];

		for (j = 0; j < e->nwf && rc == 0; j++)
			rc = write_wf(r, txn, &e->ev, &e->wf[j], runs);
	}
	if (rc == 0 && !p->fetched)
		rc = db_cursor_put(txn, &r->db, p->last);
	if (rc == 0)
		return db_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}

/*
 * Step two for a whole batch: the workflows with programs evaluated on
 * the pool's workers side by side, a thread per worker, each taking the
 * next workflow as it is done with one (the programs of one workflow
 * run in order: a map after its filter, a trigger after the one before
 * did not fire). The others fire when they have a trigger.
 */
struct eval_job {
	struct ev_plan	*e;
	struct wf_plan	*w;
};

struct eval_lane {
	struct router	*r;
	struct eval_job	*jobs;
	int		 n;
	int		*next;		/* the next job, shared */
	int		 worker;
};

static void *
eval_lane(void *arg)
{
	struct eval_lane *l = arg;
	int k;

	while ((k = __atomic_fetch_add(l->next, 1, __ATOMIC_RELAXED)) < l->n)
		evaluate(l->r, l->worker, &l->jobs[k].e->ev, l->jobs[k].w);
	return NULL;
}

static void
evaluate_batch(struct router *r, struct plan *p)
{
	struct eval_lane lane[JQPOOL_WORKERS];
	pthread_t tid[JQPOOL_WORKERS];
	struct eval_job *jobs;
	struct wf_plan *w;
	int i, j, n = 0, next = 0, started[JQPOOL_WORKERS];

	for (i = 0; i < p->n; i++)
		for (j = 0; j < p->e[i].nwf; j++) {
			w = &p->e[i].wf[j];
			if (has_programs(w))
				n++;
			else
				w->fires = w->ntrig > 0;
		}
	if (n == 0)
		return;
	if (n == 1 || (jobs = calloc((size_t)n, sizeof(*jobs))) == NULL) {
		for (i = 0; i < p->n; i++)
			for (j = 0; j < p->e[i].nwf; j++)
				if (has_programs(&p->e[i].wf[j]))
					evaluate(r, 0, &p->e[i].ev,
					    &p->e[i].wf[j]);
		return;
	}
	for (i = 0, n = 0; i < p->n; i++)
		for (j = 0; j < p->e[i].nwf; j++)
			if (has_programs(&p->e[i].wf[j])) {
				jobs[n].e = &p->e[i];
				jobs[n++].w = &p->e[i].wf[j];
			}
	for (i = 0; i < JQPOOL_WORKERS; i++) {
		lane[i] = (struct eval_lane){ r, jobs, n, &next, i };
		started[i] = 0;
	}
	/* One lane on this thread, the others on threads of their own (one
	 * that cannot start leaves its share to the rest). */
	for (i = 1; i < JQPOOL_WORKERS && i < n; i++)
		started[i] = pthread_create(&tid[i], NULL, eval_lane,
		    &lane[i]) == 0;
	eval_lane(&lane[0]);
	for (i = 1; i < JQPOOL_WORKERS; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	free(jobs);
}

/* The runs a committed batch made, for the metrics. */
static void
count_runs(struct plan *p)
{
	int i, j;

	for (i = 0; i < p->n; i++)
		for (j = 0; j < p->e[i].nwf; j++)
			if (p->e[i].wf[j].created)
				metrics_add(M_RUNS, p->e[i].wf[j].name,
				    p->e[i].wf[j].fires ? "queued" : "dead", 1);
}

/*
 * Route the events after the cursor, a batch at a time, for at most
 * SLICE_MS: 1 when more wait (a backlog, after a stop), 0 when none.
 */
static int
route_pending(struct router *r)
{
	static struct plan p;
	static struct ids runs;
	int64_t end = mono_ms() + SLICE_MS;
	int rc, n, more;

	do {
		runs.n = 0;
		rc = plan_batch(r, &p);
		if (rc == 0)
			evaluate_batch(r, &p);
		if (rc == 0 && p.n > 0 && (rc = write_batch(r, &p, &runs)) ==
		    MDB_MAP_FULL && db_grow(&r->db, DB_RUNS) == 0)
			rc = write_batch(r, &p, &runs);
		n = p.n;
		more = p.full;
		if (rc == 0)
			count_runs(&p);
		plan_free(&p);
		if (rc != 0) {
			/* Nothing was written: the next tick redoes it. */
			log_warn("cannot route %d events: %s", n,
			    db_strerror(rc));
			return 0;
		}
		r->routed += (uint64_t)n;
		r->runs += (uint64_t)runs.n;
		metrics_add(M_EVENTS_ROUTED, NULL, NULL, (uint64_t)n);
		/* The dispatcher starts every due run on a hint: one per
		 * batch is enough. */
		if (runs.n > 0)
			hint_dispatcher(r, runs.id[runs.n - 1]);
	} while (more && n > 0 && mono_ms() < end);
	return more && n > 0;
}

/* The claims of an event whose runs were not written, given up. */
static void
unclaim_event(struct router *r, struct ev_plan *e)
{
	char id[UUID_LEN + 1];
	int j;

	for (j = 0; j < e->nwf; j++)
		if (e->wf[j].claimed) {
			run_id_for(&e->ev, e->wf[j].ws, e->wf[j].name, id);
			cluster_run_unclaim(&r->cl->c, id);
			e->wf[j].claimed = 0;
		}
}

/*
 * Cluster mode: the run ids the plan would create, claimed cluster-wide
 * before the write. An event one of whose runs another host claimed is
 * that host's: it routed the event before and died before acknowledging
 * it, and may have created the runs (in its own runs database). Its
 * message is given back, to reach that host again (when it is back);
 * the claims made here now are given up, so that it routes the event
 * whole. So is an event whose claims cannot be made now.
 */
static void
claim_runs(struct router *r, struct plan *p, int *retry, int *other)
{
	char id[UUID_LEN + 1], err[1024], owner[CLUSTER_HOST_LEN];
	int i, j, k;

	for (i = 0; i < p->n; i++) {
		struct ev_plan *e = &p->e[i];

		retry[i] = other[i] = 0;
		for (j = 0; j < e->nwf && !retry[i]; j++) {
			struct wf_plan *w = &e->wf[j];

			if (!w->fires && w->failed[0] == '\0')
				continue;
			run_id_for(&e->ev, w->ws, w->name, id);
			switch (cluster_run_claim(&r->cl->c, id, owner,
			    sizeof(owner), err, sizeof(err))) {
			case CLUSTER_NEW:
				w->claimed = 1;
				break;
			case CLUSTER_MINE:
				break;
			case CLUSTER_DUP:
				log_debug("cluster: event %s: run %s is "
				    "another host's: given back", e->ev.id, id);
				retry[i] = RCL_OTHER_MS;
				other[i] = 1;
				break;
			case CLUSTER_DOWN:
				/* Said once a minute: it may last. */
				if (mono_ms() >= r->cl->down_warn) {
					log_warn("cluster: event %s waits for "
					    "host %s, which claimed its run %s "
					    "and is down: it is routed when "
					    "that host is back (if it is gone "
					    "for good: hookpipe cluster forget "
					    "HOST)", e->ev.id, owner, id);
					r->cl->down_warn = mono_ms() + 60000;
				}
				retry[i] = RCL_OTHER_MS;
				break;
			default:
				log_warn("cluster: event %s: %s (routed "
				    "later)", e->ev.id, err);
				retry[i] = 1000;
				break;
			}
		}
		if (!retry[i])
			continue;
		for (k = 0; k < e->nwf; k++)
			e->wf[k].elsewhere = 1;
		unclaim_event(r, e);
	}
}

/* An event of the plan has runs to write (or written before). */
static int
has_runs(const struct ev_plan *e)
{
	int j;

	for (j = 0; j < e->nwf; j++)
		if (e->wf[j].fires || e->wf[j].failed[0] != '\0')
			return 1;
	return 0;
}

/* This host's marks in use, listed once (at the first batch or sweep):
 * 0, or -1. */
static int
marks_list(struct rcl *q)
{
	char err[1024];
	json_t *a, *v;
	size_t i;
	int slot;

	if (q->marks_known)
		return 0;
	if ((a = cluster_marks(&q->c, NULL, 0, err, sizeof(err))) == NULL) {
		log_debug("cluster: %s", err);
		return -1;
	}
	json_array_foreach(a, i, v) {
		slot = (int)json_integer_value(json_object_get(v, "slot"));
		if (slot >= 0 && slot < RCL_MARK_SLOTS)
			q->used[slot] = 1;
	}
	json_decref(a);
	q->marks_known = 1;
	return 0;
}

/*
 * Cluster mode: before its runs are written, the batch's events that
 * have some are put in one of this host's marks (cluster_mark_key), the
 * one the batches before were put in while it is short, else a free
 * one; sweep_marks takes them out as their runs end here. A host that
 * is forgotten leaves its marks to the other hosts, which route those
 * events again. 0, or -1 (nothing is written then).
 */
static int
mark_batch(struct router *r, struct plan *p, const int *retry)
{
	struct rcl *q = r->cl;
	char key[CLUSTER_MARK_KEY_LEN + 1], err[1024], *ids, *w;
	size_t had = q->cur >= 0 && q->cur_ids != NULL ?
	    strlen(q->cur_ids) : 0;
	int i, slot, k;

	if ((ids = malloc(had + 1 + (size_t)p->n * (UUID_LEN + 1) + 1)) ==
	    NULL)
		return -1;
	w = ids;
	for (i = 0; i < p->n; i++)
		if (!retry[i] && has_runs(&p->e[i])) {
			memcpy(w, p->e[i].ev.id, UUID_LEN);
			w += UUID_LEN;
			*w++ = ' ';
		}
	if (w == ids) {
		free(ids);
		return 0;
	}
	w[-1] = '\0';
	if (marks_list(q) == -1) {
		log_warn("cluster: %d events not routed now: this host's "
		    "marks cannot be listed", p->n);
		free(ids);
		return -1;
	}
	if (had > 0 && had + (size_t)(w - ids) <= RCL_MARK_BYTES) {
		/* Added to the current mark: its ids first. */
		memmove(ids + had + 1, ids, (size_t)(w - ids));
		memcpy(ids, q->cur_ids, had);
		ids[had] = ' ';
		slot = q->cur;
	} else {
		for (k = 1, slot = -1; k <= RCL_MARK_SLOTS && slot == -1; k++)
			if (!q->used[(q->cur + k + RCL_MARK_SLOTS) %
			    RCL_MARK_SLOTS])
				slot = (q->cur + k + RCL_MARK_SLOTS) %
				    RCL_MARK_SLOTS;
		if (slot == -1) {
			if (mono_ms() >= q->full_warn) {
				log_warn("cluster: %d marks of this host's "
				    "unfinished runs, each full: routing here "
				    "waits until runs end (other hosts route "
				    "meanwhile)", RCL_MARK_SLOTS);
				q->full_warn = mono_ms() + 60000;
			}
			free(ids);
			return -1;
		}
	}
	cluster_mark_key(&q->c, NULL, slot, key);
	if (cluster_mark_put(&q->c, key, ids, err, sizeof(err)) == -1) {
		log_warn("cluster: %d events not routed now: %s", p->n, err);
		free(ids);
		return -1;
	}
	q->used[slot] = 1;
	q->cur = slot;
	free(q->cur_ids);
	q->cur_ids = ids;
	return 0;
}

/* An event with runs not ended here (queued, running, to retry). */
static int
run_open(void *arg, const struct run_rec *run)
{
	if (!run_is_due(run))
		return 0;
	*(int *)arg = 1;
	return 1;
}

/*
 * One of this host's marks: its events whose runs have all ended here
 * taken out, deleted once none is left. 0, or -1 when NATS did not
 * answer.
 */
static int
sweep_own(struct router *r, MDB_txn *txn, int slot)
{
	struct rcl *q = r->cl;
	char key[CLUSTER_MARK_KEY_LEN + 1], err[1024], *ids, *keep, *w;
	const char *p;
	size_t len;
	int open, rc;

	cluster_mark_key(&q->c, NULL, slot, key);
	if ((rc = cluster_mark_get(&q->c, key, &ids, err, sizeof(err))) ==
	    -1) {
		log_debug("cluster: %s", err);
		return -1;
	}
	if (rc == 0) {
		q->used[slot] = 0;
		return 0;
	}
	if ((keep = malloc(strlen(ids) + 1)) == NULL) {
		free(ids);
		return 0;
	}
	w = keep;
	for (p = ids; *p != '\0'; p += len) {
		char id[UUID_LEN + 1];

		p += strspn(p, " ");
		if ((len = strcspn(p, " ")) == 0)
			break;
		snprintf(id, sizeof(id), "%.*s", (int)len, p);
		open = 0;
		if (len != UUID_LEN || db_run_each_for_event(txn, &r->db, id,
		    run_open, &open) != 0 || !open)
			continue;
		if (w > keep)
			*w++ = ' ';
		memcpy(w, p, len);
		w += len;
	}
	*w = '\0';
	rc = 0;
	if (strcmp(keep, ids) != 0) {
		if (cluster_mark_put(&q->c, key, keep, err, sizeof(err)) ==
		    -1) {
			log_debug("cluster: %s", err);
			rc = -1;
		} else {
			if (keep[0] == '\0')
				q->used[slot] = 0;
			if (slot == q->cur)
				q->cur = -1;	/* the next batch: a new one */
		}
	}
	free(keep);
	free(ids);
	return rc;
}

/*
 * Takeover (HOOKPIPE_CLUSTER_TAKEOVER). Each router beats every SWEEP_MS
 * (cluster_beat), and while its beats get through it renews its host's
 * lease, half the takeover time, which the dispatcher starts no attempt
 * past. A host whose router has not beaten for the takeover time (and
 * twice its own lease) is lost: the other routers take its claims over
 * and route its marks' events again, as for a forgotten host, with a
 * list of the hosts lost no older than LOST_FRESH_MS at each claim. A
 * router whose lease lapsed (or that starts without one) beats for
 * BACK_SETTLE_MS first, so that no router takes anything of its host
 * over any more, then ends the runs of its host that another host took
 * over meanwhile, then renews the lease.
 */
#define LOST_FRESH_MS	(2 * SWEEP_MS)
#define BACK_SETTLE_MS	(3 * SWEEP_MS)

static int
host_lost(void *arg, const char *host)
{
	struct rcl *q = arg;
	json_t *v;
	size_t i;

	if (q->lost == NULL || mono_ms() - q->lost_at > LOST_FRESH_MS)
		return 0;
	json_array_foreach(q->lost, i, v)
		if (strcmp(json_string_value(v), host) == 0)
			return 1;
	return 0;
}

/*
 * This host's runs not ended whose claims another host holds now (it
 * took them over while this one was away): ended here, dead, unless an
 * attempt runs. 0, or -1 (NATS or the database failed: later).
 */
static int
end_taken(struct router *r)
{
	struct run_ids l = { NULL, 0, 0 }, taken = { NULL, 0, 0 };
	char owner[CLUSTER_HOST_LEN], (*owners)[CLUSTER_HOST_LEN] = NULL;
	struct run_rec run, old;
	MDB_txn *txn;
	size_t i;
	int rc = 0, n = 0, got;

	if ((txn = db_begin(&r->db, DB_RUNS, 1)) == NULL)
		return -1;
	db_due_each(txn, &r->db, INT64_MAX, run_ids_add, &l);
	mdb_txn_abort(txn);
	/* Their claims asked first, outside any write. */
	for (i = 0; i < l.n && rc == 0; i++) {
		if ((got = cluster_claim_owner(&r->cl->c, l.id[i], owner,
		    sizeof(owner))) == -1)
			rc = -1;
		else if (got == 1 && strcmp(owner, r->cl->c.host) != 0) {
			void *p = realloc(owners, (taken.n + 1) *
			    sizeof(*owners));

			if (p == NULL || run_ids_add(&taken, l.id[i]) != 0) {
				if (p != NULL)
					owners = p;
				rc = -1;
				break;
			}
			owners = p;
			str_copy(owners[taken.n - 1], owner,
			    sizeof(owners[0]));
		}
	}
	free(l.id);
	if (rc == 0 && taken.n > 0 &&
	    (txn = db_begin(&r->db, DB_RUNS, 0)) == NULL)
		rc = -1;
	for (i = 0; rc == 0 && i < taken.n; i++) {
		if (db_run_get(txn, &r->db, taken.id[i], &run) != 0 ||
		    !run_is_due(&run) || run.state == RUN_RUNNING)
			continue;
		old = run;
		run.state = RUN_DEAD;
		run.updated_at = now_us();
		snprintf(run.last_error, sizeof(run.last_error), "taken over "
		    "by host %s while this host was away (longer than "
		    "HOOKPIPE_CLUSTER_TAKEOVER)", owners[i]);
		if ((rc = db_run_put(txn, &r->db, &run, &old)) == 0)
			n++;
		else
			mdb_txn_abort(txn);
	}
	if (rc == 0 && taken.n > 0 && db_commit(txn) != 0)
		rc = -1;
	free(taken.id);
	free(owners);
	if (rc != 0)
		return -1;
	if (n > 0)
		log_warn("cluster: %d runs of this host were taken over by "
		    "other hosts while it was away: ended here", n);
	return 0;
}

static void
lease_renew(struct router *r)
{
	struct rcl *q = r->cl;
	int64_t lease_s = q->takeover_s / 2, now = now_us();
	char err[1024];
	MDB_txn *txn;

	if (cluster_beat(&q->c, lease_s, err, sizeof(err)) == -1) {
		log_debug("cluster: %s", err);
		q->back_since = 0;	/* the lease lapses by itself */
		return;
	}
	if (q->lease_until < now) {
		if (q->back_since == 0) {
			q->back_since = mono_ms();
			log_info("cluster: no lease: the dispatcher starts no "
			    "attempt for %d s, until the runs other hosts "
			    "took over are ended here", BACK_SETTLE_MS / 1000);
			return;
		}
		if (mono_ms() - q->back_since < BACK_SETTLE_MS ||
		    end_taken(r) == -1)
			return;
		q->back_since = 0;
		log_info("cluster: lease renewed: attempts may start");
	}
	if ((txn = db_begin(&r->db, DB_RUNS, 0)) == NULL)
		return;
	if (db_lease_put(txn, &r->db, now + lease_s * 1000000) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	if (db_commit(txn) == 0)
		q->lease_until = now + lease_s * 1000000;
}

/* The hosts lost: beats older than the takeover time (and twice the
 * host's own lease). */
static void
lost_read(struct rcl *q)
{
	char err[1024];
	json_t *a, *v;
	json_int_t lease, age;
	const char *host;
	size_t i;

	if ((a = cluster_beats(&q->c, err, sizeof(err))) == NULL) {
		log_debug("cluster: %s", err);
		return;
	}
	json_decref(q->lost);
	q->lost = json_array();
	json_array_foreach(a, i, v) {
		host = json_string_value(json_object_get(v, "host"));
		lease = json_integer_value(json_object_get(v, "lease_s"));
		age = json_integer_value(json_object_get(v, "age_ms"));
		if (host == NULL || strcmp(host, q->c.host) == 0 || lease <= 0 ||
		    age < q->takeover_s * 1000 || age < 2 * lease * 1000)
			continue;
		json_array_append_new(q->lost, json_string(host));
	}
	json_decref(a);
	q->lost_at = mono_ms();
}

/*
 * Cluster mode, every SWEEP_MS: this host's marks brought up to date
 * with its runs (SWEEP_SLOTS of them at a time); then, when no orphan
 * is held, the first mark of a forgotten host taken up: its events held
 * as orphans, routed here as the consumer's are (their claims taken
 * over), and the mark deleted once all of them are.
 */
static void
sweep_marks(struct router *r)
{
	struct rcl *q = r->cl;
	char err[1024];
	json_t *a, *v, *m;
	MDB_txn *txn;
	size_t i, j, nforgot;
	int k, n, slot;

	if (q->orph_key[0] != '\0' && q->orph_pending == 0) {
		if (q->orph_failed == 0 && cluster_mark_put(&q->c, q->orph_key,
		    NULL, err, sizeof(err)) == 0) {
			log_info("cluster: %s host %s: %d events of its "
			    "unfinished runs routed here", q->orph_why,
			    q->orph_host, q->orph_n);
			q->next_sweep = 0;	/* its next mark at once */
		}
		q->orph_key[0] = '\0';
	}
	if (mono_ms() < q->next_sweep)
		return;
	q->next_sweep = mono_ms() + SWEEP_MS;
	if (q->takeover_s > 0) {
		lease_renew(r);
		lost_read(q);
	}
	if (q->c.route == NULL)
		return;
	if (marks_list(q) == 0 && (txn = db_begin(&r->db, DB_RUNS, 1)) !=
	    NULL) {
		for (k = n = 0; k < RCL_MARK_SLOTS && n < SWEEP_SLOTS; k++) {
			slot = (q->sweep_at + k) % RCL_MARK_SLOTS;
			if (!q->used[slot])
				continue;
			n++;
			if (sweep_own(r, txn, slot) == -1)
				break;
		}
		q->sweep_at = (q->sweep_at + k) % RCL_MARK_SLOTS;
		mdb_txn_abort(txn);
		for (k = n = 0; k < RCL_MARK_SLOTS; k++)
			n += q->used[k];
		metrics_set(M_QUEUE, "marks", NULL, n);
	}
	if (q->orph_key[0] != '\0' ||
	    (a = cluster_forgotten(&q->c, err, sizeof(err))) == NULL)
		return;
	/* The hosts forgotten, then those lost. */
	nforgot = json_array_size(a);
	json_array_foreach(a, i, v)
		json_array_set(a, i, json_object_get(v, "host"));
	if (q->lost != NULL && mono_ms() - q->lost_at <= LOST_FRESH_MS)
		json_array_extend(a, q->lost);
	json_array_foreach(a, i, v) {
		const char *host = json_string_value(v);
		json_t *marks;

		q->orph_why = i < nforgot ? "forgotten" : "lost";

		if (host == NULL || strcmp(host, q->c.host) == 0 ||
		    (marks = cluster_marks(&q->c, host, 1, err,
		    sizeof(err))) == NULL)
			continue;
		json_array_foreach(marks, j, m)
			if (rcl_orphans(q, host, json_string_value(
			    json_object_get(m, "key")), json_string_value(
			    json_object_get(m, "ids"))) > 0)
				log_info("cluster: %s host %s: routing again "
				    "the %d events of its mark %s", q->orph_why,
				    host, q->orph_n, q->orph_key);
		json_decref(marks);
		if (q->orph_key[0] != '\0')
			break;
	}
	json_decref(a);
}

/*
 * Cluster mode: route what the consumer group gave this host. The held
 * messages whose events the verifier has copied here are planned,
 * evaluated, claimed and written as route_pending does (without the
 * cursor), then acknowledged; the others wait (rcl_expire gives them
 * back after a while). 1 when it routed something, 2 when all it holds
 * wait for their copies (the verifier's hint says when they are here),
 * 0 when nothing waited, -1 when the consumer cannot be reached.
 */
static int
route_fetched(struct router *r)
{
	static struct plan p;
	static struct ids runs;
	static int retry[BATCH_MAX], other[BATCH_MAX];
	struct rcl *q = r->cl;
	struct event_rec ev;
	MDB_txn *etxn;
	int i, k, rc = 0, got, full;

	/* Holding messages, it waits for their copies, not the fetch. */
	if ((got = rcl_fetch(q, q->n > 0 ? 0 : RCL_WAIT_MS)) <= 0)
		return got;
	p.r = r;
	p.rc = 0;
	p.full = 0;
	p.programs = 0;
	p.fetched = 1;
	runs.n = 0;
	if ((p.rtxn = db_begin(&r->db, DB_RUNS, 1)) == NULL)
		return -1;
	if ((p.ctxn = db_begin(&r->db, DB_CONFIG, 1)) == NULL) {
		mdb_txn_abort(p.rtxn);
		return -1;
	}
	if ((etxn = db_begin(&r->db, DB_EVENTS, 1)) == NULL) {
		mdb_txn_abort(p.ctxn);
		mdb_txn_abort(p.rtxn);
		return -1;
	}
	for (i = 0; i < q->n && p.n < BATCH_MAX && !p.full && p.rc == 0;
	    i++) {
		q->h[i].plan = -1;
		if (db_event_get(etxn, &r->db, q->h[i].id, &ev) != 0)
			continue;	/* not copied here yet */
		k = p.n;
		plan_event(&p, &ev);
		if (p.n > k)
			q->h[i].plan = k;
		event_free(&ev);
	}
	for (; i < q->n; i++)
		q->h[i].plan = -1;
	full = p.full;
	rc = p.rc;
	mdb_txn_abort(etxn);
	mdb_txn_abort(p.ctxn);
	mdb_txn_abort(p.rtxn);
	if (rc == 0)
		evaluate_batch(r, &p);
	if (rc == 0 && p.n > 0) {
		claim_runs(r, &p, retry, other);
		if (mark_batch(r, &p, retry) == -1) {
			for (i = 0; i < q->n; i++)
				if ((k = q->h[i].plan) != -1) {
					unclaim_event(r, &p.e[k]);
					rcl_nak(q, i, 1000);
				}
			plan_free(&p);
			rcl_expire(q);
			return 1;
		}
		if ((rc = write_batch(r, &p, &runs)) == MDB_MAP_FULL &&
		    db_grow(&r->db, DB_RUNS) == 0)
			rc = write_batch(r, &p, &runs);
	}
	for (i = 0; i < q->n; i++) {
		if ((k = q->h[i].plan) == -1)
			continue;
		if (rc != 0) {
			unclaim_event(r, &p.e[k]);
			rcl_nak(q, i, 1000);
		} else if (retry[k] && !(other[k] && q->h[i].orphan))
			rcl_nak(q, i, retry[k]);
		else
			rcl_ack(q, i);	/* an orphan another host took
					   over counts as routed */
	}
	if (rc == 0)
		count_runs(&p);
	else
		log_warn("cannot route %d events: %s", p.n, db_strerror(rc));
	k = p.n;
	plan_free(&p);
	/* A full plan (a batch of slow programs): the rest wait for this
	 * router's next pass, not for their event's copy; their hold and
	 * their ack wait start over once the batch is done. */
	for (i = 0; i < q->n && full; i++)
		if (q->h[i].plan == -1 && (q->h[i].msg != NULL ||
		    q->h[i].orphan)) {
			q->h[i].since = mono_ms();
			if (q->h[i].msg != NULL)
				cluster_msg_progress(q->h[i].msg);
		}
	rcl_expire(q);
	if (rc != 0)
		return 1;
	r->routed += (uint64_t)k;
	r->runs += (uint64_t)runs.n;
	metrics_add(M_EVENTS_ROUTED, NULL, NULL, (uint64_t)k);
	if (runs.n > 0)
		hint_dispatcher(r, runs.id[runs.n - 1]);
	return k == 0 && q->n > 0 ? 2 : 1;
}

/*
 * Retention of the runs part: finished runs older than the retention,
 * with their attempts and inputs, a batch per transaction. The verifier
 * prunes the events.
 */
/* Events not routed yet (the log past our cursor), and the runs part. */
static void
gauges(struct router *r)
{
	MDB_txn *etxn, *rtxn;
	uint64_t last, cursor;

	if ((etxn = db_begin(&r->db, DB_EVENTS, 1)) == NULL)
		return;
	if ((rtxn = db_begin(&r->db, DB_RUNS, 1)) != NULL) {
		last = db_log_last(etxn, &r->db);
		cursor = db_cursor(rtxn, &r->db);
		metrics_set(M_QUEUE, "unrouted", NULL, last > cursor ?
		    (int64_t)(last - cursor) : 0);
		mdb_txn_abort(rtxn);
	}
	mdb_txn_abort(etxn);
	metrics_db(&r->db, DB_PART(DB_RUNS));
}

static void
prune(struct router *r)
{
	int64_t cutoff = now_us() - r->cfg.retention_s * 1000000;
	int n, rc, total = 0;
	MDB_txn *txn;

	do {
		if ((txn = db_begin(&r->db, DB_RUNS, 0)) == NULL)
			return;
		n = db_runs_prune(txn, &r->db, cutoff, PRUNE_BATCH, &rc);
		if (n < 0 || (rc = db_commit(txn)) != 0) {
			if (n < 0)
				mdb_txn_abort(txn);
			log_warn("cannot prune old runs: %s", db_strerror(rc));
			return;
		}
		total += n;
	} while (n >= PRUNE_BATCH);
	if (total > 0)
		log_info("pruned %d runs older than the retention", total);
}

/*
 * Hints carry nothing we need but their kind: read them all, then scan
 * the pending events once. A message that is not a hint is logged and
 * dropped.
 */
static int
drain_hints(struct router *r)
{
	struct msg_hint h;
	zmq_msg_t part;
	struct msg m;
	const char *why;
	int n = 0;

	for (;;) {
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, r->in, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&part);
			return n;
		}
		if (msg_decode(zmq_msg_data(&part), zmq_msg_size(&part), &m,
		    &why) == -1)
			log_warn("dropped a malformed message: %s", why);
		else {
			switch (m.type) {
			case MSG_EVENT:
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

int
main(int argc, char **argv)
{
	struct router *r = calloc(1, sizeof(*r));
	char err[1024];
	int64_t next_tick, next_prune, next_gauges = 0;
	int running = 1, rc, fetched = -1, backlog = 0;

	if (r == NULL)
		return EXIT_TEMPORARY;
	stage_init(&r->st, "router", argc, argv, &r->cfg, usage);
	metrics_open(&r->cfg, "router");
	/* It reads config and the event log, writes runs; it never holds a
	 * master key. */
	if ((rc = db_open(&r->db, &r->cfg, DB_PART(DB_CONFIG) |
	    DB_PART(DB_EVENTS) | DB_PART(DB_RUNS), DB_NOKEYS, err,
	    sizeof(err))) != 0)
		fatal(rc == DB_ESCHEMA ? EXIT_PERMANENT : EXIT_TEMPORARY, "%s",
		    err);
	if (cluster_enabled() && ((r->cl = calloc(1, sizeof(*r->cl))) ==
	    NULL || (rc = rcl_open(r->cl, err, sizeof(err))) != 0))
		fatal(r->cl == NULL ? EXIT_TEMPORARY : rc, "cluster: %s",
		    r->cl == NULL ? "out of memory" : err);
	if (r->cl != NULL && r->cfg.takeover_s > 0) {
		MDB_txn *txn;

		r->cl->takeover_s = r->cfg.takeover_s;
		r->cl->c.gone = host_lost;
		r->cl->c.gone_arg = r->cl;
		/* A lease still running was renewed within half the takeover
		 * time: no host has taken anything of this one over. */
		if ((txn = db_begin(&r->db, DB_RUNS, 1)) != NULL) {
			r->cl->lease_until = db_lease(txn, &r->db);
			mdb_txn_abort(txn);
		}
	}
	if (r->cl != NULL && cluster_host_forgotten(&r->cl->c, r->cl->c.host,
	    err, sizeof(err)) == 1)
		fatal(EXIT_PERMANENT, "cluster: this host (%s) was forgotten "
		    "at %s (hookpipe cluster forget): other hosts may have "
		    "taken over its claims. Start it with a new HOOKPIPE_HOME, "
		    "or say it is back: hookpipe cluster forget --undo '%s'",
		    r->cl->c.host, err, r->cl->c.host);
	/* What it writes is made again from the log after an OS crash
	 * (same run ids): the meta page need not wait for the disk. Not in
	 * cluster mode: there the stream forgets an event once it is
	 * acknowledged, after the commit. */
	if (r->cl == NULL)
		db_sync_pages_only(&r->db, DB_RUNS);
	if ((r->zctx = zmq_ctx_new()) == NULL ||
	    (r->in = zs_socket(r->zctx, ZMQ_PULL, 0)) == NULL ||
	    (r->out = zs_socket(r->zctx, ZMQ_PUSH, 0)) == NULL)
		fatal(EXIT_TEMPORARY, "zmq: %s", zmq_strerror(errno));
	if (zs_bind(r->in, &r->cfg, EP_ROUTER, err, sizeof(err)) == -1 ||
	    zs_connect(r->out, &r->cfg, EP_DISPATCHER, err, sizeof(err)) ==
	    -1 || tap_open(&r->tap, r->zctx, &r->cfg, "router", err,
	    sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);

	/* The jq workers start inside the sandbox (in its domain the
	 * router may stop them), which lets it start hookpipe-jq alone. */
	if (jqpool_find(&r->jq, err, sizeof(err)) == -1)
		fatal(EXIT_PERMANENT, "%s", err);
	/* In cluster mode it keeps (re)connecting to the NATS servers. */
	sandbox_confine(&r->cfg, &(struct sandbox_policy){ .exec =
	    r->jq.exe, .tcp_connect = r->cl != NULL, .nats = r->cl != NULL });
	if (jqpool_init(&r->jq, &r->cfg, err, sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);
	prune(r);
	/* Ready at once: a backlog (the router was stopped while events
	 * came in) is routed in the loop, a slice at a time, so that a stop
	 * or a hint is seen meanwhile. */
	stage_ready(&r->st, &r->cfg);
	next_tick = mono_ms();
	next_prune = mono_ms() + PRUNE_EVERY_MS;
	while (running) {
		zmq_pollitem_t items[3] = {
			{ r->in, 0, ZMQ_POLLIN, 0 },
			{ NULL, r->st.sig_fd, ZMQ_POLLIN, 0 },
			{ r->tap.sock, 0, ZMQ_POLLIN, 0 },
		};
		int64_t wait = next_tick - mono_ms();
		int ready;

		/* Cluster mode: the fetch waits, not the poll, unless the
		 * consumer cannot be reached or what it holds waits for the
		 * verifier's copies (its hint ends the wait). */
		if (r->cl != NULL) {
			int64_t most = fetched == 2 ? RCL_COPY_MS :
			    fetched < 0 ? RCL_WAIT_MS : 0;

			if (wait > most)
				wait = most;
		}
		if ((ready = zmq_poll(items, 3, wait < 0 ? 0 : (long)wait)) ==
		    -1 && errno != EINTR)
			fatal(EXIT_TEMPORARY, "zmq_poll: %s",
			    zmq_strerror(errno));
		if (stage_pass(&r->st, ready > 0 || fetched > 0 || backlog))
			db_unmap_read(&r->db);
		if (items[2].revents & ZMQ_POLLIN)
			tap_poll(&r->tap);
		if ((items[0].revents & ZMQ_POLLIN) && drain_hints(r) > 0 &&
		    (backlog = route_pending(r)))
			next_tick = mono_ms();	/* the rest at once */
		if ((items[1].revents & ZMQ_POLLIN) && stage_signal(&r->st))
			running = 0;
		if (r->cl != NULL && running) {
			fetched = route_fetched(r);
			sweep_marks(r);
		}
		if (running && mono_ms() >= next_tick) {
			backlog = route_pending(r);
			if (mono_ms() >= next_prune) {
				prune(r);
				next_prune = mono_ms() + PRUNE_EVERY_MS;
			}
			if (mono_ms() >= next_gauges) {
				db_reader_check(&r->db);
				gauges(r);
				next_gauges = mono_ms() + TICK_MS;
			}
			next_tick = mono_ms() + (backlog ? 0 : TICK_MS);
		}
	}
	route_pending(r);
	if (r->cl != NULL) {
		/* What it holds goes to another host's router at once. */
		rcl_close(r->cl);
		free(r->cl);
	}
	log_info("stopping: %llu events routed, %llu runs queued",
	    (unsigned long long)r->routed, (unsigned long long)r->runs);
	jqpool_close(&r->jq);
	tap_close(&r->tap);
	zmq_close(r->in);
	zmq_close(r->out);
	zmq_ctx_term(r->zctx);
	db_close(&r->db);
	stage_exit(&r->st, &r->cfg);
	free(r);
	return 0;
}
