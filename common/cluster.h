/*
 * Cluster mode: hosts that share one NATS JetStream cluster. With
 * HOOKPIPE_NATS set, JetStream is the source of truth for what it holds
 * (the event stream, the dedupe bucket) and each host's LMDB
 * environments are its local read copy; without it nothing here is used.
 *
 *	HOOKPIPE_EVENTS		stream, subjects hookpipe.events.EVENT_ID:
 *				one message per stored event, the payload as
 *				its body, the rest in the Hookpipe-Event
 *				header (JSON); Nats-Msg-Id = the event id
 *	hookpipe_dedupe		KV bucket, 7 days: "d." + hex SHA-256 of
 *				(sub id, delivery id) -> the first event id;
 *				create-if-absent is the cluster-wide test
 *	hookpipe_router		durable pull consumer of HOOKPIPE_EVENTS,
 *				explicit acks: the routers of every host
 *				take turns at it (one routes each event; an
 *				event not acknowledged within CLUSTER_ACK_WAIT_S
 *				goes to another)
 *	hookpipe_runs		KV bucket, 7 days: "r." + run id -> the
 *				host that claimed it; create-if-absent:
 *				one host creates a run; "g." + a host's
 *				digest: a host forgotten (gone for good)
 *	HOOKPIPE_RUNS		stream, hookpipe.runs.HOST.EVENT.RUN
 *				(HOST: its name's digest) -> a copy of the
 *				run (run show --json's), the last of each
 *				subject kept; hookpipe.runs.HOST.host ->
 *				the host's name, for the hosts with copies
 *	hookpipe_hosts		KV bucket, CLUSTER_HOST_TTL_S: "h." + hex
 *				SHA-256 of a host's name -> {host, version,
 *				since}, put by its admin stage every
 *				CLUSTER_HOST_BEAT_S, deleted when it stops:
 *				the hosts up
 *	hookpipe_config		KV bucket, key "snapshot": the config
 *				part's shared tables (see cluster_config.c)
 */
#ifndef HP_CLUSTER_H
#define HP_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <lmdb.h>

#include "util.h"

struct db;
struct event_rec;

#define CLUSTER_EVENTS		"HOOKPIPE_EVENTS"
#define CLUSTER_EVENTS_SUBJ	"hookpipe.events"
#define CLUSTER_RUNS		"HOOKPIPE_RUNS"
#define CLUSTER_RUNS_SUBJ	"hookpipe.runs"
#define CLUSTER_DEDUPE		"hookpipe_dedupe"
#define CLUSTER_CONFIG		"hookpipe_config"
#define CLUSTER_ROUTER		"hookpipe_router"
#define CLUSTER_CLAIMS		"hookpipe_runs"
#define CLUSTER_HOSTS		"hookpipe_hosts"
#define CLUSTER_HOST_TTL_S	15	/* a host not seen that long is down */
#define CLUSTER_HOST_BEAT_S	5	/* how often a host says it is up */
#define CLUSTER_ACK_WAIT_S	10	/* a router's time to acknowledge */
#define CLUSTER_ASK_RUNS	"hookpipe.ask.runs"	/* runs of every host */
#define CLUSTER_REPLICAS	3
#define CLUSTER_WAIT_MS		2000	/* a JetStream request's limit */
#define CLUSTER_ADMIN_WAIT_MS	10000	/* cluster init's, per request */
#define CLUSTER_ADMIN_TRIES	3	/* cluster init's tries on a timeout */
/* A dedupe claim's publish is over, one way or the other, this long
 * after the claim (its own wait, twice, and some clock skew). */
#define CLAIM_SETTLE_MS		(2 * CLUSTER_WAIT_MS + 1000)

/* An answer to an ask (NULL: none); req is the asker's JSON. */
typedef json_t	*(*cluster_answer_fn)(void *arg, json_t *req);

#define CLUSTER_HOST_LEN	320

