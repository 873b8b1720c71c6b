/*
 * Configuration from the environment (SPEC "Environment"), with the
 * paths derived from HOOKPIPE_HOME.
 */
#ifndef HP_CONFIG_H
#define HP_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define RETRY_MAX_STEPS	16
/* How long a delivery id is remembered (SPEC: 7 days). */
#define DEDUPE_WINDOW_S	(7 * 86400)

/*
 * The largest body HOOKPIPE_MAX_BODY (or an integration's max_body) may
 * allow: what a message between stages, or a stored record, can carry
 * (MP_MAX_INPUT, 64 MiB, in mp.h), less a mebibyte for the headers and
 * the envelope around the body. config.c checks the two agree.
 */
#define MAX_BODY_CEILING	((int64_t)63 << 20)

struct config {
	char	 home[PATH_MAX];
	char	 run_dir[PATH_MAX];	/* sockets, pid and lock files (0700) */
	char	 db_dir[PATH_MAX];	/* the LMDB environment */
	char	 log_dir[PATH_MAX];
	char	 key_path[PATH_MAX];	/* master key (0600) */
	char	 integrations_dir[PATH_MAX];	/* shipped definitions */
	char	 user_integrations_dir[PATH_MAX];	/* $HOME/integrations */

	char	 listen_host[256];
	int	 listen_port;
	char	 admin_host[256];	/* HOOKPIPE_ADMIN_LISTEN */
	int	 admin_port;
	char	 trigger_url[1024];
	char	 workspace[80];
	int64_t	 max_body;		/* at most MAX_BODY_CEILING */
	int64_t	 tolerance;		/* seconds, both directions */
	char	 github_api[1024];
	char	 github_web[1024];

	int64_t	 map_size;		/* LMDB map size, bytes */
	int64_t	 verify_timeout_ms;	/* receiver: verdict wait before spooling */
	int64_t	 conn_per_client;	/* receiver: connections per address */
	int64_t	 body_budget;		/* receiver: all bodies in memory */
	int64_t	 spool_max;		/* receiver: spool size, bytes */
	int64_t	 concurrency;		/* dispatcher: runs at once */
	int64_t	 retention_s;		/* HOOKPIPE_RETENTION: prune after */
	int64_t	 takeover_s;		/* HOOKPIPE_CLUSTER_TAKEOVER; 0 never */
	int64_t	 jq_timeout_ms;		/* one filter or map evaluation */
	int64_t	 jq_memory;		/* bytes a jq worker may allocate */
	int64_t	 log_max;		/* rotate log/<stage>.log past it; 0 never */
	int64_t	 log_keep;		/* rotated files kept: <stage>.log.1 ... */
	/* Delay before retry N (ms): HOOKPIPE_RETRY_SCHEDULE="1,5,30,120,600". */
	int64_t	 retry_ms[RETRY_MAX_STEPS];
	int	 retry_steps;
};

/*
 * Fill cfg from the environment. Returns 0, or -1 with a message that
 * names the variable and what is wrong with it.
 */
int	config_load(struct config *cfg, char *err, size_t errlen);

/*
 * The settings file, $HOOKPIPE_HOME/hookpipe.env: NAME=VALUE lines of
 * the same HOOKPIPE_* names (and TRIGGER_URL), '#' comments. config_load
 * reads it; a variable of the environment wins over the file's line.
 * config_file_read calls fn for each setting (line is its number); 0, or
 * -1 with a message naming the file and line (fn's -1 stops, err kept).
 * A missing file has no settings.
 */
#define CONFIG_FILE	"hookpipe.env"
typedef int (*config_file_fn)(void *arg, const char *name,
	    const char *value, int line);
int	config_file_read(const char *path, config_file_fn fn, void *arg,
	    char *err, size_t errlen);
/* Whether config_load took NAME's value from the file. */
int	config_from_file(const char *name);
/* Whether NAME may be a setting: HOOKPIPE_[A-Z0-9_]+ or TRIGGER_URL. */
int	config_name_valid(const char *name);

/* Create HOOKPIPE_HOME and its run/, db/, log/ directories (0700). */
int	config_make_dirs(const struct config *cfg, char *err, size_t errlen);

/* "ipc://<run_dir>/<name>" */
int	config_endpoint(const struct config *cfg, const char *name,
	    char *out, size_t len);

/* Delay before the retry that follows attempt number `attempt` (1-based). */
int64_t	config_retry_delay_ms(const struct config *cfg, int attempt);

#endif
