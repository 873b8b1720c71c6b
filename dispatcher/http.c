/*
 * The http and dify actions, on libcurl's multi interface. curl tells us
 * which sockets to watch (socket callback) and when to call it back
 * (timer callback); the dispatcher folds both into its zmq_poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <jansson.h>

#include "dispatch.h"

static void finish(void *ctx, void *arg, CURL *e, CURLcode res);

int
http_init(struct httpc *h)
{
	return httpc_init(h, finish, h);
}

static size_t
on_body(char *p, size_t size, size_t n, void *userp)
{
	struct job *j = userp;
	size_t len = size * n, room = OUTPUT_MAX > j->out.len ?
	    OUTPUT_MAX - j->out.len : 0;

	if (room > 0)
		buf_append(&j->out, p, len < room ? len : room);
	return len;
}

int
http_start(struct httpc *h, struct job *j, const char *url,
    const char *headers, const char *bearer, const char *body,
    int64_t timeout_ms)
{
	struct curl_slist *hl = NULL;
	char line[1024];
	CURL *e;

	if ((e = curl_easy_init()) == NULL) {
		snprintf(j->error, sizeof(j->error), "cannot create a curl "
		    "handle");
		return -1;
	}
	hl = curl_slist_append(hl, "Content-Type: application/json");
	snprintf(line, sizeof(line), "Idempotency-Key: %s", j->run_id);
	hl = curl_slist_append(hl, line);
	hl = curl_slist_append(hl, "Expect:");
	if (bearer != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
		    bearer);
		hl = curl_slist_append(hl, line);
		OPENSSL_cleanse(line, sizeof(line));
	}
	for (const char *p = headers; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (n > 0 && n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			hl = curl_slist_append(hl, line);
		}
		p += n + (p[n] == '\n');
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	if (httpc_add(h, e) == -1) {
		snprintf(j->error, sizeof(j->error), "cannot start the request");
		curl_slist_free_all(hl);
		curl_easy_cleanup(e);
		return -1;
	}
	j->easy = e;
	j->hdrs = hl;
	j->deadline_ms = INT64_MAX;	/* curl enforces the timeout */
	return 0;
}

/* Dify answers 200 even when the workflow failed: read data.status. */
static void
dify_check(struct job *j)
{
	json_t *doc = json_loadb(j->out.data ? j->out.data : "", j->out.len, 0,
	    NULL);
	const char *st = json_string_value(json_object_get(json_object_get(doc,
	    "data"), "status"));
	const char *err = json_string_value(json_object_get(json_object_get(
	    doc, "data"), "error"));

	if (st != NULL && strcmp(st, "succeeded") != 0) {
		j->ok = 0;
		snprintf(j->error, sizeof(j->error), "Dify workflow %s%s%s",
		    st, err ? ": " : "", err ? err : "");
	}
	json_decref(doc);
}

static void
finish(void *ctx, void *arg, CURL *e, CURLcode res)
{
	struct httpc *h = ctx;
	struct job *j = arg;
	long status = 0;
	curl_off_t ra = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	j->http_status = status;
	j->exit_code = -1;
	j->done = 1;
	if (res != CURLE_OK) {
		snprintf(j->error, sizeof(j->error), "%s",
		    curl_easy_strerror(res));
	} else if (status >= 200 && status < 300) {
		j->ok = 1;
		if (j->dify)
			dify_check(j);
	} else {
		snprintf(j->error, sizeof(j->error), "HTTP %ld", status);
		/* 408, 429 and 5xx may pass later; other answers will not. */
		j->no_retry = status != 408 && status != 429 && status < 500;
		/* Seconds, or an HTTP-date made seconds from now, by libcurl:
		 * 0 when absent, unparseable or too big for it. A server may
		 * slow its retries down, not stop them: at most a day. */
		if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) ==
		    CURLE_OK && ra > 0)
			j->retry_after_ms = (ra < RETRY_AFTER_MAX_S ?
			    (int64_t)ra : RETRY_AFTER_MAX_S) * 1000;
	}
	http_abort(h, j);
}

void
http_abort(struct httpc *h, struct job *j)
{
	if (j->easy == NULL)
		return;
	httpc_remove(h, j->easy);
	curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->hdrs);
	j->easy = NULL;
	j->hdrs = NULL;
}
