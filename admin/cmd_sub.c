/*
 * hookpipe sub create | list | show | edit | delete
 *
 * A subscription is one callback URL for one integration in one
 * workspace. Its name is unique per (workspace, integration) through the
 * subs_by_name index, and there are at most SUBS_MAX per pair; both are
 * checked inside the write transaction that creates the record, so two
 * concurrent `sub create` cannot both pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "integ_api.h"
#include "life.h"
#include "util.h"

#define SUBS_MAX	10	/* per integration and workspace (SPEC) */
#define GEN_SECRET_LEN	24	/* random bytes in a generated secret */

static int	sub_create(struct ctx *, const struct cmd *, int, char **);
static int	sub_list(struct ctx *, const struct cmd *, int, char **);
static int	sub_show(struct ctx *, const struct cmd *, int, char **);
static int	sub_edit(struct ctx *, const struct cmd *, int, char **);
static int	sub_delete(struct ctx *, const struct cmd *, int, char **);

const struct cmd sub_cmds[] = {
	{ "create", sub_create, "sub create NAME --integration I "
	    "[--events a,b|all] [--secret-file F | --secret - | --secret-env "
	    "VAR | --secret S | --generate-secret] [--mode manual|api-key|oauth "
	    "--credential C] [--param KEY=VALUE ...] [--expect-within DURATION] "
	    "[--expires-at TIME]",
	    "Create a subscription and print its id and callback URL. "
	    "--events selects the event types it accepts (default all). "
	    "--generate-secret makes a whsec_ secret and prints it, the only "
	    "time it is shown in full; --secret takes the one the provider "
	    "gave you, from a file, stdin (-), a variable or the command "
	    "line. It must fit the integration's scheme: for Standard "
	    "Webhooks (openai, standard-webhooks) whsec_ and base64, or "
	    "whpk_ and the base64 of an Ed25519 public key, or any other "
	    "text, used as it is. --param sets what an integration leaves to "
	    "each subscription: the generic webhook integration's header, "
	    "algorithm, encoding, prefix, signed, timestamp_header, event_type "
	    "and delivery_id, a verify token, ... ('hookpipe integration show "
	    "I' lists them); they are checked as a definition file would be. "
	    "--mode api-key or oauth makes the webhook in the provider with "
	    "credential C (the --param says where: repository=owner/repo, "
	    "base=app..., ...) and keeps it alive. --expect-within 24h "
	    "flags the subscription (and sends a subscription.silent event) "
	    "when nothing arrives for that long; --expires-at (a time, or a "
	    "duration from now) says when a webhook you made yourself lapses."
	    SECRET_HELP("secret"), 1, "NAME", NULL },
	{ "list", sub_list, "sub list [--integration I]",
	    "List the workspace's subscriptions, with their state (ok, "
	    "creating, expiring, expired, drifted; silent), how many workflows "
	    "use each and how many events each received.", 0, NULL, NULL },
	{ "show", sub_show, "sub show SUB [--reveal]",
	    "Show a subscription (by id or name). The secret is masked "
	    "unless --reveal.", 1, "SUB", NULL },
	{ "edit", sub_edit, "sub edit SUB [--name N] [--events a,b|all] "
	    "[--secret-file F | --secret - | --secret-env VAR | --secret S] "
	    "[--secondary-secret-file F | ... | --clear-secondary] "
	    "[--expect-within DURATION|0] [--expires-at TIME|0] "
	    "[--credential C|-]",
	    "Rename a subscription, change its events or its secret. An "
	    "automatic subscription's events change in the provider first. A "
	    "secondary secret is also accepted while a secret is rotated. "
	    "Each comes from a file (--secret-file F), stdin (--secret -), a "
	    "variable (--secret-env VAR) or the command line, and the same "
	    "for --secondary-secret; each must fit the integration's scheme "
	    "(see 'hookpipe sub create --help'). A secret on the command "
	    "line is visible to other users in ps and stays in the shell's "
	    "history.", 1, "SUB", NULL },
	{ "refresh-keys", sub_refresh_keys, "sub refresh-keys SUB | --due",
	    "Fetch the public keys (the JWKS at its jwks_url) of a jwt "
	    "integration's subscription now, as sub create and sub edit do; "
	    "the verifier has no network and reads them from "
	    "$HOOKPIPE_HOME/cache/jwks. --due refreshes every cached JWKS "
	    "whose time has come (the dispatcher runs it every minute).", -1,
	    "SUB", NULL },
	{ "check", cmd_sub_check, "sub check [SUB] [--repair]",
	    "Ask the provider whether the webhook of each automatic "
	    "subscription (or of SUB) still exists, with the callback URL and "
	    "events hookpipe gave it. --repair makes it so again: a missing "
	    "webhook is made anew, a changed one updated. Exits 1 when one is "
	    "missing or different (and not repaired), or cannot be checked. "
	    "The lifecycle does this daily, with --repair.", -1, "SUB",
	    NULL },
	{ "renew", cmd_sub_renew, "sub renew SUB",
	    "Renew a subscription that expires (Microsoft Graph, Airtable, "
	    "Google channels) now, as the lifecycle does before it lapses.",
	    1, "SUB", NULL },
	{ "delete", sub_delete, "sub delete SUB [--force]",
	    "Delete a subscription. Refused while workflows use it, unless "
	    "--force, which also removes their triggers on it. An automatic "
	    "subscription's webhook is removed from the provider first.", 1,
	    "SUB", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

/* Subscriptions whose id starts with a prefix (as `sub list` shows). */
struct prefix_find {
	const char	*prefix;
	size_t		 len;
	int		 n;
	struct sub_rec	*s;
};

static int
prefix_cb(void *arg, const struct sub_rec *s)
{
	struct prefix_find *f = arg;

	if (strncmp(s->id, f->prefix, f->len) != 0)
		return 0;
	if (f->n++ == 0)
		*f->s = *s;
	return 0;
}

int
sub_lookup(struct ctx *ctx, MDB_txn *txn, const char *key, struct sub_rec *s)
{
	int rc = db_sub_find(txn, &ctx->db, ctx->ws, NULL, key, s);
	struct prefix_find f = { key, strlen(key), 0, s };

	if (rc == MDB_NOTFOUND && f.len >= 4 && f.len < UUID_LEN &&
	    strspn(key, "0123456789abcdef-") == f.len &&
	    db_sub_each(txn, &ctx->db, ctx->ws, prefix_cb, &f) == 0) {
		if (f.n == 1)
			return 0;
		if (f.n > 1)
			return fail("%s is the start of %d subscription ids; "
			    "give more of it", key, f.n);
	}
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return fail("no subscription %s in workspace %s", key, ctx->ws);
	if (rc == -2)
		return fail("name %s matches subscriptions of several "
		    "integrations; use the id", key);
	return db_error(rc);
}

void
sub_callback_url(const struct ctx *ctx, const char *id, char *out, size_t len)
{
	snprintf(out, len, "%s/triggers/plugin/%s", ctx->cfg.trigger_url, id);
}

/* Names appear in URLs' neighbours and in keys; ids must stay ids. */
static int
sub_name_check(struct ctx *ctx, const char *name)
{
	if (!name_valid(name))
		return usage_error(ctx, "invalid name '%s': use up to %d "
		    "letters, digits, '.', '_' or '-', starting with a letter "
		    "or digit", name, NAME_MAX_LEN);
	if (uuid_valid(name))
		return usage_error(ctx, "invalid name '%s': a name must not "
		    "look like an id", name);
	return 0;
}

int
events_parse(struct ctx *ctx, const char *arg, char *out, size_t len)
{
	const char *p = arg;
	size_t used = 0;

	if (strcmp(arg, "all") == 0 || strcmp(arg, "*") == 0) {
		str_copy(out, "*", len);
		return 0;
	}
	out[0] = '\0';
	while (*p != '\0' || p == arg) {
		size_t n = strcspn(p, ",");
		const char *e = p, *next = p + n + (p[n] == ',');

		while (n > 0 && (*e == ' ' || *e == '\t'))
			e++, n--;
		while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
			n--;
		if (n == 0)
			return usage_error(ctx, "--events: empty event name in "
			    "'%s'", arg);
		if (n > 255 || (n == 1 && *e == '*'))
			return usage_error(ctx, "--events: '%.*s' is not an "
			    "event name", (int)(n > 40 ? 40 : n), e);
		if (used + n + 2 > len)
			return usage_error(ctx, "--events: too many events");
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, e, n);
		used += n;
		out[used] = '\0';
		p = next;
		if (*p == '\0' && p[-1] == ',')
			return usage_error(ctx, "--events: empty event name in "
			    "'%s'", arg);
	}
	return 0;
}

/* Providers add events before catalogues catch up: warn, accept. */
static void
events_warn_unknown(const struct integ *ig, const char *events)
{
	const char *p = events;

	if (strcmp(events, "*") == 0)
		return;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char ev[256];

		snprintf(ev, sizeof(ev), "%.*s", (int)n, p);
		if (!integ_has_event(ig, ev))
			warnmsg("event %s is not in the %s catalogue; accepted "
			    "anyway (see 'hookpipe integration show %s')", ev,
			    ig->name, ig->name);
		p += n + (p[n] == ',');
	}
}

