/*
 * loadgen: a webhook sender for the chaos tests.
 *
 * Sends N signed OpenAI (Standard Webhooks) events to one callback URL at
 * a steady rate over a few keep-alive connections, the way a provider
 * does: each event has a unique webhook-id (also the payload's "id"), a
 * delivery that fails with a connection error, a timeout or a 5xx is sent
 * again (same webhook-id, new timestamp and signature) after a backoff;
 * 2xx and 4xx answers are final.
 *
 * The webhook-id of event I is ID_PREFIX, a run tag (6 hex digits) and I:
 * "evt_1a2b3c_000042". The tag is random, so that two runs have no id in
 * common; --tag HEX fixes it, so that a second run with the same prefix
 * and tag sends the first events of the other again (as a provider that
 * delivers the same event to two hosts).
 *
 * Writes one line per event, in event order, once every event is final
 * or the deadline has passed:
 *
 *   WEBHOOK-ID STATUS ATTEMPTS LATENCY_MS DUP
 *
 * STATUS is the final HTTP status (000 when none came before the
 * deadline), ATTEMPTS how many times it was sent, LATENCY_MS the time of
 * the last attempt from its first byte written to the end of the answer,
 * DUP 1 when the answer said "duplicate":true. A summary goes to stderr,
 * and with --stats FILE as key=value lines. Exit 0 when every event got a
 * final answer, 1 when some had none by the deadline, 2 on a usage error.
 *
 * Single-threaded: non-blocking sockets and poll(2), no pipelining (one
 * request in flight per connection), plain HTTP/1.1 over TCP. Bounded in
 * time by --deadline whatever the server does; SIGTERM or SIGINT ends it
 * early, still writing what it has.
 *
 * cc -O2 -o loadgen loadgen.c -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAX_CONNS	256
#define RBUF_SIZE	65536

struct event {
	char	 id[64];
	int	 bad;		/* signed with a wrong key: expect 401 */
	int	 status;	/* final status, 0 while none */
	int	 final;
	int	 attempts;
	int	 dup;
	int	 queued;	/* in the ready queue or the retry list */
	int64_t	 due_ms;	/* retry: not before */
	int64_t	 latency_ms;
	int	 last_err;	/* last transient failure (status or -errno) */
};

enum cstate { C_IDLE, C_CONNECTING, C_SENDING, C_READING };

struct conn {
	int	 fd;
	enum cstate st;
	int	 ev;		/* event index in flight, or -1 */
	char	*req;
	size_t	 req_len, req_off;
	char	 rbuf[RBUF_SIZE];
	size_t	 rlen;
	int64_t	 started_ms;	/* first byte of this request */
	int64_t	 last_io_ms;
	int	 reused;	/* a request was answered on it before */
	int64_t	 retry_conn_ms;	/* reconnect not before */
};

static struct {
	const char *host;
	int	 port;
	const char *sub;
	const char *secret;
	const char *type;
	const char *prefix;
	const char *out;
	const char *stats;
	const char *tag;
	int	 n;
	double	 rate;
	int	 conns;
	double	 deadline_s;
	double	 req_timeout_s;
	int	 bad_every;
	int	 max_attempts;
	int	 progress;
} opt = {
	.host = "127.0.0.1", .port = 8080, .type = "batch.completed",
	.prefix = "evt_", .n = 1000, .rate = 100, .conns = 4,
	.deadline_s = 120, .req_timeout_s = 10, .bad_every = 0,
	.max_attempts = 0,
};

static unsigned char key[256];
static size_t key_len;
static struct sockaddr_in addr;

static struct event *evs;
static volatile sig_atomic_t stop_now;	/* SIGTERM/SIGINT: report and exit */
static int *readyq;		/* FIFO of event indices */
static int rq_head, rq_tail, rq_cap;
static int *retryl;		/* events waiting for their due time */
static int nretry;

/* counters */
static long c_gave_up, c_stale, c_conn_err, c_refused, c_timeouts, c_5xx, c_retries,
    c_reconnects, c_by_class[6];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "loadgen: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen --url http://HOST:PORT --sub SUB_ID --secret whsec_...\n"
	    "               [-n EVENTS] [-r RATE] [-c CONNS] [--type TYPE]\n"
	    "               [--prefix ID_PREFIX] [--bad-every K] [--deadline S]\n"
	    "               [--timeout S] [--max-attempts N] [--out FILE]\n"
	    "               [--stats FILE] [--tag HEX] [--progress]\n");
	exit(2);
}

