/*
 * Handshakes: a definition's "handshakes" list and a request matched
 * against it, in every phase, with the answers built (templates, HMACs,
 * headers). Input: the handshakes JSON on the first line, the method on
 * the second, the raw query on the third, then "name: value" header
 * lines, a blank line, and the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	struct hs_answer a;
	struct integ ig;
	struct vreq r;
	struct vhs vh;
	char *copy, *p, *end, *hs, *method, *q, *def, err[1024], why[256];
	size_t nh = 0, dl;

	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	if ((hs = line(&p, end)) == NULL || (method = line(&p, end)) == NULL ||
	    (q = line(&p, end)) == NULL) {
		free(copy);
		return 0;
	}
	dl = strlen(hs) + 512;
	def = malloc(dl);
	snprintf(def, dl, "{\"name\":\"f\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[\"body:/type\","
	    "\"header:x-ev\"],\"delivery_id\":\"none\",\"sub_params\":[{\"name\":"
	    "\"verify_token\",\"description\":\"\"}],\"handshakes\":%s,"
	    "\"events\":[]}", hs);
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
	r.method = method;
	r.query = q;
	r.body = (const unsigned char *)p;
	r.body_len = (size_t)(end - p);
	r.secret[0] = (const unsigned char *)"s3cret";
	r.secret_len[0] = 6;
	r.nsecrets = 1;
	vhs_init(&vh, &r, "verify_token=tok\n");
	if (vhs_before(&vh, &a, why, sizeof(why)) == 1)
		hs_answer_free(&a);
	if (vhs_after(&vh, &a, why, sizeof(why)) == 1)
		hs_answer_free(&a);
	vhs_free(&vh);
	for (int i = 0; i < ig.nhs; i++) {
		hs_describe(&ig.hs[i], why, sizeof(why));
		hs_allow(&ig, why, sizeof(why));
	}
	json_decref(ig.def);
	free(def);
	free(copy);
	return 0;
}
