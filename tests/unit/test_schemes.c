/*
 * The scheme vocabulary (hmac extended, token, basic, ed25519,
 * ecdsa-p256, jwt) against tests/vectors/schemes.json: deliveries signed
 * by the providers' own libraries (tests/npm/gen-vectors.js). Each valid
 * vector is also replayed with a wrong secret, a changed body and each
 * of its required headers left out. Then definitions that must be
 * refused at load, secrets that must be refused, templates, public keys,
 * JWKS files and base64url.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "jwks.h"
#include "t.h"
#include "verify.h"

#define VECTORS	"tests/vectors/schemes.json"

static char home[] = "/tmp/hpsXXXXXX";

static const char *
result_name(enum vresult v)
{
	switch (v) {
	case V_OK:		return "ok";
	case V_MISSING:		return "missing";
	case V_SIGNATURE:	return "signature";
	case V_TIMESTAMP:	return "timestamp";
	case V_MALFORMED:	return "malformed";
	case V_UNAVAILABLE:	return "unavailable";
	}
	return "?";
}

/* A definition around a case's scheme and params. */
static int
load_def(struct integ *ig, json_t *d, const char *jwks_file, char *err,
    size_t errlen)
{
	json_t *def = json_pack("{s:s, s:O, s:s, s:s, s:[], s:s}", "name", "v",
	    "scheme", json_object_get(d, "scheme"), "event_type",
	    "header:x-none", "delivery_id", "none", "events", "body", "any");
	json_t *params = json_deep_copy(json_object_get(d, "params"));
	char *text;
	int rc;

	if (jwks_file != NULL &&
	    json_object_get(params, "jwks_file") != NULL)
		json_object_set_new(params, "jwks_file",
		    json_string(jwks_file));
	json_object_set_new(def, "params", params);
	text = json_dumps(def, 0);
	rc = integ_load_string(ig, text, "vector.json", err, errlen);
	free(text);
	json_decref(def);
	return rc;
}

struct vcase {
	struct header	 h[16];
	size_t		 nh;
	const char	*secret[2];
	int		 nsecrets;
	struct vreq	 r;
};

static void
vcase_fill(struct vcase *vc, const struct integ *ig, json_t *c, int64_t now)
{
	json_t *rq = json_object_get(c, "request"), *v, *s;
	const char *k;
	size_t i;

	memset(vc, 0, sizeof(*vc));
	json_object_foreach(json_object_get(rq, "headers"), k, v)
		if (vc->nh < 16)
			vc->h[vc->nh++] = (struct header){ k,
			    json_string_value(v) };
	json_array_foreach(json_object_get(c, "secrets"), i, s)
		if (i < 2) {
			vc->r.secret[i] = (const unsigned char *)
			    json_string_value(s);
			vc->r.secret_len[i] = json_string_length(s);
			vc->r.nsecrets++;
		}
	vc->r.ig = ig;
	vc->r.headers = vc->h;
	vc->r.nheaders = vc->nh;
	vc->r.body = (const unsigned char *)json_string_value(
	    json_object_get(rq, "body"));
	vc->r.body_len = json_string_length(json_object_get(rq, "body"));
	vc->r.method = json_string_value(json_object_get(rq, "method"));
	vc->r.path = json_string_value(json_object_get(rq, "path"));
	vc->r.query = json_string_value(json_object_get(rq, "query"));
	vc->r.url = json_string_value(json_object_get(rq, "url"));
	vc->r.params = json_string_value(json_object_get(c, "sub_params"));
	vc->r.now = json_is_integer(json_object_get(c, "now")) ?
	    json_integer_value(json_object_get(c, "now")) : now;
	vc->r.tolerance = 300;
}

