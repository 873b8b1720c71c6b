/*
 * Trigger filters and maps: jq programs run by libjq on an event's
 * payload. A filter fires when its first result is neither false nor null;
 * a map's first result becomes the run's inputs.
 */
#ifndef HP_JQPROG_H
#define HP_JQPROG_H

#include <stddef.h>

struct jqprog;

/* Compile; NULL with jq's own message in err. */
struct jqprog *jqprog_compile(const char *program, char *err, size_t errlen);
void	jqprog_free(struct jqprog *);

/*
 * Run on a JSON text. Returns 1 (truthy first result), 0 (false, null or
 * no result), -1 on an error (message in err). With out != NULL the first
 * result is also returned as compact JSON text (malloc'd).
 */
int	jqprog_run(struct jqprog *, const char *json, size_t len, char **out,
	    char *err, size_t errlen);

/* A small cache of compiled programs, keyed by their text. */
struct jqprog *jqcache_get(const char *program, char *err, size_t errlen);
void	jqcache_clear(void);

#endif
