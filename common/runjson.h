/*
 * A run as JSON, the one shape every view of it shares: `hookpipe run
 * show --json`, the runs lists, another host's answer and, in cluster
 * mode, the copy of each run a dispatcher keeps in HOOKPIPE_RUNS.
 */
#ifndef HP_RUNJSON_H
#define HP_RUNJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <lmdb.h>

#include "db.h"

json_t	*json_time(int64_t us);			/* RFC 3339, or null for 0 */
json_t	*json_lossy(const void *, size_t);	/* invalid UTF-8 -> U+FFFD */
json_t	*json_or_string(const void *, size_t);	/* JSON, else a string */
json_t	*attempt_json(const struct attempt_rec *);
/* With "history", every attempt, when txn (on db/runs) is given. */
json_t	*run_rec_json(MDB_txn *txn, struct db *, const struct run_rec *);

/*
 * A run's copy, in cluster mode (see cluster_copy_runs): its JSON with
 * every attempt, its inputs and host, at most RUN_COPY_MAX bytes (NATS
 * takes 1 MiB a message): past that the attempts before the last lose
 * their output ("output_left_out": true), then the last; NULL when
 * still over, or out of memory.
 */
#define RUN_COPY_MAX	(512 << 10)
char	*run_copy_json(MDB_txn *txn, struct db *, const struct run_rec *,
	    const char *host);

#endif
