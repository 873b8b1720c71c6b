/*
 * The runs part: runs, their attempts and inputs, the due index, the
 * router's cursor in the event log, and the `workflow test`s it caught.
 * Runs are created by the router and advanced by the dispatcher (and by
 * `hookpipe replay`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"

int
db_runs_open(struct db *db, MDB_txn *txn)
{
	int rc;

	if ((rc = dbi_open(txn, "runs", MDB_CREATE, &db->runs)) ||
	    (rc = dbi_open(txn, "runs_by_time", MDB_CREATE,
	    &db->runs_by_time)) ||
	    (rc = dbi_open(txn, "runs_by_event", MDB_CREATE | MDB_DUPSORT,
	    &db->runs_by_event)) ||
	    (rc = dbi_open(txn, "due", MDB_CREATE, &db->due)) ||
	    (rc = dbi_open(txn, "attempts", MDB_CREATE, &db->attempts)) ||
	    (rc = dbi_open(txn, "run_inputs", MDB_CREATE, &db->run_inputs)) ||
	    (rc = dbi_open(txn, "tests", MDB_CREATE, &db->tests)) ||
	    (rc = dbi_open(txn, "dead", MDB_CREATE, &db->dead)) ||
	    (rc = dbi_open(txn, "enriched", MDB_CREATE, &db->enriched)) ||
	    (rc = dbi_open(txn, "cursors", MDB_CREATE, &db->cursors)))
		return rc;
	return 0;
}

/*
 * A run id from what identifies it: SHA-256 of the event id and the
 * workflow, laid out as a UUID version 8 whose first 48 bits are the
 * event's receipt in milliseconds (so runs sort by time, as uuid7 ones
 * do).
 */
void
run_id_for(const struct event_rec *e, const char *ws, const char *workflow,
    char out[UUID_LEN + 1])
{
	unsigned char d[32], u[16];
	struct buf b = { 0 };
	uint64_t ms = (uint64_t)(e->received_at / 1000);
	static const char hex[] = "0123456789abcdef";
	int i, j;

	buf_appendf(&b, "%s\n%s/%s", e->id, ws, workflow);
	sha256(b.data, b.len, d);
	buf_free(&b);
	memcpy(u, d, sizeof(u));
	for (i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x80 | (u[6] & 0x0f));	/* version 8 */
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));	/* variant 10 */
	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 15];
	}
	out[j] = '\0';
}

/* A number of the runs part's meta table: 0 when absent. */
static uint64_t
meta_get(MDB_txn *txn, struct db *db, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_txn_env(txn) != db->part[DB_RUNS].env ||
	    mdb_get(txn, db->rmeta, &k, &v) != 0 || v.mv_size != 8)
		return 0;
	return get_be64(v.mv_data);
}

static int
meta_put(MDB_txn *txn, struct db *db, const char *name, uint64_t n)
{
	unsigned char b[8];
	MDB_val k = { strlen(name), (void *)name }, v = { 8, b };

	DB_CHECK(txn, db, DB_RUNS);
	put_be64(b, n);
	return mdb_put(txn, db->rmeta, &k, &v, 0);
}

uint64_t
db_cursor(MDB_txn *txn, struct db *db)
{
	return meta_get(txn, db, "cursor");
}

int
db_cursor_put(MDB_txn *txn, struct db *db, uint64_t seq)
{
	return meta_put(txn, db, "cursor", seq);
}

int64_t
db_lease(MDB_txn *txn, struct db *db)
{
	return (int64_t)meta_get(txn, db, "lease");
}

int
db_lease_put(MDB_txn *txn, struct db *db, int64_t until_us)
{
	return meta_put(txn, db, "lease", (uint64_t)until_us);
}

int64_t
db_test_caught(MDB_txn *txn, struct db *db, const char *ws, const char *name)
{
	char key[KEY_MAX + 1];
	MDB_val v;
	int n;

	if (mdb_txn_env(txn) != db->part[DB_RUNS].env ||
	    (n = name2_key(key, sizeof(key), ws, name)) == -1 ||
	    db_get(txn, db->tests, key, (size_t)n, &v) != 0 || v.mv_size != 8)
		return 0;
	return (int64_t)get_be64(v.mv_data);
}

