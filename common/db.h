/*
 * The state, by owner: four LMDB environments under $HOOKPIPE_HOME/db,
 * each written by one party and read by the others, each commit synced.
 *
 *	config	 written by the admin CLI (and the receiver: OAuth callbacks,
 *		 secrets a handshake hands over; in cluster mode the admin
 *		 stage: what the other hosts' CLIs changed, cluster_config.c)
 *		subs		sub id -> subscription (secrets sealed)
 *		subs_by_name	"ws/integration/name" -> sub id
 *		workflows	"ws/name" -> workflow
 *		triggers	"sub id/event" -> "ws/name" (dupsort)
 *		creds		"ws/name" -> credential (token sealed)
 *		oauth_clients	"ws/integration" -> OAuth client (secret sealed)
 *		oauth_states	state -> pending authorization (single use)
 *		audit		be64 time + 4 random bytes -> a console change
 *				(the admin stage; see db_console.c)
 *		sessions	SHA-256 of a console session id -> session
 *		logins		SHA-256 of a login link's token -> who (single
 *				use; written by `hookpipe console`)
 *		outbox		be64 seq -> an internal event waiting for the
 *				verifier (written by `hookpipe lifecycle`)
 *		lifecycle	"dead_cursor" (the last dead run reported),
 *				"count:NAME" -> be64 (the lifecycle's counters)
 *		meta		"schema", "key_current", "cluster_rev" (be64:
 *				the hookpipe_config revision applied)
 *	events	 written by the verifier alone, append-only
 *		log		be64 seq -> event (seq: the order stored; in
 *				cluster mode also the other hosts' events,
 *				copied from the stream, marked remote)
 *		ids		event id -> be64 seq
 *		dedupe.DAY	sub id + delivery id -> event id + be64 time, one
 *				table per day, dropped whole past the window
 *		sub_stats	sub id -> be64 event count, be64 last event time
 *		rejected	be64 time recorded + event id -> a delivery
 *				refused with 400 or 401: why, no payload (kept
 *				7 days, at most REJECTED_MAX)
 *		meta		"schema"
 *	runs	 created by the router, advanced by the dispatcher (and
 *		 `hookpipe replay`); enriched and cursors are written by
 *		 `hookpipe enrich`, the child the dispatcher runs before an
 *		 action (dispatcher/enrich.c)
 *		runs		run id -> run
 *		runs_by_time	be64 created_at + run id -> ""
 *		runs_by_event	event id -> run id (dupsort)
 *		due		be64 due time + run id -> ""
 *		attempts	run id + be64 attempt -> attempt
 *		run_inputs	run id -> JSON text (a trigger's --map result)
 *		tests		"ws/name" -> be64 listen_until a test consumed
 *		dead		be64 time + run id -> "" (runs that died, for
 *				the lifecycle's run.dead events)
 *		enriched	event id + "/" + name -> JSON text (an enrich
 *				call's result)
 *		cursors		sub id + "/" + name -> text (where an enrich
 *				call resumes: Airtable's payload cursor)
 *		meta		"schema", "cursor" (be64: the last event seq
 *				routed, the router's place in the log)
 *	spool	 the receiver's; the verifier takes entries off it
 *		spool		be64 due time + event id -> MSG_VERIFY message
 *		quarantine	event id -> what could not be processed, and why
 *
 * Keys are binary and sortable; values are msgpack maps (see db_*.c for
 * each layout). Every function takes a transaction of the environment
 * its part belongs to (db_begin(db, DB_EVENTS, …)); a transaction of
 * another one is refused with DB_EWRONGENV.
 */
#ifndef HP_DB_H
#define HP_DB_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "config.h"
#include "crypto.h"
#include "util.h"

