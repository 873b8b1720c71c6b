#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "t.h"
#include "util.h"

int
main(void)
{
	unsigned char out[256], key[MASTER_KEY_LEN], key2[MASTER_KEY_LEN];
	unsigned char sealed[256], mac[64];
	char enc[256], hex[129], id[37], id2[37], tmpl[] = "/tmp/hpcXXXXXX";
	char path[64], err[256], masked[64];
	struct iov parts[2] = { { "Hello, ", 7 }, { "World!", 6 } };
	struct stat st;
	int n;

	n = b64_decode("aGVsbG8=", 8, out, sizeof(out));
	CHECK(n == 5 && memcmp(out, "hello", 5) == 0);
	CHECK(b64_decode("aGVsbG8", 7, out, sizeof(out)) == -1);
	CHECK(b64_decode("aG=sbG8=", 8, out, sizeof(out)) == -1);
	CHECK(b64_decode("!!!!", 4, out, sizeof(out)) == -1);
	CHECK(b64_decode("", 0, out, sizeof(out)) == 0);
	CHECK(b64_encode((const unsigned char *)"hello", 5, enc) == 8 &&
	    strcmp(enc, "aGVsbG8=") == 0);
	CHECK(hex_decode("00ff10", 6, out, sizeof(out)) == 3 && out[1] == 0xff);
	CHECK(hex_decode("0g", 2, out, sizeof(out)) == -1);
	CHECK(hex_decode("abc", 3, out, sizeof(out)) == -1);
	hex_encode((const unsigned char *)"\x01\xab", 2, hex);
	CHECK(strcmp(hex, "01ab") == 0);

	/* RFC 4231 test case 2. */
	{
		struct iov p = { "what do ya want for nothing?", 28 };

		n = hmac_parts(HMAC_SHA256, "Jefe", 4, &p, 1, mac);
		hex_encode(mac, (size_t)n, hex);
		CHECK(strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d"
		    "2739839dec58b964ec3843") == 0);
	}
	/* Parts are concatenated: GitHub's published example. */
	n = hmac_parts(HMAC_SHA256, "It's a Secret to Everybody", 26, parts, 2,
	    mac);
	hex_encode(mac, (size_t)n, hex);
	CHECK(strcmp(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46"
	    "f4379c8b043e17") == 0);
	CHECK(ct_equal("abc", "abc", 3) && !ct_equal("abc", "abd", 3));

	uuid4(id);
	uuid4(id2);
	CHECK(uuid_valid(id) && uuid_valid(id2) && strcmp(id, id2) != 0);
	CHECK(id[14] == '4');
	uuid7(id);
	uuid7(id2);
	CHECK(uuid_valid(id) && id[14] == '7' && strcmp(id, id2) != 0);
	/* Time-ordered: the first 48 bits are milliseconds. */
	CHECK(strncmp(id, id2, 8) <= 0);
	/* A forked child never repeats its parent's next id, though both
	 * start from the same pooled randomness. */
	{
		int fds[2], status;
		char child[37] = "";
		pid_t pid;

		uuid4(id);
		CHECK(pipe(fds) == 0);
		if ((pid = fork()) == 0) {
			uuid4(child);
			_exit(write(fds[1], child, 37) == 37 ? 0 : 1);
		}
		uuid4(id2);
		CHECK(read(fds[0], child, 37) == 37 &&
		    waitpid(pid, &status, 0) == pid && status == 0);
		CHECK(uuid_valid(child) && strcmp(child, id2) != 0);
		close(fds[0]);
		close(fds[1]);
	}
	/* The same key, again and after another one: a context is re-keyed
	 * and reused, never left with the previous key. */
	n = hmac_parts(HMAC_SHA256, "Jefe", 4, parts, 2, mac);
	n = hmac_parts(HMAC_SHA256, "It's a Secret to Everybody", 26, parts, 2,
	    mac);
	hex_encode(mac, (size_t)n, hex);
	CHECK(strcmp(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46"
	    "f4379c8b043e17") == 0);
	n = hmac_parts(HMAC_SHA1, "", 0, parts, 2, mac);
	CHECK(n == 20);

	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(path, sizeof(path), "%s/master.key", tmpl);
	CHECK(master_key_load(path, key, err, sizeof(err)) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(master_key_load(path, key2, err, sizeof(err)) == 0 &&
	    memcmp(key, key2, sizeof(key)) == 0);

	CHECK(seal(key, 7, "sub-1", "s3cret", 6, sealed) == 0);
	CHECK(sealed_key_id(sealed, 6 + SEAL_OVERHEAD) == 7);
	CHECK(sealed_len(sealed, 6 + SEAL_OVERHEAD) == 6);
	CHECK(memmem(sealed, 6 + SEAL_OVERHEAD, "s3cret", 6) == NULL);
	CHECK(unseal(key, "sub-1", sealed, 6 + SEAL_OVERHEAD, out) == 6 &&
	    memcmp(out, "s3cret", 6) == 0);
	CHECK(unseal(key, "sub-2", sealed, 6 + SEAL_OVERHEAD, out) == -1);
	sealed[15] ^= 1;
	CHECK(unseal(key, "sub-1", sealed, 6 + SEAL_OVERHEAD, out) == -1);
	CHECK(unseal(key, "sub-1", sealed, 3, out) == -1);
	/* A value sealed before key ids (version 1) was sealed with key 1. */
	{
		unsigned char v1[64], nonce[12] = { 1, 2, 3 };
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		int l;

		v1[0] = 1;
		memcpy(v1 + 1, nonce, 12);
		EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce);
		EVP_EncryptUpdate(c, NULL, &l, (const unsigned char *)"sub-1",
		    5);
		EVP_EncryptUpdate(c, v1 + 13, &l, (const unsigned char *)
		    "legacy", 6);
		EVP_EncryptFinal_ex(c, v1 + 19, &l);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, v1 + 19);
		EVP_CIPHER_CTX_free(c);
		CHECK(sealed_key_id(v1, 6 + SEAL_OVERHEAD_V1) == 1);
		CHECK(sealed_len(v1, 6 + SEAL_OVERHEAD_V1) == 6);
		CHECK(unseal(key, "sub-1", v1, 6 + SEAL_OVERHEAD_V1, out) ==
		    6 && memcmp(out, "legacy", 6) == 0);
		v1[0] = 9;
		CHECK(sealed_key_id(v1, 6 + SEAL_OVERHEAD_V1) == 0);
	}

	/* At most 4 characters, none of a secret under 16; type prefixes. */
	mask_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", masked,
	    sizeof(masked));
	CHECK(strcmp(masked, "whsec_\xe2\x80\xa6" "LaSw") == 0);
	mask_secret("short", masked, sizeof(masked));
	CHECK(strcmp(masked, "****") == 0);
	mask_secret("0123456789abcde", masked, sizeof(masked));
	CHECK(strcmp(masked, "****") == 0);
	mask_secret("0123456789abcdef", masked, sizeof(masked));
	CHECK(strcmp(masked, "\xe2\x80\xa6" "cdef") == 0);
	mask_secret("whsec_0123456789abcde", masked, sizeof(masked));
	CHECK(strcmp(masked, "whsec_****") == 0);
	mask_secret("ghp_0123456789abcdefghij", masked, sizeof(masked));
	CHECK(strcmp(masked, "ghp_\xe2\x80\xa6" "ghij") == 0);
	/* Text before an underscore that is no known type stays hidden. */
	mask_secret("hunter2_0123456789abcdef", masked, sizeof(masked));
	CHECK(strcmp(masked, "\xe2\x80\xa6" "cdef") == 0);

	unlink(path);
	rmdir(tmpl);
	return t_done("test_crypto");
}
