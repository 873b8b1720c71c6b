/*
 * Event type and delivery id forms: templates, first-key lists, fixed
 * types, query parameters, and their extraction. Input: the event_type
 * JSON value on the first line, the delivery_id one on the second, the
 * raw query on the third, then "name: value" header lines, a blank line,
 * and the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end), NUL-terminated in place, or NULL. */
static char *
line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end || (nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header h[32];
	struct integ ig;
	struct vreq r;
	char *copy, *p, *end, *et, *did, *q, *def, err[1024];
	char why[256], type[256], dv[256];
	json_t *j = NULL;
	size_t nh = 0, dl;

	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	if ((et = line(&p, end)) == NULL || (did = line(&p, end)) == NULL ||
	    (q = line(&p, end)) == NULL) {
		free(copy);
		return 0;
	}
	dl = strlen(et) + strlen(did) + 256;
	def = malloc(dl);
	snprintf(def, dl, "{\"name\":\"f\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":%s,\"delivery_id\":%s,"
	    "\"event_shapes\":[{\"event\":\"issues\",\"has\":[\"/issue\"]}],"
	    "\"events\":[]}", et, did);
	if (integ_load_string(&ig, def, "fuzz", err, sizeof(err)) == -1) {
		free(def);
		free(copy);
		return 0;
	}
	while (nh < 32) {
		char *l = line(&p, end), *colon;

		if (l == NULL || *l == '\0')
			break;
		if ((colon = strchr(l, ':')) != NULL) {
			*colon = '\0';
			h[nh].name = l;
			h[nh].value = colon + 1 + (colon[1] == ' ');
			nh++;
		}
	}
	memset(&r, 0, sizeof(r));
	r.ig = &ig;
	r.headers = h;
	r.nheaders = nh;
	r.query = q;
	r.body = (const unsigned char *)p;
	r.body_len = (size_t)(end - p);
	verify_extract(&r, &j, type, sizeof(type), dv, sizeof(dv), why,
	    sizeof(why));
	verify_event_type(&r, j, type, sizeof(type));
	json_decref(j);
	json_decref(ig.def);
	free(def);
	free(copy);
	return 0;
}
