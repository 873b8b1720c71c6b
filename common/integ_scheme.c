/*
 * The scheme vocabulary of definition files: each scheme's params are
 * checked and compiled here once, at load, so that a broken definition
 * is refused with its JSON pointer and the verifier never meets one.
 *
 *	hmac		an HMAC (or a digest) of a template of the request
 *	ed25519		an Ed25519 signature of the same kind of template
 *	ecdsa-p256	an ECDSA P-256 / SHA-256 signature of one
 *	token		a shared secret sent as it is
 *	basic		HTTP Basic credentials, user:password
 *	jwt		a JSON Web Token (HS256, RS256, ES256)
 *
 * and the four fixed ones, standard-webhooks, github, stripe and slack,
 * which take no params but standard-webhooks' header_prefix.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "integ.h"
#include "util.h"

static const struct {
	const char	*name;
	enum scheme_id	 id;
} schemes[] = {
	{ "standard-webhooks",	SCHEME_STANDARD },
	{ "github",		SCHEME_GITHUB },
	{ "stripe",		SCHEME_STRIPE },
	{ "slack",		SCHEME_SLACK },
	{ "hmac",		SCHEME_HMAC },
	{ "token",		SCHEME_TOKEN },
	{ "basic",		SCHEME_BASIC },
	{ "ed25519",		SCHEME_ED25519 },
	{ "ecdsa-p256",		SCHEME_ECDSA },
	{ "jwt",		SCHEME_JWT },
};
#define NSCHEMES	(sizeof(schemes) / sizeof(schemes[0]))

int
integ_scheme_known(const char *scheme)
{
	size_t i;

	for (i = 0; i < NSCHEMES; i++)
		if (strcmp(schemes[i].name, scheme) == 0)
			return 1;
	return 0;
}

const char *
integ_scheme_names(void)
{
	return "standard-webhooks, github, stripe, slack, hmac, token, basic, "
	    "ed25519, ecdsa-p256, jwt";
}

/* --- templates ---------------------------------------------------- */

static const struct {
	const char	*name;		/* after "{", up to ":" or "}" */
	enum tpl_kind	 kind;
	int		 arg;		/* 1: takes ":ARG"; 0: none */
} placeholders[] = {
	{ "body",	TPL_BODY,	0 },
	{ "body",	TPL_BODY_PTR,	1 },
	{ "timestamp",	TPL_TIMESTAMP,	0 },
	{ "header",	TPL_HEADER,	1 },
	{ "query",	TPL_QUERY,	1 },
	{ "method",	TPL_METHOD,	0 },
	{ "url",	TPL_URL,	0 },
	{ "path",	TPL_PATH,	0 },
	{ "form",	TPL_FORM_SORTED, 1 },	/* only {form:sorted} */
	{ "secret",	TPL_SECRET,	0 },
};
#define NPLACEHOLDERS	(sizeof(placeholders) / sizeof(placeholders[0]))

static const char known_placeholders[] = "{body}, {body:/pointer}, "
    "{timestamp}, {header:NAME}, {query:NAME}, {method}, {url}, {path}, "
    "{form:sorted}";

/* One placeholder, "{...}" of n bytes; -1 with err. */
static int
tpl_placeholder(const char *open, size_t n, unsigned allowed,
    struct tpl_part *part, char *err, size_t errlen)
{
	const char *in = open + 1, *colon;
	size_t inl = n - 2, nl, al, i, k;

	colon = memchr(in, ':', inl);
	nl = colon ? (size_t)(colon - in) : inl;
	al = colon ? inl - nl - 1 : 0;
	for (k = 0; k < NPLACEHOLDERS; k++) {
		if (strlen(placeholders[k].name) != nl ||
		    memcmp(placeholders[k].name, in, nl) != 0 ||
		    placeholders[k].arg != (colon != NULL))
			continue;
		part->kind = placeholders[k].kind;
		if (!(allowed & TPL_BIT(part->kind)))
			break;
		if (colon == NULL)
			return 0;
		if (al == 0 || al >= TPL_ARG_MAX) {
			snprintf(err, errlen, "%.*s: the name after ':' is "
			    "empty or longer than %d", (int)n, open,
			    TPL_ARG_MAX - 1);
			return -1;
		}
		switch (part->kind) {
		case TPL_BODY_PTR:
			if (colon[1] != '/') {
				snprintf(err, errlen, "%.*s: expected a JSON "
				    "pointer such as {body:/data/id}", (int)n,
				    open);
				return -1;
			}
			memcpy(part->arg, colon + 1, al);
			break;
		case TPL_HEADER:
			for (i = 0; i < al; i++)
				part->arg[i] = (char)tolower(
				    (unsigned char)colon[1 + i]);
			break;
		case TPL_FORM_SORTED:
			if (al != 6 || memcmp(colon + 1, "sorted", 6) != 0) {
				snprintf(err, errlen, "%.*s: the form's fields "
				    "are signed as {form:sorted}", (int)n,
				    open);
				return -1;
			}
			break;
		default:
			memcpy(part->arg, colon + 1, al);
			break;
		}
		part->arg[al] = '\0';
		return 0;
	}
	if (k < NPLACEHOLDERS && part->kind == TPL_SECRET)
		snprintf(err, errlen, "{secret} is for \"mac\": \"hash\" only, "
		    "where a digest of the secret and the request stands in "
		    "for an HMAC");
	else if (k < NPLACEHOLDERS)
		snprintf(err, errlen, "%.*s cannot be used here", (int)n, open);
	else
		snprintf(err, errlen, "unknown placeholder %.*s (known: %s)",
		    (int)(n > 60 ? 60 : n), open, known_placeholders);
	return -1;
}

