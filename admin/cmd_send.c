/*
 * hookpipe send SUB --event TYPE [--file PAYLOAD]
 *
 * Plays the provider: signs a payload with the subscription's secret the
 * way its integration's scheme says and POSTs it to the callback URL, so
 * that the whole pipeline can be tried without the provider. The event
 * type and delivery id go where the integration's definition takes them
 * from (a header, or a place in the default body).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "mp.h"
#include "util.h"

#define HDRS_MAX	12
#define SEND_TIMEOUT_S	30
#define PARTS_MAX	16

struct hdrs {
	char	 name[HDRS_MAX][128];
	char	 value[HDRS_MAX][512];
	int	 n;
};

struct signing {
	const struct integ	*ig;
	const char		*type;
	const unsigned char	*secret;
	size_t			 secret_len;
	const char		*body;
	size_t			 len;
	char			 ts[24];
	struct hdrs		 h;
	int			 form;	/* sent as a form, not JSON */
	char			 err[256];
};

static const char *
hdr_get(const struct hdrs *h, const char *name)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

static void
hdr_set(struct hdrs *h, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
hdr_set(struct hdrs *h, const char *name, const char *fmt, ...)
{
	va_list ap;
	int i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			break;
	if (i == HDRS_MAX)
		return;
	if (i == h->n)
		h->n++;
	str_copy(h->name[i], name, sizeof(h->name[i]));
	va_start(ap, fmt);
	vsnprintf(h->value[i], sizeof(h->value[i]), fmt, ap);
	va_end(ap);
}

static void
random_hex(char *out, size_t nbytes)
{
	unsigned char raw[32];

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	crypto_random(raw, nbytes);
	hex_encode(raw, nbytes, out);
}

/* Hex or base64 of an HMAC over parts; -1 with err. */
static int
mac_encode(struct signing *sg, enum hmac_alg alg, const void *key,
    size_t keylen, const struct iov *parts, int n, int base64, char *out)
{
	unsigned char mac[64];
	int len;

	if ((len = hmac_parts(alg, key, keylen, parts, n, mac)) < 0) {
		snprintf(sg->err, sizeof(sg->err), "HMAC failed");
		return -1;
	}
	if (base64)
		b64_encode(mac, (size_t)len, out);
	else
		hex_encode(mac, (size_t)len, out);
	return 0;
}

/* --- schemes --- */

/*
 * A whsec_ secret is base64; any other is used as raw bytes. The headers
 * are webhook-*, or with the definition's header_prefix (svix-*).
 */
static int
sign_standard(struct signing *sg)
{
	unsigned char key[SECRET_MAX];
	const char *pre = sg->ig->sc.sw_prefix[0] ? sg->ig->sc.sw_prefix :
	    "webhook-";
	char sig[100], gen[32], hid[48], hts[48], hsig[48];
	const char *id;
	struct iov parts[5];
	int kl;

	snprintf(hid, sizeof(hid), "%sid", pre);
	snprintf(hts, sizeof(hts), "%stimestamp", pre);
	snprintf(hsig, sizeof(hsig), "%ssignature", pre);
	id = hdr_get(&sg->h, hid);

	if (sg->secret_len > 5 && memcmp(sg->secret, "whpk_", 5) == 0) {
		snprintf(sg->err, sizeof(sg->err), "the secret is a whpk_ "
		    "public key: only the sender's private key can sign");
		return -1;
	}
	if (sg->secret_len > 6 && memcmp(sg->secret, "whsec_", 6) == 0) {
		kl = b64_decode((const char *)sg->secret + 6,
		    sg->secret_len - 6, key, sizeof(key));
		if (kl <= 0) {
			snprintf(sg->err, sizeof(sg->err), "the whsec_ secret "
			    "is not valid base64");
			return -1;
		}
	} else {
		memcpy(key, sg->secret, sg->secret_len);
		kl = (int)sg->secret_len;
	}
	if (id == NULL) {
		memcpy(gen, "msg_", 4);
		random_hex(gen + 4, 12);
		hdr_set(&sg->h, hid, "%s", gen);
		id = hdr_get(&sg->h, hid);
	}
	parts[0] = (struct iov){ id, strlen(id) };
	parts[1] = (struct iov){ ".", 1 };
	parts[2] = (struct iov){ sg->ts, strlen(sg->ts) };
	parts[3] = (struct iov){ ".", 1 };
	parts[4] = (struct iov){ sg->body, sg->len };
	kl = mac_encode(sg, HMAC_SHA256, key, (size_t)kl, parts, 5, 1, sig);
	OPENSSL_cleanse(key, sizeof(key));
	if (kl == -1)
		return -1;
	hdr_set(&sg->h, hts, "%s", sg->ts);
	hdr_set(&sg->h, hsig, "v1,%s", sig);
	return 0;
}

static int
sign_github(struct signing *sg)
{
	struct iov part = { sg->body, sg->len };
	char sig[130], id[UUID_LEN + 1];

	if (mac_encode(sg, HMAC_SHA256, sg->secret, sg->secret_len, &part, 1,
	    0, sig) == -1)
		return -1;
	hdr_set(&sg->h, "X-Hub-Signature-256", "sha256=%s", sig);
	if (hdr_get(&sg->h, "x-github-event") == NULL)
		hdr_set(&sg->h, "X-GitHub-Event", "%s", sg->type);
	if (hdr_get(&sg->h, "x-github-delivery") == NULL) {
		uuid4(id);
		hdr_set(&sg->h, "X-GitHub-Delivery", "%s", id);
	}
	return 0;
}

static int
sign_stripe(struct signing *sg)
{
	struct iov parts[3] = {
		{ sg->ts, strlen(sg->ts) }, { ".", 1 }, { sg->body, sg->len }
	};
	char sig[130];

	if (mac_encode(sg, HMAC_SHA256, sg->secret, sg->secret_len, parts, 3,
	    0, sig) == -1)
		return -1;
	hdr_set(&sg->h, "Stripe-Signature", "t=%s,v1=%s", sg->ts, sig);
	return 0;
}

static int
sign_slack(struct signing *sg)
{
	struct iov parts[4] = {
		{ "v0:", 3 }, { sg->ts, strlen(sg->ts) }, { ":", 1 },
		{ sg->body, sg->len }
	};
	char sig[130];

	if (mac_encode(sg, HMAC_SHA256, sg->secret, sg->secret_len, parts, 4,
	    0, sig) == -1)
		return -1;
	hdr_set(&sg->h, "X-Slack-Request-Timestamp", "%s", sg->ts);
	hdr_set(&sg->h, "X-Slack-Signature", "v0=%s", sig);
	return 0;
}

static const char *
param(const struct signing *sg, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(sg->ig->params,
	    key));

	return v != NULL ? v : def;
}

