/*
 * The receiver's HTTP side: libmicrohttpd handlers for deliveries,
 * /healthz and /metrics, the table of requests waiting for a verdict,
 * and the spool for when the verifier is away.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <zmq.h>

#include "handshake.h"
#include "log.h"
#include "msg.h"
#include "receiver.h"

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* Once a minute at most: for log lines an attacker could repeat. */
static int
rate_ok(int64_t *last)
{
	int64_t now = mono_ms();

	if (*last != 0 && now - *last < 60000)
		return 0;
	*last = now;
	return 1;
}

/* --- connections --- */

static struct conn_list *
conn_list_of(struct receiver *rx, const struct conn *cn)
{
	switch (cn->state) {
	case CONN_WAITING:
		return &rx->waiting;
	case CONN_BUSY:
		return &rx->busy;
	default:
		return NULL;
	}
}

/* Append: the waiting list stays in the order of phase_start. */
static void
conn_link(struct receiver *rx, struct conn *cn, enum conn_state state)
{
	struct conn_list *l;

	cn->state = state;
	cn->phase_start = mono_ms();
	if ((l = conn_list_of(rx, cn)) == NULL)
		return;
	cn->next = NULL;
	cn->prev = l->tail;
	if (l->tail)
		l->tail->next = cn;
	else
		l->head = cn;
	l->tail = cn;
	l->n++;
}

static void
conn_unlink(struct receiver *rx, struct conn *cn)
{
	struct conn_list *l;

	if ((l = conn_list_of(rx, cn)) == NULL)
		return;
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		l->head = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	else
		l->tail = cn->prev;
	cn->prev = cn->next = NULL;
	l->n--;
}

/* A request's headers are in (busy), or its answer is sent (waiting). */
static void
conn_set(struct receiver *rx, struct conn *cn, enum conn_state state)
{
	if (cn == NULL || cn->state == CONN_CLOSING)
		return;
	conn_unlink(rx, cn);
	conn_link(rx, cn, state);
}

static void
conn_close(struct receiver *rx, struct conn *cn)
{
	conn_unlink(rx, cn);
	cn->state = CONN_CLOSING;
	/* libmicrohttpd sees the end of the stream and closes it. */
	if (cn->fd >= 0)
		shutdown(cn->fd, SHUT_RDWR);
}

/*
 * A connection that has not sent its headers, or sits idle between
 * requests, holds one of conn_max slots and gives nothing back. Once all
 * are taken, libmicrohttpd closes every new connection at accept:
 * /healthz and real senders with the rest. HOOKPIPE_CONN_PER_CLIENT
 * stops one address from doing that; many addresses (or all clients
 * behind a proxy) need more, so:
 *
 *  - past half the slots, the header deadline drops from 30 s to 5 s
 *    (rx_enforce_deadlines): a real sender's headers follow its connect
 *    within a round trip;
 *  - past conn_high(), each new connection closes the one that has
 *    waited longest without a request. A connection whose request is in
 *    (busy) is never taken, and the newcomer is last in line: to push a
 *    real sender out before its headers arrive, an attacker must open
 *    more connections than there are waiting ones within that round
 *    trip. The slots above conn_high() absorb the connections accepted
 *    before libmicrohttpd has closed the ones shut down.
 */
static int
conn_high(const struct receiver *rx)
{
	return rx->conn_max - rx->conn_max / 32;
}

static void
conn_make_room(struct receiver *rx)
{
	static int64_t logged;

	if (rx->waiting.head == NULL ||
	    rx->waiting.n + rx->busy.n < conn_high(rx))
		return;
	conn_close(rx, rx->waiting.head);
	rx->evicted++;
	if (rate_ok(&logged))
		log_warn("%d connections open: closing the ones that waited "
		    "longest for a request to make room (%llu so far)",
		    rx->nconns, (unsigned long long)rx->evicted);
}

/* --- the budget for bodies in memory --- */

/*
 * A delivery's body is held whole (its signature covers all of it) until
 * its verdict, and all the bodies held at once stay within
 * HOOKPIPE_BODY_BUDGET. What is charged is what is allocated, the
 * buffer's capacity, in two parts:
 *
 *  - every body may take a small share, body_share(): half the budget
 *    over conn_max, 8 KiB by default. There is one body per connection
 *    at most, so these shares never exceed half the budget, and a body
 *    within its share (most webhooks) is never refused for the budget,
 *    whatever an attacker holds;
 *  - what a body takes beyond its share comes from the other half,
 *    shared by all (rx->body_shared). A delivery whose body would take
 *    it past that half is read on without being kept and answered 503
 *    with Retry-After (a declared Content-Length that does not fit, at
 *    once). config_load and rx_cap_limits keep every body limit within
 *    that half, so the largest body fits when nothing else is held.
 */
static size_t
body_share(const struct receiver *rx)
{
	return (size_t)rx->cfg.body_budget / 2 / (size_t)rx->conn_max;
}

static size_t
body_excess(const struct receiver *rx, size_t cap)
{
	return cap > body_share(rx) ? cap - body_share(rx) : 0;
}

/* Would a body's buffer fit the budget at cap bytes instead of old? */
static int
body_fits(const struct receiver *rx, size_t old, size_t cap)
{
	return rx->body_shared - body_excess(rx, old) + body_excess(rx, cap)
	    <= (size_t)rx->cfg.body_budget / 2;
}

