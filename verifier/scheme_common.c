/*
 * What the param-driven schemes (hmac, ed25519, ecdsa-p256, token,
 * basic, jwt) read from a delivery: headers, query parameters, body
 * fields, the signed template, the secret and the timestamp. Templates
 * are compiled at load (integ_tpl_compile); here they are only filled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "util.h"
#include "verify.h"

void
vctx_init(struct vctx *c, const struct vreq *r)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
}

void
vctx_free(struct vctx *c)
{
	int i;

	for (i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	c->nowned = 0;
	json_decref(c->json);
	c->json = NULL;
	c->parsed = 0;
}

/* Keep p to be freed with the context; NULL (p freed) when full. */
static void *
own(struct vctx *c, void *p)
{
	if (p == NULL)
		return NULL;
	if (c->nowned == VCTX_OWNED_MAX) {
		free(p);
		return NULL;
	}
	return c->owned[c->nowned++] = p;
}

json_t *
vctx_body(struct vctx *c)
{
	json_error_t je;

	if (!c->parsed) {
		c->parsed = 1;
		c->json = body_is_form(c->r) ? form_json(c->r->body,
		    c->r->body_len, &je) : json_loadb((const char *)c->r->body,
		    c->r->body_len, JSON_REJECT_DUPLICATES, &je);
	}
	return c->json;
}

/*
 * Percent-decoding (and '+' as a space) of a form or query field, by
 * libcurl. malloc'd, NUL-terminated; NULL on failure.
 */