/* The variations of a valid vector: each must be refused. */
static void
variations(const char *name, const struct integ *ig, json_t *c, int64_t now)
{
	struct vcase vc;
	char why[512], *body;
	const char *wrong = json_string_value(json_object_get(c,
	    "wrong_secret"));
	size_t i, j, len;
	json_t *hv;
	enum vresult v;

	if (wrong != NULL) {
		vcase_fill(&vc, ig, c, now);
		vc.r.secret[0] = (const unsigned char *)wrong;
		vc.r.secret_len[0] = strlen(wrong);
		vc.r.nsecrets = 1;
		v = verify_request(&vc.r, why, sizeof(why));
		CHECK_MSG(v != V_OK, "%s: a wrong secret passes", name);
	}
	if (!json_is_false(json_object_get(c, "tamper"))) {
		vcase_fill(&vc, ig, c, now);
		len = vc.r.body_len;
		body = malloc(len + 1);
		memcpy(body, vc.r.body, len + 1);
		/* A letter past the middle changes case: the body still
		 * parses, and says something else. */
		for (j = 0; j < len; j++) {
			i = (len / 2 + j) % len;
			if ((body[i] >= 'a' && body[i] <= 'z') ||
			    (body[i] >= 'A' && body[i] <= 'Z')) {
				body[i] ^= 0x20;
				break;
			}
		}
		vc.r.body = (const unsigned char *)body;
		v = verify_request(&vc.r, why, sizeof(why));
		CHECK_MSG(v != V_OK, "%s: a changed body passes", name);
		free(body);
	}
	/* Every header the integration needs, left out in turn. */
	json_array_foreach(ig->sig_headers, j, hv) {
		vcase_fill(&vc, ig, c, now);
		for (i = 0; i < vc.nh; i++)
			if (strcmp(vc.h[i].name, json_string_value(hv)) == 0) {
				vc.h[i] = vc.h[--vc.nh];
				break;
			}
		vc.r.nheaders = vc.nh;
		v = verify_request(&vc.r, why, sizeof(why));
		CHECK_MSG(v == V_MISSING && strstr(why, "missing") != NULL,
		    "%s: without %s: %s (%s)", name, json_string_value(hv),
		    result_name(v), why);
	}
}

static void
vectors(void)
{
	json_error_t je;
	json_t *doc = json_load_file(VECTORS, 0, &je), *c;
	char err[1024], why[512], jwks_path[PATH_MAX], cache[PATH_MAX];
	int64_t now = json_integer_value(json_object_get(doc, "now"));
	size_t i;
	int n = 0;

	CHECK_MSG(doc != NULL, "%s: %s", VECTORS, je.text);
	snprintf(jwks_path, sizeof(jwks_path), "%s/acme-jwks.json", home);
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		const char *name = json_string_value(json_object_get(c,
		    "name"));
		const char *expect = json_string_value(json_object_get(c,
		    "expect"));
		const char *want = json_string_value(json_object_get(c, "why"));
		json_t *def = json_object_get(c, "definition");
		const char *url = json_string_value(json_object_get(
		    json_object_get(def, "params"), "jwks_url"));
		struct integ ig;
		struct vcase vc;
		enum vresult v;

		/* The JWKS as the CLI or the dispatcher caches it, or no
		 * cache at all; a jwks_file as the user writes it. */
		if (url != NULL && jwks_cache_path(home, url, cache,
		    sizeof(cache)) == 0) {
			unlink(cache);
			if (json_object_get(c, "jwks") != NULL)
				CHECK(jwks_cache_write(home, url,
				    json_object_get(c, "jwks"), now, -1, err,
				    sizeof(err)) == 0);
		}
		if (json_object_get(c, "jwks_file") != NULL)
			CHECK(json_dump_file(json_object_get(c, "jwks_file"),
			    jwks_path, 0) == 0);
		if (load_def(&ig, def, jwks_path, err, sizeof(err)) == -1) {
			CHECK_MSG(0, "%s: the definition is refused: %s", name,
			    err);
			continue;
		}
		vcase_fill(&vc, &ig, c, now);
		why[0] = '\0';
		v = verify_request(&vc.r, why, sizeof(why));
		CHECK_MSG(strcmp(result_name(v), expect) == 0,
		    "%s: expected %s, got %s (%s)", name, expect,
		    result_name(v), why);
		if (want != NULL)
			CHECK_MSG(strstr(why, want) != NULL, "%s: the reason "
			    "\"%s\" does not say \"%s\"", name, why, want);
		if (v == V_OK && strcmp(expect, "ok") == 0)
			variations(name, &ig, c, now);
		json_decref(ig.def);
		n++;
	}
	CHECK_MSG(n >= 40, "only %d vectors", n);
	json_decref(doc);
}

