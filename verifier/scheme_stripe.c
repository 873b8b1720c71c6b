/*
 * Stripe: Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>…], the HMAC-SHA256
 * of t "." body keyed with the secret string as it is. Several v1 entries
 * appear while a secret is being rolled.
 */
#include <stdio.h>
#include <string.h>

#include "verify.h"

enum vresult
verify_stripe(const struct vreq *r, char *why, size_t whylen)
{
	const char *hdr = vreq_header(r, "stripe-signature"), *p;
	char ts[32] = "";
	struct iov parts[3];
	enum vresult v;
	int any = 0;

	if (hdr == NULL) {
		snprintf(why, whylen, "missing Stripe-Signature header");
		return V_MISSING;
	}
	for (p = hdr; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n > 2 && p[0] == 't' && p[1] == '=' && n - 2 < sizeof(ts)) {
			memcpy(ts, p + 2, n - 2);
			ts[n - 2] = '\0';
		}
		p += n + (p[n] == ',');
	}
	if (ts[0] == '\0') {
		snprintf(why, whylen, "Stripe-Signature has no t= timestamp");
		return V_MISSING;
	}
	if ((v = check_timestamp(r, "Stripe-Signature t", ts, why, whylen)))
		return v;
	parts[0] = (struct iov){ ts, strlen(ts) };
	parts[1] = (struct iov){ ".", 1 };
	parts[2] = (struct iov){ r->body, r->body_len };
	for (p = hdr; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n > 3 && memcmp(p, "v1=", 3) == 0) {
			any = 1;
			if (hex_sig_matches(r, HMAC_SHA256, parts, 3, p + 3,
			    n - 3))
				return V_OK;
		}
		p += n + (p[n] == ',');
	}
	snprintf(why, whylen, any ? "no v1 signature in Stripe-Signature "
	    "matches" : "Stripe-Signature has no v1 signature");
	return any ? V_SIGNATURE : V_MISSING;
}
