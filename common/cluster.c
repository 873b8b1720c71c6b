/*
 * Cluster mode on NATS JetStream (see cluster.h for the layout).
 *
 * Every JetStream call here is synchronous and bounded by
 * CLUSTER_WAIT_MS: a caller that answers a sender (the verifier) waits
 * for the quorum's acknowledgement, or answers 503. Once a call failed,
 * the ones after it fail at once until cluster_retry() (the verifier
 * calls it per batch), so that a cluster without quorum costs one
 * timeout per batch, not one per delivery.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "cluster.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "runjson.h"
#include "util.h"
#include "version.h"

#define URLS_MAX	16
#define NS_PER_S	1000000000LL
#define DEDUPE_TTL_S	(7LL * 86400)
#define DUP_WINDOW_S	120
#define HOST_KEY_LEN	(2 + 32)	/* "h." + half a SHA-256, in hex */
#define COPIES_MAX	256	/* of one event's runs read */
#define CONNECT_AUTH_TRIES 3	/* a refusal of the credentials, tried */

int
cluster_enabled(void)
{
	const char *v = getenv("HOOKPIPE_NATS");

	return v != NULL && v[0] != '\0';
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* nats://host[:port] or tls://host[:port], with an optional user@. */
static int
url_valid(const char *u)
{
	const char *h, *p, *e;

	if (strncmp(u, "nats://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "tls://", 6) == 0)
		h = u + 6;
	else
		return 0;
	if ((p = strrchr(h, '@')) != NULL)
		h = p + 1;
	if ((e = strchr(h, '/')) != NULL && e[1] != '\0')
		return 0;
	if (*h == '[') {			/* [::1]:4222 */
		if ((p = strchr(h, ']')) == NULL || p == h + 1)
			return 0;
		p++;
	} else {
		for (p = h; *p != '\0' && *p != ':' && *p != '/'; p++)
			if (!(*p == '-' || *p == '.' || *p == '_' ||
			    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z')))
				return 0;
		if (p == h)
			return 0;
	}
	if (*p == ':') {
		int64_t port;
		char num[8];
		size_t n = strcspn(p + 1, "/");

		if (n == 0 || n >= sizeof(num))
			return 0;
		memcpy(num, p + 1, n);
		num[n] = '\0';
		if (parse_i64(num, 1, 65535, &port) != 0)
			return 0;
		p += 1 + n;
	}
	return *p == '\0' || strcmp(p, "/") == 0;
}

/*
 * URLS (one, or a comma-separated list) without their secrets: the
 * password of user:password@ becomes ***, and so does a token@, so that
 * what is printed or logged never holds one.
 */
static void
urls_redact(const char *urls, char *out, size_t len)
{
	const char *u = urls, *h, *at, *c, *end;
	size_t o = 0;
	int n;

	out[0] = '\0';
	while (*u != '\0' && o < len) {
		end = u + strcspn(u, ",");
		h = u;
		if ((c = strstr(u, "://")) != NULL && c < end)
			h = c + 3;
		for (at = NULL, c = h; c < end; c++)
			if (*c == '@')
				at = c;
		if (at == NULL)
			n = snprintf(out + o, len - o, "%.*s", (int)(end - u), u);
		else {
			c = memchr(h, ':', (size_t)(at - h));
			/* user:***@host, or ***@host for a token */
			n = snprintf(out + o, len - o, "%.*s***%.*s",
			    (int)((c != NULL ? c + 1 : h) - u), u,
			    (int)(end - at), at);
		}
		if (n < 0)
			break;
		o += (size_t)n;
		if (*end == '\0')
			break;
		if (o < len - 1) {
			out[o++] = ',';
			out[o] = '\0';
		}
		u = end + 1;
	}
}

/* The library's last error, without its place in the library. */
static const char *
nats_text(natsStatus s)
{
	const char *t = nats_GetLastError(NULL), *p;

	/* "(conn.c:2088): No server ...": the library's place is noise. */
	if (t != NULL && t[0] == '(' && (p = strstr(t, "): ")) != NULL)
		t = p + 3;
	return t != NULL && t[0] != '\0' ? t : natsStatus_GetText(s);
}

static void
nats_why(natsStatus s, char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s: %s", what, nats_text(s));
}

/*
 * The file a variable names can be read: said with the variable and the
 * file, before the library says only that the TLS setup failed.
 */
static int
file_readable(const char *var, char *err, size_t len)
{
	const char *path = env(var);
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, len, "%s=%s: cannot read it: %s", var, path,
		    strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * The library's "SSL handshake error: 20:REASON:depth=0:cert=SUBJECT:
 * issuer=ISSUER" (or "62:REASON:expected=HOST:cert=SUBJECT"): this host
 * refused the server's certificate; NULL for any other TLS failure.
 * Sets the reason OpenSSL gives and the certificate's subject.
 */
static const char *
tls_verify_error(const char *t, int *rlen, const char **cert, int *clen)
{
	const char *r, *re, *ce;

	if ((r = strstr(t, "handshake error: ")) == NULL)
		return NULL;
	r += 17;
	if (r[0] < '0' || r[0] > '9')
		return NULL;
	r += strspn(r, "0123456789");		/* OpenSSL's code */
	if (*r++ != ':')
		return NULL;
	if ((re = strstr(r, ":depth=")) == NULL &&
	    (re = strstr(r, ":expected=")) == NULL)
		return NULL;
	if ((*cert = strstr(re, ":cert=")) != NULL) {
		*cert += 6;
		if ((ce = strstr(*cert, ":issuer=")) == NULL)
			ce = *cert + strlen(*cert);
	} else
		*cert = ce = re;
	*rlen = (int)(re - r);
	*clen = (int)(ce - *cert);
	return r;
}

/* This host refused the server's certificate: which, why, what to fix. */
static void
tls_untrusted(const char *r, int rlen, const char *cert, int clen,
    char *err, size_t len)
{
	const char *ca = env("HOOKPIPE_NATS_CA");
	char fix[PATH_MAX + 128];

	if (memmem(r, (size_t)rlen, "mismatch", 8) != NULL)
		snprintf(fix, sizeof(fix), "it is for another host: its "
		    "subjectAltName must hold the host of the URL in "
		    "HOOKPIPE_NATS, or the URL the name it holds");
	else if (ca == NULL)
		snprintf(fix, sizeof(fix), "set HOOKPIPE_NATS_CA to the CA "
		    "certificate (PEM) that signed it");
	else
		snprintf(fix, sizeof(fix), "HOOKPIPE_NATS_CA=%s does not hold "
		    "the CA that signed it", ca);
	snprintf(err, len, "cannot connect to HOOKPIPE_NATS: the server's TLS "
	    "certificate %.*s is not trusted (%.*s): %s", clen, cert, rlen, r,
	    fix);
}

/* What to do about a client certificate the server refused. */
static const char *
cert_fix(char *fix, size_t len)
{
	const char *cert = env("HOOKPIPE_NATS_CERT");

	if (cert == NULL)
		snprintf(fix, len, "set HOOKPIPE_NATS_CERT and "
		    "HOOKPIPE_NATS_KEY to a certificate its CA signed, and its "
		    "key");
	else
		snprintf(fix, len, "HOOKPIPE_NATS_CERT=%s must be signed by "
		    "the CA the server trusts (its ca_file)", cert);
	return fix;
}

/*
 * Why natsConnection_Connect failed, said with what to fix: 100 when a
 * setting on either side is wrong (restarting will not help), 111 when
 * no server answered, or when it cannot be told from that.
 */
static int
connect_why(natsStatus s, int tls, char *err, size_t len)
{
	const char *t = nats_text(s), *r, *cert;
	char fix[PATH_MAX + 128];
	int rlen, clen;

	switch (s) {
	case NATS_CONNECTION_AUTH_FAILED:
		snprintf(err, len, "cannot connect to HOOKPIPE_NATS: the server "
		    "refused the credentials (%s): check the user and "
		    "password in the URLs (nats://USER:PASSWORD@HOST:PORT)%s",
		    t, env("HOOKPIPE_NATS_CREDS") != NULL ? " and the file "
		    "HOOKPIPE_NATS_CREDS names" : " or set HOOKPIPE_NATS_CREDS");
		return 100;
	case NATS_SECURE_CONNECTION_WANTED:
		snprintf(err, len, "cannot connect to HOOKPIPE_NATS: the server "
		    "does not speak TLS, and tls:// URLs or HOOKPIPE_NATS_CA, "
		    "_CERT, _KEY ask for it");
		return 100;
	case NATS_SSL_ERROR:
		if ((r = tls_verify_error(t, &rlen, &cert, &clen)) != NULL) {
			tls_untrusted(r, rlen, cert, clen, err, len);
			return 100;
		}
		break;
	default:
		break;
	}
	/*
	 * With TLS 1.3 a server that refuses the client's certificate
	 * closes the connection once the handshake is over: the library
	 * sees no answer, or cannot write (whichever comes first). A server
	 * going away does the same, so this one stays temporary.
	 */
	if (tls && (strstr(t, "got ''") != NULL ||
	    strstr(t, "SSL_write error") != NULL ||
	    strstr(t, "SSL_read error") != NULL)) {
		snprintf(err, len, "cannot connect to HOOKPIPE_NATS: the server "
		    "closed the connection after the TLS handshake (%s): if it "
		    "verifies clients (verify: true), %s", t,
		    cert_fix(fix, sizeof(fix)));
		return 111;
	}
	nats_why(s, err, len, "cannot connect to HOOKPIPE_NATS");
	return 111;
}

/* A connection made later, in the library's thread: nothing to do. */
static void
connected_later(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
}

static int
connect_to(struct cluster *c, const char *name, int later, char *err,
    size_t errlen)
{
	char list[4096], *p, *save = NULL;
	const char *urls[URLS_MAX], *v;
	natsOptions *o = NULL;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	natsStatus s;
	int n = 0, tls = 0, rc = 100, tries;

	memset(c, 0, sizeof(*c));
	if ((v = env("HOOKPIPE_NATS")) == NULL) {
		snprintf(err, errlen, "HOOKPIPE_NATS is not set");
		return 100;
	}
	if (str_copy(list, v, sizeof(list)) >= sizeof(list)) {
		snprintf(err, errlen, "HOOKPIPE_NATS is too long");
		return 100;
	}
	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		size_t len;

		p += strspn(p, " ");
		for (len = strlen(p); len > 0 && p[len - 1] == ' '; len--)
			p[len - 1] = '\0';
		if (*p == '\0')
			continue;
		if (!url_valid(p)) {
			char shown[512];

			urls_redact(p, shown, sizeof(shown));
			snprintf(err, errlen, "HOOKPIPE_NATS: %s is not a NATS "
			    "URL (nats://HOST:PORT or tls://HOST:PORT, "
			    "separated by commas)", shown);
			return 100;
		}
		if (n == URLS_MAX) {
			snprintf(err, errlen, "HOOKPIPE_NATS: more than %d "
			    "URLs", URLS_MAX);
			return 100;
		}
		if (strncmp(p, "tls://", 6) == 0)
			tls = 1;
		urls[n++] = p;
	}
	if (n == 0) {
		snprintf(err, errlen, "HOOKPIPE_NATS has no URL");
		return 100;
	}
	if ((s = nats_Open(-1)) != NATS_OK ||
	    (s = natsOptions_Create(&o)) != NATS_OK) {
		nats_why(s, err, errlen, "NATS library");
		return 111;
	}
	s = natsOptions_SetServers(o, urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, CLUSTER_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	/* A request while disconnected fails now, not at its timeout. */
	if (s == NATS_OK)
		s = natsOptions_SetFailRequestsOnDisconnect(o, true);
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "HOOKPIPE_NATS");
		goto fail;
	}
	if ((v = env("HOOKPIPE_NATS_CREDS")) != NULL &&
	    (file_readable("HOOKPIPE_NATS_CREDS", err, errlen) == -1 ||
	    (s = natsOptions_SetUserCredentialsFromFiles(o, v, NULL)) !=
	    NATS_OK)) {
		if (s != NATS_OK)
			nats_why(s, err, errlen, "HOOKPIPE_NATS_CREDS");
		goto fail;
	}
	if ((v = env("HOOKPIPE_NATS_CA")) != NULL) {
		tls = 1;
		if (file_readable("HOOKPIPE_NATS_CA", err, errlen) == -1)
			goto fail;
		if ((s = natsOptions_LoadCATrustedCertificates(o, v)) !=
		    NATS_OK) {
			nats_why(s, err, errlen, "HOOKPIPE_NATS_CA");
			goto fail;
		}
	}
	if (env("HOOKPIPE_NATS_CERT") != NULL ||
	    env("HOOKPIPE_NATS_KEY") != NULL) {
		if (env("HOOKPIPE_NATS_CERT") == NULL ||
		    env("HOOKPIPE_NATS_KEY") == NULL) {
			snprintf(err, errlen, "HOOKPIPE_NATS_CERT and "
			    "HOOKPIPE_NATS_KEY go together: set both, or "
			    "neither");
			goto fail;
		}
		tls = 1;
		if (file_readable("HOOKPIPE_NATS_CERT", err, errlen) == -1 ||
		    file_readable("HOOKPIPE_NATS_KEY", err, errlen) == -1)
			goto fail;
		if ((s = natsOptions_LoadCertificatesChain(o,
		    env("HOOKPIPE_NATS_CERT"), env("HOOKPIPE_NATS_KEY"))) !=
		    NATS_OK) {
			nats_why(s, err, errlen, "HOOKPIPE_NATS_CERT/KEY");
			goto fail;
		}
	}
	if (tls && (s = natsOptions_SetSecure(o, true)) != NATS_OK) {
		nats_why(s, err, errlen, "TLS");
		goto fail;
	}
	if (later && (s = natsOptions_SetRetryOnFailedConnect(o, true,
	    connected_later, NULL)) != NATS_OK) {
		nats_why(s, err, errlen, "HOOKPIPE_NATS");
		goto fail;
	}
	/*
	 * A server with operator JWTs (a .creds file) refuses good
	 * credentials now and then: 5 connections of 1,200 with
	 * nats-server 2.9.10 and libnats 3.4.1, the server logging an
	 * authentication error (the library's signatures of 20,000 random
	 * nonces all verify with OpenSSL). Wrong ones are refused every
	 * time: a refusal is tried again, twice.
	 */
	for (tries = 0; tries < CONNECT_AUTH_TRIES; tries++) {
		natsConnection_Destroy(nc);
		nc = NULL;
		if ((s = natsConnection_Connect(&nc, o)) !=
		    NATS_CONNECTION_AUTH_FAILED)
			break;
	}
	if (s != NATS_OK && !(later && s == NATS_NOT_YET_CONNECTED)) {
		rc = connect_why(s, tls, err, errlen);
		goto fail;
	}
	jsOptions_Init(&jo);
	jo.Wait = CLUSTER_WAIT_MS;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) {
		nats_why(s, err, errlen, "JetStream");
		rc = 111;
		goto fail;
	}
	natsOptions_Destroy(o);
	c->nc = nc;
	c->js = js;
	/* Two hosts may share a machine (tests): the home tells them apart. */
	if (gethostname(c->host, 256) == -1)
		str_copy(c->host, "localhost", sizeof(c->host));
	c->host[255] = '\0';
	if ((v = env("HOOKPIPE_HOME")) != NULL) {
		size_t hn = strlen(c->host);

		snprintf(c->host + hn, sizeof(c->host) - hn, ":%s", v);
	}
	return 0;
fail:
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	return rc;
}

int
cluster_connect(struct cluster *c, const char *name, char *err,
    size_t errlen)
{
	return connect_to(c, name, 0, err, errlen);
}

int
cluster_connect_later(struct cluster *c, const char *name, char *err,
    size_t errlen)
{
	return connect_to(c, name, 1, err, errlen);
}

void
cluster_close(struct cluster *c)
{
	cluster_follow_stop(c);
	if (c->route != NULL) {
		natsSubscription_Destroy(c->route);
		c->route = NULL;
	}
	if (c->claims != NULL)
		kvStore_Destroy(c->claims);
	if (c->hosts != NULL)
		kvStore_Destroy(c->hosts);
	if (c->answers != NULL) {
		natsSubscription_Unsubscribe(c->answers);
		natsSubscription_Destroy(c->answers);
	}
	if (c->dedupe != NULL)
		kvStore_Destroy(c->dedupe);
	if (c->js != NULL)
		jsCtx_Destroy(c->js);
	if (c->nc != NULL) {
		/* Acks and naks are published without waiting: sent now. */
		natsConnection_FlushTimeout(c->nc, 500);
		natsConnection_Close(c->nc);
		natsConnection_Destroy(c->nc);
	}
	memset(c, 0, sizeof(*c));
}

void
cluster_retry(struct cluster *c)
{
	__atomic_store_n(&c->failing, 0, __ATOMIC_RELAXED);
}

static int
add_stream(struct cluster *c, const char *name, const char *subj,
    int replicas, int64_t max_age, int64_t dupwin, int64_t per_subject,
    char *err, size_t errlen)
{
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	const char *subjects[1] = { subj };

	jsStreamConfig_Init(&sc);
	sc.Name = name;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = replicas;
	sc.MaxAge = max_age;
	sc.Duplicates = dupwin;
	sc.MaxMsgsPerSubject = per_subject;
	s = js_AddStream(&si, c->js, &sc, NULL, &jerr);
	if (s != NATS_OK && jerr == JSStreamNameExistErr) {
		/* There, with other settings: the replicas may change. */
		s = js_UpdateStream(&si, c->js, &sc, NULL, &jerr);
	}
	if (s != NATS_OK) {
		char what[128];

		snprintf(what, sizeof(what), "stream %s", name);
		nats_why(s, err, errlen, what);
		return s == NATS_TIMEOUT ? -2 : -1;
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

static int
add_bucket(struct cluster *c, const char *name, int replicas, int64_t ttl,
    char *err, size_t errlen)
{
	kvConfig kc;
	kvStore *kv = NULL;
	natsStatus s;

	kvConfig_Init(&kc);
	kc.Bucket = name;
	kc.History = 1;
	kc.TTL = ttl;
	kc.StorageType = js_FileStorage;
	kc.Replicas = replicas;
	if ((s = js_CreateKeyValue(&kv, c->js, &kc)) != NATS_OK) {
		char what[128];

		snprintf(what, sizeof(what), "bucket %s", name);
		nats_why(s, err, errlen, what);
		return s == NATS_TIMEOUT ? -2 : -1;
	}
	kvStore_Destroy(kv);
	return 0;
}

/*
 * The routers' durable consumer: every event from its creation on (those
 * before it were routed by the host that stored them), each to one of
 * the routers that fetch, again to any when not acknowledged in time.
 */
static int
add_router_consumer(struct cluster *c, char *err, size_t errlen)
{
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	s = js_GetConsumerInfo(&ci, c->js, CLUSTER_EVENTS, CLUSTER_ROUTER,
	    NULL, &jerr);
	if (s == NATS_OK) {
		jsConsumerInfo_Destroy(ci);
		return 0;
	}
	jsConsumerConfig_Init(&cc);
	cc.Durable = CLUSTER_ROUTER;
	cc.DeliverPolicy = js_DeliverNew;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = CLUSTER_ACK_WAIT_S * NS_PER_S;
	cc.MaxDeliver = -1;
	cc.MaxAckPending = 4096;
	cc.FilterSubject = CLUSTER_EVENTS_SUBJ ".>";
	if ((s = js_AddConsumer(&ci, c->js, CLUSTER_EVENTS, &cc, NULL,
	    &jerr)) != NATS_OK) {
		nats_why(s, err, errlen, "consumer " CLUSTER_ROUTER);
		return s == NATS_TIMEOUT ? -2 : -1;
	}
	jsConsumerInfo_Destroy(ci);
	return 0;
}

/*
 * One pass of the set-up: 0, -1 on an error, -2 on a timeout (each step
 * is idempotent, the pass may be made again).
 */
static int
init_once(struct cluster *c, int replicas, int64_t age, char *err,
    size_t errlen)
{
	int r;

	if ((r = add_stream(c, CLUSTER_EVENTS, CLUSTER_EVENTS_SUBJ ".>",
	    replicas, age, DUP_WINDOW_S * NS_PER_S, -1, err, errlen)) != 0 ||
	    (r = add_stream(c, CLUSTER_RUNS, CLUSTER_RUNS_SUBJ ".>", replicas,
	    age, DUP_WINDOW_S * NS_PER_S, 1, err, errlen)) != 0 ||
	    (r = add_bucket(c, CLUSTER_DEDUPE, replicas, DEDUPE_TTL_S *
	    NS_PER_S, err, errlen)) != 0 ||
	    (r = add_bucket(c, CLUSTER_CONFIG, replicas, 0, err, errlen)) != 0 ||
	    (r = add_bucket(c, CLUSTER_CLAIMS, replicas, DEDUPE_TTL_S *
	    NS_PER_S, err, errlen)) != 0 ||
	    (r = add_bucket(c, CLUSTER_HOSTS, replicas, CLUSTER_HOST_TTL_S *
	    NS_PER_S, err, errlen)) != 0 ||
	    (r = add_router_consumer(c, err, errlen)) != 0)
		return r;
	return 0;
}

int
cluster_init(struct cluster *c, int replicas, int64_t max_age_s, char *err,
    size_t errlen)
{
	jsOptions jo;
	jsCtx *js;
	void *stages;
	natsStatus s;
	int64_t age;
	int i, r = -1;

	/*
	 * A claim in the dedupe bucket whose event is no longer in the
	 * stream is taken for a failed attempt: the stream must keep its
	 * events at least as long as the bucket keeps claims.
	 */
	if (max_age_s > 0 && max_age_s < DEDUPE_TTL_S)
		max_age_s = DEDUPE_TTL_S;
	age = max_age_s * NS_PER_S;

	/*
	 * The set-up waits longer on JetStream than the stages do: a
	 * replicated stream is made by a vote of its servers, which a
	 * busy cluster takes seconds over.
	 */
	jsOptions_Init(&jo);
	jo.Wait = CLUSTER_ADMIN_WAIT_MS;
	if ((s = natsConnection_JetStream(&js, c->nc, &jo)) != NATS_OK) {
		nats_why(s, err, errlen, "JetStream");
		return -1;
	}
	stages = c->js;
	c->js = js;
	for (i = 0; i < CLUSTER_ADMIN_TRIES; i++) {
		if ((r = init_once(c, replicas, age, err, errlen)) != -2)
			break;
		nats_Sleep(1000);
	}
	c->js = stages;
	jsCtx_Destroy(js);
	return r == 0 ? 0 : -1;
}

/*
 * A bucket made by `hookpipe cluster init`, opened on first use and kept
 * in *slot until cluster_close().
 */
static int
bucket_open(struct cluster *c, void **slot, const char *name, char *err,
    size_t errlen)
{
	kvStore *kv;
	natsStatus s;
	char what[64];

	if (*slot != NULL)
		return 0;
	if ((s = js_KeyValue(&kv, c->js, name)) != NATS_OK) {
		snprintf(what, sizeof(what), "bucket %s (made by hookpipe "
		    "cluster init)", name);
		nats_why(s, err, errlen, what);
		return -1;
	}
	*slot = kv;
	return 0;
}

/* Put o (taken) as a compact JSON value at key; 0, or -1 with err. */
static int
kv_put_json(void *kv, const char *bucket, const char *key, json_t *o,
    char *err, size_t errlen)
{
	natsStatus s;
	char *v, what[64];

	v = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s = kvStore_PutString(NULL, kv, key, v);
	free(v);
	if (s != NATS_OK) {
		snprintf(what, sizeof(what), "bucket %s", bucket);
		nats_why(s, err, errlen, what);
		return -1;
	}
	return 0;
}

#define dedupe_open(c, err, len) \
	bucket_open((c), &(c)->dedupe, CLUSTER_DEDUPE, (err), (len))
#define claims_open(c, err, len) \
	bucket_open((c), &(c)->claims, CLUSTER_CLAIMS, (err), (len))
#define hosts_open(c, err, len) \
	bucket_open((c), &(c)->hosts, CLUSTER_HOSTS, (err), (len))

int
cluster_dedupe_open(struct cluster *c, char *err, size_t errlen)
{
	return dedupe_open(c, err, errlen);
}

/*
 * One string value of a bucket, with its revision and when it was
 * written (ns since the epoch, by the server's clock; either NULL when
 * not wanted): NATS_OK, NATS_NOT_FOUND, or the failure. A value that is
 * empty or does not fit in len is "".
 */
static natsStatus
kv_get_str(kvStore *kv, const char *key, char *val, size_t len,
    uint64_t *rev, int64_t *created)
{
	kvEntry *e = NULL;
	natsStatus s;
	int n;

	val[0] = '\0';
	if ((s = kvStore_Get(&e, kv, key)) != NATS_OK)
		return s;
	n = kvEntry_ValueLen(e);
	if (n > 0 && (size_t)n < len) {
		memcpy(val, kvEntry_Value(e), (size_t)n);
		val[n] = '\0';
	}
	if (rev != NULL)
		*rev = kvEntry_Revision(e);
	if (created != NULL)
		*created = kvEntry_Created(e);
	kvEntry_Destroy(e);
	return NATS_OK;
}

/*
 * 1 with the value (and when it was written), 0 when there is no such
 * key, -1 when unknown.
 */
static int
dedupe_get(struct cluster *c, const char *key, char *val, size_t len,
    int64_t *created)
{
	natsStatus s = kv_get_str(c->dedupe, key, val, len, NULL, created);

	if (s == NATS_NOT_FOUND)
		return 0;
	return s == NATS_OK && val[0] != '\0' ? 1 : -1;
}

int
cluster_dedupe_claim(struct cluster *c, const char *sub, const char *did,
    const char *event_id, char *first, size_t firstlen, char *err,
    size_t errlen)
{
	unsigned char dg[32];
	char key[2 + 64 + 1], prev[UUID_LEN + 1];
	struct buf b = { 0 };
	int64_t created = 0;
	natsStatus s;
	int rc;

	if (__atomic_load_n(&c->failing, __ATOMIC_RELAXED)) {
		snprintf(err, errlen, "NATS JetStream did not answer");
		return CLUSTER_FAIL;
	}
	if (dedupe_open(c, err, errlen) == -1)
		goto fail;
	/* Delivery ids are any text; keys are [A-Za-z0-9_=./-]. */
	if (buf_append(&b, sub, strlen(sub) + 1) == -1 ||
	    buf_append(&b, did, strlen(did)) == -1) {
		buf_free(&b);
		snprintf(err, errlen, "out of memory");
		return CLUSTER_FAIL;
	}
	sha256(b.data, b.len, dg);
	buf_free(&b);
	memcpy(key, "d.", 2);
	hex_encode(dg, sizeof(dg), key + 2);
	if ((s = kvStore_CreateString(NULL, c->dedupe, key, event_id)) ==
	    NATS_OK) {
		str_copy(first, event_id, firstlen);
		return CLUSTER_NEW;
	}
	/*
	 * Claimed before, or no quorum. A claim whose event never reached
	 * the stream (its publish failed: the sender got 503 and retries)
	 * is taken over with its event id, so that the retry is stored;
	 * the stream's message-id dedupe absorbs a publish racing it. But
	 * not while its publish may still be under way (another host got
	 * the same delivery a moment before): both would answer it new.
	 */
	if (s != NATS_ERR) {
		/* A timeout, a lost connection: not the server's "exists". */
		nats_why(s, err, errlen, "dedupe bucket " CLUSTER_DEDUPE);
		goto fail;
	}
	if ((rc = dedupe_get(c, key, prev, sizeof(prev), &created)) != 1) {
		nats_why(s, err, errlen, "dedupe bucket " CLUSTER_DEDUPE);
		goto fail;
	}
	str_copy(first, prev, firstlen);
	switch (cluster_event_exists(c, prev)) {
	case 1:
		return CLUSTER_DUP;
	case 0:
		if (now_us() * 1000 - created < CLAIM_SETTLE_MS * 1000000LL) {
			snprintf(err, errlen, "another host is storing this "
			    "delivery");
			return CLUSTER_BUSY;
		}
		return CLUSTER_NEW;
	}
	snprintf(err, errlen, "stream " CLUSTER_EVENTS " did not answer");
fail:
	__atomic_store_n(&c->failing, 1, __ATOMIC_RELAXED);
	return CLUSTER_FAIL;
}

int
cluster_event_exists(struct cluster *c, const char *event_id)
{
	char subj[64 + UUID_LEN];
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	snprintf(subj, sizeof(subj), CLUSTER_EVENTS_SUBJ ".%s", event_id);
	s = js_GetLastMsg(&m, c->js, CLUSTER_EVENTS, subj, NULL, &jerr);
	natsMsg_Destroy(m);
	if (s == NATS_OK)
		return 1;
	if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
		return 0;
	return -1;
}

int
cluster_event_publish(struct cluster *c, const struct event_rec *e,
    char *err, size_t errlen)
{
	char subj[64 + UUID_LEN], *meta = NULL;
	json_t *o;
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	jsPubOptions po;
	jsErrCode jerr = 0;
	natsStatus s;

	if (__atomic_load_n(&c->failing, __ATOMIC_RELAXED)) {
		snprintf(err, errlen, "NATS JetStream did not answer");
		return -1;
	}
	snprintf(subj, sizeof(subj), CLUSTER_EVENTS_SUBJ ".%s", e->id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
	    "host", c->host, "id", e->id, "sub", e->sub, "workspace", e->workspace,
	    "integration", e->integration, "type", e->type,
	    "delivery_id", e->delivery_id, "state",
	    event_state_name(e->state), "received_at",
	    (json_int_t)e->received_at);
	if (o != NULL && e->headers != NULL)
		json_object_set_new(o, "headers", json_string(e->headers));
	/* One line of ASCII: a header value has no CR, LF nor 8-bit. */
	if (o == NULL || (meta = json_dumps(o, JSON_COMPACT |
	    JSON_ENSURE_ASCII)) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_decref(o);
	s = natsMsg_Create(&m, subj, NULL, (const char *)e->payload,
	    (int)e->payload_len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Hookpipe-Event", meta);
	free(meta);
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		nats_why(s, err, errlen, "event message");
		return -1;
	}
	jsPubOptions_Init(&po);
	po.MsgId = e->id;
	po.ExpectStream = CLUSTER_EVENTS;
	po.MaxWait = CLUSTER_WAIT_MS;
	s = js_PublishMsg(&pa, c->js, m, &po, &jerr);
	natsMsg_Destroy(m);
	jsPubAck_Destroy(pa);
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "stream " CLUSTER_EVENTS);
		__atomic_store_n(&c->failing, 1, __ATOMIC_RELAXED);
		return -1;
	}
	return 0;
}

/*
 * The follower's messages come to the stage through a thread: it waits
 * on the consumer and queues what comes (up to FOLLOW_QUEUE, then the
 * consumer's flow control holds the stream back), and the eventfd tells
 * the stage's poll, which copies them at once rather than at its next
 * tick: a router of this host may be holding their events' messages.
 */
#define FOLLOW_QUEUE	1024
#define FOLLOW_WAIT_MS	500	/* the thread looks at its stop this often */

struct follower {
	natsSubscription *sub;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 room;
	natsMsg		*q[FOLLOW_QUEUE];
	int		 head, n;
	natsStatus	 failed;	/* why the consumer stopped, or OK */
	int		 stop;
	int		 fd;		/* eventfd: something is queued */
};

static void *
follow_main(void *arg)
{
	struct follower *f = arg;
	natsMsg *m;
	natsStatus s;

	for (;;) {
		m = NULL;
		s = natsSubscription_NextMsg(&m, f->sub, FOLLOW_WAIT_MS);
		pthread_mutex_lock(&f->mu);
		while (s == NATS_OK && f->n == FOLLOW_QUEUE && !f->stop)
			pthread_cond_wait(&f->room, &f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			natsMsg_Destroy(m);
			break;
		}
		if (s == NATS_OK) {
			f->q[(f->head + f->n++) % FOLLOW_QUEUE] = m;
			if (f->n == 1)
				wake_post(f->fd);
		} else if (s != NATS_TIMEOUT) {
			/* Messages dropped, the consumer gone (a NATS server
			 * lost with it, and its reset failed): it delivers
			 * nothing any more. */
			f->failed = s;
			wake_post(f->fd);
			pthread_mutex_unlock(&f->mu);
			break;
		}
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

int
cluster_follow_open(struct cluster *c, char *err, size_t errlen)
{
	struct follower *f;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	if (c->follow != NULL)
		return 0;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((f->fd = wake_open()) == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(f);
		return -1;
	}
	jsSubOptions_Init(&so);
	so.Stream = CLUSTER_EVENTS;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverAll;
	if ((s = js_SubscribeSync(&f->sub, c->js, CLUSTER_EVENTS_SUBJ ".>",
	    NULL, &so, &jerr)) != NATS_OK) {
		nats_why(s, err, errlen, "stream " CLUSTER_EVENTS);
		close(f->fd);
		free(f);
		return -1;
	}
	f->failed = NATS_OK;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->room, NULL);
	if ((errno = pthread_create(&f->thread, NULL, follow_main, f)) != 0) {
		snprintf(err, errlen, "the follower's thread: %s",
		    strerror(errno));
		natsSubscription_Unsubscribe(f->sub);
		natsSubscription_Destroy(f->sub);
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->room);
		close(f->fd);
		free(f);
		return -1;
	}
	c->follow = f;
	return 0;
}

int
cluster_follow_fd(struct cluster *c)
{
	struct follower *f = c->follow;

	return f != NULL ? f->fd : -1;
}

void
cluster_follow_stop(struct cluster *c)
{
	struct follower *f = c->follow;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->room);
	pthread_mutex_unlock(&f->mu);
	/* Its wait ends with the subscription (or within FOLLOW_WAIT_MS). */
	natsSubscription_Unsubscribe(f->sub);
	pthread_join(f->thread, NULL);
	while (f->n > 0) {
		natsMsg_Destroy(f->q[f->head]);
		f->head = (f->head + 1) % FOLLOW_QUEUE;
		f->n--;
	}
	natsSubscription_Destroy(f->sub);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->room);
	close(f->fd);
	free(f);
	c->follow = NULL;
}

/* The next queued message, NULL when none (with *failed the status that
 * ended the consumer, or NATS_OK). */
static natsMsg *
follow_pop(struct follower *f, natsStatus *failed)
{
	natsMsg *m = NULL;

	pthread_mutex_lock(&f->mu);
	*failed = NATS_OK;
	if (f->n > 0) {
		m = f->q[f->head];
		f->head = (f->head + 1) % FOLLOW_QUEUE;
		if (f->n-- == FOLLOW_QUEUE)
			pthread_cond_signal(&f->room);
	} else {
		/* Taken while the queue is empty and locked: the thread's
		 * next wake comes after. */
		wake_take(f->fd);
		*failed = f->failed;
	}
	pthread_mutex_unlock(&f->mu);
	return m;
}

int
cluster_follow_next(struct cluster *c, struct event_rec *e, int *mine)
{
	natsMsg *m = NULL;
	const char *meta = NULL;
	natsStatus s;
	int rc;

	memset(e, 0, sizeof(*e));
	if (c->follow == NULL)
		return 0;
	if ((m = follow_pop(c->follow, &s)) == NULL && s == NATS_OK)
		return 0;
	if (m == NULL) {
		/* From the start again, next time. */
		snprintf(c->follow_err, sizeof(c->follow_err), "%s",
		    natsStatus_GetText(s));
		cluster_follow_stop(c);
		return -2;
	}
	natsMsgHeader_Get(m, "Hookpipe-Event", &meta);
	rc = cluster_event_parse(natsMsg_GetSubject(m), meta,
	    natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), c->host, e,
	    mine) == 0 ? 1 : -1;
	natsMsg_Destroy(m);
	return rc;
}

static void
durable_json(json_t *a, const jsConsumerInfo *ci)
{
	if (ci->Config == NULL || ci->Config->Durable == NULL ||
	    ci->Config->Durable[0] == '\0')
		return;
	json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
	    "name", ci->Name, "pending", (json_int_t)ci->NumPending,
	    "ack_pending", (json_int_t)ci->NumAckPending, "redelivered",
	    (json_int_t)ci->NumRedelivered, "waiting",
	    (json_int_t)ci->NumWaiting, "ack_wait_s",
	    (json_int_t)(ci->Config->AckWait / NS_PER_S)));
}

