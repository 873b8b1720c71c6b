/*
 * The parts of a definition beyond its signature: value templates,
 * handshakes, encrypted bodies, the params a subscription takes, the
 * category and the setup hint. Each is checked once, when the definition
 * loads, and compiled into struct integ, so that a delivery costs no
 * parsing and a mistake is reported with its JSON pointer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "integ.h"
#include "util.h"

int
vtpl_next(const char *tpl, size_t *pos, struct vtpl_part *part, char *why,
    size_t whylen)
{
	const char *p = tpl + *pos, *close, *in;
	size_t n, i;

	memset(part, 0, sizeof(*part));
	if (*p == '\0')
		return 0;
	if (*p != '{') {
		n = strcspn(p, "{");
		part->literal = 1;
		part->text = p;
		part->len = n;
		*pos += n;
		return 1;
	}
	if ((close = strchr(p, '}')) == NULL ||
	    memchr(p + 1, '{', (size_t)(close - p - 1)) != NULL) {
		snprintf(why, whylen, "the placeholder at \"%.20s\" is not "
		    "closed with }", p);
		return -1;
	}
	in = p + 1;
	n = (size_t)(close - in);
	part->text = p;
	part->len = n + 2;
	if (n > 7 && strncmp(in, "header:", 7) == 0 && n - 7 <
	    sizeof(part->src.where)) {
		part->src.kind = SRC_HEADER;
		for (i = 0; i < n - 7; i++)
			part->src.where[i] = (char)tolower((unsigned char)in[7 +
			    i]);
		part->src.where[i] = '\0';
	} else if (n > 6 && strncmp(in, "query:", 6) == 0 && n - 6 <
	    sizeof(part->src.where)) {
		part->src.kind = SRC_QUERY;
		memcpy(part->src.where, in + 6, n - 6);
		part->src.where[n - 6] = '\0';
	} else if (n > 5 && strncmp(in, "body:/", 6) == 0 && n - 5 <
	    sizeof(part->src.where)) {
		part->src.kind = SRC_BODY;
		memcpy(part->src.where, in + 5, n - 5);
		part->src.where[n - 5] = '\0';
	} else {
		snprintf(why, whylen, "unknown placeholder %.*s (known: "
		    "{header:NAME}, {query:NAME}, {body:/pointer})",
		    (int)(n > 60 ? 62 : n + 2), p);
		return -1;
	}
	*pos += n + 2;
	return 1;
}

/* A template whose placeholders are all among `kinds` (bits). */
static int
vtpl_check(const char *tpl, unsigned kinds, char *why, size_t whylen)
{
	struct vtpl_part part;
	size_t pos = 0;
	int rc;

	while ((rc = vtpl_next(tpl, &pos, &part, why, whylen)) == 1)
		if (!part.literal && !(kinds & (1u << part.src.kind))) {
			snprintf(why, whylen, "%.*s is not available here (only "
			    "{header:NAME} and {query:NAME}: the receiver "
			    "answers this one before it reads the body)",
			    (int)(part.len > 60 ? 60 : part.len), part.text);
			return -1;
		}
	return rc;
}

int
integ_event_matches(const char *pattern, const char *type)
{
	size_t n;

	if (pattern[0] == '*' && pattern[1] == '\0')
		return 1;
	n = strlen(pattern);
	return strncmp(type, pattern, n) == 0 && (type[n] == '\0' ||
	    (type[n] == '.' && n > 0));
}