int
integ_tpl_compile(const char *s, unsigned allowed, struct tpl *out,
    char *err, size_t errlen)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		const char *open = strchr(p, '{'), *close;
		struct tpl_part part;

		if (out->n == TPL_PARTS_MAX) {
			snprintf(err, errlen, "more than %d parts; at most %d",
			    TPL_PARTS_MAX, TPL_PARTS_MAX);
			return -1;
		}
		memset(&part, 0, sizeof(part));
		if (open != p) {
			part.kind = TPL_LIT;
			part.lit = p;
			part.len = open ? (size_t)(open - p) : strlen(p);
			p += part.len;
		} else {
			if ((close = strchr(open, '}')) == NULL ||
			    memchr(open + 1, '{', (size_t)(close - open - 1)) !=
			    NULL) {
				snprintf(err, errlen, "the placeholder at "
				    "\"%.20s\" is not closed with }", open);
				return -1;
			}
			if (tpl_placeholder(open, (size_t)(close - open + 1),
			    allowed, &part, err, errlen) == -1)
				return -1;
			p = close + 1;
		}
		out->has |= TPL_BIT(part.kind);
		out->v[out->n++] = part;
	}
	return 0;
}

int
integ_tpl_check(const char *tpl, int *has_timestamp, char *err,
    size_t errlen)
{
	struct tpl t;

	*has_timestamp = 0;
	if (integ_tpl_compile(tpl, ~TPL_BIT(TPL_SECRET), &t, err, errlen) ==
	    -1)
		return -1;
	*has_timestamp = (t.has & TPL_BIT(TPL_TIMESTAMP)) != 0;
	return t.n;
}

/* --- params ------------------------------------------------------- */

/* "header:NAME", "query:NAME" or "body:/pointer"; -1 when none. */
static int
psrc_parse(const char *s, struct psrc *src, int wildcard)
{
	size_t i, l;

	memset(src, 0, sizeof(*src));
	if (s == NULL || strlen(s) >= sizeof(src->label))
		return -1;
	str_copy(src->label, s, sizeof(src->label));
	if (strncmp(s, "header:", 7) == 0) {
		src->kind = PSRC_HEADER;
		s += 7;
	} else if (strncmp(s, "query:", 6) == 0) {
		src->kind = PSRC_QUERY;
		s += 6;
	} else if (strncmp(s, "body:", 5) == 0) {
		src->kind = PSRC_BODY;
		s += 5;
		if (*s != '/')
			return -1;
		/* "*" stands for every element of an array: a step of its
		 * own, and only where the scheme checks all of them. */
		if (!wildcard && (strstr(s, "/*/") != NULL || (strlen(s) >= 2 &&
		    strcmp(s + strlen(s) - 2, "/*") == 0)))
			return -1;
	} else
		return -1;
	if ((l = strlen(s)) == 0 || l >= sizeof(src->where))
		return -1;
	for (i = 0; i <= l; i++)
		src->where[i] = src->kind == PSRC_HEADER ?
		    (char)tolower((unsigned char)s[i]) : s[i];
	if (src->kind == PSRC_HEADER)
		for (i = 0; i < l; i++)
			if (!isgraph((unsigned char)s[i]) || s[i] == ':')
				return -1;
	return 0;
}

