#include <stdlib.h>
#include <string.h>

#include "mp.h"

void
mpw_init(struct mpw *w)
{
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
}

void
mpw_reset(struct mpw *w)
{
	w->sb.size = 0;
}

void
mpw_free(struct mpw *w)
{
	msgpack_sbuffer_destroy(&w->sb);
}

void
mpw_map(struct mpw *w, uint32_t n)
{
	msgpack_pack_map(&w->pk, n);
}

void
mpw_array(struct mpw *w, uint32_t n)
{
	msgpack_pack_array(&w->pk, n);
}

void
mpw_strn(struct mpw *w, const char *s, size_t n)
{
	msgpack_pack_str(&w->pk, n);
	msgpack_pack_str_body(&w->pk, s, n);
}

void
mpw_str(struct mpw *w, const char *s)
{
	mpw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

void
mpw_bin(struct mpw *w, const void *p, size_t n)
{
	msgpack_pack_bin(&w->pk, n);
	msgpack_pack_bin_body(&w->pk, p, n);
}

void
mpw_i64(struct mpw *w, int64_t v)
{
	msgpack_pack_int64(&w->pk, v);
}

void
mpw_nil(struct mpw *w)
{
	msgpack_pack_nil(&w->pk);
}

void
mpw_kv_str(struct mpw *w, const char *k, const char *v)
{
	mpw_str(w, k);
	mpw_str(w, v);
}

void
mpw_kv_bin(struct mpw *w, const char *k, const void *v, size_t n)
{
	mpw_str(w, k);
	mpw_bin(w, v, n);
}

void
mpw_kv_i64(struct mpw *w, const char *k, int64_t v)
{
	mpw_str(w, k);
	mpw_i64(w, v);
}

/*
 * msgpack-c allocates a container's item array before reading the items,
 * so a 5-byte message claiming 2^32 items would ask for 100 GB. Walk the
 * headers first and refuse any count larger than the bytes left, and any
 * nesting deeper than the unpacker's own stack.
 */
static int
mp_sane(const unsigned char *p, size_t len)
{
	size_t off = 0, pending = 1, n;
	int depth_guard = 0;

	while (pending > 0) {
		unsigned char c;
		size_t items = 0, skip = 0;

		if (off >= len)
			return -1;
		c = p[off++];
		pending--;
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 ||
		    c == 0xc3)
			continue;
		if ((c & 0xf0) == 0x80)
			items = (size_t)(c & 0x0f) * 2;
		else if ((c & 0xf0) == 0x90)
			items = c & 0x0f;
		else if ((c & 0xe0) == 0xa0)
			skip = c & 0x1f;
		else {
			size_t w;

			switch (c) {
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xc4: case 0xd9: case 0xc7:
			case 0xc5: case 0xda: case 0xc8: case 0xdc: case 0xde:
			case 0xc6: case 0xdb: case 0xc9: case 0xdd: case 0xdf:
				w = (c == 0xc4 || c == 0xd9 || c == 0xc7) ? 1 :
				    (c == 0xc5 || c == 0xda || c == 0xc8 ||
				    c == 0xdc || c == 0xde) ? 2 : 4;
				if (len - off < w)
					return -1;
				for (n = 0; w > 0; w--)
					n = (n << 8) | p[off++];
				if (c == 0xdc || c == 0xdd)
					items = n;
				else if (c == 0xde || c == 0xdf) {
					if (n > len)
						return -1;
					items = n * 2;
				} else
					skip = n + ((c >= 0xc7 && c <= 0xc9) ?
					    1 : 0);
				break;
			default:
				return -1;	/* 0xc1: never used */
			}
		}
		if (skip > len - off || items > len - off)
			return -1;
		off += skip;
		pending += items;
		if (items > 0 && ++depth_guard > 100000)
			return -1;
	}
	return off == len ? 0 : -1;
}

int
mp_unpack(const void *data, size_t len, msgpack_unpacked *u)
{
	size_t off = 0;

	if (len == 0 || len > MP_MAX_INPUT || mp_sane(data, len) == -1)
		return -1;
	msgpack_unpacked_init(u);
	if (msgpack_unpack_next(u, data, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len) {
		msgpack_unpacked_destroy(u);
		return -1;
	}
	return 0;
}

const msgpack_object *
mp_get(const msgpack_object *map, const char *key)
{
	size_t kl = strlen(key);
	uint32_t i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
		    memcmp(k->via.str.ptr, key, kl) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int
mp_obj_str(const msgpack_object *o, char *out, size_t cap)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_STR ||
	    o->via.str.size >= cap || (o->via.str.size > 0 &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL))
		return -1;
	if (o->via.str.size > 0)
		memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = '\0';
	return 0;
}

int
mp_get_str(const msgpack_object *map, const char *key, char *out, size_t cap)
{
	return mp_obj_str(mp_get(map, key), out, cap);
}

int
mp_get_strp(const msgpack_object *map, const char *key, const char **p,
    size_t *n)
{
	const msgpack_object *o = mp_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return -1;
	/* msgpack-c gives empty strings a NULL pointer. */
	*p = o->via.str.size > 0 ? o->via.str.ptr : "";
	*n = o->via.str.size;
	return 0;
}

int
mp_get_binp(const msgpack_object *map, const char *key, const void **p,
    size_t *n)
{
	const msgpack_object *o = mp_get(map, key);

	if (o == NULL)
		return -1;
	if (o->type == MSGPACK_OBJECT_BIN) {
		*p = o->via.bin.size > 0 ? o->via.bin.ptr : "";
		*n = o->via.bin.size;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_STR) {
		*p = o->via.str.size > 0 ? o->via.str.ptr : "";
		*n = o->via.str.size;
		return 0;
	}
	return -1;
}

int
mp_get_i64(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = mp_get(map, key);

	if (o == NULL)
		return -1;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return -1;
		*out = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	return -1;
}

char *
mp_get_strdup(const msgpack_object *map, const char *key)
{
	const char *p;
	size_t n;

	if (mp_get_strp(map, key, &p, &n) == -1)
		return NULL;
	return strndup(p, n);
}
