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
#define HEADER_DEADLINE_BUSY_MS 5000	/* the same, past half the slots */
#define CONN_MAX	4096		/* connections at once (fewer fds) */

/*
 * A connection, for the header deadline (libmicrohttpd's timeout is an
 * idle timeout, which a client sending a byte a second never trips) and
 * for eviction. A connection waiting for its headers, or idle between
 * requests, is on the receiver's waiting list, oldest first; one whose
 * headers are in is busy; one we shut down is on no list until
 * libmicrohttpd closes it.
 */
enum conn_state { CONN_WAITING, CONN_BUSY, CONN_CLOSING };

struct conn {
	struct conn	*prev, *next;
	int		 fd;
	enum conn_state	 state;
	int64_t		 phase_start;	/* connected, or last answer sent */
	char		*query;		/* the current request's raw query */
};

struct conn_list {
	struct conn	*head, *tail;
	int		 n;
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
	int		 replace;	/* OAuth: may replace the credential */
	char		 workspace[NAME_MAX_LEN + 1];
	char		 sub[UUID_LEN + 1];
	char		 sub_name[NAME_MAX_LEN + 1];	/* for the log */
	char		 event_id[UUID_LEN + 1];
	int64_t		 received_at;
	int64_t		 sent_ms;
	int64_t		 start_ms;	/* headers complete */
	int64_t		 start_us;	/* the same, monotonic us */
	int		 unsent;	/* the verifier's connection was not up */
	char		 method[8];	/* POST, or GET for a handshake */
	/* The subscription's integration, by name: definitions reload
	 * while a delivery waits. */
	char		 integ[NAME_MAX_LEN + 1];
	size_t		 limit;
	size_t		 received;	/* body bytes read, kept or not */
	int		 too_large;	/* over limit: read on, answer 413 */
	int		 over_budget;	/* over the budget: read on, 503 */
	struct buf	 body;		/* its cap is charged to the budget */
	/* The answer once known. */
	int		 status;
	char		*answer;
	const char	*ctype;
	char		*hs_ctype;	/* a handshake's, malloc'd */
	char		*hs_headers;	/* its "Name: value\n" lines */
	int		 retry_after;
};

struct receiver {
	struct config	 cfg;
	struct stage	 st;
	struct db	 db;
	MDB_txn		*rtxn;		/* reset/renewed read txn */
	struct integ_set integs;
	uint64_t	 integ_stamp;	/* of the definitions loaded */
	int64_t		 integ_looked;	/* mono_ms of the last look */
	int		 reload;	/* SIGHUP came */
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
	uint64_t	 evicted;	/* connections closed to make room */
	uint64_t	 refused_budget;	/* 503: over the body budget */
	uint64_t	 refused_spool_full;	/* 503: HOOKPIPE_SPOOL_MAX */
	uint64_t	 refused_unsigned;	/* 401: not spooled */
	int		 draining;
	int		 handoff_fd;	/* run/receiver.handoff listener */
	int		 quiesced_fd;	/* our listening socket, once draining */
	struct conn_list waiting;	/* no request yet, oldest first */
	struct conn_list busy;		/* a request's headers are in */
	int		 nconns;	/* open, closing ones too */
	int		 conn_max;	/* CONN_MAX, or fewer fds allow */
	size_t		 body_bytes;	/* bodies held in memory */
	size_t		 body_shared;	/* what they take beyond their share */
	int64_t		 drain_deadline;
	int		 inherited_fd;	/* listening socket taken over */
	char		 scratch[256];
};

/* Queue a response (copies body). */
enum MHD_Result respond(struct receiver *, struct MHD_Connection *,
	    int status, const char *ctype, const char *body,
	    const char *allow, int retry_after);

/* The same with a handshake's header lines ("Name: value\n"). */
enum MHD_Result respond_hs(struct receiver *, struct MHD_Connection *,
	    int status, const char *ctype, const char *body,
	    const char *headers);

/* http.c */
/* A definition refused, in the log. */
void	rx_warn_integ(const char *msg);
/* Cap each integration's max_body to what the limits allow. */
void	rx_cap_limits(struct receiver *);
/* Load the definitions again (SIGHUP, or the directories changed). */
void	rx_reload(struct receiver *);
/* The integration of that name, looking for new definition files first
 * when it is missing (at most ten times a second). */
const struct integ *rx_integ(struct receiver *, const char *name);
void	rx_start_http(struct receiver *, int no_listen);
/* Exit 100 with a line that says why when the address cannot be had. */
void	rx_check_listen(const struct config *);
void	rx_read_verdicts(struct receiver *);
/* Spool what waited too long (or everything, when all). */
void	rx_expire_waiting(struct receiver *, int all);
void	rx_start_draining(struct receiver *);
/* Close connections whose headers did not arrive in time (shorter when
 * the slots run out). */
void	rx_enforce_deadlines(struct receiver *);
/* Send what waited for the connection to the verifier to come up. */
void	rx_send_unsent(struct receiver *);

/* handshake.c */
/* A HEAD to a subscription: its integration's HEAD handshake, or 405. */
enum MHD_Result rx_handshake_head(struct receiver *, struct MHD_Connection *,
	    const struct integ *, const struct sub_rec *);
/*
 * A POST whose integration adopts a secret from its handshake (Asana's
 * X-Hook-Secret): 1 when rq is answered (rq->status, ->answer), 0 when
 * it is not such a handshake.
 */
int	rx_handshake_secret(struct receiver *, struct request *,
	    const struct integ *);

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
