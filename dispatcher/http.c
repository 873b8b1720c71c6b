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
#include <zmq.h>

#include "dispatch.h"

static int
on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct http *h = userp;
	int i;

	(void)e;
	(void)sockp;
	for (i = 0; i < h->nsocks; i++)
		if (h->socks[i].fd == (int)s)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < h->nsocks)
			h->socks[i] = h->socks[--h->nsocks];
		return 0;
	}
	if (i == h->nsocks) {
		if (h->nsocks == HTTP_SOCKS_MAX)
			return -1;
		h->nsocks++;
	}
	h->socks[i].fd = (int)s;
	h->socks[i].what = what;
	return 0;
}

static int
on_timer(CURLM *m, long ms, void *userp)
{
	struct http *h = userp;

	(void)m;
	h->timer_ms = ms < 0 ? -1 : mono_ms() + ms;
	return 0;
}

int
http_init(struct http *h)
{
	memset(h, 0, sizeof(*h));
	h->timer_ms = -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h->multi = curl_multi_init()) == NULL)
		return -1;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	return 0;
}

void
http_cleanup(struct http *h)
{
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	h->multi = NULL;
	curl_global_cleanup();
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
http_start(struct http *h, struct job *j, const char *url,
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
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
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

int
http_poll_items(struct http *h, void *zitems, int max)
{
	zmq_pollitem_t *items = zitems;
	int i, n = 0;

	for (i = 0; i < h->nsocks && n < max; i++) {
		short ev = 0;

		if (h->socks[i].what & CURL_POLL_IN)
			ev |= ZMQ_POLLIN;
		if (h->socks[i].what & CURL_POLL_OUT)
			ev |= ZMQ_POLLOUT;
		items[n++] = (zmq_pollitem_t){ NULL, h->socks[i].fd, ev, 0 };
	}
	return n;
}

void
http_ready(struct http *h, int fd, int revents)
{
	int running, ev = 0;

	if (revents & ZMQ_POLLIN)
		ev |= CURL_CSELECT_IN;
	if (revents & ZMQ_POLLOUT)
		ev |= CURL_CSELECT_OUT;
	if (revents & ZMQ_POLLERR)
		ev |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, ev, &running);
}

int64_t
http_timeout(struct http *h)
{
	int64_t left;

	if (h->timer_ms < 0)
		return -1;
	left = h->timer_ms - mono_ms();
	return left < 0 ? 0 : left;
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
finish(struct http *h, struct job *j, CURLcode res)
{
	CURL *e = j->easy;
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
		if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) ==
		    CURLE_OK && ra > 0)
			j->retry_after_ms = (int64_t)ra * 1000;
	}
	http_abort(h, j);
}

void
http_run(struct http *h)
{
	CURLMsg *m;
	int running, left;

	if (h->timer_ms >= 0 && mono_ms() >= h->timer_ms) {
		h->timer_ms = -1;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct job *j = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j != NULL)
			finish(h, j, m->data.result);
	}
}

void
http_abort(struct http *h, struct job *j)
{
	if (j->easy == NULL)
		return;
	curl_multi_remove_handle(h->multi, j->easy);
	curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->hdrs);
	j->easy = NULL;
	j->hdrs = NULL;
}
