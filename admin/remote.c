#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "integ_api.h"
#include "remote.h"
#include "util.h"

#define ANSWER_MAX	(1 << 20)	/* a provider's answer, bytes */

/* One conversation's working state, beside the caller's struct remote. */
struct conv {
	struct remote	*r;
	json_t		*api;
	char		 hooks[1024];
	char		 new_id[UUID_LEN + 1];
	int64_t		 lifetime;	/* s: the call's {expires_at} */
	int		 with_token;	/* {token} may be expanded */
};

static json_t *
api_of(const struct integ *ig)
{
	return json_object_get(ig->def, "api");
}

int
remote_supported(const struct integ *ig)
{
	json_t *c = json_object_get(api_of(ig), "create");

	return json_is_object(c) || json_is_array(c);
}

int
remote_can_renew(const struct integ *ig)
{
	return json_object_get(api_of(ig), "renew") != NULL;
}

int
remote_can_check(const struct integ *ig)
{
	return json_is_object(json_object_get(api_of(ig), "get"));
}

void
remote_init(struct remote *r, const struct config *cfg,
    const struct integ *ig, const char *mode)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->ig = ig;
	r->mode = mode;
	r->params = "";
	r->events = "*";
	r->extra = json_object();
}

void
remote_clear(struct remote *r)
{
	OPENSSL_cleanse(r->token, sizeof(r->token));
	OPENSSL_cleanse(r->secret, sizeof(r->secret));
	json_decref(r->extra);
	r->extra = NULL;
}

/* --- templates --------------------------------------------------------- */

/* The provider's names for "every event". */
static json_t *
all_events(struct conv *c)
{
	json_t *a = json_object_get(c->api, "all_events");

	return a != NULL ? json_deep_copy(a) : json_pack("[s]", "*");
}

static json_t *
events_array(struct conv *c)
{
	const char *p = c->r->events;
	json_t *a;

	if (strcmp(p, "*") == 0)
		return all_events(c);
	a = json_array();
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

/* A string or an integer of the answer or the event, as text; NULL else. */
static const char *
scalar_text(json_t *e, char *buf, size_t len)
{
	if (json_is_string(e))
		return str_copy(buf, json_string_value(e), len), buf;
	if (json_is_integer(e))
		return snprintf(buf, len, "%lld", (long long)
		    json_integer_value(e)), buf;
	return NULL;
}

static const char *
var(void *arg, const char *name, char *buf, size_t len)
{
	struct conv *c = arg;
	struct remote *r = c->r;
	char *v;

	if (strcmp(name, "api") == 0 || strcmp(name, "web") == 0)
		return api_base(r->ig, name, r->params, buf, len) == 0 ? buf :
		    NULL;
	if (strcmp(name, "hooks") == 0)
		return c->hooks[0] ? c->hooks : NULL;
	if (strcmp(name, "callback_url") == 0)
		return r->callback_url;
	if (strcmp(name, "secret") == 0)
		return r->secret;
	if (strcmp(name, "remote_id") == 0)
		return r->remote_id[0] ? r->remote_id : NULL;
	if (strcmp(name, "sub_id") == 0)
		return r->sub_id;
	if (strcmp(name, "sub_name") == 0)
		return r->sub_name;
	if (strcmp(name, "new_id") == 0)
		return c->new_id;
	if (strcmp(name, "token") == 0)
		return c->with_token ? r->token : NULL;
	if (strcmp(name, "expires_at") == 0) {
		if (c->lifetime <= 0)
			return NULL;
		return fmt_rfc3339(now_us() + c->lifetime * 1000000, buf, len);
	}
	if (strcmp(name, "events") == 0) {
		json_t *a = events_array(c), *e;
		size_t i, off = 0;

		buf[0] = '\0';
		json_array_foreach(a, i, e)
			off += (size_t)snprintf(buf + off, off < len ? len -
			    off : 0, "%s%s", i ? "," : "",
			    json_string_value(e));
		json_decref(a);
		return buf;
	}
	if (strncmp(name, "body:", 5) == 0)
		return scalar_text(json_pointer_get(r->event, name + 5), buf,
		    len);
	if (strcmp(name, "cursor") == 0)
		return r->cursor;
	if (strncmp(name, "remote.", 7) == 0)
		return scalar_text(json_object_get(r->extra, name + 7), buf,
		    len);
	if ((v = integ_param(r->params, name)) == NULL)
		return NULL;
	str_copy(buf, v, len);
	free(v);
	return buf;
}

static json_t *
var_json(void *arg, const char *name)
{
	return strcmp(name, "events") == 0 ? events_array(arg) : NULL;
}

/* A template with the conversation's values; NULL (r->err) if one lacks. */
static char *
expand(struct conv *c, const char *tpl, const char *what)
{
	int missing = 0;
	char *s = api_expand(tpl, var, c, &missing);

	if (missing > 0) {
		snprintf(c->r->err, sizeof(c->r->err), "%s: %s has a "
		    "placeholder without a value (a --param missing?)",
		    c->r->ig->name, what);
		free(s);
		return NULL;
	}
	return s;
}

/* Set value at pointer, making the objects on the way. */
static void
pointer_set(json_t *root, const char *ptr, json_t *value)
{
	char tok[256];
	json_t *cur = root, *next;

	while (*ptr == '/' && json_is_object(cur)) {
		size_t n = strcspn(ptr + 1, "/");

		if (n >= sizeof(tok))
			break;
		memcpy(tok, ptr + 1, n);
		tok[n] = '\0';
		ptr += n + 1;
		if (*ptr == '\0') {
			json_object_set(cur, tok, value);
			break;
		}
		if (!json_is_object(next = json_object_get(cur, tok))) {
			next = json_object();
			json_object_set_new(cur, tok, next);
		}
		cur = next;
	}
	json_decref(value);
}

/* Does the subscription take event `name`? */
static int
takes(struct conv *c, const char *name)
{
	return integ_events_cover(c->r->events, name);
}

/* --- targets ------------------------------------------------------------ */

const char *
remote_targets(const struct integ *ig, char *buf, size_t len)
{
	json_t *t = json_object_get(api_of(ig), "targets"), *val;
	const char *k;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach(t, k, val)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    n ? " or " : "", k);
	return buf;
}