struct cluster {
	void	*nc;		/* natsConnection */
	void	*js;		/* jsCtx */
	void	*dedupe;	/* kvStore, once opened */
	int	 failing;	/* a call failed: the next fail at once */
	void	*follow;	/* the ordered consumer and its thread */
	char	 follow_err[128];	/* why it last failed */
	void	*route;		/* natsSubscription: the routers' consumer */
	void	*claims;	/* kvStore, once opened */
	void	*answers;	/* natsSubscription: asks this host answers */
	void	*hosts;		/* kvStore, once opened */
	int	 copies_failing;	/* run copies not sent: said */
	int64_t	 copies_marked;	/* mono_ms: this host's marker sent */
	cluster_answer_fn answer_fn;
	void	*answer_arg;
	/* The router's: 1 when a host's runs are to be taken over. */
	int	(*gone)(void *arg, const char *host);
	void	*gone_arg;
	char	 host[CLUSTER_HOST_LEN];	/* hostname:HOOKPIPE_HOME, its name */
};

/* HOOKPIPE_NATS is set: this host is one of a cluster. */
int	cluster_enabled(void);
/*
 * Connect to HOOKPIPE_NATS (with HOOKPIPE_NATS_CREDS, HOOKPIPE_NATS_CA,
 * HOOKPIPE_NATS_CERT, HOOKPIPE_NATS_KEY). 0; 100 for a setting that is
 * wrong (a malformed URL, a file that does not load); 111 when no server
 * answers. err says which and what to fix.
 */
int	cluster_connect(struct cluster *, const char *name, char *err,
	    size_t errlen);
/* The same, and when no server answers now, 0 all the same: the library
 * connects later, in its own thread (the dispatcher's copies). */
int	cluster_connect_later(struct cluster *, const char *name, char *err,
	    size_t errlen);
void	cluster_close(struct cluster *);
/* Try JetStream again after a failure (once per batch). */
void	cluster_retry(struct cluster *);

/*
 * Create the streams and buckets with `replicas` copies, or check the
 * ones there; the streams keep messages max_age_s seconds (0: always),
 * never less than the dedupe bucket's 7 days. 0, or -1 with err.
 */
int	cluster_init(struct cluster *, int replicas, int64_t max_age_s,
	    char *err, size_t errlen);

/*
 * The cluster-wide dedupe test: claim (sub, delivery id) for event_id.
 * CLUSTER_NEW: claimed now; CLUSTER_DUP: claimed before, by the event
 * in first; CLUSTER_BUSY: claimed moments ago by an event not yet in
 * the stream (another host is storing it: ask again later);
 * CLUSTER_FAIL: no answer from a quorum (err).
 */
enum { CLUSTER_NEW, CLUSTER_DUP, CLUSTER_FAIL, CLUSTER_MINE, CLUSTER_BUSY,
    CLUSTER_DOWN };
int	cluster_dedupe_claim(struct cluster *, const char *sub,
	    const char *did, const char *event_id, char *first, size_t firstlen,
	    char *err, size_t errlen);
/* The dedupe bucket's handle, before threads claim side by side: 0, or
 * -1 with err (the claims then fail and say why). */
int	cluster_dedupe_open(struct cluster *, char *err, size_t errlen);
/* 1 when the stream holds event_id, 0 when not, -1 when it cannot say. */
int	cluster_event_exists(struct cluster *, const char *event_id);
/*
 * Publish an event and wait for the stream's acknowledgement (stored on
 * a quorum of its replicas). 0, or -1 with err.
 */
int	cluster_event_publish(struct cluster *, const struct event_rec *,
	    char *err, size_t errlen);

/*
 * The follower: an ordered consumer of the whole event stream, from its
 * first message (a host copies into its events database what it does
 * not have). cluster_follow_next: 1 with e (event_free it) and whether
 * this host published it, 0 when nothing waits, -1 on a message that
 * is not an event (skipped), -2 when the consumer failed (follow_err
 * says how; stopped: it starts over next time). cluster_follow_fd: a
 * descriptor readable when something waits (-1 before the open).
 * cluster_follow_stop: start over next time.
 */
