/*
 * hookpipe-verifier: checks each delivery's signature, drops duplicates,
 * and stores the events durably. It drains its socket into a batch,
 * writes the whole batch in one LMDB transaction (one fsync for all),
 * and only then answers the receiver and tells the router: a 2xx always
 * means the event is on disk.
 *
 *	receiver --DEALER/ROUTER--> verifier --PUSH/PULL--> router
 *
 * While the verifier is down the receiver spools deliveries in LMDB; the
 * verifier drains that spool at start and on every tick.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "cluster.h"
#include "db.h"
#include "fanout.h"
#include "integ.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "sandbox.h"
#include "stage.h"
#include "verifier.h"
#include "zsock.h"

#define BATCH_MAX	256
#define HEADERS_MAX	128
#define TICK_MS		1000
#define PRUNE_EVERY_MS	60000
#define PRUNE_BATCH	1000

struct item {
	zmq_msg_t	 ident;		/* the receiver's routing id */
	int		 has_ident;
	zmq_msg_t	 data;		/* the frame m points into */
	int		 has_data;
	void		*owned;		/* or a copy from the spool */
	struct msg	 m;
	int		 decoded;
	int		 spooled;	/* from the spool: no reply */
	unsigned char	 skey[SPOOL_KEY_LEN];	/* its spool key */
	int		 malformed;	/* decoded, but not a delivery */
	int64_t		 received_at;	/* when the receiver took it */
	/* The answer. */
	int		 status;
	char		 body[1024];
	/* The stored event, for the router hint and the tap. */
	struct event_rec ev;
	char		*norm;		/* a form body, stored as its JSON */
	int		 stored;	/* written in this batch's txn */
	char		 why[256];
	const char	*reason;	/* a refusal's, for the metrics */
	int		 duplicate;
	struct hs_answer hs;		/* a handshake's answer */
	int		 has_hs;
	/* Cluster mode: its claims and publish wait for the batch's
	 * (cluster_pass). */
	int		 cl_pending;
	int		 cl_dup_of;	/* 1 + the index of an earlier item of
					   the batch with its delivery id */
	int		 cl_rc;		/* CLUSTER_NEW, _DUP or _FAIL */
	char		 cl_bodykey[2 + 64];
	char		 cl_first[UUID_LEN + 1];	/* the stored event */
	char		 cl_err[512];
	struct verifier	*v;
};

struct verifier {
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;
	struct integ_set integs;
	uint64_t	 integ_stamp;	/* of the definitions loaded */
	int64_t		 integ_looked;	/* mono_ms of the last look */
	struct subinteg_cache subintegs;
	void		*zctx;
	void		*in;		/* ROUTER: requests from receivers */
	void		*out;		/* PUSH: stored events to the router */
	struct tap	 tap;
	struct item	 batch[BATCH_MAX];
	int		 nbatch;
	struct buf	 hbuf;		/* header strings of the current item */
	struct msg_verify req;		/* the current item, unpacked */
	uint64_t	 stored, rejected, duplicates;
	uint64_t	 quarantined, delayed;
	int		 stopping;	/* SIGTERM or SIGINT came */
	int		 reload;	/* SIGHUP came */
	int		 drain_all;	/* the next spool pass takes everything */
	int		 clustered;	/* HOOKPIPE_NATS: JetStream first */
	struct cluster	 cl;
	struct fanout	 fan;		/* the batch's round trips to it */
};

/* A spooled delivery that keeps getting 503 is retried this long. */
#define SPOOL_GIVE_UP_US	(24LL * 3600 * 1000000)
#define SPOOL_RETRY_MAX_US	(600LL * 1000000)

static const char usage[] =
    "Verifies signatures, drops duplicates and stores events durably.\n"
    "Started by hookpipectl; reads the environment described in README.\n";

static void
warn_integ(const char *msg)
{
	log_warn("integration definition refused: %s", msg);
}

static const char *
vresult_reason(enum vresult vr)
{
	switch (vr) {
	case V_MISSING:
		return "missing_signature";
	case V_SIGNATURE:
		return "signature";
	case V_TIMESTAMP:
		return "timestamp";
	case V_UNAVAILABLE:
		return "keys_unavailable";
	default:
		return "malformed";
	}
}

static void
answer(struct item *it, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer(struct item *it, int status, const char *fmt, ...)
{
	va_list ap;

	it->status = status;
	va_start(ap, fmt);
	vsnprintf(it->body, sizeof(it->body), fmt, ap);
	va_end(ap);
}

/* JSON string escaping for short messages, via jansson. */
static const char *
jstr(const char *s, char *out, size_t len)
{
	json_t *j = json_string(s);
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	str_copy(out, d ? d : "\"\"", len);
	free(d);
	json_decref(j);
	return out;
}

/* reason: a word for hookpipe_verification_failures_total. */
static void
reject(struct verifier *v, struct item *it, int status, const char *sub,
    const char *reason, const char *why)
{
	char esc[600];

	answer(it, status, "{\"error\":%s}", jstr(why, esc, sizeof(esc)));
	str_copy(it->why, why, sizeof(it->why));
	it->reason = reason;
	v->rejected++;
	/* A spooled delivery that must wait is counted in the pass's
	 * summary, not logged each time it is tried again. */
	if (!(it->spooled && status == 503))
		log_info("rejected delivery for %s: %d %s", sub, status, why);
}

/*
 * A secret that is there but does not open here: sealed under a master
 * key whose file this host lacks (another host rotated, the file is not
 * copied yet), or whose file here holds another key (a host that rotated
 * on its own). Neither is the sender's doing: 503, so that it retries,
 * while the log says which file to copy (once, db_keys.c). The reason,
 * or NULL for a slot with no secret.
 */
static const char *
secret_unopened(struct verifier *v, const struct sub_rec *s, int which,
    char *why, size_t whylen)
{
	const unsigned char *in = which == 2 ? s->secret2 : s->secret;
	size_t n = which == 2 ? s->secret2_len : s->secret_len;
	uint32_t id;

	if (n == 0)
		return NULL;
	if ((id = db_key_missing(&v->db, in, n)) != 0) {
		snprintf(why, whylen, "this host lacks master key %u, which "
		    "the subscription's secret is sealed with", id);
		return "master_key_missing";
	}
	snprintf(why, whylen, "the subscription's secret does not open with "
	    "this host's master key %u", sealed_key_id(in, n));
	return "master_key_mismatch";
}

/* Headers the integration keeps, as a JSON object (never signatures). */
static char *
kept_headers_json(const struct integ *ig, const struct header *h, size_t n)
{
	json_t *o = json_object(), *name;
	size_t i, j;
	char *s;

	json_array_foreach(ig->keep_headers, j, name)
		for (i = 0; i < n; i++) {
			json_t *val;

			/* json_string refuses invalid UTF-8: such a value is
			 * not kept. */
			if (strcmp(h[i].name, json_string_value(name)) == 0 &&
			    (val = json_string(h[i].value)) != NULL)
				json_object_set_new(o, h[i].name, val);
		}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* Printable ASCII with nothing JSON would escape. */
static int
json_plain(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '"' || *s == '\\')
			return 0;
	return 1;
}

/*
 * The same document as kept_headers_json(), written directly when every
 * kept name and value is plain ASCII (all but odd deliveries): building
 * and dumping a jansson object costs a dozen allocations per event.
 */
static char *
kept_headers(const struct integ *ig, const struct header *h, size_t n)
{
	const struct header *pick[32];
	size_t npick = 0, i, j, len = 3;
	json_t *name;
	char *s, *p;

	json_array_foreach(ig->keep_headers, j, name) {
		const struct header *last = NULL;

		for (i = 0; i < n; i++)
			if (strcmp(h[i].name, json_string_value(name)) == 0)
				last = &h[i];
		if (last == NULL)
			continue;
		if (npick == sizeof(pick) / sizeof(pick[0]) ||
		    !json_plain(last->name) || !json_plain(last->value))
			return kept_headers_json(ig, h, n);
		/* Sorted by name, as JSON_SORT_KEYS would; one entry per
		 * name, as an object holds. */
		for (i = npick; i > 0 && strcmp(pick[i - 1]->name,
		    last->name) > 0; i--)
			pick[i] = pick[i - 1];
		if (i > 0 && strcmp(pick[i - 1]->name, last->name) == 0)
			return kept_headers_json(ig, h, n);
		pick[i] = last;
		npick++;
		len += strlen(last->name) + strlen(last->value) + 6;
	}
	if ((s = p = malloc(len)) == NULL)
		return NULL;
	*p++ = '{';
	for (i = 0; i < npick; i++)
		p += sprintf(p, "%s\"%s\":\"%s\"", i ? "," : "",
		    pick[i]->name, pick[i]->value);
	*p++ = '}';
	*p = '\0';
	return s;
}

/*
 * A header the integration reads (signature, timestamp, id, event type,
 * delivery id) given twice is ambiguous: the signature could be checked
 * on one copy and the other stored or deduped on. The index of the
 * second copy, or -1.
 */
static int
repeated_header(const struct integ *ig, const struct header *h, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(h[i].name, h[j].name) == 0 &&
			    integ_reads_header(ig, h[i].name))
				return (int)i;
	return -1;
}

