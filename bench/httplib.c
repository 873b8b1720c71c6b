/*
 * bench-httplib: the same minimal webhook endpoint on each HTTP server
 * library from Debian that the receiver could be built on, for `make
 * bench`'s "httplib" phase (issue 17): how many requests a second the
 * library itself costs, before any of hookpipe's work.
 *
 *	bench-httplib -l mhd|h2o|evhttp -p PORT [-d] [-z]
 *
 * Each reads the whole POST body and answers 200 with a small JSON
 * body, keeping the connection alive. With -d the answer is deferred
 * to the end of the event loop's pass, as the receiver answers once its
 * verifier replied: libmicrohttpd suspends the connection and resumes
 * it (what the receiver does), H2O and libevent keep the request and
 * answer it after the pass. One thread, one event loop, each library as
 * its documentation shows it: libmicrohttpd in its external epoll mode
 * as the receiver runs it, H2O's own event loop (libh2o-evloop),
 * libevent's evhttp. SIGTERM or SIGINT ends it.
 *
 * With -z (libmicrohttpd, deferred) each request's body also makes a
 * round trip through ZeroMQ to a second process before its answer, as a
 * delivery goes from the receiver to its verifier and the verdict comes
 * back: a DEALER polled in the same zmq_poll as MHD's epoll fd, the
 * child a ROUTER that sends a short reply for each message and does
 * nothing else. What the pipeline's first hop costs, without any of its
 * work.
 */
#define H2O_USE_LIBUV 0

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <h2o.h>
#include <microhttpd.h>
#include <zmq.h>

#define ANSWER		"{\"status\":\"ok\"}"
#define PENDING_MAX	4096

static int deferred, hop;
static pid_t hop_pid;
static void *hop_sock;
static char hop_ep[64];
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-httplib -l mhd|h2o|evhttp -p PORT "
	    "[-d] [-z]\n");
	exit(2);
}

/* --- libmicrohttpd, external epoll loop, as receiver/http.c runs it -- */

struct mhd_rq {
	size_t			 n;	/* body bytes */
	int			 suspended;
	int			 slot;	/* -z: its place in hop_slots, or -1 */
	char			*body;	/* -z: the body, sent to the child */
};

static struct MHD_Connection *mhd_pending[PENDING_MAX];
static int mhd_npending;

/* -z: the requests waiting for the child's reply, by slot; a reply names
 * its slot and generation (a request that went away frees its slot). */
static struct {
	struct MHD_Connection	*c;
	uint32_t		 gen;
} hop_slots[PENDING_MAX];
static int hop_free[PENDING_MAX], hop_nfree;

static enum MHD_Result
mhd_on_req(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **ctx)
{
	struct MHD_Response *resp;
	struct mhd_rq *r = *ctx;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)method, (void)version, (void)data;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->slot = -1;
		*ctx = r;
		return MHD_YES;
	}
	if (*size > 0) {
		if (hop) {
			char *b = realloc(r->body, r->n + *size);

			if (b == NULL)
				return MHD_NO;
			memcpy(b + r->n, data, *size);
			r->body = b;
		}
		r->n += *size;
		*size = 0;
		return MHD_YES;
	}
	if (hop && !r->suspended && hop_nfree > 0) {
		uint32_t tok[2];

		r->slot = hop_free[--hop_nfree];
		hop_slots[r->slot].c = c;
		tok[0] = (uint32_t)r->slot;
		tok[1] = hop_slots[r->slot].gen;
		r->suspended = 1;
		MHD_suspend_connection(c);
		if (zmq_send(hop_sock, tok, sizeof(tok), ZMQ_SNDMORE) == -1 ||
		    zmq_send(hop_sock, r->body, r->n, 0) == -1) {
			fprintf(stderr, "bench-httplib: zmq_send: %s\n",
			    zmq_strerror(errno));
			exit(1);
		}
		return MHD_YES;
	}
	if (deferred && !r->suspended && mhd_npending < PENDING_MAX) {
		r->suspended = 1;
		MHD_suspend_connection(c);
		mhd_pending[mhd_npending++] = c;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(strlen(ANSWER),
	    (void *)ANSWER, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
mhd_on_done(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode why)
{
	struct mhd_rq *r = *ctx;

	(void)cls, (void)c, (void)why;
	if (r != NULL && r->slot >= 0) {
		hop_slots[r->slot].c = NULL;
		hop_slots[r->slot].gen++;
		hop_free[hop_nfree++] = r->slot;
	}
	if (r != NULL)
		free(r->body);
	free(r);
	*ctx = NULL;
}

/* -z, the child: a reply for each message, as a verifier's verdict. */
static void
hop_child(void)
{
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_msg_t id, tok, body;
	int zero = 0;

	/* Ends with its parent, however the parent ends. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_bind(s, hop_ep) == -1) {
		fprintf(stderr, "bench-httplib: zmq_bind %s: %s\n", hop_ep,
		    zmq_strerror(errno));
		_exit(1);
	}
	while (!stop) {
		zmq_msg_init(&id);
		zmq_msg_init(&tok);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, s, 0) == -1 ||
		    zmq_msg_recv(&tok, s, 0) == -1 ||
		    zmq_msg_recv(&body, s, 0) == -1) {
			zmq_msg_close(&id);
			zmq_msg_close(&tok);
			zmq_msg_close(&body);
			continue;	/* EINTR: stop is set */
		}
		zmq_msg_send(&id, s, ZMQ_SNDMORE);
		zmq_msg_send(&tok, s, 0);
		zmq_msg_close(&body);
	}
	zmq_close(s);
	zmq_ctx_term(ctx);
	_exit(0);
}

