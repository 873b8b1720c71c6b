#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "util.h"

int
crypto_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -1;
}

/*
 * IDs take their randomness from a small per-thread pool of RAND_bytes
 * output: one call per 16 IDs instead of one per ID. A forked child
 * starts with an empty pool, so parent and child never hand out the same
 * bytes.
 */
static __thread unsigned char id_pool[256];
static __thread size_t id_used = sizeof(id_pool);
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void
id_pool_forget(void)
{
	OPENSSL_cleanse(id_pool, sizeof(id_pool));
	id_used = sizeof(id_pool);
}

static void
id_pool_init(void)
{
	pthread_atfork(NULL, NULL, id_pool_forget);
}

static void
id_random(unsigned char b[16])
{
	pthread_once(&id_once, id_pool_init);
	if (id_used + 16 > sizeof(id_pool)) {
		if (crypto_random(id_pool, sizeof(id_pool)) == -1)
			abort();	/* no entropy: nothing safe to do */
		id_used = 0;
	}
	memcpy(b, id_pool + id_used, 16);
	OPENSSL_cleanse(id_pool + id_used, 16);
	id_used += 16;
}

/* 8-4-4-4-12 lowercase hex. */
static void
uuid_format(const unsigned char b[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

void
uuid4(char out[37])
{
	unsigned char b[16];

	id_random(b);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	uuid_format(b, out);
}

void
uuid7(char out[37])
{
	unsigned char b[16];
	struct timespec ts;
	uint64_t ms;

	id_random(b);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	b[0] = (unsigned char)(ms >> 40);
	b[1] = (unsigned char)(ms >> 32);
	b[2] = (unsigned char)(ms >> 24);
	b[3] = (unsigned char)(ms >> 16);
	b[4] = (unsigned char)(ms >> 8);
	b[5] = (unsigned char)ms;
	b[6] = (b[6] & 0x0f) | 0x70;
	b[8] = (b[8] & 0x3f) | 0x80;
	uuid_format(b, out);
}

int
b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap)
{
	int n, pad = 0;

	if (inlen == 0)
		return 0;
	unsigned char *tmp;

	if (inlen % 4 != 0 || inlen > (size_t)INT32_MAX)
		return -1;
	if (in[inlen - 1] == '=')
		pad++;
	if (in[inlen - 2] == '=')
		pad++;
	if (memchr(in, '=', inlen - pad) != NULL ||
	    inlen / 4 * 3 - (size_t)pad > outcap)
		return -1;
	/* EVP_DecodeBlock writes the padding's zero bytes too. */
	if ((tmp = malloc(inlen / 4 * 3)) == NULL)
		return -1;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
	if (n >= 0) {
		n -= pad;
		memcpy(out, tmp, (size_t)n);
	}
	free(tmp);
	return n < 0 ? -1 : n;
}

size_t
b64_encode(const unsigned char *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

size_t
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t len = b64_encode(in, n, out), i;

	/* RFC 4648 section 5: the URL-safe alphabet, no padding. */
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
	for (i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return len;
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap)
{
	long len = 0;
	unsigned char *buf;
	char *tmp;

	if (inlen % 2 != 0 || inlen / 2 > outcap)
		return -1;
	if (inlen == 0)
		return 0;
	if ((tmp = strndup(in, inlen)) == NULL)
		return -1;
	buf = OPENSSL_hexstr2buf(tmp, &len);
	free(tmp);
	if (buf == NULL || (size_t)len != inlen / 2) {
		OPENSSL_free(buf);
		return -1;
	}
	memcpy(out, buf, (size_t)len);
	OPENSSL_free(buf);
	return (int)len;
}

/*
 * One HMAC context per digest and thread, made once: fetching the MAC and
 * the digest costs more than hashing a webhook. Each call re-keys it.
 */
static __thread EVP_MAC_CTX *hmac_ctx[3];

static EVP_MAC_CTX *
hmac_context(enum hmac_alg alg)
{
	static const char *const digests[3] = { "SHA1", "SHA256", "SHA512" };
	int i = alg == HMAC_SHA1 ? 0 : alg == HMAC_SHA512 ? 2 : 1;
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;

	if (hmac_ctx[i] != NULL)
		return hmac_ctx[i];
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* the context holds its own reference */
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)digests[i], 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return hmac_ctx[i] = ctx;
}

int
sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
	    len == 32 ? 0 : -1;
}

