#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "verify.h"

const char *
vreq_header(const struct vreq *r, const char *lname)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, lname) == 0)
			return r->headers[i].value;
	return NULL;
}

int
vresult_status(enum vresult v)
{
	switch (v) {
	case V_OK:		return 200;
	case V_MALFORMED:	return 400;
	case V_UNAVAILABLE:	return 503;
	default:		return 401;
	}
}

struct scheme {
	const char	*name;
	enum vresult	(*verify)(const struct vreq *, char *, size_t);
};

static const struct scheme schemes[] = {
	{ "standard-webhooks",	verify_standard_webhooks },
	{ "github",		verify_github },
	{ "stripe",		verify_stripe },
	{ "slack",		verify_slack },
	{ "hmac",		verify_hmac },
	{ "token",		verify_token },
	{ "basic",		verify_basic },
	{ "ed25519",		verify_ed25519 },
	{ "ecdsa-p256",		verify_ecdsa },
	{ "jwt",		verify_jwt },
};

enum vresult
verify_request(const struct vreq *r, char *why, size_t whylen)
{
	size_t i;

	/* A JWKS integration's keys are the sender's, not a secret. */
	if (r->nsecrets == 0 && !integ_scheme_keyless(r->ig)) {
		snprintf(why, whylen, "the subscription has no signing secret "
		    "(set one with: hookpipe sub edit --secret)");
		return V_SIGNATURE;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcmp(schemes[i].name, r->ig->scheme) == 0)
			return schemes[i].verify(r, why, whylen);
	snprintf(why, whylen, "unknown signature scheme %s", r->ig->scheme);
	return V_SIGNATURE;
}

/* Copy a JSON scalar as text: strings as they are, numbers printed. */
static int
json_scalar(json_t *v, char *out, size_t len)
{
	if (json_is_string(v)) {
		if (json_string_length(v) == 0 || json_string_length(v) >= len ||
		    memchr(json_string_value(v), '\0',
		    json_string_length(v)) != NULL)
			return -1;
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
		return 0;
	}
	return -1;
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* A query parameter, decoded, into out: 0, or -1. */
static int
query_value(const struct vreq *r, const char *name, char *out, size_t len)
{
	size_t n = 0;
	char *v;
	int rc = -1;

	if (r->query == NULL || (v = form_field((const unsigned char *)
	    r->query, strlen(r->query), name, &n)) == NULL)
		return -1;
	if (n > 0 && n < len && memchr(v, '\0', n) == NULL) {
		memcpy(out, v, n + 1);
		rc = 0;
	}
	free(v);
	return rc;
}

/* One placeholder of a template, or a plain source, into out. */
static int
source_value(const struct vreq *r, enum src_kind kind, const char *where,
    json_t *json, char *out, size_t len, int strings_only)
{
	const char *h;

	switch (kind) {
	case SRC_HEADER:
		h = vreq_header(r, where);
		if (h == NULL || *h == '\0' || strlen(h) >= len)
			return -1;
		memcpy(out, h, strlen(h) + 1);
		return 0;
	case SRC_BODY:
		if (json == NULL || (strings_only && !json_is_string(
		    json_pointer_get(json, where))))
			return -1;
		return json_scalar(json_pointer_get(json, where), out, len);
	case SRC_QUERY:
		return query_value(r, where, out, len);
	default:
		return -1;
	}
}

/*
 * A template: literal text and placeholders. The first placeholder must
 * have a value; a later one that has none is left out with the literal
 * text just before it, so "{header:X-GitHub-Event}.{body:/action}" gives
 * "issues.opened", or "ping" for an event without an action. *head and
 * *headlen tell where the first placeholder's value is in out.
 */
static int
template_value(const struct vreq *r, const char *tpl, json_t *json,
    char *out, size_t len, int strings_only, size_t *head, size_t *headlen)
{
	struct vtpl_part part, pending;
	char v[256], why[8];
	size_t pos = 0, n = 0, vl;
	int first = 1, have_pending = 0;

#define PUT(p, l) do {							\
	if (n + (l) >= len)						\
		return -1;						\
	memcpy(out + n, (p), (l));					\
	n += (l);							\
} while (0)
	while (vtpl_next(tpl, &pos, &part, why, sizeof(why)) == 1) {
		if (part.literal) {
			if (first)
				PUT(part.text, part.len);
			else {
				pending = part;
				have_pending = 1;
			}
			continue;
		}
		if (source_value(r, part.src.kind, part.src.where, json, v,
		    sizeof(v), strings_only) == -1) {
			if (first)
				return -1;
			have_pending = 0;
			continue;
		}
		vl = strlen(v);
		if (have_pending)
			PUT(pending.text, pending.len);
		have_pending = 0;
		if (first) {
			*head = n;
			*headlen = vl;
		}
		PUT(v, vl);
		first = 0;
	}
	if (have_pending)
		PUT(pending.text, pending.len);
#undef PUT
	out[n] = '\0';
	return first ? -1 : 0;
}