/* A source or a list of them (alternatives), into sc->sig. */
static int
psrc_list(json_t *v, struct scheme_conf *sc, int wildcard)
{
	size_t i;
	json_t *e;

	sc->nsig = 0;
	if (json_is_string(v))
		return psrc_parse(json_string_value(v), &sc->sig[sc->nsig++],
		    wildcard);
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > SIG_SOURCES_MAX)
		return -1;
	json_array_foreach(v, i, e)
		if (psrc_parse(json_string_value(e), &sc->sig[sc->nsig++],
		    wildcard) == -1)
			return -1;
	return 0;
}

/* The index of s in the NULL-terminated list, or -1. */
static int
one_of(const char *s, const char *const *list)
{
	int i;

	for (i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

static const char *const hmac_keys[] = {
	"signature", "header", "algorithm", "mac", "encoding",
	"secret_encoding", "prefix", "format", "separator", "kv_signature",
	"kv_timestamp", "signed", "timestamp", "timestamp_header",
	"timestamp_format", NULL
};
static const char *const pk_keys[] = {
	"signature", "header", "encoding", "signature_format", "prefix",
	"format", "separator", "kv_signature", "kv_timestamp", "signed",
	"timestamp", "timestamp_header", "timestamp_format", NULL
};
static const char *const token_keys[] = { "token", "prefix", NULL };
static const char *const basic_keys[] = { NULL };
static const char *const sw_keys[] = { "header_prefix", NULL };
static const char *const jwt_keys[] = {
	"token", "prefix", "algorithms", "jwks_url", "jwks_file", "issuer",
	"audience", "require", "claims", "body_digest", "secret_encoding",
	NULL
};

#define BAD(...) do {							\
	int _o = snprintf(err, errlen, "%s: ", label);			\
	if (_o >= 0 && (size_t)_o < errlen)				\
		snprintf(err + _o, errlen - (size_t)_o, __VA_ARGS__);	\
	return -1;							\
} while (0)

static int
known_keys(json_t *params, const char *const *keys, const char *scheme,
    const char *label, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach(params, k, v)
		if (one_of(k, keys) < 0) {
			char list[512] = "";
			int i;

			for (i = 0; keys[i] != NULL; i++)
				snprintf(list + strlen(list), sizeof(list) -
				    strlen(list), "%s%s", i ? ", " : "",
				    keys[i]);
			BAD("/params/%s: unknown parameter of the %s scheme "
			    "(known: %s)", k, scheme, keys[0] ? list : "none");
		}
	return 0;
}

/* A string param, or NULL; -1 (with err) when present but not a string. */
static int
str_param(json_t *params, const char *key, const char **out,
    const char *label, char *err, size_t errlen)
{
	json_t *v = json_object_get(params, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		BAD("/params/%s: expected a string", key);
	*out = json_string_value(v);
	return 0;
}

#define STR(key, var) do {						\
	if (str_param(p, key, &(var), label, err, errlen) == -1)	\
		return -1;						\
} while (0)

static const char src_help[] = "expected \"header:NAME\", \"query:NAME\" "
    "or \"body:/json/pointer\"";

/*
 * Where the timestamp comes from, and how it is written; shared by the
 * template schemes.
 */
static int
check_timestamp_params(struct scheme_conf *sc, json_t *p, const char *label,
    char *err, size_t errlen, const char **ts_key)
{
	static const char *const fmts[] = { "unix", "unix_ms", "rfc3339",
	    NULL };
	const char *ts, *tsh, *kvts, *fmt;
	char h[300];
	int i;

	STR("timestamp", ts);
	STR("timestamp_header", tsh);
	STR("kv_timestamp", kvts);
	STR("timestamp_format", fmt);
	*ts_key = NULL;
	if ((ts != NULL) + (tsh != NULL) + (kvts != NULL) > 1)
		BAD("/params/%s: give one of timestamp, timestamp_header and "
		    "kv_timestamp", ts ? "timestamp" : "timestamp_header");
	if (tsh != NULL) {
		snprintf(h, sizeof(h), "header:%s", tsh);
		if (psrc_parse(h, &sc->ts, 0) == -1)
			BAD("/params/timestamp_header: expected a header name");
		*ts_key = "timestamp_header";
		sc->has_ts = 1;
	} else if (ts != NULL) {
		if (psrc_parse(ts, &sc->ts, 0) == -1)
			BAD("/params/timestamp: %s", src_help);
		*ts_key = "timestamp";
		sc->has_ts = 1;
	} else if (kvts != NULL) {
		if (sc->format != FMT_KV || *kvts == '\0' ||
		    strlen(kvts) >= sizeof(sc->kv_timestamp))
			BAD("/params/kv_timestamp: the key of the timestamp in "
			    "a \"format\": \"kv\" signature, such as \"t\"");
		str_copy(sc->kv_timestamp, kvts, sizeof(sc->kv_timestamp));
		*ts_key = "kv_timestamp";
		sc->has_ts = sc->ts_in_kv = 1;
	}
	if (fmt != NULL && (i = one_of(fmt, fmts)) < 0)
		BAD("/params/timestamp_format: expected unix, unix_ms or "
		    "rfc3339");
	sc->ts_format = fmt ? (enum ts_format)one_of(fmt, fmts) : TS_UNIX;
	if (fmt != NULL && !sc->has_ts)
		BAD("/params/timestamp_format: there is no timestamp (add "
		    "\"timestamp\": \"header:NAME\")");
	return 0;
}

/* hmac, ed25519 and ecdsa-p256: a signature over a template. */
static int
check_signed(struct integ *ig, const char *label, char *err, size_t errlen)
{
	static const char *const algs[] = { "sha1", "sha256", "sha512", NULL };
	static const char *const macs[] = { "hmac", "hash", NULL };
	static const char *const encs[] = { "hex", "base64", "base64url",
	    NULL };
	static const char *const senc[] = { "raw", "base64", "hex", NULL };
	static const char *const fmts[] = { "plain", "list", "kv", NULL };
	static const char *const sigfmts[] = { "der", "raw", NULL };
	struct scheme_conf *sc = &ig->sc;
	json_t *p = ig->params, *sig;
	const char *hdr, *alg, *mac, *enc, *se, *prefix, *fmt, *sep, *kvs;
	const char *tpl, *sf, *ts_key;
	unsigned allowed;
	char h[300], why[256];

	if (known_keys(p, sc->id == SCHEME_HMAC ? hmac_keys : pk_keys,
	    ig->scheme, label, err, errlen) == -1)
		return -1;
	STR("header", hdr);
	STR("algorithm", alg);
	STR("mac", mac);
	STR("encoding", enc);
	STR("secret_encoding", se);
	STR("prefix", prefix);
	STR("format", fmt);
	STR("separator", sep);
	STR("kv_signature", kvs);
	STR("signed", tpl);
	STR("signature_format", sf);
	sig = json_object_get(p, "signature");
	if (sig != NULL && hdr != NULL)
		BAD("/params/header: give either header or signature");
	if (sig != NULL) {
		if (psrc_list(sig, sc, 0) == -1)
			BAD("/params/signature: %s, or a list of up to %d of "
			    "them", src_help, SIG_SOURCES_MAX);
	} else if (hdr != NULL) {
		snprintf(h, sizeof(h), "header:%s", hdr);
		if (psrc_parse(h, &sc->sig[0], 0) == -1)
			BAD("/params/header: expected a header name");
		sc->nsig = 1;
	} else
		BAD("/params/header: the %s scheme needs where the signature "
		    "is: \"header\": \"NAME\", or \"signature\": "
		    "\"header:NAME\", \"query:NAME\" or \"body:/pointer\"",
		    ig->scheme);
	if (alg != NULL && one_of(alg, algs) < 0)
		BAD("/params/algorithm: expected sha1, sha256 or sha512");
	sc->alg = alg == NULL ? HMAC_SHA256 : (enum hmac_alg)one_of(alg, algs);
	if (mac != NULL && one_of(mac, macs) < 0)
		BAD("/params/mac: expected hmac or hash");
	sc->hash = mac != NULL && strcmp(mac, "hash") == 0;
	if (enc != NULL && one_of(enc, encs) < 0)
		BAD("/params/encoding: expected hex, base64 or base64url");
	sc->encoding = enc ? (enum sig_encoding)one_of(enc, encs) :
	    sc->id == SCHEME_ECDSA ? ENC_BASE64 : ENC_HEX;
	if (se != NULL && one_of(se, senc) < 0)
		BAD("/params/secret_encoding: expected raw, base64 or hex");
	sc->secret_encoding = se ? (enum secret_encoding)one_of(se, senc) :
	    SECRET_RAW;
	if (sf != NULL && one_of(sf, sigfmts) < 0)
		BAD("/params/signature_format: expected der or raw (r||s)");
	sc->ecdsa_raw = sf != NULL && strcmp(sf, "raw") == 0;
	if (prefix != NULL && strlen(prefix) >= sizeof(sc->prefix))
		BAD("/params/prefix: at most %zu characters",
		    sizeof(sc->prefix) - 1);
	str_copy(sc->prefix, prefix ? prefix : "", sizeof(sc->prefix));
	if (fmt != NULL && one_of(fmt, fmts) < 0)
		BAD("/params/format: expected plain, list or kv");
	sc->format = fmt ? (enum sig_format)one_of(fmt, fmts) : FMT_PLAIN;
	if (sep != NULL && (*sep == '\0' || strlen(sep) >=
	    sizeof(sc->separator) || strchr(sep, '=') != NULL))
		BAD("/params/separator: expected 1 to %zu characters, not '='",
		    sizeof(sc->separator) - 1);
	if (sep != NULL && sc->format == FMT_PLAIN)
		BAD("/params/separator: a plain signature has no separator "
		    "(\"format\": \"list\" or \"kv\")");
	str_copy(sc->separator, sep ? sep : ",", sizeof(sc->separator));
	if (sc->format == FMT_KV) {
		if (kvs == NULL || *kvs == '\0' || strlen(kvs) >=
		    sizeof(sc->kv_signature))
			BAD("/params/kv_signature: a \"format\": \"kv\" "
			    "signature needs the key of its signatures, such "
			    "as \"v1\"");
		str_copy(sc->kv_signature, kvs, sizeof(sc->kv_signature));
	} else if (kvs != NULL)
		BAD("/params/kv_signature: only with \"format\": \"kv\"");
	if (check_timestamp_params(sc, p, label, err, errlen, &ts_key) == -1)
		return -1;

	allowed = ~0u & ~(sc->hash ? 0 : TPL_BIT(TPL_SECRET));
	if (integ_tpl_compile(tpl ? tpl : "{body}", allowed, &sc->signed_tpl,
	    why, sizeof(why)) == -1)
		BAD("/params/signed: %s", why);
	if ((sc->signed_tpl.has & TPL_BIT(TPL_TIMESTAMP)) && !sc->has_ts)
		BAD("/params/signed: {timestamp} needs a timestamp: add "
		    "\"timestamp\": \"header:NAME\"");
	/* A timestamp checked for freshness but not signed would let
	 * anyone replay a delivery under a new one. One inside the signed
	 * body is signed with it. */
	if (sc->has_ts && !(sc->signed_tpl.has & TPL_BIT(TPL_TIMESTAMP)) &&
	    !(sc->ts.kind == PSRC_BODY && !sc->ts_in_kv &&
	    (sc->signed_tpl.has & TPL_BIT(TPL_BODY))))
		BAD("/params/%s: the timestamp is not signed: add {timestamp} "
		    "to /params/signed", ts_key);
	if (!(sc->signed_tpl.has & (TPL_BIT(TPL_BODY) | TPL_BIT(TPL_BODY_PTR) |
	    TPL_BIT(TPL_FORM_SORTED))))
		BAD("/params/signed: nothing of the body is signed: add "
		    "{body}, {body:/pointer} or {form:sorted}");
	if (sc->hash && !(sc->signed_tpl.has & TPL_BIT(TPL_SECRET)))
		BAD("/params/signed: with \"mac\": \"hash\" the template must "
		    "hold {secret}, or anyone could compute the digest");
	if (sc->id != SCHEME_HMAC && sc->signed_tpl.has & TPL_BIT(TPL_SECRET))
		BAD("/params/signed: {secret} is for the hmac scheme");
	return 0;
}

static int
check_token(struct integ *ig, const char *label, char *err, size_t errlen)
{
	struct scheme_conf *sc = &ig->sc;
	json_t *p = ig->params;
	const char *prefix;

	if (known_keys(p, token_keys, ig->scheme, label, err, errlen) == -1)
		return -1;
	STR("prefix", prefix);
	if (psrc_list(json_object_get(p, "token"), sc, 1) == -1)
		BAD("/params/token: %s (a \"*\" step checks every element of "
		    "an array, e.g. body:/value/*/clientState), or a list of "
		    "up to %d of them", src_help, SIG_SOURCES_MAX);
	if (prefix != NULL && strlen(prefix) >= sizeof(sc->prefix))
		BAD("/params/prefix: at most %zu characters",
		    sizeof(sc->prefix) - 1);
	str_copy(sc->prefix, prefix ? prefix : "", sizeof(sc->prefix));
	return 0;
}

static int
check_basic(struct integ *ig, const char *label, char *err, size_t errlen)
{
	if (known_keys(ig->params, basic_keys, ig->scheme, label, err,
	    errlen) == -1)
		return -1;
	psrc_parse("header:Authorization", &ig->sc.sig[0], 0);
	ig->sc.nsig = 1;
	return 0;
}

/* A string or a non-empty list of strings. */
static int
strings(json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return 1;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return 0;
	return 1;
}

/*
 * A JWKS URL must come over TLS: a key fetched in clear could be
 * anyone's. Plain http is for a server on this machine (tests).
 */
static int
jwks_url_ok(const char *u)
{
	static const char *const local[] = { "http://127.0.0.1:",
	    "http://127.0.0.1/", "http://localhost:", "http://localhost/",
	    "http://[::1]:", "http://[::1]/", NULL };
	int i;

	if (strncmp(u, "https://", 8) == 0 && u[8] != '\0')
		return 1;
	for (i = 0; local[i] != NULL; i++)
		if (strncmp(u, local[i], strlen(local[i])) == 0)
			return 1;
	return 0;
}

static int
check_jwt(struct integ *ig, const char *label, char *err, size_t errlen)
{
	static const char *const names[] = { "HS256", "RS256", "ES256", NULL };
	static const char *const senc[] = { "raw", "base64", "hex", NULL };
	struct scheme_conf *sc = &ig->sc;
	json_t *p = ig->params, *v, *e, *jp = NULL;
	const char *prefix, *url, *file, *se;
	char path[PATH_MAX];
	size_t i;

	if (known_keys(p, jwt_keys, ig->scheme, label, err, errlen) == -1)
		return -1;
	STR("prefix", prefix);
	STR("jwks_url", url);
	STR("jwks_file", file);
	STR("secret_encoding", se);
	v = json_object_get(p, "token");
	if (v == NULL) {
		psrc_parse("header:Authorization", &sc->sig[0], 0);
		sc->nsig = 1;
		if (prefix == NULL)
			prefix = "Bearer ";
	} else if (psrc_list(v, sc, 0) == -1)
		BAD("/params/token: where the JWT is: %s", src_help);
	if (prefix != NULL && strlen(prefix) >= sizeof(sc->prefix))
		BAD("/params/prefix: at most %zu characters",
		    sizeof(sc->prefix) - 1);
	str_copy(sc->prefix, prefix ? prefix : "", sizeof(sc->prefix));
	v = json_object_get(p, "algorithms");
	if (!json_is_array(v) || json_array_size(v) == 0)
		BAD("/params/algorithms: expected a list of HS256, RS256 or "
		    "ES256 (the token's own \"alg\" is never trusted alone)");
	json_array_foreach(v, i, e) {
		int a = one_of(json_string_value(e), names);

		if (a < 0)
			BAD("/params/algorithms/%zu: expected HS256, RS256 or "
			    "ES256", i);
		sc->algs |= 1u << a;
	}
	/* A public key used as an HMAC secret lets anyone who has it sign:
	 * the classic algorithm confusion. */
	if ((sc->algs & JWT_HS256) && (sc->algs & ~JWT_HS256))
		BAD("/params/algorithms: HS256 cannot be accepted with RS256 "
		    "or ES256 (a public key would then sign as an HMAC "
		    "secret); make two integrations");
	if (url != NULL && !jwks_url_ok(url))
		BAD("/params/jwks_url: expected an https:// URL");
	if (url != NULL && strlen(url) > 1024)
		BAD("/params/jwks_url: longer than 1024 characters");
	if (file != NULL) {
		const char *slash = strrchr(label, '/');

		/* A relative file is beside the definition. */
		if (*file == '\0')
			BAD("/params/jwks_file: expected a file name");
		if (*file == '/' || slash == NULL)
			jp = json_string(file);
		else if (snprintf(path, sizeof(path), "%.*s/%s",
		    (int)(slash - label), label, file) >= (int)sizeof(path))
			BAD("/params/jwks_file: the path is too long");
		else
			jp = json_string(path);
		/* Kept by the definition, as long as the compiled scheme. */
		if (jp == NULL || json_object_set_new(ig->def, "_jwks_path",
		    jp) == -1)
			BAD("/params/jwks_file: out of memory");
		sc->jwks_path = json_string_value(json_object_get(ig->def,
		    "_jwks_path"));
	}
	sc->jwks = url != NULL || file != NULL;
	if (sc->jwks && (sc->algs & JWT_HS256))
		BAD("/params/algorithms: a JWKS holds public keys: HS256 "
		    "needs the subscription's secret instead");
	if ((v = json_object_get(p, "issuer")) != NULL && !strings(v))
		BAD("/params/issuer: expected a string or a list of them");
	if ((v = json_object_get(p, "audience")) != NULL && !strings(v))
		BAD("/params/audience: expected a string (\"{url}\": the "
		    "callback URL) or a list of them");
	if ((v = json_object_get(p, "require")) != NULL) {
		if (!json_is_array(v))
			BAD("/params/require: expected a list of claim names");
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				BAD("/params/require/%zu: expected a claim "
				    "name", i);
	}
	if ((v = json_object_get(p, "claims")) != NULL) {
		const char *k;

		if (!json_is_object(v))
			BAD("/params/claims: expected an object of claim "
			    "names and the values they must have");
		json_object_foreach(v, k, e)
			if (!json_is_string(e) && !json_is_boolean(e) &&
			    !json_is_integer(e))
				BAD("/params/claims/%s: expected a string, a "
				    "boolean or an integer", k);
	}
	if ((v = json_object_get(p, "body_digest")) != NULL) {
		static const char *const algs[] = { "sha1", "sha256", "sha512",
		    NULL };
		static const char *const encs[] = { "hex", "base64",
		    "base64url", NULL };
		const char *k;

		if (!json_is_object(v) || !json_is_string(json_object_get(v,
		    "claim")))
			BAD("/params/body_digest: expected {\"claim\": NAME, "
			    "\"algorithm\": \"sha256\", \"encoding\": "
			    "\"hex\"}");
		json_object_foreach(v, k, e)
			if (strcmp(k, "claim") && strcmp(k, "algorithm") &&
			    strcmp(k, "encoding"))
				BAD("/params/body_digest/%s: unknown (known: "
				    "claim, algorithm, encoding)", k);
		if ((e = json_object_get(v, "algorithm")) != NULL &&
		    one_of(json_string_value(e), algs) < 0)
			BAD("/params/body_digest/algorithm: expected sha1, "
			    "sha256 or sha512");
		if ((e = json_object_get(v, "encoding")) != NULL &&
		    one_of(json_string_value(e), encs) < 0)
			BAD("/params/body_digest/encoding: expected hex, "
			    "base64 or base64url");
	}
	if (se != NULL && one_of(se, senc) < 0)
		BAD("/params/secret_encoding: expected raw, base64 or hex");
	if (se != NULL && !(sc->algs & JWT_HS256))
		BAD("/params/secret_encoding: only HS256 uses the secret as "
		    "a key");
	sc->secret_encoding = se ? (enum secret_encoding)one_of(se, senc) :
	    SECRET_RAW;
	return 0;
}

/*
 * standard-webhooks: the three headers are webhook-id, webhook-timestamp
 * and webhook-signature, or with another prefix (Svix sends svix-id,
 * svix-timestamp and svix-signature, the same scheme).
 */
static int
check_standard(struct integ *ig, const char *label, char *err,
    size_t errlen)
{
	struct scheme_conf *sc = &ig->sc;
	json_t *p = ig->params;
	const char *pre;
	size_t i;

	str_copy(sc->sw_prefix, "webhook-", sizeof(sc->sw_prefix));
	if (known_keys(p, sw_keys, ig->scheme, label, err, errlen) == -1)
		return -1;
	STR("header_prefix", pre);
	if (pre == NULL)
		return 0;
	for (i = 0; pre[i] != '\0'; i++)
		if (!isalnum((unsigned char)pre[i]) && pre[i] != '-' &&
		    pre[i] != '_')
			break;
	if (i == 0 || pre[i] != '\0' || i + sizeof("timestamp") >
	    sizeof(sc->sw_prefix))
		BAD("/params/header_prefix: expected the start of a header "
		    "name (letters, digits, '-' and '_', at most %zu), such as "
		    "\"svix-\"", sizeof(sc->sw_prefix) - sizeof("timestamp"));
	for (i = 0; pre[i] != '\0'; i++)
		sc->sw_prefix[i] = (char)tolower((unsigned char)pre[i]);
	sc->sw_prefix[i] = '\0';
	return 0;
}

int
integ_scheme_check(struct integ *ig, const char *label, char *err,
    size_t errlen)
{
	struct scheme_conf *sc = &ig->sc;
	size_t i;

	memset(sc, 0, sizeof(*sc));
	for (i = 0; i < NSCHEMES; i++)
		if (strcmp(schemes[i].name, ig->scheme) == 0)
			sc->id = schemes[i].id;
	switch (sc->id) {
	case SCHEME_HMAC:
	case SCHEME_ED25519:
	case SCHEME_ECDSA:
		return check_signed(ig, label, err, errlen);
	case SCHEME_TOKEN:
		return check_token(ig, label, err, errlen);
	case SCHEME_BASIC:
		return check_basic(ig, label, err, errlen);
	case SCHEME_JWT:
		return check_jwt(ig, label, err, errlen);
	case SCHEME_STANDARD:
		return check_standard(ig, label, err, errlen);
	default:
		return known_keys(ig->params, basic_keys, ig->scheme, label,
		    err, errlen);
	}
}

/* --- headers ------------------------------------------------------ */

static void
add_name(json_t *a, const char *low)
{
	size_t i;
	json_t *v;

	if (a == NULL || *low == '\0')
		return;
	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), low) == 0)
			return;
	json_array_append_new(a, json_string(low));
}