/* -z: the replies that came, each request resumed. */
static void
hop_replies(void)
{
	uint32_t tok[2];
	int n;

	while ((n = zmq_recv(hop_sock, tok, sizeof(tok), ZMQ_DONTWAIT)) ==
	    (int)sizeof(tok)) {
		if (tok[0] < PENDING_MAX && hop_slots[tok[0]].gen == tok[1] &&
		    hop_slots[tok[0]].c != NULL) {
			mhd_pending[mhd_npending++] = hop_slots[tok[0]].c;
			hop_slots[tok[0]].c = NULL;
		}
	}
}

static int
run_mhd(int port)
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	struct pollfd p;
	int i;

	d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, mhd_on_req, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, mhd_on_done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
	    MHD_OPTION_END);
	if (d == NULL ||
	    (info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
		fprintf(stderr, "bench-httplib: mhd: cannot listen on %d\n",
		    port);
		return 1;
	}
	p.fd = info->epoll_fd;
	p.events = POLLIN;
	while (!stop) {
		MHD_UNSIGNED_LONG_LONG ms = 1000;
		zmq_pollitem_t items[2] = {
			{ NULL, p.fd, ZMQ_POLLIN, 0 },
			{ hop_sock, 0, ZMQ_POLLIN, 0 },
		};

		/* MHD's epoll is edge-triggered: it says when it has work
		 * that the fd will not show (data it has read, not used). */
		if (mhd_npending > 0 || MHD_get_timeout(d, &ms) == MHD_NO ||
		    ms > 1000)
			ms = mhd_npending > 0 ? 0 : 1000;
		if (hop) {
			/* As the receiver: one zmq_poll for both. */
			if (zmq_poll(items, 2, (long)ms) == -1 &&
			    errno != EINTR)
				break;
			if (items[1].revents & ZMQ_POLLIN)
				hop_replies();
		} else if (poll(&p, 1, (int)ms) == -1 && errno != EINTR)
			break;
		/* What the last pass read is answered in this one, as the
		 * receiver resumes a request once its verdict came, then
		 * runs MHD. */
		for (i = 0; i < mhd_npending; i++)
			MHD_resume_connection(mhd_pending[i]);
		mhd_npending = 0;
		MHD_run(d);
	}
	MHD_stop_daemon(d);
	return 0;
}

/* -z: the child, and the DEALER that talks to it. */
static int
hop_start(void)
{
	void *ctx;
	pid_t pid;
	int i, zero = 0;

	snprintf(hop_ep, sizeof(hop_ep), "ipc:///tmp/bench-httplib-%d.sock",
	    (int)getpid());
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		hop_child();
	hop_pid = pid;
	for (i = 0; i < PENDING_MAX; i++)
		hop_free[i] = PENDING_MAX - 1 - i;
	hop_nfree = PENDING_MAX;
	if ((ctx = zmq_ctx_new()) == NULL ||
	    (hop_sock = zmq_socket(ctx, ZMQ_DEALER)) == NULL)
		return -1;
	zmq_setsockopt(hop_sock, ZMQ_LINGER, &zero, sizeof(zero));
	return zmq_connect(hop_sock, hop_ep);
}

/* --- H2O, libh2o-evloop --------------------------------------------- */

static h2o_globalconf_t h2o_cfg;
static h2o_context_t h2o_ctx;
static h2o_accept_ctx_t h2o_actx;

/* A deferred request; freed with the request's pool (a client that
 * goes away takes it off the list). */
struct h2o_held {
	h2o_req_t		*req;
	struct h2o_held		*next, **prevp;
};

static struct h2o_held *h2o_pending;

static void
h2o_answer(h2o_req_t *req)
{
	req->res.status = 200;
	req->res.reason = "OK";
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
	    NULL, H2O_STRLIT("application/json"));
	h2o_send_inline(req, H2O_STRLIT(ANSWER));
}

static void
h2o_held_dispose(void *p)
{
	struct h2o_held *h = p;

	if (h->prevp != NULL) {
		*h->prevp = h->next;
		if (h->next != NULL)
			h->next->prevp = h->prevp;
	}
}

