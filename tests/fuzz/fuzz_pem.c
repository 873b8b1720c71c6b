/*
 * Public keys as users paste them (PEM on one line or several, hex or
 * base64 of DER or of the raw key) for every kind, and JWKS documents
 * (each key as RS256 and ES256).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "jwks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum pkey_kind kinds[] = { PKEY_ED25519, PKEY_P256,
	    PKEY_RSA };
	char why[512];
	json_t *doc, *k;
	size_t i;

	for (i = 0; i < 3; i++)
		EVP_PKEY_free(pubkey_parse((const char *)data, size, kinds[i],
		    why, sizeof(why)));
	if ((doc = json_loadb((const char *)data, size, 0, NULL)) != NULL) {
		jwks_check(doc, why, sizeof(why));
		json_array_foreach(json_object_get(doc, "keys"), i, k) {
			EVP_PKEY_free(jwk_pkey(k, JWT_RS256));
			EVP_PKEY_free(jwk_pkey(k, JWT_ES256));
		}
		json_decref(doc);
	}
	return 0;
}
