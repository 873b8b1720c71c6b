/*
 * The verifier's schemes against the published vectors in
 * ../shared/vectors/signatures.tsv (every line), then tolerance, secret
 * rotation, missing headers, Ed25519 (v1a), generic HMAC and garbage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "t.h"
#include "verify.h"

static struct integ ig_sw, ig_gh, ig_slack, ig_stripe, ig_hmac, ig_svix;

static void
load(struct integ *ig, const char *json)
{
	char err[512];

	if (integ_load_string(ig, json, "test", err, sizeof(err)) == -1) {
		printf("not ok - definition: %s\n", err);
		exit(1);
	}
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	p = malloc((size_t)len + 1);
	*n = fread(p, 1, (size_t)len, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

static enum vresult
run(const struct integ *ig, struct header *h, size_t nh, const char *body,
    size_t blen, const char *secret, const char *secret2, int64_t now)
{
	struct vreq r;
	char why[256];

	memset(&r, 0, sizeof(r));
	r.ig = ig;
	r.headers = h;
	r.nheaders = nh;
	r.body = (const unsigned char *)body;
	r.body_len = blen;
	r.secret[0] = (const unsigned char *)secret;
	r.secret_len[0] = strlen(secret);
	r.nsecrets = 1;
	if (secret2 != NULL) {
		r.secret[1] = (const unsigned char *)secret2;
		r.secret_len[1] = strlen(secret2);
		r.nsecrets = 2;
	}
	r.now = now;
	r.tolerance = 300;
	return verify_request(&r, why, sizeof(why));
}

static void
vectors(const char *dir)
{
	char path[512], line[4096];
	FILE *f;
	int lines = 0;

	snprintf(path, sizeof(path), "%s/signatures.tsv", dir);
	if ((f = fopen(path, "r")) == NULL) {
		CHECK_MSG(0, "cannot open %s", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *col[7], *save = NULL, *body;
		struct header h[3];
		size_t blen, nh = 0;
		int i;
		int64_t ts;
		const struct integ *ig;
		enum vresult v;

		line[strcspn(line, "\r\n")] = '\0';
		for (i = 0; i < 7; i++)
			col[i] = strtok_r(i ? NULL : line, "\t", &save);
		if (col[6] == NULL || strcmp(col[0], "scheme") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, col[4]);
		if ((body = slurp(path, &blen)) == NULL) {
			CHECK_MSG(0, "cannot read %s", path);
			continue;
		}
		ts = strcmp(col[3], "-") ? atoll(col[3]) : 1700000000;
		if (strcmp(col[0], "standard-webhooks") == 0) {
			ig = &ig_sw;
			h[nh++] = (struct header){ "webhook-id", col[2] };
			h[nh++] = (struct header){ "webhook-timestamp",
			    col[3] };
			h[nh++] = (struct header){ "webhook-signature",
			    col[5] };
		} else if (strcmp(col[0], "github") == 0) {
			ig = &ig_gh;
			h[nh++] = (struct header){ "x-hub-signature-256",
			    col[5] };
		} else if (strcmp(col[0], "slack") == 0) {
			ig = &ig_slack;
			h[nh++] = (struct header){ "x-slack-request-timestamp",
			    col[3] };
			h[nh++] = (struct header){ "x-slack-signature",
			    col[5] };
		} else {
			CHECK_MSG(0, "vector for unknown scheme %s", col[0]);
			free(body);
			continue;
		}
		v = run(ig, h, nh, body, blen, col[1], NULL, ts);
		CHECK_MSG((v == V_OK) == (strcmp(col[6], "valid") == 0),
		    "vector %s %s: expected %s, got %d", col[0], col[5],
		    col[6], v);
		lines++;
		free(body);
	}
	fclose(f);
	CHECK_MSG(lines >= 6, "only %d vectors read", lines);
}

static void
sign_sw(const char *key, size_t keylen, const char *id, const char *ts,
    const char *body, char *out)
{
	struct iov p[5] = { { id, strlen(id) }, { ".", 1 },
	    { ts, strlen(ts) }, { ".", 1 }, { body, strlen(body) } };
	unsigned char mac[64];
	int n = hmac_parts(HMAC_SHA256, key, keylen, p, 5, mac);

	strcpy(out, "v1,");
	b64_encode(mac, (size_t)n, out + 3);
}

static void
standard_webhooks(void)
{
	const char *body = "{\"type\":\"batch.completed\"}";
	char sig[128], ts[32], raw_sig[128];
	struct header h[3];
	int64_t now = 1700000000;
	unsigned char key[64];
	int kl = b64_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32, key,
	    sizeof(key));

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	sign_sw((const char *)key, (size_t)kl, "msg_1", ts, body, sig);
	h[0] = (struct header){ "webhook-id", "msg_1" };
	h[1] = (struct header){ "webhook-timestamp", ts };
	h[2] = (struct header){ "webhook-signature", sig };
#define SW(n, secret, s2, at) run(&ig_sw, h, n, body, strlen(body), secret, \
	s2, at)
	CHECK(SW(3, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL, now) ==
	    V_OK);
	/* The tolerance, both ways: 300 s passes, 301 s does not. */
	CHECK(SW(3, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL,
	    now + 300) == V_OK);
	CHECK(SW(3, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL,
	    now - 300) == V_OK);
	CHECK(SW(3, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL,
	    now + 301) == V_TIMESTAMP);
	CHECK(SW(3, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL,
	    now - 301) == V_TIMESTAMP);
	/* Rotation: either secret verifies. */
	CHECK(SW(3, "whsec_b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcg==",
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now) == V_OK);
	CHECK(SW(3, "whsec_b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcg==", NULL, now) ==
	    V_SIGNATURE);
	/* Missing headers. */
	CHECK(SW(2, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL, now) ==
	    V_MISSING);
	/* A secret without whsec_ is used as raw bytes (OpenAI's SDKs). */
	sign_sw("plain-secret", 12, "msg_1", ts, body, raw_sig);
	h[2].value = raw_sig;
	CHECK(SW(3, "plain-secret", NULL, now) == V_OK);
	/* Garbage signature lists. */
	h[2].value = "v1, v1,,, v2,abc v1,!!!! ,,, v1a,AAAA";
	CHECK(SW(3, "plain-secret", NULL, now) == V_SIGNATURE);
	h[1].value = "12abc";
	CHECK(SW(3, "plain-secret", NULL, now) == V_TIMESTAMP);