static void
parse_url(const char *url)
{
	static char host[256];
	const char *p, *colon, *slash;
	size_t hl;

	if (strncmp(url, "http://", 7) != 0)
		die("only http:// URLs: %s", url);
	p = url + 7;
	slash = strchr(p, '/');
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) :
	    strlen(p);
	if (hl == 0 || hl >= sizeof(host))
		die("bad URL: %s", url);
	memcpy(host, p, hl);
	host[hl] = '\0';
	opt.host = host;
	opt.port = colon ? atoi(colon + 1) : 80;
	if (opt.port <= 0 || opt.port > 65535)
		die("bad port in %s", url);
}

static void
resolve(void)
{
	struct addrinfo hints = { .ai_family = AF_INET,
	    .ai_socktype = SOCK_STREAM }, *res;

	if (getaddrinfo(opt.host, NULL, &hints, &res) != 0)
		die("cannot resolve %s", opt.host);
	memcpy(&addr, res->ai_addr, sizeof(addr));
	addr.sin_port = htons((uint16_t)opt.port);
	freeaddrinfo(res);
}

static void
load_key(void)
{
	const char *s = opt.secret;
	int n;

	if (strncmp(s, "whsec_", 6) == 0) {
		size_t l = strlen(s + 6);

		if (l == 0 || l > 300 || l % 4 != 0)
			die("bad whsec_ secret: %s", "length");
		n = EVP_DecodeBlock(key, (const unsigned char *)s + 6, (int)l);
		if (n < 0)
			die("bad whsec_ secret: %s", "base64");
		/* EVP_DecodeBlock counts the padding as data. */
		while (l > 0 && s[6 + l - 1] == '=') {
			n--;
			l--;
		}
		key_len = (size_t)n;
	} else {
		key_len = strlen(s);
		if (key_len > sizeof(key))
			die("secret too long%s", "");
		memcpy(key, s, key_len);
	}
}

/* Builds the request for one attempt of event i into c->req. */
static void
build_request(struct conn *c, int i)
{
	struct event *e = &evs[i];
	char body[512], ts[32], tosign[1024], sig[128];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned char badkey[32];
	long now = (long)time(NULL);
	int bl, sl;

	bl = snprintf(body, sizeof(body),
	    "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"%s\","
	    "\"created_at\":%ld,\"data\":{\"id\":\"batch_%s\"}}",
	    e->id, opt.type, now, e->id);
	snprintf(ts, sizeof(ts), "%ld", now);
	sl = snprintf(tosign, sizeof(tosign), "%s.%s.%s", e->id, ts, body);
	if (e->bad) {
		memset(badkey, 0x5a, sizeof(badkey));
		HMAC(EVP_sha256(), badkey, sizeof(badkey),
		    (unsigned char *)tosign, (size_t)sl, mac, &maclen);
	} else
		HMAC(EVP_sha256(), key, (int)key_len,
		    (unsigned char *)tosign, (size_t)sl, mac, &maclen);
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);
	free(c->req);
	c->req_len = (size_t)asprintf(&c->req,
	    "POST /triggers/plugin/%s HTTP/1.1\r\n"
	    "Host: %s:%d\r\n"
	    "User-Agent: hookpipe-loadgen\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "webhook-id: %s\r\n"
	    "webhook-timestamp: %s\r\n"
	    "webhook-signature: v1,%s\r\n"
	    "\r\n%s",
	    opt.sub, opt.host, opt.port, bl, e->id, ts, sig, body);
	c->req_off = 0;
}

static void
ready_push(int i)
{
	readyq[rq_tail++ % rq_cap] = i;
	evs[i].queued = 1;
}

static int
ready_pop(void)
{
	int i;

	if (rq_head == rq_tail)
		return -1;
	i = readyq[rq_head++ % rq_cap];
	evs[i].queued = 0;
	return i;
}

static int finished;

static void
finish_event(int i, int status, int dup, int64_t latency)
{
	struct event *e = &evs[i];

	e->status = status;
	e->final = 1;
	e->dup = dup;
	e->latency_ms = latency;
	finished++;
	if (status / 100 <= 5)
		c_by_class[status / 100]++;
}

