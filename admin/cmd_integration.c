/*
 * hookpipe integration list | show NAME
 *
 * Integrations are data files; these commands only read what
 * integ_load_all() found, and are the one place that reports broken
 * definitions, so that a typo in a file is seen where people look.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "handshake.h"

static int	integration_list(struct ctx *, const struct cmd *, int, char **);
static int	integration_show(struct ctx *, const struct cmd *, int, char **);

const struct cmd integration_cmds[] = {
	{ "list", integration_list, "integration list",
	    "List the integrations by category, with the subscription modes "
	    "each supports and the handshakes it answers: the shipped "
	    "definitions and those in $HOOKPIPE_HOME/integrations.", 0, NULL,
	    NULL },
	{ "show", integration_show, "integration show NAME",
	    "Show an integration: its signature scheme, the headers it reads, "
	    "its handshakes, the params a subscription takes, its events and "
	    "output variables, and how to set it up in the provider.", 1,
	    "NAME", NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL }
};

static const char *
method_str(enum hs_method m)
{
	return m == HS_GET ? "GET" : m == HS_HEAD ? "HEAD" : "POST";
}

/* "GET with query hub.mode = subscribe; the token must match ..." */
static void
handshake_str(const struct handshake *h, char *out, size_t len)
{
	char desc[400];
	size_t n;

	hs_describe(h, desc, sizeof(desc));
	snprintf(out, len, "%s%s%s", h->name[0] ? h->name : "",
	    h->name[0] ? ": " : "", desc);
	n = strlen(out);
	switch (h->verify) {
	case HS_VERIFY_SIGNATURE:
		snprintf(out + n, len - n, "; answered once its signature "
		    "verifies");
		break;
	case HS_VERIFY_TOKEN:
		snprintf(out + n, len - n, "; answered when its %s %s matches "
		    "the subscription's %s", h->token.kind == SRC_QUERY ?
		    "query parameter" : h->token.kind == SRC_HEADER ? "header" :
		    "body field", h->token.where, strcmp(h->equals, "secret") ==
		    0 ? "secret" : h->equals + 6);
		break;
	default:
		snprintf(out + n, len - n, "; answered without a signature");
		break;
	}
	n = strlen(out);
	if (h->set_secret.kind != SRC_NONE)
		snprintf(out + n, len - n, "; its %s becomes the subscription's "
		    "secret (once)", h->set_secret.where);
	n = strlen(out);
	if (h->text != NULL && json_is_string(h->text))
		snprintf(out + n, len - n, "; answer %d text %s", h->status,
		    json_string_value(h->text));
	else if (h->text != NULL || h->json != NULL)
		snprintf(out + n, len - n, "; answer %d %s", h->status,
		    h->json ? "JSON" : "text (computed)");
	else
		snprintf(out + n, len - n, "; answer %d", h->status);
}

static json_t *
handshakes_json(const struct integ *ig)
{
	json_t *a = json_array(), *raw = json_object_get(ig->def,
	    "handshakes");
	char desc[800];
	int i;

	for (i = 0; i < ig->nhs; i++) {
		const struct handshake *h = &ig->hs[i];
		json_t *o = json_deep_copy(json_array_get(raw, (size_t)i));

		json_object_del(o, "_text");
		handshake_str(h, desc, sizeof(desc));
		json_object_set_new(o, "method", json_string(method_str(
		    h->method)));
		json_object_set_new(o, "verify", json_string(h->verify ==
		    HS_VERIFY_SIGNATURE ? "signature" : h->verify ==
		    HS_VERIFY_TOKEN ? "token" : "none"));
		json_object_set_new(o, "answered_by", json_string(
		    h->in_receiver ? "receiver" : "verifier"));
		json_object_set_new(o, "summary", json_string(desc));
		json_array_append_new(a, o);
	}
	return a;
}