/*
 * The stream's durable consumers (the followers' ordered consumers are
 * ephemeral: not listed): what waits for them, what they hold unacked,
 * what was delivered again.
 */
static void
consumers_status(struct cluster *c, const char *stream, json_t *o)
{
	jsConsumerInfoList *l = NULL;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	json_t *a;
	int i;

	if ((a = json_array()) == NULL)
		return;
	if (js_Consumers(&l, c->js, stream, NULL, &jerr) == NATS_OK) {
		for (i = 0; i < l->Count; i++)
			durable_json(a, l->List[i]);
		jsConsumerInfoList_Destroy(l);
	} else if (strcmp(stream, CLUSTER_EVENTS) == 0 &&
	    js_GetConsumerInfo(&ci, c->js, stream, CLUSTER_ROUTER, NULL,
	    &jerr) == NATS_OK) {
		/* A consumer whose server was lost can keep the whole list
		 * from coming for minutes (nats-server 2.9: "did not
		 * receive all consumer info results"): ours, by name. */
		durable_json(a, ci);
		jsConsumerInfo_Destroy(ci);
	} else {
		json_decref(a);
		return;
	}
	json_object_set_new(o, "durables", a);
}

int
cluster_route_open(struct cluster *c, char *err, size_t errlen)
{
	natsSubscription *sub = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	if (c->route != NULL)
		return 0;
	jsSubOptions_Init(&so);
	so.Stream = CLUSTER_EVENTS;
	so.Consumer = CLUSTER_ROUTER;
	if ((s = js_PullSubscribe(&sub, c->js, CLUSTER_EVENTS_SUBJ ".>",
	    CLUSTER_ROUTER, NULL, &so, &jerr)) != NATS_OK) {
		nats_why(s, err, errlen, "consumer " CLUSTER_ROUTER " of "
		    CLUSTER_EVENTS " (made by hookpipe cluster init)");
		return -1;
	}
	c->route = sub;
	return 0;
}