int
hmac_parts(enum hmac_alg alg, const void *key, size_t keylen,
    const struct iov *parts, int nparts, unsigned char out[64])
{
	EVP_MAC_CTX *ctx = hmac_context(alg);
	size_t outlen = 0;
	int i, ok;
	static const unsigned char nokey[1];

	if (ctx == NULL)
		return -1;
	ok = EVP_MAC_init(ctx, keylen ? key : nokey, keylen, NULL) == 1;
	for (i = 0; ok && i < nparts; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].n) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &outlen, 64) == 1;
	return ok ? (int)outlen : -1;
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
ed25519_verify(const unsigned char pub[32], const unsigned char *sig,
    size_t siglen, const struct iov *parts, int nparts)
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
	unsigned char *msg;
	size_t total = 0, off = 0;
	int i, ok = 0;

	if (siglen != 64)
		return 0;
	for (i = 0; i < nparts; i++)
		total += parts[i].n;
	/* Ed25519 is one-shot: it needs the message in one piece. */
	if ((msg = malloc(total ? total : 1)) == NULL)
		return 0;
	for (i = 0; i < nparts; i++) {
		memcpy(msg + off, parts[i].p, parts[i].n);
		off += parts[i].n;
	}
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	md = EVP_MD_CTX_new();
	if (pkey != NULL && md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1)
		ok = EVP_DigestVerify(md, sig, siglen, msg, total) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	free(msg);
	return ok;
}

int
b64url_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outcap)
{
	char *tmp;
	size_t i, n = inlen;
	int rc;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1 || n > (size_t)INT32_MAX / 2)
		return -1;
	if ((tmp = malloc(n + 4)) == NULL)
		return -1;
	/* The standard alphabet, padded, for EVP_DecodeBlock. */
	for (i = 0; i < n; i++)
		tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (i % 4 != 0)
		tmp[i++] = '=';
	rc = b64_decode(tmp, i, out, outcap);
	free(tmp);
	return rc;
}

