#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "integ.h"
#include "util.h"

json_t *
json_pointer_get(json_t *root, const char *pointer)
{
	char tok[256];
	const char *p = pointer;

	if (*p == '\0')
		return root;
	if (*p != '/')
		return NULL;
	while (root != NULL && *p == '/') {
		size_t n = 0;

		p++;
		while (*p != '\0' && *p != '/') {
			char c = *p++;

			if (c == '~') {
				if (*p == '0')
					c = '~';
				else if (*p == '1')
					c = '/';
				else
					return NULL;
				p++;
			}
			if (n + 1 >= sizeof(tok))
				return NULL;
			tok[n++] = c;
		}
		tok[n] = '\0';
		if (json_is_object(root))
			root = json_object_get(root, tok);
		else if (json_is_array(root)) {
			int64_t i;

			if (parse_i64(tok, 0, INT32_MAX, &i) == -1)
				return NULL;
			root = json_array_get(root, (size_t)i);
		} else
			return NULL;
	}
	return root;
}

static int
parse_source(const char *s, struct source *src)
{
	size_t i;

	if (strncmp(s, "header:", 7) == 0 && s[7] != '\0' &&
	    strlen(s + 7) < sizeof(src->where)) {
		src->kind = SRC_HEADER;
		for (i = 0; s[7 + i] != '\0'; i++)
			src->where[i] = (char)tolower((unsigned char)s[7 + i]);
		src->where[i] = '\0';
		return 0;
	}
	if (strncmp(s, "body:", 5) == 0 && (s[5] == '/' || s[5] == '\0') &&
	    strlen(s + 5) < sizeof(src->where)) {
		src->kind = SRC_BODY;
		str_copy(src->where, s + 5, sizeof(src->where));
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		src->kind = SRC_NONE;
		src->where[0] = '\0';
		return 0;
	}
	return -1;
}

/* A source, or a list of them tried in order. */
static int
parse_sources(json_t *v, struct sources *out, int allow_none)
{
	size_t i;
	json_t *e;

	out->n = 0;
	if (json_is_string(v)) {
		if (parse_source(json_string_value(v), &out->v[0]) == -1)
			return -1;
		out->n = 1;
	} else if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_array_size(v) <= SOURCES_MAX) {
		json_array_foreach(v, i, e)
			if (!json_is_string(e) || parse_source(
			    json_string_value(e), &out->v[out->n++]) == -1)
				return -1;
	} else
		return -1;
	for (i = 0; i < (size_t)out->n; i++)
		if (out->v[i].kind == SRC_NONE && (!allow_none || out->n > 1))
			return -1;
	return 0;
}

static int
string_list(json_t *a, int lower)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, v) {
		char *s;

		if (!json_is_string(v) || json_string_length(v) == 0)
			return (int)i;
		if (lower) {
			s = strdup(json_string_value(v));
			for (char *p = s; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			json_array_set_new(a, i, json_string(s));
			free(s);
		}
	}
	return -2;
}

/* Add a header name, lower case, once. */
static void
add_header(json_t *a, const char *name, size_t n)
{
	char low[256];
	size_t i;
	json_t *v;

	if (n == 0 || n >= sizeof(low))
		return;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), low) == 0)
			return;
	json_array_append_new(a, json_string(low));
}

/*
 * The headers a scheme reads. The schemes with params name them there
 * (integ_scheme_headers): the signature header, the timestamp header,
 * every {header:NAME} of the signed template.
 */
static void
derive_headers(struct integ *ig)
{
	static const struct {
		const char	*scheme;
		const char	*headers[4];
	} fixed[] = {
		{ "standard-webhooks", { "webhook-id", "webhook-timestamp",
		    "webhook-signature" } },
		{ "github", { "x-hub-signature-256" } },
		{ "stripe", { "stripe-signature" } },
		{ "slack", { "x-slack-signature",
		    "x-slack-request-timestamp" } },
	};
	json_t *sig = json_array(), *all, *may;
	const struct sources *srcs[2] = { &ig->event_type, &ig->delivery_id };
	size_t i, j;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(fixed[i].scheme, ig->scheme) == 0)
			for (j = 0; j < 4 && fixed[i].headers[j]; j++)
				add_header(sig, fixed[i].headers[j],
				    strlen(fixed[i].headers[j]));
	may = json_array();
	integ_scheme_headers(ig, sig, may);
	all = json_deep_copy(sig);
	json_array_extend(all, may);
	json_decref(may);
	for (i = 0; i < 2; i++)
		for (j = 0; j < (size_t)srcs[i]->n; j++)
			if (srcs[i]->v[j].kind == SRC_HEADER)
				add_header(all, srcs[i]->v[j].where,
				    strlen(srcs[i]->v[j].where));
	json_object_set_new(ig->def, "_sig_headers", sig);
	json_object_set_new(ig->def, "_read_headers", all);
	ig->sig_headers = sig;
	ig->read_headers = all;
}