int	cluster_follow_open(struct cluster *, char *err, size_t errlen);
int	cluster_follow_fd(struct cluster *);
int	cluster_follow_next(struct cluster *, struct event_rec *e, int *mine);
void	cluster_follow_stop(struct cluster *);

/*
 * The routers' consumer group (the router, in cluster mode).
 * cluster_route_open: bind to the durable consumer hookpipe_router (made
 * by cluster init). cluster_route_fetch: up to max messages, waiting up
 * to ms for the first when none waits (0: not at all); the number, or -1
 * when JetStream did not answer (err). A message (a natsMsg) is given back with one of: _ack (routed),
 * _nak (again, after delay_ms, maybe to another host), _term (never
 * again: not an event), and _progress keeps it (the ack wait starts
 * over); cluster_msg_free after each. cluster_msg_event: its event id
 * (from the subject), 0 or -1 when it has none.
 */
int	cluster_route_open(struct cluster *, char *err, size_t errlen);
int	cluster_route_fetch(struct cluster *, void **msgs, int max, int ms,
	    char *err, size_t errlen);
int	cluster_msg_event(void *msg, char *id, size_t len);
void	cluster_msg_ack(void *msg);
void	cluster_msg_nak(void *msg, int delay_ms);
void	cluster_msg_term(void *msg);
void	cluster_msg_progress(void *msg);
void	cluster_msg_free(void *msg);
/*
 * Claim a run id cluster-wide before creating the run: CLUSTER_NEW
 * (claimed now, or taken over from a host `hookpipe cluster forget`
 * named), CLUSTER_MINE (claimed before by this host: it may have
 * created the run), CLUSTER_DUP (another host's), CLUSTER_DOWN (another
 * host's, and that host is not up: the event waits for it),
 * CLUSTER_FAIL (no answer, err). owner: the claim's host, when taken.
 */
int	cluster_run_claim(struct cluster *, const char *run_id, char *owner,
	    size_t ownerlen, char *err, size_t errlen);
/* Give a claim up: the run it was for was not created (best effort). */
void	cluster_run_unclaim(struct cluster *, const char *run_id);
/*
 * Copies of the runs ids (read in db/runs) sent to HOOKPIPE_RUNS without
 * waiting (the dispatcher's, as attempts end). Says in the log when
 * copies cannot be sent, and when they are again. The copies of a run
 * (event_id may be NULL) or of an event's runs (run_id NULL): an array
 * of their JSON, each with "copy": true; NULL with err when NATS does
 * not answer.
 */
void	cluster_copy_runs(struct cluster *, struct db *,
	    const char (*ids)[UUID_LEN + 1], int n);
json_t	*cluster_run_copies(struct cluster *, const char *event_id,
	    const char *run_id, char *err, size_t errlen);
/*
 * The copies of the runs of the hosts that have copies, but are neither
 * this host nor named in answered (an array of host names): each one's
 * newest copies that keep() wants, up to limit of each host, appended
 * to a (each with "copy": true). 0, or -1 with err.
 */
/* A host's digest: the 32 hex digits its keys in the buckets and its
 * copies' subjects have. */
void	cluster_host_digest(const char *host, char dg[33]);
/* The digests of this host and of the hosts named in names (an array of
 * strings), and whether dg is one of such digests. */
json_t	*cluster_digests(struct cluster *, json_t *names);
int	cluster_digest_in(json_t *digests, const char *dg);
int	cluster_host_copies(struct cluster *, json_t *answered,
	    int (*keep)(void *arg, json_t *run), void *arg, size_t limit,
	    json_t *a, char *err, size_t errlen);

/*
 * What other hosts send, read (cluster_wire.c): anything that does not
 * read as what a host sends is refused, -1 or NULL. An event of the
 * stream: its subject, its Hookpipe-Event header (meta) and its payload
 * (not copied when NULL) into e (event_free it), *mine when the host
 * self stored it. An answer's part (headers Hookpipe-Part "i/n" and
 * Hookpipe-Host): kept with the earlier parts of its host in p (an
 * array of CLUSTER_PARTS_HOSTS, zeroed at first, cluster_parts_free
 * after); the whole answer, to free, once its last part is in.
 */
