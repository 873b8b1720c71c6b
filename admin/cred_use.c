/*
 * Credentials in use: the token a call to the provider carries, and the
 * OAuth refresh that keeps it valid. An access token that expires within
 * HOOKPIPE_REFRESH_BEFORE is refreshed before it is used, and once more
 * when the provider answers 401; a refresh the provider refuses (the
 * refresh token revoked or expired) marks the credential
 * needs-reauthorization, says which command fixes it, and sends a
 * credential.needs_reauthorization event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "integ_api.h"
#include "life.h"

static void
reauth_hint(const struct cred_rec *cr, char *out, size_t len)
{
	snprintf(out, len, "hookpipe%s%s oauth authorize --integration %s "
	    "--name %s --replace", strcmp(cr->workspace, "default") ? " "
	    "--workspace " : "", strcmp(cr->workspace, "default") ?
	    cr->workspace : "", cr->integration, cr->name);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > 256 * 1024)
		return 0;
	buf_append(b, p, size * n);
	return size * n;
}

static void
form_add(struct buf *b, const char *k, const char *v)
{
	if (b->len > 0)
		buf_append(b, "&", 1);
	buf_appendf(b, "%s=", k);
	api_urlencode(v, b);
}

/* {web} and {api} in an OAuth URL. */
static const char *
base_var(void *arg, const char *name, char *buf, size_t len)
{
	if (strcmp(name, "web") && strcmp(name, "api"))
		return NULL;
	return api_base(arg, name, "", buf, len) == 0 ? buf : NULL;
}

/*
 * POST the refresh to the token URL. 0 with the answer; -1 when the
 * provider could not be asked (why); -2 when it refused (why).
 */
