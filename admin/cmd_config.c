/*
 * hookpipe config list | get NAME | set NAME VALUE | unset NAME
 *
 * The settings of $HOOKPIPE_HOME/hookpipe.env, which every binary reads
 * under its environment (common/config.h). Each value is shown with
 * where it comes from: the environment, the file or the default. A value
 * is checked as the stages will read it before the file changes, and the
 * file is replaced whole (a rename), so a stage never reads half of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "util.h"

static int	config_list(struct ctx *, const struct cmd *, int, char **);
static int	config_get(struct ctx *, const struct cmd *, int, char **);
static int	config_set(struct ctx *, const struct cmd *, int, char **);

const struct cmd config_cmds[] = {
	{ "list", config_list, "config list",
	    "Every setting with its value and where it comes from: the "
	    "environment (which wins), $HOOKPIPE_HOME/hookpipe.env, or the "
	    "default.", 0, NULL, NULL },
	{ "get", config_get, "config get NAME",
	    "Print the value of one setting (with --json, where it comes "
	    "from too).", 1, "NAME", NULL },
	{ "set", config_set, "config set NAME VALUE",
	    "Write NAME=VALUE into $HOOKPIPE_HOME/hookpipe.env, after "
	    "checking it as the stages will. The stages read it when they "
	    "start: 'hookpipectl restart' applies it.", 2, "NAME VALUE",
	    NULL },
	{ "unset", config_set, "config unset NAME",
	    "Remove NAME from $HOOKPIPE_HOME/hookpipe.env: its default (or "
	    "the environment's value) applies from the next start.", 1,
	    "NAME", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

/* The settings README's Environment lists, with their defaults. */
static const struct setting {
	const char	*name;
	const char	*def;
} settings[] = {
	{ "HOOKPIPE_HOME", NULL },
	{ "HOOKPIPE_LISTEN", "127.0.0.1:8080" },
	{ "TRIGGER_URL", "http://localhost:8080" },
	{ "HOOKPIPE_WORKSPACE", "default" },
	{ "HOOKPIPE_MAX_BODY", "10485760" },
	{ "HOOKPIPE_BODY_BUDGET", "4 x HOOKPIPE_MAX_BODY, at least 64M" },
	{ "HOOKPIPE_CONN_PER_CLIENT", "256" },
	{ "HOOKPIPE_SPOOL_MAX", "1073741824" },
	{ "HOOKPIPE_TOLERANCE", "300" },
	{ "HOOKPIPE_GITHUB_API", "https://api.github.com" },
	{ "HOOKPIPE_GITHUB_WEB", "https://github.com" },
	{ "HOOKPIPE_RETRY_SCHEDULE", "1,5,30,120,600" },
	{ "HOOKPIPE_CONCURRENCY", "16" },
	{ "HOOKPIPE_VERIFY_TIMEOUT_MS", "5000" },
	{ "HOOKPIPE_MAP_SIZE", "8589934592" },
	{ "HOOKPIPE_INTEGRATIONS", NULL },
	{ "HOOKPIPE_RETENTION", "30d" },
	{ "HOOKPIPE_JQ_TIMEOUT_MS", "200" },
	{ "HOOKPIPE_JQ_MEMORY", "64M" },
	{ "HOOKPIPE_SANDBOX", "1" },
	{ "HOOKPIPE_DEBUG", "" },
	{ "HOOKPIPE_OAUTH_TTL", "600" },
	{ NULL, NULL }
};

static void
file_path(const struct ctx *ctx, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", ctx->cfg.home, CONFIG_FILE);
}

/* The value in effect and its source; NULL value: unset, no default. */
static const char *
value_of(const struct ctx *ctx, const char *name, const char **source)
{
	const struct setting *s;
	const char *v = getenv(name);

	if (strcmp(name, "HOOKPIPE_HOME") == 0) {
		*source = ctx->home_named ? "environment" : "default";
		return ctx->cfg.home;
	}
	if (strcmp(name, "HOOKPIPE_INTEGRATIONS") == 0 &&
	    (v == NULL || *v == '\0')) {
		*source = "default";
		return ctx->cfg.integrations_dir;
	}
	if (v != NULL && *v != '\0') {
		*source = config_from_file(name) ? "file" : "environment";
		return v;
	}
	*source = "default";
	for (s = settings; s->name != NULL; s++)
		if (strcmp(s->name, name) == 0)
			return s->def;
	return NULL;
}

static int
known(const char *name)
{
	const struct setting *s;

	for (s = settings; s->name != NULL; s++)
		if (strcmp(s->name, name) == 0)
			return 1;
	return 0;
}

struct list {
	const struct ctx *ctx;
	struct table	 t;
	json_t		*a;
};

static void
list_one(struct list *l, const char *name)
{
	const char *src, *v = value_of(l->ctx, name, &src);

	if (l->a != NULL)
		json_array_append_new(l->a, json_pack("{s:s,s:o,s:s}", "name",
		    name, "value", v != NULL ? json_string(v) : json_null(),
		    "source", src));
	else
		table_row(&l->t, name, v != NULL && *v != '\0' ? v : "-", src);
}

