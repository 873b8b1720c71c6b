/*
 * Outbound HTTP without threads: libcurl's multi interface driven by a
 * stage's zmq_poll loop. curl says which sockets to watch (socket
 * callback) and when to call back (timer callback); finished transfers
 * go to one completion function. Connections are kept and reused.
 */
#ifndef HP_HTTPC_H
#define HP_HTTPC_H

#include <stdint.h>

#include <curl/curl.h>

#define HTTPC_SOCKS_MAX	2048

/* A finished transfer: arg is the easy handle's CURLOPT_PRIVATE. */
typedef void (*httpc_done_fn)(void *ctx, void *arg, CURL *easy,
	    CURLcode res);

struct httpc {
	CURLM		*multi;
	httpc_done_fn	 done;
	void		*ctx;
	struct {
		int	 fd;
		int	 what;		/* CURL_POLL_* */
	}		 socks[HTTPC_SOCKS_MAX];
	int		 nsocks;
	int64_t		 timer_ms;	/* -1: none */
};

int	httpc_init(struct httpc *, httpc_done_fn, void *ctx);
void	httpc_cleanup(struct httpc *);
int	httpc_add(struct httpc *, CURL *easy);
void	httpc_remove(struct httpc *, CURL *easy);
/* Appends zmq_pollitem_t entries for curl's sockets; returns the count. */
int	httpc_poll_items(struct httpc *, void *zmq_items, int max);
void	httpc_ready(struct httpc *, int fd, int revents);
/* Fires curl's timer when due and delivers finished transfers. */
void	httpc_run(struct httpc *);
/* Milliseconds until curl wants to be called, or -1. */
int64_t	httpc_timeout(struct httpc *);

#endif