static int
media_type_ok(const struct integ *ig, const char *ct)
{
	size_t i, n = strcspn(ct, "; ");
	json_t *t;

	json_array_foreach(ig->content_types, i, t)
		if (strlen(json_string_value(t)) == n &&
		    strncasecmp(json_string_value(t), ct, n) == 0)
			return 1;
	return 0;
}

/*
 * The subscription's integration. A definition file added or changed
 * since the last look is loaded first: a subscription made for a new
 * file works at once. Looked at no more than ten times a second.
 */
static const struct integ *
integ_of(struct verifier *v, const struct sub_rec *sub, char *why,
    size_t whylen)
{
	const struct integ *ig = integ_find(&v->integs, sub->integration);

	if (ig == NULL && mono_ms() - v->integ_looked >= 100) {
		v->integ_looked = mono_ms();
		if (integ_refresh(&v->integs, &v->integ_stamp, &v->cfg,
		    warn_integ)) {
			subinteg_clear(&v->subintegs);
			log_info("definitions changed: %d integrations loaded",
			    v->integs.n);
		}
		ig = integ_find(&v->integs, sub->integration);
	}
	if (ig == NULL) {
		snprintf(why, whylen, "the subscription's integration is not "
		    "loaded (see the verifier log)");
		return NULL;
	}
	return subinteg_get(&v->subintegs, ig, sub->id, sub->params, why,
	    whylen);
}

/* A handshake answered (1), or refused with a status. */
static void
handshake_done(struct verifier *v, struct item *it, int rc,
    struct hs_answer *a, const struct sub_rec *sub, const char *why)
{
	if (rc != 1) {
		reject(v, it, rc, sub->id, "handshake", why);
		return;
	}
	it->hs = *a;
	it->has_hs = 1;
	metrics_add(M_HANDSHAKES, NULL, NULL, 1);
	answer(it, a->status, "%s", "");
	log_info("answered a handshake for %s (%s)", sub->id,
	    sub->integration);
}

/*
 * A delivery refused with 400 or 401, for `hookpipe events --status
 * rejected`: when, for which subscription, why; never its body nor a
 * signature. Past REJECTED_MAX (and some slack, until the next prune) a
 * flood of refusals is logged and counted, not recorded.
 */
static int
record_rejected(struct verifier *v, MDB_txn *txn, const struct item *it,
    const struct sub_rec *sub, const struct header *h, size_t nh,
    const char *method)
{
	struct rejected_rec r;
	MDB_stat st;
	size_t i;

	if (mdb_stat(txn, v->db.rejected, &st) == 0 &&
	    st.ms_entries >= REJECTED_MAX + REJECTED_MAX / 10)
		return 0;
	memset(&r, 0, sizeof(r));
	str_copy(r.id, it->ev.id, sizeof(r.id));
	str_copy(r.sub, sub->id, sizeof(r.sub));
	str_copy(r.workspace, sub->workspace, sizeof(r.workspace));
	str_copy(r.integration, sub->integration, sizeof(r.integration));
	r.status = it->status;
	str_copy(r.reason, it->why, sizeof(r.reason));
	r.recorded_at = now_us();
	r.received_at = it->received_at > 0 ? it->received_at : r.recorded_at;
	str_copy(r.method, method, sizeof(r.method));
	for (i = 0; i < nh; i++) {
		if (strcmp(h[i].name, "user-agent") == 0)
			str_copy(r.user_agent, h[i].value,
			    sizeof(r.user_agent));
		else if (strcmp(h[i].name, "content-type") == 0)
			str_copy(r.content_type, h[i].value,
			    sizeof(r.content_type));
	}
	return db_rejected_put(txn, &v->db, &r);
}

/*
 * Cluster mode: the delivery id claimed cluster-wide (and the body's
 * digest, for integrations that dedupe on it), then the event published
 * to the stream and acknowledged by its quorum, before the local copy
 * is written and the sender answered. A claim left by an attempt whose
 * publish failed is taken over with its event id (it->ev.id changes).
 * it->cl_rc: CLUSTER_NEW, CLUSTER_DUP (cl_first: the stored event),
 * CLUSTER_FAIL (cl_err says why). Runs on a fan-out thread, beside the
 * batch's other deliveries: it touches its item and the NATS client
 * only, and logs nothing.
 */
static void
cluster_store(void *arg)
{
	struct item *it = arg;
	struct cluster *cl = &it->v->cl;
	char *first = it->cl_first, *err = it->cl_err;
	int rc;

	rc = cluster_dedupe_claim(cl, it->ev.sub, it->ev.delivery_id,
	    it->ev.id, first, sizeof(it->cl_first), err, sizeof(it->cl_err));
	if (rc == CLUSTER_NEW) {
		str_copy(it->ev.id, first, sizeof(it->ev.id));
		if (it->cl_bodykey[0] != '\0')
			rc = cluster_dedupe_claim(cl, it->ev.sub,
			    it->cl_bodykey, it->ev.id, first,
			    sizeof(it->cl_first), err, sizeof(it->cl_err));
	}
	if (rc == CLUSTER_NEW &&
	    cluster_event_publish(cl, &it->ev, err, sizeof(it->cl_err)) == -1)
		rc = CLUSTER_FAIL;
	it->cl_rc = rc;
}

