/*
 * hookpipe-admin: the admin listener (see admind.h). This file: the
 * stage's life, authentication (the API token, login links, sessions,
 * the CSRF token), the console's files, /healthz and /metrics.
 *
 * Authentication, in order:
 *	Authorization: Bearer TOKEN	the content of admin.token; no CSRF
 *					token, as a browser never sends it
 *					by itself
 *	Cookie: hp_session=ID		a session opened by a login link;
 *					a change also needs the header
 *					X-CSRF-Token with the session's
 *	nothing, or a wrong one		401, and nothing is done
 * /healthz and the console's own files (no data in them) need none.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "admind.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"

#define COOKIE		"hp_session"
#define PRUNE_EVERY_MS	60000
#define AUDIT_KEEP_US	((int64_t)90 * 86400 * 1000000)

static const char usage[] =
    "Serves the console, the API, /metrics and /healthz on\n"
    "HOOKPIPE_ADMIN_LISTEN. Started by hookpipectl.\n";

enum MHD_Result
adm_send(struct MHD_Connection *c, int status, const char *ctype,
    const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	char st[8];

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate",
		    "Bearer realm=\"hookpipe\"");
	rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	snprintf(st, sizeof(st), "%d", status);
	metrics_add(M_ADMIN_REQUESTS, st, NULL, 1);
	return rc;
}

enum MHD_Result
adm_json(struct MHD_Connection *c, int status, json_t *v)
{
	enum MHD_Result rc;
	char *s;

	s = v == NULL ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(v);
	if (s == NULL)
		return adm_send(c, 500, "application/json",
		    "{\"error\":\"out of memory\"}", 25);
	rc = adm_send(c, status, "application/json", s, strlen(s));
	free(s);
	return rc;
}

enum MHD_Result
adm_error(struct MHD_Connection *c, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return adm_json(c, status, json_pack("{s:s}", "error", msg));
}

/* --- authentication --------------------------------------------------- */

static void
client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;

	str_copy(out, "-", len);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), out,
	    (socklen_t)len, NULL, 0, NI_NUMERICHOST);
}

static int
session_digest(const char *id, unsigned char out[32])
{
	size_t i, n = strlen(id);

	if (n != 64)
		return -1;
	for (i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return -1;
	return sha256(id, n, out);
}

/*
 * 1 when the request is authenticated (who filled in), 0 when not.
 */
static int
authenticate(struct admin *adm, struct MHD_Connection *c, struct who *w)
{
	const char *h, *sid;
	unsigned char d[32];
	struct session_rec s;
	MDB_txn *txn;
	int rc;

	memset(w, 0, sizeof(*w));
	client_addr(c, w->from, sizeof(w->from));
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h != NULL) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return 0;
		h += 7;
		while (*h == ' ')
			h++;
		if (strlen(h) != ADMIN_TOKEN_LEN ||
		    CRYPTO_memcmp(h, adm->token, ADMIN_TOKEN_LEN) != 0)
			return 0;
		str_copy(w->name, "token", sizeof(w->name));
		return 1;
	}
	sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	if (sid == NULL || session_digest(sid, d) == -1)
		return 0;
	pthread_mutex_lock(&adm->dblock);
	rc = -1;
	if ((txn = db_begin(&adm->db, DB_CONFIG, 1)) != NULL) {
		rc = db_session_get(txn, &adm->db, d, &s);
		mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&adm->dblock);
	if (rc != 0)
		return 0;
	str_copy(w->name, s.who, sizeof(w->name));
	str_copy(w->csrf, s.csrf, sizeof(w->csrf));
	return 1;
}