int
integ_events_cover(const char *events, const char *type)
{
	const char *p = events;
	char one[256];

	if (strcmp(events, "*") == 0)
		return 1;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (integ_event_matches(one, type))
				return 1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

char *
integ_param(const char *params, const char *name)
{
	size_t nl = strlen(name);
	const char *p = params;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > nl && p[nl] == '=' && strncmp(p, name, nl) == 0)
			return strndup(p + nl + 1, len - nl - 1);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* "header:NAME", "query:NAME", "body:/pointer" and, where allowed,
 * "event"; the strings point into the definition. */
static int
hs_src_parse(const char *s, struct hs_src *src, int allow_event)
{
	if (s == NULL)
		return -1;
	if (strncmp(s, "header:", 7) == 0 && s[7] != '\0')
		*src = (struct hs_src){ SRC_HEADER, s + 7 };
	else if (strncmp(s, "query:", 6) == 0 && s[6] != '\0')
		*src = (struct hs_src){ SRC_QUERY, s + 6 };
	else if (strncmp(s, "body:/", 6) == 0)
		*src = (struct hs_src){ SRC_BODY, s + 5 };
	else if (allow_event && strcmp(s, "event") == 0)
		*src = (struct hs_src){ SRC_EVENT, "" };
	else
		return -1;
	return strlen(s) < 256 ? 0 : -1;
}

static int
method_parse(const char *s)
{
	if (s == NULL || strcmp(s, "POST") == 0)
		return HS_POST;
	if (strcmp(s, "GET") == 0)
		return HS_GET;
	if (strcmp(s, "HEAD") == 0)
		return HS_HEAD;
	return -1;
}

/* A token header name (RFC 9110 tchar), not one that frames the answer. */
static int
header_name_ok(const char *s)
{
	static const char *const framing[] = { "content-length",
	    "content-type", "transfer-encoding", "connection", "keep-alive",
	    "upgrade", "trailer", "te", NULL };
	int i;

	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("!#$%&'*+-.^_`|~",
		    s[i]) == NULL)
			return 0;
	for (i = 0; framing[i] != NULL; i++)
		if (strcasecmp(s, framing[i]) == 0)
			return 0;
	return 1;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/*
 * {"hmac": "sha256", "of": "{query:crc_token}", "encoding": "base64",
 * "prefix": "sha256="}: computed under the subscription's secret.
 */
static int
hmac_value_check(json_t *v, const char *at, unsigned kinds, char *err,
    size_t errlen)
{
	const char *alg = json_string_value(json_object_get(v, "hmac"));
	const char *of = json_string_value(json_object_get(v, "of"));
	const char *enc = json_string_value(json_object_get(v, "encoding"));
	json_t *pre = json_object_get(v, "prefix");
	char why[256];
	const char *k;
	json_t *x;

	json_object_foreach(v, k, x)
		if (strcmp(k, "hmac") && strcmp(k, "of") && strcmp(k,
		    "encoding") && strcmp(k, "prefix"))
			BAD("%s/%s: unknown (a computed value has hmac, of, "
			    "encoding and prefix)", at, k);
	if (alg == NULL || (strcmp(alg, "sha1") && strcmp(alg, "sha256") &&
	    strcmp(alg, "sha512")))
		BAD("%s/hmac: expected sha1, sha256 or sha512", at);
	if (of == NULL)
		BAD("%s/of: expected the template of what is signed, such as "
		    "\"{query:crc_token}\"", at);
	if (vtpl_check(of, kinds, why, sizeof(why)) == -1)
		BAD("%s/of: %s", at, why);
	if (enc == NULL || (strcmp(enc, "hex") && strcmp(enc, "base64")))
		BAD("%s/encoding: expected hex or base64", at);
	if (pre != NULL && !json_is_string(pre))
		BAD("%s/prefix: expected a string", at);
	return 0;
}

/* The templates of a JSON answer: every string, every computed value. */
static int
json_answer_check(json_t *v, const char *at, unsigned kinds, int depth,
    int *computed, char *err, size_t errlen)
{
	char why[256], sub[512];
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 8)
		BAD("%s: nested too deep", at);
	if (json_is_string(v)) {
		if (vtpl_check(json_string_value(v), kinds, why, sizeof(why)) ==
		    -1)
			BAD("%s: %s", at, why);
	} else if (json_is_object(v) && json_object_get(v, "hmac") != NULL) {
		*computed = 1;
		return hmac_value_check(v, at, kinds, err, errlen);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			snprintf(sub, sizeof(sub), "%s/%s", at, k);
			if (json_answer_check(x, sub, kinds, depth + 1, computed,
			    err, errlen) == -1)
				return -1;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			snprintf(sub, sizeof(sub), "%s/%zu", at, i);
			if (json_answer_check(x, sub, kinds, depth + 1, computed,
			    err, errlen) == -1)
				return -1;
		}
	}
	return 0;
}