/*
 * Cluster mode: a verified delivery waits for the batch's round trips.
 * One whose delivery id (or body digest) an earlier delivery of the
 * batch has is that one's duplicate, whatever the cluster says of it.
 */
static void
cluster_defer(struct verifier *v, struct item *it, const char *bodykey)
{
	int j;

	it->cl_pending = 1;
	it->cl_rc = CLUSTER_FAIL;	/* until its round trips say */
	it->v = v;
	str_copy(it->cl_bodykey, bodykey, sizeof(it->cl_bodykey));
	for (j = 0; j < v->nbatch && &v->batch[j] != it; j++) {
		struct item *o = &v->batch[j];

		if (!o->cl_pending || strcmp(o->ev.sub, it->ev.sub) != 0)
			continue;
		if (strcmp(o->ev.delivery_id, it->ev.delivery_id) == 0 ||
		    (bodykey[0] != '\0' &&
		    strcmp(o->cl_bodykey, bodykey) == 0)) {
			it->cl_dup_of = o->cl_dup_of ? o->cl_dup_of : j + 1;
			return;
		}
	}
}

/* A deferred delivery, once the batch's round trips are back: its
 * answer, and when new its local copy in txn. 0, or an LMDB code. */
static int
cluster_finish(struct verifier *v, MDB_txn *txn, struct item *it)
{
	const char *first = it->cl_first;
	int rc = it->cl_rc;

	if (it->cl_dup_of) {
		struct item *o = &v->batch[it->cl_dup_of - 1];

		rc = o->cl_rc == CLUSTER_NEW || o->cl_rc == CLUSTER_DUP ?
		    CLUSTER_DUP : o->cl_rc;
		first = o->cl_rc == CLUSTER_NEW ? o->ev.id : o->cl_first;
	}
	switch (rc) {
	case CLUSTER_DUP:
		answer(it, 200, "{\"status\":\"ok\",\"event_id\":\"%s\","
		    "\"duplicate\":true}", first);
		v->duplicates++;
		it->duplicate = 1;
		return 0;
	case CLUSTER_NEW:
		break;
	case CLUSTER_BUSY:
		/* Its sender asks again, and then learns which it is. */
		answer(it, 503, "{\"error\":\"another host is storing this "
		    "delivery right now\"}");
		str_copy(it->why, it->cl_err, sizeof(it->why));
		it->reason = "cluster_unavailable";
		return 0;
	default:
		answer(it, 503, "{\"error\":\"the cluster cannot store the "
		    "event right now\"}");
		str_copy(it->why, "the cluster has no quorum", sizeof(it->why));
		it->reason = "cluster_unavailable";
		return 0;
	}
	if ((rc = db_event_append(txn, &v->db, &it->ev)) != 0 ||
	    (rc = db_dedupe_put(txn, &v->db, it->ev.sub, it->ev.delivery_id,
	    it->ev.id, it->ev.received_at)) != 0 ||
	    (it->cl_bodykey[0] != '\0' && (rc = db_dedupe_put(txn, &v->db,
	    it->ev.sub, it->cl_bodykey, it->ev.id, it->ev.received_at)) != 0))
		return rc;
	it->stored = 1;
	answer(it, 200, "{\"status\":\"%s\",\"event_id\":\"%s\","
	    "\"duplicate\":false}", it->ev.state == EV_STORED ? "ok" :
	    "ignored", it->ev.id);
	return 0;
}

/*
 * Cluster mode: the claims and publishes of the batch's deferred
 * deliveries, side by side (each is a round trip to the stream's
 * quorum, and they do not depend on each other), then each delivery
 * finished in the batch's order. 0, or an LMDB code.
 */
static int
cluster_pass(struct verifier *v, MDB_txn *txn)
{
	void *todo[BATCH_MAX];
	const char *why = NULL;
	int i, n = 0, rc = 0, was_failing = v->cl.failing;

	for (i = 0; i < v->nbatch; i++)
		if (v->batch[i].cl_pending && !v->batch[i].cl_dup_of)
			todo[n++] = &v->batch[i];
	if (n == 0)
		return 0;
	/* Opened here, not by the threads at once. */
	if (cluster_dedupe_open(&v->cl, v->batch[0].cl_err,
	    sizeof(v->batch[0].cl_err)) == -1)
		log_debug("cluster: %s", v->batch[0].cl_err);
	if (fanout_run(&v->fan, cluster_store, todo, n) == -1)
		log_warn("cluster: no thread to send the batch's deliveries "
		    "side by side: one after another");
	for (i = 0; i < v->nbatch && rc == 0; i++) {
		struct item *it = &v->batch[i];

		if (!it->cl_pending)
			continue;
		if (!it->cl_dup_of && it->cl_rc == CLUSTER_FAIL &&
		    why == NULL)
			why = it->cl_err;
		rc = cluster_finish(v, txn, it);
	}
	if (why != NULL && !was_failing)
		log_warn("cluster: %s (deliveries get 503 until it answers)",
		    why);
	return rc;
}

/*
 * Verify one delivery and, when valid and new, write it into txn.
 * Returns an LMDB error code when the transaction failed.
 */