static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void
adm_audit(struct admin *adm, const struct who *w, const char *what,
    const char *target, const char *detail, int status)
{
	struct audit_rec a;
	MDB_txn *txn;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.at = now_us();
	/* Paths and names come from the client: one line each. */
	str_copy(a.who, w->name, sizeof(a.who));
	str_copy(a.from, w->from, sizeof(a.from));
	str_copy(a.what, what, sizeof(a.what));
	str_copy(a.target, target != NULL ? target : "", sizeof(a.target));
	str_copy(a.detail, detail != NULL ? detail : "", sizeof(a.detail));
	a.status = status;
	printable(a.target);
	printable(a.detail);
	printable(a.what);
	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 0)) != NULL) {
		if ((rc = db_audit_put(txn, &adm->db, &a)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	if (tap_active(&adm->tap))
		tap_publish(&adm->tap, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,"
		    "s:i}", "type", "audit", "who", a.who, "from", a.from,
		    "what", a.what, "target", a.target, "detail", a.detail,
		    "status", a.status), NULL);
	pthread_mutex_unlock(&adm->dblock);
	if (rc != 0)
		log_warn("audit: cannot record %s %s by %s", what, a.target,
		    a.who);
	log_info("audit: %s %s %s by %s from %s: %d", what, a.target,
	    a.detail, a.who, a.from, status);
}

static const char login_failed[] =
    "<!doctype html><meta charset=utf-8><title>hookpipe</title>"
    "<p>This login link was used already, has expired or is not one. "
    "Run <code>hookpipe console</code> for a new one.</p>\n";

/*
 * GET /login?t=TOKEN: take the link (once) and open a session. The
 * session id goes in an HttpOnly cookie that only this origin's own
 * pages send (SameSite=Strict); the page reads its CSRF token from
 * /api/v1/session.
 */
static enum MHD_Result
login(struct admin *adm, struct MHD_Connection *c)
{
	const char *t = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "t");
	unsigned char d[32], raw[32];
	char sid[65], hdr[160];
	struct session_rec s;
	struct MHD_Response *r;
	struct who w;
	MDB_txn *txn;
	enum MHD_Result mr;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	client_addr(c, w.from, sizeof(w.from));
	memset(&s, 0, sizeof(s));
	if (t != NULL && session_digest(t, d) == 0) {
		pthread_mutex_lock(&adm->dblock);
		if ((txn = db_begin(&adm->db, DB_CONFIG, 0)) != NULL) {
			rc = db_login_take(txn, &adm->db, d, s.who,
			    sizeof(s.who));
			if (rc == 0) {
				crypto_random(raw, sizeof(raw));
				hex_encode(raw, sizeof(raw), sid);
				crypto_random(raw, sizeof(raw));
				hex_encode(raw, sizeof(raw), s.csrf);
				OPENSSL_cleanse(raw, sizeof(raw));
				s.created_at = now_us();
				s.expires_at = s.created_at +
				    (int64_t)SESSION_TTL_S * 1000000;
				sha256(sid, 64, d);
				rc = db_session_put(txn, &adm->db, d, &s);
			}
			/* A taken link is gone even when it had expired. */
			if (rc == 0 || rc == ETIMEDOUT) {
				if (mdb_txn_commit(txn) != 0)
					rc = -1;
			} else
				mdb_txn_abort(txn);
		}
		pthread_mutex_unlock(&adm->dblock);
	}
	if (rc != 0) {
		metrics_add(M_ADMIN_LOGINS, "refused", NULL, 1);
		str_copy(w.name, "-", sizeof(w.name));
		log_info("login: a link refused (used, expired or unknown) "
		    "from %s", w.from);
		return adm_send(c, 401, "text/html; charset=utf-8",
		    login_failed, sizeof(login_failed) - 1);
	}
	metrics_add(M_ADMIN_LOGINS, "ok", NULL, 1);
	str_copy(w.name, s.who, sizeof(w.name));
	adm_audit(adm, &w, "login", s.who, "", 303);
	if ((r = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	snprintf(hdr, sizeof(hdr), COOKIE "=%s; Path=/; HttpOnly; "
	    "SameSite=Strict; Max-Age=%d", sid, SESSION_TTL_S);
	OPENSSL_cleanse(sid, sizeof(sid));
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, hdr);
	OPENSSL_cleanse(hdr, sizeof(hdr));
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	mr = MHD_queue_response(c, 303, r);
	MHD_destroy_response(r);
	metrics_add(M_ADMIN_REQUESTS, "303", NULL, 1);
	return mr;
}

/* POST /logout: the session ends here, not only in the browser. */
static enum MHD_Result
logout(struct admin *adm, struct MHD_Connection *c, const struct who *w)
{
	const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    COOKIE);
	struct MHD_Response *r;
	unsigned char d[32];
	enum MHD_Result mr;
	MDB_txn *txn;

	if (sid != NULL && session_digest(sid, d) == 0) {
		pthread_mutex_lock(&adm->dblock);
		if ((txn = db_begin(&adm->db, DB_CONFIG, 0)) != NULL) {
			if (db_session_del(txn, &adm->db, d) == 0)
				mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
		}
		pthread_mutex_unlock(&adm->dblock);
	}
	adm_audit(adm, w, "logout", w->name, "", 200);
	if ((r = MHD_create_response_from_buffer(2, (void *)"{}",
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, COOKIE
	    "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	mr = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	metrics_add(M_ADMIN_REQUESTS, "200", NULL, 1);
	return mr;
}

/* --- the console's files ---------------------------------------------- */

static const char *
asset_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return NULL;
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return NULL;
}

/*
 * /NAME.EXT from the console's directory: a flat directory of names of
 * letters, digits, '-' and '_', read on each request (they are small,
 * and an upgrade needs no restart). Any other path is the console's
 * page: the page routes itself (/runs, /events/ID).
 */
static enum MHD_Result
asset(struct admin *adm, struct MHD_Connection *c, const char *url)
{
	char path[PATH_MAX + 80], *data = NULL;
	const char *name = url + 1, *ctype, *p;
	struct MHD_Response *r;
	struct stat st;
	enum MHD_Result mr;
	ssize_t n;
	int fd;

	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.'))
			break;
	if (*p != '\0' || name[0] == '.' || strstr(name, "..") != NULL ||
	    (ctype = asset_type(name)) == NULL) {
		name = "index.html";
		ctype = asset_type(name);
	}
	snprintf(path, sizeof(path), "%s/%s", adm->console_dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return adm_error(c, 404, "%s: no such file in the console",
		    name);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > 4 << 20 || (data = malloc((size_t)st.st_size +
	    1)) == NULL ||
	    (n = read(fd, data, (size_t)st.st_size)) != st.st_size) {
		close(fd);
		free(data);
		return adm_error(c, 500, "cannot read %s", path);
	}
	close(fd);
	r = MHD_create_response_from_buffer((size_t)n, data,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	/* Everything from here, nothing from elsewhere. */
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; "
	    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	mr = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	metrics_add(M_ADMIN_REQUESTS, "200", NULL, 1);
	return mr;
}

/* --- requests --------------------------------------------------------- */

static enum MHD_Result
healthz(struct admin *adm, struct MHD_Connection *c)
{
	(void)adm;
	return adm_send(c, 200, "application/json", "{\"status\":\"ok\"}",
	    15);
}

static enum MHD_Result
metrics(struct admin *adm, struct MHD_Connection *c)
{
	enum MHD_Result mr;
	size_t len;
	char *text;

	if ((text = adm_metrics_text(adm, &len)) == NULL)
		return adm_error(c, 500, "out of memory");
	mr = adm_send(c, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text, len);
	free(text);
	return mr;
}

static int
is_change(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct admin *adm = cls;
	struct req *rq = *con_cls;
	const char *csrf;
	struct who w;
	enum MHD_Result mr;

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (rq->body.len + *upload_size > BODY_MAX)
			rq->too_large = 1;
		else if (buf_append(&rq->body, upload, *upload_size) == -1)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return adm_error(c, 413, "the body is over %d bytes", BODY_MAX);

	if (strcmp(url, "/healthz") == 0)
		return healthz(adm, c);
	if (strcmp(url, "/login") == 0 && strcmp(method, "GET") == 0)
		return login(adm, c);
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/logout") != 0 &&
	    strncmp(url, "/api/", 5) != 0) {
		if (is_change(method))
			return adm_error(c, 405, "%s %s: not allowed", method,
			    url);
		return asset(adm, c, url);
	}

	if (!authenticate(adm, c, &w)) {
		/* Logged, not recorded: whoever can reach the port must
		 * not be able to grow the state. */
		if (is_change(method))
			log_info("refused %s without credentials from %s",
			    method, w.from);
		return adm_error(c, 401, "not logged in: run 'hookpipe "
		    "console' for a login link, or send Authorization: Bearer "
		    "with the token in $HOOKPIPE_HOME/admin.token");
	}
	/*
	 * A session's change must carry its CSRF token: another site's
	 * page can make the browser send the cookie (SameSite aside, on an
	 * old browser), but cannot read the token.
	 */
	if (is_change(method) && w.csrf[0] != '\0') {
		csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "X-CSRF-Token");
		if (csrf == NULL || strlen(csrf) != 64 ||
		    CRYPTO_memcmp(csrf, w.csrf, 64) != 0) {
			adm_audit(adm, &w, "refused", url, "no CSRF token",
			    403);
			return adm_error(c, 403, "%s %s: the X-CSRF-Token "
			    "header is missing or wrong; reload the console",
			    method, url);
		}
	}
	if (strcmp(url, "/metrics") == 0)
		return metrics(adm, c);
	if (strcmp(url, "/logout") == 0) {
		if (!is_change(method))
			return adm_error(c, 405, "use POST /logout");
		return logout(adm, c, &w);
	}
	if (strcmp(url, "/api/v1/session") == 0 && !is_change(method))
		return adm_json(c, 200, json_pack("{s:s,s:s,s:s}", "user",
		    w.name, "csrf", w.csrf, "workspace", adm->cfg.workspace));
	mr = adm_api(adm, c, &w, method, url, rq);
	OPENSSL_cleanse(w.csrf, sizeof(w.csrf));
	return mr;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq == NULL)
		return;
	if (rq->body.data != NULL)
		OPENSSL_cleanse(rq->body.data, rq->body.len);
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

/* --- the stage -------------------------------------------------------- */

/*
 * The console's files: HOOKPIPE_CONSOLE, else bin/../admin/console in a
 * source tree, else share/hookpipe/console.
 */
static void
console_dir(char *out, size_t len)
{
	char self[PATH_MAX], cand[PATH_MAX + 32], *slash;
	const char *env = getenv("HOOKPIPE_CONSOLE");
	struct stat st;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		str_copy(out, env, len);
		return;
	}
	snprintf(out, len, "%s/console", HOOKPIPE_DATADIR);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	snprintf(cand, sizeof(cand), "%s/../admin/console/index.html", self);
	if (stat(cand, &st) == 0) {
		*strrchr(cand, '/') = '\0';
		str_copy(out, cand, len);
		return;
	}
	snprintf(cand, sizeof(cand), "%s/../share/hookpipe/console", self);
	if (stat(cand, &st) == 0)
		str_copy(out, cand, len);
}