static int
integ_check(struct integ *ig, json_t *def, const char *label, char *err,
    size_t errlen)
{
	const char *s;
	json_t *v;
	size_t i;
	int rc;

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
	if (!json_is_object(def))
		BAD("%s: the definition must be a JSON object", label);
	s = json_string_value(json_object_get(def, "name"));
	if (s == NULL || !name_valid(s))
		BAD("%s: /name: expected a name of letters, digits, '.', '_' "
		    "or '-'", label);
	str_copy(ig->name, s, sizeof(ig->name));
	s = json_string_value(json_object_get(def, "title"));
	str_copy(ig->title, s ? s : ig->name, sizeof(ig->title));
	s = json_string_value(json_object_get(def, "scheme"));
	if (s == NULL || !integ_scheme_known(s))
		BAD("%s: /scheme: expected one of %s", label,
		    integ_scheme_names());
	str_copy(ig->scheme, s, sizeof(ig->scheme));
	ig->params = json_object_get(def, "params");
	if (ig->params != NULL && !json_is_object(ig->params))
		BAD("%s: /params: expected an object", label);
	if (parse_sources(json_object_get(def, "event_type"), &ig->event_type,
	    0) == -1)
		BAD("%s: /event_type: expected \"header:NAME\" or "
		    "\"body:/json/pointer\" (or a list of them)", label);
	if (parse_sources(json_object_get(def, "delivery_id"),
	    &ig->delivery_id, 1) == -1)
		BAD("%s: /delivery_id: expected \"header:NAME\", "
		    "\"body:/json/pointer\" (or a list of them) or \"none\"",
		    label);
	v = json_object_get(def, "max_body");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		BAD("%s: /max_body: expected a number of bytes", label);
	ig->max_body = v ? json_integer_value(v) : 0;
	v = json_object_get(def, "body");
	if (v != NULL && (!json_is_string(v) || (strcmp(json_string_value(v),
	    "json") && strcmp(json_string_value(v), "any"))))
		BAD("%s: /body: expected \"json\" or \"any\"", label);
	ig->require_json = v == NULL || strcmp(json_string_value(v), "json") ==
	    0;
	if (integ_scheme_check(ig, label, err, errlen) == -1)
		return -1;

	ig->event_shapes = json_object_get(def, "event_shapes");
	if (ig->event_shapes != NULL && !json_is_array(ig->event_shapes))
		BAD("%s: /event_shapes: expected a list", label);
	json_array_foreach(ig->event_shapes, i, v) {
		json_t *has = json_object_get(v, "has"), *p;
		size_t j;

		if (!json_is_string(json_object_get(v, "event")))
			BAD("%s: /event_shapes/%zu/event: expected an event "
			    "name", label, i);
		if (!json_is_array(has) || json_array_size(has) == 0)
			BAD("%s: /event_shapes/%zu/has: expected a list of "
			    "JSON pointers", label, i);
		json_array_foreach(has, j, p) {
			s = json_string_value(p);
			if (s != NULL && *s == '!')
				s++;
			if (s == NULL || *s != '/')
				BAD("%s: /event_shapes/%zu/has/%zu: expected "
				    "\"/pointer\" or \"!/pointer\"", label, i, j);
		}
	}
	v = json_object_get(def, "dedupe");
	ig->dedupe_body = 0;
	if (v != NULL) {
		json_t *e;

		if (!json_is_array(v) || json_array_size(v) == 0)
			BAD("%s: /dedupe: expected a list of \"id\" and "
			    "\"body\"", label);
		json_array_foreach(v, i, e) {
			s = json_string_value(e);
			if (s != NULL && strcmp(s, "body") == 0)
				ig->dedupe_body = 1;
			else if (s == NULL || strcmp(s, "id") != 0)
				BAD("%s: /dedupe/%zu: expected \"id\" or "
				    "\"body\"", label, i);
		}
	}

	ig->events = json_object_get(def, "events");
	if (!json_is_array(ig->events))
		BAD("%s: /events: expected a list", label);
	json_array_foreach(ig->events, i, v) {
		s = json_string_value(json_object_get(v, "name"));
		if (s == NULL || *s == '\0' || strlen(s) > 255 ||
		    strchr(s, ',') != NULL)
			BAD("%s: /events/%zu/name: expected an event name",
			    label, i);
		if (!json_is_string(json_object_get(v, "description")))
			BAD("%s: /events/%zu/description: expected a string",
			    label, i);
	}
	v = json_object_get(def, "output");
	if (v != NULL) {
		size_t j;
		json_t *o;

		if (!json_is_array(v))
			BAD("%s: /output: expected a list", label);
		json_array_foreach(v, j, o)
			if (!json_is_string(json_object_get(o, "name")))
				BAD("%s: /output/%zu/name: expected a string",
				    label, j);
	}
	ig->content_types = json_object_get(def, "content_types");
	if (ig->content_types == NULL) {
		json_object_set_new(def, "content_types",
		    json_pack("[s]", "application/json"));
		ig->content_types = json_object_get(def, "content_types");
	}
	if ((rc = string_list(ig->content_types, 1)) != -2)
		BAD("%s: /content_types%s%.0d: expected a list of media types",
		    label, rc >= 0 ? "/" : "", rc);
	ig->keep_headers = json_object_get(def, "keep_headers");
	if (ig->keep_headers == NULL) {
		json_object_set_new(def, "keep_headers", json_array());
		ig->keep_headers = json_object_get(def, "keep_headers");
	}
	if ((rc = string_list(ig->keep_headers, 1)) != -2)
		BAD("%s: /keep_headers: expected a list of header names",
		    label);
	ig->modes = json_object_get(def, "modes");
	if (ig->modes == NULL) {
		json_object_set_new(def, "modes", json_pack("[s]", "manual"));
		ig->modes = json_object_get(def, "modes");
	}
	if ((rc = string_list(ig->modes, 0)) != -2)
		BAD("%s: /modes: expected a list of manual, api-key, oauth",
		    label);
	json_array_foreach(ig->modes, i, v) {
		s = json_string_value(v);
		if (strcmp(s, "manual") && strcmp(s, "api-key") &&
		    strcmp(s, "oauth"))
			BAD("%s: /modes/%zu: expected manual, api-key or "
			    "oauth", label, i);
	}
#undef BAD
	ig->def = def;
	derive_headers(ig);
	return 0;
}

