/*
 * msgpack decoding of every message type, as the stages read them.
 */
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg_verify v;
	struct msg_verdict d;
	struct msg_hint h;
	struct msg m;
	const char *why;
	size_t i, sum = 0;

	if (msg_decode(data, size, &m, &why) == -1)
		return 0;
	switch (m.type) {
	case MSG_VERIFY:
		if (msg_verify_unpack(&m, &v, &why) == 0) {
			/* Every string it hands out is readable. */
			for (i = 0; i < v.nheaders; i++)
				sum += v.headers[i].name.n +
				    v.headers[i].value.n;
			for (i = 0; i < v.body.n; i++)
				sum += (unsigned char)v.body.p[i];
			for (i = 0; i < v.path.n; i++)
				sum += (unsigned char)v.path.p[i];
		}
		break;
	case MSG_VERDICT:
		if (msg_verdict_unpack(&m, &d, &why) == 0)
			for (i = 0; i < d.body.n; i++)
				sum += (unsigned char)d.body.p[i];
		break;
	default:
		msg_hint_unpack(&m, &h, &why);
		break;
	}
	msg_free(&m);
	sink = sum;
	return 0;
}
