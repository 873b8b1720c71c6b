/*
 * The spool part: deliveries the receiver kept while the verifier was
 * away, and the quarantine of those the verifier could not process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"

int
db_spool_open(struct db *db, MDB_txn *txn)
{
	int rc;

	if ((rc = dbi_open(txn, "spool", MDB_CREATE, &db->spool)) ||
	    (rc = dbi_open(txn, "quarantine", MDB_CREATE, &db->quarantine)))
		return rc;
	return 0;
}

size_t
db_spool_bytes(MDB_txn *txn, struct db *db)
{
	MDB_stat st;

	if (mdb_stat(txn, db->spool, &st) != 0)
		return 0;
	return (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
	    (size_t)st.ms_psize;
}

/* --- spool --- */

int
db_spool_put(MDB_txn *txn, struct db *db, int64_t at, const char *event_id,
    const void *msg, size_t n)
{
	unsigned char k[SPOOL_KEY_LEN];

	DB_CHECK(txn, db, DB_SPOOL);

	put_be64(k, (uint64_t)at);
	memcpy(k + 8, event_id, UUID_LEN);
	return db_put(txn, db->spool, k, sizeof(k), msg, n, 0);
}

int
db_spool_next(MDB_txn *txn, struct db *db, const unsigned char *after,
    int64_t now, unsigned char key[SPOOL_KEY_LEN], MDB_val *msg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	DB_CHECK(txn, db, DB_SPOOL);

	if ((rc = mdb_cursor_open(txn, db->spool, &c)) != 0)
		return rc;
	if (after == NULL)
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	else {
		k.mv_data = (void *)after;
		k.mv_size = SPOOL_KEY_LEN;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		/* Strictly after the resume key. */
		if (rc == 0 && k.mv_size == SPOOL_KEY_LEN &&
		    memcmp(k.mv_data, after, SPOOL_KEY_LEN) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	/* Keys of another size are not ours: skipped, never looped on. */
	while (rc == 0 && k.mv_size != SPOOL_KEY_LEN)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	if (rc == 0 && (int64_t)get_be64(k.mv_data) > now)
		rc = MDB_NOTFOUND;	/* not due yet */
	if (rc == 0) {
		memcpy(key, k.mv_data, SPOOL_KEY_LEN);
		*msg = v;
	}
	mdb_cursor_close(c);
	return rc;
}

int
db_spool_del(MDB_txn *txn, struct db *db, const unsigned char *key)
{
	return db_del(txn, db->spool, key, SPOOL_KEY_LEN);

	DB_CHECK(txn, db, DB_SPOOL);
}

int
db_spool_delay(MDB_txn *txn, struct db *db, const unsigned char *key,
    int64_t at)
{
	unsigned char nk[SPOOL_KEY_LEN];
	MDB_val v;
	void *copy;
	int rc;

	DB_CHECK(txn, db, DB_SPOOL);

	if ((rc = db_get(txn, db->spool, key, SPOOL_KEY_LEN, &v)) != 0)
		return rc;
	/* The value lives in the map: copy it before the delete. */
	if ((copy = malloc(v.mv_size ? v.mv_size : 1)) == NULL)
		return ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	put_be64(nk, (uint64_t)at);
	memcpy(nk + 8, key + 8, UUID_LEN);
	if ((rc = db_spool_del(txn, db, key)) == 0)
		rc = db_put(txn, db->spool, nk, sizeof(nk), copy, v.mv_size,
		    0);
	free(copy);
	return rc;
}

/*
 * A quarantined delivery: the spooled message as it was, why it was set
 * aside and when. Keyed by its event id.
 */
int
db_quarantine_put(MDB_txn *txn, struct db *db, const unsigned char *key,
    const char *reason)
{
	struct mpw w;
	MDB_val v;
	int rc;

	DB_CHECK(txn, db, DB_SPOOL);

	if ((rc = db_get(txn, db->spool, key, SPOOL_KEY_LEN, &v)) != 0)
		return rc;
	mpw_init(&w);
	mpw_map(&w, 4);
	mpw_kv_i64(&w, "spooled_at", (int64_t)get_be64(key));
	mpw_kv_i64(&w, "quarantined_at", now_us());
	mpw_kv_str(&w, "reason", reason);
	mpw_kv_bin(&w, "message", v.mv_data, v.mv_size);
	/* Put first: v points into the map, which the delete may free. */
	if ((rc = db_put(txn, db->quarantine, key + 8, UUID_LEN, w.sb.data,
	    w.sb.size, 0)) == 0)
		rc = db_spool_del(txn, db, key);
	mpw_free(&w);
	return rc;
}

int
quarantine_decode(const void *data, size_t len, struct quarantine_rec *q)
{
	msgpack_unpacked u;
	const void *p;
	size_t n;
	int rc = -1;

	memset(q, 0, sizeof(*q));
	if (mp_unpack(data, len, &u) == -1)
		return -1;
	if (u.data.type == MSGPACK_OBJECT_MAP &&
	    mp_get_i64(&u.data, "spooled_at", &q->spooled_at) == 0 &&
	    mp_get_i64(&u.data, "quarantined_at", &q->quarantined_at) == 0 &&
	    mp_get_str(&u.data, "reason", q->reason, sizeof(q->reason)) == 0 &&
	    mp_get_binp(&u.data, "message", &p, &n) == 0 &&
	    (q->message = malloc(n ? n : 1)) != NULL) {
		memcpy(q->message, p, n);
		q->message_len = n;
		rc = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

void
quarantine_free(struct quarantine_rec *q)
{
	free(q->message);
	q->message = NULL;
}

int
db_quarantine_get(MDB_txn *txn, struct db *db, const char *id,
    struct quarantine_rec *q)
{
	MDB_val v;
	int rc;

	DB_CHECK(txn, db, DB_SPOOL);

	if (strlen(id) != UUID_LEN)
		return MDB_NOTFOUND;
	if ((rc = db_get(txn, db->quarantine, id, UUID_LEN, &v)) != 0)
		return rc;
	if (quarantine_decode(v.mv_data, v.mv_size, q) == -1) {
		log_warn("damaged quarantine record %s", id);
		return DB_EDAMAGED;
	}
	str_copy(q->id, id, sizeof(q->id));
	return 0;
}

int
db_quarantine_del(MDB_txn *txn, struct db *db, const char *id)
{
	return db_del(txn, db->quarantine, id, strlen(id));

	DB_CHECK(txn, db, DB_SPOOL);
}

/* Back into the spool, due now. */
int
db_quarantine_retry(MDB_txn *txn, struct db *db, const char *id)
{
	struct quarantine_rec q;
	int rc;

	DB_CHECK(txn, db, DB_SPOOL);

	if ((rc = db_quarantine_get(txn, db, id, &q)) != 0)
		return rc;
	if ((rc = db_spool_put(txn, db, now_us(), id, q.message,
	    q.message_len)) == 0)
		rc = db_quarantine_del(txn, db, id);
	quarantine_free(&q);
	return rc;
}

struct spool_each {
	db_spool_fn fn;
	void	*arg;
};

static int
spool_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct spool_each *e = arg;

	return e->fn(e->arg, k, v->mv_data, v->mv_size);
}

int
db_spool_each(MDB_txn *txn, struct db *db, db_spool_fn fn, void *arg)
{
	struct spool_each e = { fn, arg };

	DB_CHECK(txn, db, DB_SPOOL);

	return prefix_each(txn, db->spool, NULL, 0, spool_each_cb, &e);
}

int
db_quarantine_each(MDB_txn *txn, struct db *db, db_spool_fn fn, void *arg)
{
	struct spool_each e = { fn, arg };

	DB_CHECK(txn, db, DB_SPOOL);

	return prefix_each(txn, db->quarantine, NULL, 0, spool_each_cb, &e);
}