/*
 * Up to max messages of the routers' consumer, waiting up to ms for the
 * first (0: about none): one pull that does not wait but has an expiry,
 * which the server holds until something comes and ends as soon as it
 * has given what there is.
 */
int
cluster_route_fetch(struct cluster *c, void **msgs, int max, int ms,
    char *err, size_t errlen)
{
	natsMsgList l = { 0 };
	jsFetchRequest fr;
	natsStatus s;
	int i, n = 0;

	if (c->route == NULL || max <= 0)
		return 0;
	jsFetchRequest_Init(&fr);
	fr.Batch = max;
	fr.NoWait = true;
	fr.Expires = (int64_t)(ms > 0 ? ms : 1) * 1000000;
	s = natsSubscription_FetchRequest(&l, c->route, &fr);
	if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "consumer " CLUSTER_ROUTER);
		natsMsgList_Destroy(&l);
		return -1;
	}
	for (i = 0; i < l.Count; i++) {
		if (n < max)
			msgs[n++] = l.Msgs[i];
		else
			natsMsg_Destroy(l.Msgs[i]);	/* redelivered later */
		l.Msgs[i] = NULL;
	}
	natsMsgList_Destroy(&l);
	return n;
}

int
cluster_msg_event(void *msg, char *id, size_t len)
{
	struct event_rec e;
	const char *meta = NULL;
	int mine;

	/* What no verifier would store, no router waits for. */
	natsMsgHeader_Get(msg, "Hookpipe-Event", &meta);
	if (cluster_event_parse(natsMsg_GetSubject(msg), meta, NULL, 0, NULL,
	    &e, &mine) == -1 || str_copy(id, e.id, len) >= len) {
		event_free(&e);
		return -1;
	}
	event_free(&e);
	return 0;
}

