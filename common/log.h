/*
 * Logging: one line per event on stderr, prefixed with the time and the
 * stage name. The supervisor owns the log files.
 */
#ifndef HP_LOG_H
#define HP_LOG_H

#include <stdarg.h>

/* Exit codes a supervisor can act on (s6 convention). */
#define EXIT_PERMANENT 100	/* configuration error: do not restart */
#define EXIT_TEMPORARY 111	/* transient failure: restart */

void log_init(const char *name, int verbose);
const char *log_name(void);
void	log_quiet(int on);	/* fuzz targets: no log lines at all */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
