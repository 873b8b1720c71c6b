/*
 * Messages between stages. Every message is one msgpack array:
 *
 *	[ version, type, id, body ]
 *
 * version is MSG_VERSION; type is one of enum msg_type; id is the request,
 * event or run id the message is about; body is a map whose keys depend
 * on the type. Decoders refuse anything else: a peer's malformed message
 * is logged and dropped, never fatal.
 */
#ifndef HP_MSG_H
#define HP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define MSG_VERSION	1

enum msg_type {
	/* receiver -> verifier */
	MSG_VERIFY = 1,		/* a delivery to verify and store */
	/* verifier -> receiver */
	MSG_VERDICT = 10,	/* the HTTP answer for a MSG_VERIFY */
	/* verifier -> router */
	MSG_EVENT = 20,		/* an event was stored: route it */
	/* router -> dispatcher, admin -> dispatcher */
	MSG_RUN = 30,		/* a run is due: start it */
	/* admin -> router, admin -> dispatcher */
	MSG_WAKE = 40,		/* rescan stored work now */
	MSG_TYPE_MAX
};

const char *msg_type_name(int type);

struct msg {
	int		 version;
	int		 type;
	char		 id[128];
	const msgpack_object *body;	/* a map; valid while u lives */
	msgpack_unpacked u;
};

/* Start a message: packs the envelope; the caller then packs the body. */
void	msg_begin(struct mpw *, enum msg_type, const char *id);
/* Decode: 0, or -1 with a reason for the log. Free with msg_free(). */
int	msg_decode(const void *data, size_t len, struct msg *, const char **why);
void	msg_free(struct msg *);

#endif