static void
prune(struct admin *adm)
{
	MDB_txn *txn;

	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 0)) != NULL) {
		if (db_console_prune(txn, &adm->db, now_us() -
		    AUDIT_KEEP_US) == 0)
			mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&adm->dblock);
}

/* A value of an ask that may go into the CLI's arguments. */
static const char *
ask_arg(json_t *req, const char *key)
{
	const char *v = json_string_value(json_object_get(req, key));

	return v != NULL && v[0] != '\0' && v[0] != '-' &&
	    strlen(v) <= 2 * NAME_MAX_LEN + 1 ? v : NULL;
}

/*
 * Cluster mode: another host's CLI asks for this host's runs (hookpipe
 * runs, run show, event show, workflow test). The stage answers with
 * what `hookpipe --json runs --here ...` or `run show --here ID` prints
 * here: {"status", "answer" (the JSON printed, or null), "error" (what
 * it said on stderr)}. Only those two commands, with their options; on
 * the library's thread.
 */
static json_t *
answer_runs(void *arg, json_t *req)
{
	struct admin *adm = arg;
	const char *args[16], *ws = ask_arg(req, "workspace"), *v;
	const char *what = json_string_value(json_object_get(req, "what"));
	struct cli_out o;
	json_t *ans;
	int n = 0;

	if (ws == NULL || what == NULL)
		return NULL;
	args[n++] = "--workspace";
	args[n++] = ws;
	if (strcmp(what, "runs") == 0) {
		args[n++] = "runs";
		args[n++] = "--here";
		if ((v = ask_arg(req, "workflow")) != NULL) {
			args[n++] = "--workflow";
			args[n++] = v;
		}
		if ((v = ask_arg(req, "status")) != NULL) {
			args[n++] = "--status";
			args[n++] = v;
		}
		if ((v = ask_arg(req, "event")) != NULL) {
			args[n++] = "--event";
			args[n++] = v;
		}
		if (json_is_true(json_object_get(req, "test")))
			args[n++] = "--test";
		if ((v = ask_arg(req, "limit")) != NULL) {
			args[n++] = "--limit";
			args[n++] = v;
		}
	} else if (strcmp(what, "run") == 0 &&
	    (v = ask_arg(req, "id")) != NULL) {
		args[n++] = "run";
		args[n++] = "show";
		args[n++] = "--here";
		args[n++] = v;
	} else
		return NULL;
	args[n] = NULL;
	if (cli_run(adm, 0, args, NULL, NULL, &o) == -1)
		return NULL;
	ans = json_pack("{s:i, s:o?, s:s}", "status", o.status, "answer",
	    o.status == 0 ? json_loads(o.out.data ? o.out.data : "", 0,
	    NULL) : NULL, "error", o.err.data ? o.err.data : "");
	cli_out_free(&o);
	return ans;
}

