/*
 * Generic HMAC, configured by the integration's params:
 *
 *	header		 the signature header (required)
 *	algorithm	 sha1, sha256 (default) or sha512
 *	encoding	 hex (default) or base64
 *	prefix		 text before the signature, e.g. "sha256="
 *	signed		 what is signed, default "{body}"; placeholders
 *			 {body}, {timestamp}, {header:NAME}
 *	timestamp_header optional; checked against the tolerance
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verify.h"

#define PARTS_MAX TPL_PARTS_MAX

static const char *
param(const struct vreq *r, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(r->ig->params, key));

	return v != NULL ? v : def;
}

static enum hmac_alg
hmac_alg_of(const char *s)
{
	return strcasecmp(s, "sha1") == 0 ? HMAC_SHA1 :
	    strcasecmp(s, "sha512") == 0 ? HMAC_SHA512 : HMAC_SHA256;
}

/* Split the template into literal and placeholder parts. */
static int
signed_parts(const struct vreq *r, const char *tpl, const char *ts,
    struct iov *parts, char *why, size_t whylen)
{
	char name[128];
	int n = 0;

	while (*tpl != '\0' && n < PARTS_MAX) {
		const char *open = strchr(tpl, '{'), *close;

		if (open != tpl) {
			size_t len = open ? (size_t)(open - tpl) : strlen(tpl);

			parts[n++] = (struct iov){ tpl, len };
			tpl += len;
			continue;
		}
		/* Definitions are checked at load (integ_tpl_check): this
		 * cannot happen, and must not sign less than declared. */
		if ((close = strchr(open, '}')) == NULL) {
			snprintf(why, whylen, "the definition's signed template "
			    "is broken");
			return -1;
		}
		if (close - open == 5 && memcmp(open, "{body", 5) == 0)
			parts[n++] = (struct iov){ r->body, r->body_len };
		else if (close - open == 10 && memcmp(open, "{timestamp",
		    10) == 0)
			parts[n++] = (struct iov){ ts ? ts : "",
			    ts ? strlen(ts) : 0 };
		else if (close - open > 8 && memcmp(open, "{header:", 8) == 0 &&
		    (size_t)(close - open - 8) < sizeof(name)) {
			const char *v;
			size_t i, l = (size_t)(close - open - 8);

			for (i = 0; i < l; i++)
				name[i] = (char)(open[8 + i] | 0x20 * (open[8 +
				    i] >= 'A' && open[8 + i] <= 'Z'));
			name[l] = '\0';
			if ((v = vreq_header(r, name)) == NULL) {
				snprintf(why, whylen, "missing %s header",
				    name);
				return -1;
			}
			parts[n++] = (struct iov){ v, strlen(v) };
		} else {
			snprintf(why, whylen, "the definition's signed template "
			    "is broken");
			return -1;
		}
		tpl = close + 1;
	}
	if (*tpl != '\0') {
		snprintf(why, whylen, "the definition's signed template is "
		    "too long");
		return -1;
	}
	return n;
}

enum vresult
verify_hmac(const struct vreq *r, char *why, size_t whylen)
{
	const char *hname = param(r, "header", "x-signature");
	const char *prefix = param(r, "prefix", "");
	const char *tsh = param(r, "timestamp_header", NULL);
	const char *enc = param(r, "encoding", "hex");
	enum hmac_alg alg = hmac_alg_of(param(r, "algorithm", "sha256"));
	struct iov parts[PARTS_MAX];
	unsigned char sig[64];
	const char *sigh, *ts = NULL;
	char lname[128];
	size_t i, pl = strlen(prefix);
	int n, siglen;
	enum vresult v;

	for (i = 0; hname[i] != '\0' && i < sizeof(lname) - 1; i++)
		lname[i] = (char)(hname[i] | 0x20 * (hname[i] >= 'A' &&
		    hname[i] <= 'Z'));
	lname[i] = '\0';
	if ((sigh = vreq_header(r, lname)) == NULL) {
		snprintf(why, whylen, "missing %s header", hname);
		return V_MISSING;
	}
	if (tsh != NULL) {
		for (i = 0; tsh[i] != '\0' && i < sizeof(lname) - 1; i++)
			lname[i] = (char)(tsh[i] | 0x20 * (tsh[i] >= 'A' &&
			    tsh[i] <= 'Z'));
		lname[i] = '\0';
		if ((ts = vreq_header(r, lname)) == NULL) {
			snprintf(why, whylen, "missing %s header", tsh);
			return V_MISSING;
		}
		if ((v = check_timestamp(r, tsh, ts, why, whylen)))
			return v;
	}
	if ((n = signed_parts(r, param(r, "signed", "{body}"), ts, parts, why,
	    whylen)) < 0)
		return V_MISSING;
	if (strncmp(sigh, prefix, pl) != 0)
		goto bad;
	sigh += pl;
	if (strcasecmp(enc, "base64") == 0) {
		siglen = b64_decode(sigh, strlen(sigh), sig, sizeof(sig));
		if (siglen > 0 && hmac_matches(r, alg, parts, n, sig,
		    (size_t)siglen))
			return V_OK;
	} else if (hex_sig_matches(r, alg, parts, n, sigh, strlen(sigh)))
		return V_OK;
bad:
	snprintf(why, whylen, "%s does not match", hname);
	return V_SIGNATURE;
}