/* The commands and places that set the integration up. */
static json_t *
setup_json(const struct integ *ig)
{
	json_t *o = ig->setup ? json_deep_copy(ig->setup) : json_object();
	const char *sec = json_string_value(json_object_get(o, "secret"));
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "hookpipe sub create NAME --integration "
	    "%s%s", ig->name, sec != NULL && strcmp(sec, "hookpipe") == 0 ?
	    " --generate-secret" : "");
	/* A secret the provider makes comes once the endpoint exists. */
	if (sec == NULL || strcmp(sec, "provider") == 0)
		json_object_set_new(o, "secret_command", json_string(
		    "hookpipe sub edit NAME --secret-file FILE"));
	if (ig->sub_params != NULL) {
		size_t i, n = strlen(cmd);
		json_t *e;

		json_array_foreach(ig->sub_params, i, e)
			if (json_is_true(json_object_get(e, "required")))
				n += (size_t)snprintf(cmd + n, n < sizeof(cmd) ?
				    sizeof(cmd) - n : 0, " --param %s=...",
				    json_string_value(json_object_get(e,
				    "name")));
	}
	json_object_set_new(o, "command", json_string(cmd));
	return o;
}
json_t *
integ_json(const struct integ *ig)
{
	json_t *events = json_array(), *v, *out, *o;
	size_t i;

	json_array_foreach(ig->events, i, v)
		json_array_append_new(events, json_pack("{s:O,s:O}", "name",
		    json_object_get(v, "name"), "description",
		    json_object_get(v, "description")));
	out = json_object_get(ig->def, "output");
	out = out != NULL ? json_incref(out) : json_array();
	o = json_pack("{s:s,s:s,s:s,s:s,s:O,s:o,s:o,s:s,s:O,s:O,s:o,s:o}",
	    "name", ig->name, "title", ig->title, "category", ig->category,
	    "scheme", ig->scheme, "modes", ig->modes, "events", events,
	    "output", out, "file", ig->path, "read_headers", ig->read_headers,
	    "event_type", json_object_get(ig->def, "event_type"),
	    "handshakes", handshakes_json(ig), "setup", setup_json(ig));
	if ((v = json_object_get(ig->def, "delivery_id")) != NULL)
		json_object_set(o, "delivery_id", v);
	if ((v = json_object_get(ig->def, "encrypted")) != NULL)
		json_object_set(o, "encrypted", v);
	if (ig->sub_params != NULL)
		json_object_set(o, "sub_params", ig->sub_params);
	return o;
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

/* By category, then name; "Other" last. */
static int
by_category(const void *a, const void *b)
{
	const struct integ *x = *(const struct integ *const *)a;
	const struct integ *y = *(const struct integ *const *)b;
	int xo = strcmp(x->category, "Other") == 0;
	int yo = strcmp(y->category, "Other") == 0;
	int c;

	if (xo != yo)
		return xo - yo;
	if ((c = strcmp(x->category, y->category)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* "GET, POST" for the handshakes, "-" for none. */
static void
handshakes_str(const struct integ *ig, char *out, size_t len)
{
	out[0] = '\0';
	if (ig->nhs == 0) {
		str_copy(out, "-", len);
		return;
	}
	snprintf(out, len, "%s%s%s", ig->hs_methods & HS_GET ? "GET" : "",
	    ig->hs_methods & HS_POST ? (ig->hs_methods & HS_GET ? ",POST" :
	    "POST") : "", ig->hs_methods & HS_HEAD ? (ig->hs_methods &
	    (HS_GET | HS_POST) ? ",HEAD" : "HEAD") : "");
}

static int
integration_list(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const struct integ **sorted;
	struct table t;
	char **args, modes[128], nev[16], hs[32];
	const char *last = "";
	json_t *a;
	int i, rc;

	if ((rc = opt_parse(ctx, c, argc, argv, NULL, &args)) != OPT_CONTINUE)
		return rc;
	if ((rc = ctx_open(ctx, 1)) != 0)
		return rc;
	if ((sorted = calloc((size_t)ctx->integs.n + 1, sizeof(*sorted))) ==
	    NULL)
		return fail("out of memory");
	for (i = 0; i < ctx->integs.n; i++)
		sorted[i] = &ctx->integs.v[i];
	qsort(sorted, (size_t)ctx->integs.n, sizeof(*sorted), by_category);
	if (ctx->json) {
		a = json_array();
		for (i = 0; i < ctx->integs.n; i++)
			json_array_append_new(a, integ_json(sorted[i]));
		free(sorted);
		return json_print(a);
	}
	table_init(&t, 7, "CATEGORY", "NAME", "TITLE", "SCHEME", "EVENTS",
	    "MODES", "HANDSHAKES");
	for (i = 0; i < ctx->integs.n; i++) {
		const struct integ *ig = sorted[i];

		modes_str(ig, modes, sizeof(modes));
		snprintf(nev, sizeof(nev), "%zu", json_array_size(ig->events));
		handshakes_str(ig, hs, sizeof(hs));
		/* The category once, at the head of its group. */
		table_row(&t, strcmp(last, ig->category) ? ig->category : "",
		    ig->name, ig->title, ig->scheme, nev, modes, hs);
		last = ig->category;
	}
	table_print(&t, stdout);
	table_free(&t);
	free(sorted);
	if (ctx->integs.n == 0)
		warnmsg("no integration definitions in %s or %s",
		    ctx->cfg.integrations_dir, ctx->cfg.user_integrations_dir);
	return EXIT_OK;
}

/* A definition's value as compact JSON, for a "label: value" line. */
static void
json_field(const char *label, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	print_field(stdout, label, 14, s ? s : "-");
	free(s);
}

static void
show_setup(const struct integ *ig)
{
	json_t *o = setup_json(ig);
	const char *where = json_string_value(json_object_get(o, "where"));
	const char *url = json_string_value(json_object_get(o,
	    "callback_url"));
	const char *sec = json_string_value(json_object_get(o, "secret"));
	const char *field = json_string_value(json_object_get(o,
	    "secret_field"));
	const char *docs = json_string_value(json_object_get(o, "docs"));
	const char *notes = json_string_value(json_object_get(o, "notes"));
	char line[1200];
	int step = 1;

	printf("\nsecret:        made by %s\n", sec != NULL &&
	    strcmp(sec, "provider") == 0 ? "the provider: paste it into "
	    "hookpipe ('sub edit NAME --secret-file F')" : "hookpipe "
	    "('sub create --generate-secret'): paste it into the provider");
	printf("\nsetup:\n");
	snprintf(line, sizeof(line), "  %d. Create the subscription; it prints "
	    "the callback URL%s:", step++, sec && strcmp(sec, "hookpipe") ==
	    0 ? " and the secret" : "");
	print_safe(stdout, line);
	printf("\n       ");
	print_safe(stdout, json_string_value(json_object_get(o, "command")));
	printf("\n");
	if (where != NULL) {
		snprintf(line, sizeof(line), "  %d. In %s: %s.", step++,
		    ig->title, where);
		print_safe(stdout, line);
		printf("\n");
	}
	snprintf(line, sizeof(line), "  %d. Paste the callback URL into %s.",
	    step++, url ? url : "the provider's webhook URL field");
	print_safe(stdout, line);
	printf("\n");
	line[0] = '\0';
	if (sec != NULL && strcmp(sec, "hookpipe") == 0)
		snprintf(line, sizeof(line), "  %d. Paste the secret hookpipe "
		    "printed into %s.", step++, field ? field :
		    "the provider's secret field");
	else if (sec == NULL || strcmp(sec, "provider") == 0)
		snprintf(line, sizeof(line), "  %d. %s makes the secret (%s): "
		    "save it in FILE and give it to hookpipe:", step++,
		    ig->title, field ? field : "its signing secret");
	if (line[0] != '\0') {
		print_safe(stdout, line);
		printf("\n");
	}
	if (json_object_get(o, "secret_command") != NULL) {
		printf("       ");
		print_safe(stdout, json_string_value(json_object_get(o,
		    "secret_command")));
		printf("\n");
	}
	if (notes != NULL) {
		printf("  ");
		print_safe(stdout, notes);
		printf("\n");
	}
	if (docs != NULL) {
		printf("  docs: ");
		print_safe(stdout, docs);
		printf("\n");
	}
	json_decref(o);
}

static void
show_text(const struct integ *ig)
{
	json_t *out = json_object_get(ig->def, "output"), *v;
	struct table t;
	char modes[128], hs[800];
	struct buf b = { 0 };
	size_t i;
	int j;

	modes_str(ig, modes, sizeof(modes));
	print_field(stdout, "name", 14, ig->name);
	print_field(stdout, "title", 14, ig->title);
	print_field(stdout, "category", 14, ig->category);
	print_field(stdout, "scheme", 14, ig->scheme);
	print_field(stdout, "modes", 14, modes);
	print_field(stdout, "file", 14, ig->path);
	json_field("event type", json_object_get(ig->def, "event_type"));
	json_field("delivery id", json_object_get(ig->def, "delivery_id"));
	json_array_foreach(ig->read_headers, i, v)
		buf_appendf(&b, "%s%s", i ? ", " : "", json_string_value(v));
	print_field(stdout, "reads headers", 14, b.data ? b.data : "-");
	buf_free(&b);
	if (ig->crypt.on) {
		char enc[400];

		snprintf(enc, sizeof(enc), "%s, aes-256-cbc, key: the "
		    "subscription's %s%s", ig->crypt.field, strcmp(ig->crypt.key,
		    "secret") == 0 ? "secret" : ig->crypt.key + 6,
		    ig->crypt.key_sha256 ? " (its SHA-256)" : "");
		print_field(stdout, "encrypted", 14, enc);
	}
	printf("\nhandshakes:\n");
	if (ig->nhs == 0)
		printf("  none\n");
	for (j = 0; j < ig->nhs; j++) {
		handshake_str(&ig->hs[j], hs, sizeof(hs));
		printf("  ");
		print_safe(stdout, hs);
		printf("\n");
	}
	if (ig->sub_params != NULL) {
		printf("\nsubscription params (--param NAME=VALUE):\n");
		table_init(&t, 3, "  NAME", "REQUIRED", "DESCRIPTION");
		json_array_foreach(ig->sub_params, i, v) {
			char name[300];

			snprintf(name, sizeof(name), "  %s",
			    json_string_value(json_object_get(v, "name")));
			table_row(&t, name, json_is_true(json_object_get(v,
			    "required")) ? "yes" : "no", json_string_value(
			    json_object_get(v, "description")));
		}
		table_print(&t, stdout);
		table_free(&t);
	}
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
	show_setup(ig);
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
