#include <stdio.h>
#include <string.h>

#include "msg.h"

const char *
msg_type_name(int type)
{
	switch (type) {
	case MSG_VERIFY:	return "verify";
	case MSG_VERDICT:	return "verdict";
	case MSG_EVENT:		return "event";
	case MSG_RUN:		return "run";
	case MSG_WAKE:		return "wake";
	default:		return "unknown";
	}
}

static void
msg_begin(struct mpw *w, enum msg_type type, const char *id)
{
	mpw_array(w, 4);
	msgpack_pack_uint32(&w->pk, MSG_VERSION);
	msgpack_pack_uint32(&w->pk, (uint32_t)type);
	mpw_str(w, id);
}

int
msg_decode(const void *data, size_t len, struct msg *m, const char **why)
{
	const msgpack_object *a;

	memset(m, 0, sizeof(*m));
	if (mp_unpack(data, len, &m->u) == -1) {
		*why = "not one well-formed msgpack object";
		return -1;
	}
	a = &m->u.data;
	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 4) {
		*why = "envelope is not a 4-element array";
		goto bad;
	}
	if (a->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a->via.array.ptr[0].via.u64 < 1 ||
	    a->via.array.ptr[0].via.u64 > MSG_VERSION) {
		*why = "unsupported protocol version";
		goto bad;
	}
	m->version = (int)a->via.array.ptr[0].via.u64;
	if (a->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    strcmp(msg_type_name((int)a->via.array.ptr[1].via.u64),
	    "unknown") == 0 || a->via.array.ptr[1].via.u64 >= MSG_TYPE_MAX) {
		*why = "unknown message type";
		goto bad;
	}
	m->type = (int)a->via.array.ptr[1].via.u64;
	if (mp_obj_str(&a->via.array.ptr[2], m->id, sizeof(m->id)) == -1) {
		*why = "id is not a short string";
		goto bad;
	}
	if (a->via.array.ptr[3].type != MSGPACK_OBJECT_MAP) {
		*why = "body is not a map";
		goto bad;
	}
	m->body = &a->via.array.ptr[3];
	return 0;
bad:
	msgpack_unpacked_destroy(&m->u);
	memset(m, 0, sizeof(*m));
	return -1;
}

void
msg_free(struct msg *m)
{
	if (m->body != NULL)
		msgpack_unpacked_destroy(&m->u);
	m->body = NULL;
}

/*
 * The fields of a body: each key known to its type at most once, every
 * required one present. `seen` gets a bit per field of keys[].
 */
static int
fields_check(const msgpack_object *body, const char *const *keys,
    unsigned required, unsigned *seen, const char **why)
{
	size_t i;
	int k;

	*seen = 0;
	for (i = 0; i < body->via.map.size; i++) {
		const msgpack_object *key = &body->via.map.ptr[i].key;

		if (key->type != MSGPACK_OBJECT_STR) {
			*why = "a field name is not a string";
			return -1;
		}
		for (k = 0; keys[k] != NULL; k++)
			if (strlen(keys[k]) == key->via.str.size &&
			    memcmp(keys[k], key->via.str.ptr,
			    key->via.str.size) == 0)
				break;
		if (keys[k] == NULL) {
			*why = "an unknown field";
			return -1;
		}
		if (*seen & (1u << k)) {
			*why = "a field given twice";
			return -1;
		}
		*seen |= 1u << k;
	}
	if ((*seen & required) != required) {
		*why = "a required field is missing";
		return -1;
	}
	return 0;
}

static int
get_str(const msgpack_object *o, struct msg_str *s)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return -1;
	s->p = o->via.str.ptr;
	s->n = o->via.str.size;
	return 0;
}

/* --- MSG_VERIFY --- */

enum { V_SUB, V_EVENT_ID, V_RECEIVED_AT, V_HEADERS, V_BODY, V_METHOD,
    V_PATH, V_QUERY };