int
remote_params(const struct integ *ig, const char *given, char *out,
    size_t len, char *err, size_t errlen)
{
	json_t *t = json_object_get(api_of(ig), "targets"), *val;
	const char *k, *def = NULL, *defk = NULL;
	char names[256], *v;

	if (strlen(given) >= len) {
		snprintf(err, errlen, "--param: too long");
		return -1;
	}
	str_copy(out, given, len);
	if (!json_is_object(t) || json_object_size(t) == 0)
		return 0;
	json_object_foreach(t, k, val) {
		if ((v = integ_param(given, k)) != NULL) {
			free(v);
			return 0;
		}
		if (def == NULL && json_is_string(json_object_get(val,
		    "default"))) {
			def = json_string_value(json_object_get(val,
			    "default"));
			defk = k;
		}
	}
	if (def != NULL && strlen(out) + strlen(defk) + strlen(def) + 3 <
	    len) {
		snprintf(out + strlen(out), len - strlen(out), "%s=%s\n", defk,
		    def);
		return 0;
	}
	snprintf(err, errlen, "%s subscriptions need --param %s=…", ig->name,
	    remote_targets(ig, names, sizeof(names)));
	return -1;
}

/* The target the params name: its hooks URL into c->hooks. */
static json_t *
target(struct conv *c)
{
	json_t *t = json_object_get(c->api, "targets"), *val;
	const char *k, *tpl;
	char *v, *s;

	c->hooks[0] = '\0';
	json_object_foreach(t, k, val) {
		if ((v = integ_param(c->r->params, k)) == NULL)
			continue;
		free(v);
		if ((tpl = json_string_value(json_object_get(val, "hooks"))) &&
		    (s = expand(c, tpl, "the target's hooks URL")) != NULL) {
			str_copy(c->hooks, s, sizeof(c->hooks));
			free(s);
		}
		return val;
	}
	return NULL;
}

static void
conv_init(struct conv *c, struct remote *r)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->api = api_of(r->ig);
	r->err[0] = '\0';
	target(c);
}

/* --- one call ------------------------------------------------------------ */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > ANSWER_MAX)
		return 0;
	buf_append(b, p, size * n);
	return size * n;
}

