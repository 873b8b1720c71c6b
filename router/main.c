/*
 * hookpipe-router: turns stored events into runs. For each event waiting
 * in the pending index it finds the trigger nodes of its (subscription,
 * event type), and for every published workflow among them (or one in
 * the listening state of `workflow test`) it writes a queued run; the
 * event becomes `routed` in the same transaction, so a crash either
 * redoes the whole event or nothing.
 *
 *	verifier --PUSH/PULL--> router --PUSH/PULL--> dispatcher
 *
 * Messages are hints; the pending index is the truth, scanned at start,
 * on every hint and on every tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "db.h"
#include "jqprog.h"
#include "log.h"
#include "msg.h"
#include "sandbox.h"
#include "stage.h"
#include "zsock.h"

#define BATCH_MAX	512
#define TICK_MS		1000
#define MATCH_MAX	64
#define PRUNE_EVERY_MS	60000
#define PRUNE_BATCH	1000

struct router {
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;
	void		*zctx;
	void		*in;		/* PULL: events from the verifier */
	void		*out;		/* PUSH: runs to the dispatcher */
	struct tap	 tap;
	uint64_t	 routed, runs;
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
collect_id(void *arg, const char *id)
{
	struct ids *ids = arg;

	if (ids->n == BATCH_MAX)
		return 1;
	memcpy(ids->id[ids->n++], id, UUID_LEN + 1);
	return 0;
}

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
 * Does one of the workflow's triggers for this event fire? Its filter (if
 * any) must give a truthy first result on the payload; its map (if any)
 * makes *inputs. A program that fails counts as no match, and is logged.
 */
static int
trigger_fires(const struct wf_rec *wf, const struct event_rec *ev,
    char **inputs)
{
	char err[512];
	int i;

	*inputs = NULL;
	for (i = 0; i < wf->ntrig; i++) {
		const struct trigger *t = &wf->trig[i];
		struct jqprog *p;

		err[0] = '\0';
		if (strcmp(t->sub, ev->sub) != 0 || (strcmp(t->event,
		    ev->type) != 0 && strcmp(t->event, "*") != 0))
			continue;
		if (t->filter != NULL && t->filter[0] != '\0') {
			if ((p = jqcache_get(t->filter, err, sizeof(err))) ==
			    NULL || jqprog_run(p, (const char *)ev->payload,
			    ev->payload_len, NULL, err, sizeof(err)) != 1) {
				if (p == NULL || err[0] != '\0')
					log_info("workflow %s: filter on event "
					    "%s: %s", wf->name, ev->id, err);
				continue;
			}
		}
		if (t->map != NULL && t->map[0] != '\0') {
			if ((p = jqcache_get(t->map, err, sizeof(err))) ==
			    NULL || jqprog_run(p, (const char *)ev->payload,
			    ev->payload_len, inputs, err, sizeof(err)) == -1 ||
			    *inputs == NULL) {
				log_info("workflow %s: map on event %s: %s",
				    wf->name, ev->id, *inputs == NULL &&
				    err[0] == '\0' ? "no result" : err);
				free(*inputs);
				*inputs = NULL;
				continue;
			}
		}
		return 1;
	}
	return 0;
}

/*
 * Queue a run of one workflow for the event, if it is published or
 * listening. Returns an LMDB error code, 0 otherwise.
 */
