/*
 * The forms of a definition beyond its signature (event type templates,
 * first-key lists, fixed types, handshakes, encrypted bodies, the params
 * a subscription takes, category and setup), the handshake answers, the
 * decryption of Lark's bodies, and reloading definitions. HMACs and
 * ciphertexts here were made with the openssl command line (see each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "handshake.h"
#include "integ.h"
#include "t.h"
#include "verifier.h"

static char last_warning[1024];

static void
warn(const char *msg)
{
	snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

/* Load a definition from text: 0, or -1 with err. */
static int
load(struct integ *ig, const char *text, char *err, size_t errlen)
{
	return integ_load_string(ig, text, "t.json", err, errlen);
}

/* A definition with `extra` members after the usual ones. */
static int
load_with(struct integ *ig, const char *extra, char *err, size_t errlen)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"name\":\"t\",\"scheme\":\"hmac\","
	    "\"params\":{\"header\":\"x-sig\"},\"event_type\":\"body:/type\","
	    "\"delivery_id\":\"none\",\"events\":[]%s%s}", extra[0] ? "," : "",
	    extra);
	return load(ig, text, err, errlen);
}

/* Refused, with `want` in the message. */
static int
refused(const char *extra, const char *want)
{
	struct integ ig;
	char err[1024];

	if (load_with(&ig, extra, err, sizeof(err)) == 0) {
		printf("# accepted: %s\n", extra);
		json_decref(ig.def);
		return 0;
	}
	if (strstr(err, want) == NULL) {
		printf("# %s\n#   said: %s\n#   not: %s\n", extra, err, want);
		return 0;
	}
	return 1;
}

/* An event type form refused, with `want` in the message. */
static int
refused_et(const char *et, const char *want)
{
	struct integ ig;
	char text[2048], err[1024];

	snprintf(text, sizeof(text), "{\"name\":\"t\",\"scheme\":\"hmac\","
	    "\"params\":{\"header\":\"x-sig\"},\"event_type\":%s,"
	    "\"delivery_id\":\"none\",\"events\":[]}", et);
	if (load(&ig, text, err, sizeof(err)) == 0) {
		printf("# accepted: %s\n", et);
		json_decref(ig.def);
		return 0;
	}
	if (strstr(err, want) == NULL) {
		printf("# %s\n#   said: %s\n#   not: %s\n", et, err, want);
		return 0;
	}
	return 1;
}

