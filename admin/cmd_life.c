/*
 * hookpipe sub check | sub renew | cred refresh | lifecycle
 *
 * The lifecycle pass keeps automatic subscriptions alive and says when
 * something is wrong: OAuth tokens refreshed before they expire,
 * subscriptions renewed before they lapse (with retries and backoff),
 * each automatic subscription checked against the provider once a day
 * (and repaired), subscriptions that receive nothing for longer than
 * their --expect-within flagged, runs that died reported. Each failure
 * is logged, counted and sent as an event of the `hookpipe` integration.
 *
 * The dispatcher runs `hookpipe lifecycle` as a child every
 * HOOKPIPE_LIFECYCLE_INTERVAL seconds (dispatcher/life.c), as it runs
 * `hookpipe sub refresh-keys --due`: the pass writes subscriptions and
 * credentials, which belong to db/config, whose writer is the CLI; and
 * it talks to providers, which must not hold up the loop that runs
 * actions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "integ_api.h"
#include "life.h"

/* --- knobs ----------------------------------------------------------- */

static int64_t
env_seconds(const char *name, int64_t dflt)
{
	const char *e = getenv(name);
	int64_t v;

	if (e == NULL || api_duration(e, &v) == -1 || v <= 0)
		return dflt;
	return v;
}

int64_t
life_refresh_before(void)
{
	return env_seconds("HOOKPIPE_REFRESH_BEFORE", 300);
}

int64_t
life_check_every(void)
{
	return env_seconds("HOOKPIPE_CHECK_EVERY", 86400);
}

static int64_t
life_renew_before(void)
{
	return env_seconds("HOOKPIPE_RENEW_BEFORE", 86400);
}

int64_t
life_backoff(int64_t failures)
{
	const char *e = getenv("HOOKPIPE_RENEW_RETRY");
	char buf[256], *p, *tok, *save = NULL;
	int64_t v, last = 60, i = 1;

	str_copy(buf, e != NULL && *e != '\0' ? e : "60,300,1800,3600",
	    sizeof(buf));
	for (p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL, i++) {
		if (api_duration(tok, &v) == 0 && v > 0)
			last = v;
		if (i >= failures)
			break;
	}
	return last;
}

/* When a subscription that expires should be renewed (us). */
static int64_t
renew_due(const struct sub_rec *s)
{
	int64_t margin = life_renew_before() * 1000000;

	/* Not before half its lifetime has passed: a provider that grants
	 * an hour is renewed every half hour, not every minute. */
	if (s->renewed_at > 0 && s->renewed_at < s->expires_at &&
	    (s->expires_at - s->renewed_at) / 2 < margin)
		margin = (s->expires_at - s->renewed_at) / 2;
	return s->expires_at - margin;
}

/* --- a subscription's conversation ------------------------------------ */

int
remote_for_sub(struct ctx *ctx, const struct sub_rec *s,
    const struct integ **igp, struct remote *r)
{
	unsigned char secret[SECRET_MAX];
	const struct integ *ig;
	int n, rc;

	if ((ig = integ_find(&ctx->integs, s->integration)) == NULL)
		return fail("integration %s is not loaded; cannot reach its "
		    "webhook", s->integration);
	*igp = ig;
	remote_init(r, &ctx->cfg, ig, strcmp(s->mode, "oauth") == 0 ?
	    "oauth" : "api-key");
	if (s->credential[0] != '\0' && (rc = cred_for_remote(ctx,
	    s->workspace, s->credential, ig, strcmp(s->mode, "manual") ?
	    s->mode : NULL, r)) != 0) {
		remote_clear(r);
		return rc;
	}
	r->params = s->params;
	r->sub_id = s->id;
	r->sub_name = s->name;
	sub_callback_url(ctx, s->id, r->url, sizeof(r->url));
	r->callback_url = r->url;
	r->events = s->events;
	if (s->secret_len > 0 && (n = db_sub_secret(&ctx->db, s, 1, secret,
	    SECRET_MAX)) >= 0) {
		memcpy(r->secret, secret, (size_t)n);
		r->secret[n] = '\0';
		OPENSSL_cleanse(secret, sizeof(secret));
	}
	str_copy(r->remote_id, s->remote_id, sizeof(r->remote_id));
	if (s->remote[0] != '\0') {
		json_t *x = json_loads(s->remote, 0, NULL);

		if (json_is_object(x)) {
			json_decref(r->extra);
			r->extra = x;
		} else
			json_decref(x);
	}
	return 0;
}

