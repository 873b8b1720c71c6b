/*
 * Metrics: each stage counts in a small file of fixed layout,
 * run/<stage>.metrics, mapped shared and updated in place with atomic
 * adds: no system call, no lock and no message per event. The admin
 * stage maps the files read-only on each scrape of /metrics and sums
 * what they hold.
 *
 * A file is a header, the histograms and a table of METRICS_SLOTS slots,
 * each one (metric, label values) -> value. A writer finds its slot by a
 * hash of the key and linear probing, and claims a free one with a
 * compare-and-swap (free -> claimed), fills in the key, then publishes
 * it (claimed -> ready, a release store). Readers use ready slots only.
 * Two processes may write one file at once (a receiver and the successor
 * that takes its socket over): two slots with the same key may then
 * appear, and readers add them up. A full table counts in
 * hookpipe_metrics_dropped_total rather than grow.
 *
 * The file outlives the process: counters go on across restarts and
 * start again from zero only when the file is made anew (a layout this
 * build cannot use is replaced). A metric's name, help, type and label
 * names are in one table (metrics.c) that writers and the reader share.
 */
#ifndef HP_METRICS_H
#define HP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum metric {
	/* receiver */
	M_DELIVERIES,		/* {subscription, status} */
	M_RX_RESPONSES,		/* {class} */
	M_RX_SPOOLED,
	M_RX_REFUSED,		/* {reason} */
	M_RX_EVICTED,
	M_RX_INFLIGHT,		/* gauges, set once a second */
	M_RX_CONNECTIONS,
	M_RX_BODY_BYTES,
	M_RX_BODY_BUDGET,
	/* verifier */
	M_EVENTS,		/* {result}: stored, ignored, duplicate */
	M_VERIFY_FAILURES,	/* {reason} */
	M_HANDSHAKES,
	M_QUARANTINED,
	/* router, dispatcher */
	M_EVENTS_ROUTED,
	M_RUNS,			/* {workflow, status} */
	M_ATTEMPTS,		/* {workflow, result} */
	M_RETRIES,		/* {workflow}: retries scheduled */
	M_DISPATCHER_ACTIVE,	/* gauge */
	/* admin */
	M_ADMIN_REQUESTS,	/* {status} */
	M_ADMIN_LOGINS,		/* {result} */
	/* gauges, set once a second by the owner of what they measure */
	M_QUEUE,		/* {queue}: spool, unrouted, due */
	M_MAP_USED,		/* {part} */
	M_MAP_SIZE,		/* {part} */
	M_NMETRICS
};

enum metric_hist {
	H_RECEIVE,		/* receiver: request -> 2xx sent */
	H_ACTION_START,		/* dispatcher: event received -> action start */
	H_NHIST
};

enum metric_type { MT_COUNTER, MT_GAUGE };

struct metric_desc {
	const char	*name;
	const char	*help;
	enum metric_type type;
	const char	*label[2];	/* label names, NULL when fewer */
};

struct metric_hist_desc {
	const char	*name;
	const char	*help;
};

extern const struct metric_desc metric_descs[M_NMETRICS];
extern const struct metric_hist_desc metric_hist_descs[H_NHIST];

#define METRICS_MAGIC		"HPMETRC"	/* 8 bytes with the NUL */
#define METRICS_VERSION		1
#define METRICS_SLOTS		1024		/* a power of two */
#define METRICS_LABELS		96		/* "value1\0value2\0" */
#define METRICS_BUCKETS		15		/* and +Inf */

/* Upper bounds of the histograms' buckets, in microseconds. */
extern const int64_t metric_bounds_us[METRICS_BUCKETS];

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_READY };

struct metrics_slot {
	uint32_t	 state;
	uint32_t	 metric;
	uint64_t	 value;		/* a gauge's int64_t, as stored */
	char		 labels[METRICS_LABELS];
};

struct metrics_histogram {
	uint64_t	 bucket[METRICS_BUCKETS + 1];	/* not cumulative */
	uint64_t	 count;
	uint64_t	 sum_us;
};

struct metrics_file {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 size;		/* sizeof(struct metrics_file) */
	uint32_t	 nmetrics;	/* M_NMETRICS of the writer */
	uint32_t	 nslots;
	int64_t		 created_us;
	uint64_t	 dropped;	/* adds that found no free slot */
	struct metrics_histogram hist[H_NHIST];
	struct metrics_slot slot[METRICS_SLOTS];
};

/*
 * A stage's own file, mapped for the life of the process. On failure it
 * logs why and the stage goes on without metrics (every call below is
 * then a no-op): counting is never a reason to stop serving.
 */
int	metrics_open(const struct config *, const char *stage);
void	metrics_add(enum metric, const char *l1, const char *l2, uint64_t n);
void	metrics_set(enum metric, const char *l1, const char *l2, int64_t v);
void	metrics_observe(enum metric_hist, int64_t us);

/*
 * The map use of the parts of the state a stage owns (a DB_PART mask):
 * each part is counted by one stage only, as a gauge is not summed.
 */
struct db;
void	metrics_db(struct db *, int parts);

/* The reader's side: a file mapped read-only, or NULL. */
const struct metrics_file *metrics_map(const struct config *,
	    const char *stage);
void	metrics_unmap(const struct metrics_file *);

#endif
