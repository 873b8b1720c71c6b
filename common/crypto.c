#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
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
