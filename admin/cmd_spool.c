/*
 * hookpipe spool list | show ID | drop ID | retry ID
 *
 * The receiver spools deliveries while the verifier is away; the verifier
 * verifies them when it is back. What it cannot process (a damaged entry,
 * a message no version reads, an integration missing for a day) it moves
 * to the quarantine, which these commands show and act on.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "msg.h"

static int	spool_list(struct ctx *, const struct cmd *, int, char **);
static int	spool_show(struct ctx *, const struct cmd *, int, char **);
static int	spool_drop(struct ctx *, const struct cmd *, int, char **);
static int	spool_retry(struct ctx *, const struct cmd *, int, char **);

const struct cmd spool_cmds[] = {
	{ "list", spool_list, "spool list [--quarantined]",
	    "List the deliveries waiting in the spool and those set aside in "
	    "the quarantine, oldest first.", 0, NULL, NULL },
	{ "show", spool_show, "spool show ID",
	    "Show a spooled or quarantined delivery: why it waits, its "
	    "subscription, headers (signatures masked) and body.", 1, "ID",
	    NULL },
	{ "drop", spool_drop, "spool drop ID | --all-quarantined",
	    "Delete a spooled or quarantined delivery (or every quarantined "
	    "one); it is never verified nor run.", -1, "ID", NULL },
	{ "retry", spool_retry, "spool retry ID | --all",
	    "Put a quarantined delivery (or all of them) back in the spool: "
	    "the verifier verifies it within a second.", -1, "ID", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

/* What a spooled message says about itself; fields stay empty when it
 * cannot be read. */
struct spooled {
	char		 id[UUID_LEN + 1];
	char		 state[16];	/* waiting, quarantined */
	char		 sub[UUID_LEN + 1];
	int64_t		 received_at;
	int64_t		 due_at;
	int64_t		 quarantined_at;
	size_t		 bytes;
	char		 reason[256];
};

static void
spooled_read(struct spooled *s, const void *msg, size_t n)
{
	const char *why;
	struct msg m;

	s->bytes = n;
	if (msg_decode(msg, n, &m, &why) == -1) {
		if (s->reason[0] == '\0')
			snprintf(s->reason, sizeof(s->reason), "cannot decode: "
			    "%s", why);
		return;
	}
	mp_get_str(m.body, "sub", s->sub, sizeof(s->sub));
	mp_get_i64(m.body, "received_at", &s->received_at);
	msg_free(&m);
}

static json_t *
spooled_json(const struct spooled *s)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:I,s:s?}", "id", s->id,
	    "state", s->state, "subscription", s->sub,
	    "received_at", json_time(s->received_at),
	    "due_at", json_time(s->due_at),
	    "quarantined_at", json_time(s->quarantined_at),
	    "bytes", (json_int_t)s->bytes,
	    "reason", s->reason[0] ? s->reason : NULL);
}

struct collect {
	json_t	*list;
	int	 quarantine;
};

static int
collect_spool(void *arg, const MDB_val *k, const void *msg, size_t n)
{
	struct collect *c = arg;
	struct spooled s;

	if (k->mv_size != SPOOL_KEY_LEN)
		return 0;
	memset(&s, 0, sizeof(s));
	memcpy(s.id, (const char *)k->mv_data + 8, UUID_LEN);
	str_copy(s.state, "waiting", sizeof(s.state));
	s.due_at = (int64_t)get_be64(k->mv_data);
	spooled_read(&s, msg, n);
	json_array_append_new(c->list, spooled_json(&s));
	return 0;
}

static int
collect_quarantine(void *arg, const MDB_val *k, const void *v, size_t n)
{
	struct collect *c = arg;
	struct quarantine_rec q;
	struct spooled s;

	memset(&s, 0, sizeof(s));
	if (k->mv_size != UUID_LEN)
		return 0;
	memcpy(s.id, k->mv_data, UUID_LEN);
	str_copy(s.state, "quarantined", sizeof(s.state));
	if (quarantine_decode(v, n, &q) == -1) {
		str_copy(s.reason, "damaged quarantine record",
		    sizeof(s.reason));
	} else {
		s.quarantined_at = q.quarantined_at;
		str_copy(s.reason, q.reason, sizeof(s.reason));
		spooled_read(&s, q.message, q.message_len);
		quarantine_free(&q);
	}
	json_array_append_new(c->list, spooled_json(&s));
	return 0;
}

static json_t *
spool_all(struct ctx *ctx, MDB_txn *txn, int quarantined_only)
{
	struct collect c = { json_array(), 0 };

	if (!quarantined_only)
		db_spool_each(txn, &ctx->db, collect_spool, &c);
	db_quarantine_each(txn, &ctx->db, collect_quarantine, &c);
	return c.list;
}