json_t *
sub_json(struct ctx *ctx, MDB_txn *txn, const struct sub_rec *s)
{
	char url[2048];
	int users = txn ? db_sub_users(txn, &ctx->db, s->id) : 0;
	json_t *o;

	sub_callback_url(ctx, s->id, url, sizeof(url));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:i,s:o}", "id", s->id,
	    "name", s->name, "workspace", s->workspace, "integration",
	    s->integration, "mode", s->mode, "events",
	    json_event_list(s->events), "callback_url", url, "workflows",
	    users < 0 ? 0 : users, "created_at", json_time(s->created_at));
	if (s->credential[0] != '\0')
		json_object_set_new(o, "credential", json_string(s->credential));
	if (s->remote_id[0] != '\0')
		json_object_set_new(o, "remote_id", json_string(s->remote_id));
	json_object_set_new(o, "state", json_string(sub_state_name(s->state)));
	if (s->state_error[0] != '\0')
		json_object_set_new(o, "state_error",
		    json_string(s->state_error));
	json_object_set_new(o, "silent", json_boolean(s->silent_since != 0));
	if (s->expires_at != 0)
		json_object_set_new(o, "expires_at", json_time(s->expires_at));
	if (s->expect_within != 0)
		json_object_set_new(o, "expect_within",
		    json_integer(s->expect_within));
	return o;
}

/* "expiring", "ok silent", ... for tables. */
static const char *
state_text(const struct sub_rec *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", sub_state_name(s->state),
	    s->silent_since != 0 ? ",silent" : "");
	return buf;
}

/* --- create --- */

struct create_args {
	const char	*name;
	const char	*integ;
	const char	*events_arg;
	struct secret_opt secret;
	const char	*mode;
	const char	*credential;
	const char	*expect_within;
	const char	*expires_at;
	int		 generate;
	struct strlist	 params;
	int64_t		 expect_s;
	int64_t		 expires_us;
	char		 events[EVENTS_MAX];
	char		 gen[8 + 4 * ((GEN_SECRET_LEN + 2) / 3) + 1];
};

/*
 * --expect-within DURATION and --expires-at TIME (RFC 3339, or a duration
 * from now); "0" clears either. -1 in *out when not given.
 */
static int
life_times(struct ctx *ctx, const char *within, const char *at,
    int64_t *within_s, int64_t *at_us)
{
	json_t *t;
	int64_t v;
	int rc;

	*within_s = *at_us = -1;
	if (within != NULL && (api_duration(within, within_s) == -1 ||
	    *within_s < 0))
		return usage_error(ctx, "--expect-within: expected a duration "
		    "such as 90s, 30m, 24h or 7d (0: no limit), not '%s'",
		    within);
	if (at == NULL)
		return 0;
	if (strcmp(at, "0") == 0) {
		*at_us = 0;
		return 0;
	}
	if (api_duration(at, &v) == 0) {
		*at_us = now_us() + v * 1000000;
		return 0;
	}
	t = json_string(at);
	rc = api_time(t, at_us);
	json_decref(t);
	if (rc == -1 || *at_us <= 0)
		return usage_error(ctx, "--expires-at: expected a time "
		    "(2026-01-02T03:04:05Z) or a duration from now (3d), not "
		    "'%s'", at);
	return 0;
}

