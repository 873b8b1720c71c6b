/*
 * hookpipe enrich RUN: the enrich calls of a run's event (README,
 * "Enrichment"), made with its subscription's credential before the
 * run's action starts. Some providers send only an id (OpenAI) or a
 * ping (Airtable); the call fetches what the event is about.
 *
 * The dispatcher runs this as a child (dispatcher/enrich.c), as it runs
 * `hookpipe lifecycle`: a provider's slow answer must not hold up the
 * loop that runs every other action, and the credential code (the token
 * unsealed, refreshed when it is near its expiry or refused with 401) is
 * the CLI's. What a call fetched is kept in db/runs' `enriched` table by
 * event, so that a retry or a replay of the event never asks again; a
 * cursor call (Airtable's payloads) keeps where it stopped in `cursors`,
 * by subscription, and the next event's call goes on from there. Calls
 * of one subscription are made one at a time (run/enrich-SUB.lock), so
 * that two runs of one event ask once and two pings never read the same
 * cursor.
 *
 * The exit status tells the dispatcher what to do with the attempt; the
 * message on stderr is its error:
 *	0			every call that applies has its result stored
 *	ENRICH_AGAIN (75)	not now (the provider unreachable, 5xx, 429):
 *				retried like a failed action
 *	ENRICH_REFUSED (65)	an answer that will not change (another 4xx, a
 *				placeholder the event has no value for): the
 *				run fails with no retry
 * Anything else (a crash, the database) counts as ENRICH_AGAIN.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "integ_api.h"
#include "life.h"

#define ENRICH_AGAIN	75
#define ENRICH_REFUSED	65
#define ENRICH_PAGES	100	/* a cursor call's pages, at most, per event */
#define CURSOR_MAX	256

/* The status of a call's answer, as an exit status. */
static int
judge(long st)
{
	if (st >= 200 && st <= 299)
		return 0;
	if (st == -1)
		return ENRICH_REFUSED;
	/* Not reached, a timeout, rate limits, the provider's trouble. */
	if (st == 0 || st == 408 || st == 425 || st == 429 || st >= 500)
		return ENRICH_AGAIN;
	return ENRICH_REFUSED;
}

/* A cursor the provider gave, a string or a number, as text. */
static int
cursor_text(json_t *v, char *out, size_t len)
{
	if (json_is_string(v) && strlen(json_string_value(v)) < len) {
		str_copy(out, json_string_value(v), len);
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
		return 0;
	}
	return -1;
}

/*
 * A cursor call: every page from the stored cursor (or cursor.start) on,
 * while the answer says there may be more. The items of every page, in
 * order, are the result; the cursor the last page gave goes in cur.
 * 0, or an exit status after a message.
 */
static int
enrich_pages(struct remote *r, json_t *call, const char *name, char *cur,
    json_t **result)
{
	json_t *cw = json_object_get(call, "cursor"), *ans, *items, *e;
	const char *from = json_string_value(json_object_get(cw, "from"));
	const char *ip = json_string_value(json_object_get(cw, "items"));
	const char *more = json_string_value(json_object_get(cw, "more"));
	char next[CURSOR_MAX];
	int page, rc;
	size_t i;
	long st;

	*result = json_array();
	for (page = 0; page < ENRICH_PAGES; page++) {
		r->cursor = cur[0] != '\0' ? cur : NULL;
		st = remote_enrich(r, call, &ans);
		if ((rc = judge(st)) != 0) {
			json_decref(ans);
			json_decref(*result);
			*result = NULL;
			fail("enrich %s: %s", name, r->err);
			return rc;
		}
		items = json_pointer_get(ans, ip);
		json_array_foreach(items, i, e)
			json_array_append(*result, e);
		rc = cursor_text(json_pointer_get(ans, from), next,
		    sizeof(next));
		/* Stop where the provider says, and at a cursor that does not
		 * move (a provider's bug must not loop). */
		if (rc == 0 && strcmp(next, cur) != 0)
			str_copy(cur, next, CURSOR_MAX);
		else
			rc = -1;
		if (rc == -1 || more == NULL ||
		    !json_is_true(json_pointer_get(ans, more))) {
			json_decref(ans);
			return 0;
		}
		json_decref(ans);
	}
	return 0;
}

/* One call: its result (and the cursor) stored. */
static int
enrich_one(struct ctx *ctx, const struct sub_rec *s, const char *event_id,
    struct remote *r, json_t *call)
{
	const char *name = json_string_value(json_object_get(call, "name"));
	char cur[CURSOR_MAX] = "";
	json_t *result = NULL;
	MDB_txn *txn;
	char *text;
	long st;
	int rc;

