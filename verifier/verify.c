#include <stdio.h>
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

static enum vresult
extract_src(const struct vreq *r, const struct source *src, json_t *json,
    char *out, size_t len, int strings_only)
{
	const char *h;

	switch (src->kind) {
	case SRC_NONE:
		out[0] = '\0';
		return V_OK;
	case SRC_HEADER:
		h = vreq_header(r, src->where);
		if (h == NULL || *h == '\0' || strlen(h) >= len)
			return V_MALFORMED;
		memcpy(out, h, strlen(h) + 1);
		break;
	case SRC_BODY:
		if (json == NULL || (strings_only && !json_is_string(
		    json_pointer_get(json, src->where))) || json_scalar(
		    json_pointer_get(json, src->where), out, len) == -1)
			return V_MALFORMED;
		break;
	}
	return printable(out) ? V_OK : V_MALFORMED;
}

/* The first of the alternatives that yields a value. */
static enum vresult
extract_one(const struct vreq *r, const struct sources *srcs, json_t *json,
    char *out, size_t len, int strings_only)
{
	int i;

	for (i = 0; i < srcs->n; i++)
		if (extract_src(r, &srcs->v[i], json, out, len,
		    strings_only) == V_OK)
			return V_OK;
	return V_MALFORMED;
}

static int
needs_body(const struct sources *srcs)
{
	int i;

	for (i = 0; i < srcs->n; i++)
		if (srcs->v[i].kind == SRC_BODY)
			return 1;
	return 0;
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

static json_t *
parse_body(const struct vreq *r, json_error_t *je)
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

	*json = parse_body(r, &je);
	if (*json == NULL && (needs_body(&ig->event_type) ||
	    needs_body(&ig->delivery_id) || ig->require_json)) {
		snprintf(why, whylen, "body is not valid JSON (line %d: %s)",
		    je.line, je.text);
		return V_MALFORMED;
	}
	/* An event type is a name: a number there is a malformed body. A
	 * delivery id may be a number (an id is an id). */
	if (extract_one(r, &ig->event_type, *json, type, typelen, 1) != V_OK) {
		snprintf(why, whylen, "no event type (%s %s)",
		    ig->event_type.v[0].kind == SRC_HEADER ? "header" :
		    "JSON pointer", ig->event_type.v[0].where);
		return V_MALFORMED;
	}
	/*
	 * An unsigned event header (GitHub's X-GitHub-Event) must agree with
	 * the signed body: a signed push must not fire release triggers.
	 */
	if (ig->event_shapes != NULL) {
		int shaped;
		const char *b = integ_body_event(ig, *json, type, &shaped);

		if ((b != NULL && strcmp(b, type) != 0) || (b == NULL &&
		    shaped)) {
			snprintf(why, whylen, "the event type %s contradicts "
			    "the body, which %s%s%s", type, b ? "is a " :
			    "is not a ", b ? b : type, " event");
			return V_MALFORMED;
		}
	}
	/* Without a delivery id (a handshake, say) there is nothing to
	 * dedupe on: the caller uses the event's own id. */
	if (extract_one(r, &ig->delivery_id, *json, delivery, dlen, 0) != V_OK)
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
