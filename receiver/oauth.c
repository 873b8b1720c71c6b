/*
 * GET /oauth/{integration}/callback: the end of `hookpipe oauth
 * authorize`. The provider sends the user back with a code and the state
 * we made; the state is checked (single use, ten minutes), the code is
 * exchanged for a token at the integration's token URL (asynchronously,
 * on the loop's libcurl multi handle, the connection suspended), and the
 * token is stored, sealed, as the named credential. The user gets a short
 * page saying what happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "integ_api.h"
#include "log.h"
#include "receiver.h"

static void
html_escape(const char *s, struct buf *b)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_append(b, "&amp;", 5); break;
		case '<': buf_append(b, "&lt;", 4); break;
		case '>': buf_append(b, "&gt;", 4); break;
		case '"': buf_append(b, "&quot;", 6); break;
		case '\'': buf_append(b, "&#39;", 5); break;
		default: buf_append(b, s, 1); break;
		}
	}
}

/* A short page: the title and one sentence. */
static char *
page(const char *title, const char *text)
{
	struct buf b = { 0 };

	buf_appendf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>hookpipe: ");
	html_escape(title, &b);
	buf_appendf(&b, "</title></head>\n<body><h1>");
	html_escape(title, &b);
	buf_appendf(&b, "</h1>\n<p>");
	html_escape(text, &b);
	buf_appendf(&b, "</p></body></html>\n");
	return b.data;
}

static enum MHD_Result
respond_page(struct receiver *rx, struct MHD_Connection *c, int status,
    const char *title, const char *text)
{
	char *p = page(title, text);
	enum MHD_Result r;

	r = respond(rx, c, status, "text/html; charset=utf-8", p ? p : "",
	    NULL, 0);
	free(p);
	return r;
}

/*
 * The definition's bases ({api}, {web}: HOOKPIPE_<NAME>_API and _WEB, or
 * the definition's own), for "{web}/login/oauth/access_token".
 */
static const char *
base_var(void *arg, const char *name, char *buf, size_t len)
{
	if (strcmp(name, "api") && strcmp(name, "web"))
		return NULL;
	return api_base(arg, name, "", buf, len) == 0 ? buf : NULL;
}

static char *
expand_url(const struct integ *ig, const char *tpl)
{
	int missing = 0;
	char *s = api_expand(tpl, base_var, (void *)ig, &missing);

	if (missing > 0) {
		free(s);
		return NULL;
	}
	return s;
}

static size_t
on_reply(char *p, size_t size, size_t n, void *userp)
{
	struct request *rq = userp;
	size_t len = size * n;

	if (rq->reply.len + len > 64 * 1024)
		return 0;	/* a token answer is small: stop here */
	buf_append(&rq->reply, p, len);
	return len;
}

static void
form_add(struct buf *b, const char *k, const char *v)
{
	char *e = curl_easy_escape(NULL, v, 0);

	buf_appendf(b, "%s%s=%s", b->len ? "&" : "", k, e ? e : "");
	curl_free(e);
}

