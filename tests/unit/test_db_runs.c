/*
 * The runs part: ids derived from (event, workflow), a second creation
 * refused, the due index in step with states, attempts and inputs, the
 * router's cursor and the tests it caught.
 */
#include <ctype.h>

#include "dbt.h"
#include "runjson.h"
#include "t.h"

static int
count_id(void *arg, const char *id)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static int
count_run(void *arg, const struct run_rec *r)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static int
count_attempt(void *arg, const struct attempt_rec *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/* Resident kB of this process's mapping of a part's data.mdb. */
static long
mapped_kb(const char *part)
{
	char line[1024], want[256];
	long kb = 0, v;
	int in = 0;
	FILE *f;

	snprintf(want, sizeof(want), "/db/%s/data.mdb", part);
	if ((f = fopen("/proc/self/smaps", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		/* A mapping's line starts with its address (lower-case
		 * hex), a field's with its name. */
		if (isdigit((unsigned char)line[0]) ||
		    islower((unsigned char)line[0])) {
			size_t l = strlen(line), w = strlen(want);

			in = l >= w && strcmp(line + l - w, want) == 0;
		} else if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

int
main(void)
{
	char id1[UUID_LEN + 1], id2[UUID_LEN + 1], id3[UUID_LEN + 1];
	struct config cfg;
	struct db db;
	struct event_rec e, e2;
	struct run_rec r, r2;
	struct attempt_rec a;
	MDB_txn *txn;
	char *in;
	int n;

	CHECK(dbt_open(&db, &cfg) == 0);
	dbt_event(&e, "s", "batch.completed", 1764633600123456LL);
	dbt_event(&e2, "s", "batch.completed", 1764633600123456LL);

	/* The same (event, workflow), the same id; another either way, not;
	 * a UUID of version 8, time-ordered by the event. */
	run_id_for(&e, "default", "wf", id1);
	run_id_for(&e, "default", "wf", id2);
	CHECK(strcmp(id1, id2) == 0 && uuid_valid(id1));
	CHECK(id1[14] == '8');
	run_id_for(&e, "default", "wf2", id2);
	run_id_for(&e2, "default", "wf", id3);
	CHECK(strcmp(id1, id2) != 0 && strcmp(id1, id3) != 0);
	CHECK(strncmp(id1, "019adc5b-e07b", 13) == 0);	/* 1764633600123 ms */

	memset(&r, 0, sizeof(r));
	strcpy(r.id, id1);
	strcpy(r.workspace, "default");
	strcpy(r.workflow, "wf");
	strcpy(r.event_id, e.id);
	r.event_seq = 7;
	r.state = RUN_QUEUED;
	r.max_attempts = 5;
	r.created_at = r.next_at = now_us();
	txn = db_begin(&db, DB_RUNS, 0);
	CHECK(db_run_put(txn, &db, &r, NULL) == 0);
	CHECK(db_run_put(txn, &db, &r, NULL) == MDB_KEYEXIST);
	CHECK(db_run_inputs_put(txn, &db, r.id, "{\"x\":1}") == 0);
	n = 0;
	db_due_each(txn, &db, now_us(), count_id, &n);
	CHECK(n == 1);
	CHECK(db_due_next(txn, &db) == r.next_at);
	r2 = r;
	r2.state = RUN_RUNNING;
	r2.attempts = 1;
	CHECK(db_run_put(txn, &db, &r2, &r) == 0);
	memset(&a, 0, sizeof(a));
	a.n = 1;
	a.exit_code = 0;
	CHECK(db_attempt_put(txn, &db, r.id, &a) == 0);
	r = r2;
	r2.state = RUN_SUCCEEDED;
	CHECK(db_run_put(txn, &db, &r2, &r) == 0);
	n = 0;
	db_due_each(txn, &db, INT64_MAX, count_id, &n);
	CHECK(n == 0);
	CHECK(db_due_next(txn, &db) == INT64_MAX);
	CHECK(db_run_get(txn, &db, r.id, &r2) == 0 &&
	    r2.state == RUN_SUCCEEDED && r2.event_seq == 7 &&
	    r2.attempts == 1);
	n = 0;
	db_attempt_each(txn, &db, r.id, count_attempt, &n);
	CHECK(n == 1);
	n = 0;
	db_run_each_for_event(txn, &db, e.id, count_run, &n);
	CHECK(n == 1);
	n = 0;
	db_run_each(txn, &db, count_run, &n);
	CHECK(n == 1);
	CHECK((in = db_run_inputs_get(txn, &db, r.id)) != NULL &&
	    strcmp(in, "{\"x\":1}") == 0);
	free(in);

	/* Its JSON (runjson.c), as run show --json and the copies have it:
	 * the history with a transaction only, next_at while it waits. */
	{
		json_t *o = run_rec_json(txn, &db, &r2), *h;

		CHECK(strcmp(json_string_value(json_object_get(o, "status")),
		    "succeeded") == 0);
		h = json_object_get(o, "history");
		CHECK(json_array_size(h) == 1 && json_integer_value(
		    json_object_get(json_array_get(h, 0), "exit_code")) == 0);
		CHECK(json_object_get(o, "next_at") == NULL);
		json_decref(o);
		r2.state = RUN_FAILED;
		o = run_rec_json(NULL, &db, &r2);
		CHECK(json_object_get(o, "history") == NULL);
		CHECK(json_is_string(json_object_get(o, "next_at")));
		json_decref(o);
		r2.state = RUN_SUCCEEDED;
		o = json_lossy("a\xffz", 3);
		CHECK(strcmp(json_string_value(o), "a\xef\xbf\xbdz") == 0);
		json_decref(o);
		o = json_or_string("{\"x\":1}", 7);
		CHECK(json_is_object(o));
		json_decref(o);
		o = json_or_string("{x", 2);
		CHECK(json_is_string(o));
		json_decref(o);
	}

	/* The cursor, and the tests caught. */
	CHECK(db_cursor(txn, &db) == 0);
	CHECK(db_cursor_put(txn, &db, 41) == 0);
	CHECK(db_cursor(txn, &db) == 41);
	/* The lease beside it (cluster mode's takeover). */
	CHECK(db_lease(txn, &db) == 0);
	CHECK(db_lease_put(txn, &db, 1764000000123456LL) == 0);
	CHECK(db_lease(txn, &db) == 1764000000123456LL);
	CHECK(db_cursor(txn, &db) == 41);
	CHECK(db_test_caught(txn, &db, "default", "wf") == 0);
	CHECK(db_test_catch(txn, &db, "default", "wf", 12345) == 0);
	CHECK(db_test_caught(txn, &db, "default", "wf") == 12345);
	CHECK(db_commit(txn) == 0);

	/* States by name, both ways. */
	CHECK(strcmp(run_state_name(RUN_DEAD), "dead") == 0);
	CHECK(run_state_parse("failed") == RUN_FAILED);
	CHECK(run_state_parse("routed") == -1);
	CHECK(strcmp(event_state_name(EV_ROUTED), "routed") == 0);
	CHECK(event_state_parse("ignored") == EV_IGNORED);

	/* A commit that syncs its pages only, then db_sync(): there, and
	 * still there after a reopen (the dispatcher's way). */
	db_sync_pages_only(&db, DB_RUNS);
	r2 = r;
	r2.state = RUN_FAILED;
	txn = db_begin(&db, DB_RUNS, 0);
	CHECK(db_run_put(txn, &db, &r2, &r) == 0);
	CHECK(db_commit(txn) == 0);
	CHECK(db_sync(&db, DB_RUNS) == 0);
	db_close(&db);
	CHECK(db_sync(&db, DB_RUNS) == DB_ENOTOPEN);
	CHECK(dbt_open(&db, &cfg) == 0);
	txn = db_begin(&db, DB_RUNS, 1);
	CHECK(db_run_get(txn, &db, r.id, &r2) == 0 &&
	    r2.state == RUN_FAILED);
	mdb_txn_abort(txn);

	/* Another part's transaction is refused. */
	txn = db_begin(&db, DB_CONFIG, 1);
	CHECK(db_run_get(txn, &db, r.id, &r2) == DB_EWRONGENV);
	CHECK(db_cursor(txn, &db) == 0);
	CHECK(db_lease(txn, &db) == 0);
	mdb_txn_abort(txn);

	/* A quiet stage drops the pages it mapped, and reads on. */
	CHECK(mapped_kb("runs") > 0);
	db_unmap_read(&db);
	CHECK_MSG(mapped_kb("runs") == 0, "%ld kB", mapped_kb("runs"));
	txn = db_begin(&db, DB_RUNS, 1);
	CHECK(db_run_get(txn, &db, r.id, &r2) == 0 &&
	    r2.state == RUN_FAILED);
	mdb_txn_abort(txn);
	CHECK(mapped_kb("runs") > 0);
	db_close(&db);
	dbt_cleanup();
	return t_done("test_db_runs");
}