static void
forms(void)
{
	struct integ ig;
	char err[1024];

	/* Event type forms. */
	CHECK(load_with(&ig, "\"category\":\"Code\"", err, sizeof(err)) == 0 &&
	    strcmp(ig.category, "Code") == 0 && ig.nhs == 0);
	json_decref(ig.def);
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":\"{header:X-Ev}.{body:"
	    "/action}\",\"delivery_id\":\"none\",\"events\":[]}", err,
	    sizeof(err)) == 0 && ig.event_type.v[0].kind == SRC_TEMPLATE &&
	    strcmp(ig.category, "Other") == 0);
	/* A template's headers are among those the integration reads. */
	CHECK(integ_reads_header(&ig, "x-ev"));
	json_decref(ig.def);
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[{\"first_key_of\":\"/\","
	    "\"keys\":[\"message\",\"edited_message\"]},\"fixed:other\"],"
	    "\"delivery_id\":\"query:id\",\"events\":[]}", err,
	    sizeof(err)) == 0 && ig.event_type.v[0].kind == SRC_FIRST_KEY &&
	    ig.event_type.v[1].kind == SRC_FIXED &&
	    ig.delivery_id.v[0].kind == SRC_QUERY);
	json_decref(ig.def);
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":\"{header:X}.{nope:y}\","
	    "\"delivery_id\":\"none\",\"events\":[]}", err, sizeof(err)) == -1 &&
	    strstr(err, "/event_type: unknown placeholder {nope:y}") != NULL);
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[\"fixed:a\",\"body:/t\"],"
	    "\"delivery_id\":\"none\",\"events\":[]}", err, sizeof(err)) == -1 &&
	    strstr(err, "a fixed one last") != NULL);
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":{\"first_key_of\":\"/\"},"
	    "\"delivery_id\":\"none\",\"events\":[]}", err, sizeof(err)) == -1);
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":\"{header:X\","
	    "\"delivery_id\":\"none\",\"events\":[]}", err, sizeof(err)) == -1 &&
	    strstr(err, "not closed") != NULL);

	/* Handshakes. */
	CHECK(load_with(&ig, "\"handshakes\":[{\"method\":\"GET\",\"when\":"
	    "{\"query:hub.mode\":\"subscribe\"},\"verify\":{\"token\":"
	    "\"query:hub.verify_token\",\"equals\":\"param:verify_token\"},"
	    "\"respond\":{\"text\":\"{query:hub.challenge}\"}},{\"method\":"
	    "\"HEAD\"},{\"set_secret\":\"header:X-Hook-Secret\",\"respond\":"
	    "{\"headers\":{\"X-Hook-Secret\":\"{header:X-Hook-Secret}\"}}}]",
	    err, sizeof(err)) == 0 && ig.nhs == 3 && ig.hs_methods ==
	    (HS_GET | HS_HEAD | HS_POST) && ig.hs[0].verify ==
	    HS_VERIFY_TOKEN && !ig.hs[0].in_receiver && ig.hs[1].in_receiver &&
	    ig.hs[2].in_receiver && ig.hs[2].verify == HS_VERIFY_NONE);
	CHECK(integ_reads_header(&ig, "x-hook-secret"));
	json_decref(ig.def);
	/* The first form stays: a signed POST, answered with a pointer. */
	CHECK(load_with(&ig, "\"handshakes\":[{\"event\":\"url_verification\","
	    "\"respond_with\":\"/challenge\"}]", err, sizeof(err)) == 0 &&
	    ig.nhs == 1 && ig.hs[0].verify == HS_VERIFY_SIGNATURE &&
	    ig.hs[0].when[0].src.kind == SRC_EVENT);
	json_decref(ig.def);
	CHECK(load_with(&ig, "\"handshakes\":[{\"when\":{\"event\":"
	    "\"url_verification\"},\"respond\":{\"text\":\"{body:/challenge}"
	    "\"}}]", err, sizeof(err)) == 0 && ig.hs[0].when[0].src.kind ==
	    SRC_EVENT && ig.hs[0].verify == HS_VERIFY_SIGNATURE);
	json_decref(ig.def);
	CHECK(refused("\"handshakes\":[{\"method\":\"HEAD\",\"when\":"
	    "{\"event\":\"x\"}}]", "/handshakes/0/when/event: the receiver"));
	CHECK(refused("\"handshakes\":[{\"method\":\"PUT\"}]",
	    "/handshakes/0/method: expected GET, POST or HEAD"));
	CHECK(refused("\"handshakes\":[{\"respond\":{\"text\":\"x\"}}]",
	    "/handshakes/0/when: a POST handshake needs a condition"));
	CHECK(refused("\"handshakes\":[{\"method\":\"HEAD\",\"respond\":"
	    "{\"text\":\"x\"}}]", "a HEAD answer has no body"));
	CHECK(refused("\"handshakes\":[{\"method\":\"HEAD\",\"verify\":"
	    "\"signature\"}]", "/handshakes/0/verify: a HEAD handshake is "
	    "answered by the receiver"));
	CHECK(refused("\"handshakes\":[{\"set_secret\":\"header:X\","
	    "\"when\":{\"body:/a\":true}}]", "/handshakes/0/when/body:/a: the "
	    "receiver answers this handshake before it reads the body"));
	CHECK(refused("\"handshakes\":[{\"set_secret\":\"header:X\","
	    "\"respond\":{\"text\":\"{body:/a}\"}}]", "is not available here"));
	CHECK(refused("\"handshakes\":[{\"set_secret\":\"event\"}]",
	    "/handshakes/0/set_secret: expected"));
	CHECK(refused("\"handshakes\":[{\"method\":\"GET\",\"set_secret\":"
	    "\"body:/x\"}]", "only a POST handshake sets the secret"));
	CHECK(refused("\"handshakes\":[{\"when\":{\"body:/a\":1},\"respond\":"
	    "{\"json\":{\"t\":{\"hmac\":\"md5\",\"of\":\"x\",\"encoding\":"
	    "\"hex\"}}}}]", "/handshakes/0/respond/json/t/hmac: expected sha1"));
	CHECK(refused("\"handshakes\":[{\"when\":{\"body:/a\":1},\"respond\":"
	    "{\"text\":\"x\",\"json\":{}}}]", "text or json, not both"));
	CHECK(refused("\"handshakes\":[{\"when\":{\"body:/a\":1},\"respond\":"
	    "{\"headers\":{\"Content-Length\":\"1\"}}}]",
	    "/handshakes/0/respond/headers/Content-Length: not a header"));
	CHECK(refused("\"handshakes\":[{\"when\":{\"body:/a\":1},\"respond\":"
	    "{\"status\":302}}]", "/handshakes/0/respond/status: expected a "
	    "2xx status"));
	CHECK(refused("\"handshakes\":[{\"when\":{\"cookie:a\":1}}]",
	    "/handshakes/0/when/cookie:a: expected"));
	CHECK(refused("\"handshakes\":[{\"when\":{\"body:/a\":1},\"verify\":"
	    "{\"token\":\"query:t\",\"equals\":\"nope\"}}]",
	    "/handshakes/0/verify/equals: expected \"secret\""));
	CHECK(refused("\"handshakes\":[{\"when\":{\"body:/a\":1},\"colour\":"
	    "1}]", "/handshakes/0/colour: unknown"));

	/* Encrypted bodies, params, setup, category. */
	CHECK(load_with(&ig, "\"encrypted\":{\"field\":\"/encrypt\","
	    "\"cipher\":\"aes-256-cbc\",\"key\":\"secret\",\"key_hash\":"
	    "\"sha256\"}", err, sizeof(err)) == 0 && ig.crypt.on &&
	    ig.crypt.key_sha256 && strcmp(ig.crypt.field, "/encrypt") == 0);
	json_decref(ig.def);
	CHECK(refused("\"encrypted\":{\"field\":\"/e\",\"cipher\":\"des\","
	    "\"key\":\"secret\"}", "/encrypted/cipher: expected aes-256-cbc"));
	CHECK(refused("\"encrypted\":{\"field\":\"/e\",\"cipher\":"
	    "\"aes-256-cbc\",\"key\":\"env:X\"}", "/encrypted/key: expected"));
	CHECK(refused("\"body\":\"any\",\"encrypted\":{\"field\":\"/e\","
	    "\"cipher\":\"aes-256-cbc\",\"key\":\"secret\"}",
	    "/body must be \"json\""));
	CHECK(refused("\"sub_params\":[{\"name\":\"a\"}]",
	    "/sub_params/0/description: expected a string"));
	CHECK(refused("\"sub_params\":[{\"name\":\"a\",\"description\":\"\","
	    "\"sets\":\"/nowhere/x\"}]", "/sub_params/0/sets: /nowhere/x is not "
	    "in an object"));
	CHECK(refused("\"sub_params\":[{\"name\":\"a\",\"description\":\"\"},"
	    "{\"name\":\"a\",\"description\":\"\"}]", "a is there twice"));
	CHECK(refused("\"setup\":{\"secret\":\"me\"}", "/setup/secret: "
	    "expected \"provider\""));
	CHECK(refused("\"setup\":{\"url\":\"x\"}", "/setup/url: unknown"));
	CHECK(refused("\"category\":\"\"", "/category: expected a short name"));
}