/* The "signed" template: {body}, {timestamp}, {header:NAME}, literals. */
static int
hmac_template(struct signing *sg, const char *tpl, struct iov *parts)
{
	char name[128];
	int n = 0;

	while (*tpl != '\0' && n < PARTS_MAX) {
		const char *open = strchr(tpl, '{'), *close, *v;

		if (open != tpl) {
			size_t len = open ? (size_t)(open - tpl) : strlen(tpl);

			parts[n++] = (struct iov){ tpl, len };
			tpl += len;
			continue;
		}
		if ((close = strchr(open, '}')) == NULL)
			break;
		if (close - open == 5 && memcmp(open, "{body", 5) == 0)
			parts[n++] = (struct iov){ sg->body, sg->len };
		else if (close - open == 10 && memcmp(open, "{timestamp",
		    10) == 0)
			parts[n++] = (struct iov){ sg->ts, strlen(sg->ts) };
		else if (close - open > 8 && memcmp(open, "{header:", 8) == 0 &&
		    (size_t)(close - open - 8) < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s",
			    (int)(close - open - 8), open + 8);
			if ((v = hdr_get(&sg->h, name)) == NULL) {
				snprintf(sg->err, sizeof(sg->err), "cannot "
				    "sign: the definition signs header %s, "
				    "which send does not know how to fill",
				    name);
				return -1;
			}
			parts[n++] = (struct iov){ v, strlen(v) };
		} else
			parts[n++] = (struct iov){ open, (size_t)(close -
			    open + 1) };
		tpl = close + 1;
	}
	return n;
}

