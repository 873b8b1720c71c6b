/*
 * The spool part: entries due in time order, a resume key that never
 * revisits, a delay that moves an entry later, the quarantine and back,
 * and its size.
 */
#include "dbt.h"
#include "t.h"

int
main(void)
{
	unsigned char key[SPOOL_KEY_LEN], k1[SPOOL_KEY_LEN];
	const char *a = "01a00000-0000-7000-8000-00000000000a";
	const char *b = "01a00000-0000-7000-8000-00000000000b";
	struct quarantine_rec q;
	struct config cfg;
	struct db db;
	MDB_txn *txn;
	MDB_val msg;
	int64_t now = now_us();

	CHECK(dbt_open(&db, &cfg) == 0);
	txn = db_begin(&db, DB_SPOOL, 0);
	CHECK(db_spool_put(txn, &db, now - 2, a, "msg-a", 5) == 0);
	CHECK(db_spool_put(txn, &db, now - 1, b, "msg-b", 5) == 0);
	CHECK(db_spool_bytes(txn, &db) > 0);
	/* In order; after a key, the next; nothing past the last. */
	CHECK(db_spool_next(txn, &db, NULL, now, key, &msg) == 0 &&
	    memcmp(key + 8, a, UUID_LEN) == 0 && msg.mv_size == 5);
	memcpy(k1, key, sizeof(k1));
	CHECK(db_spool_next(txn, &db, k1, now, key, &msg) == 0 &&
	    memcmp(key + 8, b, UUID_LEN) == 0);
	CHECK(db_spool_next(txn, &db, key, now, key, &msg) == MDB_NOTFOUND);
	/* Not due yet. */
	CHECK(db_spool_next(txn, &db, NULL, now - 10, key, &msg) ==
	    MDB_NOTFOUND);
	/* A delay moves a to the end, due later. */
	CHECK(db_spool_delay(txn, &db, k1, now + 1000000) == 0);
	CHECK(db_spool_next(txn, &db, NULL, now, key, &msg) == 0 &&
	    memcmp(key + 8, b, UUID_LEN) == 0);
	CHECK(db_spool_next(txn, &db, key, now, key, &msg) == MDB_NOTFOUND);
	CHECK(db_spool_next(txn, &db, NULL, now + 2000000, key, &msg) == 0);
	/* b to the quarantine, shown, back into the spool, dropped. */
	CHECK(db_spool_next(txn, &db, NULL, now, key, &msg) == 0);
	CHECK(db_quarantine_put(txn, &db, key, "cannot decode: test") == 0);
	CHECK(db_spool_next(txn, &db, NULL, now, key, &msg) == MDB_NOTFOUND);
	CHECK(db_quarantine_get(txn, &db, b, &q) == 0 &&
	    strcmp(q.reason, "cannot decode: test") == 0 &&
	    q.message_len == 5 && memcmp(q.message, "msg-b", 5) == 0);
	quarantine_free(&q);
	CHECK(db_quarantine_retry(txn, &db, b) == 0);
	CHECK(db_quarantine_get(txn, &db, b, &q) == MDB_NOTFOUND);
	CHECK(db_spool_next(txn, &db, NULL, now_us(), key, &msg) == 0 &&
	    memcmp(key + 8, b, UUID_LEN) == 0);
	CHECK(db_spool_del(txn, &db, key) == 0);
	CHECK(db_quarantine_del(txn, &db, a) == 0);	/* none: fine */
	CHECK(db_commit(txn) == 0);
	/* A damaged quarantine record is refused, never trusted. */
	CHECK(quarantine_decode("\x81\xa1x\x01", 4, &q) == -1);
	CHECK(quarantine_decode("", 0, &q) == -1);
	db_close(&db);
	dbt_cleanup();
	return t_done("test_db_spool");
}
