/*
 * Cluster mode: the configuration shared through the hookpipe_config
 * bucket. One key, "snapshot", holds the shared tables of the config
 * part as they are stored (sealed values stay sealed: the hosts share
 * the master key file), as JSON:
 *
 *	{ "subs": { HEX(key): HEX(value), ... }, ...,
 *	  "triggers": { HEX(key) "." HEX(value): "", ... } }
 *
 * (triggers is dupsort: a key has several values.) The CLI, before it
 * commits a change, puts it (the difference between the tables before
 * and after, record by record) onto the latest snapshot with the
 * revision it read, and reads again on a conflict: two hosts changing
 * different records at once both keep their change; the same record
 * changed on two hosts at once ends as the later put made it, on every
 * host. The admin stage of each host applies a newer snapshot to its
 * config part, whole, and keeps the revision in meta "cluster_rev".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "cluster.h"
#include "crypto.h"
#include "db.h"
#include "util.h"

#define SNAP_KEY	"snapshot"
#define REV_KEY		"cluster_rev"
#define PUT_TRIES	20
#define VERIFY_AFTER_US	300000	/* a put read back, after a rival */

static const char *const shared[] = {
	"subs", "subs_by_name", "workflows", "triggers", "creds",
	"oauth_clients", NULL
};

static MDB_dbi
table(struct db *db, int i)
{
	MDB_dbi t[] = { db->subs, db->subs_by_name, db->workflows,
	    db->triggers, db->creds, db->oauth_clients };

	return t[i];
}

static char *
hex(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s != NULL)
		hex_encode(p, n, s);
	return s;
}

json_t *
ccfg_dump(MDB_txn *txn, struct db *db)
{
	json_t *snap = json_object(), *t;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned flags;
	int i, rc;

	if (snap == NULL)
		return NULL;
	for (i = 0; shared[i] != NULL; i++) {
		if ((t = json_object()) == NULL ||
		    json_object_set_new(snap, shared[i], t) == -1 ||
		    mdb_dbi_flags(txn, table(db, i), &flags) != 0 ||
		    mdb_cursor_open(txn, table(db, i), &cur) != 0)
			goto fail;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			char *hk = hex(k.mv_data, k.mv_size);
			char *hv = hex(v.mv_data, v.mv_size);
			char *dk = NULL;

			if (hk != NULL && hv != NULL && (flags & MDB_DUPSORT) &&
			    (dk = malloc(strlen(hk) + strlen(hv) + 2)) != NULL)
				sprintf(dk, "%s.%s", hk, hv);
			if (hk == NULL || hv == NULL || ((flags & MDB_DUPSORT) ?
			    dk == NULL || json_object_set_new(t, dk,
			    json_string("")) == -1 :
			    json_object_set_new(t, hk, json_string(hv)) == -1)) {
				free(hk);
				free(hv);
				free(dk);
				mdb_cursor_close(cur);
				goto fail;
			}
			free(hk);
			free(hv);
			free(dk);
		}
		mdb_cursor_close(cur);
	}
	return snap;
fail:
	json_decref(snap);
	return NULL;
}

json_t *
ccfg_diff(json_t *before, json_t *after)
{
	json_t *d = json_object(), *tb, *ta, *td, *v;
	const char *name, *k;
	int n = 0;

	if (d == NULL)
		return NULL;
	json_object_foreach(after, name, ta) {
		tb = json_object_get(before, name);
		td = json_object();
		json_object_foreach(ta, k, v)
			if (!json_equal(v, json_object_get(tb, k))) {
				json_object_set(td, k, v);
				n++;
			}
		json_object_foreach(tb, k, v)
			if (json_object_get(ta, k) == NULL) {
				json_object_set_new(td, k, json_null());
				n++;
			}
		json_object_set_new(d, name, td);
	}
	if (n == 0) {
		json_decref(d);
		return json_object();
	}
	return d;
}

int
ccfg_empty(json_t *diff)
{
	const char *name;
	json_t *t;

	json_object_foreach(diff, name, t)
		if (json_object_size(t) > 0)
			return 0;
	return 1;
}