/* Room for n more bytes of rq's body: 0, or -1 over the budget. */
static int
body_grow(struct receiver *rx, struct request *rq, size_t n)
{
	struct buf *b = &rq->body;
	size_t need = b->len + n + 1, cap;
	char *p;

	if (need <= b->cap)
		return 0;
	/* Double (up to the limit), or take exactly what is needed when
	 * doubling does not fit. */
	cap = b->cap ? b->cap * 2 : 1024;
	if (cap > rq->limit + 1)
		cap = rq->limit + 1;
	if (cap < need || !body_fits(rx, b->cap, cap))
		cap = need;
	if (!body_fits(rx, b->cap, cap) ||
	    (p = realloc(b->data, cap)) == NULL)
		return -1;
	rx->body_shared += body_excess(rx, cap) - body_excess(rx, b->cap);
	rx->body_bytes += cap - b->cap;
	b->data = p;
	b->cap = cap;
	return 0;
}

static void
body_release(struct receiver *rx, struct request *rq)
{
	rx->body_shared -= body_excess(rx, rq->body.cap);
	rx->body_bytes -= rq->body.cap;
	buf_free(&rq->body);
}

static enum MHD_Result respond_json(struct receiver *, struct MHD_Connection *,
    int, const char *, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
refuse_over_budget(struct receiver *rx, struct MHD_Connection *c)
{
	static int64_t logged;

	rx->refused_budget++;
	if (rate_ok(&logged))
		log_warn("bodies in memory at HOOKPIPE_BODY_BUDGET (%zu of "
		    "%lld bytes held): answering 503 (%llu so far)",
		    rx->body_bytes, (long long)rx->cfg.body_budget,
		    (unsigned long long)rx->refused_budget);
	return respond_json(rx, c, 503, "{\"error\":\"too many deliveries "
	    "in progress: retry later\"}");
}

/* --- the table of requests waiting for a verdict --- */

static void
waiting_add(struct receiver *rx, struct request *rq)
{
	struct request **b = &rx->hash[rq->id & (HASH_SIZE - 1)];

	rq->hnext = *b;
	*b = rq;
	rq->prev = rx->newest;
	rq->next = NULL;
	if (rx->newest)
		rx->newest->next = rq;
	else
		rx->oldest = rq;
	rx->newest = rq;
	rx->inflight++;
	rq->state = REQ_WAITING;
}

static void
waiting_del(struct receiver *rx, struct request *rq)
{
	struct request **b = &rx->hash[rq->id & (HASH_SIZE - 1)];

	for (; *b != NULL; b = &(*b)->hnext)
		if (*b == rq) {
			*b = rq->hnext;
			break;
		}
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		rx->oldest = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	else
		rx->newest = rq->prev;
	rq->prev = rq->next = rq->hnext = NULL;
	rx->inflight--;
	if (rq->unsent) {
		rq->unsent = 0;
		rx->unsent--;
	}
}

static struct request *
waiting_find(struct receiver *rx, uint64_t id)
{
	struct request *rq = rx->hash[id & (HASH_SIZE - 1)];

	while (rq != NULL && rq->id != id)
		rq = rq->hnext;
	return rq;
}

/* --- responses --- */

enum MHD_Result
respond(struct receiver *rx, struct MHD_Connection *c, int status,
    const char *ctype, const char *body, const char *allow, int retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char ra[16];

	if (body == NULL)
		body = "";	/* out of memory on the way here */
	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (*body != '\0')
		MHD_add_response_header(r, "Content-Type", ctype);
	if (allow != NULL)
		MHD_add_response_header(r, "Allow", allow);
	/* A receiver on its way out sends keep-alive clients to its
	 * successor: each closes after its current answer. */
	if (rx->draining)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	if (status >= 100 && status < 600)
		rx->by_status[status / 100]++;
	return ret;
}

enum MHD_Result
respond_hs(struct receiver *rx, struct MHD_Connection *c, int status,
    const char *ctype, const char *body, const char *headers)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *p = headers, *nl, *colon;
	char name[80], value[1024];

	if (body == NULL)
		body = "";
	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (*body != '\0' && ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	/* The verifier made these lines (one header each, printable). */
	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		colon = strchr(p, ':');
		if (nl == NULL || colon == NULL || colon > nl)
			break;
		if (colon + 1 < nl && colon[1] == ' ') {
			snprintf(name, sizeof(name), "%.*s", (int)(colon - p),
			    p);
			snprintf(value, sizeof(value), "%.*s",
			    (int)(nl - colon - 2), colon + 2);
			MHD_add_response_header(r, name, value);
		}
		p = nl + 1;
	}
	if (rx->draining)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	if (status >= 100 && status < 600)
		rx->by_status[status / 100]++;
	return ret;
}

static enum MHD_Result
respond_json(struct receiver *rx, struct MHD_Connection *c, int status,
    const char *fmt, ...)
{
	char body[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return respond(rx, c, status, "application/json", body, NULL,
	    status == 503 ? 5 : 0);
}

/* Renew the shared read txn: 0 or an LMDB code. mdb_txn_reset after. */
static int
rtxn_renew(struct receiver *rx)
{
	int rc;

	if ((rc = mdb_txn_renew(rx->rtxn)) == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		mdb_env_set_mapsize(rx->db.part[DB_CONFIG].env, 0);
		rc = mdb_txn_renew(rx->rtxn);
	}
	return rc;
}

static enum MHD_Result
healthz(struct receiver *rx, struct MHD_Connection *c)
{
	char missing[128] = "";
	size_t i;

	for (i = 1; i < 4; i++)
		if (!stage_is_up(&rx->cfg, stage_names[i]))
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), "%s\"%s\"", missing[0] ? "," : "",
			    stage_names[i]);
	if (missing[0] == '\0')
		return respond_json(rx, c, 200, "{\"status\":\"ok\"}");
	return respond(rx, c, 503, "application/json", (snprintf(rx->scratch,
	    sizeof(rx->scratch), "{\"status\":\"degraded\",\"missing\":[%s]}",
	    missing), rx->scratch), NULL, 0);
}

/* The lifecycle's counters (hookpipe lifecycle keeps them in db/config). */
static int
life_counter(void *arg, const char *name, int64_t n)
{
	buf_appendf(arg, "hookpipe_lifecycle_total{what=\"%s\"} %lld\n", name,
	    (long long)n);
	return 0;
}