static int
create_check(struct ctx *ctx, struct create_args *a)
{
	int rc;

	if ((rc = sub_name_check(ctx, a->name)) != 0)
		return rc;
	if (a->integ == NULL)
		return usage_error(ctx, "missing --integration I");
	if ((rc = events_parse(ctx, a->events_arg ? a->events_arg : "all",
	    a->events, sizeof(a->events))) != 0)
		return rc;
	if ((a->secret.arg || a->secret.file || a->secret.env) && a->generate)
		return usage_error(ctx, "--secret and --generate-secret "
		    "exclude each other");
	if (strcmp(a->mode, "manual") && strcmp(a->mode, "api-key") &&
	    strcmp(a->mode, "oauth"))
		return usage_error(ctx, "--mode: expected manual, api-key or "
		    "oauth");
	return life_times(ctx, a->expect_within, a->expires_at, &a->expect_s,
	    &a->expires_us);
}

/*
 * Automatic modes register the webhook with the provider through a
 * credential, with the calls the integration's definition describes.
 */
static int
create_mode_check(struct ctx *ctx, const struct integ *ig,
    const struct create_args *a)
{
	if (!integ_has_mode(ig, a->mode))
		return fail("integration %s does not support mode %s", ig->name,
		    a->mode);
	if (strcmp(a->mode, "manual") == 0) {
		if (a->credential != NULL && json_object_get(ig->def,
		    "enrich") == NULL)
			return usage_error(ctx, "--credential needs --mode "
			    "api-key or oauth (integration %s makes no enrich "
			    "calls in manual mode)", ig->name);
		return 0;
	}
	if (!remote_supported(ig))
		return fail("integration %s describes no API to create its "
		    "webhooks; use --mode manual", ig->name);
	if (a->credential == NULL)
		return usage_error(ctx, "--mode %s needs --credential C (see: "
		    "hookpipe cred list)", a->mode);
	return 0;
}

/* "k=v" --param values as "k=v\n" lines; -1 on a malformed one. */
static int
params_join(const struct strlist *l, char *out, size_t len)
{
	size_t off = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');

		if (eq == NULL || eq == l->v[i] || strchr(l->v[i], '\n'))
			return -1;
		off += (size_t)snprintf(out + off, off < len ? len - off : 0,
		    "%s\n", l->v[i]);
		if (off >= len)
			return -1;
	}
	return 0;
}

/*
 * --param in manual mode: the params the integration's definition takes
 * (the generic webhook's header, algorithm, ...), checked as the verifier
 * will use them: the definition with them in place must load as a file
 * would.
 */
static int
params_check(struct ctx *ctx, const struct integ *ig, struct create_args *a,
    struct sub_rec *s)
{
	struct integ derived;
	char err[1024];

	if (ig->sub_params == NULL) {
		if (a->params.n > 0 && strcmp(a->mode, "manual") == 0)
			return usage_error(ctx, "--param needs --mode api-key "
			    "or oauth (integration %s takes no params in "
			    "manual mode)", ig->name);
		return 0;
	}
	if (params_join(&a->params, s->params, sizeof(s->params)) == -1)
		return usage_error(ctx, "--param: expected KEY=VALUE (at most "
		    "%zu bytes in all)", sizeof(s->params) - 1);
	if (integ_derive(ig, s->params, &derived, err, sizeof(err)) == -1)
		return fail("%s (see 'hookpipe integration show %s')", err,
		    ig->name);
	json_decref(derived.def);
	return 0;
}

/* A secret that cannot work with the scheme is refused, saying what fits. */
static int
secret_fits(const struct integ *ig, const struct secret_opt *so)
{
	char why[512];

	if (!so->set || integ_secret_check(ig, so->value, so->len, why,
	    sizeof(why)) == 0)
		return 0;
	return fail("--%s does not fit integration %s (%s): %s", so->name,
	    ig->name, ig->scheme, why);
}

static void
secret_generate(char *out)
{
	unsigned char raw[GEN_SECRET_LEN];

	crypto_random(raw, sizeof(raw));
	memcpy(out, "whsec_", 6);
	b64_encode(raw, sizeof(raw), out + 6);
	OPENSSL_cleanse(raw, sizeof(raw));
}

static int
create_in_txn(struct ctx *ctx, MDB_txn *txn, struct create_args *a,
    struct sub_rec *s)
{
	const char *secret = a->gen[0] ? a->gen : a->secret.set ?
	    a->secret.value : NULL;
	struct sub_rec found, keep = *s;
	int rc, n;

	rc = db_sub_find(txn, &ctx->db, ctx->ws, a->integ, a->name, &found);
	if (rc == 0)
		return fail("subscription %s already exists", a->name);
	if (rc != MDB_NOTFOUND)
		return db_error(rc);
	if ((n = db_sub_count(txn, &ctx->db, ctx->ws, a->integ)) < 0)
		return fail("database: cannot count subscriptions");
	if (n >= SUBS_MAX)
		return fail("integration %s already has %d subscriptions in "
		    "workspace %s (the limit); delete one first", a->integ,
		    SUBS_MAX, ctx->ws);
	memset(s, 0, sizeof(*s));
	/* An automatic subscription's id is in the callback URL the
	 * provider already has. */
	if (keep.id[0] != '\0')
		str_copy(s->id, keep.id, sizeof(s->id));
	else
		uuid4(s->id);
	str_copy(s->credential, keep.credential, sizeof(s->credential));
	str_copy(s->params, keep.params, sizeof(s->params));
	str_copy(s->remote_id, keep.remote_id, sizeof(s->remote_id));
	s->state = keep.state;
	s->expect_within = a->expect_s > 0 ? a->expect_s : 0;
	s->expires_at = a->expires_us > 0 ? a->expires_us : 0;
	str_copy(s->workspace, ctx->ws, sizeof(s->workspace));
	str_copy(s->name, a->name, sizeof(s->name));
	str_copy(s->integration, a->integ, sizeof(s->integration));
	str_copy(s->mode, a->mode, sizeof(s->mode));
	str_copy(s->events, a->events, sizeof(s->events));
	if (secret != NULL && db_sub_set_secret(&ctx->db, s, 1, secret,
	    strlen(secret)) == -1)
		return fail("cannot seal the secret");
	s->created_at = now_us();
	if ((rc = db_sub_put(txn, &ctx->db, s)) != 0)
		return db_error(rc);
	return 0;
}

