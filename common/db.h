/*
 * The shared state: one LMDB environment under $HOOKPIPE_HOME/db with a
 * named database per kind of record. Keys are binary and sortable; values
 * are msgpack maps (see db.c for each layout). Every function takes the
 * caller's transaction, so a stage groups many records into one commit.
 *
 *	subs		sub id -> subscription
 *	subs_by_name	"ws/integration/name" -> sub id
 *	sub_stats	sub id -> be64 event count, be64 last event time
 *	workflows	"ws/name" -> workflow
 *	triggers	"sub id/event" -> "ws/name" (dupsort)
 *	events		event id -> event
 *	events_by_time	be64 received_at + event id -> ""
 *	pending		event id -> "" (stored, not yet routed)
 *	dedupe		sub id + delivery id -> event id + be64 time
 *	runs		run id -> run
 *	runs_by_time	be64 created_at + run id -> ""
 *	runs_by_event	event id -> run id (dupsort)
 *	due		be64 due time + run id -> "" (runs waiting to start)
 *	attempts	run id + be64 attempt -> attempt
 *	run_inputs	run id -> JSON text (a trigger's --map result)
 *	spool		be64 due time + event id -> MSG_VERIFY message
 *	quarantine	event id -> spooled delivery set aside, and why
 *	creds		"ws/name" -> credential (token sealed)
 *	oauth_clients	"ws/integration" -> OAuth client (secret sealed)
 *	oauth_states	state -> pending authorization (single use)
 *	meta		"schema" -> version
 */
#ifndef HP_DB_H
#define HP_DB_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "config.h"
#include "crypto.h"
#include "util.h"

#define DB_SCHEMA	1
#define SECRET_MAX	512			/* plaintext bytes */
#define SEALED_MAX	(SECRET_MAX + SEAL_OVERHEAD)
#define EVENTS_MAX	4096			/* "a,b,c" or "*" */
#define TRIGGERS_MAX	32
#define OUTPUT_MAX	(64 * 1024)		/* kept per attempt */
#define DEDUPE_DAYS	(DEDUPE_WINDOW_S / 86400)

/* Unsealed subscription secrets, keyed by the sealed bytes and the id. */
#define SECRET_CACHE	16
struct secret_cache {
	char		 id[UUID_LEN + 1];
	unsigned char	 sealed[SEALED_MAX];
	size_t		 sealed_len;
	unsigned char	 plain[SECRET_MAX];
	int		 plain_len;	/* 0: empty slot */
};

#define DB_KEYS_MAX	8

/* Errors of the db layer beside LMDB's (db_strerror knows them all). */
#define DB_ESEAL	(-31000)	/* a secret cannot be (un)sealed */

struct db {
	MDB_env	*env;
	MDB_dbi	 subs, subs_by_name, sub_stats, workflows, triggers;
	MDB_dbi	 events, events_by_time, pending, dedupe, dedupe_by_time;
	MDB_dbi	 runs, runs_by_time, runs_by_event, due, attempts, run_inputs;
	MDB_dbi	 spool, quarantine, meta, creds, oauth_clients, oauth_states;
	/* Master keys by id, loaded as sealed values need them. */
	struct db_key {
		uint32_t	 id;
		unsigned char	 k[MASTER_KEY_LEN];
	}	 keys[DB_KEYS_MAX];
	int	 nkeys;
	uint32_t key_current;			/* the id to seal with */
	char	 key_path[PATH_MAX];		/* key 1; key N: path.N */
	size_t	 map_max;			/* db_grow's limit */
	struct secret_cache *secrets;		/* db_sub_secret's, lazily */
	/* db_trim's view of the map, found once per map size. */
	void	*trim_base;
	size_t	 trim_len, trim_mapsize;
	int64_t	 trim_last;			/* mono_ms of the last trim */
};

/*
 * Every writer commits with a sync: the environment holds acknowledged
 * events, and LMDB's MDB_NOSYNC in any process that shares it can
 * corrupt it on an OS crash.
 */
#define DB_RDONLY	0x2
/*
 * The verifier: a commit syncs the data pages while it holds the writer
 * lock, and db_commit_durable() syncs the meta page after releasing it,
 * before anyone is told. Other writers wait for one fsync, not two.
 */
#define DB_METASYNC_LATER 0x4
/* A stage that never seals nor unseals (the router): no master key. */
#define DB_NOKEYS	0x8