static int
h2o_on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct h2o_held *h;

	(void)self;
	if (!deferred) {
		h2o_answer(req);
		return 0;
	}
	h = h2o_mem_alloc_shared(&req->pool, sizeof(*h), h2o_held_dispose);
	h->req = req;
	h->next = h2o_pending;
	h->prevp = &h2o_pending;
	if (h2o_pending != NULL)
		h2o_pending->prevp = &h->next;
	h2o_pending = h;
	return 0;
}

static void
h2o_on_accept(h2o_socket_t *listener, const char *err)
{
	h2o_socket_t *sock;

	if (err == NULL && (sock = h2o_evloop_socket_accept(listener)) != NULL)
		h2o_accept(&h2o_actx, sock);
}

static int
listen_on(int port)
{
	struct sockaddr_in sin;
	int fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1) {
		fprintf(stderr, "bench-httplib: cannot listen on %d: %s\n",
		    port, strerror(errno));
		return -1;
	}
	return fd;
}

static int
run_h2o(int port)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *handler;
	h2o_socket_t *sock;
	int fd;

	h2o_config_init(&h2o_cfg);
	host = h2o_config_register_host(&h2o_cfg,
	    h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	handler = h2o_create_handler(path, sizeof(*handler));
	handler->on_req = h2o_on_req;
	h2o_context_init(&h2o_ctx, h2o_evloop_create(), &h2o_cfg);
	h2o_actx.ctx = &h2o_ctx;
	h2o_actx.hosts = h2o_cfg.hosts;
	if ((fd = listen_on(port)) == -1)
		return 1;
	sock = h2o_evloop_socket_create(h2o_ctx.loop, fd,
	    H2O_SOCKET_FLAG_DONT_READ);
	h2o_socket_read_start(sock, h2o_on_accept);
	while (!stop) {
		if (h2o_evloop_run(h2o_ctx.loop, 1000) != 0 && errno != EINTR)
			break;
		while (h2o_pending != NULL) {
			struct h2o_held *h = h2o_pending;

			h2o_pending = h->next;
			if (h->next != NULL)
				h->next->prevp = &h2o_pending;
			h->prevp = NULL;
			h2o_answer(h->req);
		}
	}
	return 0;
}

/* --- libevent, evhttp ----------------------------------------------- */

static struct evhttp_request *ev_pending[PENDING_MAX];
static int ev_npending;
static struct event *ev_flush;
static struct event_base *ev_base;

static void
ev_answer(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, ANSWER, strlen(ANSWER));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
ev_on_flush(evutil_socket_t fd, short what, void *arg)
{
	int i;

	(void)fd, (void)what, (void)arg;
	for (i = 0; i < ev_npending; i++)
		ev_answer(ev_pending[i]);
	ev_npending = 0;
}

static void
ev_on_req(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!deferred || ev_npending == PENDING_MAX) {
		ev_answer(req);
		return;
	}
	/* Answered once this pass's callbacks have run. */
	if (ev_npending++ == 0)
		event_active(ev_flush, 0, 0);
	ev_pending[ev_npending - 1] = req;
}

static void
ev_on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	event_base_loopbreak(ev_base);
}

static int
run_evhttp(int port)
{
	struct evhttp *http;
	struct event *sig1, *sig2;
	int fd;

	if ((ev_base = event_base_new()) == NULL ||
	    (http = evhttp_new(ev_base)) == NULL)
		return 1;
	if ((fd = listen_on(port)) == -1 ||
	    evutil_make_socket_nonblocking(fd) == -1 ||
	    evhttp_accept_socket(http, fd) == -1)
		return 1;
	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	evhttp_set_gencb(http, ev_on_req, NULL);
	ev_flush = event_new(ev_base, -1, 0, ev_on_flush, NULL);
	sig1 = evsignal_new(ev_base, SIGTERM, ev_on_signal, NULL);
	sig2 = evsignal_new(ev_base, SIGINT, ev_on_signal, NULL);
	event_add(sig1, NULL);
	event_add(sig2, NULL);
	event_base_dispatch(ev_base);
	evhttp_free(http);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *lib = NULL;
	int ch, port = 0;

	while ((ch = getopt(argc, argv, "l:p:dz")) != -1)
		switch (ch) {
		case 'l':
			lib = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			deferred = 1;
			break;
		case 'z':
			hop = deferred = 1;
			break;
		default:
			usage();
		}
	if (lib == NULL || port <= 0 || port > 65535)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (hop && strcmp(lib, "mhd") != 0)
		usage();
	if (strcmp(lib, "mhd") == 0) {
		int rc;

		if (hop && hop_start() == -1) {
			fprintf(stderr, "bench-httplib: -z: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
		rc = run_mhd(port);
		if (hop) {
			kill(hop_pid, SIGTERM);
			waitpid(hop_pid, NULL, 0);
			unlink(hop_ep + strlen("ipc://"));
		}
		return rc;
	}
	if (strcmp(lib, "h2o") == 0)
		return run_h2o(port);
	if (strcmp(lib, "evhttp") == 0)
		return run_evhttp(port);
	usage();
	return 2;
}