static void
retry_later(int i, int why)
{
	struct event *e = &evs[i];
	int64_t backoff = 50;
	int k;

	e->last_err = why;
	if (opt.max_attempts > 0 && e->attempts >= opt.max_attempts) {
		/* Give up: the last status, or 000 for a connection error. */
		finish_event(i, why > 0 ? why : 0, 0, 0);
		c_gave_up++;
		return;
	}
	for (k = 1; k < e->attempts && backoff < 1000; k++)
		backoff *= 2;
	if (backoff > 1000)
		backoff = 1000;
	e->due_ms = now_ms() + backoff;
	e->queued = 1;
	retryl[nretry++] = i;
	c_retries++;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = C_IDLE;
	c->rlen = 0;
	c->reused = 0;
}

/* A transient failure of the request in flight on c. */
static void
conn_fail(struct conn *c, int why)
{
	if (c->ev >= 0)
		retry_later(c->ev, why);
	c->ev = -1;
	conn_close(c);
}

static int
conn_open(struct conn *c)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->rlen = 0;
	c->reused = 0;
	c_reconnects++;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		c->st = C_SENDING;
		return 0;
	}
	if (errno == EINPROGRESS) {
		c->st = C_CONNECTING;
		return 0;
	}
	if (errno == ECONNREFUSED)
		c_refused++;
	c_conn_err++;
	close(fd);
	c->fd = -1;
	return -1;
}

/* Case-insensitive search for a header line; returns its value or NULL. */
static const char *
find_header(const char *hdrs, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *end = hdrs + len, *eol, *v;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' ||
			    v[*vlen - 1] == ' '))
				(*vlen)--;
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

/*
 * Is the response in c->rbuf complete? Returns 1 (fills status, body
 * offset/len, keep-alive), 0 when more bytes are needed, -1 on garbage.
 */
static int
parse_response(struct conn *c, int *status, size_t *boff, size_t *blen,
    int *keepalive, int eof)
{
	char *hend, *p;
	const char *v;
	size_t hlen, vlen, clen = 0;
	int have_clen = 0, chunked = 0;

	if (c->rlen < 12)
		return eof ? -1 : 0;
	if (strncmp(c->rbuf, "HTTP/1.", 7) != 0)
		return -1;
	hend = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	if (hend == NULL)
		return c->rlen >= sizeof(c->rbuf) - 1 || eof ? -1 : 0;
	hlen = (size_t)(hend - c->rbuf) + 4;
	*status = atoi(c->rbuf + 9);
	if (*status < 100 || *status > 599)
		return -1;
	*keepalive = c->rbuf[7] == '1';
	if ((v = find_header(c->rbuf, hlen, "Connection", &vlen)) != NULL &&
	    vlen == 5 && strncasecmp(v, "close", 5) == 0)
		*keepalive = 0;
	if ((v = find_header(c->rbuf, hlen, "Content-Length", &vlen)) !=
	    NULL) {
		clen = strtoul(v, NULL, 10);
		have_clen = 1;
	}
	if ((v = find_header(c->rbuf, hlen, "Transfer-Encoding", &vlen)) !=
	    NULL && vlen >= 7 && strncasecmp(v, "chunked", 7) == 0)
		chunked = 1;
	*boff = hlen;
	if (chunked) {
		/* Small answers only: walk the chunks until the last one. */
		p = c->rbuf + hlen;
		for (;;) {
			char *crlf = memmem(p, (size_t)(c->rbuf + c->rlen - p),
			    "\r\n", 2);
			size_t n;

			if (crlf == NULL)
				return eof ? -1 : 0;
			n = strtoul(p, NULL, 16);
			if (n == 0) {
				if (memmem(crlf, (size_t)(c->rbuf + c->rlen -
				    crlf), "\r\n\r\n", 4) == NULL)
					return eof ? -1 : 0;
				*blen = (size_t)(p - (c->rbuf + hlen));
				return 1;
			}
			if ((size_t)(c->rbuf + c->rlen - (crlf + 2)) < n + 2)
				return eof ? -1 : 0;
			p = crlf + 2 + n + 2;
		}
	}
	if (*status == 204 || *status == 304 || *status < 200) {
		*blen = 0;
		return 1;
	}
	if (have_clen) {
		if (hlen + clen >= sizeof(c->rbuf))
			return -1;
		if (c->rlen < hlen + clen)
			return eof ? -1 : 0;
		*blen = clen;
		return 1;
	}
	/* Until EOF. */
	*keepalive = 0;
	if (!eof)
		return 0;
	*blen = c->rlen - hlen;
	return 1;
}


