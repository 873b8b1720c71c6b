/*
 * Handshakes in the verifier: a delivery is first looked at as a
 * handshake that carries no signature (Meta's GET with its verify token,
 * Monday's challenge, Microsoft Graph's validationToken), then, once its
 * signature verified, as a signed one (Slack's url_verification,
 * Twitch's webhook_callback_verification, Discord's PING). A handshake
 * is answered as its definition says and never stored. A body the
 * provider encrypts is decrypted here too, before either look: a
 * handshake may be encrypted (Lark's), and the failure to decrypt is told
 * only after the signature verified, so that an unsigned request learns
 * nothing about the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

static const char *
req_header(void *arg, const char *lname)
{
	struct vhs *h = arg;

	return vreq_header(h->r, lname);
}

static char *
req_query(void *arg, const char *name)
{
	struct vhs *h = arg;
	size_t n = 0;
	char *v;

	if (h->r->query == NULL || *h->r->query == '\0')
		return NULL;
	v = form_field((const unsigned char *)h->r->query,
	    strlen(h->r->query), name, &n);
	if (v != NULL && memchr(v, '\0', n) != NULL) {
		free(v);
		return NULL;
	}
	return v;
}

json_t *
vhs_body(struct vhs *h)
{
	json_error_t je;
	json_t *plain;
	int rc;

	if (h->parsed)
		return h->json;
	h->parsed = 1;
	h->json = verify_parse_body(h->r, &je);
	if (h->r->ig->crypt.on && h->json != NULL) {
		rc = decrypt_body(h->r, h->json, h->params, &h->plain,
		    &h->plain_len, &plain, h->crypt_why, sizeof(h->crypt_why));
		if (rc == 1) {
			json_decref(h->json);
			h->json = plain;
		} else if (rc == -1 && h->crypt_why[0] == '\0')
			str_copy(h->crypt_why, "the body does not decrypt",
			    sizeof(h->crypt_why));
	}
	return h->json;
}

static json_t *
req_body(void *arg)
{
	return vhs_body(arg);
}

static const char *
req_event(void *arg)
{
	struct vhs *h = arg;

	if (h->typed == 0)
		h->typed = verify_event_type(h->r, vhs_body(h), h->type,
		    sizeof(h->type)) == 0 ? 1 : -1;
	return h->typed == 1 ? h->type : NULL;
}

static void
req_make(struct vhs *h, struct hs_req *q)
{
	int i;

	memset(q, 0, sizeof(*q));
	q->method = h->r->method ? h->r->method : "POST";
	q->header = req_header;
	q->query = req_query;
	q->event = req_event;
	q->body = req_body;
	q->arg = h;
	q->params = h->params;
	for (i = 0; i < h->r->nsecrets && i < 2; i++) {
		q->secret[i] = h->r->secret[i];
		q->secret_len[i] = h->r->secret_len[i];
	}
	q->nsecrets = h->r->nsecrets;
}

void
vhs_init(struct vhs *h, const struct vreq *r, const char *params)
{
	memset(h, 0, sizeof(*h));
	h->r = r;
	h->params = params ? params : "";
}

void
vhs_free(struct vhs *h)
{
	json_decref(h->json);
	free(h->plain);
	h->json = NULL;
	h->plain = NULL;
}

/* Answer a matched handshake: 1, or a refusal's status. */
static int
answer(struct vhs *h, const struct handshake *hs, const struct hs_req *q,
    struct hs_answer *a, char *why, size_t whylen)
{
	if (hs_check(hs, q, why, whylen) == -1)
		return 403;
	if (hs_answer(hs, q, a, why, whylen) == -1)
		return 400;
	(void)h;
	return 1;
}

/* A GET (or another method) that no handshake of the integration takes. */
static int
not_a_handshake(struct vhs *h, const char *method, char *why, size_t whylen)
{
	const struct integ *ig = h->r->ig;
	char desc[300];
	int i;

	for (i = 0; i < ig->nhs; i++)
		if (!ig->hs[i].in_receiver && strcmp(method, ig->hs[i].method ==
		    HS_GET ? "GET" : "POST") == 0) {
			hs_describe(&ig->hs[i], desc, sizeof(desc));
			snprintf(why, whylen, "a %s is taken only as "
			    "integration %s's handshake, and this is not one "
			    "(it is a %s)",
			    method, ig->name, desc);
			return 400;
		}
	snprintf(why, whylen, "integration %s takes no %s", ig->name, method);
	return 405;
}

int
vhs_before(struct vhs *h, struct hs_answer *a, char *why, size_t whylen)
{
	const struct vreq *r = h->r;
	const struct integ *ig = r->ig;
	const struct handshake *hs;
	const char *method = r->method ? r->method : "POST";
	struct hs_req q;
	int i;

	req_make(h, &q);
	if ((hs = hs_match(ig, &q, HS_PHASE_UNSIGNED)) != NULL)
		return answer(h, hs, &q, a, why, whylen);
	if (strcmp(method, "POST") == 0)
		return 0;
	/* Another method goes on only to a signed handshake of its own. */
	for (i = 0; i < ig->nhs; i++)
		if (ig->hs[i].verify == HS_VERIFY_SIGNATURE &&
		    strcmp(method, ig->hs[i].method == HS_GET ? "GET" :
		    "POST") == 0)
			return 0;
	return not_a_handshake(h, method, why, whylen);
}

int
vhs_after(struct vhs *h, struct hs_answer *a, char *why, size_t whylen)
{
	const char *method = h->r->method ? h->r->method : "POST";
	const struct handshake *hs;
	struct hs_req q;

	req_make(h, &q);
	if ((hs = hs_match(h->r->ig, &q, HS_PHASE_SIGNED)) != NULL)
		return answer(h, hs, &q, a, why, whylen);
	if (strcmp(method, "POST") != 0)
		return not_a_handshake(h, method, why, whylen);
	/* A body that does not decrypt is told of once it is signed. */
	if (h->r->ig->crypt.on)
		vhs_body(h);
	if (h->crypt_why[0] != '\0') {
		snprintf(why, whylen, "%s", h->crypt_why);
		return 400;
	}
	return 0;
}