enum MHD_Result
oauth_begin(struct receiver *rx, struct MHD_Connection *c,
    const char *integration, void **req_cls)
{
	const char *code = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "code");
	const char *state = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "state");
	const char *err = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "error_description");
	const struct integ *ig = integ_find(&rx->integs, integration);
	const char *tpl;
	struct oauth_state_rec st;
	struct oauth_client_rec cl;
	struct request *rq;
	struct buf form = { 0 };
	char secret[SECRET_MAX + 1], *url;
	MDB_txn *txn;
	CURL *e;
	int rc;

	tpl = ig ? json_string_value(json_object_get(json_object_get(ig->def,
	    "oauth"), "token_url")) : NULL;
	if (tpl == NULL || !integ_has_mode(ig, "oauth"))
		return respond_page(rx, c, 404, "Not found", "This integration "
		    "has no OAuth authorization.");
	if (state == NULL || (code == NULL && err == NULL))
		return respond_page(rx, c, 400, "Authorization failed",
		    "The provider sent no code and state.");
	/* Unknown states cost a read, never a write: anyone can send one. */
	if ((txn = db_begin(&rx->db, DB_CONFIG, 1)) == NULL)
		return respond_page(rx, c, 503, "Try again",
		    "The database is busy.");
	rc = db_oauth_state_exists(txn, &rx->db, state);
	mdb_txn_abort(txn);
	if (!rc)
		return respond_page(rx, c, 400, "Authorization refused",
		    "This authorization link is unknown or was already used. "
		    "Run hookpipe oauth authorize again.");
	/* The state is single use: take it whatever happens next. */
	if ((txn = db_begin(&rx->db, DB_CONFIG, 0)) == NULL)
		return respond_page(rx, c, 503, "Try again",
		    "The database is busy.");
	rc = db_oauth_state_take(txn, &rx->db, state, &st);
	if (rc == 0 || rc == ETIMEDOUT)
		rc = db_commit(txn) == 0 ? rc : EIO;
	else
		mdb_txn_abort(txn);
	if (rc == ETIMEDOUT)
		return respond_page(rx, c, 400, "Authorization expired",
		    "This authorization link is older than ten minutes. Run "
		    "hookpipe oauth authorize again.");
	if (rc != 0 || strcmp(st.integration, integration) != 0)
		return respond_page(rx, c, 400, "Authorization refused",
		    "This authorization link is unknown or was already used. "
		    "Run hookpipe oauth authorize again.");
	if (code == NULL)
		return respond_page(rx, c, 400, "Authorization refused", err);

	if ((txn = db_begin(&rx->db, DB_CONFIG, 1)) == NULL)
		return respond_page(rx, c, 503, "Try again",
		    "The database is busy.");
	rc = db_oauth_client_get(txn, &rx->db, st.workspace, integration, &cl);
	mdb_txn_abort(txn);
	if (rc != 0 || db_oauth_client_secret(&rx->db, &cl, secret,
	    sizeof(secret)) < 0)
		return respond_page(rx, c, 400, "Authorization failed", "No "
		    "OAuth client is set for this integration (hookpipe oauth "
		    "client set).");

	if ((rq = calloc(1, sizeof(*rq))) == NULL ||
	    (e = curl_easy_init()) == NULL) {
		free(rq);
		return MHD_NO;
	}
	rq->kind = REQ_OAUTH;
	rq->conn = c;
	rq->state = REQ_WAITING;
	str_copy(rq->cred, st.name, sizeof(rq->cred));
	rq->replace = st.replace;
	str_copy(rq->workspace, st.workspace, sizeof(rq->workspace));
	str_copy(rq->sub, integration, sizeof(rq->sub));
	form_add(&form, "client_id", cl.client_id);
	form_add(&form, "client_secret", secret);
	form_add(&form, "code", code);
	form_add(&form, "state", state);
	if (st.verifier_len > 0) {
		/* PKCE: what proves this exchange began with our link. */
		if (db_oauth_state_verifier(&rx->db, &st, secret,
		    sizeof(secret)) < 0) {
			OPENSSL_cleanse(secret, sizeof(secret));
			OPENSSL_cleanse(form.data, form.len);
			buf_free(&form);
			curl_easy_cleanup(e);
			free(rq);
			return respond_page(rx, c, 400, "Authorization failed",
			    "The authorization's PKCE verifier cannot be read; "
			    "run hookpipe oauth authorize again.");
		}
		form_add(&form, "code_verifier", secret);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	if ((url = expand_url(ig, tpl)) == NULL) {
		OPENSSL_cleanse(form.data, form.len);
		buf_free(&form);
		curl_easy_cleanup(e);
		free(rq);
		return respond_page(rx, c, 500, "Authorization failed", "The "
		    "integration's token_url names a base it does not have.");
	}
	rq->hdrs = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->hdrs);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, form.data);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
	curl_easy_setopt(e, CURLOPT_PRIVATE, rq);
	OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	free(url);
	if (httpc_add(&rx->http, e) == -1) {
		curl_easy_cleanup(e);
		curl_slist_free_all(rq->hdrs);
		free(rq);
		return respond_page(rx, c, 503, "Try again", "Cannot reach the "
		    "provider right now.");
	}
	rq->easy = e;
	*req_cls = rq;
	MHD_suspend_connection(c);
	return MHD_YES;
}

static void
answer(struct request *rq, int status, const char *title, const char *text)
{
	rq->status = status;
	rq->answer = page(title, text);
	rq->ctype = "text/html; charset=utf-8";
	rq->state = REQ_ANSWERED;
}

