/*
 * Cryptography, all through OpenSSL: random bytes and ids, base64 and
 * hex, HMAC, Ed25519 verification, and sealing secrets at rest with
 * AES-256-GCM under the master key.
 */
#ifndef HP_CRYPTO_H
#define HP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MASTER_KEY_LEN	32
/*
 * A sealed value: version 2, the id of the master key that sealed it
 * (be32), the nonce, the ciphertext, the GCM tag. Version 1 (written
 * before key ids) lacks the id and was sealed with key 1.
 */
#define SEAL_OVERHEAD	(1 + 4 + 12 + 16)
#define SEAL_OVERHEAD_V1 (1 + 12 + 16)

enum hmac_alg { HMAC_SHA1, HMAC_SHA256, HMAC_SHA512 };

struct iov {
	const void	*p;
	size_t		 n;
};

int	crypto_random(void *, size_t);
void	uuid4(char out[37]);
/*
 * A time-ordered UUID (version 7) for events and runs: consecutive ids
 * sort together, so LMDB appends to the same pages instead of dirtying
 * a random leaf per record.
 */
void	uuid7(char out[37]);

/* Standard base64 with padding. Returns the decoded length, or -1. */
int	b64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outcap);
/* Returns the encoded length (out needs 4*((n+2)/3)+1 bytes). */
size_t	b64_encode(const unsigned char *in, size_t n, char *out);
/* Base64url without padding (RFC 4648 section 5); the same room. */
size_t	b64url_encode(const unsigned char *in, size_t n, char *out);
void	hex_encode(const unsigned char *in, size_t n, char *out);
/* Returns the decoded length, or -1 on an odd length or a non-hex digit. */
int	hex_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outcap);

int	sha256(const void *, size_t, unsigned char out[32]);
/* HMAC over the concatenation of parts; returns the MAC length or -1. */
int	hmac_parts(enum hmac_alg, const void *key, size_t keylen,
	    const struct iov *parts, int nparts, unsigned char out[64]);
int	ct_equal(const void *a, const void *b, size_t n);

/* Ed25519: 1 valid, 0 invalid. */
int	ed25519_verify(const unsigned char pub[32], const unsigned char *sig,
	    size_t siglen, const struct iov *parts, int nparts);

/*
 * The master key lives in a 0600 file; it is created on first use.
 * Safe when several processes race to create it.
 */
int	master_key_load(const char *path, unsigned char key[MASTER_KEY_LEN],
	    char *err, size_t errlen);
/* Read an existing key file. */
int	master_key_read(const char *path, unsigned char key[MASTER_KEY_LEN],
	    char *err, size_t errlen);

/*
 * seal: out gets n + SEAL_OVERHEAD bytes. The aad binds a sealed value to
 * its owner (e.g. the subscription id) so it cannot be moved elsewhere.
 */
int	seal(const unsigned char key[MASTER_KEY_LEN], uint32_t key_id,
	    const char *aad, const void *plain, size_t n, unsigned char *out);
/*
 * unseal: returns the plaintext length, or -1 if forged or damaged. out
 * needs sealed_len(in, n) bytes.
 */
int	unseal(const unsigned char key[MASTER_KEY_LEN], const char *aad,
	    const unsigned char *in, size_t n, unsigned char *out);
/* The id of the key a value was sealed with, or 0 when not a sealed value. */
uint32_t sealed_key_id(const unsigned char *in, size_t n);
/* The plaintext length of a sealed value, or -1. */
int	sealed_len(const unsigned char *in, size_t n);
/* The first byte of its nonce (random: a cache slot). */
unsigned char sealed_nonce0(const unsigned char *in, size_t n);

/*
 * For display: "whsec_…wxyz", a type prefix and at most the last 4
 * characters; "****" (after the prefix) for a secret under 16.
 */
void	mask_secret(const char *s, char *out, size_t outlen);

/*
 * AES-256-CBC with PKCS#7 padding (bodies a provider encrypts): the
 * plaintext length, or -1 (a length that is not whole blocks, padding
 * that does not check out). out needs n bytes.
 */
int	aes256cbc_decrypt(const unsigned char key[32],
	    const unsigned char iv[16], const unsigned char *in, size_t n,
	    unsigned char *out);

#endif
