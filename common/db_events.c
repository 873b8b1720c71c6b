/*
 * The events part, the verifier's alone: the event log (append-only, in
 * the order events were stored), an index from event id to place in the
 * log, the delivery ids seen (one table per day, dropped whole once past
 * the dedupe window: no index per entry to expire them), and counts per
 * subscription. The router follows the log from its cursor; nobody else
 * writes here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"

#define DEDUPE_PREFIX	"dedupe."

/* "dedupe.20423": the day's table, by days since the epoch. */
static void
day_name(uint32_t day, char *out, size_t len)
{
	snprintf(out, len, "%s%u", DEDUPE_PREFIX, day);
}

static uint32_t
day_of(int64_t us)
{
	return (uint32_t)(us / 1000000 / 86400);
}

/* Keep the list of day tables newest first. */
static void
dedupe_add(struct db *db, uint32_t day, MDB_dbi dbi)
{
	int i;

	if (db->ndedupe == DEDUPE_TABLES) {
		/* Full: the oldest is past the window anyway. */
		db->ndedupe--;
	}
	for (i = db->ndedupe; i > 0 && db->dedupe[i - 1].day < day; i--)
		db->dedupe[i] = db->dedupe[i - 1];
	db->dedupe[i].day = day;
	db->dedupe[i].dbi = dbi;
	db->ndedupe++;
}

/* Visit the day tables in the environment, by name. */
static int
dedupe_tables(MDB_txn *txn, void (*fn)(void *, uint32_t), void *arg)
{
	MDB_dbi main;
	MDB_cursor *c;
	MDB_val k, v;
	char name[64];
	int64_t day;
	int rc;

	if ((rc = dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_cursor_open(txn, main, &c)) != 0)
		return rc;
	k.mv_data = DEDUPE_PREFIX;
	k.mv_size = strlen(DEDUPE_PREFIX);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= strlen(DEDUPE_PREFIX) || k.mv_size >=
		    sizeof(name) || memcmp(k.mv_data, DEDUPE_PREFIX,
		    strlen(DEDUPE_PREFIX)) != 0)
			break;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (parse_i64(name + strlen(DEDUPE_PREFIX), 0, UINT32_MAX,
		    &day) == 0)
			fn(arg, (uint32_t)day);
	}
	mdb_cursor_close(c);
	return 0;
}

struct days {
	uint32_t day[256];
	int	 n;
};

static void
collect_day(void *arg, uint32_t day)
{
	struct days *d = arg;

	if (d->n < 256)
		d->day[d->n++] = day;
}

int
db_events_open(struct db *db, MDB_txn *txn)
{
	uint32_t oldest = day_of(now_us()) - DEDUPE_DAYS;
	struct days d = { .n = 0 };
	char name[64];
	MDB_dbi dbi;
	int i, rc;

	if ((rc = dbi_open(txn, "log", MDB_CREATE | MDB_INTEGERKEY,
	    &db->log)) ||
	    (rc = dbi_open(txn, "ids", MDB_CREATE, &db->ids)) ||
	    (rc = dbi_open(txn, "sub_stats", MDB_CREATE, &db->sub_stats)) ||
	    (rc = dbi_open(txn, "rejected", MDB_CREATE, &db->rejected)))
		return rc;
	/* The day tables within the window (those past it are dropped by
	 * the verifier, db_dedupe_expire). Handles after the walk: opening
	 * one writes the main database the walk reads. */
	db->ndedupe = 0;
	db->dedupe_cur = -1;
	if ((rc = dedupe_tables(txn, collect_day, &d)) != 0)
		return rc;
	for (i = 0; i < d.n && rc == 0; i++) {
		if (d.day[i] < oldest)
			continue;
		day_name(d.day[i], name, sizeof(name));
		if ((rc = dbi_open(txn, name, 0, &dbi)) == 0)
			dedupe_add(db, d.day[i], dbi);
	}
	return rc;
}

/* --- the log --- */

void
event_free(struct event_rec *e)
{
	free(e->headers);
	free(e->payload);
	e->headers = NULL;
	e->payload = NULL;
}

