#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "handshake.h"
#include "util.h"

static const char *
method_name(enum hs_method m)
{
	return m == HS_GET ? "GET" : m == HS_HEAD ? "HEAD" : "POST";
}

static int
phase_has(enum hs_phase phase, const struct handshake *h)
{
	switch (phase) {
	case HS_PHASE_RECEIVER:
		return h->in_receiver;
	case HS_PHASE_UNSIGNED:
		return !h->in_receiver && h->verify != HS_VERIFY_SIGNATURE;
	default:
		return !h->in_receiver && h->verify == HS_VERIFY_SIGNATURE;
	}
}

static json_t *
body_of(const struct hs_req *r)
{
	return r->body != NULL ? r->body(r->arg) : NULL;
}

static const char *
header_of(const struct hs_req *r, const char *name)
{
	char low[256];
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	return r->header != NULL ? r->header(r->arg, low) : NULL;
}

/*
 * A source's value as text (malloc'd), or NULL when the request has
 * none: header and query values as sent (a query's decoded), a body
 * string as it is, a body number printed.
 */
static char *
src_value(const struct hs_req *r, enum src_kind kind, const char *where)
{
	const char *s;
	json_t *v;

	switch (kind) {
	case SRC_HEADER:
		return (s = header_of(r, where)) != NULL ? strdup(s) : NULL;
	case SRC_QUERY:
		return r->query != NULL ? r->query(r->arg, where) : NULL;
	case SRC_BODY:
		v = json_pointer_get(body_of(r), where);
		if (json_is_string(v))
			return strndup(json_string_value(v),
			    json_string_length(v));
		if (json_is_integer(v)) {
			char n[32];

			snprintf(n, sizeof(n), "%lld",
			    (long long)json_integer_value(v));
			return strdup(n);
		}
		return NULL;
	case SRC_EVENT:
		return r->event != NULL && (s = r->event(r->arg)) != NULL ?
		    strdup(s) : NULL;
	default:
		return NULL;
	}
}

static int
cond_holds(const struct hs_cond *c, const struct hs_req *r)
{
	char *v;
	int ok;

	/* A body value is compared as JSON: {"type": 1} is not "1". */
	if (c->src.kind == SRC_BODY) {
		json_t *b = body_of(r), *at = json_pointer_get(b, c->src.where);

		if (c->value == NULL)
			return at != NULL;
		if (json_is_false(c->value))
			return b != NULL && at == NULL;
		return at != NULL && json_equal(at, c->value);
	}
	v = src_value(r, c->src.kind, c->src.where);
	if (c->value == NULL)
		ok = v != NULL;
	else if (json_is_false(c->value))
		ok = v == NULL;
	else if (json_is_string(c->value))
		ok = v != NULL && strcmp(v, json_string_value(c->value)) == 0;
	else {
		char n[32];

		snprintf(n, sizeof(n), "%lld",
		    (long long)json_integer_value(c->value));
		ok = v != NULL && strcmp(v, n) == 0;
	}
	free(v);
	return ok;
}

const struct handshake *
hs_match(const struct integ *ig, const struct hs_req *r, enum hs_phase phase)
{
	int i, j;

	for (i = 0; i < ig->nhs; i++) {
		const struct handshake *h = &ig->hs[i];
		char *v;

		if (!phase_has(phase, h) || strcmp(r->method,
		    method_name(h->method)) != 0)
			continue;
		/* Headers and query parameters first: the body is read only
		 * for a request they do not rule out. */
		for (j = 0; j < h->nwhen; j++)
			if ((h->when[j].src.kind == SRC_HEADER ||
			    h->when[j].src.kind == SRC_QUERY) &&
			    !cond_holds(&h->when[j], r))
				break;
		if (j < h->nwhen)
			continue;
		for (j = 0; j < h->nwhen; j++)
			if (h->when[j].src.kind != SRC_HEADER &&
			    h->when[j].src.kind != SRC_QUERY &&
			    !cond_holds(&h->when[j], r))
				break;
		if (j < h->nwhen)
			continue;
		/* A secret to adopt must be there to adopt. */
		if (h->set_secret.kind != SRC_NONE) {
			if ((v = src_value(r, h->set_secret.kind,
			    h->set_secret.where)) == NULL)
				continue;
			free(v);
		}
		return h;
	}
	return NULL;
}

static const char *
src_label(enum src_kind kind)
{
	switch (kind) {
	case SRC_HEADER:	return "header";
	case SRC_QUERY:		return "query parameter";
	case SRC_BODY:		return "body field";
	default:		return "event";
	}
}

