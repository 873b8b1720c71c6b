/*
 * The config part's secrets: credentials, OAuth clients and pending
 * authorizations, the master keys, sealing, and key rotation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "db_impl.h"

/* --- credentials and OAuth --- */

static void
get_sealed_cred(const msgpack_object *m, const char *key, unsigned char *out,
    size_t *len)
{
	const void *p;
	size_t n;

	*len = 0;
	if (mp_get_binp(m, key, &p, &n) == 0 && n <= CRED_SEALED_MAX) {
		memcpy(out, p, n);
		*len = n;
	}
}

static int seal_current_cap(MDB_txn *, struct db *, const char *,
    unsigned char *, size_t *, size_t);

static int
cred_decode(const msgpack_object *m, struct cred_rec *c)
{
	char state[32];

	memset(c, 0, sizeof(*c));
	if (mp_get_str(m, "workspace", c->workspace, sizeof(c->workspace)) ||
	    mp_get_str(m, "name", c->name, sizeof(c->name)) ||
	    mp_get_str(m, "integration", c->integration,
	    sizeof(c->integration)) ||
	    mp_get_str(m, "kind", c->kind, sizeof(c->kind)))
		return -1;
	mp_get_str(m, "login", c->login, sizeof(c->login));
	get_sealed_cred(m, "token", c->token, &c->token_len);
	mp_get_i64(m, "created_at", &c->created_at);
	get_sealed_cred(m, "refresh", c->refresh, &c->refresh_len);
	mp_get_i64(m, "expires_at", &c->expires_at);
	mp_get_i64(m, "refreshed_at", &c->refreshed_at);
	if (mp_get_str(m, "state", state, sizeof(state)) == 0 &&
	    strcmp(state, cred_state_name(CRED_NEEDS_REAUTH)) == 0)
		c->state = CRED_NEEDS_REAUTH;
	mp_get_str(m, "state_error", c->state_error, sizeof(c->state_error));
	return 0;
}

const char *
cred_state_name(enum cred_state s)
{
	return s == CRED_NEEDS_REAUTH ? "needs-reauthorization" : "ok";
}

int
db_cred_get(MDB_txn *txn, struct db *db, const char *ws, const char *name,
    struct cred_rec *c)
{
	char key[KEY_MAX + 1];
	msgpack_unpacked u;
	int rc, n;

	DB_CHECK(txn, db, DB_CONFIG);

	if ((n = name2_key(key, sizeof(key), ws, name)) == -1)
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->creds, key, (size_t)n, &u, "credential")))
		return rc;
	rc = cred_decode(&u.data, c) == 0 ? 0 : DB_EDAMAGED;
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
db_cred_put(MDB_txn *txn, struct db *db, const struct cred_rec *c)
{
	char key[KEY_MAX + 1], aad[2 * NAME_MAX_LEN + 16];
	struct cred_rec fresh;
	struct mpw w;
	int n, rc;

	DB_CHECK(txn, db, DB_CONFIG);

	if ((n = name2_key(key, sizeof(key), c->workspace, c->name)) == -1)
		return MDB_BAD_VALSIZE;
	fresh = *c;
	snprintf(aad, sizeof(aad), "cred:%s/%s", c->workspace, c->name);
	if ((rc = seal_current_cap(txn, db, aad, fresh.token,
	    &fresh.token_len, CRED_TOKEN_MAX)) != 0)
		return rc;
	snprintf(aad, sizeof(aad), "refresh:%s/%s", c->workspace, c->name);
	if ((rc = seal_current_cap(txn, db, aad, fresh.refresh,
	    &fresh.refresh_len, CRED_TOKEN_MAX)) != 0)
		return rc;
	c = &fresh;
	/* The OAuth fields only when set: an API key keeps its layout. */
	mpw_init(&w);
	mpw_map(&w, 7 + (c->refresh_len > 0) + (c->expires_at != 0) +
	    (c->refreshed_at != 0) + (c->state != CRED_OK) +
	    (c->state_error[0] != '\0'));
	mpw_kv_str(&w, "workspace", c->workspace);
	mpw_kv_str(&w, "name", c->name);
	mpw_kv_str(&w, "integration", c->integration);
	mpw_kv_str(&w, "kind", c->kind);
	mpw_kv_str(&w, "login", c->login);
	mpw_kv_bin(&w, "token", c->token, c->token_len);
	mpw_kv_i64(&w, "created_at", c->created_at);
	if (c->refresh_len > 0)
		mpw_kv_bin(&w, "refresh", c->refresh, c->refresh_len);
	if (c->expires_at != 0)
		mpw_kv_i64(&w, "expires_at", c->expires_at);
	if (c->refreshed_at != 0)
		mpw_kv_i64(&w, "refreshed_at", c->refreshed_at);
	if (c->state != CRED_OK)
		mpw_kv_str(&w, "state", cred_state_name(c->state));
	if (c->state_error[0] != '\0')
		mpw_kv_str(&w, "state_error", c->state_error);
	return put_mp(txn, db->creds, key, (size_t)n, &w);
}

