/*
 * Retention (HOOKPIPE_RETENTION): each part is pruned by its owner. The
 * verifier deletes events from the start of the log, never past the
 * router's cursor (an event not yet routed stays, and so does everything
 * after it); the router deletes runs that are finished, with their
 * attempts and inputs. Both work a batch per transaction, so that their
 * own writers never wait long.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_impl.h"

struct events_prune {
	int64_t		 cutoff;
	uint64_t	 routed;
	uint64_t	 seq[1024];
	unsigned char	 id[1024][16];
	char		 ids[1024][UUID_LEN + 1];
	int		 n;
};

static int
collect_old(void *arg, struct event_rec *e)
{
	struct events_prune *p = arg;

	if (e->received_at >= p->cutoff || e->seq > p->routed || p->n == 1024)
		return 1;
	p->seq[p->n] = e->seq;
	str_copy(p->ids[p->n++], e->id, UUID_LEN + 1);
	return 0;
}

static int
due_cb(void *arg, const struct run_rec *r)
{
	if (run_is_due(r)) {
		*(int *)arg = 1;
		return 1;
	}
	return 0;
}

static int
has_due_run(MDB_txn *runs, struct db *db, const char *event_id)
{
	int due = 0;

	db_run_each_for_event(runs, db, event_id, due_cb, &due);
	return due;
}

int
db_events_prune(MDB_txn *txn, MDB_txn *runs, struct db *db, int64_t cutoff,
    uint64_t routed, int limit, int *rc)
{
	struct events_prune *p;
	MDB_val k;
	int i = 0;

	*rc = 0;
	if (mdb_txn_env(txn) != db->part[DB_EVENTS].env) {
		*rc = DB_EWRONGENV;
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*rc = ENOMEM;
		return -1;
	}
	p->cutoff = cutoff;
	p->routed = routed;
	/* The log is in the order stored, which is the order received but
	 * for spooled deliveries: stop at the first one too young. */
	if ((*rc = db_log_each(txn, db, 0, limit < 1024 ? limit : 1024,
	    collect_old, p)) != 0)
		goto out;
	for (i = 0; i < p->n && *rc == 0; i++) {
		unsigned char key[16];

		if (runs != NULL && has_due_run(runs, db, p->ids[i]))
			break;	/* its run still needs it: keep it, and after */
		if (event_id_key(p->ids[i], key) == 0)
			*rc = db_del(txn, db->ids, key, sizeof(key));
		if (*rc != 0)
			break;
		k.mv_data = &p->seq[i];
		k.mv_size = sizeof(p->seq[i]);
		if ((*rc = mdb_del(txn, db->log, &k, NULL)) == MDB_NOTFOUND)
			*rc = 0;
	}
out:
	free(p);
	return *rc != 0 ? -1 : i;
}

struct runs_prune {
	int64_t		 cutoff;
	char		 id[1024][UUID_LEN + 1];
	unsigned char	 key[1024][8 + UUID_LEN];
	int		 n, limit;
};

static int
collect_runs(void *arg, MDB_val *k, MDB_val *v)
{
	struct runs_prune *p = arg;

	(void)v;
	if (k->mv_size != 8 + UUID_LEN || p->n == p->limit || p->n == 1024 ||
	    (int64_t)get_be64(k->mv_data) >= p->cutoff)
		return 1;
	memcpy(p->key[p->n], k->mv_data, k->mv_size);
	memcpy(p->id[p->n], (char *)k->mv_data + 8, UUID_LEN);
	p->id[p->n++][UUID_LEN] = '\0';
	return 0;
}

/* A finished run and everything of it. */
static int
run_drop(MDB_txn *txn, struct db *db, const struct run_rec *r,
    const unsigned char *timekey)
{
	MDB_val key, val;
	MDB_cursor *c;
	int rc;

	key.mv_size = UUID_LEN;
	key.mv_data = (void *)r->event_id;
	val.mv_size = UUID_LEN;
	val.mv_data = (void *)r->id;
	if ((rc = mdb_del(txn, db->runs_by_event, &key, &val)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	if ((rc = db_del(txn, db->runs_by_time, timekey, 8 + UUID_LEN)) ||
	    (rc = db_del(txn, db->run_inputs, r->id, UUID_LEN)) ||
	    (rc = db_del(txn, db->runs, r->id, UUID_LEN)) ||
	    (rc = db_life_run_dropped(txn, db, r)))
		return rc;
	if ((rc = mdb_cursor_open(txn, db->attempts, &c)) != 0)
		return rc;
	key.mv_size = UUID_LEN;
	key.mv_data = (void *)r->id;
	while (mdb_cursor_get(c, &key, &val, MDB_SET_RANGE) == 0 &&
	    key.mv_size >= UUID_LEN && memcmp(key.mv_data, r->id,
	    UUID_LEN) == 0) {
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		key.mv_size = UUID_LEN;
		key.mv_data = (void *)r->id;
	}
	mdb_cursor_close(c);
	return rc;
}

int
db_runs_prune(MDB_txn *txn, struct db *db, int64_t cutoff, int limit,
    int *rc)
{
	struct runs_prune *p;
	struct run_rec r;
	int i, n = 0;

	*rc = 0;
	if (mdb_txn_env(txn) != db->part[DB_RUNS].env) {
		*rc = DB_EWRONGENV;
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*rc = ENOMEM;
		return -1;
	}
	p->cutoff = cutoff;
	p->limit = limit;
	if ((*rc = prefix_each(txn, db->runs_by_time, NULL, 0, collect_runs,
	    p)) != 0)
		goto out;
	for (i = 0; i < p->n && *rc == 0; i++) {
		if ((*rc = db_run_get(txn, db, p->id[i], &r)) != 0) {
			if (*rc == MDB_NOTFOUND || *rc == DB_EDAMAGED) {
				/* Only its time key is left: drop that. */
				*rc = db_del(txn, db->runs_by_time, p->key[i],
				    8 + UUID_LEN);
				n++;
			}
			continue;
		}
		if (run_is_due(&r))
			continue;	/* retried later: kept */
		if ((*rc = run_drop(txn, db, &r, p->key[i])) == 0)
			n++;
	}
out:
	free(p);
	return *rc != 0 ? -1 : n;
}