/* Generic HMAC, as the definition's params describe it. */
static int
sign_hmac(struct signing *sg)
{
	const char *alg = param(sg, "algorithm", "sha256");
	const char *tsh = param(sg, "timestamp_header", NULL);
	struct iov parts[PARTS_MAX];
	char sig[130];
	int n;

	if (tsh != NULL)
		hdr_set(&sg->h, tsh, "%s", sg->ts);
	if ((n = hmac_template(sg, param(sg, "signed", "{body}"), parts)) < 0)
		return -1;
	if (mac_encode(sg, strcasecmp(alg, "sha1") == 0 ? HMAC_SHA1 :
	    strcasecmp(alg, "sha512") == 0 ? HMAC_SHA512 : HMAC_SHA256,
	    sg->secret, sg->secret_len, parts, n,
	    strcasecmp(param(sg, "encoding", "hex"), "base64") == 0,
	    sig) == -1)
		return -1;
	hdr_set(&sg->h, param(sg, "header", "X-Signature"), "%s%s",
	    param(sg, "prefix", ""), sig);
	return 0;
}

static const struct {
	const char	*scheme;
	int		(*fn)(struct signing *);
} signers[] = {
	{ "standard-webhooks", sign_standard },
	{ "github", sign_github },
	{ "stripe", sign_stripe },
	{ "slack", sign_slack },
	{ "hmac", sign_hmac },
	{ NULL, NULL }
};

/* --- the payload --- */

/* Set a value at a plain "/a/b" pointer, making objects on the way. */
static void
pointer_set(json_t *root, const char *ptr, json_t *value)
{
	char key[256];
	const char *p = ptr;

	while (json_is_object(root) && *p == '/') {
		size_t n = strcspn(p + 1, "/");

		snprintf(key, sizeof(key), "%.*s", (int)n, p + 1);
		p += n + 1;
		if (*p == '\0') {
			json_object_set(root, key, value);
			break;
		}
		if (!json_is_object(json_object_get(root, key)))
			json_object_set_new(root, key, json_object());
		root = json_object_get(root, key);
	}
	json_decref(value);
}

/*
 * The first form of a list that holds without conditions: where a
 * delivery's own value goes (a conditional one is for other kinds).
 */
static const struct source *
plain_source(const struct sources *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].nwhen == 0)
			return &s->v[i];
	return NULL;
}

/*
 * A delivery id: in a header (set now, before signing, as some schemes
 * sign it) or in the default body.
 */
static void
place_ids(struct signing *sg, json_t *body)
{
	const struct source *et = plain_source(&sg->ig->event_type);
	const struct source *di = plain_source(&sg->ig->delivery_id);
	char id[64];

	if (strcmp(sg->ig->scheme, "standard-webhooks") == 0) {
		memcpy(id, "msg_", 4);
		random_hex(id + 4, 12);
	} else
		uuid4(id);
	if (et != NULL && et->kind == SRC_HEADER)
		hdr_set(&sg->h, et->where, "%s", sg->type);
	else if (et != NULL && et->kind == SRC_BODY && body != NULL)
		pointer_set(body, et->where, json_string(sg->type));
	if (di != NULL && di->kind == SRC_HEADER)
		hdr_set(&sg->h, di->where, "%s", id);
	else if (di != NULL && di->kind == SRC_BODY && body != NULL &&
	    strcmp(di->where, "/id") != 0)
		pointer_set(body, di->where, json_string(id));
}

/* A minimal event in OpenAI's shape; the type where the definition says. */
static char *
default_body(struct signing *sg, time_t now)
{
	char id[40];
	json_t *b;
	char *s;

	memcpy(id, "evt_", 4);
	random_hex(id + 4, 12);
	b = json_pack("{s:s,s:s,s:I,s:s,s:{s:s}}", "id", id, "object", "event",
	    "created_at", (json_int_t)now, "type", sg->type, "data", "id",
	    "test");
	place_ids(sg, b);
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

static int
read_file(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL)
		return fail("cannot read %s: %m", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > MP_MAX_INPUT) {
			if (f != stdin)
				fclose(f);
			return fail("%s is larger than %u bytes", path,
			    MP_MAX_INPUT);
		}
		buf_append(b, chunk, n);
	}
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		return fail("cannot read %s: %m", path);
	}
	if (f != stdin)
		fclose(f);
	buf_append(b, "", 0);	/* a NUL after the data, even when empty */
	return 0;
}

/*
 * The provider's own example of the event, shipped beside the
 * definitions (examples/INTEGRATION/TYPE.json), with this delivery's
 * ids: NULL when there is none. A body-borne delivery id gets a fresh
 * value of the example's shape, or a second send would be a duplicate.
 */