void
cluster_msg_ack(void *msg)
{
	natsMsg_Ack(msg, NULL);
}

void
cluster_msg_nak(void *msg, int delay_ms)
{
	natsMsg_NakWithDelay(msg, (int64_t)delay_ms, NULL);
}

void
cluster_msg_term(void *msg)
{
	natsMsg_Term(msg, NULL);
}

void
cluster_msg_progress(void *msg)
{
	natsMsg_InProgress(msg, NULL);
}

void
cluster_msg_free(void *msg)
{
	natsMsg_Destroy(msg);
}

static void	host_key(const char *, char[HOST_KEY_LEN + 1]);

/* A forgotten host's marker in the claims bucket: "g." + digest. */
static void
gone_key(const char *host, char key[HOST_KEY_LEN + 1])
{
	host_key(host, key);
	key[0] = 'g';
}

int
cluster_host_up(struct cluster *c, const char *host)
{
	char key[HOST_KEY_LEN + 1], err[256];
	kvEntry *e = NULL;
	natsStatus s;

	if (hosts_open(c, err, sizeof(err)) == -1)
		return -1;
	host_key(host, key);
	if ((s = kvStore_Get(&e, c->hosts, key)) == NATS_NOT_FOUND)
		return 0;
	kvEntry_Destroy(e);
	return s == NATS_OK ? 1 : -1;
}

