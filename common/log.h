/*
 * Logging: one line per event on stderr, prefixed with the time and the
 * stage name. The supervisor owns the log files.
 */
#ifndef HP_LOG_H
#define HP_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes a supervisor can act on (s6 convention). */
#define EXIT_PERMANENT 100	/* configuration error: do not restart */
#define EXIT_TEMPORARY 111	/* transient failure: restart */

void log_init(const char *name, int verbose);
/*
 * Size-based rotation of the file stderr writes to, when that file is
 * dir/file: past max bytes it becomes file.1 (file.1 becomes file.2, ...,
 * keeping keep of them) and stderr goes on in a new file. Under a
 * supervisor that collects stderr (a pipe, the journal) nothing rotates:
 * the collector does.
 */
void	log_rotate_init(const char *dir, const char *file, int64_t max,
	    int64_t keep);
const char *log_name(void);
/*
 * A stage that logs a line per request (the receiver) keeps the lines of
 * one pass of its loop and writes them at once with log_flush(), at the
 * end of the pass: one write(2) per pass instead of one per line. Lines
 * stay whole up to the buffer's 64 KiB; a SIGKILL loses the current
 * pass's lines. Call before the first line.
 */
void	log_buffered(void);
void	log_flush(void);
void	log_quiet(int on);	/* fuzz targets: no log lines at all */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Text from outside written so that it cannot drive a terminal: control
 * characters become visible escapes (\x1b, \n, \u009b) and a byte that
 * is not UTF-8 becomes \xff. Log lines go through it; so does every
 * human-readable output of the CLI.
 */
#define LOG_ESC_LINES	0x1	/* a multi-line block: keep \n and \t */
#define LOG_ESC_JSON	0x2	/* JSON text: escapes that stay valid JSON */
void	log_escape(FILE *, const void *, size_t, int flags);
/* Length of the valid UTF-8 sequence at p (its code point in *cp), or 0. */
size_t	log_utf8_len(const unsigned char *p, size_t n, uint32_t *cp);

#endif
