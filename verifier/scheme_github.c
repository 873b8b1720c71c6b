/*
 * GitHub: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>.
 * GitHub signs no timestamp; replays are caught by X-GitHub-Delivery.
 */
#include <stdio.h>
#include <string.h>

#include "verify.h"

enum vresult
verify_github(const struct vreq *r, char *why, size_t whylen)
{
	const char *sig = vreq_header(r, "x-hub-signature-256");
	struct iov body = { r->body, r->body_len };

	if (sig == NULL) {
		snprintf(why, whylen, "missing X-Hub-Signature-256 header");
		return V_MISSING;
	}
	if (strncmp(sig, "sha256=", 7) != 0 || !hex_sig_matches(r,
	    HMAC_SHA256, &body, 1, sig + 7, strlen(sig + 7))) {
		snprintf(why, whylen, "X-Hub-Signature-256 does not match");
		return V_SIGNATURE;
	}
	return V_OK;
}