int
db_cred_del(MDB_txn *txn, struct db *db, const char *ws, const char *name)
{
	char key[KEY_MAX + 1];
	int n;

	DB_CHECK(txn, db, DB_CONFIG);

	if ((n = name2_key(key, sizeof(key), ws, name)) == -1)
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

	DB_CHECK(txn, db, DB_CONFIG);

	return prefix_each(txn, db->creds, prefix, (size_t)pn, cred_each_cb,
	    &e);
}

int
seal_str(struct db *db, const char *aad, const char *plain,
    unsigned char *out, size_t *outlen)
{
	size_t n = strlen(plain);

	if (n == 0 || n > SECRET_MAX)
		return -1;
	return db_seal(db, aad, plain, n, out, outlen);
}

int
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
	char aad[2 * NAME_MAX_LEN + 16];

	if (*token == '\0' || strlen(token) > CRED_TOKEN_MAX)
		return -1;
	snprintf(aad, sizeof(aad), "cred:%s/%s", c->workspace, c->name);
	return db_seal(db, aad, token, strlen(token), c->token, &c->token_len);
}

int
db_cred_set_refresh(struct db *db, struct cred_rec *c, const char *token)
{
	char aad[2 * NAME_MAX_LEN + 16];

	if (*token == '\0') {
		c->refresh_len = 0;
		return 0;
	}
	if (strlen(token) > CRED_TOKEN_MAX)
		return -1;
	snprintf(aad, sizeof(aad), "refresh:%s/%s", c->workspace, c->name);
	return db_seal(db, aad, token, strlen(token), c->refresh,
	    &c->refresh_len);
}

int
db_cred_refresh(struct db *db, const struct cred_rec *c, char *out,
    size_t cap)
{
	char aad[2 * NAME_MAX_LEN + 16];

	if (c->refresh_len == 0) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	snprintf(aad, sizeof(aad), "refresh:%s/%s", c->workspace, c->name);
	return unseal_str(db, aad, c->refresh, c->refresh_len, out, cap);
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

	DB_CHECK(txn, db, DB_CONFIG);

	if ((n = name2_key(key, sizeof(key), ws, integ)) == -1)
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
		rc = DB_EDAMAGED;
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

	DB_CHECK(txn, db, DB_CONFIG);

	if ((n = name2_key(key, sizeof(key), c->workspace, c->integration)) == -1)
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

	DB_CHECK(txn, db, DB_CONFIG);

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

	DB_CHECK(txn, db, DB_CONFIG);

	memset(st, 0, sizeof(*st));
	if (strlen(state) == 0 || strlen(state) >= sizeof(st->state))
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->oauth_states, state, strlen(state), &u,
	    "OAuth state")) != 0)
		return rc == DB_EDAMAGED ? MDB_NOTFOUND : rc;
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

	if (mdb_txn_env(txn) != db->part[DB_CONFIG].env)
		return 0;
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

void
db_key_path(const struct db *db, uint32_t id, char *out, size_t len)
{
	key_file(db, id, out, len);
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
		/* Once: a verifier would say it on every delivery. */
		if (db->key_warned != id)
			log_warn("master key %u: %s; copy it (mode 0600) from "
			    "the host that ran 'hookpipe key rotate', or "
			    "restore it from a backup", id, err);
		db->key_warned = id;
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

	if (mdb_get(txn, db->cmeta, &k, &v) != 0 || v.mv_size != 4)
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

	return mdb_put(txn, db->cmeta, &k, &v, 0);
}

