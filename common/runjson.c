/*
 * A run as JSON (runjson.h): built from its records alone, for every
 * view of it and for the copies a dispatcher sends in cluster mode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "log.h"
#include "runjson.h"
#include "util.h"

json_t *
json_time(int64_t us)
{
	char buf[40];

	if (us == 0)
		return json_null();
	return json_string(fmt_rfc3339(us, buf, sizeof(buf)));
}

/*
 * Captured output is whatever a command printed; JSON strings must be
 * UTF-8, so a byte that is not becomes U+FFFD.
 */
json_t *
json_lossy(const void *data, size_t n)
{
	const unsigned char *p = data;
	struct buf b = { 0 };
	json_t *s;
	size_t i, l;

	if (n == 0)
		return json_string("");
	if ((s = json_stringn(data, n)) != NULL)
		return s;
	for (i = 0; i < n; i += l) {
		if ((l = log_utf8_len(p + i, n - i, NULL)) == 0) {
			buf_append(&b, "\xef\xbf\xbd", 3);
			l = 1;
		} else
			buf_append(&b, p + i, l);
	}
	s = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* A JSON document as itself, anything else as a string. */
json_t *
json_or_string(const void *data, size_t n)
{
	json_t *v;

	if (n > 0 && (v = json_loadb(data, n, JSON_DECODE_ANY, NULL)) != NULL)
		return v;
	return json_lossy(data, n);
}

json_t *
attempt_json(const struct attempt_rec *a)
{
	return json_pack("{s:I,s:o,s:I,s:o,s:o,s:o,s:o}",
	    "attempt", (json_int_t)a->n,
	    "started_at", json_time(a->started_at),
	    "duration_ms", (json_int_t)(a->duration_us / 1000),
	    "exit_code", a->exit_code == -1 ? json_null() :
	    json_integer(a->exit_code),
	    "http_status", a->http_status == 0 ? json_null() :
	    json_integer(a->http_status),
	    "error", a->error[0] ? json_string(a->error) : json_null(),
	    "output", json_lossy(a->output, a->output_len));
}

static int
history_cb(void *arg, const struct attempt_rec *a)
{
	json_array_append_new(arg, attempt_json(a));
	return 0;
}

json_t *
run_rec_json(MDB_txn *txn, struct db *db, const struct run_rec *r)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:o,s:o,s:b}",
	    "id", r->id, "workflow", r->workflow, "workspace", r->workspace,
	    "event_id", r->event_id, "status", run_state_name(r->state),
	    "attempts", (json_int_t)r->attempts,
	    "max_attempts", (json_int_t)r->max_attempts,
	    "created_at", json_time(r->created_at),
	    "updated_at", json_time(r->updated_at),
	    "last_error", r->last_error[0] ? json_string(r->last_error) :
	    json_null(), "test", r->test);

	if (r->state == RUN_QUEUED || r->state == RUN_FAILED)
		json_object_set_new(o, "next_at", json_time(r->next_at));
	if (txn != NULL) {
		json_t *h = json_array();

		db_attempt_each(txn, db, r->id, history_cb, h);
		json_object_set_new(o, "history", h);
	}
	return o;
}

/* The attempts before the last (all when all is set) without output. */
static void
outputs_left_out(json_t *history, int all)
{
	size_t i, n = json_array_size(history);
	json_t *a;

	for (i = 0; i < n; i++) {
		if (!all && i + 1 == n)
			continue;
		a = json_array_get(history, i);
		json_object_set_new(a, "output", json_string(""));
		json_object_set_new(a, "output_left_out", json_true());
	}
}

char *
run_copy_json(MDB_txn *txn, struct db *db, const struct run_rec *run,
    const char *host)
{
	json_t *o = run_rec_json(txn, db, run);
	char *doc, *in;
	int pass;

	json_object_set_new(o, "host", json_string(host));
	if ((in = db_run_inputs_get(txn, db, run->id)) != NULL) {
		json_object_set_new(o, "inputs", json_or_string(in,
		    strlen(in)));
		free(in);
	}
	for (pass = 0; pass < 3; pass++) {
		if ((doc = json_dumps(o, JSON_COMPACT)) == NULL ||
		    strlen(doc) <= RUN_COPY_MAX)
			break;
		free(doc);
		doc = NULL;
		if (pass < 2)
			outputs_left_out(json_object_get(o, "history"),
			    pass == 1);
	}
	json_decref(o);
	return doc;
}
