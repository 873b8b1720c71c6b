/*
 * The config part: subscriptions, workflows and their trigger index.
 * Written by the admin CLI (and the receiver's OAuth callback); every
 * stage reads it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db_impl.h"

int
db_config_open(struct db *db, MDB_txn *txn)
{
	int rc;

	if ((rc = dbi_open(txn, "subs", MDB_CREATE, &db->subs)) ||
	    (rc = dbi_open(txn, "subs_by_name", MDB_CREATE,
	    &db->subs_by_name)) ||
	    (rc = dbi_open(txn, "workflows", MDB_CREATE, &db->workflows)) ||
	    (rc = dbi_open(txn, "triggers", MDB_CREATE | MDB_DUPSORT,
	    &db->triggers)) ||
	    (rc = dbi_open(txn, "creds", MDB_CREATE, &db->creds)) ||
	    (rc = dbi_open(txn, "oauth_clients", MDB_CREATE,
	    &db->oauth_clients)) ||
	    (rc = dbi_open(txn, "oauth_states", MDB_CREATE,
	    &db->oauth_states)) ||
	    (rc = dbi_open(txn, "outbox", MDB_CREATE, &db->outbox)) ||
	    (rc = dbi_open(txn, "lifecycle", MDB_CREATE, &db->lifecycle)))
		return rc;
	return db_console_open(db, txn);
}

static const char *const sub_states[] = {
	"ok", "creating", "expiring", "expired", "drifted", NULL
};

const char *
sub_state_name(enum sub_state s)
{
	return (unsigned)s < sizeof(sub_states) / sizeof(sub_states[0]) - 1 ?
	    sub_states[s] : "ok";
}

int
sub_state_parse(const char *name)
{
	int i;

	for (i = 0; sub_states[i] != NULL; i++)
		if (strcmp(sub_states[i], name) == 0)
			return i;
	return -1;
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
	char state[16];
	int st;

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
	/* The lifecycle's fields, in records that have them. */
	mp_get_i64(m, "expires_at", &s->expires_at);
	mp_get_i64(m, "expect_within", &s->expect_within);
	mp_get_str(m, "remote", s->remote, sizeof(s->remote));
	if (mp_get_str(m, "state", state, sizeof(state)) == 0 &&
	    (st = sub_state_parse(state)) >= 0)
		s->state = (enum sub_state)st;
	mp_get_str(m, "state_error", s->state_error, sizeof(s->state_error));
	mp_get_i64(m, "failures", &s->failures);
	mp_get_i64(m, "retry_at", &s->retry_at);
	mp_get_i64(m, "renewed_at", &s->renewed_at);
	mp_get_i64(m, "checked_at", &s->checked_at);
	mp_get_i64(m, "silent_since", &s->silent_since);
	return 0;
}