/* Stripe's form encoding: a[b]=1&a[c][0]=x. */
static void
form_flatten(struct buf *b, const char *prefix, json_t *v)
{
	char name[512], num[64];
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, e) {
			if (prefix != NULL)
				snprintf(name, sizeof(name), "%s[%s]", prefix, k);
			else
				str_copy(name, k, sizeof(name));
			form_flatten(b, name, e);
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			snprintf(name, sizeof(name), "%s[%zu]", prefix ? prefix :
			    "", i);
			form_flatten(b, name, e);
		}
		return;
	}
	if (json_is_null(v) || prefix == NULL)
		return;
	if (b->len > 0)
		buf_append(b, "&", 1);
	api_urlencode(prefix, b);
	buf_append(b, "=", 1);
	if (json_is_string(v))
		api_urlencode(json_string_value(v), b);
	else if (json_is_boolean(v))
		buf_appendf(b, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(v));
		buf_appendf(b, "%s", num);
	} else if (json_is_real(v))
		buf_appendf(b, "%g", json_real_value(v));
}

/* The Authorization (or other) header that carries the token. */
static char *
auth_line(struct conv *c)
{
	json_t *a = json_object_get(c->api, "auth");
	const char *tpl = "Authorization: Bearer {token}";
	char *s;

	if (json_is_string(a))
		tpl = json_string_value(a);
	else if (json_is_string(json_object_get(a, c->r->mode)))
		tpl = json_string_value(json_object_get(a, c->r->mode));
	c->with_token = 1;
	s = expand(c, tpl, "/api/auth");
	c->with_token = 0;
	return s;
}

/*
 * Send one request. Returns the HTTP status (0 on a transport error,
 * with r->err) and the answer, parsed, in *answer (NULL when not JSON).
 */
static long
send_req(struct conv *c, const char *method, const char *url,
    json_t *extra_headers, const char *body, const char *ctype,
    json_t **answer)
{
	struct remote *r = c->r;
	struct curl_slist *h = NULL;
	struct buf b = { 0 };
	json_t *hdr;
	char *line;
	size_t i;
	long status = 0;
	CURLcode rc;
	CURL *e;

	*answer = NULL;
	if ((e = curl_easy_init()) == NULL) {
		snprintf(r->err, sizeof(r->err), "cannot start libcurl");
		return 0;
	}
	json_array_foreach(json_object_get(c->api, "headers"), i, hdr)
		h = curl_slist_append(h, json_string_value(hdr));
	json_array_foreach(extra_headers, i, hdr)
		h = curl_slist_append(h, json_string_value(hdr));
	h = curl_slist_append(h, "Accept: application/json");
	if ((line = auth_line(c)) == NULL) {
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return 0;
	}
	h = curl_slist_append(h, line);
	OPENSSL_cleanse(line, strlen(line));
	free(line);
	if (body != NULL) {
		char ct[128];

		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		h = curl_slist_append(h, ct);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0 && body == NULL)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK)
		snprintf(r->err, sizeof(r->err), "cannot reach %s: %s",
		    r->ig->title, curl_easy_strerror(rc));
	else {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		*answer = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	}
	/* The headers hold the token. */
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.len);	/* it may hold a secret */
	buf_free(&b);
	return status;
}

/*
 * A call of the definition: its URL and body filled in, sent, and once
 * more with a fresh token after a 401. Returns the status (0: r->err).
 */
