/*
 * Integrations are data: one JSON definition per integration, from the
 * shipped directory and then $HOOKPIPE_HOME/integrations (which adds or
 * overrides). A definition names its signature scheme and parameters,
 * where the event type and delivery id come from, its event catalogue,
 * output variables, subscription modes, body limit and content types.
 */
#ifndef HP_INTEG_H
#define HP_INTEG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "crypto.h"

#define INTEG_MAX	256

/*
 * Where a value comes from. event_type and delivery_id take the first
 * seven; SRC_EVENT (the event type) is for handshake conditions.
 */
enum src_kind { SRC_HEADER, SRC_BODY, SRC_NONE, SRC_QUERY, SRC_FIXED,
	SRC_TEMPLATE, SRC_FIRST_KEY, SRC_EVENT };

#define SOURCES_MAX	4
#define SRC_WHEN_MAX	2
/* Parts of an hmac definition's signed template that the verifier joins. */
#define TPL_PARTS_MAX	16

/*
 * A condition a source holds under ({"when": {...}, "value": FORM}): the
 * header (SRC_HEADER, lower case), query parameter or body value there is
 * present, absent, or equal to value.
 */
struct src_cond {
	enum src_kind	 kind;
	char		 where[128];
	json_t		*value;		/* NULL: present; false: absent; else
					   equal (a body value as JSON) */
};

struct source {
	enum src_kind	 kind;
	/* Lower-case header name, pointer, query parameter, fixed text or
	 * template ("{header:X-GitHub-Event}.{body:/action}"). */
	char		 where[256];
	json_t		*keys;		/* SRC_FIRST_KEY: names, in order */
	struct src_cond	 when[SRC_WHEN_MAX];	/* all must hold */
	int		 nwhen;
};

/* Alternatives, tried in order: the first that yields a value wins. */
struct sources {
	struct source	 v[SOURCES_MAX];
	int		 n;
};

/*
 * What is signed, compiled once at load (integ_tpl_compile) and expanded
 * by the verifier for each delivery: literal text and placeholders, in
 * order. A literal points into the definition's JSON string.
 */
enum tpl_kind {
	TPL_LIT,		/* text as written */
	TPL_BODY,		/* {body}: the raw body */
	TPL_BODY_PTR,		/* {body:/pointer}: the value there, as text */
	TPL_TIMESTAMP,		/* {timestamp}: as the sender wrote it */
	TPL_HEADER,		/* {header:NAME} */
	TPL_QUERY,		/* {query:NAME}: decoded */
	TPL_METHOD,		/* {method} */
	TPL_URL,		/* {url}: TRIGGER_URL + path + ?query */
	TPL_PATH,		/* {path} */
	TPL_FORM_SORTED,	/* {form:sorted}: each field, sorted by name,
				   name then value (Twilio) */
	TPL_SECRET,		/* {secret}: only where the scheme hashes it */
	TPL_NKINDS
};
#define TPL_BIT(k)	(1u << (k))
#define TPL_ARG_MAX	128

struct tpl_part {
	enum tpl_kind	 kind;
	const char	*lit;			/* TPL_LIT */
	size_t		 len;
	char		 arg[TPL_ARG_MAX];	/* lower-case header or query
						   name, or JSON pointer */
};

struct tpl {
	struct tpl_part	 v[TPL_PARTS_MAX];
	int		 n;
	unsigned	 has;			/* TPL_BIT of each kind in it */
};

/*
 * Where a scheme finds a value (a signature, a timestamp, a token):
 * "header:NAME", "query:NAME" or "body:/json/pointer". In a body pointer
 * a "*" step stands for every element of an array (token only).
 */
enum psrc_kind { PSRC_HEADER, PSRC_QUERY, PSRC_BODY };

struct psrc {
	enum psrc_kind	 kind;
	char		 where[256];	/* lower-case header, query name, or
					   pointer */
	char		 label[272];	/* as the definition spells it */
};

