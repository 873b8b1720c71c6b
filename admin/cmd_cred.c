/*
 * Credentials for subscriptions created automatically: API keys (checked
 * against the provider when added), OAuth clients and the authorization
 * URL whose callback the receiver serves, and master key rotation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "cluster.h"
#include "integ_api.h"
#include "life.h"

/* Ten minutes; HOOKPIPE_OAUTH_TTL (seconds) shortens it for tests. */
#define OAUTH_STATE_TTL_S	600

static const struct integ *
integ_with_mode(struct ctx *ctx, const char *name, const char *mode)
{
	const struct integ *ig = integ_find(&ctx->integs, name);

	if (ig == NULL) {
		errmsg("no integration named %s (see: hookpipe integration "
		    "list)", name);
		return NULL;
	}
	/* An API key also serves an integration's enrich calls. */
	if (!integ_has_mode(ig, mode) && !(strcmp(mode, "api-key") == 0 &&
	    json_object_get(ig->def, "enrich") != NULL)) {
		errmsg("integration %s does not support %s", name, mode);
		return NULL;
	}
	return ig;
}

static int
cred_add_key(struct ctx *ctx, const char *name, const char *integ,
    const char *key)
{
	char login[128];
	const struct integ *ig;
	struct cred_rec cr, old;
	struct remote r;
	MDB_txn *txn;
	int rc;

	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((ig = integ_with_mode(ctx, integ, "api-key")) == NULL)
		return EXIT_FAIL;
	/* A token the provider refuses is not worth keeping. */
	remote_init(&r, &ctx->cfg, ig, "api-key");
	str_copy(r.token, key, sizeof(r.token));
	rc = remote_validate(&r, login, sizeof(login));
	if (rc == -1) {
		/* Not reached is not refused: say which, nothing is kept. */
		if (strncmp(r.err, "cannot reach ", 13) == 0)
			rc = fail("%s; the API key was not checked and is not "
			    "stored: try again once %s is reachable", r.err,
			    ig->title);
		else
			rc = fail("the API key was not accepted: %s", r.err);
	}
	remote_clear(&r);
	if (rc != 0)
		return rc;
	memset(&cr, 0, sizeof(cr));
	str_copy(cr.workspace, ctx->ws, sizeof(cr.workspace));
	str_copy(cr.name, name, sizeof(cr.name));
	str_copy(cr.integration, ig->name, sizeof(cr.integration));
	str_copy(cr.kind, "api-key", sizeof(cr.kind));
	str_copy(cr.login, login, sizeof(cr.login));
	cr.created_at = now_us();
	if (db_cred_set_token(&ctx->db, &cr, key) == -1)
		return fail("cannot seal the API key (longer than %d bytes?)",
		    SECRET_MAX);
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if (db_cred_get(txn, &ctx->db, ctx->ws, name, &old) == 0) {
		mdb_txn_abort(txn);
		return fail("credential %s already exists", name);
	}
	if ((rc = db_cred_put(txn, &ctx->db, &cr)) != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s, s:s, s:s, s:s}", "name",
		    cr.name, "integration", cr.integration, "kind", cr.kind,
		    "login", cr.login));
	printf("credential %s added for %s%s", cr.name, cr.integration,
	    login[0] ? ", acting as " : "");
	print_safe(stdout, login);
	putchar('\n');
	return EXIT_OK;
}

static int
cred_add(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct secret_opt key = { .name = "api-key" };
	const char *integ = NULL;
	const struct opt opts[] = {
		{ "integration", OPT_STR, &integ },
		SECRET_OPTS(&key, "api-key"),
		{ NULL, 0, NULL }
	};
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (!name_valid(args[0]))
		return usage_error(ctx, "%s: a name is letters, digits, '.', "
		    "'_' or '-'", args[0]);
	if ((rc = secret_read(ctx, &key)) != 0)
		return rc;
	if (integ == NULL || !key.set)
		rc = usage_error(ctx, "--integration and --api-key (or "
		    "--api-key-file F) are needed");
	else
		rc = cred_add_key(ctx, args[0], integ, key.value);
	secret_clear(&key);
	return rc;
}

