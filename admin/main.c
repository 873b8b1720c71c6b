/*
 * hookpipe: the admin CLI. main() strips the global options (--workspace,
 * --json) from anywhere on the line, loads the configuration and walks
 * the command table down to one leaf, which parses its own options with
 * opt_parse() and opens the database only once they are valid, so that
 * --help and usage errors never touch the state directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "life.h"
#include "log.h"
#include "util.h"

#define OPTS_MAX	30	/* long options of one command */

static int	cmd_migrate(struct ctx *, const struct cmd *, int, char **);

static const struct cmd commands[] = {
	{ "integration", NULL, "integration list | show NAME",
	    "Integrations are the kinds of external systems hookpipe "
	    "understands, one definition file each.", 0, NULL,
	    integration_cmds },
	{ "sub", NULL,
	    "sub create | list | show | edit | refresh-keys | check | renew | "
	    "delete",
	    "Subscriptions: one webhook endpoint (callback URL) for one "
	    "integration in one workspace.", 0, NULL, sub_cmds },
	{ "workflow", NULL, "workflow create | trigger | untrigger | "
	    "publish | unpublish | show | list | delete | test",
	    "Workflows: an action plus the trigger nodes that start it.", 0,
	    NULL, workflow_cmds },
	{ "cred", NULL, "cred add | list | refresh | delete",
	    "Credentials (API keys, OAuth tokens) for subscriptions that "
	    "hookpipe creates in the external system.", 0, NULL, cred_cmds },
	{ "oauth", NULL, "oauth client set | authorize",
	    "Authorize hookpipe with an OAuth application.", 0, NULL,
	    oauth_cmds },
	{ "key", NULL, "key rotate",
	    "The master key that encrypts secrets at rest.", 0, NULL,
	    key_cmds },
	{ "lifecycle", cmd_lifecycle, "lifecycle",
	    "One pass of what keeps automatic subscriptions alive: OAuth "
	    "tokens refreshed before they expire, webhooks renewed before "
	    "they lapse, automatic subscriptions checked against the provider "
	    "daily (and repaired), silent subscriptions flagged, and the "
	    "hookpipe integration's events sent. The dispatcher runs it every "
	    "HOOKPIPE_LIFECYCLE_INTERVAL seconds; one pass runs at a time.", 0,
	    NULL, NULL },
	{ "migrate", cmd_migrate, "migrate",
	    "Move a state directory of an older layout (one database in db/) "
	    "into db/config, db/events, db/runs and db/spool. Every command and "
	    "stage does this by itself when it first opens an older one; the "
	    "old files are kept in db/v1 until you delete them.", 0, NULL,
	    NULL },
	{ "spool", NULL, "spool list | show | drop | retry",
	    "Deliveries spooled while the verifier was away, and those it set "
	    "aside (quarantined) because it could not process them.", 0, NULL,
	    spool_cmds },
	{ "events", cmd_events,
	    "events [--sub SUB] [--type T] [--status S] [--limit N]",
	    "List stored events, newest first (default limit 50). --status is "
	    "stored, ignored or routed.", 0, NULL, NULL },
	{ "event", NULL, "event show ID", NULL, 0, NULL, event_cmds },
	{ "runs", cmd_runs,
	    "runs [--workflow W] [--status S] [--limit N]",
	    "List workflow runs, newest first (default limit 50). --status is "
	    "queued, running, succeeded, failed or dead.", 0, NULL, NULL },
	{ "replay", cmd_replay, "replay EVENT [--workflow W [--force]]",
	    "Run a stored event again, as the router would: through every "
	    "published workflow whose trigger matches it and whose --filter "
	    "passes, with its --map making the run's inputs; or through "
	    "workflow W only (even a draft). A workflow whose filter does not "
	    "pass is not run, and the reason is printed; --force runs W "
	    "anyway.", 1, "EVENT", NULL },
	{ "send", cmd_send, "send SUB --event TYPE [--file PAYLOAD]",
	    "Sign a test delivery like the subscription's provider would and "
	    "POST it to the callback URL. PAYLOAD is a file, or - for stdin; "
	    "without --file a minimal event body is sent.", 1, "SUB", NULL },
	{ "tail", cmd_tail, "tail STAGE [--payload]",
	    "Print what a stage (receiver, verifier, router, dispatcher) "
	    "emits, one JSON line per message, until interrupted.", 1,
	    "STAGE", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

static int
cmd_migrate(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	char **args, err[1024];
	long moved;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if (config_make_dirs(&ctx->cfg, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (db_migrate(&ctx->cfg, &moved, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (ctx->json)
		return json_print(json_pack("{s:b,s:I}", "migrated", moved > 0,
		    "records", (json_int_t)moved));
	if (moved == 0)
		printf("nothing to move: %s already has the current layout\n",
		    ctx->cfg.db_dir);
	else
		printf("moved %ld records into %s/config, events, runs and "
		    "spool; the old files are in %s/v1 (delete them once you "
		    "are satisfied)\n", moved, ctx->cfg.db_dir, ctx->cfg.db_dir);
	return EXIT_OK;
}

static const struct cmd top = {
	"hookpipe", NULL, "COMMAND ...", NULL, 0, NULL, commands
};

static void
integ_warn(const char *msg)
{
	warnmsg("%s", msg);
}

int
ctx_open(struct ctx *ctx, int warn_integrations)
{
	char err[1024];

	if (config_make_dirs(&ctx->cfg, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (db_open(&ctx->db, &ctx->cfg, DB_ALL, 0, err, sizeof(err)) != 0)
		return fail("%s", err);
	ctx->db_open = 1;
	integ_load_all(&ctx->integs, &ctx->cfg,
	    warn_integrations ? integ_warn : NULL);
	ctx->integs_loaded = 1;
	return 0;
}

static void
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

MDB_txn *
txn_write(struct ctx *ctx, enum db_part part)
{
	return txn_begin(ctx, part, 0);
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
	int rc = db_commit(txn);

	return rc == 0 ? 0 : db_error(rc);
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

static void
path_append(struct ctx *ctx, const char *word)
{
	size_t n = strlen(ctx->path);

	snprintf(ctx->path + n, sizeof(ctx->path) - n, "%s%s",
	    n > 0 ? " " : "", word);
}

static int
is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 ||
	    strcmp(s, "help") == 0;
}

/* argv[0] names a command of the table; a group recurses one level. */
static int
dispatch(struct ctx *ctx, const struct cmd *group, int argc, char **argv)
{
	const struct cmd *c;

	for (c = group->sub; c->name != NULL; c++)
		if (strcmp(c->name, argv[0]) == 0)
			break;
	if (c->name == NULL) {
		if (argv[0][0] == '-')
			return usage_error(ctx, "unknown option %s", argv[0]);
		return usage_error(ctx, "unknown command '%s%s%s'", ctx->path,
		    ctx->path[0] ? " " : "", argv[0]);
	}
	path_append(ctx, c->name);
	if (c->sub == NULL)
		return c->fn(ctx, c, argc, argv);
	if (argc < 2) {
		errmsg("%s: missing command; see 'hookpipe %s --help'",
		    ctx->path, ctx->path);
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		print_usage(stdout, c);
		return EXIT_OK;
	}
	return dispatch(ctx, c, argc - 1, argv + 1);
}

/*
 * --workspace and --json may appear anywhere, as in kubectl; take them
 * out before the commands see their own options.
 */
static int
strip_globals(struct ctx *ctx, int *argc, char **argv)
{
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0)
			ctx->json = 1;
		else if (strcmp(a, "--workspace") == 0) {
			if (i + 1 == *argc)
				return usage_error(ctx, "option --workspace "
				    "needs a value");
			ctx->ws = argv[++i];
		} else if (strncmp(a, "--workspace=", 12) == 0)
			ctx->ws = a + 12;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	if (ctx->ws != NULL && !name_valid(ctx->ws))
		return usage_error(ctx, "invalid workspace name '%s': use "
		    "letters, digits, '.', '_' or '-'", ctx->ws);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct ctx ctx;	/* the integration set is large */
	char err[1024];
	int rc;

	log_init("hookpipe", 0);
	if ((rc = strip_globals(&ctx, &argc, argv)) != 0)
		return rc;
	if (argc < 2) {
		print_usage(stderr, &top);
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		print_usage(stdout, &top);
		return EXIT_OK;
	}
	if (config_load(&ctx.cfg, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (ctx.ws == NULL)
		ctx.ws = ctx.cfg.workspace;
	rc = dispatch(&ctx, &top, argc - 1, argv + 1);
	ctx_close(&ctx);
	if (fflush(stdout) == EOF && rc == 0)
		rc = fail("cannot write the output");
	return rc;
}