/*
 * Cluster mode: the configuration other hosts changed. Once a second
 * the stage reads the bucket's latest revision (the CLI's puts see to
 * it that it holds every host's changes) and, when it is newer than the
 * one this host applied, replaces the shared tables of the config part
 * with it, in one transaction. A stage that was stopped catches up at
 * its first read; a NATS outage only delays it.
 */
static void
config_sync(struct admin *adm, int seen)
{
	char err[1024];
	json_t *snap = NULL;
	uint64_t rev, have = 0;
	MDB_txn *txn;
	int rc;

	if (!adm->nats_up) {
		if ((rc = cluster_connect(&adm->cl, "hookpipe-admin", err,
		    sizeof(err))) != 0) {
			if (!adm->nats_warned)
				log_warn("cluster: %s (the configuration "
				    "other hosts change waits)", err);
			adm->nats_warned = 1;
			return;
		}
		/* The metrics threads read the connection once it is up. */
		__atomic_store_n(&adm->nats_up, 1, __ATOMIC_RELEASE);
		if (cluster_answer(&adm->cl, CLUSTER_ASK_RUNS, answer_runs,
		    adm, err, sizeof(err)) != 0)
			log_warn("cluster: %s (the other hosts do not see "
			    "this host's runs)", err);
	}
	if (mono_ms() >= adm->next_beat) {
		adm->next_beat = mono_ms() + CLUSTER_HOST_BEAT_S * 1000;
		if (cluster_host_beat(&adm->cl, adm->since, err,
		    sizeof(err)) != 0) {
			if (!adm->beat_warned)
				log_warn("cluster: %s (this host is not listed "
				    "among the hosts up)", err);
			adm->beat_warned = 1;
		} else
			adm->beat_warned = 0;
		/* For the metrics threads, which do not ask NATS. */
		__atomic_store_n(&adm->hosts_up, cluster_hosts_count(&adm->cl),
		    __ATOMIC_RELAXED);
	}
	/* The bucket's changes come through its watch; read anyway now
	 * and then, and every time while there is no watch. */
	if (adm->watch == NULL && mono_ms() >= adm->next_watch) {
		if (ccfg_watch(&adm->cl, &adm->watch, err, sizeof(err)) == -1) {
			log_debug("cluster: %s (the bucket is read every %d "
			    "ms)", err, SYNC_EVERY_MS);
			adm->next_watch = mono_ms() + CLUSTER_HOST_BEAT_S * 1000;
		}
	}
	if (!seen && adm->watch != NULL && mono_ms() < adm->next_read)
		return;
	adm->next_read = mono_ms() + SYNC_QUIET_MS;
	if (ccfg_latest(&adm->cl, NULL, &rev, err, sizeof(err)) != 0) {
		if (!adm->nats_warned)
			log_warn("cluster: %s", err);
		adm->nats_warned = 1;
		return;
	}
	adm->nats_warned = 0;
	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 1)) != NULL) {
		have = ccfg_applied(txn, &adm->db);
		mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&adm->dblock);
	if (rev == 0 || rev <= have)
		return;
	if (ccfg_latest(&adm->cl, &snap, &rev, err, sizeof(err)) != 0 ||
	    snap == NULL) {
		log_warn("cluster: %s", err);
		return;
	}
	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 0)) == NULL)
		rc = -1;
	else if ((rc = ccfg_apply(txn, &adm->db, snap, rev)) == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_mutex_unlock(&adm->dblock);
	json_decref(snap);
	if (rc == CCFG_OLDER)
		;	/* a CLI of this host committed a newer one meanwhile */
	else if (rc != 0)
		log_warn("cluster: cannot apply configuration revision %llu: "
		    "%s", (unsigned long long)rev, db_strerror(rc));
	else
		log_info("cluster: applied configuration revision %llu",
		    (unsigned long long)rev);
}

