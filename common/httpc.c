#include <string.h>

#include <zmq.h>

#include "httpc.h"
#include "util.h"

static int
on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct httpc *h = userp;
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
		if (h->nsocks == HTTPC_SOCKS_MAX)
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
	struct httpc *h = userp;

	(void)m;
	h->timer_ms = ms < 0 ? -1 : mono_ms() + ms;
	return 0;
}

int
httpc_init(struct httpc *h, httpc_done_fn done, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->timer_ms = -1;
	h->done = done;
	h->ctx = ctx;
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
httpc_cleanup(struct httpc *h)
{
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	h->multi = NULL;
	curl_global_cleanup();
}

int
httpc_add(struct httpc *h, CURL *easy)
{
	return curl_multi_add_handle(h->multi, easy) == CURLM_OK ? 0 : -1;
}

void
httpc_remove(struct httpc *h, CURL *easy)
{
	curl_multi_remove_handle(h->multi, easy);
}

int
httpc_poll_items(struct httpc *h, void *zitems, int max)
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
httpc_ready(struct httpc *h, int fd, int revents)
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
httpc_timeout(struct httpc *h)
{
	int64_t left;

	if (h->timer_ms < 0)
		return -1;
	left = h->timer_ms - mono_ms();
	return left < 0 ? 0 : left;
}

void
httpc_run(struct httpc *h)
{
	CURLMsg *m;
	int running, left;

	if (h->timer_ms >= 0 && mono_ms() >= h->timer_ms) {
		h->timer_ms = -1;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		char *arg = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &arg);
		h->done(h->ctx, arg, m->easy_handle, m->data.result);
	}
}
