/*
 * What every command of the CLI, and the admin stage that serves the
 * console, opens and shares: the database and the integrations (ctx),
 * transactions, and the option parser of a command.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "cluster.h"
#include "log.h"
#include "util.h"

#define OPTS_MAX	30	/* long options of one command */

static void
integ_warn(const char *msg)
{
	warnmsg("%s", msg);
}

/*
 * The HOOKPIPE_HOME of a stage of this user that runs with another state
 * directory, read from its environment; 0 when there is none.
 */
static int
stack_elsewhere(const char *home, char *out, size_t len)
{
	static const char *const comms[] = {
		"hookpipe-receiv", "hookpipe-verifi", "hookpipe-router",
		"hookpipe-dispat", NULL
	};
	char path[300], buf[8192];
	struct dirent *de;
	DIR *d;
	FILE *f;
	size_t n, i;
	int k, found = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		for (k = 0; comms[k] != NULL && strcmp(comms[k], buf) != 0; k++)
			;
		if (comms[k] == NULL)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		for (i = 0; i < n; i += strlen(buf + i) + 1)
			if (strncmp(buf + i, "HOOKPIPE_HOME=", 14) == 0 &&
			    strcmp(buf + i + 14, home) != 0) {
				str_copy(out, buf + i + 14, len);
				found = 1;
				break;
			}
	}
	closedir(d);
	return found;
}