static enum MHD_Result
metrics(struct receiver *rx, struct MHD_Connection *c)
{
	struct buf b = { 0 };
	enum MHD_Result ret;
	int64_t spool = -1;
	int i;

	{
		MDB_txn *txn = db_begin(&rx->db, DB_SPOOL, 1);

		if (txn != NULL) {
			spool = (int64_t)db_spool_bytes(txn, &rx->db);
			mdb_txn_abort(txn);
		}
	}
	buf_appendf(&b, "# HELP hookpipe_receiver_responses_total HTTP "
	    "responses by status class.\n"
	    "# TYPE hookpipe_receiver_responses_total counter\n");
	for (i = 1; i < 6; i++)
		buf_appendf(&b, "hookpipe_receiver_responses_total{class="
		    "\"%dxx\"} %llu\n", i,
		    (unsigned long long)rx->by_status[i]);
	buf_appendf(&b, "# HELP hookpipe_receiver_spooled_total Deliveries "
	    "spooled while the verifier was away.\n"
	    "# TYPE hookpipe_receiver_spooled_total counter\n"
	    "hookpipe_receiver_spooled_total %llu\n"
	    "# HELP hookpipe_receiver_inflight Deliveries waiting for a "
	    "verdict.\n# TYPE hookpipe_receiver_inflight gauge\n"
	    "hookpipe_receiver_inflight %d\n",
	    (unsigned long long)rx->spooled, rx->inflight);
	buf_appendf(&b, "# HELP hookpipe_receiver_connections Open "
	    "connections.\n# TYPE hookpipe_receiver_connections gauge\n"
	    "hookpipe_receiver_connections %d\n"
	    "# HELP hookpipe_receiver_connections_evicted_total Connections "
	    "closed before their request to make room for new ones.\n"
	    "# TYPE hookpipe_receiver_connections_evicted_total counter\n"
	    "hookpipe_receiver_connections_evicted_total %llu\n"
	    "# HELP hookpipe_receiver_body_bytes Bytes held for request "
	    "bodies.\n# TYPE hookpipe_receiver_body_bytes gauge\n"
	    "hookpipe_receiver_body_bytes %zu\n"
	    "# HELP hookpipe_receiver_body_budget_bytes "
	    "HOOKPIPE_BODY_BUDGET.\n"
	    "# TYPE hookpipe_receiver_body_budget_bytes gauge\n"
	    "hookpipe_receiver_body_budget_bytes %lld\n"
	    "# HELP hookpipe_receiver_spool_bytes Bytes the spool takes.\n"
	    "# TYPE hookpipe_receiver_spool_bytes gauge\n"
	    "hookpipe_receiver_spool_bytes %lld\n"
	    "# HELP hookpipe_receiver_refused_total Deliveries refused to "
	    "keep the receiver within its limits, by reason.\n"
	    "# TYPE hookpipe_receiver_refused_total counter\n"
	    "hookpipe_receiver_refused_total{reason=\"body_budget\"} %llu\n"
	    "hookpipe_receiver_refused_total{reason=\"spool_full\"} %llu\n"
	    "hookpipe_receiver_refused_total{reason=\"unsigned\"} %llu\n",
	    rx->nconns, (unsigned long long)rx->evicted, rx->body_bytes,
	    (long long)rx->cfg.body_budget, (long long)spool,
	    (unsigned long long)rx->refused_budget,
	    (unsigned long long)rx->refused_spool_full,
	    (unsigned long long)rx->refused_unsigned);
	for (i = 1; i < 4; i++)
		buf_appendf(&b, "hookpipe_stage_up{stage=\"%s\"} %d\n",
		    stage_names[i], stage_is_up(&rx->cfg, stage_names[i]));
	{
		MDB_txn *txn = db_begin(&rx->db, DB_CONFIG, 1);

		if (txn != NULL) {
			buf_appendf(&b, "# HELP hookpipe_lifecycle_total What "
			    "the lifecycle did: renewals, token refreshes, "
			    "checks, silences, by outcome.\n"
			    "# TYPE hookpipe_lifecycle_total counter\n");
			db_life_counters(txn, &rx->db, life_counter, &b);
			mdb_txn_abort(txn);
		}
	}
	ret = respond(rx, c, 200, "text/plain; version=0.0.4", b.data, NULL,
	    0);
	buf_free(&b);
	return ret;
}

/* --- handing deliveries to the verifier --- */

#define PACK_KEEP	(1 << 20)	/* message buffer kept between uses */

struct hdr_collect {
	struct mpw	*w;
	const char	*k[HEADERS_MAX];
	const char	*v[HEADERS_MAX];
	size_t		 n;
};

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_collect *h = cls;

	(void)kind;
	if (h->n < HEADERS_MAX && key != NULL) {
		h->k[h->n] = key;
		h->v[h->n++] = value ? value : "";
	}
	return MHD_YES;
}

