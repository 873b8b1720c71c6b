/*
 * The events part: the log grows by one and is read either way, an event
 * is found by id, routed is the cursor's to say, delivery ids live in day
 * tables dropped whole, and statistics add up per subscription.
 */
#include "dbt.h"
#include "t.h"

static int
collect_seq(void *arg, struct event_rec *e)
{
	uint64_t *last = arg;

	*last = e->seq;
	return 0;
}

static int
stop_at_two(void *arg, struct event_rec *e)
{
	(void)e;
	return ++*(int *)arg == 2;
}

int
main(void)
{
	char first[UUID_LEN + 1], sub[UUID_LEN + 1];
	struct config cfg;
	struct db db;
	struct event_rec e[5], g;
	MDB_txn *txn;
	uint64_t last;
	int64_t now = now_us(), count, at;
	int i, n;

	CHECK(dbt_open(&db, &cfg) == 0);
	uuid4(sub);

	/* Appended in order: seq 1..5, found by id and by seq. */
	CHECK(db_dedupe_prepare(&db, now) == 0);
	txn = db_begin(&db, DB_EVENTS, 0);
	for (i = 0; i < 5; i++) {
		dbt_event(&e[i], sub, i == 3 ? "batch.failed" :
		    "batch.completed", now + i);
		if (i == 4)
			e[i].state = EV_IGNORED;
		CHECK(db_event_append(txn, &db, &e[i]) == 0);
		CHECK(e[i].seq == (uint64_t)i + 1);
		CHECK(db_dedupe_put(txn, &db, sub, e[i].delivery_id, e[i].id,
		    e[i].received_at) == 0);
	}
	CHECK(db_sub_stats_add(txn, &db, sub, 5, now + 4) == 0);
	CHECK(db_commit(txn) == 0);

	txn = db_begin(&db, DB_EVENTS, 1);
	CHECK(db_log_last(txn, &db) == 5);
	CHECK(db_event_get(txn, &db, e[3].id, &g) == 0 && g.seq == 4 &&
	    strcmp(g.type, "batch.failed") == 0 && g.payload_len == 7 &&
	    g.state == EV_STORED);
	event_free(&g);
	CHECK(db_event_get_seq(txn, &db, 5, &g) == 0 &&
	    g.state == EV_IGNORED && strcmp(g.id, e[4].id) == 0);
	/* Routed once the cursor passed it; ignored stays ignored. */
	CHECK(event_state_at(&g, 5) == EV_IGNORED);
	event_free(&g);
	CHECK(db_event_get_seq(txn, &db, 2, &g) == 0);
	CHECK(event_state_at(&g, 1) == EV_STORED);
	CHECK(event_state_at(&g, 2) == EV_ROUTED);
	event_free(&g);
	CHECK(db_event_get(txn, &db, "01a00000-0000-7000-8000-000000000000",
	    &g) == MDB_NOTFOUND);
	CHECK(db_event_get(txn, &db, "not an id", &g) == MDB_NOTFOUND);
	/* Forward from a cursor, with a limit; backward, whole. */
	last = 0;
	CHECK(db_log_each(txn, &db, 2, 2, collect_seq, &last) == 0 &&
	    last == 4);
	n = 0;
	CHECK(db_log_each(txn, &db, 0, 0, stop_at_two, &n) == 0 && n == 2);
	n = 0;
	CHECK(db_event_each(txn, &db, dbt_count, &n) == 0 && n == 5);
	last = 99;
	CHECK(db_event_each(txn, &db, collect_seq, &last) == 0 && last == 1);
	/* Dedupe. */
	CHECK(db_dedupe_get(txn, &db, sub, e[2].delivery_id, first) == 0 &&
	    strcmp(first, e[2].id) == 0);
	CHECK(db_dedupe_get(txn, &db, sub, "msg_other", first) ==
	    MDB_NOTFOUND);
	CHECK(db_sub_stats(txn, &db, sub, &count, &at) == 0 && count == 5 &&
	    at == now + 4);
	mdb_txn_abort(txn);

	/* Day tables: one from nine days ago is dropped whole; today's
	 * stays. (A table of another day, made as the verifier would have
	 * then.) */
	{
		int64_t old = now - (int64_t)9 * 86400 * 1000000;
		MDB_dbi dbi;
		char name[32];

		CHECK(db_dedupe_prepare(&db, old) == 0);
		txn = db_begin(&db, DB_EVENTS, 0);
		CHECK(db_dedupe_put(txn, &db, sub, "msg_old", e[0].id, old) ==
		    0);
		CHECK(db_commit(txn) == 0);
		txn = db_begin(&db, DB_EVENTS, 0);
		CHECK(db_dedupe_get(txn, &db, sub, "msg_old", first) ==
		    MDB_NOTFOUND);	/* past the window already */
		CHECK(db_dedupe_expire(txn, &db, now) == 1);
		CHECK(db_dedupe_expire(txn, &db, now) == 0);
		CHECK(db_commit(txn) == 0);
		txn = db_begin(&db, DB_EVENTS, 1);
		snprintf(name, sizeof(name), "dedupe.%u",
		    (unsigned)(old / 1000000 / 86400));
		CHECK(mdb_dbi_open(txn, name, 0, &dbi) == MDB_NOTFOUND);
		CHECK(db_dedupe_get(txn, &db, sub, e[1].delivery_id, first) ==
		    0);
		mdb_txn_abort(txn);
	}

	/* Reopened: the log goes on where it was, the day tables are found. */
	db_close(&db);
	CHECK(dbt_open(&db, &cfg) == 0);
	txn = db_begin(&db, DB_EVENTS, 1);
	CHECK(db_dedupe_get(txn, &db, sub, e[1].delivery_id, first) == 0);
	mdb_txn_abort(txn);
	CHECK(db_dedupe_prepare(&db, now) == 0);
	txn = db_begin(&db, DB_EVENTS, 0);
	dbt_event(&g, sub, "batch.completed", now_us());
	CHECK(db_event_append(txn, &db, &g) == 0 && g.seq == 6);
	CHECK(db_commit(txn) == 0);
	db_close(&db);
	dbt_cleanup();
	return t_done("test_db_events");
}