int
db_sub_get(MDB_txn *txn, struct db *db, const char *id, struct sub_rec *s)
{
	msgpack_unpacked u;
	int rc;

	DB_CHECK(txn, db, DB_CONFIG);
	if ((rc = get_mp(txn, db->subs, id, strlen(id), &u, "subscription")))
		return rc;
	rc = sub_decode(&u.data, s) == 0 ? 0 : DB_EDAMAGED;
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

	DB_CHECK(txn, db, DB_CONFIG);
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

	DB_CHECK(txn, db, DB_CONFIG);
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

/*
 * The lifecycle's fields only when set: a subscription that never had
 * them keeps the layout an older stage reads.
 */
static void
sub_pack(struct mpw *w, const struct sub_rec *s)
{
	const int64_t *life[] = { &s->expires_at, &s->expect_within,
	    &s->failures, &s->retry_at, &s->renewed_at, &s->checked_at,
	    &s->silent_since };
	static const char *const life_keys[] = { "expires_at",
	    "expect_within", "failures", "retry_at", "renewed_at",
	    "checked_at", "silent_since" };
	uint32_t n = 12;
	size_t i;

	for (i = 0; i < sizeof(life) / sizeof(life[0]); i++)
		n += *life[i] != 0;
	n += (s->remote[0] != '\0') + (s->state != SUB_OK) +
	    (s->state_error[0] != '\0');
	mpw_map(w, n);
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
	for (i = 0; i < sizeof(life) / sizeof(life[0]); i++)
		if (*life[i] != 0)
			mpw_kv_i64(w, life_keys[i], *life[i]);
	if (s->remote[0] != '\0')
		mpw_kv_str(w, "remote", s->remote);
	if (s->state != SUB_OK)
		mpw_kv_str(w, "state", sub_state_name(s->state));
	if (s->state_error[0] != '\0')
		mpw_kv_str(w, "state_error", s->state_error);
}

int
db_sub_del(MDB_txn *txn, struct db *db, const struct sub_rec *s)
{
	char key[KEY_MAX + 1];
	int rc, n;

	DB_CHECK(txn, db, DB_CONFIG);
	if ((n = sub_name_key(key, sizeof(key), s->workspace, s->integration,
	    s->name)) != -1 &&
	    (rc = db_del(txn, db->subs_by_name, key, (size_t)n)))
		return rc;
	/* Its statistics belong to the verifier (events part): they stay,
	 * under an id no subscription has any more. */
	return db_del(txn, db->subs, s->id, UUID_LEN);
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

	DB_CHECK(txn, db, DB_CONFIG);
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
	int pn = ws ? snprintf(prefix, sizeof(prefix), "%s/", ws) : 0;

	DB_CHECK(txn, db, DB_CONFIG);
	return prefix_each(txn, db->subs_by_name, prefix, (size_t)pn,
	    sub_each_cb, &e);
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

/* --- workflows and the trigger index --- */

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
	if ((t = mp_get(m, "disabled")) != NULL &&
	    t->type == MSGPACK_OBJECT_BOOLEAN)
		w->disabled = t->via.boolean;
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

	DB_CHECK(txn, db, DB_CONFIG);
	if ((n = name2_key(key, sizeof(key), ws, name)) == -1)
		return MDB_NOTFOUND;
	if ((rc = get_mp(txn, db->workflows, key, (size_t)n, &u, "workflow")))
		return rc;
	rc = wf_decode(&u.data, w) == 0 ? 0 : DB_EDAMAGED;
	msgpack_unpacked_destroy(&u);
	return rc;
}

static int
wf_index(MDB_txn *txn, struct db *db, const struct wf_rec *w, int add)
{
	char key[KEY_MAX + 1], wk[KEY_MAX + 1];
	MDB_val k, v;
	int i, n, wn, rc;

	if ((wn = name2_key(wk, sizeof(wk), w->workspace, w->name)) == -1)
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

	DB_CHECK(txn, db, DB_CONFIG);
	if ((n = name2_key(key, sizeof(key), w->workspace, w->name)) == -1)
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
	n2 = 13 + (w->env != NULL) + (w->user != NULL) + (w->disabled != 0);
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
	if (w->disabled) {
		mpw_str(&mw, "disabled");
		msgpack_pack_true(&mw.pk);
	}
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

	DB_CHECK(txn, db, DB_CONFIG);
	if ((n = name2_key(key, sizeof(key), ws, name)) == -1)
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

	DB_CHECK(txn, db, DB_CONFIG);
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

	DB_CHECK(txn, db, DB_CONFIG);
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
	char key[KEY_MAX + 1], name[256];
	MDB_cursor *c;
	MDB_val k, v;
	size_t len;
	int n, rc, done = 0;

	DB_CHECK(txn, db, DB_CONFIG);
	if ((rc = mdb_cursor_open(txn, db->triggers, &c)) != 0)
		return rc;
	/* "issues.opened", then "issues" (a trigger on a family fires for
	 * each of its events), then "*". */
	str_copy(name, event, sizeof(name));
	for (len = strlen(name); !done; ) {
		if (len == 0) {
			strcpy(name, "*");
			done = 1;
		}
		n = trig_key(key, sizeof(key), sub_id, name);
		while (len > 0 && name[--len] != '.')
			;
		name[len] = '\0';
		if (n == -1)
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

