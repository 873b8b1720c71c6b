/*
 * hookpipe doctor: what an operator checks first, one line each, and
 * exit 1 when something is wrong. It reads and probes; it changes
 * nothing (the state directory must already be there).
 */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "util.h"

#define CHECK_TIMEOUT_S	3
#define SKEW_WARN_S	30

enum verdict { V_OK, V_WARN, V_FAIL };

struct doctor {
	struct ctx	*ctx;
	json_t		*a;		/* --json */
	int		 failed;
	int		 integ_warnings;
	int		 key_errno;	/* the key's, before the open */
	struct stat	 key_sb;
	char		 integ_first[512];
};

static void
report(struct doctor *d, enum verdict v, const char *check,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
report(struct doctor *d, enum verdict v, const char *check,
    const char *fmt, ...)
{
	static const char *const words[] = { "ok", "warn", "FAIL" };
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (v == V_FAIL)
		d->failed = 1;
	if (d->a != NULL) {
		json_array_append_new(d->a, json_pack("{s:s,s:s,s:s}", "check",
		    check, "status", v == V_FAIL ? "fail" : words[v], "detail",
		    line));
		return;
	}
	printf("%-5s %-13s ", words[v], check);
	print_safe(stdout, line);
	printf("\n");
}

static void
check_home(struct doctor *d)
{
	const struct config *cfg = &d->ctx->cfg;
	struct stat sb, rb;

	if (stat(cfg->home, &sb) == -1) {
		report(d, V_FAIL, "home", "%s: %s", cfg->home, strerror(errno));
		return;
	}
	if (sb.st_uid != geteuid())
		report(d, V_FAIL, "home", "%s belongs to uid %ld, not to you "
		    "(uid %ld): run hookpipe as its owner", cfg->home,
		    (long)sb.st_uid, (long)geteuid());
	else if (sb.st_mode & 022)
		report(d, V_FAIL, "home", "%s is writable by others (mode "
		    "%03o): chmod go-w %s", cfg->home, sb.st_mode & 0777,
		    cfg->home);
	else if (stat(cfg->run_dir, &rb) == 0 && (rb.st_mode & 077))
		report(d, V_FAIL, "home", "%s is open to others (mode %03o): "
		    "chmod 700 %s", cfg->run_dir, rb.st_mode & 0777,
		    cfg->run_dir);
	else
		report(d, V_OK, "home", "%s (mode %03o, yours)", cfg->home,
		    sb.st_mode & 0777);
}

/* What the key check found among the workspace's secrets. */
struct key_survey {
	struct db	*db;
	int		 n;		/* secrets that opened */
	char		 bad[NAME_MAX_LEN + 1];	/* the first that did not */
	int		 bad_which;	/* its slot: 1, or 2 (the secondary) */
	uint32_t	 bad_missing;	/* the id of its key, if its file is */
	uint32_t	 bad_id;	/* the id of the key it names */
};

static int
survey_cb(void *arg, const struct sub_rec *s)
{
	struct key_survey *k = arg;
	unsigned char secret[SECRET_MAX];
	int which;

	for (which = 1; which <= 2; which++) {
		const unsigned char *in = which == 2 ? s->secret2 : s->secret;
		size_t n = which == 2 ? s->secret2_len : s->secret_len;

		if (n == 0)
			continue;
		if (db_sub_secret(k->db, s, which, secret, sizeof(secret)) >= 0) {
			OPENSSL_cleanse(secret, sizeof(secret));
			k->n++;
		} else if (k->bad[0] == '\0') {
			str_copy(k->bad, s->name, sizeof(k->bad));
			k->bad_which = which;
			k->bad_id = sealed_key_id(in, n);
			k->bad_missing = db_key_missing(k->db, in, n);
		}
	}
	return 0;
}

/* A master key file of the state directory others may read, or NULL. */
static const char *
key_file_open_to_others(const char *key_path, char *out, size_t len)
{
	const char *slash = strrchr(key_path, '/'), *base;
	char dir[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	size_t bl;
	DIR *dp;

	if (slash == NULL)
		return NULL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - key_path), key_path);
	base = slash + 1;
	bl = strlen(base);
	if ((dp = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(dp)) != NULL) {
		const char *tail = de->d_name + bl;

		/* master.key, master.key.N: not the lock, nor a file a
		 * rotation is writing. */
		if (strncmp(de->d_name, base, bl) != 0 || (*tail != '\0' &&
		    (*tail != '.' || strspn(tail + 1, "0123456789") !=
		    strlen(tail + 1) || tail[1] == '\0')))
			continue;
		snprintf(out, len, "%s/%s", dir, de->d_name);
		if (stat(out, &sb) == 0 && (sb.st_mode & 077) != 0) {
			closedir(dp);
			return out;
		}
	}
	closedir(dp);
	return NULL;
}