static void
pack_verify(struct receiver *rx, struct request *rq)
{
	static struct msg_verify v;	/* large: 128 headers */
	struct hdr_collect h;
	struct conn *cn = conn_of(rq->conn);
	char path[sizeof(PLUGIN_PREFIX) + UUID_LEN], lower[HEADERS_MAX][256];
	size_t i, j;

	memset(&h, 0, sizeof(h));
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, collect_header,
	    &h);
	memset(&v, 0, sizeof(v));
	snprintf(v.req_id, sizeof(v.req_id), "%llu",
	    (unsigned long long)rq->id);
	str_copy(v.sub, rq->sub, sizeof(v.sub));
	str_copy(v.event_id, rq->event_id, sizeof(v.event_id));
	v.received_at = rq->received_at;
	str_copy(v.method, rq->method[0] ? rq->method : "POST",
	    sizeof(v.method));
	snprintf(path, sizeof(path), "%s%s", PLUGIN_PREFIX, rq->sub);
	v.path = (struct msg_str){ path, strlen(path) };
	if (cn != NULL && cn->query != NULL)
		v.query = (struct msg_str){ cn->query, strlen(cn->query) };
	for (i = 0; i < h.n && i < MSG_HEADERS_MAX; i++) {
		for (j = 0; h.k[i][j] != '\0' && j < sizeof(lower[0]) - 1; j++)
			lower[i][j] = (char)((h.k[i][j] >= 'A' &&
			    h.k[i][j] <= 'Z') ? h.k[i][j] + 32 : h.k[i][j]);
		lower[i][j] = '\0';
		v.headers[i].name = (struct msg_str){ lower[i], j };
		v.headers[i].value = (struct msg_str){ h.v[i],
		    strlen(h.v[i]) };
	}
	v.nheaders = i;
	v.body = (struct msg_str){ rq->body.data ? rq->body.data : "",
	    rq->body.len };
	/* A large body left a large buffer behind: give it back. */
	if (rx->w.sb.alloc > PACK_KEEP) {
		mpw_free(&rx->w);
		mpw_init(&rx->w);
	}
	mpw_reset(&rx->w);
	msg_verify_pack(&rx->w, &v);
}

#define SPOOL_FULL	(-2)

/*
 * Store the packed delivery in the spool, fsync'd: 0, SPOOL_FULL when it
 * would take the spool past HOOKPIPE_SPOOL_MAX, or an LMDB code.
 */
static int
spool_once(struct receiver *rx, struct request *rq, int regrown)
{
	MDB_txn *txn;
	int64_t used;
	int rc;

	if ((txn = db_begin(&rx->db, DB_SPOOL, 0)) == NULL)
		return EIO;
	used = (int64_t)db_spool_bytes(txn, &rx->db);
	if (used + (int64_t)rx->w.sb.size > rx->cfg.spool_max) {
		mdb_txn_abort(txn);
		return SPOOL_FULL;
	}
	rc = db_spool_put(txn, &rx->db, rq->received_at, rq->event_id,
	    rx->w.sb.data, rx->w.sb.size);
	if (rc == 0)
		rc = db_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc == MDB_MAP_FULL && !regrown && db_grow(&rx->db, DB_SPOOL) == 0)
		return spool_once(rx, rq, 1);
	return rc;
}

/* The first of the integration's signature headers rq lacks, or NULL. */
static const char *
missing_sig_header(const struct request *rq, const struct integ *ig)
{
	const char *name;
	json_t *v;
	size_t i;

	json_array_foreach(ig->sig_headers, i, v)
		if ((name = json_string_value(v)) != NULL &&
		    MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
		    name) == NULL)
			return name;
	return NULL;
}

/*
 * While the verifier is away, the spool takes what the verifier will
 * judge later, and a 202 tells the sender it is done. Anyone can post,
 * so it takes only what could pass: a delivery for an existing
 * subscription (begin_delivery saw to that) that carries every header
 * its integration signs with (one that lacks a header gets the
 * verifier's 401 now, rather than a 202 and a silent drop later), and
 * only while the spool stays under HOOKPIPE_SPOOL_MAX bytes (503 past
 * it, so that senders retry once the verifier is back).
 */
static void
answer_spooled(struct receiver *rx, struct request *rq)
{
	static int64_t logged, logged_unsigned;
	static struct integ derived;	/* large: not on the stack */
	const struct integ *ig = integ_find(&rx->integs, rq->integ);
	const char *missing;
	char body[256], err[512];
	json_t *o;
	int rc;

	rq->state = REQ_ANSWERED;
	rq->ctype = "application/json";
	/* A handshake is answered now or not at all: never spooled. */
	if (strcmp(rq->method, "GET") == 0) {
		rq->status = 503;
		rq->retry_after = 5;
		rq->answer = strdup("{\"error\":\"the verifier is away: "
		    "the handshake cannot be answered now, retry later\"}");
		return;
	}
	if (ig == NULL) {
		rq->status = 503;
		rq->retry_after = 5;
		rq->answer = strdup("{\"error\":\"the subscription's "
		    "integration is not loaded (see the receiver log)\"}");
		return;
	}
	/* The generic webhook integration signs with the headers each
	 * subscription names. */
	if (ig->derive) {
		struct sub_rec sub;

		rc = rtxn_renew(rx);
		if (rc == 0) {
			rc = db_sub_get(rx->rtxn, &rx->db, rq->sub, &sub);
			mdb_txn_reset(rx->rtxn);
		}
		if (rc != 0 || integ_derive(ig, sub.params, &derived, err,
		    sizeof(err)) == -1) {
			rq->status = 503;
			rq->retry_after = 5;
			rq->answer = strdup("{\"error\":\"the subscription's "
			    "params do not fit its integration (see the "
			    "verifier log)\"}");
			return;
		}
		missing = missing_sig_header(rq, &derived);
		json_decref(derived.def);
	} else
		missing = missing_sig_header(rq, ig);
	if (missing != NULL) {
		rx->refused_unsigned++;
		snprintf(body, sizeof(body), "missing %s header", missing);
		if (rate_ok(&logged_unsigned))
			log_info("verifier away: refused delivery for %s: 401 "
			    "%s (%llu refused so far)", rq->sub, body,
			    (unsigned long long)rx->refused_unsigned);
		o = json_pack("{s:s}", "error", body);
		rq->status = 401;
		rq->answer = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		return;
	}
	/* The shared read txn pins the map size: let go of it first. */
	rc = spool_once(rx, rq, 0);
	if (rc == 0) {
		rx->spooled++;
		snprintf(body, sizeof(body), "{\"status\":\"accepted\","
		    "\"event_id\":\"%s\"}", rq->event_id);
		rq->status = 202;
		log_info("verifier away: spooled delivery %s for %s",
		    rq->event_id, rq->sub);
	} else if (rc == SPOOL_FULL) {
		rx->refused_spool_full++;
		snprintf(body, sizeof(body), "{\"error\":\"the verifier is "
		    "away and the spool is full: retry later\"}");
		rq->status = 503;
		rq->retry_after = 30;
		if (rate_ok(&logged))
			log_warn("verifier away and the spool at "
			    "HOOKPIPE_SPOOL_MAX (%lld bytes): answering 503 "
			    "(%llu so far)", (long long)rx->cfg.spool_max,
			    (unsigned long long)rx->refused_spool_full);
	} else {
		snprintf(body, sizeof(body), "{\"error\":\"cannot store the "
		    "delivery right now\"}");
		rq->status = 503;
		rq->retry_after = 5;
		log_warn("cannot spool delivery for %s: %s", rq->sub,
		    rc == EIO ? "no transaction" : db_strerror(rc));
	}
	rq->answer = strdup(body);
}