int
integ_load_string(struct integ *ig, const char *text, const char *label,
    char *err, size_t errlen)
{
	json_error_t je;
	json_t *def;

	memset(ig, 0, sizeof(*ig));
	def = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (def == NULL) {
		snprintf(err, errlen, "%s:%d:%d: %s", label, je.line,
		    je.column, je.text);
		return -1;
	}
	if (integ_check(ig, def, label, err, errlen) == -1) {
		json_decref(def);
		memset(ig, 0, sizeof(*ig));
		return -1;
	}
	str_copy(ig->path, label, sizeof(ig->path));
	return 0;
}

int
integ_load_file(struct integ *ig, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *def;

	memset(ig, 0, sizeof(*ig));
	def = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (def == NULL) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line,
		    je.column, je.text);
		return -1;
	}
	if (integ_check(ig, def, path, err, errlen) == -1) {
		json_decref(def);
		memset(ig, 0, sizeof(*ig));
		return -1;
	}
	str_copy(ig->path, path, sizeof(ig->path));
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_dir(struct integ_set *set, const char *dir, integ_warn_fn warn)
{
	char path[PATH_MAX * 2], err[1024], *names[256];
	struct dirent *de;
	int i, n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(de->d_name);

		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0 &&
		    de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	for (i = 0; i < n; i++) {
		struct integ ig;
		int j;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		if (integ_load_file(&ig, path, err, sizeof(err)) == -1) {
			set->errors++;
			if (warn)
				warn(err);
			continue;
		}
		for (j = 0; j < set->n; j++)
			if (strcmp(set->v[j].name, ig.name) == 0)
				break;
		if (j < set->n)
			json_decref(set->v[j].def);	/* override */
		else if (set->n == INTEG_MAX) {
			json_decref(ig.def);
			continue;
		} else
			set->n++;
		set->v[j] = ig;
	}
}

void
integ_load_all(struct integ_set *set, const struct config *cfg,
    integ_warn_fn warn)
{
	memset(set, 0, sizeof(*set));
	load_dir(set, cfg->integrations_dir, warn);
	load_dir(set, cfg->user_integrations_dir, warn);
}

const struct integ *
integ_find(const struct integ_set *set, const char *name)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

int
integ_has_event(const struct integ *ig, const char *event)
{
	size_t i;
	json_t *v;

	json_array_foreach(ig->events, i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")),
		    event) == 0)
			return 1;
	return 0;
}

int
integ_has_mode(const struct integ *ig, const char *mode)
{
	size_t i;
	json_t *v;

	json_array_foreach(ig->modes, i, v)
		if (strcmp(json_string_value(v), mode) == 0)
			return 1;
	return 0;
}

