/*
 * JSON Web Tokens (RFC 7519, JWS compact serialization, RFC 7515):
 *
 *	HS256	HMAC-SHA256 under the subscription's secret (Netlify,
 *		monday.com)
 *	RS256	RSA PKCS#1 v1.5 with SHA-256 (Google Pub/Sub push)
 *	ES256	ECDSA P-256 with SHA-256, r||s in the token
 *
 * with the public key in the subscription's secret (PEM, base64 or hex
 * DER) or in a JWKS: the cache file of jwks_url, or jwks_file. The
 * token's "alg" must be one the definition accepts (never "none", and
 * never HS256 beside a public key). Once the signature verifies: exp,
 * nbf and iat within the tolerance, iss, aud, required and fixed claims,
 * and a claim that carries the body's digest.
 *
 * Parsing: split on '.', base64url by OpenSSL (crypto.c), JSON by
 * jansson, signatures by EVP_DigestVerify.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config.h"
#include "jwks.h"
#include "util.h"
#include "verify.h"

#define JWT_MAX		16384	/* characters of a token */

struct jwt {
	const char	*signing;	/* header "." claims, as sent */
	size_t		 signing_len;
	json_t		*header;
	json_t		*claims;
	unsigned char	*sig;
	size_t		 siglen;
	enum jwt_alg	 alg;
	const char	*alg_name;
};

static void
jwt_free(struct jwt *t)
{
	json_decref(t->header);
	json_decref(t->claims);
	free(t->sig);
	memset(t, 0, sizeof(*t));
}

