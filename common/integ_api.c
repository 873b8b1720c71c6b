#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "integ_api.h"
#include "util.h"

void
api_base_env(const struct integ *ig, const char *which, char *out,
    size_t len)
{
	size_t i, n;

	n = (size_t)snprintf(out, len, "HOOKPIPE_%s_%s", ig->name,
	    strcmp(which, "web") == 0 ? "WEB" : "API");
	for (i = 9; i < n && i < len; i++)
		out[i] = out[i] == '-' || out[i] == '.' ? '_' :
		    (char)toupper((unsigned char)out[i]);
}

/* A subscription's param for a base's template. */
static const char *
param_var(void *arg, const char *name, char *buf, size_t len)
{
	char *v = integ_param(arg, name);

	if (v == NULL)
		return NULL;
	str_copy(buf, v, len);
	free(v);
	return buf;
}

int
api_base(const struct integ *ig, const char *which, const char *params,
    char *out, size_t len)
{
	char env[160];
	const char *e, *tpl;
	char *s;
	int missing = 0;

	api_base_env(ig, which, env, sizeof(env));
	if ((e = getenv(env)) != NULL && *e != '\0') {
		str_copy(out, e, len);
		goto trim;
	}
	if (strcmp(which, "web") == 0)
		tpl = json_string_value(json_object_get(json_object_get(
		    ig->def, "oauth"), "web"));
	else
		tpl = json_string_value(json_object_get(json_object_get(
		    ig->def, "api"), "base"));
	if (tpl == NULL)
		return -1;
	s = api_expand(tpl, param_var, (void *)(params ? params : ""),
	    &missing);
	str_copy(out, s ? s : "", len);
	free(s);
	if (missing > 0)
		return -1;
trim:
	/* "https://host/" and "https://host" are the same base. */
	for (size_t n = strlen(out); n > 0 && out[n - 1] == '/'; n--)
		out[n - 1] = '\0';
	return 0;
}

void
api_urlencode(const char *in, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			buf_append(out, in, 1);
		else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_append(out, e, 3);
		}
	}
}

/* One placeholder's value, its filters applied, appended to b. */
static int
expand_one(const char *name, size_t n, api_var_fn var, void *arg,
    struct buf *b)
{
	char key[128], val[4096];
	const char *bar, *v;
	size_t kn;

	if (n >= sizeof(key))
		return -1;
	memcpy(key, name, n);
	key[n] = '\0';
	bar = strchr(key, '|');
	kn = bar ? (size_t)(bar - key) : n;
	key[kn] = '\0';
	if ((v = var(arg, key, val, sizeof(val))) == NULL)
		return -1;
	/* {events|text}: the list as "a,b" where a JSON list would go. */
	if (bar == NULL || strcmp(bar + 1, "text") == 0)
		buf_append(b, v, strlen(v));
	else if (strcmp(bar + 1, "url") == 0)
		api_urlencode(v, b);
	else if (strcmp(bar + 1, "base64") == 0) {
		char *enc = malloc(4 * (strlen(v) / 3 + 1) + 1);

		if (enc == NULL)
			return -1;
		b64_encode((const unsigned char *)v, strlen(v), enc);
		buf_append(b, enc, strlen(enc));
		OPENSSL_cleanse(enc, strlen(enc));
		free(enc);
	} else
		return -1;
	if (v == val)
		OPENSSL_cleanse(val, strlen(val));
	return 0;
}

char *
api_expand(const char *tpl, api_var_fn var, void *arg, int *missing)
{
	struct buf b = { 0 };

	buf_append(&b, "", 0);
	while (*tpl != '\0') {
		const char *close;

		if (*tpl != '{' || (close = strchr(tpl + 1, '}')) == NULL ||
		    memchr(tpl + 1, '{', (size_t)(close - tpl - 1)) != NULL) {
			buf_append(&b, tpl++, 1);
			continue;
		}
		if (expand_one(tpl + 1, (size_t)(close - tpl - 1), var, arg,
		    &b) == -1) {
			(*missing)++;
			buf_append(&b, tpl, (size_t)(close - tpl + 1));
		}
		tpl = close + 1;
	}
	return b.data;
}