int
home_prepare(struct ctx *ctx)
{
	char err[1024], other[PATH_MAX];
	struct stat sb;
	int fresh;

	fresh = stat(ctx->cfg.home, &sb) == -1 && errno == ENOENT;
	if (fresh && !ctx->home_named && stack_elsewhere(ctx->cfg.home,
	    other, sizeof(other)))
		return fail("no state directory at %s, and hookpipe runs with "
		    "%s: set HOOKPIPE_HOME=%s (or give --home %s) to use it, "
		    "or --home DIR for a new one", ctx->cfg.home, other, other,
		    other);
	if (config_make_dirs(&ctx->cfg, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (fresh)
		warnmsg("created a new state directory, %s (HOOKPIPE_HOME or "
		    "--home chooses another)", ctx->cfg.home);
	return 0;
}

int
ctx_open(struct ctx *ctx, int warn_integrations)
{
	char err[1024];
	int rc;

	if ((rc = home_prepare(ctx)) != 0)
		return rc;
	if (db_open(&ctx->db, &ctx->cfg, DB_ALL, 0, err, sizeof(err)) != 0)
		return fail("%s", err);
	ctx->db_open = 1;
	integ_load_all(&ctx->integs, &ctx->cfg,
	    warn_integrations ? integ_warn : NULL);
	ctx->integs_loaded = 1;
	return 0;
}

void
ctx_close(struct ctx *ctx)
{
	if (ctx->integs_loaded)
		integ_free_all(&ctx->integs);
	if (ctx->db_open)
		db_close(&ctx->db);
	ctx->integs_loaded = ctx->db_open = 0;
}

static MDB_txn *
txn_begin(struct ctx *ctx, enum db_part part, int rdonly)
{
	MDB_txn *txn = db_begin(&ctx->db, part, rdonly);

	if (txn == NULL)
		errmsg("database: cannot begin a transaction");
	return txn;
}

MDB_txn *
txn_read(struct ctx *ctx, enum db_part part)
{
	return txn_begin(ctx, part, 1);
}

/*
 * Cluster mode: a config write transaction keeps the shared tables as
 * they were at its start; txn_commit puts the difference into the
 * hookpipe_config bucket (see common/cluster_config.c), then commits.
 * A process runs one write transaction at a time (LMDB's writer lock).
 */
static struct {
	struct ctx	*ctx;
	MDB_txn		*txn;
	json_t		*before;
} shared_change;

MDB_txn *
txn_write(struct ctx *ctx, enum db_part part)
{
	MDB_txn *txn = txn_begin(ctx, part, 0);

	if (txn != NULL && part == DB_CONFIG && cluster_enabled()) {
		json_decref(shared_change.before);
		shared_change.ctx = ctx;
		shared_change.txn = txn;
		shared_change.before = ccfg_dump(txn, &ctx->db);
	}
	return txn;
}

/*
 * The change into the bucket, then the snapshot it made (every host's
 * changes up to it, this one's included) into this transaction, with
 * its revision: this host's copy is at that revision when the command
 * ends, and the admin stage will not apply an older one over it.
 */
static int
share_change(MDB_txn *txn, struct db *db, json_t *diff)
{
	struct cluster cl;
	json_t *snap = NULL;
	char err[1024];
	uint64_t rev;
	int rc;

	if ((rc = cluster_connect(&cl, "hookpipe", err, sizeof(err))) == 0) {
		rc = ccfg_publish(&cl, diff, &rev, &snap, err, sizeof(err));
		cluster_close(&cl);
	}
	if (rc != 0)
		return fail("nothing changed: the cluster's configuration "
		    "cannot be updated: %s; try again once NATS answers "
		    "('hookpipe cluster status')", err);
	rc = ccfg_apply(txn, db, snap, rev);
	json_decref(snap);
	if (rc != 0 && rc != CCFG_OLDER)
		return db_error(rc);
	return 0;
}

int
rtx_begin(struct ctx *ctx, struct rtx *t)
{
	memset(t, 0, sizeof(*t));
	if ((t->c = txn_read(ctx, DB_CONFIG)) == NULL ||
	    (t->e = txn_read(ctx, DB_EVENTS)) == NULL ||
	    (t->r = txn_read(ctx, DB_RUNS)) == NULL ||
	    (t->s = txn_read(ctx, DB_SPOOL)) == NULL) {
		rtx_end(t);
		return EXIT_FAIL;
	}
	t->cursor = db_cursor(t->r, &ctx->db);
	return 0;
}

void
rtx_end(struct rtx *t)
{
	MDB_txn **p[] = { &t->c, &t->e, &t->r, &t->s };
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (*p[i] != NULL) {
			mdb_txn_abort(*p[i]);
			*p[i] = NULL;
		}
}

void
sub_stats(struct ctx *ctx, const char *id, int64_t *n, int64_t *last)
{
	MDB_txn *txn = db_begin(&ctx->db, DB_EVENTS, 1);

	*n = *last = 0;
	if (txn != NULL) {
		db_sub_stats(txn, &ctx->db, id, n, last);
		mdb_txn_abort(txn);
	}
}

int
txn_commit(MDB_txn *txn)
{
	json_t *after = NULL, *diff = NULL;
	struct db *db = NULL;
	int rc;

	if (txn == shared_change.txn && shared_change.before != NULL) {
		db = &shared_change.ctx->db;
		after = ccfg_dump(txn, &shared_change.ctx->db);
		diff = after != NULL ? ccfg_diff(shared_change.before, after) :
		    NULL;
	}
	if (txn == shared_change.txn) {
		json_decref(shared_change.before);
		memset(&shared_change, 0, sizeof(shared_change));
	}
	json_decref(after);
	/*
	 * Into the bucket first, while this transaction holds the config
	 * part's writer lock: the admin stage cannot apply a snapshot in
	 * between, and a change the cluster did not take is not made here
	 * either.
	 */
	if (diff != NULL && !ccfg_empty(diff) &&
	    (rc = share_change(txn, db, diff)) != 0) {
		json_decref(diff);
		mdb_txn_abort(txn);
		return rc;
	}
	json_decref(diff);
	if ((rc = db_commit(txn)) != 0)
		return db_error(rc);
	return 0;
}

/*
 * getopt_long does the work: it permutes, so positionals and options mix
 * in any order, and accepts unambiguous prefixes of long names. Each
 * struct opt becomes one long option whose value is 256 + its index.
 */
int
opt_parse(struct ctx *ctx, const struct cmd *c, int argc, char **argv,
    const struct opt *opts, char ***args)
{
	struct option lo[OPTS_MAX + 2];
	int i, n, ch;

	for (n = 0; opts != NULL && opts[n].name != NULL && n < OPTS_MAX;
	    n++) {
		lo[n].name = opts[n].name;
		lo[n].has_arg = opts[n].kind == OPT_FLAG ? no_argument :
		    required_argument;
		lo[n].flag = NULL;
		lo[n].val = 256 + n;
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0;	/* GNU: start over, with a fresh permutation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		const struct opt *o;

		if (ch == 'h') {
			print_usage(stdout, c);
			return EXIT_OK;
		}
		if (ch == ':')
			return usage_error(ctx, "option %s needs a value",
			    argv[optind - 1]);
		if (ch == '?') {
			if (optopt != 0)
				return usage_error(ctx, "unknown option -%c",
				    optopt);
			return usage_error(ctx, "unknown option %s",
			    argv[optind - 1]);
		}
		o = &opts[ch - 256];
		switch (o->kind) {
		case OPT_FLAG:
			*(int *)o->dst = 1;
			break;
		case OPT_STR:
			*(const char **)o->dst = optarg;
			break;
		case OPT_LIST: {
			struct strlist *l = o->dst;

			if (l->n == STRLIST_MAX)
				return usage_error(ctx, "too many --%s options "
				    "(at most %d)", o->name, STRLIST_MAX);
			l->v[l->n++] = optarg;
			break;
		}
		}
	}
	i = argc - optind;
	/* nargs -N: up to N, checked by the command. */
	if (i < c->nargs)
		return usage_error(ctx, "missing %s", c->argname);
	if (i > (c->nargs < 0 ? -c->nargs : c->nargs))
		return usage_error(ctx, "unexpected argument '%s'",
		    argv[optind + c->nargs]);
	*args = argv + optind;
	return OPT_CONTINUE;
}
