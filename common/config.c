#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mp.h"
#include "util.h"

_Static_assert(MAX_BODY_CEILING + (1 << 20) <= (int64_t)MP_MAX_INPUT,
    "a body at MAX_BODY_CEILING must fit in a message with its headers");

#ifndef HOOKPIPE_DATADIR
#define HOOKPIPE_DATADIR "/usr/local/share/hookpipe"
#endif

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : def;
}

static int
env_int(const char *name, int64_t def, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	if (parse_i64(v, min, max, out) == -1) {
		snprintf(err, errlen, "%s=%s: expected a whole number from "
		    "%lld to %lld", name, v, (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

static int
path_join(char *out, size_t len, const char *a, const char *b)
{
	return snprintf(out, len, "%s/%s", a, b) >= (int)len ? -1 : 0;
}

/* HOST:PORT of variable var into host (256 bytes) and port. */
static int
parse_listen(const char *var, const char *v, char *host, int *port_out,
    char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':');
	int64_t port;
	size_t hl;

	if (colon == NULL || parse_i64(colon + 1, 0, 65535, &port) == -1)
		goto bad;
	hl = (size_t)(colon - v);
	if (hl >= 256)
		goto bad;
	if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
		memcpy(host, v + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, v, hl);
		host[hl] = '\0';
	}
	if (host[0] == '\0')
		str_copy(host, "0.0.0.0", 256);
	*port_out = (int)port;
	return 0;
bad:
	snprintf(err, errlen, "%s=%s: expected HOST:PORT", var, v);
	return -1;
}

static int
parse_retry(struct config *cfg, const char *v, char *err, size_t errlen)
{
	char copy[512], *tok, *save = NULL, *end;
	double secs;

	if (strlen(v) >= sizeof(copy))
		goto bad;
	str_copy(copy, v, sizeof(copy));
	cfg->retry_steps = 0;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		errno = 0;
		secs = strtod(tok, &end);
		if (errno != 0 || *end != '\0' || !(secs >= 0 && secs <= 86400) ||
		    cfg->retry_steps == RETRY_MAX_STEPS)
			goto bad;
		cfg->retry_ms[cfg->retry_steps++] = (int64_t)(secs * 1000);
	}
	if (cfg->retry_steps == 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "HOOKPIPE_RETRY_SCHEDULE=%s: expected up to %d "
	    "comma-separated delays in seconds, e.g. 1,5,30,120,600", v,
	    RETRY_MAX_STEPS);
	return -1;
}

/*
 * The shipped definitions sit beside the binaries: bin/../integrations in
 * a source tree, bin/../share/hookpipe/integrations once installed.
 */
static void
integrations_default(char *out, size_t len)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	str_copy(out, HOOKPIPE_DATADIR "/integrations", len);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	*slash = '\0';
	snprintf(cand, sizeof(cand), "%s/../integrations", exe);
	if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
		str_copy(out, cand, len);
		return;
	}
	/* A sanitized build: build-san/bin/../../integrations. */
	snprintf(cand, sizeof(cand), "%s/../../integrations", exe);
	if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
		str_copy(out, cand, len);
		return;
	}
	snprintf(cand, sizeof(cand), "%s/../share/hookpipe/integrations", exe);
	if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
		str_copy(out, cand, len);
		return;
	}
	/* A stage, installed in PREFIX/libexec/hookpipe. */
	snprintf(cand, sizeof(cand), "%s/../../share/hookpipe/integrations",
	    exe);
	if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode))
		str_copy(out, cand, len);
}