enum scheme_id {
	SCHEME_STANDARD, SCHEME_GITHUB, SCHEME_STRIPE, SCHEME_SLACK,
	SCHEME_HMAC, SCHEME_TOKEN, SCHEME_BASIC, SCHEME_ED25519, SCHEME_ECDSA,
	SCHEME_JWT
};
enum sig_encoding { ENC_HEX, ENC_BASE64, ENC_BASE64URL };
enum secret_encoding { SECRET_RAW, SECRET_BASE64, SECRET_HEX };
enum sig_format { FMT_PLAIN, FMT_LIST, FMT_KV };
enum ts_format { TS_UNIX, TS_UNIX_MS, TS_RFC3339 };
enum jwt_alg { JWT_HS256 = 1, JWT_RS256 = 2, JWT_ES256 = 4 };

#define SIG_SOURCES_MAX	4

/* A definition's scheme params, checked and compiled at load. */
struct scheme_conf {
	enum scheme_id	 id;
	/* Where the signature (token, JWT) is: alternatives, any passes. */
	struct psrc	 sig[SIG_SOURCES_MAX];
	int		 nsig;
	int		 has_ts;	/* a timestamp, checked for freshness */
	int		 ts_in_kv;	/* from the signature's kv list */
	struct psrc	 ts;		/* else from here */
	enum ts_format	 ts_format;
	struct tpl	 signed_tpl;
	enum hmac_alg	 alg;
	int		 hash;		/* "mac": "hash": a digest, not a MAC */
	enum sig_encoding encoding;
	enum secret_encoding secret_encoding;
	int		 ecdsa_raw;	/* r||s rather than DER */
	char		 prefix[64];	/* before each signature or token */
	enum sig_format	 format;
	char		 separator[8];
	char		 kv_signature[32];
	char		 kv_timestamp[32];
	/* jwt */
	unsigned	 algs;		/* JWT_* accepted */
	int		 jwks;		/* keys from jwks_url or jwks_file */
	const char	*jwks_path;	/* jwks_file, resolved (in the definition);
					   NULL: none */
	/* standard-webhooks: the headers' names are this and id,
	 * timestamp, signature ("webhook-", Svix's "svix-"), lower case */
	char		 sw_prefix[32];
};

/*
 * A handshake: a request the provider makes to check the endpoint (a
 * challenge to echo, a token to compute, a secret to adopt), answered
 * and never stored. Compiled from the definition's "handshakes" list;
 * the strings and JSON it points to belong to the definition.
 */
#define HS_MAX		8
#define HS_WHEN_MAX	4

enum hs_method { HS_GET = 1, HS_POST = 2, HS_HEAD = 4 };
enum hs_verify { HS_VERIFY_NONE, HS_VERIFY_SIGNATURE, HS_VERIFY_TOKEN };

/* A header (any case), query parameter, body pointer, or the event. */
struct hs_src {
	enum src_kind	 kind;
	const char	*where;
};

struct hs_cond {
	struct hs_src	 src;
	json_t		*value;		/* NULL: present; false: absent;
					 * else equal to this */
};

struct handshake {
	const char	*name;		/* for people; may be "" */
	enum hs_method	 method;
	struct hs_cond	 when[HS_WHEN_MAX];
	int		 nwhen;
	enum hs_verify	 verify;
	struct hs_src	 token;		/* HS_VERIFY_TOKEN: the request's */
	const char	*equals;	/* "secret" or "param:NAME" */
	int		 status;
	json_t		*text;		/* the answer: text/plain, */
	json_t		*json;		/* or application/json, or none */
	const char	*ctype;		/* the body's, when not the default */
	json_t		*headers;	/* {name: template} */
	struct hs_src	 set_secret;	/* SRC_NONE, or where the new secret
					 * is (Asana's X-Hook-Secret) */
	int		 in_receiver;	/* HEAD, or a secret to store */
};

/* A body the provider encrypts (Lark's {"encrypt": "<base64>"}). */
struct integ_crypt {
	int		 on;
	const char	*field;		/* pointer to the base64 text */
	const char	*key;		/* "secret" or "param:NAME" */
	int		 key_sha256;	/* the key is SHA-256 of that text */
};