static int
verify_parse(json_t *v, struct handshake *h, const char *at, char *err,
    size_t errlen)
{
	const char *s = json_string_value(v);

	if (v == NULL) {
		/* A POST is answered once its signature verifies; a GET or
		 * a HEAD carries none. */
		h->verify = h->method == HS_POST && h->set_secret.kind ==
		    SRC_NONE ? HS_VERIFY_SIGNATURE : HS_VERIFY_NONE;
		return 0;
	}
	if (s != NULL && strcmp(s, "none") == 0)
		h->verify = HS_VERIFY_NONE;
	else if (s != NULL && strcmp(s, "signature") == 0)
		h->verify = HS_VERIFY_SIGNATURE;
	else if (json_is_object(v) && json_object_size(v) == 2) {
		h->verify = HS_VERIFY_TOKEN;
		if (hs_src_parse(json_string_value(json_object_get(v, "token")),
		    &h->token, 0) == -1)
			BAD("%s/verify/token: expected where the request "
			    "carries the token: \"query:NAME\", "
			    "\"header:NAME\" or \"body:/pointer\"", at);
		h->equals = json_string_value(json_object_get(v, "equals"));
		if (h->equals == NULL || (strcmp(h->equals, "secret") != 0 &&
		    (strncmp(h->equals, "param:", 6) != 0 ||
		    !name_valid(h->equals + 6))))
			BAD("%s/verify/equals: expected \"secret\" (the "
			    "subscription's) or \"param:NAME\" (a --param of "
			    "the subscription)", at);
	} else
		BAD("%s/verify: expected \"signature\", \"none\" or {\"token\": "
		    "\"query:NAME\", \"equals\": \"param:NAME\"}", at);
	return 0;
}

static int
respond_parse(json_t *r, struct handshake *h, const char *at, unsigned kinds,
    char *err, size_t errlen)
{
	json_t *st, *x;
	const char *k;
	char why[256], sub[300];
	int computed = 0;

	if (r == NULL) {
		h->status = 200;
		return 0;
	}
	if (!json_is_object(r))
		BAD("%s/respond: expected {\"status\", \"text\" or \"json\", "
		    "\"headers\"}", at);
	json_object_foreach(r, k, x)
		if (strcmp(k, "status") && strcmp(k, "text") && strcmp(k,
		    "json") && strcmp(k, "headers") && strcmp(k,
		    "content_type"))
			BAD("%s/respond/%s: unknown (expected status, text, "
			    "json, content_type, headers)", at, k);
	st = json_object_get(r, "status");
	if (st != NULL && (!json_is_integer(st) || json_integer_value(st) <
	    200 || json_integer_value(st) > 299))
		BAD("%s/respond/status: expected a 2xx status", at);
	h->status = st ? (int)json_integer_value(st) : 200;
	h->text = json_object_get(r, "text");
	h->json = json_object_get(r, "json");
	if (h->text != NULL && h->json != NULL)
		BAD("%s/respond: text or json, not both", at);
	if (h->text != NULL) {
		if (json_is_object(h->text) && json_object_get(h->text,
		    "hmac") != NULL) {
			snprintf(sub, sizeof(sub), "%s/respond/text", at);
			if (hmac_value_check(h->text, sub, kinds, err,
			    errlen) == -1)
				return -1;
			computed = 1;
		} else if (!json_is_string(h->text))
			BAD("%s/respond/text: expected a template such as "
			    "\"{query:hub.challenge}\" or a computed "
			    "{\"hmac\": ...}", at);
		else if (vtpl_check(json_string_value(h->text), kinds, why,
		    sizeof(why)) == -1)
			BAD("%s/respond/text: %s", at, why);
	}
	if (h->json != NULL) {
		snprintf(sub, sizeof(sub), "%s/respond/json", at);
		if (json_answer_check(h->json, sub, kinds, 0, &computed, err,
		    errlen) == -1)
			return -1;
	}
	x = json_object_get(r, "content_type");
	if (x != NULL && (!json_is_string(x) || json_string_length(x) == 0 ||
	    json_string_length(x) > 100 || strpbrk(json_string_value(x),
	    "\r\n") != NULL))
		BAD("%s/respond/content_type: expected a media type", at);
	h->ctype = json_string_value(x);
	if (h->method == HS_HEAD && (h->text != NULL || h->json != NULL))
		BAD("%s/respond: a HEAD answer has no body", at);
	if (computed && h->in_receiver)
		BAD("%s/respond: a computed value needs the verifier, which "
		    "this handshake does not reach", at);
	h->headers = json_object_get(r, "headers");
	if (h->headers != NULL && (!json_is_object(h->headers) ||
	    json_object_size(h->headers) > 8))
		BAD("%s/respond/headers: expected an object of up to 8 "
		    "headers", at);
	json_object_foreach(h->headers, k, x) {
		if (!header_name_ok(k))
			BAD("%s/respond/headers/%s: not a header an answer may "
			    "set", at, k);
		if (!json_is_string(x) || vtpl_check(json_string_value(x),
		    kinds, why, sizeof(why)) == -1)
			BAD("%s/respond/headers/%s: %s", at, k,
			    json_is_string(x) ? why : "expected a template "
			    "string");
	}
	return 0;
}

