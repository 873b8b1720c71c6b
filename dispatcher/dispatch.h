/*
 * The dispatcher's jobs: one running attempt of one run each.
 */
#ifndef HP_DISPATCH_H
#define HP_DISPATCH_H

#include <stdint.h>
#include <sys/types.h>

#include "db.h"
#include "util.h"

struct job {
	int		 used;
	char		 run_id[UUID_LEN + 1];
	char		 workspace[NAME_MAX_LEN + 1];
	char		 workflow[NAME_MAX_LEN + 1];
	char		 event_id[UUID_LEN + 1];
	int		 attempt;
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

	/* result */
	int		 done;
	int		 ok;
	int64_t		 exit_code;
	char		 error[256];
};

/* Start `/bin/sh -c cmd` in its own process group. -1 with job->error. */
int	exec_start(struct job *, const char *cmd, char **env);
void	exec_read(struct job *);	/* out_fd readable */
void	exec_write(struct job *);	/* in_fd writable */
void	exec_reap(struct job *);	/* pidfd readable */
void	exec_kill(struct job *);	/* SIGKILL the whole group */
/* Once exited and drained: fills done/ok/exit_code/error. */
void	exec_check_done(struct job *);
void	job_release(struct job *);

#endif