int
sub_save_remote(struct ctx *ctx, const char *sub_id, const struct remote *r,
    int renewed)
{
	struct sub_rec s;
	MDB_txn *txn;
	char *extra;
	int rc;

	extra = json_dumps(r->extra, JSON_COMPACT | JSON_SORT_KEYS);
	if (extra != NULL && strlen(extra) >= sizeof(s.remote)) {
		free(extra);
		return fail("%s answered more than hookpipe keeps of a webhook "
		    "(%zu bytes)", r->ig->title, sizeof(s.remote) - 1);
	}
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL) {
		free(extra);
		return EXIT_FAIL;
	}
	if ((rc = db_sub_get(txn, &ctx->db, sub_id, &s)) != 0) {
		mdb_txn_abort(txn);
		free(extra);
		return fail("subscription %s went away meanwhile", sub_id);
	}
	str_copy(s.remote_id, r->remote_id, sizeof(s.remote_id));
	str_copy(s.remote, extra && strcmp(extra, "{}") ? extra : "",
	    sizeof(s.remote));
	free(extra);
	if (r->expires_at != 0)
		s.expires_at = r->expires_at;
	if (r->secret_changed && db_sub_set_secret(&ctx->db, &s, 1, r->secret,
	    strlen(r->secret)) == -1) {
		mdb_txn_abort(txn);
		return fail("cannot seal the secret %s gave", r->ig->title);
	}
	s.state = SUB_OK;
	s.state_error[0] = '\0';
	s.failures = 0;
	s.retry_at = 0;
	if (renewed)
		s.renewed_at = now_us();
	if ((rc = db_sub_put(txn, &ctx->db, &s)) != 0) {
		mdb_txn_abort(txn);
		OPENSSL_cleanse(&s, sizeof(s));
		return db_error(rc);
	}
	OPENSSL_cleanse(&s, sizeof(s));
	return txn_commit(txn);
}

/* The fields of a subscription an event about it carries. */
static json_t *
sub_data(struct ctx *ctx, const struct sub_rec *s, const char *error)
{
	char url[2048];
	json_t *o;

	sub_callback_url(ctx, s->id, url, sizeof(url));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "subscription", s->id,
	    "name", s->name, "integration", s->integration, "mode", s->mode,
	    "callback_url", url);
	if (s->remote_id[0] != '\0')
		json_object_set_new(o, "remote_id", json_string(s->remote_id));
	if (s->expires_at != 0)
		json_object_set_new(o, "expires_at", json_time(s->expires_at));
	if (error != NULL && *error != '\0')
		json_object_set_new(o, "error", json_string(error));
	return o;
}

/*
 * A renewal (or a check) failed: count it, back off, say what the
 * subscription has come to, and send the events that go with it.
 */