#undef SW
}

/*
 * Svix senders (Clerk, Resend): Standard Webhooks under svix-* headers.
 * The vector is the example of Svix's documentation (docs.svix.com,
 * "Verifying payloads manually"); svix@1's Webhook.sign gives the same.
 */
static void
svix(void)
{
	const char *body = "{\"test\": 2432232314}";
	const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	struct header h[3] = {
		{ "svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek" },
		{ "svix-timestamp", "1614265330" },
		{ "svix-signature",
		    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
	};
	struct vreq r;
	char why[256], err[512];
	struct integ bad;

	CHECK(run(&ig_svix, h, 3, body, strlen(body), secret, NULL,
	    1614265330) == V_OK);
	CHECK(run(&ig_svix, h, 3, "{\"test\": 2432232315}", 20, secret, NULL,
	    1614265330) == V_SIGNATURE);
	/* The plain Standard Webhooks names are not read, nor are these
	 * by the default definition. */
	CHECK(run(&ig_sw, h, 3, body, strlen(body), secret, NULL,
	    1614265330) == V_MISSING);
	h[0].name = "webhook-id";
	memset(&r, 0, sizeof(r));
	r.ig = &ig_svix;
	r.headers = h;
	r.nheaders = 3;
	r.body = (const unsigned char *)body;
	r.body_len = strlen(body);
	r.secret[0] = (const unsigned char *)secret;
	r.secret_len[0] = strlen(secret);
	r.nsecrets = 1;
	r.now = 1614265330;
	r.tolerance = 300;
	CHECK(verify_request(&r, why, sizeof(why)) == V_MISSING &&
	    strcmp(why, "missing svix-id header") == 0);
	CHECK(integ_reads_header(&ig_svix, "svix-signature") &&
	    !integ_reads_header(&ig_svix, "webhook-signature"));
	CHECK(integ_load_string(&bad, "{\"name\":\"b\",\"scheme\":"
	    "\"standard-webhooks\",\"params\":{\"header_prefix\":"
	    "\"svix id\"},\"event_type\":\"body:/type\",\"delivery_id\":"
	    "\"none\",\"events\":[]}", "b.json", err, sizeof(err)) == -1 &&
	    strstr(err, "/params/header_prefix") != NULL);
	CHECK(integ_load_string(&bad, "{\"name\":\"b\",\"scheme\":"
	    "\"standard-webhooks\",\"params\":{\"header\":\"x\"},"
	    "\"event_type\":\"body:/type\",\"delivery_id\":\"none\","
	    "\"events\":[]}", "b.json", err, sizeof(err)) == -1 &&
	    strstr(err, "unknown parameter") != NULL);
}

static void
v1a(void)
{
	const char *body = "{\"type\":\"contact.created\"}", *id = "msg_2",
	    *ts = "1700000000";
	unsigned char pub[32], sig[64], msg[256];
	char spub[80] = "whpk_", ssig[128] = "v1a,", other[80] = "whpk_";
	size_t publen = 32, siglen = 64, mlen;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct header h[3];

	mlen = (size_t)snprintf((char *)msg, sizeof(msg), "%s.%s.%s", id, ts,
	    body);
	EVP_DigestSignInit(md, NULL, NULL, NULL, k);
	EVP_DigestSign(md, sig, &siglen, msg, mlen);
	EVP_PKEY_get_raw_public_key(k, pub, &publen);
	b64_encode(pub, 32, spub + 5);
	b64_encode(sig, 64, ssig + 4);
	EVP_PKEY_get_raw_public_key(k2, pub, &publen);
	b64_encode(pub, 32, other + 5);
	h[0] = (struct header){ "webhook-id", id };
	h[1] = (struct header){ "webhook-timestamp", ts };
	h[2] = (struct header){ "webhook-signature", ssig };
	CHECK(run(&ig_sw, h, 3, body, strlen(body), spub, NULL, 1700000000) ==
	    V_OK);
	CHECK(run(&ig_sw, h, 3, body, strlen(body), other, NULL,
	    1700000000) == V_SIGNATURE);
	CHECK(run(&ig_sw, h, 3, "{}", 2, spub, NULL, 1700000000) ==
	    V_SIGNATURE);
	/* Whoever knows the public key can compute an HMAC keyed with its
	 * text: a whpk_ key must never verify a v1 signature. */
	{
		struct iov p[5] = { { id, strlen(id) }, { ".", 1 },
		    { ts, strlen(ts) }, { ".", 1 }, { body, strlen(body) } };
		unsigned char mac[64];
		char forged[128] = "v1,";

		hmac_parts(HMAC_SHA256, spub, strlen(spub), p, 5, mac);
		b64_encode(mac, 32, forged + 3);
		h[2].value = forged;
		CHECK(run(&ig_sw, h, 3, body, strlen(body), spub, NULL,
		    1700000000) == V_SIGNATURE);
		/* Nor a v1a signature verify under a whsec_ or raw secret. */
		h[2].value = ssig;
		CHECK(run(&ig_sw, h, 3, body, strlen(body), spub + 5, NULL,
		    1700000000) == V_SIGNATURE);
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void
stripe_and_hmac(void)
{
	const char *body = "{\"type\":\"invoice.paid\"}";
	struct iov p[3] = { { "1700000000", 10 }, { ".", 1 },
	    { body, strlen(body) } };
	unsigned char mac[64];
	char hex[129], hdr[400];
	struct header h[2];

	hmac_parts(HMAC_SHA256, "whsec_stripe", 12, p, 3, mac);
	hex_encode(mac, 32, hex);
	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%064d,v1=%s,v0=00", 0,
	    hex);
	h[0] = (struct header){ "stripe-signature", hdr };
	CHECK(run(&ig_stripe, h, 1, body, strlen(body), "whsec_stripe", NULL,
	    1700000000) == V_OK);
	CHECK(run(&ig_stripe, h, 1, body, strlen(body), "whsec_other", NULL,
	    1700000000) == V_SIGNATURE);
	CHECK(run(&ig_stripe, h, 1, body, strlen(body), "whsec_stripe", NULL,
	    1700000400) == V_TIMESTAMP);
	h[0].value = "v1=abcd";
	CHECK(run(&ig_stripe, h, 1, body, strlen(body), "whsec_stripe", NULL,
	    1700000000) == V_MISSING);

	/* Generic: sha512, base64, prefix, "{timestamp}:{body}". */
	{
		struct iov q[3] = { { "1700000000", 10 }, { ":", 1 },
		    { body, strlen(body) } };
		char b64[100], sig[120];
		int n = hmac_parts(HMAC_SHA512, "k", 1, q, 3, mac);

		b64_encode(mac, (size_t)n, b64);
		snprintf(sig, sizeof(sig), "sig=%s", b64);
		h[0] = (struct header){ "x-sig", sig };
		h[1] = (struct header){ "x-ts", "1700000000" };
		CHECK(run(&ig_hmac, h, 2, body, strlen(body), "k", NULL,
		    1700000000) == V_OK);
		CHECK(run(&ig_hmac, h, 1, body, strlen(body), "k", NULL,
		    1700000000) == V_MISSING);
		h[0].value = b64;	/* no prefix */
		CHECK(run(&ig_hmac, h, 2, body, strlen(body), "k", NULL,
		    1700000000) == V_SIGNATURE);
	}
}

static void
extract(void)
{
	struct vreq r;
	struct header h[2] = { { "webhook-id", "msg_9" },
	    { "content-type", "application/json" } };
	char type[64], did[64], why[256];
	json_t *j = NULL;
	const char *ok = "{\"type\":\"batch.failed\"}";

	memset(&r, 0, sizeof(r));
	r.ig = &ig_sw;
	r.headers = h;
	r.nheaders = 2;
	r.body = (const unsigned char *)ok;
	r.body_len = strlen(ok);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did),
	    why, sizeof(why)) == V_OK && strcmp(type, "batch.failed") == 0 &&
	    strcmp(did, "msg_9") == 0);
	json_decref(j);
	r.body = (const unsigned char *)"{\"type\":1,}";
	r.body_len = 11;
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did),
	    why, sizeof(why)) == V_MALFORMED);
	json_decref(j);
	r.body = (const unsigned char *)"{\"no\":\"type\"}";
	r.body_len = 13;
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did),
	    why, sizeof(why)) == V_MALFORMED);
	json_decref(j);
	/* GitHub's form encoding. */
	{
		const char *form = "payload=%7B%22zen%22%3A+%22hi%22%7D";
		struct header gh[3] = { { "content-type",
		    "application/x-www-form-urlencoded" },
		    { "x-github-event", "ping" },
		    { "x-github-delivery", "d-1" } };

		r.ig = &ig_gh;
		r.headers = gh;
		r.nheaders = 3;
		r.body = (const unsigned char *)form;
		r.body_len = strlen(form);
		CHECK(verify_extract(&r, &j, type, sizeof(type), did,
		    sizeof(did), why, sizeof(why)) == V_OK &&
		    strcmp(type, "ping") == 0 && j != NULL &&
		    strcmp(json_string_value(json_object_get(j, "zen")),
		    "hi") == 0);
		json_decref(j);
	}
	/* Slack's slash command: form fields, the command as the type. */
	{
		struct header sh[1] = { { "content-type",
		    "application/x-www-form-urlencoded" } };
		const char *form = "token=x&command=%2Fdeploy&text=now+please"
		    "&trigger_id=t.1";

		r.ig = &ig_slack;
		r.headers = sh;
		r.nheaders = 1;
		r.body = (const unsigned char *)form;
		r.body_len = strlen(form);
		CHECK(verify_extract(&r, &j, type, sizeof(type), did,
		    sizeof(did), why, sizeof(why)) == V_OK &&
		    strcmp(type, "/deploy") == 0 && strcmp(did, "t.1") == 0 &&
		    strcmp(json_string_value(json_object_get(j, "text")),
		    "now please") == 0);
		json_decref(j);
	}
}

