#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "db.h"
#include "log.h"
#include "mp.h"

#define KEY_MAX	511	/* LMDB's default key limit */

const char *
db_strerror(int rc)
{
	if (rc == DB_ESEAL)
		return "cannot seal or unseal a secret (is a master key file "
		    "missing?)";
	return mdb_strerror(rc);
}

static int keys_open(struct db *, MDB_txn *, char *, size_t);
static int seal_current_text(MDB_txn *, struct db *, const char *,
    const struct sealed_text *, struct sealed_text *);
static void wf_sealed_aad(const struct wf_rec *, enum wf_sealed, char *,
    size_t);
static int seal_current(MDB_txn *, struct db *, const char *,
    unsigned char *, size_t *);

static int
dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	return mdb_dbi_open(txn, name, flags, dbi);
}

int
db_open(struct db *db, const struct config *cfg, int flags, char *err,
    size_t errlen)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc, dead = 0, ro = (flags & DB_RDONLY) != 0;
	unsigned envflags = MDB_NOTLS | MDB_NORDAHEAD;
	unsigned cf = ro ? 0 : MDB_CREATE;

	memset(db, 0, sizeof(*db));
	str_copy(db->key_path, cfg->key_path, sizeof(db->key_path));
	if ((rc = mdb_env_create(&db->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(db->env, 32);
	mdb_env_set_maxreaders(db->env, 254);
	if ((rc = mdb_env_set_mapsize(db->env, (size_t)cfg->map_size)) != 0)
		goto fail;
	db->map_max = (size_t)cfg->map_size * 16;
	if (flags & DB_METASYNC_LATER)
		envflags |= MDB_NOMETASYNC;
	if ((rc = mdb_env_open(db->env, cfg->db_dir, envflags, 0600)) != 0)
		goto fail;
	/* Readers left behind by killed processes would pin old pages. */
	mdb_reader_check(db->env, &dead);
	if (dead > 0)
		log_info("cleared %d stale LMDB reader(s)", dead);

	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = dbi_open(txn, "subs", cf, &db->subs)) ||
	    (rc = dbi_open(txn, "subs_by_name", cf, &db->subs_by_name)) ||
	    (rc = dbi_open(txn, "sub_stats", cf, &db->sub_stats)) ||
	    (rc = dbi_open(txn, "workflows", cf, &db->workflows)) ||
	    (rc = dbi_open(txn, "triggers", cf | MDB_DUPSORT, &db->triggers)) ||
	    (rc = dbi_open(txn, "events", cf, &db->events)) ||
	    (rc = dbi_open(txn, "events_by_time", cf, &db->events_by_time)) ||
	    (rc = dbi_open(txn, "pending", cf, &db->pending)) ||
	    (rc = dbi_open(txn, "dedupe", cf, &db->dedupe)) ||
	    (rc = dbi_open(txn, "dedupe_by_time", cf, &db->dedupe_by_time)) ||
	    (rc = dbi_open(txn, "runs", cf, &db->runs)) ||
	    (rc = dbi_open(txn, "runs_by_time", cf, &db->runs_by_time)) ||
	    (rc = dbi_open(txn, "runs_by_event", cf | MDB_DUPSORT,
	    &db->runs_by_event)) ||
	    (rc = dbi_open(txn, "due", cf, &db->due)) ||
	    (rc = dbi_open(txn, "attempts", cf, &db->attempts)) ||
	    (rc = dbi_open(txn, "run_inputs", cf, &db->run_inputs)) ||
	    (rc = dbi_open(txn, "spool", cf, &db->spool)) ||
	    (rc = dbi_open(txn, "quarantine", cf, &db->quarantine)) ||
	    (rc = dbi_open(txn, "meta", cf, &db->meta)) ||
	    (rc = dbi_open(txn, "creds", cf, &db->creds)) ||
	    (rc = dbi_open(txn, "oauth_clients", cf, &db->oauth_clients)) ||
	    (rc = dbi_open(txn, "oauth_states", cf, &db->oauth_states))) {
		mdb_txn_abort(txn);
		goto fail;
	}
	k.mv_data = "schema";
	k.mv_size = 6;
	if (mdb_get(txn, db->meta, &k, &v) == MDB_NOTFOUND) {
		char ver[16];

		snprintf(ver, sizeof(ver), "%d", DB_SCHEMA);
		v.mv_data = ver;
		v.mv_size = strlen(ver);
		mdb_put(txn, db->meta, &k, &v, 0);
	} else if (v.mv_size == 0 || atoi((const char *)v.mv_data) !=
	    DB_SCHEMA) {
		mdb_txn_abort(txn);
		snprintf(err, errlen, "%s holds a database of another schema "
		    "version; use the matching hookpipe build", cfg->db_dir);
		mdb_env_close(db->env);
		db->env = NULL;
		return -1;
	}
	if (!(flags & DB_NOKEYS) && keys_open(db, txn, err, errlen) == -1) {
		mdb_txn_abort(txn);
		mdb_env_close(db->env);
		db->env = NULL;
		return -1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	/* LMDB creates its files with the mode given; tighten old ones. */
	{
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/data.mdb", cfg->db_dir);
		chmod(path, 0600);
		snprintf(path, sizeof(path), "%s/lock.mdb", cfg->db_dir);
		chmod(path, 0600);
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot open the database in %s: %s",
	    cfg->db_dir, mdb_strerror(rc));
	if (db->env != NULL)
		mdb_env_close(db->env);
	db->env = NULL;
	return -1;
}

void
db_close(struct db *db)
{
	if (db->env != NULL)
		mdb_env_close(db->env);
	OPENSSL_cleanse(db->keys, sizeof(db->keys));
	db->nkeys = 0;
	if (db->secrets != NULL) {
		OPENSSL_cleanse(db->secrets, SECRET_CACHE *
		    sizeof(*db->secrets));
		free(db->secrets);
		db->secrets = NULL;
	}
	db->env = NULL;
}

MDB_txn *
db_begin(struct db *db, int rdonly)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(db->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		mdb_env_set_mapsize(db->env, 0);
		rc = mdb_txn_begin(db->env, NULL, rdonly ? MDB_RDONLY : 0,
		    &txn);
	}
	if (rc == MDB_READERS_FULL) {
		int dead = 0;

		mdb_reader_check(db->env, &dead);
		rc = mdb_txn_begin(db->env, NULL, rdonly ? MDB_RDONLY : 0,
		    &txn);
	}
	if (rc != 0) {
		log_warn("cannot begin a transaction: %s", mdb_strerror(rc));
		return NULL;
	}
	return txn;
}

int
db_commit(MDB_txn *txn)
{
	return mdb_txn_commit(txn);
}

int
db_commit_durable(struct db *db, MDB_txn *txn)
{
	int rc;

	if ((rc = mdb_txn_commit(txn)) != 0)
		return rc;
	/* The data pages were synced under the writer lock; the meta page
	 * that makes them current is synced here, outside it. */
	return mdb_env_sync(db->env, 1);
}

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

/* Put a finished mpw as the value of key. */
static int
put_mp(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, struct mpw *w)
{
	int rc = db_put(txn, dbi, k, kn, w->sb.data, w->sb.size, 0);

	mpw_free(w);
	return rc;
}

/* Get and unpack key's value; -1 for a damaged record. */
static int
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
	log_warn("damaged %s record %.*s", what, (int)kn, (const char *)k);
	return -1;
}

static void
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

/* --- subscriptions --- */

static void sub_pack(struct mpw *, const struct sub_rec *);

