/*
 * Micro-benchmark: microseconds per Standard Webhooks verification
 * through the verifier's verify_request() (the code the verifier runs,
 * secret decoding and timestamp check included), against a bare OpenSSL
 * HMAC-SHA256 of the same bytes ("id.ts.body" under the decoded key).
 * Also times verify_extract() (the JSON parse that finds the event type)
 * and the HMAC through a keyed EVP_MAC_CTX template, the fastest way
 * OpenSSL offers.
 *
 *	micro INTEGRATION.json [ITERATIONS]
 *
 * Prints one "MICRO name us_per_op" line per measurement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "verify.h"

#define SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile int sink;

int
main(int argc, char **argv)
{
	struct integ ig;
	struct header h[5];
	struct vreq r;
	char err[512], why[256], body[512], signed_[1024], sig[128], hsig[140];
	char ts[24], type[256], did[256];
	unsigned char key[64], mac[64];
	unsigned int maclen;
	int keylen, blen, slen;
	long n = argc > 2 ? atol(argv[2]) : 200000, i;
	double t, us_verify, us_hmac, us_ctx, us_extract;
	EVP_MAC *hm;
	EVP_MAC_CTX *tmpl, *c;
	OSSL_PARAM params[2];
	size_t outl;

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: micro INTEGRATION.json [ITERATIONS]\n");
		return 2;
	}
	if (integ_load_file(&ig, argv[1], err, sizeof(err)) == -1) {
		fprintf(stderr, "micro: %s\n", err);
		return 1;
	}
	keylen = b64_decode(SECRET + 6, strlen(SECRET) - 6, key, sizeof(key));
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	blen = snprintf(body, sizeof(body), "{\"id\":\"evt_685343a1381c819085d4"
	    "4c354e1b330e\",\"object\":\"event\",\"type\":\"batch.completed\","
	    "\"created_at\":%s,\"data\":{\"id\":\"batch_abc123\"}}", ts);
	slen = snprintf(signed_, sizeof(signed_), "msg_2mVqBTnDEgQ8sGUUmlCdbdF"
	    "4GwG.%s.%s", ts, body);
	HMAC(EVP_sha256(), key, keylen, (unsigned char *)signed_, (size_t)slen,
	    mac, &maclen);
	b64_encode(mac, maclen, sig);
	snprintf(hsig, sizeof(hsig), "v1,%s", sig);

	h[0] = (struct header){ "content-type", "application/json" };
	h[1] = (struct header){ "user-agent", "OpenAI/1.0" };
	h[2] = (struct header){ "webhook-id", "msg_2mVqBTnDEgQ8sGUUmlCdbdF4GwG" };
	h[3] = (struct header){ "webhook-timestamp", ts };
	h[4] = (struct header){ "webhook-signature", hsig };
	memset(&r, 0, sizeof(r));
	r.ig = &ig;
	r.headers = h;
	r.nheaders = 5;
	r.body = (const unsigned char *)body;
	r.body_len = (size_t)blen;
	r.secret[0] = (const unsigned char *)SECRET;
	r.secret_len[0] = strlen(SECRET);
	r.nsecrets = 1;
	r.now = time(NULL);
	r.tolerance = 300;
	if (verify_request(&r, why, sizeof(why)) != V_OK) {
		fprintf(stderr, "micro: the test vector does not verify: %s\n",
		    why);
		return 1;
	}

	/* Warm up, then measure. */
	for (i = 0; i < n / 10; i++)
		sink += verify_request(&r, why, sizeof(why));
	t = now_s();
	for (i = 0; i < n; i++)
		sink += verify_request(&r, why, sizeof(why));
	us_verify = (now_s() - t) * 1e6 / (double)n;

	t = now_s();
	for (i = 0; i < n; i++) {
		HMAC(EVP_sha256(), key, keylen, (unsigned char *)signed_,
		    (size_t)slen, mac, &maclen);
		sink += mac[0];
	}
	us_hmac = (now_s() - t) * 1e6 / (double)n;

	hm = EVP_MAC_fetch(NULL, "HMAC", NULL);
	tmpl = EVP_MAC_CTX_new(hm);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	EVP_MAC_init(tmpl, key, (size_t)keylen, params);
	t = now_s();
	for (i = 0; i < n; i++) {
		c = EVP_MAC_CTX_dup(tmpl);
		EVP_MAC_update(c, (unsigned char *)signed_, (size_t)slen);
		EVP_MAC_final(c, mac, &outl, sizeof(mac));
		EVP_MAC_CTX_free(c);
		sink += mac[0];
	}
	us_ctx = (now_s() - t) * 1e6 / (double)n;
	EVP_MAC_CTX_free(tmpl);
	EVP_MAC_free(hm);

	t = now_s();
	for (i = 0; i < n; i++) {
		json_t *j = NULL;

		sink += verify_extract(&r, &j, type, sizeof(type), did,
		    sizeof(did), why, sizeof(why));
		json_decref(j);
	}
	us_extract = (now_s() - t) * 1e6 / (double)n;

	printf("MICRO verify_request %.3f\n", us_verify);
	printf("MICRO openssl_hmac %.3f\n", us_hmac);
	printf("MICRO openssl_mac_ctx_dup %.3f\n", us_ctx);
	printf("MICRO verify_extract %.3f\n", us_extract);
	printf("MICRO body_bytes %d\n", blen);
	return 0;
}
