/*
 * hookpipe backup FILE | restore FILE [--force]
 *
 * A backup is a gzip'd tar of a state directory's lasting parts: a hot
 * copy of each LMDB environment (mdb_env_copy2, compacted: a consistent
 * snapshot while the stages write), the master key files, and
 * hookpipe.env. tar(1) packs and unpacks it. Restore unpacks into a
 * directory beside the state, checks it is a whole backup, and only then
 * moves its parts into place, with the stages stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "util.h"
#include "version.h"

#define BACKUP_MAGIC	"hookpipe backup 1"

static const char *const parts[DB_NPARTS] = {
	"config", "events", "runs", "spool"
};

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
run_tar(char *const argv[])
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return fail("cannot run tar: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "hookpipe: cannot run tar: %s\n",
		    strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail("tar failed (exit %d)", WIFEXITED(st) ?
		    WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

static int
copy_file(const char *from, const char *to)
{
	char buf[8192];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1)
		return fail("cannot read %s: %s", from, strerror(errno));
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		close(in);
		return fail("cannot create %s: %s", to, strerror(errno));
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out) == -1)
		rc = fail("cannot copy %s: %s", from, strerror(errno));
	OPENSSL_cleanse(buf, sizeof(buf));
	close(in);
	if (close(out) == -1 && rc == 0)
		rc = fail("cannot write %s: %s", to, strerror(errno));
	return rc;
}

/* master.key, master.key.2 ...: not their .lock. */
static int
is_key_file(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "master.key", 10) == 0 &&
	    (n == 10 || name[10] == '.') &&
	    !(n > 5 && strcmp(name + n - 5, ".lock") == 0);
}

static int
copy_keys(const char *from, const char *to, int *nkeys)
{
	char a[PATH_MAX + 300], b[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*nkeys = 0;
	if ((d = opendir(from)) == NULL)
		return fail("cannot read %s: %s", from, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!is_key_file(de->d_name))
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		if ((rc = copy_file(a, b)) == 0)
			(*nkeys)++;
	}
	closedir(d);
	return rc;
}

int
cmd_backup(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	char tmp[PATH_MAX + 32], dir[PATH_MAX + 64], path[PATH_MAX + 64];
	char out[PATH_MAX + 64], when[40];
	int rc, p, nkeys;
	char **args;
	FILE *f;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/backup.XXXXXX", ctx->cfg.home);
	if (mkdtemp(tmp) == NULL)
		return fail("cannot create %s: %s", tmp, strerror(errno));
	snprintf(dir, sizeof(dir), "%s/db", tmp);
	rc = mkdir(dir, 0700) == -1 ? fail("cannot create %s: %s", dir,
	    strerror(errno)) : 0;
	for (p = 0; rc == 0 && p < DB_NPARTS; p++) {
		int e;

		snprintf(dir, sizeof(dir), "%s/db/%s", tmp, parts[p]);
		if (mkdir(dir, 0700) == -1)
			rc = fail("cannot create %s: %s", dir, strerror(errno));
		else if ((e = mdb_env_copy2(ctx->db.part[p].env, dir,
		    MDB_CP_COMPACT)) != 0)
			rc = fail("cannot copy the %s database: %s", parts[p],
			    mdb_strerror(e));
	}
	if (rc == 0)
		rc = copy_keys(ctx->cfg.home, tmp, &nkeys);
	snprintf(path, sizeof(path), "%s/%s", ctx->cfg.home, CONFIG_FILE);
	snprintf(dir, sizeof(dir), "%s/%s", tmp, CONFIG_FILE);
	if (rc == 0 && access(path, F_OK) == 0)
		rc = copy_file(path, dir);
	snprintf(path, sizeof(path), "%s/BACKUP", tmp);
	if (rc == 0 && (f = fopen(path, "w")) != NULL) {
		fprintf(f, "%s\nfrom %s\nat %s\nby hookpipe %s (commit %s)\n",
		    BACKUP_MAGIC, ctx->cfg.home, time_long(now_us(), when,
		    sizeof(when)), hp_version, hp_commit);
		if (fclose(f) == EOF)
			rc = fail("cannot write %s", path);
	} else if (rc == 0)
		rc = fail("cannot write %s: %s", path, strerror(errno));
	/* Into FILE.partial, renamed once whole: FILE is a backup or absent. */
	snprintf(out, sizeof(out), "%s.partial", args[0]);
	if (rc == 0) {
		char *const tar[] = { "tar", "-C", tmp, "-czf", out, ".",
		    NULL };
		mode_t old = umask(077);

		rc = run_tar(tar);
		umask(old);
		if (rc == 0 && rename(out, args[0]) == -1)
			rc = fail("cannot rename %s to %s: %s", out, args[0],
			    strerror(errno));
		if (rc != 0)
			unlink(out);
	}
	rm_tree(tmp);
	if (rc != 0)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s,s:i}", "file", args[0],
		    "master_keys", nkeys));
	printf("backed up %s to %s (the four databases, %d master key "
	    "file%s). It holds the master key: keep it as secret as the "
	    "key itself.\n", ctx->cfg.home, args[0], nkeys,
	    nkeys == 1 ? "" : "s");
	return EXIT_OK;
}

