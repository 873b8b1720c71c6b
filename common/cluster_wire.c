/*
 * What the other hosts send over NATS, read: the events of the stream
 * (each host's verifier follows it, each router takes its turns at it)
 * and the answers that come in parts. Any client the servers let in may
 * publish there: whatever does not read as what a host sends is dropped
 * here, and nothing in it is trusted further than these checks.
 * Free of the NATS library, for tests/fuzz/fuzz_cluster.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster.h"
#include "db.h"
#include "util.h"

static int
jcopy(json_t *o, const char *k, char *out, size_t len)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v == NULL || str_copy(out, v, len) >= len ? -1 : 0;
}

int
cluster_event_parse(const char *subj, const char *meta, const void *payload,
    size_t n, const char *self, struct event_rec *e, int *mine)
{
	const size_t pl = sizeof(CLUSTER_EVENTS_SUBJ ".") - 1;
	const char *h;
	char state[16];
	json_t *o = NULL, *hd = NULL;
	int rc = -1, st;

	memset(e, 0, sizeof(*e));
	*mine = 0;
	if (subj == NULL || meta == NULL ||
	    strncmp(subj, CLUSTER_EVENTS_SUBJ ".", pl) != 0 ||
	    (o = json_loads(meta, 0, NULL)) == NULL ||
	    jcopy(o, "id", e->id, sizeof(e->id)) ||
	    jcopy(o, "sub", e->sub, sizeof(e->sub)) ||
	    jcopy(o, "workspace", e->workspace, sizeof(e->workspace)) ||
	    jcopy(o, "integration", e->integration,
	    sizeof(e->integration)) ||
	    jcopy(o, "type", e->type, sizeof(e->type)) ||
	    jcopy(o, "delivery_id", e->delivery_id,
	    sizeof(e->delivery_id)) ||
	    jcopy(o, "state", state, sizeof(state)) ||
	    !uuid_valid(e->id) || !uuid_valid(e->sub) ||
	    strcmp(subj + pl, e->id) != 0 ||
	    (st = event_state_parse(state)) == -1 ||
	    !json_is_integer(json_object_get(o, "received_at")))
		goto out;
	e->state = st;
	e->received_at = json_integer_value(json_object_get(o,
	    "received_at"));
	h = json_string_value(json_object_get(o, "host"));
	*mine = h != NULL && self != NULL && strcmp(h, self) == 0;
	/* The headers, as the events database keeps them: a JSON object. */
	if ((h = json_string_value(json_object_get(o, "headers"))) != NULL) {
		hd = json_loads(h, 0, NULL);
		if (!json_is_object(hd) || (e->headers = strdup(h)) == NULL)
			goto out;
	}
	if (payload != NULL) {
		if ((e->payload = malloc(n + 1)) == NULL)
			goto out;
		memcpy(e->payload, payload, n);
		e->payload[n] = '\0';
		e->payload_len = n;
	}
	rc = 0;
out:
	if (rc != 0)
		event_free(e);
	json_decref(hd);
	json_decref(o);
	return rc;
}

char *
cluster_parts_add(struct cluster_parts *p, const char *part,
    const char *host, const void *data, size_t n, size_t *len)
{
	struct cluster_parts *slot = NULL;
	unsigned long i, total;
	char *whole, end;
	int k;

	if (part == NULL || host == NULL || host[0] == '\0' ||
	    sscanf(part, "%lu/%lu%c", &i, &total, &end) != 2 ||
	    part[strspn(part, "0123456789/")] != '\0' || i == 0 ||
	    i > total || total > CLUSTER_ANSWER_MAX ||
	    strlen(host) >= sizeof(p->host))
		return NULL;
	for (k = 0; k < CLUSTER_PARTS_HOSTS && slot == NULL; k++)
		if (strcmp(p[k].host, host) == 0)
			slot = &p[k];
	for (k = 0; k < CLUSTER_PARTS_HOSTS && slot == NULL && i == 1; k++)
		if (p[k].host[0] == '\0')
			slot = &p[k];
	if (slot == NULL)
		return NULL;
	if (i == 1) {
		str_copy(slot->host, host, sizeof(slot->host));
		slot->next = 1;
		buf_reset(&slot->b);
	}
	if (i != slot->next || slot->b.len + n > CLUSTER_ANSWER_MAX ||
	    buf_append(&slot->b, data, n) == -1) {
		slot->host[0] = '\0';	/* a part lost: that answer is */
		buf_reset(&slot->b);
		return NULL;
	}
	if (++slot->next <= total)
		return NULL;
	whole = slot->b.data;
	*len = slot->b.len;
	memset(&slot->b, 0, sizeof(slot->b));
	slot->host[0] = '\0';
	return whole;
}

void
cluster_parts_free(struct cluster_parts *p)
{
	int k;

	for (k = 0; k < CLUSTER_PARTS_HOSTS; k++) {
		buf_free(&p[k].b);
		p[k].host[0] = '\0';
	}
}