static int
route_to(struct router *r, MDB_txn *txn, const struct event_rec *ev,
    const char *wfkey, struct ids *runs)
{
	char ws[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
	const char *slash = strchr(wfkey, '/');
	struct wf_rec wf;
	struct run_rec run;
	int64_t now = now_us();
	char *inputs = NULL;
	int rc, test = 0;

	if (slash == NULL || (size_t)(slash - wfkey) > NAME_MAX_LEN ||
	    strlen(slash + 1) > NAME_MAX_LEN)
		return 0;
	memcpy(ws, wfkey, (size_t)(slash - wfkey));
	ws[slash - wfkey] = '\0';
	str_copy(name, slash + 1, sizeof(name));
	if ((rc = db_wf_get(txn, &r->db, ws, name, &wf)) != 0)
		return rc == MDB_NOTFOUND || rc == -1 ? 0 : rc;
	/* Drafts run only for a listening `workflow test`; the event it
	 * catches ends the listening state. */
	test = wf.listen_until > now;
	if (strcmp(wf.state, "published") != 0 && !test) {
		tap_route(r, ev, wfkey, NULL, "draft");
		wf_free(&wf);
		return 0;
	}
	if (!trigger_fires(&wf, ev, &inputs)) {
		tap_route(r, ev, wfkey, NULL, "filter");
		wf_free(&wf);
		return 0;
	}
	if (test) {
		wf.listen_until = 0;
		if ((rc = db_wf_put(txn, &r->db, &wf)) != 0) {
			wf_free(&wf);
			free(inputs);
			return rc;
		}
	}
	memset(&run, 0, sizeof(run));
	uuid7(run.id);
	str_copy(run.workspace, ws, sizeof(run.workspace));
	str_copy(run.workflow, name, sizeof(run.workflow));
	str_copy(run.event_id, ev->id, sizeof(run.event_id));
	str_copy(run.status, "queued", sizeof(run.status));
	run.max_attempts = wf.retries + 1;
	run.created_at = run.updated_at = run.next_at = now;
	run.test = test;
	wf_free(&wf);
	if ((rc = db_run_put(txn, &r->db, &run, NULL)) != 0 ||
	    (inputs != NULL && (rc = db_run_inputs_put(txn, &r->db, run.id,
	    inputs)) != 0)) {
		free(inputs);
		return rc;
	}
	free(inputs);
	if (runs->n < BATCH_MAX)
		memcpy(runs->id[runs->n++], run.id, UUID_LEN + 1);
	tap_route(r, ev, wfkey, run.id, NULL);
	log_debug("event %s -> run %s of %s", ev->id, run.id, wfkey);
	return 0;
}

static int
route_event(struct router *r, MDB_txn *txn, const char *id, struct ids *runs)
{
	struct event_rec ev;
	struct matches m;
	int i, rc;

	if ((rc = db_event_get(txn, &r->db, id, &ev)) != 0) {
		if (rc == MDB_NOTFOUND || rc == -1) {
			/* Pruned or damaged: nothing left to route. */
			log_warn("pending event %s is gone; skipped", id);
			return db_del(txn, r->db.pending, id, UUID_LEN);
		}
		return rc;
	}
	if (strcmp(ev.status, "stored") != 0) {
		rc = db_del(txn, r->db.pending, id, UUID_LEN);
		event_free(&ev);
		return rc;
	}
	m.n = 0;
	if ((rc = db_trigger_match(txn, &r->db, ev.sub, ev.type,
	    collect_match, &m)) != 0)
		goto out;
	for (i = 0; i < m.n && rc == 0; i++)
		rc = route_to(r, txn, &ev, m.wf[i], runs);
	if (m.n == 0)
		tap_route(r, &ev, NULL, NULL, "no trigger");
	if (rc == 0)
		rc = db_event_set_status(txn, &r->db, &ev, "routed");
out:
	event_free(&ev);
	return rc;
}

static void
hint_dispatcher(struct router *r, const char *run_id)
{
	struct mpw w;

	mpw_init(&w);
	msg_begin(&w, MSG_RUN, run_id);
	mpw_map(&w, 0);
	zs_send(r->out, w.sb.data, w.sb.size, 0);
	mpw_free(&w);
}

/* Route every pending event, a batch per transaction. */
static void
route_pending(struct router *r)
{
	static struct ids pending, runs;
	MDB_txn *txn;
	int i, rc;

	do {
		pending.n = runs.n = 0;
		if ((txn = db_begin(&r->db, 0)) == NULL)
			return;
		db_pending_each(txn, &r->db, collect_id, &pending);
		for (i = 0, rc = 0; i < pending.n && rc == 0; i++)
			rc = route_event(r, txn, pending.id[i], &runs);
		if (rc == 0)
			rc = db_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL && db_grow(&r->db) == 0) {
			/* Nothing was written: again, with a larger map. */
			pending.n = BATCH_MAX;
			continue;
		}
		if (rc != 0) {
			/* Nothing was written: the next tick redoes it. */
			log_warn("cannot route %d events: %s", pending.n,
			    rc == -1 ? "damaged record" : db_strerror(rc));
			return;
		}
		r->routed += (uint64_t)pending.n;
		r->runs += (uint64_t)runs.n;
		/* The dispatcher starts every due run on a hint: one per
		 * batch is enough. */
		if (runs.n > 0)
			hint_dispatcher(r, runs.id[runs.n - 1]);
		db_trim_every(&r->db, DB_TRIM_MS);
	} while (pending.n == BATCH_MAX);
}

