/*
 * The exec action: `/bin/sh -c CMD` in its own process group, the run
 * document on stdin, stdout and stderr captured together (the first
 * OUTPUT_MAX bytes kept, the rest read and dropped so the child never
 * blocks). The child is watched through a pidfd, so the event loop polls
 * it like any other descriptor; where pidfds are missing, through the
 * loop's SIGCHLD signalfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch.h"

int
exec_start(struct job *j, const char *cmd, char **env)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, rc;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1) {
		snprintf(j->error, sizeof(j->error), "pipe: %s",
		    strerror(errno));
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawnattr_init(&at);
	/* The stage blocks signals for its signalfd and ignores SIGPIPE:
	 * give the command a clean slate. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&j->pid, "/bin/sh", &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(j->error, sizeof(j->error), "cannot start /bin/sh: %s",
		    strerror(rc));
		goto fail;
	}
	close(in[0]);
	close(out[1]);
	j->in_fd = in[1];
	j->out_fd = out[0];
	fcntl(j->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
	/* Without pidfds (older kernels, valgrind) the SIGCHLD signalfd
	 * of the dispatcher's loop tells when to reap. */
	if ((j->pidfd = pidfd_open(j->pid, 0)) == -1 && errno != ENOSYS) {
		snprintf(j->error, sizeof(j->error), "pidfd_open: %s",
		    strerror(errno));
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		j->pid = 0;
		return -1;
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

void
exec_write(struct job *j)
{
	ssize_t n;

	while (j->doc_off < j->doc_len) {
		n = write(j->in_fd, j->doc + j->doc_off, j->doc_len -
		    j->doc_off);
		if (n > 0) {
			j->doc_off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return;
		break;	/* EPIPE: the command does not read stdin */
	}
	close(j->in_fd);
	j->in_fd = -1;
}

void
exec_read(struct job *j)
{
	char chunk[16384];
	ssize_t n;

	for (;;) {
		n = read(j->out_fd, chunk, sizeof(chunk));
		if (n > 0) {
			size_t room = OUTPUT_MAX > j->out.len ?
			    OUTPUT_MAX - j->out.len : 0;

			if (room > 0)
				buf_append(&j->out, chunk, (size_t)n < room ?
				    (size_t)n : room);
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return;
		close(j->out_fd);	/* EOF: every writer is gone */
		j->out_fd = -1;
		return;
	}
}

void
exec_reap(struct job *j)
{
	if (j->exited || j->pid <= 0)
		return;
	if (waitpid(j->pid, &j->wstatus, WNOHANG) == j->pid) {
		j->exited = 1;
		if (j->pidfd >= 0)
			close(j->pidfd);
		j->pidfd = -1;
		/* Grandchildren keep the output pipe open: stop them too, so
		 * the attempt ends when the command does. */
		kill(-j->pid, SIGKILL);
	}
}

void
exec_kill(struct job *j)
{
	if (j->pid > 0 && !j->exited)
		kill(-j->pid, SIGKILL);
}

void
exec_check_done(struct job *j)
{
	if (j->done || !j->exited || j->out_fd != -1)
		return;
	j->done = 1;
	if (j->timed_out) {
		snprintf(j->error, sizeof(j->error), "timed out; the process "
		    "group was killed");
		j->exit_code = -1;
	} else if (WIFEXITED(j->wstatus)) {
		j->exit_code = WEXITSTATUS(j->wstatus);
		j->ok = j->exit_code == 0;
		if (!j->ok)
			snprintf(j->error, sizeof(j->error), "exit code %lld",
			    (long long)j->exit_code);
	} else {
		j->exit_code = -1;
		snprintf(j->error, sizeof(j->error), "killed by signal %d",
		    WIFSIGNALED(j->wstatus) ? WTERMSIG(j->wstatus) : 0);
	}
}

void
job_release(struct job *j)
{
	if (j->in_fd >= 0)
		close(j->in_fd);
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->pid > 0 && !j->exited) {
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
	}
	free(j->doc);
	buf_free(&j->out);
	memset(j, 0, sizeof(*j));
	j->in_fd = j->out_fd = j->pidfd = -1;
}