#define CLUSTER_ANSWER_MAX	(64u << 20)	/* one host's answer, whole */
#define CLUSTER_PARTS_HOSTS	16	/* hosts answering in parts at once */

struct cluster_parts {
	char		 host[CLUSTER_HOST_LEN];
	size_t		 next;		/* the part expected, from 1 */
	struct buf	 b;
};

int	cluster_event_parse(const char *subj, const char *meta,
	    const void *payload, size_t n, const char *self,
	    struct event_rec *e, int *mine);
char	*cluster_parts_add(struct cluster_parts *p, const char *part,
	    const char *host, const void *data, size_t n, size_t *len);
void	cluster_parts_free(struct cluster_parts *p);

/*
 * The shared configuration (cluster_config.c). ccfg_dump: the shared
 * tables of the config part as a snapshot (NULL: no memory);
 * ccfg_diff: the records that differ, a deleted one as null (empty:
 * ccfg_empty); ccfg_publish: put a diff onto the bucket's latest
 * snapshot, reading again on a conflict, 0 with the new revision and
 * the snapshot it put (the caller's to apply and free), or -1;
 * ccfg_latest: the bucket's snapshot (NULL snap: the revision only; 0
 * when there is none yet); ccfg_apply: replace the shared tables with a
 * snapshot and note its revision, which ccfg_applied reads; CCFG_OLDER
 * (nothing done) when the part holds that revision or a newer one.
 */
#define CCFG_OLDER	1
json_t	*ccfg_dump(MDB_txn *, struct db *);
json_t	*ccfg_diff(json_t *before, json_t *after);
int	 ccfg_empty(json_t *diff);
int	 ccfg_publish(struct cluster *, json_t *diff, uint64_t *rev,
	    json_t **snap, char *err, size_t errlen);
int	 ccfg_latest(struct cluster *, json_t **snap, uint64_t *rev,
	    char *err, size_t errlen);
uint64_t ccfg_applied(MDB_txn *, struct db *);
int	 ccfg_apply(MDB_txn *, struct db *, json_t *snap, uint64_t rev);
/*
 * A watch on the snapshot: ccfg_watch returns a descriptor that becomes
 * readable when a revision is put (and once at the start), or -1 with
 * err; ccfg_watch_seen reads it, 1 when something came, 0 when not, -1
 * when the watch ended (a NATS server lost with its consumer): watch
 * again. ccfg_watch_fd: that descriptor. ccfg_unwatch ends it.
 */
struct ccfg_watch;
int	 ccfg_watch(struct cluster *, struct ccfg_watch **, char *err,
	    size_t errlen);
int	 ccfg_watch_fd(struct ccfg_watch *);
int	 ccfg_watch_seen(struct ccfg_watch *);
void	 ccfg_unwatch(struct ccfg_watch **);

/*
 * Asking every host (core NATS, no stream): cluster_answer subscribes
 * to subj and answers each ask with fn's JSON (on the library's thread),
 * "host" added. cluster_ask publishes req to subj and calls cb with each
 * answer until every host up has answered (or, when that is not known,
 * none came for a while; or ms passed): the number of answers, or -1
 * (err).
 */
int	cluster_answer(struct cluster *, const char *subj, cluster_answer_fn,
	    void *arg, char *err, size_t errlen);
int	cluster_ask(struct cluster *, const char *subj, json_t *req, int ms,
	    void (*cb)(void *, json_t *answer), void *arg, char *err,
	    size_t errlen);

/*
 * The hosts up (hookpipe_hosts). cluster_host_beat: this host is up
 * (its admin stage, every CLUSTER_HOST_BEAT_S; 0, or -1 with err);
 * cluster_host_leave: it stops (best effort). cluster_hosts: the hosts
 * seen in the last CLUSTER_HOST_TTL_S, as JSON objects {host, version,
 * since, seen_s}, or NULL with err (no bucket: cluster init not run
 * since this version). cluster_hosts_count: their number, -1 unknown.
 */
