/*
 * Encrypted bodies (Lark's {"encrypt": "<base64>"}): the JSON body, its
 * base64, the AES-256-CBC blocks and their padding, with the key from
 * the secret (hashed or raw) or from a param. Input: one byte choosing
 * the key, then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct integ ig[3];
static int loaded;

static const char *const defs[3] = {
	"{\"name\":\"a\",\"scheme\":\"hmac\",\"params\":{\"header\":\"x\"},"
	"\"event_type\":[\"body:/header/event_type\",\"body:/type\"],"
	"\"delivery_id\":\"none\",\"encrypted\":{\"field\":\"/encrypt\","
	"\"cipher\":\"aes-256-cbc\",\"key\":\"secret\",\"key_hash\":"
	"\"sha256\"},\"handshakes\":[{\"when\":{\"body:/type\":"
	"\"url_verification\"},\"verify\":{\"token\":\"body:/token\","
	"\"equals\":\"secret\"},\"respond\":{\"json\":{\"challenge\":"
	"\"{body:/challenge}\"}}}],\"events\":[]}",
	"{\"name\":\"b\",\"scheme\":\"hmac\",\"params\":{\"header\":\"x\"},"
	"\"event_type\":\"body:/type\",\"delivery_id\":\"none\",\"encrypted\":"
	"{\"field\":\"/a/e\",\"cipher\":\"aes-256-cbc\",\"key\":\"secret\"},"
	"\"events\":[]}",
	"{\"name\":\"c\",\"scheme\":\"hmac\",\"params\":{\"header\":\"x\"},"
	"\"event_type\":\"body:/type\",\"delivery_id\":\"none\",\"encrypted\":"
	"{\"field\":\"/encrypt\",\"cipher\":\"aes-256-cbc\",\"key\":"
	"\"param:k\",\"key_hash\":\"sha256\"},\"events\":[]}",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_answer a;
	struct vreq r;
	struct vhs vh;
	char why[256], *text;
	size_t len;
	json_t *j, *b;

	if (!loaded) {
		char err[512];

		for (int i = 0; i < 3; i++)
			if (integ_load_string(&ig[i], defs[i], "fuzz", err,
			    sizeof(err)) == -1)
				abort();
		loaded = 1;
	}
	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	r.ig = &ig[data[0] % 3];
	r.method = "POST";
	r.body = data + 1;
	r.body_len = size - 1;
	r.secret[0] = (const unsigned char *)"lark-key";
	r.secret_len[0] = 8;
	/* 32 bytes: the raw key of the second definition. */
	r.secret[1] = (const unsigned char *)"0123456789abcdef0123456789abcdef";
	r.secret_len[1] = 32;
	r.nsecrets = 2;
	b = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (decrypt_body(&r, b, "k=lark-key\n", &text, &len, &j, why,
	    sizeof(why)) == 1) {
		free(text);
		json_decref(j);
	}
	json_decref(b);
	vhs_init(&vh, &r, "k=lark-key\n");
	if (vhs_before(&vh, &a, why, sizeof(why)) == 1)
		hs_answer_free(&a);
	if (vhs_after(&vh, &a, why, sizeof(why)) == 1)
		hs_answer_free(&a);
	vhs_free(&vh);
	return 0;
}
