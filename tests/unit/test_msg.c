/*
 * Messages: each type packs and unpacks to the same struct; the envelope
 * and every body are checked (version, type, arity, trailing bytes, a
 * missing, unknown, repeated or ill-typed field); a version 1 delivery
 * (what an older receiver spooled) still reads.
 */
#include <string.h>

#include "msg.h"
#include "t.h"

#define EV	"01a23400-0000-7000-8000-000000000001"

static int
decode(struct mpw *w, struct msg *m, const char **why)
{
	return msg_decode(w->sb.data, w->sb.size, m, why);
}

/* A verify body by hand, with one field changed or left out. */
static void
verify_by_hand(struct mpw *w, int version, const char *skip,
    const char *extra, int bad_received)
{
	int n = 8 - (version == 1 ? 3 : 0) - (skip != NULL) + (extra != NULL);

	mpw_reset(w);
	mpw_array(w, 4);
	mpw_i64(w, version);
	mpw_i64(w, MSG_VERIFY);
	mpw_str(w, "5");
	mpw_map(w, (uint32_t)n);
#define F(k, stmt) if (skip == NULL || strcmp(skip, k) != 0) { stmt; }
	F("sub", mpw_kv_str(w, "sub", "s1"));
	F("event_id", mpw_kv_str(w, "event_id", EV));
	F("received_at", bad_received ? mpw_kv_str(w, "received_at", "x") :
	    mpw_kv_i64(w, "received_at", 1700000000000000LL));
	F("headers", mpw_str(w, "headers"); mpw_map(w, 1);
	    mpw_str(w, "webhook-id"); mpw_str(w, "msg_1"));
	F("body", mpw_kv_bin(w, "body", "{}", 2));
	if (version >= 2) {
		F("method", mpw_kv_str(w, "method", "POST"));
		F("path", mpw_kv_str(w, "path", "/triggers/plugin/s1"));
		F("query", mpw_kv_str(w, "query", "a=1"));
	}
#undef F
	if (extra != NULL)
		mpw_kv_str(w, extra, "?");
}

