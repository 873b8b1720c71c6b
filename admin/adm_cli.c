/*
 * The admin stage runs the CLI for every API call (admind.h says why).
 * A child gets the stage's environment (HOOKPIPE_HOME and the rest),
 * default signal handling (the stage blocks its signals for its
 * signalfd), stdin from /dev/null and the secrets, if any, on pipes at
 * descriptors 3 and 4: never in its arguments, which other users see.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admind.h"
#include "log.h"

extern char **environ;

#define ARGS_MAX	64

/* A pipe holding a secret, its read end returned (the secret is far
 * smaller than a pipe's buffer, so the write never blocks). */
static int
secret_pipe(const char *secret)
{
	int p[2];
	size_t n = strlen(secret);

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (write(p[1], secret, n) != (ssize_t)n) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

static pid_t
spawn(struct admin *adm, int ctl, const char *const *args, int out_fd,
    int err_fd, int fd3, int fd4)
{
	const char *argv[ARGS_MAX + 4];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid;
	int i = 0, rc;

	argv[i++] = ctl ? "hookpipectl" : "hookpipe";
	if (!ctl)
		argv[i++] = "--json";
	for (; *args != NULL && i < ARGS_MAX + 2; args++)
		argv[i++] = *args;
	argv[i] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (fd3 >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	if (fd4 >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd4, 4);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	rc = posix_spawn(&pid, ctl ? adm->ctl : adm->cli, &fa, &at,
	    (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		log_warn("cannot run %s: %s", ctl ? adm->ctl : adm->cli,
		    strerror(rc));
		return -1;
	}
	return pid;
}

void
cli_out_free(struct cli_out *o)
{
	if (o->out.data != NULL)
		OPENSSL_cleanse(o->out.data, o->out.len);
	buf_free(&o->out);
	buf_free(&o->err);
}

int
cli_run(struct admin *adm, int ctl, const char *const *args,
    const char *s3, const char *s4, struct cli_out *o)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, fd3 = -1, fd4 = -1;
	struct pollfd pfd[2];
	char chunk[8192];
	time_t deadline;
	int st, n, open_n, rc = -1;
	pid_t pid = -1;
	ssize_t r;

	memset(o, 0, sizeof(*o));
	o->status = -1;
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 ||
	    (s3 != NULL && (fd3 = secret_pipe(s3)) == -1) ||
	    (s4 != NULL && (fd4 = secret_pipe(s4)) == -1))
		goto out;
	if ((pid = spawn(adm, ctl, args, po[1], pe[1], fd3, fd4)) == -1)
		goto out;
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	deadline = time(NULL) + CLI_TIMEOUT_S;
	open_n = 2;
	while (open_n > 0) {
		pfd[0] = (struct pollfd){ po[0], POLLIN, 0 };
		pfd[1] = (struct pollfd){ pe[0], POLLIN, 0 };
		if ((n = poll(pfd, 2, 1000)) == -1 && errno != EINTR)
			break;
		if (time(NULL) > deadline) {
			kill(-pid, SIGKILL);
			buf_appendf(&o->err, "hookpipe: no answer within %d "
			    "seconds\n", CLI_TIMEOUT_S);
			break;
		}
		for (n = 0; n < 2; n++) {
			if (pfd[n].fd < 0 || pfd[n].revents == 0)
				continue;
			r = read(pfd[n].fd, chunk, sizeof(chunk));
			if (r <= 0) {
				close(n == 0 ? po[0] : pe[0]);
				if (n == 0)
					po[0] = -1;
				else
					pe[0] = -1;
				open_n--;
				continue;
			}
			if ((n == 0 ? o->out.len : o->err.len) + (size_t)r >
			    ANSWER_MAX)
				continue;
			buf_append(n == 0 ? &o->out : &o->err, chunk,
			    (size_t)r);
		}
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (WIFSIGNALED(st) && o->err.len == 0)
		buf_appendf(&o->err, "hookpipe: ended by signal %d (%s)\n",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	rc = 0;
	/* The answer is text for jansson. */
	buf_append(&o->out, "", 1);
	o->out.len--;
	buf_append(&o->err, "", 1);
	o->err.len--;
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	if (fd3 >= 0)
		close(fd3);
	if (fd4 >= 0)
		close(fd4);
	return rc;
}

pid_t
cli_spawn(struct admin *adm, const char *const *args, int *fd)
{
	int p[2], dn;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((dn = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid = spawn(adm, 0, args, p[1], dn, -1, -1);
	close(p[1]);
	close(dn);
	if (pid == -1) {
		close(p[0]);
		return -1;
	}
	*fd = p[0];
	return pid;
}
