#include <ctype.h>
#include <dirent.h>
#include <malloc.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "integ.h"
#include "integ_api.h"
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

/* A template: literal text and at least one placeholder, all known. */
static int
template_ok(const char *tpl, char *why, size_t whylen)
{
	struct vtpl_part part;
	size_t pos = 0;
	int rc, holders = 0;

	while ((rc = vtpl_next(tpl, &pos, &part, why, whylen)) == 1)
		holders += !part.literal;
	if (rc == 0 && holders == 0)
		snprintf(why, whylen, "a template needs a placeholder such as "
		    "{header:NAME} or {body:/pointer}");
	return rc == 0 && holders > 0 ? 0 : -1;
}

static int parse_source(json_t *, struct source *, char *, size_t);

/*
 * {"when": {"header:NAME": "value", ...}, "value": FORM}: the form, taken
 * only when the conditions hold (Twitch's revocations, sent with the
 * subscription's own type header, are told apart by their message type).
 */
static int
parse_conditional(json_t *v, struct source *src, char *why, size_t whylen)
{
	json_t *when = json_object_get(v, "when"), *x;
	const char *k;

	if (json_object_size(v) != 2 || !json_is_string(json_object_get(v,
	    "value")) || !json_is_object(when) || json_object_size(when) ==
	    0 || json_object_size(when) > SRC_WHEN_MAX) {
		snprintf(why, whylen, "a conditional form is {\"when\": "
		    "{\"header:NAME\": \"value\"}, \"value\": FORM}, with "
		    "1 to %d conditions", SRC_WHEN_MAX);
		return -1;
	}
	if (parse_source(json_object_get(v, "value"), src, why, whylen) ==
	    -1 || src->kind == SRC_NONE)
		return -1;
	json_object_foreach(when, k, x) {
		struct src_cond *c = &src->when[src->nwhen++];
		size_t i, off;

		if (strncmp(k, "header:", 7) == 0 && k[7] != '\0') {
			c->kind = SRC_HEADER;
			off = 7;
		} else if (strncmp(k, "query:", 6) == 0 && k[6] != '\0') {
			c->kind = SRC_QUERY;
			off = 6;
		} else if (strncmp(k, "body:/", 6) == 0) {
			c->kind = SRC_BODY;
			off = 5;
		} else {
			snprintf(why, whylen, "when: %.60s: expected "
			    "\"header:NAME\", \"query:NAME\" or "
			    "\"body:/pointer\"", k);
			return -1;
		}
		if (strlen(k + off) >= sizeof(c->where)) {
			snprintf(why, whylen, "when: %.60s: longer than %zu",
			    k, sizeof(c->where) - 1);
			return -1;
		}
		for (i = 0; k[off + i] != '\0'; i++)
			c->where[i] = c->kind == SRC_HEADER ?
			    (char)tolower((unsigned char)k[off + i]) :
			    k[off + i];
		c->where[i] = '\0';
		if (json_is_true(x))
			c->value = NULL;
		else if (json_is_false(x) || json_is_string(x) ||
		    json_is_integer(x))
			c->value = x;
		else {
			snprintf(why, whylen, "when: %.60s: expected true "
			    "(present), false (absent), a string or a number "
			    "(equal to)", k);
			return -1;
		}
	}
	return 0;
}

