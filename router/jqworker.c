/*
 * hookpipe-jq: evaluates trigger filters and maps for the router (and
 * the CLI) in a process of its own. libjq cannot be interrupted and
 * allocates without limit: a payload crafted for a slow program (gsub on
 * tens of thousands of newlines) would hold whoever runs it for seconds
 * and hundreds of megabytes. Here a timer ends the process when one
 * evaluation has used more CPU time than its budget (SIGPROF's default
 * action: CPU time, so that a busy machine does not make a quick
 * program run out of it; the parent also stops a worker that has not
 * answered well past the budget in real time), and
 * RLIMIT_AS caps what it can allocate (libjq aborts on a failed
 * allocation). The parent sees the process die, counts that trigger as
 * failed, and starts another worker.
 *
 *	hookpipe-jq TIMEOUT_MS MEMORY_BYTES	(fd 3: the parent's socket)
 *
 * Requests and replies on fd 3 (see jqpool.h):
 *
 *	request: u32 kind, u32 program length, u32 input length, program,
 *		 input (JSON text)
 *	reply:	 i32 result (1 truthy, 0 false/null/none, -1 error),
 *		 u32 length, text (the first result as JSON for a map, or
 *		 the error)
 *
 * Numbers are little-endian host order: both ends are this machine.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "jqpool.h"
#include "jqprog.h"
#include "sandbox.h"
#include "version.h"

#define FD		3
#define CACHE_MAX	32

static int
read_full(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t r = write(fd, c, n);

		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
reply(int32_t result, const char *text)
{
	uint32_t h[2];
	size_t n = text ? strlen(text) : 0;

	memcpy(&h[0], &result, 4);
	h[1] = (uint32_t)n;
	return write_full(FD, h, sizeof(h)) == -1 ||
	    (n > 0 && write_full(FD, text, n) == -1) ? -1 : 0;
}

/* Compiled programs, by text: a trigger's program is compiled once. */
static struct {
	char		*text;
	struct jqprog	*p;
} cache[CACHE_MAX];
static int ncache;

static struct jqprog *
compiled(const char *text, char *err, size_t errlen)
{
	struct jqprog *p;
	int i;

	for (i = 0; i < ncache; i++)
		if (strcmp(cache[i].text, text) == 0)
			return cache[i].p;
	if ((p = jqprog_compile(text, err, errlen)) == NULL)
		return NULL;
	if (ncache == CACHE_MAX) {
		jqprog_free(cache[0].p);
		free(cache[0].text);
		memmove(cache, cache + 1, (CACHE_MAX - 1) * sizeof(cache[0]));
		ncache--;
	}
	cache[ncache].text = strdup(text);
	cache[ncache++].p = p;
	return p;
}

#ifndef __SANITIZE_ADDRESS__
/* The address space this process has before any evaluation. */
static uint64_t
vm_size(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}
#endif

int
main(int argc, char **argv)
{
	struct itimerval on, off;
	struct rlimit rl;
	int64_t timeout_ms;
	uint64_t memory;
	char err[512];

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		version_print(stdout, "hookpipe-jq");
		return 0;
	}
	if (argc != 3 || (timeout_ms = strtoll(argv[1], NULL, 10)) <= 0 ||
	    (memory = strtoull(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: hookpipe-jq TIMEOUT_MS MEMORY_BYTES "
		    "(started by the router, with its socket on fd 3)\n");
		return 100;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPROF, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* No core files of payloads; the budget counts from what the
	 * libraries already take. */
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
#ifndef __SANITIZE_ADDRESS__
	rl.rlim_cur = rl.rlim_max = (rlim_t)(vm_size() + memory);
	setrlimit(RLIMIT_AS, &rl);
#else
	/* AddressSanitizer maps its shadow as it goes: no address-space
	 * ceiling fits it; the time budget still holds. */
	(void)memory;
#endif
	/* Nothing to open, nothing to reach: jq's modules and `input`
	 * stay out of reach. */
	sandbox_deny_all();

	memset(&off, 0, sizeof(off));
	memset(&on, 0, sizeof(on));
	on.it_value.tv_sec = timeout_ms / 1000;
	on.it_value.tv_usec = (timeout_ms % 1000) * 1000;
	for (;;) {
		uint32_t h[3];
		char *prog, *input, *out = NULL;
		struct jqprog *p;
		int rc;

		if (read_full(FD, h, sizeof(h)) == -1)
			return 0;	/* the parent closed: done */
		if (h[1] > JQPOOL_PROG_MAX || h[2] > JQPOOL_INPUT_MAX ||
		    (h[0] != JQPOOL_FILTER && h[0] != JQPOOL_MAP))
			return 111;
		if ((prog = malloc((size_t)h[1] + 1)) == NULL ||
		    (input = malloc((size_t)h[2] + 1)) == NULL ||
		    read_full(FD, prog, h[1]) == -1 ||
		    read_full(FD, input, h[2]) == -1)
			return 111;
		prog[h[1]] = '\0';
		input[h[2]] = '\0';
		err[0] = '\0';
		setitimer(ITIMER_PROF, &on, NULL);
		if ((p = compiled(prog, err, sizeof(err))) == NULL)
			rc = -1;
		else
			rc = jqprog_run(p, input, h[2], h[0] == JQPOOL_MAP ?
			    &out : NULL, err, sizeof(err));
		setitimer(ITIMER_PROF, &off, NULL);
		free(prog);
		free(input);
		if (reply(rc, rc == -1 ? err : out) == -1)
			return 0;
		free(out);
	}
}