static int
verify_one(struct verifier *v, MDB_txn *ctxn, MDB_txn *txn, struct item *it)
{
	struct msg_verify *req = &v->req;
	struct header hdrs[HEADERS_MAX];
	unsigned char sec[2][SECRET_MAX];
	char sub_id[UUID_LEN + 1], type[256], did[256], first[UUID_LEN + 1];
	char bodykey[2 + 64];
	char why[256];
	const char *mwhy, *method, *path, *query, *url, *reason;
	const struct integ *ig;
	struct sub_rec sub;
	struct vreq r;
	struct vhs vh;
	struct hs_answer ans;
	json_t *json = NULL;
	const void *payload;
	size_t plen, i, nh = 0;
	int64_t received_at;
	enum vresult vr;
	int rc, n, ok, have_sub = 0;

	memset(&vh, 0, sizeof(vh));
	memset(sec, 0, sizeof(sec));
	if (msg_verify_unpack(&it->m, req, &mwhy) == -1) {
		log_warn("dropped a malformed verify message %s: %s", it->m.id,
		    mwhy);
		answer(it, 400, "{\"error\":\"malformed request\"}");
		it->reason = "malformed_message";
		it->malformed = 1;
		return 0;
	}
	str_copy(sub_id, req->sub, sizeof(sub_id));
	str_copy(it->ev.id, req->event_id, sizeof(it->ev.id));
	received_at = it->received_at = req->received_at;
	payload = req->body.p;
	plen = req->body.n;
	/*
	 * The strings of the request point into the message and lack a NUL:
	 * copy them into one reused buffer, sized first so that the
	 * pointers stay put. The URL is the public one the sender used.
	 */
	{
		size_t total = req->path.n + req->query.n + 16 +
		    strlen(v->cfg.trigger_url) * 2 + req->path.n +
		    req->query.n + 2;
		char *p;

		for (i = 0; i < req->nheaders; i++)
			total += req->headers[i].name.n +
			    req->headers[i].value.n + 2;
		buf_reset(&v->hbuf);
		if (buf_reserve(&v->hbuf, total) == -1) {
			answer(it, 503, "{\"error\":\"out of memory\"}");
			return 0;
		}
		p = v->hbuf.data;
#define COPY(dst, s) do {						\
	(dst) = p;							\
	if ((s).n > 0)							\
		memcpy(p, (s).p, (s).n);				\
	p += (s).n;							\
	*p++ = '\0';							\
} while (0)
		for (i = 0; i < req->nheaders && nh < HEADERS_MAX; i++) {
			COPY(hdrs[nh].name, req->headers[i].name);
			COPY(hdrs[nh].value, req->headers[i].value);
			nh++;
		}
		COPY(path, req->path);
		COPY(query, req->query);
#undef COPY
		method = req->method;
		url = p;
		memcpy(p, v->cfg.trigger_url, strlen(v->cfg.trigger_url));
		p += strlen(v->cfg.trigger_url);
		if (req->path.n > 0) {
			memcpy(p, req->path.p, req->path.n);
			p += req->path.n;
		}
		if (req->query.n > 0) {
			*p++ = '?';
			memcpy(p, req->query.p, req->query.n);
			p += req->query.n;
		}
		*p = '\0';
	}

	rc = db_sub_get(ctxn, &v->db, sub_id, &sub);
	if (rc == MDB_NOTFOUND || rc == DB_EDAMAGED) {
		reject(v, it, 404, sub_id, "unknown_subscription",
		    "no such subscription");
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	have_sub = 1;
	if ((ig = integ_of(v, &sub, why, sizeof(why))) == NULL) {
		reject(v, it, 503, sub_id, "integration_unavailable", why);
		goto out;
	}
	if ((n = repeated_header(ig, hdrs, nh)) >= 0) {
		snprintf(why, sizeof(why), "header %s appears more than once",
		    hdrs[n].name);
		reject(v, it, 400, sub_id, "repeated_header", why);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.ig = ig;
	r.headers = hdrs;
	r.nheaders = nh;
	r.body = payload;
	r.body_len = plen;
	r.now = received_at / 1000000;
	r.method = method;
	r.path = path;
	r.query = query;
	r.url = url;
	r.params = sub.params;
	r.tolerance = v->cfg.tolerance;
	for (i = 1; i <= 2; i++) {
		n = db_sub_secret(&v->db, &sub, (int)i, sec[r.nsecrets],
		    SECRET_MAX);
		if (n >= 0) {
			r.secret[r.nsecrets] = sec[r.nsecrets];
			r.secret_len[r.nsecrets++] = (size_t)n;
		} else if ((reason = secret_unopened(v, &sub, (int)i, why,
		    sizeof(why))) != NULL) {
			reject(v, it, 503, sub_id, reason, why);
			goto out;
		}
	}
	/* Handshakes that carry no signature, and the body decrypted. */
	vhs_init(&vh, &r, sub.params);
	if ((n = vhs_before(&vh, &ans, why, sizeof(why))) != 0) {
		handshake_done(v, it, n, &ans, &sub, why);
		goto out;
	}
	vr = verify_request(&r, why, sizeof(why));
	if (vr != V_OK) {
		reject(v, it, vresult_status(vr), sub_id, vresult_reason(vr),
		    why);
		goto out;
	}
	if ((n = vhs_after(&vh, &ans, why, sizeof(why))) != 0) {
		handshake_done(v, it, n, &ans, &sub, why);
		goto out;
	}
	if (vreq_header(&r, "content-type") != NULL &&
	    !media_type_ok(ig, vreq_header(&r, "content-type"))) {
		snprintf(why, sizeof(why), "content type %s is not accepted "
		    "by integration %s", vreq_header(&r, "content-type"),
		    ig->name);
		reject(v, it, 400, sub_id, "content_type", why);
		goto out;
	}
	/* The body parsed (and decrypted) once, for the handshakes. */
	if ((vh.parsed || ig->crypt.on) && vhs_body(&vh) != NULL) {
		json = vh.json;
		vh.json = NULL;
		vr = verify_extract_json(&r, json, type, sizeof(type), did,
		    sizeof(did), why, sizeof(why));
	} else
		vr = verify_extract(&r, &json, type, sizeof(type), did,
		    sizeof(did), why, sizeof(why));
	if (vr != V_OK) {
		reject(v, it, 400, sub_id, "event_type", why);
		goto out;
	}
	if (did[0] == '\0')
		str_copy(did, it->ev.id, sizeof(did));

	/*
	 * An unsigned delivery id (GitHub's) can be changed by anyone who
	 * replays a signed body: such integrations also dedupe on the body's
	 * digest. "\001" keeps the digest apart from any printable id.
	 */
	bodykey[0] = '\0';
	if (ig->dedupe_body) {
		unsigned char dg[32];

		bodykey[0] = '\001';
		sha256(r.body, r.body_len, dg);
		hex_encode(dg, sizeof(dg), bodykey + 1);
	}
	rc = db_dedupe_get(txn, &v->db, sub.id, did, first);
	if (rc == MDB_NOTFOUND && bodykey[0] != '\0')
		rc = db_dedupe_get(txn, &v->db, sub.id, bodykey, first);
	if (rc == 0) {
		answer(it, 200, "{\"status\":\"ok\",\"event_id\":\"%s\","
		    "\"duplicate\":true}", first);
		v->duplicates++;
		it->duplicate = 1;
		goto out;
	}
	if (rc != MDB_NOTFOUND)
		goto out;
	/* By name, or by a prefix at a '.': "issues" covers
	 * "issues.opened". */
	ok = integ_events_cover(sub.events, type);
	str_copy(it->ev.sub, sub.id, sizeof(it->ev.sub));
	str_copy(it->ev.workspace, sub.workspace, sizeof(it->ev.workspace));
	str_copy(it->ev.integration, sub.integration,
	    sizeof(it->ev.integration));
	str_copy(it->ev.type, type, sizeof(it->ev.type));
	str_copy(it->ev.delivery_id, did, sizeof(it->ev.delivery_id));
	it->ev.state = ok ? EV_STORED : EV_IGNORED;
	it->ev.received_at = received_at;
	it->ev.headers = kept_headers(ig, hdrs, nh);
	/* A decrypted body is stored decrypted, and a form body as the
	 * JSON it carries, so that filters, maps and run documents see one
	 * format. */
	if (vh.plain != NULL) {
		it->norm = vh.plain;
		vh.plain = NULL;
		payload = it->norm;
		plen = vh.plain_len;
	} else if (body_is_form(&r) && json != NULL &&
	    (it->norm = json_dumps(json, JSON_COMPACT)) != NULL) {
		payload = it->norm;
		plen = strlen(it->norm);
	}
	it->ev.payload = (unsigned char *)payload;	/* borrowed */
	it->ev.payload_len = plen;
	if (v->clustered) {
		rc = 0;				/* not MDB_NOTFOUND any more */
		cluster_defer(v, it, bodykey);
		goto out;
	}
	if ((rc = db_event_append(txn, &v->db, &it->ev)) != 0 ||
	    (rc = db_dedupe_put(txn, &v->db, sub.id, did, it->ev.id,
	    received_at)) != 0 ||
	    (bodykey[0] != '\0' && (rc = db_dedupe_put(txn, &v->db, sub.id,
	    bodykey, it->ev.id, received_at)) != 0))
		goto out;
	it->stored = 1;
	answer(it, 200, "{\"status\":\"%s\",\"event_id\":\"%s\","
	    "\"duplicate\":false}", ok ? "ok" : "ignored", it->ev.id);
out:
	if (rc == 0 && have_sub && (it->status == 400 || it->status == 401))
		rc = record_rejected(v, txn, it, &sub, hdrs, nh, method);
	OPENSSL_cleanse(sec, sizeof(sec));
	vhs_free(&vh);
	json_decref(json);
	return rc;
}

static void
tap_item(struct verifier *v, const struct item *it)
{
	json_t *o, *payload = NULL;

	if (!tap_active(&v->tap))
		return;
	o = json_pack("{s:s, s:s, s:i}", "stage", "verifier", "message",
	    it->stored ? "event" : "verdict", "status", it->status);
	if (it->ev.id[0] != '\0')
		json_object_set_new(o, "event_id", json_string(it->ev.id));
	if (it->stored) {
		json_object_set_new(o, "subscription", json_string(it->ev.sub));
		json_object_set_new(o, "integration",
		    json_string(it->ev.integration));
		json_object_set_new(o, "type", json_string(it->ev.type));
		json_object_set_new(o, "delivery_id",
		    json_string(it->ev.delivery_id));
		json_object_set_new(o, "event_status",
		    json_string(event_state_name(it->ev.state)));
		if (tap_wants_payload(&v->tap))
			payload = json_loadb((const char *)it->ev.payload,
			    it->ev.payload_len, 0, NULL);
	} else if (it->why[0] != '\0')
		json_object_set_new(o, "error", json_string(it->why));
	if (it->has_hs)
		json_object_set_new(o, "handshake", json_true());
	tap_publish(&v->tap, o, payload);
}

/* Once the batch is committed (or answered 503): what became of it. */
static void
count_item(const struct item *it)
{
	if (it->stored)
		metrics_add(M_EVENTS, it->ev.state == EV_STORED ? "stored" :
		    "ignored", NULL, 1);
	else if (it->duplicate && it->status == 200)
		metrics_add(M_EVENTS, "duplicate", NULL, 1);
	else if (it->reason != NULL && !(it->spooled && it->status == 503))
		metrics_add(M_VERIFY_FAILURES, it->reason, NULL, 1);
}

static void
reply(struct verifier *v, struct item *it)
{
	struct msg_verdict d;
	struct mpw w;

	if (!it->has_ident)
		return;
	memset(&d, 0, sizeof(d));
	str_copy(d.req_id, it->m.id, sizeof(d.req_id));
	d.status = it->status;
	d.body = (struct msg_str){ it->body, strlen(it->body) };
	d.retry_after = it->status == 503 ? 5 : 0;
	if (it->has_hs) {
		d.body = (struct msg_str){ it->hs.body ? it->hs.body : "",
		    it->hs.body_len };
		if (it->hs.ctype != NULL)
			d.ctype = (struct msg_str){ it->hs.ctype,
			    strlen(it->hs.ctype) };
		if (it->hs.headers != NULL)
			d.headers = (struct msg_str){ it->hs.headers,
			    strlen(it->hs.headers) };
	}
	mpw_init(&w);
	msg_verdict_pack(&w, &d);
	/* ROUTER drops messages to vanished peers: the receiver times out
	 * and spools, and the dedupe index makes that harmless. */
	if (zmq_msg_send(&it->ident, v->in, ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
	    -1 || zs_send(v->in, w.sb.data, w.sb.size, 0) == -1)
		log_debug("verdict %s not delivered: %s", it->m.id,
		    zmq_strerror(errno));
	mpw_free(&w);
}

static void
hint_router(struct verifier *v, const struct item *it)
{
	struct mpw w;

	mpw_init(&w);
	msg_hint_pack(&w, MSG_EVENT, it->ev.id);
	/* A hint only: the router also scans the pending index. */
	zs_send(v->out, w.sb.data, w.sb.size, 0);
	mpw_free(&w);
}

static int
spool_quarantine(struct verifier *v, MDB_txn *txn, struct item *it,
    const char *why)
{
	char id[UUID_LEN + 1];

	memcpy(id, it->skey + 8, UUID_LEN);
	id[UUID_LEN] = '\0';
	log_warn("spooled delivery %s quarantined: %s (see: hookpipe spool "
	    "show %s)", id, why, id);
	v->quarantined++;
	metrics_add(M_QUARANTINED, NULL, NULL, 1);
	return db_quarantine_put(txn, &v->db, it->skey, why);
}

/*
 * What becomes of a spooled delivery once verified: gone from the spool
 * when it is stored or answered for good (a 4xx is logged and dropped,
 * never run); due again later while its integration is not loaded (the
 * delay grows with its age); set aside when it is not a delivery at all,
 * or after a day of retries.
 */
static int
spool_settle(struct verifier *v, MDB_txn *txn, struct item *it)
{
	int64_t now = now_us(), age, received;

	if (it->malformed)
		return spool_quarantine(v, txn, it, "not a delivery message "
		    "this version can read");
	if (it->status != 503)
		return db_spool_del(txn, &v->db, it->skey);
	received = it->received_at > 0 ? it->received_at : now;
	if ((age = now - received) > SPOOL_GIVE_UP_US)
		return spool_quarantine(v, txn, it, it->why[0] ? it->why :
		    "retried for a day");
	age /= 2;
	v->delayed++;
	return db_spool_delay(txn, &v->db, it->skey, now + (age < 1000000 ?
	    1000000 : age > SPOOL_RETRY_MAX_US ? SPOOL_RETRY_MAX_US : age));
}

/*
 * The events of a batch per subscription: one statistics write each, not
 * one per event.
 */
static int
stats_write(struct verifier *v, MDB_txn *txn)
{
	struct {
		const char	*sub;
		int64_t		 n, last;
	} s[BATCH_MAX];
	int i, j, ns = 0, rc = 0;

	for (i = 0; i < v->nbatch; i++) {
		const struct event_rec *e = &v->batch[i].ev;

		if (!v->batch[i].stored)
			continue;
		for (j = 0; j < ns && strcmp(s[j].sub, e->sub) != 0; j++)
			;
		if (j == ns) {
			s[ns].sub = e->sub;
			s[ns].n = 0;
			s[ns++].last = 0;
		}
		s[j].n++;
		if (e->received_at > s[j].last)
			s[j].last = e->received_at;
	}
	for (j = 0; j < ns && rc == 0; j++)
		rc = db_sub_stats_add(txn, &v->db, s[j].sub, s[j].n, s[j].last);
	return rc;
}

/*
 * One pass over the batch: the events in one transaction of the events
 * part, committed (synced) before anything is answered; what became of
 * spooled deliveries in one of the spool part, after it. A crash between
 * the two verifies a spooled delivery again: its delivery id makes that
 * a duplicate. 0 or an LMDB code.
 */
static int
store_batch(struct verifier *v)
{
	MDB_txn *txn, *ctxn, *stxn = NULL;
	int i, rc = 0;

	if ((rc = db_dedupe_prepare(&v->db, now_us())) != 0)
		return rc;
	for (i = 0; i < v->nbatch; i++)
		if (v->batch[i].spooled)
			break;
	if ((ctxn = db_begin(&v->db, DB_CONFIG, 1)) == NULL)
		return EIO;
	if ((txn = db_begin(&v->db, DB_EVENTS, 0)) == NULL ||
	    (i < v->nbatch && (stxn = db_begin(&v->db, DB_SPOOL, 0)) ==
	    NULL)) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		mdb_txn_abort(ctxn);
		return EIO;
	}
	for (i = 0; i < v->nbatch && rc == 0; i++) {
		struct item *it = &v->batch[i];

		if (!it->decoded || it->m.type != MSG_VERIFY) {
			if (it->decoded)
				log_warn("dropped an unexpected %s message",
				    msg_type_name(it->m.type));
			if (it->spooled)
				rc = spool_quarantine(v, stxn, it,
				    it->decoded ? "not a delivery" : it->why);
			continue;
		}
		rc = verify_one(v, ctxn, txn, it);
	}
	if (rc == 0 && v->clustered)
		rc = cluster_pass(v, txn);
	for (i = 0; i < v->nbatch && rc == 0; i++)
		if (v->batch[i].spooled && v->batch[i].decoded &&
		    v->batch[i].m.type == MSG_VERIFY)
			rc = spool_settle(v, stxn, &v->batch[i]);
	mdb_txn_abort(ctxn);
	if (rc == 0)
		rc = stats_write(v, txn);
	if (rc != 0)
		mdb_txn_abort(txn);
	else
		rc = db_commit(txn);	/* frees txn, whatever it returns */
	if (rc != 0) {
		if (stxn != NULL)
			mdb_txn_abort(stxn);
		return rc;
	}
	if (stxn != NULL && (rc = db_commit(stxn)) != 0)
		log_warn("cannot settle spooled deliveries: %s (they are "
		    "verified again)", db_strerror(rc));
	return 0;
}

/* Verify, store and commit the batch; then answer and hint. 0 when the
 * batch was stored, else the LMDB code (every item got 503). */
static int
process_batch(struct verifier *v)
{
	struct item *hinted = NULL;
	int i, rc;

	if (v->nbatch == 0)
		return 0;
	if (v->clustered)
		cluster_retry(&v->cl);
	rc = store_batch(v);
	if (rc == MDB_MAP_FULL && db_grow(&v->db, DB_EVENTS) == 0) {
		/* Nothing was written: do the whole batch again. */
		for (i = 0; i < v->nbatch; i++) {
			struct item *it = &v->batch[i];

			free(it->ev.headers);
			free(it->norm);
			it->norm = NULL;
			hs_answer_free(&it->hs);
			it->has_hs = 0;
			memset(&it->ev, 0, sizeof(it->ev));
			it->status = 0;
			it->stored = 0;
			it->why[0] = '\0';
			it->reason = NULL;
			it->duplicate = 0;
			it->cl_pending = it->cl_dup_of = it->cl_rc = 0;
		}
		rc = store_batch(v);
	}
	if (rc != 0) {
		log_warn("cannot store %d deliveries: %s", v->nbatch,
		    rc == EIO ? "no transaction" : db_strerror(rc));
		for (i = 0; i < v->nbatch; i++) {
			if (v->batch[i].status == 0 || v->batch[i].stored) {
				v->batch[i].stored = 0;
				answer(&v->batch[i], 503, "{\"error\":\"cannot "
				    "store the event right now\"}");
			}
		}
	}
	for (i = 0; i < v->nbatch; i++) {
		struct item *it = &v->batch[i];

		if (it->status == 0)
			answer(it, 400, "{\"error\":\"malformed request\"}");
		if (it->stored) {
			v->stored++;
			log_debug("stored event %s (%s %s)", it->ev.id,
			    it->ev.type, event_state_name(it->ev.state));
			if (it->ev.state == EV_STORED)
				hinted = it;
		}
		if (it->spooled && it->decoded && !it->stored &&
		    it->status >= 400 && it->status != 503 && !it->malformed)
			log_info("spooled delivery %s dropped: %d %s",
			    it->ev.id, it->status, it->why);
		count_item(it);
		reply(v, it);
		tap_item(v, it);
		/* The router routes every pending event on a hint: one per
		 * batch is enough. */
		if (hinted == it)
			hint_router(v, it);
		if (it->has_ident)
			zmq_msg_close(&it->ident);
		if (it->has_data)
			zmq_msg_close(&it->data);
		free(it->ev.headers);
		free(it->norm);
		free(it->owned);
		hs_answer_free(&it->hs);
		msg_free(&it->m);
		memset(it, 0, sizeof(*it));
	}
	v->nbatch = 0;
	return rc;
}

/*
 * Cluster mode: copy the events the other hosts stored from the stream
 * into this host's events database, so that the CLI and the console of
 * any host list them all. They are marked remote: their own host routes
 * them. An event already here (this host's, or copied before a restart:
 * the follower starts from the stream's first message) is skipped; one
 * this host published but did not commit (the sender got 503) is this
 * host's to route. On an error the follower starts over on the next
 * tick. The number of messages read: BATCH_MAX means more may wait.
 */
/* Said once a minute at most: NATS may keep failing it. */
static void
follow_failed(struct verifier *v)
{
	static int64_t said;

	if (said == 0 || mono_ms() - said >= 60000) {
		log_info("cluster: following the stream failed (%s): "
		    "starting over", v->cl.follow_err);
		said = mono_ms();
	}
}

static int
follow(struct verifier *v)
{
	struct event_rec e, have;
	MDB_txn *txn;
	char err[512];
	int64_t cutoff = now_us() - v->cfg.retention_s * 1000000;
	int n = 0, seen = 0, rc = 0, mine, got;

	if (!v->clustered)
		return 0;
	if (v->cl.follow == NULL && cluster_follow_open(&v->cl, err,
	    sizeof(err)) == -1) {
		log_debug("cluster: cannot follow the stream: %s", err);
		return 0;
	}
	/* Nothing waiting (the usual case): no write transaction. */
	while ((got = cluster_follow_next(&v->cl, &e, &mine)) == -1)
		;
	if (got == -2)
		follow_failed(v);
	if (got <= 0)
		return 0;
	if ((rc = db_dedupe_prepare(&v->db, now_us())) != 0 ||
	    (txn = db_begin(&v->db, DB_EVENTS, 0)) == NULL) {
		event_free(&e);
		cluster_follow_stop(&v->cl);
		return 0;
	}
	for (;;) {
		seen++;
		if (got == 1 && e.received_at < cutoff)
			;	/* pruned here already, or about to be */
		else if (got == 1 && db_event_get(txn, &v->db, e.id,
		    &have) == 0)
			event_free(&have);
		else if (got == 1) {
			e.remote = !mine;
			if ((rc = db_event_append(txn, &v->db, &e)) == 0)
				rc = db_dedupe_put(txn, &v->db, e.sub,
				    e.delivery_id, e.id, e.received_at);
			n++;
		}
		if (got == 1)
			event_free(&e);
		if (rc != 0 || seen == BATCH_MAX ||
		    (got = cluster_follow_next(&v->cl, &e, &mine)) == 0)
			break;
		if (got == -2) {
			/* What was read so far is committed. */
			follow_failed(v);
			break;
		}
	}
	if (rc == 0 && n > 0)
		rc = db_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0) {
		log_warn("cluster: cannot copy events from the stream: %s "
		    "(starting over)", db_strerror(rc));
		cluster_follow_stop(&v->cl);
	}
	if (rc == 0 && n > 0) {
		struct mpw w;

		log_debug("cluster: %d events copied from the stream", n);
		/* The router may hold their messages, waiting for them. */
		mpw_init(&w);
		msg_hint_pack(&w, MSG_WAKE, NULL);
		zs_send(v->out, w.sb.data, w.sb.size, 0);
		mpw_free(&w);
	}
	return rc == 0 ? seen : 0;
}

