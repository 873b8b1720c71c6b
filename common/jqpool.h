/*
 * Trigger filters and maps, evaluated in worker processes (hookpipe-jq)
 * with a time budget and a memory ceiling per evaluation: a hostile
 * payload can make one jq program slow or greedy, never the caller.
 * A worker that goes over its budget dies; the pool starts another.
 */
#ifndef HP_JQPOOL_H
#define HP_JQPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define JQPOOL_FILTER	1	/* truthiness of the first result */
#define JQPOOL_MAP	2	/* the first result, as JSON text */
#define JQPOOL_PROG_MAX	(64 * 1024)
#define JQPOOL_INPUT_MAX (64u << 20)
#define JQPOOL_WORKERS	2

/* Results of jqpool_eval beside 1 (truthy) and 0 (false, null, none). */
#define JQ_ERROR	(-1)	/* the program failed: err says why */
#define JQ_BUDGET	(-2)	/* over its time or memory budget */

struct jqpool {
	char		 exe[PATH_MAX];		/* hookpipe-jq */
	int64_t		 timeout_ms;
	int64_t		 memory;
	struct {
		pid_t	 pid;
		int	 fd;
	}		 w[JQPOOL_WORKERS];
	int		 next;
	uint64_t	 over_budget;		/* workers stopped */
};

/*
 * Find hookpipe-jq beside the running executable, or in the installed bin
 * directory (p->exe); -1 with err when it is in neither.
 */
int	jqpool_find(struct jqpool *, char *err, size_t errlen);
/* Start the workers (finding the program first if need be). */
int	jqpool_init(struct jqpool *, const struct config *, char *err,
	    size_t errlen);
/*
 * Evaluate program on a JSON text. With kind JQPOOL_MAP, *out gets the
 * first result (malloc'd) when there is one.
 */
int	jqpool_eval(struct jqpool *, int kind, const char *program,
	    const char *json, size_t len, char **out, char *err,
	    size_t errlen);
/*
 * The same on worker `worker` (0 to JQPOOL_WORKERS - 1) only: threads
 * that each keep to their own worker evaluate side by side.
 */
int	jqpool_eval_on(struct jqpool *, int worker, int kind,
	    const char *program, const char *json, size_t len, char **out,
	    char *err, size_t errlen);
void	jqpool_close(struct jqpool *);

#endif