json_t *
api_fill(json_t *tpl, api_var_fn var, api_json_fn list, void *arg,
    int *missing)
{
	const char *k, *s;
	json_t *v, *out;
	size_t i, n;

	if (json_is_string(tpl)) {
		char *e;

		s = json_string_value(tpl);
		n = strlen(s);
		if (list != NULL && n > 2 && s[0] == '{' && s[n - 1] == '}' &&
		    strchr(s + 1, '{') == NULL) {
			char name[128];

			if (n - 2 < sizeof(name)) {
				memcpy(name, s + 1, n - 2);
				name[n - 2] = '\0';
				if ((out = list(arg, name)) != NULL)
					return out;
			}
		}
		e = api_expand(s, var, arg, missing);
		out = json_string(e ? e : "");
		if (e != NULL)
			OPENSSL_cleanse(e, strlen(e));
		free(e);
		return out;
	}
	if (json_is_object(tpl)) {
		out = json_object();
		json_object_foreach(tpl, k, v)
			json_object_set_new(out, k, api_fill(v, var, list, arg,
			    missing));
		return out;
	}
	if (json_is_array(tpl)) {
		out = json_array();
		json_array_foreach(tpl, i, v)
			json_array_append_new(out, api_fill(v, var, list, arg,
			    missing));
		return out;
	}
	return json_deep_copy(tpl);
}

int
api_time(json_t *v, int64_t *us)
{
	const char *s, *p;
	struct tm tm;
	int64_t t, frac = 0, scale = 100000;
	int sign, oh, om;

	if (json_is_integer(v)) {
		t = json_integer_value(v);
		goto number;
	}
	if ((s = json_string_value(v)) == NULL || *s == '\0')
		return -1;
	if (parse_i64(s, 0, INT64_MAX / 1000, &t) == 0)
		goto number;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	t = (int64_t)timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 ||
		    om > 59)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
		p += 6;
	} else if (*p != '\0')
		return -1;
	if (*p != '\0')
		return -1;
	*us = t * 1000000 + frac;
	return 0;
number:
	if (t < 0)
		return -1;
	*us = t >= 100000000000LL ? t * 1000 : t * 1000000;
	return 0;
}

int
api_duration(const char *s, int64_t *seconds)
{
	int64_t total = 0, n;
	const char *p = s;

	if (parse_i64(s, 0, INT64_MAX / 1000, seconds) == 0)
		return 0;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -1;
		for (n = 0; isdigit((unsigned char)*p); p++) {
			if (n > INT64_MAX / 100)
				return -1;
			n = n * 10 + (*p - '0');
		}
		switch (*p++) {
		case 's': break;
		case 'm': n *= 60; break;
		case 'h': n *= 3600; break;
		case 'd': n *= 86400; break;
		default: return -1;
		}
		total += n;
		if (total > INT64_MAX / 1000000)
			return -1;
	}
	if (p == s)
		return -1;
	*seconds = total;
	return 0;
}

/* --- checks at load -------------------------------------------------- */

struct chk {
	const char	*label;
	char		*err;
	size_t		 errlen;
};

#define CHK_BAD(c, ...) do {						\
	int o_ = snprintf((c)->err, (c)->errlen, "%s: ", (c)->label);	\
	if (o_ > 0 && (size_t)o_ < (c)->errlen)				\
		snprintf((c)->err + o_, (c)->errlen - (size_t)o_,	\
		    __VA_ARGS__);					\
	return -1;							\
} while (0)

static int
is_pointer(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && (*s == '/' || *s == '\0');
}

static int
string_array(json_t *v)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return 0;
	return 1;
}

static int
check_pointer_map(struct chk *c, json_t *m, const char *at, int any_value)
{
	const char *k;
	json_t *v;

	if (m == NULL)
		return 0;
	if (!json_is_object(m))
		CHK_BAD(c, "%s: expected an object", at);
	json_object_foreach(m, k, v) {
		if (*k != '/')
			CHK_BAD(c, "%s/%s: expected a JSON pointer as the key",
			    at, k);
		if (!any_value && !is_pointer(v))
			CHK_BAD(c, "%s/%s: expected a JSON pointer", at, k);
	}
	return 0;
}

