#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "stage.h"
#include "svc.h"
#include "util.h"
#include "version.h"

/* The pipeline's order, then the admin stage (the console, metrics). */
const char *const stage_names[STAGES_N] = {
	"receiver", "verifier", "router", "dispatcher", "admin"
};

static void
stage_path(const struct config *cfg, const char *name, const char *ext,
    char *out, size_t len)
{
	snprintf(out, len, "%s/%s.%s", cfg->run_dir, name, ext);
}

static void stage_setup(struct stage *, const char *, int, char **,
    struct config *, const char *, int);

void
stage_init(struct stage *st, const char *name, int argc, char **argv,
    struct config *cfg, const char *usage)
{
	stage_setup(st, name, argc, argv, cfg, usage, 0);
}

void
stage_init_shared(struct stage *st, const char *name, int argc, char **argv,
    struct config *cfg, const char *usage)
{
	stage_setup(st, name, argc, argv, cfg, usage, 1);
}

int
stage_try_lock(struct stage *st, const struct config *cfg)
{
	char path[PATH_MAX + 32];
	int fd;

	if (st->lock_fd >= 0)
		return 0;
	stage_path(cfg, st->name, "lock", path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return -1;
	}
	st->lock_fd = fd;
	return 0;
}

static void
stage_setup(struct stage *st, const char *name, int argc, char **argv,
    struct config *cfg, const char *usage, int shared)
{
	char err[512], path[PATH_MAX + 32], logname[64];
	sigset_t mask;
	int i, verbose = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0 ||
		    strcmp(argv[i], "--verbose") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--no-sandbox") == 0)
			setenv("HOOKPIPE_SANDBOX", "0", 1);
		else if (strcmp(argv[i], "--version") == 0) {
			snprintf(logname, sizeof(logname), "hookpipe-%s", name);
			version_print(stdout, logname);
			exit(0);
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: hookpipe-%s [-v] [--no-sandbox]\n\n%s\n"
			    "  -v            verbose (debug) logging\n"
			    "  --no-sandbox  do not confine the stage with "
			    "Landlock\n"
			    "  --version     print the version and build "
			    "options\n", name, usage);
			exit(0);
		} else {
			fprintf(stderr, "hookpipe-%s: unknown option %s "
			    "(try --help)\n", name, argv[i]);
			exit(EXIT_PERMANENT);
		}
	}
	snprintf(logname, sizeof(logname), "hookpipe-%s", name);
	log_init(strdup(logname), verbose);
	if (svc_init(err, sizeof(err)) == -1)
		fatal(EXIT_PERMANENT, "%s", err);
	memset(st, 0, sizeof(*st));
	st->name = name;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	umask(077);
	if (config_load(cfg, err, sizeof(err)) == -1)
		fatal(EXIT_PERMANENT, "%s", err);
	if (config_make_dirs(cfg, err, sizeof(err)) == -1)
		fatal(EXIT_PERMANENT, "%s", err);
	snprintf(path, sizeof(path), "%s.log", name);
	log_rotate_init(cfg->log_dir, path, cfg->log_max, cfg->log_keep);

	stage_path(cfg, name, "lock", path, sizeof(path));
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd == -1)
		fatal(EXIT_PERMANENT, "cannot open %s: %s", path,
		    strerror(errno));
	/* A health check may hold a shared lock for a moment: retry. */
	for (i = 0; flock(st->lock_fd, LOCK_EX | LOCK_NB) == -1; i++) {
		if (errno == EWOULDBLOCK && shared && i == 5) {
			close(st->lock_fd);
			st->lock_fd = -1;
			break;
		}
		if (errno != EWOULDBLOCK || i == 50)
			fatal(EXIT_TEMPORARY, "another %s is running (it holds "
			    "%s); stop it first", name, path);
		usleep(100000);
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((st->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) ==
	    -1)
		fatal(EXIT_TEMPORARY, "signalfd: %s", strerror(errno));
}

void
stage_ready(struct stage *st, const struct config *cfg)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	FILE *f;

	stage_path(cfg, st->name, "pid", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL)
		fatal(EXIT_TEMPORARY, "cannot write %s: %s", tmp,
		    strerror(errno));
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		fatal(EXIT_TEMPORARY, "cannot write %s: %s", path,
		    strerror(errno));
	log_info("ready (pid %ld)", (long)getpid());
	svc_ready();
}

int
stage_signal(struct stage *st)
{
	struct signalfd_siginfo si;

	if (read(st->sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		svc_stopping();
	return (int)si.ssi_signo;
}

void
stage_exit(struct stage *st, const struct config *cfg)
{
	char path[PATH_MAX + 32];

	stage_path(cfg, st->name, "pid", path, sizeof(path));
	/* A successor that took over owns the pid file now. */
	if (st->lock_fd >= 0) {
		FILE *f = fopen(path, "r");
		long pid = 0;

		if (f != NULL) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid == (long)getpid())
			unlink(path);
		close(st->lock_fd);
	}
	close(st->sig_fd);
}

int
stage_is_up(const struct config *cfg, const char *name)
{
	char path[PATH_MAX + 32];
	int fd, up;

	stage_path(cfg, name, "lock", path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	up = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return up;
}

/*
 * A burst leaves the heap larger than what is in use: the batches'
 * buffers were freed between longer-lived blocks, and glibc returns only
 * the top of the heap. The pages stay the process's private memory until
 * malloc_trim() hands the free ones back, which costs their page faults
 * when work comes again: so only after a second with nothing to do,
 * once per burst, never under load. A quiet stage still reads a little
 * on its timers (a gauge's path through a tree another stage rewrote),
 * so it drops what it mapped again every TRIM_AGAIN_MS while quiet.
 */
#define TRIM_QUIET_MS	1000
#define TRIM_AGAIN_MS	10000

int
stage_pass(struct stage *st, int busy)
{
	int64_t now = mono_ms();

	if (busy) {
		st->busy_at = now;
		st->trim_due = 1;
	} else if (now - st->busy_at >= TRIM_QUIET_MS && (st->trim_due ||
	    now - st->trim_at >= TRIM_AGAIN_MS)) {
		malloc_trim(0);
		st->trim_due = 0;
		st->trim_at = now;
		return 1;
	}
	return 0;
}