/* Retention: a batch per transaction, so writers never wait long. */
static void
prune(struct router *r)
{
	int64_t cutoff = now_us() - r->cfg.retention_s * 1000000;
	int n, rc, total = 0;
	MDB_txn *txn;

	/* Once per database: delivery ids from before their index. */
	do {
		if ((txn = db_begin(&r->db, 0)) == NULL)
			return;
		if ((n = db_dedupe_index(txn, &r->db, 10 * PRUNE_BATCH,
		    &rc)) < 0 || (rc = db_commit(txn)) != 0) {
			if (n < 0)
				mdb_txn_abort(txn);
			log_warn("cannot index delivery ids: %s",
			    db_strerror(rc));
			return;
		}
		db_trim_every(&r->db, DB_TRIM_MS);
	} while (n > 0);
	do {
		if ((txn = db_begin(&r->db, 0)) == NULL)
			return;
		n = db_prune(txn, &r->db, cutoff, PRUNE_BATCH, &rc);
		if (n < 0 || (rc = db_commit(txn)) != 0) {
			if (n < 0)
				mdb_txn_abort(txn);
			log_warn("cannot prune old events: %s",
			    db_strerror(rc));
			return;
		}
		total += n;
		db_trim_every(&r->db, DB_TRIM_MS);
	} while (n >= PRUNE_BATCH);
	if (total > 0)
		log_info("pruned %d records older than the retention", total);
}

/* Hints carry nothing we need: read them all, then scan once. */
static int
drain_hints(struct router *r)
{
	char buf[256];
	int n = 0;

	while (zmq_recv(r->in, buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
		n++;
	return n;
}

int
main(int argc, char **argv)
{
	struct router *r = calloc(1, sizeof(*r));
	char err[1024];
	int64_t next_tick, next_prune;
	int running = 1;

	if (r == NULL)
		return EXIT_TEMPORARY;
	stage_init(&r->st, "router", argc, argv, &r->cfg, usage);
	/* Only the verifier's commit answers a sender; a crash here redoes
	 * work from the pending index, so flush on a timer, not per batch. */
	if (db_open(&r->db, &r->cfg, DB_NOSYNC, err, sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);
	if ((r->zctx = zmq_ctx_new()) == NULL ||
	    (r->in = zs_socket(r->zctx, ZMQ_PULL, 0)) == NULL ||
	    (r->out = zs_socket(r->zctx, ZMQ_PUSH, 0)) == NULL)
		fatal(EXIT_TEMPORARY, "zmq: %s", zmq_strerror(errno));
	if (zs_bind(r->in, &r->cfg, EP_ROUTER, err, sizeof(err)) == -1 ||
	    zs_connect(r->out, &r->cfg, EP_DISPATCHER, err, sizeof(err)) ==
	    -1 || tap_open(&r->tap, r->zctx, &r->cfg, "router", err,
	    sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);

	route_pending(r);
	prune(r);
	sandbox_confine(&r->cfg);
	stage_ready(&r->st, &r->cfg);
	next_tick = mono_ms() + TICK_MS;
	next_prune = mono_ms() + PRUNE_EVERY_MS;
	while (running) {
		zmq_pollitem_t items[3] = {
			{ r->in, 0, ZMQ_POLLIN, 0 },
			{ NULL, r->st.sig_fd, ZMQ_POLLIN, 0 },
			{ r->tap.sock, 0, ZMQ_POLLIN, 0 },
		};
		int64_t wait = next_tick - mono_ms();

		if (zmq_poll(items, 3, wait < 0 ? 0 : (long)wait) == -1 &&
		    errno != EINTR)
			fatal(EXIT_TEMPORARY, "zmq_poll: %s",
			    zmq_strerror(errno));
		if (items[2].revents & ZMQ_POLLIN)
			tap_poll(&r->tap);
		if ((items[0].revents & ZMQ_POLLIN) && drain_hints(r) > 0)
			route_pending(r);
		if ((items[1].revents & ZMQ_POLLIN) && stage_signal(&r->st))
			running = 0;
		if (mono_ms() >= next_tick) {
			int dead = 0;

			route_pending(r);
			if (mono_ms() >= next_prune) {
				prune(r);
				next_prune = mono_ms() + PRUNE_EVERY_MS;
			}
			db_sync(&r->db);
			mdb_reader_check(r->db.env, &dead);
			db_trim(&r->db);
			next_tick = mono_ms() + TICK_MS;
		}
	}
	route_pending(r);
	db_sync(&r->db);
	log_info("stopping: %llu events routed, %llu runs queued",
	    (unsigned long long)r->routed, (unsigned long long)r->runs);
	tap_close(&r->tap);
	zmq_close(r->in);
	zmq_close(r->out);
	zmq_ctx_term(r->zctx);
	db_close(&r->db);
	stage_exit(&r->st, &r->cfg);
	free(r);
	return 0;
}
