/*
 * The config part: subscriptions and their name index, sealed secrets
 * and their cache, workflows and the trigger index (families of events
 * included), and the refusal of a transaction of another part.
 */
#include <unistd.h>

#include "dbt.h"
#include "integ.h"
#include "t.h"

static int
count_sub(void *arg, const struct sub_rec *s)
{
	(void)s;
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
	unsigned char plain[SECRET_MAX];
	struct config cfg;
	struct db db;
	struct sub_rec s, s2;
	struct wf_rec w, w2;
	MDB_txn *txn;
	int n;

	CHECK(dbt_open(&db, &cfg) == 0);

	/* A transaction of another part is refused, not misread. */
	txn = db_begin(&db, DB_EVENTS, 1);
	CHECK(db_sub_get(txn, &db, "x", &s) == DB_EWRONGENV);
	CHECK(strstr(db_strerror(DB_EWRONGENV), "another part") != NULL);
	mdb_txn_abort(txn);

	/* Subscriptions, their name index, sealed secrets. */
	txn = db_begin(&db, DB_CONFIG, 0);
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

	txn = db_begin(&db, DB_CONFIG, 1);
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
	n = 0;
	db_sub_each(txn, &db, NULL, count_sub, &n);	/* every workspace */
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
	CHECK(integ_events_cover(s.events, "batch.failed") &&
	    integ_events_cover(s.events, "batch.completed") &&
	    !integ_events_cover(s.events, "batch"));

	/* Families: a trigger on "issues" matches "issues.opened". */
	CHECK(integ_event_matches("issues", "issues.opened"));
	CHECK(integ_event_matches("issues.opened", "issues.opened"));
	CHECK(integ_event_matches("*", "push"));
	CHECK(!integ_event_matches("issues", "issues_comment.created"));
	CHECK(!integ_event_matches("issues.opened", "issues"));

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
	txn = db_begin(&db, DB_CONFIG, 0);
	CHECK(db_wf_put(txn, &db, &w) == 0);
	n = 0;
	db_trigger_match(txn, &db, s.id, "batch.completed", count_match, &n);
	CHECK(n == 1);
	CHECK(db_sub_users(txn, &db, s.id) == 1);
	strcpy(w.trig[0].event, "batch");	/* a family */
	CHECK(db_wf_put(txn, &db, &w) == 0);
	n = 0;
	db_trigger_match(txn, &db, s.id, "batch.completed", count_match, &n);
	CHECK(n == 1);
	n = 0;
	db_trigger_match(txn, &db, s.id, "batchx", count_match, &n);
	CHECK(n == 0);
	strcpy(w.trig[0].event, "batch.failed");	/* re-point */
	CHECK(db_wf_put(txn, &db, &w) == 0);
	n = 0;
	db_trigger_match(txn, &db, s.id, "batch.completed", count_match, &n);
	CHECK(n == 0);
	CHECK(db_wf_get(txn, &db, "default", "wf", &w2) == 0 &&
	    strcmp(w2.target, "true") == 0 && w2.ntrig == 1);
	wf_free(&w2);
	CHECK(db_commit(txn) == 0);

	/* Deleting the workflow and the subscription. */
	txn = db_begin(&db, DB_CONFIG, 0);
	CHECK(db_wf_del(txn, &db, "default", "wf") == 0);
	CHECK(db_sub_users(txn, &db, s.id) == 0);
	CHECK(db_sub_del(txn, &db, &s) == 0);
	CHECK(db_sub_count(txn, &db, "default", "openai") == 0);
	CHECK(db_sub_get(txn, &db, s.id, &s2) == MDB_NOTFOUND);
	CHECK(db_commit(txn) == 0);
	free(w.target);
	db_close(&db);
	dbt_cleanup();
	return t_done("test_db_config");
}