static void
matching(void)
{
	CHECK(integ_event_matches("issues", "issues"));
	CHECK(integ_event_matches("issues", "issues.opened"));
	CHECK(integ_event_matches("issues", "issues.opened.again"));
	CHECK(integ_event_matches("issues.opened", "issues.opened"));
	CHECK(integ_event_matches("*", "anything"));
	CHECK(!integ_event_matches("issues", "issues_comment"));
	CHECK(!integ_event_matches("issues", "issue"));
	CHECK(!integ_event_matches("issues.opened", "issues"));
	CHECK(!integ_event_matches("", "issues"));
	CHECK(!integ_event_matches("issues.", "issues.opened"));
	CHECK(integ_events_cover("*", "a.b"));
	CHECK(integ_events_cover("push,issues", "issues.opened"));
	CHECK(integ_events_cover("push,issues.opened", "issues.opened"));
	CHECK(!integ_events_cover("push,issues.opened", "issues.closed"));
	CHECK(!integ_events_cover("push,issue", "issues"));
}

static void
derive(void)
{
	struct integ base, ig;
	char err[1024];

	CHECK(integ_load_file(&base, "integrations/webhook.json", err,
	    sizeof(err)) == 0 && base.derive);
	CHECK(integ_derive(&base, "header=X-Signature\nalgorithm=sha512\n"
	    "prefix=sha512=\nsigned={timestamp}.{body}\ntimestamp_header=X-Ts\n"
	    "event_type=header:X-Event\n", &ig, err, sizeof(err)) == 0 &&
	    integ_reads_header(&ig, "x-signature") &&
	    integ_reads_header(&ig, "x-ts") &&
	    integ_reads_header(&ig, "x-event") &&
	    strcmp(json_string_value(json_object_get(ig.params, "algorithm")),
	    "sha512") == 0 && ig.event_type.v[0].kind == SRC_HEADER);
	json_decref(ig.def);
	CHECK(integ_derive(&base, "algorithm=sha256\n", &ig, err,
	    sizeof(err)) == -1 && strstr(err, "--param header=... is "
	    "required") != NULL);
	CHECK(integ_derive(&base, "header=X\ncolour=red\n", &ig, err,
	    sizeof(err)) == -1 && strstr(err, "--param colour: integration "
	    "webhook takes no such param") != NULL);
	CHECK(integ_derive(&base, "header=X\nsigned={bdy}\n", &ig, err,
	    sizeof(err)) == -1 && strstr(err, "--param signed: unknown "
	    "placeholder {bdy}") != NULL);
	CHECK(integ_derive(&base, "header=X\ntimestamp_header=T\n", &ig, err,
	    sizeof(err)) == -1 && strstr(err, "add {timestamp} to --param "
	    "signed") != NULL);
	CHECK(integ_derive(&base, "header=X\nevent_type=cookie:x\n", &ig, err,
	    sizeof(err)) == -1 && strncmp(err, "--param event_type:", 18) ==
	    0);
	{
		char *v = integ_param("a=1\nverify_token=t=k\n", "verify_token");

		CHECK(v != NULL && strcmp(v, "t=k") == 0);
		free(v);
		CHECK(integ_param("a=1\n", "b") == NULL);
	}
	json_decref(base.def);
}

