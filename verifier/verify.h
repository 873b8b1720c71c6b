/*
 * Signature verification. One function per scheme, each in its own file
 * (scheme_*.c); verify_request() picks the integration's scheme. Nothing
 * here touches sockets or the database, so unit tests and fuzz targets
 * call it directly.
 */
#ifndef HP_VERIFY_H
#define HP_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto.h"
#include "integ.h"

enum vresult {
	V_OK = 0,
	V_MISSING,	/* signature headers missing: 401 */
	V_SIGNATURE,	/* no signature matched: 401 */
	V_TIMESTAMP,	/* timestamp outside tolerance: 401 */
	V_MALFORMED,	/* body or header unusable: 400 */
	V_UNAVAILABLE,	/* the keys to check with are not there yet: 503 */
};

struct header {
	const char	*name;		/* lower case */
	const char	*value;
};

struct vreq {
	const struct integ	*ig;
	const struct header	*headers;
	size_t			 nheaders;
	const unsigned char	*body;
	size_t			 body_len;
	const unsigned char	*secret[2];	/* current, and during rotation */
	size_t			 secret_len[2];
	int			 nsecrets;
	int64_t			 now;		/* seconds */
	int64_t			 tolerance;	/* seconds */
	/* The request as the sender made it: method, path, raw query, and
	 * the public URL (TRIGGER_URL + path + query). May be NULL. */
	const char		*method;
	const char		*path;
	const char		*query;
	const char		*url;
	/* The subscription's params ("k=v\n" lines), or NULL: jwt takes
	 * audience, issuer, jwks_file and claim.NAME from there. */
	const char		*params;
};

/* The header's value, or NULL. */
const char *vreq_header(const struct vreq *, const char *lname);

/* Check the signature. why gets a short reason for the 401/400 answer. */
enum vresult verify_request(const struct vreq *, char *why, size_t whylen);

/* HTTP status for a result. */
int	vresult_status(enum vresult);

/*
 * Extract the event type and delivery id the integration names. The body
 * is parsed as JSON once (*json, owned by the caller, NULL when the body
 * is not JSON and nothing needs it). V_MALFORMED when there is no type.
 */
enum vresult verify_extract(const struct vreq *, json_t **json,
	    char *type, size_t typelen, char *delivery, size_t dlen,
	    char *why, size_t whylen);
/* The same from a body parsed already (a decrypted one), or NULL. */
enum vresult verify_extract_json(const struct vreq *, json_t *json,
	    char *type, size_t typelen, char *delivery, size_t dlen,
	    char *why, size_t whylen);
/* The body as the integration reads it (JSON, or a form's), or NULL. */
json_t *verify_parse_body(const struct vreq *, json_error_t *);

/* The event type alone (for a handshake's "event" condition): 0 or -1. */
int	verify_event_type(const struct vreq *, json_t *json, char *type,
	    size_t typelen);

/* Scheme implementations, one file each. */
enum vresult verify_standard_webhooks(const struct vreq *, char *, size_t);
enum vresult verify_github(const struct vreq *, char *, size_t);
enum vresult verify_stripe(const struct vreq *, char *, size_t);
enum vresult verify_slack(const struct vreq *, char *, size_t);
enum vresult verify_hmac(const struct vreq *, char *, size_t);
enum vresult verify_ed25519(const struct vreq *, char *, size_t);
enum vresult verify_ecdsa(const struct vreq *, char *, size_t);
enum vresult verify_token(const struct vreq *, char *, size_t);
enum vresult verify_basic(const struct vreq *, char *, size_t);
enum vresult verify_jwt(const struct vreq *, char *, size_t);

/*
 * What the param-driven schemes share while they check one delivery
 * (scheme_common.c): the body parsed once, on first use, and the
 * strings made from the request, freed together.
 */
#define VCTX_OWNED_MAX	(TPL_PARTS_MAX + 8)

struct vctx {
	const struct vreq	*r;
	json_t			*json;		/* the body, or NULL */
	int			 parsed;
	void			*owned[VCTX_OWNED_MAX];
	int			 nowned;
};

void	vctx_init(struct vctx *, const struct vreq *);
void	vctx_free(struct vctx *);
/* The body as JSON (a form body as its fields), or NULL. */
json_t	*vctx_body(struct vctx *);
/* The value at a source, or NULL when it is not there. */
const char *vctx_source(struct vctx *, const struct psrc *, size_t *len);
/* "missing X-Sig header", "missing query parameter sig", ... */
void	vctx_missing(const struct psrc *, char *why, size_t whylen);
/*
 * Expand a compiled template into parts, with ts for {timestamp} and
 * secret for {secret}. The number of parts, or -1 with why (a missing
 * header, query parameter or body field).
 */
int	vctx_expand(struct vctx *, const struct tpl *, const char *ts,
	    const unsigned char *secret, size_t secretlen, struct iov *parts,
	    char *why, size_t whylen);
/*
 * A secret as the scheme uses it: raw, or decoded from base64 or hex.
 * The length in out (which holds SECRET_MAX bytes), or -1.
 */
int	vctx_secret(enum secret_encoding, const unsigned char *secret,
	    size_t n, unsigned char *out, size_t cap);
/* A timestamp in the given format as seconds; -1 when unreadable. */
int	vctx_ts_seconds(enum ts_format, const char *ts, int64_t *out);
/* The value of a subscription param, or NULL (malloc'd). */
char	*vctx_sub_param(const struct vreq *, const char *key);

/* Helpers for the schemes. */
/* 1 when the HMAC of parts under any secret equals sig. */
int	hmac_matches(const struct vreq *, enum hmac_alg, const struct iov *,
	    int nparts, const unsigned char *sig, size_t siglen);
int	hex_sig_matches(const struct vreq *, enum hmac_alg, const struct iov *,
	    int nparts, const char *hex, size_t hexlen);
/* V_OK when ts (seconds) is within the tolerance of now. */
enum vresult check_timestamp(const struct vreq *, const char *what,
	    const char *ts, char *why, size_t whylen);

/*
 * application/x-www-form-urlencoded: the JSON document in the `payload`
 * field (GitHub's form encoding), or else an object of all the fields;
 * NULL when neither.
 */
json_t *form_json(const unsigned char *body, size_t len, json_error_t *);
/* 1 when the request's body is application/x-www-form-urlencoded. */
int	body_is_form(const struct vreq *);
/* A form field's decoded value (malloc'd), or NULL. */
char	*form_field(const unsigned char *body, size_t len, const char *name,
	    size_t *outlen);

#endif
