/*
 * Subscriptions created for the user: the calls an integration's
 * definition describes under "api" (validate a token; create, update,
 * renew, check and delete the webhook in the external system), made with
 * libcurl. Nothing here is any provider's: every URL, body, header and
 * answer's place is in the definitions (README, "The api block").
 */
#ifndef HP_REMOTE_H
#define HP_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "integ.h"

/*
 * One conversation with a provider about one subscription. The caller
 * fills the inputs; the calls fill the results. refresh, when set, gets
 * a new access token into r->token after a 401 (once per conversation).
 */
struct remote {
	const struct config *cfg;
	const struct integ *ig;
	const char	*mode;			/* api-key or oauth */
	char		 token[CRED_TOKEN_MAX + 1];
	int		(*refresh)(struct remote *, char *err, size_t errlen);
	void		*arg;
	char		 cred[2 * NAME_MAX_LEN + 2];	/* "ws/name" */
	int		 refreshed;
	/* The subscription. */
	const char	*params;		/* "k=v\n" lines */
	const char	*sub_id;
	const char	*sub_name;
	const char	*callback_url;
	char		 url[2048];		/* callback_url's, when ours */
	const char	*events;		/* "*" or "a,b" */
	char		 secret[SECRET_MAX + 1];
	char		 remote_id[64];
	json_t		*extra;			/* remote.NAME values */
	/* An enrich call's: {body:/pointer} and {cursor}. */
	json_t		*event;			/* the event's payload */
	const char	*cursor;
	/* Results. */
	int64_t		 expires_at;		/* us, 0 when none */
	int		 secret_changed;	/* the provider gave one */
	char		 err[1024];
};

/* Set up and tear down (clears the token and the secret). */
void	remote_init(struct remote *, const struct config *,
	    const struct integ *, const char *mode);
void	remote_clear(struct remote *);

/* 1 when the integration describes creating its webhooks. */
int	remote_supported(const struct integ *);
int	remote_can_renew(const struct integ *);
int	remote_can_check(const struct integ *);

/* Check a token; login gets the account it acts as. 0 or -1 (r->err). */
int	remote_validate(struct remote *, char *login, size_t loginlen);

/*
 * The params a subscription will use: the given ones and a target's
 * default when none is given. 0, or -1 naming what is missing.
 */
int	remote_params(const struct integ *, const char *given, char *out,
	    size_t len, char *err, size_t errlen);

/*
 * Create the webhook: r->remote_id, r->extra, r->expires_at, and the
 * secret when the provider makes it (r->secret_changed). A later step
 * that fails removes what the earlier ones made. 0 or -1.
 */
int	remote_create(struct remote *);
int	remote_update(struct remote *);
/* A webhook already gone is not an error. */
int	remote_delete(struct remote *);
/*
 * Extend the webhook's life: 0 (r->expires_at, and with "recreate" a new
 * r->remote_id and r->extra), 1 when the provider no longer has it, -1.
 */
int	remote_renew(struct remote *);

/* Whether the provider's webhook is as hookpipe made it. */
enum remote_check { REMOTE_OK, REMOTE_MISSING, REMOTE_DIFFERS,
	REMOTE_UNCHECKED, REMOTE_ERROR };
const char *remote_check_name(enum remote_check);
enum remote_check remote_check(struct remote *, char *detail, size_t len);

/*
 * One enrich call of the definition (README, "Enrichment"): its URL
 * filled in from the event's payload (r->event) and r->cursor (also
 * added as the query parameter cursor.param names, once there is one;
 * NULL: the first call, from the provider's start), sent with
 * the token (once more after a 401 with a refreshed one). Returns the
 * HTTP status, 0 when the provider was not reached (r->err says why);
 * -1 when the URL has a placeholder the event has no value for; the
 * answer, parsed, in *answer. A status other than 2xx has r->err quote
 * the provider.
 */
long	remote_enrich(struct remote *, json_t *op, json_t **answer);

/* The param names a target needs ("repository or org"), for messages. */
const char *remote_targets(const struct integ *, char *buf, size_t len);

#endif