/* "30d", "12h", "90m", "3600s" or a bare number of days. */
/* Bytes, with an optional K, M or G (powers of 1024; "MiB" too). */
static int
env_size(const char *name, int64_t def, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	long long n;
	int shift = 0;

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift != 0 && strcmp(end, "iB") == 0)
		end += 2;
	else if (shift != 0 && strcmp(end, "B") == 0)
		end++;
	if (errno != 0 || end == v || *end != '\0' || n < 0 ||
	    n > (max >> shift) || (n << shift) < min) {
		snprintf(err, errlen, "%s=%s: expected a size from %lld to "
		    "%lld bytes (a number, optionally with K, M or G)", name, v,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = (int64_t)n << shift;
	return 0;
}

static int
parse_duration(const char *v, int64_t *secs)
{
	char num[32];
	size_t n = strlen(v);
	int64_t unit = 86400, x;

	if (n == 0 || n >= sizeof(num))
		return -1;
	str_copy(num, v, sizeof(num));
	switch (num[n - 1]) {
	case 'd': unit = 86400; num[n - 1] = '\0'; break;
	case 'h': unit = 3600; num[n - 1] = '\0'; break;
	case 'm': unit = 60; num[n - 1] = '\0'; break;
	case 's': unit = 1; num[n - 1] = '\0'; break;
	default: break;
	}
	if (parse_i64(num, 1, (int64_t)100 * 365 * 86400, &x) == -1)
		return -1;
	*secs = x * unit;
	return 0;
}

/*
 * The body limits, which must agree: no stage may accept a body a later
 * one cannot carry, and the largest body must fit in the half of the
 * receiver's budget that large bodies share (receiver/http.c).
 */
static int
load_limits(struct config *cfg, char *err, size_t errlen)
{
	const char *v = getenv("HOOKPIPE_MAX_BODY");
	int64_t over;

	if (env_int("HOOKPIPE_MAX_BODY", 10485760, 1, MAX_BODY_CEILING,
	    &cfg->max_body, err, errlen) == -1) {
		if (parse_i64(v, MAX_BODY_CEILING + 1, INT64_MAX, &over) == 0)
			snprintf(err, errlen, "HOOKPIPE_MAX_BODY=%s: over the "
			    "ceiling of %lld bytes (63 MiB), the largest body "
			    "a message between stages can carry; set it lower",
			    v, (long long)MAX_BODY_CEILING);
		return -1;
	}
	if (env_int("HOOKPIPE_BODY_BUDGET", cfg->max_body * 4 > 64 << 20 ?
	    cfg->max_body * 4 : 64 << 20, 1, (int64_t)1 << 40,
	    &cfg->body_budget, err, errlen) == -1)
		return -1;
	if (cfg->body_budget < 2 * cfg->max_body) {
		snprintf(err, errlen, "HOOKPIPE_BODY_BUDGET=%lld: must be at "
		    "least twice HOOKPIPE_MAX_BODY (%lld bytes): large bodies "
		    "share half of it, and the largest must fit there",
		    (long long)cfg->body_budget, (long long)cfg->max_body);
		return -1;
	}
	return env_int("HOOKPIPE_CONN_PER_CLIENT", 256, 0, 65535,
	    &cfg->conn_per_client, err, errlen) ||
	    env_int("HOOKPIPE_SPOOL_MAX", (int64_t)1 << 30, 0, (int64_t)1 << 44,
	    &cfg->spool_max, err, errlen) ? -1 : 0;
}

/* --- the settings file, $HOOKPIPE_HOME/hookpipe.env --- */

#define FILE_SETTINGS_MAX	64

static char	file_names[FILE_SETTINGS_MAX][64];
static int	file_nnames;

int
config_name_valid(const char *name)
{
	const char *p;

	if (strcmp(name, "TRIGGER_URL") == 0)
		return 1;
	if (strncmp(name, "HOOKPIPE_", 9) != 0 || name[9] == '\0' ||
	    strlen(name) >= sizeof(file_names[0]))
		return 0;
	for (p = name + 9; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return 0;
	return 1;
}

int
config_file_read(const char *path, config_file_fn fn, void *arg, char *err,
    size_t errlen)
{
	char line[4096], *p, *eq, *end;
	int n = 0, rc = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: a line of more than %zu "
			    "bytes", path, n, sizeof(line) - 2);
			rc = -1;
			break;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		end = p + strlen(p);
		while (end > p && strchr(" \t\r\n", end[-1]) != NULL)
			*--end = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected NAME=VALUE",
			    path, n);
			rc = -1;
			break;
		}
		*eq++ = '\0';
		if (!config_name_valid(p)) {
			snprintf(err, errlen, "%s:%d: %s: expected a "
			    "HOOKPIPE_* name (capitals, digits, '_') or "
			    "TRIGGER_URL", path, n, p);
			rc = -1;
			break;
		}
		/* One pair of quotes, as a shell or systemd would take. */
		end = eq + strlen(eq);
		if (end - eq >= 2 && (*eq == '"' || *eq == '\'') &&
		    end[-1] == *eq) {
			end[-1] = '\0';
			eq++;
		}
		rc = fn(arg, p, eq, n);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "cannot read %s", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

int
config_from_file(const char *name)
{
	int i;

	for (i = 0; i < file_nnames; i++)
		if (strcmp(file_names[i], name) == 0)
			return 1;
	return 0;
}

struct file_load {
	const char	*path;
	char		*err;
	size_t		 errlen;
};

static int
file_setting(void *arg, const char *name, const char *value, int line)
{
	struct file_load *l = arg;
	const char *v = getenv(name);

	if (strcmp(name, "HOOKPIPE_HOME") == 0) {
		snprintf(l->err, l->errlen, "%s:%d: HOOKPIPE_HOME cannot be "
		    "set in the file it holds; set it in the environment or "
		    "with --home", l->path, line);
		return -1;
	}
	if (v != NULL && *v != '\0' && !config_from_file(name))
		return 0;		/* the environment wins */
	if (setenv(name, value, 1) == -1) {
		snprintf(l->err, l->errlen, "%s:%d: %s", l->path, line,
		    strerror(errno));
		return -1;
	}
	if (!config_from_file(name) && file_nnames < FILE_SETTINGS_MAX)
		str_copy(file_names[file_nnames++], name,
		    sizeof(file_names[0]));
	return 0;
}