static int
handshake_parse(json_t *e, struct handshake *h, const char *at, char *err,
    size_t errlen)
{
	json_t *when, *x;
	const char *k;
	unsigned kinds;
	int m;

	memset(h, 0, sizeof(*h));
	if (!json_is_object(e))
		BAD("%s: expected an object", at);
	/* The first form, kept: {"event": E, "respond_with": "/pointer"}. */
	if (json_object_get(e, "respond_with") != NULL) {
		const char *ev = json_string_value(json_object_get(e, "event"));
		const char *ptr = json_string_value(json_object_get(e,
		    "respond_with"));
		char tpl[300];

		if (ev == NULL || ptr == NULL || *ptr != '/' ||
		    json_object_size(e) != 2 || strlen(ptr) > 250)
			BAD("%s: expected {\"event\": NAME, \"respond_with\": "
			    "\"/pointer\"}", at);
		snprintf(tpl, sizeof(tpl), "{body:%s}", ptr);
		json_object_set_new(e, "_text", json_string(tpl));
		h->name = ev;
		h->method = HS_POST;
		h->when[0] = (struct hs_cond){ { SRC_EVENT, "" },
		    json_object_get(e, "event") };
		h->nwhen = 1;
		h->verify = HS_VERIFY_SIGNATURE;
		h->status = 200;
		h->text = json_object_get(e, "_text");
		h->set_secret.kind = SRC_NONE;
		return 0;
	}
	json_object_foreach(e, k, x)
		if (strcmp(k, "name") && strcmp(k, "method") && strcmp(k,
		    "when") && strcmp(k, "verify") && strcmp(k, "respond") &&
		    strcmp(k, "set_secret"))
			BAD("%s/%s: unknown (expected name, method, when, "
			    "verify, respond, set_secret)", at, k);
	h->name = json_string_value(json_object_get(e, "name"));
	if (h->name == NULL)
		h->name = "";
	if ((m = method_parse(json_string_value(json_object_get(e,
	    "method")))) == -1 || (json_object_get(e, "method") != NULL &&
	    !json_is_string(json_object_get(e, "method"))))
		BAD("%s/method: expected GET, POST or HEAD", at);
	h->method = (enum hs_method)m;
	h->set_secret.kind = SRC_NONE;
	if ((x = json_object_get(e, "set_secret")) != NULL) {
		if (hs_src_parse(json_string_value(x), &h->set_secret, 0) ==
		    -1)
			BAD("%s/set_secret: expected \"header:NAME\", "
			    "\"query:NAME\" or \"body:/pointer\"", at);
		if (h->method != HS_POST)
			BAD("%s/set_secret: only a POST handshake sets the "
			    "secret", at);
	}
	h->in_receiver = h->method == HS_HEAD || h->set_secret.kind !=
	    SRC_NONE;
	/* A secret handed over in the body (Notion's verification_token)
	 * has the receiver read the body: it has it whole by then. */
	kinds = 1u << SRC_HEADER | 1u << SRC_QUERY;
	if (!h->in_receiver || h->set_secret.kind == SRC_BODY)
		kinds |= 1u << SRC_BODY;
	when = json_object_get(e, "when");
	if (when != NULL && (!json_is_object(when) ||
	    json_object_size(when) > HS_WHEN_MAX))
		BAD("%s/when: expected an object of up to %d conditions, such "
		    "as {\"query:hub.mode\": \"subscribe\"}", at, HS_WHEN_MAX);
	json_object_foreach(when, k, x) {
		struct hs_cond *c = &h->when[h->nwhen++];

		if (hs_src_parse(k, &c->src, 1) == -1)
			BAD("%s/when/%s: expected \"header:NAME\", "
			    "\"query:NAME\", \"body:/pointer\" or \"event\"", at,
			    k);
		if (!(kinds & (1u << c->src.kind)) && (h->in_receiver ||
		    c->src.kind != SRC_EVENT))
			BAD("%s/when/%s: the receiver answers this handshake "
			    "before it reads the body: only header: and query: "
			    "conditions", at, k);
		if (json_is_true(x))
			c->value = NULL;
		else if (json_is_false(x) || json_is_string(x) ||
		    json_is_integer(x))
			c->value = x;
		else
			BAD("%s/when/%s: expected true (present), false "
			    "(absent), a string or a number (equal to)", at, k);
	}
	if (h->method == HS_POST && h->nwhen == 0 && h->set_secret.kind ==
	    SRC_NONE)
		BAD("%s/when: a POST handshake needs a condition, or every "
		    "delivery would be taken for one", at);
	if (verify_parse(json_object_get(e, "verify"), h, at, err, errlen) ==
	    -1)
		return -1;
	if (h->in_receiver && h->verify != HS_VERIFY_NONE)
		BAD("%s/verify: a %s handshake is answered by the receiver, "
		    "which checks no signature nor token: \"none\"", at,
		    h->method == HS_HEAD ? "HEAD" : "set_secret");
	return respond_parse(json_object_get(e, "respond"), h, at, kinds, err,
	    errlen);
}

