/*
 * The admin listener's API token, $HOOKPIPE_HOME/admin.token (token.c).
 */
#ifndef HP_ADMIN_TOKEN_H
#define HP_ADMIN_TOKEN_H

#include <stddef.h>

#include "config.h"

#define ADMIN_TOKEN_LEN		64	/* hex characters */
#define LOGIN_TTL_S		600	/* a login link is good this long */
#define SESSION_TTL_S		(12 * 3600)

/* Read it, making it on first use; 0, or -1 with err. */
int	admin_token(const struct config *, char out[ADMIN_TOKEN_LEN + 1],
	    char *err, size_t errlen);

#endif