/* A base64url segment as a JSON object, or NULL. */
static json_t *
segment_json(const char *s, size_t n)
{
	unsigned char *buf = malloc(n + 1);
	json_t *j = NULL;
	int len;

	if (buf == NULL)
		return NULL;
	if ((len = b64url_decode(s, n, buf, n + 1)) > 0)
		j = json_loadb((const char *)buf, (size_t)len,
		    JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static enum vresult
jwt_parse(const struct scheme_conf *sc, const char *tok, size_t n,
    struct jwt *t, const char *where, char *why, size_t whylen)
{
	static const struct {
		const char	*name;
		enum jwt_alg	 alg;
	} algs[] = { { "HS256", JWT_HS256 }, { "RS256", JWT_RS256 },
	    { "ES256", JWT_ES256 } };
	const char *d1, *d2;
	size_t i;
	int len;

	memset(t, 0, sizeof(*t));
	d1 = memchr(tok, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok)) : NULL;
	if (n > JWT_MAX || d1 == NULL || d2 == NULL || d1 == tok ||
	    d2 == d1 + 1 || d2 + 1 == tok + n || memchr(d2 + 1, '.',
	    n - (size_t)(d2 + 1 - tok)) != NULL) {
		snprintf(why, whylen, "the JWT in %s is malformed (expected "
		    "header.claims.signature in base64url)", where);
		return V_SIGNATURE;
	}
	t->signing = tok;
	t->signing_len = (size_t)(d2 - tok);
	if ((t->header = segment_json(tok, (size_t)(d1 - tok))) == NULL) {
		snprintf(why, whylen, "the JWT's header in %s is not base64url "
		    "JSON", where);
		return V_SIGNATURE;
	}
	if (json_object_get(t->header, "crit") != NULL) {
		snprintf(why, whylen, "the JWT in %s has critical extensions "
		    "(crit), which are not understood here", where);
		return V_SIGNATURE;
	}
	t->alg_name = json_string_value(json_object_get(t->header, "alg"));
	for (i = 0; t->alg_name != NULL && i < sizeof(algs) / sizeof(algs[0]);
	    i++)
		if (strcmp(t->alg_name, algs[i].name) == 0)
			t->alg = algs[i].alg;
	if (t->alg == 0 || !(sc->algs & t->alg)) {
		snprintf(why, whylen, "the JWT's alg %.20s is not accepted "
		    "(accepted: %s%s%s)", t->alg_name ? t->alg_name : "(none)",
		    sc->algs & JWT_HS256 ? "HS256 " : "",
		    sc->algs & JWT_RS256 ? "RS256 " : "",
		    sc->algs & JWT_ES256 ? "ES256" : "");
		return V_SIGNATURE;
	}
	n -= (size_t)(d2 + 1 - tok);
	if ((t->sig = malloc(n + 1)) == NULL ||
	    (len = b64url_decode(d2 + 1, n, t->sig, n + 1)) <= 0) {
		snprintf(why, whylen, "the JWT's signature in %s is not "
		    "base64url", where);
		return V_SIGNATURE;
	}
	t->siglen = (size_t)len;
	return V_OK;
}

static int
jwt_verify_pkey(const struct jwt *t, EVP_PKEY *pk)
{
	struct iov part = { t->signing, t->signing_len };
	unsigned char der[160];
	int dl;

	if (t->alg == JWT_RS256)
		return EVP_PKEY_is_a(pk, "RSA") && pkey_verify(pk, t->sig,
		    t->siglen, &part, 1);
	/* JWS carries r||s; OpenSSL verifies DER. */
	if (t->siglen != 64 || !EVP_PKEY_is_a(pk, "EC") ||
	    (dl = ecdsa_raw_to_der(t->sig, t->siglen, der, sizeof(der))) < 0)
		return 0;
	return pkey_verify(pk, der, (size_t)dl, &part, 1);
}

/* The HOOKPIPE_HOME the cache is under, read once. */
static const char *
home_dir(void)
{
	static struct config cfg;
	static int loaded;
	char err[256];

	if (!loaded && config_load(&cfg, err, sizeof(err)) == 0)
		loaded = 1;
	return loaded ? cfg.home : NULL;
}

/* Verify with the keys of a JWKS: the one with the token's kid, or, when
 * the token has none, any that fits. */
static enum vresult
jwt_verify_jwks(const struct vreq *r, const struct jwt *t, char *why,
    size_t whylen)
{
	const struct scheme_conf *sc = &r->ig->sc;
	const char *url = json_string_value(json_object_get(r->ig->params,
	    "jwks_url"));
	const char *kid = json_string_value(json_object_get(t->header, "kid"));
	char path[PATH_MAX], lwhy[PATH_MAX + 128], *file;
	const char *home;
	json_t *keys, *k;
	int64_t fetched;
	size_t i;
	int tried = 0, ok = 0;

	file = vctx_sub_param(r, "jwks_file");
	if (file != NULL)
		str_copy(path, file, sizeof(path));
	else if (sc->jwks_path != NULL)
		str_copy(path, sc->jwks_path, sizeof(path));
	else if ((home = home_dir()) == NULL || jwks_cache_path(home, url,
	    path, sizeof(path)) == -1) {
		snprintf(why, whylen, "cannot tell where the JWKS of %s is "
		    "cached", url);
		return V_UNAVAILABLE;
	}
	free(file);
	if ((keys = jwks_load(path, &fetched, lwhy, sizeof(lwhy))) == NULL) {
		if (url != NULL && sc->jwks_path == NULL)
			snprintf(why, whylen, "the keys of %s are not fetched "
			    "yet (run: hookpipe sub refresh-keys SUB)", url);
		else
			snprintf(why, whylen, "cannot read the JWKS: %s", lwhy);
		return V_UNAVAILABLE;
	}
	json_array_foreach(keys, i, k) {
		const char *kk = json_string_value(json_object_get(k, "kid"));
		EVP_PKEY *pk;

		if (i >= JWKS_KEYS_MAX)
			break;
		if (kid != NULL && (kk == NULL || strcmp(kk, kid) != 0))
			continue;
		if ((pk = jwk_pkey(k, t->alg)) == NULL)
			continue;
		tried++;
		ok = jwt_verify_pkey(t, pk);
		EVP_PKEY_free(pk);
		if (ok)
			break;
	}
	json_decref(keys);
	if (ok)
		return V_OK;
	if (tried == 0)
		snprintf(why, whylen, "no %s key%s%.80s in the JWKS%s%s",
		    t->alg_name, kid ? " with kid " : "", kid ? kid : "",
		    url ? " of " : "", url ? url : "");
	else
		snprintf(why, whylen, "the JWT's signature does not verify");
	return V_SIGNATURE;
}

static enum vresult
jwt_verify(const struct vreq *r, const struct jwt *t, char *why,
    size_t whylen)
{
	const struct scheme_conf *sc = &r->ig->sc;
	unsigned char key[1024], mac[64];
	struct iov part = { t->signing, t->signing_len };
	char kwhy[256];
	EVP_PKEY *pk;
	int s, kl, ok = 0;

	if (sc->jwks)
		return jwt_verify_jwks(r, t, why, whylen);
	for (s = 0; s < r->nsecrets && !ok; s++) {
		if (t->alg == JWT_HS256) {
			kl = vctx_secret(sc->secret_encoding, r->secret[s],
			    r->secret_len[s], key, sizeof(key));
			ok = kl >= 0 && hmac_parts(HMAC_SHA256, key,
			    (size_t)kl, &part, 1, mac) == 32 &&
			    t->siglen == 32 && ct_equal(mac, t->sig, 32);
			OPENSSL_cleanse(key, sizeof(key));
			continue;
		}
		pk = pubkey_parse((const char *)r->secret[s], r->secret_len[s],
		    t->alg == JWT_RS256 ? PKEY_RSA : PKEY_P256, kwhy,
		    sizeof(kwhy));
		if (pk != NULL)
			ok = jwt_verify_pkey(t, pk);
		EVP_PKEY_free(pk);
	}
	if (ok)
		return V_OK;
	snprintf(why, whylen, "the JWT's signature does not verify");
	return V_SIGNATURE;
}

/* A NumericDate claim: 0 absent, 1 present (*out), -1 not a number. */
static int
numeric_date(json_t *claims, const char *name, int64_t *out)
{
	json_t *v = json_object_get(claims, name);

	if (v == NULL)
		return 0;
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) > -9e15 &&
	    json_real_value(v) < 9e15)
		*out = (int64_t)json_real_value(v);
	else
		return -1;
	return 1;
}

