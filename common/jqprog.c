#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "jqprog.h"
#include "util.h"

#define CACHE_MAX	128

struct jqprog {
	jq_state	*jq;
	char		*text;
	char		 err[512];	/* the last error jq reported */
};

static void
on_error(void *data, jv msg)
{
	struct jqprog *p = data;

	/* The first message says what is wrong; later ones only count. */
	if (p->err[0] != '\0') {
		jv_free(msg);
		return;
	}
	if (jv_get_kind(msg) == JV_KIND_STRING)
		str_copy(p->err, jv_string_value(msg), sizeof(p->err));
	else {
		jv s = jv_dump_string(jv_copy(msg), 0);

		str_copy(p->err, jv_string_value(s), sizeof(p->err));
		jv_free(s);
	}
	jv_free(msg);
}

struct jqprog *
jqprog_compile(const char *program, char *err, size_t errlen)
{
	struct jqprog *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->jq = jq_init()) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	jq_set_error_cb(p->jq, on_error, p);
	if (!jq_compile(p->jq, program)) {
		snprintf(err, errlen, "%s", p->err[0] ? p->err :
		    "jq cannot compile the program");
		jq_teardown(&p->jq);
		free(p);
		return NULL;
	}
	p->text = strdup(program);
	return p;
}

void
jqprog_free(struct jqprog *p)
{
	if (p == NULL)
		return;
	jq_teardown(&p->jq);
	free(p->text);
	free(p);
}

int
jqprog_run(struct jqprog *p, const char *json, size_t len, char **out,
    char *err, size_t errlen)
{
	jv input, result;
	int rc;

	if (out != NULL)
		*out = NULL;
	input = jv_parse_sized(json, (int)len);
	if (!jv_is_valid(input)) {
		jv msg = jv_invalid_get_msg(input);

		snprintf(err, errlen, "payload is not JSON: %s",
		    jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "?");
		jv_free(msg);
		return -1;
	}
	p->err[0] = '\0';
	jq_start(p->jq, input, 0);
	result = jq_next(p->jq);
	if (!jv_is_valid(result)) {
		jv msg = jv_invalid_get_msg(result);

		if (jv_get_kind(msg) == JV_KIND_NULL) {
			rc = 0;	/* no output at all: `empty`, `select` */
		} else {
			jv s = jv_get_kind(msg) == JV_KIND_STRING ?
			    jv_copy(msg) : jv_dump_string(jv_copy(msg), 0);

			snprintf(err, errlen, "%s", jv_string_value(s));
			jv_free(s);
			rc = -1;
		}
		jv_free(msg);
		return rc;
	}
	rc = jv_get_kind(result) != JV_KIND_FALSE &&
	    jv_get_kind(result) != JV_KIND_NULL;
	if (out != NULL) {
		jv s = jv_dump_string(jv_copy(result), 0);

		*out = strdup(jv_string_value(s));
		jv_free(s);
	}
	/* Only the first result counts: the rest is never computed (a
	 * program may produce results without end), and the next jq_start
	 * resets the state. */
	jv_free(result);
	return rc;
}

static struct jqprog *cache[CACHE_MAX];
static int ncache;

struct jqprog *
jqcache_get(const char *program, char *err, size_t errlen)
{
	struct jqprog *p;
	int i;

	for (i = 0; i < ncache; i++)
		if (strcmp(cache[i]->text, program) == 0)
			return cache[i];
	if ((p = jqprog_compile(program, err, errlen)) == NULL)
		return NULL;
	if (ncache == CACHE_MAX) {
		/* Full: drop the oldest. */
		jqprog_free(cache[0]);
		memmove(cache, cache + 1, (CACHE_MAX - 1) * sizeof(cache[0]));
		ncache--;
	}
	cache[ncache++] = p;
	return p;
}

void
jqcache_clear(void)
{
	while (ncache > 0)
		jqprog_free(cache[--ncache]);
}