static int
spool_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int quarantined = 0, rc;
	const struct opt opts[] = {
		{ "quarantined", OPT_FLAG, &quarantined },
		{ NULL, 0, NULL }
	};
	char **args, when[40], bytes[24];
	struct table t;
	MDB_txn *txn;
	json_t *list, *o;
	size_t i;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 || (txn = txn_read(ctx, DB_SPOOL)) == NULL)
		return rc ? rc : EXIT_FAIL;
	list = spool_all(ctx, txn, quarantined);
	mdb_txn_abort(txn);
	if (ctx->json)
		return json_print(list);
	if (json_array_size(list) == 0) {
		printf("the spool is empty%s\n", quarantined ?
		    " of quarantined deliveries" : "");
		json_decref(list);
		return EXIT_OK;
	}
	table_init(&t, 6, "ID", "STATE", "RECEIVED", "SUBSCRIPTION", "BYTES",
	    "REASON");
	json_array_foreach(list, i, o) {
		const char *r = json_string_value(json_object_get(o,
		    "received_at"));

		snprintf(bytes, sizeof(bytes), "%lld", (long long)
		    json_integer_value(json_object_get(o, "bytes")));
		snprintf(when, sizeof(when), "%s", r ? r : "-");
		table_row(&t, json_string_value(json_object_get(o, "id")),
		    json_string_value(json_object_get(o, "state")), when,
		    json_string_value(json_object_get(o, "subscription"))[0] ?
		    json_string_value(json_object_get(o, "subscription")) : "-",
		    bytes, json_is_string(json_object_get(o, "reason")) ?
		    json_string_value(json_object_get(o, "reason")) : "");
	}
	table_print_or(&t, stdout, "the spool is empty");
	table_free(&t);
	json_decref(list);
	return EXIT_OK;
}

/* The entry with that id (or unique prefix): its key and message. */
struct found {
	const char	*id;
	size_t		 idlen;
	int		 n;
	unsigned char	 key[SPOOL_KEY_LEN];
	char		 full[UUID_LEN + 1];
};

static int
find_spool(void *arg, const MDB_val *k, const void *msg, size_t n)
{
	struct found *f = arg;

	(void)msg;
	(void)n;
	if (k->mv_size == SPOOL_KEY_LEN && memcmp((const char *)k->mv_data + 8,
	    f->id, f->idlen) == 0) {
		memcpy(f->key, k->mv_data, SPOOL_KEY_LEN);
		memcpy(f->full, (const char *)k->mv_data + 8, UUID_LEN);
		f->full[UUID_LEN] = '\0';
		f->n++;
	}
	return 0;
}

static int
find_quarantine(void *arg, const MDB_val *k, const void *v, size_t n)
{
	struct found *f = arg;

	(void)v;
	(void)n;
	if (k->mv_size == UUID_LEN && memcmp(k->mv_data, f->id, f->idlen) ==
	    0) {
		memcpy(f->full, k->mv_data, UUID_LEN);
		f->full[UUID_LEN] = '\0';
		f->n++;
	}
	return 0;
}

/* 1 spooled, 2 quarantined; 0 with a message when not found. */
static int
spool_find(struct ctx *ctx, MDB_txn *txn, const char *id, struct found *f)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->idlen = strlen(id);
	if (f->idlen == 0 || f->idlen > UUID_LEN) {
		errmsg("no spooled delivery %s", id);
		return 0;
	}
	db_quarantine_each(txn, &ctx->db, find_quarantine, f);
	if (f->n == 1)
		return 2;
	if (f->n == 0) {
		db_spool_each(txn, &ctx->db, find_spool, f);
		if (f->n == 1)
			return 1;
	}
	errmsg(f->n == 0 ? "no spooled or quarantined delivery %s" :
	    "%s names more than one spooled delivery: give more of its id",
	    id);
	return 0;
}

static void
show_message(struct ctx *ctx, const void *msg, size_t n, json_t *o)
{
	const msgpack_object *hm;
	const void *body;
	size_t blen, i;
	struct msg m;
	const char *why;
	json_t *h;

	if (msg_decode(msg, n, &m, &why) == -1)
		return;
	if ((hm = mp_get(m.body, "headers")) != NULL &&
	    hm->type == MSGPACK_OBJECT_MAP) {
		h = json_object();
		for (i = 0; i < hm->via.map.size; i++) {
			char k[256], v[1024];
			const struct integ *ig = NULL;
			struct sub_rec sub;
			MDB_txn *txn;

			if (mp_obj_str(&hm->via.map.ptr[i].key, k,
			    sizeof(k)) == -1 || mp_obj_str(
			    &hm->via.map.ptr[i].val, v, sizeof(v)) == -1)
				continue;
			/* Signatures are not shown, as in the taps. */
			if ((txn = txn_read(ctx, DB_CONFIG)) != NULL) {
				char sid[UUID_LEN + 1] = "";

				mp_get_str(m.body, "sub", sid, sizeof(sid));
				if (db_sub_get(txn, &ctx->db, sid, &sub) == 0)
					ig = integ_find(&ctx->integs,
					    sub.integration);
				mdb_txn_abort(txn);
			}
			if (ig != NULL && json_array_size(ig->sig_headers) &&
			    strstr(k, "signature") != NULL)
				snprintf(v, sizeof(v), "(signature)");
			json_object_set_new(h, k, json_string(v));
		}
		json_object_set_new(o, "headers", h);
	}
	if (mp_get_binp(m.body, "body", &body, &blen) == 0)
		json_object_set_new(o, "body", json_or_string(body, blen));
	msg_free(&m);
}

