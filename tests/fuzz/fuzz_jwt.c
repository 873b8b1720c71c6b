/*
 * JSON Web Tokens: the Authorization header's value, checked as HS256
 * (with a body digest claim), as RS256 by a JWKS file and as ES256 by a
 * public key. Input: one byte choosing the definition, then the value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NDEFS	3
static struct integ ig[NDEFS];
static int loaded;
/* One file for every run: libFuzzer leaves without atexit handlers. */
static const char path[] = "/tmp/hookpipe-fuzz-jwks.json";

/* An RSA key and the P-256 key of RFC 7515 appendix A.3, as a JWKS. */
static const char jwks[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\","
    "\"n\":\""
    "rVefpF-4f41q9P1YfSOUuNDEl46vX-IkilWEb01EfUAqb3qgxlAnduOQfD09nXbw"
    "MYlCyMXuBrWddqMf8-0gHnFbi4oN7y-UMd01bo7bAeJ4yx0uo7Uve6DoOzOUIpdH"
    "2L-APqr4_YeijCsaaFjnpueAQHOxx9wnmRMTwCGgbyNZtrv_-Imt5UIUvGWC1fvx"
    "j08bx2Tpehl5tk9cRtOI3X054wv0-b64d2eFUWfUY18ysrUnzleIkMZvnUaonVx0"
    "qvYS_5ByRw5vKPWdxWoXUe8EJLvJeUrL12JC-qewuVn43UFiLaVeMBhWzD5hsgux"
    "MvEZpnrDpO3MhAdlI5aOFw"
    "\",\"e\":\"AQAB\"},{\"kty\":\"EC\","
    "\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

static const char *const params[NDEFS] = {
	"{\"algorithms\":[\"HS256\"],\"issuer\":\"netlify\",\"require\":[],"
	"\"body_digest\":{\"claim\":\"sha256\"}}",
	"{\"algorithms\":[\"RS256\"],\"jwks_file\":\"JWKS\",\"audience\":"
	"\"{url}\",\"claims\":{\"email_verified\":true}}",
	"{\"algorithms\":[\"ES256\"],\"issuer\":[\"a\",\"b\"]}",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header h[1];
	struct vreq r;
	char *v, why[512];

	if (!loaded) {
		char def[2048], err[512], p[600];
		FILE *f;

		if ((f = fopen(path, "w")) == NULL)
			abort();
		fputs(jwks, f);
		fclose(f);
		for (int i = 0; i < NDEFS; i++) {
			char *j;

			snprintf(p, sizeof(p), "%s", params[i]);
			if ((j = strstr(p, "JWKS")) != NULL)
				snprintf(p, sizeof(p), "{\"algorithms\":"
				    "[\"RS256\"],\"jwks_file\":\"%s\","
				    "\"audience\":\"{url}\",\"claims\":"
				    "{\"email_verified\":true}}", path);
			snprintf(def, sizeof(def), "{\"name\":\"j\",\"scheme\":"
			    "\"jwt\",\"params\":%s,\"event_type\":\"body:/t\","
			    "\"delivery_id\":\"none\",\"events\":[]}", p);
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
	h[0] = (struct header){ "authorization", v };
	memset(&r, 0, sizeof(r));
	r.ig = &ig[data[0] % NDEFS];
	r.headers = h;
	r.nheaders = 1;
	r.body = (const unsigned char *)"{\"t\":\"a\"}";
	r.body_len = 9;
	r.secret[0] = (const unsigned char *)
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7"
	    "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==";
	r.secret_len[0] = strlen((const char *)r.secret[0]);
	r.nsecrets = 1;
	r.url = "https://h/triggers/plugin/x";
	r.now = 1700000000;
	r.tolerance = 300;
	verify_request(&r, why, sizeof(why));
	free(v);
	return 0;
}
