/*
 * The dispatcher runs the lifecycle pass (`hookpipe lifecycle`, in
 * admin/cmd_life.c) every HOOKPIPE_LIFECYCLE_INTERVAL seconds: OAuth
 * tokens refreshed before they expire, webhooks renewed before they
 * lapse, automatic subscriptions checked daily, silent subscriptions and
 * dead runs reported as events of the `hookpipe` integration. The
 * dispatcher is the stage that is always running and already keeps
 * timers; the pass is a child process because it writes db/config (the
 * CLI's part) and talks to providers, which must not hold up the loop
 * that runs actions. Spawned, not forked, as the dispatcher has threads.
 */
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "util.h"

extern char **environ;

static pid_t	pass = -1;
static int64_t	next_ms;

static int64_t
interval_ms(void)
{
	const char *e = getenv("HOOKPIPE_LIFECYCLE_INTERVAL");
	long v;

	if (e == NULL || (v = strtol(e, NULL, 10)) <= 0 || v > 86400)
		return 60000;
	return (int64_t)v * 1000;
}

void
life_tick(void)
{
	char *argv[] = { "hookpipe", "lifecycle", NULL };
	posix_spawn_file_actions_t fa;
	char exe[PATH_MAX + 16];
	int64_t now = mono_ms();
	int status, rc;

	if (pass > 0) {
		if (waitpid(pass, &status, WNOHANG) != pass)
			return;
		pass = -1;
	}
	if (now < next_ms)
		return;
	next_ms = now + interval_ms();
	/* The CLI of this installation. */
	program_path("hookpipe", exe, sizeof(exe));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pass, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		pass = -1;
		log_warn("cannot run %s lifecycle: %s", exe, strerror(rc));
	}
}
