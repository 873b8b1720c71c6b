#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "integ.h"
#include "t.h"

static int warnings;
static char last_warning[1024];

static void
warn(const char *msg)
{
	warnings++;
	snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

static void	secret_checks(void);

int
main(void)
{
	struct integ ig;
	static struct integ_set set;
	struct config cfg;
	char err[1024], dir[] = "/tmp/hpiXXXXXX", path[256];
	json_t *doc;
	FILE *f;

	/* The shipped OpenAI definition. */
	CHECK(integ_load_file(&ig, "integrations/openai.json", err,
	    sizeof(err)) == 0);
	CHECK(strcmp(ig.scheme, "standard-webhooks") == 0);
	CHECK(json_array_size(ig.events) == 16);
	CHECK(integ_has_event(&ig, "batch.completed"));
	CHECK(integ_has_event(&ig, "live.call.incoming"));
	CHECK(!integ_has_event(&ig, "nope"));
	CHECK(ig.event_type.v[0].kind == SRC_BODY &&
	    strcmp(ig.event_type.v[0].where, "/type") == 0);
	CHECK(ig.delivery_id.v[0].kind == SRC_HEADER &&
	    strcmp(ig.delivery_id.v[0].where, "webhook-id") == 0);
	CHECK(integ_has_mode(&ig, "manual"));
	/* The headers it reads: the signature's three. */
	CHECK(json_array_size(ig.sig_headers) == 3);
	CHECK(integ_reads_header(&ig, "webhook-signature"));
	CHECK(integ_reads_header(&ig, "webhook-id"));
	CHECK(!integ_reads_header(&ig, "content-type"));
	json_decref(ig.def);

	/* GitHub's: the signature, the event and the delivery headers. */
	CHECK(integ_load_file(&ig, "integrations/github.json", err,
	    sizeof(err)) == 0);
	CHECK(json_array_size(ig.sig_headers) == 1);
	CHECK(integ_reads_header(&ig, "x-hub-signature-256"));
	CHECK(integ_reads_header(&ig, "x-github-event"));
	CHECK(integ_reads_header(&ig, "x-github-delivery"));
	json_decref(ig.def);

	/* hmac: its params name them, {header:NAME} included. */
	CHECK(integ_load_string(&ig, "{\"name\":\"x\",\"scheme\":\"hmac\","
	    "\"params\":{\"header\":\"X-Sig\",\"timestamp_header\":\"X-Ts\","
	    "\"signed\":\"{timestamp}.{header:X-Nonce}.{body}\"},"
	    "\"event_type\":\"header:X-Event\",\"delivery_id\":\"none\","
	    "\"events\":[]}", "x.json", err, sizeof(err)) == 0);
	CHECK(json_array_size(ig.sig_headers) == 3);
	CHECK(integ_reads_header(&ig, "x-nonce"));
	CHECK(integ_reads_header(&ig, "x-event"));
	CHECK(integ_reads_header(&ig, "x-ts"));
	json_decref(ig.def);

	/* Syntax errors carry file:line:column. */
	CHECK(integ_load_string(&ig, "{\n\"name\": \"x\",\n oops}", "x.json",
	    err, sizeof(err)) == -1);
	CHECK(strncmp(err, "x.json:3:", 9) == 0);
	/* Semantic errors carry the JSON pointer. */
	CHECK(integ_load_string(&ig, "{\"name\":\"x\",\"scheme\":\"rot13\"}",
	    "x.json", err, sizeof(err)) == -1 &&
	    strstr(err, "/scheme") != NULL);
	CHECK(integ_load_string(&ig, "{\"name\":\"x\",\"scheme\":\"github\","
	    "\"event_type\":\"header:X-GitHub-Event\",\"delivery_id\":\"none\","
	    "\"events\":[{\"name\":\"push\"}]}", "x.json", err,
	    sizeof(err)) == -1 && strstr(err, "/events/0/description") != NULL);
	CHECK(integ_load_string(&ig, "{\"name\":\"x\",\"scheme\":\"hmac\","
	    "\"event_type\":\"header:X-Event\",\"delivery_id\":\"none\","
	    "\"events\":[]}", "x.json", err, sizeof(err)) == -1 &&
	    strstr(err, "/params/header") != NULL);
	CHECK(integ_load_string(&ig, "[]", "x.json", err, sizeof(err)) == -1);
	CHECK(integ_load_string(&ig, "{\"name\":\"x\",\"name\":\"y\"}",
	    "x.json", err, sizeof(err)) == -1);

	/* JSON pointers. */
	doc = json_loads("{\"a\":{\"b/c\":[1,{\"d~e\":\"x\"}]}}", 0, NULL);
	CHECK(json_integer_value(json_pointer_get(doc, "/a/b~1c/0")) == 1);
	CHECK(strcmp(json_string_value(json_pointer_get(doc,
	    "/a/b~1c/1/d~0e")), "x") == 0);
	CHECK(json_pointer_get(doc, "/a/missing") == NULL);
	CHECK(json_pointer_get(doc, "/a/b~1c/9") == NULL);
	CHECK(json_pointer_get(doc, "a") == NULL);
	CHECK(json_pointer_get(doc, "/a/b~2c") == NULL);
	json_decref(doc);

	/* A user directory adds and overrides; a broken file is skipped. */
	CHECK(mkdtemp(dir) != NULL);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.integrations_dir, sizeof(cfg.integrations_dir),
	    "integrations");
	snprintf(cfg.user_integrations_dir,
	    sizeof(cfg.user_integrations_dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/broken.json", dir);
	f = fopen(path, "w");
	fputs("{\"name\": \"broken\",\n\"scheme\": \n}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/openai.json", dir);
	f = fopen(path, "w");
	fputs("{\"name\":\"openai\",\"title\":\"Mine\",\"scheme\":"
	    "\"standard-webhooks\",\"event_type\":\"body:/type\","
	    "\"delivery_id\":\"header:webhook-id\",\"events\":[]}", f);
	fclose(f);
	integ_load_all(&set, &cfg, warn);
	CHECK(set.errors == 1 && warnings == 1);
	CHECK(strstr(last_warning, "broken.json:3:") != NULL);
	CHECK(integ_find(&set, "openai") != NULL &&
	    strcmp(integ_find(&set, "openai")->title, "Mine") == 0);
	CHECK(integ_find(&set, "broken") == NULL);
	integ_free_all(&set);
	unlink(path);
	snprintf(path, sizeof(path), "%s/broken.json", dir);
	unlink(path);
	rmdir(dir);

	/* A stage's copy keeps what it reads: the events' names, not what
	 * only people read; a definition derived from it still checks. */
	{
		static struct integ_set st;
		struct integ d;
		const struct integ *gh, *wh;

		st.slim = 1;
		snprintf(cfg.user_integrations_dir,
		    sizeof(cfg.user_integrations_dir), "%s/none", dir);
		integ_load_all(&st, &cfg, warn);
		CHECK(st.n >= 40 && st.errors == 0);
		CHECK((gh = integ_find(&st, "github")) != NULL);
		CHECK(integ_has_event(gh, "pull_request") &&
		    !integ_has_event(gh, "nope"));
		CHECK(strcmp(json_string_value(json_object_get(json_array_get(
		    gh->events, 0), "description")), "") == 0);
		CHECK(gh->setup == NULL && json_object_get(gh->def,
		    "output") == NULL && json_object_get(gh->def,
		    "setup") == NULL);
		CHECK(integ_reads_header(gh, "x-hub-signature-256"));
		CHECK((wh = integ_find(&st, "webhook")) != NULL);
		CHECK_MSG(integ_derive(wh, "header=X-Signature\n", &d, err,
		    sizeof(err)) == 0, "%s", err);
		CHECK(integ_reads_header(&d, "x-signature"));
		json_decref(d.def);
		/* The CLI's copy keeps them. */
		CHECK(integ_load_file(&ig, "integrations/github.json", err,
		    sizeof(err)) == 0 && ig.setup != NULL &&
		    json_object_get(ig.def, "output") != NULL);
		json_decref(ig.def);
		integ_free_all(&st);
	}
	secret_checks();
	/* Definitions that contradict themselves are refused at load. */
	{
		static const struct {
			const char	*params;
			const char	*says;
		} bad[] = {
			{ "{\"header\":\"X-S\",\"signed\":\"{timestamp.{body}\"}",
			    "not closed" },
			{ "{\"header\":\"X-S\",\"signed\":\"{nonce}.{body}\"}",
			    "unknown placeholder {nonce}" },
			{ "{\"header\":\"X-S\",\"signed\":\"{body}.{body}.{body}."
			    "{body}.{body}.{body}.{body}.{body}.{body}\"}",
			    "at most 16" },
			{ "{\"header\":\"X-S\",\"timestamp_header\":\"X-T\"}",
			    "the timestamp is not signed" },
		};
		char def[1024];
		int has_ts;
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			snprintf(def, sizeof(def), "{\"name\":\"x\",\"scheme\":"
			    "\"hmac\",\"params\":%s,\"event_type\":\"header:X-E\","
			    "\"delivery_id\":\"none\",\"events\":[]}",
			    bad[k].params);
			CHECK_MSG(integ_load_string(&ig, def, "x.json", err,
			    sizeof(err)) == -1 && strstr(err, bad[k].says) !=
			    NULL, "%s: %s", bad[k].says, err);
		}
		CHECK(integ_tpl_check("{timestamp}.{header:X-N}.{body}", &has_ts,
		    err, sizeof(err)) == 5 && has_ts);
		CHECK(integ_tpl_check("v0:{body}", &has_ts, err,
		    sizeof(err)) == 2 && !has_ts);
	}

	return t_done("test_integ");
}

/* The base64 of n bytes after a prefix, and integ_secret_check on it. */
static int
check_b64(const struct integ *ig, const char *prefix, size_t n, char *why,
    size_t whylen)
{
	unsigned char raw[80];
	char s[160];
	size_t pl = strlen(prefix);

	memset(raw, 0xa5, sizeof(raw));
	memcpy(s, prefix, pl);
	b64_encode(raw, n, s + pl);
	return integ_secret_check(ig, s, strlen(s), why, whylen);
}

/*
 * Secrets that fit the scheme: for Standard Webhooks a whsec_ key of 24
 * to 64 bytes, a whpk_ key of exactly 32 (an Ed25519 public key), or
 * other text; a whpk_ or whsec_ text that does not decode is refused.
 */
static void
secret_checks(void)
{
	struct integ sw, gh;
	char err[1024], why[512];

	CHECK(integ_load_file(&sw, "integrations/openai.json", err,
	    sizeof(err)) == 0);
	CHECK(integ_load_file(&gh, "integrations/github.json", err,
	    sizeof(err)) == 0);
	CHECK(check_b64(&sw, "whsec_", 24, why, sizeof(why)) == 0);
	CHECK(check_b64(&sw, "whsec_", 32, why, sizeof(why)) == 0);
	CHECK(check_b64(&sw, "whsec_", 64, why, sizeof(why)) == 0);
	CHECK(check_b64(&sw, "whsec_", 16, why, sizeof(why)) == -1 &&
	    strstr(why, "whsec_") != NULL && strstr(why, "16 bytes") != NULL);
	CHECK(check_b64(&sw, "whsec_", 65, why, sizeof(why)) == -1);
	CHECK(check_b64(&sw, "whpk_", 32, why, sizeof(why)) == 0);
	CHECK(check_b64(&sw, "whpk_", 31, why, sizeof(why)) == -1 &&
	    strstr(why, "whpk_") != NULL && strstr(why, "whsec_") != NULL &&
	    strstr(why, "31 bytes") != NULL);
	CHECK(check_b64(&sw, "whpk_", 48, why, sizeof(why)) == -1);
	CHECK(integ_secret_check(&sw, "whpk_not base64!", 16, why,
	    sizeof(why)) == -1 && strstr(why, "not valid base64") != NULL);
	CHECK(integ_secret_check(&sw, "whsec_abc", 9, why, sizeof(why)) == -1 &&
	    strstr(why, "not valid base64") != NULL);
	CHECK(integ_secret_check(&sw, "whpk_", 5, why, sizeof(why)) == -1);
	/* Other text is raw HMAC bytes, as OpenAI's SDKs use it. */
	CHECK(integ_secret_check(&sw, "It's a Secret", 13, why,
	    sizeof(why)) == 0);
	CHECK(integ_secret_check(&sw, "wh", 2, why, sizeof(why)) == 0);
	CHECK(integ_secret_check(&sw, "", 0, why, sizeof(why)) == -1);
	CHECK(integ_secret_check(&sw, "a\x1b[2Jb", 6, why, sizeof(why)) ==
	    -1 && strstr(why, "0x1b") != NULL);
	/* GitHub (and Stripe, Slack, hmac): any printable text. */
	CHECK(integ_secret_check(&gh, "whpk_abc", 8, why, sizeof(why)) == 0);
	CHECK(integ_secret_check(&gh, "It's a Secret to Everybody", 26, why,
	    sizeof(why)) == 0);
	CHECK(integ_secret_check(&gh, "tab\there", 8, why, sizeof(why)) == -1);
	CHECK(integ_secret_check(&gh, "del\x7f", 4, why, sizeof(why)) == -1);
	CHECK(integ_secret_check(&gh, "", 0, why, sizeof(why)) == -1);
	json_decref(sw.def);
	json_decref(gh.def);
}
