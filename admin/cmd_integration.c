/*
 * hookpipe integration list | show NAME
 *
 * Integrations are data files; these commands only read what
 * integ_load_all() found, and are the one place that reports broken
 * definitions, so that a typo in a file is seen where people look.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"

static int	integration_list(struct ctx *, const struct cmd *, int, char **);
static int	integration_show(struct ctx *, const struct cmd *, int, char **);

const struct cmd integration_cmds[] = {
	{ "list", integration_list, "integration list",
	    "List the integrations: the shipped definitions and those in "
	    "$HOOKPIPE_HOME/integrations.", 0, NULL, NULL },
	{ "show", integration_show, "integration show NAME",
	    "Show an integration's events and output variables.", 1, "NAME",
	    NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

static json_t *
integ_json(const struct integ *ig)
{
	json_t *events = json_array(), *v, *out;
	size_t i;

	json_array_foreach(ig->events, i, v)
		json_array_append_new(events, json_pack("{s:O,s:O}", "name",
		    json_object_get(v, "name"), "description",
		    json_object_get(v, "description")));
	out = json_object_get(ig->def, "output");
	out = out != NULL ? json_incref(out) : json_array();
	return json_pack("{s:s,s:s,s:s,s:O,s:o,s:o,s:s}", "name", ig->name,
	    "title", ig->title, "scheme", ig->scheme, "modes", ig->modes,
	    "events", events, "output", out, "file", ig->path);
}

static void
modes_str(const struct integ *ig, char *out, size_t len)
{
	size_t i;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(ig->modes, i, v) {
		size_t n = strlen(out);

		snprintf(out + n, len - n, "%s%s", i ? "," : "",
		    json_string_value(v));
	}
}

static int
integration_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	struct table t;
	char **args, modes[128], nev[16];
	json_t *a;
	int i, rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 1)) != 0)
		return rc;
	if (ctx->json) {
		a = json_array();
		for (i = 0; i < ctx->integs.n; i++)
			json_array_append_new(a, integ_json(&ctx->integs.v[i]));
		return json_print(a);
	}
	table_init(&t, 5, "NAME", "TITLE", "SCHEME", "EVENTS", "MODES");
	for (i = 0; i < ctx->integs.n; i++) {
		const struct integ *ig = &ctx->integs.v[i];

		modes_str(ig, modes, sizeof(modes));
		snprintf(nev, sizeof(nev), "%zu", json_array_size(ig->events));
		table_row(&t, ig->name, ig->title, ig->scheme, nev, modes);
	}
	table_print(&t, stdout);
	table_free(&t);
	if (ctx->integs.n == 0)
		warnmsg("no integration definitions in %s or %s",
		    ctx->cfg.integrations_dir, ctx->cfg.user_integrations_dir);
	return EXIT_OK;
}

static void
show_text(const struct integ *ig)
{
	json_t *out = json_object_get(ig->def, "output"), *v;
	struct table t;
	char modes[128];
	size_t i;

	modes_str(ig, modes, sizeof(modes));
	print_field(stdout, "name", 8, ig->name);
	print_field(stdout, "title", 8, ig->title);
	print_field(stdout, "scheme", 8, ig->scheme);
	print_field(stdout, "modes", 8, modes);
	print_field(stdout, "file", 8, ig->path);
	printf("\nevents:\n");
	table_init(&t, 2, "  NAME", "DESCRIPTION");
	json_array_foreach(ig->events, i, v) {
		char name[300];

		snprintf(name, sizeof(name), "  %s",
		    json_string_value(json_object_get(v, "name")));
		table_row(&t, name, json_string_value(json_object_get(v,
		    "description")));
	}
	table_print(&t, stdout);
	table_free(&t);
	printf("\noutput variables:\n");
	table_init(&t, 3, "  NAME", "TYPE", "DESCRIPTION");
	json_array_foreach(out, i, v) {
		char name[300];

		snprintf(name, sizeof(name), "  %s",
		    json_string_value(json_object_get(v, "name")));
		table_row(&t, name, json_string_value(json_object_get(v,
		    "type")), json_string_value(json_object_get(v,
		    "description")));
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int
integration_show(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const struct integ *ig;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 1)) != 0)
		return rc;
	if ((ig = integ_find(&ctx->integs, args[0])) == NULL)
		return fail("no integration %s; see 'hookpipe integration "
		    "list'", args[0]);
	if (ctx->json)
		return json_print(integ_json(ig));
	show_text(ig);
	return EXIT_OK;
}