#define DB_SCHEMA	2	/* 1: one environment for everything */
#define SECRET_MAX	512			/* plaintext bytes */
#define SEALED_MAX	(SECRET_MAX + SEAL_OVERHEAD)
#define EVENTS_MAX	4096			/* "a,b,c" or "*" */
#define TRIGGERS_MAX	32
#define OUTPUT_MAX	(64 * 1024)		/* kept per attempt */
#define DEDUPE_DAYS	(DEDUPE_WINDOW_S / 86400)

/*
 * One error space: 0; LMDB's codes (negative, MDB_KEYEXIST ...); errno
 * values (positive); and these. db_strerror() names every one.
 */
#define DB_ESEAL	(-31000)	/* a secret cannot be (un)sealed */
#define DB_EDAMAGED	(-31001)	/* a record that does not decode */
#define DB_EWRONGENV	(-31002)	/* a transaction of another part */
#define DB_ESCHEMA	(-31003)	/* a layout this build cannot read */
#define DB_ENOTOPEN	(-31004)	/* that part was not opened */
#define DB_EAMBIGUOUS	(-31005)	/* an id prefix of several ids */

const char *db_strerror(int rc);

enum db_part { DB_CONFIG, DB_EVENTS, DB_RUNS, DB_SPOOL, DB_NPARTS };
#define DB_ALL		((1 << DB_NPARTS) - 1)
#define DB_PART(p)	(1 << (p))

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
#define DEDUPE_TABLES	(DEDUPE_DAYS + 4)

struct db_env {
	MDB_env	*env;
	size_t	 map_max;			/* db_grow's limit */
	char	 dir[PATH_MAX];
};

struct db {
	struct db_env part[DB_NPARTS];
	/* config */
	MDB_dbi	 subs, subs_by_name, workflows, triggers;
	MDB_dbi	 creds, oauth_clients, oauth_states, cmeta;
	MDB_dbi	 audit, sessions, logins;
	MDB_dbi	 outbox, lifecycle;
	/* events */
	MDB_dbi	 log, ids, sub_stats, rejected, emeta;
	struct {
		uint32_t day;			/* days since the epoch */
		MDB_dbi	 dbi;
	}	 dedupe[DEDUPE_TABLES];		/* newest first */
	int	 ndedupe;
	int	 dedupe_cur;			/* today's, once prepared */
	/* runs */
	MDB_dbi	 runs, runs_by_time, runs_by_event, due, attempts, run_inputs;
	MDB_dbi	 tests, rmeta;
	MDB_dbi	 dead, enriched, cursors;
	/* spool */
	MDB_dbi	 spool, quarantine;
	/* Master keys by id, loaded as sealed values need them. */
	struct db_key {
		uint32_t	 id;
		unsigned char	 k[MASTER_KEY_LEN];
	}	 keys[DB_KEYS_MAX];
	int	 nkeys;
	uint32_t key_current;			/* the id to seal with */
	uint32_t key_warned;			/* a missing key, logged */
	uint32_t key_mismatch_warned;		/* one that did not open */
	char	 key_path[PATH_MAX];		/* key 1; key N: path.N */
	struct secret_cache *secrets;		/* db_sub_secret's, lazily */
};

/* A stage that never seals nor unseals (the router): no master key. */
#define DB_NOKEYS	0x8

/*
 * Open the parts a process uses (DB_PART(DB_CONFIG) | ...), migrating a
 * state directory of an older layout first. 0, or a code with err:
 * DB_ESCHEMA is a configuration error (a stage exits 100), anything else
 * may pass (exit 111).
 */
int	db_open(struct db *, const struct config *, int parts, int flags,
	    char *err, size_t errlen);
void	db_close(struct db *);
/* NULL on failure, with the LMDB message in the log. */
MDB_txn *db_begin(struct db *, enum db_part, int rdonly);
/* 0, or the LMDB error code (MDB_MAP_FULL: answer 503, retry later). */
int	db_commit(MDB_txn *);
/*
 * Grow a part's map after MDB_MAP_FULL (no transaction of it open in this
 * process). 0 when it grew, -1 at the limit.
 */
