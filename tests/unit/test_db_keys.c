/*
 * The config part's secrets: credentials, key rotation (a new key file,
 * or the prepared one, everything re-sealed, the old file retired once
 * unused; a handle opened before it writes under the new key), OAuth
 * states.
 */
#include <unistd.h>

#include "dbt.h"
#include "t.h"

int
main(void)
{
	char err[512];
	unsigned char plain[SECRET_MAX];
	struct config cfg;
	struct db db;
	struct sub_rec s, s2;
	struct oauth_state_rec st, st2;
	char v[64];
	MDB_txn *txn;

	CHECK(dbt_open(&db, &cfg) == 0);
	txn = db_begin(&db, DB_CONFIG, 0);
	memset(&s, 0, sizeof(s));
	uuid4(s.id);
	strcpy(s.workspace, "default");
	strcpy(s.name, "main");
	strcpy(s.integration, "openai");
	strcpy(s.mode, "manual");
	strcpy(s.events, "*");
	CHECK(db_sub_set_secret(&db, &s, 1, "whsec_abc", 9) == 0);
	CHECK(db_sub_put(txn, &db, &s) == 0);
	CHECK(db_commit(txn) == 0);

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

		CHECK(db_open(&db2, &cfg, DB_ALL, 0, err, sizeof(err)) == 0);
		memset(&c, 0, sizeof(c));
		strcpy(c.workspace, "default");
		strcpy(c.name, "gh");
		strcpy(c.integration, "github");
		strcpy(c.kind, "api-key");
		CHECK(db_cred_set_token(&db, &c, "ghp_token") == 0);
		txn = db_begin(&db, DB_CONFIG, 0);
		CHECK(db_cred_put(txn, &db, &c) == 0);
		CHECK(db_commit(txn) == 0);
		CHECK(db.key_current == 1);
		CHECK(db_rotate_key(&db, NULL, err, sizeof(err)) >= 2);
		CHECK(db.key_current == 2);
		snprintf(k2, sizeof(k2), "%s.2", cfg.key_path);
		CHECK(access(k2, F_OK) == 0);
		CHECK(access(cfg.key_path, F_OK) == -1);	/* retired */
		txn = db_begin(&db2, DB_CONFIG, 1);
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
		txn = db_begin(&db2, DB_CONFIG, 0);
		CHECK(db_sub_put(txn, &db2, &s3) == 0);
		CHECK(db_commit(txn) == 0);
		db_close(&db2);
		/* Written under key 2: a new handle reads it without key 1. */
		CHECK(db_open(&db3, &cfg, DB_ALL, 0, err, sizeof(err)) == 0);
		txn = db_begin(&db3, DB_CONFIG, 1);
		CHECK(db_sub_get(txn, &db3, s3.id, &s2) == 0);
		mdb_txn_abort(txn);
		CHECK(sealed_key_id(s2.secret, s2.secret_len) == 2);
		CHECK(db_sub_secret(&db3, &s2, 1, plain, sizeof(plain)) == 11);
		/* A second rotation retires key 2. */
		CHECK(db_rotate_key(&db3, NULL, err, sizeof(err)) >= 3);
		CHECK(access(k2, F_OK) == -1);
		txn = db_begin(&db3, DB_CONFIG, 0);
		CHECK(db_sub_del(txn, &db3, &s3) == 0);
		CHECK(db_commit(txn) == 0);
		db_close(&db3);
		db_close(&db);
		CHECK(db_open(&db, &cfg, DB_ALL, 0, err, sizeof(err)) == 0);
		CHECK(db.key_current == 3);
	}

	/*
	 * Two steps: --prepare writes key 4 and seals nothing with it (again:
	 * the same file); the rotation then uses it rather than a key 5. A
	 * value sealed under the retired key 3 names it as missing to a
	 * handle that has not cached it.
	 */
	{
		char p1[PATH_MAX + 16], p2[PATH_MAX + 16], k[PATH_MAX + 8];
		struct sub_rec old;
		struct db db4;

		CHECK(db_prepare_key(&db, p1, sizeof(p1), err,
		    sizeof(err)) == 1);
		snprintf(k, sizeof(k), "%s.4", cfg.key_path);
		CHECK(strcmp(p1, k) == 0 && access(k, F_OK) == 0);
		CHECK(db_prepare_key(&db, p2, sizeof(p2), err,
		    sizeof(err)) == 0);
		CHECK(strcmp(p1, p2) == 0);
		txn = db_begin(&db, DB_CONFIG, 1);
		CHECK(db_sub_get(txn, &db, s.id, &old) == 0);
		mdb_txn_abort(txn);
		CHECK(sealed_key_id(old.secret, old.secret_len) == 3);
		CHECK(db.key_current == 3);
		CHECK(db_rotate_key(&db, NULL, err, sizeof(err)) >= 2);
		CHECK(db.key_current == 4);
		snprintf(k, sizeof(k), "%s.5", cfg.key_path);
		CHECK(access(k, F_OK) == -1);
		snprintf(k, sizeof(k), "%s.3", cfg.key_path);
		CHECK(access(k, F_OK) == -1);		/* retired */
		CHECK(db_open(&db4, &cfg, DB_ALL, 0, err, sizeof(err)) == 0);
		CHECK(db_key_missing(&db4, old.secret, old.secret_len) == 3);
		txn = db_begin(&db4, DB_CONFIG, 1);
		CHECK(db_sub_get(txn, &db4, s.id, &s2) == 0);
		mdb_txn_abort(txn);
		CHECK(db_key_missing(&db4, s2.secret, s2.secret_len) == 0);
		db_close(&db4);
	}

	/*
	 * A key file that holds another key than the one that sealed a
	 * secret (a host that rotated on its own): the secret does not open
	 * and the key is not missing; once the right file is back, the same
	 * handle opens it, without a restart.
	 */
	{
		char k[PATH_MAX + 16], good[PATH_MAX + 32];
		unsigned char other[MASTER_KEY_LEN];
		struct db db5;
		FILE *f;

		txn = db_begin(&db, DB_CONFIG, 1);
		CHECK(db_sub_get(txn, &db, s.id, &s2) == 0);
		mdb_txn_abort(txn);
		snprintf(k, sizeof(k), "%s.%u", cfg.key_path,
		    sealed_key_id(s2.secret, s2.secret_len));
		snprintf(good, sizeof(good), "%s.good", k);
		CHECK(rename(k, good) == 0);
		memset(other, 0x5a, sizeof(other));
		CHECK((f = fopen(k, "w")) != NULL &&
		    fwrite(other, 1, sizeof(other), f) == sizeof(other) &&
		    fclose(f) == 0);
		CHECK(db_open(&db5, &cfg, DB_ALL, 0, err, sizeof(err)) == 0);
		CHECK(db_sub_secret(&db5, &s2, 1, plain, sizeof(plain)) == -1);
		CHECK(db_key_missing(&db5, s2.secret, s2.secret_len) == 0);
		CHECK(rename(good, k) == 0);
		CHECK(db_sub_secret(&db5, &s2, 1, plain, sizeof(plain)) == 9 &&
		    memcmp(plain, "whsec_abc", 9) == 0);
		db_close(&db5);
	}

	/* OAuth states: single use, a PKCE verifier sealed with them. */
	memset(&st, 0, sizeof(st));
	strcpy(st.state, "abcdef0123");
	strcpy(st.workspace, "default");
	strcpy(st.integration, "github");
	strcpy(st.name, "me");
	st.expires_at = now_us() + 60000000;
	CHECK(db_oauth_state_set_verifier(&db, &st, "verifier-123") == 0);
	txn = db_begin(&db, DB_CONFIG, 0);
	CHECK(db_oauth_state_put(txn, &db, &st) == 0);
	CHECK(db_commit(txn) == 0);
	txn = db_begin(&db, DB_CONFIG, 1);
	CHECK(db_oauth_state_exists(txn, &db, "abcdef0123"));
	CHECK(!db_oauth_state_exists(txn, &db, "nope"));
	mdb_txn_abort(txn);
	txn = db_begin(&db, DB_EVENTS, 1);
	CHECK(!db_oauth_state_exists(txn, &db, "abcdef0123"));
	mdb_txn_abort(txn);
	txn = db_begin(&db, DB_CONFIG, 0);
	CHECK(db_oauth_state_take(txn, &db, "abcdef0123", &st2) == 0);
	CHECK(db_oauth_state_verifier(&db, &st2, v, sizeof(v)) == 12 &&
	    strcmp(v, "verifier-123") == 0);
	CHECK(db_oauth_state_take(txn, &db, "abcdef0123", &st2) ==
	    MDB_NOTFOUND);
	CHECK(db_commit(txn) == 0);
	(void)s2;
	(void)plain;
	(void)err;
	db_close(&db);
	dbt_cleanup();
	return t_done("test_db_keys");
}