/* A credential given in manual mode (for enrich calls) must exist. */
static int
credential_check(struct ctx *ctx, const char *name, const char *integ)
{
	struct cred_rec cr;
	MDB_txn *txn;
	int rc;

	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = db_cred_get(txn, &ctx->db, ctx->ws, name, &cr);
	mdb_txn_abort(txn);
	if (rc != 0)
		return fail("no credential named %s in workspace %s (see: "
		    "hookpipe cred list)", name, ctx->ws);
	if (strcmp(cr.integration, integ) != 0)
		return fail("credential %s is for %s, not %s", name,
		    cr.integration, integ);
	return 0;
}

static int
create_forget(struct ctx *ctx, const char *id)
{
	struct sub_rec s;
	MDB_txn *txn;

	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return -1;
	if (db_sub_get(txn, &ctx->db, id, &s) != 0 ||
	    db_sub_del(txn, &ctx->db, &s) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	OPENSSL_cleanse(&s, sizeof(s));
	return txn_commit(txn);
}

/*
 * An automatic subscription: stored first (state creating), so that a
 * provider that calls the callback URL while it makes the webhook (Graph's
 * validation request) finds the subscription; then the webhook made with
 * the provider; then what the provider said stored. A refusal deletes the
 * local record again: nothing is left of it. Every check the local
 * transaction makes (name, limit, credential) comes before the provider
 * is called.
 */
static int
create_auto(struct ctx *ctx, const struct integ *ig, struct create_args *a,
    struct sub_rec *s)
{
	char joined[sizeof(s->params)], err[1024];
	struct remote r;
	MDB_txn *txn;
	int rc;

	if (params_join(&a->params, joined, sizeof(joined)) == -1)
		return usage_error(ctx, "--param: expected KEY=VALUE");
	if (remote_params(ig, joined, s->params, sizeof(s->params), err,
	    sizeof(err)) == -1)
		return fail("%s", err);
	remote_init(&r, &ctx->cfg, ig, a->mode);
	if ((rc = cred_for_remote(ctx, ctx->ws, a->credential, ig, a->mode,
	    &r)) != 0) {
		remote_clear(&r);
		return rc;
	}
	str_copy(s->credential, a->credential, sizeof(s->credential));
	s->state = SUB_CREATING;
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL) {
		remote_clear(&r);
		return EXIT_FAIL;
	}
	if ((rc = create_in_txn(ctx, txn, a, s)) != 0 ||
	    (rc = txn_commit(txn)) != 0) {
		if (rc != 0 && txn != NULL)
			mdb_txn_abort(txn);
		remote_clear(&r);
		return rc;
	}
	r.params = s->params;
	r.sub_id = s->id;
	r.sub_name = s->name;
	sub_callback_url(ctx, s->id, r.url, sizeof(r.url));
	r.callback_url = r.url;
	r.events = s->events;
	str_copy(r.secret, a->gen, sizeof(r.secret));
	if (remote_create(&r) == -1) {
		create_forget(ctx, s->id);
		rc = fail("%s; nothing was created", r.err);
		remote_clear(&r);
		return rc;
	}
	if ((rc = sub_save_remote(ctx, s->id, &r, 1)) != 0) {
		if (remote_delete(&r) == -1)
			warnmsg("the webhook made in %s (id %s) could not be "
			    "removed: %s", ig->title, r.remote_id, r.err);
		create_forget(ctx, s->id);
		remote_clear(&r);
		return rc;
	}
	str_copy(s->remote_id, r.remote_id, sizeof(s->remote_id));
	s->expires_at = r.expires_at;
	s->state = SUB_OK;
	/* The provider's own secret replaces ours (Stripe, Airtable). */
	if (r.secret_changed)
		OPENSSL_cleanse(a->gen, sizeof(a->gen));
	remote_clear(&r);
	return 0;
}

/*
 * Edit or delete the provider's webhook of an automatic subscription.
 * Called with no transaction open: a slow provider must not hold the
 * database's write lock. 0, or an exit code with the message printed.
 */