int	cluster_host_beat(struct cluster *, const char *since, char *err,
	    size_t errlen);
void	cluster_host_leave(struct cluster *);
json_t	*cluster_hosts(struct cluster *, char *err, size_t errlen);
int	cluster_hosts_count(struct cluster *);
/* 1 when host is up, 0 when not, -1 when it cannot be said. */
int	cluster_host_up(struct cluster *, const char *host);
/*
 * A host gone for good, said by the operator (hookpipe cluster forget):
 * a marker in hookpipe_runs, kept as long as the claims, by which the
 * routers take over the host's claims of events it never acknowledged.
 * cluster_host_forget: put it (undo: delete it); 0, or -1 with err.
 * cluster_host_forgotten: 1 (and when, RFC 3339), 0, or -1 unknown.
 */
int	cluster_host_forget(struct cluster *, const char *host, int undo,
	    char *err, size_t errlen);
int	cluster_host_forgotten(struct cluster *, const char *host, char *when,
	    size_t whenlen);
/* The hosts forgotten, as JSON objects {host, at, by}; NULL with err. */
json_t	*cluster_forgotten(struct cluster *, char *err, size_t errlen);

/*
 * A host's unfinished runs, known to every host: its router keeps marks
 * in hookpipe_runs, "o." + the host's digest + "." + a slot number,
 * each holding event ids (space-separated) whose runs the host created
 * and has not ended; put before the runs are written, rewritten as they
 * end. The routers of the other hosts route again the events a
 * forgotten host's marks name.
 *
 * cluster_mark_key: a mark's key, of host (NULL: this one) and slot.
 * cluster_mark_put: set a mark (ids NULL or empty: delete it); 0, or -1
 * with err. cluster_mark_get: 1 and *ids (the caller's to free), 0 when
 * there is none, or -1 with err. cluster_marks: up to max marks of host,
 * as JSON objects {key, slot, ids}, or NULL with err.
 */
/*
 * Takeover (HOOKPIPE_CLUSTER_TAKEOVER): each router with it set says
 * every CLUSTER_HOST_BEAT_S that its host is alive and fenced by a lease
 * of lease_s seconds ("l." + the host's digest in hookpipe_runs: its
 * name and lease_s). cluster_beat: put it; 0, or -1 with err.
 * cluster_beats: every host's, as JSON objects {host, lease_s, age_ms}
 * (since its last beat, by the servers' clock against ours), or NULL
 * with err. cluster_claim_owner: the host a run's claim names, 1; 0 when
 * there is none; -1 when it cannot be said.
 */
int	cluster_beat(struct cluster *, int64_t lease_s, char *err,
	    size_t errlen);
json_t	*cluster_beats(struct cluster *, char *err, size_t errlen);
int	cluster_claim_owner(struct cluster *, const char *run_id, char *owner,
	    size_t ownerlen);

#define CLUSTER_MARK_KEY_LEN	(2 + 32 + 1 + 10)
void	cluster_mark_key(struct cluster *, const char *host, int slot,
	    char out[CLUSTER_MARK_KEY_LEN + 1]);
int	cluster_mark_put(struct cluster *, const char *key, const char *ids,
	    char *err, size_t errlen);
int	cluster_mark_get(struct cluster *, const char *key, char **ids,
	    char *err, size_t errlen);
/* The marks of the host of digest dg (NULL: of every host), as
 * cluster_marks gives them, their ids left empty when keys_only; NULL
 * with err. */
json_t	*cluster_marks_of(struct cluster *, const char *dg, int keys_only,
	    char *err, size_t errlen);
json_t	*cluster_marks(struct cluster *, const char *host, int max, char *err,
	    size_t errlen);

/* The connection, the streams and buckets, as JSON (NULL: no memory). */
json_t	*cluster_status(struct cluster *);

#endif