static int
sub_name_key(char *out, size_t len, const char *ws, const char *integ,
    const char *name)
{
	int n = snprintf(out, len, "%s/%s/%s", ws, integ, name);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

static int
sub_decode(const msgpack_object *m, struct sub_rec *s)
{
	memset(s, 0, sizeof(*s));
	if (mp_get_str(m, "id", s->id, sizeof(s->id)) ||
	    mp_get_str(m, "workspace", s->workspace, sizeof(s->workspace)) ||
	    mp_get_str(m, "name", s->name, sizeof(s->name)) ||
	    mp_get_str(m, "integration", s->integration,
	    sizeof(s->integration)) ||
	    mp_get_str(m, "mode", s->mode, sizeof(s->mode)) ||
	    mp_get_str(m, "events", s->events, sizeof(s->events)))
		return -1;
	get_sealed(m, "secret", s->secret, &s->secret_len);
	get_sealed(m, "secret2", s->secret2, &s->secret2_len);
	mp_get_str(m, "credential", s->credential, sizeof(s->credential));
	mp_get_str(m, "params", s->params, sizeof(s->params));
	mp_get_str(m, "remote_id", s->remote_id, sizeof(s->remote_id));
	mp_get_i64(m, "created_at", &s->created_at);
	return 0;
}

int
db_sub_get(MDB_txn *txn, struct db *db, const char *id, struct sub_rec *s)
{
	msgpack_unpacked u;
	int rc;

	if ((rc = get_mp(txn, db->subs, id, strlen(id), &u, "subscription")))
		return rc;
	rc = sub_decode(&u.data, s);
	msgpack_unpacked_destroy(&u);
	return rc;
}

struct sub_find {
	const char	*name;
	struct sub_rec	*out;
	int		 found;
};

static int
sub_find_cb(void *arg, const struct sub_rec *s)
{
	struct sub_find *f = arg;

	if (strcmp(s->name, f->name) != 0)
		return 0;
	if (f->found++ == 0)
		*f->out = *s;
	return 0;
}

int
db_sub_find(MDB_txn *txn, struct db *db, const char *ws, const char *integ,
    const char *name_or_id, struct sub_rec *s)
{
	char key[KEY_MAX + 1];
	MDB_val v;
	int rc, n;

	if (uuid_valid(name_or_id)) {
		rc = db_sub_get(txn, db, name_or_id, s);
		if (rc == 0 && strcmp(s->workspace, ws) == 0 &&
		    (integ == NULL || strcmp(s->integration, integ) == 0))
			return 0;
		return rc == 0 ? MDB_NOTFOUND : rc;
	}
	if (integ != NULL) {
		if ((n = sub_name_key(key, sizeof(key), ws, integ,
		    name_or_id)) == -1)
			return MDB_NOTFOUND;
		if ((rc = db_get(txn, db->subs_by_name, key, (size_t)n, &v)))
			return rc;
		if (v.mv_size != UUID_LEN)
			return -1;
		memcpy(key, v.mv_data, UUID_LEN);
		key[UUID_LEN] = '\0';
		return db_sub_get(txn, db, key, s);
	} else {
		struct sub_find f = { name_or_id, s, 0 };

		if ((rc = db_sub_each(txn, db, ws, sub_find_cb, &f)) != 0)
			return rc;
		return f.found == 0 ? MDB_NOTFOUND : f.found > 1 ? -2 : 0;
	}
}

int
db_sub_put(MDB_txn *txn, struct db *db, const struct sub_rec *s)
{
	char key[KEY_MAX + 1];
	struct sub_rec fresh;
	struct mpw w;
	int rc, n;

	if ((n = sub_name_key(key, sizeof(key), s->workspace, s->integration,
	    s->name)) == -1)
		return MDB_BAD_VALSIZE;
	fresh = *s;
	if ((rc = seal_current(txn, db, s->id, fresh.secret,
	    &fresh.secret_len)) != 0 || (rc = seal_current(txn, db, s->id,
	    fresh.secret2, &fresh.secret2_len)) != 0)
		return rc;
	s = &fresh;
	mpw_init(&w);
	sub_pack(&w, s);
	if ((rc = put_mp(txn, db->subs, s->id, UUID_LEN, &w)))
		return rc;
	return db_put(txn, db->subs_by_name, key, (size_t)n, s->id, UUID_LEN,
	    0);
}

static void
sub_pack(struct mpw *w, const struct sub_rec *s)
{
	mpw_map(w, 12);
	mpw_kv_str(w, "id", s->id);
	mpw_kv_str(w, "workspace", s->workspace);
	mpw_kv_str(w, "name", s->name);
	mpw_kv_str(w, "integration", s->integration);
	mpw_kv_str(w, "mode", s->mode);
	mpw_kv_str(w, "events", s->events);
	mpw_kv_bin(w, "secret", s->secret, s->secret_len);
	mpw_kv_bin(w, "secret2", s->secret2, s->secret2_len);
	mpw_kv_str(w, "credential", s->credential);
	mpw_kv_str(w, "params", s->params);
	mpw_kv_str(w, "remote_id", s->remote_id);
	mpw_kv_i64(w, "created_at", s->created_at);
}

int
db_sub_del(MDB_txn *txn, struct db *db, const struct sub_rec *s)
{
	char key[KEY_MAX + 1];
	int rc, n;

	if ((n = sub_name_key(key, sizeof(key), s->workspace, s->integration,
	    s->name)) != -1 &&
	    (rc = db_del(txn, db->subs_by_name, key, (size_t)n)))
		return rc;
	if ((rc = db_del(txn, db->sub_stats, s->id, UUID_LEN)))
		return rc;
	return db_del(txn, db->subs, s->id, UUID_LEN);
}

/* Visit every key of dbi that starts with prefix. */
typedef int (*prefix_fn)(void *arg, MDB_val *k, MDB_val *v);

static int
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
		if (k.mv_size < pn || memcmp(k.mv_data, prefix, pn) != 0)
			break;
		if ((stop = fn(arg, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (stop < 0)
		return stop;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

static int
count_cb(void *arg, MDB_val *k, MDB_val *v)
{
	(void)k;
	(void)v;
	(*(int *)arg)++;
	return 0;
}

int
db_sub_count(MDB_txn *txn, struct db *db, const char *ws, const char *integ)
{
	char prefix[KEY_MAX + 1];
	int n = 0, pn = snprintf(prefix, sizeof(prefix), "%s/%s/", ws, integ);

	if (prefix_each(txn, db->subs_by_name, prefix, (size_t)pn, count_cb,
	    &n) != 0)
		return -1;
	return n;
}

struct sub_each {
	struct db	*db;
	MDB_txn		*txn;
	db_sub_fn	 fn;
	void		*arg;
};

static int
sub_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct sub_each *e = arg;
	struct sub_rec s;
	char id[UUID_LEN + 1];

	(void)k;
	if (v->mv_size != UUID_LEN)
		return 0;
	memcpy(id, v->mv_data, UUID_LEN);
	id[UUID_LEN] = '\0';
	if (db_sub_get(e->txn, e->db, id, &s) != 0)
		return 0;
	return e->fn(e->arg, &s);
}

int
db_sub_each(MDB_txn *txn, struct db *db, const char *ws, db_sub_fn fn,
    void *arg)
{
	struct sub_each e = { db, txn, fn, arg };
	char prefix[KEY_MAX + 1];
	int pn = snprintf(prefix, sizeof(prefix), "%s/", ws);

	return prefix_each(txn, db->subs_by_name, prefix, (size_t)pn,
	    sub_each_cb, &e);
}

int
db_sub_stats(MDB_txn *txn, struct db *db, const char *id, int64_t *count,
    int64_t *last_at)
{
	MDB_val v;

	*count = *last_at = 0;
	if (db_get(txn, db->sub_stats, id, strlen(id), &v) == 0 &&
	    v.mv_size == 16) {
		*count = (int64_t)get_be64(v.mv_data);
		*last_at = (int64_t)get_be64((unsigned char *)v.mv_data + 8);
	}
	return 0;
}

int
db_sub_stats_bump(MDB_txn *txn, struct db *db, const char *id, int64_t at)
{
	unsigned char buf[16];
	int64_t count, last;

	db_sub_stats(txn, db, id, &count, &last);
	put_be64(buf, (uint64_t)count + 1);
	put_be64(buf + 8, (uint64_t)(at > last ? at : last));
	return db_put(txn, db->sub_stats, id, strlen(id), buf, sizeof(buf), 0);
}

int
db_sub_set_secret(struct db *db, struct sub_rec *s, int which,
    const char *plain, size_t n)
{
	unsigned char *out = which == 2 ? s->secret2 : s->secret;
	size_t *len = which == 2 ? &s->secret2_len : &s->secret_len;

	if (n == 0) {
		*len = 0;
		return 0;
	}
	if (n > SECRET_MAX)
		return -1;
	return db_seal(db, s->id, plain, n, out, len);
}

int
db_sub_secret(struct db *db, const struct sub_rec *s, int which,
    unsigned char *out, size_t cap)
{
	const unsigned char *in = which == 2 ? s->secret2 : s->secret;
	size_t n = which == 2 ? s->secret2_len : s->secret_len;
	struct secret_cache *c;
	int len;

	if (n > SEALED_MAX || sealed_len(in, n) < 0 ||
	    (size_t)sealed_len(in, n) > cap)
		return -1;
	/* The verifier unseals a secret per delivery: AES-GCM set-up costs
	 * more than the HMAC. A sealed value is never reused (its nonce is
	 * random), so the same bytes under the same id are the same secret;
	 * a changed secret or a rotated key misses. Slot by nonce. */
	if (db->secrets == NULL)
		db->secrets = calloc(SECRET_CACHE, sizeof(*db->secrets));
	c = db->secrets == NULL ? NULL :
	    &db->secrets[sealed_nonce0(in, n) % SECRET_CACHE];
	if (c != NULL && c->plain_len > 0 && c->sealed_len == n &&
	    memcmp(c->sealed, in, n) == 0 && strcmp(c->id, s->id) == 0 &&
	    (size_t)c->plain_len <= cap) {
		memcpy(out, c->plain, (size_t)c->plain_len);
		return c->plain_len;
	}
	len = db_unseal(db, s->id, in, n, out, cap);
	if (c != NULL && len > 0 && (size_t)len <= sizeof(c->plain)) {
		str_copy(c->id, s->id, sizeof(c->id));
		memcpy(c->sealed, in, n);
		c->sealed_len = n;
		memcpy(c->plain, out, (size_t)len);
		c->plain_len = len;
	}
	return len;
}

int
sub_covers(const struct sub_rec *s, const char *event)
{
	size_t el = strlen(event);
	const char *p = s->events;

	if (strcmp(p, "*") == 0)
		return 1;
	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == el && memcmp(p, event, n) == 0)
			return 1;
		p += n + (comma ? 1 : 0);
	}
	return 0;
}

/* --- workflows and the trigger index --- */

static int
wf_key(char *out, size_t len, const char *ws, const char *name)
{
	int n = snprintf(out, len, "%s/%s", ws, name);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

static int
trig_key(char *out, size_t len, const char *sub, const char *event)
{
	int n = snprintf(out, len, "%s/%s", sub, event);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

void
wf_free(struct wf_rec *w)
{
	int i;

	free(w->target);
	free(w->headers);
	free(w->env);
	free(w->user);
	for (i = 0; i < WF_SEALED_N; i++) {
		free(w->sealed[i].p);
		w->sealed[i].p = NULL;
		w->sealed[i].n = 0;
	}
	for (i = 0; i < w->ntrig; i++) {
		free(w->trig[i].filter);
		free(w->trig[i].map);
	}
	w->target = w->headers = w->env = w->user = NULL;
	w->ntrig = 0;
}

static const char *const wf_sealed_key[WF_SEALED_N] = {
	"sealed_headers", "sealed_url", "sealed_env"
};

static int
wf_decode(const msgpack_object *m, struct wf_rec *w)
{
	const msgpack_object *t;
	uint32_t i;

	memset(w, 0, sizeof(*w));
	if (mp_get_str(m, "workspace", w->workspace, sizeof(w->workspace)) ||
	    mp_get_str(m, "name", w->name, sizeof(w->name)) ||
	    mp_get_str(m, "state", w->state, sizeof(w->state)) ||
	    mp_get_str(m, "action", w->action, sizeof(w->action)))
		return -1;
	w->target = mp_get_strdup(m, "target");
	w->headers = mp_get_strdup(m, "headers");
	w->env = mp_get_strdup(m, "env");
	w->user = mp_get_strdup(m, "user");
	for (i = 0; i < WF_SEALED_N; i++) {
		const void *p;
		size_t n;

		if (mp_get_binp(m, wf_sealed_key[i], &p, &n) == 0 && n > 0 &&
		    (w->sealed[i].p = malloc(n)) != NULL) {
			memcpy(w->sealed[i].p, p, n);
			w->sealed[i].n = n;
		}
	}
	get_sealed(m, "app_key", w->app_key, &w->app_key_len);
	mp_get_i64(m, "timeout", &w->timeout_s);
	mp_get_i64(m, "retries", &w->retries);
	mp_get_i64(m, "concurrency", &w->concurrency);
	mp_get_i64(m, "listen_until", &w->listen_until);
	mp_get_i64(m, "created_at", &w->created_at);
	t = mp_get(m, "triggers");
	if (t == NULL || t->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (i = 0; i < t->via.array.size && w->ntrig < TRIGGERS_MAX; i++) {
		const msgpack_object *o = &t->via.array.ptr[i];
		struct trigger *tr = &w->trig[w->ntrig];

		if (mp_get_str(o, "sub", tr->sub, sizeof(tr->sub)) ||
		    mp_get_str(o, "event", tr->event, sizeof(tr->event)))
			continue;
		tr->filter = mp_get_strdup(o, "filter");
		tr->map = mp_get_strdup(o, "map");
		w->ntrig++;
	}
	return 0;
}

int
db_wf_get(MDB_txn *txn, struct db *db, const char *ws, const char *name,
    struct wf_rec *w)
{
	char key[KEY_MAX + 1];
	msgpack_unpacked u;
	int rc, n;

	if ((n = wf_key(key, sizeof(key), ws, name)) == -1)
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->workflows, key, (size_t)n, &u, "workflow")))
		return rc;
	rc = wf_decode(&u.data, w);
	msgpack_unpacked_destroy(&u);
	return rc;
}

static int
wf_index(MDB_txn *txn, struct db *db, const struct wf_rec *w, int add)
{
	char key[KEY_MAX + 1], wk[KEY_MAX + 1];
	MDB_val k, v;
	int i, n, wn, rc;

	if ((wn = wf_key(wk, sizeof(wk), w->workspace, w->name)) == -1)
		return MDB_BAD_VALSIZE;
	for (i = 0; i < w->ntrig; i++) {
		if ((n = trig_key(key, sizeof(key), w->trig[i].sub,
		    w->trig[i].event)) == -1)
			return MDB_BAD_VALSIZE;
		k.mv_data = key;
		k.mv_size = (size_t)n;
		v.mv_data = wk;
		v.mv_size = (size_t)wn;
		if (add)
			rc = mdb_put(txn, db->triggers, &k, &v, MDB_NODUPDATA);
		else
			rc = mdb_del(txn, db->triggers, &k, &v);
		if (rc != 0 && rc != MDB_KEYEXIST && rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

int
db_wf_put(MDB_txn *txn, struct db *db, const struct wf_rec *w)
{
	char key[KEY_MAX + 1], aad[2 * NAME_MAX_LEN + 2];
	struct sealed_text sealed[WF_SEALED_N];
	unsigned char app_key[SEALED_MAX];
	size_t app_key_len;
	struct wf_rec old;
	struct mpw mw;
	int i, n, n2, rc;

	if ((n = wf_key(key, sizeof(key), w->workspace, w->name)) == -1)
		return MDB_BAD_VALSIZE;
	if (db_wf_get(txn, db, w->workspace, w->name, &old) == 0) {
		rc = wf_index(txn, db, &old, 0);
		wf_free(&old);
		if (rc != 0)
			return rc;
	}
	app_key_len = w->app_key_len;
	memcpy(app_key, w->app_key, app_key_len);
	snprintf(aad, sizeof(aad), "%s/%s", w->workspace, w->name);
	if ((rc = seal_current(txn, db, aad, app_key, &app_key_len)) != 0)
		return rc;
	for (i = 0; i < WF_SEALED_N; i++) {
		char saad[2 * NAME_MAX_LEN + 16];

		wf_sealed_aad(w, (enum wf_sealed)i, saad, sizeof(saad));
		if ((rc = seal_current_text(txn, db, saad, &w->sealed[i],
		    &sealed[i])) != 0) {
			while (i-- > 0)
				if (sealed[i].p != w->sealed[i].p)
					free(sealed[i].p);
			return rc;
		}
	}
	/* The newer fields only when set: other workflows keep the layout
	 * an older stage reads. */
	n2 = 13 + (w->env != NULL) + (w->user != NULL);
	for (i = 0; i < WF_SEALED_N; i++)
		n2 += w->sealed[i].n > 0;
	mpw_init(&mw);
	mpw_map(&mw, (uint32_t)n2);
	mpw_kv_str(&mw, "workspace", w->workspace);
	mpw_kv_str(&mw, "name", w->name);
	mpw_kv_str(&mw, "state", w->state);
	mpw_kv_str(&mw, "action", w->action);
	mpw_kv_str(&mw, "target", w->target ? w->target : "");
	mpw_kv_str(&mw, "headers", w->headers ? w->headers : "");
	if (w->env != NULL)
		mpw_kv_str(&mw, "env", w->env);
	if (w->user != NULL)
		mpw_kv_str(&mw, "user", w->user);
	for (i = 0; i < WF_SEALED_N; i++)
		if (w->sealed[i].n > 0)
			mpw_kv_bin(&mw, wf_sealed_key[i], sealed[i].p,
			    sealed[i].n);
	mpw_kv_bin(&mw, "app_key", app_key, app_key_len);
	mpw_kv_i64(&mw, "timeout", w->timeout_s);
	mpw_kv_i64(&mw, "retries", w->retries);
	mpw_kv_i64(&mw, "concurrency", w->concurrency);
	mpw_kv_i64(&mw, "listen_until", w->listen_until);
	mpw_kv_i64(&mw, "created_at", w->created_at);
	mpw_str(&mw, "triggers");
	mpw_array(&mw, (uint32_t)w->ntrig);
	for (i = 0; i < w->ntrig; i++) {
		const struct trigger *t = &w->trig[i];

		mpw_map(&mw, 2 + (t->filter != NULL) + (t->map != NULL));
		mpw_kv_str(&mw, "sub", t->sub);
		mpw_kv_str(&mw, "event", t->event);
		if (t->filter != NULL)
			mpw_kv_str(&mw, "filter", t->filter);
		if (t->map != NULL)
			mpw_kv_str(&mw, "map", t->map);
	}
	for (i = 0; i < WF_SEALED_N; i++)
		if (sealed[i].p != w->sealed[i].p)
			free(sealed[i].p);
	if ((rc = put_mp(txn, db->workflows, key, (size_t)n, &mw)))
		return rc;
	return wf_index(txn, db, w, 1);
}

int
db_wf_del(MDB_txn *txn, struct db *db, const char *ws, const char *name)
{
	char key[KEY_MAX + 1];
	struct wf_rec old;
	int n, rc;

	if ((n = wf_key(key, sizeof(key), ws, name)) == -1)
		return MDB_NOTFOUND;
	if ((rc = db_wf_get(txn, db, ws, name, &old)) != 0)
		return rc;
	rc = wf_index(txn, db, &old, 0);
	wf_free(&old);
	if (rc != 0)
		return rc;
	return db_del(txn, db->workflows, key, (size_t)n);
}

struct wf_each {
	db_wf_fn fn;
	void	*arg;
};

static int
wf_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct wf_each *e = arg;
	msgpack_unpacked u;
	struct wf_rec w;
	int rc;

	if (mp_unpack(v->mv_data, v->mv_size, &u) == -1) {
		log_warn("damaged workflow record %.*s", (int)k->mv_size,
		    (const char *)k->mv_data);
		return 0;
	}
	rc = wf_decode(&u.data, &w);
	msgpack_unpacked_destroy(&u);
	if (rc != 0)
		return 0;
	rc = e->fn(e->arg, &w);
	wf_free(&w);
	return rc;
}

int
db_wf_each(MDB_txn *txn, struct db *db, const char *ws, db_wf_fn fn,
    void *arg)
{
	struct wf_each e = { fn, arg };
	char prefix[KEY_MAX + 1];
	int pn = ws ? snprintf(prefix, sizeof(prefix), "%s/", ws) : 0;

	return prefix_each(txn, db->workflows, prefix, (size_t)pn, wf_each_cb,
	    &e);
}

static int
collect_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct buf *b = arg;

	(void)k;
	/* NUL-separated list of distinct workflow keys. */
	buf_append(b, v->mv_data, v->mv_size);
	buf_append(b, "", 1);
	return 0;
}

int
db_sub_users(MDB_txn *txn, struct db *db, const char *sub_id)
{
	struct buf all = { 0 };
	char prefix[UUID_LEN + 2];
	size_t off;
	int n = 0, pn = snprintf(prefix, sizeof(prefix), "%s/", sub_id);

	/* The index is sorted by (sub/event, workflow): collect, then count
	 * distinct workflows across events. */
	if (prefix_each(txn, db->triggers, prefix, (size_t)pn, collect_cb,
	    &all) != 0) {
		buf_free(&all);
		return -1;
	}
	for (off = 0; off < all.len; off += strlen(all.data + off) + 1) {
		const char *w = all.data + off;
		size_t o2;
		int seen = 0;

		for (o2 = 0; o2 < off; o2 += strlen(all.data + o2) + 1)
			if (strcmp(all.data + o2, w) == 0)
				seen = 1;
		if (!seen)
			n++;
	}
	buf_free(&all);
	return n;
}

int
db_trigger_match(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *event, db_match_fn fn, void *arg)
{
	const char *events[2] = { event, "*" };
	char key[KEY_MAX + 1];
	MDB_cursor *c;
	MDB_val k, v;
	int i, n, rc;

	if ((rc = mdb_cursor_open(txn, db->triggers, &c)) != 0)
		return rc;
	for (i = 0; i < 2; i++) {
		if ((n = trig_key(key, sizeof(key), sub_id, events[i])) == -1)
			continue;
		k.mv_data = key;
		k.mv_size = (size_t)n;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
		while (rc == 0) {
			if (fn(arg, v.mv_data, v.mv_size) != 0)
				break;
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
		}
	}
	mdb_cursor_close(c);
	return 0;
}

/* --- events --- */

void
event_free(struct event_rec *e)
{
	free(e->headers);
	free(e->payload);
	e->headers = NULL;
	e->payload = NULL;
}

static int
event_decode(const msgpack_object *m, struct event_rec *e)
{
	const void *p;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (mp_get_str(m, "id", e->id, sizeof(e->id)) ||
	    mp_get_str(m, "sub", e->sub, sizeof(e->sub)) ||
	    mp_get_str(m, "workspace", e->workspace, sizeof(e->workspace)) ||
	    mp_get_str(m, "integration", e->integration,
	    sizeof(e->integration)) ||
	    mp_get_str(m, "type", e->type, sizeof(e->type)) ||
	    mp_get_str(m, "delivery_id", e->delivery_id,
	    sizeof(e->delivery_id)) ||
	    mp_get_str(m, "status", e->status, sizeof(e->status)) ||
	    mp_get_i64(m, "received_at", &e->received_at) ||
	    mp_get_binp(m, "payload", &p, &n))
		return -1;
	e->headers = mp_get_strdup(m, "headers");
	if ((e->payload = malloc(n + 1)) == NULL) {
		free(e->headers);
		return -1;
	}
	memcpy(e->payload, p, n);
	e->payload[n] = '\0';	/* convenient for JSON parsers */
	e->payload_len = n;
	return 0;
}

static int
event_encode(MDB_txn *txn, struct db *db, const struct event_rec *e)
{
	struct mpw w;

	mpw_init(&w);
	mpw_map(&w, 10);
	mpw_kv_str(&w, "id", e->id);
	mpw_kv_str(&w, "sub", e->sub);
	mpw_kv_str(&w, "workspace", e->workspace);
	mpw_kv_str(&w, "integration", e->integration);
	mpw_kv_str(&w, "type", e->type);
	mpw_kv_str(&w, "delivery_id", e->delivery_id);
	mpw_kv_str(&w, "status", e->status);
	mpw_kv_i64(&w, "received_at", e->received_at);
	mpw_kv_str(&w, "headers", e->headers ? e->headers : "{}");
	mpw_kv_bin(&w, "payload", e->payload, e->payload_len);
	return put_mp(txn, db->events, e->id, UUID_LEN, &w);
}

int
db_event_put(MDB_txn *txn, struct db *db, const struct event_rec *e)
{
	unsigned char tk[8 + UUID_LEN];
	int rc;

	if ((rc = event_encode(txn, db, e)) != 0)
		return rc;
	put_be64(tk, (uint64_t)e->received_at);
	memcpy(tk + 8, e->id, UUID_LEN);
	if ((rc = db_put(txn, db->events_by_time, tk, sizeof(tk), "", 0, 0)))
		return rc;
	if (strcmp(e->status, "stored") == 0)
		return db_put(txn, db->pending, e->id, UUID_LEN, "", 0, 0);
	return db_del(txn, db->pending, e->id, UUID_LEN);
}

int
db_event_get(MDB_txn *txn, struct db *db, const char *id,
    struct event_rec *e)
{
	msgpack_unpacked u;
	int rc;

	if ((rc = get_mp(txn, db->events, id, strlen(id), &u, "event")))
		return rc;
	rc = event_decode(&u.data, e);
	msgpack_unpacked_destroy(&u);
	/* A stored event leaves the pending index when it is routed; the
	 * record itself is not written again. */
	if (rc == 0 && strcmp(e->status, "stored") == 0) {
		MDB_val k = { UUID_LEN, (void *)e->id }, v;

		if (strlen(e->id) != UUID_LEN ||
		    (rc = mdb_get(txn, db->pending, &k, &v)) == MDB_NOTFOUND)
			str_copy(e->status, "routed", sizeof(e->status));
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc != 0)
			event_free(e);
	}
	return rc;
}

int
db_event_set_status(MDB_txn *txn, struct db *db, struct event_rec *e,
    const char *status)
{
	int rc;

	/* Routing only takes the event off the pending index (see
	 * db_event_get): rewriting the record, payload and all, doubled
	 * what every event cost to store. */
	if (strcmp(e->status, "stored") == 0 && strcmp(status, "routed") == 0) {
		str_copy(e->status, status, sizeof(e->status));
		return db_del(txn, db->pending, e->id, UUID_LEN);
	}
	str_copy(e->status, status, sizeof(e->status));
	if ((rc = event_encode(txn, db, e)) != 0)
		return rc;
	if (strcmp(status, "stored") == 0)
		return db_put(txn, db->pending, e->id, UUID_LEN, "", 0, 0);
	return db_del(txn, db->pending, e->id, UUID_LEN);
}

int
db_event_each(MDB_txn *txn, struct db *db, db_event_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_cursor_op op = MDB_LAST;
	char id[UUID_LEN + 1];
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, db->events_by_time, &c)) != 0)
		return rc;
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		struct event_rec e;

		op = MDB_PREV;
		if (k.mv_size != 8 + UUID_LEN)
			continue;
		memcpy(id, (char *)k.mv_data + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		if (db_event_get(txn, db, id, &e) != 0)
			continue;
		stop = fn(arg, &e);
		event_free(&e);
	}
	mdb_cursor_close(c);
	return stop < 0 ? stop : 0;
}