static int
crypt_parse(json_t *c, struct integ_crypt *cr, char *err, size_t errlen)
{
	const char *cipher, *kh, *k;
	json_t *x;

	memset(cr, 0, sizeof(*cr));
	if (c == NULL)
		return 0;
	if (!json_is_object(c))
		BAD("/encrypted: expected {\"field\", \"cipher\", \"key\", "
		    "\"key_hash\"}");
	json_object_foreach(c, k, x)
		if (strcmp(k, "field") && strcmp(k, "cipher") && strcmp(k,
		    "key") && strcmp(k, "key_hash"))
			BAD("/encrypted/%s: unknown (expected field, cipher, "
			    "key, key_hash)", k);
	cr->field = json_string_value(json_object_get(c, "field"));
	if (cr->field == NULL || *cr->field != '/' || strlen(cr->field) > 255)
		BAD("/encrypted/field: expected the JSON pointer of the "
		    "encrypted text, such as \"/encrypt\"");
	cipher = json_string_value(json_object_get(c, "cipher"));
	if (cipher == NULL || strcmp(cipher, "aes-256-cbc") != 0)
		BAD("/encrypted/cipher: expected aes-256-cbc (the IV is the "
		    "first 16 bytes of the decoded text)");
	cr->key = json_string_value(json_object_get(c, "key"));
	if (cr->key == NULL || (strcmp(cr->key, "secret") != 0 &&
	    (strncmp(cr->key, "param:", 6) != 0 || !name_valid(cr->key + 6))))
		BAD("/encrypted/key: expected \"secret\" (the subscription's) "
		    "or \"param:NAME\" (a --param of the subscription)");
	kh = json_string_value(json_object_get(c, "key_hash"));
	if (json_object_get(c, "key_hash") != NULL && (kh == NULL ||
	    (strcmp(kh, "sha256") && strcmp(kh, "none"))))
		BAD("/encrypted/key_hash: expected sha256 (the key is the "
		    "SHA-256 of the text) or none (the text is the 32-byte "
		    "key)");
	cr->key_sha256 = kh != NULL && strcmp(kh, "sha256") == 0;
	cr->on = 1;
	return 0;
}

static int
sub_params_parse(struct integ *ig, json_t *def, char *err, size_t errlen)
{
	json_t *a = json_object_get(def, "sub_params"), *e, *x;
	const char *name, *sets, *k;
	size_t i, j;

	ig->sub_params = a;
	ig->derive = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 32)
		BAD("/sub_params: expected a list of up to 32 {name, "
		    "description, required, sets}");
	json_array_foreach(a, i, e) {
		json_object_foreach(e, k, x)
			if (strcmp(k, "name") && strcmp(k, "description") &&
			    strcmp(k, "required") && strcmp(k, "sets"))
				BAD("/sub_params/%zu/%s: unknown (expected "
				    "name, description, required, sets)", i, k);
		name = json_string_value(json_object_get(e, "name"));
		if (name == NULL || !name_valid(name) || strchr(name, '='))
			BAD("/sub_params/%zu/name: expected a name of letters, "
			    "digits, '.', '_' or '-'", i);
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_object_get(
			    json_array_get(a, j), "name")), name) == 0)
				BAD("/sub_params/%zu/name: %s is there twice",
				    i, name);
		if (!json_is_string(json_object_get(e, "description")))
			BAD("/sub_params/%zu/description: expected a string",
			    i);
		x = json_object_get(e, "required");
		if (x != NULL && !json_is_boolean(x))
			BAD("/sub_params/%zu/required: expected true or false",
			    i);
		if ((x = json_object_get(e, "sets")) == NULL)
			continue;
		sets = json_string_value(x);
		/* The place must be a member of an object the definition
		 * has, such as /params/header or /event_type. */
		if (sets == NULL || *sets != '/' || strlen(sets) > 200 ||
		    strcmp(sets, "/name") == 0 || strcmp(sets, "/scheme") == 0 ||
		    strncmp(sets, "/sub_params", 11) == 0) {
			BAD("/sub_params/%zu/sets: expected the JSON pointer of "
			    "the definition's value it sets, such as "
			    "\"/params/header\"", i);
		} else {
			char parent[256];
			const char *slash = strrchr(sets, '/');

			snprintf(parent, sizeof(parent), "%.*s",
			    (int)(slash - sets), sets);
			if (!json_is_object(json_pointer_get(def, parent)))
				BAD("/sub_params/%zu/sets: %s is not in an "
				    "object of the definition", i, sets);
		}
		ig->derive = 1;
	}
	return 0;
}