/* One call: {method, url, body, encoding, graphql, capture, ...}. */
static int
check_call(struct chk *c, json_t *op, const char *at)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH",
	    "DELETE", NULL };
	static const char *const keys[] = { "method", "url", "body",
	    "encoding", "graphql", "capture", "id", "lifetime", "event_flags",
	    "missing", "missing_ok", "missing_if", "list", "match", "headers",
	    "login", "expect", NULL };
	const char *k, *m;
	json_t *v, *e;
	size_t i;
	int ok;

	if (!json_is_object(op))
		CHK_BAD(c, "%s: expected a call {\"method\", \"url\", ...}", at);
	json_object_foreach(op, k, v) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL)
			CHK_BAD(c, "%s/%s: unknown member (known: method, url, "
			    "body, encoding, graphql, capture, lifetime, "
			    "event_flags, missing, missing_if, list, match, "
			    "headers, expect)", at, k);
	}
	m = json_string_value(json_object_get(op, "method"));
	for (i = 0, ok = m == NULL; m != NULL && methods[i] != NULL; i++)
		ok |= strcmp(methods[i], m) == 0;
	if (!ok)
		CHK_BAD(c, "%s/method: expected GET, POST, PUT, PATCH or "
		    "DELETE", at);
	if (!json_is_string(json_object_get(op, "url")))
		CHK_BAD(c, "%s/url: expected a URL template such as "
		    "\"{api}/v1/webhooks\"", at);
	if ((v = json_object_get(op, "encoding")) != NULL &&
	    (!json_is_string(v) || (strcmp(json_string_value(v), "json") &&
	    strcmp(json_string_value(v), "form"))))
		CHK_BAD(c, "%s/encoding: expected \"json\" or \"form\"", at);
	if ((v = json_object_get(op, "graphql")) != NULL &&
	    !json_is_string(v))
		CHK_BAD(c, "%s/graphql: expected the query text", at);
	if ((v = json_object_get(op, "capture")) != NULL) {
		if (!json_is_object(v))
			CHK_BAD(c, "%s/capture: expected {\"remote_id\": "
			    "\"/id\", ...}", at);
		json_object_foreach(v, k, e) {
			json_t *p = e;

			if (strcmp(k, "remote_id") && strcmp(k, "secret") &&
			    strcmp(k, "expires_at") && strncmp(k, "remote.", 7))
				CHK_BAD(c, "%s/capture/%s: expected remote_id, "
				    "secret, expires_at or remote.NAME", at, k);
			if (!is_pointer(p))
				CHK_BAD(c, "%s/capture/%s: expected a JSON "
				    "pointer", at, k);
		}
	}
	if ((v = json_object_get(op, "id")) != NULL && !is_pointer(v))
		CHK_BAD(c, "%s/id: expected a JSON pointer", at);
	if ((v = json_object_get(op, "lifetime")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) <= 0))
		CHK_BAD(c, "%s/lifetime: expected seconds", at);
	if ((v = json_object_get(op, "event_flags")) != NULL) {
		if (!json_is_object(v))
			CHK_BAD(c, "%s/event_flags: expected {\"event\": "
			    "\"/pointer\"}", at);
		json_object_foreach(v, k, e)
			if (!is_pointer(e))
				CHK_BAD(c, "%s/event_flags/%s: expected a JSON "
				    "pointer", at, k);
	}
	for (i = 0; i < 2; i++) {
		size_t j;

		v = json_object_get(op, i ? "missing_ok" : "missing");
		if (v == NULL)
			continue;
		if (!json_is_array(v))
			CHK_BAD(c, "%s/%s: expected a list of HTTP statuses",
			    at, i ? "missing_ok" : "missing");
		json_array_foreach(v, j, e)
			if (!json_is_integer(e))
				CHK_BAD(c, "%s/%s/%zu: expected an HTTP status",
				    at, i ? "missing_ok" : "missing", j);
	}
	if (check_pointer_map(c, json_object_get(op, "missing_if"),
	    "missing_if", 1) == -1)
		return -1;
	if ((v = json_object_get(op, "missing_if")) != NULL)
		json_object_foreach(v, k, e)
			if (!json_is_string(e))
				CHK_BAD(c, "%s/missing_if%s: expected the text "
				    "the value starts with", at, k);
	if (((v = json_object_get(op, "list")) != NULL && !is_pointer(v)) ||
	    ((v = json_object_get(op, "match")) != NULL && !is_pointer(v)))
		CHK_BAD(c, "%s/list, match: expected JSON pointers", at);
	if ((v = json_object_get(op, "headers")) != NULL && !string_array(v))
		CHK_BAD(c, "%s/headers: expected a list of \"Name: value\"",
		    at);
	if ((v = json_object_get(op, "expect")) != NULL &&
	    check_pointer_map(c, v, "expect", 1) == -1)
		return -1;
	return 0;
}

