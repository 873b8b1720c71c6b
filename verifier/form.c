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

/* Every field, decoded, as a JSON object of strings. */
static json_t *
form_fields(const unsigned char *body, size_t len)
{
	json_t *o = json_object();
	size_t off = 0;

	while (off < len && json_object_size(o) < 1000) {
		const unsigned char *amp = memchr(body + off, '&', len - off);
		size_t flen = amp ? (size_t)(amp - (body + off)) : len - off;
		const unsigned char *eq = memchr(body + off, '=', flen);
		char name[256], *val;
		size_t nl, vl;

		if (eq != NULL && (nl = (size_t)(eq - (body + off))) > 0 &&
		    nl < sizeof(name)) {
			json_t *jv;

			memcpy(name, body + off, nl);
			name[nl] = '\0';
			if ((val = form_field(body + off, flen, name, &vl)) !=
			    NULL) {
				/* Invalid UTF-8 or a bad name: left out
				 * (json_object_set_new frees jv then). */
				if ((jv = json_stringn(val, vl)) != NULL)
					json_object_set_new(o, name, jv);
				free(val);
			}
		}
		off += flen + 1;
	}
	if (json_object_size(o) == 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
form_json(const unsigned char *body, size_t len, json_error_t *je)
{
	size_t n = 0;
	char *payload = form_field(body, len, "payload", &n);
	json_t *j;

	memset(je, 0, sizeof(*je));
	if (payload == NULL) {
		if ((j = form_fields(body, len)) == NULL)
			strcpy(je->text, "form body has no fields");
		return j;
	}
	j = json_loadb(payload, n, JSON_REJECT_DUPLICATES, je);
	free(payload);
	return j;
}