struct id_each {
	db_id_fn fn;
	void	*arg;
	size_t	 skip;	/* bytes before the id in the key */
};

static int
id_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct id_each *e = arg;
	char id[UUID_LEN + 1];

	(void)v;
	if (k->mv_size != e->skip + UUID_LEN)
		return 0;
	memcpy(id, (char *)k->mv_data + e->skip, UUID_LEN);
	id[UUID_LEN] = '\0';
	return e->fn(e->arg, id);
}

int
db_pending_each(MDB_txn *txn, struct db *db, db_id_fn fn, void *arg)
{
	struct id_each e = { fn, arg, 0 };

	return prefix_each(txn, db->pending, NULL, 0, id_each_cb, &e);
}

/* --- dedupe --- */

static int
dedupe_key(char *out, size_t len, const char *sub, const char *did)
{
	int n = snprintf(out, len, "%s%s", sub, did);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

int
db_dedupe_get(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *delivery_id, char event_id[UUID_LEN + 1])
{
	char key[KEY_MAX + 1];
	MDB_val v;
	int n, rc;

	if ((n = dedupe_key(key, sizeof(key), sub_id, delivery_id)) == -1)
		return MDB_NOTFOUND;
	if ((rc = db_get(txn, db->dedupe, key, (size_t)n, &v)) != 0)
		return rc;
	if (v.mv_size != UUID_LEN + 8)
		return MDB_NOTFOUND;
	if ((int64_t)get_be64((unsigned char *)v.mv_data + UUID_LEN) <
	    now_us() - (int64_t)DEDUPE_DAYS * 86400 * 1000000)
		return MDB_NOTFOUND;
	memcpy(event_id, v.mv_data, UUID_LEN);
	event_id[UUID_LEN] = '\0';
	return 0;
}

int
db_dedupe_put(MDB_txn *txn, struct db *db, const char *sub_id,
    const char *delivery_id, const char *event_id, int64_t at)
{
	char key[KEY_MAX + 1];
	unsigned char v[UUID_LEN + 8], tk[8 + KEY_MAX];
	int n, rc;

	if ((n = dedupe_key(key, sizeof(key), sub_id, delivery_id)) == -1 ||
	    8 + (size_t)n > KEY_MAX)
		return MDB_BAD_VALSIZE;
	memcpy(v, event_id, UUID_LEN);
	put_be64(v + UUID_LEN, (uint64_t)at);
	if ((rc = db_put(txn, db->dedupe, key, (size_t)n, v, sizeof(v), 0)))
		return rc;
	/* Expiry walks this, oldest first, instead of all of dedupe. */
	put_be64(tk, (uint64_t)at);
	memcpy(tk + 8, key, (size_t)n);
	return db_put(txn, db->dedupe_by_time, tk, 8 + (size_t)n, "", 0, 0);
}

#define DEDUPE_INDEXED	"dedupe_by_time"	/* meta: the index is whole */
#define DEDUPE_INDEX_AT	"dedupe_index_at"	/* meta: indexed up to */

static int
dedupe_indexed(MDB_txn *txn, struct db *db)
{
	MDB_val k = { sizeof(DEDUPE_INDEXED) - 1, DEDUPE_INDEXED }, v;

	return mdb_get(txn, db->meta, &k, &v) == 0;
}

int
db_dedupe_index(MDB_txn *txn, struct db *db, int limit, int *rc)
{
	MDB_val flag = { sizeof(DEDUPE_INDEXED) - 1, DEDUPE_INDEXED };
	MDB_val at = { sizeof(DEDUPE_INDEX_AT) - 1, DEDUPE_INDEX_AT };
	MDB_val k, v, last = { 0, NULL };
	unsigned char tk[8 + KEY_MAX], from[KEY_MAX], upto[KEY_MAX];
	MDB_cursor *c;
	int r, n = 0;

	*rc = 0;
	if (dedupe_indexed(txn, db))
		return 0;
	/* Resume after the last key a previous call indexed. */
	if (mdb_get(txn, db->meta, &at, &v) == 0 && v.mv_size > 0 &&
	    v.mv_size <= sizeof(from)) {
		memcpy(from, v.mv_data, v.mv_size);
		k.mv_size = v.mv_size;
		k.mv_data = from;
	} else
		k.mv_size = 0;
	if ((*rc = mdb_cursor_open(txn, db->dedupe, &c)) != 0)
		return -1;
	r = k.mv_size > 0 ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; r == 0 && *rc == 0 && n < limit;
	    r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size == UUID_LEN + 8 && 8 + k.mv_size <= KEY_MAX) {
			memcpy(tk, (unsigned char *)v.mv_data + UUID_LEN, 8);
			memcpy(tk + 8, k.mv_data, k.mv_size);
			*rc = db_put(txn, db->dedupe_by_time, tk,
			    8 + k.mv_size, "", 0, 0);
		}
		/* A copy: the page may not outlive the writes below. */
		if (k.mv_size <= sizeof(upto)) {
			memcpy(upto, k.mv_data, k.mv_size);
			last.mv_size = k.mv_size;
			last.mv_data = upto;
		}
		n++;
	}
	mdb_cursor_close(c);
	if (*rc != 0)
		return -1;
	if (r == 0 && last.mv_size > 0) {
		/* More to do: remember where (the next call redoes this
		 * key, harmlessly). */
		*rc = mdb_put(txn, db->meta, &at, &last, 0);
		return *rc != 0 ? -1 : n;
	}
	if (r != MDB_NOTFOUND && r != 0) {
		*rc = r;
		return -1;
	}
	/* Done: an older database is indexed whole, a new one at once. */
	mdb_del(txn, db->meta, &at, NULL);
	v.mv_size = 1;
	v.mv_data = "1";
	if ((*rc = mdb_put(txn, db->meta, &flag, &v, 0)) != 0)
		return -1;
	if (n > 0)
		log_info("the delivery ids of an older database are indexed "
		    "by time");
	return n;
}