static char *
form_decode(const char *s, size_t n, size_t *outlen)
{
	char *raw, *dec, *out;
	size_t i;
	int dl = 0;

	if (n > INT32_MAX || (raw = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		raw[i] = s[i] == '+' ? ' ' : s[i];
	raw[n] = '\0';
	dec = curl_easy_unescape(NULL, raw, (int)n, &dl);
	free(raw);
	if (dec == NULL)
		return NULL;
	if ((out = malloc((size_t)dl + 1)) != NULL) {
		memcpy(out, dec, (size_t)dl);
		out[dl] = '\0';
		*outlen = (size_t)dl;
	}
	curl_free(dec);
	return out;
}

/* A JSON value as text: a string as it is, anything else as JSON. */
static char *
json_text(json_t *v, size_t *len)
{
	char *s;

	if (json_is_string(v)) {
		*len = json_string_length(v);
		if ((s = malloc(*len + 1)) != NULL)
			memcpy(s, json_string_value(v), *len + 1);
		return s;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL)
		*len = strlen(s);
	return s;
}

const char *
vctx_source(struct vctx *c, const struct psrc *src, size_t *len)
{
	const struct vreq *r = c->r;
	const char *v;
	json_t *j;

	switch (src->kind) {
	case PSRC_HEADER:
		if ((v = vreq_header(r, src->where)) != NULL)
			*len = strlen(v);
		return v;
	case PSRC_QUERY:
		if (r->query == NULL)
			return NULL;
		return own(c, form_field((const unsigned char *)r->query,
		    strlen(r->query), src->where, len));
	case PSRC_BODY:
		if ((j = json_pointer_get(vctx_body(c), src->where)) == NULL ||
		    json_is_null(j))
			return NULL;
		return own(c, json_text(j, len));
	}
	return NULL;
}

void
vctx_missing(const struct psrc *src, char *why, size_t whylen)
{
	switch (src->kind) {
	case PSRC_HEADER:
		snprintf(why, whylen, "missing %s header", src->label + 7);
		break;
	case PSRC_QUERY:
		snprintf(why, whylen, "missing query parameter %s",
		    src->label + 6);
		break;
	case PSRC_BODY:
		snprintf(why, whylen, "missing body field %s", src->where);
		break;
	}
}

struct field {
	char	*name, *value;
	size_t	 nlen, vlen;
};

static int
field_cmp(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = memcmp(x->name, y->name, n);

	if (c == 0 && x->nlen != y->nlen)
		c = x->nlen < y->nlen ? -1 : 1;
	if (c == 0) {
		n = x->vlen < y->vlen ? x->vlen : y->vlen;
		if ((c = memcmp(x->value, y->value, n)) == 0 &&
		    x->vlen != y->vlen)
			c = x->vlen < y->vlen ? -1 : 1;
	}
	return c;
}

#define FORM_FIELDS_MAX	1000

/*
 * Twilio's rule: every field of the form body, sorted by name (then by
 * value: a repeated name), each name then its value, decoded.
 */
static char *
form_sorted(const struct vreq *r, size_t *outlen, char *why, size_t whylen)
{
	struct field *f;
	struct buf b = { 0 };
	size_t off = 0, n = 0, i;
	const char *body = (const char *)r->body;
	int ok = 1;

	if (r->body_len > 0 && !body_is_form(r)) {
		snprintf(why, whylen, "the body is not a form "
		    "(application/x-www-form-urlencoded), which is signed");
		return NULL;
	}
	if ((f = calloc(FORM_FIELDS_MAX, sizeof(*f))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	while (ok && off < r->body_len) {
		const char *amp = memchr(body + off, '&', r->body_len - off);
		size_t flen = amp ? (size_t)(amp - (body + off)) :
		    r->body_len - off;
		const char *eq = memchr(body + off, '=', flen);
		size_t nl = eq ? (size_t)(eq - (body + off)) : flen;

		if (flen > 0) {
			if (n == FORM_FIELDS_MAX) {
				snprintf(why, whylen, "the form has more than "
				    "%d fields", FORM_FIELDS_MAX);
				ok = 0;
				break;
			}
			f[n].name = form_decode(body + off, nl, &f[n].nlen);
			f[n].value = eq ? form_decode(eq + 1, flen - nl - 1,
			    &f[n].vlen) : strdup("");
			n++;
			if (f[n - 1].name == NULL || f[n - 1].value == NULL) {
				snprintf(why, whylen, "a form field does not "
				    "decode");
				ok = 0;
			}
		}
		off += flen + 1;
	}
	if (ok) {
		qsort(f, n, sizeof(*f), field_cmp);
		/* A field repeated with the same value counts once, as
		 * Twilio's own libraries sign it. */
		for (i = 0; ok && i < n; i++)
			if (i == 0 || field_cmp(&f[i - 1], &f[i]) != 0)
				ok = buf_append(&b, f[i].name, f[i].nlen) ==
				    0 && buf_append(&b, f[i].value,
				    f[i].vlen) == 0;
		if (!ok)
			snprintf(why, whylen, "out of memory");
	}
	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
	if (!ok) {
		buf_free(&b);
		return NULL;
	}
	*outlen = b.len;
	return b.data != NULL ? b.data : strdup("");
}

int
vctx_expand(struct vctx *c, const struct tpl *t, const char *ts,
    const unsigned char *secret, size_t secretlen, struct iov *parts,
    char *why, size_t whylen)
{
	const struct vreq *r = c->r;
	struct psrc src;
	const char *v;
	size_t len;
	int i;

	for (i = 0; i < t->n; i++) {
		const struct tpl_part *p = &t->v[i];

		switch (p->kind) {
		case TPL_LIT:
			parts[i] = (struct iov){ p->lit, p->len };
			break;
		case TPL_BODY:
			parts[i] = (struct iov){ r->body, r->body_len };
			break;
		case TPL_TIMESTAMP:
			parts[i] = (struct iov){ ts ? ts : "",
			    ts ? strlen(ts) : 0 };
			break;
		case TPL_METHOD:
		case TPL_URL:
		case TPL_PATH:
			v = p->kind == TPL_METHOD ? r->method :
			    p->kind == TPL_URL ? r->url : r->path;
			if (v == NULL) {
				snprintf(why, whylen, "the request's %s is "
				    "not known here", p->kind == TPL_METHOD ?
				    "method" : p->kind == TPL_URL ? "URL" :
				    "path");
				return -1;
			}
			parts[i] = (struct iov){ v, strlen(v) };
			break;
		case TPL_SECRET:
			parts[i] = (struct iov){ secret, secret ? secretlen :
			    0 };
			break;
		case TPL_FORM_SORTED:
			if ((v = own(c, form_sorted(r, &len, why,
			    whylen))) == NULL) {
				if (why[0] == '\0')
					snprintf(why, whylen, "out of memory");
				return -1;
			}
			parts[i] = (struct iov){ v, len };
			break;
		case TPL_HEADER:
		case TPL_QUERY:
		case TPL_BODY_PTR:
			memset(&src, 0, sizeof(src));
			src.kind = p->kind == TPL_HEADER ? PSRC_HEADER :
			    p->kind == TPL_QUERY ? PSRC_QUERY : PSRC_BODY;
			str_copy(src.where, p->arg, sizeof(src.where));
			snprintf(src.label, sizeof(src.label), "%s:%s",
			    p->kind == TPL_HEADER ? "header" :
			    p->kind == TPL_QUERY ? "query" : "body", p->arg);
			if ((v = vctx_source(c, &src, &len)) == NULL) {
				vctx_missing(&src, why, whylen);
				return -1;
			}
			parts[i] = (struct iov){ v, len };
			break;
		default:
			snprintf(why, whylen, "the definition's signed "
			    "template is broken");
			return -1;
		}
	}
	return t->n;
}

int
vctx_secret(enum secret_encoding enc, const unsigned char *secret, size_t n,
    unsigned char *out, size_t cap)
{
	switch (enc) {
	case SECRET_BASE64:
		return b64url_decode((const char *)secret, n, out, cap);
	case SECRET_HEX:
		return hex_decode((const char *)secret, n, out, cap);
	case SECRET_RAW:
		break;
	}
	if (n > cap)
		return -1;
	memcpy(out, secret, n);
	return (int)n;
}

/* "2024-05-01T12:34:56Z", with optional fraction and a Z or an offset. */
static int
rfc3339_seconds(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	int64_t t;
	int sign, oh, om;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	t = (int64_t)timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 ||
		    om > 59)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	*out = t;
	return 0;
}

int
vctx_ts_seconds(enum ts_format fmt, const char *ts, int64_t *out)
{
	int64_t t;

	switch (fmt) {
	case TS_UNIX:
		return parse_i64(ts, 0, INT64_MAX / 2, out);
	case TS_UNIX_MS:
		if (parse_i64(ts, 0, INT64_MAX / 2, &t) == -1)
			return -1;
		*out = t / 1000;
		return 0;
	case TS_RFC3339:
		return rfc3339_seconds(ts, out);
	}
	return -1;
}

char *
vctx_sub_param(const struct vreq *r, const char *key)
{
	const char *p = r->params;
	size_t kl = strlen(key);

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l > kl && p[kl] == '=' && memcmp(p, key, kl) == 0)
			return strndup(p + kl + 1, l - kl - 1);
		p += l + (nl != NULL);
	}
	return NULL;
}
