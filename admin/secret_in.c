/*
 * Secrets given to the CLI: subscription secrets, API keys, OAuth client
 * secrets, Dify app keys. A value on the command line is readable by
 * every user through ps and stays in the shell's history, so each secret
 * option also comes as --NAME-file F, --NAME - (stdin) and --NAME-env
 * VAR. Whatever its source, a secret is one line of printable text: one
 * trailing newline is dropped, and an empty value, a NUL byte, another
 * control character or more than SECRET_MAX bytes is refused with a
 * message that names the source, before anything is opened or stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"

/* The largest secret, a "\r\n" after it, and one byte to see it is over. */
#define READ_MAX	(SECRET_MAX + 3)

/* The option that read stdin: a second one would find it empty. */
static const char *stdin_reader;

int
secret_parse(const void *data, size_t n, char *out, size_t *outlen,
    char *why, size_t whylen)
{
	const unsigned char *p = data;
	size_t i;

	if (n > 0 && p[n - 1] == '\n') {
		n--;
		if (n > 0 && p[n - 1] == '\r')
			n--;
	}
	if (n == 0) {
		snprintf(why, whylen, "is empty");
		return -1;
	}
	if (n > SECRET_MAX) {
		snprintf(why, whylen, "is longer than %d bytes", SECRET_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '\0') {
			snprintf(why, whylen, "has a NUL byte (at byte %zu)", i);
			return -1;
		}
		if (p[i] == '\n') {
			snprintf(why, whylen, "has more than one line");
			return -1;
		}
		if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(why, whylen, "has a control character (0x%02x "
			    "at byte %zu)", p[i], i);
			return -1;
		}
		/* C1 controls, U+0080 to U+009F, in UTF-8. */
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f) {
			snprintf(why, whylen, "has a control character (U+%04X "
			    "at byte %zu)", p[i + 1], i);
			return -1;
		}
	}
	memcpy(out, p, n);
	out[n] = '\0';
	*outlen = n;
	return 0;
}

/* Up to cap bytes, to the end of fd; -1 with errno. */
static ssize_t
read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap) {
		if ((r = read(fd, buf + n, cap - n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

static struct termios tty_saved;

/* Ctrl-C while the echo is off must not leave the terminal silent. */
static void
tty_restore(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * From a terminal, one line typed with the echo off, as passwd reads a
 * password: the secret is neither on the screen nor in the scrollback.
 */
static ssize_t
read_tty(const char *name, char *buf, size_t cap)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old[3];
	struct termios quiet;
	ssize_t n = 0, r;
	int quiet_on, i;

	fprintf(stderr, "hookpipe: --%s (typing is not shown): ", name);
	quiet_on = tcgetattr(STDIN_FILENO, &tty_saved) == 0;
	if (quiet_on) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = tty_restore;
		for (i = 0; i < 3; i++)
			sigaction(sigs[i], &sa, &old[i]);
		quiet = tty_saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	while ((size_t)n < cap) {
		if ((r = read(STDIN_FILENO, buf + n, cap - (size_t)n)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == -1)
				n = -1;
			break;
		}
		n += r;
		if (buf[n - 1] == '\n')
			break;
	}
	if (quiet_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
		for (i = 0; i < 3; i++)
			sigaction(sigs[i], &old[i], NULL);
	}
	fputc('\n', stderr);
	return n;
}

/* The bytes of a file or of stdin; an exit code after a message, or 0. */
static int
read_source(struct ctx *ctx, struct secret_opt *so, const char *src,
    char *buf, size_t cap, size_t *len)
{
	ssize_t n;
	int fd = STDIN_FILENO;

	if (so->file != NULL &&
	    (fd = open(so->file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return usage_error(ctx, "%s: %s", src, strerror(errno));
	if (so->file == NULL) {
		if (stdin_reader != NULL)
			return usage_error(ctx, "%s: stdin is already read for "
			    "--%s; use --%s-file F or --%s-env VAR", src,
			    stdin_reader, so->name, so->name);
		stdin_reader = so->name;
	}
	if (so->file == NULL && isatty(fd))
		n = read_tty(so->name, buf, cap);
	else
		n = read_all(fd, buf, cap);
	if (so->file != NULL)
		close(fd);
	if (n == -1)
		return usage_error(ctx, "%s: %s", src, strerror(errno));
	*len = (size_t)n;
	return 0;
}

int
secret_read(struct ctx *ctx, struct secret_opt *so)
{
	char buf[READ_MAX], why[128], src[PATH_MAX + 80];
	size_t n = 0;
	int rc = 0;

	so->set = 0;
	if ((so->arg != NULL) + (so->file != NULL) + (so->env != NULL) == 0)
		return 0;
	if ((so->arg != NULL) + (so->file != NULL) + (so->env != NULL) > 1)
		return usage_error(ctx, "give --%s one way only: --%s VALUE, "
		    "--%s - (stdin), --%s-file F or --%s-env VAR", so->name,
		    so->name, so->name, so->name, so->name);
	if (so->env != NULL) {
		const char *v = getenv(so->env);

		snprintf(src, sizeof(src), "--%s-env %s", so->name, so->env);
		if (v == NULL)
			return usage_error(ctx, "%s: no such variable in the "
			    "environment", src);
		rc = secret_parse(v, strlen(v), so->value, &so->len, why,
		    sizeof(why));
	} else if (so->file != NULL || strcmp(so->arg, "-") == 0) {
		if (so->file != NULL)
			snprintf(src, sizeof(src), "--%s-file %s", so->name,
			    so->file);
		else
			snprintf(src, sizeof(src), "--%s - (stdin)", so->name);
		if ((rc = read_source(ctx, so, src, buf, sizeof(buf), &n)) != 0)
			return rc;
		rc = secret_parse(buf, n, so->value, &so->len, why,
		    sizeof(why));
		OPENSSL_cleanse(buf, sizeof(buf));
	} else {
		snprintf(src, sizeof(src), "--%s", so->name);
		rc = secret_parse(so->arg, strlen(so->arg), so->value,
		    &so->len, why, sizeof(why));
	}
	if (rc == -1)
		return usage_error(ctx, "%s: the value %s; a secret is one line "
		    "of printable text, 1 to %d bytes", src, why, SECRET_MAX);
	so->set = 1;
	return 0;
}

void
secret_clear(struct secret_opt *so)
{
	OPENSSL_cleanse(so->value, sizeof(so->value));
	so->len = 0;
	so->set = 0;
}
