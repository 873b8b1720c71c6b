/*
 * The lifecycle's tables. In the config part, written by `hookpipe
 * lifecycle` (the CLI): the outbox of internal events waiting for the
 * verifier, and the lifecycle's counters and places. In the runs part:
 * the index of runs that died (kept by db_run_put, so by whoever writes
 * a run), and the enrich results and cursors (`hookpipe enrich`, the
 * dispatcher's child).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"

/* --- config: the outbox -------------------------------------------- */

int
db_outbox_put(MDB_txn *txn, struct db *db, struct outbox_rec *o)
{
	unsigned char k[8];
	MDB_cursor *c;
	MDB_val key, val;
	struct mpw w;
	int rc;

	DB_CHECK(txn, db, DB_CONFIG);
	if ((rc = mdb_cursor_open(txn, db->outbox, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
	o->seq = rc == 0 && key.mv_size == 8 ? get_be64(key.mv_data) + 1 : 1;
	mdb_cursor_close(c);
	put_be64(k, o->seq);
	mpw_init(&w);
	mpw_map(&w, 5);
	mpw_kv_str(&w, "sub", o->sub);
	mpw_kv_str(&w, "type", o->type);
	mpw_kv_str(&w, "delivery_id", o->delivery_id);
	mpw_kv_i64(&w, "created_at", o->created_at);
	mpw_kv_str(&w, "payload", o->payload ? o->payload : "{}");
	return put_mp(txn, db->outbox, k, sizeof(k), &w);
}

struct outbox_each {
	db_outbox_fn	 fn;
	void		*arg;
};

static int
outbox_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct outbox_each *e = arg;
	struct outbox_rec o;
	msgpack_unpacked u;
	int rc;

	if (k->mv_size != 8 || mp_unpack(v->mv_data, v->mv_size, &u) == -1)
		return 0;
	memset(&o, 0, sizeof(o));
	o.seq = get_be64(k->mv_data);
	rc = mp_get_str(&u.data, "sub", o.sub, sizeof(o.sub)) ||
	    mp_get_str(&u.data, "type", o.type, sizeof(o.type)) ||
	    mp_get_str(&u.data, "delivery_id", o.delivery_id,
	    sizeof(o.delivery_id));
	mp_get_i64(&u.data, "created_at", &o.created_at);
	o.payload = mp_get_strdup(&u.data, "payload");
	msgpack_unpacked_destroy(&u);
	if (rc != 0 || o.payload == NULL) {
		free(o.payload);
		return 0;
	}
	rc = e->fn(e->arg, &o);
	free(o.payload);
	return rc;
}

int
db_outbox_each(MDB_txn *txn, struct db *db, db_outbox_fn fn, void *arg)
{
	struct outbox_each e = { fn, arg };

	DB_CHECK(txn, db, DB_CONFIG);
	return prefix_each(txn, db->outbox, NULL, 0, outbox_cb, &e);
}

int
db_outbox_del(MDB_txn *txn, struct db *db, uint64_t seq)
{
	unsigned char k[8];

	DB_CHECK(txn, db, DB_CONFIG);
	put_be64(k, seq);
	return db_del(txn, db->outbox, k, sizeof(k));
}

/* --- config: counters and places ------------------------------------ */

int
db_life_count(MDB_txn *txn, struct db *db, const char *name, int64_t add)
{
	char key[128];
	unsigned char b[8];
	MDB_val v;
	uint64_t n = 0;
	int kn;

	DB_CHECK(txn, db, DB_CONFIG);
	kn = snprintf(key, sizeof(key), "count:%s", name);
	if (kn < 0 || (size_t)kn >= sizeof(key))
		return MDB_BAD_VALSIZE;
	if (db_get(txn, db->lifecycle, key, (size_t)kn, &v) == 0 &&
	    v.mv_size == 8)
		n = get_be64(v.mv_data);
	put_be64(b, n + (uint64_t)add);
	return db_put(txn, db->lifecycle, key, (size_t)kn, b, sizeof(b), 0);
}

int64_t
db_life_counter(MDB_txn *txn, struct db *db, const char *name)
{
	char key[128];
	MDB_val v;
	int kn;

	if (mdb_txn_env(txn) != db->part[DB_CONFIG].env)
		return 0;
	kn = snprintf(key, sizeof(key), "count:%s", name);
	if (kn < 0 || (size_t)kn >= sizeof(key) ||
	    db_get(txn, db->lifecycle, key, (size_t)kn, &v) != 0 ||
	    v.mv_size != 8)
		return 0;
	return (int64_t)get_be64(v.mv_data);
}

struct counters_each {
	db_counter_fn	 fn;
	void		*arg;
};

static int
counters_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct counters_each *e = arg;
	char name[128];

	if (v->mv_size != 8 || k->mv_size <= 6 || k->mv_size - 6 >=
	    sizeof(name))
		return 0;
	memcpy(name, (const char *)k->mv_data + 6, k->mv_size - 6);
	name[k->mv_size - 6] = '\0';
	return e->fn(e->arg, name, (int64_t)get_be64(v->mv_data));
}

int
db_life_counters(MDB_txn *txn, struct db *db, db_counter_fn fn, void *arg)
{
	struct counters_each e = { fn, arg };

	DB_CHECK(txn, db, DB_CONFIG);
	return prefix_each(txn, db->lifecycle, "count:", 6, counters_cb, &e);
}

int
db_life_get(MDB_txn *txn, struct db *db, const char *key, void *out,
    size_t cap, size_t *len)
{
	MDB_val v;
	int rc;

	DB_CHECK(txn, db, DB_CONFIG);
	*len = 0;
	if ((rc = db_get(txn, db->lifecycle, key, strlen(key), &v)) != 0)
		return rc;
	if (v.mv_size > cap)
		return MDB_BAD_VALSIZE;
	memcpy(out, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 0;
}

int
db_life_put(MDB_txn *txn, struct db *db, const char *key, const void *val,
    size_t n)
{
	DB_CHECK(txn, db, DB_CONFIG);
	return db_put(txn, db->lifecycle, key, strlen(key), val, n, 0);
}

/* --- runs: the dead, enrich results, cursors ------------------------- */

int
db_dead_each(MDB_txn *txn, struct db *db, const unsigned char *after,
    db_dead_fn fn, void *arg)
{
	unsigned char start[DEAD_KEY_LEN];
	char id[UUID_LEN + 1];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	DB_CHECK(txn, db, DB_RUNS);
	if ((rc = mdb_cursor_open(txn, db->dead, &c)) != 0)
		return rc;
	if (after != NULL) {
		memcpy(start, after, sizeof(start));
		k.mv_data = start;
		k.mv_size = sizeof(start);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		/* Past the one already seen. */
		if (rc == 0 && k.mv_size == DEAD_KEY_LEN &&
		    memcmp(k.mv_data, after, DEAD_KEY_LEN) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	} else
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != DEAD_KEY_LEN)
			continue;
		memcpy(id, (const char *)k.mv_data + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		if (fn(arg, k.mv_data, id) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc == 0 ? 0 : rc;
}

static int
named_key(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

char *
db_enriched_get(MDB_txn *txn, struct db *db, const char *event_id,
    const char *name)
{
	char key[KEY_MAX + 1], *s;
	MDB_val v;
	int n;

	if (mdb_txn_env(txn) != db->part[DB_RUNS].env ||
	    (n = named_key(key, sizeof(key), event_id, name)) == -1 ||
	    db_get(txn, db->enriched, key, (size_t)n, &v) != 0 ||
	    (s = malloc(v.mv_size + 1)) == NULL)
		return NULL;
	memcpy(s, v.mv_data, v.mv_size);
	s[v.mv_size] = '\0';
	return s;
}

int
db_enriched_put(MDB_txn *txn, struct db *db, const char *event_id,
    const char *name, const char *json)
{
	char key[KEY_MAX + 1];
	int n;

	DB_CHECK(txn, db, DB_RUNS);
	if ((n = named_key(key, sizeof(key), event_id, name)) == -1)
		return MDB_BAD_VALSIZE;
	return db_put(txn, db->enriched, key, (size_t)n, json, strlen(json),
	    0);
}

int
db_cursor_get_named(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *name, char *out, size_t cap)
{
	char key[KEY_MAX + 1];
	MDB_val v;
	int n, rc;

	DB_CHECK(txn, db, DB_RUNS);
	if ((n = named_key(key, sizeof(key), sub_id, name)) == -1)
		return MDB_BAD_VALSIZE;
	if ((rc = db_get(txn, db->cursors, key, (size_t)n, &v)) != 0)
		return rc;
	if (v.mv_size >= cap)
		return MDB_BAD_VALSIZE;
	memcpy(out, v.mv_data, v.mv_size);
	out[v.mv_size] = '\0';
	return 0;
}

int
db_cursor_put_named(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *name, const char *value)
{
	char key[KEY_MAX + 1];
	int n;

	DB_CHECK(txn, db, DB_RUNS);
	if ((n = named_key(key, sizeof(key), sub_id, name)) == -1)
		return MDB_BAD_VALSIZE;
	return db_put(txn, db->cursors, key, (size_t)n, value, strlen(value),
	    0);
}

int
db_life_run_dropped(MDB_txn *txn, struct db *db, const struct run_rec *r)
{
	unsigned char k[DEAD_KEY_LEN];
	char prefix[UUID_LEN + 2];
	MDB_cursor *c;
	MDB_val key, val;
	int rc;

	if (r->state == RUN_DEAD) {
		put_be64(k, (uint64_t)r->updated_at);
		memcpy(k + 8, r->id, UUID_LEN);
		if ((rc = db_del(txn, db->dead, k, sizeof(k))) != 0)
			return rc;
	}
	/* The event's enrich results go with its runs. */
	snprintf(prefix, sizeof(prefix), "%s/", r->event_id);
	if ((rc = mdb_cursor_open(txn, db->enriched, &c)) != 0)
		return rc;
	for (;;) {
		key.mv_data = prefix;
		key.mv_size = strlen(prefix);
		if (mdb_cursor_get(c, &key, &val, MDB_SET_RANGE) != 0 ||
		    key.mv_size < strlen(prefix) || memcmp(key.mv_data, prefix,
		    strlen(prefix)) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
