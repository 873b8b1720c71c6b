#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_stage = "hookpipe";
static int log_verbose;
static int log_silent;

/* Rotation of stderr's file (log_rotate_init). */
static struct {
	int	 dir_fd;	/* -1: no rotation */
	char	 file[64];
	int64_t	 max;
	int64_t	 keep;
	int64_t	 size;		/* written, as far as we know */
} log_rot = { -1, "", 0, 0, 0 };

void
log_quiet(int on)
{
	log_silent = on;
}

void
log_init(const char *name, int verbose)
{
	log_stage = name;
	log_verbose = verbose || getenv("HOOKPIPE_DEBUG") != NULL;
	/* One line per write, even when stderr is a file or a pipe. */
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void
log_rotate_init(const char *dir, const char *file, int64_t max, int64_t keep)
{
	struct stat err_st, file_st;
	int fd;

	if (log_rot.dir_fd != -1)
		close(log_rot.dir_fd);
	log_rot.dir_fd = -1;
	if (max <= 0 || strlen(file) >= sizeof(log_rot.file) ||
	    fstat(STDERR_FILENO, &err_st) == -1 || !S_ISREG(err_st.st_mode))
		return;
	/* Only the stage's own log: not a file someone sent stderr to. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if (fstatat(fd, file, &file_st, 0) == -1 ||
	    file_st.st_dev != err_st.st_dev || file_st.st_ino != err_st.st_ino) {
		close(fd);
		return;
	}
	log_rot.dir_fd = fd;
	memcpy(log_rot.file, file, strlen(file) + 1);
	log_rot.max = max;
	log_rot.keep = keep;
	log_rot.size = (int64_t)err_st.st_size;
}

/*
 * Past the size: file.N-1 becomes file.N, ..., file becomes file.1, and
 * stderr (and stdout, when it shares the file) goes on in a new file.
 * Others write the same file (the supervise loop between restarts, a
 * receiver and its successor for a moment): the lock on the directory
 * makes one of them rotate, and the others only reopen.
 */
static void
log_rotate(void)
{
	struct stat err_st, out_st, cur;
	char from[96], to[96];
	int64_t i;
	int fd, out_too;

	if (fstat(STDERR_FILENO, &err_st) == -1)
		return;
	if ((int64_t)err_st.st_size < log_rot.max) {
		log_rot.size = (int64_t)err_st.st_size;
		return;
	}
	out_too = fstat(STDOUT_FILENO, &out_st) == 0 &&
	    out_st.st_dev == err_st.st_dev && out_st.st_ino == err_st.st_ino;
	if (flock(log_rot.dir_fd, LOCK_EX) == -1)
		return;
	if (fstatat(log_rot.dir_fd, log_rot.file, &cur, 0) == 0 &&
	    cur.st_dev == err_st.st_dev && cur.st_ino == err_st.st_ino) {
		for (i = log_rot.keep; i >= 1; i--) {
			snprintf(from, sizeof(from), i > 1 ? "%s.%lld" : "%s",
			    log_rot.file, (long long)(i - 1));
			snprintf(to, sizeof(to), "%s.%lld", log_rot.file,
			    (long long)i);
			if (renameat(log_rot.dir_fd, from, log_rot.dir_fd,
			    to) == -1 && errno != ENOENT)
				break;
		}
		if (log_rot.keep == 0)
			unlinkat(log_rot.dir_fd, log_rot.file, 0);
	}
	fd = openat(log_rot.dir_fd, log_rot.file, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0600);
	if (fd != -1) {
		fflush(stdout);
		fflush(stderr);	/* log_buffered(): its lines go to the old file */
		if (dup2(fd, STDERR_FILENO) != -1 && out_too)
			dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	flock(log_rot.dir_fd, LOCK_UN);
	log_rot.size = fstat(STDERR_FILENO, &cur) == 0 ?
	    (int64_t)cur.st_size : 0;
}

void
log_buffered(void)
{
	static char buf[65536];

	fflush(stderr);
	setvbuf(stderr, buf, _IOFBF, sizeof(buf));
}

void
log_flush(void)
{
	fflush(stderr);
}

const char *
log_name(void)
{
	return log_stage;
}

/*
 * A message may quote what a peer sent (a header, an event type, a jq
 * error about a payload): it is escaped, so that a log line stays one
 * line and `hookpipectl logs` cannot be made to drive a terminal.
 */
static void
log_vline(const char *level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char when[32], small[1024], *msg = small;
	va_list aq;
	int n;

	if (log_silent)
		return;
	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(small) && vasprintf(&msg, fmt, aq) == -1) {
		msg = small;
		n = (int)sizeof(small) - 1;
	}
	va_end(aq);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s: %s", when, ts.tv_nsec / 1000000,
	    log_stage, level);
	log_escape(stderr, msg, (size_t)n, 0);
	fputc('\n', stderr);
	/* Counted roughly (escapes lengthen a line); fstat tells for sure. */
	if (log_rot.dir_fd != -1 && (log_rot.size += n + 48) >= log_rot.max)
		log_rotate();
	funlockfile(stderr);
	if (msg != small)
		free(msg);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("warning: ", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vline("debug: ", fmt, ap);
	va_end(ap);
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("fatal: ", fmt, ap);
	va_end(ap);
	exit(code);
}

size_t
log_utf8_len(const unsigned char *p, size_t n, uint32_t *cpp)
{
	uint32_t cp;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		len = 1;
		cp = p[0];
	} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cpp != NULL)
		*cpp = cp;
	return len;
}

/*
 * What a terminal acts on: C0 (but a line break and a tab in a block of
 * lines), DEL, and C1, which includes the one-byte CSI (U+009B).
 */
static int
is_control(uint32_t cp, int flags)
{
	if (cp == '\n' || cp == '\t')
		return !(flags & LOG_ESC_LINES);
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * A byte that is not UTF-8 is escaped too: a lone 0x9b is CSI to a
 * terminal in an 8-bit mode. In JSON text it becomes U+FFFD, as JSON has
 * no escape for a byte.
 */
void
log_escape(FILE *f, const void *data, size_t n, int flags)
{
	const unsigned char *p = data;
	size_t i = 0, start = 0, l;
	uint32_t cp;
	char esc[8];

	while (i < n) {
		esc[0] = '\0';
		if ((l = log_utf8_len(p + i, n - i, &cp)) == 0) {
			l = 1;
			if (flags & LOG_ESC_JSON)
				memcpy(esc, "\\ufffd", 7);
			else
				snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		} else if (is_control(cp, flags)) {
			if (cp == '\n' || cp == '\r' || cp == '\t')
				snprintf(esc, sizeof(esc), "\\%c", cp == '\n' ?
				    'n' : cp == '\r' ? 'r' : 't');
			else if (cp < 0x80 && !(flags & LOG_ESC_JSON))
				snprintf(esc, sizeof(esc), "\\x%02x", cp);
			else
				snprintf(esc, sizeof(esc), "\\u%04x", cp);
		}
		if (esc[0] != '\0') {
			fwrite(p + start, 1, i - start, f);
			fputs(esc, f);
			start = i + l;
		}
		i += l;
	}
	fwrite(p + start, 1, n - start, f);
}