static long
call(struct conv *c, json_t *op, json_t *target_set, json_t **answer)
{
	struct remote *r = c->r;
	const char *enc = json_string_value(json_object_get(op, "encoding"));
	const char *gql = json_string_value(json_object_get(op, "graphql"));
	const char *method = json_string_value(json_object_get(op, "method"));
	json_t *tpl = json_object_get(op, "body"), *body = NULL, *v;
	char *url, *text = NULL;
	const char *k, *ctype = "application/json";
	int missing = 0;
	long st;

	*answer = NULL;
	c->lifetime = json_integer_value(json_object_get(op, "lifetime"));
	if ((url = expand(c, json_string_value(json_object_get(op, "url")),
	    "the URL")) == NULL)
		return 0;
	if (tpl != NULL || gql != NULL) {
		body = tpl != NULL ? api_fill(tpl, var, var_json, c, &missing) :
		    json_object();
		json_object_foreach(json_object_get(op, "event_flags"), k, v)
			pointer_set(body, json_string_value(v),
			    json_boolean(takes(c, k)));
		json_object_foreach(target_set, k, v)
			pointer_set(body, k, api_fill(v, var, var_json, c,
			    &missing));
		if (gql != NULL)
			body = json_pack("{s:s, s:o}", "query", gql,
			    "variables", body);
	}
	if (missing > 0) {
		snprintf(r->err, sizeof(r->err), "%s: the body has a "
		    "placeholder without a value (a --param missing?)",
		    r->ig->name);
		json_decref(body);
		free(url);
		return 0;
	}
	if (body != NULL && enc != NULL && strcmp(enc, "form") == 0) {
		struct buf f = { 0 };

		buf_append(&f, "", 0);
		form_flatten(&f, NULL, body);
		text = f.data;
		ctype = "application/x-www-form-urlencoded";
	} else if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	st = send_req(c, method ? method : "GET", url, json_object_get(op,
	    "headers"), text, ctype, answer);
	if (st == 401 && r->refresh != NULL && !r->refreshed) {
		char err[512];

		r->refreshed = 1;
		if (r->refresh(r, err, sizeof(err)) == 0) {
			json_decref(*answer);
			st = send_req(c, method ? method : "GET", url,
			    json_object_get(op, "headers"), text, ctype,
			    answer);
		}
	}
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));	/* it holds the secret */
		free(text);
	}
	free(url);
	return st;
}