static void
start_httpd(struct admin *adm)
{
	struct addrinfo hints, *ai;
	char port[8];
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", adm->cfg.admin_port);
	if ((rc = getaddrinfo(adm->cfg.admin_host, port, &hints, &ai)) != 0)
		fatal(EXIT_PERMANENT, "HOOKPIPE_ADMIN_LISTEN: cannot resolve "
		    "%s: %s", adm->cfg.admin_host, gai_strerror(rc));
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	adm->httpd = MHD_start_daemon(flags, (uint16_t)adm->cfg.admin_port,
	    NULL, NULL, on_request, adm,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, adm,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, adm,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (adm->httpd == NULL)
		fatal(EXIT_PERMANENT, "HOOKPIPE_ADMIN_LISTEN=%s:%d: cannot "
		    "listen (is the port in use? set HOOKPIPE_ADMIN_LISTEN to "
		    "a free one)", adm->cfg.admin_host, adm->cfg.admin_port);
}

int
main(int argc, char **argv)
{
	struct admin *adm = calloc(1, sizeof(*adm));
	char err[1024];
	int64_t next_prune, next_sync = 0;
	int rc;

	if (adm == NULL)
		return EXIT_TEMPORARY;
	adm->hosts_up = -1;
	/* A client that goes away mid-answer is not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	stage_init(&adm->st, "admin", argc, argv, &adm->cfg, usage);
	metrics_open(&adm->cfg, "admin");
	pthread_mutex_init(&adm->dblock, NULL);
	if (admin_token(&adm->cfg, adm->token, err, sizeof(err)) == -1)
		fatal(EXIT_PERMANENT, "%s", err);
	/* Its own records only: it never holds a master key. */
	if ((rc = db_open(&adm->db, &adm->cfg, DB_PART(DB_CONFIG), DB_NOKEYS,
	    err, sizeof(err))) != 0)
		fatal(rc == DB_ESCHEMA ? EXIT_PERMANENT : EXIT_TEMPORARY, "%s",
		    err);
	program_path("hookpipe", adm->cli, sizeof(adm->cli));
	program_path("hookpipectl", adm->ctl, sizeof(adm->ctl));
	if (access(adm->cli, X_OK) == -1)
		fatal(EXIT_PERMANENT, "%s: %s; install the hookpipe CLI "
		    "beside hookpipe-admin", adm->cli, strerror(errno));
	console_dir(adm->console_dir, sizeof(adm->console_dir));
	/* The trigger editor tries filters as the router runs them: in
	 * hookpipe-jq workers, on the same budget. Without them the rest
	 * of the console works. */
	pthread_mutex_init(&adm->jqlock, NULL);
	if (jqpool_init(&adm->jq, &adm->cfg, err, sizeof(err)) == -1)
		log_warn("jq: %s (the console cannot try filters)", err);
	else
		adm->jq_up = 1;
	if ((adm->zctx = zmq_ctx_new()) == NULL ||
	    tap_open(&adm->tap, adm->zctx, &adm->cfg, "admin", err,
	    sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "tap: %s", adm->zctx == NULL ?
		    zmq_strerror(errno) : err);
	start_httpd(adm);
	prune(adm);
	metrics_db(&adm->db, DB_PART(DB_CONFIG));
	log_info("listening on %s:%d (console in %s)", adm->cfg.admin_host,
	    adm->cfg.admin_port, adm->console_dir);
	stage_ready(&adm->st, &adm->cfg);
	next_prune = mono_ms() + PRUNE_EVERY_MS;
	fmt_rfc3339(now_us(), adm->since, sizeof(adm->since));
	if (cluster_enabled())
		config_sync(adm, 1);
	for (;;) {
		zmq_pollitem_t items[3] = {
			{ NULL, adm->st.sig_fd, ZMQ_POLLIN, 0 },
			{ adm->tap.sock, 0, ZMQ_POLLIN, 0 },
			{ NULL, -1, ZMQ_POLLIN, 0 },
		};
		int seen = 0;

		if (adm->watch != NULL)
			items[2].fd = ccfg_watch_fd(adm->watch);
		if (zmq_poll(items, adm->watch != NULL ? 3 : 2, 1000) == -1 &&
		    errno != EINTR)
			fatal(EXIT_TEMPORARY, "zmq_poll: %s",
			    zmq_strerror(errno));
		if (adm->watch != NULL && (items[2].revents & ZMQ_POLLIN) &&
		    (seen = ccfg_watch_seen(adm->watch)) == -1) {
			log_info("cluster: the configuration watch ended: "
			    "watched again");
			ccfg_unwatch(&adm->watch);
			seen = 1;
		}
		if (items[1].revents & ZMQ_POLLIN) {
			pthread_mutex_lock(&adm->dblock);
			tap_poll(&adm->tap);
			pthread_mutex_unlock(&adm->dblock);
		}
		if ((items[0].revents & ZMQ_POLLIN) && stage_signal(&adm->st))
			break;
		if (cluster_enabled() && (mono_ms() >= next_sync || seen)) {
			config_sync(adm, seen);
			next_sync = mono_ms() + SYNC_EVERY_MS;
		}
		if (mono_ms() >= next_prune) {
			prune(adm);
			db_reader_check(&adm->db);
			metrics_db(&adm->db, DB_PART(DB_CONFIG));
			next_prune = mono_ms() + PRUNE_EVERY_MS;
		}
	}
	log_info("stopping");
	__atomic_store_n(&adm->stopping, 1, __ATOMIC_RELAXED);
	MHD_stop_daemon(adm->httpd);
	tap_close(&adm->tap);
	zmq_ctx_term(adm->zctx);
	if (adm->jq_up)
		jqpool_close(&adm->jq);
	if (adm->nats_up) {
		cluster_host_leave(&adm->cl);
		ccfg_unwatch(&adm->watch);
		cluster_close(&adm->cl);
	}
	db_close(&adm->db);
	OPENSSL_cleanse(adm->token, sizeof(adm->token));
	stage_exit(&adm->st, &adm->cfg);
	free(adm);
	return 0;
}
