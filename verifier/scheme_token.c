/*
 * Shared secrets sent as they are:
 *
 *	token	the secret in a header, a query parameter or a body field
 *		(GitLab's X-Gitlab-Token, Telegram's secret token, Google
 *		channel tokens); a body pointer with a "*" step covers every
 *		element of an array, and every one must match (the
 *		clientState of each of Microsoft Graph's notifications)
 *	basic	HTTP Basic credentials, the secret being user:password
 *
 * Both compare digests in constant time: the time taken tells neither
 * how much of a guess was right nor how long the secret is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "verify.h"

#define TOKENS_MAX	64

/* 1 when the value equals one of the subscription's secrets. */
static int
secret_equal(const struct vreq *r, const void *v, size_t n)
{
	unsigned char a[32], b[32];
	int s, ok = 0;

	if (sha256(v, n, a) == -1)
		return 0;
	for (s = 0; s < r->nsecrets; s++)
		if (sha256(r->secret[s], r->secret_len[s], b) == 0 &&
		    ct_equal(a, b, sizeof(a)))
			ok = 1;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

/*
 * The values at a pointer whose "*" steps stand for every element of an
 * array, with the concrete pointer of each in paths. -1 when a step that
 * should be an array is not.
 */
static int
collect(json_t *root, const char *ptr, const char *done, json_t **out,
    char paths[][256], int *n)
{
	const char *star = strstr(ptr, "/*");
	char head[256];
	size_t hl, i;
	json_t *arr, *e;

	while (star != NULL && star[2] != '\0' && star[2] != '/')
		star = strstr(star + 1, "/*");
	if (star == NULL) {
		if (*n == TOKENS_MAX)
			return -1;
		out[*n] = json_pointer_get(root, ptr);
		snprintf(paths[*n], 256, "%s%s", done, ptr);
		(*n)++;
		return 0;
	}
	hl = (size_t)(star - ptr);
	if (hl >= sizeof(head))
		return -1;
	memcpy(head, ptr, hl);
	head[hl] = '\0';
	if (!json_is_array(arr = json_pointer_get(root, head)))
		return -1;
	json_array_foreach(arr, i, e) {
		char d[256];
		int dl = snprintf(d, sizeof(d), "%s%s/%zu", done, head, i);

		if (dl < 0 || (size_t)dl >= sizeof(d) || collect(e, star + 2,
		    d, out, paths, n) == -1)
			return -1;
	}
	return 0;
}

static enum vresult
token_body(struct vctx *c, const struct psrc *src, char *why, size_t whylen)
{
	json_t *vals[TOKENS_MAX];
	char (*paths)[256];
	int n = 0, i;
	size_t pl = strlen(c->r->ig->sc.prefix);
	enum vresult res = V_OK;

	if ((paths = calloc(TOKENS_MAX, 256)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return V_MALFORMED;
	}
	if (vctx_body(c) == NULL || collect(c->json, src->where, "", vals,
	    paths, &n) == -1 || n == 0) {
		snprintf(why, whylen, "missing body field %s%s", src->where,
		    n == TOKENS_MAX ? " (more than 64 values)" : "");
		res = V_MISSING;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(vals[i]);
		size_t sl = s ? json_string_length(vals[i]) : 0;

		if (vals[i] == NULL) {
			snprintf(why, whylen, "missing body field %s",
			    paths[i]);
			res = V_MISSING;
			break;
		}
		if (s == NULL || sl < pl || memcmp(s, c->r->ig->sc.prefix,
		    pl) != 0 || !secret_equal(c->r, s + pl, sl - pl)) {
			snprintf(why, whylen, "body field %s does not match",
			    paths[i]);
			res = V_SIGNATURE;
			break;
		}
	}
out:
	free(paths);
	return res;
}

enum vresult
verify_token(const struct vreq *r, char *why, size_t whylen)
{
	const struct scheme_conf *sc = &r->ig->sc;
	const struct psrc *src = NULL;
	const char *v = NULL;
	struct vctx c;
	size_t n = 0, pl = strlen(sc->prefix);
	enum vresult res;
	int i;

	vctx_init(&c, r);
	for (i = 0; i < sc->nsig && v == NULL; i++) {
		src = &sc->sig[i];
		if (src->kind == PSRC_BODY) {
			/* The first body pointer that finds anything. */
			if ((res = token_body(&c, src, why, whylen)) !=
			    V_MISSING || i + 1 == sc->nsig)
				goto out;
			continue;
		}
		v = vctx_source(&c, src, &n);
	}
	if (v == NULL) {
		vctx_missing(&sc->sig[0], why, whylen);
		res = V_MISSING;
		goto out;
	}
	res = V_OK;
	if (n < pl || memcmp(v, sc->prefix, pl) != 0 ||
	    !secret_equal(r, v + pl, n - pl)) {
		if (src->kind == PSRC_HEADER)
			snprintf(why, whylen, "%s does not match",
			    src->label + 7);
		else
			snprintf(why, whylen, "query parameter %s does not "
			    "match", src->label + 6);
		res = V_SIGNATURE;
	}
out:
	vctx_free(&c);
	return res;
}

enum vresult
verify_basic(const struct vreq *r, char *why, size_t whylen)
{
	const char *h = vreq_header(r, "authorization");
	unsigned char cred[768];
	size_t n;
	int len;

	if (h == NULL) {
		snprintf(why, whylen, "missing Authorization header");
		return V_MISSING;
	}
	if (strncasecmp(h, "Basic ", 6) != 0) {
		snprintf(why, whylen, "Authorization is not Basic credentials");
		return V_SIGNATURE;
	}
	for (h += 6; *h == ' '; h++)
		;
	for (n = strlen(h); n > 0 && h[n - 1] == ' '; n--)
		;
	if ((len = b64_decode(h, n, cred, sizeof(cred))) <= 0 ||
	    memchr(cred, ':', (size_t)len) == NULL) {
		snprintf(why, whylen, "the Basic credentials in Authorization "
		    "are not base64 of user:password");
		OPENSSL_cleanse(cred, sizeof(cred));
		return V_SIGNATURE;
	}
	if (!secret_equal(r, cred, (size_t)len)) {
		snprintf(why, whylen, "the Basic credentials in Authorization "
		    "do not match");
		OPENSSL_cleanse(cred, sizeof(cred));
		return V_SIGNATURE;
	}
	OPENSSL_cleanse(cred, sizeof(cred));
	return V_OK;
}
