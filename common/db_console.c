/*
 * The console's records, in the config part (the admin side writes
 * them): the audit log, console sessions and one-time login links.
 *
 *	audit		be64 time (us) + be32 random -> {who, from, what,
 *			target, detail, status}
 *	sessions	SHA-256 of the session id -> {who, csrf, created_at,
 *			expires_at}
 *	logins		SHA-256 of a login link's token -> {who, expires_at}
 *			(single use)
 *
 * Only digests of session ids and login tokens are stored: a copy of
 * the database does not log anyone in.
 */
#include <errno.h>
#include <string.h>

#include "db_impl.h"

int
db_console_open(struct db *db, MDB_txn *txn)
{
	int rc;

	if ((rc = dbi_open(txn, "audit", MDB_CREATE, &db->audit)) ||
	    (rc = dbi_open(txn, "sessions", MDB_CREATE, &db->sessions)) ||
	    (rc = dbi_open(txn, "logins", MDB_CREATE, &db->logins)))
		return rc;
	return 0;
}

static void
be64_put(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
db_audit_put(MDB_txn *txn, struct db *db, const struct audit_rec *a)
{
	unsigned char k[12];
	struct mpw w;

	DB_CHECK(txn, db, DB_CONFIG);
	be64_put(k, (uint64_t)a->at);
	crypto_random(k + 8, 4);
	mpw_init(&w);
	mpw_map(&w, 6);
	mpw_kv_str(&w, "who", a->who);
	mpw_kv_str(&w, "from", a->from);
	mpw_kv_str(&w, "what", a->what);
	mpw_kv_str(&w, "target", a->target);
	mpw_kv_str(&w, "detail", a->detail);
	mpw_kv_i64(&w, "status", a->status);
	return put_mp(txn, db->audit, k, sizeof(k), &w);
}

int
db_audit_each(MDB_txn *txn, struct db *db, db_audit_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, op = MDB_LAST;

	DB_CHECK(txn, db, DB_CONFIG);
	if ((rc = mdb_cursor_open(txn, db->audit, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		struct audit_rec a;
		msgpack_unpacked u;

		op = MDB_PREV;
		if (k.mv_size != 12 || mp_unpack(v.mv_data, v.mv_size, &u) != 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.at = (int64_t)be64_get(k.mv_data);
		mp_get_str(&u.data, "who", a.who, sizeof(a.who));
		mp_get_str(&u.data, "from", a.from, sizeof(a.from));
		mp_get_str(&u.data, "what", a.what, sizeof(a.what));
		mp_get_str(&u.data, "target", a.target, sizeof(a.target));
		mp_get_str(&u.data, "detail", a.detail, sizeof(a.detail));
		{
			int64_t st = 0;

			mp_get_i64(&u.data, "status", &st);
			a.status = (int)st;
		}
		msgpack_unpacked_destroy(&u);
		if (fn(arg, &a) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
db_session_put(MDB_txn *txn, struct db *db, const unsigned char id[32],
    const struct session_rec *s)
{
	struct mpw w;

	DB_CHECK(txn, db, DB_CONFIG);
	mpw_init(&w);
	mpw_map(&w, 4);
	mpw_kv_str(&w, "who", s->who);
	mpw_kv_str(&w, "csrf", s->csrf);
	mpw_kv_i64(&w, "created_at", s->created_at);
	mpw_kv_i64(&w, "expires_at", s->expires_at);
	return put_mp(txn, db->sessions, id, 32, &w);
}

int
db_session_get(MDB_txn *txn, struct db *db, const unsigned char id[32],
    struct session_rec *s)
{
	msgpack_unpacked u;
	int rc;

	DB_CHECK(txn, db, DB_CONFIG);
	memset(s, 0, sizeof(*s));
	if ((rc = get_mp(txn, db->sessions, id, 32, &u, "session")) != 0)
		return rc == DB_EDAMAGED ? MDB_NOTFOUND : rc;
	mp_get_str(&u.data, "who", s->who, sizeof(s->who));
	mp_get_str(&u.data, "csrf", s->csrf, sizeof(s->csrf));
	mp_get_i64(&u.data, "created_at", &s->created_at);
	mp_get_i64(&u.data, "expires_at", &s->expires_at);
	msgpack_unpacked_destroy(&u);
	return s->expires_at < now_us() ? ETIMEDOUT : 0;
}

int
db_session_del(MDB_txn *txn, struct db *db, const unsigned char id[32])
{
	int rc;

	DB_CHECK(txn, db, DB_CONFIG);
	rc = db_del(txn, db->sessions, id, 32);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
db_login_put(MDB_txn *txn, struct db *db, const unsigned char id[32],
    const char *who, int64_t expires_at)
{
	struct mpw w;

	DB_CHECK(txn, db, DB_CONFIG);
	mpw_init(&w);
	mpw_map(&w, 2);
	mpw_kv_str(&w, "who", who);
	mpw_kv_i64(&w, "expires_at", expires_at);
	return put_mp(txn, db->logins, id, 32, &w);
}

int
db_login_take(MDB_txn *txn, struct db *db, const unsigned char id[32],
    char *who, size_t wholen)
{
	msgpack_unpacked u;
	int64_t exp = 0;
	int rc;

	DB_CHECK(txn, db, DB_CONFIG);
	if ((rc = get_mp(txn, db->logins, id, 32, &u, "login")) != 0)
		return rc == DB_EDAMAGED ? MDB_NOTFOUND : rc;
	mp_get_str(&u.data, "who", who, wholen);
	mp_get_i64(&u.data, "expires_at", &exp);
	msgpack_unpacked_destroy(&u);
	if ((rc = db_del(txn, db->logins, id, 32)) != 0)
		return rc;
	return exp < now_us() ? ETIMEDOUT : 0;
}

/* Expired sessions and login links, and audit records before cutoff. */
int
db_console_prune(MDB_txn *txn, struct db *db, int64_t audit_cutoff)
{
	MDB_dbi dbis[2] = { db->sessions, db->logins };
	MDB_cursor *cur;
	MDB_val k, v;
	int64_t now = now_us(), exp;
	int i, rc, n = 0;

	DB_CHECK(txn, db, DB_CONFIG);
	for (i = 0; i < 2; i++) {
		if ((rc = mdb_cursor_open(txn, dbis[i], &cur)) != 0)
			return rc;
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			msgpack_unpacked u;

			exp = 0;
			if (mp_unpack(v.mv_data, v.mv_size, &u) == 0) {
				mp_get_i64(&u.data, "expires_at", &exp);
				msgpack_unpacked_destroy(&u);
			}
			if (exp < now && (rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			n += exp < now;
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND && rc != 0)
			return rc;
	}
	if ((rc = mdb_cursor_open(txn, db->audit, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0 &&
	    k.mv_size == 12 && (int64_t)be64_get(k.mv_data) < audit_cutoff) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}