int
hs_check(const struct handshake *h, const struct hs_req *r, char *why,
    size_t whylen)
{
	char *got, *want = NULL;
	size_t gl;
	int i, ok = 0;

	if (h->verify != HS_VERIFY_TOKEN)
		return 0;
	if ((got = src_value(r, h->token.kind, h->token.where)) == NULL) {
		snprintf(why, whylen, "the handshake has no %s %s (the verify "
		    "token)", src_label(h->token.kind), h->token.where);
		return -1;
	}
	gl = strlen(got);
	if (strcmp(h->equals, "secret") == 0) {
		for (i = 0; i < r->nsecrets; i++)
			if (r->secret_len[i] == gl && ct_equal(r->secret[i],
			    got, gl))
				ok = 1;
		if (r->nsecrets == 0)
			snprintf(why, whylen, "the subscription has no secret "
			    "to check the handshake's %s %s against",
			    src_label(h->token.kind), h->token.where);
	} else if ((want = integ_param(r->params, h->equals + 6)) == NULL)
		snprintf(why, whylen, "the subscription has no %s to check the "
		    "handshake's %s %s against (create it with --param "
		    "%s=...)", h->equals + 6, src_label(h->token.kind),
		    h->token.where, h->equals + 6);
	else
		ok = strlen(want) == gl && ct_equal(want, got, gl);
	if (!ok && (want != NULL || (strcmp(h->equals, "secret") == 0 &&
	    r->nsecrets > 0)))
		snprintf(why, whylen, "the handshake's %s %s does not match the "
		    "subscription's %s", src_label(h->token.kind),
		    h->token.where, strcmp(h->equals, "secret") == 0 ?
		    "secret" : h->equals + 6);
	if (want != NULL)
		OPENSSL_cleanse(want, strlen(want));
	free(want);
	OPENSSL_cleanse(got, gl);
	free(got);
	return ok ? 0 : -1;
}

/* Expand a value template into b: 0, or -1 with why. */
static int
expand(const char *tpl, const struct hs_req *r, struct buf *b, char *why,
    size_t whylen)
{
	struct vtpl_part part;
	size_t pos = 0;
	int rc;
	char *v;

	while ((rc = vtpl_next(tpl, &pos, &part, why, whylen)) == 1) {
		if (part.literal) {
			buf_append(b, part.text, part.len);
			continue;
		}
		if ((v = src_value(r, part.src.kind, part.src.where)) == NULL) {
			snprintf(why, whylen, "the handshake has no %s %s",
			    src_label(part.src.kind), part.src.where);
			return -1;
		}
		buf_append(b, v, strlen(v));
		free(v);
		if (b->len > HS_ANSWER_MAX) {
			snprintf(why, whylen, "the handshake's answer would be "
			    "over %d bytes", HS_ANSWER_MAX);
			return -1;
		}
	}
	return rc;
}

/*
 * An HMAC under the subscription's secret. Only a short token is signed:
 * an answer that signed anything asked would sign a forged delivery (an
 * X CRC's signature is the same HMAC as a delivery's), and no JSON body
 * fits in a token's alphabet.
 */
#define HS_TOKEN_MAX	256

static int
computed(json_t *spec, const struct hs_req *r, struct buf *b, char *why,
    size_t whylen)
{
	const char *alg = json_string_value(json_object_get(spec, "hmac"));
	const char *enc = json_string_value(json_object_get(spec, "encoding"));
	const char *pre = json_string_value(json_object_get(spec, "prefix"));
	struct buf of = { 0 };
	unsigned char mac[64];
	char out[4 * 64];
	struct iov part;
	size_t i;
	int n;

	if (r->nsecrets == 0) {
		snprintf(why, whylen, "the subscription has no secret to "
		    "answer the handshake with");
		return -1;
	}
	if (expand(json_string_value(json_object_get(spec, "of")), r, &of,
	    why, whylen) == -1) {
		buf_free(&of);
		return -1;
	}
	for (i = 0; i < of.len; i++)
		if (!isalnum((unsigned char)of.data[i]) &&
		    strchr("-._~+/=", of.data[i]) == NULL)
			break;
	if (of.len == 0 || of.len > HS_TOKEN_MAX || i < of.len) {
		snprintf(why, whylen, "the handshake's token is not 1 to %d "
		    "letters, digits and -._~+/=", HS_TOKEN_MAX);
		buf_free(&of);
		return -1;
	}
	part = (struct iov){ of.data, of.len };
	n = hmac_parts(strcmp(alg, "sha1") == 0 ? HMAC_SHA1 : strcmp(alg,
	    "sha512") == 0 ? HMAC_SHA512 : HMAC_SHA256, r->secret[0],
	    r->secret_len[0], &part, 1, mac);
	buf_free(&of);
	if (n <= 0) {
		snprintf(why, whylen, "cannot compute the HMAC");
		return -1;
	}
	if (strcmp(enc, "hex") == 0)
		hex_encode(mac, (size_t)n, out);
	else
		b64_encode(mac, (size_t)n, out);
	if (pre != NULL)
		buf_append(b, pre, strlen(pre));
	buf_append(b, out, strlen(out));
	return 0;
}