static void
check_key(struct doctor *d)
{
	const struct config *cfg = &d->ctx->cfg;
	struct key_survey k = { .db = &d->ctx->db };
	char path[PATH_MAX + 16], open_to[PATH_MAX + 300];
	uint32_t cur = d->ctx->db.key_current;
	struct stat sb;
	MDB_txn *txn;

	/* As it was: opening the database makes key 1, and fixes its
	 * mode. After a rotation the key in use is master.key.N. */
	db_key_path(&d->ctx->db, cur, path, sizeof(path));
	if (cur == 1 && d->key_errno != 0) {
		if (d->key_errno == ENOENT)
			report(d, V_OK, "master key", "none yet (made when the "
			    "first secret is stored)");
		else
			report(d, V_FAIL, "master key", "%s: %s",
			    cfg->key_path, strerror(d->key_errno));
		return;
	}
	if (cur == 1 && (d->key_sb.st_mode & 077) != 0) {
		report(d, V_FAIL, "master key", "%s is readable by others "
		    "(mode %03o): chmod 600 %s", path,
		    d->key_sb.st_mode & 0777, path);
		return;
	}
	if (key_file_open_to_others(cfg->key_path, open_to,
	    sizeof(open_to)) != NULL && stat(open_to, &sb) == 0) {
		report(d, V_FAIL, "master key", "%s is readable by others "
		    "(mode %03o): chmod 600 %s", open_to, sb.st_mode & 0777,
		    open_to);
		return;
	}
	/* Whether the keys here open what they sealed: every secret of
	 * the workspace, decrypted. */
	if ((txn = txn_read(d->ctx, DB_CONFIG)) != NULL) {
		db_sub_each(txn, &d->ctx->db, d->ctx->ws, survey_cb, &k);
		mdb_txn_abort(txn);
	}
	if (k.bad[0] != '\0') {
		char kp[PATH_MAX + 16];

		db_key_path(&d->ctx->db, k.bad_id, kp, sizeof(kp));
		if (k.bad_missing != 0)
			report(d, V_FAIL, "master key", "%s is missing: it "
			    "sealed the %ssecret of subscription %s (copy it, "
			    "mode 600, from the host that ran 'hookpipe key "
			    "rotate', or restore it from a backup)", kp,
			    k.bad_which == 2 ? "secondary " : "", k.bad);
		else
			report(d, V_FAIL, "master key", "%s does not open the "
			    "%ssecret of subscription %s: another master key? "
			    "(restore the one it was sealed with)", kp,
			    k.bad_which == 2 ? "secondary " : "", k.bad);
		return;
	}
	if (k.n > 0)
		report(d, V_OK, "master key", "%s (key %u, mode 600), opens "
		    "the %d stored secret%s", path, cur, k.n,
		    k.n == 1 ? "" : "s");
	else
		report(d, V_OK, "master key", "%s (key %u, mode 600)", path,
		    cur);
}

/* The stages' pid files, and whether each names a live stage. */
static int
stage_up(const struct config *cfg, const char *stage)
{
	char path[PATH_MAX + 32], comm[64];
	long pid = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.pid", cfg->run_dir, stage);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(comm, 1, sizeof(comm) - 1, f);
	fclose(f);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	/* comm holds 15 characters: "hookpipe-receiv", "hookpipe-admin". */
	return strncmp(comm, "hookpipe-", 9) == 0 &&
	    strncmp(comm + 9, stage, 6) == 0;
}

static int
check_stages(struct doctor *d)
{
	static const char *const stages[] = {
		"receiver", "verifier", "router", "dispatcher", "admin", NULL
	};
	char down[80] = "";
	int i, receiver = 0;

	for (i = 0; stages[i] != NULL; i++) {
		if (stage_up(&d->ctx->cfg, stages[i])) {
			receiver |= i == 0;
			continue;
		}
		snprintf(down + strlen(down), sizeof(down) - strlen(down),
		    "%s%s", down[0] ? ", " : "", stages[i]);
	}
	if (down[0] != '\0')
		report(d, V_FAIL, "stages", "down: %s ('hookpipectl status' "
		    "says why; 'hookpipectl start')", down);
	else
		report(d, V_OK, "stages", "receiver, verifier, router, "
		    "dispatcher and admin up");
	return receiver;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The Date header of an answer, as seconds; 0 when there is none. */
static size_t
date_header(char *p, size_t size, size_t n, void *arg)
{
	time_t *t = arg;
	char line[256];
	size_t len = size * n;

	if (len > 5 && len < sizeof(line) && strncasecmp(p, "date:", 5) == 0) {
		memcpy(line, p + 5, len - 5);
		line[len - 5] = '\0';
		*t = curl_getdate(line, NULL);
	}
	return len;
}

/* GET url: its HTTP status (0 when unreached), with errbuf, and Date. */
static long
http_get(const char *url, time_t *date, char *errbuf)
{
	long status = 0;
	CURL *e;

	errbuf[0] = '\0';
	if ((e = curl_easy_init()) == NULL)
		return 0;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)CHECK_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe-doctor");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, date_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, date);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	return status;
}

