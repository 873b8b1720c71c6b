/*
 * JSON Web Key Sets (RFC 7517) for the jwt scheme. The verifier has no
 * network: the CLI (sub create, sub refresh-keys) and the dispatcher (on
 * a timer) fetch a definition's jwks_url and write it, atomically, to
 *
 *	$HOOKPIPE_HOME/cache/jwks/<hex SHA-256 of the URL>.json
 *
 * as {"url", "fetched_at", "next_at", "jwks": {"keys": [...]}}; the
 * verifier reads that file (or a jwks_file, a plain JWKS, for offline
 * use).
 */
#ifndef HP_JWKS_H
#define HP_JWKS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/types.h>

#include "integ.h"

#define JWKS_FILE_MAX	(1 << 20)	/* bytes of a JWKS document */
#define JWKS_KEYS_MAX	64
#define JWKS_REFRESH_S	3600		/* without Cache-Control max-age */
#define JWKS_MIN_S	300		/* at most this often, and after a
					   failed fetch */
#define JWKS_MAX_S	86400		/* at least daily */

/* The cache file of a URL; -1 when it does not fit. */
int	jwks_cache_path(const char *home, const char *url, char *out,
	    size_t len);
/*
 * The keys of a cache file or of a plain JWKS file (a new reference to
 * its "keys" array), or NULL with why. *fetched_at (may be NULL) gets
 * when a cache file was fetched, 0 for a plain file.
 */
json_t	*jwks_load(const char *path, int64_t *fetched_at, char *why,
	    size_t whylen);
/* Is doc a JWKS? The number of keys usable for RS256 or ES256, or -1. */
int	jwks_check(json_t *doc, char *why, size_t whylen);
/*
 * A JWK as a public key for alg (JWT_RS256: kty RSA; JWT_ES256: kty EC,
 * crv P-256), or NULL when it is not one; a key whose "use" is not "sig"
 * or whose "alg" is another is not one either.
 */
EVP_PKEY *jwk_pkey(json_t *jwk, enum jwt_alg alg);
/*
 * Write a fetched JWKS document into its cache file (atomically: a
 * temporary file, fsync, rename), next due after max_age seconds
 * (clamped to JWKS_MIN_S..JWKS_MAX_S; -1: JWKS_REFRESH_S).
 */
int	jwks_cache_write(const char *home, const char *url, json_t *jwks,
	    int64_t now, int64_t max_age, char *err, size_t errlen);

/*
 * Fetch url (GET, 20 s at most, 1 MiB at most), check that it is a JWKS
 * and write its cache file. The number of usable keys, or -1 with err.
 * (jwks_fetch.c: libcurl, linked only by the CLI and the dispatcher.)
 */
int	jwks_fetch(const char *home, const char *url, char *err,
	    size_t errlen);

#endif