/* Extraction: templates, the first key, fixed, query. */
static void
extract(void)
{
	struct integ ig;
	struct vreq r;
	struct header h[3] = { { "x-ev", "issues" },
	    { "content-type", "application/json" }, { "x-id", "d-1" } };
	char type[64], did[64], why[256], err[1024];
	json_t *j;

	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":\"gh.{header:X-Ev}.{body:"
	    "/action}!\",\"delivery_id\":\"{header:x-id}/{query:n}\","
	    "\"event_shapes\":[{\"event\":\"issues\",\"has\":[\"/issue\"]},"
	    "{\"event\":\"ping\",\"has\":[\"/zen\"]}],\"events\":[]}", err,
	    sizeof(err)) == 0);
	memset(&r, 0, sizeof(r));
	r.ig = &ig;
	r.headers = h;
	r.nheaders = 3;
	r.query = "n=7&x=y";
	r.body = (const unsigned char *)"{\"action\":\"opened\",\"issue\":{}}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "gh.issues.opened!") == 0 &&
	    strcmp(did, "d-1/7") == 0);
	json_decref(j);
	/* A later part missing: left out with the text before it. */
	r.body = (const unsigned char *)"{\"issue\":{}}";
	r.body_len = strlen((const char *)r.body);
	r.query = "";
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "gh.issues!") == 0 &&
	    strcmp(did, "d-1") == 0);
	json_decref(j);
	/* The shapes compare with the first part: a ping header on an issue
	 * body is refused. */
	h[0].value = "ping";
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_MALFORMED && strstr(why, "the event type ping "
	    "contradicts") != NULL);
	json_decref(j);
	/* The first part missing: no event type. */
	r.nheaders = 0;
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_MALFORMED && strstr(why, "no event type "
	    "(template") != NULL);
	json_decref(j);
	json_decref(ig.def);

	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[{\"first_key_of\":\"/\","
	    "\"keys\":[\"message\",\"edited_message\",\"poll\"]},"
	    "\"fixed:unknown\"],\"delivery_id\":\"body:/update_id\","
	    "\"events\":[]}", err, sizeof(err)) == 0);
	r.ig = &ig;
	r.nheaders = 2;
	r.headers = h;
	r.body = (const unsigned char *)"{\"update_id\":9,\"poll\":{},"
	    "\"edited_message\":{}}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "edited_message") == 0 &&
	    strcmp(did, "9") == 0);
	json_decref(j);
	r.body = (const unsigned char *)"{\"update_id\":10,\"chat_boost\":{}}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "unknown") == 0);
	json_decref(j);
	json_decref(ig.def);
}

/*
 * Conditional forms: Twitch's revocations come with the subscription's
 * own type header and are told apart by the message type; Messenger's
 * deliveries have entry[].messaging where other Meta objects have
 * changes.
 */
static void
conditional(void)
{
	struct integ ig;
	struct vreq r;
	struct header h[2] = { { "twitch-eventsub-message-type",
	    "notification" }, { "twitch-eventsub-subscription-type",
	    "channel.follow" } };
	char type[64], did[64], why[256], err[1024];
	json_t *j;

	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[{\"when\":"
	    "{\"header:Twitch-Eventsub-Message-Type\":\"revocation\"},"
	    "\"value\":\"revocation.{header:Twitch-Eventsub-Subscription-Type}"
	    "\"},\"header:Twitch-Eventsub-Subscription-Type\"],"
	    "\"delivery_id\":\"none\",\"events\":[]}", err,
	    sizeof(err)) == 0 && ig.event_type.n == 2 &&
	    ig.event_type.v[0].kind == SRC_TEMPLATE &&
	    ig.event_type.v[0].nwhen == 1);
	/* The condition's header is among those the integration reads. */
	CHECK(integ_reads_header(&ig, "twitch-eventsub-message-type"));
	memset(&r, 0, sizeof(r));
	r.ig = &ig;
	r.headers = h;
	r.nheaders = 2;
	r.body = (const unsigned char *)"{\"subscription\":{}}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "channel.follow") == 0);
	json_decref(j);
	h[0].value = "revocation";
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type,
	    "revocation.channel.follow") == 0);
	json_decref(j);
	/* Without the message type header: the plain form. */
	r.nheaders = 1;
	h[0] = h[1];
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "channel.follow") == 0);
	json_decref(j);
	json_decref(ig.def);

	/* Body conditions, present and equal (as JSON), and a fixed value
	 * that holds only under one, which may come first. */
	CHECK(load(&ig, "{\"name\":\"t\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[{\"when\":"
	    "{\"body:/entry/0/messaging\":true},\"value\":\"{body:/object}."
	    "messaging\"},{\"when\":{\"body:/v\":2,\"query:q\":\"x\"},"
	    "\"value\":\"fixed:two\"},\"{body:/object}.{body:/entry/0/"
	    "changes/0/field}\"],\"delivery_id\":\"none\",\"events\":[]}",
	    err, sizeof(err)) == 0);
	r.ig = &ig;
	r.nheaders = 0;
	r.body = (const unsigned char *)"{\"object\":\"page\",\"entry\":"
	    "[{\"messaging\":[{}]}]}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "page.messaging") == 0);
	json_decref(j);
	r.body = (const unsigned char *)"{\"object\":\"instagram\",\"entry\":"
	    "[{\"changes\":[{\"field\":\"comments\"}]}],\"v\":2}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "instagram.comments") == 0);
	json_decref(j);
	r.query = "q=x";
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "two") == 0);
	json_decref(j);
	/* "2" is not 2. */
	r.body = (const unsigned char *)"{\"object\":\"instagram\",\"entry\":"
	    "[{\"changes\":[{\"field\":\"comments\"}]}],\"v\":\"2\"}";
	r.body_len = strlen((const char *)r.body);
	CHECK(verify_extract(&r, &j, type, sizeof(type), did, sizeof(did), why,
	    sizeof(why)) == V_OK && strcmp(type, "instagram.comments") == 0);
	json_decref(j);
	json_decref(ig.def);

	CHECK(refused_et("{\"when\":{\"method\":\"GET\"},\"value\":"
	    "\"fixed:a\"}", "when: method: expected \"header:NAME\""));
	CHECK(refused_et("{\"when\":{\"header:A\":\"x\"},\"value\":"
	    "\"none\"}", "/event_type: "));
	CHECK(refused_et("{\"when\":{\"header:A\":1.5},\"value\":"
	    "\"fixed:a\"}", "when: header:A: expected true (present)"));
	CHECK(refused_et("{\"when\":{\"header:A\":\"x\",\"header:B\":"
	    "\"y\",\"header:C\":\"z\"},\"value\":\"fixed:a\"}",
	    "with 1 to 2 conditions"));
	CHECK(refused_et("{\"when\":{\"header:A\":\"x\"}}",
	    "a conditional form is"));
	CHECK(refused_et("{\"when\":{},\"value\":\"fixed:a\"}",
	    "a conditional form is"));
	CHECK(refused_et("{\"when\":{\"header:A\":\"x\"},\"value\":"
	    "\"{nope}\"}", "unknown placeholder"));
}

