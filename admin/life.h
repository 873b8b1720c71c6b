/*
 * Subscriptions that look after themselves: what the CLI shares between
 * `sub create|edit|delete|check|renew`, `cred refresh` and `hookpipe
 * lifecycle` (the pass the dispatcher runs every minute).
 *
 *	cred_use.c	a credential's token for a call, refreshed when due;
 *			the OAuth refresh itself
 *	life_emit.c	the `hookpipe` integration's events: the outbox in
 *			db/config, and its delivery to the verifier
 *	cmd_life.c	sub check, sub renew, cred refresh, lifecycle
 *	cmd_enrich.c	enrich: a run's enrich calls, before its action
 */
#ifndef HP_LIFE_H
#define HP_LIFE_H

#include "admin.h"
#include "remote.h"

/* The integration whose events are hookpipe's own. */
#define LIFE_INTEG	"hookpipe"

/*
 * Knobs (README, Environment), in seconds: tokens are refreshed this
 * long before they expire; renewals that fail are tried again after
 * these delays (the last repeats); automatic subscriptions are checked
 * against the provider this often.
 */
int64_t	life_refresh_before(void);
int64_t	life_backoff(int64_t failures);
int64_t	life_check_every(void);

/*
 * The credential's token into r->token, for a call of integration ig in
 * mode `mode`: refreshed first when it expires within
 * HOOKPIPE_REFRESH_BEFORE, and r->refresh set for a 401. 0, or an exit
 * code after a message.
 */
int	cred_for_remote(struct ctx *, const char *ws, const char *name,
	    const struct integ *, const char *mode, struct remote *);
/*
 * Refresh an OAuth credential now. 0; -1 when it could not be done now
 * (the provider unreachable: tried again later); -2 when the provider
 * refused it: the credential is marked needs-reauthorization and a
 * credential.needs_reauthorization event is sent. why gets the reason.
 */
int	cred_refresh_now(struct ctx *, const char *ws, const char *name,
	    char *why, size_t len);

/*
 * A conversation with the provider about subscription s: its token,
 * params, callback URL, secret, events and remote id. 0, or an exit code
 * after a message.
 */
int	remote_for_sub(struct ctx *, const struct sub_rec *,
	    const struct integ **, struct remote *);
/*
 * Write what a call changed (remote id and extras, expiry, the secret the
 * provider gave) into the subscription, with the lifecycle's state set to
 * ok. 0, or an exit code after a message.
 */
int	sub_save_remote(struct ctx *, const char *sub_id,
	    const struct remote *, int renewed);

/*
 * Queue an event of the `hookpipe` integration for workspace ws, in a
 * write transaction of db/config: one per `hookpipe` subscription of the
 * workspace (with none, nothing is queued: they are opt-in).
 * key makes the delivery id (type:key), which the verifier dedupes on.
 * data is stolen. 0 or an LMDB code.
 */
int	life_emit(struct ctx *, MDB_txn *, const char *ws, const char *type,
	    const char *key, json_t *data);
/*
 * Hand the queued events to the verifier; each leaves the outbox once it
 * is stored. How many were stored, or -1 when the verifier did not answer
 * (they wait for the next pass).
 */
int	life_deliver(struct ctx *);

/* Count one thing the lifecycle did (hookpipe_lifecycle_total). */
void	life_count(struct ctx *, MDB_txn *, const char *name);

/* The commands (cmd_life.c); their tables are with their groups'. */
int	cmd_sub_check(struct ctx *, const struct cmd *, int, char **);
int	cmd_sub_renew(struct ctx *, const struct cmd *, int, char **);
int	cmd_cred_refresh(struct ctx *, const struct cmd *, int, char **);
int	cmd_lifecycle(struct ctx *, const struct cmd *, int, char **);
/* cmd_enrich.c: a run's enrich calls (the dispatcher's child). */
int	cmd_enrich(struct ctx *, const struct cmd *, int, char **);

#endif