/* Bytes arrived (or EOF) on a reading connection. */
static void
conn_read(struct conn *c)
{
	int status = 0, keepalive = 0, r, eof = 0;
	size_t boff = 0, blen = 0;
	ssize_t n;

	for (;;) {
		if (c->rlen >= sizeof(c->rbuf) - 1)
			break;
		n = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - 1 -
		    c->rlen);
		if (n > 0) {
			c->rlen += (size_t)n;
			c->rbuf[c->rlen] = '\0';
			c->last_io_ms = now_ms();
			continue;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break;
		c_conn_err++;
		conn_fail(c, -errno);
		return;
	}
	r = parse_response(c, &status, &boff, &blen, &keepalive, eof);
	if (r == 0)
		return;
	if (r < 0) {
		/* Closed before or during the answer: transient. A reused
		 * keep-alive connection the server closed meanwhile is the
		 * ordinary race of HTTP/1.1, counted apart. */
		if (eof && c->rlen == 0 && c->reused)
			c_stale++;
		else
			c_conn_err++;
		conn_fail(c, eof ? -EPIPE : -EPROTO);
		return;
	}
	if (status >= 500 || status == 408 || status == 429) {
		if (status >= 500)
			c_5xx++;
		if (c->ev >= 0)
			retry_later(c->ev, status);
	} else if (c->ev >= 0) {
		int dup = memmem(c->rbuf + boff, blen, "\"duplicate\":true",
		    16) != NULL;

		finish_event(c->ev, status, dup, now_ms() - c->started_ms);
	}
	c->ev = -1;
	if (!keepalive || eof || c->rlen > boff + blen) {
		conn_close(c);
		return;
	}
	c->rlen = 0;
	c->st = C_IDLE;		/* idle but connected */
	c->reused = 1;
}

static void
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->req_off < c->req_len) {
		n = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
		if (n > 0) {
			c->req_off += (size_t)n;
			c->last_io_ms = now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		c_conn_err++;
		conn_fail(c, -(n < 0 ? errno : EPIPE));
		return;
	}
	c->st = C_READING;
}

/* Gives connection c the next ready event, opening it if needed. */
static void
conn_assign(struct conn *c, int64_t t)
{
	int i;

	if (c->st != C_IDLE || t < c->retry_conn_ms)
		return;
	if ((i = ready_pop()) == -1)
		return;
	if (c->fd < 0 && conn_open(c) == -1) {
		/* Refused: back off this connection, retry the event. */
		evs[i].attempts++;
		c->ev = i;
		conn_fail(c, -ECONNREFUSED);
		c->retry_conn_ms = t + 50;
		return;
	}
	evs[i].attempts++;
	c->ev = i;
	build_request(c, i);
	c->started_ms = t;
	c->last_io_ms = t;
	if (c->st == C_IDLE)
		c->st = C_SENDING;
	if (c->st == C_SENDING)
		conn_write(c);
}