int
db_test_catch(MDB_txn *txn, struct db *db, const char *ws, const char *name,
    int64_t listen_until)
{
	char key[KEY_MAX + 1];
	unsigned char b[8];
	int n;

	DB_CHECK(txn, db, DB_RUNS);
	if ((n = name2_key(key, sizeof(key), ws, name)) == -1)
		return MDB_BAD_VALSIZE;
	put_be64(b, (uint64_t)listen_until);
	return db_put(txn, db->tests, key, (size_t)n, b, sizeof(b), 0);
}


static int
run_decode(const msgpack_object *m, struct run_rec *r)
{
	int64_t test = 0, seq = 0;
	char status[16];
	int st;

	memset(r, 0, sizeof(*r));
	if (mp_get_str(m, "id", r->id, sizeof(r->id)) ||
	    mp_get_str(m, "workspace", r->workspace, sizeof(r->workspace)) ||
	    mp_get_str(m, "workflow", r->workflow, sizeof(r->workflow)) ||
	    mp_get_str(m, "event_id", r->event_id, sizeof(r->event_id)) ||
	    mp_get_str(m, "status", status, sizeof(status)) ||
	    (st = run_state_parse(status)) == -1)
		return -1;
	r->state = (enum run_state)st;
	mp_get_i64(m, "event_seq", &seq);
	r->event_seq = seq > 0 ? (uint64_t)seq : 0;
	mp_get_i64(m, "attempts", &r->attempts);
	mp_get_i64(m, "max_attempts", &r->max_attempts);
	mp_get_i64(m, "created_at", &r->created_at);
	mp_get_i64(m, "updated_at", &r->updated_at);
	mp_get_i64(m, "next_at", &r->next_at);
	mp_get_i64(m, "test", &test);
	r->test = test != 0;
	mp_get_str(m, "last_error", r->last_error, sizeof(r->last_error));
	return 0;
}