/* --- runs --- */

static int
run_decode(const msgpack_object *m, struct run_rec *r)
{
	int64_t test = 0;

	memset(r, 0, sizeof(*r));
	if (mp_get_str(m, "id", r->id, sizeof(r->id)) ||
	    mp_get_str(m, "workspace", r->workspace, sizeof(r->workspace)) ||
	    mp_get_str(m, "workflow", r->workflow, sizeof(r->workflow)) ||
	    mp_get_str(m, "event_id", r->event_id, sizeof(r->event_id)) ||
	    mp_get_str(m, "status", r->status, sizeof(r->status)))
		return -1;
	mp_get_i64(m, "attempts", &r->attempts);
	mp_get_i64(m, "max_attempts", &r->max_attempts);
	mp_get_i64(m, "created_at", &r->created_at);
	mp_get_i64(m, "updated_at", &r->updated_at);
	mp_get_i64(m, "next_at", &r->next_at);
	mp_get_i64(m, "test", &test);
	r->test = test != 0;
	mp_get_str(m, "last_error", r->last_error, sizeof(r->last_error));
	return 0;
}

int
db_run_get(MDB_txn *txn, struct db *db, const char *id, struct run_rec *r)
{
	msgpack_unpacked u;
	int rc;

	if ((rc = get_mp(txn, db->runs, id, strlen(id), &u, "run")))
		return rc;
	rc = run_decode(&u.data, r);
	msgpack_unpacked_destroy(&u);
	return rc;
}

static int
run_is_due(const struct run_rec *r)
{
	return strcmp(r->status, "queued") == 0 ||
	    strcmp(r->status, "running") == 0 ||
	    strcmp(r->status, "failed") == 0;
}

static int
due_key(unsigned char out[8 + UUID_LEN], const struct run_rec *r)
{
	put_be64(out, (uint64_t)r->next_at);
	memcpy(out + 8, r->id, UUID_LEN);
	return 8 + UUID_LEN;
}

int
db_run_put(MDB_txn *txn, struct db *db, const struct run_rec *r,
    const struct run_rec *old)
{
	unsigned char k[8 + UUID_LEN];
	struct mpw w;
	int rc;

	mpw_init(&w);
	mpw_map(&w, 12);
	mpw_kv_str(&w, "id", r->id);
	mpw_kv_str(&w, "workspace", r->workspace);
	mpw_kv_str(&w, "workflow", r->workflow);
	mpw_kv_str(&w, "event_id", r->event_id);
	mpw_kv_str(&w, "status", r->status);
	mpw_kv_i64(&w, "attempts", r->attempts);
	mpw_kv_i64(&w, "max_attempts", r->max_attempts);
	mpw_kv_i64(&w, "created_at", r->created_at);
	mpw_kv_i64(&w, "updated_at", r->updated_at);
	mpw_kv_i64(&w, "next_at", r->next_at);
	mpw_kv_i64(&w, "test", r->test);
	mpw_kv_str(&w, "last_error", r->last_error);
	if ((rc = put_mp(txn, db->runs, r->id, UUID_LEN, &w)) != 0)
		return rc;
	if (old == NULL) {
		MDB_val key = { UUID_LEN, (void *)r->event_id };
		MDB_val val = { UUID_LEN, (void *)r->id };

		put_be64(k, (uint64_t)r->created_at);
		memcpy(k + 8, r->id, UUID_LEN);
		if ((rc = db_put(txn, db->runs_by_time, k, sizeof(k), "", 0,
		    0)) != 0)
			return rc;
		rc = mdb_put(txn, db->runs_by_event, &key, &val,
		    MDB_NODUPDATA);
		if (rc != 0 && rc != MDB_KEYEXIST)
			return rc;
	} else if (run_is_due(old)) {
		if ((rc = db_del(txn, db->due, k, (size_t)due_key(k, old))))
			return rc;
	}
	if (run_is_due(r))
		return db_put(txn, db->due, k, (size_t)due_key(k, r), "", 0, 0);
	return 0;
}

struct run_each {
	struct db	*db;
	MDB_txn		*txn;
	db_run_fn	 fn;
	void		*arg;
};

static int
run_each_id(void *arg, const char *id)
{
	struct run_each *e = arg;
	struct run_rec r;

	if (db_run_get(e->txn, e->db, id, &r) != 0)
		return 0;
	return e->fn(e->arg, &r);
}

int
db_run_each(MDB_txn *txn, struct db *db, db_run_fn fn, void *arg)
{
	struct run_each e = { db, txn, fn, arg };
	MDB_cursor *c;
	MDB_val k, v;
	MDB_cursor_op op = MDB_LAST;
	char id[UUID_LEN + 1];
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, db->runs_by_time, &c)) != 0)
		return rc;
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_PREV;
		if (k.mv_size != 8 + UUID_LEN)
			continue;
		memcpy(id, (char *)k.mv_data + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		stop = run_each_id(&e, id);
	}
	mdb_cursor_close(c);
	return stop < 0 ? stop : 0;
}

