/*
 * The environments and their transactions, the generic record helpers,
 * the error space and the names of states. One LMDB environment per part
 * (db/config, db/events, db/runs, db/spool), each opened only by the
 * processes that use it, each commit synced: nothing acknowledged waits
 * on another process's unsynced write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "db_impl.h"

static const char *const part_names[DB_NPARTS] = {
	"config", "events", "runs", "spool"
};

const char *
db_strerror(int rc)
{
	switch (rc) {
	case DB_ESEAL:
		return "cannot seal or unseal a secret (is a master key file "
		    "missing?)";
	case DB_EDAMAGED:
		return "a damaged record";
	case DB_EWRONGENV:
		return "a transaction of another part of the database";
	case DB_ESCHEMA:
		return "a database layout this build cannot read";
	case DB_ENOTOPEN:
		return "that part of the database is not open here";
	case DB_EAMBIGUOUS:
		return "the prefix names more than one id";
	case -1:
		return "a damaged record";
	default:
		return mdb_strerror(rc);
	}
}

static const char *const event_states[] = { "stored", "ignored", "routed" };
static const char *const run_states[] = { "queued", "running", "succeeded",
    "failed", "dead" };

const char *
event_state_name(enum event_state s)
{
	return (unsigned)s < 3 ? event_states[s] : "unknown";
}

const char *
run_state_name(enum run_state s)
{
	return (unsigned)s < 5 ? run_states[s] : "unknown";
}

int
event_state_parse(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(event_states[i], s) == 0)
			return i;
	return -1;
}

int
run_state_parse(const char *s)
{
	int i;

	for (i = 0; i < 5; i++)
		if (strcmp(run_states[i], s) == 0)
			return i;
	return -1;
}

int
dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	return mdb_dbi_open(txn, name, flags, dbi);
}

/* Each part's meta "schema" says its layout: 2. */
static int
schema_check(MDB_txn *txn, MDB_dbi meta, const char *dir, char *err,
    size_t errlen)
{
	MDB_val k = { 6, "schema" }, v;
	char ver[16];
	int rc;

	if ((rc = mdb_get(txn, meta, &k, &v)) == MDB_NOTFOUND) {
		snprintf(ver, sizeof(ver), "%d", DB_SCHEMA);
		v.mv_data = ver;
		v.mv_size = strlen(ver);
		return mdb_put(txn, meta, &k, &v, 0);
	}
	if (rc != 0)
		return rc;
	if (v.mv_size == 0 || v.mv_size >= sizeof(ver))
		goto other;
	memcpy(ver, v.mv_data, v.mv_size);
	ver[v.mv_size] = '\0';
	if (atoi(ver) == DB_SCHEMA)
		return 0;
other:
	snprintf(err, errlen, "%s holds a database of another schema version "
	    "(%.*s, this build reads %d); use the matching hookpipe build",
	    dir, (int)(v.mv_size < 8 ? v.mv_size : 8), (const char *)v.mv_data,
	    DB_SCHEMA);
	return DB_ESCHEMA;
}