static int
sub_remote(struct ctx *ctx, const char *key, const char *events, int del)
{
	const struct integ *ig;
	struct sub_rec s;
	struct remote r;
	MDB_txn *txn;
	int rc;

	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = sub_lookup(ctx, txn, key, &s);
	mdb_txn_abort(txn);
	if (rc != 0 || strcmp(s.mode, "manual") == 0 || s.remote_id[0] == '\0')
		return rc;
	if ((rc = remote_for_sub(ctx, &s, &ig, &r)) != 0)
		return rc;
	if (events != NULL)
		r.events = events;
	rc = del ? remote_delete(&r) : remote_update(&r);
	if (rc == -1)
		rc = fail("%s; nothing was changed", r.err);
	remote_clear(&r);
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

/*
 * A secret made here for a provider that makes its own (OpenAI, Stripe,
 * Slack) matches none of its deliveries: say so, and what to do.
 */
static int
provider_secret(const struct integ *ig, char *note, size_t len)
{
	const char *by = json_string_value(json_object_get(ig->setup,
	    "secret"));

	if (by == NULL || strcmp(by, "provider") != 0)
		return 0;
	snprintf(note, len, "%s makes the signing secret itself: this "
	    "generated one will not match its deliveries (it serves 'hookpipe "
	    "send' and tests); once %s shows you yours, give it to hookpipe "
	    "with 'hookpipe sub edit NAME --secret-file F'", ig->title,
	    ig->title);
	return 1;
}

static void
create_print(struct ctx *ctx, struct create_args *a, const struct sub_rec *s,
    const struct integ *ig)
{
	char url[2048], note[512];
	int by_provider = a->generate && provider_secret(ig, note,
	    sizeof(note));

	sub_callback_url(ctx, s->id, url, sizeof(url));
	if (ctx->json) {
		json_t *o = sub_json(ctx, NULL, s);

		if (a->generate)
			json_object_set_new(o, "secret", json_string(a->gen));
		if (by_provider)
			json_object_set_new(o, "note", json_string(note));
		json_print(o);
		return;
	}
	printf("id:           %s\ncallback_url: %s\n", s->id, url);
	if (a->generate)
		printf("secret:       %s\n", a->gen);
	if (by_provider)
		warnmsg("%s", note);
}

/* Everything after the options are read and the secret is in memory. */
static int
create_run(struct ctx *ctx, struct create_args *a)
{
	const struct integ *ig;
	struct sub_rec s;
	MDB_txn *txn;
	int rc;

	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((ig = integ_find(&ctx->integs, a->integ)) == NULL)
		return fail("no integration %s; see 'hookpipe integration "
		    "list'", a->integ);
	memset(&s, 0, sizeof(s));
	if ((rc = create_mode_check(ctx, ig, a)) != 0 ||
	    (rc = secret_fits(ig, &a->secret)) != 0 ||
	    (rc = params_check(ctx, ig, a, &s)) != 0)
		return rc;
	if (a->credential != NULL && strcmp(a->mode, "manual") == 0 &&
	    (rc = credential_check(ctx, a->credential, ig->name)) != 0)
		return rc;
	if (a->credential != NULL)
		str_copy(s.credential, a->credential, sizeof(s.credential));
	events_warn_unknown(ig, a->events);
	if (a->generate || strcmp(a->mode, "manual") != 0)
		secret_generate(a->gen);
	if (strcmp(a->mode, "manual") != 0) {
		if ((rc = create_auto(ctx, ig, a, &s)) == 0) {
			sub_keys_fetch(ctx, ig, 0);
			create_print(ctx, a, &s, ig);
		}
		return rc;
	}
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = create_in_txn(ctx, txn, a, &s)) != 0) {
		mdb_txn_abort(txn);
	} else if ((rc = txn_commit(txn)) == 0) {
		if (!a->secret.set && !a->generate &&
		    strcmp(a->mode, "manual") == 0 && !integ_scheme_keyless(ig))
			warnmsg("subscription %s has no signing secret: "
			    "deliveries cannot be verified until 'hookpipe sub "
			    "edit %s --secret-file F'", s.name, s.id);
		sub_keys_fetch(ctx, ig, 0);
		create_print(ctx, a, &s, ig);
	}
	return rc;
}

static int
sub_create(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct create_args a = { .mode = "manual", .secret.name = "secret" };
	const struct opt opts[] = {
		{ "integration", OPT_STR, &a.integ },
		{ "events", OPT_STR, &a.events_arg },
		SECRET_OPTS(&a.secret, "secret"),
		{ "generate-secret", OPT_FLAG, &a.generate },
		{ "mode", OPT_STR, &a.mode },
		{ "credential", OPT_STR, &a.credential },
		{ "param", OPT_LIST, &a.params },
		{ "expect-within", OPT_STR, &a.expect_within },
		{ "expires-at", OPT_STR, &a.expires_at },
		{ NULL, 0, NULL }
	};
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	a.name = args[0];
	if ((rc = create_check(ctx, &a)) != 0 ||
	    (rc = secret_read(ctx, &a.secret)) != 0)
		return rc;
	rc = create_run(ctx, &a);
	secret_clear(&a.secret);
	OPENSSL_cleanse(a.gen, sizeof(a.gen));
	return rc;
}

/* --- list --- */

struct list_state {
	struct ctx	*ctx;
	MDB_txn		*txn;
	const char	*integ;
	struct table	 t;
	json_t		*a;
};

json_t *
sub_list_json(struct ctx *ctx, MDB_txn *txn, const struct sub_rec *s)
{
	json_t *o = sub_json(ctx, txn, s);
	int64_t n, at;

	sub_stats(ctx, s->id, &n, &at);
	json_object_set_new(o, "event_count", json_integer(n));
	json_object_set_new(o, "last_event_at", json_time(at));
	return o;
}

static int
list_cb(void *arg, const struct sub_rec *s)
{
	struct list_state *l = arg;
	char users[16], count[24], last[40], events[48], id[12], state[32];
	int64_t n, at;
	int u;

	if (l->integ != NULL && strcmp(s->integration, l->integ) != 0)
		return 0;
	if (l->a != NULL) {
		json_array_append_new(l->a, sub_list_json(l->ctx, l->txn, s));
		return 0;
	}
	sub_stats(l->ctx, s->id, &n, &at);
	u = db_sub_users(l->txn, &l->ctx->db, s->id);
	snprintf(users, sizeof(users), "%d", u < 0 ? 0 : u);
	snprintf(count, sizeof(count), "%lld", (long long)n);
	if (strcmp(s->events, "*") == 0)
		str_copy(events, "all", sizeof(events));
	else if (strlen(s->events) > 16)
		snprintf(events, sizeof(events), "%.13s...", s->events);
	else
		str_copy(events, s->events, sizeof(events));
	/* 100 columns: the start of the id, which commands take too. */
	snprintf(id, sizeof(id), "%.8s", s->id);
	table_row(&l->t, id, s->name, s->integration, s->mode,
	    state_text(s, state, sizeof(state)), events, users, count,
	    time_str(at, last, sizeof(last)));
	return 0;
}