/* Definitions the load refuses, with the pointer of what is wrong. */
static void
refused(void)
{
	static const struct {
		const char	*scheme, *params, *says;
	} bad[] = {
		{ "hmac", "{\"signature\":\"cookie:x\"}", "/params/signature" },
		{ "hmac", "{\"header\":\"X\",\"signature\":\"header:Y\"}",
		    "/params/header: give either" },
		{ "hmac", "{\"header\":\"X\",\"signatur\":\"header:Y\"}",
		    "/params/signatur: unknown parameter" },
		{ "hmac", "{\"header\":\"X\",\"format\":\"kv\"}",
		    "/params/kv_signature" },
		{ "hmac", "{\"header\":\"X\",\"kv_timestamp\":\"t\"}",
		    "/params/kv_timestamp" },
		{ "hmac", "{\"header\":\"X\",\"separator\":\";\"}",
		    "/params/separator: a plain signature" },
		{ "hmac", "{\"header\":\"X\",\"signed\":\"{timestamp}{body}\"}",
		    "{timestamp} needs a timestamp" },
		{ "hmac", "{\"header\":\"X\",\"timestamp\":\"header:T\"}",
		    "/params/timestamp: the timestamp is not signed" },
		{ "hmac", "{\"header\":\"X\",\"timestamp\":\"body:/ts\","
		    "\"signed\":\"{body:/id}\"}", "not signed" },
		{ "hmac", "{\"header\":\"X\",\"signed\":\"{url}\"}",
		    "nothing of the body is signed" },
		{ "hmac", "{\"header\":\"X\",\"signed\":\"{secret}{body}\"}",
		    "{secret} is for \"mac\": \"hash\"" },
		{ "hmac", "{\"header\":\"X\",\"mac\":\"hash\"}",
		    "must hold {secret}" },
		{ "hmac", "{\"header\":\"X\",\"signed\":\"{form:unsorted}\"}",
		    "{form:sorted}" },
		{ "hmac", "{\"header\":\"X\",\"signed\":\"{body:id}\"}",
		    "JSON pointer" },
		{ "hmac", "{\"header\":\"X\",\"signed\":\"{query:}{body}\"}",
		    "empty" },
		{ "hmac", "{\"header\":\"X\",\"secret_encoding\":\"rot13\"}",
		    "/params/secret_encoding" },
		{ "hmac", "{\"header\":\"X\",\"timestamp_format\":\"unix\"}",
		    "there is no timestamp" },
		{ "hmac", "{\"signature\":\"body:/a/*/b\"}",
		    "/params/signature" },
		{ "ed25519", "{\"header\":\"X\",\"algorithm\":\"sha1\"}",
		    "/params/algorithm: unknown parameter of the ed25519" },
		{ "ecdsa-p256", "{\"header\":\"X\","
		    "\"signature_format\":\"p1363\"}",
		    "/params/signature_format" },
		{ "token", "{}", "/params/token" },
		{ "token", "{\"token\":\"header:X\",\"algorithm\":\"sha1\"}",
		    "unknown parameter of the token scheme" },
		{ "basic", "{\"header\":\"X\"}",
		    "unknown parameter of the basic scheme (known: none)" },
		{ "jwt", "{}", "/params/algorithms" },
		{ "jwt", "{\"algorithms\":[\"none\"]}",
		    "/params/algorithms/0" },
		{ "jwt", "{\"algorithms\":[\"HS256\",\"RS256\"]}",
		    "HS256 cannot be accepted with RS256" },
		{ "jwt", "{\"algorithms\":[\"HS256\"],\"jwks_url\":"
		    "\"https://x/\"}", "a JWKS holds public keys" },
		{ "jwt", "{\"algorithms\":[\"RS256\"],\"jwks_url\":"
		    "\"http://example.com/certs\"}", "an https:// URL" },
		{ "jwt", "{\"algorithms\":[\"RS256\"],\"audience\":7}",
		    "/params/audience" },
		{ "jwt", "{\"algorithms\":[\"RS256\"],\"claims\":{\"a\":[]}}",
		    "/params/claims/a" },
		{ "jwt", "{\"algorithms\":[\"RS256\"],\"body_digest\":{}}",
		    "/params/body_digest" },
		{ "jwt", "{\"algorithms\":[\"RS256\"],\"secret_encoding\":"
		    "\"hex\"}", "only HS256" },
	};
	struct integ ig;
	char def[1024], err[1024];
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		snprintf(def, sizeof(def), "{\"name\":\"x\",\"scheme\":\"%s\","
		    "\"params\":%s,\"event_type\":\"header:X-E\","
		    "\"delivery_id\":\"none\",\"events\":[]}", bad[k].scheme,
		    bad[k].params);
		CHECK_MSG(integ_load_string(&ig, def, "x.json", err,
		    sizeof(err)) == -1 && strstr(err, bad[k].says) != NULL,
		    "%s %s: expected \"%s\", got: %s", bad[k].scheme,
		    bad[k].params, bad[k].says, err);
	}
}