/* The whole body is in: hand it over, or spool it. */
static enum MHD_Result
submit(struct receiver *rx, struct request *rq)
{
	const struct integ *ig = integ_find(&rx->integs, rq->integ);

	/* A handshake that hands over a secret is a write to the
	 * subscription: the receiver's to answer. */
	if (ig != NULL && (ig->hs_methods & HS_POST) &&
	    strcmp(rq->method, "POST") == 0 &&
	    rx_handshake_secret(rx, rq, ig))
		return respond_hs(rx, rq->conn, rq->status, rq->ctype,
		    rq->answer, rq->hs_headers);
	rq->received_at = now_us();
	uuid7(rq->event_id);
	pack_verify(rx, rq);
	/* Draining still verifies: the verifier is there, only this
	 * receiver is going. Past the drain deadline, it spools. */
	if (rx->inflight < INFLIGHT_MAX && !(rx->draining &&
	    mono_ms() >= rx->drain_deadline)) {
		int sent = zs_send(rx->verifier, rx->w.sb.data, rx->w.sb.size,
		    0) == 0;

		/*
		 * Not sent, but the verifier holds its lock: our connection
		 * to it is not up yet (it, or we, just started). Hold the
		 * delivery a moment instead of spooling it.
		 */
		if (sent || (errno == EAGAIN &&
		    stage_is_up(&rx->cfg, "verifier"))) {
			rq->sent_ms = mono_ms();
			waiting_add(rx, rq);
			if (!sent) {
				rq->unsent = 1;
				rx->unsent++;
			}
			MHD_suspend_connection(rq->conn);
			return MHD_YES;
		}
	}
	answer_spooled(rx, rq);
	return respond(rx, rq->conn, rq->status, rq->ctype, rq->answer, NULL,
	    rq->retry_after);
}

void
rx_warn_integ(const char *msg)
{
	log_warn("integration definition refused: %s", msg);
}

void
rx_reload(struct receiver *rx)
{
	rx->reload = 0;
	rx->integ_stamp = integ_stamp(&rx->cfg);
	integ_reload(&rx->integs, &rx->cfg, rx_warn_integ);
	rx_cap_limits(rx);
	log_info("reloaded %d integrations", rx->integs.n);
}

const struct integ *
rx_integ(struct receiver *rx, const char *name)
{
	const struct integ *ig = integ_find(&rx->integs, name);

	if (ig == NULL && mono_ms() - rx->integ_looked >= 100) {
		rx->integ_looked = mono_ms();
		if (integ_stamp(&rx->cfg) != rx->integ_stamp)
			rx_reload(rx);
		ig = integ_find(&rx->integs, name);
	}
	return ig;
}

struct hdr_check {
	int	 content_length;	/* how many */
	int	 transfer_encoding;
	int	 nul;			/* a NUL inside a name or value */
};

