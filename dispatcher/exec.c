/*
 * The exec action: `/bin/sh -c CMD` in its own process group, the run
 * document on stdin, stdout and stderr captured together (the first
 * OUTPUT_MAX bytes kept, the rest read and dropped so the child never
 * blocks). The child is watched through a pidfd, so the event loop polls
 * it like any other descriptor; where pidfds are missing, through the
 * loop's SIGCHLD signalfd.
 *
 * The command inherits nothing of the dispatcher but what it is given:
 * descriptors 0, 1 and 2 (not the LMDB file, the sockets or libcurl's
 * connections), the environment the caller built, default signals. With
 * --user it also drops to that user, its group and its supplementary
 * groups; posix_spawn cannot, so that case forks.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch.h"

/* The signals the stage blocks (signalfd) or ignores, back to default. */
static const int child_signals[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP };

int
exec_user_lookup(const char *user, struct exec_user *u, char *err,
    size_t errlen)
{
	struct passwd *pw;
	int64_t id;
	int n = 32;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) {
		snprintf(err, errlen, "--user needs the dispatcher to run as "
		    "root (it runs as uid %ld)", (long)geteuid());
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL &&
	    parse_i64(user, 0, UINT32_MAX - 1, &id) == 0)
		pw = getpwuid((uid_t)id);
	if (pw == NULL) {
		snprintf(err, errlen, "--user %s: no such user on this system",
		    user);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	/* getgrouplist says how many there are when the array is short. */
	for (;;) {
		int want = n;
		gid_t *g = realloc(u->groups, (size_t)n * sizeof(*g));

		if (g == NULL)
			break;
		u->groups = g;
		if (getgrouplist(pw->pw_name, pw->pw_gid, g, &n) != -1) {
			u->ngroups = n;
			break;
		}
		if (n <= want)
			n = want * 2;
	}
	u->home = strdup(pw->pw_dir != NULL && *pw->pw_dir != '\0' ?
	    pw->pw_dir : "/");
	if (u->groups == NULL || u->home == NULL) {
		snprintf(err, errlen, "--user %s: out of memory", user);
		exec_user_free(u);
		return -1;
	}
	return 0;
}

void
exec_user_free(struct exec_user *u)
{
	free(u->groups);
	free(u->home);
	memset(u, 0, sizeof(*u));
}

static int
spawn_plain(pid_t *pid, const char *path, char *const argv[], char **env,
    int in, int out, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	size_t i;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, out, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	/* The stage blocks signals for its signalfd and ignores SIGPIPE:
	 * give the command a clean slate. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	for (i = 0; i < sizeof(child_signals) / sizeof(*child_signals); i++)
		sigaddset(&dfl, child_signals[i]);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(pid, path, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start %s: %s", path,
		    strerror(rc));
		return -1;
	}
	return 0;
}

/* What the forked child tells its parent when it cannot exec. */
struct child_fail {
	int	 step;
	int	 err;
};

static const char *const child_steps[] = {
	"dup2", "close_range", "setgroups", "setgid", "setuid", "chdir",
	"execve /bin/sh"
};

/* dup2 that also works when the descriptor is already in place. */
static int
move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to);
}

/*
 * The forked child, up to execve. The dispatcher has threads (ZeroMQ's,
 * libcurl's): only async-signal-safe calls here, and no allocation.
 */
static void __attribute__((noreturn))
child_as_user(const struct exec_user *u, char *const argv[], char **env,
    int in, int out, int errfd, int maxfd)
{
	struct child_fail f = { 0, 0 };
	struct sigaction sa;
	sigset_t none;
	size_t i;
	int fd;

	setpgid(0, 0);
	if (move_fd(in, 0) == -1 || move_fd(out, 1) == -1 ||
	    move_fd(out, 2) == -1)
		goto fail;
	/* Close on exec rather than now: errfd must last until execve. */
	f.step = 1;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		if (errno != ENOSYS && errno != EINVAL)
			goto fail;
		for (fd = 3; fd < maxfd; fd++)
			if (fd != errfd)
				close(fd);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(child_signals) / sizeof(*child_signals); i++)
		sigaction(child_signals[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Groups first: once the uid is dropped, they cannot change. */
	f.step = 2;
	if (setgroups((size_t)u->ngroups, u->groups) == -1)
		goto fail;
	f.step = 3;
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		goto fail;
	f.step = 4;
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		goto fail;
	/* The dispatcher's directory may be closed to the user. */
	f.step = 5;
	if (chdir(u->home) == -1 && chdir("/") == -1)
		goto fail;
	f.step = 6;
	execve("/bin/sh", argv, env);
fail:
	f.err = errno;
	while (write(errfd, &f, sizeof(f)) == -1 && errno == EINTR)
		;
	_exit(127);
}

static int
spawn_as_user(pid_t *pid, char *const argv[], char **env, int in, int out,
    const struct exec_user *u, char *err, size_t errlen)
{
	struct child_fail f;
	struct rlimit rl;
	int ep[2], maxfd = 65536;
	ssize_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)maxfd)
		maxfd = (int)rl.rlim_cur;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((*pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (*pid == 0)
		child_as_user(u, argv, env, in, out, ep[1], maxfd);
	close(ep[1]);
	/* End of file: the child is in execve (and in its process group).
	 * A record: it could not get there, and says why. */
	while ((n = read(ep[0], &f, sizeof(f))) == -1 && errno == EINTR)
		;
	close(ep[0]);
	if (n == 0)
		return 0;
	waitpid(*pid, NULL, 0);
	*pid = 0;
	if (n != sizeof(f) || f.step < 0 || (size_t)f.step >=
	    sizeof(child_steps) / sizeof(*child_steps))
		snprintf(err, errlen, "cannot start /bin/sh as uid %ld",
		    (long)u->uid);
	else
		snprintf(err, errlen, "cannot start /bin/sh as uid %ld: %s: %s",
		    (long)u->uid, child_steps[f.step], strerror(f.err));
	return -1;
}

/* As a user (u), it is /bin/sh that runs: see child_as_user. */
static int
spawn_job(struct job *j, const char *path, char *const argv[], char **env,
    const struct exec_user *u)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, rc;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1) {
		snprintf(j->error, sizeof(j->error), "pipe: %s",
		    strerror(errno));
		goto fail;
	}
	if (u == NULL)
		rc = spawn_plain(&j->pid, path, argv, env, in[0], out[1],
		    j->error, sizeof(j->error));
	else
		rc = spawn_as_user(&j->pid, argv, env, in[0], out[1], u,
		    j->error, sizeof(j->error));
	if (rc == -1)
		goto fail;
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
	j->pid = 0;
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

int
exec_start(struct job *j, const char *cmd, char **env,
    const struct exec_user *u)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	return spawn_job(j, "/bin/sh", argv, env, u);
}

int
exec_spawn(struct job *j, const char *path, char *const argv[], char **env)
{
	return spawn_job(j, path, argv, env, NULL);
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
