/*
 * Answering handshakes: the requests a provider makes to check an
 * endpoint before it sends events (a challenge to echo, a token to
 * compute, a secret to adopt). The definitions are compiled by
 * integ_forms.c; this module matches a request against them and builds
 * the answer. The verifier answers those that need the body, a secret or
 * a signature; the receiver answers HEAD probes and the handshakes that
 * hand over a secret (a write to the subscription). Neither stores a
 * handshake as an event.
 */
#ifndef HP_HANDSHAKE_H
#define HP_HANDSHAKE_H

#include <stddef.h>

#include <jansson.h>

#include "integ.h"

/* What a handshake may read of a request, whichever stage holds it. */
struct hs_req {
	const char	*method;
	/* A header's value (name in lower case), or NULL. */
	const char	*(*header)(void *arg, const char *lname);
	/* A query parameter, decoded and malloc'd, or NULL. */
	char		*(*query)(void *arg, const char *name);
	/* The event type, or NULL when there is none (may be NULL). */
	const char	*(*event)(void *arg);
	/* The body as JSON, or NULL (may be NULL): asked for only when a
	 * condition or an answer needs it, so that a request that is no
	 * handshake is not parsed before its signature is checked. */
	json_t		*(*body)(void *arg);
	void		*arg;
	const char	*params;	/* the subscription's "k=v\n" lines */
	const unsigned char *secret[2];
	size_t		 secret_len[2];
	int		 nsecrets;
};

/* Which of an integration's handshakes a stage looks at, and when. */
enum hs_phase {
	HS_PHASE_RECEIVER,	/* HEAD, and secrets to adopt */
	HS_PHASE_UNSIGNED,	/* verify none or token: before the signature */
	HS_PHASE_SIGNED,	/* verify signature: once it is checked */
};

struct hs_answer {
	int		 status;
	const char	*ctype;		/* NULL: no body */
	char		*body;		/* malloc'd */
	size_t		 body_len;
	char		*headers;	/* "Name: value\n" lines, malloc'd */
};

/* The largest answer: a challenge is short. */
#define HS_ANSWER_MAX	16384

/* The first handshake of the phase whose method and conditions the
 * request meets, or NULL. */
const struct handshake *hs_match(const struct integ *, const struct hs_req *,
	    enum hs_phase);
/* The handshake's token check: 0, or -1 with why (answer 403). */
int	hs_check(const struct handshake *, const struct hs_req *, char *why,
	    size_t whylen);
/* Build the answer: 0, or -1 with why (a value it needs is missing:
 * answer 400). */
int	hs_answer(const struct handshake *, const struct hs_req *,
	    struct hs_answer *, char *why, size_t whylen);
void	hs_answer_free(struct hs_answer *);
/*
 * The value the handshake's set_secret names, malloc'd, or NULL (the
 * receiver stores it as the subscription's secret).
 */
char   *hs_new_secret(const struct handshake *, const struct hs_req *);
/* For a refusal: "GET with query hub.mode = subscribe", say. */
void	hs_describe(const struct handshake *, char *out, size_t len);
/* The methods ig's handshakes use besides POST, as "GET, HEAD". */
void	hs_allow(const struct integ *, char *out, size_t len);

#endif
