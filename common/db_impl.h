/*
 * What the parts of the database layer (db_*.c) share; not for callers.
 */
#ifndef HP_DB_IMPL_H
#define HP_DB_IMPL_H

#include "db.h"
#include "log.h"
#include "mp.h"

#define KEY_MAX	511	/* LMDB's default key limit */

/* DB_EWRONGENV unless txn belongs to that part of db. */
#define DB_CHECK(txn, db, p) do {					\
	if ((db)->part[p].env == NULL)					\
		return DB_ENOTOPEN;					\
	if (mdb_txn_env(txn) != (db)->part[p].env)			\
		return DB_EWRONGENV;					\
} while (0)

/* Put a finished mpw as the value of key (and free it). */
int	put_mp(MDB_txn *, MDB_dbi, const void *k, size_t kn, struct mpw *);
/* Get and unpack key's value; DB_EDAMAGED for a damaged record. */
int	get_mp(MDB_txn *, MDB_dbi, const void *k, size_t kn,
	    msgpack_unpacked *, const char *what);
void	get_sealed(const msgpack_object *, const char *key, unsigned char *out,
	    size_t *len);

/* Visit every key of dbi that starts with prefix (stop on non-zero). */
typedef int (*prefix_fn)(void *arg, MDB_val *k, MDB_val *v);
int	prefix_each(MDB_txn *, MDB_dbi, const void *prefix, size_t pn,
	    prefix_fn, void *);

/* "a/b" keys of names. */
int	name2_key(char *out, size_t len, const char *a, const char *b);

/* Open (or create) a named database in txn. */
int	dbi_open(MDB_txn *, const char *name, unsigned flags, MDB_dbi *);

/* Sealing helpers (db_keys.c). */
int	seal_str(struct db *, const char *aad, const char *plain,
	    unsigned char *out, size_t *outlen);
int	unseal_str(struct db *, const char *aad, const unsigned char *in,
	    size_t n, char *out, size_t cap);
int	seal_current(MDB_txn *, struct db *, const char *aad,
	    unsigned char *val, size_t *len);
int	seal_current_text(MDB_txn *, struct db *, const char *aad,
	    const struct sealed_text *in, struct sealed_text *out);
void	wf_sealed_aad(const struct wf_rec *, enum wf_sealed, char *aad,
	    size_t len);
/* The master keys at open (config's meta in txn). */
int	keys_open(struct db *, MDB_txn *, char *err, size_t errlen);

/* The parts' own set-up, in a write transaction of their environment. */
int	db_config_open(struct db *, MDB_txn *);
int	db_console_open(struct db *, MDB_txn *);
int	db_events_open(struct db *, MDB_txn *);
int	db_runs_open(struct db *, MDB_txn *);
int	db_spool_open(struct db *, MDB_txn *);

/* An event id as the events part keys it (16 bytes); -1 if not one. */
int	event_id_key(const char *id, unsigned char out[16]);

/* A pruned run's entries in the lifecycle's tables (db_life.c). */
int	db_life_run_dropped(MDB_txn *, struct db *, const struct run_rec *);

#endif