static int
event_decode(const msgpack_object *m, struct event_rec *e)
{
	char status[16];
	const void *p;
	size_t n;
	int64_t remote;
	int st;

	memset(e, 0, sizeof(*e));
	if (mp_get_str(m, "id", e->id, sizeof(e->id)) ||
	    mp_get_str(m, "sub", e->sub, sizeof(e->sub)) ||
	    mp_get_str(m, "workspace", e->workspace, sizeof(e->workspace)) ||
	    mp_get_str(m, "integration", e->integration,
	    sizeof(e->integration)) ||
	    mp_get_str(m, "type", e->type, sizeof(e->type)) ||
	    mp_get_str(m, "delivery_id", e->delivery_id,
	    sizeof(e->delivery_id)) ||
	    mp_get_str(m, "status", status, sizeof(status)) ||
	    (st = event_state_parse(status)) == -1 ||
	    mp_get_i64(m, "received_at", &e->received_at) ||
	    mp_get_binp(m, "payload", &p, &n))
		return -1;
	/* Only what the verifier decided is kept; routed is the cursor's. */
	e->state = st == EV_IGNORED ? EV_IGNORED : EV_STORED;
	e->headers = mp_get_strdup(m, "headers");
	if (mp_get_i64(m, "remote", &remote) == 0)
		e->remote = remote != 0;
	if ((e->payload = malloc(n + 1)) == NULL) {
		free(e->headers);
		return -1;
	}
	memcpy(e->payload, p, n);
	e->payload[n] = '\0';	/* convenient for JSON parsers */
	e->payload_len = n;
	return 0;
}

static void
event_pack(struct mpw *w, const struct event_rec *e)
{
	mpw_map(w, e->remote ? 11 : 10);
	mpw_kv_str(w, "id", e->id);
	mpw_kv_str(w, "sub", e->sub);
	mpw_kv_str(w, "workspace", e->workspace);
	mpw_kv_str(w, "integration", e->integration);
	mpw_kv_str(w, "type", e->type);
	mpw_kv_str(w, "delivery_id", e->delivery_id);
	mpw_kv_str(w, "status", event_state_name(e->state == EV_IGNORED ?
	    EV_IGNORED : EV_STORED));
	mpw_kv_i64(w, "received_at", e->received_at);
	mpw_kv_str(w, "headers", e->headers ? e->headers : "{}");
	mpw_kv_bin(w, "payload", e->payload, e->payload_len);
	if (e->remote)
		mpw_kv_i64(w, "remote", 1);
}

/* An event id as the index key: its 16 bytes. */
int
event_id_key(const char *id, unsigned char out[16])
{
	int i, j;

	if (!uuid_valid(id))
		return -1;
	for (i = 0, j = 0; id[i] != '\0' && j < 32; i++) {
		int c = id[i], v;

		if (c == '-')
			continue;
		v = c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
		if (j % 2 == 0)
			out[j / 2] = (unsigned char)(v << 4);
		else
			out[j / 2] |= (unsigned char)v;
		j++;
	}
	return j == 32 ? 0 : -1;
}

uint64_t
db_log_last(MDB_txn *txn, struct db *db)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t last = 0;

	if (mdb_txn_env(txn) != db->part[DB_EVENTS].env ||
	    mdb_cursor_open(txn, db->log, &c) != 0)
		return 0;
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 &&
	    k.mv_size == sizeof(uint64_t))
		memcpy(&last, k.mv_data, sizeof(last));
	mdb_cursor_close(c);
	return last;
}

int
db_event_append(MDB_txn *txn, struct db *db, struct event_rec *e)
{
	unsigned char idk[16], seqb[8];
	uint64_t seq;
	MDB_val k, v;
	struct mpw w;
	int rc;

	DB_CHECK(txn, db, DB_EVENTS);
	if (event_id_key(e->id, idk) == -1)
		return MDB_BAD_VALSIZE;
	/* Native integer keys (MDB_INTEGERKEY), one past the last. */
	seq = db_log_last(txn, db) + 1;
	mpw_init(&w);
	event_pack(&w, e);
	k.mv_data = &seq;
	k.mv_size = sizeof(seq);
	v.mv_data = w.sb.data;
	v.mv_size = w.sb.size;
	rc = mdb_put(txn, db->log, &k, &v, MDB_APPEND);
	mpw_free(&w);
	if (rc != 0)
		return rc;
	put_be64(seqb, seq);
	if ((rc = db_put(txn, db->ids, idk, sizeof(idk), seqb, sizeof(seqb),
	    0)) != 0)
		return rc;
	e->seq = seq;
	return 0;
}

int
db_event_get_seq(MDB_txn *txn, struct db *db, uint64_t seq,
    struct event_rec *e)
{
	msgpack_unpacked u;
	MDB_val k = { sizeof(seq), &seq }, v;
	int rc;