int
db_run_each_for_event(MDB_txn *txn, struct db *db, const char *event_id,
    db_run_fn fn, void *arg)
{
	struct run_each e = { db, txn, fn, arg };
	MDB_cursor *c;
	MDB_val k = { UUID_LEN, (void *)event_id }, v;
	char id[UUID_LEN + 1];
	int rc;

	if (strlen(event_id) != UUID_LEN)
		return 0;
	if ((rc = mdb_cursor_open(txn, db->runs_by_event, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == UUID_LEN) {
			memcpy(id, v.mv_data, UUID_LEN);
			id[UUID_LEN] = '\0';
			if (run_each_id(&e, id) != 0)
				break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return 0;
}

int
db_due_each(MDB_txn *txn, struct db *db, int64_t now, db_id_fn fn,
    void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	char id[UUID_LEN + 1];
	int rc;

	if ((rc = mdb_cursor_open(txn, db->due, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 8 + UUID_LEN)
			continue;
		if ((int64_t)get_be64(k.mv_data) > now)
			break;
		memcpy(id, (char *)k.mv_data + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		if (fn(arg, id) != 0)
			break;
	}
	mdb_cursor_close(c);
	return 0;
}

int64_t
db_due_next(MDB_txn *txn, struct db *db)
{
	MDB_cursor *c;
	MDB_val k, v;
	int64_t next = INT64_MAX;

	if (mdb_cursor_open(txn, db->due, &c) != 0)
		return next;
	if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && k.mv_size >= 8)
		next = (int64_t)get_be64(k.mv_data);
	mdb_cursor_close(c);
	return next;
}

int
db_attempt_put(MDB_txn *txn, struct db *db, const char *run_id,
    const struct attempt_rec *a)
{
	unsigned char k[UUID_LEN + 8];
	struct mpw w;

	memcpy(k, run_id, UUID_LEN);
	put_be64(k + UUID_LEN, (uint64_t)a->n);
	mpw_init(&w);
	mpw_map(&w, 7);
	mpw_kv_i64(&w, "n", a->n);
	mpw_kv_i64(&w, "started_at", a->started_at);
	mpw_kv_i64(&w, "duration_us", a->duration_us);
	mpw_kv_i64(&w, "exit_code", a->exit_code);
	mpw_kv_i64(&w, "http_status", a->http_status);
	mpw_kv_str(&w, "error", a->error);
	mpw_kv_bin(&w, "output", a->output, a->output_len);
	return put_mp(txn, db->attempts, k, sizeof(k), &w);
}

struct attempt_each {
	db_attempt_fn fn;
	void	*arg;
};

static int
attempt_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct attempt_each *e = arg;
	struct attempt_rec a;
	msgpack_unpacked u;
	const void *p = NULL;
	size_t n = 0;
	int rc;

	(void)k;
	if (mp_unpack(v->mv_data, v->mv_size, &u) == -1)
		return 0;
	memset(&a, 0, sizeof(a));
	a.exit_code = -1;
	mp_get_i64(&u.data, "n", &a.n);
	mp_get_i64(&u.data, "started_at", &a.started_at);
	mp_get_i64(&u.data, "duration_us", &a.duration_us);
	mp_get_i64(&u.data, "exit_code", &a.exit_code);
	mp_get_i64(&u.data, "http_status", &a.http_status);
	mp_get_str(&u.data, "error", a.error, sizeof(a.error));
	mp_get_binp(&u.data, "output", &p, &n);
	a.output = (unsigned char *)p;
	a.output_len = n;
	rc = e->fn(e->arg, &a);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
db_attempt_each(MDB_txn *txn, struct db *db, const char *run_id,
    db_attempt_fn fn, void *arg)
{
	struct attempt_each e = { fn, arg };

	return prefix_each(txn, db->attempts, run_id, strlen(run_id),
	    attempt_each_cb, &e);
}

int
db_run_inputs_put(MDB_txn *txn, struct db *db, const char *run_id,
    const char *json)
{
	return db_put(txn, db->run_inputs, run_id, strlen(run_id), json,
	    strlen(json), 0);
}

char *
db_run_inputs_get(MDB_txn *txn, struct db *db, const char *run_id)
{
	MDB_val v;

	if (db_get(txn, db->run_inputs, run_id, strlen(run_id), &v) != 0)
		return NULL;
	return strndup(v.mv_data, v.mv_size);
}

/*
 * LMDB does not say where it mapped the file (me_mapaddr is only set for
 * MDB_FIXEDMAP): find the mapping of data.mdb in /proc/self/maps.
 */
static void *
map_base(struct db *db, size_t *len)
{
	char line[PATH_MAX + 256], want[PATH_MAX + 16];
	const char *path;
	unsigned long lo, hi;
	void *base = NULL;
	FILE *f;

	if (mdb_env_get_path(db->env, &path) != 0)
		return NULL;
	snprintf(want, sizeof(want), "%s/data.mdb", path);
	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = strchr(line, '/');

		line[strcspn(line, "\n")] = '\0';
		if (name == NULL || strcmp(name, want) != 0 ||
		    sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		/* The map of the whole file is the largest such range. */
		if (hi - lo > *len) {
			base = (void *)lo;
			*len = hi - lo;
		}
	}
	fclose(f);
	return base;
}

void
db_trim(struct db *db)
{
	MDB_envinfo info;
	MDB_stat st;
	size_t used, len = 0;
	void *base;

	if (mdb_env_info(db->env, &info) != 0 || mdb_env_stat(db->env, &st))
		return;
	/* The map moves only when its size changes. */
	if (db->trim_base == NULL || db->trim_mapsize != info.me_mapsize) {
		if ((base = map_base(db, &len)) == NULL)
			return;
		db->trim_base = base;
		db->trim_len = len;
		db->trim_mapsize = info.me_mapsize;
	}
	base = db->trim_base;
	len = db->trim_len;
	db->trim_last = mono_ms();
	used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	if (used > len)
		used = len;
	/* The map is MAP_SHARED on the data file: dropping our page table
	 * entries loses nothing, the pages stay in the page cache. */
	madvise(base, used, MADV_DONTNEED);
}

void
db_trim_every(struct db *db, int64_t ms)
{
	if (mono_ms() - db->trim_last >= ms)
		db_trim(db);
}

int
db_grow(struct db *db)
{
	MDB_envinfo info;
	size_t size, before;

	if (mdb_env_info(db->env, &info) != 0)
		return -1;
	/* Another process may have grown it already: adopt that first. */
	before = info.me_mapsize;
	if (mdb_env_set_mapsize(db->env, 0) == 0 &&
	    mdb_env_info(db->env, &info) == 0 && info.me_mapsize > before) {
		log_info("database map is %zu MiB (grown elsewhere)",
		    info.me_mapsize >> 20);
		return 0;
	}
	size = info.me_mapsize;
	if (size >= db->map_max)
		return -1;
	size = size * 2 > db->map_max ? db->map_max : size * 2;
	if (mdb_env_set_mapsize(db->env, size) != 0)
		return -1;
	log_info("database map grown to %zu MiB", size >> 20);
	return 0;
}

struct prune {
	struct db	*db;
	MDB_txn		*txn;
	int64_t		 cutoff;
	int		 limit;
	int		 n;
	int		 rc;
	unsigned char	 keys[1024][8 + UUID_LEN];
	int		 nkeys;
};

static int
prune_collect(void *arg, MDB_val *k, MDB_val *v)
{
	struct prune *p = arg;

	(void)v;
	if (k->mv_size != 8 + UUID_LEN || p->nkeys == p->limit ||
	    p->nkeys == 1024 || (int64_t)get_be64(k->mv_data) >= p->cutoff)
		return 1;
	memcpy(p->keys[p->nkeys++], k->mv_data, k->mv_size);
	return 0;
}

static int
prune_run(void *arg, const struct run_rec *r)
{
	struct prune *p = arg;
	unsigned char k[8 + UUID_LEN];
	MDB_val key, val;
	MDB_cursor *c;

	if (run_is_due(r)) {
		p->rc = MDB_KEYEXIST;	/* still due: keep the event */
		return 1;
	}
	put_be64(k, (uint64_t)r->created_at);
	memcpy(k + 8, r->id, UUID_LEN);
	if ((p->rc = db_del(p->txn, p->db->runs_by_time, k, sizeof(k))) ||
	    (p->rc = db_del(p->txn, p->db->run_inputs, r->id, UUID_LEN)) ||
	    (p->rc = db_del(p->txn, p->db->runs, r->id, UUID_LEN)))
		return 1;
	/* Every attempt of the run. */
	if ((p->rc = mdb_cursor_open(p->txn, p->db->attempts, &c)) != 0)
		return 1;
	key.mv_size = UUID_LEN;
	key.mv_data = (void *)r->id;
	while (mdb_cursor_get(c, &key, &val, MDB_SET_RANGE) == 0 &&
	    key.mv_size >= UUID_LEN && memcmp(key.mv_data, r->id,
	    UUID_LEN) == 0) {
		if ((p->rc = mdb_cursor_del(c, 0)) != 0)
			break;
		key.mv_size = UUID_LEN;
		key.mv_data = (void *)r->id;
	}
	mdb_cursor_close(c);
	p->n++;
	return p->rc != 0;
}

int
db_prune(MDB_txn *txn, struct db *db, int64_t cutoff, int limit, int *rc)
{
	struct prune *p = calloc(1, sizeof(*p));
	char id[UUID_LEN + 1];
	int i, n;

	if (p == NULL) {
		*rc = ENOMEM;
		return -1;
	}
	p->db = db;
	p->txn = txn;
	p->cutoff = cutoff;
	p->limit = limit;
	prefix_each(txn, db->events_by_time, NULL, 0, prune_collect, p);
	for (i = 0; i < p->nkeys && p->rc == 0; i++) {
		MDB_val v;

		memcpy(id, p->keys[i] + 8, UUID_LEN);
		id[UUID_LEN] = '\0';
		if (db_get(txn, db->pending, id, UUID_LEN, &v) == 0)
			break;	/* not routed yet: keep it and what follows */
		db_run_each_for_event(txn, db, id, prune_run, p);
		if (p->rc == MDB_KEYEXIST) {
			p->rc = 0;
			continue;
		}
		if (p->rc != 0)
			break;
		if ((p->rc = db_del(txn, db->runs_by_event, id, UUID_LEN)) ||
		    (p->rc = db_del(txn, db->events, id, UUID_LEN)) ||
		    (p->rc = db_del(txn, db->events_by_time, p->keys[i],
		    8 + UUID_LEN)))
			break;
		p->n++;
	}
	/* Dedupe entries live DEDUPE_DAYS, whatever the retention: the
	 * oldest first, from their index by time, up to the cutoff. An entry
	 * written again since (an id seen anew after it expired) is newer
	 * than its old index key, and stays. */
	if (p->rc == 0 && dedupe_indexed(txn, db)) {
		MDB_cursor *c;
		MDB_val k, v, dk, dv;
		int64_t old = now_us() - (int64_t)DEDUPE_DAYS * 86400 * 1000000;
		int dropped = 0;

		if ((p->rc = mdb_cursor_open(txn, db->dedupe_by_time, &c)) == 0) {
			while (dropped < limit && mdb_cursor_get(c, &k, &v,
			    MDB_FIRST) == 0) {
				int64_t at = k.mv_size > 8 ?
				    (int64_t)get_be64(k.mv_data) : 0;

				if (at >= old)
					break;
				dk.mv_size = k.mv_size - 8;
				dk.mv_data = (unsigned char *)k.mv_data + 8;
				if (k.mv_size > 8 &&
				    mdb_get(txn, db->dedupe, &dk, &dv) == 0 &&
				    dv.mv_size == UUID_LEN + 8 && (int64_t)
				    get_be64((unsigned char *)dv.mv_data +
				    UUID_LEN) <= at &&
				    (p->rc = mdb_del(txn, db->dedupe, &dk,
				    NULL)) != 0)
					break;
				if ((p->rc = mdb_cursor_del(c, 0)) != 0)
					break;
				dropped++;
			}
			mdb_cursor_close(c);
			p->n += dropped;
		}
	}
	n = p->n;
	*rc = p->rc;
	free(p);
	return *rc != 0 ? -1 : n;
}

/* --- credentials and OAuth --- */

static int
cred_decode(const msgpack_object *m, struct cred_rec *c)
{
	memset(c, 0, sizeof(*c));
	if (mp_get_str(m, "workspace", c->workspace, sizeof(c->workspace)) ||
	    mp_get_str(m, "name", c->name, sizeof(c->name)) ||
	    mp_get_str(m, "integration", c->integration,
	    sizeof(c->integration)) ||
	    mp_get_str(m, "kind", c->kind, sizeof(c->kind)))
		return -1;
	mp_get_str(m, "login", c->login, sizeof(c->login));
	get_sealed(m, "token", c->token, &c->token_len);
	mp_get_i64(m, "created_at", &c->created_at);
	return 0;
}

int
db_cred_get(MDB_txn *txn, struct db *db, const char *ws, const char *name,
    struct cred_rec *c)
{
	char key[KEY_MAX + 1];
	msgpack_unpacked u;
	int rc, n;

	if ((n = wf_key(key, sizeof(key), ws, name)) == -1)
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->creds, key, (size_t)n, &u, "credential")))
		return rc;
	rc = cred_decode(&u.data, c);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
db_cred_put(MDB_txn *txn, struct db *db, const struct cred_rec *c)
{
	char key[KEY_MAX + 1], aad[2 * NAME_MAX_LEN + 8];
	struct cred_rec fresh;
	struct mpw w;
	int n, rc;

	if ((n = wf_key(key, sizeof(key), c->workspace, c->name)) == -1)
		return MDB_BAD_VALSIZE;
	fresh = *c;
	snprintf(aad, sizeof(aad), "cred:%s/%s", c->workspace, c->name);
	if ((rc = seal_current(txn, db, aad, fresh.token,
	    &fresh.token_len)) != 0)
		return rc;
	c = &fresh;
	mpw_init(&w);
	mpw_map(&w, 7);
	mpw_kv_str(&w, "workspace", c->workspace);
	mpw_kv_str(&w, "name", c->name);
	mpw_kv_str(&w, "integration", c->integration);
	mpw_kv_str(&w, "kind", c->kind);
	mpw_kv_str(&w, "login", c->login);
	mpw_kv_bin(&w, "token", c->token, c->token_len);
	mpw_kv_i64(&w, "created_at", c->created_at);
	return put_mp(txn, db->creds, key, (size_t)n, &w);
}

int
db_cred_del(MDB_txn *txn, struct db *db, const char *ws, const char *name)
{
	char key[KEY_MAX + 1];
	int n;

	if ((n = wf_key(key, sizeof(key), ws, name)) == -1)
		return MDB_NOTFOUND;
	return db_del(txn, db->creds, key, (size_t)n);
}

struct cred_each {
	db_cred_fn fn;
	void	*arg;
};

static int
cred_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct cred_each *e = arg;
	msgpack_unpacked u;
	struct cred_rec c;
	int rc;

	(void)k;
	if (mp_unpack(v->mv_data, v->mv_size, &u) == -1)
		return 0;
	rc = cred_decode(&u.data, &c);
	msgpack_unpacked_destroy(&u);
	return rc == 0 ? e->fn(e->arg, &c) : 0;
}

int
db_cred_each(MDB_txn *txn, struct db *db, const char *ws, db_cred_fn fn,
    void *arg)
{
	struct cred_each e = { fn, arg };
	char prefix[KEY_MAX + 1];
	int pn = ws ? snprintf(prefix, sizeof(prefix), "%s/", ws) : 0;

	return prefix_each(txn, db->creds, prefix, (size_t)pn, cred_each_cb,
	    &e);
}

static int
seal_str(struct db *db, const char *aad, const char *plain,
    unsigned char *out, size_t *outlen)
{
	size_t n = strlen(plain);

	if (n == 0 || n > SECRET_MAX)
		return -1;
	return db_seal(db, aad, plain, n, out, outlen);
}

static int
unseal_str(struct db *db, const char *aad, const unsigned char *in,
    size_t n, char *out, size_t cap)
{
	int len;

	if (cap == 0 || sealed_len(in, n) < 0 ||
	    (size_t)sealed_len(in, n) >= cap)
		return -1;
	if ((len = db_unseal(db, aad, in, n, (unsigned char *)out, cap - 1)) < 0)
		return -1;
	out[len] = '\0';
	return len;
}

int
db_cred_set_token(struct db *db, struct cred_rec *c, const char *token)
{
	char aad[2 * NAME_MAX_LEN + 8];

	snprintf(aad, sizeof(aad), "cred:%s/%s", c->workspace, c->name);
	return seal_str(db, aad, token, c->token, &c->token_len);
}

int
db_cred_token(struct db *db, const struct cred_rec *c, char *out, size_t cap)
{
	char aad[2 * NAME_MAX_LEN + 8];

	snprintf(aad, sizeof(aad), "cred:%s/%s", c->workspace, c->name);
	return unseal_str(db, aad, c->token, c->token_len, out, cap);
}

int
db_oauth_client_get(MDB_txn *txn, struct db *db, const char *ws,
    const char *integ, struct oauth_client_rec *c)
{
	char key[KEY_MAX + 1];
	msgpack_unpacked u;
	int rc, n;

	if ((n = wf_key(key, sizeof(key), ws, integ)) == -1)
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->oauth_clients, key, (size_t)n, &u,
	    "OAuth client")))
		return rc;
	memset(c, 0, sizeof(*c));
	if (mp_get_str(&u.data, "workspace", c->workspace,
	    sizeof(c->workspace)) || mp_get_str(&u.data, "integration",
	    c->integration, sizeof(c->integration)) ||
	    mp_get_str(&u.data, "client_id", c->client_id,
	    sizeof(c->client_id)))
		rc = -1;
	get_sealed(&u.data, "secret", c->secret, &c->secret_len);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
