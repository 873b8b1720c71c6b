/*
 * What other NATS clients send a host: the events of the stream
 * (subject, Hookpipe-Event header, payload) and answers in parts.
 * Input: a first line choosing the parser ("event" or "parts"). For an
 * event: the subject on the second line, the header on the third, then
 * the payload. For parts: lines "PART HOST DATA" (HOOKPIPE-Part, the
 * host, the part's bytes), fed in order to one set of slots, each whole
 * answer read as JSON, as cluster_ask reads it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster.h"
#include "db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end), NUL-terminated in place, or NULL. */
static char *
line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		nl = end;
	*nl = '\0';
	*p = nl + 1;
	return s;
}

static void
event(char *p, char *end)
{
	struct event_rec e;
	char *subj, *meta;
	int mine;

	if ((subj = line(&p, end)) == NULL || (meta = line(&p, end)) == NULL)
		return;
	if (p > end)
		p = end;
	if (cluster_event_parse(subj, meta, p, (size_t)(end - p), "h:/a", &e,
	    &mine) == 0 && (e.payload == NULL || e.payload[e.payload_len] !=
	    '\0' || strlen(e.id) != UUID_LEN))
		abort();
	event_free(&e);
}

static void
parts(char *p, char *end)
{
	struct cluster_parts slots[CLUSTER_PARTS_HOSTS];
	char *l, *host, *body, *whole;
	size_t len;
	json_t *j;

	memset(slots, 0, sizeof(slots));
	while ((l = line(&p, end)) != NULL) {
		if ((host = strchr(l, ' ')) == NULL)
			continue;
		*host++ = '\0';
		if ((body = strchr(host, ' ')) == NULL)
			body = host + strlen(host);
		else
			*body++ = '\0';
		if ((whole = cluster_parts_add(slots, l, host, body,
		    strlen(body), &len)) != NULL) {
			j = json_loadb(whole, len, 0, NULL);
			json_decref(j);
			free(whole);
		}
	}
	cluster_parts_free(slots);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *p, *end, *what;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	if ((what = line(&p, end)) != NULL) {
		if (strcmp(what, "event") == 0)
			event(p, end);
		else if (strcmp(what, "parts") == 0)
			parts(p, end);
	}
	free(copy);
	return 0;
}