static int
setup_parse(json_t *s, char *err, size_t errlen)
{
	const char *k, *sec;
	json_t *x;

	if (s == NULL)
		return 0;
	if (!json_is_object(s))
		BAD("/setup: expected {\"where\", \"callback_url\", \"secret\", "
		    "\"secret_field\", \"docs\", \"notes\"}");
	json_object_foreach(s, k, x) {
		if (strcmp(k, "where") && strcmp(k, "callback_url") &&
		    strcmp(k, "secret") && strcmp(k, "secret_field") &&
		    strcmp(k, "docs") && strcmp(k, "notes"))
			BAD("/setup/%s: unknown (expected where, callback_url, "
			    "secret, secret_field, docs, notes)", k);
		if (!json_is_string(x) || json_string_length(x) > 1000)
			BAD("/setup/%s: expected a string", k);
	}
	sec = json_string_value(json_object_get(s, "secret"));
	if (sec != NULL && strcmp(sec, "provider") && strcmp(sec, "hookpipe") &&
	    strcmp(sec, "none"))
		BAD("/setup/secret: expected \"provider\" (the provider makes "
		    "the secret, you give it to hookpipe), \"hookpipe\" "
		    "(hookpipe makes it, you paste it into the provider) or "
		    "\"none\"");
	return 0;
}

int
integ_check_forms(struct integ *ig, json_t *def, const char *label,
    char *err, size_t errlen)
{
	char at[64], e2[768];
	const char *s;
	json_t *a, *e;
	size_t i;

	s = json_string_value(json_object_get(def, "category"));
	if (json_object_get(def, "category") != NULL && (s == NULL ||
	    *s == '\0' || strlen(s) >= sizeof(ig->category)))
		goto bad_category;
	for (; s != NULL && *s != '\0' && (unsigned char)*s >= 0x20; s++)
		;
	if (s != NULL && *s != '\0')
		goto bad_category;
	s = json_string_value(json_object_get(def, "category"));
	str_copy(ig->category, s ? s : "Other", sizeof(ig->category));

	ig->nhs = 0;
	ig->hs_methods = 0;
	a = json_object_get(def, "handshakes");
	if (a != NULL && (!json_is_array(a) || json_array_size(a) > HS_MAX)) {
		snprintf(err, errlen, "%s: /handshakes: expected a list of up "
		    "to %d handshakes", label, HS_MAX);
		return -1;
	}
	json_array_foreach(a, i, e) {
		snprintf(at, sizeof(at), "/handshakes/%zu", i);
		if (handshake_parse(e, &ig->hs[ig->nhs], at, e2,
		    sizeof(e2)) == -1) {
			snprintf(err, errlen, "%s: %s", label, e2);
			return -1;
		}
		ig->hs_methods |= ig->hs[ig->nhs++].method;
	}
	if (crypt_parse(json_object_get(def, "encrypted"), &ig->crypt, e2,
	    sizeof(e2)) == -1 || sub_params_parse(ig, def, e2,
	    sizeof(e2)) == -1 || setup_parse(json_object_get(def, "setup"),
	    e2, sizeof(e2)) == -1) {
		snprintf(err, errlen, "%s: %s", label, e2);
		return -1;
	}
	if (ig->crypt.on && !ig->require_json) {
		snprintf(err, errlen, "%s: /encrypted: the encrypted text is in "
		    "a JSON body: /body must be \"json\"", label);
		return -1;
	}
	ig->setup = json_object_get(def, "setup");
	return 0;
bad_category:
	snprintf(err, errlen, "%s: /category: expected a short name such as "
	    "\"Code\", \"Payments\" or \"Messaging\"", label);
	return -1;
}
