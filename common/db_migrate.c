/*
 * The upgrade from layout 1 (one environment, db/data.mdb, written by
 * every stage) to the four parts. It runs in whichever process opens the
 * database first (or `hookpipe migrate`), under db/migrate.lock, and is
 * safe to cut off anywhere: the parts are built in db/migrate.tmp from
 * the old environment, which is only read; they move into place with
 * db/config last (its presence means done), and only then do the old
 * files move to db/v1.
 *
 * Records keep their encoding. Events get their place in the log: first
 * those already routed (or ignored), in the order received, then those
 * still waiting, so that the router's cursor starts between the two and
 * nothing is routed twice or skipped. Delivery ids go to the day tables
 * of the days they were seen, within the window.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_impl.h"

#define BATCH	5000	/* records per transaction of the new parts */

static const char *const parts[DB_NPARTS] = { "config", "events", "runs",
    "spool" };

struct mig {
	const struct config *cfg;
	MDB_env		*old;
	MDB_env		*part[DB_NPARTS];
	long		 moved;
	char		*err;
	size_t		 errlen;
};

static int
fail(struct mig *m, int rc, const char *what)
{
	snprintf(m->err, m->errlen, "cannot move the database to its new "
	    "layout (%s): %s", what, db_strerror(rc));
	return -1;
}

static int
rm_rf(const char *path)
{
	char sub[PATH_MAX + 256];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_rf(sub);
	}
	closedir(d);
	return rmdir(path);
}

static void
fsync_path(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
}

static int
env_new(struct mig *m, const char *dir, MDB_env **env)
{
	int rc;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return errno;
	if ((rc = mdb_env_create(env)) != 0)
		return rc;
	mdb_env_set_maxdbs(*env, 32);
	if ((rc = mdb_env_set_mapsize(*env, (size_t)m->cfg->map_size *
	    16)) != 0 || (rc = mdb_env_open(*env, dir, MDB_NOTLS, 0600)) != 0) {
		mdb_env_close(*env);
		*env = NULL;
	}
	return rc;
}

/* A write transaction that commits every BATCH records. */
struct writer {
	MDB_env	*env;
	MDB_txn	*txn;
	int	 n;
};

static int
w_begin(struct writer *w, MDB_env *env)
{
	w->env = env;
	w->n = 0;
	return mdb_txn_begin(env, NULL, 0, &w->txn);
}

static int
w_tick(struct writer *w)
{
	int rc;

	if (++w->n < BATCH)
		return 0;
	if ((rc = mdb_txn_commit(w->txn)) != 0) {
		w->txn = NULL;
		return rc;
	}
	w->n = 0;
	return mdb_txn_begin(w->env, NULL, 0, &w->txn);
}

static int
w_end(struct writer *w)
{
	int rc = mdb_txn_commit(w->txn);

	w->txn = NULL;
	return rc;
}

static void
w_abort(struct writer *w)
{
	if (w->txn != NULL)
		mdb_txn_abort(w->txn);
	w->txn = NULL;
}