	if (json_is_object(json_object_get(call, "cursor"))) {
		const char *start = json_string_value(json_object_get(
		    json_object_get(call, "cursor"), "start"));

		if ((txn = txn_read(ctx, DB_RUNS)) == NULL)
			return ENRICH_AGAIN;
		rc = db_cursor_get_named(txn, &ctx->db, s->id, name, cur,
		    sizeof(cur));
		mdb_txn_abort(txn);
		if (rc != 0 && start != NULL)
			str_copy(cur, start, sizeof(cur));
		if ((rc = enrich_pages(r, call, name, cur, &result)) != 0)
			return rc;
	} else {
		st = remote_enrich(r, call, &result);
		if ((rc = judge(st)) != 0) {
			json_decref(result);
			fail("enrich %s: %s", name, r->err);
			return rc;
		}
		if (result == NULL)
			result = json_null();	/* 2xx without JSON */
	}
	text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(result);
	if (text == NULL || (txn = txn_write(ctx, DB_RUNS)) == NULL) {
		free(text);
		return ENRICH_AGAIN;
	}
	rc = db_enriched_put(txn, &ctx->db, event_id, name, text);
	free(text);
	if (rc == 0 && cur[0] != '\0')
		rc = db_cursor_put_named(txn, &ctx->db, s->id, name, cur);
	if (rc != 0) {
		mdb_txn_abort(txn);
		db_error(rc);
		return ENRICH_AGAIN;
	}
	return txn_commit(txn) == 0 ? 0 : ENRICH_AGAIN;
}

/* Calls of one subscription, one at a time. */
static int
sub_lock(struct ctx *ctx, const char *sub_id)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/enrich-%s.lock", ctx->cfg.run_dir,
	    sub_id);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (flock(fd, LOCK_EX) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
enrich_event(struct ctx *ctx, const struct sub_rec *s,
    const struct event_rec *ev)
{
	const struct integ *ig;
	struct remote r;
	json_t *payload, *call;
	MDB_txn *txn;
	size_t i;
	char *have;
	int rc = 0, ready = 0;

	if ((ig = integ_find(&ctx->integs, ev->integration)) == NULL) {
		fail("integration %s is not loaded", ev->integration);
		return ENRICH_AGAIN;
	}
	payload = json_loadb((const char *)ev->payload, ev->payload_len, 0,
	    NULL);
	json_array_foreach(json_object_get(ig->def, "enrich"), i, call) {
		const char *name = json_string_value(json_object_get(call,
		    "name"));

		if (!api_enrich_applies(call, ev->type))
			continue;
		if ((txn = txn_read(ctx, DB_RUNS)) == NULL) {
			rc = ENRICH_AGAIN;
			break;
		}
		have = db_enriched_get(txn, &ctx->db, ev->id, name);
		mdb_txn_abort(txn);
		if (have != NULL) {
			free(have);	/* a retry, a replay: asked before */
			continue;
		}
		if (!ready) {
			if (s->credential[0] == '\0') {
				fail("enrich %s: subscription %s has no "
				    "credential for %s's API (hookpipe cred add "
				    "... --integration %s, then hookpipe sub edit "
				    "%s --credential C)", name, s->name,
				    ig->title, ig->name, s->name);
				rc = ENRICH_REFUSED;
				break;
			}
			if (remote_for_sub(ctx, s, &ig, &r) != 0) {
				rc = ENRICH_AGAIN;
				break;
			}
			r.event = payload;
			ready = 1;
		}
		if ((rc = enrich_one(ctx, s, ev->id, &r, call)) != 0)
			break;
	}
	if (ready)
		remote_clear(&r);
	json_decref(payload);
	return rc;
}

int
cmd_enrich(struct ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	struct event_rec ev;
	struct run_rec run;
	struct sub_rec s;
	MDB_txn *txn;
	char **args;
	int rc, fd;

	if ((rc = opt_parse(ctx, cmd, argc, argv, NULL, &args)) !=
	    OPT_CONTINUE)
		return rc;
	if (ctx_open(ctx, 0) != 0)
		return ENRICH_AGAIN;
	if ((txn = txn_read(ctx, DB_RUNS)) == NULL)
		return ENRICH_AGAIN;
	rc = db_run_get(txn, &ctx->db, args[0], &run);
	mdb_txn_abort(txn);
	if (rc != 0) {
		fail("no run %s", args[0]);
		return ENRICH_REFUSED;
	}
	if ((txn = txn_read(ctx, DB_EVENTS)) == NULL)
		return ENRICH_AGAIN;
	rc = db_event_get(txn, &ctx->db, run.event_id, &ev);
	mdb_txn_abort(txn);
	if (rc != 0) {
		fail("run %s: its event %s is gone", run.id, run.event_id);
		return ENRICH_REFUSED;
	}
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL) {
		event_free(&ev);
		return ENRICH_AGAIN;
	}
	rc = db_sub_get(txn, &ctx->db, ev.sub, &s);
	mdb_txn_abort(txn);
	if (rc != 0) {
		fail("run %s: subscription %s was deleted; its credential "
		    "went with it", run.id, ev.sub);
		event_free(&ev);
		return ENRICH_REFUSED;
	}
	if ((fd = sub_lock(ctx, s.id)) == -1) {
		fail("cannot lock %s/enrich-%s.lock", ctx->cfg.run_dir, s.id);
		event_free(&ev);
		return ENRICH_AGAIN;
	}
	rc = enrich_event(ctx, &s, &ev);
	close(fd);
	event_free(&ev);
	return rc;
}