int
digest_parts(enum hmac_alg alg, const struct iov *parts, int nparts,
    unsigned char out[64])
{
	const EVP_MD *md = alg == HMAC_SHA1 ? EVP_sha1() :
	    alg == HMAC_SHA512 ? EVP_sha512() : EVP_sha256();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int i, ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
	for (i = 0; ok && i < nparts; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? (int)len : -1;
}

const char *
pkey_kind_name(enum pkey_kind k)
{
	switch (k) {
	case PKEY_ED25519:	return "an Ed25519";
	case PKEY_P256:		return "an ECDSA P-256";
	case PKEY_RSA:		return "an RSA";
	}
	return "a";
}

/* An EVP_PKEY of `type` from OSSL_PARAMs (a public key only). */
static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (ctx == NULL || params == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

EVP_PKEY *
pubkey_rsa(const unsigned char *n, size_t nlen, const unsigned char *e,
    size_t elen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL);
	BIGNUM *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pk = NULL;

	if (bld != NULL && bn != NULL && be != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params != NULL)
		pk = pkey_fromdata("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* P-256 from its uncompressed point (0x04 || x || y), checked to lie on
 * the curve when it is imported. */
static EVP_PKEY *
pubkey_p256_point(const unsigned char *pt, size_t n)
{
	OSSL_PARAM params[3];

	if (n != 65 || pt[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)pt, n);
	params[2] = OSSL_PARAM_construct_end();
	return pkey_fromdata("EC", params);
}

EVP_PKEY *
pubkey_p256(const unsigned char *x, size_t xlen, const unsigned char *y,
    size_t ylen)
{
	unsigned char pt[65];

	if (xlen != 32 || ylen != 32)
		return NULL;
	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	return pubkey_p256_point(pt, sizeof(pt));
}

static int
pkey_is(EVP_PKEY *pk, enum pkey_kind kind)
{
	char group[64];

	switch (kind) {
	case PKEY_ED25519:
		return EVP_PKEY_is_a(pk, "ED25519");
	case PKEY_P256:
		return EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_group_name(pk,
		    group, sizeof(group), NULL) == 1 && strcmp(group,
		    "prime256v1") == 0;
	case PKEY_RSA:
		return EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) >=
		    2048;
	}
	return 0;
}

/* A DER public key: SubjectPublicKeyInfo, or a type's own (PKCS#1). */
static EVP_PKEY *
pubkey_der(const unsigned char *der, size_t n)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pk = NULL;
	const unsigned char *p = der;
	size_t len = n;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pk, "DER", NULL, NULL,
	    EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	if (dctx == NULL)
		return NULL;
	if (OSSL_DECODER_from_data(dctx, &p, &len) != 1 || len != 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return pk;
}

static int
all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return n > 0;
}

#define PEM_BEGIN	"-----BEGIN "
#define PEM_END		"-----END "

/*
 * The DER inside a PEM armour, on one line or several (a secret is one
 * line of text, so a PEM key usually comes with its newlines removed).
 * The length, or -1 with why.
 */
static int
pem_der(const char *s, size_t n, unsigned char *der, size_t cap, char *why,
    size_t whylen)
{
	const char *label = s + strlen(PEM_BEGIN), *dashes, *end, *p;
	char *b64;
	size_t ll, bl = 0;
	int len;

	dashes = memmem(label, n - (size_t)(label - s), "-----", 5);
	if (dashes == NULL) {
		snprintf(why, whylen, "the PEM header is not closed with "
		    "-----");
		return -1;
	}
	ll = (size_t)(dashes - label);
	if (memmem(label, ll, "PRIVATE", 7) != NULL) {
		snprintf(why, whylen, "this is a private key: give the public "
		    "key (openssl pkey -in KEY -pubout)");
		return -1;
	}
	if (!(ll == 10 && memcmp(label, "PUBLIC KEY", 10) == 0) &&
	    !(ll == 14 && memcmp(label, "RSA PUBLIC KEY", 14) == 0)) {
		snprintf(why, whylen, "a PEM %.*s is not a public key "
		    "(expected -----BEGIN PUBLIC KEY-----)",
		    (int)(ll > 40 ? 40 : ll), label);
		return -1;
	}
	p = dashes + 5;
	end = memmem(p, n - (size_t)(p - s), PEM_END, strlen(PEM_END));
	if (end == NULL) {
		snprintf(why, whylen, "the PEM has no -----END line");
		return -1;
	}
	if ((b64 = malloc((size_t)(end - p) + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	/* Line breaks and spaces are no part of the base64. */
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			b64[bl++] = *p;
	len = b64_decode(b64, bl, der, cap);
	free(b64);
	if (len <= 0)
		snprintf(why, whylen, "the PEM's body is not valid base64");
	return len <= 0 ? -1 : len;
}

EVP_PKEY *
pubkey_parse(const char *text, size_t n, enum pkey_kind kind, char *why,
    size_t whylen)
{
	unsigned char der[4096];
	EVP_PKEY *pk = NULL;
	int len = -1, pem = 0;

	while (n > 0 && (*text == ' ' || *text == '\n' || *text == '\r' ||
	    *text == '\t'))
		text++, n--;
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n' ||
	    text[n - 1] == '\r' || text[n - 1] == '\t'))
		n--;
	if (n >= strlen(PEM_BEGIN) && memcmp(text, PEM_BEGIN,
	    strlen(PEM_BEGIN)) == 0) {
		if ((len = pem_der(text, n, der, sizeof(der), why, whylen)) < 0)
			return NULL;
		pem = 1;
	} else if (all_hex(text, n))
		len = hex_decode(text, n, der, sizeof(der));
	if (len < 0)
		len = b64url_decode(text, n, der, sizeof(der));
	if (len <= 0) {
		snprintf(why, whylen, "expected %s public key as PEM, or the "
		    "hex or base64 of its DER%s", pkey_kind_name(kind),
		    kind == PKEY_ED25519 ? " or of its 32 bytes" :
		    kind == PKEY_P256 ? " or of its 65-byte point" : "");
		return NULL;
	}
	pk = pubkey_der(der, (size_t)len);
	/* Text of hex digits only may still be base64. */
	if (pk == NULL && !pem && all_hex(text, n) && !(kind == PKEY_ED25519 &&
	    len == 32) && !(kind == PKEY_P256 && len == 65) &&
	    (len = b64url_decode(text, n, der, sizeof(der))) > 0)
		pk = pubkey_der(der, (size_t)len);
	if (pk == NULL && !pem && kind == PKEY_ED25519 && len == 32)
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der,
		    32);
	if (pk == NULL && !pem && kind == PKEY_P256 && len == 65)
		pk = pubkey_p256_point(der, 65);
	OPENSSL_cleanse(der, sizeof(der));
	if (pk == NULL) {
		snprintf(why, whylen, "%s does not hold a public key (%d "
		    "bytes; expected %s public key)", pem ? "the PEM" :
		    "the decoded text", len, pkey_kind_name(kind));
		return NULL;
	}
	if (!pkey_is(pk, kind)) {
		snprintf(why, whylen, "this is %s %d-bit key; expected %s "
		    "public key%s", EVP_PKEY_get0_type_name(pk) ?
		    EVP_PKEY_get0_type_name(pk) : "another",
		    EVP_PKEY_get_bits(pk), pkey_kind_name(kind),
		    kind == PKEY_RSA ? " of at least 2048 bits" : "");
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

int
pkey_verify(EVP_PKEY *pk, const unsigned char *sig, size_t siglen,
    const struct iov *parts, int nparts)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int i, ok = 0;

	if (md == NULL)
		return 0;
	if (EVP_PKEY_is_a(pk, "ED25519")) {
		unsigned char *msg;
		size_t total = 0, off = 0;

		/* Ed25519 is one-shot: it needs the message in one piece. */
		for (i = 0; i < nparts; i++)
			total += parts[i].n;
		if ((msg = malloc(total ? total : 1)) != NULL) {
			for (i = 0; i < nparts; i++) {
				memcpy(msg + off, parts[i].p, parts[i].n);
				off += parts[i].n;
			}
			ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) ==
			    1 && EVP_DigestVerify(md, sig, siglen, msg,
			    total) == 1;
			free(msg);
		}
	} else if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) ==
	    1) {
		/* RSA's default padding is PKCS#1 v1.5; EC takes DER. */
		ok = 1;
		for (i = 0; ok && i < nparts; i++)
			ok = EVP_DigestVerifyUpdate(md, parts[i].p,
			    parts[i].n) == 1;
		ok = ok && EVP_DigestVerifyFinal(md, sig, siglen) == 1;
	}
	EVP_MD_CTX_free(md);
	return ok;
}

