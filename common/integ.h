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

#define INTEG_MAX	64

enum src_kind { SRC_HEADER, SRC_BODY, SRC_NONE };

#define SOURCES_MAX	4
/* Parts of an hmac definition's signed template that the verifier joins. */
#define TPL_PARTS_MAX	16

struct source {
	enum src_kind	 kind;
	char		 where[256];	/* lower-case header name, or pointer */
};

/* Alternatives, tried in order: the first that yields a value wins. */
struct sources {
	struct source	 v[SOURCES_MAX];
	int		 n;
};

struct integ {
	char		 name[65];
	char		 title[128];
	char		 scheme[32];
	char		 path[PATH_MAX];	/* the file it came from */
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
};

struct integ_set {
	struct integ	 v[INTEG_MAX];
	int		 n;
	int		 errors;		/* definitions refused */
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

/* RFC 6901 JSON pointer lookup (borrowed reference, or NULL). */
json_t *json_pointer_get(json_t *root, const char *pointer);

/*
 * Check an hmac `signed` template: every placeholder closed and known
 * ({body}, {timestamp}, {header:NAME}), at most TPL_PARTS_MAX parts. The
 * number of parts, or -1 with what is wrong in err.
 */
int	integ_tpl_check(const char *tpl, int *has_timestamp, char *err,
	    size_t errlen);

/* Scheme names the verifier implements. */
int	integ_scheme_known(const char *scheme);

/*
 * Does a subscription secret fit the integration's scheme? 0, or -1 with
 * why saying what fits (a whpk_ key that is not 32 bytes, a whsec_ one
 * that is not base64, a control character).
 */
int	integ_secret_check(const struct integ *, const char *secret, size_t n,
	    char *why, size_t whylen);

#endif