static int
spool_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct quarantine_rec q;
	struct spooled s;
	struct found f;
	MDB_txn *txn;
	MDB_val v;
	char **args;
	json_t *o, *val;
	const char *k;
	int rc, where;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 || (txn = txn_read(ctx, DB_SPOOL)) == NULL)
		return rc ? rc : EXIT_FAIL;
	if ((where = spool_find(ctx, txn, args[0], &f)) == 0) {
		mdb_txn_abort(txn);
		return EXIT_FAIL;
	}
	memset(&s, 0, sizeof(s));
	str_copy(s.id, f.full, sizeof(s.id));
	o = NULL;
	if (where == 2 && db_quarantine_get(txn, &ctx->db, f.full, &q) == 0) {
		str_copy(s.state, "quarantined", sizeof(s.state));
		s.quarantined_at = q.quarantined_at;
		str_copy(s.reason, q.reason, sizeof(s.reason));
		spooled_read(&s, q.message, q.message_len);
		o = spooled_json(&s);
		show_message(ctx, q.message, q.message_len, o);
		quarantine_free(&q);
	} else if (where == 1 && db_get(txn, ctx->db.spool, f.key,
	    SPOOL_KEY_LEN, &v) == 0) {
		str_copy(s.state, "waiting", sizeof(s.state));
		s.due_at = (int64_t)get_be64(f.key);
		spooled_read(&s, v.mv_data, v.mv_size);
		o = spooled_json(&s);
		show_message(ctx, v.mv_data, v.mv_size, o);
	}
	mdb_txn_abort(txn);
	if (o == NULL)
		return fail("%s cannot be read", f.full);
	if (ctx->json)
		return json_print(o);
	json_object_foreach(o, k, val) {
		if (strcmp(k, "headers") == 0 || strcmp(k, "body") == 0 ||
		    json_is_null(val))
			continue;
		if (json_is_integer(val))
			printf("%-15s %lld\n", k, (long long)
			    json_integer_value(val));
		else
			printf("%-15s %s\n", k, json_string_value(val));
	}
	if ((val = json_object_get(o, "headers")) != NULL) {
		const char *hk;
		json_t *hv;

		printf("headers:\n");
		json_object_foreach(val, hk, hv)
			printf("  %s: %s\n", hk, json_string_value(hv));
	}
	if ((val = json_object_get(o, "body")) != NULL) {
		printf("body:\n");
		json_dumpf(val, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
		printf("\n");
	}
	json_decref(o);
	return EXIT_OK;
}

static int
drop_all_quarantined(void *arg, const MDB_val *k, const void *v, size_t n)
{
	json_t *ids = arg;

	(void)v;
	(void)n;
	json_array_append_new(ids, json_stringn(k->mv_data, k->mv_size));
	return 0;
}

/* Drop or retry: one entry, or every quarantined one. */
static int
spool_act(struct ctx *ctx, const struct cmd *c, int argc, char **argv,
    int retry)
{
	int all = 0, rc = 0, n = 0, where;
	const struct opt opts[] = {
		{ retry ? "all" : "all-quarantined", OPT_FLAG, &all },
		{ NULL, 0, NULL }
	};
	struct found f;
	MDB_txn *txn;
	json_t *ids;
	char **args;
	size_t i;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (all == (args[0] != NULL))
		return usage_error(ctx, "expected an ID or %s, not %s",
		    retry ? "--all" : "--all-quarantined", all ? "both" :
		    "neither");
	if ((rc = ctx_open(ctx, 0)) != 0 || (txn = txn_write(ctx, DB_SPOOL)) == NULL)
		return rc ? rc : EXIT_FAIL;
	ids = json_array();
	if (all)
		db_quarantine_each(txn, &ctx->db, drop_all_quarantined, ids);
	else {
		if ((where = spool_find(ctx, txn, args[0], &f)) == 0) {
			mdb_txn_abort(txn);
			json_decref(ids);
			return EXIT_FAIL;
		}
		if (retry && where != 2) {
			mdb_txn_abort(txn);
			json_decref(ids);
			return fail("%s is waiting in the spool, not "
			    "quarantined: the verifier takes it by itself",
			    f.full);
		}
		if (where == 1) {
			rc = db_spool_del(txn, &ctx->db, f.key);
			n += rc == 0;
		} else
			json_array_append_new(ids, json_string(f.full));
	}
	for (i = 0; i < json_array_size(ids) && rc == 0; i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		rc = retry ? db_quarantine_retry(txn, &ctx->db, id) :
		    db_quarantine_del(txn, &ctx->db, id);
		n += rc == 0;
	}
	json_decref(ids);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:i}", retry ? "retried" :
		    "dropped", n));
	printf("%d deliver%s %s\n", n, n == 1 ? "y" : "ies", retry ?
	    "back in the spool" : "dropped");
	return EXIT_OK;
}

static int
spool_drop(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	return spool_act(ctx, c, argc, argv, 0);
}

static int
spool_retry(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	return spool_act(ctx, c, argc, argv, 1);
}
