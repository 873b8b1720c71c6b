/*
 * $HOOKPIPE_HOME/admin.token: the admin listener's API token (the
 * Authorization: Bearer of scripts and Prometheus). Made on first use by
 * whichever comes first, the admin stage or `hookpipe console`: 64 hex
 * characters, mode 0600, created exclusively so that two first uses
 * agree on one token.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin_token.h"
#include "crypto.h"
#include "util.h"

static int
token_read(int fd, char *out, char *err, size_t errlen, const char *path)
{
	char buf[ADMIN_TOKEN_LEN + 2];
	ssize_t n;
	size_t i;

	n = read(fd, buf, sizeof(buf));
	if (n < ADMIN_TOKEN_LEN) {
		snprintf(err, errlen, "%s: not a token (64 hex characters); "
		    "delete it and a new one is made", path);
		return -1;
	}
	for (i = 0; i < ADMIN_TOKEN_LEN; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		    (buf[i] >= 'a' && buf[i] <= 'f'))) {
			snprintf(err, errlen, "%s: not a token (64 hex "
			    "characters); delete it and a new one is made",
			    path);
			OPENSSL_cleanse(buf, sizeof(buf));
			return -1;
		}
	memcpy(out, buf, ADMIN_TOKEN_LEN);
	out[ADMIN_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
admin_token(const struct config *cfg, char out[ADMIN_TOKEN_LEN + 1],
    char *err, size_t errlen)
{
	char path[PATH_MAX + 16], line[ADMIN_TOKEN_LEN + 2];
	unsigned char raw[ADMIN_TOKEN_LEN / 2];
	struct stat st;
	int fd, i, rc;

	snprintf(path, sizeof(path), "%s/admin.token", cfg->home);
	for (i = 0; i < 50; i++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			/* Made by another first use a moment ago: wait for
			 * its content. */
			if (fstat(fd, &st) == 0 && st.st_size == 0) {
				close(fd);
				usleep(20000);
				continue;
			}
			if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
				fchmod(fd, 0600);
			rc = token_read(fd, out, err, errlen, path);
			close(fd);
			return rc;
		}
		if (errno != ENOENT)
			break;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1) {
			if (errno == EEXIST)
				continue;
			break;
		}
		crypto_random(raw, sizeof(raw));
		hex_encode(raw, sizeof(raw), line);
		OPENSSL_cleanse(raw, sizeof(raw));
		line[ADMIN_TOKEN_LEN] = '\n';
		if (write(fd, line, ADMIN_TOKEN_LEN + 1) !=
		    ADMIN_TOKEN_LEN + 1 || fsync(fd) == -1) {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		close(fd);
		memcpy(out, line, ADMIN_TOKEN_LEN);
		out[ADMIN_TOKEN_LEN] = '\0';
		OPENSSL_cleanse(line, sizeof(line));
		return 0;
	}
	snprintf(err, errlen, "cannot read or make %s: %s", path,
	    strerror(errno));
	return -1;
}
