/*
 * The api block's templates and checks (common/integ_api.c): filters,
 * durations, provider times, and definitions refused at load.
 */
#include <stdlib.h>
#include <string.h>

#include "integ_api.h"
#include "t.h"

static const char *
var(void *arg, const char *name, char *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	if (strcmp(name, "project") == 0)
		return "acme/app";
	if (strcmp(name, "events") == 0)
		return "created,updated";
	if (strcmp(name, "token") == 0)
		return "me/token:k";
	return NULL;
}

static json_t *
list(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "events") == 0 ? json_pack("[s, s]", "created",
	    "updated") : NULL;
}

static int
check_def(const char *text, char *err, size_t len)
{
	struct integ ig;
	json_t *def = json_loads(text, 0, NULL);
	int rc;

	memset(&ig, 0, sizeof(ig));
	rc = integ_api_check(&ig, def, "t.json", err, len);
	json_decref(def);
	return rc;
}

int
main(void)
{
	char err[512];
	int64_t v;
	json_t *j, *out;
	char *s;
	int missing = 0;

	s = api_expand("{api}/projects/{project|url}/hooks", var, NULL,
	    &missing);
	CHECK(missing == 1);	/* {api} has no value here */
	CHECK(strcmp(s, "{api}/projects/acme%2Fapp/hooks") == 0);
	free(s);
	missing = 0;
	s = api_expand("Basic {token|base64}", var, NULL, &missing);
	CHECK(missing == 0 && strcmp(s, "Basic bWUvdG9rZW46aw==") == 0);
	free(s);
	s = api_expand("{nope|rot13}", var, NULL, &missing);
	CHECK(missing == 1);
	free(s);

	/* {events} alone is the list; {events|text} is "a,b". */
	missing = 0;
	j = json_pack("{s:s, s:s}", "a", "{events}", "b", "{events|text}");
	out = api_fill(j, var, list, NULL, &missing);
	CHECK(json_is_array(json_object_get(out, "a")) &&
	    json_array_size(json_object_get(out, "a")) == 2);
	CHECK(strcmp(json_string_value(json_object_get(out, "b")),
	    "created,updated") == 0);
	json_decref(j);
	json_decref(out);

	CHECK(api_duration("90s", &v) == 0 && v == 90);
	CHECK(api_duration("24h", &v) == 0 && v == 86400);
	CHECK(api_duration("1h30m", &v) == 0 && v == 5400);
	CHECK(api_duration("7d", &v) == 0 && v == 604800);
	CHECK(api_duration("soon", &v) == -1);

	j = json_string("2026-01-02T03:04:05Z");
	CHECK(api_time(j, &v) == 0 && v == 1767323045LL * 1000000);
	json_decref(j);
	j = json_string("1767323045000");	/* Google: ms as text */
	CHECK(api_time(j, &v) == 0 && v == 1767323045LL * 1000000);
	json_decref(j);
	j = json_integer(1767323045);
	CHECK(api_time(j, &v) == 0 && v == 1767323045LL * 1000000);
	json_decref(j);

	CHECK(check_def("{\"api\": {\"create\": {\"method\": \"POST\", "
	    "\"url\": \"{api}/x\", \"id\": \"/id\"}, \"delete\": {\"method\": "
	    "\"POST\", \"url\": \"{api}/g\", \"missing_if\": "
	    "{\"/errors/0/message\": \"Entity not found\"}}}}", err,
	    sizeof(err)) == 0);
	CHECK(check_def("{\"api\": {\"create\": {\"method\": \"FETCH\", "
	    "\"url\": \"{api}/x\"}}}", err, sizeof(err)) == -1 &&
	    strstr(err, "t.json") != NULL);
	CHECK(check_def("{\"api\": {\"create\": {\"method\": \"POST\", "
	    "\"url\": \"{api}/x\", \"bogus\": 1}}}", err, sizeof(err)) == -1 &&
	    strstr(err, "bogus") != NULL);
	CHECK(check_def("{\"api\": {\"delete\": {\"method\": \"DELETE\", "
	    "\"url\": \"{api}/x\"}}}", err, sizeof(err)) == -1);
	CHECK(check_def("{\"oauth\": {\"token_url\": \"{web}/t\"}}", err,
	    sizeof(err)) == -1);

	/* An enrich call's "when": a name, a list, or every event. */
	j = json_pack("{s:s}", "when", "batch");
	CHECK(api_enrich_applies(j, "batch.completed") == 1);
	CHECK(api_enrich_applies(j, "batches.x") == 0);
	CHECK(api_enrich_applies(j, "response.completed") == 0);
	json_decref(j);
	j = json_pack("{s:[s,s]}", "when", "response", "fine_tuning.job");
	CHECK(api_enrich_applies(j, "fine_tuning.job.failed") == 1);
	CHECK(api_enrich_applies(j, "eval.run.failed") == 0);
	json_decref(j);
	j = json_object();
	CHECK(api_enrich_applies(j, "ping") == 1);
	json_decref(j);
	return t_done("test_integ_api");
}
