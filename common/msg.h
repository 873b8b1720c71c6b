/*
 * Messages between stages. Every message is one msgpack array:
 *
 *	[ version, type, id, body ]
 *
 * version is 1..MSG_VERSION (older versions stay readable: spooled
 * deliveries outlive upgrades, and a swapped stage may speak the version
 * before); type is one of enum msg_type; id is the request, event or run
 * id the message is about; body is a map whose keys depend on the type.
 *
 * Each type has a struct and a pack/unpack pair below: the keys live only
 * in msg.c, and an unpacker refuses a missing, unknown or ill-typed field.
 * A peer's malformed message is logged and dropped, never fatal.
 */
#ifndef HP_MSG_H
#define HP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"
#include "util.h"

/*
 * 1: the first layout. 2: a delivery carries its request's method, path
 * and query (signature schemes that sign them).
 */
#define MSG_VERSION	2

enum msg_type {
	/* receiver -> verifier */
	MSG_VERIFY = 1,		/* a delivery to verify and store */
	/* verifier -> receiver */
	MSG_VERDICT = 10,	/* the HTTP answer for a MSG_VERIFY */
	/* verifier -> router */
	MSG_EVENT = 20,		/* events were stored: route them */
	/* router -> dispatcher, admin -> dispatcher */
	MSG_RUN = 30,		/* a run is due: start it */
	/* admin -> router, admin -> dispatcher */
	MSG_WAKE = 40,		/* rescan stored work now */
	MSG_TYPE_MAX
};

const char *msg_type_name(int type);

/* An envelope, decoded; the body is typed by the unpackers below. */
struct msg {
	int		 version;
	int		 type;
	char		 id[128];
	const msgpack_object *body;	/* a map; valid while u lives */
	msgpack_unpacked u;
};

/* Decode the envelope: 0, or -1 with a reason. Free with msg_free(). */
int	msg_decode(const void *data, size_t len, struct msg *, const char **why);
void	msg_free(struct msg *);

/*
 * A delivery. Strings point into the message (not NUL-terminated), so an
 * unpacked struct lives as long as its struct msg.
 */
#define MSG_HEADERS_MAX	128
struct msg_str {
	const char	*p;
	size_t		 n;
};

struct msg_header {
	struct msg_str	 name;		/* lower case */
	struct msg_str	 value;
};

struct msg_verify {
	char		 req_id[24];	/* the receiver's request (envelope id) */
	char		 sub[UUID_LEN + 1];
	char		 event_id[UUID_LEN + 1];
	int64_t		 received_at;	/* us */
	char		 method[8];
	struct msg_str	 path;		/* as requested, without the query */
	struct msg_str	 query;		/* after '?', raw; may be empty */
	struct msg_header headers[MSG_HEADERS_MAX];
	size_t		 nheaders;
	struct msg_str	 body;
};

/* The HTTP answer to a delivery. */
struct msg_verdict {
	char		 req_id[24];
	int		 status;
	struct msg_str	 body;
	int		 retry_after;	/* seconds, 0: none */
	/* A handshake's answer: its media type and "Name: value\n" header
	 * lines; empty otherwise (and then not sent). */
	struct msg_str	 ctype;
	struct msg_str	 headers;
};

/* Hints: nothing but an id (the stores are the truth). */
struct msg_hint {
	char		 id[UUID_LEN + 1];	/* event or run id, or "" */
};

void	msg_verify_pack(struct mpw *, const struct msg_verify *);
int	msg_verify_unpack(const struct msg *, struct msg_verify *,
	    const char **why);
void	msg_verdict_pack(struct mpw *, const struct msg_verdict *);
int	msg_verdict_unpack(const struct msg *, struct msg_verdict *,
	    const char **why);
/* MSG_EVENT, MSG_RUN and MSG_WAKE. */
void	msg_hint_pack(struct mpw *, enum msg_type, const char *id);
int	msg_hint_unpack(const struct msg *, struct msg_hint *,
	    const char **why);

#endif
