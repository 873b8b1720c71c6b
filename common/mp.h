/*
 * msgpack helpers over msgpack-c: a writer for maps with string keys and
 * bounds-checked readers that copy out typed fields. Every value that
 * crosses a socket or sits in LMDB goes through these.
 */
#ifndef HP_MP_H
#define HP_MP_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define MP_MAX_INPUT	(64u << 20)	/* largest message or record */

struct mpw {
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
};

void	mpw_init(struct mpw *);
void	mpw_reset(struct mpw *);
void	mpw_free(struct mpw *);
void	mpw_map(struct mpw *, uint32_t n);
void	mpw_array(struct mpw *, uint32_t n);
void	mpw_str(struct mpw *, const char *);
void	mpw_strn(struct mpw *, const char *, size_t);
void	mpw_bin(struct mpw *, const void *, size_t);
void	mpw_i64(struct mpw *, int64_t);
void	mpw_nil(struct mpw *);
void	mpw_kv_str(struct mpw *, const char *k, const char *v);
void	mpw_kv_bin(struct mpw *, const char *k, const void *v, size_t n);
void	mpw_kv_i64(struct mpw *, const char *k, int64_t v);

/*
 * Decode exactly one object from data: trailing bytes, truncation, or
 * containers that claim more items than the input could hold are refused.
 * On success the caller owns *u (msgpack_unpacked_destroy).
 */
int	mp_unpack(const void *data, size_t len, msgpack_unpacked *u);

/* Field lookups in a map with string keys. NULL/-1 when absent or mistyped. */
const msgpack_object *mp_get(const msgpack_object *map, const char *key);
int	mp_get_str(const msgpack_object *map, const char *key, char *out,
	    size_t cap);		/* -1 also when it does not fit */
int	mp_get_strp(const msgpack_object *map, const char *key,
	    const char **p, size_t *n);
int	mp_get_binp(const msgpack_object *map, const char *key,
	    const void **p, size_t *n);	/* bin or str */
int	mp_get_i64(const msgpack_object *map, const char *key, int64_t *out);
/* malloc'd NUL-terminated copy of a str field; NULL if absent. */
char   *mp_get_strdup(const msgpack_object *map, const char *key);
int	mp_obj_str(const msgpack_object *o, char *out, size_t cap);

#endif