int
ecdsa_raw_to_der(const unsigned char *raw, size_t n, unsigned char *der,
    size_t cap)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *p = der;
	int len;

	if (n == 0 || n % 2 != 0 || n > 132 || cap < n + 16)
		return -1;
	r = BN_bin2bn(raw, (int)n / 2, NULL);
	s = BN_bin2bn(raw + n / 2, (int)n / 2, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return -1;
	}
	ECDSA_SIG_set0(es, r, s);	/* es owns them now */
	len = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	return len;
}

int
master_key_read(const char *path, unsigned char key[MASTER_KEY_LEN], char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		fchmod(fd, 0600);
	n = read(fd, key, MASTER_KEY_LEN);
	close(fd);
	if (n != MASTER_KEY_LEN) {
		snprintf(err, errlen, "%s: expected %d bytes; the master key "
		    "is damaged (restore it from a backup)", path,
		    MASTER_KEY_LEN);
		return -1;
	}
	return 0;
}

int
master_key_load(const char *path, unsigned char key[MASTER_KEY_LEN],
    char *err, size_t errlen)
{
	char tmp[4200];
	int fd, rc;

	if (access(path, F_OK) == 0)
		return master_key_read(path, key, err, errlen);
	/* Write a complete key under a private name, then link it into
	 * place: a concurrent reader sees either no key or a whole one. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	if (crypto_random(key, MASTER_KEY_LEN) == -1 ||
	    write(fd, key, MASTER_KEY_LEN) != MASTER_KEY_LEN ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	rc = link(tmp, path);
	unlink(tmp);
	if (rc == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return master_key_read(path, key, err, errlen);
}

uint32_t
sealed_key_id(const unsigned char *in, size_t n)
{
	if (n >= SEAL_OVERHEAD && in[0] == 2)
		return (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
		    (uint32_t)in[3] << 8 | in[4];
	if (n >= SEAL_OVERHEAD_V1 && in[0] == 1)
		return 1;
	return 0;
}

static size_t
sealed_head(const unsigned char *in, size_t n)
{
	if (n >= SEAL_OVERHEAD && in[0] == 2)
		return 1 + 4 + 12;
	if (n >= SEAL_OVERHEAD_V1 && in[0] == 1)
		return 1 + 12;
	return 0;
}

int
sealed_len(const unsigned char *in, size_t n)
{
	size_t head = sealed_head(in, n);

	if (head == 0 || n > INT32_MAX)
		return -1;
	return (int)(n - head - 16);
}

unsigned char
sealed_nonce0(const unsigned char *in, size_t n)
{
	size_t head = sealed_head(in, n);

	return head ? in[head - 12] : 0;
}

int
seal(const unsigned char key[MASTER_KEY_LEN], uint32_t key_id,
    const char *aad, const void *plain, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *nonce = out + 5, *ct = out + 17;
	int len, ok;

	out[0] = 2;	/* format version */
	out[1] = (unsigned char)(key_id >> 24);
	out[2] = (unsigned char)(key_id >> 16);
	out[3] = (unsigned char)(key_id >> 8);
	out[4] = (unsigned char)key_id;
	if (n > INT32_MAX || key_id == 0 || crypto_random(nonce, 12) == -1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1
	    && EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1
	    && EVP_EncryptUpdate(ctx, ct, &len, plain, (int)n) == 1
	    && EVP_EncryptFinal_ex(ctx, ct + len, &len) == 1
	    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct + n) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
unseal(const unsigned char key[MASTER_KEY_LEN], const char *aad,
    const unsigned char *in, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	size_t head = sealed_head(in, n), ctlen;
	int len, ok;

	if (head == 0 || n > INT32_MAX)
		return -1;
	ctlen = n - head - 16;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key,
	    in + head - 12) == 1
	    && EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1
	    && EVP_DecryptUpdate(ctx, out, &len, in + head, (int)ctlen) == 1
	    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
	    (void *)(in + head + ctlen)) == 1
	    && EVP_DecryptFinal_ex(ctx, out + len, &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(out, ctlen);
		return -1;
	}
	return (int)ctlen;
}