int	db_grow(struct db *, enum db_part);
/*
 * This process's commits of a part sync their pages but not the meta
 * page that makes them current (MDB_NOMETASYNC): one disk write less per
 * commit. Safe for the store (the pages a meta page names are on disk
 * before it is written), but an OS crash may undo this process's last
 * commit: only for what can be made again (the router's runs: the log
 * and the cursor make them again, under the same ids), or with db_sync()
 * after the commit; a later synced commit of the part, in any process,
 * makes it durable.
 */
void	db_sync_pages_only(struct db *, enum db_part);
/*
 * Waits for this process's commits of a part to be on disk, meta page
 * included: after db_sync_pages_only(), a commit and then db_sync() are
 * as durable as a synced commit, but the part's writer lock is held
 * through one disk write, not two; the other is waited for outside it,
 * while another process commits. 0, or errno.
 */
int	db_sync(struct db *, enum db_part);
/*
 * Drop this process's page-table entries of every map it has open: the
 * pages stay in the page cache, and a later read faults them in again.
 * For a quiet stage only (stage_pass): under load the faults cost more
 * than the mapped pages (12% of the throughput when it ran on a timer).
 */
void	db_unmap_read(struct db *);
/* Readers left behind by killed processes, in every part. */
void	db_reader_check(struct db *);

/* States with names. */
enum event_state { EV_STORED, EV_IGNORED, EV_ROUTED };
enum run_state { RUN_QUEUED, RUN_RUNNING, RUN_SUCCEEDED, RUN_FAILED,
	RUN_DEAD };
const char *event_state_name(enum event_state);
const char *run_state_name(enum run_state);
/* -1 for an unknown name. */
int	event_state_parse(const char *);
int	run_state_parse(const char *);

/*
 * What the lifecycle (admin/lifecycle.c) says of a subscription: in
 * order, creating (its webhook is being made), renewal failing before
 * the expiry (expiring), lapsed (expired), the provider's webhook gone or
 * changed (drifted).
 */
enum sub_state { SUB_OK, SUB_CREATING, SUB_EXPIRING, SUB_EXPIRED,
	SUB_DRIFTED };
const char *sub_state_name(enum sub_state);
int	sub_state_parse(const char *);		/* -1 for an unknown name */

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
	int64_t	 expires_at;			/* us; 0: it does not expire */
	int64_t	 expect_within;			/* s; 0: silence is fine */
	char	 remote[512];			/* JSON object: what the provider
						   said that later calls need */
	/* The lifecycle's. */
	enum sub_state state;
	char	 state_error[256];
	int64_t	 failures;			/* renewals failed in a row */
	int64_t	 retry_at;			/* us: the next renewal try */
	int64_t	 renewed_at;			/* us: created or renewed */
	int64_t	 checked_at;			/* us: the last drift check */
	int64_t	 silent_since;			/* us; 0: not silent */
};

struct trigger {
	char	 sub[UUID_LEN + 1];
	char	 event[256];
	char	*filter;			/* jq program or NULL */
	char	*map;
};

/* A sealed part of a workflow of any length (headers, URL, env). */
struct sealed_text {
	unsigned char	*p;
	size_t		 n;
};

enum wf_sealed { WF_SEALED_HEADERS, WF_SEALED_URL, WF_SEALED_ENV,
	WF_SEALED_N };

