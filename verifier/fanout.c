/*
 * The verifier's fan-out threads (see fanout.h).
 */
#include <string.h>

#include "fanout.h"

void
fanout_init(struct fanout *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->go, NULL);
	pthread_cond_init(&f->done, NULL);
}

/* Take calls of the current run until none is left; with f->mu held. */
static void
take(struct fanout *f)
{
	int i;

	while (f->next < f->n) {
		i = f->next++;
		pthread_mutex_unlock(&f->mu);
		f->fn(f->args[i]);
		pthread_mutex_lock(&f->mu);
		if (++f->finished == f->n)
			pthread_cond_signal(&f->done);
	}
}

static void *
worker(void *arg)
{
	struct fanout *f = arg;
	unsigned seen = 0;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->stop && f->gen == seen)
			pthread_cond_wait(&f->go, &f->mu);
		if (f->stop)
			break;
		seen = f->gen;
		take(f);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
fanout_run(struct fanout *f, void (*fn)(void *), void **args, int n)
{
	int rc = 0;

	if (n <= 0)
		return 0;
	pthread_mutex_lock(&f->mu);
	while (f->nthreads < FANOUT_THREADS &&
	    pthread_create(&f->t[f->nthreads], NULL, worker, f) == 0)
		f->nthreads++;
	if (f->nthreads == 0)
		rc = -1;
	f->fn = fn;
	f->args = args;
	f->n = n;
	f->next = f->finished = 0;
	f->gen++;
	pthread_cond_broadcast(&f->go);
	take(f);
	while (f->finished < f->n)
		pthread_cond_wait(&f->done, &f->mu);
	f->n = 0;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

void
fanout_stop(struct fanout *f)
{
	int i;

	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->go);
	pthread_mutex_unlock(&f->mu);
	for (i = 0; i < f->nthreads; i++)
		pthread_join(f->t[i], NULL);
	f->nthreads = 0;
}