static enum vresult
check_times(const struct vreq *r, json_t *claims, char *why, size_t whylen)
{
	static const char *const names[3] = { "exp", "nbf", "iat" };
	int64_t t, lee = r->tolerance;
	int i, rc;

	for (i = 0; i < 3; i++) {
		if ((rc = numeric_date(claims, names[i], &t)) == 0)
			continue;
		if (rc == -1) {
			snprintf(why, whylen, "the JWT's %s is not a number of "
			    "seconds", names[i]);
			return V_SIGNATURE;
		}
		if (i == 0 && r->now > t + lee) {
			snprintf(why, whylen, "the JWT expired %lld s ago "
			    "(exp; tolerance %lld s)", (long long)(r->now - t),
			    (long long)lee);
			return V_TIMESTAMP;
		}
		if (i > 0 && t > r->now + lee) {
			snprintf(why, whylen, "the JWT is %s %lld s in the "
			    "future (%s; tolerance %lld s)", i == 1 ?
			    "not valid before" : "issued",
			    (long long)(t - r->now), names[i], (long long)lee);
			return V_TIMESTAMP;
		}
	}
	return V_OK;
}

/* Does the claim (a string or a list of strings) hold one of want (a
 * string or a list)? "{url}" in want is the callback URL. */
static int
claim_matches(const struct vreq *r, json_t *claim, json_t *want)
{
	size_t i, j;
	json_t *c, *w;
	json_t *cl = json_is_array(claim) ? claim : NULL;
	json_t *wl = json_is_array(want) ? want : NULL;
	size_t cn = cl ? json_array_size(cl) : 1;
	size_t wn = wl ? json_array_size(wl) : 1;

	for (i = 0; i < cn; i++) {
		c = cl ? json_array_get(cl, i) : claim;
		if (!json_is_string(c))
			continue;
		for (j = 0; j < wn; j++) {
			const char *ws;

			w = wl ? json_array_get(wl, j) : want;
			ws = json_string_value(w);
			if (ws != NULL && strcmp(ws, "{url}") == 0)
				ws = r->url;
			if (ws != NULL && strcmp(ws, json_string_value(c)) ==
			    0)
				return 1;
		}
	}
	return 0;
}

