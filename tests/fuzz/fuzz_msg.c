/*
 * msgpack decoding of every message type, as the stages read them.
 */
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg m;
	const char *why, *p;
	const void *b;
	const msgpack_object *h;
	char s[256];
	size_t n;
	int64_t v;

	if (msg_decode(data, size, &m, &why) == -1)
		return 0;
	switch (m.type) {
	case MSG_VERIFY:
		mp_get_str(m.body, "sub", s, sizeof(s));
		mp_get_str(m.body, "event_id", s, sizeof(s));
		mp_get_i64(m.body, "received_at", &v);
		mp_get_binp(m.body, "body", &b, &n);
		if ((h = mp_get(m.body, "headers")) != NULL &&
		    h->type == MSGPACK_OBJECT_MAP)
			for (uint32_t i = 0; i < h->via.map.size; i++)
				mp_obj_str(&h->via.map.ptr[i].val, s,
				    sizeof(s));
		break;
	case MSG_VERDICT:
		mp_get_i64(m.body, "status", &v);
		mp_get_strp(m.body, "body", &p, &n);
		mp_get_i64(m.body, "retry_after", &v);
		break;
	default:
		break;
	}
	msg_free(&m);
	return 0;
}