/* Read up to BATCH_MAX requests without blocking. */
static void
drain(struct verifier *v)
{
	while (v->nbatch < BATCH_MAX) {
		struct item *it = &v->batch[v->nbatch];
		const char *why;
		int more_frames;

		memset(it, 0, sizeof(*it));
		zmq_msg_init(&it->ident);
		if (zmq_msg_recv(&it->ident, v->in, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&it->ident);
			break;
		}
		it->has_ident = 1;
		zmq_msg_init(&it->data);
		it->has_data = 1;
		v->nbatch++;
		if (!zmq_msg_more(&it->ident) ||
		    zmq_msg_recv(&it->data, v->in, 0) == -1) {
			log_warn("dropped a message without a body");
			it->has_ident = 0;
			zmq_msg_close(&it->ident);
			continue;
		}
		/* A request is exactly [routing id][message]. */
		if (zmq_msg_more(&it->data)) {
			zmq_msg_t extra;

			do {
				zmq_msg_init(&extra);
				zmq_msg_recv(&extra, v->in, 0);
				more_frames = zmq_msg_more(&extra);
				zmq_msg_close(&extra);
			} while (more_frames);
			log_warn("dropped a message with extra frames");
			continue;
		}
		if (msg_decode(zmq_msg_data(&it->data), zmq_msg_size(&it->data),
		    &it->m, &why) == 0)
			it->decoded = 1;
		else
			log_warn("dropped a malformed message: %s", why);
	}
}