static char *
example_body(struct ctx *ctx, struct signing *sg, char *path, size_t len)
{
	const char *dirs[] = { ctx->cfg.user_integrations_dir,
	    ctx->cfg.integrations_dir, NULL };
	const struct sources *di = &sg->ig->delivery_id;
	json_t *b = NULL, *id;
	char fresh[80];
	const char *p;
	char *s;
	int i;

	if (strchr(sg->type, '/') != NULL || sg->type[0] == '.')
		return NULL;
	for (i = 0; dirs[i] != NULL && b == NULL; i++) {
		snprintf(path, len, "%s/examples/%s/%s.json", dirs[i],
		    sg->ig->name, sg->type);
		b = json_load_file(path, 0, NULL);
	}
	if (b == NULL)
		return NULL;
	if (di->n > 0 && di->v[0].kind == SRC_BODY &&
	    json_is_string(id = json_pointer_get(b, di->v[0].where))) {
		p = strchr(json_string_value(id), '_');
		snprintf(fresh, sizeof(fresh), "%.*s",
		    p != NULL && p - json_string_value(id) < 40 ?
		    (int)(p - json_string_value(id) + 1) : 0,
		    json_string_value(id));
		random_hex(fresh + strlen(fresh), 12);
		pointer_set(b, di->v[0].where, json_string(fresh));
	}
	place_ids(sg, b);
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

/* Whether the integration takes form bodies (Slack's slash commands). */
static int
takes_form(const struct integ *ig)
{
	size_t i;
	json_t *v;

	json_array_foreach(ig->content_types, i, v)
		if (json_is_string(v) && strstr(json_string_value(v),
		    "form-urlencoded") != NULL)
			return 1;
	return 0;
}

/* The body's own type wins at the receiver: say so when they differ. */
static void
check_file_type(const struct signing *sg)
{
	const struct source *et = plain_source(&sg->ig->event_type);
	json_t *doc, *v;

	if (et == NULL || et->kind != SRC_BODY ||
	    (doc = json_loadb(sg->body, sg->len, 0, NULL)) == NULL)
		return;
	v = json_pointer_get(doc, et->where);
	if (json_is_string(v) && strcmp(json_string_value(v), sg->type) != 0)
		warnmsg("the file's %s is %s, not %s; the receiver goes by the "
		    "file", et->where, json_string_value(v), sg->type);
	json_decref(doc);
}

/* --- the request --- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > (1u << 20))
		return 0;	/* an answer over 1 MiB is not the receiver's */
	buf_append(b, p, size * n);
	return size * n;
}

static int
post(struct ctx *ctx, const char *url, struct signing *sg, long *status,
    struct buf *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "", line[700];
	struct curl_slist *hl = NULL;
	json_t *probe;
	CURLcode res;
	CURL *e;
	int i;

	/* Form bodies (Slack's slash commands) are not JSON. */
	probe = json_loadb(sg->body, sg->len, JSON_DECODE_ANY, NULL);
	sg->form = probe == NULL && sg->len > 0;
	hl = curl_slist_append(hl, probe != NULL || sg->len == 0 ?
	    "Content-Type: application/json" :
	    "Content-Type: application/x-www-form-urlencoded");
	json_decref(probe);
	for (i = 0; i < sg->h.n; i++) {
		snprintf(line, sizeof(line), "%s: %s", sg->h.name[i],
		    sg->h.value[i]);
		hl = curl_slist_append(hl, line);
	}
	if ((e = curl_easy_init()) == NULL) {
		curl_slist_free_all(hl);
		return fail("cannot start libcurl");
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, sg->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sg->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)SEND_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookpipe-send");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
	res = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	(void)ctx;
	if (res == CURLE_COULDNT_CONNECT)
		return fail("cannot reach %s: %s; is the stack running? "
		    "(hookpipectl start)", url, errbuf[0] ? errbuf :
		    curl_easy_strerror(res));
	if (res != CURLE_OK)
		return fail("POST %s: %s", url, errbuf[0] ? errbuf :
		    curl_easy_strerror(res));
	return 0;
}

static int
send_print(struct ctx *ctx, const char *url, long status,
    const struct buf *resp, const struct signing *sg)
{
	int ok = status >= 200 && status < 300;

	if (ctx->json) {
		json_t *h = json_object();
		int i;

		json_object_set_new(h, "Content-Type", json_string(
		    sg->form ? "application/x-www-form-urlencoded" :
		    "application/json"));
		for (i = 0; i < sg->h.n; i++)
			if (strcasestr(sg->h.name[i], "signature") == NULL)
				json_object_set_new(h, sg->h.name[i],
				    json_string(sg->h.value[i]));
		json_print(json_pack("{s:s,s:i,s:o,s:o}", "url", url, "status",
		    (int)status, "headers", h, "response",
		    json_or_string(resp->data ? resp->data : "", resp->len)));
	} else {
		printf("HTTP %ld\n", status);
		if (resp->len > 0)
			print_pretty(stdout, resp->data, resp->len);
	}
	if (!ok)
		return fail("the receiver answered HTTP %ld", status);
	return EXIT_OK;
}