static void
check_listen(struct doctor *d, int receiver_up)
{
	const struct config *cfg = &d->ctx->cfg;
	char url[600], errbuf[CURL_ERROR_SIZE], port[8];
	struct addrinfo hints, *ai;
	time_t date = 0;
	long st;
	int fd, one = 1, e;

	if (receiver_up) {
		snprintf(url, sizeof(url), "http://%s%s%s:%d/healthz",
		    strchr(cfg->listen_host, ':') ? "[" : "",
		    strcmp(cfg->listen_host, "0.0.0.0") == 0 ? "127.0.0.1" :
		    cfg->listen_host, strchr(cfg->listen_host, ':') ? "]" : "",
		    cfg->listen_port);
		st = http_get(url, &date, errbuf);
		if (st == 200)
			report(d, V_OK, "listen", "%s:%d answers /healthz",
			    cfg->listen_host, cfg->listen_port);
		else
			report(d, V_FAIL, "listen", "%s:%d: /healthz %s%s",
			    cfg->listen_host, cfg->listen_port, st ?
			    "answered with an error" : "unreached: ",
			    st ? "" : errbuf);
		return;
	}
	/* Down: will it be able to listen? */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", cfg->listen_port);
	if (getaddrinfo(cfg->listen_host, port, &hints, &ai) != 0) {
		report(d, V_FAIL, "listen", "HOOKPIPE_LISTEN: cannot resolve "
		    "%s", cfg->listen_host);
		return;
	}
	e = 0;
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) != -1) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
			e = errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (e != 0)
		report(d, V_FAIL, "listen", "%s:%d: %s: the receiver could not "
		    "listen there; set HOOKPIPE_LISTEN", cfg->listen_host,
		    cfg->listen_port, e == EADDRINUSE ? "in use by another "
		    "program" : strerror(e));
	else
		report(d, V_OK, "listen", "%s:%d is free for the receiver",
		    cfg->listen_host, cfg->listen_port);
}

static void
check_integrations(struct doctor *d)
{
	struct integ_set *s = &d->ctx->integs;

	if (s->errors > 0 || d->integ_warnings > 0)
		report(d, V_FAIL, "integrations", "%d loaded, %d refused: %s",
		    s->n, s->errors > 0 ? s->errors : d->integ_warnings,
		    d->integ_first);
	else if (s->n == 0)
		report(d, V_FAIL, "integrations", "none in %s: set "
		    "HOOKPIPE_INTEGRATIONS", d->ctx->cfg.integrations_dir);
	else
		report(d, V_OK, "integrations", "%d loaded from %s", s->n,
		    d->ctx->cfg.integrations_dir);
}

struct remote_subs {
	int	 n;
	char	 names[200];
};

static int
remote_cb(void *arg, const struct sub_rec *s)
{
	struct remote_subs *r = arg;

	if (strcmp(s->mode, "manual") == 0)
		return 0;
	if (r->n++ < 4)
		snprintf(r->names + strlen(r->names), sizeof(r->names) -
		    strlen(r->names), "%s%s", r->n > 1 ? ", " : "", s->name);
	return 0;
}

/*
 * Callback URLs are TRIGGER_URL/triggers/plugin/ID whenever they are
 * shown; those hookpipe registered with a provider (api-key, oauth)
 * cannot be reached there when TRIGGER_URL names this host only.
 */
static void
check_trigger_url(struct doctor *d)
{
	const char *u = d->ctx->cfg.trigger_url;
	const char *host = strstr(u, "://") + 3;
	struct remote_subs r = { 0, "" };
	MDB_txn *txn;
	int local = strncmp(host, "localhost", 9) == 0 ||
	    strncmp(host, "127.", 4) == 0 || strncmp(host, "[::1]", 5) == 0;

	if ((txn = txn_read(d->ctx, DB_CONFIG)) != NULL) {
		db_sub_each(txn, &d->ctx->db, d->ctx->ws, remote_cb, &r);
		mdb_txn_abort(txn);
	}
	if (local && r.n > 0)
		report(d, V_FAIL, "trigger url", "%s is this host only, and %d "
		    "subscription%s (%s) registered callback URLs under it "
		    "with a provider that cannot reach them: set TRIGGER_URL "
		    "to the public address and 'hookpipe sub edit' them", u,
		    r.n, r.n == 1 ? "" : "s", r.names);
	else if (local)
		report(d, V_WARN, "trigger url", "%s: callback URLs are this "
		    "host only; providers reach hookpipe once TRIGGER_URL is "
		    "its public address", u);
	else if (strncmp(u, "http://", 7) == 0)
		report(d, V_WARN, "trigger url", "%s is plain http: providers "
		    "want https (a TLS proxy in front of the receiver)", u);
	else
		report(d, V_OK, "trigger url", "%s", u);
}