/* At open: the current key must be there; key 1 is made on first use. */
int
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

	uint32_t id = sealed_key_id(in, n);
	unsigned char was[MASTER_KEY_LEN];
	int i, rc;

	if (len < 0 || (size_t)len > cap || (key = db_key(db, id)) == NULL)
		return -1;
	if ((rc = unseal(key, aad, in, n, out)) >= 0)
		return rc;
	/*
	 * The key of that id does not open it: the file here holds another
	 * key than the one that sealed it (a host that rotated on its own),
	 * or the value is damaged. Forget the key, so that a file copied
	 * into place is read again, now and at the next value.
	 */
	memcpy(was, key, sizeof(was));
	for (i = 0; i < db->nkeys; i++)
		if (db->keys[i].id == id) {
			OPENSSL_cleanse(&db->keys[i], sizeof(db->keys[i]));
			memmove(db->keys + i, db->keys + i + 1,
			    (size_t)(db->nkeys - i - 1) * sizeof(db->keys[0]));
			db->nkeys--;
			break;
		}
	if ((key = db_key(db, id)) != NULL &&
	    CRYPTO_memcmp(key, was, sizeof(was)) != 0)
		rc = unseal(key, aad, in, n, out);
	OPENSSL_cleanse(was, sizeof(was));
	if (rc < 0 && db->key_mismatch_warned != id) {
		char path[PATH_MAX + 16];

		key_file(db, id, path, sizeof(path));
		log_warn("master key %u does not open a value sealed with it: "
		    "%s differs from the key that sealed it (copy it, mode "
		    "0600, from the host that ran 'hookpipe key rotate'), or "
		    "the value is damaged", id, path);
		db->key_mismatch_warned = id;
	}
	return rc;
}

uint32_t
db_key_missing(struct db *db, const unsigned char *in, size_t n)
{
	uint32_t id = sealed_key_id(in, n);

	return id != 0 && db_key(db, id) == NULL ? id : 0;
}

/*
 * Make a sealed value (in place, in a SEALED_MAX buffer) use the key
 * that is current in this write transaction: what a stale process sealed
 * before a rotation committed is re-sealed, never written under a key the
 * rotation is about to retire.
 */
int
seal_current(MDB_txn *txn, struct db *db, const char *aad,
    unsigned char *val, size_t *len)
{
	return seal_current_cap(txn, db, aad, val, len, SECRET_MAX);
}