struct integ {
	char		 name[65];
	char		 title[128];
	char		 category[32];
	char		 scheme[32];
	const char	*path;			/* the file it came from (kept in
					   the definition, as "_path") */
	struct sources	 event_type;
	struct sources	 delivery_id;
	int64_t		 max_body;		/* 0: HOOKPIPE_MAX_BODY */
	int		 require_json;		/* body must parse as JSON */
	json_t		*def;			/* the whole definition */
	json_t		*params;		/* scheme parameters (object) */
	json_t		*events;		/* [{name, description}] */
	json_t		*content_types;		/* [string] */
	json_t		*keep_headers;		/* [string], lower case */
	json_t		*modes;			/* [string] */
	/*
	 * Lower-case names of the headers that carry the signature (and its
	 * timestamp), and of every header the integration reads: those plus
	 * the event type's and the delivery id's. Derived at load.
	 */
	json_t		*sig_headers;
	json_t		*read_headers;
	/*
	 * When the event type comes from an unsigned header, the signed body
	 * may still tell the type: event_shapes is an ordered list of
	 * {event, has: [pointer, "!pointer"]}; the first whose pointers all
	 * exist (and "!" ones do not) names the body's event.
	 */
	json_t		*event_shapes;
	/*
	 * What identifies a delivery: its delivery id, and, when that id is
	 * not signed, also the digest of the signed body ("dedupe": ["id",
	 * "body"]). A delivery that matches either is a duplicate.
	 */
	int		 dedupe_body;
	struct scheme_conf sc;			/* integ_scheme.c */
	/* Handshakes, the methods they use (enum hs_method bits). */
	struct handshake hs[HS_MAX];
	int		 nhs;
	unsigned	 hs_methods;
	struct integ_crypt crypt;
	/*
	 * The --param names a subscription takes ([{name, description,
	 * required, sets}]); `sets` is the pointer in the definition the
	 * value replaces (the generic webhook integration's header,
	 * algorithm, ...), and derive is 1 when any entry has one.
	 */
	json_t		*sub_params;
	int		 derive;
	json_t		*setup;			/* {where, callback_url, ...} */
};

struct integ_set {
	struct integ	 v[INTEG_MAX];
	int		 n;
	int		 errors;		/* definitions refused */
	/*
	 * Set by a stage before loading: each definition keeps only what a
	 * stage reads (no event descriptions, output or setup documents,
	 * which are the CLI's), and the heap is trimmed after a load.
	 */
	int		 slim;
};

/*
 * Load every definition. A broken file is reported through warn() with
 * its file:line (or the JSON pointer) and skipped; the rest still load.
 */
typedef void (*integ_warn_fn)(const char *msg);
void	integ_load_all(struct integ_set *, const struct config *,
	    integ_warn_fn warn);
/* Parse one definition from a file; -1 with "file:line: what" in err. */
int	integ_load_file(struct integ *, const char *path, char *err,
	    size_t errlen);
int	integ_load_string(struct integ *, const char *json, const char *label,
	    char *err, size_t errlen);
const struct integ *integ_find(const struct integ_set *, const char *name);
int	integ_has_event(const struct integ *, const char *event);
int	integ_has_mode(const struct integ *, const char *mode);
/*
 * The event the body's shape says, or NULL when no shape matches (then
 * *shaped tells whether `type` has a shape of its own, which the body
 * should have had).
 */
const char *integ_body_event(const struct integ *, json_t *body,
	    const char *type, int *shaped);
/* 1 when name (lower case) is among the headers the integration reads. */
int	integ_reads_header(const struct integ *, const char *name);
void	integ_free_all(struct integ_set *);

/*
 * Load again. A file that is refused now but loaded before keeps its
 * previous version (warned about); the others are what the directories
 * hold now.
 */
void	integ_reload(struct integ_set *, const struct config *,
	    integ_warn_fn warn);
/*
 * A stamp of the definition directories (names, sizes, times): when it
 * changes, a stage reloads. Cheap: a readdir and a stat per file.
 */
uint64_t integ_stamp(const struct config *);
/* Reload when the stamp changed since *stamp: 1 when it did. */
int	integ_refresh(struct integ_set *, uint64_t *stamp,
	    const struct config *, integ_warn_fn warn);