/* Signals, read without waiting: the spool drain checks between
 * batches, so that SIGTERM is honoured however long the spool is. */
static void
check_signals(struct verifier *v)
{
	int sig;

	while ((sig = stage_signal(&v->st)) != 0) {
		if (sig == SIGHUP)
			v->reload = 1;
		else
			v->stopping = 1;
	}
}

/*
 * SIGHUP, or the definition directories changed: load them again. A file
 * that is broken now keeps the version loaded before (integ_reload says
 * so in the log). The spool is looked at whole again: what waited for an
 * integration may have it now.
 */
static void
reload(struct verifier *v)
{
	v->reload = 0;
	v->integ_stamp = integ_stamp(&v->cfg);
	integ_reload(&v->integs, &v->cfg, warn_integ);
	subinteg_clear(&v->subintegs);
	log_info("reloaded %d integrations", v->integs.n);
	v->drain_all = 1;
}

/* One spool entry into the batch, copied out of the read transaction. */
static int
spool_item(struct verifier *v, const unsigned char *key, const MDB_val *msg)
{
	struct item *it = &v->batch[v->nbatch];
	const char *why;

	memset(it, 0, sizeof(*it));
	it->spooled = 1;
	memcpy(it->skey, key, SPOOL_KEY_LEN);
	if ((it->owned = malloc(msg->mv_size ? msg->mv_size : 1)) == NULL)
		return -1;
	memcpy(it->owned, msg->mv_data, msg->mv_size);
	if (msg_decode(it->owned, msg->mv_size, &it->m, &why) == 0)
		it->decoded = 1;
	else
		snprintf(it->why, sizeof(it->why), "cannot decode: %s", why);
	v->nbatch++;
	return 0;
}

