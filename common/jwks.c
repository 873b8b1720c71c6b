/*
 * JWKS cache files: where they are, how they are read and written, and
 * JWKs as OpenSSL public keys (RSA from n and e, P-256 from x and y,
 * through OSSL_PARAM_BLD / EVP_PKEY_fromdata in crypto.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "jwks.h"
#include "util.h"

int
jwks_cache_path(const char *home, const char *url, char *out, size_t len)
{
	unsigned char h[32];
	char hex[65];
	int n;

	if (sha256(url, strlen(url), h) == -1)
		return -1;
	hex_encode(h, sizeof(h), hex);
	n = snprintf(out, len, "%s/cache/jwks/%s.json", home, hex);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

json_t *
jwks_load(const char *path, int64_t *fetched_at, char *why, size_t whylen)
{
	json_error_t je;
	json_t *doc, *jwks, *keys;
	struct stat st;

	if (fetched_at != NULL)
		*fetched_at = 0;
	if (stat(path, &st) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_size > JWKS_FILE_MAX) {
		snprintf(why, whylen, "%s: larger than %d bytes", path,
		    JWKS_FILE_MAX);
		return NULL;
	}
	if ((doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		snprintf(why, whylen, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	/* A cache file wraps the document; a jwks_file is the document. */
	jwks = json_object_get(doc, "jwks");
	if (jwks != NULL && fetched_at != NULL)
		*fetched_at = json_integer_value(json_object_get(doc,
		    "fetched_at"));
	keys = json_object_get(jwks ? jwks : doc, "keys");
	if (!json_is_array(keys)) {
		snprintf(why, whylen, "%s: not a JWKS (no \"keys\" list)",
		    path);
		json_decref(doc);
		return NULL;
	}
	json_incref(keys);
	json_decref(doc);
	return keys;
}

/* A base64url member of a JWK, decoded into out; its length or -1. */
static int
jwk_bytes(json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(jwk, name));

	return s ? b64url_decode(s, strlen(s), out, cap) : -1;
}

EVP_PKEY *
jwk_pkey(json_t *jwk, enum jwt_alg alg)
{
	unsigned char a[1024], b[1024];
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *use = json_string_value(json_object_get(jwk, "use"));
	const char *ka = json_string_value(json_object_get(jwk, "alg"));
	const char *crv;
	EVP_PKEY *pk = NULL;
	int al, bl;

	if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
		return NULL;
	if (alg == JWT_RS256 && strcmp(kty, "RSA") == 0 &&
	    (ka == NULL || strcmp(ka, "RS256") == 0)) {
		if ((al = jwk_bytes(jwk, "n", a, sizeof(a))) > 0 &&
		    (bl = jwk_bytes(jwk, "e", b, sizeof(b))) > 0)
			pk = pubkey_rsa(a, (size_t)al, b, (size_t)bl);
		/* Short RSA keys are refused, as in pubkey_parse. */
		if (pk != NULL && EVP_PKEY_get_bits(pk) < 2048) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	} else if (alg == JWT_ES256 && strcmp(kty, "EC") == 0 &&
	    (ka == NULL || strcmp(ka, "ES256") == 0)) {
		crv = json_string_value(json_object_get(jwk, "crv"));
		if (crv != NULL && strcmp(crv, "P-256") == 0 &&
		    (al = jwk_bytes(jwk, "x", a, sizeof(a))) == 32 &&
		    (bl = jwk_bytes(jwk, "y", b, sizeof(b))) == 32)
			pk = pubkey_p256(a, 32, b, 32);
	}
	return pk;
}

int
jwks_check(json_t *doc, char *why, size_t whylen)
{
	json_t *keys = json_object_get(doc, "keys"), *k;
	size_t i;
	int n = 0;

	if (!json_is_array(keys)) {
		snprintf(why, whylen, "not a JWKS: no \"keys\" list");
		return -1;
	}
	if (json_array_size(keys) > JWKS_KEYS_MAX) {
		snprintf(why, whylen, "more than %d keys", JWKS_KEYS_MAX);
		return -1;
	}
	json_array_foreach(keys, i, k) {
		EVP_PKEY *pk = jwk_pkey(k, JWT_RS256);

		if (pk == NULL)
			pk = jwk_pkey(k, JWT_ES256);
		n += pk != NULL;
		EVP_PKEY_free(pk);
	}
	if (n == 0) {
		snprintf(why, whylen, "no RSA (2048 bits or more) or P-256 "
		    "signing key among its %zu keys", json_array_size(keys));
		return -1;
	}
	return n;
}

/* mkdir -p of home/cache/jwks, 0700. */
static int
cache_dir(const char *home, char *err, size_t errlen)
{
	char d[PATH_MAX];
	const char *const sub[] = { "/cache", "/cache/jwks" };
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(d, sizeof(d), "%s%s", home, sub[i]);
		if (mkdir(d, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", d,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
jwks_cache_write(const char *home, const char *url, json_t *jwks,
    int64_t now, int64_t max_age, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	json_t *doc;
	char *text;
	size_t n;
	int fd, ok;

	err[0] = '\0';
	if (max_age < 0)
		max_age = JWKS_REFRESH_S;
	if (max_age < JWKS_MIN_S)
		max_age = JWKS_MIN_S;
	if (max_age > JWKS_MAX_S)
		max_age = JWKS_MAX_S;
	if (jwks_cache_path(home, url, path, sizeof(path)) == -1 ||
	    cache_dir(home, err, errlen) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "the cache path is too long");
		return -1;
	}
	doc = json_pack("{s:s, s:I, s:I, s:O}", "url", url, "fetched_at",
	    (json_int_t)now, "next_at", (json_int_t)(now + max_age), "jwks",
	    jwks);
	text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A reader sees the old file or the new one, never half of one. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	n = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	if (fd >= 0)
		ok = close(fd) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	free(text);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
