#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "remote.h"
#include "util.h"

struct vars {
	const struct config *cfg;
	const char	*params;	/* "k=v\n" lines */
	const char	*hooks;		/* the chosen target's hooks URL */
	const char	*remote_id;
	const char	*callback_url;
	const char	*secret;
};

static json_t *
api(const struct integ *ig)
{
	return json_object_get(ig->def, "api");
}

int
remote_supported(const struct integ *ig)
{
	return json_is_object(api(ig)) &&
	    json_is_object(json_object_get(api(ig), "create"));
}

/* The value of --param NAME, copied into out; NULL when absent. */
static const char *
param(const char *params, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	const char *p = params;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");

		if (n > nl && p[nl] == '=' && strncmp(p, name, nl) == 0 &&
		    n - nl - 1 < len) {
			memcpy(out, p + nl + 1, n - nl - 1);
			out[n - nl - 1] = '\0';
			return out;
		}
		p += n + (p[n] == '\n');
	}
	return NULL;
}

/* "{api}/repos/{repository}/hooks" with the values at hand. */
static char *
expand(const struct vars *v, const char *tpl)
{
	struct buf b = { 0 };
	char name[64], val[512];

	buf_append(&b, "", 0);
	while (*tpl != '\0') {
		const char *close;
		size_t n;

		if (*tpl != '{' || (close = strchr(tpl, '}')) == NULL ||
		    (n = (size_t)(close - tpl - 1)) >= sizeof(name)) {
			buf_append(&b, tpl++, 1);
			continue;
		}
		memcpy(name, tpl + 1, n);
		name[n] = '\0';
		if (strcmp(name, "api") == 0)
			buf_appendf(&b, "%s", v->cfg->github_api);
		else if (strcmp(name, "web") == 0)
			buf_appendf(&b, "%s", v->cfg->github_web);
		else if (strcmp(name, "hooks") == 0 && v->hooks)
			buf_appendf(&b, "%s", v->hooks);
		else if (strcmp(name, "remote_id") == 0 && v->remote_id)
			buf_appendf(&b, "%s", v->remote_id);
		else if (strcmp(name, "callback_url") == 0 && v->callback_url)
			buf_appendf(&b, "%s", v->callback_url);
		else if (strcmp(name, "secret") == 0 && v->secret)
			buf_appendf(&b, "%s", v->secret);
		else if (param(v->params, name, val, sizeof(val)) != NULL)
			buf_appendf(&b, "%s", val);
		else
			buf_append(&b, tpl, n + 2);
		tpl = close + 1;
	}
	return b.data;
}

static json_t *
events_array(const char *events)
{
	json_t *a = json_array();
	const char *p = events;

	if (strcmp(events, "*") == 0) {
		json_array_append_new(a, json_string("*"));
		return a;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

/* A copy of the body template with its placeholders filled in. */
static json_t *
fill(const struct vars *v, json_t *tpl, const char *events)
{
	const char *k;
	json_t *val, *out;
	size_t i;

	if (json_is_string(tpl)) {
		char *s;

		if (strcmp(json_string_value(tpl), "{events}") == 0)
			return events_array(events ? events : "*");
		s = expand(v, json_string_value(tpl));
		out = json_string(s);
		free(s);
		return out;
	}
	if (json_is_object(tpl)) {
		out = json_object();
		json_object_foreach(tpl, k, val)
			json_object_set_new(out, k, fill(v, val, events));
		return out;
	}
	if (json_is_array(tpl)) {
		out = json_array();
		json_array_foreach(tpl, i, val)
			json_array_append_new(out, fill(v, val, events));
		return out;
	}
	return json_deep_copy(tpl);
}

const char *
remote_targets(const struct integ *ig, char *buf, size_t len)
{
	json_t *t = json_object_get(api(ig), "targets"), *val;
	const char *k;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach(t, k, val)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    n ? " or " : "", k);
	return buf;
}

/* The first target whose param is given: its hooks URL. */
static char *
hooks_url(const struct vars *v, const struct integ *ig, char *err,
    size_t errlen)
{
	json_t *t = json_object_get(api(ig), "targets"), *val;
	const char *k, *tpl;
	char tmp[512], names[256];

	json_object_foreach(t, k, val) {
		if (param(v->params, k, tmp, sizeof(tmp)) == NULL)
			continue;
		if ((tpl = json_string_value(json_object_get(val, "hooks"))))
			return expand(v, tpl);
	}
	snprintf(err, errlen, "%s subscriptions need --param %s=…", ig->name,
	    remote_targets(ig, names, sizeof(names)));
	return NULL;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > 1 << 20)
		return 0;
	buf_append(b, p, size * n);
	return size * n;
}

/*
 * One call: method, URL, optional JSON body. Returns the HTTP status (0
 * on a transport error, with err) and the parsed answer in *answer.
 */
