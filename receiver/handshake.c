/*
 * The handshakes the receiver answers itself: a HEAD probe (Trello's),
 * which has nothing for the verifier to check, and a handshake that
 * hands over the subscription's secret (Asana's X-Hook-Secret), which is
 * a write to the subscription, and the verifier does not write
 * configuration. The others go to the verifier with the delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "handshake.h"
#include "log.h"
#include "receiver.h"

/* What the receiver's handshakes read: the connection, and the body
 * once it is in (a set_secret handshake that reads the body). */
struct rx_hs {
	struct MHD_Connection	*conn;
	const struct request	*rq;	/* NULL for HEAD */
	json_t			*json;	/* the body parsed, on demand */
	int			 parsed;
};

static const char *
req_header(void *arg, const char *lname)
{
	const struct rx_hs *x = arg;

	return MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, lname);
}

static char *
req_query(void *arg, const char *name)
{
	const struct rx_hs *x = arg;
	const char *v = MHD_lookup_connection_value(x->conn,
	    MHD_GET_ARGUMENT_KIND, name);

	return v != NULL ? strdup(v) : NULL;
}

/* A JSON object body, or NULL: the verifier judges anything else. */
static json_t *
req_body(void *arg)
{
	struct rx_hs *x = arg;

	if (!x->parsed && x->rq != NULL && x->rq->body.len > 0) {
		x->json = json_loadb((const char *)x->rq->body.data,
		    x->rq->body.len, JSON_REJECT_DUPLICATES, NULL);
		if (x->json != NULL && !json_is_object(x->json)) {
			json_decref(x->json);
			x->json = NULL;
		}
	}
	x->parsed = 1;
	return x->json;
}

static void
req_make(struct hs_req *q, struct rx_hs *x, struct MHD_Connection *c,
    const struct request *rq, const char *method, const struct sub_rec *sub)
{
	memset(x, 0, sizeof(*x));
	x->conn = c;
	x->rq = rq;
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->header = req_header;
	q->query = req_query;
	q->body = req_body;
	q->arg = x;
	q->params = sub ? sub->params : "";
}

enum MHD_Result
rx_handshake_head(struct receiver *rx, struct MHD_Connection *c,
    const struct integ *ig, const struct sub_rec *sub)
{
	const struct handshake *hs;
	struct hs_answer a;
	struct hs_req q;
	struct rx_hs x;
	enum MHD_Result ret;
	char why[256], allow[32];

	req_make(&q, &x, c, NULL, "HEAD", sub);
	if ((hs = hs_match(ig, &q, HS_PHASE_RECEIVER)) == NULL) {
		hs_allow(ig, allow, sizeof(allow));
		return respond(rx, c, 405, "", "", allow, 0);
	}
	if (hs_answer(hs, &q, &a, why, sizeof(why)) == -1)
		return respond(rx, c, 400, "", "", NULL, 0);
	ret = respond_hs(rx, c, a.status, a.ctype, "", a.headers);
	hs_answer_free(&a);
	return ret;
}

static void
refuse(struct request *rq, int status, const char *why)
{
	json_t *o = json_pack("{s:s}", "error", why);

	rq->status = status;
	rq->ctype = "application/json";
	rq->answer = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	log_info("refused a handshake for %s: %d %s", rq->sub, status, why);
}

/*
 * Store the secret when the subscription has none; a repeated handshake
 * with the same secret is answered again. A different one is refused:
 * whoever knows the callback URL could otherwise replace the secret.
 * 0 when the answer may go, or -1 with rq refused.
 */
static int
adopt(struct receiver *rx, struct request *rq, const struct integ *ig,
    const char *secret)
{
	unsigned char cur[SECRET_MAX];
	char why[512];
	struct sub_rec sub;
	MDB_txn *txn;
	size_t n = strlen(secret);
	int rc, cl;

	if (integ_secret_check(ig, secret, n, why, sizeof(why)) == -1 ||
	    n > SECRET_MAX) {
		refuse(rq, 400, n > SECRET_MAX ? "the handshake's secret is "
		    "too long" : why);
		return -1;
	}
	if ((txn = db_begin(&rx->db, DB_CONFIG, 0)) == NULL) {
		refuse(rq, 503, "cannot store the secret right now");
		return -1;
	}
	if ((rc = db_sub_get(txn, &rx->db, rq->sub, &sub)) != 0) {
		mdb_txn_abort(txn);
		refuse(rq, rc == MDB_NOTFOUND || rc == -1 ? 404 : 503, rc ==
		    MDB_NOTFOUND || rc == -1 ? "no such subscription" :
		    "cannot read the subscription");
		return -1;
	}
	if (sub.secret_len > 0) {
		cl = db_sub_secret(&rx->db, &sub, 1, cur, sizeof(cur));
		mdb_txn_abort(txn);
		rc = cl >= 0 && (size_t)cl == n && ct_equal(cur, secret, n);
		OPENSSL_cleanse(cur, sizeof(cur));
		if (rc)
			return 0;
		refuse(rq, 409, "the subscription has a secret already, and a "
		    "handshake sets it only once: create a new subscription "
		    "for a new webhook");
		return -1;
	}
	if (db_sub_set_secret(&rx->db, &sub, 1, secret, n) == -1 ||
	    db_sub_put(txn, &rx->db, &sub) != 0 || db_commit(txn) != 0) {
		refuse(rq, 503, "cannot store the secret right now");
		return -1;
	}
	log_info("subscription %s: its handshake set the signing secret",
	    rq->sub);
	return 0;
}

int
rx_handshake_secret(struct receiver *rx, struct request *rq,
    const struct integ *ig)
{
	const struct handshake *hs;
	struct hs_answer a;
	struct hs_req q;
	struct rx_hs x;
	char why[256], *secret;
	int rc;

	req_make(&q, &x, rq->conn, rq, "POST", NULL);
	if ((hs = hs_match(ig, &q, HS_PHASE_RECEIVER)) == NULL ||
	    (secret = hs_new_secret(hs, &q)) == NULL) {
		json_decref(x.json);
		return 0;
	}
	rq->state = REQ_ANSWERED;
	rc = adopt(rx, rq, ig, secret);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	if (rc == 0 && hs_answer(hs, &q, &a, why, sizeof(why)) == -1) {
		refuse(rq, 400, why);
		rc = -1;
	}
	json_decref(x.json);
	if (rc == -1)
		return 1;
	rq->status = a.status;
	rq->answer = a.body ? a.body : strdup("");
	rq->ctype = a.ctype ? a.ctype : "text/plain";
	rq->hs_headers = a.headers;
	return 1;
}
