/*
 * hookpipe console [--user NAME]
 *
 * Prints a one-time login link to the console that the admin stage
 * serves on HOOKPIPE_ADMIN_LISTEN. The link carries a random token whose
 * SHA-256 this command stores (the config part's logins table) for
 * LOGIN_TTL_S; the admin stage takes it once and opens a session. The
 * API token, admin.token, is made here on first use too.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "admin_token.h"
#include "stage.h"
#include "util.h"

/* The address a browser on this machine uses for the admin listener. */
void
console_base_url(const struct config *cfg, char *out, size_t len)
{
	const char *h = cfg->admin_host;

	if (strcmp(h, "0.0.0.0") == 0 || h[0] == '\0')
		h = "127.0.0.1";
	else if (strcmp(h, "::") == 0)
		h = "::1";
	snprintf(out, len, strchr(h, ':') != NULL ? "http://[%s]:%d" :
	    "http://%s:%d", h, cfg->admin_port);
}

static const char *
login_name(const char *given)
{
	struct passwd *pw;
	const char *u;

	if (given != NULL)
		return given;
	if ((u = getenv("USER")) != NULL && name_valid(u))
		return u;
	if ((pw = getpwuid(getuid())) != NULL && name_valid(pw->pw_name))
		return pw->pw_name;
	return "admin";
}

int
cmd_console(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *user = NULL, *who;
	const struct opt opts[] = {
		{ "user", OPT_STR, &user },
		{ NULL, 0, NULL }
	};
	unsigned char raw[32], digest[32];
	char token[65], api[ADMIN_TOKEN_LEN + 1], base[300], err[512];
	char url[512];
	int64_t expires;
	MDB_txn *txn;
	char **args;
	int rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (user != NULL && !name_valid(user))
		return usage_error(ctx, "--user: use letters, digits, '.', "
		    "'_' or '-'");
	who = login_name(user);
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	if (admin_token(&ctx->cfg, api, err, sizeof(err)) == -1)
		return fail("%s", err);
	OPENSSL_cleanse(api, sizeof(api));
	crypto_random(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), token);
	sha256(token, strlen(token), digest);
	OPENSSL_cleanse(raw, sizeof(raw));
	expires = now_us() + (int64_t)LOGIN_TTL_S * 1000000;
	if ((txn = txn_write(ctx, DB_CONFIG)) == NULL)
		return EXIT_FAIL;
	if ((rc = db_login_put(txn, &ctx->db, digest, who, expires)) != 0) {
		mdb_txn_abort(txn);
		return db_error(rc);
	}
	if ((rc = txn_commit(txn)) != 0)
		return rc;
	console_base_url(&ctx->cfg, base, sizeof(base));
	snprintf(url, sizeof(url), "%s/login?t=%s", base, token);
	OPENSSL_cleanse(token, sizeof(token));
	if (!stage_is_up(&ctx->cfg, "admin"))
		warnmsg("the admin stage is not running: start it with "
		    "'hookpipectl start'");
	if (ctx->json) {
		rc = json_print(json_pack("{s:s,s:s,s:o}", "url", url, "user",
		    who, "expires_at", json_time(expires)));
		OPENSSL_cleanse(url, sizeof(url));
		return rc;
	}
	printf("Open this link in a browser on this machine within %d "
	    "minutes; it logs %s in once:\n\n  %s\n", LOGIN_TTL_S / 60, who,
	    url);
	OPENSSL_cleanse(url, sizeof(url));
	return EXIT_OK;
}
