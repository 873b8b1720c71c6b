/*
 * Slack: X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" ts ":" body>,
 * with X-Slack-Request-Timestamp.
 */
#include <stdio.h>
#include <string.h>

#include "verify.h"

enum vresult
verify_slack(const struct vreq *r, char *why, size_t whylen)
{
	const char *sig = vreq_header(r, "x-slack-signature");
	const char *ts = vreq_header(r, "x-slack-request-timestamp");
	struct iov parts[4];
	enum vresult v;

	if (sig == NULL || ts == NULL) {
		snprintf(why, whylen, "missing %s header", sig == NULL ?
		    "X-Slack-Signature" : "X-Slack-Request-Timestamp");
		return V_MISSING;
	}
	if ((v = check_timestamp(r, "X-Slack-Request-Timestamp", ts, why,
	    whylen)))
		return v;
	parts[0] = (struct iov){ "v0:", 3 };
	parts[1] = (struct iov){ ts, strlen(ts) };
	parts[2] = (struct iov){ ":", 1 };
	parts[3] = (struct iov){ r->body, r->body_len };
	if (strncmp(sig, "v0=", 3) != 0 || !hex_sig_matches(r, HMAC_SHA256,
	    parts, 4, sig + 3, strlen(sig + 3))) {
		snprintf(why, whylen, "X-Slack-Signature does not match");
		return V_SIGNATURE;
	}
	return V_OK;
}