int	db_open(struct db *, const struct config *, int flags, char *err,
	    size_t errlen);
void	db_close(struct db *);
/* NULL on failure, with the LMDB message in the log. */
MDB_txn *db_begin(struct db *, int rdonly);
/* 0, or the LMDB error code (MDB_MAP_FULL: answer 503, retry later). */
int	db_commit(MDB_txn *);
/* Commit, then make it durable (for DB_METASYNC_LATER environments). */
int	db_commit_durable(struct db *, MDB_txn *);

struct sub_rec {
	char	 id[UUID_LEN + 1];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 mode[16];			/* manual, api-key, oauth */
	char	 events[EVENTS_MAX];		/* "*" or "a,b,c" */
	unsigned char secret[SEALED_MAX];	/* sealed; aad = id */
	size_t	 secret_len;
	unsigned char secret2[SEALED_MAX];	/* during rotation */
	size_t	 secret2_len;
	char	 credential[NAME_MAX_LEN + 1];
	char	 params[1024];			/* "k=v\n" lines */
	char	 remote_id[64];
	int64_t	 created_at;
};

struct trigger {
	char	 sub[UUID_LEN + 1];
	char	 event[256];
	char	*filter;			/* jq program or NULL */
	char	*map;
};

/*
 * What a workflow's masked fields hide, sealed beside them: the http
 * headers, the URL with its userinfo, the --env lines with their values.
 * The clear fields hold the masked text (for show and list); only the
 * dispatcher unseals. A record without a sealed part keeps that part in
 * clear (written before sealing existed) and is used as it is.
 */
enum wf_sealed { WF_SEALED_HEADERS, WF_SEALED_URL, WF_SEALED_ENV,
	WF_SEALED_N };

struct sealed_text {
	unsigned char	*p;		/* malloc'd; aad = "what:ws/name" */
	size_t		 n;
};