/* A request for the handshake engine: a few headers, a query, a body. */
struct fake {
	const char	*headers[4][2];
	const char	*query[4][2];
	json_t		*body;
	const char	*event;
};

static const char *
fake_header(void *arg, const char *lname)
{
	struct fake *f = arg;
	int i;

	for (i = 0; i < 4 && f->headers[i][0] != NULL; i++)
		if (strcasecmp(f->headers[i][0], lname) == 0)
			return f->headers[i][1];
	return NULL;
}

static char *
fake_query(void *arg, const char *name)
{
	struct fake *f = arg;
	int i;

	for (i = 0; i < 4 && f->query[i][0] != NULL; i++)
		if (strcmp(f->query[i][0], name) == 0)
			return strdup(f->query[i][1]);
	return NULL;
}

static json_t *
fake_body(void *arg)
{
	return ((struct fake *)arg)->body;
}

static const char *
fake_event(void *arg)
{
	return ((struct fake *)arg)->event;
}

static void
fake_req(struct hs_req *q, struct fake *f, const char *method,
    const char *secret, const char *params)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->header = fake_header;
	q->query = fake_query;
	q->body = fake_body;
	q->event = fake_event;
	q->arg = f;
	q->params = params;
	if (secret != NULL) {
		q->secret[0] = (const unsigned char *)secret;
		q->secret_len[0] = strlen(secret);
		q->nsecrets = 1;
	}
}