static void
on_stop(int sig)
{
	(void)sig;
	stop_now = 1;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "sub", required_argument, NULL, 's' },
		{ "secret", required_argument, NULL, 'k' },
		{ "type", required_argument, NULL, 't' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "bad-every", required_argument, NULL, 'b' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-attempts", required_argument, NULL, 'm' },
		{ "progress", no_argument, NULL, 'P' },
		{ "stats", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct conn *conns;
	struct pollfd pfd[MAX_CONNS];
	int64_t t0, t, deadline, next_progress;
	int ch, i, next_new = 0, inflight;
	FILE *out = stdout;
	double sum_lat = 0;
	long n_lat = 0, sent_attempts = 0;
	int64_t *lats;

	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	while ((ch = getopt_long(argc, argv, "n:r:c:", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': parse_url(optarg); break;
		case 's': opt.sub = optarg; break;
		case 'k': opt.secret = optarg; break;
		case 't': opt.type = optarg; break;
		case 'p': opt.prefix = optarg; break;
		case 'o': opt.out = optarg; break;
		case 'b': opt.bad_every = atoi(optarg); break;
		case 'd': opt.deadline_s = atof(optarg); break;
		case 'T': opt.req_timeout_s = atof(optarg); break;
		case 'm': opt.max_attempts = atoi(optarg); break;
		case 'P': opt.progress = 1; break;
		case 'S': opt.stats = optarg; break;
		case 'g': opt.tag = optarg; break;
		case 'n': opt.n = atoi(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'c': opt.conns = atoi(optarg); break;
		default: usage();
		}
	}
	if (opt.sub == NULL || opt.secret == NULL || opt.n <= 0 ||
	    opt.rate <= 0 || opt.conns <= 0 || opt.conns > MAX_CONNS ||
	    opt.deadline_s <= 0 || opt.req_timeout_s <= 0 ||
	    strlen(opt.prefix) > 40 || (opt.tag != NULL &&
	    (strlen(opt.tag) == 0 || strlen(opt.tag) > 6 ||
	    strspn(opt.tag, "0123456789abcdefABCDEF") != strlen(opt.tag))))
		usage();
	load_key();
	resolve();

	evs = calloc((size_t)opt.n, sizeof(*evs));
	rq_cap = opt.n + 1;
	readyq = calloc((size_t)rq_cap, sizeof(int));
	retryl = calloc((size_t)opt.n, sizeof(int));
	conns = calloc((size_t)opt.conns, sizeof(*conns));
	lats = calloc((size_t)opt.n, sizeof(*lats));
	if (!evs || !readyq || !retryl || !conns || !lats)
		die("out of memory%s", "");
	{
		/* Unique across runs: prefix, a run tag, the index. */
		unsigned tag = (unsigned)(time(NULL) ^ getpid() << 8) & 0xffffff;

		if (opt.tag != NULL)
			tag = (unsigned)strtoul(opt.tag, NULL, 16);

		for (i = 0; i < opt.n; i++) {
			snprintf(evs[i].id, sizeof(evs[i].id), "%s%06x_%06d",
			    opt.prefix, tag, i);
			evs[i].bad = opt.bad_every > 0 &&
			    i % opt.bad_every == opt.bad_every - 1;
		}
	}
	for (i = 0; i < opt.conns; i++) {
		conns[i].fd = -1;
		conns[i].ev = -1;
	}

	t0 = now_ms();
	deadline = t0 + (int64_t)(opt.deadline_s * 1000);
	next_progress = t0 + 1000;
	while (finished < opt.n && !stop_now) {
		int np = 0, timeout = 100;

		t = now_ms();
		if (t >= deadline)
			break;
		/* New events at their scheduled times. */
		while (next_new < opt.n &&
		    t0 + (int64_t)(next_new * 1000.0 / opt.rate) <= t)
			ready_push(next_new++);
		/* Retries that are due, in order of their index. */
		for (i = 0; i < nretry; ) {
			if (evs[retryl[i]].due_ms <= t) {
				ready_push(retryl[i]);
				retryl[i] = retryl[--nretry];
			} else
				i++;
		}
		/* Request timeouts. */
		for (i = 0; i < opt.conns; i++) {
			struct conn *c = &conns[i];

			if ((c->st == C_CONNECTING || c->st == C_SENDING ||
			    c->st == C_READING) && t - c->last_io_ms >
			    (int64_t)(opt.req_timeout_s * 1000)) {
				c_timeouts++;
				conn_fail(c, -ETIMEDOUT);
			}
		}
		for (i = 0; i < opt.conns; i++)
			conn_assign(&conns[i], t);
		inflight = 0;
		for (i = 0; i < opt.conns; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			pfd[np].fd = c->fd;
			pfd[np].events = c->st == C_CONNECTING ||
			    c->st == C_SENDING ? POLLOUT : POLLIN;
			pfd[np].revents = 0;
			np++;
			if (c->st != C_IDLE)
				inflight++;
		}
		if (next_new < opt.n) {
			int64_t nt = t0 + (int64_t)(next_new * 1000.0 /
			    opt.rate) - t;

			if (nt < timeout)
				timeout = nt < 0 ? 0 : (int)nt;
		}
		if (nretry > 0 && timeout > 10)
			timeout = 10;
		if (rq_head != rq_tail && inflight < opt.conns && timeout > 5)
			timeout = 5;
		if (poll(pfd, (nfds_t)np, timeout) == -1 && errno != EINTR) {
			perror("loadgen: poll");
			exit(2);
		}
		np = 0;
		for (i = 0; i < opt.conns; i++) {
			struct conn *c = &conns[i];
			short re;

			if (c->fd < 0)
				continue;
			re = pfd[np++].revents;
			if (re == 0)
				continue;
			switch (c->st) {
			case C_CONNECTING: {
				int err = 0;
				socklen_t el = sizeof(err);

				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
				    &el);
				if (err != 0) {
					if (err == ECONNREFUSED)
						c_refused++;
					c_conn_err++;
					conn_fail(c, -err);
					c->retry_conn_ms = now_ms() + 50;
					break;
				}
				c->st = C_SENDING;
				conn_write(c);
				break;
			}
			case C_SENDING:
				if (re & (POLLERR | POLLHUP) && !(re & POLLOUT)) {
					c_conn_err++;
					conn_fail(c, -EPIPE);
				} else
					conn_write(c);
				break;
			case C_READING:
				conn_read(c);
				break;
			case C_IDLE:
				/* The server closed an idle keep-alive one. */
				conn_close(c);
				break;
			}
		}
		if (opt.progress && now_ms() >= next_progress) {
			fprintf(stderr, "loadgen: %.0fs queued %d final %d/%d "
			    "retries %ld conn-errors %ld\n",
			    (now_ms() - t0) / 1000.0, next_new, finished,
			    opt.n, c_retries, c_conn_err);
			next_progress += 1000;
		}
	}

	if (opt.out != NULL && (out = fopen(opt.out, "w")) == NULL) {
		perror(opt.out);
		exit(2);
	}
	for (i = 0; i < opt.n; i++) {
		struct event *e = &evs[i];
		int st = e->final ? e->status : 0;

		fprintf(out, "%s %03d %d %lld %d\n", e->id, st, e->attempts,
		    (long long)e->latency_ms, e->dup);
		sent_attempts += e->attempts;
		if (st >= 200 && st < 500) {
			lats[n_lat++] = e->latency_ms;
			sum_lat += (double)e->latency_ms;
		}
	}
	if (out != stdout)
		fclose(out);
	{
		double el = (now_ms() - t0) / 1000.0;
		qsort(lats, (size_t)n_lat, sizeof(*lats), cmp_i64);
		fprintf(stderr,
		    "loadgen: %d events in %.1f s (%.0f/s asked, %.0f/s done): "
		    "2xx %ld 4xx %ld 5xx-final %ld unanswered %d; attempts "
		    "%ld retries %ld conn-errors %ld refused %ld timeouts %ld "
		    "5xx-seen %ld stale-keepalive %ld gave-up %ld connects %ld; latency ms mean %.1f p50 %lld "
		    "p99 %lld max %lld\n",
		    opt.n, el, opt.rate, finished / (el > 0 ? el : 1),
		    c_by_class[2], c_by_class[4], c_by_class[5],
		    opt.n - finished, sent_attempts, c_retries, c_conn_err,
		    c_refused, c_timeouts, c_5xx, c_stale, c_gave_up, c_reconnects,
		    n_lat ? sum_lat / (double)n_lat : 0.0,
		    n_lat ? (long long)lats[n_lat / 2] : 0LL,
		    n_lat ? (long long)lats[(n_lat * 99) / 100] : 0LL,
		    n_lat ? (long long)lats[n_lat - 1] : 0LL);
	}
	if (opt.stats != NULL) {
		FILE *f = fopen(opt.stats, "w");

		if (f == NULL) {
			perror(opt.stats);
			exit(2);
		}
		fprintf(f, "events=%d\nelapsed_ms=%lld\nanswered_2xx=%ld\n"
		    "answered_4xx=%ld\nfinal_5xx=%ld\nunanswered=%d\n"
		    "attempts=%ld\nretries=%ld\nconn_errors=%ld\nrefused=%ld\n"
		    "timeouts=%ld\nseen_5xx=%ld\nstale_keepalive=%ld\n"
		    "gave_up=%ld\nconnects=%ld\nlat_mean_ms=%.2f\n"
		    "lat_p50_ms=%lld\nlat_p99_ms=%lld\nlat_max_ms=%lld\n",
		    opt.n, (long long)(now_ms() - t0), c_by_class[2],
		    c_by_class[4], c_by_class[5], opt.n - finished,
		    sent_attempts, c_retries, c_conn_err, c_refused,
		    c_timeouts, c_5xx, c_stale, c_gave_up, c_reconnects,
		    n_lat ? sum_lat / (double)n_lat : 0.0,
		    n_lat ? (long long)lats[n_lat / 2] : 0LL,
		    n_lat ? (long long)lats[(n_lat * 99) / 100] : 0LL,
		    n_lat ? (long long)lats[n_lat - 1] : 0LL);
		fclose(f);
	}
	for (i = 0; i < opt.conns; i++) {
		conn_close(&conns[i]);
		free(conns[i].req);
	}
	i = finished == opt.n ? 0 : 1;
	free(conns);
	free(lats);
	free(retryl);
	free(readyq);
	free(evs);
	return i;
}