struct wf_rec {
	char	 workspace[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	char	 state[12];			/* draft, published */
	char	 action[8];			/* exec, http, dify, zmq */
	char	*target;			/* command, URL, base, endpoint */
	char	*headers;			/* http: "K: V\n" lines */
	char	*env;				/* exec: "NAME[=V]\n" lines */
	char	*user;				/* exec: run as; NULL: as is */
	struct sealed_text sealed[WF_SEALED_N];
	unsigned char app_key[SEALED_MAX];	/* dify; sealed, aad = ws/name */
	size_t	 app_key_len;
	int64_t	 timeout_s;
	int64_t	 retries;
	int64_t	 concurrency;
	int64_t	 listen_until;			/* workflow test, us; 0 = off */
	int64_t	 created_at;
	int	 ntrig;
	struct trigger trig[TRIGGERS_MAX];
};

struct event_rec {
	char	 id[UUID_LEN + 1];
	char	 sub[UUID_LEN + 1];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 type[256];
	char	 delivery_id[256];
	char	 status[12];			/* stored, ignored, routed */
	int64_t	 received_at;
	char	*headers;			/* JSON object text */
	unsigned char *payload;
	size_t	 payload_len;
};

struct run_rec {
	char	 id[UUID_LEN + 1];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 workflow[NAME_MAX_LEN + 1];
	char	 event_id[UUID_LEN + 1];
	char	 status[12];	/* queued, running, failed, succeeded, dead */
	int64_t	 attempts;	/* attempts started */
	int64_t	 max_attempts;	/* retries + 1, fixed when the run is made */
	int64_t	 created_at;
	int64_t	 updated_at;
	int64_t	 next_at;	/* due time while queued or failed */
	char	 last_error[512];
	int	 test;		/* made by `workflow test` */
};

struct attempt_rec {
	int64_t	 n;
	int64_t	 started_at;
	int64_t	 duration_us;
	int64_t	 exit_code;	/* -1 when none */
	int64_t	 http_status;	/* 0 when none */
	char	 error[512];
	unsigned char *output;
	size_t	 output_len;
};

/* Generic access; return 0, MDB_NOTFOUND, or another LMDB code. */
int	db_get(MDB_txn *, MDB_dbi, const void *k, size_t kn, MDB_val *out);
int	db_put(MDB_txn *, MDB_dbi, const void *k, size_t kn, const void *v,
	    size_t vn, unsigned flags);
int	db_del(MDB_txn *, MDB_dbi, const void *k, size_t kn);

/* Subscriptions. -1 means a damaged record (logged). */
int	db_sub_get(MDB_txn *, struct db *, const char *id, struct sub_rec *);
/* By id or name; integration may be NULL. Ambiguous names: -2. */
int	db_sub_find(MDB_txn *, struct db *, const char *ws, const char *integ,
	    const char *name_or_id, struct sub_rec *);
int	db_sub_put(MDB_txn *, struct db *, const struct sub_rec *);
int	db_sub_del(MDB_txn *, struct db *, const struct sub_rec *);
int	db_sub_count(MDB_txn *, struct db *, const char *ws,
	    const char *integ);
typedef int (*db_sub_fn)(void *arg, const struct sub_rec *);
int	db_sub_each(MDB_txn *, struct db *, const char *ws, db_sub_fn, void *);
int	db_sub_stats(MDB_txn *, struct db *, const char *id, int64_t *count,
	    int64_t *last_at);
int	db_sub_stats_bump(MDB_txn *, struct db *, const char *id, int64_t at);
/* Seal/unseal a subscription's secret (which: 1 or 2). */
int	db_sub_set_secret(struct db *, struct sub_rec *, int which,
	    const char *plain, size_t n);
int	db_sub_secret(struct db *, const struct sub_rec *, int which,
	    unsigned char *out, size_t cap);	/* length, or -1 */
int	sub_covers(const struct sub_rec *, const char *event);

/* Workflows. db_wf_put keeps the trigger index in step with the record. */
int	db_wf_get(MDB_txn *, struct db *, const char *ws, const char *name,
	    struct wf_rec *);
int	db_wf_put(MDB_txn *, struct db *, const struct wf_rec *);
int	db_wf_del(MDB_txn *, struct db *, const char *ws, const char *name);
typedef int (*db_wf_fn)(void *arg, const struct wf_rec *);
int	db_wf_each(MDB_txn *, struct db *, const char *ws, db_wf_fn, void *);
/* Workflows whose triggers use the subscription (count). */
int	db_sub_users(MDB_txn *, struct db *, const char *sub_id);
void	wf_free(struct wf_rec *);
/* Workflows ("ws/name" keys) with a trigger on (sub, event). */
typedef int (*db_match_fn)(void *arg, const char *wf_key, size_t n);
int	db_trigger_match(MDB_txn *, struct db *, const char *sub_id,
	    const char *event, db_match_fn, void *);

/* Events. db_event_put also maintains events_by_time and pending. */
int	db_event_put(MDB_txn *, struct db *, const struct event_rec *);
int	db_event_get(MDB_txn *, struct db *, const char *id, struct event_rec *);
int	db_event_set_status(MDB_txn *, struct db *, struct event_rec *,
	    const char *status);
void	event_free(struct event_rec *);
typedef int (*db_event_fn)(void *arg, struct event_rec *);
/* Newest first. */
int	db_event_each(MDB_txn *, struct db *, db_event_fn, void *);
/* Event ids waiting to be routed, oldest first. */
typedef int (*db_id_fn)(void *arg, const char *id);
int	db_pending_each(MDB_txn *, struct db *, db_id_fn, void *);

/*
 * Index the dedupe entries of a database from before dedupe_by_time, up
 * to limit per call: the number indexed (0 once whole), or -1 with *rc.
 * db_prune expires dedupe entries only once the index is whole.
 */
int	db_dedupe_index(MDB_txn *, struct db *, int limit, int *rc);
/* Dedupe: 0 and the first event's id when seen within DEDUPE_DAYS. */
int	db_dedupe_get(MDB_txn *, struct db *, const char *sub_id,
	    const char *delivery_id, char event_id[UUID_LEN + 1]);
int	db_dedupe_put(MDB_txn *, struct db *, const char *sub_id,
	    const char *delivery_id, const char *event_id, int64_t at);

/* Runs. db_run_put maintains due, runs_by_time and runs_by_event. */
int	db_run_get(MDB_txn *, struct db *, const char *id, struct run_rec *);
int	db_run_put(MDB_txn *, struct db *, const struct run_rec *,
	    const struct run_rec *old);
typedef int (*db_run_fn)(void *arg, const struct run_rec *);
int	db_run_each(MDB_txn *, struct db *, db_run_fn, void *); /* newest first */
int	db_run_each_for_event(MDB_txn *, struct db *, const char *event_id,
	    db_run_fn, void *);
/* Runs due at or before `now`, oldest first; stop when fn returns 1. */
int	db_due_each(MDB_txn *, struct db *, int64_t now, db_id_fn, void *);
/* The earliest due time, or INT64_MAX. */
int64_t	db_due_next(MDB_txn *, struct db *);
int	db_attempt_put(MDB_txn *, struct db *, const char *run_id,
	    const struct attempt_rec *);
typedef int (*db_attempt_fn)(void *arg, const struct attempt_rec *);
int	db_attempt_each(MDB_txn *, struct db *, const char *run_id,
	    db_attempt_fn, void *);

/* A run's inputs when a trigger's map made them (else the payload). */
int	db_run_inputs_put(MDB_txn *, struct db *, const char *run_id,
	    const char *json);
/* malloc'd JSON text, or NULL. */
char   *db_run_inputs_get(MDB_txn *, struct db *, const char *run_id);

/* Credentials: an API key or an OAuth token, sealed (aad = "cred:ws/name"). */
struct cred_rec {
	char	 workspace[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 kind[16];			/* api-key, oauth */
	char	 login[128];			/* the account it acts as */
	unsigned char token[SEALED_MAX];
	size_t	 token_len;
	int64_t	 created_at;
};

int	db_cred_get(MDB_txn *, struct db *, const char *ws, const char *name,
	    struct cred_rec *);
int	db_cred_put(MDB_txn *, struct db *, const struct cred_rec *);
int	db_cred_del(MDB_txn *, struct db *, const char *ws, const char *name);
typedef int (*db_cred_fn)(void *arg, const struct cred_rec *);
int	db_cred_each(MDB_txn *, struct db *, const char *ws, db_cred_fn, void *);
int	db_cred_set_token(struct db *, struct cred_rec *, const char *token);
/* The token as a NUL-terminated string in out; length or -1. */
int	db_cred_token(struct db *, const struct cred_rec *, char *out,
	    size_t cap);

/* OAuth clients, per workspace and integration (aad = "oauth:ws/integ"). */
struct oauth_client_rec {
	char	 workspace[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 client_id[256];
	unsigned char secret[SEALED_MAX];
	size_t	 secret_len;
};

int	db_oauth_client_get(MDB_txn *, struct db *, const char *ws,
	    const char *integ, struct oauth_client_rec *);
int	db_oauth_client_put(MDB_txn *, struct db *,
	    const struct oauth_client_rec *);
int	db_oauth_client_set_secret(struct db *, struct oauth_client_rec *,
	    const char *secret);
int	db_oauth_client_secret(struct db *, const struct oauth_client_rec *,
	    char *out, size_t cap);

/* A pending authorization: `oauth authorize` makes it, the callback uses
 * it once. */
struct oauth_state_rec {
	char	 state[65];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];	/* the credential to store */
	int64_t	 expires_at;			/* us */
	int	 replace;			/* may replace a credential */
	/* PKCE: the code verifier, sealed (aad "pkce:" state); empty when
	 * the provider takes none. */
	unsigned char verifier[SEALED_MAX];
	size_t	 verifier_len;
};

int	db_oauth_state_put(MDB_txn *, struct db *,
	    const struct oauth_state_rec *);
/* Gets and deletes it (single use): 0, MDB_NOTFOUND, or an error. An
 * expired state is deleted and reported as ETIMEDOUT. */
int	db_oauth_state_take(MDB_txn *, struct db *, const char *state,
	    struct oauth_state_rec *);
/* 1 when the state is pending (a read: an unknown one costs no write). */
int	db_oauth_state_exists(MDB_txn *, struct db *, const char *state);
/* The PKCE code verifier of a state, sealed and unsealed. */
int	db_oauth_state_set_verifier(struct db *, struct oauth_state_rec *,
	    const char *verifier);
int	db_oauth_state_verifier(struct db *, const struct oauth_state_rec *,
	    char *out, size_t cap);

/*
 * Spool: the receiver's deliveries that wait for the verifier, keyed by
 * the time they are due (received, or retried) and their event id. What
 * the verifier cannot process is moved to the quarantine, where `hookpipe
 * spool` shows it and can drop it or put it back.
 */
#define SPOOL_KEY_LEN	(8 + UUID_LEN)
int	db_spool_put(MDB_txn *, struct db *, int64_t at, const char *event_id,
	    const void *msg, size_t n);
/*
 * The first entry after `after` (NULL: from the start) that is due at
 * `now`: 0 with its key and message (valid in txn), or MDB_NOTFOUND.
 */
int	db_spool_next(MDB_txn *, struct db *, const unsigned char *after,
	    int64_t now, unsigned char key[SPOOL_KEY_LEN], MDB_val *msg);
int	db_spool_del(MDB_txn *, struct db *, const unsigned char *key);
/* Due again at `at` (microseconds). */
int	db_spool_delay(MDB_txn *, struct db *, const unsigned char *key,
	    int64_t at);
typedef int (*db_spool_fn)(void *arg, const MDB_val *key, const void *msg,
	    size_t n);
int	db_spool_each(MDB_txn *, struct db *, db_spool_fn, void *);

struct quarantine_rec {
	char		 id[UUID_LEN + 1];
	int64_t		 spooled_at;
	int64_t		 quarantined_at;
	char		 reason[256];
	unsigned char	*message;	/* the spooled MSG_VERIFY, malloc'd */
	size_t		 message_len;
};
/* Move a spool entry to the quarantine. */
int	db_quarantine_put(MDB_txn *, struct db *, const unsigned char *key,
	    const char *reason);
int	db_quarantine_get(MDB_txn *, struct db *, const char *id,
	    struct quarantine_rec *);
int	db_quarantine_del(MDB_txn *, struct db *, const char *id);
/* Back into the spool, due now. */
int	db_quarantine_retry(MDB_txn *, struct db *, const char *id);
int	db_quarantine_each(MDB_txn *, struct db *, db_spool_fn, void *);
/* A quarantine record's bytes (the fuzz target's entry): 0 or -1. */
int	quarantine_decode(const void *, size_t, struct quarantine_rec *);
void	quarantine_free(struct quarantine_rec *);

/*
 * Retention: delete up to `limit` events received before `cutoff` (with
 * their runs, attempts and inputs; never an event still waiting to be
 * routed or a run still due) and dedupe entries older than DEDUPE_DAYS.
 * Returns how many records went, or -1 (an LMDB error code in *rc).
 */
int	db_prune(MDB_txn *, struct db *, int64_t cutoff, int limit, int *rc);

/*
 * Grow the map after MDB_MAP_FULL (no transaction may be open in this
 * process). 0 when it grew, -1 at the limit.
 */
int	db_grow(struct db *);

/*
 * Every page of the database a stage has read stays in its resident set
 * (the map is shared with the page cache), and the kernel maps the whole
 * page-cache folio around a page read: 64 KiB to megabytes, as LMDB's
 * writes made them. Drop those mappings on a timer so a stage's RSS
 * tracks its working set, not the file's size; long walks trim as they
 * go.
 * db_trim_every trims when the last trim is ms old: cheap enough to call
 * after every batch, which bounds the peak under load too.
 */
void	db_trim(struct db *);
void	db_trim_every(struct db *, int64_t ms);
#define DB_TRIM_MS	25

/*
 * Seal and unseal with the master keys. A sealed value names the key it
 * was sealed with; the records that hold one are re-sealed under the
 * current key when written (see db_rotate_key).
 */
int	db_seal(struct db *, const char *aad, const void *plain, size_t n,
	    unsigned char *out, size_t *outlen);
int	db_unseal(struct db *, const char *aad, const unsigned char *in,
	    size_t n, unsigned char *out, size_t cap);
/* A workflow's Dify app key as a string; length or -1. */
int	db_wf_app_key(struct db *, const struct wf_rec *, char *out,
	    size_t cap);
int	db_wf_set_app_key(struct db *, struct wf_rec *, const char *key);
/* Seal plain as the workflow's part `which`: 0, or -1. */
int	db_wf_seal(struct db *, struct wf_rec *, enum wf_sealed which,
	    const char *plain);
/* The part unsealed, malloc'd and NUL-terminated; NULL when it cannot be
 * (no such part, another key, a forged record). */
char   *db_wf_unseal(struct db *, const struct wf_rec *, enum wf_sealed which);

/*
 * Rotation: write a new key file (synced) before anything is sealed with
 * it, make it current and re-seal every secret in one transaction, then
 * delete the key files no stored value uses. Readers never delete a key,
 * so a crash or a concurrent command at any point loses nothing.
 * Returns how many secrets were re-sealed, or -1 with err.
 */
int	db_rotate_key(struct db *, char *err, size_t errlen);

const char *db_strerror(int rc);

#endif