static void
renew_failed(struct ctx *ctx, const char *sub_id, const char *why)
{
	struct sub_rec s;
	enum sub_state was;
	char key[128];
	MDB_txn *txn;
	int64_t now = now_us();

	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return;
	if (db_sub_get(txn, &ctx->db, sub_id, &s) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	was = s.state;
	s.failures++;
	s.retry_at = now + life_backoff(s.failures) * 1000000;
	s.state = s.expires_at != 0 && s.expires_at <= now ? SUB_EXPIRED :
	    SUB_EXPIRING;
	str_copy(s.state_error, why, sizeof(s.state_error));
	snprintf(key, sizeof(key), "%s/%lld/%lld", s.id,
	    (long long)s.expires_at, (long long)s.failures);
	{
		json_t *d = sub_data(ctx, &s, why);

		json_object_set_new(d, "failures", json_integer(s.failures));
		json_object_set_new(d, "next_try_at", json_time(s.retry_at));
		life_emit(ctx, txn, s.workspace, "subscription.renewal_failed",
		    key, d);
	}
	snprintf(key, sizeof(key), "%s/%lld", s.id, (long long)s.expires_at);
	if (s.state != was)
		life_emit(ctx, txn, s.workspace, s.state == SUB_EXPIRED ?
		    "subscription.expired" : "subscription.expiring", key,
		    sub_data(ctx, &s, why));
	life_count(ctx, txn, "renewal.failed");
	if (db_sub_put(txn, &ctx->db, &s) != 0)
		mdb_txn_abort(txn);
	else
		txn_commit(txn);
	fprintf(stderr, "hookpipe: renewal of %s/%s (%s) failed (%lld in a "
	    "row, next try in %llds): %s\n", s.workspace, s.name,
	    s.integration, (long long)s.failures,
	    (long long)life_backoff(s.failures), why);
	OPENSSL_cleanse(&s, sizeof(s));
}

/*
 * Renew one subscription now. 0 when renewed (or made again, when the
 * provider had lost it), else -1 with the failure recorded.
 */
static int
renew_one(struct ctx *ctx, struct sub_rec *s, int quiet)
{
	const struct integ *ig = integ_find(&ctx->integs, s->integration);
	struct remote r;
	char when[40];
	int rc;

	if (ig == NULL || !remote_can_renew(ig) ||
	    strcmp(s->mode, "manual") == 0) {
		if (!quiet)
			fail("subscription %s cannot be renewed by hookpipe "
			    "(mode %s; see 'hookpipe integration show %s')",
			    s->name, s->mode, s->integration);
		return -1;
	}
	if (remote_for_sub(ctx, s, &ig, &r) != 0) {
		renew_failed(ctx, s->id, "its credential cannot be used (see "
		    "'hookpipe cred list')");
		return -1;
	}
	if ((rc = remote_renew(&r)) == 1) {
		/* Gone at the provider (it lapsed): make it again. */
		rc = remote_create(&r);
		if (rc == 0)
			fprintf(stderr, "hookpipe: %s/%s: %s no longer had its "
			    "webhook; made a new one (%s)\n", s->workspace,
			    s->name, ig->title, r.remote_id);
	}
	if (rc != 0) {
		renew_failed(ctx, s->id, r.err);
		remote_clear(&r);
		return -1;
	}
	if (r.err[0] != '\0')
		fprintf(stderr, "hookpipe: %s/%s: %s\n", s->workspace, s->name,
		    r.err);
	rc = sub_save_remote(ctx, s->id, &r, 1);
	if (rc == 0) {
		MDB_txn *txn = txn_write(ctx, DB_CONFIG);

		if (txn != NULL) {
			life_count(ctx, txn, "renewal.ok");
			txn_commit(txn);
		}
		fprintf(stderr, "hookpipe: renewed %s/%s (%s); it expires at "
		    "%s\n", s->workspace, s->name, ig->title, r.expires_at ?
		    fmt_rfc3339(r.expires_at, when, sizeof(when)) : "-");
		s->expires_at = r.expires_at;
	}
	remote_clear(&r);
	return rc == 0 ? 0 : -1;
}

/* --- checking against the provider ------------------------------------- */

struct check_result {
	enum remote_check found;
	int		 repaired;
	char		 detail[1024];
};

/* Make the provider's webhook what the subscription says again. */
static int
repair(struct ctx *ctx, struct sub_rec *s, struct remote *r,
    enum remote_check found, char *detail, size_t len)
{
	json_t *api = json_object_get(r->ig->def, "api");

	if (found == REMOTE_DIFFERS && json_object_get(api, "update") != NULL) {
		if (remote_update(r) == -1) {
			str_copy(detail, r->err, len);
			return -1;
		}
	} else {
		if (found == REMOTE_DIFFERS)
			remote_delete(r);
		if (remote_create(r) == -1) {
			str_copy(detail, r->err, len);
			return -1;
		}
	}
	return sub_save_remote(ctx, s->id, r, found == REMOTE_MISSING) == 0 ?
	    0 : -1;
}

static void
check_record(struct ctx *ctx, const char *sub_id, struct check_result *c)
{
	struct sub_rec s;
	char key[128];
	MDB_txn *txn;

	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return;
	if (db_sub_get(txn, &ctx->db, sub_id, &s) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	s.checked_at = now_us();
	if (c->found == REMOTE_OK || c->repaired) {
		if (s.state == SUB_DRIFTED) {
			s.state = SUB_OK;
			s.state_error[0] = '\0';
		}
	} else if (c->found == REMOTE_MISSING || c->found == REMOTE_DIFFERS) {
		if (s.state == SUB_OK) {
			s.state = SUB_DRIFTED;
			str_copy(s.state_error, c->detail,
			    sizeof(s.state_error));
		}
	}
	if (c->found == REMOTE_MISSING || c->found == REMOTE_DIFFERS) {
		json_t *d = sub_data(ctx, &s, NULL);

		json_object_set_new(d, "found", json_string(
		    remote_check_name(c->found)));
		json_object_set_new(d, "detail", json_string(c->detail));
		json_object_set_new(d, "repaired", json_boolean(c->repaired));
		snprintf(key, sizeof(key), "%s/%lld", s.id,
		    (long long)s.checked_at);
		life_emit(ctx, txn, s.workspace, "subscription.drifted", key, d);
		life_count(ctx, txn, c->repaired ? "check.repaired" :
		    "check.drifted");
	} else
		life_count(ctx, txn, c->found == REMOTE_ERROR ? "check.failed" :
		    "check.ok");
	if (db_sub_put(txn, &ctx->db, &s) != 0)
		mdb_txn_abort(txn);
	else
		txn_commit(txn);
	OPENSSL_cleanse(&s, sizeof(s));
}

static void
check_one(struct ctx *ctx, struct sub_rec *s, int do_repair,
    struct check_result *c)
{
	const struct integ *ig;
	struct remote r;

	memset(c, 0, sizeof(*c));
	if (strcmp(s->mode, "manual") == 0 || s->remote_id[0] == '\0') {
		c->found = REMOTE_UNCHECKED;
		snprintf(c->detail, sizeof(c->detail), "a manual subscription: "
		    "hookpipe did not make its webhook");
		return;
	}
	if (remote_for_sub(ctx, s, &ig, &r) != 0) {
		c->found = REMOTE_ERROR;
		snprintf(c->detail, sizeof(c->detail), "its credential cannot "
		    "be used (see 'hookpipe cred list')");
		check_record(ctx, s->id, c);
		return;
	}
	c->found = remote_check(&r, c->detail, sizeof(c->detail));
	if (do_repair && (c->found == REMOTE_MISSING ||
	    c->found == REMOTE_DIFFERS)) {
		char why[1024];

		if (repair(ctx, s, &r, c->found, why, sizeof(why)) == 0)
			c->repaired = 1;
		else
			snprintf(c->detail + strlen(c->detail),
			    sizeof(c->detail) - strlen(c->detail), "; the "
			    "repair failed: %s", why);
	}
	remote_clear(&r);
	if (c->found != REMOTE_UNCHECKED)
		check_record(ctx, s->id, c);
	if (c->found == REMOTE_MISSING || c->found == REMOTE_DIFFERS)
		fprintf(stderr, "hookpipe: %s/%s (%s): %s%s\n", s->workspace,
		    s->name, s->integration, c->detail, c->repaired ?
		    "; repaired" : "");
}

/* --- sub check, sub renew ----------------------------------------------- */

struct subs {
	struct sub_rec	*v;
	int		 n, cap;
	int		 automatic;	/* only automatic ones */
};

static int
subs_cb(void *arg, const struct sub_rec *s)
{
	struct subs *l = arg;

	if (l->automatic && (strcmp(s->mode, "manual") == 0 ||
	    s->remote_id[0] == '\0'))
		return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->v, (size_t)cap * sizeof(*l->v));

		if (p == NULL)
			return 1;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *s;
	return 0;
}

static void
subs_free(struct subs *l)
{
	if (l->v != NULL)
		OPENSSL_cleanse(l->v, (size_t)l->cap * sizeof(*l->v));
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
cmd_sub_check(struct ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	int do_repair = 0, rc, i, bad = 0;
	const struct opt opts[] = {
		{ "repair", OPT_FLAG, &do_repair },
		{ NULL, 0, NULL }
	};
	struct subs l = { .automatic = 1 };
	struct table t;
	MDB_txn *txn;
	char **args;
	json_t *a;

	if ((rc = opt_parse(ctx, cmd, argc, argv, opts, &args)) !=
	    OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if (args[0] != NULL) {
		struct sub_rec s;

		rc = sub_lookup(ctx, txn, args[0], &s);
		if (rc == 0) {
			l.automatic = 0;
			subs_cb(&l, &s);
			OPENSSL_cleanse(&s, sizeof(s));
		}
	} else if ((rc = db_sub_each(txn, &ctx->db, ctx->ws, subs_cb,
	    &l)) != 0)
		rc = db_error(rc);
	mdb_txn_abort(txn);
	if (rc != 0) {
		subs_free(&l);
		return rc;
	}
	a = json_array();
	table_init(&t, 5, "NAME", "INTEGRATION", "REMOTE_ID", "RESULT",
	    "DETAIL");
	for (i = 0; i < l.n; i++) {
		struct check_result c;
		const char *res;

		check_one(ctx, &l.v[i], do_repair, &c);
		res = c.repaired ? "repaired" : remote_check_name(c.found);
		if (!c.repaired && (c.found == REMOTE_MISSING ||
		    c.found == REMOTE_DIFFERS || c.found == REMOTE_ERROR))
			bad++;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, "
		    "s:s, s:b}", "subscription", l.v[i].id, "name",
		    l.v[i].name, "integration", l.v[i].integration,
		    "remote_id", l.v[i].remote_id, "result", res, "detail",
		    c.detail, "repaired", c.repaired));
		table_row(&t, l.v[i].name, l.v[i].integration,
		    l.v[i].remote_id[0] ? l.v[i].remote_id : "-", res,
		    c.detail[0] ? c.detail : "-");
	}
	subs_free(&l);
	life_deliver(ctx);
	if (ctx->json)
		json_print(a);
	else {
		json_decref(a);
		if (t.ncells > (size_t)t.ncol)
			table_print(&t, stdout);
		else
			printf("no automatic subscriptions in workspace %s\n",
			    ctx->ws);
	}
	table_free(&t);
	if (bad > 0 && !ctx->json)
		errmsg("%d subscription%s not as hookpipe made %s%s", bad,
		    bad == 1 ? " is" : "s are", bad == 1 ? "it" : "them",
		    do_repair ? "" : "; --repair makes them so again");
	return bad > 0 ? EXIT_FAIL : EXIT_OK;
}

int
cmd_sub_renew(struct ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	struct sub_rec s;
	char when[40];
	MDB_txn *txn;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, cmd, argc, argv, NULL, &args)) !=
	    OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = sub_lookup(ctx, txn, args[0], &s);
	mdb_txn_abort(txn);
	if (rc != 0)
		return rc;
	rc = renew_one(ctx, &s, 0);
	life_deliver(ctx);
	if (rc != 0) {
		OPENSSL_cleanse(&s, sizeof(s));
		return EXIT_FAIL;
	}
	if (ctx->json)
		rc = json_print(json_pack("{s:s, s:s, s:o}", "subscription",
		    s.id, "name", s.name, "expires_at", json_time(
		    s.expires_at)));
	else
		printf("renewed subscription %s; it expires at %s\n", s.name,
		    s.expires_at ? fmt_rfc3339(s.expires_at, when,
		    sizeof(when)) : "-");
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

