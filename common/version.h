/*
 * What a binary is: its version, the commit it was built from and the
 * build's options (compiler, flags, prefix, the library headers it was
 * compiled against), for --version and `hookpipe version`.
 */
#ifndef HP_VERSION_H
#define HP_VERSION_H

#include <stdio.h>

extern const char hp_version[];		/* "0.1.0" */
extern const char hp_commit[];		/* "d0861db", "d0861db-dirty" */

/* "PROG 0.1.0 (commit d0861db)\n" and a line per build option. */
void	version_print(FILE *, const char *prog);
/* The build options as "name value" pairs, NULL-terminated. */
extern const char *const hp_build[];

#endif