struct cred_list {
	struct ctx	*ctx;
	json_t		*all;
	struct table	 t;
};

static void
cred_masked(struct ctx *ctx, const struct cred_rec *cr, char *masked,
    size_t len)
{
	char tok[CRED_TOKEN_MAX + 1];

	if (db_cred_token(&ctx->db, cr, tok, sizeof(tok)) >= 0)
		mask_secret(tok, masked, len);
	else
		str_copy(masked, "(unreadable)", len);
	OPENSSL_cleanse(tok, sizeof(tok));
}

json_t *
cred_json(struct ctx *ctx, const struct cred_rec *cr)
{
	char masked[64];
	json_t *o;

	cred_masked(ctx, cr, masked, sizeof(masked));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:b}",
	    "name", cr->name, "integration", cr->integration, "kind", cr->kind,
	    "login", cr->login, "token", masked, "created_at",
	    json_time(cr->created_at), "state", cred_state_name(cr->state),
	    "expires_at", json_time(cr->expires_at), "refreshable",
	    cr->refresh_len > 0);
	if (o != NULL && cr->state_error[0] != '\0')
		json_object_set_new(o, "state_error",
		    json_string(cr->state_error));
	return o;
}

static int
cred_list_one(void *arg, const struct cred_rec *cr)
{
	struct cred_list *l = arg;
	char masked[64], when[40], exp[40];

	if (l->ctx->json)
		json_array_append_new(l->all, cred_json(l->ctx, cr));
	else {
		cred_masked(l->ctx, cr, masked, sizeof(masked));
		table_row(&l->t, cr->name, cr->integration, cr->kind,
		    cred_state_name(cr->state), cr->login[0] ? cr->login : "-",
		    masked, time_str(cr->expires_at, exp, sizeof(exp)),
		    time_str(cr->created_at, when, sizeof(when)));
	}
	return 0;
}

static int
cred_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct cred_list l;
	char **args;
	MDB_txn *txn;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 || (txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return rc ? rc : EXIT_FAIL;
	memset(&l, 0, sizeof(l));
	l.ctx = ctx;
	l.all = json_array();
	table_init(&l.t, 8, "NAME", "INTEGRATION", "KIND", "STATE", "LOGIN",
	    "TOKEN", "EXPIRES", "CREATED");
	db_cred_each(txn, &ctx->db, ctx->ws, cred_list_one, &l);
	mdb_txn_abort(txn);
	if (ctx->json) {
		table_free(&l.t);
		return json_print(l.all);
	}
	json_decref(l.all);
	table_print_or(&l.t, stdout, "no credentials yet");
	table_free(&l.t);
	return EXIT_OK;
}

struct cred_users {
	const char	*name;
	char		 first[NAME_MAX_LEN + 1];
	int		 n;
};

static int
cred_user(void *arg, const struct sub_rec *s)
{
	struct cred_users *u = arg;

	if (strcmp(s->credential, u->name) == 0 && u->n++ == 0)
		str_copy(u->first, s->name, sizeof(u->first));
	return 0;
}

static int
cred_delete(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct cred_users u;
	struct cred_rec cr;
	char **args;
	MDB_txn *txn;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0 || (txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return rc ? rc : EXIT_FAIL;
	if (db_cred_get(txn, &ctx->db, ctx->ws, args[0], &cr) != 0) {
		mdb_txn_abort(txn);
		return fail("no credential named %s", args[0]);
	}
	memset(&u, 0, sizeof(u));
	u.name = args[0];
	db_sub_each(txn, &ctx->db, ctx->ws, cred_user, &u);
	if (u.n > 0) {
		mdb_txn_abort(txn);
		return fail("credential %s is used by %d subscription%s (%s); "
		    "delete %s first", args[0], u.n, u.n == 1 ? "" : "s",
		    u.first, u.n == 1 ? "it" : "them");
	}
	if ((rc = db_cred_del(txn, &ctx->db, ctx->ws, args[0])) != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s, s:b}", "name", args[0],
		    "deleted", 1));
	printf("credential %s deleted\n", args[0]);
	return EXIT_OK;
}