static int
load_scheme(struct integ *ig, const char *scheme, const char *params)
{
	char def[1024], err[1024];

	snprintf(def, sizeof(def), "{\"name\":\"x\",\"scheme\":\"%s\","
	    "\"params\":%s,\"event_type\":\"header:X-E\","
	    "\"delivery_id\":\"none\",\"events\":[]}", scheme, params);
	if (integ_load_string(ig, def, "/defs/x.json", err, sizeof(err)) ==
	    -1) {
		printf("not ok - %s: %s\n", def, err);
		t_fail++;
		return -1;
	}
	return 0;
}

/* Secrets the schemes accept and refuse (sub create, sub edit). */
static void
secrets(void)
{
	struct integ ed, ec, basic, hs, rs, b64, jwks;
	char why[512], pem[512], hexkey[65];
	EVP_PKEY *pk;
	unsigned char raw[32];
	size_t rl = sizeof(raw);

	if (load_scheme(&ed, "ed25519", "{\"header\":\"X\"}") ||
	    load_scheme(&ec, "ecdsa-p256", "{\"header\":\"X\"}") ||
	    load_scheme(&basic, "basic", "{}") ||
	    load_scheme(&hs, "jwt", "{\"algorithms\":[\"HS256\"]}") ||
	    load_scheme(&rs, "jwt", "{\"algorithms\":[\"RS256\"]}") ||
	    load_scheme(&b64, "hmac", "{\"header\":\"X\","
	    "\"secret_encoding\":\"base64\"}") ||
	    load_scheme(&jwks, "jwt", "{\"algorithms\":[\"RS256\"],"
	    "\"jwks_file\":\"keys.json\"}"))
		return;
	/* A relative jwks_file is beside the definition. */
	CHECK(strcmp(jwks.sc.jwks_path, "/defs/keys.json") == 0);
	CHECK(integ_scheme_keyless(&jwks) && !integ_scheme_keyless(&rs));

	/* An Ed25519 key as hex, and as its SPKI PEM on one line. */
	{
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "ED25519",
		    NULL);
		EVP_PKEY *key = NULL;
		unsigned char der[64], *p = der;
		char enc[128];
		int dl;

		EVP_PKEY_keygen_init(ctx);
		EVP_PKEY_keygen(ctx, &key);
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_get_raw_public_key(key, raw, &rl);
		hex_encode(raw, 32, hexkey);
		dl = i2d_PUBKEY(key, &p);
		b64_encode(der, (size_t)dl, enc);
		snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----%s"
		    "-----END PUBLIC KEY-----", enc);
		EVP_PKEY_free(key);
	}
	CHECK(integ_secret_check(&ed, hexkey, 64, why, sizeof(why)) == 0);
	CHECK(integ_secret_check(&ed, pem, strlen(pem), why, sizeof(why)) ==
	    0);
	CHECK_MSG(integ_secret_check(&ed, "hunter2", 7, why, sizeof(why)) ==
	    -1 && strstr(why, "public key") != NULL, "%s", why);
	/* An Ed25519 key is no P-256 key. */
	CHECK_MSG(integ_secret_check(&ec, pem, strlen(pem), why,
	    sizeof(why)) == -1 && strstr(why, "ECDSA P-256") != NULL, "%s",
	    why);
	/* A private key is refused: it does not belong here. */
	CHECK_MSG(integ_secret_check(&ed, "-----BEGIN PRIVATE KEY-----"
	    "MC4CAQAwBQYDK2VwBCIEIA==-----END PRIVATE KEY-----", 76, why,
	    sizeof(why)) == -1 && strstr(why, "private key") != NULL, "%s",
	    why);
	pk = pubkey_parse(hexkey, 64, PKEY_ED25519, why, sizeof(why));
	CHECK(pk != NULL);
	EVP_PKEY_free(pk);
	CHECK(pubkey_parse(hexkey, 64, PKEY_RSA, why, sizeof(why)) == NULL);
	/* Basic: user:password. */
	CHECK(integ_secret_check(&basic, "u:p", 3, why, sizeof(why)) == 0);
	CHECK_MSG(integ_secret_check(&basic, "password", 8, why, sizeof(why))
	    == -1 && strstr(why, "user:password") != NULL, "%s", why);
	/* jwt: any text for HS256, a public key for RS256, nothing needed
	 * with a JWKS. */
	CHECK(integ_secret_check(&hs, "anything", 8, why, sizeof(why)) == 0);
	CHECK_MSG(integ_secret_check(&rs, "anything", 8, why, sizeof(why)) ==
	    -1 && strstr(why, "RSA") != NULL, "%s", why);
	CHECK(integ_secret_check(&jwks, "anything", 8, why, sizeof(why)) == 0);
	/* hmac with a base64 secret. */
	CHECK(integ_secret_check(&b64, "c2VjcmV0", 8, why, sizeof(why)) == 0);
	CHECK_MSG(integ_secret_check(&b64, "not base64!", 11, why,
	    sizeof(why)) == -1 && strstr(why, "base64") != NULL, "%s", why);
	json_decref(ed.def);
	json_decref(ec.def);
	json_decref(basic.def);
	json_decref(hs.def);
	json_decref(rs.def);
	json_decref(b64.def);
	json_decref(jwks.def);
}

