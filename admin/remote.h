/*
 * Subscriptions created for the user: the calls an integration's
 * definition describes under "api" (validate a token; create, update and
 * delete the webhook in the external system), made with libcurl.
 * GitHub's are in integrations/github.json; nothing here is GitHub's.
 */
#ifndef HP_REMOTE_H
#define HP_REMOTE_H

#include <stddef.h>

#include "config.h"
#include "integ.h"

/* 1 when the integration describes the calls. */
int	remote_supported(const struct integ *);

/* Check a token; login gets the account it acts as. 0 or -1 with err. */
int	remote_validate(const struct config *, const struct integ *,
	    const char *token, char *login, size_t loginlen, char *err,
	    size_t errlen);

/*
 * params: "k=v\n" lines (--param); events: "a,b" or "*". On success
 * remote_id gets the hook id the provider gave.
 */
int	remote_create(const struct config *, const struct integ *,
	    const char *token, const char *params, const char *events,
	    const char *callback_url, const char *secret, char *remote_id,
	    size_t idlen, char *err, size_t errlen);
int	remote_update(const struct config *, const struct integ *,
	    const char *token, const char *params, const char *remote_id,
	    const char *events, char *err, size_t errlen);
/* A hook already gone (404) is not an error. */
int	remote_delete(const struct config *, const struct integ *,
	    const char *token, const char *params, const char *remote_id,
	    char *err, size_t errlen);

/* The param names a target needs ("repository", "org"), for messages. */
const char *remote_targets(const struct integ *, char *buf, size_t len);

#endif
