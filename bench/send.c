/*
 * bench-send: a paced (open-loop) sender of signed Standard Webhooks /
 * OpenAI events, for when wrk2 is not at hand. Each request is signed
 * when it is sent (fresh timestamp, unique webhook-id), so runs of any
 * length stay inside the receiver's tolerance.
 *
 *	bench-send -u HOST:PORT -p PATH -s whsec_... [-r RATE] [-n COUNT]
 *	    [-d SECONDS] [-c CONNS] [-e EVENT] [-o LOG]
 *
 * -r RATE	requests per second on a fixed schedule (a timerfd); 0 sends
 *		as fast as the connections allow (closed loop)
 * -n COUNT	stop after COUNT requests; -d stops after SECONDS
 * -c CONNS	keep-alive connections (default 16)
 * -o LOG	one line per request: "webhook-id sched_ns sent_ns done_ns
 *		status" (CLOCK_MONOTONIC, shared with bench-sink)
 *
 * A request whose slot comes while every connection is busy waits in a
 * queue; its scheduled time is kept, so queueing shows in the log.
 * Prints one summary line: sent, 2xx, non-2xx, errors, seconds, req/s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CONN_MAX	1024
#define RESP_MAX	65536

struct slot {
	int64_t	 sched, sent, done;
	int	 status;
};

struct conn {
	int	 fd;
	int	 busy;		/* a request in flight */
	long	 req;		/* its index */
	char	 out[4096];
	size_t	 olen, off;
	char	 in[RESP_MAX];
	size_t	 ilen;
};

static struct sockaddr_in addr;
static char host[128], path[512], event[128] = "batch.completed";
static unsigned char key[256];
static int keylen;
static char tag[17];
static struct slot *slots;
static long nslots;
static struct conn conns[CONN_MAX];
static int nconns = 16, ep;

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
conn_open(struct conn *c)
{
	struct epoll_event ev;
	int one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	c->busy = 0;
	c->ilen = c->olen = c->off = 0;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
conn_reset(struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (conn_open(c) == -1) {
		perror("bench-send: reconnect");
		exit(1);
	}
}

/* Build the signed request for slot i into c->out. */
static void
build(struct conn *c, long i)
{
	char id[64], body[512], signed_[1024], sig[64];
	unsigned char mac[32];
	unsigned int maclen = 0;
	long ts = (long)time(NULL);
	int blen, slen;

	snprintf(id, sizeof(id), "msg_%s%08lx", tag, i);
	blen = snprintf(body, sizeof(body), "{\"id\":\"evt_%s%08lx\","
	    "\"object\":\"event\",\"type\":\"%s\",\"created_at\":%ld,"
	    "\"data\":{\"id\":\"batch_%s%08lx\"}}", tag, i, event, ts, tag, i);
	slen = snprintf(signed_, sizeof(signed_), "%s.%ld.%s", id, ts, body);
	HMAC(EVP_sha256(), key, keylen, (unsigned char *)signed_,
	    (size_t)slen, mac, &maclen);
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);
	c->olen = (size_t)snprintf(c->out, sizeof(c->out),
	    "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench-send\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "webhook-id: %s\r\nwebhook-timestamp: %ld\r\n"
	    "webhook-signature: v1,%s\r\n\r\n%s", path, host, blen, id, ts,
	    sig, body);
	c->off = 0;
}

static void
flush_out(struct conn *c)
{
	while (c->off < c->olen) {
		ssize_t w = write(c->fd, c->out + c->off, c->olen - c->off);

		if (w <= 0)
			return;	/* EAGAIN: EPOLLOUT resumes */
		c->off += (size_t)w;
	}
}

static void
start(struct conn *c, long i)
{
	c->busy = 1;
	c->req = i;
	c->ilen = 0;
	build(c, i);
	slots[i].sent = mono_ns();
	flush_out(c);
}

/* A complete response in c->in: its status, or 0 while incomplete. */
static int
response(struct conn *c)
{
	char *end, *cl;
	size_t hlen, clen = 0;

	c->in[c->ilen] = '\0';
	if ((end = strstr(c->in, "\r\n\r\n")) == NULL)
		return 0;
	hlen = (size_t)(end - c->in) + 4;
	if ((cl = strcasestr(c->in, "\r\ncontent-length:")) != NULL &&
	    cl < end)
		clen = strtoul(cl + 17, NULL, 10);
	if (c->ilen < hlen + clen)
		return 0;
	if (strncmp(c->in, "HTTP/1.", 7) != 0)
		return -1;
	return atoi(c->in + 9);
}

