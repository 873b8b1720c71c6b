#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "t.h"

static int
count_sub(void *arg, const struct sub_rec *s)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static int
count_id(void *arg, const char *id)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static int
count_match(void *arg, const char *k, size_t n)
{
	(void)k;
	(void)n;
	(*(int *)arg)++;
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/hpdXXXXXX", err[512], first[UUID_LEN + 1];
	unsigned char plain[SECRET_MAX];
	struct config cfg;
	struct db db;
	struct sub_rec s, s2;
	struct wf_rec w, w2;
	struct event_rec e, e2;
	struct run_rec r, r2;
	MDB_txn *txn;
	int n;

	CHECK(mkdtemp(dir) != NULL);
	setenv("HOOKPIPE_HOME", dir, 1);
	CHECK(config_load(&cfg, err, sizeof(err)) == 0);
	CHECK(config_make_dirs(&cfg, err, sizeof(err)) == 0);
	CHECK(db_open(&db, &cfg, 0, err, sizeof(err)) == 0);

	/* Subscriptions, their name index, sealed secrets. */
	txn = db_begin(&db, 0);
	memset(&s, 0, sizeof(s));
	uuid4(s.id);
	strcpy(s.workspace, "default");
	strcpy(s.name, "main");
	strcpy(s.integration, "openai");
	strcpy(s.mode, "manual");
	strcpy(s.events, "batch.completed,batch.failed");
	CHECK(db_sub_set_secret(&db, &s, 1, "whsec_abc", 9) == 0);
	CHECK(memmem(s.secret, s.secret_len, "whsec_abc", 9) == NULL);
	CHECK(db_sub_put(txn, &db, &s) == 0);
	CHECK(db_commit(txn) == 0);

	txn = db_begin(&db, 1);
	CHECK(db_sub_get(txn, &db, s.id, &s2) == 0 &&
	    strcmp(s2.name, "main") == 0);
	CHECK(db_sub_find(txn, &db, "default", "openai", "main", &s2) == 0 &&
	    strcmp(s2.id, s.id) == 0);
	CHECK(db_sub_find(txn, &db, "default", NULL, "main", &s2) == 0);
	CHECK(db_sub_find(txn, &db, "other", NULL, "main", &s2) ==
	    MDB_NOTFOUND);
	CHECK(db_sub_find(txn, &db, "other", NULL, s.id, &s2) == MDB_NOTFOUND);
	CHECK(db_sub_count(txn, &db, "default", "openai") == 1);
	CHECK(db_sub_count(txn, &db, "default", "github") == 0);
	n = 0;
	db_sub_each(txn, &db, "default", count_sub, &n);
	CHECK(n == 1);
	CHECK(db_sub_secret(&db, &s2, 1, plain, sizeof(plain)) == 9 &&
	    memcmp(plain, "whsec_abc", 9) == 0);
	CHECK(db_sub_secret(&db, &s2, 2, plain, sizeof(plain)) == -1);
	/* Unsealed secrets are remembered: a new secret, the same bytes
	 * under another id, or damaged bytes are never answered from it. */
	CHECK(db_sub_secret(&db, &s2, 1, plain, sizeof(plain)) == 9);
	{
		struct sub_rec s3 = s2;

		CHECK(db_sub_set_secret(&db, &s3, 1, "whsec_xyz0", 10) == 0);
		CHECK(db_sub_secret(&db, &s3, 1, plain, sizeof(plain)) == 10 &&
		    memcmp(plain, "whsec_xyz0", 10) == 0);
		CHECK(db_sub_secret(&db, &s2, 1, plain, sizeof(plain)) == 9 &&
		    memcmp(plain, "whsec_abc", 9) == 0);
		s3 = s2;
		uuid4(s3.id);
		CHECK(db_sub_secret(&db, &s3, 1, plain, sizeof(plain)) == -1);
		s3 = s2;
		s3.secret[s3.secret_len - 1] ^= 1;
		CHECK(db_sub_secret(&db, &s3, 1, plain, sizeof(plain)) == -1);
	}
	mdb_txn_abort(txn);
	CHECK(sub_covers(&s, "batch.failed") && sub_covers(&s,
	    "batch.completed") && !sub_covers(&s, "batch"));

	/* Workflows keep the trigger index in step. */
	memset(&w, 0, sizeof(w));
	strcpy(w.workspace, "default");
	strcpy(w.name, "wf");
	strcpy(w.state, "published");
	strcpy(w.action, "exec");
	w.target = strdup("true");
	w.retries = 4;
	w.ntrig = 1;
	strcpy(w.trig[0].sub, s.id);
	strcpy(w.trig[0].event, "batch.completed");
	txn = db_begin(&db, 0);
	CHECK(db_wf_put(txn, &db, &w) == 0);
	n = 0;
	db_trigger_match(txn, &db, s.id, "batch.completed", count_match, &n);
	CHECK(n == 1);
	CHECK(db_sub_users(txn, &db, s.id) == 1);
	strcpy(w.trig[0].event, "batch.failed");	/* re-point */
	CHECK(db_wf_put(txn, &db, &w) == 0);
	n = 0;
	db_trigger_match(txn, &db, s.id, "batch.completed", count_match, &n);
	CHECK(n == 0);
	CHECK(db_wf_get(txn, &db, "default", "wf", &w2) == 0 &&
	    strcmp(w2.target, "true") == 0 && w2.ntrig == 1);
	wf_free(&w2);
	CHECK(db_commit(txn) == 0);

	/* Events, the pending index, dedupe. */
	memset(&e, 0, sizeof(e));
	uuid4(e.id);
	strcpy(e.sub, s.id);
	strcpy(e.workspace, "default");
	strcpy(e.integration, "openai");
	strcpy(e.type, "batch.failed");
	strcpy(e.delivery_id, "msg_1");
	strcpy(e.status, "stored");
	e.received_at = now_us();
	e.payload = (unsigned char *)"{\"a\":1}";
	e.payload_len = 7;
	txn = db_begin(&db, 0);
	CHECK(db_event_put(txn, &db, &e) == 0);
	CHECK(db_dedupe_put(txn, &db, s.id, "msg_1", e.id, e.received_at) ==
	    0);
	CHECK(db_dedupe_get(txn, &db, s.id, "msg_1", first) == 0 &&
	    strcmp(first, e.id) == 0);
	CHECK(db_dedupe_get(txn, &db, s.id, "msg_2", first) == MDB_NOTFOUND);
	n = 0;
	db_pending_each(txn, &db, count_id, &n);
	CHECK(n == 1);
	CHECK(db_event_get(txn, &db, e.id, &e2) == 0 && e2.payload_len == 7 &&
	    strcmp(e2.type, "batch.failed") == 0);
	CHECK(strcmp(e2.status, "stored") == 0);
	CHECK(db_event_set_status(txn, &db, &e2, "routed") == 0);
	event_free(&e2);
	n = 0;
	db_pending_each(txn, &db, count_id, &n);
	CHECK(n == 0);
	CHECK(db_event_get(txn, &db, e.id, &e2) == 0 &&
	    strcmp(e2.status, "routed") == 0 && e2.payload_len == 7);
	event_free(&e2);

	/* Runs and the due index. */
	memset(&r, 0, sizeof(r));
	uuid4(r.id);
	strcpy(r.workspace, "default");
	strcpy(r.workflow, "wf");
	strcpy(r.event_id, e.id);
	strcpy(r.status, "queued");
	r.max_attempts = 5;
	r.created_at = r.next_at = now_us();
	CHECK(db_run_put(txn, &db, &r, NULL) == 0);
	n = 0;
	db_due_each(txn, &db, now_us(), count_id, &n);
	CHECK(n == 1);
	CHECK(db_due_next(txn, &db) == r.next_at);
	r2 = r;
	strcpy(r2.status, "succeeded");
	CHECK(db_run_put(txn, &db, &r2, &r) == 0);
	n = 0;
	db_due_each(txn, &db, INT64_MAX, count_id, &n);
	CHECK(n == 0);
	CHECK(db_due_next(txn, &db) == INT64_MAX);
	CHECK(db_run_get(txn, &db, r.id, &r2) == 0 &&
	    strcmp(r2.status, "succeeded") == 0);
	CHECK(db_commit(txn) == 0);

	/* Retention: old routed events go with their runs and attempts;
	 * an event still waiting to be routed stays; old dedupe entries go. */
	{
		struct event_rec old;
		struct run_rec orun;
		struct attempt_rec a;
		int64_t long_ago = now_us() - (int64_t)40 * 86400 * 1000000;
		int rc, i;

		txn = db_begin(&db, 0);
		for (i = 0; i < 3; i++) {
			old = e;
			uuid4(old.id);
			old.received_at = long_ago + i;
			strcpy(old.status, i == 2 ? "stored" : "routed");
			CHECK(db_event_put(txn, &db, &old) == 0);
			CHECK(db_dedupe_put(txn, &db, s.id, old.id, old.id,
			    long_ago) == 0);
			memset(&orun, 0, sizeof(orun));
			uuid4(orun.id);
			strcpy(orun.workspace, "default");
			strcpy(orun.workflow, "wf");
			strcpy(orun.event_id, old.id);
			strcpy(orun.status, "succeeded");
			orun.created_at = long_ago + i;
			CHECK(db_run_put(txn, &db, &orun, NULL) == 0);
			memset(&a, 0, sizeof(a));
			a.n = 1;
			CHECK(db_attempt_put(txn, &db, orun.id, &a) == 0);
		}
		/* An id seen long ago and again now: its entry is new. */
		CHECK(db_dedupe_put(txn, &db, s.id, "again", e.id, long_ago) ==
		    0);
		CHECK(db_dedupe_put(txn, &db, s.id, "again", e.id, now_us()) ==
		    0);
		/* An entry from before the index by time (written directly):
		 * db_dedupe_index indexes it, then the prune expires it. */
		{
			unsigned char v[UUID_LEN + 8];
			char k[UUID_LEN + 7];
			MDB_val mk, mv;

			memcpy(v, e.id, UUID_LEN);
			put_be64(v + UUID_LEN, (uint64_t)long_ago);
			snprintf(k, sizeof(k), "%slegacy", s.id);
			mk.mv_size = strlen(k);
			mk.mv_data = k;
			mv.mv_size = sizeof(v);
			mv.mv_data = v;
			CHECK(mdb_put(txn, db.dedupe, &mk, &mv, 0) == 0);
		}
		CHECK(db_commit(txn) == 0);
		/* Indexed a few at a time, then whole. */
		txn = db_begin(&db, 0);
		CHECK(db_dedupe_index(txn, &db, 2, &rc) == 2);
		CHECK(db_dedupe_index(txn, &db, 2, &rc) == 2);
		while ((n = db_dedupe_index(txn, &db, 2, &rc)) > 0)
			;
		CHECK(n == 0 && db_dedupe_index(txn, &db, 2, &rc) == 0);
		CHECK(db_commit(txn) == 0);
		txn = db_begin(&db, 0);
		n = db_prune(txn, &db, now_us() - (int64_t)30 * 86400 * 1000000,
		    1000, &rc);
		/* 2 events, their 2 runs, 4 dedupe entries (3 and the legacy
		 * one), and the index key of "again"'s first sighting. */
		CHECK_MSG(n == 9, "pruned %d (rc %d)", n, rc);
		CHECK(db_dedupe_get(txn, &db, s.id, "again", first) == 0);
		CHECK(db_dedupe_get(txn, &db, s.id, "legacy", first) ==
		    MDB_NOTFOUND);
		{
			MDB_stat st;

			CHECK(mdb_stat(txn, db.dedupe, &st) == 0);
			/* msg_1 and again */
			CHECK_MSG(st.ms_entries == 2, "%zu dedupe entries left",
			    st.ms_entries);
			CHECK(mdb_stat(txn, db.dedupe_by_time, &st) == 0 &&
			    st.ms_entries == 2);
			/* Nothing left to expire: a second prune finds none. */
			CHECK(db_prune(txn, &db, now_us() - (int64_t)30 * 86400 *
			    1000000, 1000, &rc) == 0);
		}
		CHECK(db_commit(txn) == 0);
		txn = db_begin(&db, 1);
		n = 0;
		db_pending_each(txn, &db, count_id, &n);
		CHECK(n == 1);	/* the unrouted one stays */
		CHECK(db_run_get(txn, &db, orun.id, &r2) == 0);	/* its run */
		CHECK(db_event_get(txn, &db, e.id, &e2) == 0);	/* recent */
		event_free(&e2);
		CHECK(db_dedupe_get(txn, &db, s.id, "msg_1", first) == 0);
		mdb_txn_abort(txn);
	}

	/*
	 * Key rotation re-seals everything under a new key and retires the
	 * key file nothing uses any more. A second handle opened before the
	 * rotation still seals with the old key: what it writes afterwards is
	 * re-sealed under the current key, and it reads the new values.
	 */
	{
		struct db db2, db3;
		struct cred_rec c, c2;
		struct sub_rec s3;
		char tok[64], k2[PATH_MAX + 8];

		CHECK(db_open(&db2, &cfg, 0, err, sizeof(err)) == 0);
		memset(&c, 0, sizeof(c));
		strcpy(c.workspace, "default");
		strcpy(c.name, "gh");
		strcpy(c.integration, "github");
		strcpy(c.kind, "api-key");
		CHECK(db_cred_set_token(&db, &c, "ghp_token") == 0);
		txn = db_begin(&db, 0);
		CHECK(db_cred_put(txn, &db, &c) == 0);
		CHECK(db_commit(txn) == 0);
		CHECK(db.key_current == 1);
		CHECK(db_rotate_key(&db, err, sizeof(err)) >= 2);
		CHECK(db.key_current == 2);
		snprintf(k2, sizeof(k2), "%s.2", cfg.key_path);
		CHECK(access(k2, F_OK) == 0);
		CHECK(access(cfg.key_path, F_OK) == -1);	/* retired */
		txn = db_begin(&db2, 1);
		CHECK(db_sub_get(txn, &db2, s.id, &s2) == 0);
		CHECK(db_cred_get(txn, &db2, "default", "gh", &c2) == 0);
		mdb_txn_abort(txn);
		CHECK(db_sub_secret(&db2, &s2, 1, plain, sizeof(plain)) == 9 &&
		    memcmp(plain, "whsec_abc", 9) == 0);
		CHECK(db_cred_token(&db2, &c2, tok, sizeof(tok)) == 9 &&
		    strcmp(tok, "ghp_token") == 0);
		/* The stale handle seals a new secret with key 1 (cached). */
		s3 = s2;
		strcpy(s3.id, "9b2d4c6e-0000-4000-8000-000000000001");
		strcpy(s3.name, "late");
		CHECK(db_sub_set_secret(&db2, &s3, 1, "late-secret", 11) == 0);
		CHECK(sealed_key_id(s3.secret, s3.secret_len) == 1);
		txn = db_begin(&db2, 0);
		CHECK(db_sub_put(txn, &db2, &s3) == 0);
		CHECK(db_commit(txn) == 0);
		db_close(&db2);
		/* Written under key 2: a new handle reads it without key 1. */
		CHECK(db_open(&db3, &cfg, 0, err, sizeof(err)) == 0);
		txn = db_begin(&db3, 1);
		CHECK(db_sub_get(txn, &db3, s3.id, &s2) == 0);
		mdb_txn_abort(txn);
		CHECK(sealed_key_id(s2.secret, s2.secret_len) == 2);
		CHECK(db_sub_secret(&db3, &s2, 1, plain, sizeof(plain)) == 11);
		/* A second rotation retires key 2. */
		CHECK(db_rotate_key(&db3, err, sizeof(err)) >= 3);
		CHECK(access(k2, F_OK) == -1);
		txn = db_begin(&db3, 0);
		CHECK(db_sub_del(txn, &db3, &s3) == 0);
		CHECK(db_commit(txn) == 0);
		db_close(&db3);
		db_close(&db);
		CHECK(db_open(&db, &cfg, 0, err, sizeof(err)) == 0);
		CHECK(db.key_current == 3);
	}

	/* Deleting the subscription's name index entry. */
	txn = db_begin(&db, 0);
	CHECK(db_sub_del(txn, &db, &s) == 0);
	CHECK(db_sub_count(txn, &db, "default", "openai") == 0);
	CHECK(db_commit(txn) == 0);
	free(w.target);
	db_close(&db);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	return t_done("test_db");
}
