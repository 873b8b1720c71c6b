/*
 * Signature values: plain, lists and key=value lists with separators and
 * prefixes, with their timestamps (seconds, milliseconds, RFC 3339).
 * Input: one byte choosing the definition, then the header's value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NDEFS	5
static struct integ ig[NDEFS];
static int loaded;

static const char *const params[NDEFS] = {
	"{\"signature\":\"header:x-sig\",\"format\":\"kv\",\"separator\":\",\","
	"\"kv_signature\":\"v1\",\"kv_timestamp\":\"t\","
	"\"signed\":\"{timestamp}.{body}\"}",
	"{\"signature\":\"header:x-sig\",\"format\":\"kv\",\"separator\":\";\","
	"\"kv_signature\":\"h1\",\"kv_timestamp\":\"ts\",\"encoding\":"
	"\"base64\",\"signed\":\"{timestamp}:{body}\"}",
	"{\"header\":\"x-sig\",\"format\":\"list\",\"separator\":\" \","
	"\"prefix\":\"v1=\"}",
	"{\"header\":\"x-sig\",\"prefix\":\"sha256=\",\"timestamp\":"
	"\"header:x-sig\",\"timestamp_format\":\"rfc3339\","
	"\"signed\":\"{timestamp}{body}\"}",
	"{\"header\":\"x-sig\",\"encoding\":\"base64url\",\"timestamp\":"
	"\"header:x-sig\",\"timestamp_format\":\"unix_ms\","
	"\"signed\":\"{timestamp}{body}\"}",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header h[1];
	struct vreq r;
	char *v, why[256];

	if (!loaded) {
		char def[1024], err[512];

		for (int i = 0; i < NDEFS; i++) {
			snprintf(def, sizeof(def), "{\"name\":\"k\",\"scheme\":"
			    "\"hmac\",\"params\":%s,\"event_type\":\"body:/t\","
			    "\"delivery_id\":\"none\",\"events\":[]}",
			    params[i]);
			if (integ_load_string(&ig[i], def, "fuzz", err,
			    sizeof(err)) == -1)
				abort();
		}
		loaded = 1;
	}
	if (size < 1)
		return 0;
	v = malloc(size);
	memcpy(v, data + 1, size - 1);
	v[size - 1] = '\0';
	h[0] = (struct header){ "x-sig", v };
	memset(&r, 0, sizeof(r));
	r.ig = &ig[data[0] % NDEFS];
	r.headers = h;
	r.nheaders = 1;
	r.body = (const unsigned char *)"{\"t\":\"a\"}";
	r.body_len = 9;
	r.secret[0] = (const unsigned char *)"secret";
	r.secret_len[0] = 6;
	r.nsecrets = 1;
	r.now = 1700000000;
	r.tolerance = 300;
	verify_request(&r, why, sizeof(why));
	free(v);
	return 0;
}