static void
answers(void)
{
	struct integ ig;
	struct hs_req q;
	struct hs_answer a;
	const struct handshake *h;
	struct fake f;
	char err[1024], why[256];

	CHECK(load_with(&ig, "\"handshakes\":["
	    "{\"method\":\"GET\",\"when\":{\"query:hub.mode\":\"subscribe\"},"
	    "\"verify\":{\"token\":\"query:hub.verify_token\",\"equals\":"
	    "\"param:verify_token\"},\"respond\":{\"text\":"
	    "\"{query:hub.challenge}\"}},"
	    "{\"method\":\"GET\",\"when\":{\"query:crc_token\":true},"
	    "\"respond\":{\"json\":{\"response_token\":{\"hmac\":\"sha256\","
	    "\"of\":\"{query:crc_token}\",\"encoding\":\"base64\",\"prefix\":"
	    "\"sha256=\"}}}},"
	    "{\"when\":{\"body:/event\":\"endpoint.url_validation\"},"
	    "\"respond\":{\"json\":{\"plainToken\":\"{body:/payload/plainToken}"
	    "\",\"encryptedToken\":{\"hmac\":\"sha256\",\"of\":"
	    "\"{body:/payload/plainToken}\",\"encoding\":\"hex\"}}}},"
	    "{\"when\":{\"body:/type\":1},\"respond\":{\"json\":{\"type\":1}}},"
	    "{\"when\":{\"body:/challenge\":true,\"body:/event\":false},"
	    "\"verify\":\"none\",\"respond\":{\"json\":{\"challenge\":"
	    "\"{body:/challenge}\"}}}]", err, sizeof(err)) == 0);

	/* Meta: the verify token is a param of the subscription. */
	memset(&f, 0, sizeof(f));
	f.query[0][0] = "hub.mode";
	f.query[0][1] = "subscribe";
	f.query[1][0] = "hub.verify_token";
	f.query[1][1] = "tok";
	f.query[2][0] = "hub.challenge";
	f.query[2][1] = "1158201444";
	fake_req(&q, &f, "GET", "s", "verify_token=tok\n");
	CHECK((h = hs_match(&ig, &q, HS_PHASE_UNSIGNED)) == &ig.hs[0]);
	CHECK(h != NULL && hs_check(h, &q, why, sizeof(why)) == 0);
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == 0 &&
	    a.status == 200 && strcmp(a.body, "1158201444") == 0 &&
	    strcmp(a.ctype, "text/plain") == 0 && strstr(a.headers,
	    "X-Content-Type-Options: nosniff\n") != NULL);
	hs_answer_free(&a);
	q.params = "verify_token=other\n";
	CHECK(h != NULL && hs_check(h, &q, why, sizeof(why)) == -1 &&
	    strstr(why, "hub.verify_token does not match") != NULL);
	q.params = "";
	CHECK(h != NULL && hs_check(h, &q, why, sizeof(why)) == -1 &&
	    strstr(why, "--param verify_token=") != NULL);
	/* Not a POST, not signed: neither of those phases. */
	q.method = "POST";
	CHECK(hs_match(&ig, &q, HS_PHASE_UNSIGNED) == NULL);

	/* X's CRC: sha256= and the base64 HMAC (openssl dgst -sha256 -hmac
	 * x-secret -binary | base64). */
	memset(&f, 0, sizeof(f));
	f.query[0][0] = "crc_token";
	f.query[0][1] = "9b4507b3-9040-4669-9ba0-2da8fac4e1a4";
	fake_req(&q, &f, "GET", "x-secret", "");
	CHECK((h = hs_match(&ig, &q, HS_PHASE_UNSIGNED)) == &ig.hs[1]);
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == 0 &&
	    strcmp(a.body, "{\"response_token\":\"sha256=iFebnNcBWQYAtkhP0z0"
	    "DDpS0Ze3CaJQ9PMpyvXqnnys=\"}") == 0 && strcmp(a.ctype,
	    "application/json") == 0);
	hs_answer_free(&a);
	/* Only a token is signed: never a body someone could deliver. */
	f.query[0][1] = "{\"type\":\"x\"}";
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == -1 &&
	    strstr(why, "token") != NULL);
	fake_req(&q, &f, "GET", NULL, "");
	f.query[0][1] = "abc";
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == -1 &&
	    strstr(why, "no secret") != NULL);

	/* Zoom: signed; the hex HMAC of plainToken (openssl dgst -sha256
	 * -hmac zoom-secret). */
	memset(&f, 0, sizeof(f));
	f.body = json_loads("{\"payload\":{\"plainToken\":"
	    "\"qgg8vlvZRS6UYooatFL8Aw\"},\"event\":\"endpoint.url_validation\"}",
	    0, NULL);
	fake_req(&q, &f, "POST", "zoom-secret", "");
	CHECK(hs_match(&ig, &q, HS_PHASE_UNSIGNED) == NULL);
	CHECK((h = hs_match(&ig, &q, HS_PHASE_SIGNED)) == &ig.hs[2]);
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == 0 &&
	    strcmp(a.body, "{\"plainToken\":\"qgg8vlvZRS6UYooatFL8Aw\","
	    "\"encryptedToken\":\"b17f0320a1322a509340a1a835b3d9edbc491f0b0790"
	    "ed2d20d0604d39dfe922\"}") == 0);
	hs_answer_free(&a);
	json_decref(f.body);

	/* Discord: {"type": 1} is the number 1, not the text "1". */
	f.body = json_loads("{\"type\":1}", 0, NULL);
	CHECK(hs_match(&ig, &q, HS_PHASE_SIGNED) == &ig.hs[3]);
	json_decref(f.body);
	f.body = json_loads("{\"type\":\"1\"}", 0, NULL);
	CHECK(hs_match(&ig, &q, HS_PHASE_SIGNED) == NULL);
	json_decref(f.body);

	/* monday.com: a challenge, and no event. */
	f.body = json_loads("{\"challenge\":\"c\"}", 0, NULL);
	CHECK((h = hs_match(&ig, &q, HS_PHASE_UNSIGNED)) == &ig.hs[4]);
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == 0 &&
	    strcmp(a.body, "{\"challenge\":\"c\"}") == 0);
	hs_answer_free(&a);
	json_decref(f.body);
	f.body = json_loads("{\"challenge\":\"c\",\"event\":{}}", 0, NULL);
	CHECK(hs_match(&ig, &q, HS_PHASE_UNSIGNED) == NULL);
	json_decref(f.body);
	json_decref(ig.def);

	/* Asana and Trello: the receiver's. */
	CHECK(load_with(&ig, "\"handshakes\":[{\"method\":\"HEAD\"},"
	    "{\"set_secret\":\"header:X-Hook-Secret\",\"respond\":{\"headers\":"
	    "{\"X-Hook-Secret\":\"{header:X-Hook-Secret}\"}}}]", err,
	    sizeof(err)) == 0);
	memset(&f, 0, sizeof(f));
	fake_req(&q, &f, "POST", NULL, "");
	CHECK(hs_match(&ig, &q, HS_PHASE_RECEIVER) == NULL);
	f.headers[0][0] = "x-hook-secret";
	f.headers[0][1] = "abc123";
	CHECK((h = hs_match(&ig, &q, HS_PHASE_RECEIVER)) == &ig.hs[1]);
	{
		char *s = h ? hs_new_secret(h, &q) : NULL;

		CHECK(s != NULL && strcmp(s, "abc123") == 0);
		free(s);
	}
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == 0 &&
	    a.body == NULL && strstr(a.headers, "X-Hook-Secret: abc123\n") !=
	    NULL);
	hs_answer_free(&a);
	/* A value that would break the header line is refused. */
	f.headers[0][1] = "abc\r\nSet-Cookie: x=1";
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == -1);
	q.method = "HEAD";
	CHECK(hs_match(&ig, &q, HS_PHASE_RECEIVER) == &ig.hs[0]);
	{
		char allow[32];

		hs_allow(&ig, allow, sizeof(allow));
		CHECK(strcmp(allow, "POST, HEAD") == 0);
	}
	json_decref(ig.def);

	/* Notion: the secret in the body, which the receiver reads whole. */
	CHECK(load_with(&ig, "\"handshakes\":[{\"when\":{\"body:/"
	    "verification_token\":true},\"set_secret\":\"body:/"
	    "verification_token\",\"respond\":{\"status\":200}}]", err,
	    sizeof(err)) == 0 && ig.nhs == 1 && ig.hs[0].in_receiver);
	memset(&f, 0, sizeof(f));
	fake_req(&q, &f, "POST", NULL, "");
	f.body = json_loads("{\"id\":\"e1\",\"type\":\"page.created\"}", 0,
	    NULL);
	CHECK(hs_match(&ig, &q, HS_PHASE_RECEIVER) == NULL);
	json_decref(f.body);
	f.body = json_loads("{\"verification_token\":\"secret_tMrlL1qK5vuQ\"}",
	    0, NULL);
	CHECK((h = hs_match(&ig, &q, HS_PHASE_RECEIVER)) == &ig.hs[0]);
	CHECK(hs_match(&ig, &q, HS_PHASE_UNSIGNED) == NULL);
	{
		char *s = h ? hs_new_secret(h, &q) : NULL;

		CHECK(s != NULL && strcmp(s, "secret_tMrlL1qK5vuQ") == 0);
		free(s);
	}
	CHECK(h != NULL && hs_answer(h, &q, &a, why, sizeof(why)) == 0 &&
	    a.status == 200 && a.body == NULL);
	hs_answer_free(&a);
	json_decref(f.body);
	json_decref(ig.def);
}

