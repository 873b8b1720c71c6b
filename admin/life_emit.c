/*
 * hookpipe's own events (subscription.expiring, credential.needs_
 * reauthorization, run.dead, ...) enter the event log as any event does:
 * as deliveries of the built-in `hookpipe` integration, signed with a
 * `hookpipe` subscription's secret (Standard Webhooks) and verified and
 * stored by the verifier, so that they are deduped, kept, routed and
 * run like the others. The CLI never writes the event log.
 *
 * An event is first queued in the config part's outbox, in the same
 * transaction as the change it reports; then it is handed to the
 * verifier (a MSG_VERIFY over run/verifier.sock, as the receiver sends
 * one) and leaves the outbox once the verifier answered that it is
 * stored. A verifier that is down only delays it: the next pass sends it
 * again, and its delivery id (type:key) makes a second copy a duplicate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "life.h"
#include "msg.h"
#include "zsock.h"

#define DELIVER_MAX		256	/* events per pass */
#define VERDICT_WAIT_MS		5000
#define GEN_SECRET_LEN		24

void
life_count(struct ctx *ctx, MDB_txn *txn, const char *name)
{
	db_life_count(txn, &ctx->db, name, 1);
}

struct find_life {
	char	 ids[16][UUID_LEN + 1];
	int	 n;
};

static int
find_life_cb(void *arg, const struct sub_rec *s)
{
	struct find_life *f = arg;

	if (strcmp(s->integration, LIFE_INTEG) == 0 && f->n < 16)
		str_copy(f->ids[f->n++], s->id, sizeof(f->ids[0]));
	return 0;
}

int
life_emit(struct ctx *ctx, MDB_txn *txn, const char *ws, const char *type,
    const char *key, json_t *data)
{
	struct find_life f = { .n = 0 };
	struct outbox_rec o;
	char when[40];
	json_t *doc;
	int i, rc = 0;

	if (integ_find(&ctx->integs, LIFE_INTEG) == NULL) {
		/* Without its definition nothing could verify it. */
		fprintf(stderr, "hookpipe: %s not sent: the %s integration is "
		    "not loaded\n", type, LIFE_INTEG);
		json_decref(data);
		return 0;
	}
	/*
	 * Only where someone asked for them: a workspace without a
	 * `hookpipe` subscription has them logged and counted, and no
	 * subscription or event appears in it unasked.
	 */
	db_sub_each(txn, &ctx->db, ws, find_life_cb, &f);
	if (f.n == 0) {
		json_decref(data);
		return 0;
	}
	doc = json_pack("{s:s, s:s, s:s, s:o}", "type", type, "timestamp",
	    fmt_rfc3339(now_us(), when, sizeof(when)), "workspace", ws,
	    "data", data ? data : json_object());
	memset(&o, 0, sizeof(o));
	str_copy(o.type, type, sizeof(o.type));
	snprintf(o.delivery_id, sizeof(o.delivery_id), "%s:%s", type, key);
	o.created_at = now_us();
	o.payload = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	for (i = 0; i < f.n && rc == 0; i++) {
		str_copy(o.sub, f.ids[i], sizeof(o.sub));
		rc = db_outbox_put(txn, &ctx->db, &o);
	}
	free(o.payload);
	if (rc == 0) {
		char name[96];

		snprintf(name, sizeof(name), "event.%s", type);
		life_count(ctx, txn, name);
	}
	return rc;
}

/* --- delivery to the verifier ------------------------------------------ */

struct pending {
	struct outbox_rec o[DELIVER_MAX];
	int		  n;
};

static int
collect_cb(void *arg, struct outbox_rec *o)
{
	struct pending *p = arg;

	if (p->n == DELIVER_MAX)
		return 1;
	p->o[p->n] = *o;
	p->o[p->n++].payload = strdup(o->payload);
	return 0;
}

/* Standard Webhooks v1: base64 HMAC-SHA256 of "id.timestamp.body". */
static int
sign(const unsigned char *secret, size_t slen, const char *id,
    const char *ts, const char *body, char *out)
{
	unsigned char key[SECRET_MAX], mac[64];
	struct iov parts[5];
	int kl;

	if (slen > 6 && memcmp(secret, "whsec_", 6) == 0)
		kl = b64_decode((const char *)secret + 6, slen - 6, key,
		    sizeof(key));
	else {
		memcpy(key, secret, slen);
		kl = (int)slen;
	}
	if (kl <= 0)
		return -1;
	parts[0] = (struct iov){ id, strlen(id) };
	parts[1] = (struct iov){ ".", 1 };
	parts[2] = (struct iov){ ts, strlen(ts) };
	parts[3] = (struct iov){ ".", 1 };
	parts[4] = (struct iov){ body, strlen(body) };
	kl = hmac_parts(HMAC_SHA256, key, (size_t)kl, parts, 5, mac);
	OPENSSL_cleanse(key, sizeof(key));
	if (kl < 0)
		return -1;
	memcpy(out, "v1,", 3);
	b64_encode(mac, (size_t)kl, out + 3);
	return 0;
}

/*
 * One event to the verifier; its verdict's status, 0 when none came in
 * time, or -1 when the subscription cannot sign it.
 */
