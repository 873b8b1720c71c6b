#include <string.h>

#include "crypto.h"
#include "mp.h"
#include "t.h"

int
main(void)
{
	struct mpw w;
	msgpack_unpacked u;
	char s[16];
	const void *p;
	size_t n;
	int64_t v;
	int i, refused = 0;

	mpw_init(&w);
	mpw_map(&w, 3);
	mpw_kv_str(&w, "name", "hook");
	mpw_kv_i64(&w, "n", -42);
	mpw_kv_bin(&w, "body", "\0\1\2", 3);
	CHECK(mp_unpack(w.sb.data, w.sb.size, &u) == 0);
	CHECK(mp_get_str(&u.data, "name", s, sizeof(s)) == 0 &&
	    strcmp(s, "hook") == 0);
	CHECK(mp_get_str(&u.data, "name", s, 4) == -1);	/* does not fit */
	CHECK(mp_get_i64(&u.data, "n", &v) == 0 && v == -42);
	CHECK(mp_get_binp(&u.data, "body", &p, &n) == 0 && n == 3);
	CHECK(mp_get(&u.data, "missing") == NULL);
	CHECK(mp_get_i64(&u.data, "name", &v) == -1);	/* wrong type */
	msgpack_unpacked_destroy(&u);

	/* Trailing bytes and truncation are refused. */
	msgpack_sbuffer_write(&w.sb, "\xc0", 1);
	CHECK(mp_unpack(w.sb.data, w.sb.size, &u) == -1);
	CHECK(mp_unpack(w.sb.data, w.sb.size - 3, &u) == -1);
	CHECK(mp_unpack("", 0, &u) == -1);
	mpw_free(&w);

	/* A container claiming 2^32-1 items in five bytes. */
	CHECK(mp_unpack("\xdd\xff\xff\xff\xff", 5, &u) == -1);
	CHECK(mp_unpack("\xdf\xff\xff\xff\xff", 5, &u) == -1);
	CHECK(mp_unpack("\xdb\xff\xff\xff\xff", 5, &u) == -1);
	CHECK(mp_unpack("\xc1", 1, &u) == -1);

	/* Random garbage never crashes and is mostly refused. */
	for (i = 0; i < 20000; i++) {
		unsigned char g[64];
		size_t len = 1 + (size_t)(i % 64);

		crypto_random(g, len);
		if (mp_unpack(g, len, &u) == 0)
			msgpack_unpacked_destroy(&u);
		else
			refused++;
	}
	CHECK(refused > 10000);
	return t_done("test_mp");
}
