/*
 * The dispatcher keeps the JWKS cache fresh (common/jwks.h): once a
 * minute it looks for a cache file whose next_at has come (an hour after
 * its fetch, or the response's Cache-Control max-age) and runs
 * `hookpipe sub refresh-keys --due` to fetch them again. A child process
 * keeps the slow network away from the loop that runs actions; spawned,
 * not forked, as the dispatcher has threads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "dispatch.h"
#include "jwks.h"
#include "log.h"

#ifndef HOOKPIPE_BINDIR
#define HOOKPIPE_BINDIR	"/usr/local/bin"
#endif

#define JWKS_SCAN_MS	60000

extern char **environ;

static pid_t	refresher = -1;
static int64_t	next_scan_ms;

/* Is a cache file due? */
static int
any_due(const char *home, int64_t now)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 320];
	struct dirent *de;
	int due = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/cache/jwks", home);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!due && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		json_t *doc;

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((doc = json_load_file(path, 0, NULL)) == NULL)
			continue;
		due = json_is_string(json_object_get(doc, "url")) &&
		    json_integer_value(json_object_get(doc, "next_at")) <= now;
		json_decref(doc);
	}
	closedir(d);
	return due;
}

/* The CLI beside this program, or in HOOKPIPE_BINDIR. */
static void
cli_path(char *out, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(out, len, "%s/hookpipe", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, len, "%s/hookpipe", HOOKPIPE_BINDIR);
}

void
jwks_tick(const struct config *cfg)
{
	char *argv[] = { "hookpipe", "sub", "refresh-keys", "--due", NULL };
	posix_spawn_file_actions_t fa;
	char exe[PATH_MAX + 16];
	int64_t now = mono_ms();
	int status, rc;

	if (refresher > 0) {
		if (waitpid(refresher, &status, WNOHANG) != refresher)
			return;
		refresher = -1;
	}
	if (now < next_scan_ms)
		return;
	next_scan_ms = now + JWKS_SCAN_MS;
	if (!any_due(cfg->home, now_us() / 1000000))
		return;
	cli_path(exe, sizeof(exe));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawn(&refresher, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		refresher = -1;
		log_warn("cannot run %s to refresh the JWKS cache: %s", exe,
		    strerror(rc));
	}
}