static int
token_post(struct ctx *ctx, const struct integ *ig,
    const struct oauth_client_rec *cl, const char *client_secret,
    const char *refresh, json_t **answer, char *why, size_t len)
{
	json_t *oauth = json_object_get(ig->def, "oauth");
	const char *tpl = json_string_value(json_object_get(oauth,
	    "token_url"));
	const char *auth = json_string_value(json_object_get(oauth,
	    "client_auth"));
	struct curl_slist *h = NULL;
	struct buf form = { 0 }, b = { 0 };
	char *url, *line = NULL;
	int missing = 0, basic = auth != NULL && strcmp(auth, "basic") == 0;
	long status = 0;
	CURLcode rc;
	CURL *e;

	*answer = NULL;
	url = tpl != NULL ? api_expand(tpl, base_var, (void *)ig, &missing) :
	    NULL;
	if (missing > 0) {
		free(url);
		url = NULL;
	}
	if (url == NULL) {
		snprintf(why, len, "integration %s has no token_url", ig->name);
		return -2;
	}
	form_add(&form, "grant_type", "refresh_token");
	form_add(&form, "refresh_token", refresh);
	form_add(&form, "client_id", cl->client_id);
	if (!basic)
		form_add(&form, "client_secret", client_secret);
	else {
		struct buf cred = { 0 }, enc = { 0 };

		/* RFC 6749 2.3.1: both form-encoded, then base64. */
		api_urlencode(cl->client_id, &cred);
		buf_append(&cred, ":", 1);
		api_urlencode(client_secret, &cred);
		if (buf_reserve(&enc, 4 * (cred.len / 3 + 1) + 1) == 0) {
			b64_encode((const unsigned char *)cred.data, cred.len,
			    enc.data);
			if (asprintf(&line, "Authorization: Basic %s",
			    enc.data) < 0)
				line = NULL;
			OPENSSL_cleanse(enc.data, strlen(enc.data));
		}
		OPENSSL_cleanse(cred.data, cred.len);
		buf_free(&cred);
		buf_free(&enc);
	}
	if ((e = curl_easy_init()) == NULL) {
		snprintf(why, len, "cannot start libcurl");
		free(url);
		return -1;
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (line != NULL) {
		h = curl_slist_append(h, line);
		OPENSSL_cleanse(line, strlen(line));
		free(line);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, form.data);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(e);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	free(url);
	if (rc != CURLE_OK) {
		snprintf(why, len, "cannot reach %s's token URL: %s", ig->title,
		    curl_easy_strerror(rc));
		buf_free(&b);
		return -1;
	}
	*answer = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	if (status == 200 && json_is_string(json_object_get(*answer,
	    "access_token")))
		return 0;
	{
		const char *code = json_string_value(json_object_get(*answer,
		    "error"));
		const char *desc = json_string_value(json_object_get(*answer,
		    "error_description"));

		snprintf(why, len, "%s refused the refresh (HTTP %ld%s%s%s%s)",
		    ig->title, status, code ? ": " : "", code ? code : "",
		    desc ? ": " : "", desc ? desc : "");
	}
	json_decref(*answer);
	*answer = NULL;
	/* RFC 6749 5.2: 400 (invalid_grant ...) and 401 are answers for
	 * good; anything else may pass. */
	return status == 400 || status == 401 ? -2 : -1;
}

/* Mark the credential as needing a new authorization, and say so. */
static int
cred_mark_reauth(struct ctx *ctx, const char *ws, const char *name,
    const char *why)
{
	char hint[512];
	struct cred_rec cr;
	MDB_txn *txn;
	json_t *data;
	int rc;

	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return -1;
	if ((rc = db_cred_get(txn, &ctx->db, ws, name, &cr)) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	reauth_hint(&cr, hint, sizeof(hint));
	if (cr.state != CRED_NEEDS_REAUTH) {
		cr.state = CRED_NEEDS_REAUTH;
		str_copy(cr.state_error, why, sizeof(cr.state_error));
		data = json_pack("{s:s, s:s, s:s, s:s}", "credential", cr.name,
		    "integration", cr.integration, "error", why, "fix", hint);
		/* One event per time it comes to need one: its key is when
		 * it last worked. */
		{
			char key[128];

			snprintf(key, sizeof(key), "%s/%s/%lld", ws, name,
			    (long long)(cr.refreshed_at ? cr.refreshed_at :
			    cr.created_at));
			if ((rc = db_cred_put(txn, &ctx->db, &cr)) != 0 ||
			    (rc = life_emit(ctx, txn, ws,
			    "credential.needs_reauthorization", key, data)) != 0) {
				mdb_txn_abort(txn);
				return -1;
			}
		}
		life_count(ctx, txn, "refresh.refused");
	}
	if (txn_commit(txn) != 0)
		return -1;
	fprintf(stderr, "hookpipe: credential %s/%s needs a new "
	    "authorization: %s; run: %s\n", ws, name, why, hint);
	return 0;
}

int
cred_refresh_now(struct ctx *ctx, const char *ws, const char *name,
    char *why, size_t len)
{
	char secret[SECRET_MAX + 1], *refresh = NULL;
	struct oauth_client_rec cl;
	const struct integ *ig;
	struct cred_rec cr;
	json_t *ans = NULL;
	MDB_txn *txn;
	int rc;

	why[0] = '\0';
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL) {
		snprintf(why, len, "cannot read the database");
		return -1;
	}
	if (db_cred_get(txn, &ctx->db, ws, name, &cr) != 0) {
		mdb_txn_abort(txn);
		snprintf(why, len, "no credential named %s in workspace %s",
		    name, ws);
		return -1;
	}
	rc = db_oauth_client_get(txn, &ctx->db, ws, cr.integration, &cl);
	mdb_txn_abort(txn);
	if (strcmp(cr.kind, "oauth") != 0) {
		snprintf(why, len, "credential %s is an API key: there is "
		    "nothing to refresh", name);
		return -1;
	}
	if ((ig = integ_find(&ctx->integs, cr.integration)) == NULL) {
		snprintf(why, len, "integration %s is not loaded",
		    cr.integration);
		return -1;
	}
	if (cr.refresh_len == 0) {
		snprintf(why, len, "%s gave no refresh token with this "
		    "authorization", ig->title);
		if (cr.expires_at != 0 && cr.expires_at <= now_us()) {
			cred_mark_reauth(ctx, ws, name, why);
			return -2;
		}
		return -1;
	}
	if (rc != 0 || db_oauth_client_secret(&ctx->db, &cl, secret,
	    sizeof(secret)) < 0) {
		snprintf(why, len, "no OAuth client for %s (hookpipe oauth "
		    "client set)", cr.integration);
		return -1;
	}
	if ((refresh = malloc(CRED_TOKEN_MAX + 1)) == NULL ||
	    db_cred_refresh(&ctx->db, &cr, refresh, CRED_TOKEN_MAX + 1) < 0) {
		free(refresh);
		OPENSSL_cleanse(secret, sizeof(secret));
		snprintf(why, len, "cannot read the refresh token (master key "
		    "changed?)");
		return -1;
	}
	rc = token_post(ctx, ig, &cl, secret, refresh, &ans, why, len);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(refresh, strlen(refresh));
	free(refresh);
	if (rc == -2) {
		cred_mark_reauth(ctx, ws, name, why);
		return -2;
	}
	if (rc == -1) {
		if ((txn = txn_write(ctx, DB_CONFIG)) != NULL) {
			life_count(ctx, txn, "refresh.failed");
			txn_commit(txn);
		}
		return -1;
	}
	/* Store the new token (and the new refresh token, when the provider
	 * rotates them) over what is there now. */
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL ||
	    db_cred_get(txn, &ctx->db, ws, name, &cr) != 0) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		json_decref(ans);
		snprintf(why, len, "the credential went away meanwhile");
		return -1;
	}
	{
		const char *at = json_string_value(json_object_get(ans,
		    "access_token"));
		const char *rt = json_string_value(json_object_get(ans,
		    "refresh_token"));
		json_t *in = json_object_get(ans, "expires_in");
		int64_t secs = json_is_integer(in) ? json_integer_value(in) :
		    json_is_string(in) ? strtoll(json_string_value(in), NULL,
		    10) : 0;

		rc = db_cred_set_token(&ctx->db, &cr, at);
		if (rc == 0 && rt != NULL && *rt != '\0')
			rc = db_cred_set_refresh(&ctx->db, &cr, rt);
		cr.expires_at = secs > 0 ? now_us() + secs * 1000000 : 0;
		cr.refreshed_at = now_us();
		cr.state = CRED_OK;
		cr.state_error[0] = '\0';
	}
	json_decref(ans);
	if (rc != 0 || db_cred_put(txn, &ctx->db, &cr) != 0) {
		mdb_txn_abort(txn);
		snprintf(why, len, "cannot store the new token (longer than %d "
		    "bytes?)", CRED_TOKEN_MAX);
		return -1;
	}
	life_count(ctx, txn, "refresh.ok");
	if (txn_commit(txn) != 0) {
		snprintf(why, len, "cannot store the new token");
		return -1;
	}
	return 0;
}