static int
sub_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct list_state l = { .ctx = ctx };
	const struct opt opts[] = {
		{ "integration", OPT_STR, &l.integ },
		{ NULL, 0, NULL }
	};
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((l.txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if (ctx->json)
		l.a = json_array();
	else
		table_init(&l.t, 9, "ID", "NAME", "INTEGRATION", "MODE",
		    "STATE", "EVENTS", "WF", "RECEIVED", "LAST");
	rc = db_sub_each(l.txn, &ctx->db, ctx->ws, list_cb, &l);
	mdb_txn_abort(l.txn);
	if (rc != 0) {
		json_decref(l.a);
		table_free(&l.t);
		return db_error(rc);
	}
	if (ctx->json)
		return json_print(l.a);
	table_print_or(&l.t, stdout, "no subscriptions yet: 'hookpipe sub "
	    "create NAME --integration I' makes one");
	table_free(&l.t);
	return EXIT_OK;
}

/* --- show --- */

/* The secret for display: masked, in full, or NULL when there is none. */
static json_t *
secret_json(struct ctx *ctx, const struct sub_rec *s, int which, int reveal)
{
	unsigned char plain[SECRET_MAX + 1];
	char masked[SECRET_MAX + 16];
	json_t *v;
	int n;

	if ((which == 1 ? s->secret_len : s->secret2_len) == 0)
		return json_null();
	if ((n = db_sub_secret(&ctx->db, s, which, plain, SECRET_MAX)) < 0) {
		warnmsg("cannot decrypt the secret of %s (another master "
		    "key?)", s->name);
		return json_string("(unreadable)");
	}
	plain[n] = '\0';
	if (reveal)
		v = json_lossy(plain, (size_t)n);
	else {
		mask_secret((const char *)plain, masked, sizeof(masked));
		v = json_string(masked);
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return v;
}

json_t *
sub_show_json(struct ctx *ctx, MDB_txn *txn, const struct sub_rec *s,
    int reveal)
{
	json_t *o = sub_json(ctx, txn, s);
	int64_t n, at;

	sub_stats(ctx, s->id, &n, &at);
	json_object_set_new(o, "secret", secret_json(ctx, s, 1, reveal));
	if (s->secret2_len > 0)
		json_object_set_new(o, "secondary_secret", secret_json(ctx, s,
		    2, reveal));
	json_object_set_new(o, "event_count", json_integer(n));
	json_object_set_new(o, "last_event_at", json_time(at));
	if (s->silent_since != 0)
		json_object_set_new(o, "silent_since",
		    json_time(s->silent_since));
	if (s->renewed_at != 0)
		json_object_set_new(o, "renewed_at", json_time(s->renewed_at));
	if (s->checked_at != 0)
		json_object_set_new(o, "checked_at", json_time(s->checked_at));
	if (s->failures != 0) {
		json_object_set_new(o, "renewal_failures",
		    json_integer(s->failures));
		json_object_set_new(o, "next_try_at", json_time(s->retry_at));
	}
	if (s->credential[0] != '\0' && txn != NULL) {
		struct cred_rec cr;

		if (db_cred_get(txn, &ctx->db, s->workspace, s->credential,
		    &cr) == 0)
			json_object_set_new(o, "credential_state", json_string(
			    cred_state_name(cr.state)));
		OPENSSL_cleanse(&cr, sizeof(cr));
	}
	return o;
}

static void
show_text(json_t *o)
{
	static const char *const keys[] = {
		"id", "name", "workspace", "integration", "mode", "state",
		"state_error", "events", "callback_url", "secret",
		"secondary_secret", "credential", "credential_state",
		"remote_id", "expires_at", "renewed_at", "renewal_failures",
		"next_try_at", "checked_at", "expect_within", "silent_since",
		"workflows", "event_count", "last_event_at", "created_at", NULL
	};
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		json_t *v = json_object_get(o, keys[i]);
		char *s;

		if (v == NULL)
			continue;
		if (strcmp(keys[i], "expect_within") == 0 &&
		    json_is_integer(v)) {
			char d[32];

			snprintf(d, sizeof(d), "%llds",
			    (long long)json_integer_value(v));
			print_field(stdout, keys[i], 18, d);
		} else if (json_is_string(v))
			print_field(stdout, keys[i], 18, json_string_value(v));
		else if (json_is_null(v))
			print_field(stdout, keys[i], 18, NULL);
		else if (json_is_array(v)) {
			struct buf b = { 0 };
			json_t *e;
			size_t j;

			json_array_foreach(v, j, e)
				buf_appendf(&b, "%s%s", j ? "," : "", strcmp(
				    json_string_value(e), "*") == 0 ? "all" :
				    json_string_value(e));
			print_field(stdout, keys[i], 18, b.data ? b.data : "");
			buf_free(&b);
		} else {
			s = json_dumps(v, JSON_ENCODE_ANY);
			print_field(stdout, keys[i], 18, s);
			free(s);
		}
	}
}

static int
sub_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int reveal = 0, rc;
	const struct opt opts[] = {
		{ "reveal", OPT_FLAG, &reveal },
		{ NULL, 0, NULL }
	};
	struct sub_rec s;
	MDB_txn *txn;
	char **args;
	json_t *o;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = sub_lookup(ctx, txn, args[0], &s)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	o = sub_show_json(ctx, txn, &s, reveal);
	mdb_txn_abort(txn);
	OPENSSL_cleanse(&s, sizeof(s));
	if (ctx->json)
		return json_print(o);
	show_text(o);
	json_decref(o);
	return EXIT_OK;
}

/* --- edit --- */

struct edit_args {
	const char	*name;
	const char	*events_arg;
	const char	*expect_within;
	const char	*expires_at;
	const char	*credential;
	int64_t		 expect_s;
	int64_t		 expires_us;
	struct secret_opt secret;
	struct secret_opt secret2;
	int		 clear2;
	char		 events[EVENTS_MAX];
};

static int
edit_check(struct ctx *ctx, struct edit_args *a)
{
	int rc;

	if (a->name == NULL && a->events_arg == NULL && !a->secret.set &&
	    !a->secret2.set && !a->clear2 && a->expect_within == NULL &&
	    a->expires_at == NULL && a->credential == NULL)
		return usage_error(ctx, "nothing to change: give --name, "
		    "--events, --secret, --secondary-secret, "
		    "--clear-secondary, --expect-within, --expires-at or "
		    "--credential");
	if ((rc = life_times(ctx, a->expect_within, a->expires_at,
	    &a->expect_s, &a->expires_us)) != 0)
		return rc;
	if (a->name != NULL && (rc = sub_name_check(ctx, a->name)) != 0)
		return rc;
	if (a->events_arg != NULL && (rc = events_parse(ctx, a->events_arg,
	    a->events, sizeof(a->events))) != 0)
		return rc;
	if (a->secret2.set && a->clear2)
		return usage_error(ctx, "--secondary-secret and "
		    "--clear-secondary exclude each other");
	return 0;
}

