/*
 * The verifier's steps around the signature check, apart from its main
 * loop: bodies a provider encrypts (decrypt.c), handshakes answered and
 * never stored (handshake.c), and the definitions of subscriptions that
 * configure their integration with --param (subinteg.c).
 */
#ifndef HP_VERIFIER_H
#define HP_VERIFIER_H

#include <stddef.h>

#include <jansson.h>

#include "handshake.h"
#include "integ.h"
#include "util.h"
#include "verify.h"

/*
 * The body decrypted as the integration's "encrypted" says: 1 with the
 * plaintext (*text, malloc'd and NUL-terminated) and its JSON (*json), 0
 * when the body does not have the encrypted field, -1 with why.
 */
int	decrypt_body(const struct vreq *, json_t *body, const char *params,
	    char **text, size_t *len, json_t **json, char *why, size_t whylen);

/*
 * One delivery's way through the handshakes. vhs_before() runs before
 * the signature is checked: it answers the handshakes that carry no
 * signature (verify "none" or a token), reading (and decrypting) the
 * body only when one of them needs it. vhs_after() runs once the
 * signature verified: the signed handshakes (Slack, Twitch, Discord,
 * Zoom), and the refusals left for then (a body that does not decrypt,
 * a GET that is no handshake).
 * Each returns 0 to go on, 1 when *a holds the answer, or an HTTP status
 * (>= 400) with why.
 */
struct vhs {
	const struct vreq *r;
	const char	*params;	/* the subscription's */
	json_t		*json;		/* the body (decrypted), or NULL */
	int		 parsed;	/* json is the parsed body */
	char		*plain;		/* the decrypted body, to store */
	size_t		 plain_len;
	char		 crypt_why[256];	/* it did not decrypt */
	char		 type[256];	/* the event type, once asked */
	int		 typed;		/* 1 found, -1 none, 0 not asked */
};

void	vhs_init(struct vhs *, const struct vreq *, const char *params);
/* The body as JSON, decrypted when the integration says so: parsed
 * once, on first use (NULL when it is not JSON). */
json_t *vhs_body(struct vhs *);
int	vhs_before(struct vhs *, struct hs_answer *a, char *why,
	    size_t whylen);
int	vhs_after(struct vhs *, struct hs_answer *a, char *why, size_t whylen);
void	vhs_free(struct vhs *);

/*
 * Definitions derived from a subscription's params (the generic webhook
 * integration), kept for the subscriptions seen last; cleared when the
 * definitions reload.
 */
#define SUBINTEG_MAX	16
struct subinteg {
	char		 sub[UUID_LEN + 1];
	const json_t	*base;		/* the definition it came from */
	char		 params[1024];
	struct integ	 ig;
	int		 used;
};

struct subinteg_cache {
	struct subinteg	 v[SUBINTEG_MAX];
	int		 next;
};

/* The subscription's definition: base itself, or one derived from its
 * params; NULL with why when its params do not fit. */
const struct integ *subinteg_get(struct subinteg_cache *,
	    const struct integ *base, const char *sub_id, const char *params,
	    char *why, size_t whylen);
void	subinteg_clear(struct subinteg_cache *);

#endif
