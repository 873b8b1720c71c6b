/*
 * hookpipe-admin: the admin stage. It serves, on HOOKPIPE_ADMIN_LISTEN,
 * the console (admin/console/, at /), the JSON API (/api/v1/), /metrics
 * and /healthz.
 *
 * Every API call runs the CLI itself (`hookpipe --json --workspace W
 * ...`, secrets on descriptors 3 and 4, never in its arguments): the
 * answers have the shapes of `hookpipe --json` by construction, a change
 * from the console goes through the same checks as one typed in a
 * shell, and the stage reads no other stage's state. The stage writes
 * only the console's own records (the audit log, sessions) in the config
 * part, under one lock; in cluster mode also the configuration the
 * other hosts' CLIs changed (config_sync in admind.c): the stage runs
 * on every host under hookpipectl, and is the CLI's side of the state.
 *
 * libmicrohttpd with a thread per connection: a request that waits for
 * the CLI (a provider's API, a test that listens for minutes) or an
 * event stream blocks its own thread only. Connections are few (people
 * and a Prometheus), and limited.
 */
#ifndef HP_ADMIND_H
#define HP_ADMIND_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "admin_token.h"
#include "cluster.h"
#include "config.h"
#include "db.h"
#include "jqpool.h"
#include "stage.h"
#include "util.h"
#include "zsock.h"

#define BODY_MAX	(1 << 20)	/* a request's body */
#define CONN_MAX	64		/* connections (threads) at once */
#define CLI_TIMEOUT_S	120		/* a CLI child (not a stream) */
#define ANSWER_MAX	(16 << 20)	/* what a CLI child may print */
#define SYNC_EVERY_MS	1000	/* cluster mode: the config bucket read */
#define SYNC_QUIET_MS	10000	/* read then too, while the watch runs */

struct admin {
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;		/* config: sessions, audit */
	pthread_mutex_t	 dblock;	/* db and tap */
	void		*zctx;
	struct tap	 tap;		/* each audit record */
	struct MHD_Daemon *httpd;
	char		 cli[PATH_MAX];		/* bin/hookpipe */
	char		 ctl[PATH_MAX];		/* bin/hookpipectl */
	char		 console_dir[PATH_MAX];
	char		 token[ADMIN_TOKEN_LEN + 1];
	int		 stopping;	/* atomic: event streams end */
	pthread_mutex_t	 jqlock;
	struct jqpool	 jq;		/* the trigger editor's */
	int		 jq_up;
	struct cluster	 cl;		/* cluster mode: the config bucket */
	int		 nats_up;
	int		 nats_warned;
	int64_t		 next_beat;	/* hookpipe_hosts: say this host is up */
	struct ccfg_watch *watch;	/* the config bucket's, once up */
	int64_t		 next_watch;	/* when to try the watch again */
	int64_t		 next_read;	/* the bucket read even when quiet */
	int		 beat_warned;
	int		 hosts_up;	/* at the last beat, -1 unknown */
	char		 since[32];	/* when the stage started, RFC 3339 */
};

/* Who asks, once authenticated. */
struct who {
	char		 name[64];	/* a login's name, or "token" */
	char		 from[64];	/* the client's address */
	char		 csrf[65];	/* the session's, or "" */
};

struct req {
	struct buf	 body;
	int		 too_large;
};

/* A CLI child's answer. */
struct cli_out {
	int		 status;	/* its exit status, or -1 */
	struct buf	 out, err;
};

/* adm_cli.c: run the CLI (or hookpipectl with ctl set), args after
 * "hookpipe --json"; up to two secrets on fds 3 and 4; 0 or -1. */
int	cli_run(struct admin *, int ctl, const char *const *args,
	    const char *fd3, const char *fd4, struct cli_out *);
void	cli_out_free(struct cli_out *);
/* Start the CLI with its stdout on a pipe, for a stream: its pid, and
 * *fd the pipe's read end; -1 on failure. */
pid_t	cli_spawn(struct admin *, const char *const *args, int *fd);

/* adm_metrics.c: the Prometheus text of every stage's counters. */
char   *adm_metrics_text(struct admin *, size_t *len);

/* adm_api.c: /api/v1/...; the answer's status, what to audit. */
enum MHD_Result adm_api(struct admin *, struct MHD_Connection *,
	    const struct who *, const char *method, const char *path,
	    struct req *);
void	adm_audit(struct admin *, const struct who *, const char *what,
	    const char *target, const char *detail, int status);

/* admind.c: answers. */
enum MHD_Result adm_send(struct MHD_Connection *, int status,
	    const char *ctype, const char *body, size_t len);
enum MHD_Result adm_json(struct MHD_Connection *, int status, json_t *);
enum MHD_Result adm_error(struct MHD_Connection *, int status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