/*
 * A rename moves the subs_by_name entry only: db_sub_del would also drop
 * the subscription's statistics.
 */
static int
edit_rename(struct ctx *ctx, MDB_txn *txn, struct sub_rec *s,
    const char *name)
{
	struct sub_rec other;
	char key[3 * (NAME_MAX_LEN + 1)];
	int rc, n;

	if (strcmp(name, s->name) == 0)
		return 0;
	rc = db_sub_find(txn, &ctx->db, ctx->ws, s->integration, name, &other);
	if (rc == 0)
		return fail("subscription %s already exists", name);
	if (rc != MDB_NOTFOUND)
		return db_error(rc);
	n = snprintf(key, sizeof(key), "%s/%s/%s", s->workspace,
	    s->integration, s->name);
	if ((rc = db_del(txn, ctx->db.subs_by_name, key, (size_t)n)) != 0)
		return db_error(rc);
	str_copy(s->name, name, sizeof(s->name));
	return 0;
}

struct uncovered {
	const struct sub_rec *s;
};

static int
uncovered_cb(void *arg, const struct wf_rec *w)
{
	struct uncovered *u = arg;
	int i;

	for (i = 0; i < w->ntrig; i++)
		if (strcmp(w->trig[i].sub, u->s->id) == 0 &&
		    strcmp(w->trig[i].event, "*") != 0 &&
		    !integ_events_cover(u->s->events, w->trig[i].event))
			warnmsg("workflow %s triggers on %s, which %s no longer "
			    "covers: that trigger will not fire", w->name,
			    w->trig[i].event, u->s->name);
	return 0;
}

static int
edit_in_txn(struct ctx *ctx, MDB_txn *txn, const char *key,
    struct edit_args *a, struct sub_rec *s)
{
	int rc;

	if ((rc = sub_lookup(ctx, txn, key, s)) != 0)
		return rc;
	if (a->name != NULL && (rc = edit_rename(ctx, txn, s, a->name)) != 0)
		return rc;
	if (a->events_arg != NULL) {
		const struct integ *ig = integ_find(&ctx->integs,
		    s->integration);
		struct uncovered u = { s };

		str_copy(s->events, a->events, sizeof(s->events));
		if (ig != NULL)
			events_warn_unknown(ig, s->events);
		db_wf_each(txn, &ctx->db, ctx->ws, uncovered_cb, &u);
	}
	if ((a->secret.set && db_sub_set_secret(&ctx->db, s, 1,
	    a->secret.value, a->secret.len) == -1) || (a->secret2.set &&
	    db_sub_set_secret(&ctx->db, s, 2, a->secret2.value,
	    a->secret2.len) == -1))
		return fail("cannot seal the secret");
	if (a->clear2)
		s->secret2_len = 0;
	if (a->expect_s >= 0) {
		s->expect_within = a->expect_s;
		s->silent_since = 0;
	}
	if (a->expires_us >= 0) {
		s->expires_at = a->expires_us;
		if (strcmp(s->mode, "manual") == 0 &&
		    (s->state == SUB_EXPIRING || s->state == SUB_EXPIRED)) {
			s->state = SUB_OK;
			s->state_error[0] = '\0';
		}
	}
	if (a->credential != NULL) {
		if (strcmp(s->mode, "manual") != 0)
			return fail("the credential of an automatic "
			    "subscription made its webhook; it stays");
		if (strcmp(a->credential, "-") == 0)
			s->credential[0] = '\0';
		else {
			struct cred_rec cr;

			if (db_cred_get(txn, &ctx->db, ctx->ws, a->credential,
			    &cr) != 0)
				return fail("no credential named %s in "
				    "workspace %s (see: hookpipe cred list)",
				    a->credential, ctx->ws);
			if (strcmp(cr.integration, s->integration) != 0)
				return fail("credential %s is for %s, not %s",
				    a->credential, cr.integration,
				    s->integration);
			str_copy(s->credential, a->credential,
			    sizeof(s->credential));
		}
	}
	if ((rc = db_sub_put(txn, &ctx->db, s)) != 0)
		return db_error(rc);
	return 0;
}

/* The new secrets must fit the scheme, checked before the provider is. */
static int
edit_secret_check(struct ctx *ctx, const char *key, struct edit_args *a)
{
	const struct integ *ig;
	struct sub_rec s;
	MDB_txn *txn;
	int rc;

	if (!a->secret.set && !a->secret2.set)
		return 0;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = sub_lookup(ctx, txn, key, &s);
	mdb_txn_abort(txn);
	if (rc != 0)
		return rc;
	if ((ig = integ_find(&ctx->integs, s.integration)) == NULL)
		return fail("integration %s is not loaded; cannot check the "
		    "secret against its scheme", s.integration);
	if ((rc = secret_fits(ig, &a->secret)) != 0)
		return rc;
	return secret_fits(ig, &a->secret2);
}