static int
parse_source(json_t *v, struct source *src, char *why, size_t whylen)
{
	const char *s = json_string_value(v);
	size_t i;

	memset(src, 0, sizeof(*src));
	if (json_is_object(v) && json_object_get(v, "when") != NULL)
		return parse_conditional(v, src, why, whylen);
	if (json_is_object(v)) {
		/* {"first_key_of": "/pointer", "keys": [names]} */
		const char *ptr = json_string_value(json_object_get(v,
		    "first_key_of"));
		json_t *keys = json_object_get(v, "keys"), *k;

		if (ptr == NULL || (*ptr != '/' && *ptr != '\0') ||
		    strlen(ptr) >= sizeof(src->where) || !json_is_array(keys) ||
		    json_array_size(keys) == 0 || json_object_size(v) != 2)
			return -1;
		json_array_foreach(keys, i, k)
			if (!json_is_string(k) || json_string_length(k) == 0 ||
			    json_string_length(k) > 255)
				return -1;
		src->kind = SRC_FIRST_KEY;
		str_copy(src->where, ptr, sizeof(src->where));
		src->keys = keys;
		return 0;
	}
	if (s == NULL || strlen(s) >= sizeof(src->where))
		return -1;
	if (strncmp(s, "header:", 7) == 0 && s[7] != '\0') {
		src->kind = SRC_HEADER;
		for (i = 0; s[7 + i] != '\0'; i++)
			src->where[i] = (char)tolower((unsigned char)s[7 + i]);
		src->where[i] = '\0';
		return 0;
	}
	if (strncmp(s, "body:", 5) == 0 && (s[5] == '/' || s[5] == '\0')) {
		src->kind = SRC_BODY;
		str_copy(src->where, s + 5, sizeof(src->where));
		return 0;
	}
	if (strncmp(s, "query:", 6) == 0 && s[6] != '\0') {
		src->kind = SRC_QUERY;
		str_copy(src->where, s + 6, sizeof(src->where));
		return 0;
	}
	if (strncmp(s, "fixed:", 6) == 0 && s[6] != '\0') {
		for (i = 6; s[i] != '\0'; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return -1;
		src->kind = SRC_FIXED;
		str_copy(src->where, s + 6, sizeof(src->where));
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		src->kind = SRC_NONE;
		return 0;
	}
	if (strchr(s, '{') != NULL) {
		if (template_ok(s, why, whylen) == -1)
			return -1;
		src->kind = SRC_TEMPLATE;
		str_copy(src->where, s, sizeof(src->where));
		return 0;
	}
	return -1;
}

/*
 * A source, or a list of them tried in order. "none" stands alone, and a
 * fixed value, which always yields, only comes last.
 */
static int
parse_sources(json_t *v, struct sources *out, int allow_none, char *why,
    size_t whylen)
{
	size_t i;
	json_t *e;

	out->n = 0;
	why[0] = '\0';
	if (json_is_string(v) || json_is_object(v)) {
		if (parse_source(v, &out->v[0], why, whylen) == -1)
			return -1;
		out->n = 1;
	} else if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_array_size(v) <= SOURCES_MAX) {
		json_array_foreach(v, i, e)
			if (parse_source(e, &out->v[out->n++], why, whylen) ==
			    -1)
				return -1;
	} else
		return -1;
	for (i = 0; i < (size_t)out->n; i++) {
		if (out->v[i].kind == SRC_NONE && (!allow_none || out->n > 1))
			return -1;
		/* A fixed value always yields: nothing after it is tried,
		 * unless it holds only under conditions. */
		if (out->v[i].kind == SRC_FIXED && out->v[i].nwhen == 0 &&
		    i + 1 < (size_t)out->n)
			return -1;
	}
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
		{ "github", { "x-hub-signature-256" } },
		{ "stripe", { "stripe-signature" } },
		{ "slack", { "x-slack-signature",
		    "x-slack-request-timestamp" } },
	};
	json_t *sig = json_array(), *all, *may;
	const struct sources *srcs[2] = { &ig->event_type, &ig->delivery_id };
	size_t i, j, k;

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
		for (j = 0; j < (size_t)srcs[i]->n; j++) {
			const struct source *src = &srcs[i]->v[j];
			struct vtpl_part part;
			char why[8];
			size_t pos = 0;

			if (src->kind == SRC_HEADER)
				add_header(all, src->where, strlen(src->where));
			for (k = 0; k < (size_t)src->nwhen; k++)
				if (src->when[k].kind == SRC_HEADER)
					add_header(all, src->when[k].where,
					    strlen(src->when[k].where));
			while (src->kind == SRC_TEMPLATE && vtpl_next(
			    src->where, &pos, &part, why, sizeof(why)) == 1)
				if (part.src.kind == SRC_HEADER)
					add_header(all, part.src.where,
					    strlen(part.src.where));
		}
	/* The headers handshakes look at. */
	for (i = 0; i < (size_t)ig->nhs; i++) {
		const struct handshake *h = &ig->hs[i];

		for (j = 0; j < (size_t)h->nwhen; j++)
			if (h->when[j].src.kind == SRC_HEADER)
				add_header(all, h->when[j].src.where,
				    strlen(h->when[j].src.where));
		if (h->verify == HS_VERIFY_TOKEN && h->token.kind == SRC_HEADER)
			add_header(all, h->token.where, strlen(h->token.where));
		if (h->set_secret.kind == SRC_HEADER)
			add_header(all, h->set_secret.where,
			    strlen(h->set_secret.where));
	}
	json_object_set_new(ig->def, "_sig_headers", sig);
	json_object_set_new(ig->def, "_read_headers", all);
	ig->sig_headers = sig;
	ig->read_headers = all;
}