static void
templates(void)
{
	struct tpl t;
	struct integ ig;
	char err[256];
	int has;

	CHECK(integ_tpl_compile("{method}{url}?{query:a}{path}{header:X-A}."
	    "{body:/a/0}{body}{form:sorted}{timestamp}", ~0u, &t, err,
	    sizeof(err)) == 0 && t.n == 11);
	CHECK(t.v[5].kind == TPL_HEADER && strcmp(t.v[5].arg, "x-a") == 0);
	CHECK(t.v[2].kind == TPL_LIT && t.v[2].len == 1);
	CHECK(t.v[3].kind == TPL_QUERY && strcmp(t.v[3].arg, "a") == 0);
	CHECK(t.v[7].kind == TPL_BODY_PTR && strcmp(t.v[7].arg, "/a/0") == 0);
	CHECK(integ_tpl_compile("{secret}", ~TPL_BIT(TPL_SECRET), &t, err,
	    sizeof(err)) == -1);
	CHECK(integ_tpl_compile("{body", ~0u, &t, err, sizeof(err)) == -1 &&
	    strstr(err, "not closed") != NULL);
	CHECK(integ_tpl_check("{timestamp}.{body}", &has, err, sizeof(err)) ==
	    3 && has);
	/* The headers a definition needs: the signature's and the
	 * timestamp's (every one), the template's; of alternatives, none
	 * alone. */
	if (load_scheme(&ig, "hmac", "{\"signature\":[\"header:A\","
	    "\"header:B\"],\"timestamp\":\"header:T\",\"signed\":"
	    "\"{timestamp}{header:N}{body}\"}") == 0) {
		CHECK(json_array_size(ig.sig_headers) == 2);
		CHECK(integ_reads_header(&ig, "a") && integ_reads_header(&ig,
		    "b") && integ_reads_header(&ig, "t") &&
		    integ_reads_header(&ig, "n"));
		json_decref(ig.def);
	}
	if (load_scheme(&ig, "jwt", "{\"algorithms\":[\"RS256\"]}") == 0) {
		CHECK(json_array_size(ig.sig_headers) == 1 &&
		    integ_reads_header(&ig, "authorization"));
		CHECK(strcmp(ig.sc.prefix, "Bearer ") == 0);
		json_decref(ig.def);
	}
	if (load_scheme(&ig, "token", "{\"token\":\"query:t\"}") == 0) {
		CHECK(json_array_size(ig.sig_headers) == 0);
		json_decref(ig.def);
	}
}

