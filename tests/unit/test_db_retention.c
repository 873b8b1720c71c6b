/*
 * Retention by owner: the verifier prunes events from the start of the
 * log, never past the router's cursor nor one whose run is still due; the
 * router prunes finished runs with their attempts and inputs.
 */
#include "dbt.h"
#include "t.h"

int
main(void)
{
	char sub[UUID_LEN + 1];
	int64_t long_ago = now_us() - (int64_t)40 * 86400 * 1000000;
	int64_t cutoff = now_us() - (int64_t)30 * 86400 * 1000000;
	struct config cfg;
	struct db db;
	struct event_rec e[4], g;
	struct run_rec r[4], r2;
	struct attempt_rec a;
	MDB_txn *txn, *rtxn;
	int i, n, rc;

	CHECK(dbt_open(&db, &cfg) == 0);
	uuid4(sub);
	txn = db_begin(&db, DB_EVENTS, 0);
	for (i = 0; i < 4; i++) {
		/* Three old events, one new. */
		dbt_event(&e[i], sub, "batch.completed", i < 3 ? long_ago + i :
		    now_us());
		CHECK(db_event_append(txn, &db, &e[i]) == 0);
	}
	CHECK(db_commit(txn) == 0);
	/* Runs: event 1's is finished, event 2's still due (failed, to be
	 * retried), event 3 has none. */
	txn = db_begin(&db, DB_RUNS, 0);
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		run_id_for(&e[i], "default", "wf", r[i].id);
		strcpy(r[i].workspace, "default");
		strcpy(r[i].workflow, "wf");
		strcpy(r[i].event_id, e[i].id);
		r[i].state = i == 0 ? RUN_SUCCEEDED : RUN_FAILED;
		r[i].created_at = e[i].received_at;
		r[i].next_at = now_us();
		CHECK(db_run_put(txn, &db, &r[i], NULL) == 0);
		memset(&a, 0, sizeof(a));
		a.n = 1;
		CHECK(db_attempt_put(txn, &db, r[i].id, &a) == 0);
		CHECK(db_run_inputs_put(txn, &db, r[i].id, "{}") == 0);
	}
	CHECK(db_cursor_put(txn, &db, 3) == 0);	/* routed: 1..3 */
	CHECK(db_commit(txn) == 0);

	/* Events: the first goes; the second stays (its run is due), and
	 * with it everything after. */
	txn = db_begin(&db, DB_EVENTS, 0);
	rtxn = db_begin(&db, DB_RUNS, 1);
	n = db_events_prune(txn, rtxn, &db, cutoff, 3, 1000, &rc);
	mdb_txn_abort(rtxn);
	CHECK_MSG(n == 1, "pruned %d (rc %d)", n, rc);
	CHECK(db_commit(txn) == 0);
	txn = db_begin(&db, DB_EVENTS, 1);
	CHECK(db_event_get(txn, &db, e[0].id, &g) == MDB_NOTFOUND);
	CHECK(db_event_get(txn, &db, e[1].id, &g) == 0);
	event_free(&g);
	mdb_txn_abort(txn);
	/* Without a runs snapshot, only the cursor holds them back: past it
	 * (event 3 not routed) nothing goes. */
	txn = db_begin(&db, DB_EVENTS, 0);
	n = db_events_prune(txn, NULL, &db, cutoff, 1, 1000, &rc);
	CHECK(n == 0);
	n = db_events_prune(txn, NULL, &db, cutoff, 3, 1000, &rc);
	CHECK_MSG(n == 2, "pruned %d", n);	/* 2 and 3; 4 is new */
	CHECK(db_commit(txn) == 0);

	/* Runs: the finished one goes with its attempt and inputs; the due
	 * one stays. */
	txn = db_begin(&db, DB_RUNS, 0);
	n = db_runs_prune(txn, &db, cutoff, 1000, &rc);
	CHECK_MSG(n == 1, "pruned %d runs (rc %d)", n, rc);
	CHECK(db_run_get(txn, &db, r[0].id, &r2) == MDB_NOTFOUND);
	CHECK(db_run_inputs_get(txn, &db, r[0].id) == NULL);
	CHECK(db_run_get(txn, &db, r[1].id, &r2) == 0);
	CHECK(db_commit(txn) == 0);
	/* Another part's transaction: refused. */
	txn = db_begin(&db, DB_CONFIG, 0);
	CHECK(db_runs_prune(txn, &db, cutoff, 10, &rc) == -1 &&
	    rc == DB_EWRONGENV);
	mdb_txn_abort(txn);
	db_close(&db);
	dbt_cleanup();
	return t_done("test_db_retention");
}