/* --- cred refresh ---------------------------------------------------------- */

int
cmd_cred_refresh(struct ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	char why[1024], when[40];
	struct cred_rec cr;
	MDB_txn *txn;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, cmd, argc, argv, NULL, &args)) !=
	    OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	rc = cred_refresh_now(ctx, ctx->ws, args[0], why, sizeof(why));
	life_deliver(ctx);
	if (rc == -2)
		return fail("%s; credential %s now needs a new authorization: "
		    "run hookpipe oauth authorize --integration … --name %s "
		    "--replace (see 'hookpipe cred list')", why, args[0],
		    args[0]);
	if (rc != 0)
		return fail("%s", why);
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = db_cred_get(txn, &ctx->db, ctx->ws, args[0], &cr);
	mdb_txn_abort(txn);
	if (rc != 0)
		return fail("credential %s went away", args[0]);
	if (ctx->json)
		return json_print(json_pack("{s:s, s:o}", "name", cr.name,
		    "expires_at", json_time(cr.expires_at)));
	printf("credential %s refreshed; the token expires at %s\n", cr.name,
	    cr.expires_at ? fmt_rfc3339(cr.expires_at, when, sizeof(when)) :
	    "-");
	return EXIT_OK;
}

/* --- the lifecycle pass ---------------------------------------------------- */