static int
shape_matches(json_t *body, json_t *has)
{
	size_t i;
	json_t *p;

	json_array_foreach(has, i, p) {
		const char *ptr = json_string_value(p);
		int neg = *ptr == '!';

		if ((json_pointer_get(body, ptr + neg) != NULL) == neg)
			return 0;
	}
	return 1;
}

const char *
integ_body_event(const struct integ *ig, json_t *body, const char *type,
    int *shaped)
{
	size_t i;
	json_t *s;

	*shaped = 0;
	json_array_foreach(ig->event_shapes, i, s)
		if (body != NULL && shape_matches(body, json_object_get(s,
		    "has")))
			return json_string_value(json_object_get(s, "event"));
	json_array_foreach(ig->event_shapes, i, s)
		if (strcmp(json_string_value(json_object_get(s, "event")),
		    type) == 0)
			*shaped = 1;
	return NULL;
}

int
integ_reads_header(const struct integ *ig, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(ig->read_headers, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

void
integ_free_all(struct integ_set *set)
{
	int i;

	for (i = 0; i < set->n; i++)
		json_decref(set->v[i].def);
	set->n = 0;
}

/*
 * Standard Webhooks has three kinds of secret, told apart by a prefix:
 * whsec_ (base64 HMAC key, v1), whpk_ (base64 Ed25519 public key, which
 * verifies v1a only) and anything else (raw HMAC bytes, what OpenAI's
 * SDKs do with a secret that is not whsec_). A prefixed secret that does
 * not decode is a mistake, not raw bytes: taken as raw bytes, a public
 * key would let anyone who knows it sign a v1 delivery.
 */
#define WHSEC_MIN	24	/* bytes: Svix and OpenAI make 24 or 32 */
#define WHSEC_MAX	64	/* an HMAC-SHA256 key longer is hashed anyway */
#define WHPK_LEN	32	/* an Ed25519 public key */

static int
sw_secret_check(const char *secret, size_t n, char *why, size_t whylen)
{
	unsigned char key[768];	/* SECRET_MAX bytes of base64, decoded */
	char got[48];
	int kl;

	if (n >= 5 && memcmp(secret, "whpk_", 5) == 0) {
		kl = b64_decode(secret + 5, n - 5, key, sizeof(key));
		explicit_bzero(key, sizeof(key));
		if (kl == WHPK_LEN)
			return 0;
		if (kl < 0)
			snprintf(got, sizeof(got), "is not valid base64");
		else
			snprintf(got, sizeof(got), "decodes to %d bytes", kl);
		snprintf(why, whylen, "a whpk_ secret is an Ed25519 public key, "
		    "whpk_ and the base64 of %d bytes, and this one %s (it "
		    "verifies v1a signatures only); an HMAC secret is whsec_ "
		    "and the base64 of %d to %d bytes, or text without the "
		    "whpk_ or whsec_ prefix", WHPK_LEN, got, WHSEC_MIN,
		    WHSEC_MAX);
		return -1;
	}
	if (n >= 6 && memcmp(secret, "whsec_", 6) == 0) {
		kl = b64_decode(secret + 6, n - 6, key, sizeof(key));
		explicit_bzero(key, sizeof(key));
		if (kl >= WHSEC_MIN && kl <= WHSEC_MAX)
			return 0;
		if (kl < 0)
			snprintf(got, sizeof(got), "is not valid base64");
		else
			snprintf(got, sizeof(got), "decodes to %d bytes", kl);
		snprintf(why, whylen, "a whsec_ secret is whsec_ and the base64 "
		    "of %d to %d bytes, and this one %s; a secret without the "
		    "whsec_ or whpk_ prefix is used as it is, and whpk_ is for "
		    "an Ed25519 public key (32 bytes)", WHSEC_MIN, WHSEC_MAX,
		    got);
		return -1;
	}
	return 0;
}

int
integ_secret_check(const struct integ *ig, const char *secret, size_t n,
    char *why, size_t whylen)
{
	size_t i;

	if (n == 0) {
		snprintf(why, whylen, "a secret is not empty");
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)secret[i] < 0x20 ||
		    (unsigned char)secret[i] == 0x7f) {
			snprintf(why, whylen, "a secret is printable text: this "
			    "one has a control character (0x%02x at byte %zu)",
			    (unsigned char)secret[i], i);
			return -1;
		}
	if (strcmp(ig->scheme, "standard-webhooks") == 0)
		return sw_secret_check(secret, n, why, whylen);
	return integ_scheme_secret_check(ig, secret, n, why, whylen) == -1 ?
	    -1 : 0;
}
