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

void
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
	/* Older versions stay readable: spooled entries outlive upgrades,
	 * and a swapped stage may speak the version before. */
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