/* A name in the file that is none of the known ones: listed too. */
static int
list_file_cb(void *arg, const char *name, const char *value, int line)
{
	(void)value;
	(void)line;
	if (!known(name))
		list_one(arg, name);
	return 0;
}

static int
config_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct list l = { .ctx = ctx };
	const struct setting *s;
	char path[PATH_MAX + 32], err[PATH_MAX * 2 + 256];
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if (ctx->json)
		l.a = json_array();
	else
		table_init(&l.t, 3, "NAME", "VALUE", "SOURCE");
	for (s = settings; s->name != NULL; s++)
		list_one(&l, s->name);
	file_path(ctx, path, sizeof(path));
	if (config_file_read(path, list_file_cb, &l, err, sizeof(err)) == -1)
		warnmsg("%s", err);
	if (ctx->json)
		return json_print(l.a);
	table_print(&l.t, stdout);
	table_free(&l.t);
	printf("\nfile: %s%s\n", path, access(path, F_OK) == 0 ? "" :
	    " (none yet: 'hookpipe config set NAME VALUE' makes it)");
	return EXIT_OK;
}

static int
config_get(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *src, *v;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if (!config_name_valid(args[0]) && strcmp(args[0],
	    "HOOKPIPE_HOME") != 0)
		return usage_error(ctx, "%s: expected a HOOKPIPE_* name or "
		    "TRIGGER_URL; 'hookpipe config list' shows them", args[0]);
	v = value_of(ctx, args[0], &src);
	if (!known(args[0]) && strcmp(src, "default") == 0)
		return fail("%s is not set and has no default", args[0]);
	if (ctx->json)
		return json_print(json_pack("{s:s,s:o,s:s}", "name", args[0],
		    "value", v != NULL ? json_string(v) : json_null(),
		    "source", src));
	print_safe(stdout, v != NULL ? v : "");
	printf("\n");
	return EXIT_OK;
}

/* The file's lines, less those of one name. */
struct rewrite {
	struct buf	 b;
	const char	*name;
};

static int
keep_cb(void *arg, const char *name, const char *value, int line)
{
	struct rewrite *r = arg;

	(void)line;
	if (strcmp(name, r->name) != 0)
		buf_appendf(&r->b, "%s=%s\n", name, value);
	return 0;
}

static int
file_write(const char *path, const struct buf *b, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 64];
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	ok = b->len == 0 || write(fd, b->data, b->len) == (ssize_t)b->len;
	ok = fsync(fd) == 0 && ok;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
config_set(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int unset = strcmp(c->name, "unset") == 0;
	char path[PATH_MAX + 32], err[PATH_MAX * 2 + 256];
	struct rewrite r = { .b = { 0 } };
	struct config check;
	const char *env;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	r.name = args[0];
	if (strcmp(args[0], "HOOKPIPE_HOME") == 0)
		return usage_error(ctx, "HOOKPIPE_HOME names the directory the "
		    "file is in: set it in the environment, or give --home");
	if (!config_name_valid(args[0]))
		return usage_error(ctx, "%s: expected a HOOKPIPE_* name "
		    "(capitals, digits, '_') or TRIGGER_URL", args[0]);
	if (!unset && strpbrk(args[1], "\r\n") != NULL)
		return usage_error(ctx, "%s: a value is one line", args[0]);
	if (!unset && !known(args[0]))
		warnmsg("%s is not a setting hookpipe knows (see 'hookpipe "
		    "config list'); written anyway", args[0]);
	env = getenv(args[0]);
	if (env != NULL && *env != '\0' && !config_from_file(args[0]))
		warnmsg("%s is set in this environment too, which wins over "
		    "the file", args[0]);
	/* As the stages will read it: the whole configuration, with it. */
	if (!unset) {
		if (setenv(args[0], args[1], 1) == -1 ||
		    config_load(&check, err, sizeof(err)) == -1)
			return usage_error(ctx, "%s", err);
	}
	if ((rc = home_prepare(ctx)) != 0)
		return rc;
	file_path(ctx, path, sizeof(path));
	buf_append(&r.b, "", 0);
	if (config_file_read(path, keep_cb, &r, err, sizeof(err)) == -1) {
		buf_free(&r.b);
		return fail("%s", err);
	}
	if (!unset)
		buf_appendf(&r.b, "%s=%s\n", args[0], args[1]);
	rc = file_write(path, &r.b, err, sizeof(err)) == -1 ?
	    fail("%s", err) : EXIT_OK;
	buf_free(&r.b);
	if (rc != EXIT_OK)
		return rc;
	if (ctx->json)
		return json_print(json_pack("{s:s,s:o,s:s}", "name", args[0],
		    "value", unset ? json_null() : json_string(args[1]),
		    "file", path));
	printf("%s %s in %s; 'hookpipectl restart' applies it to a running "
	    "stack\n", unset ? "removed" : "set", args[0], path);
	return EXIT_OK;
}