static int
send_one(struct ctx *ctx, void *sock, const struct outbox_rec *o,
    const struct sub_rec *s)
{
	unsigned char secret[SECRET_MAX];
	char path[64], ts[24], sig[128];
	struct msg_verify v;
	struct msg_verdict d;
	struct msg m;
	struct mpw w;
	const char *why;
	zmq_pollitem_t it;
	zmq_msg_t reply;
	int n, status = 0;
	int64_t deadline;

	if ((n = db_sub_secret(&ctx->db, s, 1, secret, sizeof(secret))) <= 0)
		return -1;
	snprintf(ts, sizeof(ts), "%lld", (long long)(now_us() / 1000000));
	n = sign(secret, (size_t)n, o->delivery_id, ts, o->payload, sig);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (n == -1)
		return -1;
	memset(&v, 0, sizeof(v));
	snprintf(v.req_id, sizeof(v.req_id), "life-%llu",
	    (unsigned long long)o->seq);
	str_copy(v.sub, s->id, sizeof(v.sub));
	uuid4(v.event_id);
	v.received_at = now_us();
	str_copy(v.method, "POST", sizeof(v.method));
	snprintf(path, sizeof(path), "/triggers/plugin/%s", s->id);
	v.path = (struct msg_str){ path, strlen(path) };
	v.query = (struct msg_str){ "", 0 };
#define HDR(i, k, val) do {						\
	v.headers[i].name = (struct msg_str){ k, strlen(k) };		\
	v.headers[i].value = (struct msg_str){ val, strlen(val) };	\
} while (0)
	HDR(0, "content-type", "application/json");
	HDR(1, "webhook-id", o->delivery_id);
	HDR(2, "webhook-timestamp", ts);
	HDR(3, "webhook-signature", sig);
	HDR(4, "user-agent", "hookpipe-lifecycle");
#undef HDR
	v.nheaders = 5;
	v.body = (struct msg_str){ o->payload, strlen(o->payload) };
	mpw_init(&w);
	msg_verify_pack(&w, &v);
	n = zmq_send(sock, w.sb.data, w.sb.size, ZMQ_DONTWAIT);
	mpw_free(&w);
	OPENSSL_cleanse(sig, sizeof(sig));
	if (n == -1)
		return 0;
	/* Verdicts of earlier, timed-out requests may come first. */
	deadline = mono_ms() + VERDICT_WAIT_MS;
	while (status == 0 && mono_ms() < deadline) {
		it = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, (long)(deadline - mono_ms())) <= 0)
			break;
		zmq_msg_init(&reply);
		if (zmq_msg_recv(&reply, sock, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&reply);
			continue;
		}
		if (msg_decode(zmq_msg_data(&reply), zmq_msg_size(&reply), &m,
		    &why) == 0) {
			if (m.type == MSG_VERDICT && msg_verdict_unpack(&m, &d,
			    &why) == 0 && strcmp(d.req_id, v.req_id) == 0)
				status = d.status;
			msg_free(&m);
		}
		zmq_msg_close(&reply);
	}
	return status;
}

int
life_deliver(struct ctx *ctx)
{
	static struct pending p;
	uint64_t done[DELIVER_MAX];
	char err[256];
	void *zctx = NULL, *sock = NULL;
	MDB_txn *txn;
	int i, ndone = 0, stored = 0, stuck = 0, one = 1;

	p.n = 0;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return -1;
	db_outbox_each(txn, &ctx->db, collect_cb, &p);
	if (p.n == 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	if ((zctx = zmq_ctx_new()) == NULL ||
	    (sock = zs_socket(zctx, ZMQ_DEALER, 0)) == NULL ||
	    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one)) == -1 ||
	    zs_connect(sock, &ctx->cfg, EP_VERIFIER, err, sizeof(err)) == -1)
		stuck = 1;
	for (i = 0; i < p.n && !stuck; i++) {
		struct sub_rec s;
		int st;

		if (db_sub_get(txn, &ctx->db, p.o[i].sub, &s) != 0) {
			/* Its subscription was deleted: nobody listens. */
			done[ndone++] = p.o[i].seq;
			continue;
		}
		/* The connection needs a moment before ZMQ_IMMEDIATE lets a
		 * message through: the first send waits for it. */
		if (i == 0)
			zmq_poll(NULL, 0, 50);
		st = send_one(ctx, sock, &p.o[i], &s);
		if (st == 200) {
			done[ndone++] = p.o[i].seq;
			stored++;
		} else if (st == 0 || st == 503) {
			stuck = 1;	/* the verifier is away or full */
		} else {
			fprintf(stderr, "hookpipe: event %s for subscription "
			    "%s refused by the verifier (%d); dropped\n",
			    p.o[i].delivery_id, s.id, st);
			done[ndone++] = p.o[i].seq;
		}
	}
	mdb_txn_abort(txn);
	if (sock != NULL)
		zmq_close(sock);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	for (i = 0; i < p.n; i++)
		free(p.o[i].payload);
	if (ndone > 0 && (txn = txn_write(ctx, DB_CONFIG)) != NULL) {
		for (i = 0; i < ndone; i++)
			db_outbox_del(txn, &ctx->db, done[i]);
		txn_commit(txn);
	}
	return stuck && stored == 0 ? -1 : stored;
}
