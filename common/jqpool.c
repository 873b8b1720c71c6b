#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jqpool.h"
#include "log.h"
#include "util.h"

/* Installed, the worker sits with the stages (make install). */
#ifndef HOOKPIPE_LIBEXECDIR
#define HOOKPIPE_LIBEXECDIR	"/usr/local/libexec/hookpipe"
#endif

/* The parent's own deadline, past the worker's timer: a worker that
 * ignores its alarm (it cannot, but) is killed here. */
#define SLACK_MS	5000

int
jqpool_find(struct jqpool *p, char *err, size_t errlen)
{
	char self[PATH_MAX - 48];
	ssize_t n;
	char *slash;
	const char *env;

	memset(p, 0, sizeof(*p));
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(p->exe, sizeof(p->exe), "%s/hookpipe-jq",
			    self);
			if (access(p->exe, X_OK) == 0)
				return 0;
			/* The CLI, installed in PREFIX/bin. */
			snprintf(p->exe, sizeof(p->exe),
			    "%s/../libexec/hookpipe/hookpipe-jq", self);
			if (access(p->exe, X_OK) == 0)
				return 0;
		}
	}
	/* A build swapped in from elsewhere uses the stack's worker:
	 * hookpipectl names its own bin directory. */
	if ((env = getenv("HOOKPIPE_BINDIR")) != NULL && *env == '/') {
		snprintf(p->exe, sizeof(p->exe), "%s/hookpipe-jq", env);
		if (access(p->exe, X_OK) == 0)
			return 0;
	}
	snprintf(p->exe, sizeof(p->exe), "%s/hookpipe-jq",
	    HOOKPIPE_LIBEXECDIR);
	if (access(p->exe, X_OK) == 0)
		return 0;
	snprintf(err, errlen, "cannot find hookpipe-jq beside this program "
	    "or in %s (reinstall hookpipe)", HOOKPIPE_LIBEXECDIR);
	return -1;
}

static void
worker_stop(struct jqpool *p, int i)
{
	if (p->w[i].fd >= 0)
		close(p->w[i].fd);
	if (p->w[i].pid > 0) {
		kill(p->w[i].pid, SIGKILL);
		waitpid(p->w[i].pid, NULL, 0);
	}
	p->w[i].fd = -1;
	p->w[i].pid = 0;
}

static int
worker_start(struct jqpool *p, int i)
{
	posix_spawn_file_actions_t fa;
	char t[32], m[32], *argv[] = { "hookpipe-jq", t, m, NULL };
	char *envp[] = { NULL };
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	snprintf(t, sizeof(t), "%lld", (long long)p->timeout_ms);
	snprintf(m, sizeof(m), "%lld", (long long)p->memory);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawn(&p->w[i].pid, p->exe, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		p->w[i].pid = 0;
		log_warn("cannot start %s: %s", p->exe, strerror(rc));
		return -1;
	}
	p->w[i].fd = sv[0];
	return 0;
}

int
jqpool_init(struct jqpool *p, const struct config *cfg, char *err,
    size_t errlen)
{
	int i;

	if (p->exe[0] == '\0' && jqpool_find(p, err, errlen) == -1)
		return -1;
	p->timeout_ms = cfg->jq_timeout_ms;
	p->memory = cfg->jq_memory;
	for (i = 0; i < JQPOOL_WORKERS; i++) {
		p->w[i].fd = -1;
		p->w[i].pid = 0;
	}
	for (i = 0; i < JQPOOL_WORKERS; i++)
		if (worker_start(p, i) == -1) {
			snprintf(err, errlen, "cannot start %s", p->exe);
			jqpool_close(p);
			return -1;
		}
	return 0;
}

void
jqpool_close(struct jqpool *p)
{
	int i;

	for (i = 0; i < JQPOOL_WORKERS; i++)
		worker_stop(p, i);
}