static int
edit_run(struct ctx *ctx, const char *key, struct edit_args *a)
{
	const struct integ *ig;
	struct sub_rec s;
	MDB_txn *txn;
	int rc;

	if ((rc = ctx_open(ctx, 0)) != 0 ||
	    (rc = edit_secret_check(ctx, key, a)) != 0)
		return rc;
	if (a->events_arg != NULL &&
	    (rc = sub_remote(ctx, key, a->events, 0)) != 0)
		return rc;
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = edit_in_txn(ctx, txn, key, a, &s)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	if (ctx->json) {
		json_t *o = sub_json(ctx, txn, &s);

		if ((rc = txn_commit(txn)) != 0) {
			json_decref(o);
			return rc;
		}
		if ((ig = integ_find(&ctx->integs, s.integration)) != NULL)
			sub_keys_fetch(ctx, ig, 0);
		return json_print(o);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	if ((ig = integ_find(&ctx->integs, s.integration)) != NULL)
		sub_keys_fetch(ctx, ig, 0);
	printf("updated subscription %s (%s)\n", s.name, s.id);
	return EXIT_OK;
}

static int
sub_edit(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct edit_args a = { .secret.name = "secret",
	    .secret2.name = "secondary-secret" };
	const struct opt opts[] = {
		{ "name", OPT_STR, &a.name },
		{ "events", OPT_STR, &a.events_arg },
		SECRET_OPTS(&a.secret, "secret"),
		SECRET_OPTS(&a.secret2, "secondary-secret"),
		{ "clear-secondary", OPT_FLAG, &a.clear2 },
		{ "expect-within", OPT_STR, &a.expect_within },
		{ "expires-at", OPT_STR, &a.expires_at },
		{ "credential", OPT_STR, &a.credential },
		{ NULL, 0, NULL }
	};
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = secret_read(ctx, &a.secret)) == 0 &&
	    (rc = secret_read(ctx, &a.secret2)) == 0 &&
	    (rc = edit_check(ctx, &a)) == 0)
		rc = edit_run(ctx, args[0], &a);
	secret_clear(&a.secret);
	secret_clear(&a.secret2);
	return rc;
}

/* --- delete --- */

struct users {
	const char	*sub;
	struct buf	 names;		/* NUL-separated workflow names */
	int		 n;
};

static int
users_cb(void *arg, const struct wf_rec *w)
{
	struct users *u = arg;
	int i;

	for (i = 0; i < w->ntrig; i++)
		if (strcmp(w->trig[i].sub, u->sub) == 0) {
			buf_append(&u->names, w->name, strlen(w->name) + 1);
			u->n++;
			return 0;
		}
	return 0;
}

/* Drop every trigger on the subscription from one workflow. */
static int
drop_triggers(struct ctx *ctx, MDB_txn *txn, const char *name,
    const char *sub)
{
	struct wf_rec w;
	int i, j, rc;

	if ((rc = db_wf_get(txn, &ctx->db, ctx->ws, name, &w)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	for (i = j = 0; i < w.ntrig; i++) {
		if (strcmp(w.trig[i].sub, sub) == 0) {
			free(w.trig[i].filter);
			free(w.trig[i].map);
		} else
			w.trig[j++] = w.trig[i];
	}
	w.ntrig = j;
	rc = db_wf_put(txn, &ctx->db, &w);
	wf_free(&w);
	return rc;
}

static void
users_list(const struct users *u, char *out, size_t len)
{
	size_t off, n;

	out[0] = '\0';
	for (off = 0; off < u->names.len; off += strlen(u->names.data +
	    off) + 1) {
		n = strlen(out);
		snprintf(out + n, len - n, "%s%s", off ? ", " : "",
		    u->names.data + off);
	}
}

static int
delete_refuse(const struct sub_rec *s, const struct users *u)
{
	char names[1024];

	users_list(u, names, sizeof(names));
	return fail("subscription %s is used by %d workflow%s (%s); remove "
	    "%s triggers on it or use --force", s->name, u->n, u->n == 1 ?
	    "" : "s", names, u->n == 1 ? "its" : "their");
}

/* The refusals of delete_in_txn, in a read transaction. */
static int
delete_check(struct ctx *ctx, MDB_txn *txn, const char *key, int force)
{
	struct users u = { 0 };
	struct sub_rec s;
	int rc;

	if ((rc = sub_lookup(ctx, txn, key, &s)) != 0)
		return rc;
	u.sub = s.id;
	if ((rc = db_wf_each(txn, &ctx->db, ctx->ws, users_cb, &u)) != 0)
		rc = db_error(rc);
	else if (u.n > 0 && !force)
		rc = delete_refuse(&s, &u);
	buf_free(&u.names);
	return rc;
}

static int
delete_in_txn(struct ctx *ctx, MDB_txn *txn, const char *key, int force,
    struct sub_rec *s, struct users *u)
{
	size_t off;
	int rc;

	if ((rc = sub_lookup(ctx, txn, key, s)) != 0)
		return rc;
	u->sub = s->id;
	if ((rc = db_wf_each(txn, &ctx->db, ctx->ws, users_cb, u)) != 0)
		return db_error(rc);
	if (u->n > 0 && !force)
		return delete_refuse(s, u);
	for (off = 0; off < u->names.len; off += strlen(u->names.data +
	    off) + 1)
		if ((rc = drop_triggers(ctx, txn, u->names.data + off,
		    s->id)) != 0)
			return db_error(rc);
	if ((rc = db_sub_del(txn, &ctx->db, s)) != 0)
		return db_error(rc);
	return 0;
}

static void
delete_print(struct ctx *ctx, const struct sub_rec *s, const struct users *u)
{
	char names[1024];
	size_t off;

	if (ctx->json) {
		json_t *a = json_array();

		for (off = 0; off < u->names.len; off +=
		    strlen(u->names.data + off) + 1)
			json_array_append_new(a, json_string(u->names.data +
			    off));
		json_print(json_pack("{s:s,s:s,s:o}", "deleted", s->id, "name",
		    s->name, "workflows_updated", a));
		return;
	}
	printf("deleted subscription %s (%s)\n", s->name, s->id);
	if (u->n > 0) {
		users_list(u, names, sizeof(names));
		printf("removed its triggers from %d workflow%s: %s\n", u->n,
		    u->n == 1 ? "" : "s", names);
	}
}

static int
sub_delete(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int force = 0, rc;
	const struct opt opts[] = {
		{ "force", OPT_FLAG, &force },
		{ NULL, 0, NULL }
	};
	struct users u = { 0 };
	struct sub_rec s;
	MDB_txn *txn;
	char **args;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	/* Refuse before touching the provider; then the provider first. */
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = delete_check(ctx, txn, args[0], force);
	mdb_txn_abort(txn);
	if (rc != 0 || (rc = sub_remote(ctx, args[0], NULL, 1)) != 0)
		return rc;
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = delete_in_txn(ctx, txn, args[0], force, &s, &u)) != 0)
		mdb_txn_abort(txn);
	else if ((rc = txn_commit(txn)) == 0)
		delete_print(ctx, &s, &u);
	buf_free(&u.names);
	return rc;
}