static enum MHD_Result
check_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct hdr_check *h = cls;

	(void)kind;
	if (key == NULL || strlen(key) != key_size ||
	    (value != NULL && strlen(value) != value_size))
		h->nul = 1;
	if (key != NULL && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) ==
	    0)
		h->content_length++;
	if (key != NULL && strcasecmp(key,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		h->transfer_encoding++;
	return MHD_YES;
}

/*
 * Framing a proxy and we could read differently (two Content-Lengths, or
 * one with Transfer-Encoding: RFC 9112 §6.1) is refused, and the
 * connection closed; so is a NUL byte in a header, which would cut what
 * the verifier sees short of what was signed.
 */
static enum MHD_Result
refuse_smuggling(struct receiver *rx, struct MHD_Connection *c, int *refused)
{
	struct hdr_check h = { 0, 0, 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *why = NULL;

	*refused = 0;
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, check_header, &h);
	if (h.nul)
		why = "{\"error\":\"a header contains a NUL byte\"}";
	else if (h.content_length > 1)
		why = "{\"error\":\"more than one Content-Length\"}";
	else if (h.content_length > 0 && h.transfer_encoding > 0)
		why = "{\"error\":\"both Content-Length and "
		    "Transfer-Encoding\"}";
	if (why == NULL)
		return MHD_YES;
	*refused = 1;
	r = MHD_create_response_from_buffer(strlen(why), (void *)why,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, 400, r);
	MHD_destroy_response(r);
	rx->by_status[4]++;
	return ret;
}

/* Set up a POST /triggers/plugin/{id} before its body arrives. */
static enum MHD_Result
begin_delivery(struct receiver *rx, struct MHD_Connection *c,
    const char *url, const char *method, void **req_cls)
{
	const char *id = url + strlen(PLUGIN_PREFIX), *cl;
	const struct integ *ig;
	struct sub_rec sub;
	struct request *rq;
	int64_t limit = rx->cfg.max_body, len;
	int rc;

	int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
	char allow[32];

	if (strcmp(method, "POST") != 0 && !get && !head)
		return respond(rx, c, 405, "application/json",
		    "{\"error\":\"only POST is allowed\"}", "POST", 0);
	if (!uuid_valid(id))
		return respond_json(rx, c, 404,
		    "{\"error\":\"no such subscription\"}");
	if ((rc = rtxn_renew(rx)) == 0) {
		rc = db_sub_get(rx->rtxn, &rx->db, id, &sub);
		mdb_txn_reset(rx->rtxn);
	}
	if (rc != 0)
		return respond_json(rx, c, rc == MDB_NOTFOUND || rc == -1 ?
		    404 : 503, rc == MDB_NOTFOUND || rc == -1 ?
		    "{\"error\":\"no such subscription\"}" :
		    "{\"error\":\"cannot read the subscription\"}");
	ig = rx_integ(rx, sub.integration);
	/* GET and HEAD are for the handshakes the integration declares. */
	if ((get || head) && (ig == NULL || !(ig->hs_methods & (get ? HS_GET :
	    HS_HEAD)))) {
		if (ig != NULL)
			hs_allow(ig, allow, sizeof(allow));
		return respond(rx, c, 405, "application/json", get ?
		    "{\"error\":\"only POST is allowed: integration has no "
		    "GET handshake\"}" : "", ig ? allow : "POST", 0);
	}
	if (head)
		return rx_handshake_head(rx, c, ig, &sub);
	if (ig != NULL && ig->max_body > 0)
		limit = ig->max_body;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && parse_i64(cl, 0, INT64_MAX, &len) == 0 &&
	    len > limit)
		return respond_json(rx, c, 413, "{\"error\":\"body of %lld "
		    "bytes is over the limit of %lld\"}", (long long)len,
		    (long long)limit);
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	rq->start_ms = mono_ms();
	rq->id = ++rx->next_id;
	rq->conn = c;
	str_copy(rq->method, method, sizeof(rq->method));
	str_copy(rq->integ, sub.integration, sizeof(rq->integ));
	rq->limit = (size_t)limit;
	str_copy(rq->sub, id, sizeof(rq->sub));
	/* A declared body takes its room in the budget now, or is refused
	 * before the sender has sent it. */
	if (cl != NULL && parse_i64(cl, 1, INT64_MAX, &len) == 0 &&
	    body_grow(rx, rq, (size_t)len) == -1) {
		free(rq);
		return refuse_over_budget(rx, c);
	}
	*req_cls = rq;
	return MHD_YES;
}

/* "/oauth/{integration}/callback" */
static int
oauth_path(const char *url, char *integ, size_t len)
{
	const char *p, *slash;

	if (strncmp(url, "/oauth/", 7) != 0)
		return 0;
	p = url + 7;
	if ((slash = strchr(p, '/')) == NULL || strcmp(slash, "/callback") !=
	    0 || (size_t)(slash - p) >= len)
		return 0;
	memcpy(integ, p, (size_t)(slash - p));
	integ[slash - p] = '\0';
	return name_valid(integ);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct receiver *rx = cls;
	struct request *rq = *req_cls;
	char integ[NAME_MAX_LEN + 1];

	(void)version;
	if (rq == NULL) {
		struct conn *cn = conn_of(c);
		int refused;
		enum MHD_Result ret;

		conn_set(rx, cn, CONN_BUSY);
		ret = refuse_smuggling(rx, c, &refused);

		if (refused || ret == MHD_NO)
			return ret;
		if (strcmp(url, "/healthz") == 0 || strcmp(url,
		    "/metrics") == 0) {
			if (strcmp(method, "GET") != 0 &&
			    strcmp(method, "HEAD") != 0)
				return respond(rx, c, 405, "", "", "GET", 0);
			return url[1] == 'h' ? healthz(rx, c) : metrics(rx, c);
		}
		if (oauth_path(url, integ, sizeof(integ))) {
			if (strcmp(method, "GET") != 0)
				return respond(rx, c, 405, "", "", "GET", 0);
			return oauth_begin(rx, c, integ, req_cls);
		}
		if (strncmp(url, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) != 0)
			return respond_json(rx, c, 404,
			    "{\"error\":\"not found\"}");
		return begin_delivery(rx, c, url, method, req_cls);
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		/* A body trickling in a byte at a time never trips the idle
		 * timeout: give the whole body a deadline. */
		if (mono_ms() - rq->start_ms > BODY_DEADLINE_MS) {
			log_info("closed a delivery whose body took over %d s",
			    BODY_DEADLINE_MS / 1000);
			return MHD_NO;
		}
		*upload_size = 0;
		rq->received += n;
		if (!rq->too_large && rq->received > rq->limit) {
			rq->too_large = 1;
			body_release(rx, rq);
		}
		if (!rq->too_large && !rq->over_budget &&
		    body_grow(rx, rq, n) == -1) {
			rq->over_budget = 1;
			body_release(rx, rq);
		}
		if (rq->too_large || rq->over_budget) {
			/* Read on to answer 413 or 503, but not forever. */
			return rq->received > 4 * rq->limit + (1 << 20) ?
			    MHD_NO : MHD_YES;
		}
		memcpy(rq->body.data + rq->body.len, upload, n);
		rq->body.len += n;
		rq->body.data[rq->body.len] = '\0';
		return MHD_YES;
	}
	if (rq->kind == REQ_OAUTH)
		return rq->state == REQ_ANSWERED ? respond(rx, c, rq->status,
		    rq->ctype, rq->answer, NULL, 0) : MHD_YES;
	switch (rq->state) {
	case REQ_READING:
		if (rq->too_large)
			return respond_json(rx, c, 413, "{\"error\":\"body is "
			    "over the limit of %zu bytes\"}", rq->limit);
		if (rq->over_budget)
			return refuse_over_budget(rx, c);
		return submit(rx, rq);
	case REQ_ANSWERED:
		if (rq->hs_ctype != NULL || rq->hs_headers != NULL)
			return respond_hs(rx, c, rq->status, rq->hs_ctype ?
			    rq->hs_ctype : rq->ctype, rq->answer,
			    rq->hs_headers);
		return respond(rx, c, rq->status, rq->ctype, rq->answer, NULL,
		    rq->retry_after);
	default:
		return MHD_YES;	/* still waiting */
	}
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct receiver *rx = cls;
	struct request *rq = *req_cls;
	struct conn *cn = conn_of(c);

	(void)toe;
	conn_set(rx, cn, CONN_WAITING);
	if (rq == NULL)
		return;
	if (rq->state == REQ_WAITING && rq->kind == REQ_DELIVERY)
		waiting_del(rx, rq);
	oauth_abort(rx, rq);
	buf_free(&rq->reply);
	body_release(rx, rq);
	free(rq->answer);
	free(rq->hs_ctype);
	free(rq->hs_headers);
	free(rq);
	*req_cls = NULL;
}