static int
oauth_client_save(struct ctx *ctx, const char *integ, const char *id,
    const char *secret)
{
	struct oauth_client_rec cl;
	const struct integ *ig;
	MDB_txn *txn;
	int rc;

	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((ig = integ_with_mode(ctx, integ, "oauth")) == NULL)
		return EXIT_FAIL;
	memset(&cl, 0, sizeof(cl));
	str_copy(cl.workspace, ctx->ws, sizeof(cl.workspace));
	str_copy(cl.integration, ig->name, sizeof(cl.integration));
	str_copy(cl.client_id, id, sizeof(cl.client_id));
	if (db_oauth_client_set_secret(&ctx->db, &cl, secret) == -1)
		return fail("cannot seal the client secret");
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = db_oauth_client_put(txn, &ctx->db, &cl)) != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s, s:s}", "integration",
		    cl.integration, "client_id", cl.client_id));
	printf("OAuth client for %s saved; now run: hookpipe oauth authorize "
	    "--integration %s --name NAME\n", cl.integration, cl.integration);
	return EXIT_OK;
}

static int
oauth_client_set(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct secret_opt secret = { .name = "client-secret" };
	const char *integ = NULL, *id = NULL;
	const struct opt opts[] = {
		{ "integration", OPT_STR, &integ },
		{ "client-id", OPT_STR, &id },
		SECRET_OPTS(&secret, "client-secret"),
		{ NULL, 0, NULL }
	};
	struct oauth_client_rec cl;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = secret_read(ctx, &secret)) != 0)
		return rc;
	if (integ == NULL || id == NULL || !secret.set || !*id)
		rc = usage_error(ctx, "--integration, --client-id and "
		    "--client-secret (or --client-secret-file F) are needed");
	else if (strlen(id) >= sizeof(cl.client_id))
		rc = usage_error(ctx, "--client-id is too long");
	else
		rc = oauth_client_save(ctx, integ, id, secret.value);
	secret_clear(&secret);
	return rc;
}