/* The same for a buffer of max + SEAL_OVERHEAD bytes. */
static int
seal_current_cap(MDB_txn *txn, struct db *db, const char *aad,
    unsigned char *val, size_t *len, size_t max)
{
	unsigned char plain[CRED_SEALED_MAX];
	uint32_t cur;
	int n;

	if (*len == 0)
		return 0;
	cur = current_key(txn, db);
	if (sealed_key_id(val, *len) == cur)
		return 0;
	if ((n = db_unseal(db, aad, val, *len, plain, sizeof(plain))) < 0 ||
	    (size_t)n > max)
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
int
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
void
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
		rot_use(r, c.refresh, c.refresh_len);
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

/* Delete the key files older than keep that no stored value uses. */
static int
key_retire(struct rotation *r, uint32_t keep)
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
		/* A newer key is a prepared one, for the next rotation. */
		if ((id = key_file_id(de->d_name, base)) == 0 || id >= keep)
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

/* Write key file id, new (never over a file), synced. */
static int
key_make(struct db *db, uint32_t id, char *path, size_t pathlen, char *err,
    size_t errlen)
{
	unsigned char key[MASTER_KEY_LEN];
	char dir[PATH_MAX];
	const char *base;
	int fd;

	key_file(db, id, path, pathlen);
	if (crypto_random(key, sizeof(key)) == -1 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	if (write(fd, key, sizeof(key)) != sizeof(key) || fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	close(fd);
	key_dir(db, dir, sizeof(dir), &base);
	fsync_dir(dir);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

/* The rotation lock's descriptor, or -1 with err. */
static int
key_lock(struct db *db, char *err, size_t errlen)
{
	char lock[PATH_MAX + 16];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", db->key_path);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "cannot lock %s: %s", lock,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * The key the next rotation uses: a readable key file newer than the
 * current key (prepared, or left by a rotation that did not commit), or
 * 0 and *next the id a new one takes.
 */
static uint32_t
key_prepared(struct db *db, uint32_t *next)
{
	uint32_t cur = 1, max = key_max_on_disk(db);
	MDB_txn *txn;

	if ((txn = db_begin(db, DB_CONFIG, 1)) != NULL) {
		cur = current_key(txn, db);
		mdb_txn_abort(txn);
	}
	*next = (max > cur ? max : cur) + 1;
	return max > cur && db_key(db, max) != NULL ? max : 0;
}

int
db_prepare_key(struct db *db, char *path, size_t pathlen, char *err,
    size_t errlen)
{
	uint32_t id, next;
	int lfd, rc = 0;

	if ((lfd = key_lock(db, err, errlen)) == -1)
		return -1;
	if ((id = key_prepared(db, &next)) != 0)
		key_file(db, id, path, pathlen);
	else
		rc = key_make(db, next, path, pathlen, err, errlen) == 0 ? 1 :
		    -1;
	close(lfd);
	return rc;
}

static MDB_txn *
rot_begin(struct db *db, const struct db_writer *w)
{
	return w != NULL ? w->begin(w->arg) : db_begin(db, DB_CONFIG, 0);
}

static int
rot_commit(MDB_txn *txn, const struct db_writer *w)
{
	return w != NULL ? w->commit(txn, w->arg) : db_commit(txn);
}

int
db_rotate_key(struct db *db, const struct db_writer *w, char *err,
    size_t errlen)
{
	struct rotation *r = calloc(1, sizeof(*r));
	char path[PATH_MAX + 16];
	uint32_t newid, next, oldid;
	int lfd = -1, made = 0, rc, n = -1;

	if (r == NULL)
		return -1;
	r->db = db;
	/* One rotation at a time. */
	if ((lfd = key_lock(db, err, errlen)) == -1)
		goto out;
	/* The new key is on disk, synced, before anything is sealed with
	 * it: a prepared one (other hosts have a copy), or a new file. */
	if ((newid = key_prepared(db, &next)) != 0)
		key_file(db, newid, path, sizeof(path));
	else if (key_make(db, next, path, sizeof(path), err, errlen) == 0) {
		newid = next;
		made = 1;
	} else
		goto out;

	/* Current from this commit on, and everything re-sealed in it. */
	if ((r->txn = rot_begin(db, w)) == NULL) {
		snprintf(err, errlen, "cannot begin a transaction");
		goto fail;
	}
	oldid = current_key(r->txn, db);
	if ((rc = set_current_key(r->txn, db, newid)) != 0)
		rot_fail(r, rc, "the current key");
	else
		rot_rewrite(r);
	if (r->rc != 0) {
		mdb_txn_abort(r->txn);
		snprintf(err, errlen, "cannot re-seal %s: %s; nothing was "
		    "changed", r->what, db_strerror(r->rc));
		goto fail;
	}
	if ((rc = rot_commit(r->txn, w)) != 0) {
		snprintf(err, errlen, "the re-sealed secrets were not stored: "
		    "%s; nothing was changed", w != NULL ? "see above" :
		    db_strerror(rc));
		goto fail;
	}
	mdb_env_sync(db->part[DB_CONFIG].env, 1);
	db->key_current = newid;
	n = r->n;

	/* Retire the keys nothing uses any more. A crash before this only
	 * leaves a key file the next rotation retires. */
	if ((r->txn = db_begin(db, DB_CONFIG, 1)) != NULL) {
		rot_used(r);
		mdb_txn_abort(r->txn);
		if (r->rc == 0)
			key_retire(r, w != NULL && w->shared ? oldid : newid);
		else
			log_warn("kept the old master keys: %s", r->rc == EIO ?
			    "a record could not be read" : strerror(r->rc));
	}
	goto out;
fail:
	if (made)
		unlink(path);
out:
	if (lfd != -1)
		close(lfd);
	free(r->keys);
	free(r);
	return n;
}

/*
 * Another host's rotation arrives as records sealed under a newer key:
 * this host seals with the newest key they use from then on, when it has
 * that key's file (else its reads of them say which file is missing).
 */
void
db_keys_follow(MDB_txn *txn, struct db *db)
{
	struct rotation r = { .db = db, .txn = txn };
	uint32_t max = 0;
	int i;

	rot_used(&r);
	free(r.keys);
	for (i = 0; i < r.nused; i++)
		if (r.used[i] > max)
			max = r.used[i];
	if (r.rc != 0 || max <= current_key(txn, db) || db_key(db, max) == NULL)
		return;
	if (set_current_key(txn, db, max) == 0)
		db->key_current = max;
}