void
oauth_done(void *ctx, void *arg, CURL *easy, CURLcode res)
{
	struct receiver *rx = ctx;
	struct request *rq = arg;
	json_t *j = NULL;
	const char *token, *perr;
	struct cred_rec cr;
	MDB_txn *txn;
	char text[512];
	long status = 0;
	int rc;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	oauth_abort(rx, rq);
	if (res != CURLE_OK) {
		snprintf(text, sizeof(text), "The token exchange failed: %s.",
		    curl_easy_strerror(res));
		answer(rq, 502, "Authorization failed", text);
		goto out;
	}
	j = json_loadb(rq->reply.data ? rq->reply.data : "", rq->reply.len, 0,
	    NULL);
	token = json_string_value(json_object_get(j, "access_token"));
	if (status != 200 || token == NULL || *token == '\0') {
		perr = json_string_value(json_object_get(j,
		    "error_description"));
		if (perr == NULL)
			perr = json_string_value(json_object_get(j, "error"));
		snprintf(text, sizeof(text), "The provider refused the code "
		    "(HTTP %ld%s%s).", status, perr ? ": " : "",
		    perr ? perr : "");
		answer(rq, 502, "Authorization failed", text);
		goto out;
	}
	memset(&cr, 0, sizeof(cr));
	str_copy(cr.workspace, rq->workspace, sizeof(cr.workspace));
	str_copy(cr.name, rq->cred, sizeof(cr.name));
	str_copy(cr.integration, rq->sub, sizeof(cr.integration));
	str_copy(cr.kind, "oauth", sizeof(cr.kind));
	cr.created_at = now_us();
	rc = db_cred_set_token(&rx->db, &cr, token);
	/* What lets the lifecycle refresh the token before it lapses. */
	if (rc == 0 && json_is_string(json_object_get(j, "refresh_token")))
		rc = db_cred_set_refresh(&rx->db, &cr, json_string_value(
		    json_object_get(j, "refresh_token")));
	if (json_integer_value(json_object_get(j, "expires_in")) > 0)
		cr.expires_at = cr.created_at + json_integer_value(
		    json_object_get(j, "expires_in")) * 1000000;
	if (rc == 0 && (txn = db_begin(&rx->db, DB_CONFIG, 0)) != NULL) {
		struct cred_rec old;

		/* Never a silent replacement: `oauth authorize` said whether
		 * this one may replace a credential of the same name. */
		if (!rq->replace && db_cred_get(txn, &rx->db, cr.workspace,
		    cr.name, &old) == 0) {
			mdb_txn_abort(txn);
			snprintf(text, sizeof(text), "A credential named %s "
			    "exists and was kept. Run hookpipe oauth authorize "
			    "--replace to replace it, or choose another --name.",
			    cr.name);
			answer(rq, 409, "Authorization refused", text);
			goto out;
		}
		if ((rc = db_cred_put(txn, &rx->db, &cr)) == 0)
			rc = db_commit(txn);
		else
			mdb_txn_abort(txn);
	} else
		rc = -1;
	if (rc != 0) {
		answer(rq, 503, "Authorization failed", "The token could not "
		    "be stored; run hookpipe oauth authorize again.");
		goto out;
	}
	log_info("OAuth: stored credential %s/%s for %s", cr.workspace,
	    cr.name, cr.integration);
	snprintf(text, sizeof(text), "Credential %s for %s is stored. You can "
	    "close this page and create subscriptions with --mode oauth "
	    "--credential %s.", cr.name, cr.integration, cr.name);
	answer(rq, 200, "Authorized", text);
out:
	json_decref(j);
	if (rq->reply.data != NULL)
		OPENSSL_cleanse(rq->reply.data, rq->reply.len);
	buf_free(&rq->reply);
	MHD_resume_connection(rq->conn);
}

void
oauth_abort(struct receiver *rx, struct request *rq)
{
	if (rq->easy == NULL)
		return;
	httpc_remove(&rx->http, rq->easy);
	curl_easy_cleanup(rq->easy);
	curl_slist_free_all(rq->hdrs);
	rq->easy = NULL;
	rq->hdrs = NULL;
}