void
integ_scheme_headers(const struct integ *ig, json_t *need, json_t *may)
{
	const struct scheme_conf *sc = &ig->sc;
	static const char *const sw[] = { "id", "timestamp", "signature" };
	char h[64];
	int i;

	if (sc->id == SCHEME_STANDARD)
		for (i = 0; i < 3; i++) {
			snprintf(h, sizeof(h), "%s%s", sc->sw_prefix, sw[i]);
			add_name(need, h);
		}
	/* One place for the signature: it must be there. Alternatives
	 * (Box's two signatures): any one may be. */
	for (i = 0; i < sc->nsig; i++)
		if (sc->sig[i].kind == PSRC_HEADER)
			add_name(sc->nsig == 1 ? need : may, sc->sig[i].where);
	if (sc->has_ts && !sc->ts_in_kv && sc->ts.kind == PSRC_HEADER)
		add_name(need, sc->ts.where);
	for (i = 0; i < sc->signed_tpl.n; i++)
		if (sc->signed_tpl.v[i].kind == TPL_HEADER)
			add_name(need, sc->signed_tpl.v[i].arg);
}

int
integ_scheme_keyless(const struct integ *ig)
{
	return ig->sc.id == SCHEME_JWT && ig->sc.jwks;
}

/* --- secrets ------------------------------------------------------ */