static int
integ_check(struct integ *ig, json_t *def, const char *label, char *err,
    size_t errlen)
{
	char tplerr[256];
	const char *s;
	json_t *v;
	size_t i;
	int rc;

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
	if (!json_is_object(def))
		BAD("%s: the definition must be a JSON object", label);
	ig->def = def;		/* what the checks derive is kept in it */
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
	    0, tplerr, sizeof(tplerr)) == -1)
		BAD("%s: /event_type: %s%sexpected \"header:NAME\", "
		    "\"body:/pointer\", \"query:NAME\", \"fixed:TEXT\", a "
		    "template such as \"{header:X-Event}.{body:/action}\", "
		    "{\"first_key_of\": \"/pointer\", \"keys\": [...]}, "
		    "{\"when\": {...}, \"value\": FORM}, or a list of up to "
		    "%d of them (a fixed one last)", label, tplerr,
		    tplerr[0] ? "; " : "", SOURCES_MAX);
	if (parse_sources(json_object_get(def, "delivery_id"),
	    &ig->delivery_id, 1, tplerr, sizeof(tplerr)) == -1)
		BAD("%s: /delivery_id: %s%sexpected \"header:NAME\", "
		    "\"body:/pointer\", \"query:NAME\", a template, a list of "
		    "up to %d of them, or \"none\"", label, tplerr,
		    tplerr[0] ? "; " : "", SOURCES_MAX);
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
	if (integ_check_forms(ig, def, label, err, errlen) == -1 ||
	    integ_api_check(ig, def, label, err, errlen) == -1)
		return -1;
	derive_headers(ig);
	return 0;
}

