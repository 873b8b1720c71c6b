/*
 * Bodies a provider encrypts. Lark sends {"encrypt": "<base64>"}: the
 * decoded bytes are a 16-byte IV and AES-256-CBC ciphertext under the
 * SHA-256 of the app's Encrypt Key. The plaintext is the event: it is
 * what the triggers see and what is stored. The signature, when there is
 * one, covers the body as sent, and is checked on that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "verifier.h"

/* Try one key text: 1 with the plaintext, 0 when it does not fit. */
static int
try_key(const struct integ_crypt *c, const unsigned char *k, size_t kl,
    const unsigned char *data, size_t n, char **text, size_t *len,
    json_t **json)
{
	unsigned char key[32];
	char *plain;
	int pl;

	if (c->key_sha256)
		sha256(k, kl, key);
	else if (kl == sizeof(key))
		memcpy(key, k, kl);
	else
		return 0;
	if ((plain = malloc(n + 1)) == NULL) {
		OPENSSL_cleanse(key, sizeof(key));
		return 0;
	}
	pl = aes256cbc_decrypt(key, data, data + 16, n - 16,
	    (unsigned char *)plain);
	OPENSSL_cleanse(key, sizeof(key));
	/* A wrong key may leave padding that checks out by chance; it does
	 * not leave a JSON object. */
	if (pl >= 0) {
		plain[pl] = '\0';
		*json = json_loadb(plain, (size_t)pl, JSON_REJECT_DUPLICATES,
		    NULL);
		if (json_is_object(*json) && memchr(plain, '\0',
		    (size_t)pl) == NULL) {
			*text = plain;
			*len = (size_t)pl;
			return 1;
		}
		json_decref(*json);
		*json = NULL;
		OPENSSL_cleanse(plain, (size_t)pl);
	}
	free(plain);
	return 0;
}

int
decrypt_body(const struct vreq *r, json_t *body, const char *params,
    char **text, size_t *len, json_t **json, char *why, size_t whylen)
{
	const struct integ_crypt *c = &r->ig->crypt;
	json_t *f = body ? json_pointer_get(body, c->field) : NULL;
	unsigned char *data;
	char *param;
	size_t cap;
	int n, i, ok = 0, have_key = 1;

	*text = NULL;
	*json = NULL;
	if (f == NULL)
		return 0;
	if (!json_is_string(f)) {
		snprintf(why, whylen, "the encrypted field %s is not a string",
		    c->field);
		return -1;
	}
	cap = json_string_length(f) / 4 * 3 + 3;
	if ((data = malloc(cap)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	n = b64_decode(json_string_value(f), json_string_length(f), data, cap);
	if (n < 32 || (n - 16) % 16 != 0) {
		snprintf(why, whylen, "the encrypted field %s is not base64 of "
		    "an IV and AES-256-CBC blocks", c->field);
		free(data);
		return -1;
	}
	if (strcmp(c->key, "secret") == 0) {
		for (i = 0; i < r->nsecrets && !ok; i++)
			ok = try_key(c, r->secret[i], r->secret_len[i], data,
			    (size_t)n, text, len, json);
	} else if ((param = integ_param(params ? params : "", c->key + 6)) !=
	    NULL) {
		ok = try_key(c, (const unsigned char *)param, strlen(param),
		    data, (size_t)n, text, len, json);
		OPENSSL_cleanse(param, strlen(param));
		free(param);
	} else
		have_key = 0;
	free(data);
	if (ok)
		return 1;
	if (!have_key)
		snprintf(why, whylen, "the body is encrypted and the "
		    "subscription has no %s to decrypt it (create it with "
		    "--param %s=...)", c->key + 6, c->key + 6);
	else
		snprintf(why, whylen, "the body does not decrypt to a JSON "
		    "object with the subscription's %s", strcmp(c->key,
		    "secret") == 0 ? "secret" : c->key + 6);
	return -1;
}
