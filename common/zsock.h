/*
 * ZeroMQ helpers: sockets with explicit linger and high-water marks,
 * endpoints under $HOOKPIPE_HOME/run, and the tap every stage publishes
 * on for `hookpipectl tail`.
 */
#ifndef HP_ZSOCK_H
#define HP_ZSOCK_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"

/* Endpoint names under run/. */
#define EP_VERIFIER	"verifier.sock"		/* ROUTER, bound by verifier */
#define EP_ROUTER	"router.sock"		/* PULL, bound by router */
#define EP_DISPATCHER	"dispatcher.sock"	/* PULL, bound by dispatcher */

#define ZS_HWM		10000

/* Create a socket with linger and HWMs set; NULL on failure (errno). */
void   *zs_socket(void *ctx, int type, int linger_ms);
/* Bind or connect to run/<name>; -1 with a message on failure. */
int	zs_bind(void *sock, const struct config *, const char *name,
	    char *err, size_t errlen);
int	zs_connect(void *sock, const struct config *, const char *name,
	    char *err, size_t errlen);
/* Send one frame without blocking: 0, or -1 (errno EAGAIN when full). */
int	zs_send(void *sock, const void *p, size_t n, int more);

/*
 * Taps: an XPUB socket at run/<stage>.tap. A subscriber subscribes to
 * "m" for metadata or "p" for metadata and payloads; the stage builds the
 * JSON only when somebody listens, so a tap costs nothing otherwise.
 */
struct tap {
	void	*sock;
	int	 meta_subs;
	int	 payload_subs;
};

int	tap_open(struct tap *, void *ctx, const struct config *,
	    const char *stage, char *err, size_t errlen);
void	tap_poll(struct tap *);	/* reads subscription changes */
int	tap_active(const struct tap *);
int	tap_wants_payload(const struct tap *);
/* Publishes obj (stolen reference) to every subscriber. */
void	tap_publish(struct tap *, json_t *obj, json_t *payload);
void	tap_close(struct tap *);

#endif