/* Where the definition came from, kept in it. */
static int
set_path(struct integ *ig, const char *path, char *err, size_t errlen)
{
	if (json_object_set_new(ig->def, "_path", json_string(path)) == -1) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	ig->path = json_string_value(json_object_get(ig->def, "_path"));
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
	if (integ_check(ig, def, label, err, errlen) == -1 ||
	    set_path(ig, label, err, errlen) == -1) {
		json_decref(def);
		memset(ig, 0, sizeof(*ig));
		return -1;
	}
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
	if (integ_check(ig, def, path, err, errlen) == -1 ||
	    set_path(ig, path, err, errlen) == -1) {
		json_decref(def);
		memset(ig, 0, sizeof(*ig));
		return -1;
	}
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * What only people read, dropped from a stage's copy: the events'
 * descriptions (one shared empty string each, so that a definition
 * derived from this one still checks), the output and setup documents.
 * Two thirds of the definitions' text.
 */
static void
slim(struct integ *ig)
{
	static json_t *empty;
	json_t *v;
	size_t i;

	if (empty == NULL && (empty = json_string("")) == NULL)
		return;
	json_array_foreach(ig->events, i, v)
		json_object_set(v, "description", empty);
	json_object_del(ig->def, "output");
	json_object_del(ig->def, "setup");
	ig->setup = NULL;
}

/* The entry of prev loaded from path, or NULL. */
static struct integ *
loaded_from(struct integ_set *prev, const char *path)
{
	int i;

	for (i = 0; prev != NULL && i < prev->n; i++)
		if (prev->v[i].def != NULL && strcmp(prev->v[i].path,
		    path) == 0)
			return &prev->v[i];
	return NULL;
}

/*
 * The definitions of one directory, in name order; a later one of the
 * same name overrides. A file refused now keeps the version prev loaded
 * from it, if any (taken from prev).
 */
static void
load_dir(struct integ_set *set, const char *dir, integ_warn_fn warn,
    struct integ_set *prev)
{
	char path[PATH_MAX * 2], err[1024], *names[256];
	struct dirent *de;
	struct integ *old;
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
		static struct integ ig;	/* large: not on the stack */
		int j;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		if (integ_load_file(&ig, path, err, sizeof(err)) == -1) {
			set->errors++;
			if ((old = loaded_from(prev, path)) != NULL) {
				char msg[1200];

				snprintf(msg, sizeof(msg), "%s (the version "
				    "loaded before stays in use)", err);
				if (warn)
					warn(msg);
				ig = *old;
				old->def = NULL;	/* moved */
			} else {
				if (warn)
					warn(err);
				continue;
			}
		} else if (set->slim)
			slim(&ig);
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

/*
 * The set is large (INTEG_MAX entries) and mostly empty: only the entries
 * in use are written, so that the pages of the rest are never touched.
 */
void
integ_load_all(struct integ_set *set, const struct config *cfg,
    integ_warn_fn warn)
{
	set->n = set->errors = 0;
	load_dir(set, cfg->integrations_dir, warn, NULL);
	load_dir(set, cfg->user_integrations_dir, warn, NULL);
	if (set->slim)
		malloc_trim(0);
}

void
integ_reload(struct integ_set *set, const struct config *cfg,
    integ_warn_fn warn)
{
	struct integ_set *prev;

	/* Large, and mapped for this call alone: its pages go back after. */
	if ((prev = malloc(sizeof(*prev))) == NULL) {
		if (warn)
			warn("out of memory: the definitions are not reloaded");
		return;
	}
	memcpy(prev->v, set->v, (size_t)set->n * sizeof(set->v[0]));
	prev->n = set->n;
	set->n = set->errors = 0;
	load_dir(set, cfg->integrations_dir, warn, prev);
	load_dir(set, cfg->user_integrations_dir, warn, prev);
	integ_free_all(prev);
	free(prev);
	if (set->slim)
		malloc_trim(0);
}

/* FNV-1a, to fold names and numbers into a stamp. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 1099511628211ULL;
	return h;
}

static uint64_t
dir_stamp(uint64_t h, const char *dir)
{
	char path[PATH_MAX * 2];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return fnv(h, "-", 1);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		int64_t v[4];

		if (l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0 ||
		    de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == -1)
			continue;
		v[0] = (int64_t)st.st_ino;
		v[1] = (int64_t)st.st_size;
		v[2] = (int64_t)st.st_mtim.tv_sec;
		v[3] = (int64_t)st.st_mtim.tv_nsec;
		/* Order-free: readdir's order is the directory's. */
		h += fnv(fnv(14695981039346656037ULL, de->d_name, l), v,
		    sizeof(v));
	}
	closedir(d);
	return h;
}

uint64_t
integ_stamp(const struct config *cfg)
{
	return dir_stamp(dir_stamp(0, cfg->integrations_dir) * 31,
	    cfg->user_integrations_dir);
}