/* Copy a whole table as it is (dupsort too); a missing one is empty. */
static int
copy_table(struct mig *m, MDB_txn *otx, const char *name, MDB_env *to,
    const char *newname, unsigned flags)
{
	struct writer w;
	MDB_dbi from, dst;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_dbi_open(otx, name, 0, &from)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = w_begin(&w, to)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(w.txn, newname, MDB_CREATE | flags, &dst)) ||
	    (rc = mdb_cursor_open(otx, from, &c)) != 0) {
		w_abort(&w);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int prc = mdb_put(w.txn, dst, &k, &v, (flags & MDB_DUPSORT) ?
		    MDB_NODUPDATA : 0);

		if (prc != 0 && prc != MDB_KEYEXIST) {
			rc = prc;
			break;
		}
		m->moved++;
		if ((rc = w_tick(&w)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		w_abort(&w);
		return rc;
	}
	return w_end(&w);
}

static int
copy_meta(MDB_txn *otx, const char *key, MDB_env *to)
{
	MDB_dbi from, dst;
	MDB_txn *txn;
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	if (mdb_dbi_open(otx, "meta", 0, &from) != 0 ||
	    mdb_get(otx, from, &k, &v) != 0)
		return 0;
	if ((rc = mdb_txn_begin(to, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &dst)) != 0 ||
	    (rc = mdb_put(txn, dst, &k, &v, 0)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/*
 * Events: the old table by time (events_by_time), the pending index says
 * which wait. pass 0 takes the routed and ignored, pass 1 the waiting.
 */
static int
copy_events(struct mig *m, MDB_txn *otx, uint64_t *cursor)
{
	MDB_dbi byt, evs, pend, log, ids;
	struct writer w;
	MDB_cursor *c;
	MDB_val k, v, pv;
	uint64_t seq = 0;
	int pass, rc;

	if (mdb_dbi_open(otx, "events_by_time", 0, &byt) != 0 ||
	    mdb_dbi_open(otx, "events", 0, &evs) != 0)
		return 0;
	if (mdb_dbi_open(otx, "pending", 0, &pend) != 0)
		pend = 0;
	if ((rc = w_begin(&w, m->part[DB_EVENTS])) != 0)
		return rc;
	if ((rc = mdb_dbi_open(w.txn, "log", MDB_CREATE | MDB_INTEGERKEY,
	    &log)) != 0 || (rc = mdb_dbi_open(w.txn, "ids", MDB_CREATE,
	    &ids)) != 0) {
		w_abort(&w);
		return rc;
	}
	for (pass = 0; pass < 2; pass++) {
		if ((rc = mdb_cursor_open(otx, byt, &c)) != 0)
			break;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			MDB_val idk, rec, nk, nv;
			unsigned char key16[16], sb[8];
			char id[UUID_LEN + 1];
			msgpack_unpacked u;
			struct mpw mw;
			const msgpack_object *o;
			int waiting, prc;
			uint32_t i;

			if (k.mv_size != 8 + UUID_LEN)
				continue;
			memcpy(id, (char *)k.mv_data + 8, UUID_LEN);
			id[UUID_LEN] = '\0';
			idk.mv_size = UUID_LEN;
			idk.mv_data = id;
			if (mdb_get(otx, evs, &idk, &rec) != 0 ||
			    event_id_key(id, key16) == -1)
				continue;
			if (mp_unpack(rec.mv_data, rec.mv_size, &u) == -1)
				continue;
			o = &u.data;
			waiting = pend != 0 && mdb_get(otx, pend, &idk, &pv) ==
			    0;
			if (waiting != pass || o->type != MSGPACK_OBJECT_MAP) {
				msgpack_unpacked_destroy(&u);
				continue;
			}
			/* The same map, but "status" is stored or ignored:
			 * routed is the cursor's to say now. */
			mpw_init(&mw);
			mpw_map(&mw, o->via.map.size);
			for (i = 0; i < o->via.map.size; i++) {
				const msgpack_object_kv *kv = &o->via.map.ptr[i];

				msgpack_pack_object(&mw.pk, kv->key);
				if (kv->key.type == MSGPACK_OBJECT_STR &&
				    kv->key.via.str.size == 6 &&
				    memcmp(kv->key.via.str.ptr, "status", 6) ==
				    0)
					mpw_str(&mw, kv->val.type ==
					    MSGPACK_OBJECT_STR &&
					    kv->val.via.str.size == 7 &&
					    memcmp(kv->val.via.str.ptr,
					    "ignored", 7) == 0 ? "ignored" :
					    "stored");
				else
					msgpack_pack_object(&mw.pk, kv->val);
			}
			msgpack_unpacked_destroy(&u);
			seq++;
			nk.mv_data = &seq;
			nk.mv_size = sizeof(seq);
			nv.mv_data = mw.sb.data;
			nv.mv_size = mw.sb.size;
			prc = mdb_put(w.txn, log, &nk, &nv, MDB_APPEND);
			mpw_free(&mw);
			put_be64(sb, seq);
			nk.mv_data = key16;
			nk.mv_size = 16;
			nv.mv_data = sb;
			nv.mv_size = 8;
			if (prc == 0)
				prc = mdb_put(w.txn, ids, &nk, &nv, 0);
			if (prc != 0) {
				rc = prc;
				break;
			}
			m->moved++;
			if ((rc = w_tick(&w)) != 0)
				break;
		}
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			break;
		rc = 0;
		if (pass == 0)
			*cursor = seq;
	}
	if (rc != 0) {
		w_abort(&w);
		return rc;
	}
	return w_end(&w);
}

/* Delivery ids still within the window, into their day's table. */
static int
copy_dedupe(struct mig *m, MDB_txn *otx)
{
	int64_t oldest = now_us() - (int64_t)(DEDUPE_DAYS + 1) * 86400 *
	    1000000;
	MDB_dbi from, dst;
	struct writer w;
	MDB_cursor *c;
	MDB_val k, v;
	char name[64];
	int rc;

	if (mdb_dbi_open(otx, "dedupe", 0, &from) != 0)
		return 0;
	if ((rc = mdb_cursor_open(otx, from, &c)) != 0)
		return rc;
	if ((rc = w_begin(&w, m->part[DB_EVENTS])) != 0) {
		mdb_cursor_close(c);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int64_t at;
		int prc;

		if (v.mv_size != UUID_LEN + 8)
			continue;
		at = (int64_t)get_be64((unsigned char *)v.mv_data + UUID_LEN);
		if (at < oldest)
			continue;
		snprintf(name, sizeof(name), "dedupe.%u",
		    (unsigned)(at / 1000000 / 86400));
		if ((prc = mdb_dbi_open(w.txn, name, MDB_CREATE, &dst)) != 0 ||
		    (prc = mdb_put(w.txn, dst, &k, &v, 0)) != 0) {
			rc = prc;
			break;
		}
		m->moved++;
		if ((rc = w_tick(&w)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		w_abort(&w);
		return rc;
	}
	return w_end(&w);
}

static int
put_cursor(MDB_env *env, uint64_t seq)
{
	unsigned char b[8];
	MDB_val k = { 6, "cursor" }, v = { 8, b };
	MDB_txn *txn;
	MDB_dbi meta;
	int rc;

	put_be64(b, seq);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta)) != 0 ||
	    (rc = mdb_put(txn, meta, &k, &v, 0)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

static int
build(struct mig *m, const char *tmp)
{
	static const struct {
		const char	*name;
		enum db_part	 part;
		unsigned	 flags;
	} tables[] = {
		{ "subs", DB_CONFIG, 0 },
		{ "subs_by_name", DB_CONFIG, 0 },
		{ "workflows", DB_CONFIG, 0 },
		{ "triggers", DB_CONFIG, MDB_DUPSORT },
		{ "creds", DB_CONFIG, 0 },
		{ "oauth_clients", DB_CONFIG, 0 },
		{ "oauth_states", DB_CONFIG, 0 },
		{ "sub_stats", DB_EVENTS, 0 },
		{ "runs", DB_RUNS, 0 },
		{ "runs_by_time", DB_RUNS, 0 },
		{ "runs_by_event", DB_RUNS, MDB_DUPSORT },
		{ "due", DB_RUNS, 0 },
		{ "attempts", DB_RUNS, 0 },
		{ "run_inputs", DB_RUNS, 0 },
		{ "spool", DB_SPOOL, 0 },
	};
	char dir[PATH_MAX + 64];
	MDB_txn *otx;
	uint64_t cursor = 0;
	size_t i;
	int p, rc;

	if ((rc = mdb_txn_begin(m->old, NULL, MDB_RDONLY, &otx)) != 0)
		return fail(m, rc, "reading the old database");
	for (p = 0; p < DB_NPARTS; p++) {
		snprintf(dir, sizeof(dir), "%s/%s", tmp, parts[p]);
		if ((rc = env_new(m, dir, &m->part[p])) != 0) {
			mdb_txn_abort(otx);
			return fail(m, rc, dir);
		}
	}
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if ((rc = copy_table(m, otx, tables[i].name,
		    m->part[tables[i].part], tables[i].name,
		    tables[i].flags)) != 0) {
			mdb_txn_abort(otx);
			return fail(m, rc, tables[i].name);
		}
	if ((rc = copy_meta(otx, "key_current", m->part[DB_CONFIG])) != 0 ||
	    (rc = copy_events(m, otx, &cursor)) != 0 ||
	    (rc = copy_dedupe(m, otx)) != 0 ||
	    (rc = put_cursor(m->part[DB_RUNS], cursor)) != 0) {
		mdb_txn_abort(otx);
		return fail(m, rc, "events");
	}
	mdb_txn_abort(otx);
	for (p = 0; p < DB_NPARTS; p++) {
		mdb_env_sync(m->part[p], 1);
		mdb_env_close(m->part[p]);
		m->part[p] = NULL;
	}
	return 0;
}

static int
old_schema_ok(struct mig *m)
{
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "schema" }, v;
	int rc, ok = 0;

	if ((rc = mdb_txn_begin(m->old, NULL, MDB_RDONLY, &txn)) != 0)
		return fail(m, rc, "reading the old database") + 1;
	if (mdb_dbi_open(txn, "meta", 0, &meta) == 0 &&
	    mdb_get(txn, meta, &k, &v) == 0 && v.mv_size == 1 &&
	    *(char *)v.mv_data == '1')
		ok = 1;
	mdb_txn_abort(txn);
	if (!ok)
		snprintf(m->err, m->errlen, "%s/data.mdb is not a hookpipe "
		    "database this build can move (schema 1 expected)",
		    m->cfg->db_dir);
	return ok;
}

int
db_migrate(const struct config *cfg, long *moved, char *err, size_t errlen)
{
	char old[PATH_MAX + 32], path[PATH_MAX + 64], tmp[PATH_MAX + 32];
	char dst[PATH_MAX + 64];
	struct mig m;
	int lfd, p, rc = -1;

	*moved = 0;
	snprintf(old, sizeof(old), "%s/data.mdb", cfg->db_dir);
	if (access(old, F_OK) == -1)
		return 0;	/* a new layout, or a new home */
	snprintf(path, sizeof(path), "%s/migrate.lock", cfg->db_dir);
	if ((lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(lfd, LOCK_EX) == -1) {
		snprintf(err, errlen, "cannot lock %s: %s", path,
		    strerror(errno));
		if (lfd != -1)
			close(lfd);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	m.err = err;
	m.errlen = errlen;
	if (access(old, F_OK) == -1) {
		rc = 0;		/* another process did it meanwhile */
		goto out;
	}
	snprintf(path, sizeof(path), "%s/config/data.mdb", cfg->db_dir);
	if (access(path, F_OK) == -1) {
		snprintf(tmp, sizeof(tmp), "%s/migrate.tmp", cfg->db_dir);
		rm_rf(tmp);
		for (p = 0; p < DB_NPARTS; p++) {
			snprintf(dst, sizeof(dst), "%s/%s", cfg->db_dir,
			    parts[p]);
			rm_rf(dst);	/* what a cut-off run left */
		}
		if (mkdir(tmp, 0700) == -1) {
			snprintf(err, errlen, "cannot create %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		if ((rc = mdb_env_create(&m.old)) != 0 ||
		    (mdb_env_set_maxdbs(m.old, 32), rc = mdb_env_open(m.old,
		    cfg->db_dir, MDB_NOTLS | MDB_RDONLY, 0600)) != 0) {
			rc = fail(&m, rc, "opening the old database");
			goto out;
		}
		mdb_env_set_mapsize(m.old, 0);
		if (!old_schema_ok(&m) || build(&m, tmp) == -1) {
			rc = -1;
			goto out;
		}
		/* Config last: its presence says the parts are whole. */
		for (p = DB_NPARTS - 1; p >= 0; p--) {
			snprintf(path, sizeof(path), "%s/%s", tmp, parts[p]);
			snprintf(dst, sizeof(dst), "%s/%s", cfg->db_dir,
			    parts[p]);
			if (rename(path, dst) == -1) {
				snprintf(err, errlen, "cannot move %s to %s: %s",
				    path, dst, strerror(errno));
				rc = -1;
				goto out;
			}
		}
		fsync_path(cfg->db_dir);
		rmdir(tmp);
	}
	/* The old files, kept aside until the operator deletes them. */
	snprintf(dst, sizeof(dst), "%s/v1", cfg->db_dir);
	if (mkdir(dst, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dst,
		    strerror(errno));
		rc = -1;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/lock.mdb", cfg->db_dir);
	snprintf(dst, sizeof(dst), "%s/v1/lock.mdb", cfg->db_dir);
	rename(path, dst);
	snprintf(dst, sizeof(dst), "%s/v1/data.mdb", cfg->db_dir);
	if (rename(old, dst) == -1) {
		snprintf(err, errlen, "cannot move %s to %s: %s", old, dst,
		    strerror(errno));
		rc = -1;
		goto out;
	}
	fsync_path(cfg->db_dir);
	*moved = m.moved ? m.moved : 1;
	rc = 0;
out:
	for (p = 0; p < DB_NPARTS; p++)
		if (m.part[p] != NULL)
			mdb_env_close(m.part[p]);
	if (m.old != NULL)
		mdb_env_close(m.old);
	close(lfd);
	return rc;
}
