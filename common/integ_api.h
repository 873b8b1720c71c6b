/*
 * What an integration's definition says about the provider's API: the
 * bases its URLs start from, the templates its calls are written in, and
 * the checks of its "api", "oauth" and "enrich" blocks at load. The calls
 * themselves are made by the CLI (admin/remote.c: webhooks, renewals,
 * token refreshes, and the enrich calls of admin/cmd_enrich.c, which
 * the dispatcher runs before an action: dispatcher/enrich.c).
 */
#ifndef HP_INTEG_API_H
#define HP_INTEG_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "integ.h"
#include "util.h"

/*
 * A base URL: "api" (the definition's api.base, or HOOKPIPE_<NAME>_API)
 * or "web" (oauth.web, or HOOKPIPE_<NAME>_WEB), <NAME> being the
 * integration's name in capitals with '-' as '_'. A base may hold a
 * subscription's params ("https://{subdomain}.zendesk.com"). 0, or -1
 * when the definition names none.
 */
int	api_base(const struct integ *, const char *which, const char *params,
	    char *out, size_t len);
/* The environment variable that overrides it, for messages. */
void	api_base_env(const struct integ *, const char *which, char *out,
	    size_t len);

/*
 * Templates: text with {NAME} placeholders, each looked up with var()
 * (NULL: unknown, then the placeholder is kept as written and *missing
 * counts it). A placeholder may end with filters: {NAME|url} percent-
 * encodes the value, {NAME|base64} encodes it, {NAME|text} keeps it as
 * text (the events as "a,b" where a JSON list would go). Returns malloc'd
 * text.
 */
typedef const char *(*api_var_fn)(void *arg, const char *name, char *buf,
	    size_t len);
char   *api_expand(const char *tpl, api_var_fn, void *arg, int *missing);
/*
 * A JSON template: a copy whose strings are expanded. A string that is
 * one placeholder and whose var() value is JSON (list_fn gives it: the
 * events as a list) becomes that JSON.
 */
typedef json_t *(*api_json_fn)(void *arg, const char *name);
json_t *api_fill(json_t *tpl, api_var_fn, api_json_fn, void *arg,
	    int *missing);

/* RFC 3986 unreserved characters kept, the rest %XX. */
void	api_urlencode(const char *in, struct buf *out);

/*
 * A time the provider gave: RFC 3339 text, or seconds or milliseconds
 * since the epoch (a number, or its text; 10^11 and above are ms), as
 * microseconds. 0, or -1 when it is none of these.
 */
int	api_time(json_t *, int64_t *us);

/* "90s", "10m", "24h", "7d", "1h30m", or bare seconds; -1 if not one. */
int	api_duration(const char *, int64_t *seconds);

/*
 * An enrich call applies to events of type `type`: its "when" (an event
 * name or a list of them, each matching as a trigger's --event does:
 * "batch" matches "batch.completed") names it, or it has none.
 */
int	api_enrich_applies(json_t *call, const char *type);

/*
 * Check a definition's "api", "oauth" and "enrich" blocks: 0, or -1 with
 * "label: /api/create/url: what" in err.
 */
int	integ_api_check(const struct integ *, json_t *def, const char *label,
	    char *err, size_t errlen);

#endif
