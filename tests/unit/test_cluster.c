/*
 * cluster_connect's setup errors: a malformed HOOKPIPE_NATS is a
 * configuration error (100, nothing is dialled), no server answering is
 * temporary (111), and each message says what to fix; what a config
 * change shares. No NATS server is needed: tests/cluster/ has the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "dbt.h"
#include "t.h"

static int
connect_with(const char *urls, char *err, size_t len)
{
	struct cluster c;
	int rc;

	if (urls == NULL)
		unsetenv("HOOKPIPE_NATS");
	else
		setenv("HOOKPIPE_NATS", urls, 1);
	err[0] = '\0';
	if ((rc = cluster_connect(&c, "test", err, len)) == 0)
		cluster_close(&c);
	return rc;
}

/*
 * What a config change puts into the bucket: the records that differ,
 * a deleted one as null, and nothing for a transaction that changed
 * nothing shared.
 */
static void
diff_records(void)
{
	json_t *a, *b, *d;

	a = json_loads("{\"subs\": {\"aa\": \"01\", \"bb\": \"02\"}, "
	    "\"triggers\": {\"cc.01\": \"\"}}", 0, NULL);
	b = json_loads("{\"subs\": {\"aa\": \"01\", \"bb\": \"03\", "
	    "\"dd\": \"04\"}, \"triggers\": {}}", 0, NULL);
	CHECK(a != NULL && b != NULL);
	d = ccfg_diff(a, a);
	CHECK(d != NULL && ccfg_empty(d));
	json_decref(d);
	d = ccfg_diff(a, b);
	CHECK(d != NULL && !ccfg_empty(d));
	CHECK(json_object_size(json_object_get(d, "subs")) == 2);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(d,
	    "subs"), "bb")), "03") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(d,
	    "subs"), "dd")), "04") == 0);
	CHECK(json_is_null(json_object_get(json_object_get(d, "triggers"),
	    "cc.01")));
	json_decref(d);
	json_decref(a);
	json_decref(b);
}

/* Whether the subs table of a dump holds exactly KEY. */
static int
subs_are(struct db *db, const char *key)
{
	MDB_txn *txn = db_begin(db, DB_CONFIG, 1);
	json_t *d = txn != NULL ? ccfg_dump(txn, db) : NULL;
	json_t *subs = json_object_get(d, "subs");
	int ok = json_object_size(subs) == 1 &&
	    json_object_get(subs, key) != NULL;

	json_decref(d);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return ok;
}

/* apply REV SNAP in one transaction: ccfg_apply's code. */
static int
apply(struct db *db, uint64_t rev, const char *snap)
{
	MDB_txn *txn = db_begin(db, DB_CONFIG, 0);
	json_t *s = json_loads(snap, 0, NULL);
	int rc;

	CHECK(txn != NULL && s != NULL);
	if ((rc = ccfg_apply(txn, db, s, rev)) == 0)
		CHECK(db_commit(txn) == 0);
	else
		mdb_txn_abort(txn);
	json_decref(s);
	return rc;
}

/*
 * A host's copy never goes back: a snapshot older than the revision it
 * holds (the admin stage read it before a CLI of the host committed a
 * newer one) changes nothing.
 */
static void
apply_newer_only(void)
{
	struct config cfg;
	struct db db;
	MDB_txn *txn;

	CHECK(dbt_open(&db, &cfg) == 0);
	CHECK(apply(&db, 5, "{\"subs\": {\"aa\": \"01\"}}") == 0);
	CHECK(subs_are(&db, "aa"));
	CHECK(apply(&db, 3, "{\"subs\": {\"bb\": \"02\"}}") == CCFG_OLDER);
	CHECK(apply(&db, 5, "{\"subs\": {\"bb\": \"02\"}}") == CCFG_OLDER);
	CHECK(subs_are(&db, "aa"));
	CHECK(apply(&db, 6, "{\"subs\": {\"bb\": \"02\"}}") == 0);
	CHECK(subs_are(&db, "bb"));
	CHECK((txn = db_begin(&db, DB_CONFIG, 1)) != NULL);
	CHECK(ccfg_applied(txn, &db) == 6);
	mdb_txn_abort(txn);
	db_close(&db);
	dbt_cleanup();
}

int
main(void)
{
	static const char *bad[] = {
		"http://127.0.0.1:4222", "nats://", "nats://h:0",
		"nats://h:65536", "nats://h:42x2", "nats://h/path",
		"127.0.0.1:4222", "nats://h o:4222", "nats://h:4222,ftp://x",
		",", NULL
	};
	char err[512];
	int i;

	unsetenv("HOOKPIPE_NATS_CREDS");
	unsetenv("HOOKPIPE_NATS_CA");
	unsetenv("HOOKPIPE_NATS_CERT");
	unsetenv("HOOKPIPE_NATS_KEY");
	CHECK(!cluster_enabled() || getenv("HOOKPIPE_NATS") != NULL);
	CHECK(connect_with(NULL, err, sizeof(err)) == 100);
	for (i = 0; bad[i] != NULL; i++)
		CHECK_MSG(connect_with(bad[i], err, sizeof(err)) == 100 &&
		    strstr(err, "HOOKPIPE_NATS") != NULL,
		    "%s: %s", bad[i], err);
	CHECK(strstr((connect_with("nats://a:1,http://b", err, sizeof(err)),
	    err), "http://b") != NULL);

	/* Well formed, nobody listening (port 1 on loopback). */
	CHECK_MSG(connect_with("nats://127.0.0.1:1", err, sizeof(err)) == 111,
	    "%s", err);
	CHECK_MSG(connect_with("nats://127.0.0.1:1, nats://[::1]:1/",
	    err, sizeof(err)) == 111, "%s", err);
	CHECK(strstr(err, "cannot connect") != NULL);

	/* A client certificate without its key. */
	setenv("HOOKPIPE_NATS_CERT", "/nonexistent.pem", 1);
	CHECK(connect_with("nats://127.0.0.1:1", err, sizeof(err)) == 100);
	CHECK(strstr(err, "HOOKPIPE_NATS_KEY") != NULL);
	setenv("HOOKPIPE_NATS_KEY", "/nonexistent.key", 1);
	CHECK_MSG(connect_with("nats://127.0.0.1:1", err, sizeof(err)) == 100,
	    "%s", err);
	unsetenv("HOOKPIPE_NATS_CERT");
	unsetenv("HOOKPIPE_NATS_KEY");
	setenv("HOOKPIPE_NATS_CA", "/nonexistent-ca.pem", 1);
	CHECK_MSG(connect_with("nats://127.0.0.1:1", err, sizeof(err)) == 100 &&
	    strstr(err, "HOOKPIPE_NATS_CA") != NULL, "%s", err);
	diff_records();
	apply_newer_only();
	return t_done("test_cluster");
}
