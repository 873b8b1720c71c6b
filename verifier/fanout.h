/*
 * A few threads that run one function over a batch of arguments side by
 * side, for work that mostly waits: the verifier's round trips to the
 * NATS servers in cluster mode (each claim and publish waits for the
 * stream's quorum; a batch's are independent of each other). The caller
 * works too, and fanout_run returns once every call has returned. The
 * threads start on the first run (after the stage is confined: Landlock
 * confines the calling thread and the threads it starts afterwards).
 */
#ifndef HP_FANOUT_H
#define HP_FANOUT_H

#include <pthread.h>

#define FANOUT_THREADS	16

struct fanout {
	pthread_mutex_t	 mu;
	pthread_cond_t	 go, done;
	pthread_t	 t[FANOUT_THREADS];
	int		 nthreads;	/* started */
	int		 stop;
	unsigned	 gen;		/* bumped for each run */
	void		(*fn)(void *);
	void		**args;
	int		 n, next, finished;
};

void	fanout_init(struct fanout *);
/* fn(args[i]) for each i < n; -1 when no thread could start (then all
 * of them ran on the caller's thread), else 0. */
int	fanout_run(struct fanout *, void (*fn)(void *), void **args, int n);
void	fanout_stop(struct fanout *);

#endif
