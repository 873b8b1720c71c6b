/*
 * Every signature-header parser and the event-type extraction. Input:
 * one byte choosing the scheme, then "name: value" header lines, a blank
 * line, and the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct integ ig[5];
static int loaded;

static const char *const defs[5] = {
	"{\"name\":\"a\",\"scheme\":\"standard-webhooks\",\"event_type\":"
	"\"body:/type\",\"delivery_id\":\"header:webhook-id\",\"events\":[]}",
	"{\"name\":\"b\",\"scheme\":\"github\",\"event_type\":"
	"\"header:x-github-event\",\"delivery_id\":\"header:x-github-delivery\","
	"\"events\":[]}",
	"{\"name\":\"c\",\"scheme\":\"stripe\",\"event_type\":\"body:/type\","
	"\"delivery_id\":\"body:/id\",\"events\":[]}",
	"{\"name\":\"d\",\"scheme\":\"slack\",\"event_type\":\"body:/type\","
	"\"delivery_id\":\"none\",\"events\":[]}",
	"{\"name\":\"e\",\"scheme\":\"hmac\",\"params\":{\"header\":\"x-sig\","
	"\"encoding\":\"base64\",\"signed\":\"{timestamp}.{header:x-id}.{body}\","
	"\"timestamp_header\":\"x-ts\"},\"event_type\":\"body:/a/0/b\","
	"\"delivery_id\":\"header:x-id\",\"events\":[]}",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header h[32];
	struct vreq r;
	char *copy, *p, *end, why[256], type[256], did[256];
	json_t *j = NULL;
	size_t nh = 0;

	if (!loaded) {
		char err[256];

		for (int i = 0; i < 5; i++)
			if (integ_load_string(&ig[i], defs[i], "fuzz", err,
			    sizeof(err)) == -1)
				abort();
		loaded = 1;
	}
	if (size < 1)
		return 0;
	copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	end = copy + size - 1;
	p = copy;
	/* Header lines until a blank line. */
	while (p < end && nh < 32) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;

		if (nl == NULL || nl == p)
			break;
		*nl = '\0';
		if ((colon = strchr(p, ':')) != NULL) {
			*colon = '\0';
			h[nh].name = p;
			h[nh].value = colon + 1 + (colon[1] == ' ');
			nh++;
		}
		p = nl + 1;
	}
	if (p < end && *p == '\n')
		p++;
	memset(&r, 0, sizeof(r));
	r.ig = &ig[data[0] % 5];
	r.headers = h;
	r.nheaders = nh;
	r.body = (const unsigned char *)p;
	r.body_len = (size_t)(end - p);
	r.secret[0] = (const unsigned char *)"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	r.secret_len[0] = 38;
	r.secret[1] = (const unsigned char *)"whpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	r.secret_len[1] = 49;
	r.nsecrets = 2;
	r.now = 1700000000;
	r.tolerance = 300;
	verify_request(&r, why, sizeof(why));
	verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why));
	json_decref(j);
	free(copy);
	return 0;
}