struct creds {
	struct cred_rec	*v;
	int		 n, cap;
};

static int
creds_cb(void *arg, const struct cred_rec *c)
{
	struct creds *l = arg;

	if (strcmp(c->kind, "oauth") != 0 || c->state != CRED_OK ||
	    c->expires_at == 0 ||
	    c->expires_at - now_us() > life_refresh_before() * 1000000)
		return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 8;
		void *p = realloc(l->v, (size_t)cap * sizeof(*l->v));

		if (p == NULL)
			return 1;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *c;
	return 0;
}

static void
life_creds(struct ctx *ctx, int *did)
{
	struct creds l = { NULL, 0, 0 };
	char why[1024];
	MDB_txn *txn;
	int i;

	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return;
	db_cred_each(txn, &ctx->db, NULL, creds_cb, &l);
	mdb_txn_abort(txn);
	for (i = 0; i < l.n; i++) {
		int rc = cred_refresh_now(ctx, l.v[i].workspace, l.v[i].name,
		    why, sizeof(why));

		(*did)++;
		if (rc == 0)
			fprintf(stderr, "hookpipe: refreshed the token of "
			    "credential %s/%s\n", l.v[i].workspace,
			    l.v[i].name);
		else if (rc == -1)
			fprintf(stderr, "hookpipe: cannot refresh credential "
			    "%s/%s now: %s\n", l.v[i].workspace, l.v[i].name,
			    why);
	}
	if (l.v != NULL)
		OPENSSL_cleanse(l.v, (size_t)l.cap * sizeof(*l.v));
	free(l.v);
}