static void
codecs(void)
{
	unsigned char out[64];
	char path[PATH_MAX], why[256];
	json_t *keys, *doc;
	int64_t at;
	FILE *f;

	CHECK(b64url_decode("_-8", 3, out, sizeof(out)) == 2 && out[0] ==
	    0xff && out[1] == 0xef);
	CHECK(b64url_decode("/+8=", 4, out, sizeof(out)) == 2);
	CHECK(b64url_decode("a", 1, out, sizeof(out)) == -1);
	CHECK(b64url_decode("a!==", 4, out, sizeof(out)) == -1);
	/* r||s of 64 bytes as DER: a SEQUENCE of two INTEGERs. */
	memset(out, 0x80, 64);
	{
		unsigned char der[80];

		CHECK(ecdsa_raw_to_der(out, 64, der, sizeof(der)) == 72 &&
		    der[0] == 0x30);
		CHECK(ecdsa_raw_to_der(out, 63, der, sizeof(der)) == -1);
	}
	/* A cache file and a plain JWKS read alike; junk is refused. */
	doc = json_pack("{s:[{s:s}]}", "keys", "kty", "oct");
	CHECK(jwks_cache_write(home, "https://k.example/certs", doc, 1700000000,
	    60, why, sizeof(why)) == 0);
	CHECK(jwks_cache_path(home, "https://k.example/certs", path,
	    sizeof(path)) == 0);
	keys = jwks_load(path, &at, why, sizeof(why));
	CHECK(json_array_size(keys) == 1 && at == 1700000000);
	json_decref(keys);
	/* max-age 60 s is raised to the floor of 300 s. */
	{
		json_t *w = json_load_file(path, 0, NULL);

		CHECK(json_integer_value(json_object_get(w, "next_at")) ==
		    1700000000 + JWKS_MIN_S);
		json_decref(w);
	}
	CHECK(jwks_check(doc, why, sizeof(why)) == -1 &&
	    strstr(why, "no RSA") != NULL);
	json_decref(doc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/junk.json", home);
	f = fopen(path, "w");
	fputs("{\"keys\": 3}", f);
	fclose(f);
	CHECK(jwks_load(path, &at, why, sizeof(why)) == NULL &&
	    strstr(why, "not a JWKS") != NULL);
	unlink(path);
}

int
main(void)
{
	char cmd[64];

	if (mkdtemp(home) == NULL)
		return 1;
	/* The verifier finds the JWKS cache under HOOKPIPE_HOME. */
	setenv("HOOKPIPE_HOME", home, 1);
	vectors();
	refused();
	secrets();
	templates();
	codecs();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
	return t_done("test_schemes");
}
