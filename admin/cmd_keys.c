/*
 * hookpipe sub refresh-keys SUB | --due
 *
 * A jwt integration that names a jwks_url verifies with the sender's
 * published keys. The verifier has no network, so the keys are fetched
 * here (at sub create and sub edit, and on demand) and by the
 * dispatcher, which runs `hookpipe sub refresh-keys --due` on a timer,
 * into $HOOKPIPE_HOME/cache/jwks/ (common/jwks.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "jwks.h"
#include "util.h"

/* The URL to fetch for an integration, or NULL: a jwks_file wins. */
static const char *
keys_url(const struct integ *ig)
{
	if (ig->sc.id != SCHEME_JWT || ig->sc.jwks_path != NULL)
		return NULL;
	return json_string_value(json_object_get(ig->params, "jwks_url"));
}

int
sub_keys_fetch(struct ctx *ctx, const struct integ *ig, int must)
{
	const char *url = keys_url(ig);
	char err[1024];
	int n;

	if (url == NULL) {
		if (must)
			return fail("integration %s fetches no keys (no "
			    "jwks_url, or a jwks_file)", ig->name);
		return 0;
	}
	if ((n = jwks_fetch(ctx->cfg.home, url, err, sizeof(err))) < 0) {
		if (must)
			return fail("cannot fetch the keys: %s", err);
		warnmsg("cannot fetch the keys of %s: %s; deliveries are "
		    "answered 503 until 'hookpipe sub refresh-keys' succeeds",
		    ig->name, err);
		return 0;
	}
	if (must && !ctx->json)
		printf("fetched %d key%s from %s\n", n, n == 1 ? "" : "s", url);
	else if (must)
		json_print(json_pack("{s:s, s:i}", "url", url, "keys", n));
	return 0;
}

/* Every cache file whose next_at has come: fetch its URL again. */
static int
refresh_due(struct ctx *ctx)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 320], err[1024];
	struct dirent *de;
	int64_t now = now_us() / 1000000;
	int failed = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/cache/jwks", ctx->cfg.home);
	if ((d = opendir(dir)) == NULL)
		return EXIT_OK;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		const char *url;
		json_t *doc;

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((doc = json_load_file(path, 0, NULL)) == NULL)
			continue;
		url = json_string_value(json_object_get(doc, "url"));
		if (url != NULL && json_integer_value(json_object_get(doc,
		    "next_at")) <= now && jwks_fetch(ctx->cfg.home, url, err,
		    sizeof(err)) < 0) {
			/* Try again after JWKS_MIN_S, with the keys we have. */
			errmsg("cannot refresh the keys: %s", err);
			jwks_cache_write(ctx->cfg.home, url,
			    json_object_get(doc, "jwks"), now, JWKS_MIN_S, err,
			    sizeof(err));
			failed = 1;
		}
		json_decref(doc);
	}
	closedir(d);
	return failed ? EXIT_FAIL : EXIT_OK;
}

int
sub_refresh_keys(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int due = 0, rc;
	const struct opt opts[] = {
		{ "due", OPT_FLAG, &due },
		{ NULL, 0, NULL }
	};
	const struct integ *ig;
	struct sub_rec s;
	MDB_txn *txn;
	char **args;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (due && args[0] != NULL)
		return usage_error(ctx, "give SUB or --due, not both");
	if (due)
		return refresh_due(ctx);
	if (args[0] == NULL)
		return usage_error(ctx, "missing SUB (or --due)");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	rc = sub_lookup(ctx, txn, args[0], &s);
	mdb_txn_abort(txn);
	if (rc != 0)
		return rc;
	if ((ig = integ_find(&ctx->integs, s.integration)) == NULL)
		return fail("integration %s is not loaded", s.integration);
	return sub_keys_fetch(ctx, ig, 1);
}