struct wf_rec {
	char	 workspace[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	char	 state[12];			/* draft, published */
	char	 action[8];			/* exec, http, dify, zmq */
	char	*target;			/* command, URL, base, endpoint */
	char	*headers;			/* http: "K: V\n" lines, masked */
	char	*env;				/* exec: "NAME[=****]\n" lines */
	char	*user;				/* exec: run as this user */
	/* The clear text of headers, URL userinfo and env values, sealed
	 * (aad "headers:ws/name" ...); what the fields above show masked. */
	struct sealed_text sealed[WF_SEALED_N];
	unsigned char app_key[SEALED_MAX];	/* dify; sealed, aad = ws/name */
	size_t	 app_key_len;
	int64_t	 timeout_s;
	int64_t	 retries;
	int64_t	 concurrency;
	int64_t	 listen_until;			/* workflow test, us; 0 = off */
	int64_t	 created_at;
	int	 disabled;			/* its triggers do not fire */
	int	 ntrig;
	struct trigger trig[TRIGGERS_MAX];
};

struct event_rec {
	uint64_t seq;				/* its place in the log */
	char	 id[UUID_LEN + 1];
	char	 sub[UUID_LEN + 1];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 type[256];
	char	 delivery_id[256];
	enum event_state state;			/* stored or ignored, as kept */
	int64_t	 received_at;
	char	*headers;			/* JSON object text */
	unsigned char *payload;
	size_t	 payload_len;
	int	 remote;	/* cluster mode: another host's, copied from
				 * the stream; routed there, not here */
};

struct run_rec {
	char	 id[UUID_LEN + 1];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 workflow[NAME_MAX_LEN + 1];
	char	 event_id[UUID_LEN + 1];
	uint64_t event_seq;			/* 0 when unknown */
	enum run_state state;
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

/* --- config: subscriptions ---------------------------------------- */

/* DB_EDAMAGED for a record that does not decode (logged). */
int	db_sub_get(MDB_txn *, struct db *, const char *id, struct sub_rec *);
/* By id or name; integration may be NULL. Ambiguous names: -2. */
int	db_sub_find(MDB_txn *, struct db *, const char *ws, const char *integ,
	    const char *name_or_id, struct sub_rec *);
int	db_sub_put(MDB_txn *, struct db *, const struct sub_rec *);
int	db_sub_del(MDB_txn *, struct db *, const struct sub_rec *);
int	db_sub_count(MDB_txn *, struct db *, const char *ws,
	    const char *integ);
typedef int (*db_sub_fn)(void *arg, const struct sub_rec *);
/* ws NULL: every workspace. */
int	db_sub_each(MDB_txn *, struct db *, const char *ws, db_sub_fn, void *);
/* Seal/unseal a subscription's secret (which: 1 or 2). */
int	db_sub_set_secret(struct db *, struct sub_rec *, int which,
	    const char *plain, size_t n);
int	db_sub_secret(struct db *, const struct sub_rec *, int which,
	    unsigned char *out, size_t cap);	/* length, or -1 */

/* --- config: workflows and triggers -------------------------------- */

int	db_wf_get(MDB_txn *, struct db *, const char *ws, const char *name,
	    struct wf_rec *);
/* Keeps the trigger index in step with the record. */
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
/* A workflow's Dify app key as a string; length or -1. */
int	db_wf_app_key(struct db *, const struct wf_rec *, char *out,
	    size_t cap);
int	db_wf_set_app_key(struct db *, struct wf_rec *, const char *key);
/* Seal a sealed part of a workflow from its clear text; 0 or -1. */
int	db_wf_seal(struct db *, struct wf_rec *, enum wf_sealed which,
	    const char *plain);
/* The clear text of a sealed part (malloc'd), or NULL. */
char   *db_wf_unseal(struct db *, const struct wf_rec *, enum wf_sealed which);

/* --- config: credentials, OAuth, master keys ------------------------ */

/*
 * Credentials: an API key or an OAuth token, sealed (aad = "cred:ws/name"),
 * with an OAuth token's refresh token (aad = "refresh:ws/name") and
 * expiry. A refresh the provider refused leaves it needing a new
 * authorization.
 */
enum cred_state { CRED_OK, CRED_NEEDS_REAUTH };
/* Microsoft's access tokens are JWTs of a few kilobytes. */
#define CRED_TOKEN_MAX	4096
#define CRED_SEALED_MAX	(CRED_TOKEN_MAX + SEAL_OVERHEAD)
const char *cred_state_name(enum cred_state);

struct cred_rec {
	char	 workspace[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	char	 kind[16];			/* api-key, oauth */
	char	 login[128];			/* the account it acts as */
	unsigned char token[CRED_SEALED_MAX];
	size_t	 token_len;
	int64_t	 created_at;
	unsigned char refresh[CRED_SEALED_MAX];
	size_t	 refresh_len;
	int64_t	 expires_at;			/* us: the token's; 0: never */
	int64_t	 refreshed_at;			/* us */
	enum cred_state state;
	char	 state_error[256];
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
/* The refresh token, the same way ("" sets none). */
int	db_cred_set_refresh(struct db *, struct cred_rec *, const char *token);
int	db_cred_refresh(struct db *, const struct cred_rec *, char *out,
	    size_t cap);

/*
 * The lifecycle's outbox: internal events (the `hookpipe` integration's)
 * kept until the verifier stored them. The payload is JSON text.
 */
struct outbox_rec {
	uint64_t seq;
	char	 sub[UUID_LEN + 1];		/* a `hookpipe` subscription */
	char	 type[64];
	char	 delivery_id[128];
	int64_t	 created_at;
	char	*payload;			/* malloc'd */
};
int	db_outbox_put(MDB_txn *, struct db *, struct outbox_rec *);
typedef int (*db_outbox_fn)(void *arg, struct outbox_rec *);
int	db_outbox_each(MDB_txn *, struct db *, db_outbox_fn, void *);
int	db_outbox_del(MDB_txn *, struct db *, uint64_t seq);
/* The lifecycle's counters ("renewal.ok" ...) and its places. */
int	db_life_count(MDB_txn *, struct db *, const char *name, int64_t add);
int64_t	db_life_counter(MDB_txn *, struct db *, const char *name);
typedef int (*db_counter_fn)(void *arg, const char *name, int64_t n);
int	db_life_counters(MDB_txn *, struct db *, db_counter_fn, void *);
int	db_life_get(MDB_txn *, struct db *, const char *key, void *out,
	    size_t cap, size_t *len);
int	db_life_put(MDB_txn *, struct db *, const char *key, const void *v,
	    size_t n);

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
 * Seal and unseal with the master keys. A sealed value names the key it
 * was sealed with; the records that hold one are re-sealed under the
 * current key when written (see db_rotate_key).
 */
int	db_seal(struct db *, const char *aad, const void *plain, size_t n,
	    unsigned char *out, size_t *outlen);
int	db_unseal(struct db *, const char *aad, const unsigned char *in,
	    size_t n, unsigned char *out, size_t cap);

/* The id of the key a sealed value needs when its file cannot be read
 * here (logged once), else 0. */
uint32_t db_key_missing(struct db *, const unsigned char *in, size_t n);
/* The file of master key id: key_path for key 1, key_path.ID after. */
void	db_key_path(const struct db *, uint32_t id, char *out, size_t len);

/*
 * Rotation: write a new key file (synced) before anything is sealed with
 * it, or take the prepared one (a readable key file newer than the
 * current key), make it current and re-seal every secret in one
 * transaction, then delete the older key files no stored value uses
 * (in a shared store, those older than the key it replaces).
 * Readers never delete a key, so a crash or a concurrent command at any
 * point loses nothing. w: how the transaction begins and commits (the
 * CLI's puts it into the cluster's configuration too), or NULL.
 * Returns how many secrets were re-sealed, or -1 with err.
 */
struct db_writer {
	MDB_txn	*(*begin)(void *arg);
	int	 (*commit)(MDB_txn *, void *arg);	/* 0, or it said why */
	void	*arg;
	/* Other hosts share the records (cluster mode): one that has not
	 * applied the rotation yet may still seal under the key it replaces,
	 * which is kept until the next rotation. */
	int	 shared;
};
int	db_rotate_key(struct db *, const struct db_writer *w, char *err,
	    size_t errlen);
/* The next key file, written and synced, sealing nothing: 1 made, 0 one
 * was prepared already (path is its file), -1 with err. */
int	db_prepare_key(struct db *, char *path, size_t pathlen, char *err,
	    size_t errlen);
/* After another host's records were stored in txn: seal with the newest
 * key they use, if this host has its file. */
void	db_keys_follow(MDB_txn *, struct db *);

/* --- config: the console's audit log, sessions, login links -------- */

struct audit_rec {
	int64_t	 at;				/* us */
	char	 who[64];			/* a login's name, or "token" */
	char	 from[64];			/* the client's address */
	char	 what[64];			/* "sub create", "replay" ... */
	char	 target[256];			/* the object's name or id */
	char	 detail[512];
	int	 status;			/* the HTTP status answered */
};

int	db_audit_put(MDB_txn *, struct db *, const struct audit_rec *);
typedef int (*db_audit_fn)(void *arg, const struct audit_rec *);
/* Newest first; stop when fn returns non-zero. */
int	db_audit_each(MDB_txn *, struct db *, db_audit_fn, void *);

struct session_rec {
	char	 who[64];
	char	 csrf[65];			/* hex */
	int64_t	 created_at;
	int64_t	 expires_at;
};

/* By the SHA-256 of the session id; ETIMEDOUT once expired. */
int	db_session_put(MDB_txn *, struct db *, const unsigned char id[32],
	    const struct session_rec *);
int	db_session_get(MDB_txn *, struct db *, const unsigned char id[32],
	    struct session_rec *);
int	db_session_del(MDB_txn *, struct db *, const unsigned char id[32]);
/* A login link's token, by its SHA-256; take deletes it (single use)
 * and says ETIMEDOUT when it had expired. */
int	db_login_put(MDB_txn *, struct db *, const unsigned char id[32],
	    const char *who, int64_t expires_at);
int	db_login_take(MDB_txn *, struct db *, const unsigned char id[32],
	    char *who, size_t wholen);
/* Expired sessions and links, and audit records before cutoff. */
int	db_console_prune(MDB_txn *, struct db *, int64_t audit_cutoff);

/* --- events: the log, dedupe, statistics ---------------------------- */

/*
 * Append events to the log (the verifier): e->seq is set. Keys grow by
 * one; nothing is ever rewritten.
 */
int	db_event_append(MDB_txn *, struct db *, struct event_rec *);
/* By event id (or, for db_event_get_seq, by place in the log). */
int	db_event_get(MDB_txn *, struct db *, const char *id, struct event_rec *);
int	db_event_get_seq(MDB_txn *, struct db *, uint64_t seq,
	    struct event_rec *);
void	event_free(struct event_rec *);
typedef int (*db_event_fn)(void *arg, struct event_rec *);
/* Newest first; stop when fn returns non-zero. */
int	db_event_each(MDB_txn *, struct db *, db_event_fn, void *);
/* Oldest first from after `seq`, up to limit; stop on non-zero. */
int	db_log_each(MDB_txn *, struct db *, uint64_t after, int limit,
	    db_event_fn, void *);
/* The last seq in the log, 0 when empty. */
uint64_t db_log_last(MDB_txn *, struct db *);
/* What `event show` says: routed once the router's cursor passed it. */
enum event_state event_state_at(const struct event_rec *, uint64_t cursor);

/*
 * Dedupe: 0 and the first event's id when seen within DEDUPE_DAYS.
 * db_dedupe_prepare makes today's table (in a transaction of its own)
 * before a batch's transaction puts into it.
 */
int	db_dedupe_prepare(struct db *, int64_t now);
int	db_dedupe_get(MDB_txn *, struct db *, const char *sub_id,
	    const char *delivery_id, char event_id[UUID_LEN + 1]);
int	db_dedupe_put(MDB_txn *, struct db *, const char *sub_id,
	    const char *delivery_id, const char *event_id, int64_t at);
/* Drop the day tables past the window, whole: how many went. */
int	db_dedupe_expire(MDB_txn *, struct db *, int64_t now);

int	db_sub_stats(MDB_txn *, struct db *, const char *id, int64_t *count,
	    int64_t *last_at);
/* Add n events at `at` (the verifier, once per subscription per batch). */
int	db_sub_stats_add(MDB_txn *, struct db *, const char *id, int64_t n,
	    int64_t at);

/*
 * Deliveries the verifier refused with 400 or 401, without their body:
 * what `hookpipe events --status rejected` lists. The verifier writes
 * them in the batch's transaction and prunes them (db_rejected_prune).
 */
#define REJECTED_KEEP_S	(7 * 86400)
#define REJECTED_MAX	100000
struct rejected_rec {
	char	 id[UUID_LEN + 1];		/* the receiver's event id */
	char	 sub[UUID_LEN + 1];
	char	 workspace[NAME_MAX_LEN + 1];
	char	 integration[NAME_MAX_LEN + 1];
	int	 status;			/* 400, 401 */
	char	 reason[256];
	int64_t	 received_at;
	int64_t	 recorded_at;			/* the key: in commit order */
	char	 method[8];
	char	 user_agent[128];
	char	 content_type[128];
};

int	db_rejected_put(MDB_txn *, struct db *, const struct rejected_rec *);
typedef int (*db_rejected_fn)(void *arg, const struct rejected_rec *);
/*
 * Newest first (from is ignored), or oldest first from those recorded at
 * `from` on; stop when fn returns non-zero. They are keyed by the time
 * the verifier recorded them, so a follower that goes on from the last
 * time it saw misses none.
 */
int	db_rejected_each(MDB_txn *, struct db *, int newest_first,
	    int64_t from, db_rejected_fn, void *);
/* Those received before cutoff, and the oldest past `keep` records, up
 * to limit: how many went, or -1 with the code in *rc. */
int	db_rejected_prune(MDB_txn *, struct db *, int64_t cutoff, size_t keep,
	    int limit, int *rc);

/* --- runs ----------------------------------------------------------- */

/*
 * The run id of (event, workflow): the same whenever the router routes
 * that event again, so that nothing is created twice; time-ordered by the
 * event's receipt.
 */
void	run_id_for(const struct event_rec *, const char *ws,
	    const char *workflow, char out[UUID_LEN + 1]);
int	db_run_get(MDB_txn *, struct db *, const char *id, struct run_rec *);
/*
 * Write a run; old is what it was (NULL for a new one: then MDB_KEYEXIST
 * when a run of that id exists). Keeps due, runs_by_time, runs_by_event.
 */
int	db_run_put(MDB_txn *, struct db *, const struct run_rec *,
	    const struct run_rec *old);
typedef int (*db_run_fn)(void *arg, const struct run_rec *);
int	db_run_each(MDB_txn *, struct db *, db_run_fn, void *); /* newest first */
int	db_run_each_for_event(MDB_txn *, struct db *, const char *event_id,
	    db_run_fn, void *);
/* Not ended: queued, running, or failed with a retry to come. */
int	run_is_due(const struct run_rec *);
/* Runs due at or before `now`, oldest first; stop when fn returns 1. */
typedef int (*db_id_fn)(void *arg, const char *id);
int	db_due_each(MDB_txn *, struct db *, int64_t now, db_id_fn, void *);
/* Run ids gathered (a db_id_fn: 1 when out of memory); free(id) after. */
struct run_ids {
	char	(*id)[UUID_LEN + 1];
	size_t	 n, cap;
};
int	run_ids_add(void *arg, const char *id);
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
/*
 * Runs that died, by the time they did (db_run_put keeps the index):
 * visited after `after` (a key of DEAD_KEY_LEN bytes, or NULL), oldest
 * first; fn gets each key and run id, and stops the walk with non-zero.
 */
#define DEAD_KEY_LEN	(8 + UUID_LEN)
typedef int (*db_dead_fn)(void *arg, const unsigned char *key,
	    const char *run_id);
int	db_dead_each(MDB_txn *, struct db *, const unsigned char *after,
	    db_dead_fn, void *);
/*
 * An enrich call's result for an event (JSON text, malloc'd, or NULL),
 * and where a subscription's enrich call resumes (Airtable's cursor).
 */
char   *db_enriched_get(MDB_txn *, struct db *, const char *event_id,
	    const char *name);
int	db_enriched_put(MDB_txn *, struct db *, const char *event_id,
	    const char *name, const char *json);
int	db_cursor_get_named(MDB_txn *, struct db *, const char *sub_id,
	    const char *name, char *out, size_t cap);
int	db_cursor_put_named(MDB_txn *, struct db *, const char *sub_id,
	    const char *name, const char *value);
/* The router's place in the event log. */
uint64_t db_cursor(MDB_txn *, struct db *);
int	db_cursor_put(MDB_txn *, struct db *, uint64_t seq);
/*
 * Cluster mode with HOOKPIPE_CLUSTER_TAKEOVER: until when (us since the
 * epoch) this host may start attempts; its router renews it while NATS
 * answers, and the dispatcher starts none past it (0: never renewed).
 */
int64_t	db_lease(MDB_txn *, struct db *);
int	db_lease_put(MDB_txn *, struct db *, int64_t until_us);
/* The listen_until of a `workflow test` the router already caught. */
int64_t	db_test_caught(MDB_txn *, struct db *, const char *ws,
	    const char *name);
int	db_test_catch(MDB_txn *, struct db *, const char *ws,
	    const char *name, int64_t listen_until);

/* --- ids by prefix ------------------------------------------------- */

/*
 * The event (DB_ID_EVENT, a transaction of the events part) or run
 * (DB_ID_RUN, of the runs part) whose id starts with prefix: at least
 * DB_ID_PREFIX_MIN hex digits, the dashes optional. 0 with the id in
 * out, MDB_NOTFOUND, or DB_EAMBIGUOUS (out holds the first of them).
 */
#define DB_ID_PREFIX_MIN 4
enum db_id_kind { DB_ID_EVENT, DB_ID_RUN };
int	db_id_complete(MDB_txn *, struct db *, enum db_id_kind,
	    const char *prefix, char out[UUID_LEN + 1]);

/* --- spool ---------------------------------------------------------- */

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
/* Bytes the spool's pages take. */
size_t	db_spool_bytes(MDB_txn *, struct db *);

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

/* --- retention ------------------------------------------------------ */

/*
 * Events received before cutoff, oldest first, up to limit, but never
 * past `routed` (the router's cursor) nor one with a run still due (read
 * in `runs`, a read transaction of the runs part, when not NULL): the
 * verifier, in its environment. Runs created before cutoff that are not
 * due, with their attempts and inputs: the router, in the runs
 * environment. Each returns how many records went, or -1 with the code
 * in *rc.
 */
int	db_events_prune(MDB_txn *, MDB_txn *runs, struct db *, int64_t cutoff,
	    uint64_t routed, int limit, int *rc);
int	db_runs_prune(MDB_txn *, struct db *, int64_t cutoff, int limit,
	    int *rc);

/* --- upgrade -------------------------------------------------------- */

/*
 * Move a state directory of layout 1 (one environment in db/) into the
 * four parts, losing nothing; idempotent and safe against a crash or a
 * concurrent process at any point. 0 when there was nothing to do or it
 * is done (with how many records in *moved), -1 with err.
 */
int	db_migrate(const struct config *, long *moved, char *err,
	    size_t errlen);

#endif