static int
part_open(struct db *db, const struct config *cfg, enum db_part p,
    char *err, size_t errlen)
{
	struct db_env *e = &db->part[p];
	MDB_dbi meta;
	MDB_txn *txn;
	char path[PATH_MAX + 16];
	int rc, dead = 0;

	if (snprintf(e->dir, sizeof(e->dir), "%s/%s", cfg->db_dir,
	    part_names[p]) >= (int)sizeof(e->dir)) {
		snprintf(err, errlen, "HOOKPIPE_HOME is too long");
		return DB_ESCHEMA;
	}
	if (mkdir(e->dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", e->dir,
		    strerror(errno));
		return errno;
	}
	if ((rc = mdb_env_create(&e->env)) != 0)
		goto fail;
	/* The events part holds a table per day of delivery ids. */
	mdb_env_set_maxdbs(e->env, 32);
	mdb_env_set_maxreaders(e->env, 254);
	if ((rc = mdb_env_set_mapsize(e->env, (size_t)cfg->map_size)) != 0)
		goto fail;
	e->map_max = (size_t)cfg->map_size * 16;
	/* Every commit is synced: MDB_NOSYNC in any process that shares an
	 * environment can corrupt it on an OS crash. */
	if ((rc = mdb_env_open(e->env, e->dir, MDB_NOTLS | MDB_NORDAHEAD,
	    0600)) != 0)
		goto fail;
	/* Readers left behind by killed processes would pin old pages. */
	mdb_reader_check(e->env, &dead);
	if (dead > 0)
		log_info("cleared %d stale LMDB reader(s) in %s", dead,
		    part_names[p]);
	if ((rc = mdb_txn_begin(e->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = dbi_open(txn, "meta", MDB_CREATE, &meta)) != 0 ||
	    (rc = schema_check(txn, meta, e->dir, err, errlen)) != 0) {
		mdb_txn_abort(txn);
		if (rc == DB_ESCHEMA)
			return rc;
		goto fail;
	}
	switch (p) {
	case DB_CONFIG:
		db->cmeta = meta;
		rc = db_config_open(db, txn);
		break;
	case DB_EVENTS:
		db->emeta = meta;
		rc = db_events_open(db, txn);
		break;
	case DB_RUNS:
		db->rmeta = meta;
		rc = db_runs_open(db, txn);
		break;
	default:
		rc = db_spool_open(db, txn);
		break;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	/* LMDB creates its files with the mode given; tighten old ones. */
	snprintf(path, sizeof(path), "%s/data.mdb", e->dir);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", e->dir);
	chmod(path, 0600);
	return 0;
fail:
	snprintf(err, errlen, "cannot open the database in %s: %s", e->dir,
	    mdb_strerror(rc));
	return rc;
}

int
db_open(struct db *db, const struct config *cfg, int parts, int flags,
    char *err, size_t errlen)
{
	MDB_txn *txn;
	long moved = 0;
	int p, rc;

	memset(db, 0, sizeof(*db));
	str_copy(db->key_path, cfg->key_path, sizeof(db->key_path));
	/* A state directory of the layout before: moved first, once. */
	if (db_migrate(cfg, &moved, err, errlen) == -1)
		return DB_ESCHEMA;
	if (moved > 0)
		log_info("moved %ld records into db/config, db/events, db/runs "
		    "and db/spool; the old files are in db/v1", moved);
	for (p = 0; p < DB_NPARTS; p++)
		if ((parts & DB_PART(p)) &&
		    (rc = part_open(db, cfg, (enum db_part)p, err,
		    errlen)) != 0) {
			db_close(db);
			return rc;
		}
	if ((parts & DB_PART(DB_CONFIG)) && !(flags & DB_NOKEYS)) {
		if ((txn = db_begin(db, DB_CONFIG, 1)) == NULL) {
			snprintf(err, errlen, "cannot begin a transaction in "
			    "%s", db->part[DB_CONFIG].dir);
			db_close(db);
			return EIO;
		}
		rc = keys_open(db, txn, err, errlen);
		mdb_txn_abort(txn);
		if (rc == -1) {
			db_close(db);
			return DB_ESEAL;
		}
	}
	return 0;
}

void
db_close(struct db *db)
{
	int p;

	for (p = 0; p < DB_NPARTS; p++)
		if (db->part[p].env != NULL) {
			mdb_env_close(db->part[p].env);
			db->part[p].env = NULL;
		}
	OPENSSL_cleanse(db->keys, sizeof(db->keys));
	db->nkeys = 0;
	if (db->secrets != NULL) {
		OPENSSL_cleanse(db->secrets, SECRET_CACHE *
		    sizeof(*db->secrets));
		free(db->secrets);
		db->secrets = NULL;
	}
}

MDB_txn *
db_begin(struct db *db, enum db_part p, int rdonly)
{
	MDB_env *env = db->part[p].env;
	MDB_txn *txn;
	int rc;

	if (env == NULL) {
		log_warn("cannot begin a transaction: the %s part is not open",
		    part_names[p]);
		return NULL;
	}
	rc = mdb_txn_begin(env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		mdb_env_set_mapsize(env, 0);
		rc = mdb_txn_begin(env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
	}
	if (rc == MDB_READERS_FULL) {
		int dead = 0;

		mdb_reader_check(env, &dead);
		rc = mdb_txn_begin(env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
	}
	if (rc != 0) {
		log_warn("cannot begin a transaction in %s: %s",
		    part_names[p], mdb_strerror(rc));
		return NULL;
	}
	return txn;
}

int
db_commit(MDB_txn *txn)
{
	return mdb_txn_commit(txn);
}

void
db_sync_pages_only(struct db *db, enum db_part p)
{
	if (db->part[p].env != NULL)
		mdb_env_set_flags(db->part[p].env, MDB_NOMETASYNC, 1);
}

int
db_sync(struct db *db, enum db_part p)
{
	if (db->part[p].env == NULL)
		return DB_ENOTOPEN;
	return mdb_env_sync(db->part[p].env, 1);
}

/*
 * LMDB does not say where it mapped a file (me_mapaddr is only set for
 * MDB_FIXEDMAP): the largest mapping of dir/data.mdb in /proc/self/maps.
 */
static void *
map_base(const char *dir, size_t *len)
{
	char line[PATH_MAX + 256], want[PATH_MAX + 16], real[PATH_MAX];
	unsigned long lo, hi;
	void *base = NULL;
	FILE *f;

	*len = 0;
	if (realpath(dir, real) != NULL)
		dir = real;		/* the kernel names it so */
	snprintf(want, sizeof(want), "%s/data.mdb", dir);
	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = strchr(line, '/');

		line[strcspn(line, "\n")] = '\0';
		if (name == NULL || strcmp(name, want) != 0 ||
		    sscanf(line, "%lx-%lx", &lo, &hi) != 2 || hi - lo <= *len)
			continue;
		base = (void *)lo;
		*len = hi - lo;
	}
	fclose(f);
	return base;
}

void
db_unmap_read(struct db *db)
{
	MDB_envinfo info;
	MDB_stat st;
	const char *dir;
	size_t used, len;
	void *base;
	int p;

	for (p = 0; p < DB_NPARTS; p++) {
		MDB_env *env = db->part[p].env;

		if (env == NULL || mdb_env_info(env, &info) != 0 ||
		    mdb_env_stat(env, &st) != 0 ||
		    mdb_env_get_path(env, &dir) != 0 ||
		    (base = map_base(dir, &len)) == NULL)
			continue;
		used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
		/* MAP_SHARED on the data file: the pages stay in the page
		 * cache, nothing is lost. */
		madvise(base, used < len ? used : len, MADV_DONTNEED);
	}
}

void
db_reader_check(struct db *db)
{
	int p, dead;

	for (p = 0; p < DB_NPARTS; p++)
		if (db->part[p].env != NULL)
			mdb_reader_check(db->part[p].env, &dead);
}

int
db_grow(struct db *db, enum db_part p)
{
	MDB_env *env = db->part[p].env;
	MDB_envinfo info;
	size_t size, before;

	if (env == NULL || mdb_env_info(env, &info) != 0)
		return -1;
	/* Another process may have grown it already: adopt that first. */
	before = info.me_mapsize;
	if (mdb_env_set_mapsize(env, 0) == 0 &&
	    mdb_env_info(env, &info) == 0 && info.me_mapsize > before) {
		log_info("the %s map is %zu MiB (grown elsewhere)",
		    part_names[p], info.me_mapsize >> 20);
		return 0;
	}
	size = info.me_mapsize;
	if (size >= db->part[p].map_max)
		return -1;
	size = size * 2 > db->part[p].map_max ? db->part[p].map_max : size * 2;
	if (mdb_env_set_mapsize(env, size) != 0)
		return -1;
	log_info("the %s map grown to %zu MiB", part_names[p], size >> 20);
	return 0;
}

/* --- generic record helpers --- */

int
db_get(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, MDB_val *out)
{
	MDB_val key = { kn, (void *)k };

	if (kn == 0 || kn > KEY_MAX)
		return MDB_NOTFOUND;
	return mdb_get(txn, dbi, &key, out);
}

int
db_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, const void *v,
    size_t vn, unsigned flags)
{
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };

	if (kn == 0 || kn > KEY_MAX)
		return MDB_BAD_VALSIZE;
	return mdb_put(txn, dbi, &key, &val, flags);
}

int
db_del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn)
{
	MDB_val key = { kn, (void *)k };
	int rc;

	if (kn == 0 || kn > KEY_MAX)
		return MDB_NOTFOUND;
	rc = mdb_del(txn, dbi, &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
put_mp(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, struct mpw *w)
{
	int rc = db_put(txn, dbi, k, kn, w->sb.data, w->sb.size, 0);

	mpw_free(w);
	return rc;
}

int
get_mp(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn,
    msgpack_unpacked *u, const char *what)
{
	MDB_val v;
	int rc;

	if ((rc = db_get(txn, dbi, k, kn, &v)) != 0)
		return rc;
	if (mp_unpack(v.mv_data, v.mv_size, u) == -1)
		goto damaged;
	if (u->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(u);
		goto damaged;
	}
	return 0;
damaged:
	log_warn("damaged %s record %.*s", what, (int)(kn < 64 ? kn : 64),
	    (const char *)k);
	return DB_EDAMAGED;
}

void
get_sealed(const msgpack_object *m, const char *key, unsigned char *out,
    size_t *len)
{
	const void *p;
	size_t n;

	*len = 0;
	if (mp_get_binp(m, key, &p, &n) == 0 && n <= SEALED_MAX) {
		memcpy(out, p, n);
		*len = n;
	}
}

int
prefix_each(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t pn,
    prefix_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k = { pn, (void *)prefix }, v;
	MDB_cursor_op op = pn ? MDB_SET_RANGE : MDB_FIRST;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size < pn || (pn > 0 && memcmp(k.mv_data, prefix,
		    pn) != 0))
			break;
		if ((stop = fn(arg, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (stop < 0)
		return stop;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
name2_key(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? -1 : n;
}