/* A subscription hookpipe cannot renew: only say that it lapses. */
static void
life_warn_expiry(struct ctx *ctx, const struct sub_rec *s0)
{
	enum sub_state want;
	struct sub_rec s;
	char key[128];
	MDB_txn *txn;
	int64_t now = now_us();

	want = now >= s0->expires_at ? SUB_EXPIRED : SUB_EXPIRING;
	if (s0->state == want || (txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return;
	if (db_sub_get(txn, &ctx->db, s0->id, &s) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	s.state = want;
	snprintf(s.state_error, sizeof(s.state_error), "%s", want ==
	    SUB_EXPIRED ? "it expired" : "it expires soon and hookpipe "
	    "cannot renew it");
	snprintf(key, sizeof(key), "%s/%lld", s.id, (long long)s.expires_at);
	life_emit(ctx, txn, s.workspace, want == SUB_EXPIRED ?
	    "subscription.expired" : "subscription.expiring", key,
	    sub_data(ctx, &s, s.state_error));
	if (db_sub_put(txn, &ctx->db, &s) != 0)
		mdb_txn_abort(txn);
	else
		txn_commit(txn);
	fprintf(stderr, "hookpipe: %s/%s (%s): %s\n", s.workspace, s.name,
	    s.integration, s.state_error);
	OPENSSL_cleanse(&s, sizeof(s));
}

/* Silence: nothing received for longer than --expect-within. */
static void
life_silence(struct ctx *ctx, const struct sub_rec *s0)
{
	int64_t n, last, base, now = now_us();
	struct sub_rec s;
	char key[128];
	MDB_txn *txn;
	int silent;

	sub_stats(ctx, s0->id, &n, &last);
	base = last > s0->created_at ? last : s0->created_at;
	silent = now - base > s0->expect_within * 1000000;
	/* Flagged, and something came since (or the limit moved). */
	if (s0->silent_since != 0 && silent && last <= s0->silent_since)
		return;
	if (s0->silent_since == 0 && !silent)
		return;
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return;
	if (db_sub_get(txn, &ctx->db, s0->id, &s) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	if (s.silent_since != 0 && (!silent || last > s.silent_since)) {
		s.silent_since = 0;
		fprintf(stderr, "hookpipe: %s/%s receives events again\n",
		    s.workspace, s.name);
	} else if (s.silent_since == 0 && silent) {
		json_t *d = sub_data(ctx, &s, NULL);

		s.silent_since = now;
		json_object_set_new(d, "expect_within",
		    json_integer(s.expect_within));
		json_object_set_new(d, "last_event_at", json_time(last));
		snprintf(key, sizeof(key), "%s/%lld", s.id, (long long)base);
		life_emit(ctx, txn, s.workspace, "subscription.silent", key, d);
		life_count(ctx, txn, "silent");
		fprintf(stderr, "hookpipe: %s/%s (%s) received nothing for "
		    "more than %llds\n", s.workspace, s.name, s.integration,
		    (long long)s.expect_within);
	}
	if (db_sub_put(txn, &ctx->db, &s) != 0)
		mdb_txn_abort(txn);
	else
		txn_commit(txn);
	OPENSSL_cleanse(&s, sizeof(s));
}

static void
life_subs(struct ctx *ctx, int *did)
{
	struct subs l = { .automatic = 0 };
	struct check_result c;
	int64_t now = now_us(), base;
	MDB_txn *txn;
	int i;

	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return;
	db_sub_each(txn, &ctx->db, NULL, subs_cb, &l);
	mdb_txn_abort(txn);
	for (i = 0; i < l.n; i++) {
		struct sub_rec *s = &l.v[i];
		const struct integ *ig = integ_find(&ctx->integs,
		    s->integration);
		int automatic = strcmp(s->mode, "manual") != 0 &&
		    s->remote_id[0] != '\0' && s->state != SUB_CREATING;

		if (s->expires_at != 0 && automatic && ig != NULL &&
		    remote_can_renew(ig)) {
			if (now >= renew_due(s) && s->retry_at <= now) {
				(*did)++;
				renew_one(ctx, s, 1);
			}
		} else if (s->expires_at != 0 && now >= renew_due(s))
			life_warn_expiry(ctx, s);
		base = s->checked_at ? s->checked_at : s->renewed_at ?
		    s->renewed_at : s->created_at;
		if (automatic && ig != NULL && remote_can_check(ig) &&
		    now - base >= life_check_every() * 1000000) {
			(*did)++;
			check_one(ctx, s, 1, &c);
		}
		if (s->expect_within > 0)
			life_silence(ctx, s);
	}
	subs_free(&l);
}

/* --- runs that died -------------------------------------------------------- */

struct deadwalk {
	struct ctx	*ctx;
	MDB_txn		*runs, *events, *config;
	unsigned char	 last[DEAD_KEY_LEN];
	int		 n;
};

static int
dead_cb(void *arg, const unsigned char *key, const char *run_id)
{
	struct deadwalk *w = arg;
	struct event_rec ev;
	struct run_rec run;
	int have_ev;
	json_t *d;

	memcpy(w->last, key, DEAD_KEY_LEN);
	if (w->n++ >= 256)
		return 1;
	if (db_run_get(w->runs, &w->ctx->db, run_id, &run) != 0)
		return 0;
	have_ev = db_event_get(w->events, &w->ctx->db, run.event_id, &ev) == 0;
	/* An alert workflow on run.dead that dies itself would report
	 * itself forever. */
	if (have_ev && strcmp(ev.integration, LIFE_INTEG) == 0 &&
	    strcmp(ev.type, "run.dead") == 0) {
		event_free(&ev);
		return 0;
	}
	d = json_pack("{s:s, s:s, s:s, s:I, s:s}", "run_id", run.id,
	    "workflow", run.workflow, "event_id", run.event_id, "attempts",
	    (json_int_t)run.attempts, "error", run.last_error);
	if (have_ev) {
		json_object_set_new(d, "event_type", json_string(ev.type));
		json_object_set_new(d, "subscription", json_string(ev.sub));
		json_object_set_new(d, "integration",
		    json_string(ev.integration));
		event_free(&ev);
	}
	life_emit(w->ctx, w->config, run.workspace, "run.dead", run.id, d);
	fprintf(stderr, "hookpipe: run %s of %s/%s is dead: %s\n", run.id,
	    run.workspace, run.workflow, run.last_error);
	return 0;
}

static void
life_dead(struct ctx *ctx, int *did)
{
	struct deadwalk w = { .ctx = ctx };
	unsigned char cur[DEAD_KEY_LEN];
	size_t len = 0;
	int first;

	if ((w.config = txn_write(ctx, DB_CONFIG)) == NULL)
		return;
	first = db_life_get(w.config, &ctx->db, "dead_cursor", cur,
	    sizeof(cur), &len) != 0 || len != DEAD_KEY_LEN;
	if (first) {
		/* The first pass reports what dies from now on, not the
		 * history of an older state directory. */
		memset(cur, 0, sizeof(cur));
		put_be64(cur, (uint64_t)now_us());
		db_life_put(w.config, &ctx->db, "dead_cursor", cur,
		    sizeof(cur));
		txn_commit(w.config);
		return;
	}
	if ((w.runs = txn_read(ctx, DB_RUNS)) == NULL ||
	    (w.events = txn_read(ctx, DB_EVENTS)) == NULL) {
		if (w.runs != NULL)
			mdb_txn_abort(w.runs);
		mdb_txn_abort(w.config);
		return;
	}
	memcpy(w.last, cur, sizeof(cur));
	db_dead_each(w.runs, &ctx->db, cur, dead_cb, &w);
	mdb_txn_abort(w.events);
	mdb_txn_abort(w.runs);
	if (w.n == 0) {
		mdb_txn_abort(w.config);
		return;
	}
	*did += w.n;
	db_life_put(w.config, &ctx->db, "dead_cursor", w.last,
	    sizeof(w.last));
	txn_commit(w.config);
}

/* One pass at a time: run/lifecycle.lock. */
static int
life_lock(struct ctx *ctx)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/lifecycle.lock", ctx->cfg.run_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return -2;
	}
	return fd;
}

int
cmd_lifecycle(struct ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	int rc, fd, did = 0, sent;
	char **args;

	if ((rc = opt_parse(ctx, cmd, argc, argv, NULL, &args)) !=
	    OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((fd = life_lock(ctx)) == -2) {
		if (ctx->json)
			return json_print(json_pack("{s:b}", "busy", 1));
		printf("another lifecycle pass is running\n");
		return EXIT_OK;
	}
	life_deliver(ctx);
	life_creds(ctx, &did);
	life_subs(ctx, &did);
	life_dead(ctx, &did);
	sent = life_deliver(ctx);
	if (fd >= 0)
		close(fd);
	if (ctx->json)
		return json_print(json_pack("{s:i, s:i}", "actions", did,
		    "events_stored", sent < 0 ? 0 : sent));
	if (sent < 0)
		errmsg("the verifier did not take hookpipe's events; they are "
		    "sent again on the next pass");
	return EXIT_OK;
}