static void
patch(json_t *snap, json_t *diff)
{
	const char *name, *k;
	json_t *td, *t, *v;

	json_object_foreach(diff, name, td) {
		if ((t = json_object_get(snap, name)) == NULL) {
			t = json_object();
			json_object_set_new(snap, name, t);
		}
		json_object_foreach(td, k, v)
			if (json_is_null(v))
				json_object_del(t, k);
			else
				json_object_set(t, k, v);
	}
}

/* Whether snap holds every record of diff as diff has it. */
static int
holds(json_t *snap, json_t *diff)
{
	const char *name, *k;
	json_t *td, *t, *v;

	json_object_foreach(diff, name, td) {
		t = json_object_get(snap, name);
		json_object_foreach(td, k, v)
			if (json_is_null(v) ? json_object_get(t, k) != NULL :
			    !json_equal(v, json_object_get(t, k)))
				return 0;
	}
	return 1;
}

/*
 * The latest snapshot and its revision (*snap NULL and 0 when there is
 * none yet): NATS_OK, or the status of the failed read.
 */
static natsStatus
latest(kvStore *kv, json_t **snap, uint64_t *rev)
{
	kvEntry *e = NULL;
	natsStatus s;

	*snap = NULL;
	*rev = 0;
	if ((s = kvStore_Get(&e, kv, SNAP_KEY)) == NATS_NOT_FOUND)
		return NATS_OK;
	if (s != NATS_OK)
		return s;
	*rev = kvEntry_Revision(e);
	*snap = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0,
	    NULL);
	kvEntry_Destroy(e);
	return *snap != NULL ? NATS_OK : NATS_ERR;
}

static int
put(struct cluster *c, kvStore *kv, json_t *diff, uint64_t *rev,
    json_t **put_snap, char *err, size_t errlen)
{
	kvEntry *e = NULL;
	json_t *snap;
	char *text;
	uint64_t last, nrev = 0;
	natsStatus s;
	int try;

	(void)c;
	srandom((unsigned)getpid() ^ (unsigned)now_us());
	for (try = 0; try < PUT_TRIES; try++) {
		last = 0;
		s = kvStore_Get(&e, kv, SNAP_KEY);
		if (s == NATS_OK) {
			last = kvEntry_Revision(e);
			snap = json_loadb(kvEntry_Value(e),
			    (size_t)kvEntry_ValueLen(e), 0, NULL);
			kvEntry_Destroy(e);
			if (snap == NULL) {
				snprintf(err, errlen, "bucket " CLUSTER_CONFIG
				    ": the snapshot is not JSON");
				return -1;
			}
		} else if (s == NATS_NOT_FOUND)
			snap = json_object();
		else {
			snprintf(err, errlen, "bucket " CLUSTER_CONFIG ": %s",
			    natsStatus_GetText(s));
			return -1;
		}
		patch(snap, diff);
		text = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS);
		if (text == NULL) {
			json_decref(snap);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (last == 0)
			s = kvStore_Create(&nrev, kv, SNAP_KEY, text,
			    (int)strlen(text));
		else
			s = kvStore_Update(&nrev, kv, SNAP_KEY, text,
			    (int)strlen(text), last);
		free(text);
		if (s != NATS_OK)
			json_decref(snap);
		if (s == NATS_OK) {
			json_t *now;
			uint64_t nowrev;

			/*
			 * nats-server before 2.9.21 checks the expected
			 * revision before replication only (its issue 4320):
			 * two puts naming the same revision may both be
			 * taken, the later one without this change. Read
			 * back once the other could have landed; when the
			 * change is not in the latest snapshot, put it
			 * again onto that one.
			 */
			usleep(VERIFY_AFTER_US);
			if (latest(kv, &now, &nowrev) == NATS_OK &&
			    now != NULL && !holds(now, diff)) {
				json_decref(now);
				json_decref(snap);
				continue;
			}
			json_decref(now);
			*rev = nrev;
			*put_snap = snap;
			return 0;
		}
		/* Another host's put came first ("wrong last sequence"):
		 * read it and put this change onto it. */
		if (s != NATS_ERR) {
			snprintf(err, errlen, "bucket " CLUSTER_CONFIG ": %s",
			    natsStatus_GetText(s));
			return -1;
		}
		/* Apart: hosts that met once would meet again. */
		usleep((unsigned)(5000 + random() % (20000 * (try + 1))));
	}
	snprintf(err, errlen, "bucket " CLUSTER_CONFIG ": %d conflicting "
	    "puts in a row", PUT_TRIES);
	return -1;
}