int
main(void)
{
	struct msg_verify v, v2;
	struct msg_verdict d, d2;
	struct msg_hint h;
	struct mpw w;
	struct msg m;
	const char *why;

	/* A delivery, round trip. */
	memset(&v, 0, sizeof(v));
	strcpy(v.req_id, "17");
	strcpy(v.sub, "0e8b2f36-2b1d-4b2e-9f1e-5d2c9d1b7a01");
	strcpy(v.event_id, EV);
	v.received_at = 1700000000123456LL;
	strcpy(v.method, "POST");
	v.path = (struct msg_str){ "/triggers/plugin/x", 18 };
	v.query = (struct msg_str){ "a=1&b=%20", 9 };
	v.headers[0].name = (struct msg_str){ "webhook-id", 10 };
	v.headers[0].value = (struct msg_str){ "msg_1", 5 };
	v.headers[1].name = (struct msg_str){ "x-empty", 7 };
	v.headers[1].value = (struct msg_str){ "", 0 };
	v.nheaders = 2;
	v.body = (struct msg_str){ "{\"a\":1}", 7 };
	mpw_init(&w);
	msg_verify_pack(&w, &v);
	CHECK(decode(&w, &m, &why) == 0);
	CHECK(m.version == MSG_VERSION && m.type == MSG_VERIFY);
	CHECK(msg_verify_unpack(&m, &v2, &why) == 0);
	CHECK(strcmp(v2.req_id, "17") == 0 && strcmp(v2.sub, v.sub) == 0 &&
	    strcmp(v2.event_id, EV) == 0 &&
	    v2.received_at == v.received_at && strcmp(v2.method, "POST") == 0);
	CHECK(v2.path.n == 18 && memcmp(v2.path.p, "/triggers/plugin/x",
	    18) == 0 && v2.query.n == 9);
	CHECK(v2.nheaders == 2 && v2.headers[0].value.n == 5 &&
	    memcmp(v2.headers[0].value.p, "msg_1", 5) == 0 &&
	    v2.headers[1].value.n == 0);
	CHECK(v2.body.n == 7 && memcmp(v2.body.p, "{\"a\":1}", 7) == 0);
	/* Not a verdict, nor a hint. */
	CHECK(msg_verdict_unpack(&m, &d2, &why) == -1);
	CHECK(msg_hint_unpack(&m, &h, &why) == -1);
	msg_free(&m);
	/* Trailing bytes. */
	msgpack_sbuffer_write(&w.sb, "\x01", 1);
	CHECK(decode(&w, &m, &why) == -1);

	/* By hand: complete, then each fault. */
	verify_by_hand(&w, 2, NULL, NULL, 0);
	CHECK(decode(&w, &m, &why) == 0 && msg_verify_unpack(&m, &v2,
	    &why) == 0 && v2.query.n == 3);
	msg_free(&m);
	verify_by_hand(&w, 2, "query", NULL, 0);
	CHECK(decode(&w, &m, &why) == 0);
	CHECK(msg_verify_unpack(&m, &v2, &why) == -1 &&
	    strstr(why, "missing") != NULL);
	msg_free(&m);
	verify_by_hand(&w, 2, NULL, "surprise", 0);
	CHECK(decode(&w, &m, &why) == 0);
	CHECK(msg_verify_unpack(&m, &v2, &why) == -1 &&
	    strstr(why, "unknown") != NULL);
	msg_free(&m);
	verify_by_hand(&w, 2, NULL, "sub", 0);	/* sub twice */
	CHECK(decode(&w, &m, &why) == 0);
	CHECK(msg_verify_unpack(&m, &v2, &why) == -1 &&
	    strstr(why, "twice") != NULL);
	msg_free(&m);
	verify_by_hand(&w, 2, NULL, NULL, 1);
	CHECK(decode(&w, &m, &why) == 0);
	CHECK(msg_verify_unpack(&m, &v2, &why) == -1 &&
	    strstr(why, "type") != NULL);
	msg_free(&m);

	/* Version 1: no method, path nor query; read as a POST to the
	 * callback URL. */
	verify_by_hand(&w, 1, NULL, NULL, 0);
	CHECK(decode(&w, &m, &why) == 0 && m.version == 1);
	CHECK(msg_verify_unpack(&m, &v2, &why) == 0);
	CHECK(strcmp(v2.method, "POST") == 0 && v2.path.n ==
	    strlen("/triggers/plugin/s1") && memcmp(v2.path.p,
	    "/triggers/plugin/s1", v2.path.n) == 0 && v2.query.n == 0);
	msg_free(&m);

	/* A verdict, with and without Retry-After. */
	memset(&d, 0, sizeof(d));
	strcpy(d.req_id, "17");
	d.status = 503;
	d.body = (struct msg_str){ "{}", 2 };
	d.retry_after = 5;
	mpw_reset(&w);
	msg_verdict_pack(&w, &d);
	CHECK(decode(&w, &m, &why) == 0 && msg_verdict_unpack(&m, &d2,
	    &why) == 0);
	CHECK(d2.status == 503 && d2.retry_after == 5 && d2.body.n == 2);
	msg_free(&m);
	d.status = 99;
	mpw_reset(&w);
	msg_verdict_pack(&w, &d);
	CHECK(decode(&w, &m, &why) == 0 && msg_verdict_unpack(&m, &d2,
	    &why) == -1);
	msg_free(&m);

	/* Hints: an id or nothing; a field is one too many. */
	mpw_reset(&w);
	msg_hint_pack(&w, MSG_RUN, EV);
	CHECK(decode(&w, &m, &why) == 0 && msg_hint_unpack(&m, &h, &why) ==
	    0 && strcmp(h.id, EV) == 0);
	msg_free(&m);
	mpw_reset(&w);
	msg_hint_pack(&w, MSG_WAKE, NULL);
	CHECK(decode(&w, &m, &why) == 0 && msg_hint_unpack(&m, &h, &why) ==
	    0 && h.id[0] == '\0');
	msg_free(&m);
	mpw_reset(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, MSG_EVENT);
	mpw_str(&w, EV);
	mpw_map(&w, 1);
	mpw_kv_i64(&w, "seq", 1);
	CHECK(decode(&w, &m, &why) == 0 && msg_hint_unpack(&m, &h, &why) ==
	    -1);
	msg_free(&m);

	CHECK(strcmp(msg_type_name(MSG_VERDICT), "verdict") == 0);
	CHECK(strcmp(msg_type_name(999), "unknown") == 0);

	/* Envelopes: a version from the future, an unknown type, a body
	 * that is not a map, the wrong arity, not msgpack. */
	mpw_reset(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, MSG_VERSION + 1);
	mpw_i64(&w, MSG_EVENT);
	mpw_str(&w, "x");
	mpw_map(&w, 0);
	CHECK(decode(&w, &m, &why) == -1 && strstr(why, "version") != NULL);
	mpw_reset(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, 7);
	mpw_str(&w, "x");
	mpw_map(&w, 0);
	CHECK(decode(&w, &m, &why) == -1);
	mpw_reset(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, MSG_RUN);
	mpw_str(&w, "x");
	mpw_array(&w, 0);
	CHECK(decode(&w, &m, &why) == -1);
	mpw_reset(&w);
	mpw_array(&w, 3);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, MSG_RUN);
	mpw_str(&w, "x");
	CHECK(decode(&w, &m, &why) == -1);
	mpw_free(&w);
	CHECK(msg_decode("not msgpack at all", 18, &m, &why) == -1);
	return t_done("test_msg");
}