int
cluster_host_forgotten(struct cluster *c, const char *host, char *when,
    size_t whenlen)
{
	char key[HOST_KEY_LEN + 1], err[256];
	kvEntry *e = NULL;
	natsStatus s;
	json_t *o;

	if (claims_open(c, err, sizeof(err)) == -1)
		return -1;
	gone_key(host, key);
	if ((s = kvStore_Get(&e, c->claims, key)) == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return -1;
	if (when != NULL && whenlen > 0) {
		o = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e),
		    0, NULL);
		str_copy(when, json_string_value(json_object_get(o, "at")) ?
		    json_string_value(json_object_get(o, "at")) : "?",
		    whenlen);
		json_decref(o);
	}
	kvEntry_Destroy(e);
	return 1;
}

static int	token_ok(const char *);

/*
 * The entries of the claims bucket whose keys match filter, as they are
 * now, each given to fn (up to max, 0: all; -1: all, their keys only,
 * values empty); 0, or -1 with err.
 */
static int
claims_each(struct cluster *c, const char *filter, int max,
    void (*fn)(void *, kvEntry *), void *arg, char *err, size_t errlen)
{
	kvWatchOptions o;
	kvWatcher *w = NULL;
	kvEntry *e = NULL;
	natsStatus s;
	int n = 0;

	if (claims_open(c, err, errlen) == -1)
		return -1;
	kvWatchOptions_Init(&o);
	o.IgnoreDeletes = true;
	/* The keys alone: values empty. */
	o.MetaOnly = max < 0;
	if (max < 0)
		max = 0;
	/* A filter on the server, not every claim. */
	if ((s = kvStore_Watch(&w, c->claims, filter, &o)) != NATS_OK) {
		nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
		return -1;
	}
	/* The values there now, then a NULL entry. */
	while ((max == 0 || n < max) &&
	    (s = kvWatcher_Next(&e, w, CLUSTER_WAIT_MS)) == NATS_OK &&
	    e != NULL) {
		fn(arg, e);
		kvEntry_Destroy(e);
		n++;
	}
	kvWatcher_Destroy(w);
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
		return -1;
	}
	return 0;
}

struct objects {
	json_t	*a;
	int	 age;		/* each with age_ms, since it was put */
};

static void
object_one(void *arg, kvEntry *e)
{
	struct objects *o = arg;
	json_t *v;

	v = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
	if (json_is_object(v)) {
		if (o->age)
			json_object_set_new(v, "age_ms", json_integer(
			    (json_int_t)((now_us() * 1000 -
			    kvEntry_Created(e)) / 1000000)));
		json_array_append(o->a, v);
	}
	json_decref(v);
}

/* The JSON objects of the claims bucket's keys matching filter. */
static json_t *
claims_objects(struct cluster *c, const char *filter, int age, char *err,
    size_t errlen)
{
	struct objects o = { json_array(), age };

	if (o.a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (claims_each(c, filter, 0, object_one, &o, err, errlen) == -1) {
		json_decref(o.a);
		return NULL;
	}
	return o.a;
}

json_t *
cluster_forgotten(struct cluster *c, char *err, size_t errlen)
{
	return claims_objects(c, "g.*", 0, err, errlen);
}

void
cluster_mark_key(struct cluster *c, const char *host, int slot,
    char out[CLUSTER_MARK_KEY_LEN + 1])
{
	char key[HOST_KEY_LEN + 1];

	host_key(host != NULL ? host : c->host, key);
	snprintf(out, CLUSTER_MARK_KEY_LEN + 1, "o.%s.%d", key + 2, slot);
}

int
cluster_mark_put(struct cluster *c, const char *key, const char *ids,
    char *err, size_t errlen)
{
	natsStatus s;

	if (claims_open(c, err, errlen) == -1)
		return -1;
	if (ids == NULL || ids[0] == '\0')
		s = kvStore_Delete(c->claims, key);
	else
		s = kvStore_PutString(NULL, c->claims, key, ids);
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
		return -1;
	}
	return 0;
}