/* The expected iss or aud: the subscription's, else the definition's. */
static json_t *
expected(const struct vreq *r, const char *name)
{
	char *s = vctx_sub_param(r, name);
	json_t *v;

	if (s != NULL) {
		v = json_string(s);
		free(s);
		return v;
	}
	v = json_object_get(r->ig->params, name);
	return v ? json_incref(v) : NULL;
}

static void
want_text(json_t *want, const struct vreq *r, char *out, size_t len)
{
	const char *s = json_string_value(json_is_array(want) ?
	    json_array_get(want, 0) : want);

	if (s != NULL && strcmp(s, "{url}") == 0)
		s = r->url;
	snprintf(out, len, "%.200s%s", s ? s : "", json_is_array(want) &&
	    json_array_size(want) > 1 ? ", ..." : "");
}

static enum vresult
check_iss_aud(const struct vreq *r, json_t *claims, char *why, size_t whylen)
{
	static const struct {
		const char	*param, *claim, *what;
	} v[2] = { { "issuer", "iss", "issuer" },
	    { "audience", "aud", "audience" } };
	json_t *want, *got;
	char w[256];
	int i;

	for (i = 0; i < 2; i++) {
		if ((want = expected(r, v[i].param)) == NULL)
			continue;
		got = json_object_get(claims, v[i].claim);
		if (got == NULL || !claim_matches(r, got, want)) {
			want_text(want, r, w, sizeof(w));
			if (got == NULL)
				snprintf(why, whylen, "the JWT has no %s claim "
				    "(expected %s)", v[i].claim, w);
			else
				snprintf(why, whylen, "wrong %s %.100s in the "
				    "JWT's %s claim (expected %s)", v[i].what,
				    json_is_string(got) ? json_string_value(got)
				    : "(a list)", v[i].claim, w);
			json_decref(want);
			return V_SIGNATURE;
		}
		json_decref(want);
	}
	return V_OK;
}

/* Fixed claims: the definition's "claims", then the subscription's
 * claim.NAME params; and the definition's "require". */
static enum vresult
check_claims(const struct vreq *r, json_t *claims, char *why, size_t whylen)
{
	json_t *req = json_object_get(r->ig->params, "require"), *v, *want;
	const char *k, *p;
	size_t i;

	if (req == NULL && json_object_get(claims, "exp") == NULL) {
		snprintf(why, whylen, "the JWT has no exp claim (it never "
		    "expires)");
		return V_SIGNATURE;
	}
	json_array_foreach(req, i, v)
		if (json_object_get(claims, json_string_value(v)) == NULL) {
			snprintf(why, whylen, "the JWT has no %.100s claim",
			    json_string_value(v));
			return V_SIGNATURE;
		}
	json_object_foreach(json_object_get(r->ig->params, "claims"), k,
	    want)
		if (!json_equal(json_object_get(claims, k), want)) {
			snprintf(why, whylen, "the JWT's %.100s claim is not "
			    "what the integration expects", k);
			return V_SIGNATURE;
		}
	for (p = r->params; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n'), *eq;
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char name[128];

		eq = memchr(p, '=', l);
		if (l > 6 && memcmp(p, "claim.", 6) == 0 && eq != NULL &&
		    (size_t)(eq - p - 6) < sizeof(name)) {
			const char *got;

			memcpy(name, p + 6, (size_t)(eq - p - 6));
			name[eq - p - 6] = '\0';
			got = json_string_value(json_object_get(claims, name));
			if (got == NULL || strlen(got) != (size_t)(p + l - eq -
			    1) || memcmp(got, eq + 1, (size_t)(p + l - eq -
			    1)) != 0) {
				snprintf(why, whylen, "the JWT's %s claim is "
				    "not the subscription's %.*s", name,
				    (int)(p + l - eq - 1), eq + 1);
				return V_SIGNATURE;
			}
		}
		p += l + (nl != NULL);
	}
	return V_OK;
}

