/*
 * The receiver's state, shared by its HTTP handlers (main.c) and the
 * OAuth callback (oauth.c).
 */
#ifndef HP_RECEIVER_H
#define HP_RECEIVER_H

#include <stdint.h>

#include <microhttpd.h>

#include "config.h"
#include "db.h"
#include "httpc.h"
#include "integ.h"
#include "mp.h"
#include "stage.h"
#include "zsock.h"

#define HEADERS_MAX	128
#define BODY_DEADLINE_MS 30000		/* a whole body, however slow */
#define HEADER_DEADLINE_MS 30000	/* the headers of a request */

/*
 * A connection, for the header deadline: libmicrohttpd's timeout is an
 * idle timeout, which a client sending a byte a second never trips.
 */
struct conn {
	struct conn	*prev, *next;
	int		 fd;
	int		 in_request;	/* headers complete, not answered yet */
	int64_t		 phase_start;	/* connected, or last answer sent */
};
#define INFLIGHT_MAX	8192		/* requests waiting for a verdict */
#define HASH_SIZE	4096		/* power of two */
#define PLUGIN_PREFIX	"/triggers/plugin/"

enum req_state { REQ_READING, REQ_WAITING, REQ_ANSWERED };
enum req_kind { REQ_DELIVERY, REQ_OAUTH };

struct request {
	uint64_t	 id;
	struct request	*hnext;		/* hash chain */
	struct request	*prev, *next;	/* waiting list, oldest first */
	struct MHD_Connection *conn;
	enum req_kind	 kind;
	enum req_state	 state;
	void		*easy;		/* OAuth: the code exchange */
	struct curl_slist *hdrs;
	struct buf	 reply;		/* OAuth: the provider's answer */
	char		 cred[NAME_MAX_LEN + 1];
	char		 workspace[NAME_MAX_LEN + 1];
	char		 sub[UUID_LEN + 1];
	char		 event_id[UUID_LEN + 1];
	int64_t		 received_at;
	int64_t		 sent_ms;
	int64_t		 start_ms;	/* headers complete */
	int		 unsent;	/* the verifier's connection was not up */
	size_t		 limit;
	size_t		 discarded;
	int		 too_large;
	struct buf	 body;
	/* The answer once known. */
	int		 status;
	char		*answer;
	const char	*ctype;
	int		 retry_after;
};

struct receiver {
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;
	MDB_txn		*rtxn;		/* reset/renewed read txn */
	struct integ_set integs;
	struct MHD_Daemon *httpd;
	int		 epoll_fd;
	void		*zctx;
	void		*verifier;	/* DEALER */
	struct tap	 tap;
	uint64_t	 next_id;
	struct request	*hash[HASH_SIZE];
	struct request	*oldest, *newest;
	int		 inflight;
	int		 unsent;	/* waiting requests not sent yet */
	struct mpw	 w;		/* reused message buffer */
	struct httpc	 http;		/* outbound: OAuth code exchanges */
	/* Metrics. */
	uint64_t	 by_status[6];	/* 1xx..5xx */
	uint64_t	 spooled;
	int		 draining;
	int		 handoff_fd;	/* run/receiver.handoff listener */
	int		 quiesced_fd;	/* our listening socket, once draining */
	struct conn	*conns;		/* every open connection */
	int64_t		 drain_deadline;
	int		 inherited_fd;	/* listening socket taken over */
	char		 scratch[256];
};

/* Queue a response (copies body). */
enum MHD_Result respond(struct receiver *, struct MHD_Connection *,
	    int status, const char *ctype, const char *body,
	    const char *allow, int retry_after);

/* http.c */
void	rx_start_http(struct receiver *, int no_listen);
void	rx_read_verdicts(struct receiver *);
/* Spool what waited too long (or everything, when all). */
void	rx_expire_waiting(struct receiver *, int all);
void	rx_start_draining(struct receiver *);
/* Close connections whose headers did not arrive in time. */
void	rx_enforce_deadlines(struct receiver *);
/* Send what waited for the connection to the verifier to come up. */
void	rx_send_unsent(struct receiver *);

/* handoff.c */
int	rx_handoff_take(struct receiver *);
void	rx_handoff_listen(struct receiver *);
void	rx_handoff_give(struct receiver *);

/* oauth.c: GET /oauth/{integration}/callback, first call. */
enum MHD_Result oauth_begin(struct receiver *, struct MHD_Connection *,
	    const char *integration, void **req_cls);
/* The code exchange finished (httpc completion). */
void	oauth_done(void *ctx, void *arg, CURL *easy, CURLcode res);
void	oauth_abort(struct receiver *, struct request *);

#endif