int
ccfg_publish(struct cluster *c, json_t *diff, uint64_t *rev, json_t **snap,
    char *err, size_t errlen)
{
	kvStore *kv = NULL;
	natsStatus s;
	int rc;

	*snap = NULL;
	if ((s = js_KeyValue(&kv, c->js, CLUSTER_CONFIG)) != NATS_OK) {
		snprintf(err, errlen, "bucket " CLUSTER_CONFIG " (made by "
		    "hookpipe cluster init): %s", natsStatus_GetText(s));
		return -1;
	}
	rc = put(c, kv, diff, rev, snap, err, errlen);
	kvStore_Destroy(kv);
	return rc;
}

int
ccfg_latest(struct cluster *c, json_t **snap, uint64_t *rev, char *err,
    size_t errlen)
{
	kvStore *kv = NULL;
	kvEntry *e = NULL;
	natsStatus s;

	*rev = 0;
	if (snap != NULL)
		*snap = NULL;
	if ((s = js_KeyValue(&kv, c->js, CLUSTER_CONFIG)) != NATS_OK) {
		snprintf(err, errlen, "bucket " CLUSTER_CONFIG " (made by "
		    "hookpipe cluster init): %s", natsStatus_GetText(s));
		return -1;
	}
	s = kvStore_Get(&e, kv, SNAP_KEY);
	kvStore_Destroy(kv);
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK) {
		snprintf(err, errlen, "bucket " CLUSTER_CONFIG ": %s",
		    natsStatus_GetText(s));
		return -1;
	}
	*rev = kvEntry_Revision(e);
	if (snap != NULL && (*snap = json_loadb(kvEntry_Value(e),
	    (size_t)kvEntry_ValueLen(e), 0, NULL)) == NULL) {
		kvEntry_Destroy(e);
		snprintf(err, errlen, "bucket " CLUSTER_CONFIG ": the snapshot "
		    "is not JSON");
		return -1;
	}
	kvEntry_Destroy(e);
	return 0;
}

uint64_t
ccfg_applied(MDB_txn *txn, struct db *db)
{
	MDB_val k = { strlen(REV_KEY), (void *)REV_KEY }, v;

	if (mdb_get(txn, db->cmeta, &k, &v) != 0 || v.mv_size != 8)
		return 0;
	return get_be64(v.mv_data);
}