int
main(int argc, char **argv)
{
	const char *url = NULL, *secret = NULL, *logpath = NULL;
	double rate = 0, seconds = 0;
	long count = 0, next = 0, finished = 0, ok = 0, bad = 0, errs = 0;
	long *queue, qhead = 0, qtail = 0, qmax = 0;
	int64_t t0, tend, nextdue, progress;
	long seen = 0;
	struct epoll_event ev, evs[256];
	struct itimerspec its;
	int tfd, opt, i, n;
	char *colon;

	while ((opt = getopt(argc, argv, "u:p:s:r:n:d:c:e:o:")) != -1)
		switch (opt) {
		case 'u': url = optarg; break;
		case 'p': snprintf(path, sizeof(path), "%s", optarg); break;
		case 's': secret = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 'n': count = atol(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'e': snprintf(event, sizeof(event), "%s", optarg); break;
		case 'o': logpath = optarg; break;
		default: goto usage;
		}
	if (url == NULL || secret == NULL || path[0] == '\0' ||
	    (count <= 0 && seconds <= 0) || nconns < 1 || nconns > CONN_MAX)
		goto usage;
	snprintf(host, sizeof(host), "%s", url);
	if ((colon = strrchr(host, ':')) == NULL)
		goto usage;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	*colon = '\0';
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		goto usage;
	*colon = ':';
	if (strncmp(secret, "whsec_", 6) == 0)
		keylen = EVP_DecodeBlock(key, (const unsigned char *)secret + 6,
		    (int)strlen(secret + 6));
	else
		keylen = snprintf((char *)key, sizeof(key), "%s", secret);
	if (keylen <= 0)
		goto usage;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (strncmp(secret, "whsec_", 6) == 0)
		for (const char *p = secret + strlen(secret) - 1; *p == '=';
		    p--)
			keylen--;
	snprintf(tag, sizeof(tag), "%08lx%08lx",
	    (unsigned long)(mono_ns() & 0xffffffff), (unsigned long)getpid());
	if (count <= 0)
		count = (long)(rate > 0 ? rate * seconds + 1 : 50000000);
	nslots = count;
	if ((slots = calloc((size_t)nslots, sizeof(*slots))) == NULL ||
	    (queue = calloc((size_t)nslots, sizeof(*queue))) == NULL) {
		perror("bench-send");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(0);
	for (i = 0; i < nconns; i++)
		if (conn_open(&conns[i]) == -1) {
			perror("bench-send: connect");
			return 1;
		}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);

	t0 = mono_ns() + 20000000;	/* connections settle first */
	tend = seconds > 0 ? t0 + (int64_t)(seconds * 1e9) : INT64_MAX;
	nextdue = t0;
	progress = t0;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = nextdue / 1000000000;
	its.it_value.tv_nsec = nextdue % 1000000000;
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);

	for (;;) {
		int64_t now = mono_ns();
		uint64_t x;
		int more = next < nslots && (rate > 0 ? nextdue < tend :
		    now < tend);

		if (!more && finished == next)
			break;

		n = epoll_wait(ep, evs, 256, 1000);
		now = mono_ns();
		/* Due slots join the queue. */
		if (read(tfd, &x, sizeof(x)) < 0) {
			/* not expired yet */
		}
		if (rate > 0) {
			while (next < nslots && nextdue <= now &&
			    nextdue < tend) {
				slots[next].sched = nextdue;
				queue[qtail++] = next++;
				nextdue = t0 + (int64_t)((double)next * 1e9 /
				    rate);
			}
			if (next < nslots && nextdue < tend) {
				its.it_value.tv_sec = nextdue / 1000000000;
				its.it_value.tv_nsec = nextdue % 1000000000;
				timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its,
				    NULL);
			}
		}
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int st;

			if (c == NULL)
				continue;
			if (evs[i].events & EPOLLOUT)
				flush_out(c);
			if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				continue;
			for (;;) {
				ssize_t r = read(c->fd, c->in + c->ilen,
				    sizeof(c->in) - 1 - c->ilen);

				if (r > 0) {
					c->ilen += (size_t)r;
					if (c->ilen < sizeof(c->in) - 1)
						continue;
				} else if (r == -1 && errno == EAGAIN)
					break;
				/* closed, failed or an oversized answer */
				if (c->busy) {
					slots[c->req].done = mono_ns();
					slots[c->req].status = 0;
					errs++;
					finished++;
				}
				conn_reset(c);
				break;
			}
			if (c->busy && (st = response(c)) != 0) {
				slots[c->req].done = mono_ns();
				slots[c->req].status = st;
				if (st >= 200 && st < 300)
					ok++;
				else
					bad++;
				finished++;
				c->busy = 0;
				c->ilen = 0;
			}
		}
		/* Hand queued requests to idle connections. */
		if (qtail - qhead > qmax)
			qmax = qtail - qhead;
		for (i = 0; i < nconns && qhead < qtail; i++)
			if (!conns[i].busy)
				start(&conns[i], queue[qhead++]);
		if (rate <= 0 && now >= t0)
			for (i = 0; i < nconns && next < nslots && now < tend;
			    i++)
				if (!conns[i].busy) {
					slots[next].sched = mono_ns();
					start(&conns[i], next++);
				}
		if (finished != seen) {
			seen = finished;
			progress = now;
		}
		if ((tend != INT64_MAX && now >= tend + 10000000000LL) ||
		    now - progress > 30000000000LL)
			break;	/* answers overdue: give up on them */
	}
	{
		double secs = (double)(mono_ns() - t0) / 1e9;

		printf("sent %ld ok %ld non2xx %ld errors %ld unanswered %ld "
		    "seconds %.3f rps %.1f maxqueue %ld\n", next, ok, bad, errs,
		    next - finished, secs, (double)finished / secs, qmax);
	}
	if (logpath != NULL) {
		FILE *f = fopen(logpath, "w");
		long j;

		if (f == NULL) {
			perror(logpath);
			return 1;
		}
		for (j = 0; j < next; j++)
			fprintf(f, "msg_%s%08lx %lld %lld %lld %d\n", tag, j,
			    (long long)slots[j].sched, (long long)slots[j].sent,
			    (long long)slots[j].done, slots[j].status);
		fclose(f);
	}
	return bad + errs > 0 ? 3 : 0;
usage:
	fprintf(stderr, "usage: bench-send -u HOST:PORT -p PATH -s SECRET "
	    "[-r RATE] [-n COUNT] [-d SECONDS] [-c CONNS] [-e EVENT] "
	    "[-o LOG]\n");
	return 2;
}