/* The first of the keys the object at the pointer ("/": the body) has. */
static int
first_key(const struct source *src, json_t *json, char *out, size_t len)
{
	json_t *obj, *k;
	size_t i;

	obj = json == NULL ? NULL : strcmp(src->where, "/") == 0 ? json :
	    json_pointer_get(json, src->where);
	if (!json_is_object(obj))
		return -1;
	json_array_foreach(src->keys, i, k)
		if (json_object_get(obj, json_string_value(k)) != NULL &&
		    json_string_length(k) < len) {
			memcpy(out, json_string_value(k),
			    json_string_length(k) + 1);
			return 0;
		}
	return -1;
}

/* 1 when every condition of a conditional source holds. */
static int
src_when_holds(const struct vreq *r, const struct source *src, json_t *json)
{
	const struct src_cond *c;
	char v[256], n[32];
	const char *want;
	json_t *at;
	int i, have;

	for (i = 0; i < src->nwhen; i++) {
		c = &src->when[i];
		/* A body value is compared as JSON: {"type": 1} is not "1". */
		if (c->kind == SRC_BODY) {
			at = json == NULL ? NULL : json_pointer_get(json,
			    c->where);
			if (c->value == NULL)
				have = at != NULL;
			else if (json_is_false(c->value))
				have = json != NULL && at == NULL;
			else
				have = at != NULL && json_equal(at, c->value);
			if (!have)
				return 0;
			continue;
		}
		have = source_value(r, c->kind, c->where, NULL, v, sizeof(v),
		    0) == 0;
		if (c->value == NULL || json_is_false(c->value)) {
			if (have != (c->value == NULL))
				return 0;
			continue;
		}
		if (json_is_integer(c->value)) {
			snprintf(n, sizeof(n), "%lld",
			    (long long)json_integer_value(c->value));
			want = n;
		} else
			want = json_string_value(c->value);
		if (!have || strcmp(v, want) != 0)
			return 0;
	}
	return 1;
}

static enum vresult
extract_src(const struct vreq *r, const struct source *src, json_t *json,
    char *out, size_t len, int strings_only, size_t *head, size_t *headlen)
{
	int rc;

	*head = 0;
	if (!src_when_holds(r, src, json))
		return V_MALFORMED;
	switch (src->kind) {
	case SRC_NONE:
		out[0] = '\0';
		*headlen = 0;
		return V_OK;
	case SRC_FIXED:
		rc = strlen(src->where) < len ? 0 : -1;
		if (rc == 0)
			memcpy(out, src->where, strlen(src->where) + 1);
		break;
	case SRC_TEMPLATE:
		if (template_value(r, src->where, json, out, len, strings_only,
		    head, headlen) == -1)
			return V_MALFORMED;
		return printable(out) ? V_OK : V_MALFORMED;
	case SRC_FIRST_KEY:
		rc = first_key(src, json, out, len);
		break;
	default:
		rc = source_value(r, src->kind, src->where, json, out, len,
		    strings_only);
		break;
	}
	if (rc == -1)
		return V_MALFORMED;
	*headlen = strlen(out);
	return printable(out) ? V_OK : V_MALFORMED;
}

/* The first of the alternatives that yields a value. */
static enum vresult
extract_one(const struct vreq *r, const struct sources *srcs, json_t *json,
    char *out, size_t len, int strings_only, size_t *head, size_t *headlen)
{
	int i;

	for (i = 0; i < srcs->n; i++)
		if (extract_src(r, &srcs->v[i], json, out, len,
		    strings_only, head, headlen) == V_OK)
			return V_OK;
	return V_MALFORMED;
}

static int
needs_body(const struct sources *srcs)
{
	int i, j;

	for (i = 0; i < srcs->n; i++) {
		for (j = 0; j < srcs->v[i].nwhen; j++)
			if (srcs->v[i].when[j].kind == SRC_BODY)
				return 1;
		if (srcs->v[i].kind == SRC_BODY ||
		    srcs->v[i].kind == SRC_FIRST_KEY ||
		    (srcs->v[i].kind == SRC_TEMPLATE &&
		    strstr(srcs->v[i].where, "{body:") != NULL))
			return 1;
	}
	return 0;
}

int
verify_event_type(const struct vreq *r, json_t *json, char *type,
    size_t typelen)
{
	size_t head, headlen;

	return extract_one(r, &r->ig->event_type, json, type, typelen, 1,
	    &head, &headlen) == V_OK ? 0 : -1;
}

/* For "no event type": where the first alternative looks. */
static const char *
source_desc(const struct source *src, char *out, size_t len)
{
	switch (src->kind) {
	case SRC_HEADER:
		snprintf(out, len, "header %s", src->where);
		break;
	case SRC_BODY:
		snprintf(out, len, "JSON pointer %s", src->where);
		break;
	case SRC_QUERY:
		snprintf(out, len, "query parameter %s", src->where);
		break;
	case SRC_TEMPLATE:
		snprintf(out, len, "template %s", src->where);
		break;
	case SRC_FIRST_KEY:
		snprintf(out, len, "none of the keys at %s", src->where[0] ?
		    src->where : "/");
		break;
	default:
		snprintf(out, len, "%s", src->where);
		break;
	}
	return out;
}