/* Lark's encryption: its documentation's example, and a JSON body. */
static void
decryption(void)
{
	static const char lark_doc[] = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReE"
	    "zghk=";
	/* openssl enc -aes-256-cbc -K $(sha256 of lark-key) -iv 0001..0f. */
	static const char lark_json[] = "AAECAwQFBgcICQoLDA0OD5s0ObQ9gDI5rBQIQC"
	    "U82HrXKW0lQUNqmS/5qgga2ModQk01Zxf8YQXX07dUrfJ7fJ2s+gPl6dsb8XzYmxL"
	    "vA+0=";
	unsigned char data[64], key[32], out[64];
	struct integ ig;
	struct vreq r;
	struct vhs vh;
	struct hs_answer a;
	char err[1024], why[256], body[512], *text;
	size_t len;
	json_t *j, *b;
	int n;

	/* "test key" and "hello world", from Lark's documentation. */
	n = b64_decode(lark_doc, strlen(lark_doc), data, sizeof(data));
	sha256("test key", 8, key);
	CHECK(n == 32 && aes256cbc_decrypt(key, data, data + 16, 16, out) ==
	    11 && memcmp(out, "hello world", 11) == 0);
	CHECK(aes256cbc_decrypt(key, data, data + 16, 15, out) == -1);
	sha256("wrong key", 9, key);
	CHECK(aes256cbc_decrypt(key, data, data + 16, 16, out) == -1 ||
	    memcmp(out, "hello world", 11) != 0);

	CHECK(load(&ig, "{\"name\":\"lark\",\"scheme\":\"hmac\",\"params\":"
	    "{\"header\":\"x-sig\"},\"event_type\":[\"body:/header/event_type\","
	    "\"body:/type\"],\"delivery_id\":\"none\",\"encrypted\":{\"field\":"
	    "\"/encrypt\",\"cipher\":\"aes-256-cbc\",\"key\":\"secret\","
	    "\"key_hash\":\"sha256\"},\"sub_params\":[{\"name\":"
	    "\"verification_token\",\"description\":\"\"}],\"handshakes\":[{"
	    "\"when\":{\"body:/type\":\"url_verification\"},\"verify\":"
	    "{\"token\":\"body:/token\",\"equals\":"
	    "\"param:verification_token\"},"
	    "\"respond\":{\"json\":{\"challenge\":\"{body:/challenge}\"}}}],"
	    "\"events\":[]}", err, sizeof(err)) == 0);
	memset(&r, 0, sizeof(r));
	r.ig = &ig;
	r.method = "POST";
	r.secret[0] = (const unsigned char *)"old-key";
	r.secret_len[0] = 7;
	r.secret[1] = (const unsigned char *)"lark-key";
	r.secret_len[1] = 8;
	r.nsecrets = 2;
	snprintf(body, sizeof(body), "{\"encrypt\":\"%s\"}", lark_json);
	r.body = (const unsigned char *)body;
	r.body_len = strlen(body);
	b = json_loads(body, 0, NULL);
	/* The second secret (a rotation's) decrypts it. */
	CHECK(decrypt_body(&r, b, "", &text, &len, &j, why, sizeof(why)) ==
	    1 && strcmp(json_string_value(json_object_get(j, "challenge")),
	    "c1") == 0 && len == strlen(text));
	free(text);
	json_decref(j);
	r.nsecrets = 1;
	CHECK(decrypt_body(&r, b, "", &text, &len, &j, why, sizeof(why)) ==
	    -1 && strstr(why, "does not decrypt") != NULL);
	json_decref(b);
	b = json_loads("{\"schema\":\"2.0\"}", 0, NULL);
	CHECK(decrypt_body(&r, b, "", &text, &len, &j, why, sizeof(why)) == 0);
	json_decref(b);
	b = json_loads("{\"encrypt\":\"AAAA\"}", 0, NULL);
	CHECK(decrypt_body(&r, b, "", &text, &len, &j, why, sizeof(why)) ==
	    -1 && strstr(why, "not base64 of an IV") != NULL);
	json_decref(b);
	/* Lark's example decrypts, but not to JSON: refused. */
	snprintf(body, sizeof(body), "{\"encrypt\":\"%s\"}", lark_doc);
	b = json_loads(body, 0, NULL);
	r.secret[0] = (const unsigned char *)"test key";
	r.secret_len[0] = 8;
	CHECK(decrypt_body(&r, b, "", &text, &len, &j, why, sizeof(why)) ==
	    -1 && strstr(why, "JSON object") != NULL);
	json_decref(b);

	/* The encrypted url_verification, answered before any signature. */
	snprintf(body, sizeof(body), "{\"encrypt\":\"%s\"}", lark_json);
	r.body = (const unsigned char *)body;
	r.body_len = strlen(body);
	r.secret[0] = (const unsigned char *)"lark-key";
	vhs_init(&vh, &r, "verification_token=t1\n");
	CHECK(vhs_before(&vh, &a, why, sizeof(why)) == 1 && strcmp(a.body,
	    "{\"challenge\":\"c1\"}") == 0);
	hs_answer_free(&a);
	vhs_free(&vh);
	vhs_init(&vh, &r, "verification_token=t2\n");
	CHECK(vhs_before(&vh, &a, why, sizeof(why)) == 403);
	vhs_free(&vh);
	/* A GET to an integration whose handshakes are all POSTs. */
	r.method = "GET";
	vhs_init(&vh, &r, "");
	CHECK(vhs_before(&vh, &a, why, sizeof(why)) == 405);
	vhs_free(&vh);
	json_decref(ig.def);
}