/* Against the Date of an answer from GitHub's API (HOOKPIPE_GITHUB_API). */
static void
check_clock(struct doctor *d)
{
	const struct config *cfg = &d->ctx->cfg;
	char errbuf[CURL_ERROR_SIZE];
	time_t date = 0, now;
	long skew;

	http_get(cfg->github_api, &date, errbuf);
	now = time(NULL);
	if (date <= 0) {
		report(d, V_WARN, "clock", "not checked: no Date from %s%s%s",
		    cfg->github_api, errbuf[0] ? ": " : "", errbuf);
		return;
	}
	skew = labs((long)(now - date));
	if (skew * 2 > cfg->tolerance)
		report(d, V_FAIL, "clock", "%ld s off %s's clock: deliveries "
		    "whose timestamps are off by more than %lld s are refused; "
		    "set the time (NTP)", skew, cfg->github_api,
		    (long long)cfg->tolerance);
	else
		report(d, skew > SKEW_WARN_S ? V_WARN : V_OK, "clock",
		    "%ld s off %s's clock", skew, cfg->github_api);
}

static void
check_space(struct doctor *d)
{
	static const char *const parts[DB_NPARTS] = {
		"config", "events", "runs", "spool"
	};
	const struct config *cfg = &d->ctx->cfg;
	char line[512] = "";
	struct statvfs vfs;
	unsigned long long avail, total;
	int p, full = 0;

	if (statvfs(cfg->db_dir, &vfs) == -1) {
		report(d, V_FAIL, "disk", "%s: %s", cfg->db_dir,
		    strerror(errno));
		return;
	}
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
	if (avail < (256ULL << 20) || avail * 20 < total)
		report(d, V_FAIL, "disk", "%llu MiB free of %llu MiB under %s: "
		    "free some, or the stages stop storing", avail >> 20,
		    total >> 20, cfg->db_dir);
	else
		report(d, V_OK, "disk", "%llu MiB free of %llu MiB under %s",
		    avail >> 20, total >> 20, cfg->db_dir);
	for (p = 0; p < DB_NPARTS; p++) {
		const struct db_env *e = &d->ctx->db.part[p];
		unsigned long long used, max;
		MDB_envinfo info;
		MDB_stat st;

		if (e->env == NULL || mdb_env_info(e->env, &info) != 0 ||
		    mdb_env_stat(e->env, &st) != 0)
			continue;
		used = (unsigned long long)(info.me_last_pgno + 1) *
		    st.ms_psize;
		max = e->map_max > 0 ? e->map_max : info.me_mapsize;
		full |= used * 10 > max * 9;
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    "%s%s %llu MiB of %llu MiB", p > 0 ? ", " : "", parts[p],
		    used >> 20, max >> 20);
	}
	report(d, full ? V_FAIL : V_OK, "map space", "%s%s", line, full ?
	    ": over 90% used; raise HOOKPIPE_MAP_SIZE or lower "
	    "HOOKPIPE_RETENTION" : "");
}

static struct doctor *the_doctor;

static void
integ_warned(const char *msg)
{
	if (the_doctor->integ_warnings++ == 0)
		str_copy(the_doctor->integ_first, msg,
		    sizeof(the_doctor->integ_first));
}

int
cmd_doctor(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct doctor d = { .ctx = ctx };
	char err[1024];
	struct stat sb;
	char **args;
	int rc, up;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if (stat(ctx->cfg.home, &sb) == -1)
		return fail("no state directory at %s: set HOOKPIPE_HOME (or "
		    "--home) to the one the stack uses", ctx->cfg.home);
	if (stat(ctx->cfg.key_path, &d.key_sb) == -1)
		d.key_errno = errno;
	if (db_open(&ctx->db, &ctx->cfg, DB_ALL, 0, err, sizeof(err)) != 0)
		return fail("%s", err);
	ctx->db_open = 1;
	the_doctor = &d;
	integ_load_all(&ctx->integs, &ctx->cfg, integ_warned);
	ctx->integs_loaded = 1;
	if (ctx->json)
		d.a = json_array();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	check_home(&d);
	check_key(&d);
	up = check_stages(&d);
	check_listen(&d, up);
	check_integrations(&d);
	check_trigger_url(&d);
	check_clock(&d);
	check_space(&d);
	curl_global_cleanup();
	if (ctx->json)
		json_print(json_pack("{s:b,s:o}", "ok", !d.failed, "checks",
		    d.a));
	return d.failed ? EXIT_FAIL : EXIT_OK;
}