static int
check_api(struct chk *c, json_t *api)
{
	static const char *const ops[] = { "validate", "update", "delete",
	    "get", NULL };
	static const char *const keys[] = { "base", "headers", "auth",
	    "errors", "all_events", "validate", "targets", "create",
	    "update", "delete", "get", "renew", NULL };
	char at[64];
	const char *k;
	json_t *v, *e;
	size_t i;

	if (!json_is_object(api))
		CHK_BAD(c, "/api: expected an object");
	json_object_foreach(api, k, v) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL)
			CHK_BAD(c, "/api/%s: unknown member (known: base, "
			    "headers, auth, errors, all_events, validate, "
			    "targets, create, update, delete, get, renew)", k);
	}
	if ((v = json_object_get(api, "base")) != NULL && !json_is_string(v))
		CHK_BAD(c, "/api/base: expected a URL");
	if ((v = json_object_get(api, "headers")) != NULL && !string_array(v))
		CHK_BAD(c, "/api/headers: expected a list of \"Name: value\"");
	if ((v = json_object_get(api, "auth")) != NULL) {
		if (json_is_object(v)) {
			json_object_foreach(v, k, e)
				if ((strcmp(k, "api-key") && strcmp(k,
				    "oauth")) || !json_is_string(e))
					CHK_BAD(c, "/api/auth/%s: expected "
					    "api-key or oauth, each a header "
					    "line with {token}", k);
		} else if (!json_is_string(v))
			CHK_BAD(c, "/api/auth: expected a header line such as "
			    "\"Authorization: Bearer {token}\"");
	}
	if ((v = json_object_get(api, "errors")) != NULL) {
		if (!json_is_array(v))
			CHK_BAD(c, "/api/errors: expected a list of JSON "
			    "pointers");
		json_array_foreach(v, i, e)
			if (!is_pointer(e))
				CHK_BAD(c, "/api/errors/%zu: expected a JSON "
				    "pointer", i);
	}
	if ((v = json_object_get(api, "all_events")) != NULL &&
	    !string_array(v))
		CHK_BAD(c, "/api/all_events: expected a list of names");
	if ((v = json_object_get(api, "targets")) != NULL) {
		if (!json_is_object(v))
			CHK_BAD(c, "/api/targets: expected {\"PARAM\": "
			    "{\"hooks\": URL}}");
		json_object_foreach(v, k, e) {
			if (!json_is_object(e) ||
			    (json_object_get(e, "hooks") != NULL &&
			    !json_is_string(json_object_get(e, "hooks"))) ||
			    (json_object_get(e, "default") != NULL &&
			    !json_is_string(json_object_get(e, "default"))))
				CHK_BAD(c, "/api/targets/%s: expected {\"hooks\": "
				    "URL, \"default\": VALUE, \"set\": {...}}",
				    k);
			snprintf(at, sizeof(at), "/api/targets/%s/set", k);
			if (check_pointer_map(c, json_object_get(e, "set"), at,
			    1) == -1)
				return -1;
		}
	}
	v = json_object_get(api, "create");
	if (json_is_array(v)) {
		if (json_array_size(v) == 0 || json_array_size(v) > 4)
			CHK_BAD(c, "/api/create: expected one call, or a list "
			    "of 1 to 4");
		json_array_foreach(v, i, e) {
			snprintf(at, sizeof(at), "/api/create/%zu", i);
			if (check_call(c, e, at) == -1)
				return -1;
		}
	} else if (v != NULL && check_call(c, v, "/api/create") == -1)
		return -1;
	for (i = 0; ops[i] != NULL; i++)
		if ((v = json_object_get(api, ops[i])) != NULL) {
			snprintf(at, sizeof(at), "/api/%s", ops[i]);
			if (check_call(c, v, at) == -1)
				return -1;
		}
	v = json_object_get(api, "renew");
	if (json_is_string(v) && strcmp(json_string_value(v), "recreate"))
		CHK_BAD(c, "/api/renew: expected a call, or \"recreate\"");
	if (json_is_object(v) && check_call(c, v, "/api/renew") == -1)
		return -1;
	if (v != NULL && !json_is_string(v) && !json_is_object(v))
		CHK_BAD(c, "/api/renew: expected a call, or \"recreate\"");
	if (json_object_get(api, "create") == NULL &&
	    (json_object_get(api, "update") || json_object_get(api, "delete")))
		CHK_BAD(c, "/api: update and delete need a create");
	return 0;
}