/* Read or write n bytes before the deadline; -1 on EOF, error or time. */
static int
io_full(int fd, void *buf, size_t n, int writing, int64_t deadline)
{
	char *c = buf;

	while (n > 0) {
		struct pollfd pfd = { fd, writing ? POLLOUT : POLLIN, 0 };
		int64_t left = deadline - mono_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		r = writing ? send(fd, c, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
		    recv(fd, c, n, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Why a worker died in the middle of an evaluation. */
static void
why_dead(struct jqpool *p, int i, int killed, char *err, size_t errlen)
{
	int st = 0;

	close(p->w[i].fd);
	p->w[i].fd = -1;
	if (killed)
		kill(p->w[i].pid, SIGKILL);
	if (waitpid(p->w[i].pid, &st, 0) == -1)
		st = 0;
	p->w[i].pid = 0;
	if (killed || (WIFSIGNALED(st) && WTERMSIG(st) == SIGPROF))
		snprintf(err, errlen, "stopped after its time budget of %lld "
		    "ms (HOOKPIPE_JQ_TIMEOUT_MS)", (long long)p->timeout_ms);
	else if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGABRT ||
	    WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS))
		snprintf(err, errlen, "stopped at its memory ceiling of %lld "
		    "MiB (HOOKPIPE_JQ_MEMORY)", (long long)(p->memory >> 20));
	else
		snprintf(err, errlen, "its jq worker stopped (%s %d)",
		    WIFSIGNALED(st) ? "signal" : "exit code",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/*
 * One evaluation on worker i. 1 or 0 (the result), JQ_ERROR, JQ_BUDGET;
 * 2 when the worker was gone before it read the request (it is stopped:
 * the caller tries again).
 */
static int
eval_on(struct jqpool *p, int i, int kind, const char *program,
    const char *json, size_t len, char **out, char *err, size_t errlen)
{
	uint32_t req[3];
	int32_t res;
	uint32_t rep[2];
	int64_t deadline;
	char *text = NULL;

	if (p->w[i].fd < 0 && worker_start(p, i) == -1)
		return 2;
	req[0] = (uint32_t)kind;
	req[1] = (uint32_t)strlen(program);
	req[2] = (uint32_t)len;
	deadline = mono_ms() + p->timeout_ms + SLACK_MS;
	if (io_full(p->w[i].fd, req, sizeof(req), 1, deadline) == -1 ||
	    io_full(p->w[i].fd, (void *)program, req[1], 1, deadline) == -1) {
		worker_stop(p, i);	/* gone before it read: again */
		return 2;
	}
	if (io_full(p->w[i].fd, (void *)json, len, 1, deadline) == -1 ||
	    io_full(p->w[i].fd, rep, sizeof(rep), 0, deadline) == -1) {
		why_dead(p, i, mono_ms() >= deadline, err, errlen);
		__atomic_add_fetch(&p->over_budget, 1, __ATOMIC_RELAXED);
		worker_start(p, i);
		return JQ_BUDGET;
	}
	memcpy(&res, &rep[0], 4);
	if (rep[1] > JQPOOL_INPUT_MAX || (text = malloc((size_t)rep[1] +
	    1)) == NULL || io_full(p->w[i].fd, text, rep[1], 0,
	    deadline) == -1) {
		free(text);
		why_dead(p, i, mono_ms() >= deadline, err, errlen);
		__atomic_add_fetch(&p->over_budget, 1, __ATOMIC_RELAXED);
		worker_start(p, i);
		return JQ_BUDGET;
	}
	text[rep[1]] = '\0';
	if (res == -1) {
		snprintf(err, errlen, "%s", text);
		free(text);
		return JQ_ERROR;
	}
	if (out != NULL && rep[1] > 0)
		*out = text;
	else
		free(text);
	return res == 1 ? 1 : 0;
}

static int
too_large(const char *program, size_t len, char *err, size_t errlen)
{
	if (strlen(program) > JQPOOL_PROG_MAX || len > JQPOOL_INPUT_MAX) {
		snprintf(err, errlen, "program or payload too large for jq");
		return 1;
	}
	return 0;
}

int
jqpool_eval(struct jqpool *p, int kind, const char *program,
    const char *json, size_t len, char **out, char *err, size_t errlen)
{
	int i, rc, tries;

	if (out != NULL)
		*out = NULL;
	if (too_large(program, len, err, errlen))
		return JQ_ERROR;
	/* A worker that died idle (killed from outside) is replaced. */
	for (tries = 0; tries < JQPOOL_WORKERS + 1; tries++) {
		i = p->next;
		p->next = (p->next + 1) % JQPOOL_WORKERS;
		if ((rc = eval_on(p, i, kind, program, json, len, out, err,
		    errlen)) != 2)
			return rc;
	}
	snprintf(err, errlen, "cannot start a jq worker (%s)", p->exe);
	return JQ_ERROR;
}

int
jqpool_eval_on(struct jqpool *p, int worker, int kind, const char *program,
    const char *json, size_t len, char **out, char *err, size_t errlen)
{
	int rc, tries;

	if (out != NULL)
		*out = NULL;
	if (too_large(program, len, err, errlen))
		return JQ_ERROR;
	for (tries = 0; tries < 2; tries++)
		if ((rc = eval_on(p, worker, kind, program, json, len, out,
		    err, errlen)) != 2)
			return rc;
	snprintf(err, errlen, "cannot start a jq worker (%s)", p->exe);
	return JQ_ERROR;
}