static void
reload(void)
{
	static struct integ_set set;
	struct config cfg;
	char dir[] = "/tmp/hphsXXXXXX", path[300];
	uint64_t stamp;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.integrations_dir, sizeof(cfg.integrations_dir),
	    "%s/none", dir);
	snprintf(cfg.user_integrations_dir, sizeof(cfg.user_integrations_dir),
	    "%s", dir);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	f = fopen(path, "w");
	fputs("{\"name\":\"a\",\"title\":\"First\",\"scheme\":\"hmac\","
	    "\"params\":{\"header\":\"x\"},\"event_type\":\"fixed:e\","
	    "\"delivery_id\":\"none\",\"events\":[]}", f);
	fclose(f);
	stamp = integ_stamp(&cfg);
	integ_load_all(&set, &cfg, warn);
	CHECK(set.n == 1 && strcmp(set.v[0].title, "First") == 0);
	CHECK(integ_refresh(&set, &stamp, &cfg, warn) == 0);
	/* Broken now: the version loaded before stays. */
	f = fopen(path, "w");
	fputs("{\"name\":\"a\",\n\"scheme\": ,}", f);
	fclose(f);
	last_warning[0] = '\0';
	CHECK(integ_refresh(&set, &stamp, &cfg, warn) == 1);
	CHECK(set.n == 1 && integ_find(&set, "a") != NULL &&
	    strcmp(integ_find(&set, "a")->title, "First") == 0);
	CHECK(strstr(last_warning, "a.json:2") != NULL && strstr(last_warning,
	    "the version loaded before stays in use") != NULL);
	/* Fixed: the new version. */
	f = fopen(path, "w");
	fputs("{\"name\":\"a\",\"title\":\"Second\",\"scheme\":\"hmac\","
	    "\"params\":{\"header\":\"x\"},\"event_type\":\"fixed:e\","
	    "\"delivery_id\":\"none\",\"events\":[]}", f);
	fclose(f);
	CHECK(integ_refresh(&set, &stamp, &cfg, warn) == 1 &&
	    strcmp(integ_find(&set, "a")->title, "Second") == 0);
	/* Gone. */
	unlink(path);
	CHECK(integ_refresh(&set, &stamp, &cfg, warn) == 1 && set.n == 0);
	integ_free_all(&set);
	rmdir(dir);
}

int
main(void)
{
	forms();
	matching();
	derive();
	extract();
	conditional();
	answers();
	decryption();
	reload();
	return t_done("test_handshake");
}
