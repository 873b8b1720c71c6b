/*
 * Fetching a JWKS over HTTPS with libcurl (easy interface: the CLI waits
 * for it, the dispatcher runs it in a child process), honouring the
 * response's Cache-Control max-age for the next refresh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "jwks.h"
#include "util.h"

#define FETCH_TIMEOUT_S	20

struct fetch {
	struct buf	 body;
	int64_t		 max_age;	/* -1: none given */
	int		 too_big;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;

	if (f->body.len + size * n > JWKS_FILE_MAX) {
		f->too_big = 1;
		return 0;
	}
	return buf_append(&f->body, p, size * n) == 0 ? size * n : 0;
}

/* Cache-Control: ..., max-age=N, ... */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;
	char line[512], *m;
	long long v;

	if (len >= sizeof(line) || len < 14 || strncasecmp(p,
	    "cache-control:", 14) != 0)
		return len;
	memcpy(line, p, len);
	line[len] = '\0';
	for (m = line; *m != '\0'; m++)
		*m = (char)(*m >= 'A' && *m <= 'Z' ? *m + 32 : *m);
	if ((m = strstr(line, "max-age=")) != NULL &&
	    sscanf(m + 8, "%lld", &v) == 1 && v >= 0)
		f->max_age = v;
	return len;
}

int
jwks_fetch(const char *home, const char *url, char *err, size_t errlen)
{
	struct fetch f = { { 0 }, -1, 0 };
	char why[256];
	CURL *e = curl_easy_init();
	CURLcode rc;
	long status = 0;
	json_error_t je;
	json_t *doc = NULL;
	int n = -1;

	if (e == NULL) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &f);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &f);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "%s: %s", url, f.too_big ?
		    "the document is larger than 1 MiB" :
		    curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(err, errlen, "%s: HTTP %ld", url, status);
	else if ((doc = json_loadb(f.body.data ? f.body.data : "",
	    f.body.len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		snprintf(err, errlen, "%s: not JSON (%s)", url, je.text);
	else if ((n = jwks_check(doc, why, sizeof(why))) < 0)
		snprintf(err, errlen, "%s: %s", url, why);
	else if (jwks_cache_write(home, url, doc, now_us() / 1000000,
	    f.max_age, err, errlen) == -1)
		n = -1;
	json_decref(doc);
	buf_free(&f.body);
	return n;
}
