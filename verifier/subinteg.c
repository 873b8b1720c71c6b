/*
 * A subscription of the generic webhook integration names its header,
 * algorithm and template with --param: its definition is the shipped one
 * with those values in place, made (and checked, as a file would be) the
 * first time one of its deliveries comes, and kept for the next ones.
 */
#include <string.h>

#include "verifier.h"

const struct integ *
subinteg_get(struct subinteg_cache *c, const struct integ *base,
    const char *sub_id, const char *params, char *why, size_t whylen)
{
	struct subinteg *e;
	int i;

	if (!base->derive)
		return base;
	for (i = 0; i < SUBINTEG_MAX; i++) {
		e = &c->v[i];
		if (e->used && e->base == base->def && strcmp(e->sub,
		    sub_id) == 0 && strcmp(e->params, params) == 0)
			return &e->ig;
	}
	e = &c->v[c->next];
	c->next = (c->next + 1) % SUBINTEG_MAX;
	if (e->used)
		json_decref(e->ig.def);
	memset(e, 0, sizeof(*e));
	if (integ_derive(base, params, &e->ig, why, whylen) == -1)
		return NULL;
	e->used = 1;
	e->base = base->def;
	str_copy(e->sub, sub_id, sizeof(e->sub));
	str_copy(e->params, params, sizeof(e->params));
	return &e->ig;
}

void
subinteg_clear(struct subinteg_cache *c)
{
	int i;

	for (i = 0; i < SUBINTEG_MAX; i++) {
		if (c->v[i].used)
			json_decref(c->v[i].ig.def);
		c->v[i].used = 0;
	}
	c->next = 0;
}