/* "GitHub answered 422: Validation Failed (Hook already exists ...)" */
static void
explain(struct conv *c, long status, json_t *ans)
{
	static const char *const dflt[] = { "/message", "/error/message",
	    "/error_description", "/errors/0/message", "/error", "/description",
	    "/detail", "/title", NULL };
	json_t *list = json_object_get(c->api, "errors"), *m = NULL, *e;
	const char *msg = NULL, *detail;
	char *dumped = NULL;
	size_t i;

	if (json_is_array(list))
		json_array_foreach(list, i, e)
			if ((m = json_pointer_get(ans, json_string_value(e))))
				break;
	for (i = 0; m == NULL && dflt[i] != NULL; i++)
		m = json_pointer_get(ans, dflt[i]);
	if (json_is_string(m))
		msg = json_string_value(m);
	else if (m != NULL && (dumped = json_dumps(m, JSON_COMPACT |
	    JSON_ENCODE_ANY)) != NULL)
		msg = dumped;
	detail = json_string_value(json_pointer_get(ans, "/errors/0/message"));
	if (detail != NULL && msg != NULL && strcmp(detail, msg) == 0)
		detail = NULL;
	snprintf(c->r->err, sizeof(c->r->err), "%s answered %ld%s%.300s%s"
	    "%.300s%s", c->r->ig->title, status, msg ? ": " : "", msg ? msg :
	    "", detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
	free(dumped);
}

/* 0: done; 1: the provider has no such webhook; -1: refused (r->err). */
static int
judge(struct conv *c, json_t *op, long st, json_t *ans)
{
	static const char *const lists[] = { "missing", "missing_ok" };
	json_t *e;
	const char *k;
	size_t i, j;

	if (st == 0)
		return -1;
	for (j = 0; j < 2; j++)
		json_array_foreach(json_object_get(op, lists[j]), i, e)
			if (json_integer_value(e) == st)
				return 1;
	json_object_foreach(json_object_get(op, "missing_if"), k, e) {
		const char *have = json_string_value(json_pointer_get(ans, k));

		if (have != NULL && strncmp(have, json_string_value(e),
		    strlen(json_string_value(e))) == 0)
			return 1;
	}
	/* GraphQL says no with 200 and a list of errors. */
	if (st >= 200 && st <= 299 && json_object_get(op, "graphql") &&
	    json_array_size(json_object_get(ans, "errors")) > 0) {
		explain(c, st, ans);
		return -1;
	}
	if (st < 200 || st > 299) {
		explain(c, st, ans);
		return -1;
	}
	return 0;
}

static void
capture(struct conv *c, json_t *op, json_t *ans)
{
	struct remote *r = c->r;
	const char *k, *ptr;
	json_t *v, *val;

	if ((ptr = json_string_value(json_object_get(op, "id"))) != NULL &&
	    json_object_get(json_object_get(op, "capture"), "remote_id") ==
	    NULL) {
		val = json_pointer_get(ans, ptr);
		if (json_is_integer(val))
			snprintf(r->remote_id, sizeof(r->remote_id), "%lld",
			    (long long)json_integer_value(val));
		else if (json_is_string(val))
			str_copy(r->remote_id, json_string_value(val),
			    sizeof(r->remote_id));
	}
	json_object_foreach(json_object_get(op, "capture"), k, v) {
		val = json_pointer_get(ans, json_string_value(v));
		if (val == NULL)
			continue;
		if (strcmp(k, "remote_id") == 0) {
			if (json_is_integer(val))
				snprintf(r->remote_id, sizeof(r->remote_id),
				    "%lld", (long long)json_integer_value(val));
			else if (json_is_string(val))
				str_copy(r->remote_id, json_string_value(val),
				    sizeof(r->remote_id));
		} else if (strcmp(k, "secret") == 0 && json_is_string(val) &&
		    strlen(json_string_value(val)) <= SECRET_MAX) {
			str_copy(r->secret, json_string_value(val),
			    sizeof(r->secret));
			r->secret_changed = 1;
		} else if (strcmp(k, "expires_at") == 0)
			api_time(val, &r->expires_at);
		else if (strncmp(k, "remote.", 7) == 0)
			json_object_set(r->extra, k + 7, val);
	}
}

/* --- operations ---------------------------------------------------------- */

int
remote_validate(struct remote *r, char *login, size_t loginlen)
{
	struct conv c;
	json_t *op, *ans;
	const char *l, *ptr;
	long st;
	int rc;

	login[0] = '\0';
	conv_init(&c, r);
	if (!json_is_object(op = json_object_get(c.api, "validate")))
		return 0;	/* nothing to check against */
	st = call(&c, op, NULL, &ans);
	if ((rc = judge(&c, op, st, ans)) != 0) {
		if (rc == 1)
			explain(&c, st, ans);
		json_decref(ans);
		return -1;
	}
	ptr = json_string_value(json_object_get(op, "login"));
	l = json_string_value(json_pointer_get(ans, ptr ? ptr : "/login"));
	if (l != NULL)
		str_copy(login, l, loginlen);
	json_decref(ans);
	return 0;
}

int
remote_create(struct remote *r)
{
	json_t *ops, *op, *t, *ans;
	struct conv c;
	size_t i, n;
	int64_t lifetime = 0;
	long st;

	conv_init(&c, r);
	t = target(&c);
	uuid4(c.new_id);
	ops = json_object_get(c.api, "create");
	n = json_is_array(ops) ? json_array_size(ops) : 1;
	r->remote_id[0] = '\0';
	r->expires_at = 0;
	for (i = 0; i < n; i++) {
		op = json_is_array(ops) ? json_array_get(ops, i) : ops;
		st = call(&c, op, i == 0 ? json_object_get(t, "set") : NULL,
		    &ans);
		if (judge(&c, op, st, ans) != 0) {
			if (st != 0 && r->err[0] == '\0')
				explain(&c, st, ans);
			json_decref(ans);
			if (r->remote_id[0] != '\0') {
				/* Undo the steps that were made. */
				char keep[sizeof(r->err)];

				str_copy(keep, r->err, sizeof(keep));
				remote_delete(r);
				str_copy(r->err, keep, sizeof(r->err));
			}
			return -1;
		}
		capture(&c, op, ans);
		if (c.lifetime > lifetime)
			lifetime = c.lifetime;
		json_decref(ans);
		if (i == 0 && r->remote_id[0] == '\0') {
			snprintf(r->err, sizeof(r->err), "%s answered %ld "
			    "without a webhook id", r->ig->title, st);
			return -1;
		}
	}
	if (r->expires_at == 0 && lifetime > 0)
		r->expires_at = now_us() + lifetime * 1000000;
	return 0;
}

static int
simple(struct remote *r, const char *opname, json_t **out)
{
	json_t *op, *ans;
	struct conv c;
	long st;
	int rc;

	conv_init(&c, r);
	if (!json_is_object(op = json_object_get(c.api, opname)))
		return 0;
	st = call(&c, op, NULL, &ans);
	rc = judge(&c, op, st, ans);
	if (rc == 0)
		capture(&c, op, ans);
	if (rc == 0 && r->expires_at == 0 && c.lifetime > 0)
		r->expires_at = now_us() + c.lifetime * 1000000;
	if (out != NULL && rc == 0)
		*out = ans;
	else
		json_decref(ans);
	return rc;
}

int
remote_update(struct remote *r)
{
	return simple(r, "update", NULL) == -1 ? -1 : 0;
}

int
remote_delete(struct remote *r)
{
	return simple(r, "delete", NULL) == -1 ? -1 : 0;
}

int
remote_renew(struct remote *r)
{
	json_t *op = json_object_get(api_of(r->ig), "renew"), *old_extra;
	char old_id[sizeof(r->remote_id)], err[sizeof(r->err)];
	int rc;

	if (json_is_object(op)) {
		r->expires_at = 0;
		return simple(r, "renew", NULL);
	}
	if (!json_is_string(op)) {
		snprintf(r->err, sizeof(r->err), "%s describes no renewal",
		    r->ig->name);
		return -1;
	}
	/* "recreate": a new webhook, then the old one stopped (Google's
	 * channels cannot be extended). */
	str_copy(old_id, r->remote_id, sizeof(old_id));
	old_extra = json_deep_copy(r->extra);
	if (remote_create(r) == -1) {
		str_copy(r->remote_id, old_id, sizeof(r->remote_id));
		json_decref(r->extra);
		r->extra = old_extra;
		return -1;
	}
	{
		char new_id[sizeof(r->remote_id)];
		json_t *new_extra = r->extra;
		int64_t exp = r->expires_at;

		str_copy(new_id, r->remote_id, sizeof(new_id));
		str_copy(r->remote_id, old_id, sizeof(r->remote_id));
		r->extra = old_extra;
		rc = remote_delete(r);
		str_copy(err, r->err, sizeof(err));
		json_decref(r->extra);
		r->extra = new_extra;
		str_copy(r->remote_id, new_id, sizeof(r->remote_id));
		r->expires_at = exp;
		/* The old one lapses by itself: not a failure. */
		if (rc == -1)
			snprintf(r->err, sizeof(r->err), "the previous one "
			    "was not stopped: %.900s", err);
		else
			r->err[0] = '\0';
	}
	return 0;
}

const char *
remote_check_name(enum remote_check c)
{
	switch (c) {
	case REMOTE_OK:		return "ok";
	case REMOTE_MISSING:	return "missing";
	case REMOTE_DIFFERS:	return "differs";
	case REMOTE_UNCHECKED:	return "unchecked";
	default:		return "error";
	}
}

/* Both the same, a list or a comma-separated text taken as a set. */
static int
same(json_t *want, json_t *have)
{
	json_t *a = NULL, *b = NULL, *e, *f;
	size_t i, j;
	int eq;

	if (json_is_string(want) && json_is_string(have) &&
	    strcmp(json_string_value(want), json_string_value(have)) == 0)
		return 1;
	/* Lists of names, or "a,b" texts: compare as sets. */
	for (i = 0; i < 2; i++) {
		json_t *v = i ? have : want, *l;

		if (json_is_array(v))
			l = json_incref(v);
		else if (json_is_string(v)) {
			const char *p = json_string_value(v);

			l = json_array();
			while (*p != '\0') {
				size_t n = strcspn(p, ",");

				json_array_append_new(l, json_stringn(p, n));
				p += n + (p[n] == ',');
			}
		} else
			l = NULL;
		if (i)
			b = l;
		else
			a = l;
	}
	if (a == NULL || b == NULL) {
		json_decref(a);
		json_decref(b);
		return json_equal(want, have);
	}
	eq = json_array_size(a) == json_array_size(b);
	json_array_foreach(a, i, e) {
		int found = 0;

		json_array_foreach(b, j, f)
			found |= json_equal(e, f);
		eq &= found;
	}
	json_decref(a);
	json_decref(b);
	return eq;
}

static void
describe(struct buf *d, const char *ptr, json_t *want, json_t *have)
{
	char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	char *h = have ? json_dumps(have, JSON_COMPACT | JSON_ENCODE_ANY) :
	    NULL;

	buf_appendf(d, "%s%s is %.200s, not %.200s", d->len ? "; " : "",
	    ptr + 1, h ? h : "absent", w ? w : "?");
	free(w);
	free(h);
}

enum remote_check
remote_check(struct remote *r, char *detail, size_t len)
{
	json_t *op, *ans = NULL, *hook, *v;
	const char *k, *ptr;
	struct buf d = { 0 };
	struct conv c;
	int missing = 0, rc;
	long st;

	detail[0] = '\0';
	conv_init(&c, r);
	if (!json_is_object(op = json_object_get(c.api, "get"))) {
		snprintf(detail, len, "%s has no call to read a webhook; it is "
		    "renewed before it expires", r->ig->name);
		return REMOTE_UNCHECKED;
	}
	st = call(&c, op, NULL, &ans);
	if ((rc = judge(&c, op, st, ans)) == -1) {
		json_decref(ans);
		str_copy(detail, r->err, len);
		return REMOTE_ERROR;
	}
	hook = rc == 1 ? NULL : ans;
	/* A list of webhooks: the one with our id. */
	if (hook != NULL && (ptr = json_string_value(json_object_get(op,
	    "list"))) != NULL) {
		json_t *l = json_pointer_get(ans, ptr), *e;
		const char *m = json_string_value(json_object_get(op, "match"));
		size_t i;

		hook = NULL;
		json_array_foreach(l, i, e) {
			json_t *id = json_pointer_get(e, m ? m : "/id");
			char num[32];

			if (json_is_integer(id))
				snprintf(num, sizeof(num), "%lld", (long long)
				    json_integer_value(id));
			if ((json_is_string(id) && strcmp(json_string_value(id),
			    r->remote_id) == 0) || (json_is_integer(id) &&
			    strcmp(num, r->remote_id) == 0)) {
				hook = e;
				break;
			}
		}
	}
	if (hook == NULL) {
		json_decref(ans);
		snprintf(detail, len, "%s has no webhook %s", r->ig->title,
		    r->remote_id);
		return REMOTE_MISSING;
	}
	json_object_foreach(json_object_get(op, "expect"), k, v) {
		json_t *want = api_fill(v, var, var_json, &c, &missing);
		json_t *have = json_pointer_get(hook, k);

		if (have == NULL || !same(want, have))
			describe(&d, k, want, have);
		json_decref(want);
	}
	json_object_foreach(json_object_get(op, "event_flags"), k, v) {
		json_t *have = json_pointer_get(hook, json_string_value(v));
		json_t *want = json_boolean(takes(&c, k));

		if (!json_equal(want, have ? have : json_false()))
			describe(&d, json_string_value(v), want, have);
		json_decref(want);
	}
	json_decref(ans);
	if (d.len == 0) {
		buf_free(&d);
		return REMOTE_OK;
	}
	str_copy(detail, d.data, len);
	buf_free(&d);
	return REMOTE_DIFFERS;
}

long
remote_enrich(struct remote *r, json_t *op, json_t **answer)
{
	const char *param = json_string_value(json_object_get(json_object_get(
	    op, "cursor"), "param"));
	const char *tpl = json_string_value(json_object_get(op, "url"));
	json_t *call_op;
	struct conv c;
	char *url;
	long st;

	conv_init(&c, r);
	*answer = NULL;
	/* The cursor as a query parameter, once there is one. */
	call_op = json_deep_copy(op);
	if (param != NULL && r->cursor != NULL) {
		char *t;

		if (asprintf(&t, "%s%c%s={cursor|url}", tpl, strchr(tpl, '?') ?
		    '&' : '?', param) < 0) {
			json_decref(call_op);
			snprintf(r->err, sizeof(r->err), "out of memory");
			return 0;
		}
		json_object_set_new(call_op, "url", json_string(t));
		free(t);
	}
	/* A value the event lacks will not come with a retry. */
	if ((url = expand(&c, json_string_value(json_object_get(call_op,
	    "url")), "the enrich call's URL")) == NULL) {
		snprintf(r->err, sizeof(r->err), "%s: the enrich call's URL "
		    "%s has a placeholder the event or the subscription has no "
		    "value for", r->ig->name, tpl);
		json_decref(call_op);
		return -1;
	}
	free(url);
	st = call(&c, call_op, NULL, answer);
	json_decref(call_op);
	if (st > 0 && (st < 200 || st > 299))
		explain(&c, st, *answer);
	return st;
}