/*
 * A trigger or subscription event `pattern` matches an event type: the
 * same name, "*", or a prefix at a '.' ("issues" matches "issues.opened").
 */
int	integ_event_matches(const char *pattern, const char *type);
/* A subscription's events ("*" or "a,b") cover the type, so. */
int	integ_events_cover(const char *events, const char *type);

/*
 * The definition with a subscription's params ("k=v\n" lines) in the
 * places its sub_params name, checked as a file would be: 0, or -1 with
 * what is wrong, naming the --param. out->def is new (json_decref it).
 */
int	integ_derive(const struct integ *base, const char *params,
	    struct integ *out, char *err, size_t errlen);
/* A subscription param's value (malloc'd), or NULL. */
char   *integ_param(const char *params, const char *name);

/*
 * The category, handshakes, encrypted body, subscription params and setup
 * hint of a definition, checked and compiled into ig (integ_forms.c): 0,
 * or -1 with "label: /pointer: what" in err.
 */
int	integ_check_forms(struct integ *, json_t *def, const char *label,
	    char *err, size_t errlen);

/*
 * Value templates ("{header:NAME}", "{query:NAME}", "{body:/pointer}"
 * between literal text): the next part from *pos. 1 with the part, 0 at
 * the end, -1 with why when a placeholder is not closed or not known.
 */
struct vtpl_part {
	int		 literal;	/* 1: text/len is literal text */
	const char	*text;
	size_t		 len;
	struct source	 src;		/* a placeholder's source */
};
int	vtpl_next(const char *tpl, size_t *pos, struct vtpl_part *,
	    char *why, size_t whylen);

/* RFC 6901 JSON pointer lookup (borrowed reference, or NULL). */
json_t *json_pointer_get(json_t *root, const char *pointer);

/*
 * Compile a template of what is signed: literal text and placeholders
 * ({body}, {body:/pointer}, {timestamp}, {header:NAME}, {query:NAME},
 * {method}, {url}, {path}, {form:sorted}, {secret}), of the kinds in
 * `allowed` (TPL_BIT mask), at most TPL_PARTS_MAX parts. Literals point
 * into s, which must outlive out. 0, or -1 with what is wrong in err.
 */
int	integ_tpl_compile(const char *s, unsigned allowed, struct tpl *out,
	    char *err, size_t errlen);
/*
 * integ_tpl_compile with every kind but {secret} allowed: the number of
 * parts, or -1 with what is wrong in err.
 */
int	integ_tpl_check(const char *tpl, int *has_timestamp, char *err,
	    size_t errlen);

/* Scheme names the verifier implements, and all of them for messages. */
int	integ_scheme_known(const char *scheme);
const char *integ_scheme_names(void);
/*
 * Check and compile a definition's params for its scheme (into ig->sc):
 * 0, or -1 with "label: /params/...: what is wrong" in err.
 */
int	integ_scheme_check(struct integ *, const char *label, char *err,
	    size_t errlen);
/*
 * Add the lower-case names of the headers the scheme needs (every one
 * must be present) to `need`, and those it may read to `may`.
 */
void	integ_scheme_headers(const struct integ *, json_t *need, json_t *may);
/* 1 when the scheme verifies without a subscription secret (JWKS). */
int	integ_scheme_keyless(const struct integ *);
/*
 * Does a secret fit the scheme (a public key for ed25519 and ecdsa-p256,
 * user:password for basic, base64 or hex when the definition decodes
 * it)? 0, or -1 with why. 1 when the scheme has nothing to say.
 */
int	integ_scheme_secret_check(const struct integ *, const char *secret,
	    size_t n, char *why, size_t whylen);

/*
 * Does a subscription secret fit the integration's scheme? 0, or -1 with
 * why saying what fits (a whpk_ key that is not 32 bytes, a whsec_ one
 * that is not base64, a control character).
 */
int	integ_secret_check(const struct integ *, const char *secret, size_t n,
	    char *why, size_t whylen);

#endif