int
integ_refresh(struct integ_set *set, uint64_t *stamp, const struct config *cfg,
    integ_warn_fn warn)
{
	uint64_t now = integ_stamp(cfg);

	if (now == *stamp)
		return 0;
	*stamp = now;
	integ_reload(set, cfg, warn);
	return 1;
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
 * "--param: /params/signed: what" says "--param signed: what", and a
 * pointer a param sets, named in what, is named as the param too.
 */
static void
name_the_param(const struct integ *base, char *err, size_t errlen)
{
	static const char lead[] = "--param: ";
	char tmp[1024], *at;
	size_t i, n;
	json_t *e;

	json_array_foreach(base->sub_params, i, e) {
		const char *sets = json_string_value(json_object_get(e, "sets"));
		const char *name = json_string_value(json_object_get(e, "name"));

		if (sets == NULL)
			continue;
		n = strlen(sets);
		if (strncmp(err, lead, sizeof(lead) - 1) == 0 &&
		    strncmp(err + sizeof(lead) - 1, sets, n) == 0 &&
		    err[sizeof(lead) - 1 + n] == ':') {
			snprintf(tmp, sizeof(tmp), "--param %s:%s", name,
			    err + sizeof(lead) - 1 + n + 1);
			str_copy(err, tmp, errlen);
		}
		while ((at = strstr(err, sets)) != NULL && at > err &&
		    at[-1] == ' ' && (at[n] == '\0' || at[n] == ' ' ||
		    at[n] == ',' || at[n] == ';' || at[n] == ')')) {
			snprintf(tmp, sizeof(tmp), "%.*s--param %s%s",
			    (int)(at - err), err, name, at + n);
			str_copy(err, tmp, errlen);
		}
	}
}

int
integ_derive(const struct integ *base, const char *params, struct integ *out,
    char *err, size_t errlen)
{
	const char *p = params ? params : "";
	json_t *def, *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((def = json_deep_copy(base->def)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_object_del(def, "_sig_headers");
	json_object_del(def, "_read_headers");
	json_object_del(def, "_jwks_path");
	/* Every param must be one the integration takes. */
	while (*p != '\0') {
		const char *end = strchr(p, '\n'), *eq = strchr(p, '=');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int known = 0;

		if (eq != NULL && (size_t)(eq - p) < len)
			json_array_foreach(base->sub_params, i, e)
				if (strlen(json_string_value(json_object_get(e,
				    "name"))) == (size_t)(eq - p) && strncmp(p,
				    json_string_value(json_object_get(e,
				    "name")), (size_t)(eq - p)) == 0)
					known = 1;
		if (!known) {
			struct buf names = { 0 };
			int nl = eq != NULL && (size_t)(eq - p) < len ?
			    (int)(eq - p) : (int)len;

			json_array_foreach(base->sub_params, i, e)
				buf_appendf(&names, "%s%s", i ? ", " : "",
				    json_string_value(json_object_get(e,
				    "name")));
			snprintf(err, errlen, "--param %.*s: integration %s "
			    "takes no such param (%s%s)", nl, p, base->name,
			    names.len ? "it takes: " : "it takes none",
			    names.len ? names.data : "");
			buf_free(&names);
			json_decref(def);
			return -1;
		}
		p += len + (end != NULL);
	}
	json_array_foreach(base->sub_params, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *sets = json_string_value(json_object_get(e, "sets"));
		char *v = integ_param(params ? params : "", name);

		if (v == NULL && json_is_true(json_object_get(e, "required"))) {
			snprintf(err, errlen, "--param %s=... is required by "
			    "integration %s: %s", name, base->name,
			    json_string_value(json_object_get(e,
			    "description")));
			json_decref(def);
			return -1;
		}
		if (v != NULL && sets != NULL) {
			char parent[256];
			const char *slash = strrchr(sets, '/');
			json_t *obj;

			snprintf(parent, sizeof(parent), "%.*s",
			    (int)(slash - sets), sets);
			if ((obj = json_pointer_get(def, parent)) != NULL &&
			    json_object_set_new(obj, slash + 1,
			    json_string(v)) == -1) {
				snprintf(err, errlen, "--param %s: not valid "
				    "UTF-8", name);
				free(v);
				json_decref(def);
				return -1;
			}
		}
		free(v);
	}
	if (integ_check(out, def, "--param", err, errlen) == -1) {
		json_decref(def);
		memset(out, 0, sizeof(*out));
		name_the_param(base, err, errlen);
		return -1;
	}
	if (set_path(out, base->path, err, errlen) == -1) {
		json_decref(def);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
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