/*
 * Deliveries the receiver spooled while we were away, a batch at a time
 * from a resume key: every entry is looked at once per pass, whatever
 * becomes of it, and a pass stops at the first batch that cannot be
 * stored (the next tick tries again) or at a signal. A pass takes only
 * the entries due, except after a start or a reload (all): what made
 * them wait (an integration missing) may be fixed.
 */
static void
drain_spool(struct verifier *v, int all)
{
	unsigned char resume[SPOOL_KEY_LEN], key[SPOOL_KEY_LEN];
	int64_t now = all ? INT64_MAX : now_us();
	uint64_t q0 = v->quarantined, d0 = v->delayed;
	int have_resume = 0, total = 0, n, rc;
	MDB_txn *txn;
	MDB_val msg;

	for (;;) {
		check_signals(v);
		if (v->stopping)
			break;
		if ((txn = db_begin(&v->db, DB_SPOOL, 1)) == NULL)
			return;
		for (n = 0; n < BATCH_MAX; n++) {
			if (db_spool_next(txn, &v->db, have_resume ? resume :
			    NULL, now, key, &msg) != 0 ||
			    spool_item(v, key, &msg) == -1)
				break;
			memcpy(resume, key, sizeof(resume));
			have_resume = 1;
		}
		mdb_txn_abort(txn);
		if (v->nbatch == 0)
			break;
		rc = process_batch(v);
		if (rc != 0)
			break;
		total += n;
	}
	if (total > 0)
		log_info("verified %d spooled deliveries (%llu quarantined, "
		    "%llu to try again later)", total, (unsigned long long)
		    (v->quarantined - q0), (unsigned long long)(v->delayed -
		    d0));
}

/*
 * Retention of the events part, the verifier's own: events older than
 * HOOKPIPE_RETENTION that the router has routed (its cursor, read in the
 * runs part) and no run still needs, a batch per transaction; and the
 * delivery ids' day tables past the dedupe window, whole.
 */
