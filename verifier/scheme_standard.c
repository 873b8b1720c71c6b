/*
 * Standard Webhooks (https://www.standardwebhooks.com), the scheme of
 * OpenAI, Svix and any "whsec_" sender.
 *
 *	webhook-id, webhook-timestamp, webhook-signature (or with the
 *	definition's header_prefix: Svix's svix-id, ...)
 *	signed content: id "." timestamp "." body
 *	v1:  HMAC-SHA256 with the secret (whsec_<base64> decoded, any
 *	     other secret but a whpk_ key used as raw bytes, as OpenAI's
 *	     SDKs do)
 *	v1a: Ed25519 with a whpk_<base64> public key, and nothing else
 *
 * The signature header is a space-separated list; any valid entry passes.
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "verify.h"

#define SIG_MAX	128

static int
has_prefix(const unsigned char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n > pl && memcmp(s, prefix, pl) == 0;
}

/*
 * Key bytes of a secret for one kind of signature. A key verifies only
 * signatures of its own kind: a whpk_ public key only v1a (Ed25519), a
 * whsec_ or raw secret only v1 (HMAC). A public key is public: used as
 * an HMAC key it would let anyone who knows it sign.
 */
static int
sw_key(const unsigned char *secret, size_t n, int v1a, unsigned char *out,
    size_t cap)
{
	if (has_prefix(secret, n, "whpk_"))
		return v1a ? b64_decode((const char *)secret + 5, n - 5, out,
		    cap) : -1;
	if (v1a)
		return -1;
	if (has_prefix(secret, n, "whsec_"))
		return b64_decode((const char *)secret + 6, n - 6, out, cap);
	if (n > cap)
		return -1;
	memcpy(out, secret, n);
	return (int)n;
}

enum vresult
verify_standard_webhooks(const struct vreq *r, char *why, size_t whylen)
{
	const char *pre = r->ig->sc.sw_prefix[0] ? r->ig->sc.sw_prefix :
	    "webhook-";
	char hid[48], hts[48], hsig[48];
	const char *id, *ts, *sigs;
	unsigned char key[512], mac[64], sig[SIG_MAX];
	struct iov parts[5];
	enum vresult v;
	int s, maclen[2] = { -1, -1 };

	snprintf(hid, sizeof(hid), "%sid", pre);
	snprintf(hts, sizeof(hts), "%stimestamp", pre);
	snprintf(hsig, sizeof(hsig), "%ssignature", pre);
	id = vreq_header(r, hid);
	ts = vreq_header(r, hts);
	sigs = vreq_header(r, hsig);
	if (id == NULL || ts == NULL || sigs == NULL) {
		snprintf(why, whylen, "missing %s header", id == NULL ? hid :
		    ts == NULL ? hts : hsig);
		return V_MISSING;
	}
	if ((v = check_timestamp(r, hts, ts, why, whylen)))
		return v;
	parts[0] = (struct iov){ id, strlen(id) };
	parts[1] = (struct iov){ ".", 1 };
	parts[2] = (struct iov){ ts, strlen(ts) };
	parts[3] = (struct iov){ ".", 1 };
	parts[4] = (struct iov){ r->body, r->body_len };

	/* Walk "v1,<b64> v1a,<b64> ..." entries. */
	for (const char *p = sigs; *p != '\0';) {
		const char *end, *comma;
		size_t n;
		int siglen, v1a;

		while (*p == ' ')
			p++;
		end = strchr(p, ' ');
		n = end ? (size_t)(end - p) : strlen(p);
		comma = memchr(p, ',', n);
		if (comma == NULL)
			goto next;
		v1a = (size_t)(comma - p) == 3 && memcmp(p, "v1a", 3) == 0;
		if (!v1a && !((size_t)(comma - p) == 2 && memcmp(p, "v1", 2) ==
		    0))
			goto next;
		siglen = b64_decode(comma + 1, n - (size_t)(comma - p) - 1, sig,
		    sizeof(sig));
		if (siglen <= 0)
			goto next;
		for (s = 0; s < r->nsecrets; s++) {
			int kl = sw_key(r->secret[s], r->secret_len[s], v1a,
			    key, sizeof(key));

			if (kl < 0)
				continue;
			if (v1a) {
				if (kl == 32 && ed25519_verify(key, sig,
				    (size_t)siglen, parts, 5))
					return V_OK;
				continue;
			}
			if (maclen[s] < 0)
				maclen[s] = hmac_parts(HMAC_SHA256, key,
				    (size_t)kl, parts, 5, mac + 32 * s);
			if (maclen[s] == siglen && ct_equal(mac + 32 * s, sig,
			    (size_t)siglen))
				return V_OK;
		}
next:
		p += n;
	}
	snprintf(why, whylen, "no valid signature in %s", hsig);
	return V_SIGNATURE;
}
