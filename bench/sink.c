/*
 * bench-sink: the latency probe's far end. A tiny HTTP/1.1 server on
 * loopback that answers every POST with 200 and records, for each, the
 * monotonic arrival time and the delivery id found in the body (the run
 * document's "delivery_id"). hookpipe's http action posts here.
 *
 *	bench-sink PORT DUMPFILE
 *
 *	GET /stats	"count first_ns last_ns\n"
 *	GET /dump	writes "delivery_id arrival_ns" lines to DUMPFILE
 *	GET /reset	forgets everything recorded
 *
 * One thread, epoll, keep-alive; bounded: headers 16 KiB, bodies 1 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX		16384
#define BODY_MAX	(1 << 20)
#define ID_MAX		95
#define CONN_MAX	4096

struct rec {
	int64_t	 t;
	char	 id[ID_MAX + 1];
};

struct conn {
	int	 fd;
	char	*buf;
	size_t	 len, cap;
};

static struct rec *recs;
static size_t nrecs, caprecs;
static const char *dumpfile;

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
record(int64_t t, const char *body, size_t n)
{
	static const char key[] = "\"delivery_id\":\"";
	const char *p = memmem(body, n, key, sizeof(key) - 1), *e;
	struct rec *r;

	if (nrecs == caprecs) {
		size_t nc = caprecs ? caprecs * 2 : 65536;
		struct rec *nr = realloc(recs, nc * sizeof(*recs));

		if (nr == NULL)
			return;
		recs = nr;
		caprecs = nc;
	}
	r = &recs[nrecs++];
	r->t = t;
	r->id[0] = '-';
	r->id[1] = '\0';
	if (p != NULL) {
		p += sizeof(key) - 1;
		e = memchr(p, '"', n - (size_t)(p - body));
		if (e != NULL && e - p > 0 && e - p <= ID_MAX) {
			memcpy(r->id, p, (size_t)(e - p));
			r->id[e - p] = '\0';
		}
	}
}

static int
dump(void)
{
	FILE *f = fopen(dumpfile, "w");
	size_t i;

	if (f == NULL)
		return -1;
	for (i = 0; i < nrecs; i++)
		fprintf(f, "%s %lld\n", recs[i].id, (long long)recs[i].t);
	return fclose(f);
}

static void
reply(int fd, const char *body)
{
	char out[256];
	int n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);

	/* Short answers on a loopback socket: one write suffices. */
	if (write(fd, out, (size_t)n) != n) {
		/* the peer sees the connection close */
	}
}

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	free(c);
}

/* Parse and answer every complete request in c->buf; -1 to close. */
static int
serve(struct conn *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *p, *line;
		size_t hlen, clen = 0, total;
		char stats[128];

		if (end == NULL)
			return c->len > HDR_MAX ? -1 : 0;
		hlen = (size_t)(end - c->buf) + 4;
		*end = '\0';
		for (line = strstr(c->buf, "\r\n"); line != NULL;
		    line = strstr(line + 2, "\r\n"))
			if (strncasecmp(line + 2, "content-length:", 15) == 0)
				clen = strtoul(line + 17, NULL, 10);
		if (clen > BODY_MAX)
			return -1;
		total = hlen + clen;
		if (c->len < total) {
			*end = '\r';
			return 0;
		}
		if (strncmp(c->buf, "POST ", 5) == 0) {
			record(mono_ns(), c->buf + hlen, clen);
			reply(c->fd, "ok");
		} else if (strncmp(c->buf, "GET /stats", 10) == 0) {
			snprintf(stats, sizeof(stats), "%zu %lld %lld\n",
			    nrecs,
			    nrecs ? (long long)recs[0].t : 0LL,
			    nrecs ? (long long)recs[nrecs - 1].t : 0LL);
			reply(c->fd, stats);
		} else if (strncmp(c->buf, "GET /dump", 9) == 0) {
			reply(c->fd, dump() == 0 ? "dumped\n" : "failed\n");
		} else if (strncmp(c->buf, "GET /reset", 10) == 0) {
			nrecs = 0;
			reply(c->fd, "reset\n");
		} else
			reply(c->fd, "?\n");
		p = c->buf + total;
		memmove(c->buf, p, c->len - total);
		c->len -= total;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct epoll_event ev, evs[256];
	int lfd, ep, one = 1, i, n;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-sink PORT DUMPFILE\n");
		return 2;
	}
	dumpfile = argv[2];
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 1024) == -1) {
		perror("bench-sink: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			for (;;) {
				if (c->cap - c->len < 65536) {
					c->cap = c->cap ? c->cap * 2 : 131072;
					c->buf = realloc(c->buf, c->cap);
				}
				r = read(c->fd, c->buf + c->len,
				    c->cap - c->len - 1);
				if (r > 0) {
					c->len += (size_t)r;
					if (serve(c) == -1) {
						conn_close(ep, c);
						break;
					}
					continue;
				}
				if (r == 0 || (errno != EAGAIN &&
				    errno != EINTR))
					conn_close(ep, c);
				break;
			}
		}
	}
}
