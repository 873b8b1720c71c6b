/*
 * The router's side of the routers' consumer group (see rcluster.h):
 * the messages it fetched and holds until they are routed.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rcluster.h"

#define BIND_EVERY_MS	5000

int
rcl_open(struct rcl *q, char *err, size_t errlen)
{
	memset(q, 0, sizeof(*q));
	q->cur = -1;
	return cluster_connect(&q->c, "hookpipe-router", err, errlen);
}

void
rcl_close(struct rcl *q)
{
	int i;

	for (i = 0; i < q->n; i++)
		rcl_nak(q, i, 0);
	q->n = 0;
	free(q->cur_ids);
	q->cur_ids = NULL;
	json_decref(q->lost);
	q->lost = NULL;
	cluster_close(&q->c);
}

int
rcl_fetch(struct rcl *q, int ms)
{
	void *msgs[RCL_HOLD_MAX];
	char err[1024];
	int i, n;

	if (q->c.route == NULL) {
		if (mono_ms() < q->next_bind)
			return -1;
		q->next_bind = mono_ms() + BIND_EVERY_MS;
		if (cluster_route_open(&q->c, err, sizeof(err)) == -1) {
			if (!q->warned)
				log_warn("cluster: %s (no event is routed "
				    "here until it is there)", err);
			q->warned = 1;
			return -1;
		}
		if (q->warned)
			log_info("cluster: routing from consumer "
			    CLUSTER_ROUTER);
		q->warned = 0;
	}
	if (q->n == RCL_HOLD_MAX)
		return q->n;
	n = cluster_route_fetch(&q->c, msgs, RCL_HOLD_MAX - q->n, ms, err,
	    sizeof(err));
	if (n == -1) {
		log_debug("cluster: %s", err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct rcl_msg *m = &q->h[q->n];

		if (cluster_msg_event(msgs[i], m->id, sizeof(m->id)) == -1) {
			/* Not an event: no host will ever route it. */
			cluster_msg_term(msgs[i]);
			cluster_msg_free(msgs[i]);
			q->dropped++;
			continue;
		}
		m->msg = msgs[i];
		m->since = mono_ms();
		m->plan = -1;
		q->n++;
	}
	if (q->dropped > 0 && mono_ms() - q->dropped_said >= RCL_SAY_MS) {
		log_warn("cluster: %d messages of the event stream that no "
		    "host's verifier published (a client other than the "
		    "hosts publishes there): dropped", q->dropped);
		q->dropped = 0;
		q->dropped_said = mono_ms();
	}
	return q->n;
}

/* An orphan settled: routed here (or by another host), or not. */
static void
orphan_settle(struct rcl *q, int i, int routed)
{
	q->h[i].orphan = 0;
	q->orph_pending--;
	if (!routed)
		q->orph_failed++;
}

void
rcl_ack(struct rcl *q, int i)
{
	if (q->h[i].orphan)
		orphan_settle(q, i, 1);
	if (q->h[i].msg == NULL)
		return;
	cluster_msg_ack(q->h[i].msg);
	cluster_msg_free(q->h[i].msg);
	q->h[i].msg = NULL;
}

void
rcl_nak(struct rcl *q, int i, int delay_ms)
{
	if (q->h[i].orphan)
		orphan_settle(q, i, 0);
	if (q->h[i].msg == NULL)
		return;
	cluster_msg_nak(q->h[i].msg, delay_ms);
	cluster_msg_free(q->h[i].msg);
	q->h[i].msg = NULL;
}

void
rcl_expire(struct rcl *q)
{
	int64_t now = mono_ms();
	int i;

	for (i = 0; i < q->n; i++)
		if (q->h[i].orphan && now - q->h[i].since > RCL_HOLD_MS) {
			log_info("cluster: event %s of forgotten host %s is "
			    "not in this host's events database after %d s: "
			    "tried again later", q->h[i].id, q->orph_host,
			    RCL_HOLD_MS / 1000);
			rcl_nak(q, i, 0);
		} else if (q->h[i].msg != NULL &&
		    now - q->h[i].since > RCL_HOLD_MS) {
			log_info("cluster: event %s is not in this host's "
			    "events database after %d s: given back",
			    q->h[i].id, RCL_HOLD_MS / 1000);
			rcl_nak(q, i, 1000);
		}
	rcl_compact(q);
}

void
rcl_compact(struct rcl *q)
{
	int i, j;

	for (i = j = 0; i < q->n; i++)
		if (q->h[i].msg != NULL || q->h[i].orphan)
			q->h[j++] = q->h[i];
	q->n = j;
}

int
rcl_orphans(struct rcl *q, const char *host, const char *key,
    const char *ids)
{
	const char *p;
	int n = 0;

	for (p = ids; *p != '\0'; p += strspn(p, " "))
		if (*p != ' ') {
			n++;
			p += strcspn(p, " ");
		}
	if (n == 0 || q->n + n > RCL_HOLD_MAX)
		return 0;
	str_copy(q->orph_key, key, sizeof(q->orph_key));
	str_copy(q->orph_host, host, sizeof(q->orph_host));
	q->orph_n = q->orph_pending = n;
	q->orph_failed = 0;
	for (p = ids; *p != '\0'; ) {
		struct rcl_msg *m = &q->h[q->n];
		size_t len;

		p += strspn(p, " ");
		if ((len = strcspn(p, " ")) == 0)
			break;
		memset(m, 0, sizeof(*m));
		/* An id that is not one is not found: not routed here. */
		snprintf(m->id, sizeof(m->id), "%.*s", (int)len, p);
		m->since = mono_ms();
		m->plan = -1;
		m->orphan = 1;
		q->n++;
		p += len;
	}
	return n;
}