static int
check_oauth(struct chk *c, json_t *o)
{
	static const char *const strs[] = { "authorize_url", "token_url",
	    "scopes", "web", NULL };
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(o))
		CHK_BAD(c, "/oauth: expected an object");
	for (i = 0; strs[i] != NULL; i++)
		if ((v = json_object_get(o, strs[i])) != NULL &&
		    !json_is_string(v))
			CHK_BAD(c, "/oauth/%s: expected a string", strs[i]);
	if (!json_is_string(json_object_get(o, "token_url")) ||
	    !json_is_string(json_object_get(o, "authorize_url")))
		CHK_BAD(c, "/oauth: authorize_url and token_url are needed");
	if ((v = json_object_get(o, "pkce")) != NULL && !json_is_boolean(v))
		CHK_BAD(c, "/oauth/pkce: expected true or false");
	if ((v = json_object_get(o, "client_auth")) != NULL &&
	    (!json_is_string(v) || (strcmp(json_string_value(v), "body") &&
	    strcmp(json_string_value(v), "basic"))))
		CHK_BAD(c, "/oauth/client_auth: expected \"body\" or "
		    "\"basic\"");
	if ((v = json_object_get(o, "authorize_params")) != NULL) {
		if (!json_is_object(v))
			CHK_BAD(c, "/oauth/authorize_params: expected "
			    "{\"name\": \"value\"}");
		json_object_foreach(json_object_get(o, "authorize_params"), k,
		    v)
			if (!json_is_string(v))
				CHK_BAD(c, "/oauth/authorize_params/%s: "
				    "expected a string", k);
	}
	return 0;
}

static int
check_enrich(struct chk *c, json_t *list)
{
	static const char *const ckeys[] = { "param", "from", "more",
	    "items", "start", NULL };
	char at[64];
	json_t *e, *v;
	size_t i, j;

	if (!json_is_array(list) || json_array_size(list) > 16)
		CHK_BAD(c, "/enrich: expected a list of up to 16 calls");
	json_array_foreach(list, i, e) {
		const char *name = json_string_value(json_object_get(e,
		    "name"));

		snprintf(at, sizeof(at), "/enrich/%zu", i);
		if (name == NULL || !name_valid(name))
			CHK_BAD(c, "%s/name: expected the name the result "
			    "takes in the run's inputs", at);
		if (!json_is_string(json_object_get(e, "url")))
			CHK_BAD(c, "%s/url: expected a URL template such as "
			    "\"{api}/v1/responses/{body:/data/id}\"", at);
		v = json_object_get(e, "when");
		if (v != NULL && !json_is_string(v) && !string_array(v))
			CHK_BAD(c, "%s/when: expected an event name or a list "
			    "of them", at);
		v = json_object_get(e, "method");
		if (v != NULL && (!json_is_string(v) || (strcmp(
		    json_string_value(v), "GET") && strcmp(
		    json_string_value(v), "POST"))))
			CHK_BAD(c, "%s/method: expected GET or POST", at);
		if ((v = json_object_get(e, "cursor")) != NULL) {
			if (!json_is_object(v))
				CHK_BAD(c, "%s/cursor: expected {\"from\": "
				    "\"/cursor\", \"items\": \"/payloads\", "
				    "...}", at);
			for (j = 0; ckeys[j] != NULL; j++) {
				json_t *f = json_object_get(v, ckeys[j]);

				if (f != NULL && !json_is_string(f))
					CHK_BAD(c, "%s/cursor/%s: expected a "
					    "string", at, ckeys[j]);
			}
			if (!is_pointer(json_object_get(v, "from")) ||
			    !is_pointer(json_object_get(v, "items")))
				CHK_BAD(c, "%s/cursor: from and items are JSON "
				    "pointers", at);
		}
	}
	return 0;
}

int
api_enrich_applies(json_t *call, const char *type)
{
	json_t *when = json_object_get(call, "when"), *e;
	size_t i;

	if (when == NULL)
		return 1;
	if (json_is_string(when))
		return integ_event_matches(json_string_value(when), type);
	json_array_foreach(when, i, e)
		if (json_is_string(e) && integ_event_matches(
		    json_string_value(e), type))
			return 1;
	return 0;
}

int
integ_api_check(const struct integ *ig, json_t *def, const char *label,
    char *err, size_t errlen)
{
	struct chk c = { label, err, errlen };
	json_t *v;

	(void)ig;
	if ((v = json_object_get(def, "api")) != NULL &&
	    check_api(&c, v) == -1)
		return -1;
	if ((v = json_object_get(def, "oauth")) != NULL &&
	    check_oauth(&c, v) == -1)
		return -1;
	if ((v = json_object_get(def, "enrich")) != NULL &&
	    check_enrich(&c, v) == -1)
		return -1;
	return 0;
}