/* A 401: the token again, refreshed (once per conversation). */
static int
refresh_on_401(struct remote *r, char *err, size_t errlen)
{
	struct ctx *ctx = r->arg;
	char ws[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
	struct cred_rec cr;
	MDB_txn *txn;
	const char *slash = strchr(r->cred, '/');
	int rc;

	if (slash == NULL || strcmp(r->mode, "oauth") != 0)
		return -1;
	snprintf(ws, sizeof(ws), "%.*s", (int)(slash - r->cred), r->cred);
	str_copy(name, slash + 1, sizeof(name));
	if (cred_refresh_now(ctx, ws, name, err, errlen) != 0)
		return -1;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return -1;
	rc = db_cred_get(txn, &ctx->db, ws, name, &cr);
	mdb_txn_abort(txn);
	if (rc != 0 || db_cred_token(&ctx->db, &cr, r->token,
	    sizeof(r->token)) < 0)
		return -1;
	return 0;
}

int
cred_for_remote(struct ctx *ctx, const char *ws, const char *name,
    const struct integ *ig, const char *mode, struct remote *r)
{
	char why[1024], hint[512];
	struct cred_rec cr;
	MDB_txn *txn;
	int rc;

	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = db_cred_get(txn, &ctx->db, ws, name, &cr);
	mdb_txn_abort(txn);
	if (rc != 0)
		return fail("no credential named %s in workspace %s (see: "
		    "hookpipe cred list)", name, ws);
	if (strcmp(cr.integration, ig->name) != 0)
		return fail("credential %s is for %s, not %s", name,
		    cr.integration, ig->name);
	if (mode != NULL && strcmp(cr.kind, mode) != 0)
		return fail("credential %s is an %s credential; --mode %s needs "
		    "an %s one", name, cr.kind, mode, mode);
	reauth_hint(&cr, hint, sizeof(hint));
	if (cr.state == CRED_NEEDS_REAUTH)
		return fail("credential %s needs a new authorization (%s); run: "
		    "%s", name, cr.state_error, hint);
	if (strcmp(cr.kind, "oauth") == 0 && cr.expires_at != 0 &&
	    cr.expires_at - now_us() <= life_refresh_before() * 1000000) {
		rc = cred_refresh_now(ctx, ws, name, why, sizeof(why));
		if (rc == -2)
			return fail("credential %s needs a new authorization "
			    "(%s); run: %s", name, why, hint);
		if (rc == -1 && cr.expires_at <= now_us())
			return fail("credential %s expired and cannot be "
			    "refreshed now: %s", name, why);
		if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
			return EXIT_FAIL;
		rc = db_cred_get(txn, &ctx->db, ws, name, &cr);
		mdb_txn_abort(txn);
		if (rc != 0)
			return fail("credential %s went away", name);
	}
	if (db_cred_token(&ctx->db, &cr, r->token, sizeof(r->token)) < 0)
		return fail("cannot read credential %s (master key changed?)",
		    name);
	r->mode = strcmp(cr.kind, "oauth") == 0 ? "oauth" : "api-key";
	snprintf(r->cred, sizeof(r->cred), "%s/%s", ws, name);
	r->refresh = refresh_on_401;
	r->arg = ctx;
	return 0;
}