static int
decodes(enum secret_encoding enc, const char *s, size_t n, char *why,
    size_t whylen)
{
	unsigned char *buf = malloc(n + 1);
	int len;

	if (buf == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	len = enc == SECRET_BASE64 ? b64url_decode(s, n, buf, n + 1) :
	    hex_decode(s, n, buf, n + 1);
	OPENSSL_cleanse(buf, n + 1);
	free(buf);
	if (len > 0)
		return 0;
	snprintf(why, whylen, "the integration uses its secret %s-decoded, "
	    "and this one is not valid %s", enc == SECRET_BASE64 ? "base64" :
	    "hex", enc == SECRET_BASE64 ? "base64" : "hex");
	return -1;
}

static int
is_pubkey(const char *s, size_t n, enum pkey_kind kind, char *why,
    size_t whylen)
{
	char w[256];
	EVP_PKEY *pk = pubkey_parse(s, n, kind, w, sizeof(w));

	if (pk != NULL) {
		EVP_PKEY_free(pk);
		return 0;
	}
	snprintf(why, whylen, "the secret of this integration is the "
	    "sender's public key: %s", w);
	return -1;
}

int
integ_scheme_secret_check(const struct integ *ig, const char *secret,
    size_t n, char *why, size_t whylen)
{
	const struct scheme_conf *sc = &ig->sc;
	char w1[512], w2[512];

	switch (sc->id) {
	case SCHEME_HMAC:
		if (sc->secret_encoding == SECRET_RAW)
			return 1;
		return decodes(sc->secret_encoding, secret, n, why, whylen);
	case SCHEME_ED25519:
		return is_pubkey(secret, n, PKEY_ED25519, why, whylen);
	case SCHEME_ECDSA:
		return is_pubkey(secret, n, PKEY_P256, why, whylen);
	case SCHEME_BASIC:
		if (memchr(secret, ':', n) != NULL)
			return 0;
		snprintf(why, whylen, "a Basic secret is the user name and the "
		    "password the sender sends, as user:password");
		return -1;
	case SCHEME_JWT:
		if (sc->jwks)
			return 1;	/* keys come from the JWKS */
		if (sc->algs & JWT_HS256)
			return sc->secret_encoding == SECRET_RAW ? 1 :
			    decodes(sc->secret_encoding, secret, n, why,
			    whylen);
		if ((sc->algs & JWT_RS256) && is_pubkey(secret, n, PKEY_RSA,
		    w1, sizeof(w1)) == 0)
			return 0;
		if ((sc->algs & JWT_ES256) && is_pubkey(secret, n, PKEY_P256,
		    w2, sizeof(w2)) == 0)
			return 0;
		snprintf(why, whylen, "%s", (sc->algs & JWT_RS256) ? w1 : w2);
		return -1;
	default:
		return 1;
	}
}
