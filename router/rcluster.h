/*
 * The router in cluster mode (HOOKPIPE_NATS): the routers of every host
 * are one consumer group over the event stream (the durable consumer
 * hookpipe_router, see common/cluster.h). A router fetches events from
 * it, holds each until the host's verifier has copied the event into
 * the local events database (within a second), routes it there as it
 * routes its own events, claims each run id cluster-wide before it
 * commits the run, and acknowledges the message once committed. A
 * message not acknowledged within its ack wait (the router died) goes
 * to another host's router; an event whose runs another host claimed
 * is given back until it reaches that host again (see claim_runs in
 * main.c).
 */
#ifndef HP_RCLUSTER_H
#define HP_RCLUSTER_H

#include <stdint.h>

#include "cluster.h"
#include "util.h"

#define RCL_HOLD_MAX	256	/* messages held at once */
#define RCL_HOLD_MS	5000	/* then given back, for another host */
#define RCL_WAIT_MS	250	/* a fetch's wait when nothing is held */
#define RCL_COPY_MS	20	/* a wait for copies when all wait for theirs */
#define RCL_OTHER_MS	2000	/* another host's event: given back for */
#define RCL_SAY_MS	60000	/* dropped messages: said at most this often */
#define RCL_MARK_SLOTS	4096	/* marks of this host's unfinished runs */
#define RCL_MARK_BYTES	4096	/* a mark batches add to, until this long */

struct rcl_msg {
	void		*msg;		/* natsMsg */
	char		 id[UUID_LEN + 1];	/* its event */
	int64_t		 since;		/* mono ms: fetched */
	int		 plan;		/* index in the plan, or -1 */
	int		 orphan;	/* not a message: an event of a
					   forgotten host's mark, unsettled */
};

struct rcl {
	struct cluster	 c;
	int		 warned;	/* the consumer is missing: said */
	int64_t		 next_bind;	/* mono ms */
	int64_t		 down_warn;	/* mono ms: an event waits for a host
					 * that is down, said again after */
	int		 dropped;	/* messages not events, not said yet */
	int64_t		 dropped_said;	/* mono ms: said last */
	struct rcl_msg	 h[RCL_HOLD_MAX];
	int		 n;
	/* The forgotten host's mark whose events are held (key empty:
	 * none), how many are not settled yet, how many could not be
	 * routed here. */
	char		 orph_key[CLUSTER_MARK_KEY_LEN + 1];
	char		 orph_host[CLUSTER_HOST_LEN];
	const char	*orph_why;	/* "forgotten" or "lost" */
	int		 orph_n, orph_pending, orph_failed;
	int64_t		 next_sweep;	/* mono ms: the marks looked at */
	/* This host's marks (cluster_mark_key): the slots in use (known
	 * once listed), the one batches add to (-1: none) and its ids. */
	unsigned char	 used[RCL_MARK_SLOTS];
	int		 marks_known;
	int		 cur;
	char		*cur_ids;
	int		 sweep_at;	/* the slot a sweep starts at */
	int64_t		 full_warn;	/* mono ms: every slot in use, said */
	/* Takeover (HOOKPIPE_CLUSTER_TAKEOVER; 0 never): this host's lease
	 * (us since the epoch; lapsed when past), since when it has beaten
	 * again after a lapse (mono ms), and the hosts lost (names) as read
	 * at lost_at (mono ms). */
	int64_t		 takeover_s;
	int64_t		 lease_until;
	int64_t		 back_since;
	json_t		*lost;
	int64_t		 lost_at;
};

/* Connect to HOOKPIPE_NATS: 0, or the exit code (100, 111) with err. */
int	rcl_open(struct rcl *, char *err, size_t errlen);
/* Give every held message back at once (stopping), disconnect. */
void	rcl_close(struct rcl *);
/*
 * Fetch what waits for this host, waiting up to ms when nothing does:
 * the number of messages held, or -1 when the consumer cannot be
 * reached (the caller waits before it asks again).
 */
int	rcl_fetch(struct rcl *, int ms);
/* Messages held longer than RCL_HOLD_MS: given back (a short delay). */
void	rcl_expire(struct rcl *);
/* Settle message i: acknowledged (routed) or given back; then dropped.
 * An orphan is counted routed, or not routed here. */
void	rcl_ack(struct rcl *, int i);
void	rcl_nak(struct rcl *, int i, int delay_ms);
/* Drop the settled (msg NULL, no orphan) from the list. */
void	rcl_compact(struct rcl *);
/* Hold the events of a forgotten host's mark (ids space-separated):
 * the number held, 0 when they do not fit now. */
int	rcl_orphans(struct rcl *, const char *host, const char *key,
	    const char *ids);

#endif