static int
unhex(const char *s, size_t n, MDB_val *out, unsigned char **buf)
{
	int len;

	if ((*buf = malloc(n / 2 + 1)) == NULL ||
	    (len = hex_decode(s, n, *buf, n / 2 + 1)) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	out->mv_data = *buf;
	out->mv_size = (size_t)len;
	return 0;
}

int
ccfg_apply(MDB_txn *txn, struct db *db, json_t *snap, uint64_t rev)
{
	MDB_val k, v, rk = { strlen(REV_KEY), (void *)REV_KEY }, rv;
	unsigned char *kb, *vb, be[8];
	const char *key, *dot;
	json_t *t, *val;
	unsigned flags;
	int i, rc;

	/* Checked under the writer lock: a host never goes back to an
	 * older revision than the one it holds (a CLI of this host may
	 * have committed a newer one since the caller read this). */
	if (rev <= ccfg_applied(txn, db))
		return CCFG_OLDER;
	for (i = 0; shared[i] != NULL; i++) {
		if ((t = json_object_get(snap, shared[i])) == NULL)
			continue;
		if ((rc = mdb_dbi_flags(txn, table(db, i), &flags)) != 0 ||
		    (rc = mdb_drop(txn, table(db, i), 0)) != 0)
			return rc;
		json_object_foreach(t, key, val) {
			const char *hv = json_string_value(val);

			if (flags & MDB_DUPSORT) {
				if ((dot = strchr(key, '.')) == NULL)
					return DB_EDAMAGED;
				hv = dot + 1;
			} else
				dot = key + strlen(key);
			if (hv == NULL)
				return DB_EDAMAGED;
			if (unhex(key, (size_t)(dot - key), &k, &kb) == -1)
				return DB_EDAMAGED;
			if (unhex(hv, strlen(hv), &v, &vb) == -1) {
				free(kb);
				return DB_EDAMAGED;
			}
			rc = mdb_put(txn, table(db, i), &k, &v, 0);
			free(kb);
			free(vb);
			if (rc != 0)
				return rc;
		}
	}
	/* A rotation made on another host: seal with its key from now. */
	db_keys_follow(txn, db);
	put_be64(be, rev);
	rv.mv_data = be;
	rv.mv_size = 8;
	return mdb_put(txn, db->cmeta, &rk, &rv, 0);
}

/*
 * The watch: a thread waits on the bucket's watcher (the library's
 * ordered consumer of the snapshot's key) and writes to an eventfd when
 * something comes, so that the admin stage reads the snapshot at once,
 * not at its next look.
 */
#define WATCH_WAIT_MS	1000	/* the thread looks at its stop this often */

struct ccfg_watch {
	kvStore		*kv;
	kvWatcher	*w;
	pthread_t	 thread;
	int		 fd;
	int		 stop;		/* atomic */
	int		 ended;		/* atomic */
};

static void *
watch_main(void *arg)
{
	struct ccfg_watch *cw = arg;
	kvEntry *e;
	natsStatus s;

	while (!__atomic_load_n(&cw->stop, __ATOMIC_ACQUIRE)) {
		e = NULL;
		s = kvWatcher_Next(&e, cw->w, WATCH_WAIT_MS);
		kvEntry_Destroy(e);
		if (s == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			__atomic_store_n(&cw->ended, 1, __ATOMIC_RELEASE);
			wake_post(cw->fd);
			break;
		}
		/* A put, or the end of the initial values (no entry). */
		wake_post(cw->fd);
	}
	return NULL;
}

int
ccfg_watch(struct cluster *c, struct ccfg_watch **out, char *err,
    size_t errlen)
{
	struct ccfg_watch *cw;
	kvWatchOptions o;
	natsStatus s;

	*out = NULL;
	if ((cw = calloc(1, sizeof(*cw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((cw->fd = wake_open()) == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(cw);
		return -1;
	}
	kvWatchOptions_Init(&o);
	o.MetaOnly = true;
	if ((s = js_KeyValue(&cw->kv, c->js, CLUSTER_CONFIG)) != NATS_OK ||
	    (s = kvStore_Watch(&cw->w, cw->kv, SNAP_KEY, &o)) != NATS_OK) {
		snprintf(err, errlen, "bucket " CLUSTER_CONFIG ": watch: %s",
		    natsStatus_GetText(s));
		goto fail;
	}
	if ((errno = pthread_create(&cw->thread, NULL, watch_main, cw)) !=
	    0) {
		snprintf(err, errlen, "the configuration watch's thread: %s",
		    strerror(errno));
		goto fail;
	}
	*out = cw;
	return cw->fd;
fail:
	if (cw->w != NULL) {
		kvWatcher_Stop(cw->w);
		kvWatcher_Destroy(cw->w);
	}
	kvStore_Destroy(cw->kv);
	close(cw->fd);
	free(cw);
	return -1;
}

int
ccfg_watch_fd(struct ccfg_watch *cw)
{
	return cw->fd;
}

int
ccfg_watch_seen(struct ccfg_watch *cw)
{
	int got = wake_take(cw->fd);

	if (__atomic_load_n(&cw->ended, __ATOMIC_ACQUIRE))
		return -1;
	return got;
}

void
ccfg_unwatch(struct ccfg_watch **p)
{
	struct ccfg_watch *cw = *p;

	if (cw == NULL)
		return;
	__atomic_store_n(&cw->stop, 1, __ATOMIC_RELEASE);
	/* Its wait ends with the watcher (or within WATCH_WAIT_MS). */
	kvWatcher_Stop(cw->w);
	pthread_join(cw->thread, NULL);
	kvWatcher_Destroy(cw->w);
	kvStore_Destroy(cw->kv);
	close(cw->fd);
	free(cw);
	*p = NULL;
}