/* One value of an answer: a template or a computed {"hmac": ...}. */
static int
value(json_t *v, const struct hs_req *r, struct buf *b, char *why,
    size_t whylen)
{
	if (json_is_object(v))
		return computed(v, r, b, why, whylen);
	return expand(json_string_value(v), r, b, why, whylen);
}

/* The JSON answer: its strings expanded, its computed values computed. */
static json_t *
json_fill(json_t *v, const struct hs_req *r, char *why, size_t whylen)
{
	json_t *out, *x, *y;
	const char *k;
	size_t i;

	if (json_is_string(v) || (json_is_object(v) &&
	    json_object_get(v, "hmac") != NULL)) {
		struct buf b = { 0 };

		if (value(v, r, &b, why, whylen) == -1) {
			buf_free(&b);
			return NULL;
		}
		if ((out = json_stringn(b.data ? b.data : "", b.len)) == NULL)
			snprintf(why, whylen, "the handshake's value is not "
			    "valid UTF-8");
		buf_free(&b);
		return out;
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, x) {
			if ((y = json_fill(x, r, why, whylen)) == NULL) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, k, y);
		}
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, x) {
			if ((y = json_fill(x, r, why, whylen)) == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, y);
		}
		return out;
	}
	return json_incref(v);
}

/* A header value: printable, one line. */
static int
header_value_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
hs_answer(const struct handshake *h, const struct hs_req *r,
    struct hs_answer *a, char *why, size_t whylen)
{
	struct buf b = { 0 }, hd = { 0 };
	const char *k;
	json_t *x, *j;

	memset(a, 0, sizeof(*a));
	a->status = h->status;
	if (h->text != NULL) {
		if (value(h->text, r, &b, why, whylen) == -1)
			goto bad;
		a->ctype = "text/plain";
	} else if (h->json != NULL) {
		if ((j = json_fill(h->json, r, why, whylen)) == NULL)
			goto bad;
		b.data = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		b.len = b.data ? strlen(b.data) : 0;
		json_decref(j);
		a->ctype = "application/json";
	}
	if (a->ctype != NULL && h->ctype != NULL)
		a->ctype = h->ctype;
	if (b.len > HS_ANSWER_MAX) {
		snprintf(why, whylen, "the handshake's answer would be over %d "
		    "bytes", HS_ANSWER_MAX);
		goto bad;
	}
	/* What a request put in the answer is never taken for HTML. */
	buf_appendf(&hd, "X-Content-Type-Options: nosniff\n");
	json_object_foreach(h->headers, k, x) {
		size_t start;

		if (strcasecmp(k, "X-Content-Type-Options") == 0)
			continue;
		buf_appendf(&hd, "%s: ", k);
		start = hd.len;
		if (expand(json_string_value(x), r, &hd, why, whylen) == -1)
			goto bad;
		if (!header_value_ok(hd.data + start, hd.len - start)) {
			snprintf(why, whylen, "the handshake's %s would not fit "
			    "in a header", k);
			goto bad;
		}
		buf_append(&hd, "\n", 1);
	}
	a->body = b.data;
	a->body_len = b.len;
	a->headers = hd.data;
	return 0;
bad:
	buf_free(&b);
	buf_free(&hd);
	return -1;
}

void
hs_answer_free(struct hs_answer *a)
{
	free(a->body);
	free(a->headers);
	a->body = a->headers = NULL;
}

char *
hs_new_secret(const struct handshake *h, const struct hs_req *r)
{
	if (h->set_secret.kind == SRC_NONE)
		return NULL;
	return src_value(r, h->set_secret.kind, h->set_secret.where);
}

void
hs_describe(const struct handshake *h, char *out, size_t len)
{
	size_t n;
	int i;

	snprintf(out, len, "%s", method_name(h->method));
	for (i = 0; i < h->nwhen; i++) {
		const struct hs_cond *c = &h->when[i];
		char v[80] = "";

		n = strlen(out);
		if (c->value == NULL)
			str_copy(v, " present", sizeof(v));
		else if (json_is_false(c->value))
			str_copy(v, " absent", sizeof(v));
		else if (json_is_string(c->value))
			snprintf(v, sizeof(v), " = %.60s",
			    json_string_value(c->value));
		else
			snprintf(v, sizeof(v), " = %lld",
			    (long long)json_integer_value(c->value));
		snprintf(out + n, len - n, "%s %s%s%s%s", i ? "," : " with",
		    src_label(c->src.kind), c->src.kind == SRC_EVENT ? "" :
		    " ", c->src.where, v);
	}
	if (h->set_secret.kind != SRC_NONE) {
		n = strlen(out);
		snprintf(out + n, len - n, "%s %s %s", h->nwhen ? "," : " with",
		    src_label(h->set_secret.kind), h->set_secret.where);
	}
}

void
hs_allow(const struct integ *ig, char *out, size_t len)
{
	snprintf(out, len, "POST%s%s", ig->hs_methods & HS_GET ? ", GET" : "",
	    ig->hs_methods & HS_HEAD ? ", HEAD" : "");
}