int
db_run_get(MDB_txn *txn, struct db *db, const char *id, struct run_rec *r)
{
	msgpack_unpacked u;
	int rc;

	DB_CHECK(txn, db, DB_RUNS);

	if ((rc = get_mp(txn, db->runs, id, strlen(id), &u, "run")))
		return rc;
	rc = run_decode(&u.data, r) == 0 ? 0 : DB_EDAMAGED;
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
run_is_due(const struct run_rec *r)
{
	return r->state == RUN_QUEUED || r->state == RUN_RUNNING ||
	    r->state == RUN_FAILED;
}

static int
due_key(unsigned char out[8 + UUID_LEN], const struct run_rec *r)
{
	put_be64(out, (uint64_t)r->next_at);
	memcpy(out + 8, r->id, UUID_LEN);
	return 8 + UUID_LEN;
}

int
db_run_put(MDB_txn *txn, struct db *db, const struct run_rec *r,
    const struct run_rec *old)
{
	unsigned char k[8 + UUID_LEN];
	struct mpw w;
	MDB_val v;
	int rc;

	DB_CHECK(txn, db, DB_RUNS);
	mpw_init(&w);
	mpw_map(&w, 13);
	mpw_kv_str(&w, "id", r->id);
	mpw_kv_str(&w, "workspace", r->workspace);
	mpw_kv_str(&w, "workflow", r->workflow);
	mpw_kv_str(&w, "event_id", r->event_id);
	mpw_kv_i64(&w, "event_seq", (int64_t)r->event_seq);
	mpw_kv_str(&w, "status", run_state_name(r->state));
	mpw_kv_i64(&w, "attempts", r->attempts);
	mpw_kv_i64(&w, "max_attempts", r->max_attempts);
	mpw_kv_i64(&w, "created_at", r->created_at);
	mpw_kv_i64(&w, "updated_at", r->updated_at);
	mpw_kv_i64(&w, "next_at", r->next_at);
	mpw_kv_i64(&w, "test", r->test);
	mpw_kv_str(&w, "last_error", r->last_error);
	/* A new run whose id exists: the event was routed before. */
	if (old == NULL && db_get(txn, db->runs, r->id, UUID_LEN, &v) == 0) {
		mpw_free(&w);
		return MDB_KEYEXIST;
	}
	if ((rc = put_mp(txn, db->runs, r->id, UUID_LEN, &w)) != 0)
		return rc;
	if (old == NULL) {
		MDB_val key = { UUID_LEN, (void *)r->event_id };
		MDB_val val = { UUID_LEN, (void *)r->id };

		put_be64(k, (uint64_t)r->created_at);
		memcpy(k + 8, r->id, UUID_LEN);
		if ((rc = db_put(txn, db->runs_by_time, k, sizeof(k), "", 0,
		    0)) != 0)
			return rc;
		rc = mdb_put(txn, db->runs_by_event, &key, &val,
		    MDB_NODUPDATA);
		if (rc != 0 && rc != MDB_KEYEXIST)
			return rc;
	} else if (run_is_due(old)) {
		if ((rc = db_del(txn, db->due, k, (size_t)due_key(k, old))))
			return rc;
	}
	/* A run that dies is reported once (hookpipe lifecycle: run.dead). */
	if (r->state == RUN_DEAD && (old == NULL || old->state != RUN_DEAD)) {
		put_be64(k, (uint64_t)r->updated_at);
		memcpy(k + 8, r->id, UUID_LEN);
		if ((rc = db_put(txn, db->dead, k, DEAD_KEY_LEN, "", 0, 0)))
			return rc;
	}
	if (run_is_due(r))
		return db_put(txn, db->due, k, (size_t)due_key(k, r), "", 0, 0);
	return 0;
}

struct run_each {
	struct db	*db;
	MDB_txn		*txn;
	db_run_fn	 fn;
	void		*arg;
};

static int
run_each_id(void *arg, const char *id)
{
	struct run_each *e = arg;
	struct run_rec r;

	if (db_run_get(e->txn, e->db, id, &r) != 0)
		return 0;
	return e->fn(e->arg, &r);
}

int
db_run_each(MDB_txn *txn, struct db *db, db_run_fn fn, void *arg)
{
	struct run_each e = { db, txn, fn, arg };
	MDB_cursor *c;
	MDB_val k, v;
	MDB_cursor_op op = MDB_LAST;
	char id[UUID_LEN + 1];
	int rc, stop = 0;

	DB_CHECK(txn, db, DB_RUNS);

	if ((rc = mdb_cursor_open(txn, db->runs_by_time, &c)) != 0)
		return rc;
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_PREV;
		if (k.mv_size != 8 + UUID_LEN)
			continue;
		memcpy(id, (char *)k.mv_data + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		stop = run_each_id(&e, id);
	}
	mdb_cursor_close(c);
	return stop < 0 ? stop : 0;
}

int
db_run_each_for_event(MDB_txn *txn, struct db *db, const char *event_id,
    db_run_fn fn, void *arg)
{
	struct run_each e = { db, txn, fn, arg };
	MDB_cursor *c;
	MDB_val k = { UUID_LEN, (void *)event_id }, v;
	char id[UUID_LEN + 1];
	int rc;

	DB_CHECK(txn, db, DB_RUNS);

	if (strlen(event_id) != UUID_LEN)
		return 0;
	if ((rc = mdb_cursor_open(txn, db->runs_by_event, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == UUID_LEN) {
			memcpy(id, v.mv_data, UUID_LEN);
			id[UUID_LEN] = '\0';
			if (run_each_id(&e, id) != 0)
				break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return 0;
}

int
run_ids_add(void *arg, const char *id)
{
	struct run_ids *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		void *p = realloc(l->id, cap * sizeof(*l->id));

		if (p == NULL)
			return 1;
		l->id = p;
		l->cap = cap;
	}
	memcpy(l->id[l->n++], id, UUID_LEN + 1);
	return 0;
}

int
db_due_each(MDB_txn *txn, struct db *db, int64_t now, db_id_fn fn,
    void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	char id[UUID_LEN + 1];
	int rc;

	DB_CHECK(txn, db, DB_RUNS);

	if ((rc = mdb_cursor_open(txn, db->due, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 8 + UUID_LEN)
			continue;
		if ((int64_t)get_be64(k.mv_data) > now)
			break;
		memcpy(id, (char *)k.mv_data + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		if (fn(arg, id) != 0)
			break;
	}
	mdb_cursor_close(c);
	return 0;
}

int64_t
db_due_next(MDB_txn *txn, struct db *db)
{
	MDB_cursor *c;
	MDB_val k, v;
	int64_t next = INT64_MAX;

	if (mdb_txn_env(txn) != db->part[DB_RUNS].env ||
	    mdb_cursor_open(txn, db->due, &c) != 0)
		return next;
	if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && k.mv_size >= 8)
		next = (int64_t)get_be64(k.mv_data);
	mdb_cursor_close(c);
	return next;
}

int
db_attempt_put(MDB_txn *txn, struct db *db, const char *run_id,
    const struct attempt_rec *a)
{
	unsigned char k[UUID_LEN + 8];
	struct mpw w;

	DB_CHECK(txn, db, DB_RUNS);

	memcpy(k, run_id, UUID_LEN);
	put_be64(k + UUID_LEN, (uint64_t)a->n);
	mpw_init(&w);
	mpw_map(&w, 7);
	mpw_kv_i64(&w, "n", a->n);
	mpw_kv_i64(&w, "started_at", a->started_at);
	mpw_kv_i64(&w, "duration_us", a->duration_us);
	mpw_kv_i64(&w, "exit_code", a->exit_code);
	mpw_kv_i64(&w, "http_status", a->http_status);
	mpw_kv_str(&w, "error", a->error);
	mpw_kv_bin(&w, "output", a->output, a->output_len);
	return put_mp(txn, db->attempts, k, sizeof(k), &w);
}

struct attempt_each {
	db_attempt_fn fn;
	void	*arg;
};

static int
attempt_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct attempt_each *e = arg;
	struct attempt_rec a;
	msgpack_unpacked u;
	const void *p = NULL;
	size_t n = 0;
	int rc;

	(void)k;
	if (mp_unpack(v->mv_data, v->mv_size, &u) == -1)
		return 0;
	memset(&a, 0, sizeof(a));
	a.exit_code = -1;
	mp_get_i64(&u.data, "n", &a.n);
	mp_get_i64(&u.data, "started_at", &a.started_at);
	mp_get_i64(&u.data, "duration_us", &a.duration_us);
	mp_get_i64(&u.data, "exit_code", &a.exit_code);
	mp_get_i64(&u.data, "http_status", &a.http_status);
	mp_get_str(&u.data, "error", a.error, sizeof(a.error));
	mp_get_binp(&u.data, "output", &p, &n);
	a.output = (unsigned char *)p;
	a.output_len = n;
	rc = e->fn(e->arg, &a);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
db_attempt_each(MDB_txn *txn, struct db *db, const char *run_id,
    db_attempt_fn fn, void *arg)
{
	struct attempt_each e = { fn, arg };

	DB_CHECK(txn, db, DB_RUNS);

	return prefix_each(txn, db->attempts, run_id, strlen(run_id),
	    attempt_each_cb, &e);
}

int
db_run_inputs_put(MDB_txn *txn, struct db *db, const char *run_id,
    const char *json)
{
	DB_CHECK(txn, db, DB_RUNS);
	return db_put(txn, db->run_inputs, run_id, strlen(run_id), json,
	    strlen(json), 0);
}

char *
db_run_inputs_get(MDB_txn *txn, struct db *db, const char *run_id)
{
	MDB_val v;

	if (mdb_txn_env(txn) != db->part[DB_RUNS].env ||
	    db_get(txn, db->run_inputs, run_id, strlen(run_id), &v) != 0)
		return NULL;
	return strndup(v.mv_data, v.mv_size);
}