/* Into the environment, under what it has already. */
static int
load_file(const char *home, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct file_load l = { path, err, errlen };

	if (snprintf(path, sizeof(path), "%s/%s", home, CONFIG_FILE) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "HOOKPIPE_HOME is too long");
		return -1;
	}
	return config_file_read(path, file_setting, &l, err, errlen);
}

/* --- end of the settings file --- */

int
config_load(struct config *cfg, char *err, size_t errlen)
{
	const char *home = getenv("HOOKPIPE_HOME"), *v;
	char def[PATH_MAX];

	memset(cfg, 0, sizeof(*cfg));
	if (home == NULL || *home == '\0') {
		const char *xdg = getenv("XDG_STATE_HOME");
		const char *uh = getenv("HOME");

		if (xdg != NULL && *xdg != '\0')
			snprintf(def, sizeof(def), "%s/hookpipe", xdg);
		else if (uh != NULL && *uh != '\0')
			snprintf(def, sizeof(def), "%s/.local/state/hookpipe",
			    uh);
		else {
			snprintf(err, errlen, "set HOOKPIPE_HOME (or HOME)");
			return -1;
		}
		home = def;
	}
	if (home[0] != '/') {
		snprintf(err, errlen, "HOOKPIPE_HOME=%s: must be an absolute "
		    "path", home);
		return -1;
	}
	if (load_file(home, err, errlen) == -1)
		return -1;
	if (str_copy(cfg->home, home, sizeof(cfg->home)) >= sizeof(cfg->home) ||
	    path_join(cfg->run_dir, sizeof(cfg->run_dir), home, "run") ||
	    path_join(cfg->db_dir, sizeof(cfg->db_dir), home, "db") ||
	    path_join(cfg->log_dir, sizeof(cfg->log_dir), home, "log") ||
	    path_join(cfg->key_path, sizeof(cfg->key_path), home,
	    "master.key") ||
	    path_join(cfg->user_integrations_dir,
	    sizeof(cfg->user_integrations_dir), home, "integrations")) {
		snprintf(err, errlen, "HOOKPIPE_HOME is too long");
		return -1;
	}
	/* ZeroMQ ipc paths are limited by sockaddr_un (108 bytes). */
	if (strlen(cfg->run_dir) + sizeof("/dispatcher.tap") > 100) {
		snprintf(err, errlen, "HOOKPIPE_HOME=%s: too long for Unix "
		    "socket paths (keep it under 80 characters)", home);
		return -1;
	}
	integrations_default(cfg->integrations_dir,
	    sizeof(cfg->integrations_dir));
	str_copy(cfg->integrations_dir, env_or("HOOKPIPE_INTEGRATIONS",
	    cfg->integrations_dir), sizeof(cfg->integrations_dir));

	if (parse_listen("HOOKPIPE_LISTEN", env_or("HOOKPIPE_LISTEN",
	    "127.0.0.1:8080"), cfg->listen_host, &cfg->listen_port, err,
	    errlen) == -1 || parse_listen("HOOKPIPE_ADMIN_LISTEN",
	    env_or("HOOKPIPE_ADMIN_LISTEN", "127.0.0.1:8081"),
	    cfg->admin_host, &cfg->admin_port, err, errlen) == -1)
		return -1;
	v = env_or("TRIGGER_URL", "http://localhost:8080");
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
		snprintf(err, errlen, "TRIGGER_URL=%s: expected an http:// or "
		    "https:// URL", v);
		return -1;
	}
	str_copy(cfg->trigger_url, v, sizeof(cfg->trigger_url));
	while (strlen(cfg->trigger_url) > 8 &&
	    cfg->trigger_url[strlen(cfg->trigger_url) - 1] == '/')
		cfg->trigger_url[strlen(cfg->trigger_url) - 1] = '\0';
	v = env_or("HOOKPIPE_WORKSPACE", "default");
	if (!name_valid(v)) {
		snprintf(err, errlen, "HOOKPIPE_WORKSPACE=%s: expected a name "
		    "of letters, digits, '.', '_' or '-'", v);
		return -1;
	}
	str_copy(cfg->workspace, v, sizeof(cfg->workspace));
	str_copy(cfg->github_api, env_or("HOOKPIPE_GITHUB_API",
	    "https://api.github.com"), sizeof(cfg->github_api));
	str_copy(cfg->github_web, env_or("HOOKPIPE_GITHUB_WEB",
	    "https://github.com"), sizeof(cfg->github_web));

	if (load_limits(cfg, err, errlen) == -1 ||
	    env_int("HOOKPIPE_TOLERANCE", 300, 0, 10 * 365 * 86400LL,
	    &cfg->tolerance, err, errlen) ||
	    env_int("HOOKPIPE_MAP_SIZE", (int64_t)8 << 30, 1 << 20,
	    (int64_t)1 << 44, &cfg->map_size, err, errlen) ||
	    env_int("HOOKPIPE_VERIFY_TIMEOUT_MS", 5000, 10, 600000,
	    &cfg->verify_timeout_ms, err, errlen) ||
	    env_int("HOOKPIPE_CONCURRENCY", 16, 1, 1024, &cfg->concurrency,
	    err, errlen))
		return -1;
	/*
	 * A delivery signed at T passes until T + tolerance, and may first
	 * have arrived as early as T - tolerance: its dedupe entry must
	 * outlive both, or a late replay would run again.
	 */
	if (cfg->tolerance * 2 > DEDUPE_WINDOW_S) {
		snprintf(err, errlen, "HOOKPIPE_TOLERANCE=%lld: at most %lld "
		    "seconds (half of the %d-day dedupe window), or a replay "
		    "after the window would pass", (long long)cfg->tolerance,
		    (long long)DEDUPE_WINDOW_S / 2, DEDUPE_WINDOW_S / 86400);
		return -1;
	}
	if (env_int("HOOKPIPE_JQ_TIMEOUT_MS", 200, 1, 60000,
	    &cfg->jq_timeout_ms, err, errlen) ||
	    env_size("HOOKPIPE_JQ_MEMORY", (int64_t)64 << 20, (int64_t)4 << 20,
	    (int64_t)1 << 36, &cfg->jq_memory, err, errlen))
		return -1;
	/* Rotation of log/<stage>.log (log_rotate_init); 0: never. */
	if (env_size("HOOKPIPE_LOG_MAX", (int64_t)10 << 20, 0,
	    (int64_t)1 << 40, &cfg->log_max, err, errlen) ||
	    env_int("HOOKPIPE_LOG_KEEP", 5, 0, 1000, &cfg->log_keep, err,
	    errlen))
		return -1;
	if (parse_duration(env_or("HOOKPIPE_RETENTION", "30d"),
	    &cfg->retention_s) == -1) {
		snprintf(err, errlen, "HOOKPIPE_RETENTION=%s: expected a "
		    "duration such as 30d, 12h, 90m or 3600s",
		    getenv("HOOKPIPE_RETENTION"));
		return -1;
	}
	/* Cluster mode: a host not heard from that long has its runs taken
	 * over; under 30 s a host's lease (half of it) would not outlast
	 * its router's beats, every 5 s, by enough. */
	v = env_or("HOOKPIPE_CLUSTER_TAKEOVER", "0");
	cfg->takeover_s = 0;
	if ((strcmp(v, "0") != 0 && parse_duration(v, &cfg->takeover_s) ==
	    -1) || (cfg->takeover_s != 0 && cfg->takeover_s < 30)) {
		snprintf(err, errlen, "HOOKPIPE_CLUSTER_TAKEOVER=%s: expected "
		    "0 (never) or a duration of 30s or more, such as 10m",
		    getenv("HOOKPIPE_CLUSTER_TAKEOVER") ?
		    getenv("HOOKPIPE_CLUSTER_TAKEOVER") : "");
		return -1;
	}
	if (parse_retry(cfg, env_or("HOOKPIPE_RETRY_SCHEDULE",
	    "1,5,30,120,600"), err, errlen) == -1)
		return -1;
	return 0;
}

static int
make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
config_make_dirs(const struct config *cfg, char *err, size_t errlen)
{
	char parent[PATH_MAX], *p;

	/* mkdir -p for the parents of HOOKPIPE_HOME. */
	str_copy(parent, cfg->home, sizeof(parent));
	for (p = parent + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(parent, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", parent,
			    strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (make_dir(cfg->home, err, errlen) || make_dir(cfg->run_dir, err,
	    errlen) || make_dir(cfg->db_dir, err, errlen) ||
	    make_dir(cfg->log_dir, err, errlen))
		return -1;
	chmod(cfg->run_dir, 0700);
	return 0;
}

int
config_endpoint(const struct config *cfg, const char *name, char *out,
    size_t len)
{
	return snprintf(out, len, "ipc://%s/%s", cfg->run_dir, name) >=
	    (int)len ? -1 : 0;
}

int64_t
config_retry_delay_ms(const struct config *cfg, int attempt)
{
	int i = attempt - 1;

	if (i < 0)
		i = 0;
	if (i >= cfg->retry_steps)
		i = cfg->retry_steps - 1;
	return cfg->retry_ms[i];
}