static int
oauth_authorize(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *integ = NULL, *name = NULL, *tpl, *scopes;
	int replace = 0, pkce;
	const struct opt opts[] = {
		{ "integration", OPT_STR, &integ },
		{ "name", OPT_STR, &name },
		{ "replace", OPT_FLAG, &replace },
		{ NULL, 0, NULL }
	};
	struct cred_rec old;
	char verifier[64] = "", challenge[64] = "";
	struct oauth_client_rec cl;
	struct oauth_state_rec st;
	const struct integ *ig;
	unsigned char raw[24];
	char **args, redirect[1200], *e1, *e2, *e3, *e4, url[4096];
	struct buf base = { 0 };
	MDB_txn *txn;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (integ == NULL || name == NULL)
		return usage_error(ctx, "--integration and --name are needed");
	if (!name_valid(name))
		return usage_error(ctx, "%s: a name is letters, digits, '.', "
		    "'_' or '-'", name);
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((ig = integ_with_mode(ctx, integ, "oauth")) == NULL)
		return EXIT_FAIL;
	tpl = json_string_value(json_object_get(json_object_get(ig->def,
	    "oauth"), "authorize_url"));
	scopes = json_string_value(json_object_get(json_object_get(ig->def,
	    "oauth"), "scopes"));
	if (tpl == NULL)
		return fail("integration %s has no authorize_url", ig->name);
	pkce = json_is_true(json_object_get(json_object_get(ig->def, "oauth"),
	    "pkce"));
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	/* The callback never replaces a credential it was not asked to. */
	if (!replace && db_cred_get(txn, &ctx->db, ctx->ws, name, &old) == 0) {
		mdb_txn_abort(txn);
		return fail("credential %s exists; authorize it again with "
		    "--replace, or choose another --name", name);
	}
	if (db_oauth_client_get(txn, &ctx->db, ctx->ws, ig->name, &cl) != 0) {
		mdb_txn_abort(txn);
		return fail("no OAuth client for %s; first run: hookpipe oauth "
		    "client set --integration %s --client-id X "
		    "--client-secret Y", ig->name, ig->name);
	}
	memset(&st, 0, sizeof(st));
	crypto_random(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), st.state);
	str_copy(st.workspace, ctx->ws, sizeof(st.workspace));
	str_copy(st.integration, ig->name, sizeof(st.integration));
	str_copy(st.name, name, sizeof(st.name));
	st.replace = replace;
	if (pkce) {
		/* RFC 7636: a verifier of 32 random bytes, S256 challenge. */
		unsigned char vr[32], dg[32];

		crypto_random(vr, sizeof(vr));
		b64url_encode(vr, sizeof(vr), verifier);
		sha256(verifier, strlen(verifier), dg);
		b64url_encode(dg, sizeof(dg), challenge);
		OPENSSL_cleanse(vr, sizeof(vr));
		if (db_oauth_state_set_verifier(&ctx->db, &st, verifier) ==
		    -1) {
			mdb_txn_abort(txn);
			return fail("cannot seal the PKCE verifier");
		}
		OPENSSL_cleanse(verifier, sizeof(verifier));
	}
	{
		const char *e = getenv("HOOKPIPE_OAUTH_TTL");
		int64_t ttl = OAUTH_STATE_TTL_S;

		if (e != NULL && parse_i64(e, 1, OAUTH_STATE_TTL_S, &ttl) == -1)
			ttl = OAUTH_STATE_TTL_S;
		st.expires_at = now_us() + ttl * 1000000;
	}
	if ((rc = db_oauth_state_put(txn, &ctx->db, &st)) != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	/* {web} and {api}: the definition's bases (HOOKPIPE_<NAME>_WEB). */
	for (const char *p = tpl; *p != '\0';) {
		char b[1024];

		if (strncmp(p, "{web}", 5) == 0 || strncmp(p, "{api}", 5) == 0) {
			if (api_base(ig, p[1] == 'w' ? "web" : "api", "", b,
			    sizeof(b)) == 0)
				buf_appendf(&base, "%s", b);
			p += 5;
		} else
			buf_append(&base, p++, 1);
	}
	snprintf(redirect, sizeof(redirect), "%s/oauth/%s/callback",
	    ctx->cfg.trigger_url, ig->name);
	e1 = curl_easy_escape(NULL, cl.client_id, 0);
	e2 = curl_easy_escape(NULL, redirect, 0);
	e3 = curl_easy_escape(NULL, scopes ? scopes : "", 0);
	e4 = curl_easy_escape(NULL, st.state, 0);
	/* response_type is OAuth 2's; authorize_params the provider's
	 * (Google's access_type=offline, which gives a refresh token). */
	buf_appendf(&base, "?response_type=code");
	{
		json_t *ap = json_object_get(json_object_get(ig->def,
		    "oauth"), "authorize_params"), *v;
		const char *k;

		json_object_foreach(ap, k, v) {
			buf_appendf(&base, "&%s=", k);
			api_urlencode(json_string_value(v), &base);
		}
	}
	snprintf(url, sizeof(url), "%s&client_id=%s&redirect_uri=%s&scope=%s"
	    "&state=%s%s%s%s", base.data, e1, e2, e3, e4, pkce ?
	    "&code_challenge=" : "", challenge, pkce ?
	    "&code_challenge_method=S256" : "");
	curl_free(e1);
	curl_free(e2);
	curl_free(e3);
	curl_free(e4);
	buf_free(&base);
	if (ctx->json)
		return json_print(json_pack("{s:s, s:s, s:s, s:o}", "url", url,
		    "state", st.state, "redirect_uri", redirect, "expires_at",
		    json_time(st.expires_at)));
	printf("Open this URL to authorize hookpipe (valid for 10 minutes, "
	    "once):\n%s\n", url);
	return EXIT_OK;
}

/* The rotation's transaction: in cluster mode, into the bucket too. */
static MDB_txn *
rot_begin(void *arg)
{
	return txn_write(arg, DB_CONFIG);
}

static int
rot_commit(MDB_txn *txn, void *arg)
{
	(void)arg;
	return txn_commit(txn);
}