/* A claim that carries the body's digest (Netlify's sha256). */
static enum vresult
check_digest(const struct vreq *r, json_t *claims, char *why, size_t whylen)
{
	json_t *bd = json_object_get(r->ig->params, "body_digest");
	const char *claim, *alg, *enc, *got;
	unsigned char d[64];
	char text[160];
	struct iov body = { r->body, r->body_len };
	enum hmac_alg a;
	int n;

	if (bd == NULL)
		return V_OK;
	claim = json_string_value(json_object_get(bd, "claim"));
	alg = json_string_value(json_object_get(bd, "algorithm"));
	enc = json_string_value(json_object_get(bd, "encoding"));
	a = alg == NULL || strcmp(alg, "sha256") == 0 ? HMAC_SHA256 :
	    strcmp(alg, "sha1") == 0 ? HMAC_SHA1 : HMAC_SHA512;
	if ((got = json_string_value(json_object_get(claims, claim))) ==
	    NULL) {
		snprintf(why, whylen, "the JWT has no %s claim (the body's "
		    "digest)", claim);
		return V_SIGNATURE;
	}
	if ((n = digest_parts(a, &body, 1, d)) < 0) {
		snprintf(why, whylen, "cannot hash the body");
		return V_SIGNATURE;
	}
	if (enc == NULL || strcmp(enc, "hex") == 0)
		hex_encode(d, (size_t)n, text);
	else if (strcmp(enc, "base64") == 0)
		b64_encode(d, (size_t)n, text);
	else
		b64url_encode(d, (size_t)n, text);
	if (strlen(got) != strlen(text) || (enc == NULL || strcmp(enc,
	    "hex") == 0 ? strncasecmp(got, text, strlen(text)) != 0 :
	    !ct_equal(got, text, strlen(text)))) {
		snprintf(why, whylen, "the body does not match the JWT's %s "
		    "claim (its digest)", claim);
		return V_SIGNATURE;
	}
	return V_OK;
}

enum vresult
verify_jwt(const struct vreq *r, char *why, size_t whylen)
{
	const struct scheme_conf *sc = &r->ig->sc;
	const struct psrc *src = NULL;
	struct vctx c;
	struct jwt t;
	const char *v = NULL, *where;
	char name[300];
	size_t n = 0, pl = strlen(sc->prefix);
	enum vresult res;
	int i;

	memset(&t, 0, sizeof(t));
	vctx_init(&c, r);
	for (i = 0; i < sc->nsig && v == NULL; i++)
		v = vctx_source(&c, src = &sc->sig[i], &n);
	if (v == NULL) {
		vctx_missing(&sc->sig[0], why, whylen);
		res = V_MISSING;
		goto out;
	}
	where = src->kind == PSRC_HEADER ? src->label + 7 : src->label;
	snprintf(name, sizeof(name), "%s", where);
	/* The auth scheme ("Bearer ") is case-insensitive (RFC 7235). */
	if (n < pl || strncasecmp(v, sc->prefix, pl) != 0) {
		snprintf(why, whylen, "%s does not start with \"%s\"", name,
		    sc->prefix);
		res = V_SIGNATURE;
		goto out;
	}
	if ((res = jwt_parse(sc, v + pl, n - pl, &t, name, why, whylen)) !=
	    V_OK || (res = jwt_verify(r, &t, why, whylen)) != V_OK)
		goto out;
	/* Claims are read only from a token whose signature verified. */
	if ((t.claims = segment_json(t.signing + strcspn(t.signing, ".") + 1,
	    t.signing_len - strcspn(t.signing, ".") - 1)) == NULL) {
		snprintf(why, whylen, "the JWT's claims are not a JSON object");
		res = V_SIGNATURE;
		goto out;
	}
	if ((res = check_times(r, t.claims, why, whylen)) != V_OK ||
	    (res = check_iss_aud(r, t.claims, why, whylen)) != V_OK ||
	    (res = check_claims(r, t.claims, why, whylen)) != V_OK ||
	    (res = check_digest(r, t.claims, why, whylen)) != V_OK)
		goto out;
	res = V_OK;
out:
	jwt_free(&t);
	vctx_free(&c);
	return res;
}
