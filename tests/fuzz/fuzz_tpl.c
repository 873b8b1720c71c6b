/*
 * Signed templates: compiled as a definition's "signed" param, then
 * filled from a fixed request (every placeholder kind, {form:sorted} over
 * a form body).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct header h[] = {
		{ "content-type", "application/x-www-form-urlencoded" },
		{ "x-a", "alpha" },
	};
	static const char body[] = "b=2&a=%41+1&a=1&c&=x&%zz=bad&d=%00";
	struct iov parts[TPL_PARTS_MAX];
	char *s = malloc(size + 1), err[256], why[256];
	struct tpl t;
	struct vreq r;
	struct vctx c;
	int n;

	memcpy(s, data, size);
	s[size] = '\0';
	if (integ_tpl_compile(s, ~0u, &t, err, sizeof(err)) == 0) {
		memset(&r, 0, sizeof(r));
		r.headers = h;
		r.nheaders = 2;
		r.body = (const unsigned char *)body;
		r.body_len = sizeof(body) - 1;
		r.method = "POST";
		r.path = "/triggers/plugin/x";
		r.query = "q=1&sig=a%2Bb";
		r.url = "http://h/triggers/plugin/x?q=1&sig=a%2Bb";
		vctx_init(&c, &r);
		n = vctx_expand(&c, &t, "1700000000", (const unsigned char *)
		    "k", 1, parts, why, sizeof(why));
		if (n > 0) {
			unsigned char mac[64];

			hmac_parts(HMAC_SHA256, "k", 1, parts, n, mac);
		}
		vctx_free(&c);
	}
	free(s);
	return 0;
}
