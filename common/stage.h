/*
 * The life of a stage process: one instance per stage (a lock file), a
 * readiness signal for the supervisor (the pid file appears), and the
 * signals as a file descriptor for the event loop.
 */
#ifndef HP_STAGE_H
#define HP_STAGE_H

#include <signal.h>
#include <stdint.h>

#include "config.h"

struct stage {
	const char	*name;		/* "receiver", "verifier", ... */
	int		 lock_fd;
	int		 sig_fd;	/* signalfd: SIGTERM, SIGINT, SIGHUP */
	int64_t		 busy_at;	/* the last pass that had work */
	int		 trim_due;	/* work since the heap was trimmed */
	int64_t		 trim_at;	/* when it was */
};

/*
 * Parse the common options (-v, -h), load the configuration, create the
 * state directories, take the stage's lock. Dies with a message that says
 * what to fix on any setup error.
 */
void	stage_init(struct stage *, const char *name, int argc, char **argv,
	    struct config *cfg, const char *usage);
/*
 * The same, but a held lock is not fatal: st->lock_fd is -1 and the
 * caller decides (the receiver takes over from a running one).
 */
void	stage_init_shared(struct stage *, const char *name, int argc,
	    char **argv, struct config *cfg, const char *usage);
/* Take the lock without waiting: 0, or -1 while someone holds it. */
int	stage_try_lock(struct stage *, const struct config *);
/* Readiness: writes run/<stage>.pid, which the supervisor waits for. */
void	stage_ready(struct stage *, const struct config *);
/* Reads one pending signal; returns its number or 0. */
int	stage_signal(struct stage *);
void	stage_exit(struct stage *, const struct config *);
/*
 * Once per pass of the loop, busy when the pass had work (the poll said
 * so). A second of quiet after work gives the heap's free pages back and
 * returns 1 (once per burst, and every 10 s while quiet): the stage drops
 * its database mappings too (db_unmap_read).
 */
int	stage_pass(struct stage *, int busy);

/* 1 when the named stage holds its lock (is running). */
int	stage_is_up(const struct config *, const char *name);

#define STAGES_N	5
extern const char *const stage_names[STAGES_N];

#endif
