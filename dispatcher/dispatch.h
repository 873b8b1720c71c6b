/*
 * The dispatcher's jobs: one running attempt of one run each.
 */
#ifndef HP_DISPATCH_H
#define HP_DISPATCH_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "db.h"
#include "util.h"

enum job_kind { JOB_EXEC, JOB_HTTP, JOB_NONE, JOB_ENRICH };

struct job {
	int		 used;
	enum job_kind	 kind;
	char		 run_id[UUID_LEN + 1];
	char		 workspace[NAME_MAX_LEN + 1];
	char		 workflow[NAME_MAX_LEN + 1];
	char		 event_id[UUID_LEN + 1];
	int		 attempt;
	int64_t		 received_us;	/* its event's, when a first attempt
					 * of a run the router made */
	int		 outcome;	/* enum run_state once recorded */
	int64_t		 started_us;
	int64_t		 deadline_ms;

	/* exec */
	pid_t		 pid;
	int		 pidfd;		/* readable when the child exits */
	int		 out_fd;	/* the child's stdout and stderr */
	int		 in_fd;		/* the child's stdin: the run document */
	char		*doc;
	size_t		 doc_len, doc_off;
	struct buf	 out;		/* first OUTPUT_MAX bytes */
	int		 exited;
	int		 wstatus;
	int		 timed_out;

	/* http, dify */
	void		*easy;		/* CURL * */
	void		*hdrs;		/* struct curl_slist * */
	int		 dify;		/* check Dify's data.status */

	/* result */
	int		 done;
	int		 ok;
	int		 no_retry;	/* a 4xx: retrying cannot help */
	int64_t		 retry_after_ms;	/* the server asked to wait */
	int64_t		 exit_code;
	int64_t		 http_status;
	char		 error[512];
};

#include "httpc.h"

/* HTTP actions share one libcurl multi handle (common/httpc.h). */
int	http_init(struct httpc *);
/* POST body to url; headers are "K: V" lines. -1 with job->error. */
int	http_start(struct httpc *, struct job *, const char *url,
	    const char *headers, const char *bearer, const char *body,
	    int64_t timeout_ms);
void	http_abort(struct httpc *, struct job *);

/*
 * jwks.c: on the loop's tick, refresh the JWKS cache files that are due
 * (a child runs `hookpipe sub refresh-keys --due`).
 */
struct config;
void	jwks_tick(const struct config *);
/* life.c: the lifecycle pass, a child, every HOOKPIPE_LIFECYCLE_INTERVAL. */
void	life_tick(void);

/*
 * enrich.c: the enrich calls a run's event needs before its action
 * (README, "Enrichment"), made by a child, `hookpipe enrich RUN`.
 */
struct integ_set;
struct event_rec;
/*
 * 1 when a call that applies to the event has no stored result (the
 * caller checks that its subscription has a credential to make it).
 */
int	enrich_needed(const struct integ_set *, MDB_txn *runs, struct db *,
	    const struct event_rec *);
/* The stored results, {NAME: result}, or NULL when none applies. */
json_t *enrich_results(const struct integ_set *, MDB_txn *runs,
	    struct db *, const struct event_rec *);
/* Start the child as job j's (kind JOB_ENRICH). -1 with j->error. */
int	enrich_start(struct job *);
/* The child ended: its status and message as the job's result. */
void	enrich_done(struct job *);
#define ENRICH_TIMEOUT_MS	60000

/* A server's Retry-After is honoured up to this many seconds. */
#define RETRY_AFTER_MAX_S	(24 * 3600)

/* Who an exec action runs as (--user), looked up before each attempt. */
struct exec_user {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* supplementary, malloc'd */
	int	 ngroups;
	char	*home;
};

/* USER is a name or a number; -1 with err (also when we are not root). */
int	exec_user_lookup(const char *user, struct exec_user *, char *err,
	    size_t errlen);
void	exec_user_free(struct exec_user *);
/*
 * Start `/bin/sh -c cmd` in its own process group with only fds 0, 1 and
 * 2 open and exactly env; as user u when not NULL. -1 with job->error.
 */
int	exec_start(struct job *, const char *cmd, char **env,
	    const struct exec_user *u);
/* The same for a program of ours: path with argv, no shell. */
int	exec_spawn(struct job *, const char *path, char *const argv[],
	    char **env);
void	exec_read(struct job *);	/* out_fd readable */
void	exec_write(struct job *);	/* in_fd writable */
void	exec_reap(struct job *);	/* pidfd readable */
void	exec_kill(struct job *);	/* SIGKILL the whole group */
/* Once exited and drained: fills done/ok/exit_code/error. */
void	exec_check_done(struct job *);
void	job_release(struct job *);

#endif
