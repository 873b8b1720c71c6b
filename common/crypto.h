/*
 * Cryptography, all through OpenSSL: random bytes and ids, base64 and
 * hex, HMAC, Ed25519 verification, and sealing secrets at rest with
 * AES-256-GCM under the master key.
 */
#ifndef HP_CRYPTO_H
#define HP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

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
 * Base64url (RFC 4648 section 5), padded or not; the standard alphabet
 * too, as keys are pasted in either. The decoded length, or -1.
 */
int	b64url_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outcap);
/* The digest of the concatenated parts (sha1, sha256, sha512); its
 * length, or -1. */
int	digest_parts(enum hmac_alg, const struct iov *parts, int nparts,
	    unsigned char out[64]);

/*
 * Public keys (OpenSSL 3 EVP_PKEY). A key is accepted only of the kind
 * asked for: a P-256 key never verifies as Ed25519, nor an RSA key
 * shorter than 2048 bits at all.
 */
enum pkey_kind { PKEY_ED25519, PKEY_P256, PKEY_RSA };

const char *pkey_kind_name(enum pkey_kind);
/*
 * A public key from text: PEM (one line or several; SubjectPublicKeyInfo,
 * or PKCS#1 for RSA), or the hex or base64 of its DER, or of the raw key
 * (Ed25519: 32 bytes; P-256: the 65-byte uncompressed point). NULL with
 * why saying what the text is and what fits.
 */
EVP_PKEY *pubkey_parse(const char *text, size_t n, enum pkey_kind,
	    char *why, size_t whylen);
/* RSA from a JWK's n and e, P-256 from its x and y (big-endian bytes). */
EVP_PKEY *pubkey_rsa(const unsigned char *n, size_t nlen,
	    const unsigned char *e, size_t elen);
EVP_PKEY *pubkey_p256(const unsigned char *x, size_t xlen,
	    const unsigned char *y, size_t ylen);
/*
 * 1 when sig is a valid signature of the concatenated parts: Ed25519
 * (pure), ECDSA with SHA-256 (sig in DER), RSA PKCS#1 v1.5 with SHA-256.
 */
int	pkey_verify(EVP_PKEY *, const unsigned char *sig, size_t siglen,
	    const struct iov *parts, int nparts);
/* A raw r||s ECDSA signature (JWS ES256: 64 bytes) as DER; its length,
 * or -1. */
int	ecdsa_raw_to_der(const unsigned char *raw, size_t n,
	    unsigned char *der, size_t cap);

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