static void
prune(struct verifier *v)
{
	int64_t cutoff = now_us() - v->cfg.retention_s * 1000000;
	MDB_txn *txn, *rtxn;
	uint64_t routed;
	int n, rc, total = 0;

	do {
		if ((rtxn = db_begin(&v->db, DB_RUNS, 1)) == NULL)
			return;
		routed = db_cursor(rtxn, &v->db);
		if ((txn = db_begin(&v->db, DB_EVENTS, 0)) == NULL) {
			mdb_txn_abort(rtxn);
			return;
		}
		n = db_events_prune(txn, rtxn, &v->db, cutoff, routed,
		    PRUNE_BATCH, &rc);
		mdb_txn_abort(rtxn);
		if (n < 0 || (rc = db_commit(txn)) != 0) {
			if (n < 0)
				mdb_txn_abort(txn);
			log_warn("cannot prune old events: %s",
			    db_strerror(rc));
			return;
		}
		total += n;
	} while (n >= PRUNE_BATCH);
	if ((txn = db_begin(&v->db, DB_EVENTS, 0)) != NULL) {
		if ((n = db_dedupe_expire(txn, &v->db, now_us())) < 0 ||
		    (rc = db_commit(txn)) != 0) {
			if (n < 0)
				mdb_txn_abort(txn);
			log_warn("cannot drop old delivery ids: %s",
			    db_strerror(n < 0 ? n : rc));
		} else if (n > 0)
			log_info("dropped the delivery ids of %d day(s) past "
			    "the dedupe window", n);
	}
	if (total > 0)
		log_info("pruned %d events older than the retention", total);
	/* Refused deliveries: a week, and no more than REJECTED_MAX. */
	do {
		if ((txn = db_begin(&v->db, DB_EVENTS, 0)) == NULL)
			return;
		n = db_rejected_prune(txn, &v->db, now_us() -
		    (int64_t)REJECTED_KEEP_S * 1000000, REJECTED_MAX,
		    PRUNE_BATCH, &rc);
		if (n < 0 || (rc = db_commit(txn)) != 0) {
			if (n < 0)
				mdb_txn_abort(txn);
			log_warn("cannot prune refused deliveries: %s",
			    db_strerror(rc));
			return;
		}
	} while (n >= PRUNE_BATCH);
}

int
main(int argc, char **argv)
{
	struct verifier *v = calloc(1, sizeof(*v));
	char err[1024];
	int64_t next_tick, next_prune;
	int rc, more = 0;

	if (v == NULL)
		return EXIT_TEMPORARY;
	stage_init(&v->st, "verifier", argc, argv, &v->cfg, usage);
	metrics_open(&v->cfg, "verifier");
	/* Its own part (events) and the spool to write; config for the
	 * subscriptions, runs for the router's cursor (retention). */
	if ((rc = db_open(&v->db, &v->cfg, DB_ALL, 0, err, sizeof(err))) != 0)
		fatal(rc == DB_ESCHEMA ? EXIT_PERMANENT : EXIT_TEMPORARY, "%s",
		    err);
	fanout_init(&v->fan);
	if ((v->clustered = cluster_enabled()) &&
	    (rc = cluster_connect(&v->cl, "hookpipe-verifier", err,
	    sizeof(err))) != 0)
		fatal(rc == 100 ? EXIT_PERMANENT : EXIT_TEMPORARY, "%s", err);
	v->integ_stamp = integ_stamp(&v->cfg);
	v->integs.slim = 1;
	integ_load_all(&v->integs, &v->cfg, warn_integ);
	if (v->integs.n == 0)
		fatal(EXIT_PERMANENT, "no integration definitions in %s or %s",
		    v->cfg.integrations_dir, v->cfg.user_integrations_dir);
	log_info("%d integrations loaded", v->integs.n);

	if ((v->zctx = zmq_ctx_new()) == NULL ||
	    (v->in = zs_socket(v->zctx, ZMQ_ROUTER, 0)) == NULL ||
	    (v->out = zs_socket(v->zctx, ZMQ_PUSH, 0)) == NULL)
		fatal(EXIT_TEMPORARY, "zmq: %s", zmq_strerror(errno));
	if (zs_bind(v->in, &v->cfg, EP_VERIFIER, err, sizeof(err)) == -1 ||
	    zs_connect(v->out, &v->cfg, EP_ROUTER, err, sizeof(err)) == -1 ||
	    tap_open(&v->tap, v->zctx, &v->cfg, "verifier", err,
	    sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);

	/* In cluster mode it keeps (re)connecting to the NATS servers. */
	sandbox_confine(&v->cfg, &(struct sandbox_policy){ .read_keys = 1,
	    .tcp_connect = v->clustered, .nats = v->clustered });
	stage_ready(&v->st, &v->cfg);
	/* The spool is drained on the first tick, once ready: a long one
	 * must not keep the stage from starting. */
	next_tick = next_prune = mono_ms();
	v->drain_all = 1;
	while (!v->stopping) {
		/* In cluster mode, the follower's queue: copied at once. */
		int ffd = v->clustered ? cluster_follow_fd(&v->cl) : -1;
		zmq_pollitem_t items[4] = {
			{ v->in, 0, ZMQ_POLLIN, 0 },
			{ NULL, v->st.sig_fd, ZMQ_POLLIN, 0 },
			{ v->tap.sock, 0, ZMQ_POLLIN, 0 },
			{ NULL, ffd, ZMQ_POLLIN, 0 },
		};
		int64_t wait = more ? 0 : next_tick - mono_ms();
		int ready;

		if ((ready = zmq_poll(items, ffd >= 0 ? 4 : 3, wait < 0 ? 0 :
		    (long)wait)) == -1 && errno != EINTR)
			fatal(EXIT_TEMPORARY, "zmq_poll: %s",
			    zmq_strerror(errno));
		if (stage_pass(&v->st, ready > 0 || more))
			db_unmap_read(&v->db);
		if (items[2].revents & ZMQ_POLLIN)
			tap_poll(&v->tap);
		if (items[0].revents & ZMQ_POLLIN) {
			drain(v);
			process_batch(v);
		}
		if (items[1].revents & ZMQ_POLLIN)
			check_signals(v);
		if (v->reload)
			reload(v);
		more = follow(v) == BATCH_MAX;
		if (mono_ms() >= next_tick) {
			if (integ_stamp(&v->cfg) != v->integ_stamp)
				reload(v);
			drain_spool(v, v->drain_all);
			v->drain_all = 0;
			db_reader_check(&v->db);
			metrics_db(&v->db, DB_PART(DB_EVENTS));
			if (mono_ms() >= next_prune) {
				prune(v);
				next_prune = mono_ms() + PRUNE_EVERY_MS;
			}
			next_tick = mono_ms() + TICK_MS;
		}
	}
	/* Answer what was already received, then go. */
	drain(v);
	process_batch(v);
	log_info("stopping: %llu stored, %llu rejected, %llu duplicates",
	    (unsigned long long)v->stored, (unsigned long long)v->rejected,
	    (unsigned long long)v->duplicates);
	tap_close(&v->tap);
	zmq_close(v->in);
	zmq_close(v->out);
	zmq_ctx_term(v->zctx);
	subinteg_clear(&v->subintegs);
	integ_free_all(&v->integs);
	buf_free(&v->hbuf);
	db_close(&v->db);
	if (v->clustered) {
		fanout_stop(&v->fan);
		cluster_close(&v->cl);
	}
	stage_exit(&v->st, &v->cfg);
	free(v);
	return 0;
}