/* Stop accepting; let the requests in flight finish. */
void
rx_start_draining(struct receiver *rx)
{
	/* Keep the listening socket: should the successor die, the next
	 * one takes it from us again, and no queued connection is lost. */
	rx->quiesced_fd = MHD_quiesce_daemon(rx->httpd);
	rx->draining = 1;
	rx->drain_deadline = mono_ms() + rx->cfg.verify_timeout_ms;
	log_info("stopping: draining %d requests", rx->inflight);
}

static void
tap_verdict(struct receiver *rx, const struct request *rq)
{
	json_t *o;

	if (!tap_active(&rx->tap))
		return;
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "stage", "receiver",
	    "message", "response", "subscription", rq->sub, "event_id",
	    rq->event_id, "status", rq->status, "bytes",
	    (json_int_t)rq->body.len);
	tap_publish(&rx->tap, o, NULL);
}

static void
finish(struct receiver *rx, struct request *rq)
{
	waiting_del(rx, rq);
	rq->state = REQ_ANSWERED;
	tap_verdict(rx, rq);
	MHD_resume_connection(rq->conn);
}

/* Verdicts from the verifier. */
void
rx_read_verdicts(struct receiver *rx)
{
	struct msg_verdict d;
	zmq_msg_t part;
	struct msg m;
	const char *why;
	int64_t id;
	struct request *rq;

	for (;;) {
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, rx->verifier, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&part);
			return;
		}
		if (msg_decode(zmq_msg_data(&part), zmq_msg_size(&part), &m,
		    &why) == -1) {
			log_warn("dropped a malformed verdict: %s", why);
			zmq_msg_close(&part);
			continue;
		}
		switch (m.type) {
		case MSG_VERDICT:
			if (msg_verdict_unpack(&m, &d, &why) == -1 ||
			    parse_i64(d.req_id, 1, INT64_MAX, &id) == -1) {
				log_warn("dropped a malformed verdict: %s",
				    why ? why : "bad request id");
				break;
			}
			if ((rq = waiting_find(rx, (uint64_t)id)) == NULL)
				break;	/* answered already (spooled) */
			rq->status = d.status;
			rq->answer = strndup(d.body.p, d.body.n);
			/* A handshake answers with the provider's text, and
			 * says its media type (an older verifier did not). */
			rq->ctype = d.body.n > 0 && d.body.p[0] == '{' ?
			    "application/json" : "text/plain";
			if (d.ctype.n > 0)
				rq->hs_ctype = strndup(d.ctype.p, d.ctype.n);
			if (d.headers.n > 0)
				rq->hs_headers = strndup(d.headers.p,
				    d.headers.n);
			if (d.retry_after > 0 && d.retry_after < 3600)
				rq->retry_after = d.retry_after;
			finish(rx, rq);
			break;
		default:
			log_warn("dropped an unexpected %s message",
			    msg_type_name(m.type));
			break;
		}
		msg_free(&m);
		zmq_msg_close(&part);
	}
}

/* Deliveries the verifier did not answer in time: spool them. */
void
rx_send_unsent(struct receiver *rx)
{
	struct request *rq;

	for (rq = rx->oldest; rq != NULL && rx->unsent > 0; rq = rq->next) {
		if (!rq->unsent)
			continue;
		pack_verify(rx, rq);
		if (zs_send(rx->verifier, rx->w.sb.data, rx->w.sb.size, 0) ==
		    -1)
			return;	/* still not connected */
		rq->unsent = 0;
		rx->unsent--;
	}
}

/* An unsent delivery waits this long for the connection, then spools. */
#define UNSENT_WAIT_MS	1000

void
rx_expire_waiting(struct receiver *rx, int all)
{
	int64_t now = mono_ms();

	while (rx->oldest != NULL && (all ||
	    now - rx->oldest->sent_ms >= (rx->oldest->unsent ?
	    UNSENT_WAIT_MS : rx->cfg.verify_timeout_ms))) {
		struct request *rq = rx->oldest;

		/* Re-pack: the spool holds the same message. */
		pack_verify(rx, rq);
		waiting_del(rx, rq);
		rq->state = REQ_READING;
		answer_spooled(rx, rq);
		tap_verdict(rx, rq);
		MHD_resume_connection(rq->conn);
	}
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct receiver *rx = cls;
	struct conn *cn = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((cn = calloc(1, sizeof(*cn))) == NULL)
			return;
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		cn->fd = ci ? ci->connect_fd : -1;
		conn_make_room(rx);
		conn_link(rx, cn, CONN_WAITING);
		rx->nconns++;
		*socket_context = cn;
		return;
	}
	if (cn == NULL)
		return;
	conn_unlink(rx, cn);
	rx->nconns--;
	free(cn->query);
	free(cn);
	*socket_context = NULL;
}

