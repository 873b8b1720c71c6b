#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "log.h"
#include "zsock.h"

void *
zs_socket(void *ctx, int type, int linger_ms)
{
	void *s = zmq_socket(ctx, type);
	int hwm = ZS_HWM;

	if (s == NULL)
		return NULL;
	if (zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof(linger_ms)) ||
	    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm)) ||
	    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm))) {
		zmq_close(s);
		return NULL;
	}
	return s;
}

static int
zs_attach(void *sock, const struct config *cfg, const char *name, int bind,
    char *err, size_t errlen)
{
	char ep[PATH_MAX + 16];
	int rc;

	if (config_endpoint(cfg, name, ep, sizeof(ep)) == -1) {
		snprintf(err, errlen, "endpoint path too long for %s", name);
		return -1;
	}
	rc = bind ? zmq_bind(sock, ep) : zmq_connect(sock, ep);
	if (rc == -1) {
		snprintf(err, errlen, "cannot %s %s: %s", bind ? "bind" :
		    "connect", ep, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

int
zs_bind(void *sock, const struct config *cfg, const char *name, char *err,
    size_t errlen)
{
	return zs_attach(sock, cfg, name, 1, err, errlen);
}

int
zs_connect(void *sock, const struct config *cfg, const char *name,
    char *err, size_t errlen)
{
	return zs_attach(sock, cfg, name, 0, err, errlen);
}

int
zs_send(void *sock, const void *p, size_t n, int more)
{
	int flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0);

	return zmq_send(sock, p, n, flags) == -1 ? -1 : 0;
}

int
tap_open(struct tap *t, void *ctx, const struct config *cfg,
    const char *stage, char *err, size_t errlen)
{
	char name[64];
	int one = 1;

	memset(t, 0, sizeof(*t));
	snprintf(name, sizeof(name), "%s.tap", stage);
	if ((t->sock = zs_socket(ctx, ZMQ_XPUB, 0)) == NULL) {
		snprintf(err, errlen, "tap socket: %s", zmq_strerror(errno));
		return -1;
	}
	/* Report every subscribe and unsubscribe, not just the first. */
	zmq_setsockopt(t->sock, ZMQ_XPUB_VERBOSER, &one, sizeof(one));
	return zs_bind(t->sock, cfg, name, err, errlen);
}

void
tap_poll(struct tap *t)
{
	unsigned char buf[64];
	int n;

	while ((n = zmq_recv(t->sock, buf, sizeof(buf), ZMQ_DONTWAIT)) > 0) {
		int delta = buf[0] == 1 ? 1 : -1;

		if (n >= 2 && buf[1] == 'p')
			t->payload_subs += delta;
		else
			t->meta_subs += delta;
		if (t->payload_subs < 0)
			t->payload_subs = 0;
		if (t->meta_subs < 0)
			t->meta_subs = 0;
	}
}

int
tap_active(const struct tap *t)
{
	return t->sock != NULL && (t->meta_subs > 0 || t->payload_subs > 0);
}

int
tap_wants_payload(const struct tap *t)
{
	return t->payload_subs > 0;
}

static void
tap_send(struct tap *t, char topic, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	size_t n;
	char *frame;

	if (s == NULL)
		return;
	n = strlen(s);
	if ((frame = malloc(n + 1)) != NULL) {
		frame[0] = topic;
		memcpy(frame + 1, s, n);
		zmq_send(t->sock, frame, n + 1, ZMQ_DONTWAIT);
		free(frame);
	}
	free(s);
}

void
tap_publish(struct tap *t, json_t *obj, json_t *payload)
{
	if (t->meta_subs > 0)
		tap_send(t, 'm', obj);
	if (t->payload_subs > 0) {
		if (payload != NULL)
			json_object_set(obj, "payload", payload);
		tap_send(t, 'p', obj);
	}
	json_decref(obj);
	json_decref(payload);
}

void
tap_close(struct tap *t)
{
	if (t->sock != NULL)
		zmq_close(t->sock);
	t->sock = NULL;
}