	DB_CHECK(txn, db, DB_EVENTS);
	if ((rc = mdb_get(txn, db->log, &k, &v)) != 0)
		return rc;
	if (mp_unpack(v.mv_data, v.mv_size, &u) == -1 ||
	    u.data.type != MSGPACK_OBJECT_MAP) {
		log_warn("damaged event record at %llu",
		    (unsigned long long)seq);
		return DB_EDAMAGED;
	}
	rc = event_decode(&u.data, e) == 0 ? 0 : DB_EDAMAGED;
	msgpack_unpacked_destroy(&u);
	if (rc == 0)
		e->seq = seq;
	return rc;
}

int
db_event_get(MDB_txn *txn, struct db *db, const char *id,
    struct event_rec *e)
{
	unsigned char idk[16];
	MDB_val v;
	int rc;

	DB_CHECK(txn, db, DB_EVENTS);
	if (event_id_key(id, idk) == -1)
		return MDB_NOTFOUND;
	if ((rc = db_get(txn, db->ids, idk, sizeof(idk), &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return DB_EDAMAGED;
	return db_event_get_seq(txn, db, get_be64(v.mv_data), e);
}

enum event_state
event_state_at(const struct event_rec *e, uint64_t cursor)
{
	if (e->state == EV_STORED && e->seq > 0 && e->seq <= cursor)
		return EV_ROUTED;
	return e->state;
}

/* Walk the log from one end; stop on fn's non-zero. */
static int
log_walk(MDB_txn *txn, struct db *db, uint64_t from, int backward, int limit,
    db_event_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_cursor_op op;
	uint64_t seq = from;
	int rc, stop = 0, n = 0;

	if ((rc = mdb_cursor_open(txn, db->log, &c)) != 0)
		return rc;
	if (backward)
		op = MDB_LAST;
	else {
		k.mv_data = &seq;
		k.mv_size = sizeof(seq);
		op = MDB_SET_RANGE;
	}
	while (!stop && (limit <= 0 || n < limit) &&
	    (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		struct event_rec e;
		msgpack_unpacked u;

		op = backward ? MDB_PREV : MDB_NEXT;
		if (k.mv_size != sizeof(uint64_t))
			continue;
		memcpy(&seq, k.mv_data, sizeof(seq));
		if (mp_unpack(v.mv_data, v.mv_size, &u) == -1)
			continue;
		if (u.data.type != MSGPACK_OBJECT_MAP ||
		    event_decode(&u.data, &e) != 0) {
			msgpack_unpacked_destroy(&u);
			log_warn("damaged event record at %llu; skipped",
			    (unsigned long long)seq);
			continue;
		}
		msgpack_unpacked_destroy(&u);
		e.seq = seq;
		stop = fn(arg, &e);
		event_free(&e);
		n++;
	}
	mdb_cursor_close(c);
	if (stop < 0)
		return stop;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

int
db_event_each(MDB_txn *txn, struct db *db, db_event_fn fn, void *arg)
{
	DB_CHECK(txn, db, DB_EVENTS);
	return log_walk(txn, db, 0, 1, 0, fn, arg);
}

int
db_log_each(MDB_txn *txn, struct db *db, uint64_t after, int limit,
    db_event_fn fn, void *arg)
{
	DB_CHECK(txn, db, DB_EVENTS);
	return log_walk(txn, db, after + 1, 0, limit, fn, arg);
}

/* --- dedupe --- */

static int
dedupe_key(char *out, size_t len, const char *sub, const char *did)
{
	int n = snprintf(out, len, "%s%s", sub, did);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

int
db_dedupe_get(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *delivery_id, char event_id[UUID_LEN + 1])
{
	char key[KEY_MAX + 1];
	uint32_t oldest = day_of(now_us()) - DEDUPE_DAYS;
	MDB_val v;
	int i, n, rc;

	DB_CHECK(txn, db, DB_EVENTS);
	if ((n = dedupe_key(key, sizeof(key), sub_id, delivery_id)) == -1)
		return MDB_NOTFOUND;
	/* Newest first: a retry usually comes soon. */
	for (i = 0; i < db->ndedupe && db->dedupe[i].day >= oldest; i++) {
		if ((rc = db_get(txn, db->dedupe[i].dbi, key, (size_t)n,
		    &v)) == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		if (v.mv_size != UUID_LEN + 8)
			continue;
		memcpy(event_id, v.mv_data, UUID_LEN);
		event_id[UUID_LEN] = '\0';
		return 0;
	}
	return MDB_NOTFOUND;
}

int
db_dedupe_prepare(struct db *db, int64_t now)
{
	uint32_t day = day_of(now);
	char name[64];
	MDB_txn *txn;
	MDB_dbi dbi;
	int i, rc;

	for (i = 0; i < db->ndedupe; i++)
		if (db->dedupe[i].day == day) {
			db->dedupe_cur = i;
			return 0;
		}
	/* The day's table, in a transaction of its own: a handle made in
	 * a batch's transaction would be lost if the batch aborts. */
	if ((txn = db_begin(db, DB_EVENTS, 0)) == NULL)
		return EIO;
	day_name(day, name, sizeof(name));
	if ((rc = dbi_open(txn, name, MDB_CREATE, &dbi)) != 0 ||
	    (rc = db_commit(txn)) != 0) {
		if (rc != 0 && txn != NULL)
			mdb_txn_abort(txn);
		return rc;
	}
	dedupe_add(db, day, dbi);
	for (i = 0; db->dedupe[i].day != day; i++)
		;
	db->dedupe_cur = i;
	return 0;
}

int
db_dedupe_put(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *delivery_id, const char *event_id, int64_t at)
{
	char key[KEY_MAX + 1];
	unsigned char v[UUID_LEN + 8];
	int n;

	DB_CHECK(txn, db, DB_EVENTS);
	if (db->dedupe_cur < 0 || db->dedupe_cur >= db->ndedupe)
		return DB_ENOTOPEN;	/* db_dedupe_prepare first */
	if ((n = dedupe_key(key, sizeof(key), sub_id, delivery_id)) == -1)
		return MDB_BAD_VALSIZE;
	memcpy(v, event_id, UUID_LEN);
	put_be64(v + UUID_LEN, (uint64_t)at);
	return db_put(txn, db->dedupe[db->dedupe_cur].dbi, key, (size_t)n, v,
	    sizeof(v), 0);
}

struct expire {
	MDB_txn		*txn;
	struct db	*db;
	uint32_t	 oldest;
	struct days	 gone;
};

static void
expire_day(void *arg, uint32_t day)
{
	struct expire *x = arg;

	if (day < x->oldest)
		collect_day(&x->gone, day);
}

int
db_dedupe_expire(MDB_txn *txn, struct db *db, int64_t now)
{
	struct expire x = { txn, db, day_of(now) - DEDUPE_DAYS, { .n = 0 } };
	char name[64];
	MDB_dbi dbi;
	int i, j, rc;

	DB_CHECK(txn, db, DB_EVENTS);
	/* A day's table goes whole once the whole day is past the window:
	 * no entry is expired one by one. */
	if ((rc = dedupe_tables(txn, expire_day, &x)) != 0)
		return rc;
	for (i = 0; i < x.gone.n; i++) {
		day_name(x.gone.day[i], name, sizeof(name));
		for (j = 0; j < db->ndedupe && db->dedupe[j].day !=
		    x.gone.day[i]; j++)
			;
		if (j < db->ndedupe) {
			dbi = db->dedupe[j].dbi;
			memmove(&db->dedupe[j], &db->dedupe[j + 1],
			    (size_t)(db->ndedupe - j - 1) *
			    sizeof(db->dedupe[0]));
			db->ndedupe--;
			if (db->dedupe_cur > j)
				db->dedupe_cur--;
			else if (db->dedupe_cur == j)
				db->dedupe_cur = -1;
		} else if ((rc = dbi_open(txn, name, 0, &dbi)) != 0)
			return rc;
		if ((rc = mdb_drop(txn, dbi, 1)) != 0)
			return rc;
	}
	return x.gone.n;
}

/* --- statistics per subscription --- */

int
db_sub_stats(MDB_txn *txn, struct db *db, const char *id, int64_t *count,
    int64_t *last_at)
{
	MDB_val v;

	*count = *last_at = 0;
	DB_CHECK(txn, db, DB_EVENTS);
	if (db_get(txn, db->sub_stats, id, strlen(id), &v) == 0 &&
	    v.mv_size == 16) {
		*count = (int64_t)get_be64(v.mv_data);
		*last_at = (int64_t)get_be64((unsigned char *)v.mv_data + 8);
	}
	return 0;
}

int
db_sub_stats_add(MDB_txn *txn, struct db *db, const char *id, int64_t n,
    int64_t at)
{
	unsigned char buf[16];
	int64_t count, last;

	DB_CHECK(txn, db, DB_EVENTS);
	db_sub_stats(txn, db, id, &count, &last);
	put_be64(buf, (uint64_t)(count + n));
	put_be64(buf + 8, (uint64_t)(at > last ? at : last));
	return db_put(txn, db->sub_stats, id, strlen(id), buf, sizeof(buf), 0);
}
