/*
 * Deliveries the verifier refused (400, 401), in the events part: when,
 * for which subscription, and why, so that an operator can see why a
 * provider's deliveries do not arrive. Never the body nor a signature:
 * a refused delivery is not trusted with more room than a log line, and
 * the table is bounded in time and in size (a flood of forgeries must not
 * fill the disk).
 *
 *	rejected	be64 recorded_at + event id -> msgpack map
 */
#include <string.h>

#include "db_impl.h"

#define RKEY_LEN	(8 + UUID_LEN)

static void
rkey(unsigned char k[RKEY_LEN], int64_t at, const char *id)
{
	put_be64(k, (uint64_t)at);
	memset(k + 8, 0, UUID_LEN);
	memcpy(k + 8, id, strnlen(id, UUID_LEN));
}

int
db_rejected_put(MDB_txn *txn, struct db *db, const struct rejected_rec *r)
{
	unsigned char k[RKEY_LEN];
	struct mpw w;

	DB_CHECK(txn, db, DB_EVENTS);
	rkey(k, r->recorded_at, r->id);
	mpw_init(&w);
	mpw_map(&w, 11);
	mpw_kv_str(&w, "id", r->id);
	mpw_kv_str(&w, "sub", r->sub);
	mpw_kv_str(&w, "workspace", r->workspace);
	mpw_kv_str(&w, "integration", r->integration);
	mpw_kv_i64(&w, "status", r->status);
	mpw_kv_str(&w, "reason", r->reason);
	mpw_kv_i64(&w, "received_at", r->received_at);
	mpw_kv_i64(&w, "recorded_at", r->recorded_at);
	mpw_kv_str(&w, "method", r->method);
	mpw_kv_str(&w, "user_agent", r->user_agent);
	mpw_kv_str(&w, "content_type", r->content_type);
	return put_mp(txn, db->rejected, k, sizeof(k), &w);
}

static int
rejected_decode(const MDB_val *v, struct rejected_rec *r)
{
	msgpack_unpacked u;
	int64_t status = 0;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (mp_unpack(v->mv_data, v->mv_size, &u) == -1)
		return -1;
	if (u.data.type != MSGPACK_OBJECT_MAP ||
	    mp_get_str(&u.data, "id", r->id, sizeof(r->id)) ||
	    mp_get_str(&u.data, "sub", r->sub, sizeof(r->sub)))
		rc = -1;
	else {
		mp_get_str(&u.data, "workspace", r->workspace,
		    sizeof(r->workspace));
		mp_get_str(&u.data, "integration", r->integration,
		    sizeof(r->integration));
		mp_get_i64(&u.data, "status", &status);
		r->status = (int)status;
		mp_get_str(&u.data, "reason", r->reason, sizeof(r->reason));
		mp_get_i64(&u.data, "received_at", &r->received_at);
		mp_get_i64(&u.data, "recorded_at", &r->recorded_at);
		mp_get_str(&u.data, "method", r->method, sizeof(r->method));
		mp_get_str(&u.data, "user_agent", r->user_agent,
		    sizeof(r->user_agent));
		mp_get_str(&u.data, "content_type", r->content_type,
		    sizeof(r->content_type));
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
db_rejected_each(MDB_txn *txn, struct db *db, int newest_first, int64_t from,
    db_rejected_fn fn, void *arg)
{
	unsigned char k0[RKEY_LEN];
	struct rejected_rec r;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	DB_CHECK(txn, db, DB_EVENTS);
	if ((rc = mdb_cursor_open(txn, db->rejected, &c)) != 0)
		return rc;
	if (newest_first)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	else {
		rkey(k0, from, "");
		k.mv_data = k0;
		k.mv_size = sizeof(k0);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, newest_first ?
	    MDB_PREV : MDB_NEXT)) {
		if (rejected_decode(&v, &r) == -1)
			continue;	/* a damaged one says nothing */
		if (fn(arg, &r) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
db_rejected_prune(MDB_txn *txn, struct db *db, int64_t cutoff, size_t keep,
    int limit, int *rc)
{
	MDB_cursor *c;
	MDB_stat st;
	MDB_val k, v;
	size_t over;
	int n = 0;

	*rc = 0;
	if (db->part[DB_EVENTS].env == NULL ||
	    mdb_txn_env(txn) != db->part[DB_EVENTS].env) {
		*rc = DB_EWRONGENV;
		return -1;
	}
	if ((*rc = mdb_stat(txn, db->rejected, &st)) != 0 ||
	    (*rc = mdb_cursor_open(txn, db->rejected, &c)) != 0)
		return -1;
	over = st.ms_entries > keep ? st.ms_entries - keep : 0;
	while (n < limit && (*rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) ==
	    0) {
		if (k.mv_size >= 8 && (int64_t)get_be64(k.mv_data) >= cutoff &&
		    (size_t)n >= over)
			break;
		if ((*rc = mdb_cursor_del(c, 0)) != 0)
			break;
		n++;
	}
	mdb_cursor_close(c);
	if (*rc == MDB_NOTFOUND)
		*rc = 0;
	if (*rc != 0)
		return -1;
	return n;
}