static const char *const verify_keys[] = { "sub", "event_id",
    "received_at", "headers", "body", "method", "path", "query", NULL };

void
msg_verify_pack(struct mpw *w, const struct msg_verify *v)
{
	size_t i;

	msg_begin(w, MSG_VERIFY, v->req_id);
	mpw_map(w, 8);
	mpw_kv_str(w, verify_keys[V_SUB], v->sub);
	mpw_kv_str(w, verify_keys[V_EVENT_ID], v->event_id);
	mpw_kv_i64(w, verify_keys[V_RECEIVED_AT], v->received_at);
	mpw_kv_str(w, verify_keys[V_METHOD], v->method);
	mpw_str(w, verify_keys[V_PATH]);
	mpw_strn(w, v->path.p ? v->path.p : "", v->path.n);
	mpw_str(w, verify_keys[V_QUERY]);
	mpw_strn(w, v->query.p ? v->query.p : "", v->query.n);
	mpw_str(w, verify_keys[V_HEADERS]);
	mpw_map(w, (uint32_t)v->nheaders);
	for (i = 0; i < v->nheaders; i++) {
		mpw_strn(w, v->headers[i].name.p, v->headers[i].name.n);
		mpw_strn(w, v->headers[i].value.p, v->headers[i].value.n);
	}
	mpw_kv_bin(w, verify_keys[V_BODY], v->body.p ? v->body.p : "",
	    v->body.n);
}

int
msg_verify_unpack(const struct msg *m, struct msg_verify *v,
    const char **why)
{
	const msgpack_object *b = m->body, *h;
	unsigned seen, required = 1u << V_SUB | 1u << V_EVENT_ID |
	    1u << V_RECEIVED_AT | 1u << V_HEADERS | 1u << V_BODY;
	const void *body;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (m->type != MSG_VERIFY) {
		*why = "not a delivery";
		return -1;
	}
	/* Version 1 had no method, path nor query. */
	if (m->version >= 2)
		required |= 1u << V_METHOD | 1u << V_PATH | 1u << V_QUERY;
	if (fields_check(b, verify_keys, required, &seen, why) == -1)
		return -1;
	str_copy(v->req_id, m->id, sizeof(v->req_id));
	if (mp_get_str(b, verify_keys[V_SUB], v->sub, sizeof(v->sub)) ||
	    mp_get_str(b, verify_keys[V_EVENT_ID], v->event_id,
	    sizeof(v->event_id)) || !uuid_valid(v->event_id) ||
	    mp_get_i64(b, verify_keys[V_RECEIVED_AT], &v->received_at) ||
	    mp_get_binp(b, verify_keys[V_BODY], &body, &v->body.n)) {
		*why = "a field has the wrong type";
		return -1;
	}
	v->body.p = body;
	if (seen & (1u << V_METHOD)) {
		if (mp_get_str(b, verify_keys[V_METHOD], v->method,
		    sizeof(v->method)) || get_str(mp_get(b,
		    verify_keys[V_PATH]), &v->path) || get_str(mp_get(b,
		    verify_keys[V_QUERY]), &v->query)) {
			*why = "a field has the wrong type";
			return -1;
		}
	} else {
		/* What a version 1 receiver took: a POST to the callback. */
		static __thread char path[sizeof("/triggers/plugin/") +
		    UUID_LEN];

		str_copy(v->method, "POST", sizeof(v->method));
		snprintf(path, sizeof(path), "/triggers/plugin/%s", v->sub);
		v->path = (struct msg_str){ path, strlen(path) };
	}
	h = mp_get(b, verify_keys[V_HEADERS]);
	if (h == NULL || h->type != MSGPACK_OBJECT_MAP ||
	    h->via.map.size > MSG_HEADERS_MAX) {
		*why = "headers are not a map of at most 128";
		return -1;
	}
	for (i = 0; i < h->via.map.size; i++)
		if (get_str(&h->via.map.ptr[i].key,
		    &v->headers[v->nheaders].name) == -1 ||
		    get_str(&h->via.map.ptr[i].val,
		    &v->headers[v->nheaders++].value) == -1) {
			*why = "a header is not a string";
			return -1;
		}
	return 0;
}

