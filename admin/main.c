/*
 * hookpipe: the admin CLI. main() strips the global options (--workspace,
 * --json) from anywhere on the line, loads the configuration and walks
 * the command table down to one leaf, which parses its own options with
 * opt_parse() and opens the database only once they are valid, so that
 * --help and usage errors never touch the state directory.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "life.h"
#include "log.h"
#include "util.h"
#include "version.h"

static int	cmd_migrate(struct ctx *, const struct cmd *, int, char **);
static int	cmd_version(struct ctx *, const struct cmd *, int, char **);

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
	{ "workflow", NULL, "workflow create | edit | enable | disable | "
	    "trigger | untrigger | "
	    "publish | unpublish | show | list | delete | test",
	    "Workflows: an action plus the trigger nodes that start it.", 0,
	    NULL, workflow_cmds },
	{ "cred", NULL, "cred add | list | refresh | delete",
	    "Credentials (API keys, OAuth tokens) for subscriptions that "
	    "hookpipe creates in the external system.", 0, NULL, cred_cmds },
	{ "oauth", NULL, "oauth client set | authorize",
	    "Authorize hookpipe with an OAuth application.", 0, NULL,
	    oauth_cmds },
	{ "config", NULL,
	    "config list | get NAME | set NAME VALUE | unset NAME",
	    "Settings: $HOOKPIPE_HOME/hookpipe.env holds HOOKPIPE_* "
	    "variables (and TRIGGER_URL) that every hookpipe binary reads; "
	    "a variable of the environment wins over the file.", 0, NULL,
	    config_cmds },
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
	{ "enrich", cmd_enrich, "enrich RUN",
	    "Make the enrich calls of a run's event (its integration's "
	    "\"enrich\" block) with its subscription's credential, and store "
	    "what they fetched for the run's inputs. The dispatcher runs it "
	    "before an action whose event needs them; exit 0 when done, 75 "
	    "when it may work later, 65 when the provider refused for good.",
	    1, "RUN", NULL },
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
	{ "cluster", NULL, "cluster init | status",
	    "Cluster mode: hosts sharing one NATS JetStream cluster "
	    "(HOOKPIPE_NATS).", 0, NULL, cluster_cmds },
	{ "doctor", cmd_doctor, "doctor",
	    "Check what an operator checks first, one line each: the state "
	    "directory and its permissions, the master key (and that it "
	    "opens the stored secrets), the stages, the listen address, the "
	    "integrations, TRIGGER_URL against the subscriptions registered "
	    "with a provider, the clock (against the Date of "
	    "HOOKPIPE_GITHUB_API), disk and LMDB map space. Exits 1 when a "
	    "line says FAIL; warn lines do not count.", 0, NULL, NULL },
	{ "backup", cmd_backup, "backup FILE",
	    "Write a consistent copy of the state to FILE (a gzip'd tar), "
	    "while the stack runs: a hot copy of each database, the master "
	    "key files and hookpipe.env. FILE holds the master key: keep it "
	    "as secret as the key.", 1, "FILE", NULL },
	{ "restore", cmd_restore, "restore FILE [--force]",
	    "Restore a backup into the state directory (this machine's or "
	    "another's), with the stack stopped. A state directory that has "
	    "a master key of its own is refused; --force sets its state "
	    "aside in pre-restore-TIME instead.", 1, "FILE", NULL },
	{ "version", cmd_version, "version",
	    "The version, the commit it was built from and the build's "
	    "options (also --version, on every hookpipe binary).", 0, NULL,
	    NULL },
	{ "events", cmd_events,
	    "events [--sub SUB] [--type T] [--status S] [--since T] "
	    "[--until T] [--jq EXPR] [--limit N] [--follow]",
	    "List stored events, newest first (default limit 50). --status is "
	    "stored, ignored or routed; --status rejected lists the "
	    "deliveries the verifier refused with 400 or 401 in the last 7 "
	    "days instead, with the reason (never their body). --since and "
	    "--until take an RFC 3339 time (2026-01-02T15:04:05Z) or a time "
	    "ago (90s, 15m, 2h, 7d): events received at or after --since and "
	    "before --until. --jq lists the events whose payload makes the jq "
	    "program's first result neither false nor null, evaluated in a "
	    "jq worker with HOOKPIPE_JQ_TIMEOUT_MS and HOOKPIPE_JQ_MEMORY as "
	    "its budget; an event it fails on is not listed. --follow (-f) "
	    "prints the last 10 (or --limit) oldest first, then each one as "
	    "it comes, until interrupted (one JSON object per line with "
	    "--json).", 0, NULL, NULL },
	{ "event", NULL, "event show ID [--here]", NULL, 0, NULL,
	    event_cmds },
	{ "runs", cmd_runs,
	    "runs [--workflow W] [--status S] [--event ID] [--test] "
	    "[--limit N] [--here]",
	    "List workflow runs, newest first (default limit 50), with the "
	    "last error of those that failed; '(test)' marks the runs of "
	    "'hookpipe workflow test'. --status is queued, running, "
	    "succeeded, failed or dead; --event: the runs of that event (an "
	    "id or a unique prefix); --test: test runs only. In cluster mode "
	    "the runs of every host, with a HOST column (a host that does "
	    "not answer: its runs' copies, 'HOST (copy)', and the runs it "
	    "has not run, from their claims, 'HOST (claim)'); --here: this "
	    "host's only.", 0, NULL, NULL },
	{ "run", NULL, "run show RUN [--here]", NULL, 0, NULL, run_cmds },
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
	    "Print what a stage (receiver, verifier, router, dispatcher, admin) "
	    "emits, one JSON line per message, until interrupted.", 1,
	    "STAGE", NULL },
	{ "console", cmd_console, "console [--user NAME]",
	    "Print a one-time link that logs you in to the web console "
	    "(the admin stage, on HOOKPIPE_ADMIN_LISTEN). It works once, "
	    "within 10 minutes; --user names you in the audit log (default: "
	    "your login name). Scripts use the API token in "
	    "$HOOKPIPE_HOME/admin.token instead (Authorization: Bearer).", 0,
	    NULL, NULL },
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

static int
cmd_version(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	json_t *b;
	char **args;
	int i, rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if (!ctx->json) {
		version_print(stdout, "hookpipe");
		return EXIT_OK;
	}
	b = json_object();
	for (i = 0; hp_build[i] != NULL; i += 2)
		json_object_set_new(b, hp_build[i],
		    json_string(hp_build[i + 1]));
	return json_print(json_pack("{s:s,s:s,s:o}", "version", hp_version,
	    "commit", hp_commit, "build", b));
}

static const struct cmd top = {
	"hookpipe", NULL, "COMMAND ...", NULL, 0, NULL, commands
};

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
 * --workspace, --home and --json may appear anywhere, as in kubectl; take
 * them out before the commands see their own options.
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
		else if (strcmp(a, "--home") == 0 ||
		    strncmp(a, "--home=", 7) == 0) {
			if (a[6] == '\0' && i + 1 == *argc)
				return usage_error(ctx, "option --home needs a "
				    "value");
			if (setenv("HOOKPIPE_HOME", a[6] == '=' ? a + 7 :
			    argv[++i], 1) == -1)
				return usage_error(ctx, "--home: %s",
				    strerror(errno));
			ctx->home_named = 1;
		}
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
	ctx.home_named = getenv("HOOKPIPE_HOME") != NULL &&
	    *getenv("HOOKPIPE_HOME") != '\0';
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
	/* Before the configuration: a version needs none. */
	if (strcmp(argv[1], "--version") == 0)
		argv[1] = (char *)"version";
	if (strcmp(argv[1], "version") == 0)
		return dispatch(&ctx, &top, argc - 1, argv + 1);
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