/* The secret in clear, for signing only; -1 when there is none. */
static int
send_secret(struct ctx *ctx, const char *key, struct sub_rec *s,
    unsigned char *out, size_t cap)
{
	MDB_txn *txn;
	int rc, n;

	if ((txn = txn_read(ctx, DB_CONFIG)) == NULL)
		return -1;
	rc = sub_lookup(ctx, txn, key, s);
	mdb_txn_abort(txn);
	if (rc != 0)
		return -1;
	if (s->secret_len == 0) {
		errmsg("subscription %s has no secret to sign with; set one "
		    "with 'hookpipe sub edit %s --secret S'", s->name, s->name);
		return -1;
	}
	if ((n = db_sub_secret(&ctx->db, s, 1, out, cap)) < 0)
		errmsg("cannot decrypt the secret of %s (another master key?)",
		    s->name);
	return n;
}

static int
send_signed(struct ctx *ctx, struct signing *sg, const char *url)
{
	struct buf resp = { 0 };
	long status = 0;
	int i, rc;

	for (i = 0; signers[i].scheme != NULL; i++)
		if (strcmp(signers[i].scheme, sg->ig->scheme) == 0)
			break;
	if (signers[i].scheme == NULL)
		return fail("cannot sign for scheme %s", sg->ig->scheme);
	if (signers[i].fn(sg) == -1)
		return fail("%s", sg->err);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((rc = post(ctx, url, sg, &status, &resp)) == 0)
		rc = send_print(ctx, url, status, &resp, sg);
	curl_global_cleanup();
	buf_free(&resp);
	return rc;
}

int
cmd_send(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	const char *type = NULL, *file = NULL;
	const struct opt opts[] = {
		{ "event", OPT_STR, &type },
		{ "file", OPT_STR, &file },
		{ NULL, 0, NULL }
	};
	unsigned char secret[SECRET_MAX];
	struct signing sg;
	struct sub_rec s;
	struct buf body = { 0 };
	char **args, url[2048], *dflt = NULL, example[PATH_MAX + 200];
	time_t now = time(NULL);
	int n, rc;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (type == NULL || *type == '\0')
		return usage_error(ctx, "missing --event TYPE");
	if ((rc = ctx_open(ctx, 0)) != 0)
		return rc;
	memset(&sg, 0, sizeof(sg));
	sg.type = type;
	snprintf(sg.ts, sizeof(sg.ts), "%lld", (long long)now);
	if ((n = send_secret(ctx, args[0], &s, secret, sizeof(secret))) < 0)
		return EXIT_FAIL;
	sg.secret = secret;
	sg.secret_len = (size_t)n;
	if ((sg.ig = integ_find(&ctx->integs, s.integration)) == NULL) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return fail("no integration %s (subscription %s)",
		    s.integration, s.name);
	}
	if (file != NULL) {
		if ((rc = read_file(file, &body)) == 0) {
			json_t *probe = json_loadb(body.data, body.len,
			    JSON_DECODE_ANY, NULL);

			sg.body = body.data;
			sg.len = body.len;
			if (probe == NULL && !takes_form(sg.ig))
				rc = usage_error(ctx, "--file %s is not JSON, "
				    "and %s deliveries are JSON", file,
				    sg.ig->title);
			json_decref(probe);
			place_ids(&sg, NULL);
			check_file_type(&sg);
		}
	} else if ((dflt = example_body(ctx, &sg, example,
	    sizeof(example))) != NULL) {
		sg.len = strlen(sg.body = dflt);
		if (!ctx->json)
			printf("sending %s's example of %s (%s)\n",
			    sg.ig->title, type, example);
	} else {
		sg.body = dflt = default_body(&sg, now);
		sg.len = strlen(dflt);
	}
	sub_callback_url(ctx, s.id, url, sizeof(url));
	if (rc == 0)
		rc = send_signed(ctx, &sg, url);
	OPENSSL_cleanse(secret, sizeof(secret));
	buf_free(&body);
	free(dflt);
	return rc;
}