/*
 * The raw request URI, before libmicrohttpd splits and decodes it: a
 * scheme may sign the query string exactly as it was sent. Kept on the
 * connection for its current request; nothing is returned, so that the
 * request's own state starts out empty.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *cn = conn_of(c);
	const char *q;

	(void)cls;
	if (cn == NULL)
		return NULL;
	free(cn->query);
	cn->query = (q = strchr(uri, '?')) != NULL ? strdup(q + 1) : NULL;
	return NULL;
}

void
rx_enforce_deadlines(struct receiver *rx)
{
	int64_t now = mono_ms(), deadline = HEADER_DEADLINE_MS;

	if (rx->waiting.n + rx->busy.n >= rx->conn_max / 2)
		deadline = HEADER_DEADLINE_BUSY_MS;
	while (rx->waiting.head != NULL &&
	    now - rx->waiting.head->phase_start >= deadline)
		conn_close(rx, rx->waiting.head);
}

/*
 * libmicrohttpd's own messages (a client gone before its request was
 * complete, one refused at a connection limit) come once per connection:
 * under attack they would fill the disk. A few a minute are logged, and
 * how many were left out.
 */
#define MHD_LOG_PER_MIN	20

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static int64_t window;
	static int n, dropped;
	int64_t now = mono_ms();
	char line[512];
	size_t len;

	(void)cls;
	if (window == 0 || now - window >= 60000) {
		if (dropped > 0)
			log_info("libmicrohttpd: %d more messages in the "
			    "last minute, not logged", dropped);
		window = now;
		n = dropped = 0;
	}
	if (n >= MHD_LOG_PER_MIN) {
		dropped++;
		return;
	}
	n++;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	log_info("libmicrohttpd: %s", line);
}

/*
 * Room for CONN_MAX connections besides the descriptors a stage keeps
 * (LMDB, ZeroMQ, logs): raise the soft limit on open files as far as the
 * hard one allows, or take fewer connections, so that the eviction above
 * acts before accept() fails.
 */
#define FD_SPARE	256

static int
conn_max(void)
{
	struct rlimit rl;
	rlim_t want = CONN_MAX + FD_SPARE;
	int n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return CONN_MAX;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want)
		return CONN_MAX;
	getrlimit(RLIMIT_NOFILE, &rl);
	n = rl.rlim_cur > 2 * FD_SPARE ? (int)rl.rlim_cur - FD_SPARE :
	    (int)rl.rlim_cur / 2;
	if (n < 16)
		n = 16;
	log_warn("open files limited to %llu: taking %d connections at once "
	    "instead of %d (raise ulimit -n, or LimitNOFILE=, to %llu)",
	    (unsigned long long)rl.rlim_cur, n, CONN_MAX,
	    (unsigned long long)want);
	return n;
}

/*
 * Every limit on a body must agree with the next: an integration's
 * max_body may not exceed what a message between stages carries, nor
 * half the budget for bodies in memory (config_load holds
 * HOOKPIPE_MAX_BODY to the same).
 */
void
rx_cap_limits(struct receiver *rx)
{
	int64_t most = rx->cfg.body_budget / 2;
	struct integ *ig;
	int i;

	if (most > MAX_BODY_CEILING)
		most = MAX_BODY_CEILING;
	for (i = 0; i < rx->integs.n; i++) {
		ig = &rx->integs.v[i];
		if (ig->max_body <= most)
			continue;
		log_warn("integration %s: max_body %lld is over %s; capped to "
		    "%lld bytes", ig->name, (long long)ig->max_body,
		    most == MAX_BODY_CEILING ? "the most a message between "
		    "stages can carry" : "half of HOOKPIPE_BODY_BUDGET",
		    (long long)most);
		ig->max_body = most;
	}
}

void
rx_start_http(struct receiver *rx, int no_listen)
{
	struct addrinfo hints, *ai = NULL;
	struct MHD_OptionItem where[2];
	char port[8];
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG;
	int rc;

	rx->conn_max = conn_max();
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", rx->cfg.listen_port);
	if ((rc = getaddrinfo(rx->cfg.listen_host, port, &hints, &ai)) != 0)
		fatal(EXIT_PERMANENT, "HOOKPIPE_LISTEN: cannot resolve %s: %s",
		    rx->cfg.listen_host, gai_strerror(rc));
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* A socket taken over from the previous receiver, or our own; none
	 * for the fuzz target, which hands connections in itself. */
	if (no_listen) {
		flags |= MHD_USE_NO_LISTEN_SOCKET;
		where[0] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	} else if (rx->inherited_fd >= 0)
		where[0] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET,
		    rx->inherited_fd, NULL };
	else
		where[0] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
		    ai->ai_addr };
	where[1] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	rx->httpd = MHD_start_daemon(flags, (uint16_t)rx->cfg.listen_port,
	    NULL, NULL, on_request, rx,
	    /* First, so that the others' complaints reach the log too. */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, rx,
	    MHD_OPTION_ARRAY, where,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, rx,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, rx,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, rx,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)rx->conn_max,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)rx->cfg.conn_per_client,
	    /* Headers up to about 8 KiB fit (more is refused with 431);
	     * the body is ours. libmicrohttpd clears the whole pool after
	     * every request on a kept-alive connection: 32 KiB (its
	     * default) cost the receiver a tenth of its time. */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (rx->httpd == NULL)
		fatal(EXIT_TEMPORARY, "cannot listen on %s:%d (in use, or not "
		    "allowed); set HOOKPIPE_LISTEN", rx->cfg.listen_host,
		    rx->cfg.listen_port);
	info = MHD_get_daemon_info(rx->httpd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL)
		fatal(EXIT_TEMPORARY, "libmicrohttpd without epoll support");
	rx->epoll_fd = info->epoll_fd;
}