db_oauth_client_put(MDB_txn *txn, struct db *db,
    const struct oauth_client_rec *c)
{
	char key[KEY_MAX + 1], aad[2 * NAME_MAX_LEN + 8];
	struct oauth_client_rec fresh;
	struct mpw w;
	int n, rc;

	if ((n = wf_key(key, sizeof(key), c->workspace, c->integration)) == -1)
		return MDB_BAD_VALSIZE;
	fresh = *c;
	snprintf(aad, sizeof(aad), "oauth:%s/%s", c->workspace,
	    c->integration);
	if ((rc = seal_current(txn, db, aad, fresh.secret,
	    &fresh.secret_len)) != 0)
		return rc;
	c = &fresh;
	mpw_init(&w);
	mpw_map(&w, 4);
	mpw_kv_str(&w, "workspace", c->workspace);
	mpw_kv_str(&w, "integration", c->integration);
	mpw_kv_str(&w, "client_id", c->client_id);
	mpw_kv_bin(&w, "secret", c->secret, c->secret_len);
	return put_mp(txn, db->oauth_clients, key, (size_t)n, &w);
}

int
db_oauth_client_set_secret(struct db *db, struct oauth_client_rec *c,
    const char *secret)
{
	char aad[2 * NAME_MAX_LEN + 8];

	snprintf(aad, sizeof(aad), "oauth:%s/%s", c->workspace,
	    c->integration);
	return seal_str(db, aad, secret, c->secret, &c->secret_len);
}

int
db_oauth_client_secret(struct db *db, const struct oauth_client_rec *c,
    char *out, size_t cap)
{
	char aad[2 * NAME_MAX_LEN + 8];

	snprintf(aad, sizeof(aad), "oauth:%s/%s", c->workspace,
	    c->integration);
	return unseal_str(db, aad, c->secret, c->secret_len, out, cap);
}

int
db_oauth_state_put(MDB_txn *txn, struct db *db,
    const struct oauth_state_rec *st)
{
	struct mpw w;

	mpw_init(&w);
	mpw_map(&w, 6);
	mpw_kv_str(&w, "workspace", st->workspace);
	mpw_kv_str(&w, "integration", st->integration);
	mpw_kv_str(&w, "name", st->name);
	mpw_kv_i64(&w, "expires_at", st->expires_at);
	mpw_kv_i64(&w, "replace", st->replace);
	mpw_kv_bin(&w, "verifier", st->verifier, st->verifier_len);
	return put_mp(txn, db->oauth_states, st->state, strlen(st->state), &w);
}

int
db_oauth_state_take(MDB_txn *txn, struct db *db, const char *state,
    struct oauth_state_rec *st)
{
	msgpack_unpacked u;
	int rc;

	memset(st, 0, sizeof(*st));
	if (strlen(state) == 0 || strlen(state) >= sizeof(st->state))
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->oauth_states, state, strlen(state), &u,
	    "OAuth state")) != 0)
		return rc == -1 ? MDB_NOTFOUND : rc;
	str_copy(st->state, state, sizeof(st->state));
	mp_get_str(&u.data, "workspace", st->workspace, sizeof(st->workspace));
	mp_get_str(&u.data, "integration", st->integration,
	    sizeof(st->integration));
	mp_get_str(&u.data, "name", st->name, sizeof(st->name));
	mp_get_i64(&u.data, "expires_at", &st->expires_at);
	{
		int64_t rep = 0;

		mp_get_i64(&u.data, "replace", &rep);
		st->replace = rep != 0;
	}
	get_sealed(&u.data, "verifier", st->verifier, &st->verifier_len);
	msgpack_unpacked_destroy(&u);
	if ((rc = db_del(txn, db->oauth_states, state, strlen(state))) != 0)
		return rc;
	return st->expires_at < now_us() ? ETIMEDOUT : 0;
}

int
db_oauth_state_exists(MDB_txn *txn, struct db *db, const char *state)
{
	MDB_val v;

	return strlen(state) > 0 && strlen(state) <= 64 && db_get(txn,
	    db->oauth_states, state, strlen(state), &v) == 0;
}

int
db_oauth_state_set_verifier(struct db *db, struct oauth_state_rec *st,
    const char *verifier)
{
	char aad[80];

	snprintf(aad, sizeof(aad), "pkce:%s", st->state);
	return seal_str(db, aad, verifier, st->verifier, &st->verifier_len);
}

int
db_oauth_state_verifier(struct db *db, const struct oauth_state_rec *st,
    char *out, size_t cap)
{
	char aad[80];

	snprintf(aad, sizeof(aad), "pkce:%s", st->state);
	return unseal_str(db, aad, st->verifier, st->verifier_len, out, cap);
}

/* --- the master keys --- */

/*
 * Secrets are sealed under a master key named by an id, which every
 * sealed value carries. Key 1 is $HOOKPIPE_HOME/master.key (made on first
 * use); a rotation adds master.key.2, .3, ... The id of the key to seal
 * with lives in meta "key_current", so that every writer reads it inside
 * its own write transaction: a value is never written under a key older
 * than the one a committed rotation chose (seal_current() re-seals at
 * put time). Readers load keys by id and never delete one; a rotation
 * retires a key file only once no stored value uses it.
 */
#define KEY_CURRENT	"key_current"

static void
key_file(const struct db *db, uint32_t id, char *out, size_t len)
{
	if (id == 1)
		snprintf(out, len, "%s", db->key_path);
	else
		snprintf(out, len, "%s.%u", db->key_path, id);
}

/* The key of that id, from the cache or its file; NULL when missing. */
static const unsigned char *
db_key(struct db *db, uint32_t id)
{
	char path[PATH_MAX + 16], err[PATH_MAX + 128];
	struct db_key *k;
	int i;

	for (i = 0; i < db->nkeys; i++)
		if (db->keys[i].id == id)
			return db->keys[i].k;
	if (id == 0)
		return NULL;
	if (db->nkeys == DB_KEYS_MAX) {
		/* The oldest goes; a value still sealed with it reloads it. */
		OPENSSL_cleanse(&db->keys[0], sizeof(db->keys[0]));
		memmove(db->keys, db->keys + 1, (DB_KEYS_MAX - 1) *
		    sizeof(db->keys[0]));
		db->nkeys--;
	}
	k = &db->keys[db->nkeys];
	key_file(db, id, path, sizeof(path));
	if (master_key_read(path, k->k, err, sizeof(err)) == -1) {
		log_warn("master key %u: %s", id, err);
		return NULL;
	}
	k->id = id;
	db->nkeys++;
	return k->k;
}