int
cluster_mark_get(struct cluster *c, const char *key, char **ids, char *err,
    size_t errlen)
{
	kvEntry *e = NULL;
	natsStatus s;
	int n;

	*ids = NULL;
	if (claims_open(c, err, errlen) == -1)
		return -1;
	if ((s = kvStore_Get(&e, c->claims, key)) == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
		return -1;
	}
	n = kvEntry_ValueLen(e);
	if ((*ids = malloc(n > 0 ? (size_t)n + 1 : 1)) == NULL) {
		kvEntry_Destroy(e);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (n > 0)
		memcpy(*ids, kvEntry_Value(e), (size_t)n);
	(*ids)[n > 0 ? n : 0] = '\0';
	kvEntry_Destroy(e);
	return 1;
}

static void
mark_one(void *arg, kvEntry *e)
{
	const char *k = kvEntry_Key(e), *dot = strrchr(k, '.');
	json_t *o;

	o = json_pack("{s:s, s:i, s:s%}", "key", k, "slot", dot != NULL ?
	    atoi(dot + 1) : -1, "ids", kvEntry_Value(e) != NULL ?
	    (const char *)kvEntry_Value(e) : "", kvEntry_Value(e) != NULL ?
	    (size_t)kvEntry_ValueLen(e) : 0);
	if (o != NULL && arg != NULL)
		json_array_append_new(arg, o);
}

/* The host a claim names, and its revision. */
static natsStatus
claim_get(struct cluster *c, const char *key, char *owner, size_t ownerlen,
    uint64_t *rev)
{
	return kv_get_str(c->claims, key, owner, ownerlen, rev, NULL);
}

int
cluster_beat(struct cluster *c, int64_t lease_s, char *err, size_t errlen)
{
	char key[HOST_KEY_LEN + 1];
	json_t *o;

	if (claims_open(c, err, errlen) == -1)
		return -1;
	host_key(c->host, key);
	key[0] = 'l';
	o = json_pack("{s:s, s:I}", "host", c->host, "lease_s",
	    (json_int_t)lease_s);
	return kv_put_json(c->claims, CLUSTER_CLAIMS, key, o, err, errlen);
}

json_t *
cluster_beats(struct cluster *c, char *err, size_t errlen)
{
	return claims_objects(c, "l.*", 1, err, errlen);
}

int
cluster_claim_owner(struct cluster *c, const char *run_id, char *owner,
    size_t ownerlen)
{
	char key[2 + UUID_LEN + 1], err[256];
	uint64_t rev;
	natsStatus s;

	owner[0] = '\0';
	if (claims_open(c, err, sizeof(err)) == -1)
		return -1;
	snprintf(key, sizeof(key), "r.%s", run_id);
	if ((s = claim_get(c, key, owner, ownerlen, &rev)) == NATS_NOT_FOUND)
		return 0;
	return s == NATS_OK ? 1 : -1;
}

json_t *
cluster_marks(struct cluster *c, const char *host, int max, char *err,
    size_t errlen)
{
	char key[CLUSTER_MARK_KEY_LEN + 1], *dot;
	json_t *a;

	cluster_mark_key(c, host, 0, key);
	dot = strrchr(key, '.');
	dot[1] = '*';
	dot[2] = '\0';
	if ((a = json_array()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (claims_each(c, key, max, mark_one, a, err, errlen) == -1) {
		json_decref(a);
		return NULL;
	}
	return a;
}

json_t *
cluster_marks_of(struct cluster *c, const char *dg, int keys_only, char *err,
    size_t errlen)
{
	char filter[64];
	json_t *a;

	if (dg != NULL && (strlen(dg) != 32 || !token_ok(dg))) {
		snprintf(err, errlen, "not a host's digest");
		return NULL;
	}
	if (dg != NULL)
		snprintf(filter, sizeof(filter), "o.%s.*", dg);
	else
		str_copy(filter, "o.>", sizeof(filter));
	if ((a = json_array()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (claims_each(c, filter, keys_only ? -1 : 0, mark_one, a, err,
	    errlen) == -1) {
		json_decref(a);
		return NULL;
	}
	return a;
}

int
cluster_host_forget(struct cluster *c, const char *host, int undo,
    char *err, size_t errlen)
{
	char key[HOST_KEY_LEN + 1], at[32];
	natsStatus s;
	json_t *o;

	if (claims_open(c, err, errlen) == -1)
		return -1;
	gone_key(host, key);
	if (undo) {
		if ((s = kvStore_Delete(c->claims, key)) != NATS_OK) {
			nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
			return -1;
		}
		return 0;
	}
	fmt_rfc3339(now_us(), at, sizeof(at));
	o = json_pack("{s:s, s:s, s:s}", "host", host, "at", at, "by",
	    c->host);
	return kv_put_json(c->claims, CLUSTER_CLAIMS, key, o, err, errlen);
}

int
cluster_run_claim(struct cluster *c, const char *run_id, char *owner,
    size_t ownerlen, char *err, size_t errlen)
{
	char key[2 + UUID_LEN + 1];
	uint64_t rev;
	natsStatus s;
	int rc;

	owner[0] = '\0';
	if (claims_open(c, err, errlen) == -1)
		return CLUSTER_FAIL;
	snprintf(key, sizeof(key), "r.%s", run_id);
	if ((s = kvStore_CreateString(NULL, c->claims, key, c->host)) ==
	    NATS_OK)
		return CLUSTER_NEW;
	if (s != NATS_ERR) {
		nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
		return CLUSTER_FAIL;
	}
	/* Taken: by this host (it routed the event before, and died
	 * before it acknowledged it), or by another. */
	if ((s = claim_get(c, key, owner, ownerlen, &rev)) != NATS_OK) {
		nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
		return CLUSTER_FAIL;
	}
	if (strcmp(owner, c->host) == 0)
		return CLUSTER_MINE;
	/*
	 * Another host's. One the operator said is gone for good (`hookpipe
	 * cluster forget`) never acknowledges the event: its claim is taken
	 * over, if no other host took it first (the update names the
	 * revision read).
	 */
	if ((rc = cluster_host_forgotten(c, owner, NULL, 0)) == 1 ||
	    (c->gone != NULL && c->gone(c->gone_arg, owner))) {
		if ((s = kvStore_UpdateString(NULL, c->claims, key, c->host,
		    rev)) == NATS_OK) {
			log_info("cluster: run %s: claim of %s host %s "
			    "taken over", run_id, rc == 1 ? "forgotten" :
			    "lost", owner);
			return CLUSTER_NEW;
		}
		if (s != NATS_ERR) {
			nats_why(s, err, errlen, "bucket " CLUSTER_CLAIMS);
			return CLUSTER_FAIL;
		}
		return CLUSTER_DUP;	/* another host was quicker */
	}
	return rc == 0 && cluster_host_up(c, owner) == 0 ? CLUSTER_DOWN :
	    CLUSTER_DUP;
}

void
cluster_run_unclaim(struct cluster *c, const char *run_id)
{
	char key[2 + UUID_LEN + 1];

	if (c->claims == NULL)
		return;
	snprintf(key, sizeof(key), "r.%s", run_id);
	kvStore_Delete(c->claims, key);
}

/*
 * The runs' copies, in HOOKPIPE_RUNS: hookpipe.runs.HOST.EVENT.RUN (HOST
 * the digest of the host's name, as its keys in the buckets have it),
 * the stream keeping the last message of each subject; and each host's
 * marker, hookpipe.runs.HOST.host (its name), sent again with its
 * copies once a minute, by which `hookpipe runs` finds the hosts that
 * have copies. Sent without waiting for the stream (core NATS, buffered
 * by the library while it reconnects): a copy lost in an outage is
 * replaced at the run's next change.
 */
#define COPIES_MARK_MS	60000	/* a host's marker sent again */
#define COPIES_SCAN	20000	/* of a host's copies read, at most */

static int
token_ok(const char *s)
{
	return *s != '\0' && strcspn(s, ".*> \t\r\n") == strlen(s);
}

void
cluster_host_digest(const char *host, char dg[33])
{
	char key[HOST_KEY_LEN + 1];

	host_key(host, key);
	memcpy(dg, key + 2, 33);
}

json_t *
cluster_digests(struct cluster *c, json_t *names)
{
	json_t *a = json_array(), *h;
	char dg[33];
	size_t i;

	cluster_host_digest(c->host, dg);
	json_array_append_new(a, json_string(dg));
	json_array_foreach(names, i, h)
		if (json_is_string(h)) {
			cluster_host_digest(json_string_value(h), dg);
			json_array_append_new(a, json_string(dg));
		}
	return a;
}

int
cluster_digest_in(json_t *digests, const char *dg)
{
	json_t *v;
	size_t i;

	json_array_foreach(digests, i, v)
		if (strcmp(json_string_value(v), dg) == 0)
			return 1;
	return 0;
}

static int
copy_send(struct cluster *c, const struct run_rec *run, const char *doc)
{
	char subj[96 + 2 * UUID_LEN], dg[33];

	if (!token_ok(run->event_id) || !token_ok(run->id))
		return -1;
	cluster_host_digest(c->host, dg);
	snprintf(subj, sizeof(subj), CLUSTER_RUNS_SUBJ ".%s.%s.%s", dg,
	    run->event_id, run->id);
	return natsConnection_Publish(c->nc, subj, doc, (int)strlen(doc)) ==
	    NATS_OK ? 0 : -1;
}

static void
copy_mark(struct cluster *c)
{
	char subj[96], dg[33];
	int64_t now = mono_ms();

	if (c->copies_marked != 0 && now - c->copies_marked < COPIES_MARK_MS)
		return;
	cluster_host_digest(c->host, dg);
	snprintf(subj, sizeof(subj), CLUSTER_RUNS_SUBJ ".%s.host", dg);
	if (natsConnection_PublishString(c->nc, subj, c->host) == NATS_OK)
		c->copies_marked = now;
}

void
cluster_copy_runs(struct cluster *c, struct db *db,
    const char (*ids)[UUID_LEN + 1], int n)
{
	struct run_rec run;
	MDB_txn *txn;
	char *doc;
	int i, failed = 0;

	if (n == 0 || c->nc == NULL ||
	    (txn = db_begin(db, DB_RUNS, 1)) == NULL)
		return;
	/* A run gone meanwhile (pruned) has nothing to copy. */
	for (i = 0; i < n; i++) {
		if (db_run_get(txn, db, ids[i], &run) != 0 ||
		    (doc = run_copy_json(txn, db, &run, c->host)) == NULL)
			continue;
		failed += copy_send(c, &run, doc) != 0;
		free(doc);
	}
	mdb_txn_abort(txn);
	if (failed == 0)
		copy_mark(c);
	if (failed > 0 && !c->copies_failing)
		log_warn("cluster: %d of %d runs' copies not sent to %s (NATS "
		    "unreachable for longer than the library's buffer "
		    "holds): while this host does not answer, the other "
		    "hosts show those runs as they were before, or not at "
		    "all", failed, n, CLUSTER_RUNS);
	else if (failed == 0 && c->copies_failing)
		log_info("cluster: the runs' copies are sent again");
	c->copies_failing = failed > 0;
}

/* A copy's JSON, marked as one; NULL for a message that is not one. */
static json_t *
copy_of(natsMsg *m)
{
	json_t *o;

	o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
	    0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "copy", json_true());
	return o;
}

/* The last message of HOOKPIPE_RUNS on subj (which may hold a
 * wildcard): 1 and *m (to destroy), 0 when there is none, -1 with err. */
static int
copy_last(struct cluster *c, const char *subj, natsMsg **m, char *err,
    size_t errlen)
{
	jsErrCode jerr = 0;
	natsStatus s;

	*m = NULL;
	s = js_GetLastMsg(m, c->js, CLUSTER_RUNS, subj, NULL, &jerr);
	if (s == NATS_OK)
		return 1;
	natsMsg_Destroy(*m);
	*m = NULL;
	if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
		return 0;
	nats_why(s, err, errlen, "stream " CLUSTER_RUNS);
	return -1;
}

/* The last copy on subj appended to a: 0, 0 when there is none, -1 with
 * err. */
static int
copy_get(struct cluster *c, const char *subj, json_t *a, char *err,
    size_t errlen)
{
	natsMsg *m;
	json_t *o;
	int rc;

	if ((rc = copy_last(c, subj, &m, err, errlen)) != 1)
		return rc;
	if ((o = copy_of(m)) != NULL)
		json_array_append_new(a, o);
	natsMsg_Destroy(m);
	return 0;
}

/* The stream's subjects that filter matches (stream info): NULL with
 * err, or the info, whose State.Subjects may be NULL (none). */
static jsStreamInfo *
copy_subjects(struct cluster *c, const char *filter, char *err,
    size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsOptions o;
	jsErrCode jerr = 0;
	natsStatus s;

	jsOptions_Init(&o);
	o.Stream.Info.SubjectsFilter = filter;
	if ((s = js_GetStreamInfo(&si, c->js, CLUSTER_RUNS, &o, &jerr)) !=
	    NATS_OK) {
		nats_why(s, err, errlen, "stream " CLUSTER_RUNS);
		return NULL;
	}
	return si;
}

json_t *
cluster_run_copies(struct cluster *c, const char *event_id,
    const char *run_id, char *err, size_t errlen)
{
	char subj[96 + 2 * UUID_LEN];
	jsStreamInfo *si;
	json_t *a = json_array();
	int i, rc = 0;

	if ((event_id != NULL && !token_ok(event_id)) ||
	    (run_id != NULL && !token_ok(run_id)))
		return a;	/* not an id: no copy has it */
	if (run_id != NULL) {
		snprintf(subj, sizeof(subj), CLUSTER_RUNS_SUBJ ".*.%s.%s",
		    event_id != NULL ? event_id : "*", run_id);
		rc = copy_get(c, subj, a, err, errlen);
	} else if (event_id != NULL) {
		/* The event's subjects, then the last copy of each. */
		snprintf(subj, sizeof(subj), CLUSTER_RUNS_SUBJ ".*.%s.*",
		    event_id);
		if ((si = copy_subjects(c, subj, err, errlen)) == NULL)
			rc = -1;
		else if (si->State.Subjects != NULL)
			for (i = 0; i < si->State.Subjects->Count &&
			    i < COPIES_MAX && rc == 0; i++)
				rc = copy_get(c, si->State.Subjects->List[i].Subject,
				    a, err, errlen);
		jsStreamInfo_Destroy(si);
	}
	if (rc != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/*
 * A host's copies with stream sequences from..to, oldest first, those
 * keep() wants appended to got; *seen counts the copies read. An ordered
 * consumer from `from`, read until a copy past `to` or the stream's end.
 */
static int
copies_range(struct cluster *c, const char *subj, uint64_t from, uint64_t to,
    int (*keep)(void *, json_t *), void *arg, json_t *got, int *seen,
    char *err, size_t errlen)
{
	natsSubscription *sub = NULL;
	jsMsgMetaData *meta;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	natsMsg *m;
	json_t *o;
	uint64_t seq, pending;

	jsSubOptions_Init(&so);
	so.Stream = CLUSTER_RUNS;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = from;
	if ((s = js_SubscribeSync(&sub, c->js, subj, NULL, &so, &jerr)) !=
	    NATS_OK) {
		nats_why(s, err, errlen, "stream " CLUSTER_RUNS);
		return -1;
	}
	while (*seen < COPIES_SCAN) {
		m = NULL;
		if ((s = natsSubscription_NextMsg(&m, sub, CLUSTER_WAIT_MS)) !=
		    NATS_OK)
			break;	/* none came: those past `to` are gone */
		meta = NULL;
		if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
			natsMsg_Destroy(m);
			continue;
		}
		seq = meta->Sequence.Stream;
		pending = meta->NumPending;
		jsMsgMetaData_Destroy(meta);
		if (seq > to) {
			natsMsg_Destroy(m);
			break;
		}
		(*seen)++;
		if ((o = copy_of(m)) != NULL && keep(arg, o))
			json_array_append(got, o);
		json_decref(o);
		natsMsg_Destroy(m);
		if (pending == 0)
			break;
	}
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
	return 0;
}

/*
 * A host's newest copies that keep() wants, newest first, up to limit:
 * from its last copy back through windows of stream sequences four
 * times larger each (the other hosts' copies are between its own).
 */
static int
copies_newest(struct cluster *c, const char *dg, uint64_t first,
    int (*keep)(void *, json_t *), void *arg, size_t limit, json_t *a,
    char *err, size_t errlen)
{
	char subj[96];
	natsMsg *m;
	json_t *got;
	uint64_t to, from, w = limit * 4 < 64 ? 64 : limit * 4;
	size_t n = 0, i;
	int seen = 0, rc;

	snprintf(subj, sizeof(subj), CLUSTER_RUNS_SUBJ ".%s.*.*", dg);
	if ((rc = copy_last(c, subj, &m, err, errlen)) != 1)
		return rc;
	rc = 0;
	to = natsMsg_GetSequence(m);
	natsMsg_Destroy(m);
	if (first == 0)
		first = 1;
	while (n < limit && seen < COPIES_SCAN && to >= first) {
		from = to - first + 1 > w ? to - w + 1 : first;
		got = json_array();
		rc = copies_range(c, subj, from, to, keep, arg, got, &seen,
		    err, errlen);
		for (i = json_array_size(got); rc == 0 && i > 0 && n < limit;
		    i--, n++)
			json_array_append(a, json_array_get(got, i - 1));
		json_decref(got);
		if (rc != 0 || from == first)
			break;
		to = from - 1;
		w *= 4;
	}
	return rc;
}

int
cluster_host_copies(struct cluster *c, json_t *answered,
    int (*keep)(void *, json_t *), void *arg, size_t limit, json_t *a,
    char *err, size_t errlen)
{
	jsStreamInfo *si;
	const char *subj;
	char dg[33];
	json_t *skip;
	int i, rc = 0;

	if ((si = copy_subjects(c, CLUSTER_RUNS_SUBJ ".*.host", err,
	    errlen)) == NULL)
		return -1;
	skip = cluster_digests(c, answered);
	for (i = 0; si->State.Subjects != NULL &&
	    i < si->State.Subjects->Count && rc == 0; i++) {
		subj = si->State.Subjects->List[i].Subject +
		    sizeof(CLUSTER_RUNS_SUBJ);
		if (strlen(subj) != 32 + sizeof(".host") - 1)
			continue;
		snprintf(dg, sizeof(dg), "%.32s", subj);
		if (!cluster_digest_in(skip, dg))
			rc = copies_newest(c, dg, si->State.FirstSeq, keep,
			    arg, limit, a, err, errlen);
	}
	json_decref(skip);
	jsStreamInfo_Destroy(si);
	return rc;
}

/*
 * The hosts up. A host's key is a digest of its name (names hold ':'
 * and '/', keys may not); its value says who it is. The bucket's age
 * limit drops a host that stopped saying it is up.
 */
static void
host_key(const char *host, char key[HOST_KEY_LEN + 1])
{
	unsigned char dg[32];

	sha256(host, strlen(host), dg);
	memcpy(key, "h.", 2);
	hex_encode(dg, 16, key + 2);
}

int
cluster_host_beat(struct cluster *c, const char *since, char *err,
    size_t errlen)
{
	char key[HOST_KEY_LEN + 1];
	json_t *o;

	if (hosts_open(c, err, errlen) == -1)
		return -1;
	host_key(c->host, key);
	o = json_pack("{s:s, s:s, s:s}", "host", c->host, "version",
	    hp_version, "since", since);
	return kv_put_json(c->hosts, CLUSTER_HOSTS, key, o, err, errlen);
}

void
cluster_host_leave(struct cluster *c)
{
	char key[HOST_KEY_LEN + 1];

	if (c->hosts == NULL)
		return;
	host_key(c->host, key);
	kvStore_Delete(c->hosts, key);
}

/* The keys of the hosts up: 0 (list filled, maybe empty), or -1. */
static int
host_keys(struct cluster *c, kvKeysList *l, char *err, size_t errlen)
{
	kvWatchOptions o;
	natsStatus s;

	memset(l, 0, sizeof(*l));
	if (hosts_open(c, err, errlen) == -1)
		return -1;
	kvWatchOptions_Init(&o);
	o.Timeout = CLUSTER_WAIT_MS;
	s = kvStore_Keys(l, c->hosts, &o);
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK) {
		nats_why(s, err, errlen, "bucket " CLUSTER_HOSTS);
		return -1;
	}
	return 0;
}

int
cluster_hosts_count(struct cluster *c)
{
	kvKeysList l;
	char err[256];
	int n;

	if (host_keys(c, &l, err, sizeof(err)) == -1)
		return -1;
	n = l.Count;
	kvKeysList_Destroy(&l);
	return n;
}

json_t *
cluster_hosts(struct cluster *c, char *err, size_t errlen)
{
	kvKeysList l;
	kvEntry *e;
	json_t *a, *o;
	int64_t seen;
	int i;

	if (host_keys(c, &l, err, errlen) == -1)
		return NULL;
	if ((a = json_array()) == NULL) {
		kvKeysList_Destroy(&l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < l.Count; i++) {
		if (kvStore_Get(&e, c->hosts, l.Keys[i]) != NATS_OK)
			continue;	/* gone meanwhile */
		o = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e),
		    0, NULL);
		if (json_is_object(o)) {
			/* By the server's clock against this host's. */
			seen = (now_us() * 1000 - kvEntry_Created(e)) /
			    NS_PER_S;
			json_object_set_new(o, "seen_s",
			    json_integer(seen > 0 ? seen : 0));
			json_array_append(a, o);
		}
		json_decref(o);
		kvEntry_Destroy(e);
	}
	kvKeysList_Destroy(&l);
	return a;
}

/*
 * An answer larger than the servers' message limit (max_payload, 1 MiB
 * by default; a `run show` of attempts with their output, a long `runs
 * --limit`) goes in parts, each with the headers Hookpipe-Part ("i/n")
 * and Hookpipe-Host, in order (one connection, one subject): cluster_ask
 * puts them together, per host.
 */
#define PART_HEADER	"Hookpipe-Part"
#define HOST_HEADER	"Hookpipe-Host"
#define PART_ROOM	1024		/* of max_payload, for the headers */

static void
answer_send(struct cluster *c, natsConnection *nc, const char *reply,
    const char *out)
{
	int64_t max = natsConnection_GetMaxPayload(nc);
	size_t len = strlen(out), part, off, i, n;
	natsMsg *m;
	char h[48];

	part = max > 2 * PART_ROOM ? (size_t)max - PART_ROOM : PART_ROOM;
	if (len <= part) {
		natsConnection_Publish(nc, reply, out, (int)len);
		return;
	}
	if (len > CLUSTER_ANSWER_MAX) {
		log_warn("cluster: an answer of %zu bytes not sent (at most "
		    "%u)", len, CLUSTER_ANSWER_MAX);
		return;
	}
	n = (len + part - 1) / part;
	for (i = 0, off = 0; i < n; i++, off += part) {
		if (natsMsg_Create(&m, reply, NULL, out + off,
		    (int)(len - off < part ? len - off : part)) != NATS_OK)
			return;
		snprintf(h, sizeof(h), "%zu/%zu", i + 1, n);
		if (natsMsgHeader_Set(m, PART_HEADER, h) != NATS_OK ||
		    natsMsgHeader_Set(m, HOST_HEADER, c->host) != NATS_OK ||
		    natsConnection_PublishMsg(nc, m) != NATS_OK) {
			natsMsg_Destroy(m);
			return;
		}
		natsMsg_Destroy(m);
	}
}

static void
on_ask(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	struct cluster *c = arg;
	const char *reply = natsMsg_GetReply(m);
	json_t *req, *ans = NULL;
	char *out;

	(void)sub;
	req = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
	    0, NULL);
	if (req != NULL && reply != NULL && reply[0] != '\0' &&
	    (ans = c->answer_fn(c->answer_arg, req)) != NULL) {
		json_object_set_new(ans, "host", json_string(c->host));
		if ((out = json_dumps(ans, JSON_COMPACT)) != NULL) {
			answer_send(c, nc, reply, out);
			free(out);
		}
	}
	json_decref(ans);
	json_decref(req);
	natsMsg_Destroy(m);
}

int
cluster_answer(struct cluster *c, const char *subj, cluster_answer_fn fn,
    void *arg, char *err, size_t errlen)
{
	natsSubscription *sub = NULL;
	natsStatus s;

	if (c->answers != NULL)
		return 0;
	c->answer_fn = fn;
	c->answer_arg = arg;
	if ((s = natsConnection_Subscribe(&sub, c->nc, subj, on_ask, c)) !=
	    NATS_OK) {
		nats_why(s, err, errlen, subj);
		return -1;
	}
	c->answers = sub;
	return 0;
}

#define ASK_QUIET_MS	500	/* no answer for that long: all are in */

int
cluster_ask(struct cluster *c, const char *subj, json_t *req, int ms,
    void (*cb)(void *, json_t *), void *arg, char *err, size_t errlen)
{
	natsSubscription *sub = NULL;
	natsInbox *inbox = NULL;
	natsMsg *m;
	natsStatus s;
	json_t *a;
	struct cluster_parts parts[CLUSTER_PARTS_HOSTS];
	kvKeysList up;
	const char *hdr, *from;
	char *body, *whole, key[HOST_KEY_LEN + 1], why[256];
	int64_t end = mono_ms() + ms, quiet = 0, wait;
	size_t len;
	int i, n = 0, left;

	memset(parts, 0, sizeof(parts));
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The hosts up: when each has answered, all are in. */
	if (host_keys(c, &up, why, sizeof(why)) == -1)
		memset(&up, 0, sizeof(up));
	left = up.Count;
	s = natsInbox_Create(&inbox);
	if (s == NATS_OK)
		s = natsConnection_SubscribeSync(&sub, c->nc, inbox);
	if (s == NATS_OK)
		s = natsConnection_PublishRequestString(c->nc, subj, inbox,
		    body);
	free(body);
	if (s != NATS_OK) {
		nats_why(s, err, errlen, subj);
		natsSubscription_Destroy(sub);
		natsInbox_Destroy(inbox);
		kvKeysList_Destroy(&up);
		return -1;
	}
	for (;;) {
		wait = end - mono_ms();
		if (quiet > 0 && quiet - mono_ms() < wait)
			wait = quiet - mono_ms();
		if (wait <= 0 ||
		    natsSubscription_NextMsg(&m, sub, wait) != NATS_OK)
			break;
		quiet = mono_ms() + ASK_QUIET_MS;
		if (natsMsgHeader_Get(m, PART_HEADER, &hdr) == NATS_OK) {
			from = NULL;
			natsMsgHeader_Get(m, HOST_HEADER, &from);
			whole = cluster_parts_add(parts, hdr, from,
			    natsMsg_GetData(m),
			    (size_t)natsMsg_GetDataLength(m), &len);
			natsMsg_Destroy(m);
			if (whole == NULL)
				continue;
			a = json_loadb(whole, len, 0, NULL);
			free(whole);
		} else {
			a = json_loadb(natsMsg_GetData(m),
			    (size_t)natsMsg_GetDataLength(m), 0, NULL);
			natsMsg_Destroy(m);
		}
		if (json_is_object(a)) {
			if ((hdr = json_string_value(json_object_get(a,
			    "host"))) != NULL) {
				host_key(hdr, key);
				for (i = 0; i < up.Count; i++)
					if (up.Keys[i] != NULL &&
					    strcmp(up.Keys[i], key) == 0) {
						free(up.Keys[i]);
						up.Keys[i] = NULL;
						left--;
					}
			}
			cb(arg, a);
			n++;
		}
		json_decref(a);
		if (up.Count > 0 && left == 0)
			break;
	}
	kvKeysList_Destroy(&up);
	cluster_parts_free(parts);
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
	natsInbox_Destroy(inbox);
	return n;
}

static json_t *
stream_status(struct cluster *c, const char *name, const char *kind)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	json_t *o, *peers;
	int i;

	o = json_pack("{s:s, s:s}", "name", name, "kind", kind);
	if (o == NULL)
		return NULL;
	s = js_GetStreamInfo(&si, c->js, name, NULL, &jerr);
	if (s != NATS_OK) {
		json_object_set_new(o, "error", json_string(
		    jerr == JSStreamNotFoundErr || s == NATS_NOT_FOUND ?
		    "missing (hookpipe cluster init creates it)" :
		    natsStatus_GetText(s)));
		return o;
	}
	json_object_set_new(o, "messages", json_integer(si->State.Msgs));
	json_object_set_new(o, "bytes", json_integer(si->State.Bytes));
	json_object_set_new(o, "last_seq", json_integer(si->State.LastSeq));
	json_object_set_new(o, "consumers",
	    json_integer(si->State.Consumers));
	json_object_set_new(o, "replicas",
	    json_integer(si->Config->Replicas));
	json_object_set_new(o, "max_age_s",
	    json_integer(si->Config->MaxAge / NS_PER_S));
	if (si->Cluster != NULL) {
		json_object_set_new(o, "leader", json_string(
		    si->Cluster->Leader != NULL ? si->Cluster->Leader : ""));
		peers = json_array();
		for (i = 0; i < si->Cluster->ReplicasLen; i++) {
			jsPeerInfo *p = si->Cluster->Replicas[i];

			json_array_append_new(peers, json_pack("{s:s, s:b, "
			    "s:b, s:I}", "name", p->Name ? p->Name : "",
			    "current", p->Current, "offline", p->Offline,
			    "lag", (json_int_t)p->Lag));
		}
		json_object_set_new(o, "followers", peers);
	}
	jsStreamInfo_Destroy(si);
	consumers_status(c, name, o);
	return o;
}

json_t *
cluster_status(struct cluster *c)
{
	char url[512], shown[4096];
	json_t *o, *a;

	o = json_object();
	if (o == NULL)
		return NULL;
	/* The URLs may hold a password: never shown. */
	urls_redact(env("HOOKPIPE_NATS") != NULL ? env("HOOKPIPE_NATS") : "",
	    shown, sizeof(shown));
	json_object_set_new(o, "servers", json_string(shown));
	if (natsConnection_GetConnectedUrl(c->nc, url, sizeof(url)) ==
	    NATS_OK && url[0] != '\0') {
		urls_redact(url, shown, sizeof(shown));
		json_object_set_new(o, "connected", json_string(shown));
	} else
		json_object_set_new(o, "connected", json_null());
	a = json_array();
	json_array_append_new(a, stream_status(c, CLUSTER_EVENTS, "stream"));
	json_array_append_new(a, stream_status(c, CLUSTER_RUNS, "stream"));
	json_array_append_new(a, stream_status(c, "KV_" CLUSTER_DEDUPE,
	    "bucket"));
	json_array_append_new(a, stream_status(c, "KV_" CLUSTER_CONFIG,
	    "bucket"));
	json_array_append_new(a, stream_status(c, "KV_" CLUSTER_CLAIMS,
	    "bucket"));
	json_array_append_new(a, stream_status(c, "KV_" CLUSTER_HOSTS,
	    "bucket"));
	json_object_set_new(o, "streams", a);
	return o;
}