/* A stage holds its lock file while it runs. */
static const char *
stage_running(const struct config *cfg)
{
	static const char *const stages[] = {
		"receiver", "verifier", "router", "dispatcher", "admin", NULL
	};
	char path[PATH_MAX + 32];
	int i, fd, busy;

	for (i = 0; stages[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s.lock", cfg->run_dir,
		    stages[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		busy = flock(fd, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK;
		close(fd);
		if (busy)
			return stages[i];
	}
	return NULL;
}

static int
restore_check(const char *tmp)
{
	char path[PATH_MAX + 64], line[64] = "";
	FILE *f;
	int p;

	snprintf(path, sizeof(path), "%s/BACKUP", tmp);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	if (strncmp(line, BACKUP_MAGIC, strlen(BACKUP_MAGIC)) != 0)
		return fail("not a hookpipe backup (no BACKUP file saying "
		    "\"%s\")", BACKUP_MAGIC);
	for (p = 0; p < DB_NPARTS; p++) {
		snprintf(path, sizeof(path), "%s/db/%s/data.mdb", tmp,
		    parts[p]);
		if (access(path, R_OK) == -1)
			return fail("the backup lacks the %s database",
			    parts[p]);
	}
	snprintf(path, sizeof(path), "%s/master.key", tmp);
	if (access(path, R_OK) == -1)
		return fail("the backup lacks the master key");
	return 0;
}

/* Move the unpacked parts into the state directory. */
static int
restore_move(struct ctx *ctx, const char *tmp, const char *aside)
{
	char a[PATH_MAX + 300], b[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;
	int p;

	for (p = 0; p < DB_NPARTS; p++) {
		snprintf(a, sizeof(a), "%s/db/%s", tmp, parts[p]);
		snprintf(b, sizeof(b), "%s/%s", ctx->cfg.db_dir, parts[p]);
		if (aside != NULL) {
			char c[PATH_MAX + 400];

			snprintf(c, sizeof(c), "%s/db-%s", aside, parts[p]);
			if (rename(b, c) == -1 && errno != ENOENT)
				return fail("cannot move %s aside: %s", b,
				    strerror(errno));
		} else
			rm_tree(b);
		if (rename(a, b) == -1)
			return fail("cannot move %s to %s: %s", a, b,
			    strerror(errno));
	}
	if ((d = opendir(tmp)) == NULL)
		return fail("cannot read %s: %s", tmp, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!is_key_file(de->d_name) &&
		    strcmp(de->d_name, CONFIG_FILE) != 0)
			continue;
		snprintf(a, sizeof(a), "%s/%s", tmp, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", ctx->cfg.home, de->d_name);
		if (aside != NULL) {
			char c[PATH_MAX + 400];

			snprintf(c, sizeof(c), "%s/%s", aside, de->d_name);
			(void)rename(b, c);
		}
		if (rename(a, b) == -1) {
			closedir(d);
			return fail("cannot move %s to %s: %s", a, b,
			    strerror(errno));
		}
	}
	closedir(d);
	return 0;
}

int
cmd_restore(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	char tmp[PATH_MAX + 32], key[PATH_MAX + 32], aside[PATH_MAX + 64];
	char err[1024];
	const char *busy;
	int force = 0, rc, has_state;
	const struct opt opts[] = {
		{ "force", OPT_FLAG, &force },
		{ NULL, 0, NULL }
	};
	char **args;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (access(args[0], R_OK) == -1)
		return fail("cannot read %s: %s", args[0], strerror(errno));
	if ((rc = home_prepare(ctx)) != 0)
		return rc;
	if ((busy = stage_running(&ctx->cfg)) != NULL)
		return fail("the %s runs on %s: stop the stack first "
		    "('hookpipectl stop')", busy, ctx->cfg.home);
	snprintf(key, sizeof(key), "%s/master.key", ctx->cfg.home);
	has_state = access(key, F_OK) == 0;
	if (has_state && !force)
		return fail("%s has state of its own (a master key): restore "
		    "into a new state directory (--home DIR), or give --force "
		    "to set the current state aside in %s/pre-restore-TIME",
		    ctx->cfg.home, ctx->cfg.home);
	snprintf(tmp, sizeof(tmp), "%s/restore.XXXXXX", ctx->cfg.home);
	if (mkdtemp(tmp) == NULL)
		return fail("cannot create %s: %s", tmp, strerror(errno));
	{
		char *const tar[] = { "tar", "-C", tmp, "-xzf",
		    (char *)args[0], "--no-same-owner", NULL };

		rc = run_tar(tar);
	}
	if (rc == 0)
		rc = restore_check(tmp);
	if (rc == 0 && has_state) {
		snprintf(aside, sizeof(aside), "%s/pre-restore-%lld",
		    ctx->cfg.home, (long long)time(NULL));
		if (mkdir(aside, 0700) == -1)
			rc = fail("cannot create %s: %s", aside,
			    strerror(errno));
	}
	if (rc == 0)
		rc = restore_move(ctx, tmp, has_state ? aside : NULL);
	rm_tree(tmp);
	if (rc != 0)
		return rc;
	/* It opens, under the restored key. */
	if (db_open(&ctx->db, &ctx->cfg, DB_ALL, 0, err, sizeof(err)) != 0)
		return fail("restored, but it does not open: %s", err);
	ctx->db_open = 1;
	if (ctx->json)
		return json_print(json_pack("{s:s,s:s,s:o}", "file", args[0],
		    "home", ctx->cfg.home, "previous_state", has_state ?
		    json_string(aside) : json_null()));
	printf("restored %s into %s", args[0], ctx->cfg.home);
	if (has_state)
		printf("; the state it had is in %s", aside);
	printf("\n'hookpipectl start' runs it; 'hookpipe doctor' checks it\n");
	return EXIT_OK;
}