/*
 * Bodies of `application/x-www-form-urlencoded`: the JSON document in the
 * `payload` field (GitHub, Slack interactivity), or else the fields
 * themselves as an object (Slack slash commands).
 */
int
body_is_form(const struct vreq *r)
{
	const char *ct = vreq_header(r, "content-type");

	return ct != NULL && strncasecmp(ct,
	    "application/x-www-form-urlencoded", 33) == 0;
}

json_t *
verify_parse_body(const struct vreq *r, json_error_t *je)
{
	if (body_is_form(r))
		return form_json(r->body, r->body_len, je);
	return json_loadb((const char *)r->body, r->body_len,
	    JSON_REJECT_DUPLICATES, je);
}

enum vresult
verify_extract(const struct vreq *r, json_t **json, char *type,
    size_t typelen, char *delivery, size_t dlen, char *why, size_t whylen)
{
	const struct integ *ig = r->ig;
	json_error_t je;

	*json = verify_parse_body(r, &je);
	if (*json == NULL && (needs_body(&ig->event_type) ||
	    needs_body(&ig->delivery_id) || ig->require_json)) {
		snprintf(why, whylen, "body is not valid JSON (line %d: %s)",
		    je.line, je.text);
		return V_MALFORMED;
	}
	return verify_extract_json(r, *json, type, typelen, delivery, dlen,
	    why, whylen);
}

enum vresult
verify_extract_json(const struct vreq *r, json_t *json, char *type,
    size_t typelen, char *delivery, size_t dlen, char *why, size_t whylen)
{
	const struct integ *ig = r->ig;
	char desc[300];
	size_t head, headlen;

	/* An event type is a name: a number there is a malformed body. A
	 * delivery id may be a number (an id is an id). */
	if (extract_one(r, &ig->event_type, json, type, typelen, 1, &head,
	    &headlen) != V_OK) {
		snprintf(why, whylen, "no event type (%s)", source_desc(
		    &ig->event_type.v[0], desc, sizeof(desc)));
		return V_MALFORMED;
	}
	/*
	 * An unsigned event header (GitHub's X-GitHub-Event) must agree with
	 * the signed body: a signed push must not fire release triggers. A
	 * template's shapes name its first part (the header's).
	 */
	if (ig->event_shapes != NULL) {
		char part[256];
		int shaped;
		const char *b;

		snprintf(part, sizeof(part), "%.*s", (int)headlen, type + head);
		b = integ_body_event(ig, json, part, &shaped);
		if ((b != NULL && strcmp(b, part) != 0) || (b == NULL &&
		    shaped)) {
			snprintf(why, whylen, "the event type %s contradicts "
			    "the body, which %s%s%s", part, b ? "is a " :
			    "is not a ", b ? b : part, " event");
			return V_MALFORMED;
		}
	}
	/* Without a delivery id (a handshake, say) there is nothing to
	 * dedupe on: the caller uses the event's own id. */
	if (extract_one(r, &ig->delivery_id, json, delivery, dlen, 0, &head,
	    &headlen) != V_OK)
		delivery[0] = '\0';
	return V_OK;
}

int
hmac_matches(const struct vreq *r, enum hmac_alg alg, const struct iov *parts,
    int nparts, const unsigned char *sig, size_t siglen)
{
	unsigned char mac[64];
	int s, n;

	for (s = 0; s < r->nsecrets; s++) {
		n = hmac_parts(alg, r->secret[s], r->secret_len[s], parts,
		    nparts, mac);
		if (n > 0 && (size_t)n == siglen && ct_equal(mac, sig, siglen))
			return 1;
	}
	return 0;
}

int
hex_sig_matches(const struct vreq *r, enum hmac_alg alg,
    const struct iov *parts, int nparts, const char *hex, size_t hexlen)
{
	unsigned char sig[64];
	int n = hex_decode(hex, hexlen, sig, sizeof(sig));

	return n > 0 && hmac_matches(r, alg, parts, nparts, sig, (size_t)n);
}

enum vresult
check_timestamp(const struct vreq *r, const char *what, const char *ts,
    char *why, size_t whylen)
{
	int64_t t;

	if (parse_i64(ts, 0, INT64_MAX / 2, &t) == -1) {
		snprintf(why, whylen, "%s is not a number of seconds", what);
		return V_TIMESTAMP;
	}
	if (t < r->now - r->tolerance || t > r->now + r->tolerance) {
		snprintf(why, whylen, "%s is %lld s %s, outside the tolerance "
		    "of %lld s", what, (long long)(t < r->now ? r->now - t :
		    t - r->now), t < r->now ? "old" : "ahead",
		    (long long)r->tolerance);
		return V_TIMESTAMP;
	}
	return V_OK;
}
