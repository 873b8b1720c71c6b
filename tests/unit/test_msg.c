#include <string.h>

#include "msg.h"
#include "t.h"

int
main(void)
{
	struct mpw w;
	struct msg m;
	const char *why;
	char s[40];

	mpw_init(&w);
	msg_begin(&w, MSG_VERIFY, "17");
	mpw_map(&w, 1);
	mpw_kv_str(&w, "sub", "abc");
	CHECK(msg_decode(w.sb.data, w.sb.size, &m, &why) == 0);
	CHECK(m.type == MSG_VERIFY && strcmp(m.id, "17") == 0);
	CHECK(mp_get_str(m.body, "sub", s, sizeof(s)) == 0 &&
	    strcmp(s, "abc") == 0);
	msg_free(&m);
	CHECK(strcmp(msg_type_name(MSG_VERDICT), "verdict") == 0);
	CHECK(strcmp(msg_type_name(999), "unknown") == 0);

	/* Trailing bytes. */
	msgpack_sbuffer_write(&w.sb, "\x01", 1);
	CHECK(msg_decode(w.sb.data, w.sb.size, &m, &why) == -1);
	mpw_free(&w);

	/* Wrong version. */
	mpw_init(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, 2);
	mpw_i64(&w, MSG_EVENT);
	mpw_str(&w, "x");
	mpw_map(&w, 0);
	CHECK(msg_decode(w.sb.data, w.sb.size, &m, &why) == -1 &&
	    strstr(why, "version") != NULL);
	mpw_free(&w);

	/* Unknown type, body not a map, wrong arity. */
	mpw_init(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, 7);
	mpw_str(&w, "x");
	mpw_map(&w, 0);
	CHECK(msg_decode(w.sb.data, w.sb.size, &m, &why) == -1);
	mpw_reset(&w);
	mpw_array(&w, 4);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, MSG_RUN);
	mpw_str(&w, "x");
	mpw_array(&w, 0);
	CHECK(msg_decode(w.sb.data, w.sb.size, &m, &why) == -1);
	mpw_reset(&w);
	mpw_array(&w, 3);
	mpw_i64(&w, MSG_VERSION);
	mpw_i64(&w, MSG_RUN);
	mpw_str(&w, "x");
	CHECK(msg_decode(w.sb.data, w.sb.size, &m, &why) == -1);
	mpw_free(&w);
	CHECK(msg_decode("not msgpack at all", 18, &m, &why) == -1);
	return t_done("test_msg");
}
