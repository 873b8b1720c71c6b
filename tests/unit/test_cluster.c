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

/*
 * An event of the stream as a verifier publishes it is read; what no
 * verifier publishes is refused: the subject's id and the header's must
 * agree, the headers be a JSON object, every field there and in size.
 */
#define EV_ID	"0a1b2c3d-0000-4000-8000-000000000001"
#define EV_SUB	"0a1b2c3d-0000-4000-8000-000000000002"
#define EV_META(id, extra) "{\"host\":\"h:/a\",\"id\":\"" id "\",\"sub\":\"" \
	EV_SUB "\",\"workspace\":\"default\",\"integration\":\"github\"," \
	"\"type\":\"push\",\"delivery_id\":\"d1\",\"state\":\"stored\"," \
	"\"received_at\":1700000000000000" extra "}"

static void
event_wire(void)
{
	static const char *bad[] = {
		"", "{", "[]", "null",
		EV_META("0a1b2c3d-0000-4000-8000-000000000009", ""),
		EV_META("not-a-uuid", ""),
		EV_META(EV_ID, ",\"headers\":\"[1]\""),
		EV_META(EV_ID, ",\"headers\":\"{\""),
		EV_META(EV_ID, ",\"received_at\":\"1\""),
		"{\"id\":\"" EV_ID "\"}",
		NULL
	};
	struct event_rec e;
	int mine, i;

	CHECK(cluster_event_parse("hookpipe.events." EV_ID, EV_META(EV_ID,
	    ",\"headers\":\"{\\\"x-a\\\":\\\"1\\\"}\""), "{}", 2, "h:/a", &e,
	    &mine) == 0);
	CHECK(strcmp(e.id, EV_ID) == 0 && strcmp(e.type, "push") == 0 &&
	    e.state == EV_STORED && mine && e.payload_len == 2 &&
	    strcmp((char *)e.payload, "{}") == 0 &&
	    strcmp(e.headers, "{\"x-a\":\"1\"}") == 0);
	event_free(&e);
	CHECK(cluster_event_parse("hookpipe.events." EV_ID, EV_META(EV_ID, ""),
	    NULL, 0, "h:/b", &e, &mine) == 0 && !mine && e.payload == NULL);
	event_free(&e);
	for (i = 0; bad[i] != NULL; i++)
		CHECK_MSG(cluster_event_parse("hookpipe.events." EV_ID, bad[i],
		    "{}", 2, NULL, &e, &mine) == -1 && e.payload == NULL &&
		    e.headers == NULL, "%s", bad[i]);
	CHECK(cluster_event_parse("hookpipe.event." EV_ID, EV_META(EV_ID, ""),
	    "{}", 2, NULL, &e, &mine) == -1);
	CHECK(cluster_event_parse("hookpipe.events." EV_ID, NULL, "{}", 2,
	    NULL, &e, &mine) == -1);
}

/* An answer in parts: put together per host, in order; a part out of
 * order or a malformed header loses that answer, not another host's. */
static void
answer_parts(void)
{
	struct cluster_parts p[CLUSTER_PARTS_HOSTS];
	static const char *bad[] = { "0/2", "3/2", "1/", "/2", "-1/2",
	    " 1/2", "1/2x", "1 /2", "+1/2", "1/99999999999", NULL };
	size_t len;
	char *w;
	int i;

	memset(p, 0, sizeof(p));
	CHECK(cluster_parts_add(p, "1/3", "a", "ab", 2, &len) == NULL);
	CHECK(cluster_parts_add(p, "1/2", "b", "xy", 2, &len) == NULL);
	CHECK(cluster_parts_add(p, "2/3", "a", "cd", 2, &len) == NULL);
	CHECK((w = cluster_parts_add(p, "3/3", "a", "e", 1, &len)) != NULL &&
	    len == 5 && memcmp(w, "abcde", 5) == 0);
	free(w);
	/* b's second part skipped: its answer is lost, and no other. */
	CHECK(cluster_parts_add(p, "2/2", "c", "zz", 2, &len) == NULL);
	CHECK(cluster_parts_add(p, "3/3", "b", "zz", 2, &len) == NULL);
	CHECK(cluster_parts_add(p, "2/2", "b", "zz", 2, &len) == NULL);
	CHECK((w = cluster_parts_add(p, "1/1", "b", "q", 1, &len)) != NULL &&
	    len == 1 && w[0] == 'q');
	free(w);
	for (i = 0; bad[i] != NULL; i++)
		CHECK_MSG(cluster_parts_add(p, bad[i], "d", "q", 1, &len) ==
		    NULL && p[0].host[0] == '\0', "%s", bad[i]);
	CHECK(cluster_parts_add(p, "1/1", NULL, "q", 1, &len) == NULL);
	CHECK(cluster_parts_add(p, "1/1", "", "q", 1, &len) == NULL);
	/* Every slot taken: a 17th host's answer waits for none. */
	for (i = 0; i < CLUSTER_PARTS_HOSTS; i++) {
		char h[8];

		snprintf(h, sizeof(h), "h%d", i);
		CHECK(cluster_parts_add(p, "1/2", h, "x", 1, &len) == NULL);
	}
	CHECK(cluster_parts_add(p, "1/1", "late", "x", 1, &len) == NULL);
	cluster_parts_free(p);
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

	event_wire();
	answer_parts();
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