static uint32_t
current_key(MDB_txn *txn, struct db *db)
{
	MDB_val k = { strlen(KEY_CURRENT), KEY_CURRENT }, v;
	const unsigned char *b;

	if (mdb_get(txn, db->meta, &k, &v) != 0 || v.mv_size != 4)
		return 1;
	b = v.mv_data;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static int
set_current_key(MDB_txn *txn, struct db *db, uint32_t id)
{
	unsigned char b[4] = { (unsigned char)(id >> 24),
	    (unsigned char)(id >> 16), (unsigned char)(id >> 8),
	    (unsigned char)id };
	MDB_val k = { strlen(KEY_CURRENT), KEY_CURRENT }, v = { 4, b };

	return mdb_put(txn, db->meta, &k, &v, 0);
}

/* At open: the current key must be there; key 1 is made on first use. */
static int
keys_open(struct db *db, MDB_txn *txn, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];

	db->key_current = current_key(txn, db);
	if (db->key_current == 1) {
		if (master_key_load(db->key_path, db->keys[0].k, err,
		    errlen) == -1)
			return -1;
		db->keys[0].id = 1;
		db->nkeys = 1;
		return 0;
	}
	if (db_key(db, db->key_current) == NULL) {
		key_file(db, db->key_current, path, sizeof(path));
		snprintf(err, errlen, "the master key the secrets are sealed "
		    "with, %s, cannot be read; restore it from a backup", path);
		return -1;
	}
	return 0;
}

int
db_seal(struct db *db, const char *aad, const void *plain, size_t n,
    unsigned char *out, size_t *outlen)
{
	const unsigned char *key = db_key(db, db->key_current);

	if (key == NULL || seal(key, db->key_current, aad, plain, n, out) == -1)
		return -1;
	*outlen = n + SEAL_OVERHEAD;
	return 0;
}

int
db_unseal(struct db *db, const char *aad, const unsigned char *in, size_t n,
    unsigned char *out, size_t cap)
{
	const unsigned char *key;
	int len = sealed_len(in, n);

	if (len < 0 || (size_t)len > cap ||
	    (key = db_key(db, sealed_key_id(in, n))) == NULL)
		return -1;
	return unseal(key, aad, in, n, out);
}

/*
 * Make a sealed value (in place, in a SEALED_MAX buffer) use the key
 * that is current in this write transaction: what a stale process sealed
 * before a rotation committed is re-sealed, never written under a key the
 * rotation is about to retire.
 */
static int
seal_current(MDB_txn *txn, struct db *db, const char *aad,
    unsigned char *val, size_t *len)
{
	unsigned char plain[SEALED_MAX];
	uint32_t cur;
	int n;

	if (*len == 0)
		return 0;
	cur = current_key(txn, db);
	if (sealed_key_id(val, *len) == cur)
		return 0;
	if ((n = db_unseal(db, aad, val, *len, plain, sizeof(plain))) < 0 ||
	    (size_t)n > SECRET_MAX)
		return DB_ESEAL;
	db->key_current = cur;
	n = db_seal(db, aad, plain, (size_t)n, val, len);
	OPENSSL_cleanse(plain, sizeof(plain));
	return n == 0 ? 0 : DB_ESEAL;
}

/*
 * The same for a sealed part of any length: *out is *in when it is
 * current, else a new value (malloc'd) the caller frees.
 */
static int
seal_current_text(MDB_txn *txn, struct db *db, const char *aad,
    const struct sealed_text *in, struct sealed_text *out)
{
	unsigned char *plain;
	int n;

	*out = *in;
	if (in->n == 0 || sealed_key_id(in->p, in->n) == current_key(txn, db))
		return 0;
	if ((n = sealed_len(in->p, in->n)) < 0 ||
	    (plain = malloc((size_t)n + 1)) == NULL)
		return DB_ESEAL;
	db->key_current = current_key(txn, db);
	if (db_unseal(db, aad, in->p, in->n, plain, (size_t)n) != n ||
	    (out->p = malloc((size_t)n + SEAL_OVERHEAD)) == NULL ||
	    db_seal(db, aad, plain, (size_t)n, out->p, &out->n) == -1) {
		if (out->p != in->p)
			free(out->p);
		*out = *in;
		OPENSSL_cleanse(plain, (size_t)n);
		free(plain);
		return DB_ESEAL;
	}
	OPENSSL_cleanse(plain, (size_t)n);
	free(plain);
	return 0;
}

int
db_wf_app_key(struct db *db, const struct wf_rec *w, char *out, size_t cap)
{
	char aad[2 * NAME_MAX_LEN + 2];

	snprintf(aad, sizeof(aad), "%s/%s", w->workspace, w->name);
	return unseal_str(db, aad, w->app_key, w->app_key_len, out, cap);
}

int
db_wf_set_app_key(struct db *db, struct wf_rec *w, const char *key)
{
	char aad[2 * NAME_MAX_LEN + 2];

	snprintf(aad, sizeof(aad), "%s/%s", w->workspace, w->name);
	return seal_str(db, aad, key, w->app_key, &w->app_key_len);
}

/* "headers:ws/name": each part is bound to its workflow and its role. */
static void
wf_sealed_aad(const struct wf_rec *w, enum wf_sealed which, char *aad,
    size_t len)
{
	static const char *const what[WF_SEALED_N] = { "headers", "url",
	    "env" };

	snprintf(aad, len, "%s:%s/%s", what[which], w->workspace, w->name);
}

int
db_wf_seal(struct db *db, struct wf_rec *w, enum wf_sealed which,
    const char *plain)
{
	char aad[2 * NAME_MAX_LEN + 16];
	size_t n = strlen(plain), len;
	unsigned char *p;

	if (n == 0 || (p = malloc(n + SEAL_OVERHEAD)) == NULL)
		return -1;
	wf_sealed_aad(w, which, aad, sizeof(aad));
	if (db_seal(db, aad, plain, n, p, &len) == -1) {
		free(p);
		return -1;
	}
	free(w->sealed[which].p);
	w->sealed[which].p = p;
	w->sealed[which].n = len;
	return 0;
}

char *
db_wf_unseal(struct db *db, const struct wf_rec *w, enum wf_sealed which)
{
	const struct sealed_text *st = &w->sealed[which];
	char aad[2 * NAME_MAX_LEN + 16], *out;
	int len;

	if (sealed_len(st->p, st->n) <= 0 || (out = malloc(st->n)) == NULL)
		return NULL;
	wf_sealed_aad(w, which, aad, sizeof(aad));
	if ((len = db_unseal(db, aad, st->p, st->n, (unsigned char *)out,
	    st->n - 1)) < 0) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

/*
 * Rotation. Every record that holds a sealed value is read and written
 * back after the new key became current in the same transaction: the
 * puts re-seal through seal_current().
 */
struct rotation {
	struct db	*db;
	MDB_txn		*txn;
	int		 rc;
	int		 n;
	char		 what[160];
	/* The walk collects keys; the records are rewritten after it. */
	char		(*keys)[2 * NAME_MAX_LEN + 2];
	size_t		 nkeys, cap;
	/* Retirement: the key ids stored values use. */
	uint32_t	 used[64];
	int		 nused;
};

static int
rot_collect(void *arg, MDB_val *k, MDB_val *v)
{
	struct rotation *r = arg;

	(void)v;
	if (k->mv_size >= sizeof(r->keys[0]))
		return 0;
	if (r->nkeys == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		void *p = realloc(r->keys, cap * sizeof(r->keys[0]));

		if (p == NULL) {
			r->rc = ENOMEM;
			return 1;
		}
		r->keys = p;
		r->cap = cap;
	}
	memcpy(r->keys[r->nkeys], k->mv_data, k->mv_size);
	r->keys[r->nkeys++][k->mv_size] = '\0';
	return 0;
}

static void
rot_walk(struct rotation *r, MDB_dbi dbi)
{
	r->nkeys = 0;
	if (r->rc == 0)
		r->rc = prefix_each(r->txn, dbi, NULL, 0, rot_collect, r);
}

/* "ws/name" -> ws and name */
static int
split_key(const char *key, char *ws, char *name)
{
	const char *slash = strchr(key, '/');

	if (slash == NULL || (size_t)(slash - key) > NAME_MAX_LEN ||
	    strlen(slash + 1) > NAME_MAX_LEN)
		return -1;
	memcpy(ws, key, (size_t)(slash - key));
	ws[slash - key] = '\0';
	strcpy(name, slash + 1);
	return 0;
}

static void
rot_fail(struct rotation *r, int rc, const char *what)
{
	if (rc != 0 && r->rc == 0) {
		r->rc = rc;
		str_copy(r->what, what, sizeof(r->what));
	}
}

static void
rot_rewrite(struct rotation *r)
{
	char ws[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
	size_t i;
	int rc;

	rot_walk(r, r->db->subs);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct sub_rec s;

		if (db_sub_get(r->txn, r->db, r->keys[i], &s) != 0)
			continue;
		rot_fail(r, db_sub_put(r->txn, r->db, &s), s.id);
		r->n += (s.secret_len > 0) + (s.secret2_len > 0);
	}
	rot_walk(r, r->db->workflows);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct wf_rec w;

		int j, parts;

		if (split_key(r->keys[i], ws, name) == -1 ||
		    db_wf_get(r->txn, r->db, ws, name, &w) != 0)
			continue;
		for (j = 0, parts = w.app_key_len > 0; j < WF_SEALED_N; j++)
			parts += w.sealed[j].n > 0;
		if (parts > 0) {
			rot_fail(r, db_wf_put(r->txn, r->db, &w), r->keys[i]);
			r->n += parts;
		}
		wf_free(&w);
	}
	rot_walk(r, r->db->creds);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct cred_rec c;

		if (split_key(r->keys[i], ws, name) == -1 ||
		    db_cred_get(r->txn, r->db, ws, name, &c) != 0)
			continue;
		rc = db_cred_put(r->txn, r->db, &c);
		rot_fail(r, rc, r->keys[i]);
		r->n += c.token_len > 0;
	}
	rot_walk(r, r->db->oauth_clients);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct oauth_client_rec c;

		if (split_key(r->keys[i], ws, name) == -1 ||
		    db_oauth_client_get(r->txn, r->db, ws, name, &c) != 0)
			continue;
		rot_fail(r, db_oauth_client_put(r->txn, r->db, &c),
		    r->keys[i]);
		r->n += c.secret_len > 0;
	}
}

static void
rot_use(struct rotation *r, const unsigned char *val, size_t len)
{
	uint32_t id = sealed_key_id(val, len);
	int i;

	if (id == 0)
		return;
	for (i = 0; i < r->nused; i++)
		if (r->used[i] == id)
			return;
	if (r->nused < (int)(sizeof(r->used) / sizeof(r->used[0])))
		r->used[r->nused++] = id;
	else
		r->rc = E2BIG;	/* too many to tell: retire nothing */
}

/* Which keys stored values use, read in txn. */
static void
rot_used(struct rotation *r)
{
	char ws[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
	size_t i;

	r->nused = 0;
	rot_walk(r, r->db->subs);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct sub_rec s;

		if (db_sub_get(r->txn, r->db, r->keys[i], &s) != 0) {
			r->rc = EIO;	/* unreadable: keep every key */
			break;
		}
		rot_use(r, s.secret, s.secret_len);
		rot_use(r, s.secret2, s.secret2_len);
	}
	rot_walk(r, r->db->workflows);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct wf_rec w;

		if (split_key(r->keys[i], ws, name) == -1 ||
		    db_wf_get(r->txn, r->db, ws, name, &w) != 0) {
			r->rc = EIO;
			break;
		}
		rot_use(r, w.app_key, w.app_key_len);
		for (int j = 0; j < WF_SEALED_N; j++)
			rot_use(r, w.sealed[j].p, w.sealed[j].n);
		wf_free(&w);
	}
	rot_walk(r, r->db->creds);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct cred_rec c;

		if (split_key(r->keys[i], ws, name) == -1 ||
		    db_cred_get(r->txn, r->db, ws, name, &c) != 0) {
			r->rc = EIO;
			break;
		}
		rot_use(r, c.token, c.token_len);
	}
	rot_walk(r, r->db->oauth_clients);
	for (i = 0; i < r->nkeys && r->rc == 0; i++) {
		struct oauth_client_rec c;

		if (split_key(r->keys[i], ws, name) == -1 ||
		    db_oauth_client_get(r->txn, r->db, ws, name, &c) != 0) {
			r->rc = EIO;
			break;
		}
		rot_use(r, c.secret, c.secret_len);
	}
}