/* --- MSG_VERDICT --- */

enum { D_STATUS, D_BODY, D_RETRY_AFTER, D_CTYPE, D_HEADERS };
static const char *const verdict_keys[] = { "status", "body", "retry_after",
    "content_type", "headers", NULL };

void
msg_verdict_pack(struct mpw *w, const struct msg_verdict *d)
{
	msg_begin(w, MSG_VERDICT, d->req_id);
	mpw_map(w, 2 + (d->retry_after > 0) + (d->ctype.n > 0) +
	    (d->headers.n > 0));
	mpw_kv_i64(w, verdict_keys[D_STATUS], d->status);
	mpw_str(w, verdict_keys[D_BODY]);
	mpw_strn(w, d->body.p ? d->body.p : "", d->body.n);
	if (d->retry_after > 0)
		mpw_kv_i64(w, verdict_keys[D_RETRY_AFTER], d->retry_after);
	/* Only a handshake's answer has these: a verdict for an event reads
	 * the same to a receiver that does not know them. */
	if (d->ctype.n > 0) {
		mpw_str(w, verdict_keys[D_CTYPE]);
		mpw_strn(w, d->ctype.p, d->ctype.n);
	}
	if (d->headers.n > 0) {
		mpw_str(w, verdict_keys[D_HEADERS]);
		mpw_strn(w, d->headers.p, d->headers.n);
	}
}

int
msg_verdict_unpack(const struct msg *m, struct msg_verdict *d,
    const char **why)
{
	int64_t status, ra = 0;
	unsigned seen;

	memset(d, 0, sizeof(*d));
	if (m->type != MSG_VERDICT) {
		*why = "not a verdict";
		return -1;
	}
	if (fields_check(m->body, verdict_keys, 1u << D_STATUS | 1u << D_BODY,
	    &seen, why) == -1)
		return -1;
	if (mp_get_i64(m->body, verdict_keys[D_STATUS], &status) ||
	    status < 100 || status > 599 || get_str(mp_get(m->body,
	    verdict_keys[D_BODY]), &d->body) || ((seen & 1u << D_RETRY_AFTER) &&
	    (mp_get_i64(m->body, verdict_keys[D_RETRY_AFTER], &ra) || ra < 0 ||
	    ra > 86400)) || ((seen & 1u << D_CTYPE) && get_str(mp_get(m->body,
	    verdict_keys[D_CTYPE]), &d->ctype)) || ((seen & 1u << D_HEADERS) &&
	    get_str(mp_get(m->body, verdict_keys[D_HEADERS]), &d->headers))) {
		*why = "a field has the wrong type or range";
		return -1;
	}
	str_copy(d->req_id, m->id, sizeof(d->req_id));
	d->status = (int)status;
	d->retry_after = (int)ra;
	return 0;
}

/* --- hints --- */

static const char *const hint_keys[] = { NULL };

void
msg_hint_pack(struct mpw *w, enum msg_type type, const char *id)
{
	msg_begin(w, type, id ? id : "");
	mpw_map(w, 0);
}

int
msg_hint_unpack(const struct msg *m, struct msg_hint *h, const char **why)
{
	unsigned seen;

	memset(h, 0, sizeof(*h));
	if (m->type != MSG_EVENT && m->type != MSG_RUN && m->type != MSG_WAKE) {
		*why = "not a hint";
		return -1;
	}
	if (fields_check(m->body, hint_keys, 0, &seen, why) == -1)
		return -1;
	if (m->id[0] != '\0' && !uuid_valid(m->id)) {
		*why = "the id is not an event or run id";
		return -1;
	}
	str_copy(h->id, m->id, sizeof(h->id));
	return 0;
}