static int
key_prepare(struct ctx *ctx)
{
	char path[PATH_MAX + 16], err[512];
	int rc;

	if ((rc = db_prepare_key(&ctx->db, path, sizeof(path), err,
	    sizeof(err))) < 0)
		return fail("%s", err);
	if (ctx->json)
		return json_print(json_pack("{s:s, s:b}", "prepared", path,
		    "new", rc == 1));
	printf("%s %s; nothing is encrypted with it yet.\n"
	    "Copy it (mode 0600) into $HOOKPIPE_HOME on every other host, "
	    "then run 'hookpipe key rotate' on one host.\n",
	    rc == 1 ? "prepared the next master key:" :
	    "the next master key is prepared already:", path);
	return EXIT_OK;
}

static int
key_rotate(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct db_writer w = { rot_begin, rot_commit, ctx,
	    cluster_enabled() };
	char **args, err[512];
	int prepare = 0, rc, n;
	const struct opt opts[] = {
		{ "prepare", OPT_FLAG, &prepare },
		{ NULL, 0, NULL }
	};

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (prepare)
		return key_prepare(ctx);
	if ((n = db_rotate_key(&ctx->db, &w, err, sizeof(err))) < 0)
		return fail("%s", err);
	if (ctx->json)
		return json_print(json_pack("{s:i}", "resealed", n));
	printf("master key rotated; %d secrets re-encrypted\n", n);
	return EXIT_OK;
}

const struct cmd cred_cmds[] = {
	{ "add", cred_add, "cred add NAME --integration I (--api-key-file F | "
	    "--api-key - | --api-key-env VAR | --api-key KEY)",
	    "Store an API key (checked with the provider first), encrypted "
	    "under the master key, for subscriptions with --mode api-key. The "
	    "key comes from a file, stdin (-), a variable or the command "
	    "line." SECRET_HELP("api-key"), 1, "NAME", NULL },
	{ "list", cred_list, "cred list",
	    "List credentials; tokens are masked.", 0, NULL, NULL },
	{ "refresh", cmd_cred_refresh, "cred refresh NAME",
	    "Refresh an OAuth credential's access token now with its refresh "
	    "token, as the lifecycle does before it expires. A refusal marks "
	    "it needs-reauthorization: run hookpipe oauth authorize "
	    "--integration I --name NAME --replace.", 1, "NAME", NULL },
	{ "delete", cred_delete, "cred delete NAME",
	    "Delete a credential no subscription uses.", 1, "NAME", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

static const struct cmd oauth_client_cmds[] = {
	{ "set", oauth_client_set, "oauth client set --integration I "
	    "--client-id X (--client-secret-file F | --client-secret - | "
	    "--client-secret-env VAR | --client-secret Y)",
	    "Store the OAuth application's client id and secret (encrypted). "
	    "Its callback URL is $TRIGGER_URL/oauth/INTEGRATION/callback. The "
	    "secret comes from a file, stdin (-), a variable or the command "
	    "line." SECRET_HELP("client-secret"), 0, NULL, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

const struct cmd oauth_cmds[] = {
	{ "client", NULL, "oauth client set", NULL, 0, NULL,
	    oauth_client_cmds },
	{ "authorize", oauth_authorize, "oauth authorize --integration I "
	    "--name C [--replace]",
	    "Print the URL that authorizes hookpipe; the receiver takes the "
	    "provider's callback and stores the token as credential C. The "
	    "link works once, within 10 minutes. A credential C that exists "
	    "is replaced only with --replace. With providers that take it, "
	    "the link carries a PKCE (S256) challenge.", 0, NULL, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

const struct cmd key_cmds[] = {
	{ "rotate", key_rotate, "key rotate [--prepare]",
	    "Re-encrypt every secret and credential under a new master key "
	    "(the prepared one, if any), and delete the older key files "
	    "nothing uses any more. Running stages pick the new key up by "
	    "themselves. --prepare only writes the next key file and prints "
	    "its path: in cluster mode, copy it to every host, then rotate "
	    "on one.", 0, NULL, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};