/*
 * Type prefixes that say what a secret is and carry none of it: Standard
 * Webhooks (and Stripe) secrets and public keys, GitHub tokens, Dify app
 * keys. Any other text before an underscore may be secret material.
 */
static const char *const mask_prefixes[] = {
	"whsec_", "whpk_", "github_pat_", "ghp_", "gho_", "ghu_", "ghs_",
	"ghr_", "app-", NULL
};

#define MASK_MIN	16	/* shorter: no character of it is shown */
#define MASK_SHOWN	4

/*
 * At most the last 4 characters, after the type prefix: "whsec_…wxyz".
 * A secret shorter than 16 characters (the prefix not counted) shows
 * none, as 4 of them would be a quarter of it or more.
 */
void
mask_secret(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s), pl = 0;
	int i;

	for (i = 0; mask_prefixes[i] != NULL; i++)
		if (strncmp(s, mask_prefixes[i], strlen(mask_prefixes[i])) ==
		    0) {
			pl = strlen(mask_prefixes[i]);
			break;
		}
	if (n - pl < MASK_MIN)
		snprintf(out, outlen, "%.*s****", (int)pl, s);
	else
		snprintf(out, outlen, "%.*s\xe2\x80\xa6%s", (int)pl, s,
		    s + n - MASK_SHOWN);		/* U+2026, "…" */
}

int
aes256cbc_decrypt(const unsigned char key[32], const unsigned char iv[16],
    const unsigned char *in, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	int l1 = 0, l2 = 0, ok;

	if (n == 0 || n % 16 != 0 || n > INT32_MAX ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	/* PKCS#7 padding, checked by EVP_DecryptFinal_ex. */
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) == 1 &&
	    EVP_DecryptUpdate(ctx, out, &l1, in, (int)n) == 1 &&
	    EVP_DecryptFinal_ex(ctx, out + l1, &l2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? l1 + l2 : -1;
}