static long
call(const struct integ *ig, const char *method, const char *url,
    const char *token, json_t *body, json_t **answer, char *err,
    size_t errlen)
{
	struct curl_slist *h = NULL;
	struct buf b = { 0 };
	char line[1024], *json = NULL;
	json_t *hdr;
	size_t i;
	long status = 0;
	CURLcode rc;
	CURL *e;

	*answer = NULL;
	if ((e = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return 0;
	}
	json_array_foreach(json_object_get(api(ig), "headers"), i, hdr)
		if (json_is_string(hdr))
			h = curl_slist_append(h, json_string_value(hdr));
	snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, line);
	OPENSSL_cleanse(line, sizeof(line));
	if (body != NULL) {
		json = json_dumps(body, JSON_COMPACT);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "cannot reach %s: %s", url,
		    curl_easy_strerror(rc));
	else {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		*answer = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	if (json != NULL) {
		OPENSSL_cleanse(json, strlen(json));	/* it holds the secret */
		free(json);
	}
	buf_free(&b);
	return status;
}

/* "GitHub answered 422: Validation Failed (Hook already exists ...)" */
static void
explain(const struct integ *ig, long status, json_t *answer, char *err,
    size_t errlen)
{
	const char *msg = json_string_value(json_object_get(answer,
	    "message"));
	json_t *errs = json_object_get(answer, "errors"), *e0;
	const char *detail = NULL;

	e0 = json_array_get(errs, 0);
	if (e0 != NULL)
		detail = json_string_value(json_object_get(e0, "message"));
	snprintf(err, errlen, "%s answered %ld%s%s%s%s%s", ig->title, status,
	    msg ? ": " : "", msg ? msg : "", detail ? " (" : "",
	    detail ? detail : "", detail ? ")" : "");
}

int
remote_validate(const struct config *cfg, const struct integ *ig,
    const char *token, char *login, size_t loginlen, char *err,
    size_t errlen)
{
	json_t *op = json_object_get(api(ig), "validate"), *ans;
	struct vars v = { cfg, "", NULL, NULL, NULL, NULL };
	const char *l;
	char *url;
	long st;

	login[0] = '\0';
	if (!json_is_object(op))
		return 0;	/* nothing to check against */
	url = expand(&v, json_string_value(json_object_get(op, "url")));
	st = call(ig, "GET", url, token, NULL, &ans, err, errlen);
	free(url);
	if (st == 0)
		return -1;
	if (st != 200) {
		explain(ig, st, ans, err, errlen);
		json_decref(ans);
		return -1;
	}
	l = json_string_value(json_pointer_get(ans, json_string_value(
	    json_object_get(op, "login")) ? json_string_value(
	    json_object_get(op, "login")) : "/login"));
	if (l != NULL)
		str_copy(login, l, loginlen);
	json_decref(ans);
	return 0;
}

int
remote_create(const struct config *cfg, const struct integ *ig,
    const char *token, const char *params, const char *events,
    const char *callback_url, const char *secret, char *remote_id,
    size_t idlen, char *err, size_t errlen)
{
	json_t *op = json_object_get(api(ig), "create"), *body, *ans, *id;
	struct vars v = { cfg, params, NULL, NULL, callback_url, secret };
	char *hooks, *url;
	const char *ptr;
	long st;

	if ((hooks = hooks_url(&v, ig, err, errlen)) == NULL)
		return -1;
	v.hooks = hooks;
	url = expand(&v, json_string_value(json_object_get(op, "url")));
	body = fill(&v, json_object_get(op, "body"), events);
	st = call(ig, json_string_value(json_object_get(op, "method")), url,
	    token, body, &ans, err, errlen);
	json_decref(body);
	free(url);
	free(hooks);
	if (st == 0)
		return -1;
	if (st < 200 || st > 299) {
		explain(ig, st, ans, err, errlen);
		json_decref(ans);
		return -1;
	}
	ptr = json_string_value(json_object_get(op, "id"));
	id = json_pointer_get(ans, ptr ? ptr : "/id");
	if (json_is_integer(id))
		snprintf(remote_id, idlen, "%lld",
		    (long long)json_integer_value(id));
	else if (json_is_string(id))
		str_copy(remote_id, json_string_value(id), idlen);
	else {
		snprintf(err, errlen, "%s answered %ld without a hook id",
		    ig->title, st);
		json_decref(ans);
		return -1;
	}
	json_decref(ans);
	return 0;
}

static int
simple(const struct config *cfg, const struct integ *ig, const char *opname,
    const char *token, const char *params, const char *remote_id,
    const char *events, char *err, size_t errlen)
{
	json_t *op = json_object_get(api(ig), opname), *body = NULL, *ans, *ok;
	struct vars v = { cfg, params, NULL, remote_id, NULL, NULL };
	char *hooks, *url;
	size_t i;
	long st;

	if (!json_is_object(op))
		return 0;
	if ((hooks = hooks_url(&v, ig, err, errlen)) == NULL)
		return -1;
	v.hooks = hooks;
	url = expand(&v, json_string_value(json_object_get(op, "url")));
	if (json_object_get(op, "body") != NULL)
		body = fill(&v, json_object_get(op, "body"), events);
	st = call(ig, json_string_value(json_object_get(op, "method")), url,
	    token, body, &ans, err, errlen);
	json_decref(body);
	free(url);
	free(hooks);
	if (st == 0)
		return -1;
	json_array_foreach(json_object_get(op, "missing_ok"), i, ok)
		if (json_integer_value(ok) == st) {
			json_decref(ans);
			return 0;
		}
	if (st < 200 || st > 299) {
		explain(ig, st, ans, err, errlen);
		json_decref(ans);
		return -1;
	}
	json_decref(ans);
	return 0;
}

int
remote_update(const struct config *cfg, const struct integ *ig,
    const char *token, const char *params, const char *remote_id,
    const char *events, char *err, size_t errlen)
{
	return simple(cfg, ig, "update", token, params, remote_id, events,
	    err, errlen);
}

int
remote_delete(const struct config *cfg, const struct integ *ig,
    const char *token, const char *params, const char *remote_id,
    char *err, size_t errlen)
{
	return simple(cfg, ig, "delete", token, params, remote_id, NULL, err,
	    errlen);
}