/* The directory of the key files, and the base name of key 1. */
static void
key_dir(const struct db *db, char *dir, size_t len, const char **base)
{
	const char *slash = strrchr(db->key_path, '/');

	if (slash == NULL) {
		snprintf(dir, len, ".");
		*base = db->key_path;
	} else {
		snprintf(dir, len, "%.*s", (int)(slash - db->key_path),
		    db->key_path);
		*base = slash + 1;
	}
}

/* The id a file name in the key directory stands for, or 0. */
static uint32_t
key_file_id(const char *name, const char *base)
{
	size_t bl = strlen(base);
	int64_t id;

	if (strcmp(name, base) == 0)
		return 1;
	if (strncmp(name, base, bl) != 0 || name[bl] != '.' ||
	    parse_i64(name + bl + 1, 2, UINT32_MAX, &id) == -1)
		return 0;
	return (uint32_t)id;
}

static void
fsync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
}

/* The highest key id on disk. */
static uint32_t
key_max_on_disk(const struct db *db)
{
	char dir[PATH_MAX];
	const char *base;
	struct dirent *de;
	uint32_t max = 0, id;
	DIR *d;

	key_dir(db, dir, sizeof(dir), &base);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if ((id = key_file_id(de->d_name, base)) > max)
			max = id;
	closedir(d);
	return max;
}

/* Delete the key files that no stored value uses; keep current. */
static int
key_retire(struct rotation *r, uint32_t current)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	const char *base;
	struct dirent *de;
	uint32_t id;
	int i, n = 0, used;
	DIR *d;

	key_dir(r->db, dir, sizeof(dir), &base);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if ((id = key_file_id(de->d_name, base)) == 0 || id == current)
			continue;
		for (i = 0, used = 0; i < r->nused; i++)
			used |= r->used[i] == id;
		if (used)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	fsync_dir(dir);
	return n;
}

int
db_rotate_key(struct db *db, char *err, size_t errlen)
{
	struct rotation *r = calloc(1, sizeof(*r));
	char path[PATH_MAX + 16], lock[PATH_MAX + 16], dir[PATH_MAX];
	unsigned char key[MASTER_KEY_LEN];
	const char *base;
	uint32_t newid;
	int lfd, fd, rc, n = -1;

	if (r == NULL)
		return -1;
	r->db = db;
	/* One rotation at a time. */
	snprintf(lock, sizeof(lock), "%s.lock", db->key_path);
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(lfd, LOCK_EX) == -1) {
		snprintf(err, errlen, "cannot lock %s: %s", lock,
		    strerror(errno));
		goto out;
	}
	/* The new key is on disk, synced, before anything is sealed with
	 * it; it is new, never an overwritten file. */
	if ((r->txn = db_begin(db, 1)) == NULL) {
		snprintf(err, errlen, "cannot begin a transaction");
		goto out;
	}
	newid = current_key(r->txn, db);
	mdb_txn_abort(r->txn);
	if (key_max_on_disk(db) > newid)
		newid = key_max_on_disk(db);
	newid++;
	key_file(db, newid, path, sizeof(path));
	if (crypto_random(key, sizeof(key)) == -1 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (write(fd, key, sizeof(key)) != sizeof(key) || fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	key_dir(db, dir, sizeof(dir), &base);
	fsync_dir(dir);
	OPENSSL_cleanse(key, sizeof(key));

	/* Current from this commit on, and everything re-sealed in it. */
	if ((r->txn = db_begin(db, 0)) == NULL) {
		snprintf(err, errlen, "cannot begin a transaction");
		unlink(path);
		goto out;
	}
	if ((rc = set_current_key(r->txn, db, newid)) != 0)
		rot_fail(r, rc, "the current key");
	else
		rot_rewrite(r);
	if (r->rc == 0 && (rc = db_commit(r->txn)) != 0)
		rot_fail(r, rc, "the commit");
	else if (r->rc != 0)
		mdb_txn_abort(r->txn);
	if (r->rc != 0) {
		snprintf(err, errlen, "cannot re-seal %s: %s; nothing was "
		    "changed", r->what, db_strerror(r->rc));
		unlink(path);
		goto out;
	}
	mdb_env_sync(db->env, 1);
	db->key_current = newid;
	n = r->n;

	/* Retire the keys nothing uses any more. A crash before this only
	 * leaves a key file the next rotation retires. */
	if ((r->txn = db_begin(db, 1)) != NULL) {
		rot_used(r);
		mdb_txn_abort(r->txn);
		if (r->rc == 0)
			key_retire(r, newid);
		else
			log_warn("kept the old master keys: %s", r->rc == EIO ?
			    "a record could not be read" : strerror(r->rc));
	}
out:
	if (lfd != -1)
		close(lfd);
	free(r->keys);
	free(r);
	return n;
}

/* --- spool --- */

int
db_spool_put(MDB_txn *txn, struct db *db, int64_t at, const char *event_id,
    const void *msg, size_t n)
{
	unsigned char k[SPOOL_KEY_LEN];

	put_be64(k, (uint64_t)at);
	memcpy(k + 8, event_id, UUID_LEN);
	return db_put(txn, db->spool, k, sizeof(k), msg, n, 0);
}

int
db_spool_next(MDB_txn *txn, struct db *db, const unsigned char *after,
    int64_t now, unsigned char key[SPOOL_KEY_LEN], MDB_val *msg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, db->spool, &c)) != 0)
		return rc;
	if (after == NULL)
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	else {
		k.mv_data = (void *)after;
		k.mv_size = SPOOL_KEY_LEN;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		/* Strictly after the resume key. */
		if (rc == 0 && k.mv_size == SPOOL_KEY_LEN &&
		    memcmp(k.mv_data, after, SPOOL_KEY_LEN) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	/* Keys of another size are not ours: skipped, never looped on. */
	while (rc == 0 && k.mv_size != SPOOL_KEY_LEN)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	if (rc == 0 && (int64_t)get_be64(k.mv_data) > now)
		rc = MDB_NOTFOUND;	/* not due yet */
	if (rc == 0) {
		memcpy(key, k.mv_data, SPOOL_KEY_LEN);
		*msg = v;
	}
	mdb_cursor_close(c);
	return rc;
}

int
db_spool_del(MDB_txn *txn, struct db *db, const unsigned char *key)
{
	return db_del(txn, db->spool, key, SPOOL_KEY_LEN);
}

int
db_spool_delay(MDB_txn *txn, struct db *db, const unsigned char *key,
    int64_t at)
{
	unsigned char nk[SPOOL_KEY_LEN];
	MDB_val v;
	void *copy;
	int rc;

	if ((rc = db_get(txn, db->spool, key, SPOOL_KEY_LEN, &v)) != 0)
		return rc;
	/* The value lives in the map: copy it before the delete. */
	if ((copy = malloc(v.mv_size ? v.mv_size : 1)) == NULL)
		return ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	put_be64(nk, (uint64_t)at);
	memcpy(nk + 8, key + 8, UUID_LEN);
	if ((rc = db_spool_del(txn, db, key)) == 0)
		rc = db_put(txn, db->spool, nk, sizeof(nk), copy, v.mv_size,
		    0);
	free(copy);
	return rc;
}

/*
 * A quarantined delivery: the spooled message as it was, why it was set
 * aside and when. Keyed by its event id.
 */
int
db_quarantine_put(MDB_txn *txn, struct db *db, const unsigned char *key,
    const char *reason)
{
	struct mpw w;
	MDB_val v;
	int rc;

	if ((rc = db_get(txn, db->spool, key, SPOOL_KEY_LEN, &v)) != 0)
		return rc;
	mpw_init(&w);
	mpw_map(&w, 4);
	mpw_kv_i64(&w, "spooled_at", (int64_t)get_be64(key));
	mpw_kv_i64(&w, "quarantined_at", now_us());
	mpw_kv_str(&w, "reason", reason);
	mpw_kv_bin(&w, "message", v.mv_data, v.mv_size);
	/* Put first: v points into the map, which the delete may free. */
	if ((rc = db_put(txn, db->quarantine, key + 8, UUID_LEN, w.sb.data,
	    w.sb.size, 0)) == 0)
		rc = db_spool_del(txn, db, key);
	mpw_free(&w);
	return rc;
}

int
quarantine_decode(const void *data, size_t len, struct quarantine_rec *q)
{
	msgpack_unpacked u;
	const void *p;
	size_t n;
	int rc = -1;

	memset(q, 0, sizeof(*q));
	if (mp_unpack(data, len, &u) == -1)
		return -1;
	if (u.data.type == MSGPACK_OBJECT_MAP &&
	    mp_get_i64(&u.data, "spooled_at", &q->spooled_at) == 0 &&
	    mp_get_i64(&u.data, "quarantined_at", &q->quarantined_at) == 0 &&
	    mp_get_str(&u.data, "reason", q->reason, sizeof(q->reason)) == 0 &&
	    mp_get_binp(&u.data, "message", &p, &n) == 0 &&
	    (q->message = malloc(n ? n : 1)) != NULL) {
		memcpy(q->message, p, n);
		q->message_len = n;
		rc = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

void
quarantine_free(struct quarantine_rec *q)
{
	free(q->message);
	q->message = NULL;
}

int
db_quarantine_get(MDB_txn *txn, struct db *db, const char *id,
    struct quarantine_rec *q)
{
	MDB_val v;
	int rc;

	if (strlen(id) != UUID_LEN)
		return MDB_NOTFOUND;
	if ((rc = db_get(txn, db->quarantine, id, UUID_LEN, &v)) != 0)
		return rc;
	if (quarantine_decode(v.mv_data, v.mv_size, q) == -1) {
		log_warn("damaged quarantine record %s", id);
		return -1;
	}
	str_copy(q->id, id, sizeof(q->id));
	return 0;
}

int
db_quarantine_del(MDB_txn *txn, struct db *db, const char *id)
{
	return db_del(txn, db->quarantine, id, strlen(id));
}

/* Back into the spool, due now. */
int
db_quarantine_retry(MDB_txn *txn, struct db *db, const char *id)
{
	struct quarantine_rec q;
	int rc;

	if ((rc = db_quarantine_get(txn, db, id, &q)) != 0)
		return rc;
	if ((rc = db_spool_put(txn, db, now_us(), id, q.message,
	    q.message_len)) == 0)
		rc = db_quarantine_del(txn, db, id);
	quarantine_free(&q);
	return rc;
}

struct spool_each {
	db_spool_fn fn;
	void	*arg;
};

static int
spool_each_cb(void *arg, MDB_val *k, MDB_val *v)
{
	struct spool_each *e = arg;

	return e->fn(e->arg, k, v->mv_data, v->mv_size);
}

int
db_spool_each(MDB_txn *txn, struct db *db, db_spool_fn fn, void *arg)
{
	struct spool_each e = { fn, arg };

	return prefix_each(txn, db->spool, NULL, 0, spool_each_cb, &e);
}

int
db_quarantine_each(MDB_txn *txn, struct db *db, db_spool_fn fn, void *arg)
{
	struct spool_each e = { fn, arg };

	return prefix_each(txn, db->quarantine, NULL, 0, spool_each_cb, &e);
}