int
main(void)
{
	const char *dir = getenv("HOOKPIPE_VECTORS");

	load(&ig_sw, "{\"name\":\"sw\",\"scheme\":\"standard-webhooks\","
	    "\"event_type\":\"body:/type\",\"delivery_id\":\"header:webhook-id\","
	    "\"events\":[]}");
	load(&ig_gh, "{\"name\":\"gh\",\"scheme\":\"github\",\"event_type\":"
	    "\"header:X-GitHub-Event\",\"delivery_id\":"
	    "\"header:X-GitHub-Delivery\",\"events\":[],\"content_types\":"
	    "[\"application/json\",\"application/x-www-form-urlencoded\"]}");
	load(&ig_slack, "{\"name\":\"slack\",\"scheme\":\"slack\",\"body\":"
	    "\"any\",\"event_type\":[\"body:/type\",\"body:/command\"],"
	    "\"delivery_id\":[\"body:/event_id\",\"body:/trigger_id\"],"
	    "\"events\":[]}");
	load(&ig_stripe, "{\"name\":\"stripe\",\"scheme\":\"stripe\","
	    "\"event_type\":\"body:/type\",\"delivery_id\":\"body:/id\","
	    "\"events\":[]}");
	load(&ig_hmac, "{\"name\":\"h\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"X-Sig\",\"algorithm\":\"sha512\",\"encoding\":"
	    "\"base64\",\"prefix\":\"sig=\",\"signed\":\"{timestamp}:{body}\","
	    "\"timestamp_header\":\"X-Ts\"},\"event_type\":\"body:/type\","
	    "\"delivery_id\":\"none\",\"events\":[]}");
	load(&ig_svix, "{\"name\":\"svix\",\"scheme\":"
	    "\"standard-webhooks\",\"params\":{\"header_prefix\":"
	    "\"svix-\"},\"event_type\":\"body:/type\",\"delivery_id\":"
	    "\"header:svix-id\",\"events\":[]}");
	vectors(dir ? dir : "../shared/vectors");
	standard_webhooks();
	svix();
	v1a();
	stripe_and_hmac();
	extract();
	return t_done("test_verify");
}
