/*
 * application/x-www-form-urlencoded bodies, as GitHub sends them when a
 * hook's content type is "form": the JSON document is the `payload` field.
 * Percent-decoding is libcurl's.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "verify.h"

char *
form_field(const unsigned char *body, size_t len, const char *name,
    size_t *outlen)
{
	size_t nl = strlen(name), off = 0;

	while (off < len) {
		const unsigned char *amp = memchr(body + off, '&', len - off);
		size_t flen = amp ? (size_t)(amp - (body + off)) : len - off;
		const unsigned char *f = body + off;

		if (flen > nl && f[nl] == '=' && memcmp(f, name, nl) == 0) {
			char *raw, *dec;
			int dl = 0;
			size_t i, vl = flen - nl - 1;

			if (vl > INT32_MAX || (raw = malloc(vl + 1)) == NULL)
				return NULL;
			/* '+' is a space in forms; curl decodes only %XX. */
			for (i = 0; i < vl; i++)
				raw[i] = f[nl + 1 + i] == '+' ? ' ' :
				    (char)f[nl + 1 + i];
			raw[vl] = '\0';
			dec = curl_easy_unescape(NULL, raw, (int)vl, &dl);
			free(raw);
			if (dec == NULL)
				return NULL;
			raw = malloc((size_t)dl + 1);
			if (raw != NULL) {
				memcpy(raw, dec, (size_t)dl);
				raw[dl] = '\0';
				*outlen = (size_t)dl;
			}
			curl_free(dec);
			return raw;
		}
		off += flen + 1;
	}
	return NULL;
}

json_t *
form_payload_json(const unsigned char *body, size_t len, json_error_t *je)
{
	size_t n = 0;
	char *payload = form_field(body, len, "payload", &n);
	json_t *j;

	if (payload == NULL) {
		memset(je, 0, sizeof(*je));
		strcpy(je->text, "form body has no payload field");
		return NULL;
	}
	j = json_loadb(payload, n, JSON_REJECT_DUPLICATES, je);
	free(payload);
	return j;
}
